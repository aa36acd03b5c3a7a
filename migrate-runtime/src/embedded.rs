//! Migrations compiled into the binary by [`embed_migrations!`](crate::embed_migrations).

use migrate_core::{Checksum, Dialect, LoadError, Script, ScriptDirectory, ScriptKind, Section};

/// Every migration of a versions folder, validated at build time and stored as static
/// data. Produced by [`embed_migrations!`](crate::embed_migrations).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    /// The migrations, sorted by path.
    pub migrations: &'static [EmbeddedMigration],
    /// Whether the crate accepted several heads (`allow_multiple_heads`).
    pub allow_multiple_heads: bool,
}

/// One embedded migration file.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// Path relative to the versions folder, with `/`.
    pub path: &'static str,
    /// Revision id.
    pub revision: &'static str,
    /// Parents.
    pub down_revisions: &'static [&'static str],
    /// Declared branch labels.
    pub branch_labels: &'static [&'static str],
    /// `depends_on` entries.
    pub depends_on: &'static [&'static str],
    /// Message.
    pub message: &'static str,
    /// `create_date`, or empty.
    pub create_date: &'static str,
    /// `false` runs outside a transaction.
    pub transactional: bool,
    /// Header fields the project does not interpret (team fields such as `author`).
    pub extra_fields: &'static [(&'static str, &'static str)],
    /// Upgrade sections.
    pub upgrade: &'static [EmbeddedSection],
    /// Downgrade sections (empty: irreversible).
    pub downgrade: &'static [EmbeddedSection],
    /// SHA-256 of the file (CRLF as LF).
    pub checksum: [u8; 32],
    /// The code of a `.rs` migration (its sections are then empty, one per function);
    /// `None` for SQL.
    pub rust: Option<crate::rust_migration::RustMigration>,
}

/// One SQL section of an embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedSection {
    /// `""` for the shared section, else `postgres`, `sqlite` or `mysql`.
    pub dialect: &'static str,
    /// The SQL.
    pub sql: &'static str,
    /// 1-based line of the SQL in the file.
    pub line: usize,
}

impl EmbeddedSection {
    fn to_section(self) -> Section {
        Section {
            dialect: Dialect::from_name(self.dialect),
            sql: self.sql.to_string(),
            line: self.line,
        }
    }
}

impl EmbeddedMigration {
    /// The migration as a core [`Script`].
    pub fn to_script(&self) -> Script {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Script {
            path: self.path.to_string(),
            revision: self.revision.to_string(),
            down_revisions: strings(self.down_revisions),
            branch_labels: strings(self.branch_labels),
            depends_on: strings(self.depends_on),
            message: self.message.to_string(),
            create_date: (!self.create_date.is_empty()).then(|| self.create_date.to_string()),
            transactional: self.transactional,
            extra_fields: self
                .extra_fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            upgrade: self.upgrade.iter().map(|s| s.to_section()).collect(),
            downgrade: self.downgrade.iter().map(|s| s.to_section()).collect(),
            checksum: Checksum(self.checksum),
            kind: ScriptKind::of_path(self.path).unwrap_or_default(),
        }
    }
}

impl EmbeddedMigrations {
    /// Builds the script directory (graph included) from the embedded data.
    ///
    /// # Errors
    /// Only if the data was not produced by the macro, which validated it already.
    pub fn directory(&self) -> Result<ScriptDirectory, LoadError> {
        ScriptDirectory::from_scripts(self.migrations.iter().map(|m| m.to_script()).collect())
    }
}
