//! What the databases do differently: the public [`DdlDialect`] (names, quoting,
//! literals, identifier folding), which the runtime's drivers can share, and the
//! renderer's hooks ([`Ddl`]), one implementation per database.

use super::{Block, ListInfo, RenderError, Renderer, Step};
use crate::diff::{Change, EnumColumn};
use crate::model::{
    Check, Column, EnumType, ForeignKey, Function, Index, PrimaryKey, Sequence, Table, Trigger,
    Unique,
};
use migrate_core::sql::plain_identifier_problem;

/// How one database writes names and values in SQL: the one place per database that
/// quotes an identifier or a string, and that knows how it folds unquoted names.
///
/// Get a database's with [`dialect`](super::dialect).
pub trait DdlDialect: Send + Sync {
    /// The database's name in messages: `PostgreSQL`, `MySQL`, `SQLite`.
    fn name(&self) -> &'static str;

    /// `name` as a quoted identifier, always quoted: `"name"` (a `"` inside doubled) on
    /// PostgreSQL and SQLite, `` `name` `` (a backtick inside doubled) on MySQL.
    fn quote_identifier(&self, name: &str) -> String;

    /// `s` as a string literal: in single quotes, a `'` inside doubled (and on MySQL,
    /// which reads backslash escapes unless `NO_BACKSLASH_ESCAPES`, a `\` doubled).
    fn string_literal(&self, s: &str) -> String;

    /// The name the database stores for an identifier written `name`, `quoted` or not.
    fn stored_name(&self, name: &str, quoted: bool) -> String;

    /// Whether an identifier written `name` (`quoted` or not) resolves to the object the
    /// database stores as `stored`.
    fn resolves_to(&self, name: &str, quoted: bool, stored: &str) -> bool;

    /// `name` as an identifier, quoted (by [`quote_identifier`](Self::quote_identifier))
    /// only when it must be: when it is not plain lower-case letters, digits and `_`
    /// (upper case would fold on PostgreSQL), or is a keyword.
    fn identifier(&self, name: &str) -> String {
        if needs_quotes(name) {
            self.quote_identifier(name)
        } else {
            name.to_string()
        }
    }
}

/// Whether an identifier must be quoted: not plain lower-case letters, digits and `_`
/// (upper case would fold on PostgreSQL), or a keyword.
pub(crate) fn needs_quotes(name: &str) -> bool {
    plain_identifier_problem(name).is_some() || name.chars().any(|c| c.is_ascii_uppercase())
}

/// How a column definition is wanted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnForm {
    /// SQLite's `INTEGER PRIMARY KEY AUTOINCREMENT`, written on the column.
    pub(crate) autoincrement_key: bool,
    /// MySQL's `AUTO_INCREMENT` written (`false`: added later, with the key).
    pub(crate) auto_increment: bool,
    /// PostgreSQL's `serial` written as the type, which brings its own default.
    pub(crate) serial: bool,
}

/// The renderer's hooks: each place where the DDL of one database differs. The
/// defaults are what two or more databases share; a feature only PostgreSQL has
/// (enums, sequences, functions, `NOT VALID` checks) defaults to an error.
pub(crate) trait Ddl: DdlDialect {
    /// Makes the changes that must stay commented out together do so (SQLite's
    /// rebuilds).
    fn group_reasons(&self, _changes: &[Change], _reasons: &mut [Option<String>]) {}

    /// The blocks of a list of changes; by default one block per change.
    fn blocks(
        &self,
        r: &Renderer<'_>,
        changes: &[Change],
        reasons: &[Option<String>],
        info: &ListInfo,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Block>, RenderError> {
        r.blocks_one_by_one(changes, reasons, info, warnings)
    }

    /// A comment line explaining a statement that needs one.
    fn note(&self, _change: &Change) -> Option<String> {
        None
    }

    /// A column default as it must be written after `DEFAULT`.
    fn default_sql(&self, default: &str) -> String;

    /// A type to write instead of the column's (PostgreSQL's `serial`).
    fn serial_type(&self, _r: &Renderer<'_>, _column: &Column) -> Option<&'static str> {
        None
    }

    /// What follows a column's type and collation: generation, identity, nullability,
    /// default.
    fn column_options(
        &self,
        r: &Renderer<'_>,
        table: &str,
        column: &Column,
        form: ColumnForm,
    ) -> Result<String, RenderError>;

    /// The column of a table's one-column key that takes SQLite's `AUTOINCREMENT`.
    fn autoincrement_key(&self, _table: &Table) -> Option<String> {
        None
    }

    /// Whether a table's foreign keys are written inside its `CREATE TABLE` (else they
    /// are added after).
    fn foreign_keys_in_create_table(&self) -> bool {
        false
    }

    /// Whether tables can be `STRICT` and `WITHOUT ROWID` (SQLite).
    fn table_options(&self) -> bool {
        false
    }

    /// Whether a check can be `NOT VALID` (added without checking the rows).
    fn not_valid_checks(&self) -> bool {
        false
    }

    /// Whether foreign keys can be deferrable.
    fn deferrable_foreign_keys(&self) -> bool {
        true
    }

    /// Whether the database has PostgreSQL's index and table options (operator classes,
    /// `INCLUDE`, partitions, `UNLOGGED`, storage parameters); the others refuse them.
    fn postgres_options(&self) -> bool {
        false
    }

    /// An index's expression key.
    fn index_expression(&self, expression: &str) -> String;

    /// `CREATE INDEX`.
    fn create_index(
        &self,
        r: &Renderer<'_>,
        table: &str,
        ix: &Index,
    ) -> Result<String, RenderError>;

    /// The drop of an index.
    fn drop_index(&self, r: &Renderer<'_>, _table: &str, ix: &Index) -> String {
        format!("DROP INDEX {}", r.q(&ix.name))
    }

    /// `ADD COLUMN`.
    fn add_column(
        &self,
        r: &Renderer<'_>,
        _step: &Step<'_>,
        table: &str,
        column: &Column,
    ) -> Result<String, RenderError> {
        Ok(r.alter(
            table,
            format!("ADD COLUMN {}", r.column_def(table, column, false, true)?),
        ))
    }

    /// A column's change other than its generation.
    fn alter_column(
        &self,
        r: &Renderer<'_>,
        step: &Step<'_>,
        table: &str,
        from: &Column,
        to: &Column,
    ) -> Result<Vec<String>, RenderError>;

    /// The addition of a primary key.
    fn add_primary_key(
        &self,
        r: &Renderer<'_>,
        table: &str,
        key: &PrimaryKey,
    ) -> Result<String, RenderError> {
        Ok(r.alter(table, format!("ADD {}", r.primary_key_clause(key))))
    }

    /// The drop of a primary key.
    fn drop_primary_key(
        &self,
        r: &Renderer<'_>,
        table: &str,
        key: &PrimaryKey,
    ) -> Result<Vec<String>, RenderError>;

    /// The drop of a unique constraint.
    fn drop_unique(&self, r: &Renderer<'_>, table: &str, unique: &Unique) -> Vec<String>;

    /// The drop of a check.
    fn drop_check(
        &self,
        r: &Renderer<'_>,
        table: &str,
        check: &Check,
    ) -> Result<Vec<String>, RenderError>;

    /// A check validated, or made `NOT VALID` again.
    fn alter_check(
        &self,
        r: &Renderer<'_>,
        table: &str,
        _from: &Check,
        _to: &Check,
    ) -> Result<Vec<String>, RenderError> {
        Err(r.unsupported("NOT VALID checks", table))
    }

    /// The drop of a foreign key.
    fn drop_foreign_key(&self, r: &Renderer<'_>, table: &str, key: &ForeignKey) -> Vec<String>;

    /// `CREATE TYPE ... AS ENUM`.
    fn create_enum(&self, r: &Renderer<'_>, e: &EnumType) -> Result<Vec<String>, RenderError> {
        Err(r.unsupported("enum types", e.name.clone()))
    }

    /// The drop of an enum type.
    fn drop_enum(&self, r: &Renderer<'_>, e: &EnumType) -> Result<Vec<String>, RenderError> {
        Err(r.unsupported("enum types", e.name.clone()))
    }

    /// An enum type's labels changed, and the columns of that type with it.
    fn alter_enum(
        &self,
        r: &Renderer<'_>,
        _from: &EnumType,
        to: &EnumType,
        _columns: &[EnumColumn],
    ) -> Result<Vec<String>, RenderError> {
        Err(r.unsupported("enum types", to.name.clone()))
    }

    /// `CREATE SEQUENCE`.
    fn create_sequence(&self, r: &Renderer<'_>, s: &Sequence) -> Result<String, RenderError> {
        Err(r.unsupported("sequences", s.name.clone()))
    }

    /// The drop of a sequence.
    fn drop_sequence(&self, r: &Renderer<'_>, s: &Sequence) -> Result<String, RenderError> {
        Err(r.unsupported("sequences", s.name.clone()))
    }

    /// `ALTER SEQUENCE` to `to`'s options.
    fn alter_sequence(&self, r: &Renderer<'_>, to: &Sequence) -> Result<String, RenderError> {
        Err(r.unsupported("sequences", to.name.clone()))
    }

    /// A function's `CREATE OR REPLACE` statement.
    fn create_function(&self, r: &Renderer<'_>, f: &Function) -> Result<String, RenderError> {
        Err(r.unsupported("functions", f.signature()))
    }

    /// The drop of a function or procedure.
    fn drop_function(&self, r: &Renderer<'_>, f: &Function) -> Result<String, RenderError> {
        Err(r.unsupported("functions", f.signature()))
    }

    /// The drop of a trigger.
    fn drop_trigger(&self, r: &Renderer<'_>, t: &Trigger) -> String {
        format!("DROP TRIGGER {}", r.q(&t.name))
    }
}
