//! The runner's hooks for the steps that are not plain SQL: Rust migrations (run with a
//! [`MigrationContext`]) and migrations with batched statements, and what makes both
//! resumable (the progress rows deleted when the version row moves).

use super::{Migrator, Progress, Run};
use crate::backend::Conn;
use crate::batch::{forget, has_progress, resumable, ProgressSink, SqlStep, StepEvent};
use crate::error::{MigrateError, RustMigrationFailed};
use crate::rust_migration::{CatchPanic, MigrationContext, MigrationError, RustMigration};
use migrate_core::{Dialect, Plan, RevisionError, Script, Section, Step};

/// Why a failed `transactional: false` Rust migration that recorded no progress may be
/// partly applied.
const NOT_RECORDED: &str = "it is `transactional: false` and records no progress, so what it ran before the failure stays and running it again starts its function from the top";

/// Where a step stands in its run, for progress events and the version rows.
pub(super) struct At<'a> {
    pub(super) index: usize,
    pub(super) total: usize,
    pub(super) description: &'a str,
    /// The version rows before the step.
    pub(super) heads: &'a [String],
}

impl Migrator {
    /// The code of a step's Rust migration, checked before anything runs: a migrator
    /// over files (the `migrate` command line) has none, and says how to run it.
    pub(super) fn code_for(&self, step: &Step) -> Result<Option<RustMigration>, MigrateError> {
        let Some(script) = step.revision.as_deref().and_then(|r| self.dir.script(r)) else {
            return Ok(None);
        };
        if !script.is_rust() {
            return Ok(None);
        }
        match self.code.get(&*script.revision) {
            Some(code) => Ok(Some(*code)),
            None => Err(MigrateError::RustWithoutCode {
                revision: script.revision.to_string(),
                path: script.path.to_string(),
                direction: step.direction,
            }),
        }
    }

    /// Whether a step runs SQL alone (or is a stamp): no Rust migration, no batched
    /// statement.
    pub(super) fn plain_sql(&self, step: &Step) -> bool {
        step.revision
            .as_deref()
            .and_then(|r| self.dir.script(r))
            .is_none_or(|script| !script.is_rust() && !script.has_batches())
    }

    /// Refuses an offline plan that reaches a step whose SQL an offline script cannot
    /// hold (a Rust migration, a batched statement), before anything is written,
    /// naming the range that stops before it.
    pub(super) fn offline_check(&self, plan: &Plan, dialect: Dialect) -> Result<(), MigrateError> {
        for (i, step) in plan.steps.iter().enumerate() {
            let Some(script) = step.revision.as_deref().and_then(|r| self.dir.script(r)) else {
                continue;
            };
            let why = if script.is_rust() {
                "it is a Rust migration, whose SQL is only known when it runs"
            } else if script
                .sql(step.direction, dialect)
                .is_some_and(migrate_core::batch::has_batches)
            {
                "it has a batched statement (`-- migrate:batch`), which repeats until it changes no rows and cannot be written as a script"
            } else {
                continue;
            };
            let before = i.checked_sub(1).and_then(|p| {
                let start = match plan.steps[0].from.as_slice() {
                    [] => "base",
                    [one] => one.as_str(),
                    _ => return None,
                };
                match plan.steps[p].to.as_slice() {
                    [] => Some(format!("{start}:base")),
                    [one] => Some(format!("{start}:{one}")),
                    _ => None,
                }
            });
            return Err(MigrateError::Offline {
                revision: script.revision.to_string(),
                path: script.path.to_string(),
                why,
                before,
            });
        }
        Ok(())
    }

    /// Runs a step's migration: its SQL, its batched SQL, or its Rust code. A resumable
    /// one (outside a transaction, with batches or code) then opens the transaction
    /// that moves its version row and deletes its progress rows in it, so that the
    /// version row moves only once the whole migration has finished.
    pub(super) async fn run_body(
        &self,
        conn: &mut Conn,
        script: &Script,
        section: &Section,
        step: &Step,
        run: &mut Run,
        at: At<'_>,
    ) -> Result<(), MigrateError> {
        let is_resumable = resumable(script);
        if !script.is_rust() && !is_resumable {
            return self
                .run_sql(conn, script, section, step.direction, &run.report)
                .await;
        }
        let progress_table = self.qualified(&self.progress_name());
        if is_resumable {
            if let Some(reason) = migrate_core::sql::plain_identifier_problem(&self.progress_name())
            {
                return Err(MigrateError::InvalidName {
                    name: self.progress_name(),
                    reason,
                });
            }
            // Outside any transaction (MySQL commits around DDL).
            let ddl = conn.backend().progress_ddl(&progress_table);
            conn.execute(&ddl)
                .await
                .map_err(|e| MigrateError::db("cannot create the migration progress table", e))?;
        }
        let hook = self.progress.as_ref();
        let events = |event: StepEvent<'_>| {
            if let Some(h) = hook {
                let (rows, resumed) = match event {
                    StepEvent::Rows(rows) => (Some(*rows), None),
                    StepEvent::Resumed(resume) => (None, Some(resume)),
                };
                (h.0)(&Progress {
                    index: at.index,
                    total: at.total,
                    revision: Some(&script.revision),
                    description: at.description,
                    finished: None,
                    rows,
                    resumed,
                });
            }
        };
        let sink = ProgressSink(Some(&events));
        let applied = || {
            run.report
                .revisions()
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
        };
        if script.is_rust() {
            let code = self.code_for(step)?;
            let Some(function) = code.and_then(|c| c.function(step.direction)) else {
                return Err(RevisionError::Irreversible {
                    revision: script.revision.to_string(),
                    origin: migrate_core::Origin(Some(script.path.to_string())),
                }
                .into());
            };
            let mut ctx = MigrationContext {
                conn: &mut *conn,
                revision: &script.revision,
                direction: step.direction,
                transactional: script.transactional,
                progress_table: &progress_table,
                sink: &sink,
                stop: &self.stop,
                walked: false,
            };
            let result = CatchPanic(function(&mut ctx)).await;
            let walked = ctx.walked;
            if let Err(e) = result {
                // Outside the migration's transaction, one it left open (a batch a
                // panic unwound through, or its own) holds nothing that should stay;
                // inside, the runner rolls back the migration's.
                if !script.transactional && conn.in_transaction() {
                    let _ = conn.rollback().await;
                }
                // Earlier runs' batches count too, though this run failed before its walk.
                let recorded = !script.transactional
                    && (walked
                        || has_progress(conn, &progress_table, &script.revision)
                            .await
                            .unwrap_or(false));
                let partly_applied = if script.transactional {
                    conn.backend().ddl_commits_note()
                } else if recorded {
                    None
                } else {
                    Some(NOT_RECORDED)
                };
                return Err(match e {
                    MigrationError::Interrupted { rows_done } => MigrateError::Interrupted {
                        revision: script.revision.to_string(),
                        path: script.path.to_string(),
                        rows_done,
                        applied: applied(),
                    },
                    source => MigrateError::RustMigration(Box::new(RustMigrationFailed {
                        direction: step.direction,
                        revision: script.revision.to_string(),
                        path: script.path.to_string(),
                        applied: applied(),
                        resumable: recorded,
                        partly_applied,
                        source: source.located_in(&script.path),
                    })),
                });
            }
        } else {
            let batched = SqlStep {
                script,
                section,
                direction: step.direction,
                progress_table: &progress_table,
                sink: &sink,
                stop: &self.stop,
                applied: applied(),
            };
            crate::batch::run_sql(conn, &batched).await?;
        }
        if !is_resumable {
            return Ok(());
        }
        if !run.in_tx {
            self.begin(conn).await?;
            run.in_tx = true;
            run.tx_start = run.report.steps.len();
            run.tx_heads = at.heads.to_vec();
        }
        forget(conn, &progress_table, &script.revision)
            .await
            .map(|_| ())
            .map_err(|e| MigrateError::db("cannot delete the migration's progress rows", e))
    }
}
