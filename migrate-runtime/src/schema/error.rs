//! Errors of the schema tools: scratch databases, the declared schema, dev URLs and
//! comparing schemas. What they meet while talking to a database, or while running
//! migrations on a scratch, is the runner's [`MigrateError`], carried whole.

use crate::error::MigrateError;

/// Everything that can go wrong in the schema tools ([`crate::schema`] and the schema
/// checks of [`crate::testing`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A failure of the database or of the migrations run on a scratch database
    /// (connecting, catalog queries, a migration that fails).
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// Two schemas cannot be compared (a rename annotation that matches nothing).
    #[error(transparent)]
    Diff(#[from] migrate_schema::DiffError),
    /// A statement of the declared schema failed (see
    /// [`apply_declared`](crate::schema::apply_declared)).
    #[error(transparent)]
    Declared(Box<DeclaredFailed>),
    /// The declared schema folder cannot be read or is invalid, or an annotation names a
    /// table or column the schema does not have.
    #[error(transparent)]
    DeclaredSchema(#[from] migrate_schema::declared::DeclaredError),
    /// A scratch database (or schema) already holds objects, so it would not compare as
    /// the schema its SQL creates.
    #[error("the scratch {kind} `{name}` is not empty (it holds {}); a scratch database must start empty: on PostgreSQL, remove them from the template database (`template1`)", .objects.join(", "))]
    ScratchNotEmpty {
        /// `database` or `schema`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The first objects found.
        objects: Vec<String>,
    },
    /// The target database's role may not create a scratch database and no dev database
    /// was named: a scratch schema inside the target would put the migrations next to
    /// its live tables, so none is made.
    #[error("cannot create a scratch database on {url}: the role may not create databases ({message}); the schema commands never run migrations inside the target database, so name a separate dev database for them (--dev-url URL, or `dev_url` in migrate.toml), or {fix}")]
    ScratchNeedsDevUrl {
        /// The target's URL, password masked.
        url: String,
        /// The server's message for `CREATE DATABASE`.
        message: String,
        /// The grant that would let the role create scratch databases.
        fix: &'static str,
    },
    /// The dev database's role may create neither a scratch database nor (on
    /// PostgreSQL) a scratch schema inside the dev database.
    #[error("cannot create a scratch database on the dev database {url}: its role may not create databases ({database}){}; {fix}", schema_note(.schema))]
    ScratchDenied {
        /// The dev database's URL, password masked.
        url: String,
        /// The server's message for `CREATE DATABASE`.
        database: String,
        /// The server's message for `CREATE SCHEMA` (PostgreSQL), `None` where there is no
        /// schema to fall back to.
        schema: Option<String>,
        /// The grant that would do.
        fix: &'static str,
    },
    /// The dev URL names the target database itself.
    #[error("the dev URL {url} names the target database; scratch work there would run the migrations next to its live tables: give a separate database (an empty one on a development server)")]
    DevUrlIsTarget {
        /// The dev URL, password masked.
        url: String,
    },
    /// The dev URL is another kind of database than the target.
    #[error("the dev URL {url} is a {dev} database and the target is {target}; give a dev database of the target's kind")]
    DevUrlKind {
        /// The dev URL, password masked.
        url: String,
        /// Its kind.
        dev: migrate_core::Dialect,
        /// The target's kind.
        target: migrate_core::Dialect,
    },
}

/// The details of [`SchemaError::Declared`]: a statement of the declared schema that
/// the database refused.
#[derive(Debug, thiserror::Error)]
#[error("declared schema statement failed at {path}:{line}: {message}\n  statement: {statement}")]
#[non_exhaustive]
pub struct DeclaredFailed {
    /// The file, relative to the declared schema folder.
    pub path: String,
    /// Line of the failing statement in the file.
    pub line: usize,
    /// The failing statement.
    pub statement: String,
    /// The database's message.
    pub message: String,
    /// Driver error.
    #[source]
    pub source: sqlx::Error,
}

// Plans and folders are the runner's errors: a schema tool that meets one (the stairway
// test's plan) reports it as the runner would.
impl From<migrate_core::RevisionError> for SchemaError {
    fn from(e: migrate_core::RevisionError) -> Self {
        SchemaError::Migrate(e.into())
    }
}

#[cfg(feature = "schema")]
impl SchemaError {
    /// A database failure of the schema tools themselves, with what they were doing.
    pub(crate) fn db(context: impl Into<String>, source: sqlx::Error) -> Self {
        MigrateError::db(context, source).into()
    }
}

fn schema_note(schema: &Option<String>) -> String {
    match schema {
        Some(m) => format!(" nor schemas ({m})"),
        None => String::new(),
    }
}
