//! Connections to the supported databases. One file per database holds what differs
//! (DDL of the history table, locking, error codes); the runner in `migrator.rs` is
//! written once against [`Conn`].

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("migrate-runtime needs at least one of the features `sqlite`, `postgres`, `mysql`");

// Always compiled: their DDL is needed to write offline SQL for any database; the
// driver-specific parts inside are behind the features.
pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use crate::error::{mask_url, MigrateError};
use migrate_core::Dialect;
use std::time::Duration;

/// A borrowed sqlx pool of any supported database: what the [`Migrator`](crate::Migrator)
/// methods take. `&SqlitePool`, `&PgPool` and `&MySqlPool` convert into it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Db<'a> {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(&'a sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'a sqlx::PgPool),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(&'a sqlx::MySqlPool),
}

#[cfg(feature = "sqlite")]
impl<'a> From<&'a sqlx::SqlitePool> for Db<'a> {
    fn from(p: &'a sqlx::SqlitePool) -> Self {
        Db::Sqlite(p)
    }
}
#[cfg(feature = "postgres")]
impl<'a> From<&'a sqlx::PgPool> for Db<'a> {
    fn from(p: &'a sqlx::PgPool) -> Self {
        Db::Postgres(p)
    }
}
#[cfg(feature = "mysql")]
impl<'a> From<&'a sqlx::MySqlPool> for Db<'a> {
    fn from(p: &'a sqlx::MySqlPool) -> Self {
        Db::Mysql(p)
    }
}

impl Db<'_> {
    /// The SQL dialect of this database.
    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Db::Mysql(_) => Dialect::Mysql,
        }
    }

    pub(crate) async fn acquire(&self) -> Result<Conn, MigrateError> {
        let ctx = "cannot take a connection from the pool";
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(p) => Conn::Sqlite(p.acquire().await.map_err(|e| MigrateError::db(ctx, e))?),
            #[cfg(feature = "postgres")]
            Db::Postgres(p) => Conn::Postgres(p.acquire().await.map_err(|e| match e {
                sqlx::Error::PoolTimedOut => postgres::pool_timed_out(p),
                e => MigrateError::db(ctx, e),
            })?),
            #[cfg(feature = "mysql")]
            Db::Mysql(p) => Conn::Mysql(p.acquire().await.map_err(|e| match e {
                sqlx::Error::PoolTimedOut => mysql::pool_timed_out(p),
                e => MigrateError::db(ctx, e),
            })?),
        })
    }

    /// Takes the migration lock on a connection of its own, so that the work
    /// connection's transactions never release it. SQLite has no such lock: a file lock
    /// beside the database file stands in for it (and each step still runs in a
    /// write-locking transaction, see `migrator.rs`).
    pub(crate) async fn lock(&self, key: &str, timeout: Duration) -> Result<Lock, MigrateError> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(p) => sqlite::lock(p, key, timeout).await.map(|l| match l {
                Some(file) => Lock::Sqlite(file),
                None => Lock::None,
            }),
            #[cfg(feature = "postgres")]
            Db::Postgres(p) => postgres::lock(p, key, timeout).await.map(Lock::Postgres),
            #[cfg(feature = "mysql")]
            Db::Mysql(p) => mysql::lock(p, key, timeout).await.map(Lock::Mysql),
        }
    }
}

/// A held migration lock; [`Lock::release`] must be called on every path.
pub(crate) enum Lock {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    None,
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::FileLock),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgLock),
    #[cfg(feature = "mysql")]
    Mysql(mysql::MySqlLock),
}

impl Lock {
    pub(crate) async fn release(self) -> Result<(), MigrateError> {
        match self {
            Lock::None => Ok(()),
            #[cfg(feature = "sqlite")]
            Lock::Sqlite(l) => {
                l.release();
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Lock::Postgres(l) => l.release().await,
            #[cfg(feature = "mysql")]
            Lock::Mysql(l) => l.release().await,
        }
    }
}

/// How [`Database::connect_with`] opens a database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// How long to wait for a server to answer (TCP, TLS and login).
    pub timeout: Duration,
    /// Whether a missing SQLite file is created (the default) or an error.
    pub create_if_missing: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            timeout: Database::DEFAULT_CONNECT_TIMEOUT,
            create_if_missing: true,
        }
    }
}

impl ConnectOptions {
    /// Sets the connect timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets whether a missing SQLite file is created.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }
}

/// Opens one connection, giving up after `timeout`: TCP, TLS and the login all count.
/// A server that accepts and never answers (or a server of another kind, for a MySQL
/// client that waits for the server to speak first) would otherwise hold the caller for
/// as long as the operating system keeps the socket open. `url` (masked) and `addr`
/// name the server in the error, `what` what did not answer.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn connect_within<C: sqlx::Connection>(
    opts: &<C as sqlx::Connection>::Options,
    timeout: Duration,
    url: String,
    addr: String,
    what: &'static str,
) -> Result<Result<C, sqlx::Error>, MigrateError> {
    tokio::time::timeout(timeout, C::connect_with(opts))
        .await
        .map_err(|_| MigrateError::ConnectTimeout {
            url,
            addr,
            what,
            timeout,
        })
}

/// A pool on a server, after one direct connection that proves the server answers: a
/// pool retries a refused connection until its acquire timeout and then reports only
/// that it timed out. The pool opens its connections within the same time (its acquire
/// timeout), and the lock connection reads it back from there.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn open_pool<DB: sqlx::Database>(
    url: &str,
    opts: <DB::Connection as sqlx::Connection>::Options,
    timeout: Duration,
    addr: String,
    handshake: &'static str,
) -> Result<sqlx::Pool<DB>, MigrateError> {
    let probe = connect_within::<DB::Connection>(&opts, timeout, mask_url(url), addr, handshake)
        .await?
        .map_err(|source| MigrateError::Connect {
            url: mask_url(url),
            source,
        })?;
    let _ = sqlx::Connection::close(probe).await;
    Ok(sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(2)
        .acquire_timeout(timeout)
        .connect_lazy_with(opts))
}

/// An owned pool opened from a URL, for the CLI and URL-driven callers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Database {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(sqlx::MySqlPool),
}

const EXPECTED: &str = concat!(
    "one of",
    " `sqlite://`",
    " `postgres://`",
    " `mysql://`",
    " (the ones compiled in through the `sqlite`, `postgres` and `mysql` features)"
);

impl Database {
    /// How long [`Database::connect`] waits for a server to answer: 30 seconds.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

    /// Opens a pool for `postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…` or
    /// `sqlite://path` / `sqlite:path` (the file is created if it does not exist), with
    /// the [default connect timeout](Database::DEFAULT_CONNECT_TIMEOUT).
    ///
    /// TLS follows the URL: `sslmode` (`disable`, `prefer`, the default, `require`,
    /// `verify-ca`, `verify-full`) and `sslrootcert` on PostgreSQL, `ssl-mode`
    /// (`DISABLED`, `PREFERRED`, the default, `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`)
    /// and `ssl-ca` on MySQL/MariaDB. Verification trusts the operating system's root
    /// certificates plus the CA the URL names.
    ///
    /// # Errors
    /// As [`Database::connect_with_timeout`].
    pub async fn connect(url: &str) -> Result<Database, MigrateError> {
        Self::connect_with_timeout(url, Self::DEFAULT_CONNECT_TIMEOUT).await
    }

    /// [`Database::connect`] giving up after `timeout` on PostgreSQL and MySQL/MariaDB:
    /// the first connection (TCP, TLS and login), every connection the pool opens later
    /// (its acquire timeout) and the connection the migration lock is taken on. SQLite
    /// opens a local file and has no such wait.
    ///
    /// # Errors
    /// [`MigrateError::UnsupportedUrl`] for other schemes or drivers not compiled in;
    /// [`MigrateError::ConnectTimeout`] when the server does not answer in time;
    /// [`MigrateError::Connect`] (with the password masked) when connecting fails.
    pub async fn connect_with_timeout(
        url: &str,
        timeout: Duration,
    ) -> Result<Database, MigrateError> {
        Self::connect_with(url, &ConnectOptions::default().timeout(timeout)).await
    }

    /// [`Database::connect`] with every option: the timeout, and whether a missing
    /// SQLite file may be created (tools that only read a database should not leave an
    /// empty one behind a mistyped path).
    ///
    /// # Errors
    /// As [`Database::connect_with_timeout`], and [`MigrateError::MissingDatabase`] for
    /// an SQLite file that does not exist when `create_if_missing` is off.
    pub async fn connect_with(
        url: &str,
        options: &ConnectOptions,
    ) -> Result<Database, MigrateError> {
        let timeout = options.timeout;
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            #[cfg(feature = "sqlite")]
            "sqlite" => sqlite::connect(url, options.create_if_missing)
                .await
                .map(Database::Sqlite),
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => postgres::connect(url, timeout)
                .await
                .map(Database::Postgres),
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => mysql::connect(url, timeout).await.map(Database::Mysql),
            _ => {
                let _ = timeout;
                Err(MigrateError::UnsupportedUrl {
                    url: mask_url(url),
                    expected: EXPECTED,
                })
            }
        }
    }

    /// Borrows the pool.
    pub fn db(&self) -> Db<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(p) => Db::Sqlite(p),
            #[cfg(feature = "postgres")]
            Database::Postgres(p) => Db::Postgres(p),
            #[cfg(feature = "mysql")]
            Database::Mysql(p) => Db::Mysql(p),
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(p) => p.close().await,
            #[cfg(feature = "postgres")]
            Database::Postgres(p) => p.close().await,
            #[cfg(feature = "mysql")]
            Database::Mysql(p) => p.close().await,
        }
    }
}

impl<'a> From<&'a Database> for Db<'a> {
    fn from(d: &'a Database) -> Self {
        d.db()
    }
}

/// One connection taken from a pool.
pub(crate) enum Conn {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    Mysql(sqlx::pool::PoolConnection<sqlx::MySql>),
}

macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Conn::Mysql($c) => $body,
        }
    };
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Conn::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Runs SQL text (one or several statements) and returns the rows affected.
    // These return boxed `Send` futures: written as `async fn`, the compiler cannot
    // prove the executor bounds hold for every lifetime, and callers' futures would not
    // be `Send` (so not spawnable).
    pub(crate) fn execute<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, u64> {
        on_conn!(self, c => Box::pin(async move {
            // A plain `&str` runs unprepared (the simple protocol), so several statements
            // may share one call.
            sqlx::Executor::execute(&mut **c, sql).await.map(|r| r.rows_affected())
        }))
    }

    /// Runs a query returning one text column.
    pub(crate) fn strings<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, Vec<String>> {
        on_conn!(self, c => Box::pin(async move {
            sqlx::query_scalar::<_, String>(sql).fetch_all(&mut **c).await
        }))
    }

    /// Runs a query returning two text columns, the second nullable.
    pub(crate) fn optional_string<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, Option<String>> {
        on_conn!(self, c => Box::pin(async move {
            sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(&mut **c).await
        }))
    }

    pub(crate) fn pairs<'a>(
        &'a mut self,
        sql: &'a str,
    ) -> BoxFut<'a, Vec<(String, Option<String>)>> {
        on_conn!(self, c => Box::pin(async move {
            sqlx::query_as::<_, (String, Option<String>)>(sql).fetch_all(&mut **c).await
        }))
    }

    /// Whether an error says the table does not exist.
    pub(crate) fn is_missing_table(&self, e: &sqlx::Error) -> bool {
        let sqlx::Error::Database(db) = e else {
            return false;
        };
        match self.dialect() {
            Dialect::Sqlite => db.message().contains("no such table"),
            Dialect::Postgres => db.code().as_deref() == Some("42P01"),
            Dialect::Mysql => {
                db.code().as_deref() == Some("42S02") || db.message().contains("doesn't exist")
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Whether an error says a lock could not be had in time (SQLite's busy timeout).
    pub(crate) fn is_busy(&self, e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.message().contains("database is locked") || db.message().contains("database table is locked"))
    }
}

/// A 64-bit FNV-1a hash, for lock keys derived from table names.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn lock_key(s: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// `CREATE TABLE IF NOT EXISTS` for the history table on `dialect`.
pub(crate) fn history_ddl(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => postgres::history_ddl(table),
        Dialect::Mysql => mysql::history_ddl(table),
        _ => sqlite::history_ddl(table),
    }
}

/// `CREATE TABLE IF NOT EXISTS` for the progress table of resumable migrations on
/// `dialect` (see `batch.rs`).
pub(crate) fn progress_ddl(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => postgres::progress_ddl(table),
        Dialect::Mysql => mysql::progress_ddl(table),
        _ => sqlite::progress_ddl(table),
    }
}

/// Runs a query returning three text columns, the third nullable.
pub(crate) fn triples<'a>(
    conn: &'a mut Conn,
    sql: &'a str,
) -> BoxFut<'a, Vec<(String, String, Option<String>)>> {
    on_conn!(conn, c => Box::pin(async move {
        sqlx::query_as::<_, (String, String, Option<String>)>(sql).fetch_all(&mut **c).await
    }))
}

pub(crate) type BoxFut<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;
