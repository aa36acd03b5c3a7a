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

use crate::driver::BoxFuture;
use crate::error::{mask_url, MigrateError};
use crate::schema::leftover::process_tag;
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

// ---- what each database does ------------------------------------------------------

/// What one database does for the fixture. Each driver's `fixture.rs` implements it;
/// [`driver_of`] picks one by a URL's dialect.
pub(crate) trait FixtureDriver: Sync {
    /// The database (part of the template key).
    fn dialect(&self) -> Dialect;

    /// Whether the template and its copies are on a server: the template is then told
    /// apart by the server's URL, and the next copy is made ahead of time. A local file
    /// depends on no URL and is copied in about a millisecond.
    fn on_server(&self) -> bool {
        true
    }

    /// Why the fixture cannot copy the databases `m` migrates (`None` when it can).
    fn refusal(&self, m: &Migrator) -> Option<String> {
        let _ = m;
        None
    }

    /// Makes the template `migrate_tpl_…_<suffix>` for `url`, after dropping what dead
    /// processes left, and migrates it with `m`: its name (database name, or file path)
    /// and where its copies come from.
    fn template<'a>(
        &'a self,
        m: &'a Migrator,
        url: &'a str,
        suffix: &'a str,
    ) -> BoxFuture<'a, Result<Templated, FixtureError>>;

    /// A pool on the copy at `url`, like [`Database::connect`]'s but with its first
    /// connection made now (and without a probe connection first: the server just
    /// answered).
    fn connect<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Database, MigrateError>>;
}

/// A migrated template: its name (database name, or file path) and where its copies
/// come from.
pub(crate) type Templated = (String, Arc<dyn Copies>);

/// Where a migrated template's copies are made and dropped: a server, or a folder.
pub(crate) trait Copies: Send + Sync + std::fmt::Debug {
    /// Makes a copy of the template `template`.
    fn copy<'a>(&'a self, template: &'a str) -> BoxFuture<'a, Result<NewCopy, FixtureError>>;

    /// Drops the copy [`NewCopy::id`] names, waiting until it is gone.
    fn drop_copy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), FixtureError>>;

    /// The server (or folder) the template and its copies are on.
    fn place(&self) -> &str;

    /// At the end of the process: drops every database (file) of this process's in
    /// [`Copies::place`], templates of other migrations and copies never dropped
    /// included, at once. Best effort: what is left is the next process's to drop.
    fn drop_own(&self) -> BoxFuture<'_, ()>;

    /// Closes the admin pool, so the server sees its sessions end rather than break.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// A copy [`Copies::copy`] made, not yet connected to.
#[derive(Debug)]
pub(crate) struct NewCopy {
    /// Its URL.
    pub(crate) url: String,
    /// Its name on the server, or the SQLite file's path.
    pub(crate) name: String,
    /// What [`Copies::drop_copy`] takes.
    pub(crate) id: String,
}

/// The one place a URL's dialect picks its database's fixture.
fn driver_of(url: &str) -> Result<&'static dyn FixtureDriver, FixtureError> {
    match Dialect::from_url(url) {
        #[cfg(feature = "sqlite")]
        Some(Dialect::Sqlite) => Ok(&crate::driver::sqlite::fixture::Fixture),
        #[cfg(feature = "postgres")]
        Some(Dialect::Postgres) => Ok(&crate::driver::postgres::fixture::Fixture),
        #[cfg(feature = "mysql")]
        Some(Dialect::Mysql) => Ok(&crate::driver::mysql::fixture::Fixture),
        _ => Err(FixtureError::Unsupported {
            url: mask_url(url),
            reason: "expected an `sqlite:`, `postgres://` or `mysql://` URL of a driver compiled in (the `sqlite`, `postgres` and `mysql` features)".to_string(),
        }),
    }
}

/// What dropping a copy removes.
#[derive(Debug)]
struct Target {
    copies: Arc<dyn Copies>,
    id: String,
}

impl Target {
    async fn drop_it(self) -> Result<(), FixtureError> {
        self.copies.drop_copy(&self.id).await
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
    let driver = driver_of(url)?;
    if let Some(reason) = driver.refusal(&migrator) {
        return Err(FixtureError::Unsupported {
            url: mask_url(url),
            reason,
        });
    }
    let key = template_key(&migrator, driver, url);
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
                .get_or_try_init(|| Template::create(migrator, driver, admin_url, key))
                .await?
                .clone();
            template.next_copy().await
        })
        .await
        .map_err(FixtureError::Task)??;
    // The pool belongs to the caller's runtime: connect here.
    match driver.connect(&copy.url).await {
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

/// Whether `name` (a template's or a copy's) is this process's.
pub(crate) fn is_own(name: &str) -> bool {
    [TEMPLATE, FRESH].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(process_tag()))
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// What identifies a template: the database, the server URL (not for a local file,
/// which does not depend on it), the version and history tables, and every
/// migration's path and checksum.
fn template_key(m: &Migrator, driver: &dyn FixtureDriver, url: &str) -> Checksum {
    let o = m.options();
    let mut text = format!(
        "{:?}\n{}\n{}\n{}\n{}\n",
        driver.dialect(),
        if driver.on_server() { url } else { "" },
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
    name: String,
    copies: Arc<dyn Copies>,
    /// Whether copies are made ahead of time ([`FixtureDriver::on_server`]).
    ahead: bool,
    /// On a server, the copy the next test gets, made on the fixture's runtime while
    /// the current test runs: a test then waits only for what is left of it.
    spare: Mutex<Option<tokio::task::JoinHandle<Result<Made, FixtureError>>>>,
}

/// A copy, not yet connected to, with what drops it.
#[derive(Debug)]
struct Made {
    url: String,
    name: String,
    target: Target,
}

impl Template {
    async fn create(
        m: Migrator,
        driver: &'static dyn FixtureDriver,
        url: String,
        key: Checksum,
    ) -> Result<Arc<Template>, FixtureError> {
        let hash = key.to_hex();
        let (name, copies) = driver.template(&m, &url, &hash[..12]).await?;
        Ok(Arc::new(Template {
            name,
            copies,
            ahead: driver.on_server(),
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
        if self.ahead {
            let next = Arc::clone(&self);
            let handle = tokio::spawn(async move { next.copy().await });
            *self.spare.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        }
        Ok(made)
    }

    /// The server (or folder) the template and its copies are on.
    fn server(&self) -> &str {
        self.copies.place()
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

    /// See [`Copies::drop_own`].
    async fn drop_own(&self) {
        self.copies.drop_own().await;
    }

    /// See [`Copies::close`].
    async fn close(&self) {
        self.copies.close().await;
    }

    async fn copy(&self) -> Result<Made, FixtureError> {
        let new = self.copies.copy(&self.name).await?;
        Ok(Made {
            url: new.url,
            name: new.name,
            target: Target {
                copies: Arc::clone(&self.copies),
                id: new.id,
            },
        })
    }
}

// ---- names ------------------------------------------------------------------------

/// Prefix of template names.
const TEMPLATE: &str = "migrate_tpl_";
/// Prefix of copies' names.
const FRESH: &str = "migrate_fresh_";

/// The template's name: `migrate_tpl_<pid>_<host>_<nonce>_<hash>`.
pub(crate) fn template_name(suffix: &str) -> String {
    format!("{TEMPLATE}{}_{suffix}", process_tag())
}

/// A new copy's name: `migrate_fresh_<pid>_<host>_<nonce>_<n>`.
pub(crate) fn fresh_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{FRESH}{}_{n}", process_tag())
}

/// Whether `name` (a template's or a copy's) was left by a process of this host that
/// is gone.
pub(crate) fn is_stale(name: &str) -> bool {
    crate::schema::leftover::is_stale(name, &[TEMPLATE, FRESH])
}

/// Migrates the template through `url`, closing the pool after.
pub(crate) async fn migrate_template(
    m: &Migrator,
    url: &str,
    name: &str,
) -> Result<(), FixtureError> {
    let db = Database::connect(url).await?;
    let r = m.upgrade(&db, "heads").await;
    db.close().await;
    r.map(|_| ()).map_err(|source| FixtureError::Template {
        template: name.to_string(),
        source,
    })
}

// ---- on a server ------------------------------------------------------------------

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use server::{connect_copy, server_template, sql_error, OnServer, ServerCopier};

/// What PostgreSQL and MySQL/MariaDB share: databases on a server, made and dropped
/// through [`Server`](crate::driver::Server).
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod server {
    use super::*;
    use crate::driver::{with_database, Server};

    /// The error of a statement of the fixture's, `context` saying what it was doing.
    pub(crate) fn sql_error(context: String) -> impl FnOnce(sqlx::Error) -> FixtureError {
        move |source| FixtureError::Database { context, source }
    }

    /// What a server database does for the fixture beyond [`Server`]: copying its
    /// template. Cheap to clone (a pool and shared data), so that drops run as tasks of
    /// their own.
    pub(crate) trait ServerCopier: Clone + Send + Sync + std::fmt::Debug + 'static {
        /// The server the template is on.
        fn server(&self) -> &dyn Server;

        /// Creates the database `name`, a copy of the template `template` (leaving nothing
        /// behind when it fails).
        fn copy_into<'a>(
            &'a self,
            template: &'a str,
            name: &'a str,
        ) -> BoxFuture<'a, Result<(), FixtureError>>;

        /// Closes the admin pool.
        fn close(&self) -> BoxFuture<'_, ()>;
    }

    /// The copies of a template on a server, made by `C`, dropped through [`Server`].
    #[derive(Debug)]
    pub(crate) struct OnServer<C> {
        url: String,
        copier: C,
    }

    impl<C: ServerCopier> OnServer<C> {
        /// The copies of a template on the server `url` names.
        pub(crate) fn copies(url: &str, copier: C) -> Arc<dyn Copies> {
            Arc::new(OnServer {
                url: url.to_string(),
                copier,
            })
        }
    }

    impl<C: ServerCopier> Copies for OnServer<C> {
        fn copy<'a>(&'a self, template: &'a str) -> BoxFuture<'a, Result<NewCopy, FixtureError>> {
            Box::pin(async move {
                let name = fresh_name();
                self.copier.copy_into(template, &name).await?;
                Ok(NewCopy {
                    url: with_database(&self.url, &name),
                    id: name.clone(),
                    name,
                })
            })
        }

        fn drop_copy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), FixtureError>> {
            Box::pin(async move {
                self.copier
                    .server()
                    .drop_database(id)
                    .await
                    .map_err(sql_error(format!("cannot drop the test database `{id}`")))
            })
        }

        fn place(&self) -> &str {
            &self.url
        }

        fn drop_own(&self) -> BoxFuture<'_, ()> {
            Box::pin(async move {
                let names = named(self.copier.server(), is_own).await;
                let mut drops = tokio::task::JoinSet::new();
                for name in names {
                    let copier = self.copier.clone();
                    drops.spawn(async move {
                        let _ = copier.server().drop_database(&name).await;
                    });
                }
                while drops.join_next().await.is_some() {}
            })
        }

        fn close(&self) -> BoxFuture<'_, ()> {
            self.copier.close()
        }
    }

    /// The fixture's databases on `server` (templates and copies) that `pick` selects
    /// (none when the server cannot say).
    async fn named(server: &dyn Server, pick: fn(&str) -> bool) -> Vec<String> {
        let mut names = server.database_names(TEMPLATE).await;
        names.extend(server.database_names(FRESH).await);
        names.retain(|n| pick(n));
        names
    }

    /// Makes the template database `migrate_tpl_…` on `server` and migrates it, after
    /// dropping what dead processes left there. `privilege` names what the role needs to
    /// create one; `finish` completes the migrated template and returns what its copies
    /// need. On any failure the template is dropped.
    pub(crate) async fn server_template<T, F>(
        m: &Migrator,
        url: &str,
        suffix: &str,
        server: &dyn Server,
        privilege: &str,
        finish: impl FnOnce(String) -> F,
    ) -> Result<(String, T), FixtureError>
    where
        F: std::future::Future<Output = Result<T, FixtureError>>,
    {
        // A database in use is refused by the server and stays; a failure leaves them for
        // the next process.
        for stale in named(server, is_stale).await {
            let _ = server.drop_database(&stale).await;
        }
        let name = template_name(suffix);
        let drop_template = async || {
            server
                .drop_database(&name)
                .await
                .map_err(sql_error(format!("cannot drop the test database `{name}`")))
        };
        drop_template().await?;
        let context =
            || format!("cannot create the test template `{name}`; the fixture needs {privilege}");
        match server.create_database(&name).await {
            Ok(()) => {}
            Err(crate::driver::Refused::Failed(e) | crate::driver::Refused::Denied(e)) => {
                return Err(sql_error(context())(e))
            }
        }
        let made = async {
            migrate_template(m, &with_database(url, &name), &name).await?;
            finish(name.clone()).await
        }
        .await;
        match made {
            Ok(t) => Ok((name, t)),
            Err(e) => {
                let _ = drop_template().await;
                Err(e)
            }
        }
    }

    /// A pool of two connections on a copy, its first connection made now, with the
    /// options sqlx read from `url` (`opts`).
    pub(crate) async fn connect_copy<DB>(
        url: &str,
        opts: Result<<DB::Connection as sqlx::Connection>::Options, sqlx::Error>,
    ) -> Result<Database, MigrateError>
    where
        DB: sqlx::Database,
        Database: From<sqlx::Pool<DB>>,
    {
        let failed = |source| MigrateError::Connect {
            url: mask_url(url),
            source,
        };
        sqlx::pool::PoolOptions::<DB>::new()
            .max_connections(2)
            .acquire_timeout(Database::DEFAULT_CONNECT_TIMEOUT)
            .connect_with(opts.map_err(failed)?)
            .await
            .map(Database::from)
            .map_err(failed)
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
        use crate::driver::with_database;
        assert_eq!(
            with_database("postgres://u:p/w@h:5432/app?sslmode=disable", "s"),
            "postgres://u:p/w@h:5432/s?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h", "s"), "mysql://root@h/s");
    }
}
