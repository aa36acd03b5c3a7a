//! The runner: plans with `migrate-core`, applies through a [`Db`](crate::Db), keeps the version
//! and history tables. `read.rs` reads what a database records, `apply.rs` runs plans
//! (the run loop, the version and history rows), `steps.rs` what each step of a plan
//! is and how its body runs, `transactions.rs` how a run groups steps into
//! transactions, `offline.rs` writes plans as scripts.

use crate::batch::{Resume, RowProgress, StopHandle};
use crate::embedded::EmbeddedMigrations;
use crate::rust_migration::RustMigration;

mod apply;
mod offline;
mod read;
mod steps;
mod transactions;

use crate::error::MigrateError;
use migrate_core::{Checksum, Direction, Script, ScriptDirectory};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How migrations are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TransactionMode {
    /// Each migration and its version-table change commit together (the default).
    #[default]
    PerMigration,
    /// The whole run commits at once (a `transactional: false` migration still runs
    /// outside, splitting the run around it).
    Single,
}

/// Settings of a [`Migrator`], as [`Migrator::options`] shows them; set with the
/// migrator's builder methods ([`Migrator::version_table`] and the others).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Version table name (Alembic's `alembic_version` by default).
    pub version_table: String,
    /// Schema of the version and history tables (PostgreSQL schema or MySQL database).
    pub version_table_schema: Option<String>,
    /// History table name; `<version_table>_history` by default.
    pub history_table: Option<String>,
    /// Transaction grouping.
    pub transaction_mode: TransactionMode,
    /// How long to wait for another migrator's lock.
    pub lock_timeout: Duration,
    /// Whether SQLite runs a plan of SQL migrations in the calling thread; `None` (the
    /// default) does for in-memory databases only. See [`Migrator::sqlite_inline`].
    pub sqlite_inline: Option<bool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            version_table: "alembic_version".to_string(),
            version_table_schema: None,
            history_table: None,
            transaction_mode: TransactionMode::PerMigration,
            lock_timeout: Duration::from_secs(60),
            sqlite_inline: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Steps completed, in order.
    pub steps: Vec<StepReport>,
    /// Version-table rows at the end.
    pub heads: Vec<String>,
}

impl Report {
    /// Revisions whose SQL ran, in order.
    pub fn revisions(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| s.revision.as_deref())
            .collect()
    }
}

/// One completed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The revision whose SQL ran; `None` for a stamp.
    pub revision: Option<String>,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// Alembic's log line: `upgrade a -> b, message`.
    pub description: String,
    /// Time the step took, version-table change included.
    pub duration: Duration,
}

/// The state [`Migrator::check`] found: at head, nothing edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Version-table rows.
    pub current: Vec<String>,
}

/// What a database records about its migrations, as read by
/// [`Migrator::applied_state`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedState {
    /// Version-table rows, sorted.
    pub current: Vec<String>,
    /// The newest checksum (hex) recorded for each revision.
    pub recorded: HashMap<String, String>,
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Revision (or `base` for a stamp to base).
    pub revision: String,
    /// What happened (the table's `direction` column).
    pub direction: HistoryEvent,
    /// Checksum recorded, if any.
    pub checksum: Option<Checksum>,
}

/// What a history row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HistoryEvent {
    /// A migration's upgrade ran.
    Upgrade,
    /// A migration's downgrade ran.
    Downgrade,
    /// The version table was set without running migrations.
    Stamp,
    /// An edited migration's new checksum was accepted.
    Accept,
}

impl HistoryEvent {
    /// The name stored in the table.
    pub fn name(self) -> &'static str {
        match self {
            HistoryEvent::Upgrade => "upgrade",
            HistoryEvent::Downgrade => "downgrade",
            HistoryEvent::Stamp => "stamp",
            HistoryEvent::Accept => "accept",
        }
    }

    /// Reads a stored name.
    pub fn from_name(name: &str) -> Option<HistoryEvent> {
        [
            HistoryEvent::Upgrade,
            HistoryEvent::Downgrade,
            HistoryEvent::Stamp,
            HistoryEvent::Accept,
        ]
        .into_iter()
        .find(|e| e.name() == name)
    }
}

impl From<Direction> for HistoryEvent {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Upgrade => HistoryEvent::Upgrade,
            Direction::Downgrade => HistoryEvent::Downgrade,
        }
    }
}

impl std::fmt::Display for HistoryEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies a set of migrations to databases.
///
/// ```no_run
/// # async fn run(pool: sqlx::SqlitePool) -> Result<(), migrate_runtime::MigrateError> {
/// use migrate_runtime::Migrator;
/// let migrator = Migrator::load("migrations")?;
/// migrator.upgrade(&pool, "head").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    dir: Arc<ScriptDirectory>,
    opts: Options,
    allow_multiple_heads: bool,
    progress: Option<ProgressHook>,
    /// The code of Rust migrations, by revision (embedded migrations only).
    code: Arc<HashMap<String, RustMigration>>,
    /// Asks batched migrations to stop after their current batch.
    stop: StopHandle,
}

/// A step about to run (`finished: None`) or just completed, for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// 0-based position of the step in the plan.
    pub index: usize,
    /// Steps in the plan.
    pub total: usize,
    /// The revision whose SQL runs; `None` for a stamp.
    pub revision: Option<&'a str>,
    /// Alembic's log line (`upgrade a -> b, message`).
    pub description: &'a str,
    /// How long the step took, once it has.
    pub finished: Option<Duration>,
    /// For a batched step (`-- migrate:batch`, the Rust batch helper), while it runs:
    /// the rows done so far, sent after each committed batch (with `finished: None`),
    /// between the step's start and end.
    pub rows: Option<RowProgress>,
    /// For a batched step that an earlier run left unfinished: where it starts again,
    /// sent once (with `finished: None` and `rows: None`) after the step's start and
    /// before its first batch, so a display can say it resumes and from where.
    pub resumed: Option<&'a Resume>,
}

type ProgressFn = dyn Fn(&Progress<'_>) + Send + Sync;

#[derive(Clone)]
struct ProgressHook(Arc<ProgressFn>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

/// State of one run through [`Migrator::apply`].
#[derive(Default)]
struct Run {
    report: Report,
    in_tx: bool,
    /// Version rows when the open transaction began (single-transaction mode).
    tx_heads: Vec<String>,
    /// History rows deferred to the commit (single-transaction mode).
    pending: Vec<HistoryValues>,
    /// Steps of the report completed when the open transaction began: the ones after
    /// it are undone if it rolls back.
    tx_start: usize,
}

struct HistoryValues {
    revision: String,
    direction: HistoryEvent,
    checksum: Option<String>,
    millis: u128,
}

enum Op<'a> {
    Upgrade(&'a str),
    Downgrade(&'a str),
    /// Downgrade exactly one revision that is a current row (the stairway's step down).
    Revert(&'a str),
    Stamp(&'a [&'a str], bool),
}

impl Migrator {
    /// A migrator over migrations embedded with [`embed_migrations!`](crate::embed_migrations).
    ///
    /// # Errors
    /// Only if the embedded data is inconsistent, which the macro prevents.
    pub fn new(migrations: &EmbeddedMigrations) -> Result<Migrator, MigrateError> {
        let mut m = Self::from_directory(migrations.directory()?);
        m.allow_multiple_heads = migrations.allow_multiple_heads;
        m.code = Arc::new(crate::rust_migration::code_of(migrations));
        Ok(m)
    }

    /// A migrator over a versions folder read from disk (the CLI's way).
    ///
    /// # Errors
    /// Every problem of the folder.
    pub fn load(dir: impl AsRef<Path>) -> Result<Migrator, MigrateError> {
        Ok(Self::from_directory(ScriptDirectory::load(dir.as_ref())?))
    }

    /// A migrator over an already loaded directory.
    pub fn from_directory(dir: ScriptDirectory) -> Migrator {
        Migrator {
            dir: Arc::new(dir),
            opts: Options::default(),
            allow_multiple_heads: true,
            progress: None,
            code: Arc::default(),
            stop: StopHandle::default(),
        }
    }

    /// Gives this migrator the code of the Rust migrations of `migrations`, by
    /// revision: for a folder read from disk by the application that embeds it (a
    /// self-migrating binary in its source tree, replaying the folder with a revision
    /// just written beside the embedded ones). A `.rs` revision `migrations` does not
    /// hold still fails with [`MigrateError::RustWithoutCode`] when it would run.
    pub fn with_rust_code_of(mut self, migrations: &EmbeddedMigrations) -> Migrator {
        self.code = Arc::new(crate::rust_migration::code_of(migrations));
        self
    }

    /// Sets the version table name.
    pub fn version_table(mut self, name: impl Into<String>) -> Self {
        self.opts.version_table = name.into();
        self
    }

    /// Sets the schema of the version and history tables.
    pub fn version_table_schema(mut self, schema: impl Into<String>) -> Self {
        self.opts.version_table_schema = Some(schema.into());
        self
    }

    /// Sets the history table name (`<version_table>_history` by default).
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.opts.history_table = Some(name.into());
        self
    }

    /// Sets the transaction grouping.
    pub fn transaction_mode(mut self, mode: TransactionMode) -> Self {
        self.opts.transaction_mode = mode;
        self
    }

    /// Sets how long to wait for another migrator's lock.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.opts.lock_timeout = timeout;
        self
    }

    /// Runs plans made only of SQL migrations on SQLite in the calling thread
    /// (`true`), or always through sqlx's worker thread (`false`). By default, only
    /// in-memory databases run inline.
    ///
    /// sqlx hands every SQLite request to a thread of its own and the result back, a
    /// cost several times that of SQLite's own work for a small migration; inline, the
    /// run borrows the connection's handle once and calls SQLite directly, which is
    /// what makes migrating a fresh database per test cheap. The price: while a
    /// statement runs, the async thread that awaits the run is busy (between
    /// migrations the run yields to the runtime). Waits for SQLite's write lock never
    /// block it; they are retried asynchronously. To stop a long statement, call
    /// [`StopHandle::interrupt`](crate::StopHandle::interrupt) on the handle given to
    /// [`stop_handle`](Self::stop_handle), from another thread. While the run has the
    /// handle, it sets the connection's progress handler (which reads that flag) and
    /// clears it afterwards. A plan holding a Rust migration or a batched statement
    /// always runs through sqlx.
    pub fn sqlite_inline(mut self, inline: bool) -> Self {
        self.opts.sqlite_inline = Some(inline);
        self
    }

    /// Calls `f` before and after every step of a run (a progress bar, per-step timings),
    /// and for every step an offline script ([`sql`](Self::sql),
    /// [`stamp_sql`](Self::stamp_sql)) writes, with a zero duration.
    pub fn on_progress(mut self, f: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressHook(Arc::new(f)));
        self
    }

    /// Shares `stop` with the runs of this migrator: after [`StopHandle::stop`], a
    /// batched migration stops after its current batch (committed and recorded) and
    /// the run fails with [`MigrateError::Interrupted`]; running it again continues.
    pub fn stop_handle(mut self, stop: StopHandle) -> Self {
        self.stop = stop;
        self
    }

    /// The options in effect.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The loaded migrations.
    pub fn directory(&self) -> &ScriptDirectory {
        &self.dir
    }

    /// Heads of the migrations (what `migrate heads` lists).
    pub fn heads(&self) -> Vec<&str> {
        self.dir.map.heads()
    }

    /// Scripts in `history` order (newest first); `range` is `start:end`.
    ///
    /// # Errors
    /// A malformed or disconnected range.
    pub fn history(&self, range: Option<&str>) -> Result<Vec<&Script>, MigrateError> {
        Ok(self
            .dir
            .map
            .history(range)?
            .into_iter()
            .filter_map(|id| self.dir.script(id))
            .collect())
    }

    fn qualified(&self, table: &str) -> String {
        match &self.opts.version_table_schema {
            Some(s) => format!("{s}.{table}"),
            None => table.to_string(),
        }
    }

    /// The migrator's own tables, the version table and the history table
    /// (schema-qualified when a schema is set), which schema comparisons leave out.
    pub fn own_tables(&self) -> Vec<String> {
        vec![
            self.qualified(&self.opts.version_table),
            self.qualified(&self.history_name()),
            self.qualified(&self.progress_name()),
        ]
    }

    /// The progress table of resumable migrations: `<version_table>_progress`.
    fn progress_name(&self) -> String {
        format!("{}_progress", self.opts.version_table)
    }

    fn history_name(&self) -> String {
        self.opts
            .history_table
            .clone()
            .unwrap_or_else(|| format!("{}_history", self.opts.version_table))
    }

    fn check_names(&self) -> Result<(), MigrateError> {
        let hist = self.history_name();
        let mut names = vec![self.opts.version_table.as_str(), hist.as_str()];
        if let Some(s) = &self.opts.version_table_schema {
            names.push(s);
        }
        for name in names {
            if let Some(reason) = migrate_core::sql::plain_identifier_problem(name) {
                return Err(MigrateError::InvalidName {
                    name: name.to_string(),
                    reason,
                });
            }
        }
        Ok(())
    }

    fn version_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT {}_pkc PRIMARY KEY (version_num)\n)",
            self.qualified(&self.opts.version_table),
            self.opts.version_table
        )
    }
}
