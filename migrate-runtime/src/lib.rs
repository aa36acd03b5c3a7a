//! Applies migrations to PostgreSQL, SQLite and MySQL/MariaDB through `sqlx`.

pub mod build;
mod embedded;

pub use embedded::{EmbeddedMigration, EmbeddedMigrations, EmbeddedSection};
pub use migrate_core as core;
pub use migrate_macros::{embed_migrations, migrations};

/// Items the generated code of [`embed_migrations!`] refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::embedded::{EmbeddedMigration, EmbeddedMigrations, EmbeddedSection};
}
