//! A database at head for every test, without migrating once per test (feature
//! `testing-fixture`).
//!
//! The first [`fresh`] call of a test process for a set of migrations and a server
//! migrates a *template* to the heads; every call (that one included) then hands out a
//! copy of the template, a database of its own, dropped with its guard. A suite of 500
//! tests over 100 migrations runs 100 migrations, not 50,000.
//!
//! - PostgreSQL: the template is a database `migrate_tpl_…`, migrated once, then closed
//!   to connections (`ALLOW_CONNECTIONS false`, so nothing keeps PostgreSQL from using it
//!   as a template); each test gets `CREATE DATABASE migrate_fresh_… TEMPLATE
//!   migrate_tpl_…` (retried while SQLSTATE 55006 says another session is still on the
//!   template). The role needs `CREATEDB`.
//! - MySQL/MariaDB, which cannot copy a database: the template's `SHOW CREATE` statements
//!   (tables in foreign-key order, then routines, views and triggers) are read once, and
//!   each copy replays them with foreign-key checks off, copying every row the
//!   migrations left (the version and history tables, seed data) before the triggers
//!   exist. Events, sequences, and a version table in another database
//!   ([`Migrator::version_table_schema`]) are refused rather than left out.
//! - SQLite: the template is a file in the system's temporary folder (`TMPDIR`), and each
//!   copy is a copy of that file in a folder of its own; the URL only picks SQLite.
//!
//! Drop each database with [`FreshDatabase::drop`], which waits until it is gone; a guard
//! dropped without it (a test that panicked) has its database dropped in the background
//! by the fixture's own thread. When the process ends normally (`cargo test`'s harness
//! exits without dropping statics), a hook registered with the C runtime's `atexit`
//! drops what is left of this process's: the templates, the copy made ahead of time,
//! copies still being dropped and copies never dropped (a guard held in a static), for
//! at most 10 seconds. What a process that crashed (or was killed, or whose
//! server did not answer in time) leaves is dropped by the next process of the same
//! host that makes a template on the same server or folder, by the process id in the
//! names.
//!
//! ```no_run
//! # async fn t() -> Result<(), Box<dyn std::error::Error>> {
//! use migrate_runtime::{testing::fixture, Migrator};
//! let migrator = Migrator::load("migrations")?;
//! // Migrates a template on the server once per process; this test gets a copy.
//! let db = fixture::fresh(&migrator, "postgres://postgres@localhost/postgres").await?;
//! assert_eq!(migrator.current(db.database()).await?, migrator.heads());
//! db.drop().await?;
//! # Ok(()) }
//! ```

#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::driver::with_database;
use crate::error::{mask_url, MigrateError};
use crate::schema::leftover::process_tag;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::schema::leftover::{drop_stale, Leftovers};
use crate::{Database, EmbeddedMigrations, Migrator};
use migrate_core::{Checksum, Dialect};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

/// What can go wrong while making a fresh database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// Connecting to the server or to a copy failed, or the migrations are invalid.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// Migrating the template to the heads failed; the template was dropped, and the
    /// next call tries again.
    #[error("cannot migrate the test template `{template}` to the heads")]
    Template {
        /// The template database (or file).
        template: String,
        /// Why.
        #[source]
        source: MigrateError,
    },
    /// A statement of the fixture itself (creating, copying or dropping a database)
    /// failed.
    #[error("{context}")]
    Database {
        /// What the fixture was doing, naming the database.
        context: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A file of the SQLite fixture could not be written, copied or removed.
    #[error("{context} `{}`", path.display())]
    Io {
        /// What the fixture was doing.
        context: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The URL names a database, or the template holds objects, the fixture cannot copy.
    #[error("the test fixture cannot copy databases for {url}: {reason}")]
    Unsupported {
        /// The URL, password masked.
        url: String,
        /// What is missing, and what to do instead.
        reason: String,
    },
    /// The fixture's own thread could not be started.
    #[error("cannot start the test fixture's thread")]
    Runtime(#[source] std::io::Error),
    /// A task of the fixture's own thread panicked.
    #[error("a task of the test fixture failed")]
    Task(#[source] tokio::task::JoinError),
}

/// Migrations [`fresh`] can migrate a template with: a [`Migrator`] (with its options:
/// version table, schema, progress hook) or [`EmbeddedMigrations`].
pub trait TemplateMigrations {
    /// The migrator that migrates the template.
    ///
    /// # Errors
    /// Embedded migrations that do not form a valid graph (the macro prevents it).
    fn migrator(&self) -> Result<Migrator, MigrateError>;
}

impl TemplateMigrations for Migrator {
    fn migrator(&self) -> Result<Migrator, MigrateError> {
        Ok(self.clone())
    }
}

impl TemplateMigrations for EmbeddedMigrations {
    fn migrator(&self) -> Result<Migrator, MigrateError> {
        Migrator::new(self)
    }
}

/// A database of its own at the migrations' heads, made by [`fresh`]. Drop it with
/// [`FreshDatabase::drop`]; dropped without it, the database is dropped in the
/// background.
#[derive(Debug)]
pub struct FreshDatabase {
    database: Database,
    url: String,
    name: String,
    cleanup: Option<Cleanup>,
}

impl FreshDatabase {
    /// The database's pool.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The database's URL, credentials included (not for display: see
    /// [`mask_url`](crate::mask_url)), e.g. for a process under test. On SQLite,
    /// `sqlite:///tmp/…/db.sqlite`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name on the server, or the SQLite file's path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Closes the pool and drops the database (removes the SQLite file), waiting until
    /// it is gone.
    ///
    /// # Errors
    /// [`FixtureError::Database`] when the server refuses to drop it,
    /// [`FixtureError::Io`] when the file cannot be removed.
    pub async fn drop(mut self) -> Result<(), FixtureError> {
        let cleanup = self.cleanup.take();
        self.database.close().await;
        match cleanup {
            Some(c) => c
                .runtime
                .spawn(c.target.drop_it())
                .await
                .map_err(FixtureError::Task)?,
            None => Ok(()),
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Some(c) = self.cleanup.take() {
            // The fixture's thread outlives the test's runtime, so this runs even when
            // the test panicked.
            in_flight(c.runtime.spawn(c.target.drop_it()));
        }
    }
}

#[derive(Debug)]
struct Cleanup {
    runtime: Handle,
    target: Target,
}

/// What dropping a copy removes.
#[derive(Debug)]
enum Target {
    #[cfg(feature = "sqlite")]
    Sqlite { dir: PathBuf },
    #[cfg(feature = "postgres")]
    Postgres { admin: sqlx::PgPool, name: String },
    #[cfg(feature = "mysql")]
    Mysql {
        admin: sqlx::MySqlPool,
        name: String,
    },
}

impl Target {
    async fn drop_it(self) -> Result<(), FixtureError> {
        match self {
            #[cfg(feature = "sqlite")]
            Target::Sqlite { dir } => {
                tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(source) => Err(FixtureError::Io {
                        context: "cannot remove the test database folder",
                        path: dir,
                        source,
                    }),
                })
                .await
                .map_err(FixtureError::Task)?
            }
            #[cfg(feature = "postgres")]
            Target::Postgres { admin, name } => pg::drop_database(&admin, &name).await,
            #[cfg(feature = "mysql")]
            Target::Mysql { admin, name } => my::drop_database(&admin, &name).await,
        }
    }
}

/// A database at the heads of `migrations`, of its own, on the server `url` names (its
/// database is only where the fixture connects to create others), or an SQLite file in
/// the temporary folder for an `sqlite:` URL.
///
/// The first call of the process for these migrations (and options) and this URL
/// migrates a template; every call copies it. Concurrent calls wait for the one
/// template. A template that fails to migrate is dropped and tried again by the next
/// call.
///
/// # Errors
/// [`FixtureError::Migrate`] when the server cannot be reached;
/// [`FixtureError::Template`] when a migration fails; [`FixtureError::Database`] when
/// the role may not create databases; [`FixtureError::Unsupported`] for other URLs and
/// for what the MySQL copy cannot carry.
pub async fn fresh<M: TemplateMigrations + ?Sized>(
    migrations: &M,
    url: &str,
) -> Result<FreshDatabase, FixtureError> {
    let migrator = migrations.migrator()?;
    let kind = Kind::of(url)?;
    #[cfg(feature = "mysql")]
    if kind == Kind::Mysql && migrator.options().version_table_schema.is_some() {
        return Err(FixtureError::Unsupported {
            url: mask_url(url),
            reason: "the version table is in another database (`version_table_schema`), which a copy would not carry; use the fixture without it".to_string(),
        });
    }
    let key = template_key(&migrator, kind, url);
    let slot = {
        let mut templates = registry().lock().unwrap_or_else(PoisonError::into_inner);
        templates.entry(key).or_default().clone()
    };
    let runtime = background()?;
    register_exit_hook();
    let admin_url = url.to_string();
    let copy = runtime
        .spawn(async move {
            let template = slot
                .get_or_try_init(|| Template::create(migrator, kind, admin_url, key))
                .await?
                .clone();
            template.next_copy().await
        })
        .await
        .map_err(FixtureError::Task)??;
    // The pool belongs to the caller's runtime: connect here.
    match connect(kind, &copy.url).await {
        Ok(database) => Ok(FreshDatabase {
            database,
            url: copy.url,
            name: copy.name,
            cleanup: Some(Cleanup {
                runtime,
                target: copy.target,
            }),
        }),
        Err(e) => {
            in_flight(runtime.spawn(copy.target.drop_it()));
            Err(e.into())
        }
    }
}

/// A pool on a copy, like [`Database::connect`]'s but with its first connection made
/// now (and without a probe connection first: the server just answered).
async fn connect(kind: Kind, url: &str) -> Result<Database, MigrateError> {
    // SQLite connects through `Database::connect`, with errors of its own.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    let failed = |source| MigrateError::Connect {
        url: mask_url(url),
        source,
    };
    match kind {
        #[cfg(feature = "sqlite")]
        Kind::Sqlite => Database::connect(url).await,
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            use std::str::FromStr;
            let opts = sqlx::postgres::PgConnectOptions::from_str(url).map_err(failed)?;
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Database::DEFAULT_CONNECT_TIMEOUT)
                .connect_with(opts)
                .await
                .map(Database::from)
                .map_err(failed)
        }
        #[cfg(feature = "mysql")]
        Kind::Mysql => {
            use std::str::FromStr;
            let url = match url.strip_prefix("mariadb") {
                Some(rest) => format!("mysql{rest}"),
                None => url.to_string(),
            };
            let opts = sqlx::mysql::MySqlConnectOptions::from_str(&url).map_err(failed)?;
            sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Database::DEFAULT_CONNECT_TIMEOUT)
                .connect_with(opts)
                .await
                .map(Database::from)
                .map_err(failed)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
    #[cfg(feature = "mysql")]
    Mysql,
}

impl Kind {
    fn of(url: &str) -> Result<Kind, FixtureError> {
        match Dialect::from_url(url) {
            #[cfg(feature = "sqlite")]
            Some(Dialect::Sqlite) => Ok(Kind::Sqlite),
            #[cfg(feature = "postgres")]
            Some(Dialect::Postgres) => Ok(Kind::Postgres),
            #[cfg(feature = "mysql")]
            Some(Dialect::Mysql) => Ok(Kind::Mysql),
            _ => Err(FixtureError::Unsupported {
                url: mask_url(url),
                reason: "expected an `sqlite:`, `postgres://` or `mysql://` URL of a driver compiled in (the `sqlite`, `postgres` and `mysql` features)".to_string(),
            }),
        }
    }
}

type Slot = Arc<OnceCell<Arc<Template>>>;

/// The templates of this process, by [`template_key`].
fn registry() -> &'static Mutex<HashMap<Checksum, Slot>> {
    static TEMPLATES: OnceLock<Mutex<HashMap<Checksum, Slot>>> = OnceLock::new();
    TEMPLATES.get_or_init(Default::default)
}

/// The fixture's own runtime, on a thread of its own that lives as long as the process:
/// the templates' admin pools live there (each test has a runtime of its own, which
/// ends with the test), and guards dropped without [`FreshDatabase::drop`] are dropped
/// there.
fn background() -> Result<Handle, FixtureError> {
    let mut handle = BACKGROUND.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(h) = &*handle {
        return Ok(h.clone());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FixtureError::Runtime)?;
    let h = runtime.handle().clone();
    std::thread::Builder::new()
        .name("migrate-fixture".to_string())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(FixtureError::Runtime)?;
    *handle = Some(h.clone());
    Ok(h)
}

/// The handle of the fixture's runtime, once [`background`] started it. The runtime is
/// never dropped: its thread runs until the process ends, after the exit hook.
static BACKGROUND: Mutex<Option<Handle>> = Mutex::new(None);

/// Drops of copies whose guards were dropped without [`FreshDatabase::drop`], not yet
/// known to be finished: the exit hook waits for them.
static IN_FLIGHT: Mutex<Vec<tokio::task::JoinHandle<Result<(), FixtureError>>>> =
    Mutex::new(Vec::new());

/// Keeps `drop` (a copy's drop on the fixture's runtime) for the exit hook to wait for,
/// forgetting those already finished.
fn in_flight(drop: tokio::task::JoinHandle<Result<(), FixtureError>>) {
    let mut pending = IN_FLIGHT.lock().unwrap_or_else(PoisonError::into_inner);
    pending.retain(|h| !h.is_finished());
    pending.push(drop);
}

/// How long the exit hook may hold the end of the process. Its drops take about a
/// second (PostgreSQL's `DROP DATABASE` waits for a checkpoint), several on a loaded
/// machine, so only a server that stopped answering uses it all; what is left then is
/// the next process's to drop.
const AT_EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Registers [`clean_up_at_exit`] with the C runtime, once per process. `atexit`
/// handlers run when `main` returns and on [`std::process::exit`] (the test harness
/// uses both), not on a crash, an abort or a signal.
fn register_exit_hook() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        unsafe extern "C" {
            fn atexit(hook: extern "C" fn()) -> std::ffi::c_int;
        }
        // SAFETY: `atexit` is the C standard library's, and the hook is a plain
        // function that lives as long as the program and never unwinds into C.
        // A refusal (no room for another hook) leaves the clean-up to the next process.
        let _ = unsafe { atexit(clean_up_at_exit) };
    });
}

/// The exit hook: drops this process's templates and copies on the fixture's runtime,
/// waiting at most [`AT_EXIT_TIMEOUT`].
///
/// It runs on the thread that ends the process, after that thread's thread-locals are
/// gone and with the tests' runtimes dropped, so it touches neither: the work is a task
/// on the fixture's own runtime (whose thread still runs, and whose pools these are),
/// and this thread waits for a flag by sleeping, without a channel or a park. Locks are
/// only tried: a thread still holding one when the process ends keeps the hook out
/// rather than hanging the exit.
extern "C" fn clean_up_at_exit() {
    // Unwinding out of an `extern "C"` function aborts the process.
    let _ = std::panic::catch_unwind(|| {
        let Some(runtime) = BACKGROUND.try_lock().ok().and_then(|h| h.clone()) else {
            return;
        };
        let templates: Vec<Arc<Template>> = match registry().try_lock() {
            Ok(registry) => registry
                .values()
                .filter_map(|slot| slot.get().cloned())
                .collect(),
            Err(_) => return,
        };
        let pending = match IN_FLIGHT.try_lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => Vec::new(),
        };
        let done = Arc::new(AtomicBool::new(false));
        let finished = Arc::clone(&done);
        drop(runtime.spawn(async move {
            let _ = tokio::time::timeout(AT_EXIT_TIMEOUT, async {
                for copy in pending {
                    let _ = copy.await;
                }
                // Once per server (one listing finds the copies of every template
                // there), the servers at once: each drop waits for the server's disk,
                // PostgreSQL's for a checkpoint.
                let mut servers: HashMap<String, Vec<Arc<Template>>> = HashMap::new();
                for t in templates {
                    servers.entry(t.server().to_string()).or_default().push(t);
                }
                let mut all = tokio::task::JoinSet::new();
                for (_, on_server) in servers {
                    all.spawn(async move {
                        for t in &on_server {
                            t.finish_spare().await;
                        }
                        on_server[0].drop_own().await;
                        for t in &on_server {
                            t.close().await;
                        }
                    });
                }
                while all.join_next().await.is_some() {}
            })
            .await;
            finished.store(true, Ordering::Release);
        }));
        let deadline = Instant::now() + AT_EXIT_TIMEOUT + Duration::from_millis(500);
        while !done.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    });
}

/// Drops the databases `names` at once, each by `drop` on a task of its own, ignoring
/// failures (the next process drops what is left).
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn drop_each<D, F>(names: Vec<String>, drop: D)
where
    D: Fn(String) -> F,
    F: std::future::Future<Output = Result<(), FixtureError>> + Send + 'static,
{
    let mut drops = tokio::task::JoinSet::new();
    for name in names {
        drops.spawn(drop(name));
    }
    while drops.join_next().await.is_some() {}
}

/// Whether `name` (a template's or a copy's) is this process's.
fn is_own(name: &str) -> bool {
    [TEMPLATE, FRESH].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(process_tag()))
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// What identifies a template: the database kind, the server URL (not for SQLite,
/// whose files do not depend on it), the version and history tables, and every
/// migration's path and checksum.
fn template_key(m: &Migrator, kind: Kind, url: &str) -> Checksum {
    let o = m.options();
    let mut text = format!(
        "{kind:?}\n{}\n{}\n{}\n{}\n",
        match kind {
            #[cfg(feature = "sqlite")]
            Kind::Sqlite => "",
            #[allow(unreachable_patterns)]
            _ => url,
        },
        o.version_table,
        o.version_table_schema.as_deref().unwrap_or_default(),
        o.history_table.as_deref().unwrap_or_default(),
    );
    for s in &m.directory().scripts {
        text.push_str(&s.path);
        text.push('\0');
        text.push_str(&s.checksum.to_hex());
        text.push('\n');
    }
    Checksum::of(text.as_bytes())
}

/// A migrated template, living on the fixture's runtime.
#[derive(Debug)]
struct Template {
    /// Database name, or file path.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    name: String,
    source: Source,
    /// On a server, the copy the next test gets, made on the fixture's runtime while
    /// the current test runs: a test then waits only for what is left of it.
    spare: Mutex<Option<tokio::task::JoinHandle<Result<Made, FixtureError>>>>,
}

#[derive(Debug)]
enum Source {
    #[cfg(feature = "sqlite")]
    Sqlite { file: PathBuf, dir: PathBuf },
    #[cfg(feature = "postgres")]
    Postgres { admin: sqlx::PgPool, url: String },
    #[cfg(feature = "mysql")]
    Mysql {
        admin: sqlx::MySqlPool,
        url: String,
        plan: my::CopyPlan,
    },
}

impl Source {
    /// Whether copies live on a server (worth making ahead of time) rather than in a
    /// local file (made in about a millisecond).
    fn is_server(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Source::Sqlite { .. } => false,
            #[allow(unreachable_patterns)]
            _ => true,
        }
    }
}

type BoxFut<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, FixtureError>> + Send + 'a>>;

/// A copy, not yet connected to.
#[derive(Debug)]
struct Made {
    url: String,
    name: String,
    target: Target,
}

impl Template {
    async fn create(
        m: Migrator,
        kind: Kind,
        url: String,
        key: Checksum,
    ) -> Result<Arc<Template>, FixtureError> {
        let hash = key.to_hex();
        let suffix = &hash[..12];
        let (name, source) = match kind {
            #[cfg(feature = "sqlite")]
            Kind::Sqlite => lite::template(&m, suffix).await?,
            #[cfg(feature = "postgres")]
            Kind::Postgres => pg::template(&m, &url, suffix).await?,
            #[cfg(feature = "mysql")]
            Kind::Mysql => my::template(&m, &url, suffix).await?,
        };
        let _ = &url;
        Ok(Arc::new(Template {
            name,
            source,
            spare: Mutex::new(None),
        }))
    }

    /// A copy for a test: the spare made in the background when there is one (else one
    /// made now), and on a server the next spare started. Runs on the fixture's
    /// runtime. A spare left when the process ends is dropped by the next process's
    /// clean-up, as the names of a dead process are.
    async fn next_copy(self: Arc<Self>) -> Result<Made, FixtureError> {
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let made = match spare {
            Some(handle) => match handle.await {
                Ok(Ok(made)) => made,
                // A spare that failed (a server restart, say) is made again, and any
                // error is the new attempt's.
                Ok(Err(_)) | Err(_) => self.copy().await?,
            },
            None => self.copy().await?,
        };
        if self.source.is_server() {
            let next = Arc::clone(&self);
            let handle = tokio::spawn(async move { next.copy().await });
            *self.spare.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        }
        Ok(made)
    }

    /// The server (or folder) the template and its copies are on.
    fn server(&self) -> &str {
        match &self.source {
            #[cfg(feature = "sqlite")]
            Source::Sqlite { dir, .. } => dir.to_str().unwrap_or_default(),
            #[cfg(feature = "postgres")]
            Source::Postgres { url, .. } => url,
            #[cfg(feature = "mysql")]
            Source::Mysql { url, .. } => url,
        }
    }

    /// Waits for the copy being made ahead of time, if any, so that a listing of the
    /// server sees it.
    async fn finish_spare(&self) {
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = spare {
            let _ = handle.await;
        }
    }

    /// At the end of the process: drops every database (file) of this process's on the
    /// template's server (folder), templates of other migrations and copies never
    /// dropped included, at once. Best effort: what is left is the next process's to
    /// drop.
    async fn drop_own(&self) {
        match &self.source {
            #[cfg(feature = "sqlite")]
            Source::Sqlite { dir, .. } => lite::remove_where(dir, is_own),
            #[cfg(feature = "postgres")]
            Source::Postgres { admin, .. } => {
                let names = pg::own_databases(admin).await;
                drop_each(names, |name| {
                    let admin = admin.clone();
                    async move { pg::drop_database(&admin, &name).await }
                })
                .await;
            }
            #[cfg(feature = "mysql")]
            Source::Mysql { admin, .. } => {
                let names = my::own_databases(admin).await;
                drop_each(names, |name| {
                    let admin = admin.clone();
                    async move { my::drop_database(&admin, &name).await }
                })
                .await;
            }
        }
    }

    /// Closes the admin pool, so the server sees its sessions end rather than break.
    async fn close(&self) {
        match &self.source {
            #[cfg(feature = "sqlite")]
            Source::Sqlite { .. } => {}
            #[cfg(feature = "postgres")]
            Source::Postgres { admin, .. } => admin.close().await,
            #[cfg(feature = "mysql")]
            Source::Mysql { admin, .. } => admin.close().await,
        }
    }

    // Boxed as `Send` here, where the lifetimes are concrete: written as an `async fn`,
    // the compiler cannot prove sqlx's executor bounds for every lifetime, and the
    // future could not be spawned.
    fn copy(&self) -> BoxFut<'_, Made> {
        Box::pin(async move {
            match &self.source {
                #[cfg(feature = "sqlite")]
                Source::Sqlite { file, dir } => lite::copy(file, dir).await,
                #[cfg(feature = "postgres")]
                Source::Postgres { admin, url } => pg::copy(admin, url, &self.name).await,
                #[cfg(feature = "mysql")]
                Source::Mysql { admin, url, plan } => my::copy(admin, url, &self.name, plan).await,
            }
        })
    }
}

// ---- names ------------------------------------------------------------------------

/// Prefix of template names.
const TEMPLATE: &str = "migrate_tpl_";
/// Prefix of copies' names.
const FRESH: &str = "migrate_fresh_";

/// The template's name: `migrate_tpl_<pid>_<host>_<nonce>_<hash>`.
fn template_name(suffix: &str) -> String {
    format!("{TEMPLATE}{}_{suffix}", process_tag())
}

/// A new copy's name: `migrate_fresh_<pid>_<host>_<nonce>_<n>`.
fn fresh_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{FRESH}{}_{n}", process_tag())
}

/// The fixture's databases on a server (templates and copies), as the catalog query
/// `list` finds them and the statement `drop` drops one.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const fn leftovers(list: &'static str, drop: &'static str) -> Leftovers {
    Leftovers {
        prefixes: &[TEMPLATE, FRESH],
        list,
        drop,
    }
}

/// Whether `name` (a template's or a copy's) was left by a process of this host that
/// is gone.
#[cfg(any(feature = "sqlite", test))]
fn is_stale(name: &str) -> bool {
    crate::schema::leftover::is_stale(name, &[TEMPLATE, FRESH])
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn sql_error(context: String) -> impl FnOnce(sqlx::Error) -> FixtureError {
    move |source| FixtureError::Database { context, source }
}

/// Migrates the template through `url`, closing the pool after.
async fn migrate_template(m: &Migrator, url: &str, name: &str) -> Result<(), FixtureError> {
    let db = Database::connect(url).await?;
    let r = m.upgrade(&db, "heads").await;
    db.close().await;
    r.map(|_| ()).map_err(|source| FixtureError::Template {
        template: name.to_string(),
        source,
    })
}

/// Makes the template database `migrate_tpl_…` on a server and migrates it, after
/// dropping what dead processes left there (`leftovers`). `drop_database` drops one
/// database through the admin pool it is given; `privilege` names what the
/// role needs to create one; `finish` completes the migrated template and returns what
/// its copies need. On any failure the template is dropped. The callbacks take owned
/// names and return `'static` futures: a future borrowing for any lifetime could not be
/// proven `Send`, and the template is made on a spawned task.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[allow(clippy::too_many_arguments)]
async fn server_template<DB, T, D, F>(
    m: &Migrator,
    url: &str,
    suffix: &str,
    admin: &sqlx::Pool<DB>,
    leftovers: &Leftovers,
    drop_database: impl Fn(sqlx::Pool<DB>, String) -> D,
    privilege: &str,
    finish: impl FnOnce(String) -> F,
) -> Result<(String, T), FixtureError>
where
    D: std::future::Future<Output = Result<(), FixtureError>>,
    F: std::future::Future<Output = Result<T, FixtureError>>,
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    drop_stale(admin, leftovers).await;
    let name = template_name(suffix);
    drop_database(admin.clone(), name.clone()).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(admin)
        .await
        .map_err(sql_error(format!(
            "cannot create the test template `{name}`; the fixture needs {privilege}"
        )))?;
    let made = async {
        migrate_template(m, &with_database(url, &name), &name).await?;
        finish(name.clone()).await
    }
    .await;
    match made {
        Ok(t) => Ok((name, t)),
        Err(e) => {
            let _ = drop_database(admin.clone(), name.clone()).await;
            Err(e)
        }
    }
}

// ---- SQLite -----------------------------------------------------------------------

#[cfg(feature = "sqlite")]
mod lite {
    use super::*;
    use std::path::Path;

    fn io(context: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FixtureError {
        let path = path.to_path_buf();
        move |source| FixtureError::Io {
            context,
            path,
            source,
        }
    }

    fn url_of(file: &Path) -> String {
        format!("sqlite://{}", file.display())
    }

    /// Migrates `<tmp>/migrate-fixture/migrate_tpl_….db`, after removing what dead
    /// processes left in that folder.
    pub(super) async fn template(
        m: &Migrator,
        suffix: &str,
    ) -> Result<(String, Source), FixtureError> {
        let dir = std::env::temp_dir().join("migrate-fixture");
        std::fs::create_dir_all(&dir).map_err(io("cannot create the test fixture folder", &dir))?;
        remove_where(&dir, is_stale);
        let stem = template_name(suffix);
        let file = dir.join(format!("{stem}.db"));
        remove_with_siblings(&dir, &stem);
        let r = migrate_template(m, &url_of(&file), &file.display().to_string()).await;
        // The migrator's lock file, and a journal if any.
        let keep = file.clone();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p != keep && e.file_name().to_string_lossy().starts_with(&stem) {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        if let Err(e) = r {
            let _ = std::fs::remove_file(&file);
            return Err(e);
        }
        Ok((file.display().to_string(), Source::Sqlite { file, dir }))
    }

    /// Removes, best effort, the templates (with their lock and journal files) and the
    /// copies' folders in `dir` whose names `pick` selects.
    pub(super) fn remove_where(dir: &Path, pick: impl Fn(&str) -> bool) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if pick(name.split('.').next().unwrap_or_default()) {
                    let p = e.path();
                    let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
                }
            }
        }
    }

    fn remove_with_siblings(dir: &Path, stem: &str) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(stem) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Copies the template into `<dir>/migrate_fresh_…/db.sqlite`.
    pub(super) async fn copy(file: &Path, dir: &Path) -> Result<Made, FixtureError> {
        let name = fresh_name();
        let folder = dir.join(&name);
        let db = folder.join("db.sqlite");
        let (from, to, f) = (file.to_path_buf(), db.clone(), folder.clone());
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir(&f).map_err(io("cannot create the test database folder", &f))?;
            std::fs::copy(&from, &to)
                .map(|_| ())
                .map_err(io("cannot copy the test template to", &to))
        })
        .await
        .map_err(FixtureError::Task)??;
        Ok(Made {
            url: url_of(&db),
            name: db.display().to_string(),
            target: Target::Sqlite { dir: folder },
        })
    }
}

// ---- PostgreSQL -------------------------------------------------------------------

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use crate::driver::postgres::sqlstate;
    use crate::driver::Server;

    /// No process is left to hold a session on them: a plain drop.
    const LEFTOVERS: Leftovers = leftovers(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'migrate\\_tpl\\_%' OR datname LIKE 'migrate\\_fresh\\_%'",
        "DROP DATABASE IF EXISTS {}",
    );

    /// `DROP DATABASE … WITH (FORCE)` (plain before PostgreSQL 13), ending the sessions
    /// still on it.
    pub(super) async fn drop_database(
        admin: &sqlx::PgPool,
        name: &str,
    ) -> Result<(), FixtureError> {
        admin
            .drop_database(name)
            .await
            .map_err(sql_error(format!("cannot drop the test database `{name}`")))
    }

    /// This process's templates and copies on the server (none when it cannot say).
    pub(super) async fn own_databases(admin: &sqlx::PgPool) -> Vec<String> {
        let names: Vec<String> = sqlx::query_scalar(LEFTOVERS.list)
            .fetch_all(admin)
            .await
            .unwrap_or_default();
        names.into_iter().filter(|n| is_own(n)).collect()
    }

    pub(super) async fn template(
        m: &Migrator,
        url: &str,
        suffix: &str,
    ) -> Result<(String, Source), FixtureError> {
        let admin =
            crate::driver::postgres::connect(url, Database::DEFAULT_CONNECT_TIMEOUT).await?;
        let (name, ()) = server_template(
            m,
            url,
            suffix,
            &admin,
            &LEFTOVERS,
            async |admin, name| drop_database(&admin, &name).await,
            "a role that may create databases (CREATEDB)",
            // No session may be on a template while it is copied: keep everyone out
            // (autovacuum included).
            |name| {
                let admin = admin.clone();
                async move {
                    sqlx::raw_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
                        .execute(&admin)
                        .await
                        .map(|_| ())
                        .map_err(sql_error(format!(
                            "cannot close the test template `{name}` to connections"
                        )))
                }
            },
        )
        .await?;
        Ok((
            name,
            Source::Postgres {
                admin,
                url: url.to_string(),
            },
        ))
    }

    /// `CREATE DATABASE migrate_fresh_… TEMPLATE <template>`, retried for a while when
    /// a session is on the template (SQLSTATE 55006).
    pub(super) async fn copy(
        admin: &sqlx::PgPool,
        url: &str,
        template: &str,
    ) -> Result<Made, FixtureError> {
        let name = fresh_name();
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut pause = std::time::Duration::from_millis(10);
        let mut attempts = 0;
        loop {
            match sqlx::raw_sql(&sql).execute(admin).await {
                Ok(_) => break,
                Err(e) if sqlstate(&e).as_deref() == Some("55006") && attempts < 40 => {
                    attempts += 1;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(250));
                }
                Err(e) => {
                    return Err(sql_error(format!(
                        "cannot create the test database `{name}` from the template `{template}`"
                    ))(e))
                }
            }
        }
        Ok(Made {
            url: with_database(url, &name),
            target: Target::Postgres {
                admin: admin.clone(),
                name: name.clone(),
            },
            name,
        })
    }
}

// ---- MySQL / MariaDB --------------------------------------------------------------

#[cfg(feature = "mysql")]
mod my {
    use super::*;
    use sqlx::mysql::MySqlRow;
    use sqlx::Row;

    const LEFTOVERS: Leftovers = leftovers(
        "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'migrate\\_tpl\\_%' OR SCHEMA_NAME LIKE 'migrate\\_fresh\\_%'",
        "SET SESSION lock_wait_timeout = 10; DROP DATABASE IF EXISTS {}",
    );

    /// What a copy replays, read from the template once.
    #[derive(Debug, Default)]
    pub(super) struct CopyPlan {
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

    fn quote(name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    fn literal(s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
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

    pub(super) async fn drop_database(
        admin: &sqlx::MySqlPool,
        name: &str,
    ) -> Result<(), FixtureError> {
        sqlx::raw_sql(&format!(
            "SET SESSION lock_wait_timeout = 10; DROP DATABASE IF EXISTS {name}"
        ))
        .execute(admin)
        .await
        .map(|_| ())
        .map_err(sql_error(format!("cannot drop the test database `{name}`")))
    }

    /// This process's templates and copies on the server (none when it cannot say).
    pub(super) async fn own_databases(admin: &sqlx::MySqlPool) -> Vec<String> {
        let names: Vec<String> = sqlx::query_scalar(LEFTOVERS.list)
            .fetch_all(admin)
            .await
            .unwrap_or_default();
        names.into_iter().filter(|n| is_own(n)).collect()
    }

    pub(super) async fn template(
        m: &Migrator,
        url: &str,
        suffix: &str,
    ) -> Result<(String, Source), FixtureError> {
        // `connect` checks that the server answers (with its errors for timeouts); the
        // copies want more connections than its pool has.
        let probe = crate::driver::mysql::connect(url, Database::DEFAULT_CONNECT_TIMEOUT).await?;
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
            &LEFTOVERS,
            async |admin, name| drop_database(&admin, &name).await,
            "a user that may create databases",
            |name| {
                let (admin, url) = (admin.clone(), url.to_string());
                async move { read_plan(&admin, &url, &name).await }
            },
        )
        .await?;
        Ok((
            name,
            Source::Mysql {
                admin,
                url: url.to_string(),
                plan,
            },
        ))
    }

    fn read_error(tpl: &str, what: &str) -> impl FnOnce(sqlx::Error) -> FixtureError {
        sql_error(format!(
            "cannot read the {what} of the test template `{tpl}`"
        ))
    }

    /// `SHOW CREATE <kind> <tpl>.<name>`: the text of the row's `columns` (the statement,
    /// and for routines and triggers the `sql_mode` it was created under).
    async fn show_create<const N: usize>(
        admin: &sqlx::MySqlPool,
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

    async fn read_plan(
        admin: &sqlx::MySqlPool,
        url: &str,
        tpl: &str,
    ) -> Result<CopyPlan, FixtureError> {
        let read = |what: &str| read_error(tpl, what);
        let unsupported = |what: &str| {
            FixtureError::Unsupported {
            url: mask_url(url),
            reason: format!("the migrations create {what}, which the copy does not carry; test on a database migrated by each test instead"),
        }
        };
        let schema = literal(tpl);
        let mut plan = CopyPlan::default();
        let row = sqlx::raw_sql(&format!("SELECT CAST(DEFAULT_CHARACTER_SET_NAME AS CHAR), CAST(DEFAULT_COLLATION_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {schema}"))
            .fetch_one(admin)
            .await
            .map_err(read("character set"))?;
        plan.charset = text(&row, 0).map_err(read("character set"))?;
        plan.collation = text(&row, 1).map_err(read("collation"))?;

        let rows = sqlx::raw_sql(&format!("SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {schema} ORDER BY TABLE_NAME"))
            .fetch_all(admin)
            .await
            .map_err(read("tables"))?;
        let mut tables = Vec::new();
        let mut views = Vec::new();
        for r in &rows {
            let (name, kind) = (
                text(r, 0).map_err(read("tables"))?,
                text(r, 1).map_err(read("tables"))?,
            );
            match kind.as_str() {
                "BASE TABLE" => tables.push(name),
                "VIEW" | "SYSTEM VIEW" => views.push(name),
                other => return Err(unsupported(&format!("{} `{name}`", other.to_lowercase()))),
            }
        }
        let events = sqlx::raw_sql(&format!(
            "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {schema}"
        ))
        .fetch_one(admin)
        .await
        .map_err(read("events"))?;
        if events.try_get::<i64, _>(0).unwrap_or(0) > 0 {
            return Err(unsupported("events"));
        }

        // Tables, referenced ones first.
        let refs = sqlx::raw_sql(&format!("SELECT CAST(TABLE_NAME AS CHAR), CAST(REFERENCED_TABLE_NAME AS CHAR) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = {schema} AND UNIQUE_CONSTRAINT_SCHEMA = {schema}"))
            .fetch_all(admin)
            .await
            .map_err(read("foreign keys"))?;
        let mut edges = Vec::new();
        for r in &refs {
            edges.push((
                text(r, 0).map_err(read("foreign keys"))?,
                text(r, 1).map_err(read("foreign keys"))?,
            ));
        }
        for t in dependency_order(&tables, &edges) {
            let q = format!("{}.{}", quote(tpl), quote(&t));
            let [create] = show_create(admin, tpl, "TABLE", &t, [1]).await?;
            plan.tables.push(create);
            let count = sqlx::raw_sql(&format!("SELECT COUNT(*) FROM {q}"))
                .fetch_one(admin)
                .await
                .map_err(read(&format!("rows of `{t}`")))?;
            if count.try_get::<i64, _>(0).unwrap_or(1) > 0 {
                let cols = sqlx::raw_sql(&format!("SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = {} AND EXTRA NOT LIKE '%VIRTUAL GENERATED%' AND EXTRA NOT LIKE '%STORED GENERATED%' AND EXTRA NOT LIKE '%PERSISTENT GENERATED%' ORDER BY ORDINAL_POSITION", literal(&t)))
                    .fetch_all(admin)
                    .await
                    .map_err(read(&format!("columns of `{t}`")))?;
                let cols = cols
                    .iter()
                    .map(|r| text(r, 0))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(read(&format!("columns of `{t}`")))?;
                plan.rows.push((t, cols));
            }
        }

        // Routines, then views, then triggers.
        let routines = sqlx::raw_sql(&format!("SELECT CAST(ROUTINE_NAME AS CHAR), CAST(ROUTINE_TYPE AS CHAR) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {schema} ORDER BY ROUTINE_NAME"))
            .fetch_all(admin)
            .await
            .map_err(read("routines"))?;
        for r in &routines {
            let (name, kind) = (
                text(r, 0).map_err(read("routines"))?,
                text(r, 1).map_err(read("routines"))?,
            );
            let [mode, create] = show_create(admin, tpl, &kind, &name, [1, 2]).await?;
            plan.objects.push((mode, create));
        }
        let mut view_sql = Vec::new();
        for v in &views {
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
        for v in dependency_order(&views, &view_edges) {
            if let Some(i) = views.iter().position(|x| *x == v) {
                plan.objects.push((String::new(), view_sql[i].clone()));
            }
        }
        let triggers = sqlx::raw_sql(&format!("SELECT CAST(TRIGGER_NAME AS CHAR) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {schema} ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER"))
            .fetch_all(admin)
            .await
            .map_err(read("triggers"))?;
        for r in &triggers {
            let name = text(r, 0).map_err(read("triggers"))?;
            let [mode, create] = show_create(admin, tpl, "TRIGGER", &name, [1, 2]).await?;
            plan.objects.push((mode, create));
        }
        Ok(plan)
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

    /// Creates `migrate_fresh_…` and replays the plan into it on a connection of its
    /// own (closed after, as its session settings changed).
    pub(super) async fn copy(
        admin: &sqlx::MySqlPool,
        url: &str,
        tpl: &str,
        plan: &CopyPlan,
    ) -> Result<Made, FixtureError> {
        let name = fresh_name();
        let made = replay(admin, tpl, &name, plan).await;
        if let Err(e) = made {
            let _ = drop_database(admin, &name).await;
            return Err(e);
        }
        Ok(Made {
            url: with_database(url, &name),
            target: Target::Mysql {
                admin: admin.clone(),
                name: name.clone(),
            },
            name,
        })
    }

    /// Runs SQL text on one connection. Boxed as `Send` where the lifetimes are concrete
    /// (see `Template::copy`).
    fn run<'a>(
        conn: &'a mut sqlx::MySqlConnection,
        sql: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'a>>
    {
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
    const SESSION: &str =
        "SET FOREIGN_KEY_CHECKS = 0; SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'";
    /// And back.
    const RESET: &str = "SET FOREIGN_KEY_CHECKS = 1; SET SESSION sql_mode = DEFAULT";

    /// Runs `sql` with the copy's session settings on a connection of the pool,
    /// resetting them after (a connection whose statement failed is closed instead).
    async fn on_connection(pool: sqlx::MySqlPool, sql: String) -> Result<(), sqlx::Error> {
        let mut conn = pool.acquire().await?;
        let r = run(&mut conn, &format!("{SESSION};\n{sql};\n{RESET}")).await;
        if r.is_err() {
            conn.close_on_drop();
        }
        r
    }

    async fn replay(
        admin: &sqlx::MySqlPool,
        tpl: &str,
        name: &str,
        plan: &CopyPlan,
    ) -> Result<(), FixtureError> {
        let failed = |what: &str| {
            sql_error(format!(
                "cannot copy the test template `{tpl}` into `{name}`: {what}"
            ))
        };
        sqlx::raw_sql(&format!(
            "CREATE DATABASE {name} CHARACTER SET {} COLLATE {}",
            plan.charset, plan.collation
        ))
        .execute(admin)
        .await
        .map_err(failed("the database"))?;
        // The tables, dealt out to several connections.
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
                .and_then(|r| r.map_err(failed("the tables")));
            result = result.and(r);
        }
        result?;
        // The rows, in one transaction (one wait for the disk), then the other objects
        // (triggers last: the rows are not theirs to count).
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
            .map_err(failed("the rows"))?;
        if plan.objects.is_empty() {
            return Ok(());
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_and_only_dead_processes_are_stale() {
        let name = template_name("0123456789ab");
        assert!(name.len() <= 63, "{name}");
        assert!(fresh_name().len() <= 63);
        assert!(!is_stale(&name), "our own");
        assert!(!is_stale(&fresh_name()), "our own");
        let mut ours = process_tag().split('_');
        let (pid, host) = (
            ours.next().unwrap_or_default(),
            ours.next().unwrap_or_default(),
        );
        // Our pid with another start: a process that had our pid before.
        assert!(
            is_stale(&format!("{FRESH}{pid}_{host}_ffffffff_0"))
                || process_tag().ends_with("ffffffff")
        );
        // A pid that cannot be running (above the kernel's limit).
        assert_eq!(
            is_stale(&format!("{TEMPLATE}4294967295_{host}_00000000_abc")),
            cfg!(target_os = "linux")
        );
        assert!(
            !is_stale(&format!("{TEMPLATE}4294967295_zzzzzzzz_00000000_abc")),
            "another host's"
        );
        assert!(!is_stale("migrate_scratch_1_2_3"));
    }

    #[test]
    fn own_names_are_this_process_tag_exactly() {
        assert!(is_own(&template_name("0123456789ab")));
        assert!(is_own(&fresh_name()));
        let tag = process_tag();
        assert!(!is_own(&format!("{FRESH}{tag}")), "no number");
        assert!(!is_own(&format!("{FRESH}{tag}0_1")), "another nonce");
        assert!(!is_own(&format!("{FRESH}1{tag}_1")), "another pid");
        assert!(!is_own(&format!("migrate_scratch_{tag}_1")));
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    #[test]
    fn urls() {
        assert_eq!(
            with_database("postgres://u:p/w@h:5432/app?sslmode=disable", "s"),
            "postgres://u:p/w@h:5432/s?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h", "s"), "mysql://root@h/s");
    }
}
