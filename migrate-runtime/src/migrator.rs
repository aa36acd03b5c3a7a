//! The runner: plans with `migrate-core`, applies through a [`Db`], keeps the version
//! and history tables.

use crate::backend::{history_ddl, Conn, Db};
use crate::batch::{RowProgress, StopHandle};
use crate::embedded::EmbeddedMigrations;
use crate::rust_migration::RustMigration;

mod steps;
use crate::error::{EditedMigration, MigrateError, MigrationFailed};
use migrate_core::sql::split_statements;
use migrate_core::{
    Dialect, Direction, Plan, RevisionError, Script, ScriptDirectory, Section, Step, VersionChange,
};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Settings of a [`Migrator`].
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            version_table: "alembic_version".to_string(),
            version_table_schema: None,
            history_table: None,
            transaction_mode: TransactionMode::PerMigration,
            lock_timeout: Duration::from_secs(60),
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
    /// `upgrade`, `downgrade`, `stamp` or `accept`.
    pub direction: String,
    /// Checksum recorded, if any.
    pub checksum: Option<String>,
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
    direction: &'static str,
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

    /// Replaces the options.
    pub fn with_options(mut self, opts: Options) -> Self {
        self.opts = opts;
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

    // ---- reading ------------------------------------------------------------------

    /// The version-table rows (empty when the table does not exist yet).
    ///
    /// # Errors
    /// Database failures.
    pub async fn current<'a>(&self, db: impl Into<Db<'a>>) -> Result<Vec<String>, MigrateError> {
        self.check_names()?;
        let mut conn = db.into().acquire().await?;
        self.read_heads(&mut conn).await
    }

    async fn read_heads(&self, conn: &mut Conn) -> Result<Vec<String>, MigrateError> {
        let sql = format!(
            "SELECT version_num FROM {}",
            self.qualified(&self.opts.version_table)
        );
        match conn.strings(&sql).await {
            Ok(mut v) => {
                v.sort();
                Ok(v)
            }
            Err(e) if conn.is_missing_table(&e) => Ok(Vec::new()),
            Err(e) => Err(MigrateError::db("cannot read the version table", e)),
        }
    }

    async fn recorded_checksums(
        &self,
        conn: &mut Conn,
    ) -> Result<HashMap<String, String>, MigrateError> {
        let hist = self.qualified(&self.history_name());
        // Oldest first, so the newest checksum of a revision wins when collected.
        let ordered = format!(
            "SELECT revision, checksum FROM {hist} \
             WHERE direction IN ('upgrade', 'stamp', 'accept') AND checksum IS NOT NULL ORDER BY id"
        );
        let rows = if conn.dialect() == Dialect::Sqlite {
            // One row instead of one per revision: SQLite hands rows over one at a time
            // from its worker thread, which dominates the start-up check of a binary
            // already at head.
            // (An ordered aggregate: SQLite 3.44+, which sqlx bundles.)
            let sql = format!(
                "SELECT group_concat(revision || ' ' || checksum, ',' ORDER BY id) FROM {hist} \
                 WHERE direction IN ('upgrade', 'stamp', 'accept') AND checksum IS NOT NULL"
            );
            conn.optional_string(&sql).await.map(|one| {
                one.unwrap_or_default()
                    .split(',')
                    .filter_map(|pair| pair.split_once(' '))
                    .map(|(r, c)| (r.to_string(), Some(c.to_string())))
                    .collect()
            })
        } else {
            conn.pairs(&ordered).await
        };
        match rows {
            Ok(rows) => Ok(rows
                .into_iter()
                .filter_map(|(r, c)| c.map(|c| (r, c)))
                .collect()),
            Err(e) if conn.is_missing_table(&e) => Ok(HashMap::new()),
            Err(e) => Err(MigrateError::db("cannot read the history table", e)),
        }
    }

    /// The history table, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn applied_history<'a>(
        &self,
        db: impl Into<Db<'a>>,
    ) -> Result<Vec<HistoryRow>, MigrateError> {
        self.check_names()?;
        let mut conn = db.into().acquire().await?;
        let sql = format!(
            "SELECT revision, direction, checksum FROM {} ORDER BY id",
            self.qualified(&self.history_name())
        );
        let rows = match crate::backend::triples(&mut conn, &sql).await {
            Ok(v) => v,
            Err(e) if conn.is_missing_table(&e) => Vec::new(),
            Err(e) => return Err(MigrateError::db("cannot read the history table", e)),
        };
        Ok(rows
            .into_iter()
            .map(|(revision, direction, checksum)| HistoryRow {
                revision,
                direction,
                checksum,
            })
            .collect())
    }

    /// Applied revisions whose file changed since they ran.
    fn edited(
        &self,
        heads: &[String],
        recorded: &HashMap<String, String>,
    ) -> Result<Vec<EditedMigration>, MigrateError> {
        let mut out = Vec::new();
        if recorded.is_empty() {
            return Ok(out);
        }
        let mut applied: Vec<&str> = Vec::new();
        for h in heads {
            applied.extend(self.dir.map.ancestors(h)?);
        }
        if heads.len() > 1 {
            applied.sort_unstable();
            applied.dedup();
        }
        for rev in applied {
            let (Some(rec), Some(script)) = (recorded.get(rev), self.dir.script(rev)) else {
                continue;
            };
            if !script.checksum.matches_hex(rec) {
                out.push(EditedMigration {
                    revision: rev.to_string(),
                    path: script.path.to_string(),
                    recorded: rec.clone(),
                    current: script.checksum.to_hex(),
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Fails unless the database is at the heads with no applied migration edited: the
    /// check a self-migrating binary or a deploy pipeline runs.
    ///
    /// # Errors
    /// [`MigrateError::NotAtHead`], [`MigrateError::Edited`], database failures.
    pub async fn check<'a>(&self, db: impl Into<Db<'a>>) -> Result<CheckReport, MigrateError> {
        self.check_names()?;
        let mut conn = db.into().acquire().await?;
        let current = self.read_heads(&mut conn).await?;
        self.known_current(&current)?;
        self.at_heads(&current)?;
        let recorded = self.recorded_checksums(&mut conn).await?;
        self.check_state(&AppliedState { current, recorded })
    }

    /// Reads what [`check`](Self::check) compares with the migrations: the version
    /// table's rows and the newest recorded checksum of each revision. Only the table
    /// names are used, so this can run while the migrations are still being loaded (the
    /// `migrate` command line overlaps the two); [`check_state`](Self::check_state) then
    /// judges the result.
    ///
    /// # Errors
    /// Invalid table names and database failures (a missing table reads as empty).
    pub async fn applied_state<'a>(
        &self,
        db: impl Into<Db<'a>>,
    ) -> Result<AppliedState, MigrateError> {
        self.check_names()?;
        let mut conn = db.into().acquire().await?;
        let current = self.read_heads(&mut conn).await?;
        let recorded = self.recorded_checksums(&mut conn).await?;
        Ok(AppliedState { current, recorded })
    }

    /// [`check`](Self::check) on a state read earlier with
    /// [`applied_state`](Self::applied_state), possibly by a migrator configured with the
    /// same tables and no migrations.
    ///
    /// # Errors
    /// [`MigrateError::NotAtHead`], [`MigrateError::Edited`].
    pub fn check_state(&self, state: &AppliedState) -> Result<CheckReport, MigrateError> {
        match self.check_problems(state).into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(CheckReport {
                current: state.current.clone(),
            }),
        }
    }

    /// Every problem [`check_state`](Self::check_state) would report, not only the
    /// first: edited applied migrations, then where the database stands (revisions the
    /// migrations do not have, or behind the heads). Empty when the database is up to
    /// date.
    pub fn check_problems(&self, state: &AppliedState) -> Vec<MigrateError> {
        let mut problems = Vec::new();
        let known: Vec<String> = state
            .current
            .iter()
            .filter(|r| self.dir.map.get(r).is_some())
            .cloned()
            .collect();
        match self.edited(&known, &state.recorded) {
            Ok(edited) if !edited.is_empty() => problems.push(MigrateError::Edited(edited)),
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
        if let Err(e) = self.known_current(&state.current) {
            problems.push(e);
        } else if let Err(e) = self.at_heads(&state.current) {
            problems.push(e);
        }
        problems
    }

    /// Fails when the version table names a revision the migrations do not have.
    fn known_current(&self, current: &[String]) -> Result<(), MigrateError> {
        match current.iter().find(|r| self.dir.map.get(r).is_none()) {
            Some(unknown) => Err(RevisionError::UnknownCurrent(unknown.clone()).into()),
            None => Ok(()),
        }
    }

    fn at_heads(&self, current: &[String]) -> Result<(), MigrateError> {
        let mut heads: Vec<String> = self.dir.map.heads().iter().map(|s| s.to_string()).collect();
        heads.sort();
        if current != heads {
            return Err(MigrateError::NotAtHead {
                current: current.to_vec(),
                heads,
            });
        }
        Ok(())
    }

    // ---- writing ----------------------------------------------------------------

    /// Upgrades to `target` (any identifier: `head`, `heads`, `+2`, `label@head`, ...).
    ///
    /// # Errors
    /// Edited applied migrations, resolution failures, lock timeouts, and a failing
    /// migration (rolled back; earlier ones stay applied).
    pub async fn upgrade<'a>(
        &self,
        db: impl Into<Db<'a>>,
        target: &str,
    ) -> Result<Report, MigrateError> {
        if target == "head" && !self.allow_multiple_heads && self.dir.map.heads().len() > 1 {
            return Err(RevisionError::MultipleHeads {
                heads: self.dir.map.heads().iter().map(|s| s.to_string()).collect(),
                argument: "head".to_string(),
            }
            .into());
        }
        self.run(db.into(), Op::Upgrade(target)).await
    }

    /// Downgrades to `target` (`base`, `-1`, a revision, `label@-1`, ...).
    ///
    /// # Errors
    /// As [`upgrade`](Self::upgrade), plus irreversible revisions on the path (before
    /// anything runs).
    pub async fn downgrade<'a>(
        &self,
        db: impl Into<Db<'a>>,
        target: &str,
    ) -> Result<Report, MigrateError> {
        self.run(db.into(), Op::Downgrade(target)).await
    }

    /// Sets the version table to `targets` without running migrations; `purge` first
    /// empties it (e.g. when it holds revisions that no longer exist).
    ///
    /// # Errors
    /// Resolution failures and database failures.
    pub async fn stamp<'a>(
        &self,
        db: impl Into<Db<'a>>,
        targets: &[&str],
        purge: bool,
    ) -> Result<Report, MigrateError> {
        self.run(db.into(), Op::Stamp(targets, purge)).await
    }

    /// Runs the downgrade of `revision`, which must be one of the version table's rows,
    /// and nothing else: its row is replaced by those of its parents that no other row
    /// already stands on. Other branches stay as they are, unlike a downgrade to a
    /// target (see [`RevisionMap::revert_plan`](migrate_core::RevisionMap::revert_plan)).
    ///
    /// # Errors
    /// As [`downgrade`](Self::downgrade); `revision` not being a current row is a
    /// [`RevisionError::NothingToDrop`].
    pub async fn revert<'a>(
        &self,
        db: impl Into<Db<'a>>,
        revision: &str,
    ) -> Result<Report, MigrateError> {
        self.run(db.into(), Op::Revert(revision)).await
    }

    /// Records the current checksums of applied revisions as accepted, after an
    /// intended edit; `None` accepts every edited one.
    ///
    /// # Errors
    /// Database failures.
    pub async fn accept_checksums<'a>(
        &self,
        db: impl Into<Db<'a>>,
        revisions: Option<&[&str]>,
    ) -> Result<Vec<String>, MigrateError> {
        self.check_names()?;
        let db = db.into();
        let lock = db.lock(&self.lock_name(), self.opts.lock_timeout).await?;
        let result = async {
            let mut conn = db.acquire().await?;
            self.ensure_tables(&mut conn).await?;
            let heads = self.read_heads(&mut conn).await?;
            let recorded = self.recorded_checksums(&mut conn).await?;
            let mut accepted = Vec::new();
            for e in self.edited(&heads, &recorded)? {
                if revisions.is_some_and(|r| !r.contains(&e.revision.as_str())) {
                    continue;
                }
                let sql =
                    self.history_insert(&e.revision, "accept", Some(&e.current), Duration::ZERO);
                conn.execute(&sql)
                    .await
                    .map_err(|err| MigrateError::db("cannot record the accepted checksum", err))?;
                accepted.push(e.revision);
            }
            Ok::<_, MigrateError>(accepted)
        }
        .await;
        let released = lock.release().await;
        let accepted = result?;
        released?;
        Ok(accepted)
    }

    /// Creates the version and history tables if they do not exist (`migrate
    /// ensure_version`), under the migration lock.
    ///
    /// # Errors
    /// Lock timeouts and database failures.
    pub async fn ensure_version_table<'a>(
        &self,
        db: impl Into<Db<'a>>,
    ) -> Result<(), MigrateError> {
        self.check_names()?;
        let db = db.into();
        let lock = db.lock(&self.lock_name(), self.opts.lock_timeout).await?;
        let result = async {
            let mut conn = db.acquire().await?;
            self.ensure_tables(&mut conn).await
        }
        .await;
        let released = lock.release().await;
        result?;
        released
    }

    fn lock_name(&self) -> String {
        self.qualified(&self.opts.version_table)
    }

    async fn ensure_tables(&self, conn: &mut Conn) -> Result<(), MigrateError> {
        let sql = format!(
            "{};\n{}",
            self.version_ddl(),
            history_ddl(conn.dialect(), &self.qualified(&self.history_name()))
        );
        conn.execute(&sql)
            .await
            .map_err(|e| MigrateError::db("cannot create the version and history tables", e))?;
        Ok(())
    }

    async fn run(&self, db: Db<'_>, op: Op<'_>) -> Result<Report, MigrateError> {
        self.check_names()?;
        // Fail on a bad target before touching the database.
        match &op {
            Op::Upgrade(t) | Op::Downgrade(t) => {
                if let Some((_, id)) = t.rsplit_once('@').or(Some(("", t))) {
                    if id.is_empty() {
                        return Err(RevisionError::NoSuchRevision(t.to_string()).into());
                    }
                }
            }
            Op::Stamp(..) | Op::Revert(_) => {}
        }
        if let Op::Upgrade(_) = op {
            // The start-up check of a binary already at head: one query on the version
            // table and one for checksums, no lock, no DDL.
            let mut conn = db.acquire().await?;
            let heads = self.read_heads(&mut conn).await?;
            if !heads.is_empty() {
                self.known_current(&heads)?;
                let recorded = self.recorded_checksums(&mut conn).await?;
                let edited = self.edited(&heads, &recorded)?;
                if !edited.is_empty() {
                    return Err(MigrateError::Edited(edited));
                }
                if self.plan(&op, &heads)?.steps.is_empty() {
                    return Ok(Report {
                        steps: Vec::new(),
                        heads,
                    });
                }
            }
        }
        let lock = db.lock(&self.lock_name(), self.opts.lock_timeout).await?;
        let result = async {
            let mut conn = db.acquire().await?;
            if conn.dialect() == Dialect::Sqlite {
                // SQLite's lock is its write lock: wait for it as long as for the others.
                let pragma = format!(
                    "PRAGMA busy_timeout = {}",
                    self.opts.lock_timeout.as_millis()
                );
                conn.execute(&pragma)
                    .await
                    .map_err(|e| MigrateError::db("cannot set the SQLite busy timeout", e))?;
            }
            self.ensure_tables(&mut conn).await?;
            self.apply(&mut conn, &op).await
        }
        .await;
        let released = lock.release().await;
        let report = result?;
        released?;
        Ok(report)
    }

    fn plan(&self, op: &Op<'_>, heads: &[String]) -> Result<Plan, MigrateError> {
        Ok(match op {
            Op::Upgrade(t) => self.dir.map.upgrade_plan(heads, t)?,
            Op::Downgrade(t) => self.dir.map.downgrade_plan(heads, t)?,
            Op::Stamp(targets, purge) => self.dir.map.stamp_plan(heads, targets, *purge)?,
            Op::Revert(r) => self.dir.map.revert_plan(heads, r)?,
        })
    }

    /// The SQL section a step runs, checked before anything runs.
    fn section_for(
        &self,
        step: &Step,
        dialect: Dialect,
    ) -> Result<Option<(&Script, &Section)>, MigrateError> {
        let Some(rev) = &step.revision else {
            return Ok(None);
        };
        let script = self
            .dir
            .script(rev)
            .ok_or_else(|| RevisionError::NoSuchRevision(rev.clone()))?;
        let sections = match step.direction {
            Direction::Upgrade => &script.upgrade,
            Direction::Downgrade => &script.downgrade,
        };
        if step.direction == Direction::Downgrade && sections.is_empty() {
            return Err(RevisionError::Irreversible {
                revision: rev.clone(),
                origin: migrate_core::Origin(Some(script.path.to_string())),
            }
            .into());
        }
        let section = sections
            .iter()
            .find(|s| s.dialect == Some(dialect))
            .or_else(|| sections.iter().find(|s| s.dialect.is_none()))
            .ok_or_else(|| MigrateError::NoSqlForDialect {
                revision: rev.clone(),
                path: script.path.to_string(),
                direction: step.direction.name(),
                dialect,
            })?;
        Ok(Some((script, section)))
    }

    async fn apply(&self, conn: &mut Conn, op: &Op<'_>) -> Result<Report, MigrateError> {
        let mut run = Run {
            report: Report::default(),
            in_tx: false,
            tx_heads: Vec::new(),
            pending: Vec::new(),
            tx_start: 0,
        };
        let result = self.apply_inner(conn, op, &mut run).await;
        if result.is_err() && run.in_tx {
            // The original error matters more than a failed rollback, which the server
            // performs anyway when the session ends.
            let _ = conn.execute("ROLLBACK").await;
            run.report.steps.truncate(run.tx_start);
        }
        match result {
            Ok(()) => Ok(run.report),
            // The failure lists what stays applied, not what the rollback undid.
            Err(MigrateError::Migration(mut failed)) => {
                failed.applied = run
                    .report
                    .revisions()
                    .iter()
                    .map(|r| r.to_string())
                    .collect();
                Err(MigrateError::Migration(failed))
            }
            Err(mut other) => {
                crate::rust_migration::set_applied(&mut other, &run.report);
                Err(other)
            }
        }
    }

    async fn apply_inner(
        &self,
        conn: &mut Conn,
        op: &Op<'_>,
        run: &mut Run,
    ) -> Result<(), MigrateError> {
        let dialect = conn.dialect();
        let sqlite = dialect == Dialect::Sqlite;
        // Without transactional DDL a transaction cannot span migrations: each DDL
        // statement commits. Rows written only at the end would then be lost on a
        // failure while the tables stay, so there every migration records itself.
        let single =
            self.opts.transaction_mode == TransactionMode::Single && dialect.transactional_ddl();
        let relative = matches!(op, Op::Upgrade(t) | Op::Downgrade(t) if t.contains(['+', '-']));
        // SQLite has no lock that survives between transactions on another connection,
        // so each transaction takes the write lock (BEGIN IMMEDIATE) and checks that the
        // version table still holds what the plan expects; if another migrator moved
        // it, the plan is made again from the new rows.
        let begin = if sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        'replan: loop {
            if single && !run.in_tx {
                self.tx(conn, begin).await?;
                run.in_tx = true;
                run.tx_start = run.report.steps.len();
            }
            let heads = self.read_heads(conn).await?;
            if single {
                run.tx_heads = heads.clone();
            }
            // A downgrade runs the edited file's downgrade section, so it is refused
            // as an upgrade is, until the edit is accepted.
            if matches!(op, Op::Upgrade(_) | Op::Downgrade(_) | Op::Revert(_)) {
                self.known_current(&heads)?;
                let recorded = self.recorded_checksums(conn).await?;
                let edited = self.edited(&heads, &recorded)?;
                if !edited.is_empty() {
                    return Err(MigrateError::Edited(edited));
                }
            }
            let plan = self.plan(op, &heads)?;
            for step in &plan.steps {
                self.section_for(step, dialect)?;
                self.code_for(step)?;
            }
            let mut expected = heads;
            let total = plan.steps.len();
            for (index, step) in plan.steps.iter().enumerate() {
                let section = self.section_for(step, dialect)?;
                let description = self.describe(step);
                let notify = |finished: Option<Duration>| {
                    if let Some(hook) = &self.progress {
                        (hook.0)(&Progress {
                            index,
                            total,
                            revision: step.revision.as_deref(),
                            description: &description,
                            finished,
                            rows: None,
                        });
                    }
                };
                notify(None);
                let transactional = section.is_none_or(|(s, _)| s.transactional);
                if !transactional && run.in_tx {
                    self.flush(conn, run, &expected).await?;
                    self.tx(conn, "COMMIT").await?;
                    run.in_tx = false;
                }
                if transactional && !run.in_tx {
                    // Counted as open before it is: if the combined statement below
                    // fails after its BEGIN, the error path still rolls back.
                    run.in_tx = true;
                    run.tx_start = run.report.steps.len();
                    // SQLite re-reads the rows under its write lock before each
                    // migration, so that a writer that does not take the migration lock
                    // (another tool) cannot be overrun; the lock and the read go in one
                    // round trip. Elsewhere the migration lock covers the whole run.
                    let now = if sqlite && !single {
                        self.begin_and_read_heads(conn, begin).await?
                    } else {
                        self.tx(conn, begin).await?;
                        if single {
                            self.read_heads(conn).await?
                        } else {
                            expected.clone()
                        }
                    };
                    if now != expected {
                        if relative {
                            // A relative target meant "from where the database was";
                            // re-planning from the new rows would move it further.
                            return Err(MigrateError::ConcurrentChange {
                                target: match op {
                                    Op::Upgrade(t) | Op::Downgrade(t) | Op::Revert(t) => {
                                        t.to_string()
                                    }
                                    Op::Stamp(..) => String::new(),
                                },
                                applied: run
                                    .report
                                    .revisions()
                                    .iter()
                                    .map(|r| r.to_string())
                                    .collect(),
                            });
                        }
                        if !single {
                            self.tx(conn, "ROLLBACK").await?;
                            run.in_tx = false;
                        }
                        continue 'replan;
                    }
                    run.tx_heads = now;
                }
                let started = Instant::now();
                if let Some((script, section)) = section {
                    let at = steps::At {
                        index,
                        total,
                        description: &description,
                        heads: &expected,
                    };
                    self.run_body(conn, script, section, step, run, at).await?;
                }
                let history = self.history_values(step, started.elapsed());
                if single && run.in_tx {
                    // One transaction: only its end state matters, so the version rows
                    // and history are written once, when it commits.
                    run.pending.push(history);
                } else {
                    if dialect == Dialect::Mysql && run.in_tx {
                        // MySQL commits implicitly after DDL; keep the version change
                        // and its history row together in a transaction of their own.
                        let open: i64 =
                            match conn.strings("SELECT CAST(@@in_transaction AS CHAR)").await {
                                Ok(v) => v.first().and_then(|x| x.parse().ok()).unwrap_or(0),
                                Err(_) => 0,
                            };
                        if open == 0 {
                            self.tx(conn, "BEGIN").await?;
                        }
                    }
                    let mut sql = String::new();
                    let vt = self.qualified(&self.opts.version_table);
                    for c in &step.changes {
                        sql.push_str(&change_sql(&vt, c));
                        sql.push_str(";\n");
                    }
                    sql.push_str(&self.history_insert_rows(std::slice::from_ref(&history)));
                    self.book(conn, &sql, step.changes.len() as u64 + 1, step)
                        .await?;
                    if run.in_tx {
                        self.tx(conn, "COMMIT").await?;
                        run.in_tx = false;
                    }
                }
                apply_changes(&mut expected, &step.changes);
                let duration = started.elapsed();
                notify(Some(duration));
                tracing::info!(
                    revision = step.revision.as_deref().unwrap_or(""),
                    duration_ms = duration.as_secs_f64() * 1000.0,
                    "Running {description}"
                );
                run.report.steps.push(StepReport {
                    revision: step.revision.clone(),
                    direction: step.direction,
                    description,
                    duration,
                });
            }
            if run.in_tx {
                self.flush(conn, run, &expected).await?;
                self.tx(conn, "COMMIT").await?;
                run.in_tx = false;
            }
            run.report.heads = expected;
            return Ok(());
        }
    }

    /// Writes what a single transaction deferred: the version rows moved from what the
    /// transaction started with to `expected`, and the history rows.
    async fn flush(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        expected: &[String],
    ) -> Result<(), MigrateError> {
        if run.pending.is_empty() {
            return Ok(());
        }
        let vt = self.qualified(&self.opts.version_table);
        let mut sql = String::new();
        let mut rows = 0u64;
        for gone in run.tx_heads.iter().filter(|h| !expected.contains(h)) {
            sql.push_str(&change_sql(&vt, &VersionChange::Delete(gone.clone())));
            sql.push_str(";\n");
            rows += 1;
        }
        for new in expected.iter().filter(|h| !run.tx_heads.contains(h)) {
            sql.push_str(&change_sql(&vt, &VersionChange::Insert(new.clone())));
            sql.push_str(";\n");
            rows += 1;
        }
        for chunk in run.pending.chunks(500) {
            sql.push_str(&self.history_insert_rows(chunk));
            sql.push_str(";\n");
            rows += chunk.len() as u64;
        }
        let step = Step {
            revision: None,
            direction: Direction::Upgrade,
            from: run.tx_heads.clone(),
            to: expected.to_vec(),
            changes: Vec::new(),
        };
        self.book(conn, &sql, rows, &step).await?;
        run.pending.clear();
        run.tx_heads = expected.to_vec();
        Ok(())
    }

    async fn book(
        &self,
        conn: &mut Conn,
        sql: &str,
        rows: u64,
        step: &Step,
    ) -> Result<(), MigrateError> {
        match conn.execute(sql).await {
            Ok(n) if n == rows => Ok(()),
            Ok(n) => Err(MigrateError::VersionTable {
                table: self.opts.version_table.clone(),
                revision: step.revision.clone().unwrap_or_else(|| step.to.join(", ")),
                expected: rows,
                actual: n,
            }),
            Err(e) => Err(MigrateError::db("cannot update the version table", e)),
        }
    }

    /// `begin` and the version table's rows in one round trip (SQLite).
    async fn begin_and_read_heads(
        &self,
        conn: &mut Conn,
        begin: &str,
    ) -> Result<Vec<String>, MigrateError> {
        let sql = format!(
            "{begin}; SELECT version_num FROM {}",
            self.qualified(&self.opts.version_table)
        );
        match conn.strings(&sql).await {
            Ok(mut v) => {
                v.sort();
                Ok(v)
            }
            Err(e) if conn.is_busy(&e) => Err(MigrateError::LockTimeout {
                waited: self.opts.lock_timeout,
                what: "SQLite write lock".to_string(),
            }),
            Err(e) => Err(MigrateError::db(
                "cannot begin a transaction and read the version table",
                e,
            )),
        }
    }

    async fn tx(&self, conn: &mut Conn, sql: &str) -> Result<(), MigrateError> {
        match conn.execute(sql).await {
            Ok(_) => Ok(()),
            Err(e) if conn.is_busy(&e) => Err(MigrateError::LockTimeout {
                waited: self.opts.lock_timeout,
                what: "SQLite write lock".to_string(),
            }),
            Err(e) => Err(MigrateError::db(format!("cannot run {sql}"), e)),
        }
    }

    async fn run_sql(
        &self,
        conn: &mut Conn,
        script: &Script,
        section: &Section,
        direction: Direction,
        report: &Report,
    ) -> Result<(), MigrateError> {
        for (index, (line, stmt)) in split_statements(&section.sql).into_iter().enumerate() {
            if let Err(source) = conn.execute(stmt).await {
                let message = match &source {
                    sqlx::Error::Database(d) => d.message().to_string(),
                    other => other.to_string(),
                };
                let hint = failure_hint(&message);
                let partly_applied = if !conn.dialect().transactional_ddl() {
                    Some("MySQL and MariaDB commit each DDL statement at once, so what ran before the failure stays")
                } else if !script.transactional && index > 0 {
                    Some("it is `transactional: false`, so the statements before this one stay")
                } else {
                    None
                };
                return Err(MigrateError::Migration(Box::new(MigrationFailed {
                    direction: direction.name(),
                    revision: script.revision.to_string(),
                    path: script.path.to_string(),
                    line: section.line + line - 1,
                    statement: stmt.to_string(),
                    message,
                    applied: report.revisions().iter().map(|s| s.to_string()).collect(),
                    partly_applied,
                    resumable: false,
                    hint,
                    source,
                })));
            }
        }
        Ok(())
    }

    fn describe(&self, step: &Step) -> String {
        let mut s = format!(
            "{} {} -> {}",
            step_kind(step),
            step.from.join(", "),
            step.to.join(", ")
        );
        if let Some(script) = step.revision.as_deref().and_then(|r| self.dir.script(r)) {
            if !script.message.is_empty() {
                s.push_str(", ");
                s.push_str(&script.message);
            }
        }
        s
    }

    fn history_insert(
        &self,
        revision: &str,
        direction: &'static str,
        checksum: Option<&str>,
        took: Duration,
    ) -> String {
        self.history_insert_rows(&[HistoryValues {
            revision: revision.to_string(),
            direction,
            checksum: checksum.map(str::to_string),
            millis: took.as_millis(),
        }])
    }

    fn history_insert_rows(&self, rows: &[HistoryValues]) -> String {
        let mut sql = format!(
            "INSERT INTO {} (revision, direction, checksum, duration_ms) VALUES ",
            self.qualified(&self.history_name())
        );
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let sum = r
                .checksum
                .as_deref()
                .map(|c| format!("'{c}'"))
                .unwrap_or_else(|| "NULL".to_string());
            sql.push_str(&format!(
                "('{}', '{}', {sum}, {})",
                r.revision, r.direction, r.millis
            ));
        }
        sql
    }

    /// The history row of a step.
    fn history_values(&self, step: &Step, took: Duration) -> HistoryValues {
        let (revision, direction, checksum) = match &step.revision {
            Some(r) => (
                r.clone(),
                step.direction.name(),
                self.dir.script(r).map(|s| s.checksum.to_hex()),
            ),
            None => {
                let target = step.to.first().cloned();
                let sum = target
                    .as_deref()
                    .and_then(|t| self.dir.script(t))
                    .filter(|_| step.direction == Direction::Upgrade)
                    .map(|s| s.checksum.to_hex());
                (target.unwrap_or_else(|| "base".to_string()), "stamp", sum)
            }
        };
        HistoryValues {
            revision,
            direction,
            checksum,
            millis: took.as_millis(),
        }
    }

    /// The script of an offline run, as Alembic's `--sql` prints it: the version
    /// table's creation in the first step from an empty table, `-- Running upgrade a
    /// -> b` comments, the migration SQL and the version-table statements,
    /// BEGIN/COMMIT where the database has transactional DDL. `range` is `from:to`
    /// (`from` may be omitted for upgrades, meaning base; unlike Alembic it may name
    /// several revisions, e.g. `heads`).
    ///
    /// # Errors
    /// A malformed range, resolution failures, irreversible revisions or revisions
    /// without SQL for `dialect`.
    pub fn sql(
        &self,
        direction: Direction,
        range: &str,
        dialect: Dialect,
    ) -> Result<String, MigrateError> {
        self.check_names()?;
        let (from, to) = match range.split_once(':') {
            Some((f, t)) => (f, t),
            None if direction == Direction::Upgrade => ("", range),
            None => return Err(RevisionError::BadRange(range.to_string()).into()),
        };
        if direction == Direction::Downgrade && from.is_empty() {
            return Err(RevisionError::BadRange(range.to_string()).into());
        }
        let current = self.offline_start(from)?;
        let plan = match direction {
            Direction::Upgrade => self.dir.map.upgrade_plan(&current, to)?,
            Direction::Downgrade => self.dir.map.downgrade_plan(&current, to)?,
        };
        self.offline_script(&plan, current, dialect)
    }

    /// Alembic's `stamp --sql`: the version-table statements that set the table to
    /// `targets` (an empty table before, or the start of one `from:to` range), with
    /// transactions as [`sql`](Self::sql) writes them. No migration SQL. There is no
    /// purge: a script written without the database cannot know its stray rows.
    ///
    /// # Errors
    /// A malformed range, invalid table names and resolution failures.
    pub fn stamp_sql(&self, targets: &[&str], dialect: Dialect) -> Result<String, MigrateError> {
        self.check_names()?;
        let (from, targets): (&str, Vec<&str>) = match targets {
            [one] if one.contains(':') => match one.split_once(':') {
                Some((_, "")) | None => return Err(RevisionError::BadRange(one.to_string()).into()),
                Some((f, to)) => (f, vec![to]),
            },
            many => ("", many.to_vec()),
        };
        let current = self.offline_start(from)?;
        let plan = self.dir.map.stamp_plan(&current, &targets, false)?;
        self.offline_script(&plan, current, dialect)
    }

    /// The version rows an offline range starts from: none for `base` or an omitted
    /// start, else what the start resolves to.
    fn offline_start(&self, from: &str) -> Result<Vec<String>, MigrateError> {
        if from.is_empty() || from == "base" {
            return Ok(Vec::new());
        }
        Ok(self
            .dir
            .map
            .resolve(from)?
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    /// Writes a plan as Alembic's offline mode does: `-- Running ...` comments, the
    /// migration SQL and the version-table statements; one transaction for everything,
    /// or one per step in per-migration mode (none for `transactional: false` scripts),
    /// where the database has transactional DDL; and the version table's creation in
    /// the first step that starts from an empty table.
    fn offline_script(
        &self,
        plan: &Plan,
        mut heads: Vec<String>,
        dialect: Dialect,
    ) -> Result<String, MigrateError> {
        let transactional_ddl = dialect != Dialect::Mysql;
        let per_migration = self.opts.transaction_mode == TransactionMode::PerMigration;
        let vt = self.qualified(&self.opts.version_table);
        let mut out = String::new();
        if transactional_ddl && !per_migration {
            out.push_str("BEGIN;\n\n");
        }
        let total = plan.steps.len();
        self.offline_check(plan, dialect)?;
        for (index, step) in plan.steps.iter().enumerate() {
            let section = self.section_for(step, dialect)?;
            if let Some(hook) = &self.progress {
                let description = self.describe(step);
                for finished in [None, Some(Duration::ZERO)] {
                    (hook.0)(&Progress {
                        index,
                        total,
                        revision: step.revision.as_deref(),
                        description: &description,
                        finished,
                        rows: None,
                    });
                }
            }
            let tx = transactional_ddl
                && per_migration
                && section.is_none_or(|(script, _)| script.transactional);
            if tx {
                out.push_str("BEGIN;\n\n");
            }
            if heads.is_empty() {
                out.push_str(&self.version_table_sql());
            }
            // Writing to a String cannot fail.
            let _ = write!(
                out,
                "-- Running {} {} -> {}\n\n",
                step_kind(step),
                step.from.join(", "),
                step.to.join(", ")
            );
            if let Some((_, section)) = section {
                for (_, stmt) in split_statements(&section.sql) {
                    out.push_str(stmt);
                    out.push_str(";\n\n");
                }
            }
            for c in &step.changes {
                out.push_str(&offline_change_sql(&vt, c, dialect));
                out.push_str(";\n\n");
            }
            if tx {
                out.push_str("COMMIT;\n\n");
            }
            apply_changes(&mut heads, &step.changes);
        }
        if transactional_ddl && !per_migration {
            out.push_str("COMMIT;\n\n");
        }
        Ok(out)
    }

    /// The statement that creates the version table, as offline scripts print it
    /// (`ensure_version --sql`).
    pub fn version_table_sql(&self) -> String {
        format!("{};\n\n", self.version_ddl().replace("IF NOT EXISTS ", ""))
    }
}

/// A hint for database messages whose fix is known.
fn failure_hint(message: &str) -> Option<&'static str> {
    if message.contains("cannot run inside a transaction block")
        || message.contains("cannot be executed within a pipeline")
    {
        // PostgreSQL: CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE (< 12).
        return Some("this statement cannot run in a transaction: put it in a revision of its own with `-- transactional: false` in the header");
    }
    None
}

/// Alembic's name for a step in its log lines.
fn step_kind(step: &Step) -> &'static str {
    match step.revision {
        Some(_) => step.direction.name(),
        None => "stamp_revision",
    }
}

fn change_sql(vt: &str, c: &VersionChange) -> String {
    match c {
        VersionChange::Insert(v) => format!("INSERT INTO {vt} (version_num) VALUES ('{v}')"),
        VersionChange::Delete(v) => format!("DELETE FROM {vt} WHERE {vt}.version_num = '{v}'"),
        VersionChange::Update { from, to } => {
            format!("UPDATE {vt} SET version_num='{to}' WHERE {vt}.version_num = '{from}'")
        }
    }
}

/// Alembic's offline rendering, `RETURNING` clause included.
fn offline_change_sql(vt: &str, c: &VersionChange, dialect: Dialect) -> String {
    let base = change_sql(vt, c);
    match (c, dialect) {
        (VersionChange::Insert(_), Dialect::Postgres) => {
            format!("{base} RETURNING {vt}.version_num")
        }
        (VersionChange::Insert(_), Dialect::Sqlite) => format!("{base} RETURNING version_num"),
        _ => base,
    }
}

fn apply_changes(heads: &mut Vec<String>, changes: &[VersionChange]) {
    for c in changes {
        match c {
            VersionChange::Insert(v) => heads.push(v.clone()),
            VersionChange::Delete(v) => heads.retain(|h| h != v),
            VersionChange::Update { from, to } => {
                heads.retain(|h| h != from);
                heads.push(to.clone());
            }
        }
    }
    heads.sort();
}
