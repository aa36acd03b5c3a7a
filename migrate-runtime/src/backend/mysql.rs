//! MySQL and MariaDB: `GET_LOCK` on a connection of its own.

#[cfg(feature = "mysql")]
use crate::error::{mask_url, MigrateError};
#[cfg(feature = "mysql")]
use sqlx::{mysql::MySqlConnectOptions, Connection, MySqlConnection};
#[cfg(feature = "mysql")]
use std::time::{Duration, Instant};

#[cfg(feature = "mysql")]
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<sqlx::MySqlPool, MigrateError> {
    use std::str::FromStr;
    let normalized = match url.strip_prefix("mariadb") {
        Some(rest) => format!("mysql{rest}"),
        None => url.to_string(),
    };
    let opts =
        MySqlConnectOptions::from_str(&normalized).map_err(|source| MigrateError::Connect {
            url: mask_url(url),
            source,
        })?;
    let at = addr(&opts);
    let tcp = opts
        .get_socket()
        .is_none()
        .then(|| (opts.get_host().to_string(), opts.get_port()));
    super::open_pool::<sqlx::MySql>(url, opts, timeout, at, HANDSHAKE, tcp).await
}

#[cfg(feature = "mysql")]
const HANDSHAKE: &str = "no answer to the MySQL handshake";

/// The error for a pool whose acquire timeout passed.
#[cfg(feature = "mysql")]
pub(crate) fn pool_timed_out(pool: &sqlx::MySqlPool) -> MigrateError {
    let opts = pool.connect_options();
    MigrateError::ConnectTimeout {
        url: describe(&opts),
        addr: addr(&opts),
        what: "no pooled MySQL connection became available",
        timeout: pool.options().get_acquire_timeout(),
    }
}

/// `host:port`, or the socket path.
#[cfg(feature = "mysql")]
fn addr(opts: &MySqlConnectOptions) -> String {
    match opts.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    }
}

/// A URL for messages, without the password, when the original is not at hand.
#[cfg(feature = "mysql")]
fn describe(opts: &MySqlConnectOptions) -> String {
    format!(
        "mysql://{}@{}/{}",
        opts.get_username(),
        addr(opts),
        opts.get_database().unwrap_or_default()
    )
}

/// Mysql's answers to the runner's questions (see [`super::Backend`]).
pub(crate) struct Mysql;

impl super::Backend for Mysql {
    fn dialect(&self) -> migrate_core::Dialect {
        migrate_core::Dialect::Mysql
    }

    fn history_ddl(&self, table: &str) -> String {
        super::history_table(
            table,
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
        )
    }

    /// Where each unfinished resumable migration stands (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String {
        super::progress_table(table, "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)")
    }

    /// Data definition commits before and after it (a temporary table aside).
    fn commits_on_its_own(&self, statement: &str) -> bool {
        let mut words = statement
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty());
        let first = words.next().unwrap_or_default().to_ascii_uppercase();
        let second = words.next().unwrap_or_default().to_ascii_uppercase();
        matches!(
            first.as_str(),
            "CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE"
        ) && second != "TEMPORARY"
    }

    fn ddl_commits_note(&self) -> Option<&'static str> {
        Some("MySQL and MariaDB commit each DDL statement at once, so what ran before the failure stays")
    }

    /// DDL commits the transaction it runs in.
    fn in_transaction_query(&self) -> Option<&'static str> {
        Some("SELECT CAST(@@in_transaction AS CHAR)")
    }

    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool {
        e.code().as_deref() == Some("42S02") || e.message().contains("doesn't exist")
    }

    /// MySQL reads backslash escapes in literals (unless `NO_BACKSLASH_ESCAPES`).
    fn literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''").replace('\\', "\\\\"))
    }

    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String {
        let [r, w, k, rows_done] = values;
        format!(
            "INSERT INTO {table} (revision, walk, last_key, rows_done) VALUES ({r}, {w}, {k}, {rows_done}) \
             ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), rows_done = VALUES(rows_done), updated_at = CURRENT_TIMESTAMP(6)"
        )
    }

    fn cast(&self, expr: &str, text: bool) -> String {
        let ty = if text { "CHAR" } else { "SIGNED" };
        format!("CAST({expr} AS {ty})")
    }
}

/// The `GET_LOCK` name of a qualified version table: `migrate:<database>.<table>`, or,
/// beyond the server's 64-character limit, a prefix of it followed by a hash of the
/// whole, so that long names stay distinct.
#[cfg(feature = "mysql")]
pub(crate) fn lock_name(qualified: &str) -> String {
    let full = format!("migrate:{qualified}");
    if full.len() <= 64 {
        return full;
    }
    let hash = format!("~{:016x}", super::lock_key(qualified) as u64);
    // Names are plain ASCII identifiers (checked before any lock is taken).
    let keep: String = full.chars().take(64 - hash.len()).collect();
    format!("{keep}{hash}")
}

/// A held `GET_LOCK`.
#[cfg(feature = "mysql")]
pub(crate) struct MySqlLock {
    conn: MySqlConnection,
    name: String,
}

#[cfg(feature = "mysql")]
pub(crate) async fn lock(
    pool: &sqlx::MySqlPool,
    key: &str,
    timeout: Duration,
) -> Result<MySqlLock, MigrateError> {
    let opts = pool.connect_options();
    let within = pool.options().get_acquire_timeout();
    let what = "no answer to the MySQL handshake on the lock connection";
    let mut conn =
        super::connect_within::<MySqlConnection>(&opts, within, describe(&opts), addr(&opts), what)
            .await?
            .map_err(|e| MigrateError::db("cannot open the lock connection", e))?;
    // `GET_LOCK` names are server-wide: qualify an unqualified table with the
    // connection's database, so deploys to two databases of one server do not wait
    // for each other.
    let qualified = if key.contains('.') {
        key.to_string()
    } else {
        let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| MigrateError::db("cannot read the current database", e))?;
        format!("{}.{key}", database.unwrap_or_default())
    };
    let name = lock_name(&qualified);
    let started = Instant::now();
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
        .bind(&name)
        .bind(timeout.as_secs_f64())
        .fetch_one(&mut conn)
        .await
        .map_err(|e| MigrateError::db("cannot take the migration lock", e))?;
    if got == Some(1) {
        return Ok(MySqlLock { conn, name });
    }
    let _ = conn.close().await;
    Err(MigrateError::LockTimeout {
        waited: started.elapsed(),
        what: format!("GET_LOCK('{name}')"),
    })
}

#[cfg(feature = "mysql")]
impl MySqlLock {
    pub(crate) async fn release(mut self) -> Result<(), MigrateError> {
        let released = sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(&self.name)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
        released
            .map(|_| ())
            .map_err(|e| MigrateError::db("cannot release the migration lock", e))
    }
}

#[cfg(all(test, feature = "mysql"))]
mod tests {
    use super::lock_name;

    #[test]
    fn data_definition_commits_on_its_own() {
        use crate::backend::Backend;
        let b = super::Mysql;
        for ddl in [
            "CREATE TABLE t (id INT)",
            "create index i on t (x)",
            "ALTER TABLE t ADD COLUMN y INT",
            "DROP TABLE t",
            "RENAME TABLE a TO b",
            "TRUNCATE t",
        ] {
            assert!(b.commits_on_its_own(ddl), "{ddl}");
        }
        for other in [
            "CREATE TEMPORARY TABLE t (id INT)",
            "DROP TEMPORARY TABLE t",
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET x = 1",
            "",
        ] {
            assert!(!b.commits_on_its_own(other), "{other}");
        }
    }

    #[test]
    fn lock_names_are_per_database_and_fit() {
        assert_eq!(lock_name("a.alembic_version"), "migrate:a.alembic_version");
        assert_ne!(
            lock_name("a.alembic_version"),
            lock_name("b.alembic_version")
        );
        let long_a = format!("{}.v", "d".repeat(63));
        let long_b = format!("{}.w", "d".repeat(63));
        assert_eq!(lock_name(&long_a).len(), 64);
        assert_ne!(lock_name(&long_a), lock_name(&long_b));
    }
}
