//! Migrations compiled into the binary by [`embed_migrations!`](crate::embed_migrations).

use crate::rust_migration::RustMigration;
use migrate_core::{LoadError, Script, ScriptDirectory};

/// Every migration of a versions folder, validated at build time and stored as static
/// data. Produced by [`embed_migrations!`](crate::embed_migrations).
///
/// The scripts are the core's own [`Script`]s, written by the macro with text borrowed
/// from the binary; what only embedding has (the code of Rust migrations, the choice
/// to accept several heads) sits beside them.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    /// The migrations, in the loader's order (a folder's files by name, then its
    /// subfolders).
    pub migrations: &'static [Script],
    /// The code of the `.rs` migrations, by revision id, in the order of `migrations`.
    pub rust: &'static [(&'static str, RustMigration)],
    /// Whether the crate accepted several heads (`allow_multiple_heads`).
    pub allow_multiple_heads: bool,
}

impl EmbeddedMigrations {
    /// Builds the script directory (graph included) from the embedded data.
    ///
    /// # Errors
    /// Only if the data was not produced by the macro, which validated it already.
    pub fn directory(&self) -> Result<ScriptDirectory, LoadError> {
        // Cloning a script of borrowed text copies pointers, not SQL.
        ScriptDirectory::from_scripts(self.migrations.to_vec())
    }

    /// The code of a `.rs` migration; `None` for an SQL migration or an unknown revision.
    pub fn rust_migration(&self, revision: &str) -> Option<RustMigration> {
        self.rust
            .iter()
            .find(|(id, _)| *id == revision)
            .map(|(_, code)| *code)
    }
}
