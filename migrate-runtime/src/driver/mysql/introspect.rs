//! MySQL and MariaDB: one query per `information_schema` table for the whole current
//! database (`TABLES`, `COLUMNS`, `STATISTICS`, `KEY_COLUMN_USAGE`,
//! `REFERENTIAL_CONSTRAINTS`, `CHECK_CONSTRAINTS`, `VIEWS`), joined here rather than on
//! the server, whose `information_schema` joins scan every table once per row.

use crate::driver::{on_one_or_two, Share};
use crate::error::MigrateError;
use migrate_schema::{
    Check, Column, Deferrable, ForeignKey, Generated, Identity, Index, IndexKey, IndexPart,
    PrimaryKey, ReferentialAction, Schema, Table, Trigger, Unique, View,
};
use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Which server, from `VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Server {
    mariadb: bool,
    version: (u32, u32, u32),
}

impl Server {
    fn parse(version: &str) -> Server {
        let mut nums = version
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().unwrap_or(0));
        Server {
            mariadb: version.contains("MariaDB"),
            version: (
                nums.next().unwrap_or(0),
                nums.next().unwrap_or(0),
                nums.next().unwrap_or(0),
            ),
        }
    }

    /// MySQL 8.0.13+ reports functional index parts in `STATISTICS.EXPRESSION`.
    fn has_index_expressions(self) -> bool {
        !self.mariadb && self.version >= (8, 0, 13)
    }

    /// MySQL 8.0.16+ and MariaDB 10.2+ keep CHECK constraints.
    fn has_checks(self) -> bool {
        if self.mariadb {
            self.version >= (10, 2, 0)
        } else {
            self.version >= (8, 0, 16)
        }
    }
}

/// A text column, whatever the server's `information_schema` types it as (some are
/// binary strings on some versions).
pub(super) fn text(row: &MySqlRow, i: usize) -> Result<Option<String>, sqlx::Error> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(s) => Ok(s),
        Err(_) => Ok(row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())),
    }
}

pub(super) fn req(row: &MySqlRow, i: usize) -> Result<String, sqlx::Error> {
    Ok(text(row, i)?.unwrap_or_default())
}

/// `STATISTICS` with the functional index parts where the server has them.
fn statistics_sql(server: Server) -> String {
    format!(
        "SELECT TABLE_NAME, INDEX_NAME, CAST(NON_UNIQUE AS SIGNED), COLUMN_NAME, COLLATION, \
         CAST(SUB_PART AS SIGNED), INDEX_TYPE, {} FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        if server.has_index_expressions() {
            "EXPRESSION"
        } else {
            "NULL"
        }
    )
}

const TABLES: &str = "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT, \
     CREATE_OPTIONS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";

const COLUMNS: &str =
    "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
         GENERATION_EXPRESSION, COLLATION_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, ORDINAL_POSITION";

/// The columns of foreign keys.
const KEY_COLUMNS: &str =
    "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, \
         REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION";

/// The foreign keys' actions.
const REFERENTIAL: &str = "SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE \
         FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";

/// MariaDB's checks, which name their table.
const MARIADB_CHECKS: &str =
    "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE()";

/// MySQL's checks: its `CHECK_CONSTRAINTS` has no table; its names are unique per
/// database.
const MYSQL_CHECKS: &str = "SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE \
             FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc \
             ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME \
             AND tc.CONSTRAINT_TYPE = 'CHECK' WHERE cc.CONSTRAINT_SCHEMA = DATABASE()";

const VIEWS: &str =
    "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()";

/// A trigger is in its table's database, so `EVENT_OBJECT_SCHEMA` selects the same rows
/// as `TRIGGER_SCHEMA`: it is the column MariaDB looks up the database by, and without
/// it the server reads the triggers of every database.
const TRIGGERS: &str =
    "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, \
         ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
         AND EVENT_OBJECT_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER";

pub(crate) async fn introspect(pool: &sqlx::MySqlPool) -> Result<Schema, MigrateError> {
    let mut c = pool.acquire().await.map_err(unreadable("connection"))?;
    let catalog = Catalog::read(pool, &mut c).await?;
    let rows = catalog.table_rows().map_err(unreadable("decoding"))?;
    let mut schema = catalog.to_schema().map_err(unreadable("decoding"))?;
    super::objects::table_objects(
        &mut schema,
        &rows,
        &catalog.default_engine,
        &catalog.default_collation,
    );
    super::objects::read(&mut c, &mut schema, &rows, &catalog.database).await?;
    Ok(schema)
}

/// The error of a catalog query, naming what it read.
fn unreadable(what: &'static str) -> impl FnOnce(sqlx::Error) -> MigrateError {
    move |e| MigrateError::db(format!("cannot read the schema ({what})"), e)
}

/// Runs one catalog query.
pub(super) async fn fetch(
    c: &mut MySqlConnection,
    sql: &str,
    what: &'static str,
) -> Result<Vec<MySqlRow>, MigrateError> {
    sqlx::query(sql)
        .fetch_all(&mut *c)
        .await
        .map_err(unreadable(what))
}

/// Foreign keys by `(table, constraint)`, their columns in order.
type ForeignKeys = BTreeMap<(String, String), ForeignKey>;

/// One index's `STATISTICS` rows.
struct IndexGroup {
    unique: bool,
    index_type: String,
    parts: Vec<Part>,
}

/// One key part of an index.
struct Part {
    column: Option<String>,
    expression: Option<String>,
    descending: bool,
    prefix: Option<u32>,
}

/// Every `information_schema` query's rows, read on one connection.
struct Catalog {
    server: Server,
    database: String,
    default_engine: String,
    default_collation: String,
    tables: Vec<MySqlRow>,
    columns: Vec<MySqlRow>,
    statistics: Vec<MySqlRow>,
    key_columns: Vec<MySqlRow>,
    referential: Vec<MySqlRow>,
    checks: Vec<MySqlRow>,
    views: Vec<MySqlRow>,
    triggers: Vec<MySqlRow>,
}

impl Catalog {
    /// Runs the queries: the server's first, as the rest depends on it, then the
    /// others on `c` and, as soon as the pool can open it, a second connection (see
    /// [`read_all`]).
    async fn read(
        pool: &sqlx::MySqlPool,
        c: &mut MySqlConnection,
    ) -> Result<Catalog, MigrateError> {
        let (server, database, [default_engine, default_collation]) = server(c).await?;
        let statistics = statistics_sql(server);
        let checks = if !server.has_checks() {
            None
        } else if server.mariadb {
            Some(MARIADB_CHECKS)
        } else {
            Some(MYSQL_CHECKS)
        };
        // The costliest first (on 1,000 tables, on MariaDB), so that no connection is
        // left with a long one while the other is idle.
        let mut queries: Vec<(&str, &'static str)> = vec![
            (TABLES, "TABLES"),
            (KEY_COLUMNS, "KEY_COLUMN_USAGE"),
            (REFERENTIAL, "REFERENTIAL_CONSTRAINTS"),
            (COLUMNS, "COLUMNS"),
            (&statistics, "STATISTICS"),
            (VIEWS, "VIEWS"),
            (TRIGGERS, "TRIGGERS"),
        ];
        if let Some(sql) = checks {
            queries.insert(5, (sql, "CHECK_CONSTRAINTS"));
        }
        let mut rows = read_all(pool, c, &database, &queries).await?.into_iter();
        let mut next = || rows.next().unwrap_or_default();
        let (tables, key_columns, referential, columns, statistics) =
            (next(), next(), next(), next(), next());
        let checks = if checks.is_some() { next() } else { Vec::new() };
        let (views, triggers) = (next(), next());
        Ok(Catalog {
            server,
            database,
            default_engine,
            default_collation,
            tables,
            columns,
            statistics,
            key_columns,
            referential,
            checks,
            views,
            triggers,
        })
    }

    /// The schema the rows describe.
    fn to_schema(&self) -> Result<Schema, sqlx::Error> {
        let mut schema = Schema::default();
        self.add_relations(&mut schema)?;
        self.add_columns(&mut schema)?;
        let fks = self.foreign_keys()?;
        for ((table, name), group) in index_groups(&self.statistics)? {
            if let Some(t) = schema.tables.get_mut(&table) {
                add_index(t, name, group, &fks);
            }
        }
        add_foreign_keys(&mut schema, fks);
        add_checks(&mut schema, &self.checks)?;
        for r in &self.triggers {
            schema.add_trigger(trigger(r)?);
        }
        Ok(schema)
    }

    /// The `TABLES` rows, for the objects that belong to tables.
    fn table_rows(&self) -> Result<Vec<super::objects::TableRow>, sqlx::Error> {
        self.tables
            .iter()
            .map(|r| {
                Ok(super::objects::TableRow {
                    name: req(r, 0)?,
                    kind: req(r, 1)?,
                    engine: text(r, 2)?,
                    collation: text(r, 3)?,
                    comment: req(r, 4)?,
                    options: req(r, 5)?,
                })
            })
            .collect()
    }

    /// Adds the base tables and the views.
    fn add_relations(&self, schema: &mut Schema) -> Result<(), sqlx::Error> {
        for r in &self.tables {
            let kind = req(r, 1)?;
            if kind == "BASE TABLE" || kind == "SYSTEM VERSIONED" {
                schema.add_table(Table::new(req(r, 0)?));
            }
        }
        for r in &self.views {
            let name = req(r, 0)?;
            let definition = strip_database(&req(r, 1)?, &self.database);
            schema.views.insert(name.clone(), View { name, definition });
        }
        Ok(())
    }

    /// Adds the tables' columns, in order.
    fn add_columns(&self, schema: &mut Schema) -> Result<(), sqlx::Error> {
        for r in &self.columns {
            let Some(t) = schema.tables.get_mut(&req(r, 0)?) else {
                continue;
            };
            t.columns.push(column(r, self.server.mariadb)?);
        }
        Ok(())
    }

    /// Foreign keys, grouped by (table, constraint) in column order.
    fn foreign_keys(&self) -> Result<ForeignKeys, sqlx::Error> {
        let mut rules: HashMap<(String, String), (String, String)> = HashMap::new();
        for r in &self.referential {
            rules.insert((req(r, 0)?, req(r, 1)?), (req(r, 2)?, req(r, 3)?));
        }
        let mut fks = ForeignKeys::new();
        for r in &self.key_columns {
            let (table, name) = (req(r, 0)?, req(r, 1)?);
            let ref_schema = req(r, 3)?;
            let ref_table = req(r, 4)?;
            let (update, delete) = rules
                .get(&(table.clone(), name.clone()))
                .cloned()
                .unwrap_or_default();
            let fk = fks
                .entry((table, name.clone()))
                .or_insert_with(|| ForeignKey {
                    name: Some(name),
                    columns: Vec::new(),
                    referenced_table: if ref_schema == self.database {
                        ref_table
                    } else {
                        format!("{ref_schema}.{ref_table}")
                    },
                    referenced_columns: Vec::new(),
                    on_delete: action(&delete),
                    on_update: action(&update),
                    deferrable: Deferrable::NotDeferrable,
                });
            fk.columns.push(req(r, 2)?);
            fk.referenced_columns.push(req(r, 5)?);
        }
        Ok(fks)
    }
}

/// The rows of each of `queries` (SQL, what it reads), in their order: `information_schema`
/// opens every table of the database for each query, which the server does for two
/// queries at once on two cores in about half the time, so they are run on `c` and on
/// a second connection of the pool, each taking the next query. The second one is
/// given up on while it is still connecting when `c` has run them all (a pool of one
/// connection, a server at its connection limit), and it must see the same database:
/// it reads nothing unless its `DATABASE()` is `database`, `c`'s.
async fn read_all(
    pool: &sqlx::MySqlPool,
    c: &mut MySqlConnection,
    database: &str,
    queries: &[(&str, &'static str)],
) -> Result<Vec<Vec<MySqlRow>>, MigrateError> {
    let reads = Reads {
        queries,
        next: AtomicUsize::new(0),
    };
    let second = async {
        let mut h = pool.acquire().await.ok()?;
        let same = fetch(&mut h, "SELECT DATABASE()", "DATABASE()")
            .await
            .ok()
            .and_then(|rows| rows.first().map(|r| req(r, 0).unwrap_or_default()));
        (same.as_deref() == Some(database)).then_some(h)
    };
    let mut rows = on_one_or_two(c, second, &reads, work).await?;
    rows.sort_by_key(|(i, _)| *i);
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

/// Queries (SQL, what it reads) and the index of the next one not yet taken.
struct Reads<'q> {
    queries: &'q [(&'q str, &'static str)],
    next: AtomicUsize,
}

/// Runs the queries of `reads` on `c`, each taking the next one not yet taken, until
/// none is left; their rows by index.
fn work<'c>(c: &'c mut MySqlConnection, reads: &'c Reads<'_>) -> Share<'c, (usize, Vec<MySqlRow>)> {
    Box::pin(async move {
        let mut out = Vec::new();
        loop {
            let i = reads.next.fetch_add(1, Ordering::Relaxed);
            let Some(&(sql, what)) = reads.queries.get(i) else {
                return Ok(out);
            };
            let started = Instant::now();
            out.push((i, fetch(c, sql, what).await?));
            tracing::debug!(query = what, elapsed = ?started.elapsed(), "introspection query");
        }
    })
}

/// `VERSION()`, `DATABASE()`, `@@default_storage_engine` and `@@collation_database`.
async fn server(c: &mut MySqlConnection) -> Result<(Server, String, [String; 2]), MigrateError> {
    let head = fetch(
        c,
        "SELECT VERSION(), DATABASE(), @@default_storage_engine, @@collation_database",
        "version",
    )
    .await?;
    let field = |r: &MySqlRow, i| -> Result<String, MigrateError> {
        Ok(text(r, i)
            .map_err(unreadable("version"))?
            .unwrap_or_default())
    };
    Ok(match head.first() {
        Some(r) => (
            Server::parse(&field(r, 0)?),
            field(r, 1)?,
            [field(r, 2)?, field(r, 3)?],
        ),
        None => (Server::parse(""), String::new(), Default::default()),
    })
}

/// A `COLUMNS` row's column.
fn column(r: &MySqlRow, mariadb: bool) -> Result<Column, sqlx::Error> {
    let column_type = req(r, 2)?;
    let extra = req(r, 5)?.to_ascii_lowercase();
    let expression = text(r, 6)?.filter(|e| !e.is_empty());
    let generated = expression.map(|expression| Generated {
        expression,
        stored: extra.contains("stored") || extra.contains("persistent"),
    });
    let default = if generated.is_some() {
        None
    } else {
        normalize_default(text(r, 4)?, &column_type, &extra, mariadb)
    };
    Ok(Column {
        name: req(r, 1)?,
        data_type: column_type,
        nullable: req(r, 3)? == "YES",
        default,
        identity: extra
            .contains("auto_increment")
            .then_some(Identity::AutoIncrement),
        generated,
        collation: text(r, 7)?,
        on_update: on_update(&extra),
        comment: text(r, 8)?.filter(|c| !c.is_empty()),
        renamed_from: None,
    })
}

/// The `on update ...` of `EXTRA` (MariaDB: `on update current_timestamp()`, MySQL:
/// `DEFAULT_GENERATED on update CURRENT_TIMESTAMP`), in MariaDB's form.
fn on_update(extra_lower: &str) -> Option<String> {
    let rest = extra_lower.split("on update ").nth(1)?;
    let expr = rest.split_whitespace().next()?;
    Some(match expr.strip_prefix("current_timestamp") {
        Some("") => "current_timestamp()".to_string(),
        Some(_) => expr.to_string(),
        None => expr.to_string(),
    })
}

/// Indexes, grouped by (table, index) in key order.
fn index_groups(
    statistics: &[MySqlRow],
) -> Result<BTreeMap<(String, String), IndexGroup>, sqlx::Error> {
    let mut groups: BTreeMap<(String, String), IndexGroup> = BTreeMap::new();
    for r in statistics {
        let key = (req(r, 0)?, req(r, 1)?);
        let non_unique: i64 = r.try_get(2)?;
        let sub_part: Option<i64> = r.try_get(5)?;
        let entry = groups.entry(key).or_insert_with(|| IndexGroup {
            unique: non_unique == 0,
            index_type: String::new(),
            parts: Vec::new(),
        });
        entry.index_type = req(r, 6)?;
        entry.parts.push(Part {
            column: text(r, 3)?,
            expression: text(r, 7)?,
            descending: text(r, 4)?.as_deref() == Some("D"),
            // MariaDB reports a spatial key's internal length (32), which the SQL
            // cannot say.
            prefix: sub_part
                .filter(|_| entry.index_type != "SPATIAL")
                .and_then(|n| u32::try_from(n).ok()),
        });
    }
    Ok(groups)
}

/// Adds an index to its table `t` as its primary key, a unique, or an index, unless it
/// is the one the server made for a foreign key.
fn add_index(t: &mut Table, name: String, group: IndexGroup, fks: &ForeignKeys) {
    let IndexGroup {
        unique,
        index_type,
        parts,
    } = group;
    let columns: Vec<String> = parts.iter().filter_map(|p| p.column.clone()).collect();
    if name == "PRIMARY" {
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns,
        });
        return;
    }
    let plain = parts.iter().all(|p| {
        p.column.is_some() && p.expression.is_none() && !p.descending && p.prefix.is_none()
    });
    let first = columns.first().map(String::as_str).unwrap_or_default();
    if unique && plain && index_type == "BTREE" {
        t.uniques.push(Unique {
            name: (!numbered(&name, first)).then_some(name),
            columns,
        });
        return;
    }
    // The index the server made for a foreign key that had none.
    let for_fk = !unique
        && plain
        && fks.iter().any(|((fk_table, fk_name), fk)| {
            *fk_table == t.name
                && fk.columns == columns
                && (name == *fk_name || numbered(&name, first))
        });
    if for_fk {
        return;
    }
    t.indexes.push(Index {
        name,
        parts: parts
            .into_iter()
            .map(|p| IndexPart {
                key: match p.expression {
                    Some(e) => IndexKey::Expression(e),
                    None => IndexKey::Column(p.column.unwrap_or_default()),
                },
                descending: p.descending,
                length: p.prefix,
                ..Default::default()
            })
            .collect(),
        unique,
        predicate: None,
        method: (index_type != "BTREE").then(|| index_type.to_ascii_lowercase()),
        ..Default::default()
    });
}

/// Adds the foreign keys to their tables, without the names the server chose.
fn add_foreign_keys(schema: &mut Schema, fks: ForeignKeys) {
    for ((table, name), mut fk) in fks {
        let Some(t) = schema.tables.get_mut(&table) else {
            continue;
        };
        if numbered_strict(&name, &format!("{table}_ibfk")) {
            fk.name = None;
        }
        t.foreign_keys.push(fk);
    }
}

/// Adds the checks to their tables, without the names the server chose.
fn add_checks(schema: &mut Schema, checks: &[MySqlRow]) -> Result<(), sqlx::Error> {
    for r in checks {
        let Some(t) = schema.tables.get_mut(&req(r, 0)?) else {
            continue;
        };
        let name = req(r, 1)?;
        // MySQL's `<table>_chk_<n>`, MariaDB's `CONSTRAINT_<n>` and, for a column's
        // check, the column's name.
        let generated = numbered_strict(&name, &format!("{}_chk", t.name))
            || numbered_strict(&name, "CONSTRAINT")
            || t.columns.iter().any(|c| c.name == name);
        t.checks.push(Check {
            name: (!generated).then_some(name),
            expression: req(r, 2)?,
            not_valid: false,
        });
    }
    Ok(())
}

/// The statement the server would take back (without the DEFINER it adds): the body as
/// written, the rest from the catalog's words.
fn trigger(r: &MySqlRow) -> Result<Trigger, sqlx::Error> {
    let (name, table) = (req(r, 0)?, req(r, 1)?);
    let quote = |n: &str| crate::driver::Backend::quote_identifier(&super::Mysql, n);
    let definition = format!(
        "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
        quote(&name),
        req(r, 2)?,
        req(r, 3)?,
        quote(&table),
        req(r, 4)?.trim()
    );
    Ok(Trigger {
        name,
        table,
        definition,
    })
}

/// Whether `name` is `base` or `base_<n>`.
fn numbered(name: &str, base: &str) -> bool {
    name == base || numbered_strict(name, base)
}

/// Whether `name` is `base_<n>`.
fn numbered_strict(name: &str, base: &str) -> bool {
    name.strip_prefix(base)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `UPDATE_RULE` / `DELETE_RULE`; `RESTRICT` is `NO ACTION` (the same in InnoDB).
fn action(rule: &str) -> ReferentialAction {
    match ReferentialAction::parse(rule) {
        Some(ReferentialAction::Restrict) | None => ReferentialAction::NoAction,
        Some(a) => a,
    }
}

/// Whether a `COLUMN_TYPE` takes numbers.
fn is_numeric_type(column_type: &str) -> bool {
    let t = column_type.to_ascii_lowercase();
    [
        "tinyint",
        "smallint",
        "mediumint",
        "int",
        "integer",
        "bigint",
        "decimal",
        "numeric",
        "float",
        "double",
        "real",
        "year",
    ]
    .iter()
    .any(|n| t.starts_with(n))
}

/// `COLUMN_DEFAULT` in MariaDB's form whatever the server: string literals quoted,
/// `None` for no default (MariaDB says `NULL`), `current_timestamp()`.
fn normalize_default(
    raw: Option<String>,
    column_type: &str,
    extra: &str,
    mariadb: bool,
) -> Option<String> {
    let d = raw?;
    let lower = d.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("current_timestamp") {
        let rest = if rest.is_empty() { "()" } else { rest };
        return Some(format!("current_timestamp{rest}"));
    }
    if mariadb {
        return (d != "NULL").then_some(d);
    }
    // MySQL: literals unquoted, expressions marked in EXTRA.
    if extra.contains("default_generated")
        || (is_numeric_type(column_type) && crate::driver::is_numeric_text(&d))
        || lower.starts_with("b'")
        || lower.starts_with("0x")
    {
        return Some(d);
    }
    Some(format!("'{}'", d.replace('\'', "''")))
}

/// A view definition without the `` `database`. `` the server writes before every name.
fn strip_database(definition: &str, database: &str) -> String {
    if database.is_empty() {
        return definition.to_string();
    }
    let quoted = crate::driver::Backend::quote_identifier(&super::Mysql, database);
    definition.replace(&format!("{quoted}."), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers() {
        let m = Server::parse("10.11.19-MariaDB-0+deb12u1");
        assert!(m.mariadb && m.has_checks() && !m.has_index_expressions());
        let my = Server::parse("8.0.36");
        assert!(!my.mariadb && my.has_checks() && my.has_index_expressions());
        assert!(!Server::parse("5.7.44-log").has_checks());
    }

    #[test]
    fn defaults_read_alike() {
        let cases = [
            // (raw, type, extra, mariadb, read)
            (Some("NULL"), "varchar(5)", "", true, None),
            (None, "varchar(5)", "", false, None),
            (Some("'x'"), "varchar(5)", "", true, Some("'x'")),
            (Some("x"), "varchar(5)", "", false, Some("'x'")),
            (Some("it's"), "varchar(5)", "", false, Some("'it''s'")),
            (Some("0"), "int(11)", "", true, Some("0")),
            (Some("0"), "int", "", false, Some("0")),
            (Some("0.00"), "decimal(10,2)", "", false, Some("0.00")),
            (
                Some("current_timestamp()"),
                "timestamp",
                "",
                true,
                Some("current_timestamp()"),
            ),
            (
                Some("CURRENT_TIMESTAMP"),
                "timestamp",
                "default_generated",
                false,
                Some("current_timestamp()"),
            ),
            (
                Some("CURRENT_TIMESTAMP(6)"),
                "timestamp(6)",
                "default_generated",
                false,
                Some("current_timestamp(6)"),
            ),
            (
                Some("uuid()"),
                "char(36)",
                "default_generated",
                false,
                Some("uuid()"),
            ),
        ];
        for (raw, ty, extra, mariadb, read) in cases {
            assert_eq!(
                normalize_default(raw.map(str::to_string), ty, extra, mariadb).as_deref(),
                read,
                "{raw:?} {ty} {extra} {mariadb}"
            );
        }
    }

    #[test]
    fn generated_names() {
        assert!(numbered("email", "email"));
        assert!(numbered("email_2", "email"));
        assert!(!numbered("email_x", "email"));
        assert!(numbered_strict("tickets_ibfk_1", "tickets_ibfk"));
        assert!(numbered_strict("CONSTRAINT_1", "CONSTRAINT"));
        assert!(!numbered_strict("tickets_ibfk", "tickets_ibfk"));
        assert_eq!(
            strip_database("select `d`.`t`.`id` AS `id` from `d`.`t`", "d"),
            "select `t`.`id` AS `id` from `t`"
        );
    }
}
