//! Offline scripts (`--sql`): the plan is made here, the text written by
//! [`migrate_core::offline`].

use super::{Migrator, Progress, TransactionMode};
use crate::error::MigrateError;
use migrate_core::offline::{offline_script, OfflineOptions, OfflineStep};
use migrate_core::{Dialect, Direction, Plan, RevisionError};
use std::time::Duration;

impl Migrator {
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
    pub(super) fn offline_start(&self, from: &str) -> Result<Vec<String>, MigrateError> {
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

    /// Writes a plan as an offline script (see [`migrate_core::offline`]), after
    /// checking every step can be written and telling the progress hook of each.
    pub(super) fn offline_script(
        &self,
        plan: &Plan,
        heads: Vec<String>,
        dialect: Dialect,
    ) -> Result<String, MigrateError> {
        self.offline_check(plan, dialect)?;
        let mut steps = Vec::with_capacity(plan.steps.len());
        for (index, step) in plan.steps.iter().enumerate() {
            let section = self.section_for(step, dialect)?;
            if let Some(hook) = &self.progress {
                let description = self.describe(step);
                for finished in [None, Some(Duration::ZERO)] {
                    (hook.0)(&Progress {
                        index,
                        total: plan.steps.len(),
                        revision: step.revision.as_deref(),
                        description: &description,
                        finished,
                        rows: None,
                        resumed: None,
                    });
                }
            }
            steps.push(OfflineStep {
                step,
                sql: section.map(|(_, s)| &*s.sql),
                transactional: section.is_none_or(|(script, _)| script.transactional),
            });
        }
        let vt = self.qualified(&self.opts.version_table);
        let ddl = self.version_ddl().replace("IF NOT EXISTS ", "");
        Ok(offline_script(
            &steps,
            heads,
            &OfflineOptions {
                dialect,
                version_table: &vt,
                version_table_ddl: &ddl,
                per_migration: self.opts.transaction_mode == TransactionMode::PerMigration,
            },
        ))
    }

    /// The statement that creates the version table, as offline scripts print it
    /// (`ensure_version --sql`).
    pub fn version_table_sql(&self) -> String {
        format!("{};\n\n", self.version_ddl().replace("IF NOT EXISTS ", ""))
    }
}
