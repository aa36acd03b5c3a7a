//! One change to a schema: what it is, its inverse, whether it may lose data.

use super::type_widens;
use crate::model::{
    Check, Column, EnumType, ForeignKey, Function, Index, Object, PostgresTable, PrimaryKey,
    Sequence, Table, TableOptions, Trigger, Unique, View,
};
use std::fmt;

/// A column whose type is an enum being re-created: its values are cast to the new
/// type, and its default (which names the type) is dropped and set again around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumColumn {
    /// The table, by its name when the enum changes (after renames in an upgrade).
    pub table: String,
    /// The column, by its name when the enum changes.
    pub column: String,
    /// The column's default at that moment.
    pub default: Option<String>,
}

/// One change to a schema. Each carries what its inverse needs: a dropped object's
/// whole definition, an altered column's definition before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A column change holds two columns: a diff has a few hundred changes at most, so the
// size is not worth a box in every pattern.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    /// `CREATE TABLE` with columns, primary key, unique constraints and checks; its
    /// indexes and foreign keys follow as separate changes.
    CreateTable(Table),
    /// `DROP TABLE`; the table is as it was (without the indexes and foreign keys,
    /// dropped by changes before it), so that the inverse re-creates it.
    DropTable(Table),
    /// `ALTER TABLE from RENAME TO to`.
    RenameTable {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ADD COLUMN`.
    AddColumn {
        /// The table (new name).
        table: String,
        /// The column as it will be.
        column: Column,
    },
    /// `DROP COLUMN`.
    DropColumn {
        /// The table (old name).
        table: String,
        /// The column as it was.
        column: Column,
    },
    /// A PostgreSQL table's partitioning, persistence or storage parameters change: a
    /// partition detached and attached again with its new bound, `SET UNLOGGED`, `SET
    /// (fillfactor=70)`. A partition key cannot change in place: rendering it fails,
    /// naming the table.
    AlterPostgresTable {
        /// The table (new name).
        table: String,
        /// Before (the parent of a partition in `to`'s names).
        from: PostgresTable,
        /// After.
        to: PostgresTable,
    },
    /// `RENAME COLUMN from TO to`.
    RenameColumn {
        /// The table, by its name when the rename runs (after table renames).
        table: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A change of type, nullability, default, identity or generation.
    AlterColumn {
        /// The table, by its name when the change runs.
        table: String,
        /// The column before (under its name when the change runs).
        from: Column,
        /// The column after.
        to: Column,
    },
    /// Adds a primary key.
    AddPrimaryKey {
        /// The table (new name).
        table: String,
        /// The key.
        primary_key: PrimaryKey,
    },
    /// Drops a primary key.
    DropPrimaryKey {
        /// The table (old name).
        table: String,
        /// The key as it was.
        primary_key: PrimaryKey,
    },
    /// Adds a unique constraint.
    AddUnique {
        /// The table (new name).
        table: String,
        /// The constraint.
        unique: Unique,
    },
    /// Drops a unique constraint.
    DropUnique {
        /// The table (old name).
        table: String,
        /// The constraint as it was.
        unique: Unique,
    },
    /// `CREATE INDEX`.
    CreateIndex {
        /// The table (new name).
        table: String,
        /// The index.
        index: Index,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The table (old name).
        table: String,
        /// The index as it was.
        index: Index,
    },
    /// Adds a foreign key.
    AddForeignKey {
        /// The referencing table (new name).
        table: String,
        /// The key.
        foreign_key: ForeignKey,
    },
    /// Drops a foreign key.
    DropForeignKey {
        /// The referencing table (old name).
        table: String,
        /// The key as it was.
        foreign_key: ForeignKey,
    },
    /// Adds a CHECK constraint.
    AddCheck {
        /// The table (new name).
        table: String,
        /// The constraint.
        check: Check,
    },
    /// Drops a CHECK constraint.
    DropCheck {
        /// The table (old name).
        table: String,
        /// The constraint as it was.
        check: Check,
    },
    /// A CHECK constraint's validity changes, its condition staying (PostgreSQL):
    /// `VALIDATE CONSTRAINT`, or the check dropped and added `NOT VALID`.
    AlterCheck {
        /// The table (new name).
        table: String,
        /// The constraint before (under the name it has in the database).
        from: Check,
        /// The constraint after.
        to: Check,
    },
    /// `CREATE VIEW`.
    CreateView(View),
    /// `DROP VIEW` (a changed view is dropped and created again).
    DropView(View),
    /// `CREATE TYPE ... AS ENUM` (PostgreSQL).
    CreateEnum(EnumType),
    /// `DROP TYPE` (PostgreSQL).
    DropEnum(EnumType),
    /// An enum's labels change: added labels with the old ones kept in order are
    /// `ALTER TYPE ... ADD VALUE`; anything else (a label removed or moved) re-creates
    /// the type and casts `columns` to it.
    AlterEnum {
        /// The type before.
        from: EnumType,
        /// The type after.
        to: EnumType,
        /// The columns of this type when the change runs.
        columns: Vec<EnumColumn>,
    },
    /// `CREATE SEQUENCE` (PostgreSQL).
    CreateSequence(Sequence),
    /// `DROP SEQUENCE` (PostgreSQL).
    DropSequence(Sequence),
    /// `ALTER SEQUENCE` (PostgreSQL).
    AlterSequence {
        /// The sequence before.
        from: Sequence,
        /// The sequence after.
        to: Sequence,
    },
    /// `CREATE FUNCTION` or `CREATE PROCEDURE` (PostgreSQL).
    CreateFunction(Function),
    /// `DROP FUNCTION` or `DROP PROCEDURE` (PostgreSQL).
    DropFunction(Function),
    /// A function's definition changes, its signature staying: `CREATE OR REPLACE`.
    ReplaceFunction {
        /// The function before.
        from: Function,
        /// The function after.
        to: Function,
    },
    /// `CREATE TRIGGER`.
    CreateTrigger(Trigger),
    /// `DROP TRIGGER` (a changed trigger is dropped and created again).
    DropTrigger(Trigger),
    /// A table's storage options change (SQLite `STRICT`, `WITHOUT ROWID`): the table
    /// is rebuilt.
    AlterTableOptions {
        /// The table (new name).
        table: String,
        /// The options before.
        from: TableOptions,
        /// The options after.
        to: TableOptions,
    },
    /// Creates an object kept as its catalog prints it.
    CreateObject(Object),
    /// Drops an object kept as its catalog prints it (a changed one is dropped and
    /// created again).
    DropObject(Object),
}

impl Change {
    /// The change that undoes this one.
    pub fn inverse(&self) -> Change {
        match self.clone() {
            Change::CreateTable(t) => Change::DropTable(t),
            Change::DropTable(t) => Change::CreateTable(t),
            Change::RenameTable { from, to } => Change::RenameTable { from: to, to: from },
            Change::AddColumn { table, column } => Change::DropColumn { table, column },
            Change::DropColumn { table, column } => Change::AddColumn { table, column },
            Change::RenameColumn { table, from, to } => Change::RenameColumn {
                table,
                from: to,
                to: from,
            },
            Change::AlterColumn { table, from, to } => Change::AlterColumn {
                table,
                from: to,
                to: from,
            },
            Change::AlterPostgresTable { table, from, to } => Change::AlterPostgresTable {
                table,
                from: to,
                to: from,
            },
            Change::AddPrimaryKey { table, primary_key } => {
                Change::DropPrimaryKey { table, primary_key }
            }
            Change::DropPrimaryKey { table, primary_key } => {
                Change::AddPrimaryKey { table, primary_key }
            }
            Change::AddUnique { table, unique } => Change::DropUnique { table, unique },
            Change::DropUnique { table, unique } => Change::AddUnique { table, unique },
            Change::CreateIndex { table, index } => Change::DropIndex { table, index },
            Change::DropIndex { table, index } => Change::CreateIndex { table, index },
            Change::AddForeignKey { table, foreign_key } => {
                Change::DropForeignKey { table, foreign_key }
            }
            Change::DropForeignKey { table, foreign_key } => {
                Change::AddForeignKey { table, foreign_key }
            }
            Change::AddCheck { table, check } => Change::DropCheck { table, check },
            Change::DropCheck { table, check } => Change::AddCheck { table, check },
            Change::AlterCheck { table, from, to } => Change::AlterCheck {
                table,
                from: to,
                to: from,
            },
            Change::CreateView(v) => Change::DropView(v),
            Change::DropView(v) => Change::CreateView(v),
            Change::CreateEnum(e) => Change::DropEnum(e),
            Change::DropEnum(e) => Change::CreateEnum(e),
            Change::AlterEnum { from, to, columns } => Change::AlterEnum {
                from: to,
                to: from,
                columns,
            },
            Change::CreateSequence(s) => Change::DropSequence(s),
            Change::DropSequence(s) => Change::CreateSequence(s),
            Change::AlterSequence { from, to } => Change::AlterSequence { from: to, to: from },
            Change::CreateFunction(f) => Change::DropFunction(f),
            Change::DropFunction(f) => Change::CreateFunction(f),
            Change::ReplaceFunction { from, to } => Change::ReplaceFunction { from: to, to: from },
            Change::CreateTrigger(t) => Change::DropTrigger(t),
            Change::DropTrigger(t) => Change::CreateTrigger(t),
            Change::CreateObject(o) => Change::DropObject(o),
            Change::DropObject(o) => Change::CreateObject(o),
            Change::AlterTableOptions { table, from, to } => Change::AlterTableOptions {
                table,
                from: to,
                to: from,
            },
        }
    }

    /// Whether the change may lose data: dropping a table, a (non-generated) column, an
    /// enum or a sequence; a type change not proven to widen (a shorter `varchar` or
    /// `char`, a smaller integer, a smaller numeric precision or scale, or any change
    /// between types this crate does not know to be compatible); turning a column into
    /// a generated one (its values are replaced); removing an enum label.
    pub fn is_destructive(&self) -> bool {
        match self {
            Change::DropTable(_) | Change::DropEnum(_) | Change::DropSequence(_) => true,
            // A materialized view's rows, an extension's tables go with them.
            Change::DropObject(o) => matches!(o.kind.as_str(), "materialized view" | "extension"),
            Change::DropColumn { column, .. } => column.generated.is_none(),
            Change::AlterColumn { from, to, .. } => {
                (from.data_type != to.data_type && !type_widens(&from.data_type, &to.data_type))
                    || (from.generated.is_none() && to.generated.is_some())
            }
            Change::AlterEnum { from, to, .. } => {
                from.values.iter().any(|v| !to.values.contains(v))
            }
            _ => false,
        }
    }

    /// The table the change is about, by the name it uses (`None` for views, enums,
    /// sequences, functions and triggers; the old name for a table rename).
    pub fn table(&self) -> Option<&str> {
        match self {
            Change::CreateTable(t) | Change::DropTable(t) => Some(&t.name),
            Change::RenameTable { from, .. } => Some(from),
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::AlterPostgresTable { table, .. }
            | Change::AddPrimaryKey { table, .. }
            | Change::DropPrimaryKey { table, .. }
            | Change::AddUnique { table, .. }
            | Change::DropUnique { table, .. }
            | Change::CreateIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. }
            | Change::AlterCheck { table, .. }
            | Change::AlterTableOptions { table, .. } => Some(table),
            _ => None,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
