//! Batched data migrations: SQL statements under `-- migrate:batch` and the Rust batch
//! helper [`MigrationContext::backfill`], both resumable through the progress table.
//!
//! Each batch commits on its own, with a row of `<version_table>_progress` saying how
//! far the migration got, so a run that stops (a crash, `kill -9`, Ctrl-C through a
//! [`StopHandle`]) starts again where it stood when run again. The version row moves
//! only once the whole migration has finished, in the transaction that also deletes the
//! migration's progress rows.

use crate::driver::{Arg, Backend, Conn};
use crate::error::{MigrateError, MigrationFailed};
use crate::rust_migration::{MigrationContext, MigrationError};
use migrate_core::batch::{statements, BatchError, BatchSpec, Statement};
use migrate_core::{
    Dialect, Direction, LoadError, ParseError, ParseErrorKind, Problem, Script, Section,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Asks running batched migrations to stop after the batch they are on: they commit it
/// and fail with an "interrupted" error, resumable by running them again. Cloned
/// handles share one flag; hand one to [`Migrator::stop_handle`](crate::Migrator::stop_handle)
/// and call [`stop`](Self::stop) from a signal handler (the `migrate` command line does
/// on Ctrl-C).
#[derive(Debug, Clone, Default)]
pub struct StopHandle {
    stop: Arc<AtomicBool>,
    interrupt: Arc<AtomicBool>,
}

impl StopHandle {
    /// A handle nobody has stopped yet.
    pub fn new() -> StopHandle {
        StopHandle::default()
    }

    /// Asks for the stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Asks for a stop now, from any thread: a statement running on SQLite in the
    /// calling thread (see [`Migrator::sqlite_inline`](crate::Migrator::sqlite_inline))
    /// is interrupted, its migration rolled back, and the run fails naming it. Where
    /// the run's future can be dropped instead (anywhere else), dropping it has the
    /// same effect.
    pub fn interrupt(&self) {
        self.interrupt.store(true, Ordering::SeqCst);
    }

    /// Whether an interrupt was asked for.
    pub fn is_interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }

    /// The flag SQLite's progress handler reads while a statement runs inline.
    pub(crate) fn interrupt_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupt)
    }
}

/// How far a batched step has got: what a progress display shows (see
/// [`Progress::rows`](crate::Progress::rows)).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RowProgress {
    /// Rows done, batches of earlier, interrupted runs included.
    pub rows_done: u64,
    /// Rows to do in all, when known: the Rust batch helper counts them when it starts,
    /// a batched SQL statement when it has a `-- migrate:batch-rows` query.
    pub rows_total: Option<u64>,
    /// Rows per second in this run.
    pub rows_per_second: f64,
    /// Time left at this rate, when the total is known.
    pub eta: Option<Duration>,
    /// Batches committed in this run.
    pub batches: u64,
}

impl RowProgress {
    fn new(
        rows_done: u64,
        run_rows: u64,
        total: Option<u64>,
        batches: u64,
        since: Instant,
    ) -> Self {
        let secs = since.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            run_rows as f64 / secs
        } else {
            0.0
        };
        let eta = total
            .filter(|_| rate > 0.0)
            .map(|t| Duration::from_secs_f64(t.saturating_sub(rows_done) as f64 / rate));
        RowProgress {
            rows_done,
            rows_total: total,
            rows_per_second: rate,
            eta,
            batches,
        }
    }
}

/// Where a batched step that an earlier run left unfinished (stopped, killed, failed)
/// starts again: what a rerun reports before its first batch (see
/// [`Progress::resumed`](crate::Progress::resumed)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resume {
    /// A migration of `-- migrate:batch` statements continues at one of them (those
    /// before it completed).
    Statement {
        /// The 1-based number of the statement it continues at.
        number: usize,
        /// The statements of its section.
        of: usize,
        /// The statement's line in the file.
        line: usize,
        /// Rows that statement changed in earlier runs (a batched one's committed
        /// batches).
        rows_done: u64,
    },
    /// A walk of [`MigrationContext::backfill`] continues after its last committed key
    /// (the migration's function itself runs again from the top).
    Walk {
        /// The walk: `table.key`, or its [name](Backfill::name).
        walk: String,
        /// The last key its committed batches reached.
        last_key: String,
        /// Rows its committed batches did.
        rows_done: u64,
    },
}

impl std::fmt::Display for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resume::Statement {
                number,
                of,
                line,
                rows_done,
            } => {
                write!(f, "at statement {number} of {of} (line {line})")?;
                if *rows_done > 0 {
                    write!(f, ", {rows_done} rows of it done before")?;
                }
                Ok(())
            }
            Resume::Walk {
                walk,
                last_key,
                rows_done,
            } => write!(
                f,
                "with walk `{walk}` after key {last_key} ({rows_done} rows done before); its function runs again from the top"
            ),
        }
    }
}

/// What a batched step reports while it runs.
pub(crate) enum StepEvent<'e> {
    /// Rows done, after each committed batch.
    Rows(&'e RowProgress),
    /// It continues what an earlier run left unfinished.
    Resumed(&'e Resume),
}

/// Where a batched step reports its rows and where it resumes: the migrator's progress
/// hook, with the step's place in the plan.
pub(crate) struct ProgressSink<'a>(pub(crate) Option<&'a (dyn Fn(StepEvent<'_>) + Send + Sync)>);

impl ProgressSink<'_> {
    fn send(&self, p: &RowProgress) {
        if let Some(f) = self.0 {
            f(StepEvent::Rows(p));
        }
    }

    fn resumed(&self, revision: &str, resume: &Resume) {
        tracing::info!(revision = %revision, "resuming revision {revision} {resume}");
        if let Some(f) = self.0 {
            f(StepEvent::Resumed(resume));
        }
    }
}

/// The database's message of a driver error.
pub(crate) fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// Whether a migration records its progress: batched SQL statements or Rust code,
/// outside a transaction (a transactional migration commits all or nothing, so it has
/// nothing to resume).
pub(crate) fn resumable(script: &Script) -> bool {
    !script.transactional && (script.is_rust() || script.has_batches())
}

/// The progress table's statements, for one migration's walk.
pub(crate) struct ProgressRecord<'a> {
    pub(crate) table: &'a str,
    pub(crate) revision: &'a str,
    pub(crate) walk: String,
}

impl ProgressRecord<'_> {
    /// The last key and rows done recorded, if any.
    async fn read(&self, conn: &mut Conn) -> Result<Option<(Option<String>, u64)>, sqlx::Error> {
        let b = conn.backend();
        let sql = format!(
            "SELECT last_key, rows_done FROM {} WHERE revision = {} AND walk = {}",
            self.table,
            b.placeholder(1),
            b.placeholder(2)
        );
        let (revision, walk) = (self.revision, self.walk.as_str());
        let rows = conn
            .query(&sql, &[Arg::Text(revision), Arg::Text(walk)])
            .await?;
        let row = rows.into_iter().next().map(|row| {
            let mut cols = row.into_iter();
            let key = cols.next().flatten();
            let done = cols.next().flatten().and_then(|n| n.parse::<i64>().ok());
            (key, done.unwrap_or(0))
        });
        Ok(row.map(|(k, n)| (k, u64::try_from(n).unwrap_or(0))))
    }

    /// The statement that records the last key and the rows done (insert or update),
    /// with placeholders for them.
    fn mark_sql(&self, backend: &dyn Backend) -> String {
        let p = [1, 2, 3, 4].map(|n| backend.placeholder(n));
        let [r, w, k, n] = &p;
        backend.upsert_progress(self.table, [r, w, k, n])
    }

    /// Records `last_key` and `rows_done`.
    async fn mark(
        &self,
        conn: &mut Conn,
        last_key: &str,
        rows_done: u64,
    ) -> Result<(), sqlx::Error> {
        let sql = self.mark_sql(conn.backend());
        let args = [
            Arg::Text(self.revision),
            Arg::Text(&self.walk),
            Arg::Text(last_key),
            Arg::Int(i64::try_from(rows_done).unwrap_or(i64::MAX)),
        ];
        conn.execute_bound(&sql, &args).await.map(|_| ())
    }
}

/// Deletes a revision's progress rows, in the transaction that moves its version row.
pub(crate) async fn forget(
    conn: &mut Conn,
    table: &str,
    revision: &str,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "DELETE FROM {table} WHERE revision = {}",
        conn.backend().placeholder(1)
    );
    conn.execute_bound(&sql, &[Arg::Text(revision)]).await
}

/// Whether a revision has progress rows: batches or statements that earlier runs
/// committed, which running it again continues after.
pub(crate) async fn has_progress(
    conn: &mut Conn,
    table: &str,
    revision: &str,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM {table} WHERE revision = {}",
        conn.backend().placeholder(1)
    );
    Ok(conn.count_bound(&sql, &[Arg::Text(revision)]).await? > 0)
}

/// What a batched SQL step needs besides the connection.
pub(crate) struct SqlStep<'a> {
    pub(crate) script: &'a Script,
    pub(crate) section: &'a Section,
    pub(crate) direction: Direction,
    pub(crate) progress_table: &'a str,
    pub(crate) sink: &'a ProgressSink<'a>,
    pub(crate) stop: &'a StopHandle,
    /// Revisions the run completed before this one, for the error.
    pub(crate) applied: Vec<String>,
}

impl SqlStep<'_> {
    /// The progress table's row of this run's direction and file.
    fn record(&self) -> ProgressRecord<'_> {
        ProgressRecord {
            table: self.progress_table,
            revision: &self.script.revision,
            // A file edited since the progress was recorded starts again from the top.
            walk: format!(
                "{} sql {}",
                self.direction.name(),
                &self.script.checksum.to_hex()[..16]
            ),
        }
    }

    /// The section's directives' problems, each at its line in the file.
    fn invalid(&self, errs: Vec<(usize, BatchError)>) -> MigrateError {
        let problems = errs
            .into_iter()
            .map(|(line, e)| {
                Problem::Parse(ParseError {
                    path: self.script.path.to_string(),
                    line: self.section.line + line - 1,
                    kind: ParseErrorKind::Batch(e),
                })
            })
            .collect();
        MigrateError::Load(LoadError::Invalid(problems))
    }

    /// Where the step starts: the statement after the last one an earlier run
    /// completed, and the rows that statement's committed batches did (reported as a
    /// resume when an earlier run left the step unfinished).
    async fn resume_point(
        &self,
        conn: &mut Conn,
        record: &ProgressRecord<'_>,
        stmts: &[Statement<'_>],
    ) -> Result<(usize, u64), MigrateError> {
        let recorded = record
            .read(conn)
            .await
            .map_err(|e| MigrateError::db("cannot read the migration progress table", e))?;
        let (start, rows_done) = match &recorded {
            Some((Some(key), rows)) => (key.parse::<usize>().unwrap_or(0), *rows),
            _ => (0, 0),
        };
        if recorded.is_some() {
            if let Some(stmt) = stmts.get(start) {
                let resume = Resume::Statement {
                    number: start + 1,
                    of: stmts.len(),
                    line: self.section.line + stmt.line - 1,
                    rows_done,
                };
                self.sink.resumed(&self.script.revision, &resume);
            }
        }
        Ok((start, rows_done))
    }
}

/// Runs the SQL of a migration with `-- migrate:batch` statements (outside any
/// transaction: the parser refuses them elsewhere). Statements run in order, each
/// batched one repeated, one transaction a repetition, until it changes no rows; the
/// progress table records the statement reached (and the rows done), so a run that
/// stopped starts again after the last completed statement.
pub(crate) async fn run_sql(conn: &mut Conn, step: &SqlStep<'_>) -> Result<(), MigrateError> {
    let record = step.record();
    // The parser refused these already; only data built by hand gets here.
    let stmts = statements(&step.section.sql).map_err(|errs| step.invalid(errs))?;
    let (start, mut rows_done) = step.resume_point(conn, &record, &stmts).await?;
    for (index, stmt) in stmts.iter().enumerate().skip(start) {
        let run = StatementRun {
            step,
            record: &record,
            index,
            stmt,
        };
        match stmt.batch {
            None => run.once(conn).await?,
            Some(spec) => run.batched(conn, spec, rows_done).await?,
        }
        // Only the statement an earlier run stopped in has rows done already.
        rows_done = 0;
    }
    Ok(())
}

/// One statement of a batched SQL step, and where it stands in the step.
struct StatementRun<'r> {
    step: &'r SqlStep<'r>,
    record: &'r ProgressRecord<'r>,
    /// The statement's 0-based place among the section's statements.
    index: usize,
    stmt: &'r Statement<'r>,
}

impl StatementRun<'_> {
    /// The statement's line in the file.
    fn line(&self) -> usize {
        self.step.section.line + self.stmt.line - 1
    }

    /// The migration's failure at this statement running `sql`; `partly`: whether
    /// anything of the migration committed before the failure.
    fn failed(&self, source: sqlx::Error, sql: &str, partly: bool) -> MigrateError {
        let script = self.step.script;
        MigrateError::Migration(Box::new(MigrationFailed {
            direction: self.step.direction,
            revision: script.revision.to_string(),
            path: script.path.to_string(),
            line: self.line(),
            statement: sql.to_string(),
            message: db_message(&source),
            applied: self.step.applied.clone(),
            partly_applied: partly.then_some(RESUMABLE),
            resumable: true,
            hint: None,
            source,
        }))
    }

    /// Runs a statement that is not batched, then records the next one as where the
    /// step continues.
    async fn once(&self, conn: &mut Conn) -> Result<(), MigrateError> {
        if let Err(e) = conn.execute(self.stmt.sql).await {
            return Err(self.failed(e, self.stmt.sql, self.index > 0));
        }
        let next = (self.index + 1).to_string();
        self.record
            .mark(conn, &next, 0)
            .await
            .map_err(|e| MigrateError::db("cannot record the migration's progress", e))
    }

    /// Repeats a batched statement, one transaction a repetition, until it changes no
    /// rows; `rows_done`: the rows its batches did in earlier runs.
    async fn batched(
        &self,
        conn: &mut Conn,
        spec: BatchSpec,
        mut rows_done: u64,
    ) -> Result<(), MigrateError> {
        let sql = spec.render(self.stmt.sql);
        let total = self.total(conn, rows_done).await?;
        let started = Instant::now();
        let (mut run_rows, mut batches) = (0u64, 0u64);
        loop {
            if spec.max_batches.is_some_and(|max| batches >= max) {
                return Err(self.batch_limit(spec));
            }
            let n = self.one_batch(conn, &sql, rows_done).await?;
            if n == 0 {
                return Ok(());
            }
            batches += 1;
            run_rows += n;
            rows_done += n;
            self.step.sink.send(&RowProgress::new(
                rows_done, run_rows, total, batches, started,
            ));
            if self.step.stop.is_stopped() {
                return Err(self.interrupted(rows_done));
            }
            if !spec.pause.is_zero() {
                tokio::time::sleep(spec.pause).await;
            }
        }
    }

    /// The rows the statement's batches will have done in all, from its
    /// `-- migrate:batch-rows` query when it has one.
    async fn total(&self, conn: &mut Conn, rows_done: u64) -> Result<Option<u64>, MigrateError> {
        let Some(query) = self.stmt.rows_query else {
            return Ok(None);
        };
        match count(conn, query).await {
            Ok(left) => Ok(Some(rows_done + left)),
            Err(e) => Err(self.failed(e, query, self.index > 0 || rows_done > 0)),
        }
    }

    /// One repetition of `sql` in its own transaction, committed with the progress it
    /// makes (rolled back on an error): the rows it changed.
    async fn one_batch(
        &self,
        conn: &mut Conn,
        sql: &str,
        rows_done: u64,
    ) -> Result<u64, MigrateError> {
        let index = self.index;
        let record = self.record;
        let batch = async {
            conn.begin().await.map_err(|e| (e, false))?;
            let n = conn.execute(sql).await.map_err(|e| (e, true))?;
            // A finished statement's rows are not the next one's.
            let (key, rows) = if n == 0 {
                (index + 1, 0)
            } else {
                (index, rows_done + n)
            };
            record
                .mark(conn, &key.to_string(), rows)
                .await
                .map_err(|e| (e, false))?;
            conn.commit().await.map_err(|e| (e, false))?;
            Ok::<u64, (sqlx::Error, bool)>(n)
        };
        match batch.await {
            Ok(n) => Ok(n),
            Err((e, statement)) => {
                if conn.in_transaction() {
                    let _ = conn.rollback().await;
                }
                if statement {
                    return Err(self.failed(e, sql, index > 0 || rows_done > 0));
                }
                Err(MigrateError::db("cannot commit a batch", e))
            }
        }
    }

    /// The error of a statement that reached its `max=` batches still changing rows.
    fn batch_limit(&self, spec: BatchSpec) -> MigrateError {
        let script = self.step.script;
        MigrateError::BatchLimit {
            revision: script.revision.to_string(),
            path: script.path.to_string(),
            line: self.line(),
            max: spec.max_batches.unwrap_or(0),
            applied: self.step.applied.clone(),
        }
    }

    /// The error of a run stopped after a committed batch.
    fn interrupted(&self, rows_done: u64) -> MigrateError {
        let script = self.step.script;
        MigrateError::Interrupted {
            revision: script.revision.to_string(),
            path: script.path.to_string(),
            rows_done,
            applied: self.step.applied.clone(),
        }
    }
}

/// Runs a query counting rows (read as a 64-bit integer whatever type it returns).
async fn count(conn: &mut Conn, query: &str) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "SELECT {}",
        conn.backend().cast(&format!("({query})"), false)
    );
    let rows = conn.query(&sql, &[]).await?;
    let n = rows
        .into_iter()
        .next()
        .ok_or(sqlx::Error::RowNotFound)?
        .into_iter()
        .next()
        .flatten()
        .and_then(|n| n.parse::<i64>().ok());
    Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// How [`MigrationFailed::partly_applied`] describes a resumable migration.
pub(crate) const RESUMABLE: &str = "its batches and completed statements are committed and recorded in the progress table, so running it again continues after them";

/// A table walked by its key in batches: what [`MigrationContext::backfill`] runs.
///
/// ```
/// use migrate_runtime::Backfill;
/// use std::time::Duration;
///
/// let fill = Backfill::new("tickets", "id")
///     .batch_size(1000)
///     .filter("resolved_at IS NOT NULL")
///     .pause(Duration::from_millis(50));
/// assert_eq!(fill.walk(), "tickets.id");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    table: String,
    key: String,
    size: u64,
    pause: Duration,
    filter: Option<String>,
    max_batches: Option<u64>,
    text_key: bool,
    name: Option<String>,
}

impl Backfill {
    /// Walks `table` by `key`, a unique column that is never NULL (the primary key), in
    /// batches of 1,000.
    /// Both are written into the SQL as given (quote them there if they need it).
    pub fn new(table: impl Into<String>, key: impl Into<String>) -> Backfill {
        Backfill {
            table: table.into(),
            key: key.into(),
            size: 1000,
            pause: Duration::ZERO,
            filter: None,
            max_batches: None,
            text_key: false,
            name: None,
        }
    }

    /// Rows per batch (at least 1).
    pub fn batch_size(mut self, rows: u64) -> Backfill {
        self.size = rows.max(1);
        self
    }

    /// A wait after each committed batch, to leave the database to other traffic.
    pub fn pause(mut self, pause: Duration) -> Backfill {
        self.pause = pause;
        self
    }

    /// Only rows matching this SQL condition make up the batches (e.g.
    /// `score IS NULL`); the key still only moves forward.
    pub fn filter(mut self, condition: impl Into<String>) -> Backfill {
        self.filter = Some(condition.into());
        self
    }

    /// At most this many batches in one run: more stops it with an error (the walk
    /// stays resumable).
    pub fn max_batches(mut self, max: u64) -> Backfill {
        self.max_batches = Some(max);
        self
    }

    /// The key is text (a UUID, a code), not an integer.
    pub fn text_key(mut self) -> Backfill {
        self.text_key = true;
        self
    }

    /// Names the walk, for a migration that walks one table twice (the name is what the
    /// progress table records; `table.key` by default).
    pub fn name(mut self, name: impl Into<String>) -> Backfill {
        self.name = Some(name.into());
        self
    }

    /// What the progress table records the walk as: the name, else `table.key`.
    pub fn walk(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}.{}", self.table, self.key))
    }

    fn where_after(&self, last: Option<&BatchKey>, dialect: Dialect) -> String {
        let mut conds = Vec::new();
        if let Some(last) = last {
            conds.push(format!("{} > {}", self.key, last.sql_literal(dialect)));
        }
        if let Some(f) = &self.filter {
            conds.push(format!("({f})"));
        }
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        }
    }

    /// The rows of the walk whose key is NULL: `WHERE key IS NULL AND (filter)`.
    fn where_null(&self) -> String {
        match &self.filter {
            Some(f) => format!(" WHERE {} IS NULL AND ({f})", self.key),
            None => format!(" WHERE {} IS NULL", self.key),
        }
    }

    /// The key as the query reads it back: an integer or text of every database.
    fn cast(&self, expr: &str, dialect: Dialect) -> String {
        crate::driver::of(dialect).cast(expr, self.text_key)
    }
}

/// A key of a walked table: the first and last of a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BatchKey {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
}

impl BatchKey {
    /// The key as an integer, for integer keys.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            BatchKey::Int(i) => Some(*i),
            BatchKey::Text(_) => None,
        }
    }

    /// The key as SQL: the number, or a quoted string literal for `dialect`.
    pub fn sql_literal(&self, dialect: Dialect) -> String {
        match self {
            BatchKey::Int(i) => i.to_string(),
            BatchKey::Text(s) => crate::driver::of(dialect).literal(s),
        }
    }

    fn parse(s: &str, text: bool) -> Option<BatchKey> {
        if text {
            Some(BatchKey::Text(s.to_string()))
        } else {
            s.parse().ok().map(BatchKey::Int)
        }
    }

    fn record(&self) -> String {
        match self {
            BatchKey::Int(i) => i.to_string(),
            BatchKey::Text(s) => s.clone(),
        }
    }
}

impl std::fmt::Display for BatchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchKey::Int(i) => write!(f, "{i}"),
            BatchKey::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// One batch of a [`Backfill`]: the keys from [`first`](Self::first) to
/// [`last`](Self::last) (inclusive), and the connection inside the batch's transaction,
/// which commits together with the progress record after the caller's code.
pub struct Batch<'x> {
    conn: &'x mut Conn,
    key: &'x str,
    first: BatchKey,
    last: BatchKey,
    rows: u64,
    number: u64,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("first", &self.first)
            .field("last", &self.last)
            .field("rows", &self.rows)
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

impl Batch<'_> {
    /// The first key of the batch.
    pub fn first(&self) -> &BatchKey {
        &self.first
    }

    /// The last key of the batch.
    pub fn last(&self) -> &BatchKey {
        &self.last
    }

    /// Rows in the batch (those of the walk's filter, if it has one).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The 1-based number of this batch in this run.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    /// The SQL condition selecting the batch's key range: `id >= 1001 AND id <= 2000`
    /// (repeat the walk's filter, if it has one, to leave out the rows it skipped).
    pub fn range(&self) -> String {
        let d = self.dialect();
        format!(
            "{k} >= {} AND {k} <= {}",
            self.first.sql_literal(d),
            self.last.sql_literal(d),
            k = self.key
        )
    }

    /// sqlx's SQLite connection, when the walk runs on SQLite, inside the batch's
    /// transaction: do not commit or roll back on it.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        self.conn.sqlx_connection()
    }

    /// sqlx's PostgreSQL connection (see [`Batch::sqlite`]).
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        self.conn.sqlx_connection()
    }

    /// sqlx's MySQL/MariaDB connection (see [`Batch::sqlite`]).
    #[cfg(feature = "mysql")]
    pub fn mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        self.conn.sqlx_connection()
    }

    /// Runs SQL text in the batch's transaction and returns the rows it changed.
    ///
    /// # Errors
    /// [`MigrationError::Statement`] with the database's message.
    pub async fn execute(&mut self, sql: &str) -> Result<u64, MigrationError> {
        crate::rust_migration::execute(self.conn, sql).await
    }
}

/// The future of the code run on each batch.
pub type BatchFuture<'b> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), MigrationError>> + Send + 'b>>;

impl MigrationContext<'_> {
    /// Walks a table by its key in batches (`WHERE key > last ORDER BY key LIMIT n`,
    /// never `OFFSET`), runs `each` on every batch, and commits each batch together with
    /// a progress record. Run again after a crash, a kill or a stop, the walk resumes
    /// after the last committed key (the migration's function runs again from the top:
    /// what it does before the walk must bear running twice). Reports rows done, rows per second and the time
    /// left through the migrator's progress hook. The migration must be
    /// `transactional: false`.
    ///
    /// The walk holds no snapshot: between batches other writers go on. A row inserted
    /// behind the cursor (or with a NULL key) is missed; a row whose key moves is seen
    /// again if it was walked and moves ahead of the cursor, and missed if it was not
    /// and moves behind; a rerun repeats the batch that failed. So `each` must be idempotent (`... WHERE <range>
    /// AND score IS NULL`), and rows written meanwhile are the application's to write
    /// in their final form.
    ///
    /// ```ignore
    /// let fill = Backfill::new("customer_satisfaction", "id").batch_size(100);
    /// ctx.backfill(&fill, |batch| Box::pin(async move {
    ///     let sql = format!("UPDATE customer_satisfaction SET score = rating WHERE {}", batch.range());
    ///     batch.execute(&sql).await?;
    ///     Ok(())
    /// })).await?;
    /// ```
    ///
    /// # Errors
    /// [`MigrationError::NeedsNonTransactional`] in a transactional migration;
    /// [`MigrationError::NullKeys`] when rows of the walk have a NULL key (which
    /// `key > last` never reaches), before the next batch; the first error of `each`
    /// or of the database (that batch is rolled back);
    /// [`MigrationError::NoProgress`] for a batch whose last key is not after the
    /// previous one; [`MigrationError::TooManyBatches`] past
    /// [`Backfill::max_batches`]; [`MigrationError::Interrupted`] after a stop.
    pub async fn backfill<F>(&mut self, fill: &Backfill, mut each: F) -> Result<(), MigrationError>
    where
        F: for<'b, 'x> FnMut(&'b mut Batch<'x>) -> BatchFuture<'b> + Send,
    {
        if self.transactional {
            return Err(MigrationError::NeedsNonTransactional);
        }
        let dialect = self.dialect();
        let walk = fill.walk();
        let record = ProgressRecord {
            table: self.progress_table,
            revision: self.revision,
            walk: format!("{} {walk}", self.direction.name()),
        };
        let (mut last, mut rows_done) = match record.read(self.conn).await? {
            Some((Some(k), n)) => (BatchKey::parse(&k, fill.text_key), n),
            Some((None, n)) => (None, n),
            None => (None, 0),
        };
        self.walked |= last.is_some();
        if let Some(k) = &last {
            let resume = Resume::Walk {
                walk: walk.clone(),
                last_key: k.to_string(),
                rows_done,
            };
            self.sink.resumed(self.revision, &resume);
        }
        // `key > last` is never true of a NULL key: such rows would be skipped, silently.
        self.refuse_null_keys(fill).await?;
        let remaining = self
            .count_rows(&format!(
                "SELECT COUNT(*) FROM {}{}",
                fill.table,
                fill.where_after(last.as_ref(), dialect)
            ))
            .await?;
        let total = Some(rows_done + remaining);
        let started = Instant::now();
        let (mut run_rows, mut batches) = (0u64, 0u64);
        loop {
            if fill.max_batches.is_some_and(|max| batches >= max) {
                return Err(MigrationError::TooManyBatches {
                    walk,
                    max: fill.max_batches.unwrap_or(0),
                });
            }
            let next = format!(
                "SELECT {}, {}, COUNT(*), COUNT(k) FROM (SELECT {k} AS k FROM {}{} ORDER BY {k} LIMIT {}) b",
                fill.cast("MIN(k)", dialect),
                fill.cast("MAX(k)", dialect),
                fill.table,
                fill.where_after(last.as_ref(), dialect),
                fill.size,
                k = fill.key,
            );
            self.conn
                .begin()
                .await
                .map_err(|e| MigrationError::statement("BEGIN", e))?;
            let outcome = self
                .one_batch(
                    fill,
                    &next,
                    last.as_ref(),
                    &record,
                    rows_done,
                    batches + 1,
                    &mut each,
                )
                .await;
            let (end, n) = match outcome {
                Ok(Some(done)) => done,
                Ok(None) => break,
                Err(e) => {
                    if self.conn.in_transaction() {
                        let _ = self.conn.rollback().await;
                    }
                    return Err(e);
                }
            };
            self.walked = true;
            batches += 1;
            run_rows += n;
            rows_done += n;
            last = Some(end);
            self.sink.send(&RowProgress::new(
                rows_done, run_rows, total, batches, started,
            ));
            if self.stop.is_stopped() {
                return Err(MigrationError::Interrupted { rows_done });
            }
            if !fill.pause.is_zero() {
                tokio::time::sleep(fill.pause).await;
            }
        }
        Ok(())
    }

    /// Runs a `SELECT COUNT(*) ...`.
    async fn count_rows(&mut self, sql: &str) -> Result<u64, MigrationError> {
        let n = self
            .conn
            .count_bound(sql, &[])
            .await
            .map_err(|e| MigrationError::statement(sql, e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// [`MigrationError::NullKeys`] when rows of the walk (its filter applied) have a
    /// NULL key.
    async fn refuse_null_keys(&mut self, fill: &Backfill) -> Result<(), MigrationError> {
        let rows = self
            .count_rows(&format!(
                "SELECT COUNT(*) FROM {}{}",
                fill.table,
                fill.where_null()
            ))
            .await?;
        if rows == 0 {
            return Ok(());
        }
        Err(MigrationError::NullKeys {
            table: fill.table.clone(),
            key: fill.key.clone(),
            rows,
        })
    }

    /// The first and last key of the next batch and its size; `None` at the end of
    /// the walk.
    async fn next_range(
        &mut self,
        fill: &Backfill,
        next: &str,
    ) -> Result<Option<(BatchKey, BatchKey, i64)>, MigrationError> {
        let statement = |e| MigrationError::statement(next, e);
        let row = self
            .conn
            .query(next, &[])
            .await
            .map_err(statement)?
            .into_iter()
            .next()
            .ok_or_else(|| statement(sqlx::Error::RowNotFound))?;
        let [first, last, n, keys] = <[Option<String>; 4]>::try_from(row).map_err(|_| {
            statement(sqlx::Error::Decode(
                "the batch query answers four columns".into(),
            ))
        })?;
        let count = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let (n, keys) = (count(n), count(keys));
        let key = |v: Option<String>| v.and_then(|v| BatchKey::parse(&v, fill.text_key));
        match (key(first), key(last), n) {
            (_, _, 0) => Ok(None),
            (Some(a), Some(b), n) if keys == n => Ok(Some((a, b, n))),
            // NULL keys in the batch (written since the walk started, or sorted
            // first): MIN and MAX skip them, and all NULL is not the end.
            _ => Err(self
                .refuse_null_keys(fill)
                .await
                .err()
                .unwrap_or(MigrationError::NullKeys {
                    table: fill.table.clone(),
                    key: fill.key.clone(),
                    rows: u64::try_from(n - keys).unwrap_or(0),
                })),
        }
    }

    /// One batch, in the transaction the caller began, committed with its progress
    /// record: its last key and rows; `None` (and the transaction committed) when the
    /// walk is done.
    #[allow(clippy::too_many_arguments)]
    async fn one_batch<F>(
        &mut self,
        fill: &Backfill,
        next: &str,
        last: Option<&BatchKey>,
        record: &ProgressRecord<'_>,
        rows_done: u64,
        number: u64,
        each: &mut F,
    ) -> Result<Option<(BatchKey, u64)>, MigrationError>
    where
        F: for<'b, 'x> FnMut(&'b mut Batch<'x>) -> BatchFuture<'b> + Send,
    {
        let range = self.next_range(fill, next).await?;
        let Some((first, end, n)) = range else {
            self.conn
                .commit()
                .await
                .map_err(|e| MigrationError::statement("COMMIT", e))?;
            return Ok(None);
        };
        let moved = match (last, &end) {
            (None, _) => true,
            (Some(BatchKey::Int(a)), BatchKey::Int(b)) => b > a,
            (Some(a), b) => a != b,
        };
        if !moved {
            return Err(MigrationError::NoProgress {
                walk: fill.walk(),
                batch: number,
                key: end.to_string(),
            });
        }
        let mut batch = Batch {
            conn: &mut *self.conn,
            key: &fill.key,
            first: first.clone(),
            last: end.clone(),
            rows: u64::try_from(n).unwrap_or(0),
            number,
        };
        each(&mut batch).await?;
        let rows = batch.rows;
        record
            .mark(self.conn, &end.record(), rows_done + rows)
            .await
            .map_err(|e| MigrationError::statement(&record.mark_sql(self.conn.backend()), e))?;
        self.conn
            .commit()
            .await
            .map_err(|e| MigrationError::statement("COMMIT", e))?;
        Ok(Some((end, rows)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped_per_database() {
        let text = |d| BatchKey::Text("a'b\\c".into()).sql_literal(d);
        assert_eq!(text(Dialect::Postgres), "'a''b\\c'");
        assert_eq!(text(Dialect::Mysql), "'a''b\\\\c'");
        assert_eq!(BatchKey::Int(-3).sql_literal(Dialect::Sqlite), "-3");
    }

    #[test]
    fn eta_from_the_rate_of_this_run() {
        let p = RowProgress::new(500, 0, Some(1000), 0, Instant::now());
        assert_eq!((p.rows_per_second, p.eta), (0.0, None));
        let since = Instant::now() - Duration::from_secs(2);
        let p = RowProgress::new(600, 200, Some(1000), 2, since);
        assert!((p.rows_per_second - 100.0).abs() < 5.0, "{p:?}");
        let eta = p.eta.unwrap().as_secs_f64();
        assert!((3.8..4.2).contains(&eta), "{p:?}");
    }

    #[test]
    fn backfill_queries() {
        let f = Backfill::new("t", "id").filter("x IS NULL");
        assert_eq!(f.where_after(None, Dialect::Sqlite), " WHERE (x IS NULL)");
        assert_eq!(
            f.where_after(Some(&BatchKey::Int(7)), Dialect::Sqlite),
            " WHERE id > 7 AND (x IS NULL)"
        );
        assert_eq!(
            f.cast("MIN(k)", Dialect::Postgres),
            "CAST(MIN(k) AS BIGINT)"
        );
        let t = Backfill::new("t", "code").text_key().name("codes");
        assert_eq!(t.walk(), "codes");
        assert_eq!(
            t.where_after(Some(&BatchKey::Text("o'k".into())), Dialect::Mysql),
            " WHERE code > 'o''k'"
        );
        assert_eq!(f.where_null(), " WHERE id IS NULL AND (x IS NULL)");
        assert_eq!(t.where_null(), " WHERE code IS NULL");
    }
}
