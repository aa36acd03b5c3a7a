//! How a run groups its steps into transactions: the policy ([`Transactions`]) decided
//! when the run starts, with the hooks the run loop calls at the start of each plan,
//! before and after each step, at the end and after a failure; and the opening,
//! committing and deferred writes of transactions.

use super::steps::PlannedStep;
use super::{HistoryValues, Migrator, Op, Run, TransactionMode};
use crate::driver::{Backend, Conn};
use crate::error::MigrateError;
use migrate_core::{Direction, Step, VersionChange};

/// What the run loop does next: carry on, or make the plan again from the version rows
/// another writer left (where the migration lock does not keep other writers out).
#[must_use]
pub(super) enum Outcome {
    /// Carry on (after a whole plan: the run is done).
    Continue,
    /// Plan again from the version rows as they are now.
    Replan,
}

/// How the steps of a run are grouped into transactions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grouping {
    /// Each migration commits with its version row.
    PerMigration,
    /// Per migration, on a database whose DDL commits the transaction it runs in
    /// (MySQL): a migration of such statements alone gets no transaction, and the
    /// version row gets a new one when the migration's DDL ended it. The query answers
    /// `1` while a transaction is open.
    DdlCommits(&'static str),
    /// One transaction for the run, split around `transactional: false` migrations;
    /// the version rows and history are written when it commits.
    Single,
}

/// The transaction policy of one run.
pub(super) struct Transactions<'a> {
    migrator: &'a Migrator,
    grouping: Grouping,
    /// Each transaction re-reads the version rows before a migration: the migration
    /// lock does not keep other writers out (SQLite), so the transaction's write lock
    /// has to.
    recheck: bool,
    /// A relative target (`+2`, `-1`): it meant "from where the database was", so a
    /// version table another writer moved fails the run rather than re-planning from
    /// the new rows, which would move it further.
    relative: Option<&'a str>,
}

impl<'a> Transactions<'a> {
    /// The policy of a run of `op` on `backend`'s database; `excludes_writers` says
    /// whether the migration lock keeps every other writer out.
    pub(super) fn new(
        migrator: &'a Migrator,
        backend: &dyn Backend,
        excludes_writers: bool,
        op: &Op<'a>,
    ) -> Self {
        // Without transactional DDL a transaction cannot span migrations: each DDL
        // statement commits. Rows written only at the end would then be lost on a
        // failure while the tables stay, so there every migration records itself.
        let grouping = if migrator.opts.transaction_mode == TransactionMode::Single
            && backend.dialect().transactional_ddl()
        {
            Grouping::Single
        } else if let Some(query) = backend.in_transaction_query() {
            Grouping::DdlCommits(query)
        } else {
            Grouping::PerMigration
        };
        let relative = match op {
            Op::Upgrade(t) | Op::Downgrade(t) if t.contains(['+', '-']) => Some(*t),
            _ => None,
        };
        Transactions {
            migrator,
            grouping,
            recheck: !excludes_writers,
            relative,
        }
    }

    fn single(&self) -> bool {
        self.grouping == Grouping::Single
    }

    /// At the start of each plan (the first and every re-plan): the version rows to
    /// plan from, read inside the single transaction, which opens here.
    pub(super) async fn start_plan(
        &self,
        conn: &mut Conn,
        run: &mut Run,
    ) -> Result<Vec<String>, MigrateError> {
        let m = self.migrator;
        if self.single() && !run.in_tx {
            m.open(conn, run).await?;
        }
        let heads = m.read_heads(conn).await?;
        if self.single() {
            run.tx_heads = heads.clone();
        }
        Ok(heads)
    }

    /// Before a step's body, with the version rows the plan expects: commits the open
    /// transaction before a migration that runs outside one, and opens one for a
    /// migration that runs inside, checking the version rows where other writers may
    /// have moved them.
    pub(super) async fn begin_step(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        planned: &PlannedStep<'_>,
        expected: &[String],
    ) -> Result<Outcome, MigrateError> {
        let m = self.migrator;
        if !planned.transactional && run.in_tx {
            m.flush(conn, run, expected).await?;
            m.commit(conn).await?;
            run.in_tx = false;
        }
        // Where each DDL statement commits on its own (MySQL), a migration of nothing
        // else gains nothing from a transaction around it: only its version row and
        // history row get one, after it.
        let commits_alone = !self.single() && planned.commits_alone;
        if !planned.transactional || run.in_tx || commits_alone {
            return Ok(Outcome::Continue);
        }
        m.open(conn, run).await?;
        // Re-read under the write lock where the migration lock does not keep other
        // writers out; elsewhere it covers the whole run.
        let now = if self.recheck || self.single() {
            m.read_heads(conn).await?
        } else {
            expected.to_vec()
        };
        if now != expected {
            return self.moved(conn, run).await;
        }
        run.tx_heads = now;
        Ok(Outcome::Continue)
    }

    /// Another writer moved the version rows: fails a run to a relative target, else
    /// rolls back the migration's transaction (not the single one, which goes on
    /// holding the steps before) and plans again.
    async fn moved(&self, conn: &mut Conn, run: &mut Run) -> Result<Outcome, MigrateError> {
        if let Some(target) = self.relative {
            return Err(MigrateError::ConcurrentChange {
                target: target.to_string(),
                applied: run
                    .report
                    .revisions()
                    .iter()
                    .map(|r| r.to_string())
                    .collect(),
            });
        }
        if !self.single() {
            conn.rollback()
                .await
                .map_err(|e| MigrateError::db("cannot roll back to plan again", e))?;
            run.in_tx = false;
        }
        Ok(Outcome::Replan)
    }

    /// After the body of a resumable step (run outside a transaction, its progress
    /// recorded): opens the transaction its version row moves in, unless one is open
    /// (the single transaction), from the version rows before the step.
    pub(super) async fn open_for_version_row(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        heads: &[String],
    ) -> Result<(), MigrateError> {
        if !run.in_tx {
            self.migrator.open(conn, run).await?;
            run.tx_heads = heads.to_vec();
        }
        Ok(())
    }

    /// Before switching the connection's handle: rolls back the open transaction
    /// (only the single one can be, just begun, with nothing written in it), and says
    /// whether there was one, to begin again on the other side.
    pub(super) async fn abandon(
        &self,
        conn: &mut Conn,
        run: &mut Run,
    ) -> Result<bool, MigrateError> {
        if !run.in_tx {
            return Ok(false);
        }
        conn.rollback()
            .await
            .map_err(|e| MigrateError::db("cannot roll back to plan again", e))?;
        run.in_tx = false;
        Ok(true)
    }

    /// After a step's body: writes its version change and history row and commits
    /// them (with the migration, when it ran in a transaction), or defers them to the
    /// single transaction's commit.
    pub(super) async fn end_step(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        step: &Step,
        history: HistoryValues,
    ) -> Result<(), MigrateError> {
        let m = self.migrator;
        if self.single() && run.in_tx {
            // One transaction: only its end state matters, so the version rows and
            // history are written once, when it commits.
            run.pending.push(history);
            return Ok(());
        }
        if let (Grouping::DdlCommits(query), true) = (self.grouping, run.in_tx) {
            // The migration's DDL may have committed the transaction; keep the version
            // change and its history row together in one of their own.
            let open = conn
                .strings(query)
                .await
                .ok()
                .and_then(|v| v.first().and_then(|x| x.parse::<i64>().ok()));
            if open.unwrap_or(0) == 0 {
                m.commit(conn).await?;
                m.begin(conn).await?;
            }
        }
        if !run.in_tx {
            // The version change and its history row commit together even after a
            // migration that ran outside a transaction.
            m.open(conn, run).await?;
        }
        m.book(conn, &step.changes, std::slice::from_ref(&history), step)
            .await?;
        m.commit(conn).await?;
        run.in_tx = false;
        Ok(())
    }

    /// After the plan's last step: commits what is still open, with what the single
    /// transaction deferred.
    pub(super) async fn finish(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        expected: &[String],
    ) -> Result<(), MigrateError> {
        if run.in_tx {
            self.migrator.flush(conn, run, expected).await?;
            self.migrator.commit(conn).await?;
            run.in_tx = false;
        }
        Ok(())
    }

    /// After a failure: rolls back the open transaction, and forgets the steps it
    /// undid.
    pub(super) async fn after_failure(&self, conn: &mut Conn, run: &mut Run) {
        if run.in_tx {
            // The original error matters more than a failed rollback, which the server
            // performs anyway when the session ends.
            if conn.in_transaction() {
                let _ = conn.rollback().await;
            }
            run.report.steps.truncate(run.tx_start);
        }
    }
}

impl Migrator {
    /// Opens a transaction for the steps from now on (the ones a rollback undoes).
    pub(super) async fn open(&self, conn: &mut Conn, run: &mut Run) -> Result<(), MigrateError> {
        run.in_tx = true;
        run.tx_start = run.report.steps.len();
        self.begin(conn).await
    }

    /// Opens a transaction; a lock the database could not give in time (SQLite's
    /// write lock) is a lock timeout.
    pub(super) async fn begin(&self, conn: &mut Conn) -> Result<(), MigrateError> {
        match conn.begin().await {
            Ok(()) => Ok(()),
            Err(e) if conn.is_busy(&e) => Err(MigrateError::LockTimeout {
                waited: self.opts.lock_timeout,
                what: "the database's write lock".to_string(),
            }),
            Err(e) => Err(MigrateError::db("cannot begin a transaction", e)),
        }
    }

    pub(super) async fn commit(&self, conn: &mut Conn) -> Result<(), MigrateError> {
        match conn.commit().await {
            Ok(()) => Ok(()),
            Err(e) if conn.is_busy(&e) => Err(MigrateError::LockTimeout {
                waited: self.opts.lock_timeout,
                what: "the database's write lock".to_string(),
            }),
            Err(e) => Err(MigrateError::db("cannot commit", e)),
        }
    }

    /// Writes what a single transaction deferred: the version rows moved from what the
    /// transaction started with to `expected`, and the history rows.
    pub(super) async fn flush(
        &self,
        conn: &mut Conn,
        run: &mut Run,
        expected: &[String],
    ) -> Result<(), MigrateError> {
        if run.pending.is_empty() {
            return Ok(());
        }
        let mut changes: Vec<VersionChange> = run
            .tx_heads
            .iter()
            .filter(|h| !expected.contains(h))
            .map(|gone| VersionChange::Delete(gone.clone()))
            .collect();
        changes.extend(
            expected
                .iter()
                .filter(|h| !run.tx_heads.contains(h))
                .map(|new| VersionChange::Insert(new.clone())),
        );
        let step = Step {
            revision: None,
            direction: Direction::Upgrade,
            from: run.tx_heads.clone(),
            to: expected.to_vec(),
            changes: Vec::new(),
        };
        self.book(conn, &changes, &run.pending, &step).await?;
        run.pending.clear();
        run.tx_heads = expected.to_vec();
        Ok(())
    }
}
