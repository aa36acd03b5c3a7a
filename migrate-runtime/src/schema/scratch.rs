//! Scratch databases: empty databases on the same server as a URL, where the declared
//! schema (or a migration) is run to see what it creates, then dropped.

use crate::backend::Database;
use crate::error::{mask_url, MigrateError};
use migrate_core::Dialect;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The prefix of every scratch database and schema name.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) const PREFIX: &str = "migrate_scratch_";

#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::leftover::{drop_stale, process_tag, Leftovers};

#[cfg(feature = "postgres")]
const PG_DATABASES: Leftovers = Leftovers {
    prefixes: &[PREFIX],
    list: "SELECT datname::text FROM pg_database WHERE datname LIKE 'migrate\\_scratch\\_%'",
    drop: "DROP DATABASE IF EXISTS {}",
};

#[cfg(feature = "postgres")]
const PG_SCHEMAS: Leftovers = Leftovers {
    prefixes: &[PREFIX],
    list: "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'migrate\\_scratch\\_%'",
    drop: "DROP SCHEMA IF EXISTS {} CASCADE",
};

#[cfg(feature = "mysql")]
const MYSQL_DATABASES: Leftovers = Leftovers {
    prefixes: &[PREFIX],
    list: "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'migrate\\_scratch\\_%'",
    drop: "DROP DATABASE IF EXISTS {}",
};

/// How long dropping waits for the scratch's own connections to close before dropping
/// the database anyway, and for a lock on it.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// An empty database made by [`scratch`], dropped by [`Scratch::drop`].
///
/// Callers must call [`Scratch::drop`] on every path, errors included: a `Drop` impl
/// cannot wait for the server, so a scratch dropped without it only gets a best-effort
/// drop spawned on the current tokio runtime (which does not run if the runtime is
/// shutting down). Scratch databases left by processes that died are dropped by the
/// next [`scratch`] on the same server from the same host.
#[derive(Debug)]
pub struct Scratch {
    database: Database,
    url: String,
    dropper: ScratchDropper,
}

/// Drops a [`Scratch`] from elsewhere, e.g. a Ctrl-C handler, while the scratch itself is
/// in use. Cheap to clone; dropping twice is harmless.
#[derive(Debug, Clone)]
pub struct ScratchDropper {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    target: Target,
    /// The scratch's own pool, closed before it is dropped.
    database: Database,
    dropped: AtomicBool,
}

#[derive(Debug)]
enum Target {
    /// An SQLite in-memory database: gone with its connection.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Memory,
    /// A PostgreSQL database, dropped through a connection to the URL's database.
    #[cfg(feature = "postgres")]
    PgDatabase { admin: sqlx::PgPool, name: String },
    /// A PostgreSQL schema in the URL's database (the role may not create databases).
    #[cfg(feature = "postgres")]
    PgSchema { admin: sqlx::PgPool, name: String },
    /// A MySQL/MariaDB database.
    #[cfg(feature = "mysql")]
    Mysql {
        admin: sqlx::MySqlPool,
        name: String,
    },
}

/// Creates an empty scratch database on the server of `url`:
/// - PostgreSQL: `CREATE DATABASE migrate_scratch_<pid>_…`; when the role may not
///   create databases (SQLSTATE 42501), a schema of that name in the URL's database
///   instead, with the scratch's connections' `search_path` set to it (so
///   `current_schema()` is the scratch, and unqualified names land there);
/// - MySQL/MariaDB: `CREATE DATABASE migrate_scratch_<pid>_…`;
/// - SQLite: an in-memory database on one connection (its [`Scratch::url`] opens another,
///   empty, database: use [`Scratch::database`]).
///
/// Before creating one it drops the scratch databases (and schemas) that processes of
/// this host left behind when they died, by the process id in the name (on Linux, where
/// it can tell; a database in use is never dropped on PostgreSQL). The new scratch must
/// be empty (a PostgreSQL database copies `template1`), else it is dropped and refused.
///
/// # Errors
/// [`MigrateError::ScratchDenied`] when the role may create neither a database nor (on
/// PostgreSQL) a schema; [`MigrateError::ScratchNotEmpty`]; connection and database
/// errors as [`Database::connect`].
pub async fn scratch(url: &str) -> Result<Scratch, MigrateError> {
    match Dialect::from_url(url) {
        #[cfg(feature = "sqlite")]
        Some(Dialect::Sqlite) => memory().await,
        #[cfg(feature = "postgres")]
        Some(Dialect::Postgres) => postgres(url).await,
        #[cfg(feature = "mysql")]
        Some(Dialect::Mysql) => mysql(url).await,
        // Whatever `connect` says about this URL.
        _ => Err(match Database::connect(url).await {
            Err(e) => e,
            Ok(db) => {
                db.close().await;
                MigrateError::UnsupportedUrl {
                    url: mask_url(url),
                    expected: "a database URL",
                }
            }
        }),
    }
}

impl Scratch {
    fn new(database: Database, url: String, target: Target) -> Scratch {
        Scratch {
            dropper: ScratchDropper {
                inner: Arc::new(Inner {
                    target,
                    database: database.clone(),
                    dropped: AtomicBool::new(false),
                }),
            },
            database,
            url,
        }
    }

    /// The scratch database's pool.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The scratch database's URL, credentials included (not for display: see
    /// [`mask_url`](crate::mask_url)), for running migrations through it. On SQLite it
    /// is `sqlite::memory:`, which opens another database: use [`Scratch::database`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of the scratch database (or schema); `None` for SQLite's in-memory one.
    pub fn name(&self) -> Option<&str> {
        self.dropper.inner.target.name()
    }

    /// Whether the scratch is a PostgreSQL schema rather than a database (the role may
    /// not create databases).
    pub fn is_schema(&self) -> bool {
        #[cfg(feature = "postgres")]
        if let Target::PgSchema { .. } = self.dropper.inner.target {
            return true;
        }
        false
    }

    /// A handle that drops this scratch from elsewhere (a signal handler).
    pub fn dropper(&self) -> ScratchDropper {
        self.dropper.clone()
    }

    /// Checks that the scratch holds no table, view, enum or sequence.
    ///
    /// # Errors
    /// [`MigrateError::ScratchNotEmpty`] naming the first objects found;
    /// [`MigrateError::Database`] when the schema cannot be read.
    pub async fn ensure_empty(&self) -> Result<(), MigrateError> {
        ensure_empty(&self.database, self.name(), self.is_schema()).await
    }

    /// Drops the scratch database (or schema), closing its connections first. Call it on
    /// every path; it also works after the [`ScratchDropper`] dropped it.
    ///
    /// # Errors
    /// [`MigrateError::Database`] when the server refuses to drop it.
    pub async fn drop(self) -> Result<(), MigrateError> {
        self.dropper.drop_scratch().await
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.dropper.inner.dropped.load(Ordering::SeqCst) {
            return;
        }
        let name = self.name().unwrap_or("in-memory").to_string();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                tracing::warn!(scratch = %name, "scratch database not dropped by its owner; dropping it in the background");
                let dropper = self.dropper.clone();
                handle.spawn(async move {
                    let _ = dropper.drop_scratch().await;
                });
            }
            Err(_) => {
                tracing::warn!(scratch = %name, "scratch database not dropped by its owner and no runtime to drop it; the next scratch from this host drops it")
            }
        }
    }
}

impl ScratchDropper {
    /// Drops the scratch (once: later calls return at once). Its own connections are
    /// closed first, waiting at most two seconds for those in use, which PostgreSQL then
    /// ends (`DROP DATABASE ... WITH (FORCE)`).
    ///
    /// # Errors
    /// [`MigrateError::Database`] when the server refuses to drop it.
    pub async fn drop_scratch(&self) -> Result<(), MigrateError> {
        if self.inner.dropped.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let _ = tokio::time::timeout(CLOSE_WAIT, self.inner.database.close()).await;
        self.inner.target.drop_it().await
    }
}

impl Target {
    fn name(&self) -> Option<&str> {
        match self {
            Target::Memory => None,
            #[cfg(feature = "postgres")]
            Target::PgDatabase { name, .. } | Target::PgSchema { name, .. } => Some(name),
            #[cfg(feature = "mysql")]
            Target::Mysql { name, .. } => Some(name),
        }
    }

    async fn drop_it(&self) -> Result<(), MigrateError> {
        match self {
            Target::Memory => Ok(()),
            #[cfg(feature = "postgres")]
            Target::PgDatabase { admin, name } => {
                let r = pg_drop_database(admin, name).await.map_err(|e| {
                    MigrateError::db(format!("cannot drop the scratch database `{name}`"), e)
                });
                let _ = tokio::time::timeout(CLOSE_WAIT, admin.close()).await;
                r
            }
            #[cfg(feature = "postgres")]
            Target::PgSchema { admin, name } => {
                let sql = format!("SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE");
                let r = sqlx::raw_sql(&sql)
                    .execute(admin)
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        MigrateError::db(format!("cannot drop the scratch schema `{name}`"), e)
                    });
                let _ = tokio::time::timeout(CLOSE_WAIT, admin.close()).await;
                r
            }
            #[cfg(feature = "mysql")]
            Target::Mysql { admin, name } => {
                let sql =
                    format!("SET SESSION lock_wait_timeout = 10; DROP DATABASE IF EXISTS {name}");
                let r = sqlx::raw_sql(&sql)
                    .execute(admin)
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        MigrateError::db(format!("cannot drop the scratch database `{name}`"), e)
                    });
                let _ = tokio::time::timeout(CLOSE_WAIT, admin.close()).await;
                r
            }
        }
    }
}

async fn ensure_empty(
    db: &Database,
    name: Option<&str>,
    is_schema: bool,
) -> Result<(), MigrateError> {
    let schema = super::introspect(db, &[]).await?;
    if schema.is_empty() {
        return Ok(());
    }
    let objects = schema
        .tables
        .keys()
        .map(|t| format!("table {t}"))
        .chain(schema.views.keys().map(|v| format!("view {v}")))
        .chain(schema.enums.keys().map(|e| format!("type {e}")))
        .chain(schema.sequences.keys().map(|s| format!("sequence {s}")))
        .take(5)
        .collect();
    Err(MigrateError::ScratchNotEmpty {
        kind: if is_schema { "schema" } else { "database" },
        name: name.unwrap_or("in-memory").to_string(),
        objects,
    })
}

/// Checks a new scratch and drops it if it is not empty.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn checked(s: Scratch) -> Result<Scratch, MigrateError> {
    match s.ensure_empty().await {
        Ok(()) => Ok(s),
        Err(e) => {
            let _ = s.drop().await;
            Err(e)
        }
    }
}

/// Connects to a scratch just made at `url` and checks it; when either fails, drops it
/// and closes its admin pool.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn open(url: String, target: Target) -> Result<Scratch, MigrateError> {
    match Database::connect(&url).await {
        Ok(db) => checked(Scratch::new(db, url, target)).await,
        Err(e) => {
            let _ = target.drop_it().await;
            Err(e)
        }
    }
}

#[cfg(feature = "sqlite")]
async fn memory() -> Result<Scratch, MigrateError> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let url = "sqlite::memory:";
    let connect = |source| MigrateError::Connect {
        url: url.to_string(),
        source,
    };
    let opts = SqliteConnectOptions::from_str(url).map_err(connect)?;
    // The database lives as long as its one connection: never let the pool retire it.
    let pool = SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(opts)
        .await
        .map_err(connect)?;
    Ok(Scratch::new(
        Database::Sqlite(pool),
        url.to_string(),
        Target::Memory,
    ))
}

/// A name no other scratch has: `migrate_scratch_<pid>_<host>_<nonce>_<n>` (a
/// [`process_tag`], by which the next process drops it if this one dies).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn new_name() -> String {
    use std::sync::atomic::AtomicU32;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{}_{n}", process_tag())
}

/// `url` with its database replaced by `db`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    // The path starts at the first `/` after the user info (whose password may hold one).
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

/// `url` with a query parameter added.
#[cfg(feature = "postgres")]
fn with_parameter(url: &str, parameter: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{parameter}")
}

/// The SQLSTATE of a server error.
#[cfg(feature = "postgres")]
pub(crate) fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// `DROP DATABASE … WITH (FORCE)`, ending the sessions still on it (a plain drop before
/// PostgreSQL 13, which has no FORCE).
#[cfg(feature = "postgres")]
pub(crate) async fn pg_drop_database(admin: &sqlx::PgPool, name: &str) -> Result<(), sqlx::Error> {
    let plain = format!("DROP DATABASE IF EXISTS {name}");
    match sqlx::raw_sql(&format!("{plain} WITH (FORCE)"))
        .execute(admin)
        .await
    {
        Err(e) if sqlstate(&e).as_deref() == Some("42601") => {
            sqlx::raw_sql(&plain).execute(admin).await.map(|_| ())
        }
        r => r.map(|_| ()),
    }
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str) -> Result<Scratch, MigrateError> {
    let admin = crate::backend::postgres::connect(url, Database::DEFAULT_CONNECT_TIMEOUT).await?;
    // Stale scratch databases and schemas of dead processes of this host.
    drop_stale(&admin, &PG_DATABASES).await;
    drop_stale(&admin, &PG_SCHEMAS).await;

    let name = new_name();
    let created = sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await;
    match created {
        Ok(_) => {
            open(
                with_database(url, &name),
                Target::PgDatabase { admin, name },
            )
            .await
        }
        Err(e) if sqlstate(&e).as_deref() == Some("42501") => {
            let database = message(&e);
            if let Err(e) = sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
                .execute(&admin)
                .await
            {
                admin.close().await;
                if sqlstate(&e).as_deref() == Some("42501") {
                    return Err(MigrateError::ScratchDenied {
                        url: mask_url(url),
                        database,
                        schema: Some(message(&e)),
                    });
                }
                return Err(MigrateError::db(
                    format!("cannot create the scratch schema `{name}`"),
                    e,
                ));
            }
            let scratch_url = with_parameter(url, &format!("options=-c%20search_path%3D{name}"));
            open(scratch_url, Target::PgSchema { admin, name }).await
        }
        Err(e) => {
            admin.close().await;
            Err(MigrateError::db(
                format!("cannot create the scratch database `{name}`"),
                e,
            ))
        }
    }
}

#[cfg(feature = "mysql")]
async fn mysql(url: &str) -> Result<Scratch, MigrateError> {
    let admin = crate::backend::mysql::connect(url, Database::DEFAULT_CONNECT_TIMEOUT).await?;
    drop_stale(&admin, &MYSQL_DATABASES).await;
    let name = new_name();
    if let Err(e) = sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
    {
        admin.close().await;
        // ER_DBACCESS_DENIED_ERROR (1044), SQLSTATE 42000: no CREATE privilege.
        let denied = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42000") && d.message().contains("denied"));
        return Err(if denied {
            MigrateError::ScratchDenied {
                url: mask_url(url),
                database: message(&e),
                schema: None,
            }
        } else {
            MigrateError::db(format!("cannot create the scratch database `{name}`"), e)
        });
    }
    open(with_database(url, &name), Target::Mysql { admin, name }).await
}

#[cfg(all(test, any(feature = "postgres", feature = "mysql")))]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            with_database("postgres://u:p/w@h:5432/app?sslmode=disable", "s"),
            "postgres://u:p/w@h:5432/s?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h", "s"), "mysql://root@h/s");
        #[cfg(feature = "postgres")]
        assert_eq!(
            with_parameter("postgres://h/db", "a=b"),
            "postgres://h/db?a=b"
        );
    }

    #[test]
    fn stale_names() {
        let is_stale = |name: &str| crate::schema::leftover::is_stale(name, &[PREFIX]);
        let name = new_name();
        let host = process_tag().split('_').nth(1).unwrap_or_default();
        assert!(name.len() <= 63, "{name}");
        assert!(!is_stale(&name), "our own");
        // A pid that cannot be running (above the kernel's limit).
        let dead = format!("{PREFIX}4294967295_{host}_0_0");
        assert_eq!(is_stale(&dead), cfg!(target_os = "linux"));
        assert!(
            !is_stale(&format!("{PREFIX}4294967295_zzzzzzzz_0_0")),
            "another host's"
        );
        assert!(!is_stale("migrate_scratch_x"));
    }
}
