//! The supported databases. Each has one file holding everything that differs: one
//! implementation of [`Backend`] (the SQL the runner writes and the facts it decides
//! on, with no I/O), its connection and its migration lock. The runner in `migrator/`
//! is written once against [`Conn`] and `&dyn Backend`; [`of`] is the one place a
//! [`Dialect`] is matched to its database, exhaustively, so a new database or a new
//! capability is a compile error everywhere it must be handled.

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("migrate-runtime needs at least one of the features `sqlite`, `postgres`, `mysql`");

// Always compiled: their DDL is needed to write offline SQL for any database; the
// driver-specific parts inside are behind the features.
pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod tls;

use crate::error::{mask_url, MigrateError};
use migrate_core::Dialect;
use std::borrow::Cow;
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
            Db::Sqlite(p) => Conn::Sqlite(sqlite::SqliteConn::new(
                p.acquire().await.map_err(|e| MigrateError::db(ctx, e))?,
            )),
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

/// A bound parameter of the runner's own statements.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// Text.
    Text(&'a str),
    /// Text or `NULL`.
    OptText(Option<&'a str>),
    /// A 64-bit integer.
    Int(i64),
}

/// The migration lock and the connection the run works on, held together.
pub(crate) struct Held {
    lock: Lock,
    /// The work connection.
    pub(crate) conn: Conn,
}

impl Db<'_> {
    /// Takes the migration lock (waiting up to `timeout`), then a work connection.
    /// End with [`Held::release`] on every path; a dropped `Held` (a cancelled run)
    /// still frees both, when its connections close.
    pub(crate) async fn hold(&self, key: &str, timeout: Duration) -> Result<Held, MigrateError> {
        let lock = self.lock(key, timeout).await?;
        match self.acquire().await {
            Ok(conn) => Ok(Held { lock, conn }),
            Err(e) => {
                let _ = lock.release().await;
                Err(e)
            }
        }
    }
}

impl Held {
    /// Whether no writer but this run can change the version table while it holds the
    /// lock: the database's lock keeps them out, or the database lives in this
    /// process's memory (no lock is needed there; another migrator in the process on
    /// the same pool still meets the version-row checks).
    pub(crate) fn excludes_writers(&self) -> bool {
        self.in_memory() || self.conn.backend().lock_excludes_writers()
    }

    /// Whether the database lives in this process's memory (SQLite's `:memory:`),
    /// where no other connection can wait on the run's locks.
    pub(crate) fn in_memory(&self) -> bool {
        matches!(self.lock, Lock::None)
    }

    /// Gives the connection back and releases the lock; returns the work's `result`,
    /// or the release's error when the work succeeded.
    pub(crate) async fn release<T>(
        self,
        result: Result<T, MigrateError>,
    ) -> Result<T, MigrateError> {
        drop(self.conn);
        let released = self.lock.release().await;
        let value = result?;
        released?;
        Ok(value)
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

/// A pool on a server with its first connection open, so that the server is known to
/// answer and the first query does not pay for a second login. A refused TCP port is
/// found by a bare TCP connect first (`tcp`: the host and port, `None` for a Unix
/// socket): the pool itself retries refused connections until its acquire timeout and
/// would then report only that it timed out. A server that accepts and never answers
/// is given up on after `timeout`, named by `addr` and `handshake`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn open_pool<DB: sqlx::Database>(
    url: &str,
    opts: <DB::Connection as sqlx::Connection>::Options,
    timeout: Duration,
    addr: String,
    handshake: &'static str,
    tcp: Option<(String, u16)>,
) -> Result<sqlx::Pool<DB>, MigrateError> {
    let timed_out = |addr: String| MigrateError::ConnectTimeout {
        url: mask_url(url),
        addr,
        what: handshake,
        timeout,
    };
    if let Some((host, port)) = tcp {
        match tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Err(_) => return Err(timed_out(addr)),
            Ok(Err(e)) => {
                return Err(MigrateError::Connect {
                    url: mask_url(url),
                    source: sqlx::Error::Io(e),
                })
            }
            Ok(Ok(_)) => {}
        }
    }
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(2)
        .acquire_timeout(timeout)
        .connect_with(opts);
    match tokio::time::timeout(timeout, pool).await {
        Err(_) | Ok(Err(sqlx::Error::PoolTimedOut)) => Err(timed_out(addr)),
        Ok(Err(source)) => Err(MigrateError::Connect {
            url: mask_url(url),
            source,
        }),
        Ok(Ok(pool)) => Ok(pool),
    }
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
    /// and `ssl-ca` on MySQL/MariaDB. A CA the URL names is the only one trusted, as
    /// in libpq and the MySQL client: the file is read first (missing, unreadable or
    /// with no PEM certificate: an error naming it) and the server's certificate is
    /// checked against it alone before the pool opens. Without a named CA, verification
    /// trusts the operating system's root certificates.
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
    /// [`MigrateError::TlsCa`] when the CA the URL names cannot be read or did not sign
    /// the server's certificate;
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
        match Dialect::from_url(url) {
            #[cfg(feature = "sqlite")]
            Some(Dialect::Sqlite) => sqlite::connect(url, options.create_if_missing)
                .await
                .map(Database::Sqlite),
            #[cfg(feature = "postgres")]
            Some(Dialect::Postgres) => postgres::connect(url, timeout)
                .await
                .map(Database::Postgres),
            #[cfg(feature = "mysql")]
            Some(Dialect::Mysql) => mysql::connect(url, timeout).await.map(Database::Mysql),
            // A scheme of no database, or of one this build leaves out.
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
    Sqlite(sqlite::SqliteConn),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    Mysql(sqlx::pool::PoolConnection<sqlx::MySql>),
}

macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => {
                let $c = s.driver();
                $body
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Conn::Mysql($c) => $body,
        }
    };
}

/// Answers from SQLite's borrowed handle, when the run has borrowed it (see
/// `sqlite/direct.rs`), with what `$body` returns at once.
macro_rules! direct_first {
    ($conn:expr, $d:ident => $body:expr) => {
        // Irrefutable in a build with SQLite alone.
        #[cfg(feature = "sqlite")]
        #[allow(irrefutable_let_patterns)]
        if let Conn::Sqlite(s) = $conn {
            if let Some($d) = s.direct() {
                return Box::pin(std::future::ready($body));
            }
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
        if let Err(e) = refuse_nul(sql) {
            return Box::pin(std::future::ready(Err(e)));
        }
        direct_first!(self, d => d.execute(sql));
        match self {
            // In pieces: see `sqlite::PIECE_BYTES`.
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => Box::pin(sqlite::execute(s.driver(), sql)),
            #[allow(unreachable_patterns)]
            other => on_conn!(other, c => Box::pin(async move {
                // A plain `&str` runs unprepared (the simple protocol), so several
                // statements may share one call.
                sqlx::Executor::execute(&mut **c, sql).await.map(|r| r.rows_affected())
            })),
        }
    }

    /// Runs one statement with bound parameters (prepared once per connection and
    /// reused) and returns the rows affected.
    pub(crate) fn execute_bound<'a>(
        &'a mut self,
        sql: &'a str,
        args: &'a [Arg<'a>],
    ) -> BoxFut<'a, u64> {
        if let Err(e) = refuse_nul(sql) {
            return Box::pin(std::future::ready(Err(e)));
        }
        direct_first!(self, d => d.execute_bound(sql, args));
        on_conn!(self, c => Box::pin(async move {
            let mut q = sqlx::query(sql);
            for a in args {
                q = match *a {
                    Arg::Text(t) => q.bind(t),
                    Arg::OptText(t) => q.bind(t),
                    Arg::Int(i) => q.bind(i),
                };
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        }))
    }

    /// Runs a query with bound parameters returning one 64-bit integer.
    pub(crate) fn count_bound<'a>(
        &'a mut self,
        sql: &'a str,
        args: &'a [Arg<'a>],
    ) -> BoxFut<'a, i64> {
        on_conn!(self, c => Box::pin(async move {
            let mut q = sqlx::query_scalar::<_, i64>(sql);
            for a in args {
                q = match *a {
                    Arg::Text(t) => q.bind(t),
                    Arg::OptText(t) => q.bind(t),
                    Arg::Int(i) => q.bind(i),
                };
            }
            q.fetch_one(&mut **c).await
        }))
    }

    /// Runs a query returning one text column.
    pub(crate) fn strings<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, Vec<String>> {
        direct_first!(self, d => d.strings(sql));
        on_conn!(self, c => Box::pin(async move {
            sqlx::query_scalar::<_, String>(sql).fetch_all(&mut **c).await
        }))
    }

    /// Runs a query returning two text columns, the second nullable.
    pub(crate) fn optional_string<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, Option<String>> {
        direct_first!(self, d => d.optional_string(sql));
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

    /// The backend of this connection's database.
    pub(crate) fn backend(&self) -> &'static dyn Backend {
        of(self.dialect())
    }

    /// Whether an error says the table does not exist.
    pub(crate) fn is_missing_table(&self, e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if self.backend().is_missing_table(db.as_ref()))
    }

    /// Whether an error says a lock could not be had in time (SQLite's busy timeout).
    pub(crate) fn is_busy(&self, e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if self.backend().is_busy(db.as_ref()))
    }

    /// Opens a transaction through the driver (with the backend's statement), which
    /// then knows it is open: if the future running a migration is dropped half-way,
    /// the connection rolls it back before anyone else uses it (see `Drop`).
    pub(crate) fn begin(&mut self) -> BoxFut<'_, ()> {
        let statement = self.backend().begin_statement().map(Cow::Borrowed);
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => Box::pin(s.begin(statement)),
            #[allow(unreachable_patterns)]
            other => on_conn!(other, c => tx_manager(c).begin(&mut **c, statement)),
        }
    }

    /// Commits the open transaction.
    pub(crate) fn commit(&mut self) -> BoxFut<'_, ()> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => Box::pin(s.commit()),
            #[allow(unreachable_patterns)]
            other => on_conn!(other, c => tx_manager(c).commit(&mut **c)),
        }
    }

    /// Rolls the open transaction back.
    pub(crate) fn rollback(&mut self) -> BoxFut<'_, ()> {
        direct_first!(self, d => d.rollback());
        on_conn!(self, c => tx_manager(c).rollback(&mut **c))
    }

    /// Whether a transaction is open on this connection.
    pub(crate) fn in_transaction(&mut self) -> bool {
        #[cfg(feature = "sqlite")]
        #[allow(irrefutable_let_patterns)]
        if let Conn::Sqlite(s) = self {
            if let Some(d) = s.direct() {
                return d.in_transaction();
            }
        }
        on_conn!(self, c => tx_manager(c).depth(&**c) > 0)
    }

    /// Whether this connection is driven without the driver's worker thread
    /// (SQLite's borrowed handle, see `sqlite/direct.rs`).
    pub(crate) fn is_direct(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => s.is_direct(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Borrows SQLite's handle for the requests that follow (a no-op elsewhere), its
    /// statements interrupted once `interrupt` is set; or, given `None`, gives it back.
    /// Switch only with no transaction open: one opened on either side is unknown to
    /// the other.
    pub(crate) fn go_direct(
        &mut self,
        interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    ) -> BoxFut<'_, ()> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => {
                if let Some(flag) = interrupt {
                    return Box::pin(s.go_direct(flag));
                }
                s.driver();
                Box::pin(std::future::ready(Ok(())))
            }
            #[allow(unreachable_patterns)]
            _ => {
                // Only SQLite lends its handle.
                drop(interrupt);
                Box::pin(std::future::ready(Ok(())))
            }
        }
    }

    /// Runs SQL text of several statements as one request and, when one fails, says
    /// how many completed before it (the driver reports a result per statement).
    pub(crate) fn execute_counted<'a>(&'a mut self, sql: &'a str) -> Counted<'a> {
        if let Err(e) = refuse_nul(sql) {
            return Box::pin(std::future::ready(Err((0, e))));
        }
        direct_first!(self, d => d.execute_counted(sql));
        match self {
            // In pieces: see `sqlite::PIECE_BYTES`.
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(s) => Box::pin(sqlite::execute_counted(s.driver(), sql)),
            #[allow(unreachable_patterns)]
            other => on_conn!(other, c => Box::pin(async move {
                use futures_util::StreamExt;
                let mut done = 0usize;
                let mut results = sqlx::Executor::fetch_many(&mut **c, sql);
                while let Some(item) = results.next().await {
                    match item {
                        Ok(sqlx::Either::Left(_)) => done += 1,
                        Ok(sqlx::Either::Right(_)) => {}
                        Err(e) => return Err((done, e)),
                    }
                }
                Ok(())
            })),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // A run dropped inside a transaction (its future cancelled, a panic): queue the
        // rollback, which the pool sends before the connection is used again.
        on_conn!(self, c => {
            let tm = tx_manager(c);
            if tm.depth(&**c) > 0 {
                tm.start_rollback(&mut **c);
            }
        })
    }
}

/// Refuses SQL text that holds a NUL byte before any driver sees it. SQLite reads a
/// NUL as the end of the text, and sqlx's SQLite driver, asked to run what follows,
/// prepares nothing forever at 100% CPU; PostgreSQL's protocol sends SQL as a
/// NUL-terminated string. Migration files and the declared schema are refused when
/// loaded; this catches SQL built at run time (a Rust migration's).
fn refuse_nul(sql: &str) -> Result<(), sqlx::Error> {
    match migrate_core::sql::nul_line(sql.as_bytes()) {
        None => Ok(()),
        Some(line) => Err(nul_byte_error(line)),
    }
}

/// The error of SQL text with a NUL byte on its `line`.
pub(crate) fn nul_byte_error(line: usize) -> sqlx::Error {
    sqlx::Error::InvalidArgument(format!(
        "the SQL holds a NUL byte (\\0) on its line {line}, which databases read as the end of the SQL, so what follows would not run; remove it"
    ))
}

/// The driver's transaction manager of a database, as a value so that the `on_conn!`
/// arms can reach it without naming the database type.
struct TxManager<DB>(std::marker::PhantomData<DB>);

fn tx_manager<DB: sqlx::Database>(_: &sqlx::pool::PoolConnection<DB>) -> TxManager<DB> {
    TxManager(std::marker::PhantomData)
}

type Tm<DB> = <DB as sqlx::Database>::TransactionManager;

impl<DB: sqlx::Database> TxManager<DB> {
    fn begin<'c>(
        self,
        c: &'c mut DB::Connection,
        statement: Option<Cow<'static, str>>,
    ) -> BoxFut<'c, ()> {
        <Tm<DB> as sqlx::TransactionManager>::begin(c, statement)
    }
    fn commit(self, c: &mut DB::Connection) -> BoxFut<'_, ()> {
        <Tm<DB> as sqlx::TransactionManager>::commit(c)
    }
    fn rollback(self, c: &mut DB::Connection) -> BoxFut<'_, ()> {
        <Tm<DB> as sqlx::TransactionManager>::rollback(c)
    }
    fn start_rollback(self, c: &mut DB::Connection) {
        <Tm<DB> as sqlx::TransactionManager>::start_rollback(c)
    }
    fn depth(&self, c: &DB::Connection) -> usize {
        <Tm<DB> as sqlx::TransactionManager>::get_transaction_depth(c)
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

/// What the runner needs to know of a database and the SQL it writes there: one
/// implementation per database (in its file), chosen by [`of`]. No method does I/O.
pub(crate) trait Backend: Sync {
    /// The dialect this backend implements.
    fn dialect(&self) -> Dialect;

    /// `CREATE TABLE IF NOT EXISTS` for the history table.
    fn history_ddl(&self, table: &str) -> String;

    /// `CREATE TABLE IF NOT EXISTS` for the progress table of resumable migrations
    /// (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String;

    /// The statement that opens a migration's transaction, when it is not `BEGIN`.
    fn begin_statement(&self) -> Option<&'static str> {
        None
    }

    /// A statement for the run's connection before the first transaction (a lock wait
    /// of the database's own, in milliseconds).
    fn session_setup(&self, _lock_timeout: Duration) -> Option<String> {
        None
    }

    /// A query answering `1` while the session is inside a transaction, for databases
    /// whose DDL commits the transaction it runs in: after a migration's SQL the
    /// runner opens a new one for the version-table change when the DDL ended it.
    fn in_transaction_query(&self) -> Option<&'static str> {
        None
    }

    /// Whether `statement` commits the transaction it runs in, and so needs none.
    fn commits_on_its_own(&self, _statement: &str) -> bool {
        false
    }

    /// What stays after a migration fails half-way, when the database commits DDL at
    /// once whatever the transaction (said in the error).
    fn ddl_commits_note(&self) -> Option<&'static str> {
        None
    }

    /// Whether statements of a `transactional: false` section go one at a time: a
    /// multi-statement request there forms a transaction block of its own, in which
    /// statements like `CREATE INDEX CONCURRENTLY` may not run.
    fn splits_outside_transactions(&self) -> bool {
        false
    }

    /// The query reading the newest checksum of every applied revision, and whether it
    /// answers in one row (`revision checksum` pairs joined by `,`, oldest first)
    /// rather than one row per pair.
    fn checksums_query(&self, history: &str) -> (String, bool) {
        (
            format!(
                "SELECT revision, checksum FROM {history} \
                 WHERE direction IN ('upgrade', 'stamp', 'accept') AND checksum IS NOT NULL ORDER BY id"
            ),
            false,
        )
    }

    /// The placeholder of the `n`th (1-based) bound parameter.
    fn placeholder(&self, _n: usize) -> String {
        "?".to_string()
    }

    /// Whether several statements with bound values may share one request (the
    /// version change and the history row of a step then go together), written by
    /// [`Backend::joined_request`].
    fn joins_bound_statements(&self) -> bool {
        false
    }

    /// The request that runs bound INSERT, UPDATE and DELETE `statements` (one, or
    /// several where [`Backend::joins_bound_statements`]), placeholders numbered
    /// across them, and how it tells the rows they touched.
    fn joined_request(&self, statements: &[String]) -> JoinedRequest {
        JoinedRequest::Execute(statements.join(";\n"))
    }

    /// Whether the migration lock keeps every other writer out of the version table
    /// for the whole run. Where it does not (SQLite's file lock binds only migrators),
    /// each transaction takes the database's write lock and reads the version rows
    /// again before a migration.
    fn lock_excludes_writers(&self) -> bool {
        true
    }

    /// Whether a database error says the table does not exist.
    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool;

    /// Whether a database error says a lock could not be had in time.
    fn is_busy(&self, _e: &dyn sqlx::error::DatabaseError) -> bool {
        false
    }

    /// A hint for a database message whose fix is known, said with a failed migration.
    fn failure_hint(&self, _message: &str) -> Option<&'static str> {
        None
    }

    /// `expr` converted to a 64-bit integer (`text: false`) or to text.
    fn cast(&self, expr: &str, text: bool) -> String;

    /// An SQL string literal of `s`.
    fn literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// The statement that inserts or updates a progress row; `values` are the
    /// placeholders of the revision, the walk, the last key and the rows done.
    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String;
}

/// How [`Backend::joined_request`] sends statements.
pub(crate) enum JoinedRequest {
    /// Run as they are; the driver counts the rows touched.
    Execute(String),
    /// A query whose one value is the rows touched.
    Count(String),
}

/// The history table's DDL: `id` is the auto-numbered primary key's definition,
/// `timestamp` the type and default of the time it was written.
fn history_table(table: &str, id: &str, timestamp: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    id {id},\n    revision VARCHAR(32) NOT NULL,\n    direction VARCHAR(16) NOT NULL,\n    checksum VARCHAR(64),\n    applied_at {timestamp},\n    duration_ms BIGINT NOT NULL DEFAULT 0\n)"
    )
}

/// The progress table's DDL; `timestamp` as for [`history_table`].
fn progress_table(table: &str, timestamp: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    revision VARCHAR(32) NOT NULL,\n    walk VARCHAR(191) NOT NULL,\n    last_key TEXT,\n    rows_done BIGINT NOT NULL DEFAULT 0,\n    updated_at {timestamp},\n    PRIMARY KEY (revision, walk)\n)"
    )
}

/// The progress upsert of PostgreSQL and SQLite (`ON CONFLICT`); `values` as for
/// [`Backend::upsert_progress`].
fn upsert_on_conflict(table: &str, values: [&str; 4]) -> String {
    let [r, w, k, rows_done] = values;
    format!(
        "INSERT INTO {table} (revision, walk, last_key, rows_done) VALUES ({r}, {w}, {k}, {rows_done}) \
         ON CONFLICT (revision, walk) DO UPDATE SET last_key = excluded.last_key, rows_done = excluded.rows_done, updated_at = CURRENT_TIMESTAMP"
    )
}

/// The backend of `dialect`.
pub(crate) fn of(dialect: Dialect) -> &'static dyn Backend {
    match dialect {
        Dialect::Sqlite => &sqlite::Sqlite,
        Dialect::Postgres => &postgres::Postgres,
        Dialect::Mysql => &mysql::Mysql,
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

/// The result of [`Conn::execute_counted`]: on failure, the statements completed
/// before it and the error.
pub(crate) type Counted<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), (usize, sqlx::Error)>> + Send + 'a>,
>;

pub(crate) type BoxFut<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;
