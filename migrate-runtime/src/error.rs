//! Errors of the runtime.

use migrate_core::{Dialect, LoadError, RevisionError};
use std::time::Duration;

/// Everything that can go wrong while migrating a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The migrations folder could not be loaded or is invalid.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An identifier did not resolve, or the plan is not possible.
    #[error(transparent)]
    Revision(#[from] RevisionError),
    /// The database URL is not one this build supports.
    #[error("unsupported database URL `{url}`: expected {expected}")]
    UnsupportedUrl {
        /// The URL, password masked.
        url: String,
        /// What this build accepts.
        expected: &'static str,
    },
    /// Connecting failed.
    #[error("cannot connect to {url}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A database operation of the migrator itself (not of a migration) failed.
    #[error("{context}")]
    Database {
        /// What the migrator was doing.
        context: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration's SQL failed. Everything before it stays applied; this one was
    /// rolled back where the database allows it.
    #[error(transparent)]
    Migration(Box<MigrationFailed>),
    /// Applied migrations whose files changed since they ran.
    #[error("applied migrations were edited since they ran: {}; restore them, or accept the new contents on purpose (`migrate accept`)", list_edited(.0))]
    Edited(Vec<EditedMigration>),
    /// The migration lock was not obtained in time.
    #[error("timed out after {waited:?} waiting for the migration lock ({what}); another migrator is running, or a crashed one still holds its connection")]
    LockTimeout {
        /// How long we waited.
        waited: Duration,
        /// Which lock.
        what: String,
    },
    /// A revision has no SQL usable on this database.
    #[error("revision `{revision}` ({path}) has no `-- migrate:{direction}` section usable on {dialect}; nothing was run")]
    NoSqlForDialect {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// The database.
        dialect: Dialect,
    },
    /// The version table changed in a way the plan did not expect.
    #[error("the version table `{table}` did not hold the rows expected while applying `{revision}` (expected {expected} changed rows, got {actual}); nothing of this step was kept")]
    VersionTable {
        /// Table name.
        table: String,
        /// Revision of the step.
        revision: String,
        /// Rows expected to change.
        expected: u64,
        /// Rows that changed.
        actual: u64,
    },
    /// Another migrator moved the version table during a run with a relative target.
    #[error("another migrator changed the version table while moving to the relative target `{target}`; nothing more was run{}; check `current` and run again with an absolute target", applied_note(.applied))]
    ConcurrentChange {
        /// The relative target.
        target: String,
        /// Steps this run completed before it noticed.
        applied: Vec<String>,
    },
    /// The lock file beside an SQLite database could not be created or locked.
    #[error("cannot use the migration lock file `{}`", path.display())]
    LockFile {
        /// The lock file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A table or schema name that is not a plain identifier.
    #[error("invalid table or schema name {0:?}: use letters, digits and `_` (at most 63)")]
    InvalidName(String),
    /// The database is not at the heads (from [`Migrator::check`](crate::Migrator::check)).
    #[error("database is not up to date: current {current}, heads {heads}", current = or_base(.current), heads = or_base(.heads))]
    NotAtHead {
        /// Rows of the version table.
        current: Vec<String>,
        /// Heads of the migrations.
        heads: Vec<String>,
    },
}

/// The details of [`MigrateError::Migration`].
#[derive(Debug, thiserror::Error)]
#[error("{direction} of revision `{revision}` failed at {path}:{line}: {message}\n  statement: {statement}{}", applied_note(.applied))]
#[non_exhaustive]
pub struct MigrationFailed {
    /// `upgrade` or `downgrade`.
    pub direction: &'static str,
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// Line of the failing statement in the file.
    pub line: usize,
    /// The failing statement.
    pub statement: String,
    /// The database's message.
    pub message: String,
    /// Revisions applied (or reverted) before the failure, in order.
    pub applied: Vec<String>,
    /// Driver error.
    #[source]
    pub source: sqlx::Error,
}

/// An applied migration whose checksum differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedMigration {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// Checksum recorded when it ran.
    pub recorded: String,
    /// Checksum of the file now.
    pub current: String,
}

fn list_edited(v: &[EditedMigration]) -> String {
    v.iter()
        .map(|e| format!("`{}` ({})", e.revision, e.path))
        .collect::<Vec<_>>()
        .join(", ")
}

fn applied_note(applied: &[String]) -> String {
    if applied.is_empty() {
        String::new()
    } else {
        format!("\n  completed before the failure: {}", applied.join(", "))
    }
}

fn or_base(v: &[String]) -> String {
    if v.is_empty() {
        "<base>".to_string()
    } else {
        v.join(", ")
    }
}

impl MigrateError {
    pub(crate) fn db(context: impl Into<String>, source: sqlx::Error) -> Self {
        MigrateError::Database {
            context: context.into(),
            source,
        }
    }
}

/// Masks the password of a URL for display: `postgres://u:***@h/db`.
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &url[scheme_end + 3 + at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_url("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(mask_url("mysql://root@h/db"), "mysql://root@h/db");
        assert_eq!(mask_url("sqlite://a.db"), "sqlite://a.db");
        assert_eq!(mask_url("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
    }
}
