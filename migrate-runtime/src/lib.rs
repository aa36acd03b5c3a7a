//! Applies migrations to PostgreSQL, SQLite and MySQL/MariaDB through `sqlx`, keeping
//! Alembic's `alembic_version` table so a database can move between this runtime and
//! Alembic in either direction.
//!
//! A self-migrating binary embeds its folder with
//! `static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");` and calls
//! `Migrator::new(&MIGRATIONS)?`; the same runner also reads a folder from disk:
//!
//! ```no_run
//! use migrate_runtime::{Database, Migrator};
//!
//! # async fn start() -> Result<(), migrate_runtime::MigrateError> {
//! let db = Database::connect("sqlite://app.db").await?;
//! let report = Migrator::load("migrations")?.upgrade(&db, "head").await?;
//! println!("at {:?}", report.heads);
//! # Ok(()) }
//! ```
//!
//! Migrations may also be written in Rust (a `.rs` file of the versions folder, compiled
//! into the application by [`embed_migrations!`]): see [`MigrationContext`], and
//! [`MigrationContext::backfill`] with [`Backfill`] for batched data migrations that
//! commit batch by batch and resume after a crash. SQL migrations batch a statement
//! with `-- migrate:batch size=N`.

mod batch;
pub mod build;
mod driver;
mod embedded;
mod error;
mod migrator;
mod rust_migration;
pub mod schema;
#[cfg(any(feature = "schema", feature = "testing-fixture"))]
pub mod testing;

pub use batch::{Backfill, Batch, BatchFuture, BatchKey, Resume, RowProgress, StopHandle};
pub use driver::{ConnectOptions, Database, Db};
pub use embedded::EmbeddedMigrations;
pub use error::{
    mask_url, EditedMigration, MigrateError, MigrationFailed, RustMigrationFailed, TlsCaError,
};
pub use migrate_core as core;
pub use migrate_core::{Dialect, Direction};
pub use migrate_macros::{embed_migrations, migrations};
pub use migrator::{
    AppliedState, CheckReport, HistoryEvent, HistoryRow, Migrator, Options, Progress, Report,
    StepReport, TransactionMode,
};
pub use rust_migration::{
    MigrationContext, MigrationError, MigrationFn, MigrationFuture, MigrationResult, RustMigration,
};
pub use schema::SchemaError;

/// Items the generated code of [`embed_migrations!`] refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::embedded::EmbeddedMigrations;
    pub use crate::rust_migration::{MigrationContext, MigrationFuture, RustMigration};
    pub use migrate_core::{Checksum, Dialect, Script, ScriptKind, Section};
    pub use std::borrow::Cow;
}
