//! Test databases: SQLite always; PostgreSQL and MariaDB/MySQL when
//! `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set.

use migrate_core::ScriptDirectory;
use migrate_runtime::{Database, Migrator};
use std::sync::atomic::{AtomicU32, Ordering};

/// A database of its own for one test, on one kind of server.
pub struct TestDb {
    /// `sqlite`, `postgres` or `mysql`.
    pub name: &'static str,
    /// Its URL, for code that connects by itself.
    pub url: String,
    /// A pool connected to it.
    pub db: Database,
    /// The SQLite file's folder, removed with the value.
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("mt_{}_{tag}_{n}_{nanos}", std::process::id())
}

/// A fresh database of every configured kind: SQLite always, PostgreSQL and MariaDB/MySQL
/// when their URL variable is set. `tag` goes into the databases' names.
///
/// # Panics
/// When a set URL is unreachable or the server refuses to create the database.
pub async fn databases(tag: &str) -> Vec<TestDb> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/test.db", dir.path().display());
    let db = Database::connect(&url).await.expect("sqlite connects");
    out.push(TestDb {
        name: "sqlite",
        url,
        db,
        _dir: Some(dir),
    });
    if let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        out.push(fresh(&admin, "postgres", tag).await);
    }
    if let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        out.push(fresh(&admin, "mysql", tag).await);
    }
    out
}

/// Creates an empty database on a server through its admin URL (first dropping those
/// left by test processes that are gone) and returns its URL. `name` is `postgres` or
/// `mysql`.
///
/// # Panics
/// When `admin` is unreachable (a set URL fails the test rather than skipping it) or the
/// server refuses to create the database.
pub async fn fresh_url(name: &str, admin: &str, tag: &str) -> String {
    let admin_db = Database::connect(admin).await.unwrap_or_else(|e| {
        panic!(
            "{name} test URL is set but unreachable: {e}: {:?}",
            std::error::Error::source(&e)
        )
    });
    drop_stale(&admin_db).await;
    let db_name = unique(tag);
    admin_db
        .create_database(&db_name)
        .await
        .unwrap_or_else(|e| panic!("cannot create the {name} test database: {e}"));
    admin_db.close().await;
    Database::url_with_database(admin, &db_name)
}

async fn fresh(admin: &str, name: &'static str, tag: &str) -> TestDb {
    let url = fresh_url(name, admin, tag).await;
    let db = Database::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to fresh {name} database: {e}"));
    TestDb {
        name,
        url,
        db,
        _dir: None,
    }
}

/// Runs SQL outside the migrator.
///
/// # Panics
/// When the SQL fails.
pub async fn raw(db: &Database, sql: &str) {
    raw_result(db, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Runs SQL outside the migrator, answering its result.
async fn raw_result(db: &Database, sql: &str) -> Result<(), sqlx::Error> {
    let run = sqlx::raw_sql(sql);
    if let Some(p) = db.as_sqlite() {
        run.execute(p).await.map(|_| ())
    } else if let Some(p) = db.as_postgres() {
        run.execute(p).await.map(|_| ())
    } else if let Some(p) = db.as_mysql() {
        run.execute(p).await.map(|_| ())
    } else {
        unreachable!("all drivers are enabled in tests")
    }
}

/// One integer from a query (whatever integer or decimal type the database returns).
///
/// # Panics
/// When the query fails or returns no row.
pub async fn scalar(db: &Database, sql: &str) -> i64 {
    let wrapped = crate::catalog::of(db.dialect()).as_integer(sql);
    column::<i64>(db, &wrapped)
        .await
        .and_then(|rows| rows.into_iter().next().ok_or(sqlx::Error::RowNotFound))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Whether a table exists in the connection's current database or schema.
///
/// # Panics
/// When the catalog query fails.
pub async fn table_exists(db: &Database, table: &str) -> bool {
    let sql = crate::catalog::of(db.dialect()).table_count(table);
    scalar(db, &sql).await > 0
}

/// The text of a migration file: revision `rev` after `down` (empty for base), `extra`
/// header lines, the upgrade SQL, and the downgrade SQL when there is one.
pub fn mig(rev: &str, down: &str, extra: &str, up: &str, down_sql: Option<&str>) -> String {
    let mut s = format!("-- {rev}\n-- revision: {rev}\n-- down_revision: {down}\n{extra}\n-- migrate:upgrade\n{up}\n");
    if let Some(d) = down_sql {
        s.push_str(&format!("-- migrate:downgrade\n{d}\n"));
    }
    s
}

/// A migrator over in-memory files `(path, text)`.
///
/// # Panics
/// When the files are not a valid script directory.
pub fn migrator(files: &[(&str, String)]) -> Migrator {
    let dir = ScriptDirectory::from_files(files.iter().map(|(p, t)| (*p, t.as_bytes())))
        .unwrap_or_else(|e| panic!("fixture invalid: {e}"));
    Migrator::from_directory(dir)
}

/// `(path, text)` of a `CREATE TABLE t_<rev>` / `DROP TABLE t_<rev>` migration.
pub fn table_mig(rev: &str, down: &str, extra: &str) -> (String, String) {
    (
        format!("{rev}.sql"),
        mig(
            rev,
            down,
            extra,
            &format!("CREATE TABLE t_{rev} (id INT);"),
            Some(&format!("DROP TABLE t_{rev};")),
        ),
    )
}

/// Drops test databases left by test processes that no longer run (their pid is in the
/// name), so repeated runs do not pile databases up on the servers.
async fn drop_stale(admin: &Database) {
    for db in admin.database_names("mt_").await.unwrap_or_default() {
        let pid = db.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            // Best effort: another test process may be dropping the same one.
            let _ = admin.drop_database(&db).await;
        }
    }
}

/// Text rows of a one-column query. Statements are not cached: tests read the same
/// table before and after migrations change its columns, which would invalidate a
/// PostgreSQL prepared statement ("cached plan must not change result type").
///
/// # Panics
/// When the query fails.
pub async fn strings(db: &Database, sql: &str) -> Vec<String> {
    column::<String>(db, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of every row of a query, not cached (see [`strings`]).
async fn column<T>(db: &Database, sql: &str) -> Result<Vec<T>, sqlx::Error>
where
    T: Send + Unpin,
    (T,): for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::mysql::MySqlRow>,
{
    if let Some(p) = db.as_sqlite() {
        pool_column(p, sql).await
    } else if let Some(p) = db.as_postgres() {
        pool_column(p, sql).await
    } else if let Some(p) = db.as_mysql() {
        pool_column(p, sql).await
    } else {
        unreachable!("all drivers are enabled in tests")
    }
}

async fn pool_column<DB, T>(pool: &sqlx::Pool<DB>, sql: &str) -> Result<Vec<T>, sqlx::Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    T: Send + Unpin,
    (T,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_scalar::<DB, T>(sql)
        .persistent(false)
        .fetch_all(pool)
        .await
}

/// `(column, type, nullable)` of a table, types lowercased.
///
/// # Panics
/// When the catalog query fails.
pub async fn columns(db: &Database, table: &str) -> Vec<(String, String, bool)> {
    let sql = crate::catalog::of(db.dialect()).columns(table);
    strings(db, &sql)
        .await
        .into_iter()
        .map(|row| {
            let mut parts = row.splitn(3, '|');
            let name = parts.next().unwrap_or_default().to_string();
            let ty = parts.next().unwrap_or_default().to_string();
            let nullable = parts.next() == Some("YES");
            (name, ty, nullable)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL to a local port that nothing listens on.
    fn closed_port_url(scheme: &str, user: &str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        drop(listener);
        format!("{scheme}://{user}@127.0.0.1:{port}/test")
    }

    #[tokio::test]
    #[should_panic(expected = "postgres test URL is set but unreachable")]
    async fn unreachable_postgres_url_fails() {
        fresh_url(
            "postgres",
            &closed_port_url("postgres", "postgres"),
            "closed",
        )
        .await;
    }

    #[tokio::test]
    #[should_panic(expected = "mysql test URL is set but unreachable")]
    async fn unreachable_mysql_url_fails() {
        fresh_url("mysql", &closed_port_url("mysql", "root"), "closed").await;
    }

    #[test]
    fn database_replaced_in_url() {
        assert_eq!(
            Database::url_with_database("postgres://u@h:5432/postgres?sslmode=disable", "mt_1"),
            "postgres://u@h:5432/mt_1?sslmode=disable"
        );
        assert_eq!(
            Database::url_with_database("mysql://root@h", "mt_1"),
            "mysql://root@h/mt_1"
        );
    }

    #[test]
    fn migration_text() {
        let (path, text) = table_mig("b2", "a1", "");
        assert_eq!(path, "b2.sql");
        assert!(
            text.contains("-- revision: b2\n-- down_revision: a1\n"),
            "{text}"
        );
        assert!(text.contains("CREATE TABLE t_b2 (id INT);"), "{text}");
        assert!(
            text.contains("-- migrate:downgrade\nDROP TABLE t_b2;"),
            "{text}"
        );
    }
}
