//! What a database records: the version rows, the recorded checksums, the history,
//! and the checks made on them.

use super::{AppliedState, CheckReport, HistoryEvent, HistoryRow, Migrator};
use crate::driver::{Conn, Db};
use crate::error::{EditedMigration, MigrateError};
use migrate_core::{Checksum, RevisionError};
use std::collections::HashMap;

impl Migrator {
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

    pub(super) async fn read_heads(&self, conn: &mut Conn) -> Result<Vec<String>, MigrateError> {
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

    pub(super) async fn recorded_checksums(
        &self,
        conn: &mut Conn,
    ) -> Result<HashMap<String, String>, MigrateError> {
        let hist = self.qualified(&self.history_name());
        // Oldest first, so the newest checksum of a revision wins when collected.
        let (sql, one_row) = conn.backend().checksums_query(&hist);
        let rows = if one_row {
            conn.optional_string(&sql).await.map(|one| {
                one.unwrap_or_default()
                    .split(',')
                    .filter_map(|pair| pair.split_once(' '))
                    .map(|(r, c)| (r.to_string(), Some(c.to_string())))
                    .collect()
            })
        } else {
            conn.pairs(&sql).await
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
        let rows = match conn.triples(&sql).await {
            Ok(v) => v,
            Err(e) if conn.is_missing_table(&e) => Vec::new(),
            Err(e) => return Err(MigrateError::db("cannot read the history table", e)),
        };
        rows.into_iter()
            .map(|(revision, direction, checksum)| {
                let unreadable = |value: &str, column| MigrateError::UnreadableHistory {
                    revision: revision.clone(),
                    column,
                    value: value.to_string(),
                };
                let event = HistoryEvent::from_name(&direction)
                    .ok_or_else(|| unreadable(&direction, "direction"))?;
                let checksum = match checksum.as_deref() {
                    None => None,
                    Some(hex) => {
                        Some(Checksum::from_hex(hex).ok_or_else(|| unreadable(hex, "checksum"))?)
                    }
                };
                Ok(HistoryRow {
                    revision: revision.clone(),
                    direction: event,
                    checksum,
                })
            })
            .collect()
    }

    /// Applied revisions whose file changed since they ran.
    pub(super) fn edited(
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
                    current: script.checksum,
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
    pub(super) fn known_current(&self, current: &[String]) -> Result<(), MigrateError> {
        match current.iter().find(|r| self.dir.map.get(r).is_none()) {
            Some(unknown) => Err(RevisionError::UnknownCurrent(unknown.clone()).into()),
            None => Ok(()),
        }
    }

    pub(super) fn at_heads(&self, current: &[String]) -> Result<(), MigrateError> {
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
}
