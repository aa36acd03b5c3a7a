//! MySQL's and MariaDB's side of the test fixture ([`crate::testing::fixture`]). The
//! server cannot copy a database: the template's `SHOW CREATE` statements (tables in
//! foreign-key order, then routines, views and triggers) are read once into a
//! [`CopyPlan`], and each copy replays them with foreign-key checks off, copying every
//! row the migrations left before the triggers exist.

use crate::driver::{BoxFuture, Server};
use crate::error::{mask_url, MigrateError};
use crate::testing::fixture::{
    connect_copy, server_template, sql_error, FixtureDriver, FixtureError, OnServer, ServerCopier,
    Templated,
};
use crate::{Database, Migrator};
use migrate_core::Dialect;
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::Row;
use std::sync::Arc;

/// MySQL's and MariaDB's fixture.
pub(crate) struct Fixture;

impl FixtureDriver for Fixture {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn refusal(&self, m: &Migrator) -> Option<String> {
        m.options().version_table_schema.is_some().then(|| {
            "the version table is in another database (`version_table_schema`), which a copy would not carry; use the fixture without it".to_string()
        })
    }

    fn template<'a>(
        &'a self,
        m: &'a Migrator,
        url: &'a str,
        suffix: &'a str,
    ) -> BoxFuture<'a, Result<Templated, FixtureError>> {
        Box::pin(async move {
            // `connect` checks that the server answers (with its errors for timeouts);
            // the copies want more connections than its pool has.
            let probe = super::connect(url, Database::DEFAULT_CONNECT_TIMEOUT).await?;
            let admin = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(PARALLEL as u32 + 2)
                .acquire_timeout(Database::DEFAULT_CONNECT_TIMEOUT)
                .connect_lazy_with((*probe.connect_options()).clone());
            probe.close().await;
            let (name, plan) = server_template(
                m,
                url,
                suffix,
                &admin,
                "a user that may create databases",
                |name| {
                    let (admin, url) = (admin.clone(), url.to_string());
                    async move { read_plan(&admin, &url, &name).await }
                },
            )
            .await?;
            let plan = Arc::new(plan);
            Ok((name, OnServer::copies(url, Copier { admin, plan })))
        })
    }

    fn connect<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Database, MigrateError>> {
        use std::str::FromStr;
        // sqlx knows the scheme `mysql:` only; errors name the URL as given.
        let mysql = match url.strip_prefix("mariadb") {
            Some(rest) => format!("mysql{rest}"),
            None => url.to_string(),
        };
        Box::pin(connect_copy::<sqlx::MySql>(
            url,
            sqlx::mysql::MySqlConnectOptions::from_str(&mysql),
        ))
    }
}

/// Copies a template on its server by replaying its plan.
#[derive(Debug, Clone)]
struct Copier {
    admin: MySqlPool,
    plan: Arc<CopyPlan>,
}

impl ServerCopier for Copier {
    fn server(&self) -> &dyn Server {
        &self.admin
    }

    /// Creates `name` and replays the plan into it, dropping it when that fails.
    fn copy_into<'a>(
        &'a self,
        template: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), FixtureError>> {
        Box::pin(async move {
            let made = replay(&self.admin, template, name, &self.plan).await;
            if made.is_err() {
                let _ = self.admin.drop_database(name).await;
            }
            made
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.admin.close())
    }
}

/// What a copy replays, read from the template once.
#[derive(Debug, Default)]
pub(crate) struct CopyPlan {
    charset: String,
    collation: String,
    /// `CREATE TABLE`s, referenced tables first.
    tables: Vec<String>,
    /// Tables with rows, and their columns that take values (not generated).
    rows: Vec<(String, Vec<String>)>,
    /// Routines, views (those used by others first), then triggers (in their
    /// action order), each with the `sql_mode` it was created under.
    objects: Vec<(String, String)>,
}

/// A quoted name, as MySQL's driver writes it.
fn quote(name: &str) -> String {
    crate::driver::Backend::quote_identifier(&super::Mysql, name)
}

/// A string literal, as MySQL's driver writes it.
fn literal(s: &str) -> String {
    crate::driver::Backend::literal(&super::Mysql, s)
}

/// A text column of a row, whatever string or binary type the server sends.
fn text(row: &MySqlRow, i: usize) -> Result<String, sqlx::Error> {
    match row.try_get::<String, _>(i) {
        Ok(s) => Ok(s),
        Err(_) => row
            .try_get::<Vec<u8>, _>(i)
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

fn read_error(tpl: &str, what: &str) -> impl FnOnce(sqlx::Error) -> FixtureError {
    sql_error(format!(
        "cannot read the {what} of the test template `{tpl}`"
    ))
}

/// The refusal of a template holding `what`.
fn unsupported(url: &str, what: &str) -> FixtureError {
    FixtureError::Unsupported {
        url: mask_url(url),
        reason: format!("the migrations create {what}, which the copy does not carry; test on a database migrated by each test instead"),
    }
}

/// The rows of the catalog query `sql`, each as the text of its first `N` columns.
async fn texts<const N: usize>(
    admin: &MySqlPool,
    tpl: &str,
    what: &str,
    sql: &str,
) -> Result<Vec<[String; N]>, FixtureError> {
    let rows = sqlx::raw_sql(sql)
        .fetch_all(admin)
        .await
        .map_err(read_error(tpl, what))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut row: [String; N] = std::array::from_fn(|_| String::new());
        for (i, slot) in row.iter_mut().enumerate() {
            *slot = text(r, i).map_err(read_error(tpl, what))?;
        }
        out.push(row);
    }
    Ok(out)
}

/// `SHOW CREATE <kind> <tpl>.<name>`: the text of the row's `columns` (the statement,
/// and for routines and triggers the `sql_mode` it was created under).
async fn show_create<const N: usize>(
    admin: &MySqlPool,
    tpl: &str,
    kind: &str,
    name: &str,
    columns: [usize; N],
) -> Result<[String; N], FixtureError> {
    let what = format!("{} `{name}`", kind.to_lowercase());
    let row = sqlx::raw_sql(&format!(
        "SHOW CREATE {kind} {}.{}",
        quote(tpl),
        quote(name)
    ))
    .fetch_one(admin)
    .await
    .map_err(read_error(tpl, &what))?;
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, i) in out.iter_mut().zip(columns) {
        *slot = text(&row, i).map_err(read_error(tpl, &what))?;
    }
    Ok(out)
}

/// Reads what a copy of the template `tpl` replays: its character set, then tables,
/// routines, views and triggers; refuses what the copy cannot carry.
async fn read_plan(admin: &MySqlPool, url: &str, tpl: &str) -> Result<CopyPlan, FixtureError> {
    let schema = literal(tpl);
    let row = sqlx::raw_sql(&format!("SELECT CAST(DEFAULT_CHARACTER_SET_NAME AS CHAR), CAST(DEFAULT_COLLATION_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {schema}"))
        .fetch_one(admin)
        .await
        .map_err(read_error(tpl, "character set"))?;
    let mut plan = CopyPlan {
        charset: text(&row, 0).map_err(read_error(tpl, "character set"))?,
        collation: text(&row, 1).map_err(read_error(tpl, "collation"))?,
        ..CopyPlan::default()
    };
    let (tables, views) = tables_and_views(admin, url, tpl, &schema).await?;
    refuse_events(admin, url, tpl, &schema).await?;
    read_tables(admin, tpl, &schema, &tables, &mut plan).await?;
    // Routines, then views, then triggers.
    read_routines(admin, tpl, &schema, &mut plan).await?;
    read_views(admin, tpl, &views, &mut plan).await?;
    read_triggers(admin, tpl, &schema, &mut plan).await?;
    Ok(plan)
}

/// The template's base tables and views, by name; any other kind of table is refused.
async fn tables_and_views(
    admin: &MySqlPool,
    url: &str,
    tpl: &str,
    schema: &str,
) -> Result<(Vec<String>, Vec<String>), FixtureError> {
    let rows = texts(admin, tpl, "tables", &format!("SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {schema} ORDER BY TABLE_NAME")).await?;
    let mut tables = Vec::new();
    let mut views = Vec::new();
    for [name, kind] in rows {
        match kind.as_str() {
            "BASE TABLE" => tables.push(name),
            "VIEW" | "SYSTEM VIEW" => views.push(name),
            other => {
                return Err(unsupported(
                    url,
                    &format!("{} `{name}`", other.to_lowercase()),
                ))
            }
        }
    }
    Ok((tables, views))
}

/// Refuses a template with events.
async fn refuse_events(
    admin: &MySqlPool,
    url: &str,
    tpl: &str,
    schema: &str,
) -> Result<(), FixtureError> {
    let events = sqlx::raw_sql(&format!(
        "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {schema}"
    ))
    .fetch_one(admin)
    .await
    .map_err(read_error(tpl, "events"))?;
    if events.try_get::<i64, _>(0).unwrap_or(0) > 0 {
        return Err(unsupported(url, "events"));
    }
    Ok(())
}

/// The `CREATE TABLE`s of `tables`, referenced ones first, and the columns to copy of
/// those with rows.
async fn read_tables(
    admin: &MySqlPool,
    tpl: &str,
    schema: &str,
    tables: &[String],
    plan: &mut CopyPlan,
) -> Result<(), FixtureError> {
    let edges: Vec<(String, String)> = texts(admin, tpl, "foreign keys", &format!("SELECT CAST(TABLE_NAME AS CHAR), CAST(REFERENCED_TABLE_NAME AS CHAR) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = {schema} AND UNIQUE_CONSTRAINT_SCHEMA = {schema}"))
        .await?
        .into_iter()
        .map(|[from, to]| (from, to))
        .collect();
    for t in dependency_order(tables, &edges) {
        let q = format!("{}.{}", quote(tpl), quote(&t));
        let [create] = show_create(admin, tpl, "TABLE", &t, [1]).await?;
        plan.tables.push(create);
        let count = sqlx::raw_sql(&format!("SELECT COUNT(*) FROM {q}"))
            .fetch_one(admin)
            .await
            .map_err(read_error(tpl, &format!("rows of `{t}`")))?;
        if count.try_get::<i64, _>(0).unwrap_or(1) > 0 {
            let cols = texts(admin, tpl, &format!("columns of `{t}`"), &format!("SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = {} AND EXTRA NOT LIKE '%VIRTUAL GENERATED%' AND EXTRA NOT LIKE '%STORED GENERATED%' AND EXTRA NOT LIKE '%PERSISTENT GENERATED%' ORDER BY ORDINAL_POSITION", literal(&t))).await?;
            plan.rows.push((t, cols.into_iter().map(|[c]| c).collect()));
        }
    }
    Ok(())
}

/// The template's functions and procedures, by name.
async fn read_routines(
    admin: &MySqlPool,
    tpl: &str,
    schema: &str,
    plan: &mut CopyPlan,
) -> Result<(), FixtureError> {
    let routines = texts(admin, tpl, "routines", &format!("SELECT CAST(ROUTINE_NAME AS CHAR), CAST(ROUTINE_TYPE AS CHAR) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {schema} ORDER BY ROUTINE_NAME")).await?;
    for [name, kind] in routines {
        let [mode, create] = show_create(admin, tpl, &kind, &name, [1, 2]).await?;
        plan.objects.push((mode, create));
    }
    Ok(())
}

/// The template's views, each after those it names.
async fn read_views(
    admin: &MySqlPool,
    tpl: &str,
    views: &[String],
    plan: &mut CopyPlan,
) -> Result<(), FixtureError> {
    let mut view_sql = Vec::new();
    for v in views {
        let [create] = show_create(admin, tpl, "VIEW", v, [1]).await?;
        view_sql.push(create);
    }
    // A view that names another (as `other`) comes after it.
    let mut view_edges = Vec::new();
    for (v, sql) in views.iter().zip(&view_sql) {
        for other in views.iter().filter(|o| *o != v) {
            if sql.contains(&quote(other)) {
                view_edges.push((v.clone(), other.clone()));
            }
        }
    }
    for v in dependency_order(views, &view_edges) {
        if let Some(i) = views.iter().position(|x| *x == v) {
            plan.objects.push((String::new(), view_sql[i].clone()));
        }
    }
    Ok(())
}

/// The template's triggers, in the order they act.
async fn read_triggers(
    admin: &MySqlPool,
    tpl: &str,
    schema: &str,
    plan: &mut CopyPlan,
) -> Result<(), FixtureError> {
    let triggers = texts(admin, tpl, "triggers", &format!("SELECT CAST(TRIGGER_NAME AS CHAR) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {schema} ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER")).await?;
    for [name] in triggers {
        let [mode, create] = show_create(admin, tpl, "TRIGGER", &name, [1, 2]).await?;
        plan.objects.push((mode, create));
    }
    Ok(())
}

/// `names` ordered so that each comes after those it references (`edges` are
/// `(from, referenced)`), in name order otherwise; a cycle keeps the given order
/// (foreign-key checks are off while the copy is made).
fn dependency_order(names: &[String], edges: &[(String, String)]) -> Vec<String> {
    let mut left: Vec<&String> = names.iter().collect();
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    while !left.is_empty() {
        let ready = left.iter().position(|n| {
            edges
                .iter()
                .all(|(from, to)| from != *n || to == *n || !left.contains(&to))
        });
        let i = ready.unwrap_or(0);
        out.push(left.remove(i).clone());
    }
    out
}

/// Runs SQL text on one connection. Boxed as `Send` where the lifetimes are concrete:
/// written as an `async fn`, the compiler cannot prove sqlx's executor bounds for every
/// lifetime, and the future could not be spawned.
fn run<'a>(
    conn: &'a mut sqlx::MySqlConnection,
    sql: &'a str,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    // A plain `&str` runs unprepared, so several statements may share one call.
    Box::pin(async move { sqlx::Executor::execute(conn, sql).await.map(|_| ()) })
}

/// Connections a copy creates its tables on at once: each `CREATE TABLE` waits for
/// its files to reach the disk, and several sessions share those waits (100 tables
/// took a quarter of the time on 4 connections as on one; 8 were no faster).
const PARALLEL: usize = 4;

/// Session settings of a copy's connections: ids copied as they are (0 included),
/// references left unchecked (the template checked them, and tables come in any
/// order).
const SESSION: &str = "SET FOREIGN_KEY_CHECKS = 0; SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'";
/// And back.
const RESET: &str = "SET FOREIGN_KEY_CHECKS = 1; SET SESSION sql_mode = DEFAULT";

/// Runs `sql` with the copy's session settings on a connection of the pool,
/// resetting them after (a connection whose statement failed is closed instead).
async fn on_connection(pool: MySqlPool, sql: String) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let r = run(&mut conn, &format!("{SESSION};\n{sql};\n{RESET}")).await;
    if r.is_err() {
        conn.close_on_drop();
    }
    r
}

/// The error of a step of copying `tpl` into `name`.
fn copy_error(tpl: &str, name: &str, what: &str) -> impl FnOnce(sqlx::Error) -> FixtureError {
    sql_error(format!(
        "cannot copy the test template `{tpl}` into `{name}`: {what}"
    ))
}

/// Creates the database `name` and replays the plan into it: the tables, their rows,
/// then the other objects.
async fn replay(
    admin: &MySqlPool,
    tpl: &str,
    name: &str,
    plan: &CopyPlan,
) -> Result<(), FixtureError> {
    sqlx::raw_sql(&format!(
        "CREATE DATABASE {name} CHARACTER SET {} COLLATE {}",
        plan.charset, plan.collation
    ))
    .execute(admin)
    .await
    .map_err(copy_error(tpl, name, "the database"))?;
    create_tables(admin, tpl, name, plan).await?;
    copy_rows(admin, tpl, name, plan).await?;
    create_objects(admin, tpl, name, plan).await
}

/// The tables, dealt out to several connections.
async fn create_tables(
    admin: &MySqlPool,
    tpl: &str,
    name: &str,
    plan: &CopyPlan,
) -> Result<(), FixtureError> {
    let mut batches = vec![format!("USE {name}"); PARALLEL.min(plan.tables.len())];
    let n = batches.len();
    for (i, t) in plan.tables.iter().enumerate() {
        batches[i % n].push_str(";\n");
        batches[i % n].push_str(t);
    }
    let mut running = tokio::task::JoinSet::new();
    for b in batches {
        running.spawn(on_connection(admin.clone(), b));
    }
    let mut result = Ok(());
    while let Some(r) = running.join_next().await {
        let r = r
            .map_err(FixtureError::Task)
            .and_then(|r| r.map_err(copy_error(tpl, name, "the tables")));
        result = result.and(r);
    }
    result
}

/// The rows, in one transaction (one wait for the disk).
async fn copy_rows(
    admin: &MySqlPool,
    tpl: &str,
    name: &str,
    plan: &CopyPlan,
) -> Result<(), FixtureError> {
    let mut rows = format!("USE {name};\nSTART TRANSACTION");
    for (table, cols) in &plan.rows {
        let cols = cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        rows.push_str(&format!(
            ";\nINSERT INTO {} ({cols}) SELECT {cols} FROM {}.{}",
            quote(table),
            quote(tpl),
            quote(table)
        ));
    }
    rows.push_str(";\nCOMMIT");
    on_connection(admin.clone(), rows)
        .await
        .map_err(copy_error(tpl, name, "the rows"))
}

/// The other objects, each under its `sql_mode` (triggers last: the rows are not
/// theirs to count).
async fn create_objects(
    admin: &MySqlPool,
    tpl: &str,
    name: &str,
    plan: &CopyPlan,
) -> Result<(), FixtureError> {
    if plan.objects.is_empty() {
        return Ok(());
    }
    let failed = |what: &str| copy_error(tpl, name, what);
    let mut conn = admin.acquire().await.map_err(failed("no connection"))?;
    // Its `sql_mode` changes with each object.
    conn.close_on_drop();
    run(&mut conn, &format!("USE {name}"))
        .await
        .map_err(failed("the database"))?;
    let (from, to) = (format!("{}.", quote(tpl)), format!("{}.", quote(name)));
    for (mode, create) in &plan.objects {
        let sql = create.replace(&from, &to);
        let set = format!("SET SESSION sql_mode = {}", literal(mode));
        run(&mut conn, &set).await.map_err(failed("sql_mode"))?;
        run(&mut conn, &sql).await.map_err(failed(&sql))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referenced_tables_come_first() {
        let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        // a -> c, c -> d, b -> b (self reference)
        let order = dependency_order(&names, &[e("a", "c"), e("c", "d"), e("b", "b")]);
        assert_eq!(order, ["b", "d", "c", "a"]);
        // A cycle keeps going.
        let order = dependency_order(&names[..2], &[e("a", "b"), e("b", "a")]);
        assert_eq!(order.len(), 2);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a`b"), "`a``b`");
        assert_eq!(literal("it's \\"), "'it''s \\\\'");
    }
}
