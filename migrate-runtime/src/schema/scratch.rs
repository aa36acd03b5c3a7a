//! Scratch databases: empty databases where the declared schema (or a migration) is run
//! to see what it creates, then dropped. They are made on the target database's server,
//! or on a dev database's server when one is named ([`ScratchOn`]); never inside the
//! target database itself, where a migration that names its schema (`public.t`) would
//! reach the live tables.
//!
//! Dropping a scratch database is left to the server: the drop is sent on a connection
//! of its own, and [`Scratch::drop`] returns once another connection sees the server
//! executing it (PostgreSQL's `pg_stat_activity`, MariaDB's process list) or the
//! database gone. A command does not wait for it: on PostgreSQL 15 every `DROP
//! DATABASE` ends with an immediate checkpoint of the whole cluster, and MariaDB
//! removes a database's tables one by one (after a scratch of 1,000 tables, measured on
//! a shared server: 1 to 15 seconds on PostgreSQL, depending on what else the cluster
//! wrote since its last checkpoint, and 1.5 to 12 on MariaDB). The server finishes the
//! drop after the process exits, as both do for a statement whose client left
//! (PostgreSQL only notices at its next read or write; MariaDB gives up a drop still
//! waiting for a lock, which is why a drop is left to it only once past its locks).
//! When the drop cannot be seen running within two seconds, it is awaited as before.
//! What is left anyway (a process killed before dropping, a drop the server gave up) is
//! dropped by the next [`scratch`] from the same host.
//!
//! On PostgreSQL a scratch's connections run with `synchronous_commit = off` (set in
//! [`Scratch::url`]): nothing in a scratch needs to survive a crash, so the commit of
//! each migration replayed into it does not wait for the WAL to reach disk. Its
//! database is made by `CREATE DATABASE` with the server's default strategy, which on
//! PostgreSQL 15 (`WAL_LOG`) copies the small `template1` through the WAL without a
//! checkpoint (`FILE_COPY` checkpoints twice).

use super::SchemaError;
use crate::driver::Database;
use crate::error::{mask_url, MigrateError};
use migrate_core::Dialect;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The prefix of every scratch database and schema name.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) const PREFIX: &str = "migrate_scratch_";

#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::leftover::{is_stale, process_tag};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::driver::{with_database, Refused, Server};

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
    /// Set once a drop has started (what `Drop for Scratch` looks at).
    dropped: AtomicBool,
    /// Held while dropping, so that a second caller waits until the first has the
    /// server dropping it rather than returning before the drop was sent (a process
    /// that exits then leaves it behind).
    dropping: tokio::sync::Mutex<bool>,
}

#[derive(Debug)]
enum Target {
    /// An SQLite in-memory database: gone with its connection.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Memory,
    /// A database on a server, dropped through `admin`, a connection to the URL's
    /// database.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    Database { admin: Database, name: String },
    /// A schema in the dev database (its role may not create databases).
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    Schema { admin: Database, name: String },
}

/// Where scratch databases are made for work on a target database: on the target's
/// server, or on the server of a dev database named for scratch work (Atlas's "dev
/// database"). A dev database, when given, is used for all of it.
///
/// A `&str` or `String` converts to [`ScratchOn::target`], so `scratch(url)` makes its
/// scratch on the server of the target database `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScratchOn {
    target: Option<String>,
    dev: Option<String>,
}

impl ScratchOn {
    /// New databases on the server of the target database `url`, never a schema inside
    /// it: when its role may not create databases, [`scratch`] refuses with
    /// [`SchemaError::ScratchNeedsDevUrl`].
    pub fn target(url: impl Into<String>) -> ScratchOn {
        ScratchOn {
            target: Some(url.into()),
            dev: None,
        }
    }

    /// The dev database `url`, separate from any target and named for scratch work: new
    /// databases on its server, or, on PostgreSQL when its role may not create
    /// databases, schemas inside it.
    pub fn dev(url: impl Into<String>) -> ScratchOn {
        ScratchOn {
            target: None,
            dev: Some(url.into()),
        }
    }

    /// The same target with the dev database `dev` for its scratch work (`None` keeps
    /// the current one). [`scratch`] refuses a dev URL that names the target database.
    pub fn with_dev(self, dev: Option<&str>) -> ScratchOn {
        ScratchOn {
            dev: dev.map(str::to_string).or(self.dev),
            ..self
        }
    }

    /// The URL of the server the scratch databases are made on: the dev database's when
    /// there is one, else the target's (credentials included: not for display).
    pub fn server_url(&self) -> &str {
        self.dev
            .as_deref()
            .or(self.target.as_deref())
            .unwrap_or_default()
    }

    /// The dev database's URL, if one is named.
    pub fn dev_url(&self) -> Option<&str> {
        self.dev.as_deref()
    }

    /// Refuses a dev URL of another kind than the target, or one that names the target
    /// database itself (host, port and database compared, `localhost` and the loopback
    /// addresses taken as one host).
    fn check(&self) -> Result<(), SchemaError> {
        let (Some(target), Some(dev)) = (&self.target, &self.dev) else {
            return Ok(());
        };
        let (t, d) = (Dialect::from_url(target), Dialect::from_url(dev));
        if let (Some(t), Some(d)) = (t, d) {
            if t != d {
                return Err(SchemaError::DevUrlKind {
                    url: mask_url(dev),
                    dev: d,
                    target: t,
                });
            }
        }
        match (location(target), location(dev)) {
            (Some(a), Some(b)) if a == b => Err(SchemaError::DevUrlIsTarget { url: mask_url(dev) }),
            _ => Ok(()),
        }
    }
}

impl From<&str> for ScratchOn {
    fn from(url: &str) -> ScratchOn {
        ScratchOn::target(url)
    }
}

impl From<&String> for ScratchOn {
    fn from(url: &String) -> ScratchOn {
        ScratchOn::target(url.as_str())
    }
}

impl From<String> for ScratchOn {
    fn from(url: String) -> ScratchOn {
        ScratchOn::target(url)
    }
}

/// Where a server URL's database lives (see the driver's `Backend::location`); `None` for SQLite
/// (whose scratch is in memory) and for a URL no driver compiled in can read.
fn location(url: &str) -> Option<(String, u16, String)> {
    crate::driver::of(Dialect::from_url(url)?).location(url)
}

/// Creates an empty scratch database where `on` says (a URL converts to
/// [`ScratchOn::target`]):
/// - PostgreSQL: `CREATE DATABASE migrate_scratch_<pid>_…` on the server. When the role
///   may not create databases (SQLSTATE 42501): with a dev database, a schema of that
///   name inside the dev database, with the scratch's connections' `search_path` set to
///   it (so `current_schema()` is the scratch, and unqualified names land there);
///   without one, refused: a schema inside the target database would put the
///   migrations next to its live tables;
/// - MySQL/MariaDB: `CREATE DATABASE migrate_scratch_<pid>_…` on the server; there is
///   no schema inside a database to fall back to, so a user without `CREATE` on those
///   names is refused (`GRANT ALL ON `migrate\_scratch\_%`.*` is enough);
/// - SQLite: an in-memory database on one connection (its [`Scratch::url`] opens another,
///   empty, database: use [`Scratch::database`]).
///
/// Before creating one it drops the scratch databases (and schemas) that processes of
/// this host left behind when they died, by the process id in the name (on Linux, where
/// it can tell; a database in use is never dropped on PostgreSQL). The new scratch must
/// be empty (a PostgreSQL database copies `template1`), else it is dropped and refused.
///
/// # Errors
/// [`SchemaError::ScratchNeedsDevUrl`] when the target's role may not create databases
/// and no dev database is named; [`SchemaError::ScratchDenied`] when the dev database's
/// role may create neither a database nor (on PostgreSQL) a schema;
/// [`SchemaError::DevUrlIsTarget`] and [`SchemaError::DevUrlKind`] for a dev URL that
/// names the target database or another kind of database;
/// [`SchemaError::ScratchNotEmpty`]; connection and database errors as
/// [`Database::connect`], in [`SchemaError::Migrate`].
pub async fn scratch(on: impl Into<ScratchOn>) -> Result<Scratch, SchemaError> {
    let on = on.into();
    on.check()?;
    let url = on.server_url();
    match Dialect::from_url(url) {
        #[cfg(feature = "sqlite")]
        Some(Dialect::Sqlite) => memory().await,
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        Some(_) => on_server(&on).await,
        // Whatever `connect` says about this URL.
        #[allow(unreachable_patterns)]
        _ => Err(match Database::connect(url).await {
            Err(e) => e.into(),
            Ok(db) => {
                db.close().await;
                MigrateError::UnsupportedUrl {
                    url: mask_url(url),
                    expected: "a database URL",
                }
                .into()
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
                    dropping: tokio::sync::Mutex::new(false),
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
    /// [`mask_url`](crate::mask_url)), for running migrations through it. On PostgreSQL
    /// its `options` parameter sets `synchronous_commit = off` (and the `search_path`
    /// of a scratch schema). On SQLite it is `sqlite::memory:`, which opens another
    /// database: use [`Scratch::database`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of the scratch database (or schema); `None` for SQLite's in-memory one.
    pub fn name(&self) -> Option<&str> {
        self.dropper.inner.target.name()
    }

    /// Whether the scratch is a PostgreSQL schema inside a dev database rather than a
    /// database (the dev database's role may not create databases).
    pub fn is_schema(&self) -> bool {
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        if let Target::Schema { .. } = self.dropper.inner.target {
            return true;
        }
        false
    }

    /// A handle that drops this scratch from elsewhere (a signal handler).
    pub fn dropper(&self) -> ScratchDropper {
        self.dropper.clone()
    }

    /// Checks that the scratch holds no table, view, enum, sequence or other object.
    ///
    /// # Errors
    /// [`SchemaError::ScratchNotEmpty`] naming the first objects found;
    /// [`MigrateError::Database`] (as [`SchemaError::Migrate`]) when the schema cannot be
    /// read.
    pub async fn ensure_empty(&self) -> Result<(), SchemaError> {
        ensure_empty(&self.database, self.name(), self.is_schema()).await
    }

    /// Drops the scratch database (or schema), closing its connections first. Call it on
    /// every path; it also works after the [`ScratchDropper`] dropped it. A database
    /// may still be there when this returns: the drop is left to the server once seen
    /// running, and the server finishes it even after this process exits (PostgreSQL's
    /// ends with a checkpoint of the whole cluster). A schema is gone.
    ///
    /// # Errors
    /// [`MigrateError::Database`] (as [`SchemaError::Migrate`]) when the server refuses
    /// to drop it.
    pub async fn drop(self) -> Result<(), SchemaError> {
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
    /// Drops the scratch (once: a later call waits for the first to return, then
    /// returns). Its own connections are closed first, waiting at most two seconds for
    /// those in use, which PostgreSQL then ends (`DROP DATABASE ... WITH (FORCE)`). A
    /// database is left to the server to finish dropping once it is seen doing so, as
    /// [`Scratch::drop`] says.
    ///
    /// # Errors
    /// [`MigrateError::Database`] (as [`SchemaError::Migrate`]) when the server refuses
    /// to drop it.
    pub async fn drop_scratch(&self) -> Result<(), SchemaError> {
        let mut done = self.inner.dropping.lock().await;
        self.inner.dropped.store(true, Ordering::SeqCst);
        if *done {
            return Ok(());
        }
        *done = true;
        let _ = tokio::time::timeout(CLOSE_WAIT, self.inner.database.close()).await;
        self.inner.target.drop_it().await
    }
}

impl Target {
    fn name(&self) -> Option<&str> {
        match self {
            Target::Memory => None,
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Target::Database { name, .. } | Target::Schema { name, .. } => Some(name),
        }
    }

    async fn drop_it(&self) -> Result<(), SchemaError> {
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        if let Target::Database { admin, name } | Target::Schema { admin, name } = self {
            let kind = if matches!(self, Target::Schema { .. }) {
                "schema"
            } else {
                "database"
            };
            let dropped = match admin.server() {
                Some(server) if kind == "schema" => server.drop_schema(name).await,
                Some(server) => server.drop_database_unawaited(name).await,
                None => Ok(()),
            };
            let _ = tokio::time::timeout(CLOSE_WAIT, admin.close()).await;
            return dropped.map_err(|e| {
                SchemaError::db(format!("cannot drop the scratch {kind} `{name}`"), e)
            });
        }
        Ok(())
    }
}
async fn ensure_empty(
    db: &Database,
    name: Option<&str>,
    is_schema: bool,
) -> Result<(), SchemaError> {
    let mut schema = super::introspect(db, &[]).await?;
    // Extensions installed in the template come with every database made from it, the
    // live one included: they are no leftover.
    schema.objects.retain(|_, o| o.kind != "extension");
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
        .chain(
            schema
                .objects
                .values()
                .map(|o| format!("{} {}", o.kind, o.name)),
        )
        .take(5)
        .collect();
    Err(SchemaError::ScratchNotEmpty {
        kind: if is_schema { "schema" } else { "database" },
        name: name.unwrap_or("in-memory").to_string(),
        objects,
    })
}

/// Checks a new scratch and drops it if it is not empty.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn checked(s: Scratch) -> Result<Scratch, SchemaError> {
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
async fn open(url: String, target: Target) -> Result<Scratch, SchemaError> {
    match Database::connect(&url).await {
        Ok(db) => checked(Scratch::new(db, url, target)).await,
        Err(e) => {
            let _ = target.drop_it().await;
            Err(e.into())
        }
    }
}

#[cfg(feature = "sqlite")]
async fn memory() -> Result<Scratch, SchemaError> {
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
        Database::from(pool),
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

/// Drops, best effort, the scratch databases and schemas that processes of this host
/// left when they died (a database in use is refused by the server and stays), without
/// waiting for the server to finish: one whose drop its process left to the server is
/// still listed until then, and a second drop of it waits for the first.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn drop_stale(server: &dyn Server) {
    for name in server.database_names(PREFIX).await {
        if is_stale(&name, &[PREFIX]) {
            let _ = server.drop_database_unawaited(&name).await;
        }
    }
    for name in server.schema_names(PREFIX).await {
        if is_stale(&name, &[PREFIX]) {
            let _ = server.drop_schema(&name).await;
        }
    }
}

/// A scratch database on the server of `on`: a database of its own, or, where the
/// server has schemas and its role may not create databases, a schema inside the dev
/// database.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn on_server(on: &ScratchOn) -> Result<Scratch, SchemaError> {
    let url = on.server_url();
    let admin = Database::connect(url).await?;
    let Some(server) = admin.server() else {
        admin.close().await;
        return Err(MigrateError::ServerOnly {
            what: "a scratch database",
        }
        .into());
    };
    drop_stale(server).await;
    let name = new_name();
    let denied = match server.create_database(&name).await {
        Ok(()) => {
            let scratch_url = server.scratch_url(&with_database(url, &name), None);
            return open(scratch_url, Target::Database { admin, name }).await;
        }
        Err(Refused::Denied(e)) => crate::driver::server_message(&e),
        Err(Refused::Failed(e)) => {
            admin.close().await;
            return Err(SchemaError::db(
                format!("cannot create the scratch database `{name}`"),
                e,
            ));
        }
    };
    let has_schemas = server.has_schemas();
    // Only a database named for scratch work may hold a scratch schema: in the target
    // database, a migration naming `public.` would reach the live tables.
    let Some(dev) = on.dev_url() else {
        let fix = server.grant_hint(false);
        admin.close().await;
        return Err(SchemaError::ScratchNeedsDevUrl {
            url: mask_url(url),
            message: denied,
            fix,
        });
    };
    if !has_schemas {
        let fix = server.grant_hint(true);
        admin.close().await;
        return Err(SchemaError::ScratchDenied {
            url: mask_url(dev),
            database: denied,
            schema: None,
            fix,
        });
    }
    in_dev_schema(on, dev, admin, name, denied).await
}

/// A scratch schema inside the dev database `dev`, whose role may not create databases.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn in_dev_schema(
    on: &ScratchOn,
    dev: &str,
    admin: Database,
    name: String,
    denied: String,
) -> Result<Scratch, SchemaError> {
    let Some(server) = admin.server() else {
        return Err(MigrateError::ServerOnly {
            what: "a scratch schema",
        }
        .into());
    };
    let hint = server.grant_hint(true);
    let scratch_url = server.scratch_url(dev, Some(&name));
    if let Err(refused) = server.create_schema(&name).await {
        admin.close().await;
        return Err(match refused {
            Refused::Denied(e) => SchemaError::ScratchDenied {
                url: mask_url(dev),
                database: denied,
                schema: Some(crate::driver::server_message(&e)),
                fix: hint,
            },
            Refused::Failed(e) => {
                SchemaError::db(format!("cannot create the scratch schema `{name}`"), e)
            }
        });
    }
    let target = Target::Schema { admin, name };
    // A dev URL spelt differently from the target's may still reach the target
    // database (another host name, a proxy): then the target sees the new schema.
    if let Some(t) = on.target.as_deref() {
        if sees_schema(t, target.name().unwrap_or_default()).await {
            let _ = target.drop_it().await;
            return Err(SchemaError::DevUrlIsTarget { url: mask_url(dev) });
        }
    }
    open(scratch_url, target).await
}

/// Whether the database at `url` has a schema `name` (a target that cannot be reached
/// within a few seconds is taken as another database: the URLs already differ).
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn sees_schema(url: &str, name: &str) -> bool {
    let Ok(db) = Database::connect_with_timeout(url, PROBE_TIMEOUT).await else {
        return false;
    };
    let seen = match db.server() {
        Some(server) => server.schema_names(name).await.iter().any(|n| n == name),
        None => false,
    };
    db.close().await;
    seen
}

/// How long the check that a dev database is not the target waits for the target.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

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
    }

    /// A scratch's URL turns off waiting for the WAL at commit, and a scratch schema's
    /// sets the search path of its connections, in one `options` parameter.
    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn a_scratch_url_sets_its_session() {
        let pool = sqlx::PgPool::connect_lazy("postgres://h/db").expect("a lazy pool");
        let server: &dyn Server = &pool;
        assert_eq!(
            server.scratch_url("postgres://h/db", Some("s")),
            "postgres://h/db?options=-c%20search_path%3Ds%20-c%20synchronous_commit%3Doff"
        );
        assert_eq!(
            server.scratch_url("postgres://h/db?sslmode=disable", None),
            "postgres://h/db?sslmode=disable&options=-c%20synchronous_commit%3Doff"
        );
    }

    #[cfg(all(feature = "postgres", feature = "mysql"))]
    #[test]
    fn a_dev_url_must_be_another_database_of_the_same_kind() {
        let check = |target: &str, dev: &str| ScratchOn::target(target).with_dev(Some(dev)).check();
        let same = |target: &str, dev: &str| {
            matches!(check(target, dev), Err(SchemaError::DevUrlIsTarget { .. }))
        };
        // One database, spelt differently: loopback names, default port, parameters.
        assert!(same(
            "postgres://app:pw@127.0.0.1/app",
            "postgres://dev@localhost:5432/app?sslmode=disable"
        ));
        assert!(same(
            "postgres://app@[::1]:5433/app",
            "postgres://app@localhost:5433/app"
        ));
        // Without a database, PostgreSQL takes the user's name.
        assert!(same(
            "postgres://app@db.internal/app",
            "postgres://app@DB.internal"
        ));
        assert!(same(
            "mysql://root@127.0.0.1/app",
            "mysql://u:p@localhost:3306/app"
        ));
        // Another database, port or host.
        assert!(check("postgres://app@db/app", "postgres://app@db/app_dev").is_ok());
        assert!(check("postgres://app@db/app", "postgres://app@db:5433/app").is_ok());
        assert!(check("postgres://app@db/app", "postgres://app@dev-db/app").is_ok());
        assert!(check("mysql://root@db/app", "mysql://root@db").is_ok());
        // Another kind of database, with the password masked.
        match check("postgres://app@db/app", "mysql://root:hunter2@db/dev") {
            Err(e @ SchemaError::DevUrlKind { .. }) => {
                let m = e.to_string();
                assert!(
                    m.contains("is a mysql database and the target is postgres"),
                    "{m}"
                );
                assert!(!m.contains("hunter2"), "{m}");
            }
            other => panic!("expected DevUrlKind, got {other:?}"),
        }
        // A dev database alone, or a target alone, has nothing to compare.
        assert!(ScratchOn::dev("postgres://db/app").check().is_ok());
        assert!(ScratchOn::from("postgres://db/app").check().is_ok());
        assert_eq!(
            ScratchOn::from("postgres://db/app")
                .with_dev(Some("postgres://db/dev"))
                .with_dev(None)
                .server_url(),
            "postgres://db/dev"
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
