//! What each step of a plan is ([`StepKind`], worked out once when the plan is made)
//! and how its body runs: plain SQL, Rust migrations (run with a [`MigrationContext`])
//! and migrations with batched statements, and what makes the last two resumable (the
//! progress rows deleted when the version row moves).

use super::{Migrator, Progress, Run};
use crate::batch::{forget, has_progress, resumable, ProgressSink, SqlStep, StepEvent};
use crate::driver::{Backend, Conn};
use crate::error::{MigrateError, RustMigrationFailed};
use crate::rust_migration::{CatchPanic, MigrationContext, MigrationError, RustMigration};
use migrate_core::sql::split_statements;
use migrate_core::{Dialect, Plan, RevisionError, Script, Section, Step};

/// Why a failed `transactional: false` Rust migration that recorded no progress may be
/// partly applied.
const NOT_RECORDED: &str = "it is `transactional: false` and records no progress, so what it ran before the failure stays and running it again starts its function from the top";

/// Where a step stands in its run, for progress events.
pub(super) struct At<'a> {
    pub(super) index: usize,
    pub(super) total: usize,
    pub(super) description: &'a str,
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

    /// The steps of `plan` with what each runs and needs, checked before anything runs
    /// (a missing section or Rust code fails here, in the plan's order).
    pub(super) fn planned_steps<'a>(
        &'a self,
        plan: &'a Plan,
        backend: &dyn Backend,
    ) -> Result<Vec<PlannedStep<'a>>, MigrateError> {
        plan.steps
            .iter()
            .map(|step| self.planned_step(step, backend))
            .collect()
    }

    /// One step of a plan with what it runs and needs.
    fn planned_step<'a>(
        &'a self,
        step: &'a Step,
        backend: &dyn Backend,
    ) -> Result<PlannedStep<'a>, MigrateError> {
        let section = self.section_for(step, backend.dialect())?;
        let code = self.code_for(step)?;
        let Some((script, sql)) = section else {
            return Ok(PlannedStep {
                step,
                section,
                kind: StepKind::Stamp,
                transactional: true,
                resumable: false,
                commits_alone: false,
            });
        };
        let kind = match code {
            Some(code) => StepKind::Rust(code),
            None if script.has_batches() => StepKind::BatchedSql,
            None => StepKind::Sql,
        };
        let mut planned = PlannedStep {
            step,
            section,
            kind,
            transactional: script.transactional,
            resumable: resumable(script),
            commits_alone: false,
        };
        planned.commits_alone = planned.runs_sql_whole() && commits_alone(backend, &sql.sql);
        Ok(planned)
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

    /// Runs a step's migration: its SQL, its batched SQL, or its Rust code.
    pub(super) async fn run_body(
        &self,
        conn: &mut Conn,
        planned: &PlannedStep<'_>,
        run: &Run,
        at: At<'_>,
    ) -> Result<(), MigrateError> {
        let Some((script, section)) = planned.section else {
            return Ok(());
        };
        let step = planned.step;
        if planned.runs_sql_whole() {
            return self
                .run_sql(conn, script, section, step.direction, &run.report)
                .await;
        }
        let progress_table = self.qualified(&self.progress_name());
        if planned.resumable {
            self.ensure_progress_table(conn, &progress_table).await?;
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
        let body = Body {
            script,
            step,
            progress_table: &progress_table,
            sink: &sink,
            applied: applied(run),
        };
        match planned.kind {
            StepKind::Rust(code) => self.run_rust(conn, code, body).await,
            _ => self.run_batched(conn, section, body).await,
        }
    }

    /// Deletes the progress rows of a resumable step, in the transaction that moves its
    /// version row.
    pub(super) async fn forget_progress(
        &self,
        conn: &mut Conn,
        planned: &PlannedStep<'_>,
    ) -> Result<(), MigrateError> {
        let Some((script, _)) = planned.section else {
            return Ok(());
        };
        let progress_table = self.qualified(&self.progress_name());
        forget(conn, &progress_table, &script.revision)
            .await
            .map(|_| ())
            .map_err(|e| MigrateError::db("cannot delete the migration's progress rows", e))
    }

    /// Creates the progress table of resumable migrations, outside any transaction
    /// (MySQL commits around DDL).
    async fn ensure_progress_table(
        &self,
        conn: &mut Conn,
        progress_table: &str,
    ) -> Result<(), MigrateError> {
        if let Some(reason) = migrate_core::sql::plain_identifier_problem(&self.progress_name()) {
            return Err(MigrateError::InvalidName {
                name: self.progress_name(),
                reason,
            });
        }
        let ddl = conn.backend().progress_ddl(progress_table);
        conn.execute(&ddl)
            .await
            .map_err(|e| MigrateError::db("cannot create the migration progress table", e))?;
        Ok(())
    }

    /// Runs a migration's SQL with its batched statements.
    async fn run_batched(
        &self,
        conn: &mut Conn,
        section: &Section,
        body: Body<'_>,
    ) -> Result<(), MigrateError> {
        let batched = SqlStep {
            script: body.script,
            section,
            direction: body.step.direction,
            progress_table: body.progress_table,
            sink: body.sink,
            stop: &self.stop,
            applied: body.applied,
        };
        crate::batch::run_sql(conn, &batched).await
    }

    /// Runs a Rust migration's function for the step's direction; a failure says what
    /// stays applied and whether running again resumes.
    async fn run_rust(
        &self,
        conn: &mut Conn,
        code: RustMigration,
        body: Body<'_>,
    ) -> Result<(), MigrateError> {
        let Body { script, step, .. } = body;
        let Some(function) = code.function(step.direction) else {
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
            progress_table: body.progress_table,
            sink: body.sink,
            stop: &self.stop,
            walked: false,
        };
        let result = CatchPanic(function(&mut ctx)).await;
        let walked = ctx.walked;
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err(rust_failure(conn, body, walked, e).await),
        }
    }
}

/// What the body of a step with batches or code runs with.
struct Body<'a> {
    script: &'a Script,
    step: &'a Step,
    progress_table: &'a str,
    sink: &'a ProgressSink<'a>,
    /// Revisions the run completed before this one, for the error.
    applied: Vec<String>,
}

/// The revisions a run has completed, for an error.
fn applied(run: &Run) -> Vec<String> {
    run.report
        .revisions()
        .iter()
        .map(|r| r.to_string())
        .collect()
}

/// The error of a failed Rust migration, after rolling back what it left open outside
/// the runner's transaction.
async fn rust_failure(
    conn: &mut Conn,
    body: Body<'_>,
    walked: bool,
    e: MigrationError,
) -> MigrateError {
    let script = body.script;
    // Outside the migration's transaction, one it left open (a batch a panic unwound
    // through, or its own) holds nothing that should stay; inside, the runner rolls
    // back the migration's.
    if !script.transactional && conn.in_transaction() {
        let _ = conn.rollback().await;
    }
    // Earlier runs' batches count too, though this run failed before its walk.
    let recorded = !script.transactional
        && (walked
            || has_progress(conn, body.progress_table, &script.revision)
                .await
                .unwrap_or(false));
    let partly_applied = if script.transactional {
        conn.backend().ddl_commits_note()
    } else if recorded {
        None
    } else {
        Some(NOT_RECORDED)
    };
    match e {
        MigrationError::Interrupted { rows_done } => MigrateError::Interrupted {
            revision: script.revision.to_string(),
            path: script.path.to_string(),
            rows_done,
            applied: body.applied,
        },
        source => MigrateError::RustMigration(Box::new(RustMigrationFailed {
            direction: body.step.direction,
            revision: script.revision.to_string(),
            path: script.path.to_string(),
            applied: body.applied,
            resumable: recorded,
            partly_applied,
            source: source.located_in(&script.path),
        })),
    }
}

/// What a step runs, worked out once when the plan is made.
#[derive(Clone, Copy)]
pub(super) enum StepKind {
    /// A stamp: version rows only.
    Stamp,
    /// SQL sent as it is.
    Sql,
    /// SQL of a migration with `-- migrate:batch` statements.
    BatchedSql,
    /// A Rust migration's code.
    Rust(RustMigration),
}

/// A step of a plan with what it runs and the transactions it needs.
pub(super) struct PlannedStep<'a> {
    pub(super) step: &'a Step,
    /// The migration and its section for the run's database; `None` for a stamp.
    pub(super) section: Option<(&'a Script, &'a Section)>,
    pub(super) kind: StepKind,
    /// Runs inside a transaction (a stamp does).
    pub(super) transactional: bool,
    /// Runs outside a transaction with batches or code, recording its progress: its
    /// version row moves in a transaction it opens at its end.
    pub(super) resumable: bool,
    /// Every statement of its SQL commits on its own (MySQL's DDL), so a transaction
    /// around it would hold nothing.
    pub(super) commits_alone: bool,
}

impl PlannedStep<'_> {
    /// Whether the step's SQL runs whole through [`Migrator::run_sql`]: plain SQL, and
    /// the batched SQL of a `transactional: true` migration, which the loader refuses
    /// but which a directory built by hand may hold (it has always run so).
    pub(super) fn runs_sql_whole(&self) -> bool {
        match self.kind {
            StepKind::Sql => true,
            StepKind::BatchedSql => !self.resumable,
            StepKind::Stamp | StepKind::Rust(_) => false,
        }
    }

    /// Whether the step is SQL alone (or a stamp), which SQLite can run on its own
    /// handle: no Rust migration, no batched statement.
    pub(super) fn plain_sql(&self) -> bool {
        matches!(self.kind, StepKind::Stamp | StepKind::Sql)
    }
}

/// Whether every statement of a section commits on its own on this database, so that a
/// transaction around them would hold nothing.
fn commits_alone(backend: &dyn Backend, sql: &str) -> bool {
    // Only where DDL commits by itself can a statement need no transaction.
    if backend.ddl_commits_note().is_none() {
        return false;
    }
    let statements = split_statements(sql);
    !statements.is_empty()
        && statements
            .iter()
            .all(|(_, statement)| backend.commits_on_its_own(statement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver as backend;
    use migrate_core::ScriptDirectory;

    const CREATE: &str =
        "-- revision: a\n-- down_revision:\n-- migrate:upgrade\nCREATE TABLE t (id INT, c INT);\n";
    const FILL: &str = "-- revision: b\n-- down_revision: a\n-- transactional: false\n-- migrate:upgrade\nALTER TABLE t ADD d INT;\n-- migrate:batch size=10\nUPDATE t SET c = 1 WHERE id IN (SELECT id FROM t WHERE c IS NULL LIMIT {batch_size});\n";
    const ROWS: &str = "-- revision: c\n-- down_revision: b\n-- transactional: false\n-- migrate:upgrade\nINSERT INTO t (id) VALUES (1);\n";

    fn migrator() -> Migrator {
        let files = [("a.sql", CREATE), ("b.sql", FILL), ("c.sql", ROWS)];
        Migrator::from_directory(ScriptDirectory::from_files(files).unwrap())
    }

    /// (kind, transactional, resumable, commits alone, plain SQL) of each step.
    fn needs(steps: &[PlannedStep<'_>]) -> Vec<(&'static str, bool, bool, bool, bool)> {
        steps
            .iter()
            .map(|s| {
                let kind = match s.kind {
                    StepKind::Stamp => "stamp",
                    StepKind::Sql => "sql",
                    StepKind::BatchedSql => "batched",
                    StepKind::Rust(_) => "rust",
                };
                let whole = s.runs_sql_whole();
                assert_eq!(whole, matches!(s.kind, StepKind::Sql));
                (
                    kind,
                    s.transactional,
                    s.resumable,
                    s.commits_alone,
                    s.plain_sql(),
                )
            })
            .collect()
    }

    #[test]
    fn a_plan_knows_what_each_step_runs_and_needs() {
        let m = migrator();
        let plan = m.dir.map.upgrade_plan(&[] as &[String], "head").unwrap();
        let sqlite = m
            .planned_steps(&plan, backend::of(Dialect::Sqlite))
            .unwrap();
        assert_eq!(
            needs(&sqlite),
            [
                ("sql", true, false, false, true),
                ("batched", false, true, false, false),
                ("sql", false, false, false, true),
            ]
        );
        // Only where DDL commits on its own does a migration of DDL alone need no
        // transaction.
        let mysql = m.planned_steps(&plan, backend::of(Dialect::Mysql)).unwrap();
        assert_eq!(
            needs(&mysql),
            [
                ("sql", true, false, true, true),
                ("batched", false, true, false, false),
                ("sql", false, false, false, true),
            ]
        );
        let stamp = m
            .dir
            .map
            .stamp_plan(&[] as &[String], &["head"], false)
            .unwrap();
        let stamp = m
            .planned_steps(&stamp, backend::of(Dialect::Postgres))
            .unwrap();
        assert_eq!(needs(&stamp), [("stamp", true, false, false, true)]);
    }

    #[test]
    fn a_rust_migration_without_its_code_fails_when_planned() {
        let rust = "// revision: r\n// down_revision:\n\nuse migrate_runtime::{MigrationContext, MigrationResult};\n\npub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {\n    ctx.execute(\"SELECT 1\").await?;\n    Ok(())\n}\n";
        let dir = ScriptDirectory::from_files([("r.rs", rust)]).unwrap();
        let m = Migrator::from_directory(dir);
        let plan = m.dir.map.upgrade_plan(&[] as &[String], "head").unwrap();
        let err = m
            .planned_steps(&plan, backend::of(Dialect::Sqlite))
            .err()
            .unwrap();
        assert!(matches!(err, MigrateError::RustWithoutCode { .. }), "{err}");
    }
}
