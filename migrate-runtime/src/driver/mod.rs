//! The supported databases, each a driver with one home: `postgres/`, `mysql/` and
//! `sqlite/` each hold everything that database does (connecting, its lock, its
//! connection, the runner's bookkeeping SQL as a [`Backend`], creating and dropping
//! databases, reading its schema). The runner, the schema tools and `testing` are
//! written once against the traits here: [`Pool`] (an open pool of one database),
//! [`Connection`] (one connection of it) and [`Backend`]. [`backend::of`] is the one
//! place a [`Dialect`] is matched to its database, so a new database or a new
//! capability is a compile error everywhere it must be answered.

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("migrate-runtime needs at least one of the features `sqlite`, `postgres`, `mysql`");

pub(crate) mod backend;
mod conn;
mod connect;
// Always compiled: their DDL is needed to write offline SQL for any database; the
// driver-specific parts inside are behind the features.
pub(crate) mod mysql;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod parallel;
pub(crate) mod postgres;
pub(crate) mod sqlite;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod sqlx_conn;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod tls;

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use backend::lock_key;
pub(crate) use backend::{of, Backend, JoinedRequest};
#[cfg(feature = "sqlite")]
pub(crate) use conn::nul_byte_error;
pub(crate) use conn::{Arg, Conn, Connection, Held, HeldLock, Lost, Rows};
pub use connect::ConnectOptions;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use connect::{connect_within, open_pool};
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use parallel::{on_one_or_two, Share};

use crate::error::{mask_url, MigrateError};
use migrate_core::Dialect;
use migrate_schema::Schema;
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

/// A boxed `Send` future. The traits here return them: written as `async fn`, the
/// compiler cannot prove the executor bounds hold for every lifetime, and callers'
/// futures would not be `Send` (so not spawnable).
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A boxed future of a database request.
pub(crate) type BoxFut<'a, T> = BoxFuture<'a, Result<T, sqlx::Error>>;

/// The result of [`Connection::execute_counted`]: on failure, the statements completed
/// before it and the error.
pub(crate) type Counted<'a> = BoxFuture<'a, Result<(), (usize, sqlx::Error)>>;

/// An open pool of one database: what each driver implements for its sqlx pool type.
pub(crate) trait Pool: Send + Sync + std::fmt::Debug + 'static {
    /// The runner's facts and SQL for this database.
    fn backend(&self) -> &'static dyn Backend;

    /// Takes a connection from the pool.
    fn acquire(&self) -> BoxFuture<'_, Result<Conn, MigrateError>>;

    /// Takes the migration lock named `key` on a connection of its own (so that the
    /// work connection's transactions never release it), waiting up to `timeout`.
    /// `None` where no lock is needed: a database in this process's memory.
    fn lock<'a>(
        &'a self,
        key: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn HeldLock>>, MigrateError>>;

    /// Reads the schema of the database (see [`crate::schema::introspect`]).
    fn introspect(&self) -> BoxFuture<'_, Result<Schema, MigrateError>>;

    /// Closes the pool.
    fn close(&self) -> BoxFuture<'_, ()>;

    /// The sqlx pool itself, for the typed accessors of [`Db`] and [`Database`].
    fn as_any(&self) -> &dyn Any;

    /// The server side that makes and drops whole databases; `None` for SQLite, whose
    /// databases are files.
    fn server(&self) -> Option<&dyn Server> {
        None
    }
}

/// Why a server did not create a database or schema.
#[derive(Debug)]
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) enum Refused {
    /// The role lacks the privilege (the server's error says so in its words).
    Denied(sqlx::Error),
    /// Any other failure.
    Failed(sqlx::Error),
}

/// What a database server does for the tools that make databases of their own: scratch
/// databases, the test fixture's templates and copies, test suites' databases. Names
/// are plain identifiers the tools make up (never user input).
// Schemas and grant hints serve scratch databases alone (the `schema` feature).
#[cfg_attr(
    not(all(feature = "schema", any(feature = "postgres", feature = "mysql"))),
    allow(dead_code)
)]
pub(crate) trait Server: Send + Sync {
    /// Creates the empty database `name`.
    fn create_database<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), Refused>>;

    /// Drops the database `name` if it exists, ending the sessions still on it where
    /// the server can.
    fn drop_database<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>>;

    /// [`Server::drop_database`] without waiting for the server to finish: the drop is
    /// sent on a connection of its own and this returns once another connection sees
    /// the server executing it (or the database gone). The server then completes it
    /// whether or not this process is still there; a failure it meets later is only
    /// logged, and leaves a database the next scratch of this host drops. When the
    /// server cannot be seen executing it within [`SEE_RUNNING_WITHIN`], this waits for
    /// the drop like [`Server::drop_database`].
    fn drop_database_unawaited<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        self.drop_database(name)
    }

    /// The databases whose names start with `prefix` (none when the server cannot say).
    fn database_names<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<String>>;

    /// Creates the empty schema `name` in the connected database, where the server has
    /// schemas inside databases (see [`Server::has_schemas`]).
    fn create_schema<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), Refused>> {
        let _ = name;
        Box::pin(std::future::ready(Err(Refused::Failed(
            sqlx::Error::Protocol("this server has no schemas inside a database".into()),
        ))))
    }

    /// Drops the schema `name` and all it holds, if it exists.
    fn drop_schema<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        let _ = name;
        Box::pin(std::future::ready(Ok(())))
    }

    /// The schemas of the connected database whose names start with `prefix`.
    fn schema_names<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<String>> {
        let _ = prefix;
        Box::pin(std::future::ready(Vec::new()))
    }

    /// Whether a database holds schemas, each a namespace of its own (PostgreSQL).
    fn has_schemas(&self) -> bool {
        false
    }

    /// The URL of a scratch database at `url` (the scratch database's own, or the dev
    /// database's with `schema` the scratch schema inside it): its connections' default
    /// schema set to `schema`, and whatever makes throwaway work cheaper on this server.
    fn scratch_url(&self, url: &str, schema: Option<&str>) -> String {
        let _ = schema;
        url.to_string()
    }

    /// How to let a role make scratch databases (`dev`: on a dev database's server).
    fn grant_hint(&self, dev: bool) -> &'static str;
}

/// How long [`Server::drop_database_unawaited`] looks for the server executing the drop
/// before waiting for it instead.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) const SEE_RUNNING_WITHIN: Duration = Duration::from_secs(2);

/// What a look from another connection tells of a request sent on a connection of its
/// own.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) enum Seen {
    /// The server is executing it, or its effect is already there.
    Running,
    /// Not yet executing (the request may still be on its way).
    NotYet,
    /// The server does not show it (its activity reporting is off, or hidden from this
    /// role): only its result tells.
    CannotTell,
}

/// Runs `request` (a request on a connection of its own, taken out of any pool) in the
/// background and returns once `look` sees the server executing it: from then on the
/// server finishes it without its client, even if this process exits (a server only
/// notices a client that left when it next reads from or writes to it). `request`'s
/// result when it ends first, or when `look` cannot tell within [`SEE_RUNNING_WITHIN`];
/// after returning early, a failure is only logged, as `what`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn return_once_running<'a, L>(
    what: String,
    request: BoxFuture<'static, Result<(), sqlx::Error>>,
    mut look: L,
) -> Result<(), sqlx::Error>
where
    L: FnMut() -> BoxFuture<'a, Seen>,
{
    const EVERY: Duration = Duration::from_millis(5);
    let task = tokio::spawn(request);
    let deadline = tokio::time::Instant::now() + SEE_RUNNING_WITHIN;
    while !task.is_finished() {
        match look().await {
            Seen::Running => {
                // Heard only if this process lives until the server answers.
                tokio::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        tracing::warn!(error = %e, "{what} failed after being left to the server");
                    }
                });
                return Ok(());
            }
            Seen::CannotTell => break,
            Seen::NotYet if tokio::time::Instant::now() >= deadline => break,
            Seen::NotYet => tokio::time::sleep(EVERY).await,
        }
    }
    task.await
        .unwrap_or_else(|e| Err(sqlx::Error::Protocol(format!("{what} did not finish: {e}"))))
}

/// The message of a server error, without the driver's decoration.
#[cfg(all(feature = "schema", any(feature = "postgres", feature = "mysql")))]
pub(crate) fn server_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// `s` with the characters `LIKE` reads as wildcards (and the escape) escaped.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('_', "\\_")
        .replace('%', "\\%")
}

/// `url` with its database replaced by `db` (the user info may hold a `/` in its
/// password; the path starts after it).
pub(crate) fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_start = base[scheme_end..]
        .rfind('@')
        .map_or(scheme_end, |i| scheme_end + i + 1);
    let path_start = base[host_start..]
        .find('/')
        .map_or(base.len(), |i| host_start + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A borrowed pool of any supported database: what the [`Migrator`](crate::Migrator)
/// methods take. `&SqlitePool`, `&PgPool`, `&MySqlPool` and `&Database` convert into it.
#[derive(Clone, Copy)]
pub struct Db<'a> {
    pool: &'a dyn Pool,
}

impl std::fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pool.fmt(f)
    }
}

impl<'a> Db<'a> {
    /// The SQLite pool, when this is an SQLite database.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&self) -> Option<&'a sqlx::SqlitePool> {
        self.pool.as_any().downcast_ref()
    }

    /// The PostgreSQL pool, when this is a PostgreSQL database.
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&self) -> Option<&'a sqlx::PgPool> {
        self.pool.as_any().downcast_ref()
    }

    /// The MySQL/MariaDB pool, when this is a MySQL or MariaDB database.
    #[cfg(feature = "mysql")]
    pub fn as_mysql(&self) -> Option<&'a sqlx::MySqlPool> {
        self.pool.as_any().downcast_ref()
    }

    /// The SQL dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.pool.backend().dialect()
    }

    /// Takes a connection from the pool.
    pub(crate) async fn acquire(&self) -> Result<Conn, MigrateError> {
        self.pool.acquire().await
    }

    /// Reads the schema of the database.
    pub(crate) async fn introspect(&self) -> Result<Schema, MigrateError> {
        self.pool.introspect().await
    }

    /// Takes the migration lock (waiting up to `timeout`), then a work connection.
    /// End with [`Held::release`] on every path; a dropped `Held` (a cancelled run)
    /// still frees both, when its connections close.
    pub(crate) async fn hold(&self, key: &str, timeout: Duration) -> Result<Held, MigrateError> {
        let lock = self.pool.lock(key, timeout).await?;
        match self.acquire().await {
            Ok(conn) => Ok(Held::new(lock, conn)),
            Err(e) => {
                if let Some(lock) = lock {
                    let _ = lock.release().await;
                }
                Err(e)
            }
        }
    }
}

#[cfg(feature = "sqlite")]
impl<'a> From<&'a sqlx::SqlitePool> for Db<'a> {
    fn from(pool: &'a sqlx::SqlitePool) -> Self {
        Db { pool }
    }
}
#[cfg(feature = "postgres")]
impl<'a> From<&'a sqlx::PgPool> for Db<'a> {
    fn from(pool: &'a sqlx::PgPool) -> Self {
        Db { pool }
    }
}
#[cfg(feature = "mysql")]
impl<'a> From<&'a sqlx::MySqlPool> for Db<'a> {
    fn from(pool: &'a sqlx::MySqlPool) -> Self {
        Db { pool }
    }
}

/// An owned pool opened from a URL, for the CLI and URL-driven callers; cheap to clone
/// (the pool is shared). [`Database::as_postgres`] and its siblings give the sqlx pool
/// for queries of your own.
#[derive(Clone)]
pub struct Database {
    pool: Arc<dyn Pool>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pool.fmt(f)
    }
}

const EXPECTED: &str = concat!(
    "one of",
    " `sqlite://`",
    " `postgres://`",
    " `mysql://`",
    " (the ones compiled in through the `sqlite`, `postgres` and `mysql` features)"
);

impl Database {
    /// The SQLite pool, when this is an SQLite database.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&self) -> Option<&sqlx::SqlitePool> {
        self.db().as_sqlite()
    }

    /// The PostgreSQL pool, when this is a PostgreSQL database.
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&self) -> Option<&sqlx::PgPool> {
        self.db().as_postgres()
    }

    /// The MySQL/MariaDB pool, when this is a MySQL or MariaDB database.
    #[cfg(feature = "mysql")]
    pub fn as_mysql(&self) -> Option<&sqlx::MySqlPool> {
        self.db().as_mysql()
    }

    /// The SQL dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.pool.backend().dialect()
    }

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
        let pool: Arc<dyn Pool> = match Dialect::from_url(url) {
            #[cfg(feature = "sqlite")]
            Some(Dialect::Sqlite) => {
                Arc::new(sqlite::connect(url, options.create_if_missing).await?)
            }
            #[cfg(feature = "postgres")]
            Some(Dialect::Postgres) => Arc::new(postgres::connect(url, options.timeout).await?),
            #[cfg(feature = "mysql")]
            Some(Dialect::Mysql) => Arc::new(mysql::connect(url, options.timeout).await?),
            // A scheme of no database, or of one this build leaves out.
            _ => {
                let _ = options;
                return Err(MigrateError::UnsupportedUrl {
                    url: mask_url(url),
                    expected: EXPECTED,
                });
            }
        };
        Ok(Database { pool })
    }

    /// Borrows the pool.
    pub fn db(&self) -> Db<'_> {
        Db { pool: &*self.pool }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The server side, for the tools that make databases of their own.
    pub(crate) fn server(&self) -> Option<&dyn Server> {
        self.pool.server()
    }

    fn server_or_err(&self, what: &'static str) -> Result<&dyn Server, MigrateError> {
        self.server().ok_or(MigrateError::ServerOnly { what })
    }

    /// Creates the empty database `name` on this database's server (PostgreSQL,
    /// MySQL/MariaDB), as test suites and tools that need a database of their own do.
    /// `name` must be a plain identifier.
    ///
    /// # Errors
    /// [`MigrateError::InvalidName`] for a name that is not a plain identifier;
    /// [`MigrateError::ServerOnly`] on SQLite; [`MigrateError::Database`] when the server
    /// refuses.
    pub async fn create_database(&self, name: &str) -> Result<(), MigrateError> {
        plain_name(name)?;
        match self
            .server_or_err("creating a database")?
            .create_database(name)
            .await
        {
            Ok(()) => Ok(()),
            Err(Refused::Failed(e) | Refused::Denied(e)) => Err(MigrateError::db(
                format!("cannot create the database `{name}`"),
                e,
            )),
        }
    }

    /// Drops the database `name` on this database's server if it exists, ending the
    /// sessions still on it where the server can (PostgreSQL 13 and later).
    ///
    /// # Errors
    /// As [`Database::create_database`].
    pub async fn drop_database(&self, name: &str) -> Result<(), MigrateError> {
        plain_name(name)?;
        self.server_or_err("dropping a database")?
            .drop_database(name)
            .await
            .map_err(|e| MigrateError::db(format!("cannot drop the database `{name}`"), e))
    }

    /// The databases on this database's server whose names start with `prefix` (none
    /// when the server cannot say).
    ///
    /// # Errors
    /// [`MigrateError::ServerOnly`] on SQLite.
    pub async fn database_names(&self, prefix: &str) -> Result<Vec<String>, MigrateError> {
        Ok(self
            .server_or_err("listing databases")?
            .database_names(prefix)
            .await)
    }

    /// Whether the database `name` exists on this database's server.
    ///
    /// # Errors
    /// [`MigrateError::ServerOnly`] on SQLite.
    pub async fn database_exists(&self, name: &str) -> Result<bool, MigrateError> {
        let names = self.database_names(name).await?;
        Ok(names.iter().any(|n| n == name))
    }

    /// What identifies this database's server for a cache of schema models: its
    /// version and the settings that shape what DDL creates (see each driver's query).
    /// Only reads.
    ///
    /// # Errors
    /// [`MigrateError::Database`] when the query fails.
    pub async fn server_fingerprint(&self) -> Result<String, MigrateError> {
        let mut conn = self.pool.acquire().await?;
        let query = conn.backend().fingerprint_query();
        let rows = conn
            .strings(query)
            .await
            .map_err(|e| MigrateError::db("cannot read the server's version", e))?;
        Ok(rows.join("\n"))
    }

    /// `url` naming the database `name` on the same server instead of its own.
    pub fn url_with_database(url: &str, name: &str) -> String {
        with_database(url, name)
    }
}

/// Refuses a database name that is not a plain identifier (it goes into SQL unquoted).
fn plain_name(name: &str) -> Result<(), MigrateError> {
    match migrate_core::sql::plain_identifier_problem(name) {
        None => Ok(()),
        Some(reason) => Err(MigrateError::InvalidName {
            name: name.to_string(),
            reason,
        }),
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for Database {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Database {
            pool: Arc::new(pool),
        }
    }
}
#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for Database {
    fn from(pool: sqlx::PgPool) -> Self {
        Database {
            pool: Arc::new(pool),
        }
    }
}
#[cfg(feature = "mysql")]
impl From<sqlx::MySqlPool> for Database {
    fn from(pool: sqlx::MySqlPool) -> Self {
        Database {
            pool: Arc::new(pool),
        }
    }
}

impl<'a> From<&'a Database> for Db<'a> {
    fn from(d: &'a Database) -> Self {
        d.db()
    }
}

/// Whether `s` is a plain number literal (`0`, `-1.5`, `2e10`): how SQLite and MariaDB
/// schema readers tell a quoted number default from text.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn is_numeric_text(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut digits = 0;
    let mut dot = false;
    let mut exp = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => digits += 1,
            '.' if !dot && !exp => dot = true,
            'e' | 'E' if digits > 0 && !exp => {
                exp = true;
                if matches!(chars.peek(), Some('-' | '+')) {
                    chars.next();
                }
            }
            _ => return false,
        }
    }
    digits > 0
}
