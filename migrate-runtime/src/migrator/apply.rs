//! Running plans: the lock, the run loop (plan, check, run each step in the
//! transactions [`Transactions`] gives it, plan again when told to) and the version and
//! history rows written with each step.

use super::steps::{At, PlannedStep};
use super::transactions::{Outcome, Transactions};
use super::{HistoryEvent, HistoryValues, Migrator, Op, Progress, Report, Run, StepReport};
use crate::driver::{Arg, Backend, Conn, Db, Held, JoinedRequest};
use crate::error::{MigrateError, MigrationFailed};
use migrate_core::sql::split_statements;
use migrate_core::{Dialect, Direction, Plan, RevisionError, Script, Section, Step, VersionChange};
use std::time::{Duration, Instant};

impl Migrator {
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
        let mut held = self.hold(db.into()).await?;
        let conn = &mut held.conn;
        let result = async {
            self.ensure_tables(conn).await?;
            let heads = self.read_heads(conn).await?;
            let recorded = self.recorded_checksums(conn).await?;
            let mut accepted = Vec::new();
            for e in self.edited(&heads, &recorded)? {
                if revisions.is_some_and(|r| !r.contains(&e.revision.as_str())) {
                    continue;
                }
                let row = HistoryValues {
                    revision: e.revision.clone(),
                    direction: HistoryEvent::Accept,
                    checksum: Some(e.current.to_hex()),
                    millis: 0,
                };
                self.insert_history(conn, std::slice::from_ref(&row))
                    .await
                    .map_err(|err| MigrateError::db("cannot record the accepted checksum", err))?;
                accepted.push(e.revision);
            }
            Ok::<_, MigrateError>(accepted)
        }
        .await;
        held.release(result).await
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
        let mut held = self.hold(db.into()).await?;
        let result = self.ensure_tables(&mut held.conn).await;
        held.release(result).await
    }

    /// The migration lock of this migrator's version table, and a work connection.
    pub(super) async fn hold(&self, db: Db<'_>) -> Result<Held, MigrateError> {
        let key = self.qualified(&self.opts.version_table);
        db.hold(&key, self.opts.lock_timeout).await
    }

    pub(super) async fn ensure_tables(&self, conn: &mut Conn) -> Result<(), MigrateError> {
        let sql = format!(
            "{};\n{}",
            self.version_ddl(),
            conn.backend()
                .history_ddl(&self.qualified(&self.history_name()))
        );
        conn.execute(&sql)
            .await
            .map_err(|e| MigrateError::db("cannot create the version and history tables", e))?;
        Ok(())
    }

    pub(super) async fn run(&self, db: Db<'_>, op: Op<'_>) -> Result<Report, MigrateError> {
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
        let mut held = self.hold(db).await?;
        let access = Access {
            excludes_writers: held.excludes_writers(),
            inline: held.conn.backend().drives_inline()
                && self.opts.sqlite_inline.unwrap_or(held.in_memory()),
        };
        let conn = &mut held.conn;
        let result = async {
            if let Some(setup) = conn.backend().session_setup(self.opts.lock_timeout) {
                conn.execute(&setup)
                    .await
                    .map_err(|e| MigrateError::db("cannot set up the session", e))?;
            }
            self.ensure_tables(conn).await?;
            self.apply(conn, &op, access).await
        }
        .await;
        held.release(result).await
    }

    pub(super) fn plan(&self, op: &Op<'_>, heads: &[String]) -> Result<Plan, MigrateError> {
        Ok(match op {
            Op::Upgrade(t) => self.dir.map.upgrade_plan(heads, t)?,
            Op::Downgrade(t) => self.dir.map.downgrade_plan(heads, t)?,
            Op::Stamp(targets, purge) => self.dir.map.stamp_plan(heads, targets, *purge)?,
            Op::Revert(r) => self.dir.map.revert_plan(heads, r)?,
        })
    }

    /// The SQL section a step runs, checked before anything runs.
    pub(super) fn section_for(
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
                direction: step.direction,
                dialect,
            })?;
        Ok(Some((script, section)))
    }

    pub(super) async fn apply(
        &self,
        conn: &mut Conn,
        op: &Op<'_>,
        access: Access,
    ) -> Result<Report, MigrateError> {
        let tx = Transactions::new(self, conn.backend(), access.excludes_writers, op);
        let mut run = Run::default();
        let result = self.apply_inner(conn, op, &mut run, access, &tx).await;
        if result.is_err() {
            tx.after_failure(conn, &mut run).await;
        }
        // Nothing is open any more: a borrowed SQLite handle goes back to the driver.
        let _ = conn.go_direct(None).await;
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

    /// Plans and runs until a plan runs to its end. Where the migration lock does not
    /// keep other writers out (SQLite), each transaction takes the database's write
    /// lock and checks that the version table still holds what the plan expects; if
    /// another writer moved it, the plan is made again from the new rows.
    async fn apply_inner(
        &self,
        conn: &mut Conn,
        op: &Op<'_>,
        run: &mut Run,
        access: Access,
        tx: &Transactions<'_>,
    ) -> Result<(), MigrateError> {
        loop {
            if let Outcome::Continue = self.apply_plan(conn, op, run, access, tx).await? {
                return Ok(());
            }
        }
    }

    /// Makes the plan from the version rows as they are now, and runs it.
    async fn apply_plan(
        &self,
        conn: &mut Conn,
        op: &Op<'_>,
        run: &mut Run,
        access: Access,
        tx: &Transactions<'_>,
    ) -> Result<Outcome, MigrateError> {
        let heads = tx.start_plan(conn, run).await?;
        self.refuse_edited(conn, op, &heads).await?;
        let plan = self.plan(op, &heads)?;
        let steps = self.planned_steps(&plan, conn.backend())?;
        if let Outcome::Replan = self.choose_handle(conn, run, tx, access, &steps).await? {
            return Ok(Outcome::Replan);
        }
        let mut expected = heads;
        for (index, planned) in steps.iter().enumerate() {
            let place = (index, steps.len());
            let outcome = self
                .apply_step(conn, run, tx, planned, place, &mut expected)
                .await?;
            if let Outcome::Replan = outcome {
                return Ok(Outcome::Replan);
            }
        }
        tx.finish(conn, run, &expected).await?;
        run.report.heads = expected;
        Ok(Outcome::Continue)
    }

    /// Refuses to run over applied migrations edited since they ran. A downgrade runs
    /// the edited file's downgrade section, so it is refused as an upgrade is, until
    /// the edit is accepted.
    async fn refuse_edited(
        &self,
        conn: &mut Conn,
        op: &Op<'_>,
        heads: &[String],
    ) -> Result<(), MigrateError> {
        if !matches!(op, Op::Upgrade(_) | Op::Downgrade(_) | Op::Revert(_)) {
            return Ok(());
        }
        self.known_current(heads)?;
        let recorded = self.recorded_checksums(conn).await?;
        let edited = self.edited(heads, &recorded)?;
        if !edited.is_empty() {
            return Err(MigrateError::Edited(edited));
        }
        Ok(())
    }

    /// A plan of SQL alone runs on SQLite's own handle, without a hand-off to the
    /// driver's thread per request (see `driver/sqlite/inline.rs`); Rust migrations
    /// and batched statements get the driver's connection. Switching with the single
    /// transaction open (just begun, nothing written in it) rolls it back and plans
    /// again, to begin it on the other side.
    async fn choose_handle(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        tx: &Transactions<'_>,
        access: Access,
        steps: &[PlannedStep<'_>],
    ) -> Result<Outcome, MigrateError> {
        let direct = access.inline && steps.iter().all(PlannedStep::plain_sql);
        if direct == conn.is_direct() {
            return Ok(Outcome::Continue);
        }
        let abandoned = tx.abandon(conn, run).await?;
        conn.go_direct(direct.then(|| self.stop.interrupt_flag()))
            .await
            .map_err(|e| MigrateError::db("cannot borrow the SQLite connection", e))?;
        Ok(if abandoned {
            Outcome::Replan
        } else {
            Outcome::Continue
        })
    }

    /// Runs one step of the plan (at `place`: its index and the plan's length) in the
    /// transactions the policy gives it, and moves `expected` past it.
    async fn apply_step(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        tx: &Transactions<'_>,
        planned: &PlannedStep<'_>,
        (index, total): (usize, usize),
        expected: &mut Vec<String>,
    ) -> Result<Outcome, MigrateError> {
        let step = planned.step;
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
                    resumed: None,
                });
            }
        };
        notify(None);
        if let Outcome::Replan = tx.begin_step(conn, run, planned, expected).await? {
            return Ok(Outcome::Replan);
        }
        let started = Instant::now();
        let at = At {
            index,
            total,
            description: &description,
        };
        self.run_body(conn, planned, run, at).await?;
        if planned.resumable {
            // The version row moves only once the whole migration has finished, its
            // progress rows deleted in the same transaction.
            tx.open_for_version_row(conn, run, expected).await?;
            self.forget_progress(conn, planned).await?;
        }
        let history = self.history_values(step, started.elapsed());
        tx.end_step(conn, run, step, history).await?;
        VersionChange::apply_all(expected, &step.changes);
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
        if conn.is_direct() {
            // Inline, the requests complete without yielding: give the runtime its
            // turn between migrations (a Ctrl-C listener, a timeout).
            tokio::task::yield_now().await;
        }
        Ok(Outcome::Continue)
    }

    /// Writes version-table changes (each must touch exactly one row) and history
    /// rows, with bound values: in one request where the database can join bound
    /// statements (see [`Backend::joined_request`]), else a request each.
    pub(super) async fn book(
        &self,
        conn: &mut Conn,
        changes: &[VersionChange],
        history: &[HistoryValues],
        step: &Step,
    ) -> Result<(), MigrateError> {
        let backend = conn.backend();
        let joined = backend.joins_bound_statements();
        let mut batch = Statements::default();
        for change in changes {
            self.change_statement(backend, &mut batch, change);
            if !joined {
                self.send(conn, &mut batch, step).await?;
            }
        }
        for chunk in history.chunks(500) {
            self.history_statement(backend, &mut batch, chunk);
            if !joined {
                self.send(conn, &mut batch, step).await?;
            }
        }
        self.send(conn, &mut batch, step).await
    }

    /// Sends what `batch` holds, checks the rows it touched and empties it. A version
    /// change touches at most one row (the column is the key), so a total that is
    /// right means each change touched exactly one.
    async fn send(
        &self,
        conn: &mut Conn,
        batch: &mut Statements<'_>,
        step: &Step,
    ) -> Result<(), MigrateError> {
        let batch = std::mem::take(batch);
        if batch.statements.is_empty() {
            return Ok(());
        }
        let touched = match conn.backend().joined_request(&batch.statements) {
            JoinedRequest::Execute(sql) => conn.execute_bound(&sql, &batch.args).await,
            JoinedRequest::Count(sql) => conn
                .count_bound(&sql, &batch.args)
                .await
                .map(|n| u64::try_from(n).unwrap_or(0)),
        };
        match touched {
            Ok(n) if n == batch.rows => Ok(()),
            Ok(n) => Err(MigrateError::VersionTable {
                table: self.opts.version_table.clone(),
                revision: step.revision.clone().unwrap_or_else(|| step.to.join(", ")),
                expected: batch.rows,
                actual: n,
            }),
            Err(e) => Err(MigrateError::db("cannot update the version table", e)),
        }
    }

    /// Adds the statement of one version-table change.
    fn change_statement<'v>(
        &self,
        backend: &dyn Backend,
        batch: &mut Statements<'v>,
        c: &'v VersionChange,
    ) {
        let vt = self.qualified(&self.opts.version_table);
        batch.rows += 1;
        match c {
            VersionChange::Insert(v) => {
                let p = batch.bind(backend, Arg::Text(v));
                batch.push(format!("INSERT INTO {vt} (version_num) VALUES ({p})"));
            }
            VersionChange::Delete(v) => {
                let p = batch.bind(backend, Arg::Text(v));
                batch.push(format!("DELETE FROM {vt} WHERE version_num = {p}"));
            }
            VersionChange::Update { from, to } => {
                let new = batch.bind(backend, Arg::Text(to));
                let old = batch.bind(backend, Arg::Text(from));
                batch.push(format!(
                    "UPDATE {vt} SET version_num = {new} WHERE version_num = {old}"
                ));
            }
        }
    }

    /// Adds one statement inserting history rows.
    fn history_statement<'v>(
        &self,
        backend: &dyn Backend,
        batch: &mut Statements<'v>,
        rows: &'v [HistoryValues],
    ) {
        let table = self.qualified(&self.history_name());
        let mut sql =
            format!("INSERT INTO {table} (revision, direction, checksum, duration_ms) VALUES ");
        for (i, r) in rows.iter().enumerate() {
            let values = [
                Arg::Text(&r.revision),
                Arg::Text(r.direction.name()),
                Arg::OptText(r.checksum.as_deref()),
                Arg::Int(i64::try_from(r.millis).unwrap_or(i64::MAX)),
            ]
            .map(|a| batch.bind(backend, a));
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("({})", values.join(", ")));
        }
        batch.rows += rows.len() as u64;
        batch.push(sql);
    }

    /// Inserts history rows, a few hundred to a statement.
    pub(super) async fn insert_history(
        &self,
        conn: &mut Conn,
        rows: &[HistoryValues],
    ) -> Result<(), sqlx::Error> {
        let backend = conn.backend();
        for chunk in rows.chunks(500) {
            let mut batch = Statements::default();
            self.history_statement(backend, &mut batch, chunk);
            conn.execute_bound(&batch.statements.join(";\n"), &batch.args)
                .await?;
        }
        Ok(())
    }

    /// Runs a section: sent whole, one request, where the database allows it; one
    /// statement at a time where statements may not share a transaction block. The
    /// split names the statement a failure stopped at either way (the driver reports
    /// a result per completed statement).
    pub(super) async fn run_sql(
        &self,
        conn: &mut Conn,
        script: &Script,
        section: &Section,
        direction: Direction,
        report: &Report,
    ) -> Result<(), MigrateError> {
        let statements = split_statements(&section.sql);
        if statements.is_empty() {
            return Ok(());
        }
        let backend = conn.backend();
        let failed = if !script.transactional && backend.splits_outside_transactions() {
            let mut failed = None;
            for (index, (_, stmt)) in statements.iter().enumerate() {
                if let Err(e) = conn.execute(stmt).await {
                    failed = Some((index, e));
                    break;
                }
            }
            failed
        } else if script.transactional && backend.ddl_commits_note().is_some() {
            run_between_ddl(conn, backend, &section.sql, &statements)
                .await
                .err()
        } else {
            conn.execute_counted(&section.sql).await.err()
        };
        let Some((index, source)) = failed else {
            return Ok(());
        };
        let (line, stmt) = statements
            .get(index)
            .or(statements.last())
            .copied()
            .unwrap_or((1, ""));
        let message = match &source {
            sqlx::Error::Database(d) => d.message().to_string(),
            other => other.to_string(),
        };
        let hint = backend.failure_hint(&message);
        let partly_applied = if let Some(note) = backend.ddl_commits_note() {
            Some(note)
        } else if !script.transactional && index > 0 {
            Some("it is `transactional: false`, so the statements before this one stay")
        } else {
            None
        };
        Err(MigrateError::Migration(Box::new(MigrationFailed {
            direction,
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
        })))
    }

    pub(super) fn describe(&self, step: &Step) -> String {
        let mut s = format!(
            "{} {} -> {}",
            step.kind(),
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

    /// The history row of a step.
    pub(super) fn history_values(&self, step: &Step, took: Duration) -> HistoryValues {
        let (revision, direction, checksum) = match &step.revision {
            Some(r) => (
                r.clone(),
                HistoryEvent::from(step.direction),
                self.dir.script(r).map(|s| s.checksum.to_hex()),
            ),
            None => {
                let target = step.to.first().cloned();
                let sum = target
                    .as_deref()
                    .and_then(|t| self.dir.script(t))
                    .filter(|_| step.direction == Direction::Upgrade)
                    .map(|s| s.checksum.to_hex());
                (
                    target.unwrap_or_else(|| "base".to_string()),
                    HistoryEvent::Stamp,
                    sum,
                )
            }
        };
        HistoryValues {
            revision,
            direction,
            checksum,
            millis: took.as_millis(),
        }
    }
}

/// How a run reaches its database, decided when it takes the lock.
#[derive(Clone, Copy)]
pub(super) struct Access {
    /// No writer but the run can change the version table meanwhile.
    excludes_writers: bool,
    /// Plans of SQL alone run on SQLite in the calling thread.
    inline: bool,
}

/// The most SQL text sent in one request by [`run_between_ddl`]: MySQL and MariaDB
/// refuse a request longer than `max_allowed_packet` (16 MiB by default).
const DDL_COMMITS_REQUEST_BYTES: usize = 1 << 20;

/// Runs a transactional section where DDL commits the transaction it runs in (MySQL,
/// MariaDB). Sent whole, the statements after a `CREATE TABLE` would run in autocommit
/// mode, a commit (and a flush to disk) per statement: 100,000 one-row INSERTs took
/// minutes. Each run of statements between DDL statements gets a transaction again,
/// begun after the DDL (the runner commits the last one with the version row), and
/// goes in requests of whole statements of at most [`DDL_COMMITS_REQUEST_BYTES`] (a
/// statement longer than that alone). On failure, the statements completed before it.
async fn run_between_ddl(
    conn: &mut Conn,
    backend: &dyn Backend,
    sql: &str,
    statements: &[(usize, &str)],
) -> Result<(), (usize, sqlx::Error)> {
    let base = sql.as_ptr() as usize;
    // Requests cover the text end to end (comments between statements included):
    // each runs from its first statement's start (the text's start for the first) to
    // the next request's first statement.
    let start = |k: usize| {
        if k == 0 {
            0
        } else {
            statements[k].1.as_ptr() as usize - base
        }
    };
    let end = |k: usize| statements[k].1.as_ptr() as usize - base + statements[k].1.len();
    // Each statement classified once (the grouping below looks at each twice).
    let ddl: Vec<bool> = statements
        .iter()
        .map(|(_, s)| backend.commits_on_its_own(s))
        .collect();
    let mut done = 0usize;
    let mut after_ddl = false;
    let mut i = 0usize;
    while i < statements.len() {
        let mut j = i + 1;
        while j < statements.len()
            && ddl[j] == ddl[i]
            && end(j) - start(i) <= DDL_COMMITS_REQUEST_BYTES
        {
            j += 1;
        }
        if after_ddl && !ddl[i] {
            conn.execute("BEGIN").await.map_err(|e| (done, e))?;
        }
        let to = if j == statements.len() {
            sql.len()
        } else {
            start(j)
        };
        conn.execute_counted(&sql[start(i)..to])
            .await
            .map_err(|(k, e)| (done + k, e))?;
        done += j - i;
        after_ddl = ddl[i];
        i = j;
    }
    Ok(())
}

/// Statements with bound values, sent as one request, and the rows they must touch.
#[derive(Default)]
struct Statements<'v> {
    statements: Vec<String>,
    args: Vec<Arg<'v>>,
    rows: u64,
}

impl<'v> Statements<'v> {
    /// Binds a value and returns its placeholder.
    fn bind(&mut self, backend: &dyn Backend, arg: Arg<'v>) -> String {
        self.args.push(arg);
        backend.placeholder(self.args.len())
    }

    fn push(&mut self, statement: String) {
        self.statements.push(statement);
    }
}

#[cfg(test)]
mod tests {
    use crate::driver as backend;
    use migrate_core::Dialect;

    #[test]
    fn failure_hints_come_from_the_database_whose_message_it_is() {
        let message = "ERROR: CREATE INDEX CONCURRENTLY cannot run inside a transaction block";
        let hint = backend::of(Dialect::Postgres).failure_hint(message);
        assert!(hint.is_some_and(|h| h.contains("`-- transactional: false`")));
        let pipeline = "ALTER TYPE ... ADD VALUE cannot be executed within a pipeline";
        assert!(backend::of(Dialect::Postgres)
            .failure_hint(pipeline)
            .is_some());
        assert!(backend::of(Dialect::Postgres)
            .failure_hint("syntax error")
            .is_none());
        for other in [Dialect::Mysql, Dialect::Sqlite] {
            assert!(backend::of(other).failure_hint(message).is_none());
        }
    }
}
