//! The difference between two schemas: an ordered list of [`Change`]s that turns `from`
//! into `to`, in an order every database accepts, and whose reverse (each change
//! inverted, the list read backwards) turns `to` back into `from`.
//!
//! Objects are matched by name. Renames come only from the `renamed_from` fields of
//! `to` (the `-- migrate:renamed_from` annotations of a declared schema): without one, a
//! renamed table or column is a drop and a create, and a drop and an add of the same
//! type in one table is reported in [`Diff::warnings`] as a possible rename. Constraints
//! that `to` leaves unnamed are matched by content (columns, referenced table and
//! columns, actions, expression) whatever their name in `from`; named ones by name.
//!
//! The order, in phases (a change's names are those current when it runs: drops use the
//! old names, additions the new ones):
//!
//! 0. drop triggers (changed ones, and unchanged ones on a view dropped in 1 or naming a
//!    column that changes; they are re-created in 16);
//! 1. drop views (changed ones, and unchanged ones that may read a table whose columns
//!    change, found by the table's name in the view's text; they are re-created in 15);
//! 2. drop foreign keys (before the keys, columns and tables they use);
//! 3. drop indexes, checks, unique constraints, primary keys (before their columns);
//! 4. drop columns;
//! 5. drop tables (a table before the tables it references);
//! 6. rename tables, 7. rename columns;
//! 8. create enums and sequences, change enums and sequences (before the tables and
//!    columns that use them), then create and replace functions (after the types their
//!    arguments use);
//! 9. create tables (without their indexes and foreign keys, which come in 13 and 14),
//!    10. add columns, 11. alter columns;
//! 12. drop functions, then enums and sequences (after the columns, checks and
//!     triggers that used them are gone or altered);
//! 13. add primary keys, unique constraints, checks, indexes (after their columns), and
//!     validate or invalidate checks;
//! 14. add foreign keys (after every table and key they use);
//! 15. create views, a view after the views it reads;
//! 16. create triggers, last (after the functions they call and the views they are on).
//!
//! The DDL must drop and re-create some unchanged objects around a change (a view over
//! a table whose column changes); [`Diff::differences`] leaves them out, for reports of
//! what differs.
//!
//! The reverse order is valid for the inverse changes by construction: every pair of
//! phases that must be ordered one way in the upgrade is ordered the other way, for the
//! opposite changes, in the downgrade.

use crate::model::{
    Check, Column, EnumType, ForeignKey, Function, Generated, Identity, Index, IndexKey, IndexPart,
    PrimaryKey, Schema, Sequence, Table, Trigger, Unique, View,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// The changes that turn one schema into another, in the order they must run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// The changes, in dependency order.
    pub changes: Vec<Change>,
    /// Things worth a look that are not changes, such as a dropped and an added column
    /// of the same type that may be a rename.
    pub warnings: Vec<String>,
}

impl Diff {
    /// Whether the two schemas are the same (warnings aside).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The diff that undoes this one: each change inverted, in reverse order.
    pub fn inverse(&self) -> Diff {
        Diff {
            changes: self.changes.iter().rev().map(Change::inverse).collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// Whether some change may lose data (see [`Change::is_destructive`]).
    pub fn is_destructive(&self) -> bool {
        self.changes.iter().any(Change::is_destructive)
    }

    /// The changes that make the two schemas differ, in order: [`Diff::changes`] without
    /// the objects that are only dropped and created again, unchanged, so that the
    /// database accepts another change (a view over a table whose column changes type,
    /// a check on that column). What a report of differences (drift) lists; the DDL
    /// needs them all.
    pub fn differences(&self) -> Vec<&Change> {
        // A change whose inverse is in the list too is such a drop and create again.
        let mut by_description: HashMap<String, Vec<&Change>> = HashMap::new();
        for c in &self.changes {
            by_description.entry(c.describe()).or_default().push(c);
        }
        self.changes
            .iter()
            .filter(|c| {
                let inverse = c.inverse();
                !by_description
                    .get(&inverse.describe())
                    .is_some_and(|cs| cs.iter().any(|d| **d == inverse))
            })
            .collect()
    }
}

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
}

/// Why two schemas cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// `to` has `name` with `renamed_from: previous`, and `from` has neither.
    #[error("renamed_from `{previous}` on {kind} `{name}` matches nothing: the current schema has neither `{name}` nor `{previous}`; fix or remove the annotation")]
    RenamedFromMatchesNothing {
        /// Table or column.
        kind: ObjectKind,
        /// The annotated object (`table.column` for a column).
        name: String,
        /// The name in the annotation.
        previous: String,
    },
    /// The annotated old name is still an object of `to`.
    #[error("renamed_from `{previous}` on {kind} `{name}`: `{previous}` is also in the target schema; rename one of them or remove the annotation")]
    RenamedFromStillPresent {
        /// Table or column.
        kind: ObjectKind,
        /// The annotated object.
        name: String,
        /// The name in the annotation.
        previous: String,
    },
    /// Two objects claim the same old name.
    #[error(
        "renamed_from `{previous}` is on {kind} `{first}` and on {kind} `{second}`; keep it on one"
    )]
    DuplicateRenamedFrom {
        /// Table or column.
        kind: ObjectKind,
        /// The name in the annotations.
        previous: String,
        /// The first annotated object.
        first: String,
        /// The second annotated object.
        second: String,
    },
}

/// What a [`DiffError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A table.
    Table,
    /// A column.
    Column,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
        })
    }
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

    /// One human line, as used in drift reports: `add column tickets.priority
    /// varchar(20)`, `drop table legacy`.
    pub fn describe(&self) -> String {
        match self {
            Change::CreateTable(t) => format!("create table {}", t.name),
            Change::DropTable(t) => format!("drop table {}", t.name),
            Change::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Change::AddColumn { table, column } => {
                format!("add column {table}.{}", column_summary(column))
            }
            Change::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Change::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Change::AlterColumn { table, from, to } => {
                format!(
                    "alter column {table}.{}: {}",
                    to.name,
                    alterations(from, to).join(", ")
                )
            }
            Change::AddPrimaryKey { table, primary_key } => format!(
                "add primary key{} on {table} ({})",
                named(&primary_key.name),
                primary_key.columns.join(", ")
            ),
            Change::DropPrimaryKey { table, primary_key } => format!(
                "drop primary key{} on {table} ({})",
                named(&primary_key.name),
                primary_key.columns.join(", ")
            ),
            Change::AddUnique { table, unique } => format!(
                "add unique{} on {table} ({})",
                named(&unique.name),
                unique.columns.join(", ")
            ),
            Change::DropUnique { table, unique } => format!(
                "drop unique{} on {table} ({})",
                named(&unique.name),
                unique.columns.join(", ")
            ),
            Change::CreateIndex { table, index } => format!(
                "create {}index {} on {table} ({})",
                if index.unique { "unique " } else { "" },
                index.name,
                index_parts_summary(&index.parts)
            ),
            Change::DropIndex { table, index } => format!("drop index {} on {table}", index.name),
            Change::AddForeignKey { table, foreign_key } => {
                format!("add foreign key{}", foreign_key_summary(table, foreign_key))
            }
            Change::DropForeignKey { table, foreign_key } => {
                format!(
                    "drop foreign key{}",
                    foreign_key_summary(table, foreign_key)
                )
            }
            Change::AddCheck { table, check } => {
                format!(
                    "add check{} on {table} ({})",
                    named(&check.name),
                    check.expression
                )
            }
            Change::DropCheck { table, check } => {
                format!(
                    "drop check{} on {table} ({})",
                    named(&check.name),
                    check.expression
                )
            }
            Change::AlterCheck { table, to, .. } => {
                if to.not_valid {
                    format!(
                        "check{} on {table} ({}) re-added not valid",
                        named(&to.name),
                        to.expression
                    )
                } else {
                    format!(
                        "validate check{} on {table} ({})",
                        named(&to.name),
                        to.expression
                    )
                }
            }
            Change::CreateView(v) => format!("create view {}", v.name),
            Change::DropView(v) => format!("drop view {}", v.name),
            Change::CreateEnum(e) => format!("create enum {} ({})", e.name, labels(&e.values)),
            Change::DropEnum(e) => format!("drop enum {}", e.name),
            Change::AlterEnum { from, to, .. } => match added_labels(from, to) {
                Some(added) => format!(
                    "add value{} {} to enum {}",
                    if added.len() > 1 { "s" } else { "" },
                    labels(&added.into_iter().map(|(v, _)| v).collect::<Vec<_>>()),
                    to.name
                ),
                None => format!(
                    "drop and re-create enum {} ({}) as ({})",
                    to.name,
                    labels(&from.values),
                    labels(&to.values)
                ),
            },
            Change::CreateSequence(s) => format!("create sequence {}", s.name),
            Change::DropSequence(s) => format!("drop sequence {}", s.name),
            Change::AlterSequence { to, .. } => format!("alter sequence {}", to.name),
            Change::CreateFunction(f) => {
                format!("create {} {}", routine_kind(f), f.signature())
            }
            Change::DropFunction(f) => format!("drop {} {}", routine_kind(f), f.signature()),
            Change::ReplaceFunction { to, .. } => {
                format!("replace {} {}", routine_kind(to), to.signature())
            }
            Change::CreateTrigger(t) => format!("create trigger {} on {}", t.name, t.table),
            Change::DropTrigger(t) => format!("drop trigger {} on {}", t.name, t.table),
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
            | Change::AlterCheck { table, .. } => Some(table),
            _ => None,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn routine_kind(f: &Function) -> &'static str {
    if f.procedure {
        "procedure"
    } else {
        "function"
    }
}

fn named(name: &Option<String>) -> String {
    name.as_ref().map(|n| format!(" {n}")).unwrap_or_default()
}

fn labels(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn column_summary(c: &Column) -> String {
    let mut s = format!("{} {}", c.name, c.data_type);
    if let Some(collation) = &c.collation {
        s.push_str(&format!(" collate {}", quoted_collation(collation)));
    }
    if !c.nullable {
        s.push_str(" not null");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" default {d}"));
    }
    if let Some(i) = c.identity {
        s.push_str(&format!(" {}", identity_words(i)));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" {}", generated_words(g)));
    }
    s
}

fn identity_words(i: Identity) -> &'static str {
    match i {
        Identity::Always => "generated always as identity",
        Identity::ByDefault => "generated by default as identity",
        Identity::AutoIncrement => "auto_increment",
    }
}

fn generated_words(g: &Generated) -> String {
    format!(
        "generated always as ({}) {}",
        g.expression,
        if g.stored { "stored" } else { "virtual" }
    )
}

/// A collation as SQL names it: `"C"`, `"en_US"`.
fn quoted_collation(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn alterations(from: &Column, to: &Column) -> Vec<String> {
    let mut out = Vec::new();
    if from.data_type != to.data_type {
        out.push(format!("type {} -> {}", from.data_type, to.data_type));
    }
    if from.collation != to.collation {
        let words = |c: &Option<String>| {
            c.as_deref()
                .map(quoted_collation)
                .unwrap_or_else(|| "default".into())
        };
        out.push(format!(
            "collation {} -> {}",
            words(&from.collation),
            words(&to.collation)
        ));
    }
    if from.nullable != to.nullable {
        out.push(
            if to.nullable {
                "drop not null"
            } else {
                "set not null"
            }
            .to_string(),
        );
    }
    if from.default != to.default {
        out.push(format!(
            "default {} -> {}",
            from.default.as_deref().unwrap_or("none"),
            to.default.as_deref().unwrap_or("none")
        ));
    }
    if from.identity != to.identity {
        out.push(format!(
            "identity {} -> {}",
            from.identity.map(identity_words).unwrap_or("none"),
            to.identity.map(identity_words).unwrap_or("none")
        ));
    }
    if from.generated != to.generated {
        out.push(format!(
            "{} -> {}",
            from.generated
                .as_ref()
                .map(generated_words)
                .unwrap_or_else(|| "not generated".into()),
            to.generated
                .as_ref()
                .map(generated_words)
                .unwrap_or_else(|| "not generated".into())
        ));
    }
    out
}

fn index_parts_summary(parts: &[IndexPart]) -> String {
    parts
        .iter()
        .map(|p| {
            let key = match &p.key {
                IndexKey::Column(c) => c.clone(),
                // As the database prints it (`lower(email)`, `(n + 1)`).
                IndexKey::Expression(e) => e.clone(),
            };
            if p.descending {
                format!("{key} desc")
            } else {
                key
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn foreign_key_summary(table: &str, fk: &ForeignKey) -> String {
    format!(
        "{} on {table} ({}) references {} ({})",
        named(&fk.name),
        fk.columns.join(", "),
        fk.referenced_table,
        fk.referenced_columns.join(", ")
    )
}

/// When `to` keeps every label of `from` in the same order, the added labels, each with
/// its position: `Some(neighbour)` is the existing label it goes before, `None` means at
/// the end (PostgreSQL's `ADD VALUE ... BEFORE`). `None` when a label is removed or moved.
pub(crate) fn added_labels(
    from: &EnumType,
    to: &EnumType,
) -> Option<Vec<(String, Option<String>)>> {
    let mut old = from.values.iter().peekable();
    let mut added = Vec::new();
    for v in &to.values {
        if old.peek() == Some(&v) {
            old.next();
        } else if from.values.contains(v) {
            return None;
        } else {
            added.push(v.clone());
        }
    }
    if old.next().is_some() {
        return None;
    }
    // Each added label goes before the next label that already existed, added in order
    // so that earlier ones are in place: BEFORE the next old label, or at the end.
    let mut out = Vec::with_capacity(added.len());
    for (i, v) in to.values.iter().enumerate() {
        if added.contains(v) {
            let next_old = to.values[i + 1..].iter().find(|w| from.values.contains(w));
            out.push((v.clone(), next_old.cloned()));
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------
// Type widening

/// A parsed type: base words (lower case, single spaces), numeric arguments, and the
/// words after the arguments (`unsigned`, `with time zone`).
struct ParsedType {
    base: String,
    args: Vec<u64>,
    suffix: String,
}

fn parse_type(t: &str) -> ParsedType {
    let t = t.trim().to_ascii_lowercase();
    let (head, args, tail) = match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if close > open => (
            t[..open].to_string(),
            t[open + 1..close]
                .split(',')
                .filter_map(|a| a.trim().parse::<u64>().ok())
                .collect(),
            t[close + 1..].to_string(),
        ),
        _ => (t.clone(), Vec::new(), String::new()),
    };
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut base = words(&head);
    let mut suffix = words(&tail);
    // `int unsigned` (MySQL without display width) keeps `unsigned` in the suffix.
    for w in ["unsigned zerofill", "unsigned", "zerofill"] {
        if let Some(b) = base.strip_suffix(&format!(" {w}")) {
            base = b.to_string();
            suffix = if suffix.is_empty() {
                w.to_string()
            } else {
                format!("{w} {suffix}")
            };
            break;
        }
    }
    ParsedType { base, args, suffix }
}

/// Integer width in bytes, for the integer types of the three databases.
fn integer_bytes(base: &str) -> Option<u32> {
    Some(match base {
        "tinyint" => 1,
        "smallint" | "int2" | "smallserial" => 2,
        "mediumint" => 3,
        "integer" | "int" | "int4" | "serial" => 4,
        "bigint" | "int8" | "bigserial" => 8,
        _ => return None,
    })
}

/// Decimal digits an integer of that width (signed) can need.
fn integer_digits(bytes: u32, unsigned: bool) -> u64 {
    match (bytes, unsigned) {
        (1, _) => 3,
        (2, _) => 5,
        (3, false) => 7,
        (3, true) => 8,
        (4, _) => 10,
        (_, false) => 19,
        (_, true) => 20,
    }
}

fn is_varchar(base: &str) -> bool {
    matches!(
        base,
        "character varying" | "varchar" | "nvarchar" | "varchar2"
    )
}

fn is_char(base: &str) -> bool {
    matches!(base, "character" | "char" | "bpchar" | "nchar")
}

/// Capacity of a text type in bytes (MySQL's text family), `u64::MAX` for unbounded.
fn text_bytes(base: &str) -> Option<u64> {
    Some(match base {
        "tinytext" => 255,
        "text" | "clob" => 65_535,
        "mediumtext" => 16_777_215,
        "longtext" => u64::MAX,
        _ => return None,
    })
}

fn is_numeric(base: &str) -> bool {
    matches!(base, "numeric" | "decimal" | "dec")
}

fn float_rank(base: &str, args: &[u64]) -> Option<u32> {
    match base {
        "real" | "float4" => Some(4),
        "double precision" | "double" | "float8" => Some(8),
        // `float(p)`: single up to 24 bits of precision (both PostgreSQL and MySQL).
        "float" => Some(if args.first().is_some_and(|p| *p > 24) {
            8
        } else {
            4
        }),
        _ => None,
    }
}

/// Whether every value of type `from` fits type `to` unchanged. `false` when it cannot
/// be shown, which makes the change destructive.
pub fn type_widens(from: &str, to: &str) -> bool {
    if from.trim().eq_ignore_ascii_case(to.trim()) {
        return true;
    }
    let f = parse_type(from);
    let t = parse_type(to);
    let unsigned = |p: &ParsedType| p.suffix.contains("unsigned");
    // Integers: a wider one, signed to signed, unsigned to wider signed or unsigned.
    if let (Some(fb), Some(tb)) = (integer_bytes(&f.base), integer_bytes(&t.base)) {
        // MySQL's `int(11)` display width is no limit, so arguments are ignored.
        return match (unsigned(&f), unsigned(&t)) {
            (false, false) | (true, true) => tb >= fb,
            (true, false) => tb > fb,
            (false, true) => false,
        } && f.suffix.replace("unsigned", "").trim()
            == t.suffix.replace("unsigned", "").trim();
    }
    // Integer to numeric with enough integer digits.
    if let (Some(fb), true) = (integer_bytes(&f.base), is_numeric(&t.base)) {
        return match t.args.as_slice() {
            [] => true,
            [p] => *p >= integer_digits(fb, unsigned(&f)),
            [p, s, ..] => p.saturating_sub(*s) >= integer_digits(fb, unsigned(&f)),
        };
    }
    if is_numeric(&f.base) && is_numeric(&t.base) {
        // Without arguments PostgreSQL's numeric is unbounded; MySQL reports its
        // `decimal` always with arguments.
        return match (f.args.as_slice(), t.args.as_slice()) {
            (_, []) => true,
            ([], _) => false,
            (fa, ta) => {
                let (fp, fs) = (fa[0], fa.get(1).copied().unwrap_or(0));
                let (tp, ts) = (ta[0], ta.get(1).copied().unwrap_or(0));
                ts >= fs && tp.saturating_sub(ts) >= fp.saturating_sub(fs)
            }
        };
    }
    if let (Some(fr), Some(tr)) = (float_rank(&f.base, &f.args), float_rank(&t.base, &t.args)) {
        return tr >= fr;
    }
    // Small integers fit a float exactly (24 and 53 bits of mantissa).
    if let (Some(fb), Some(tr)) = (integer_bytes(&f.base), float_rank(&t.base, &t.args)) {
        return (tr == 4 && fb <= 2) || (tr == 8 && fb <= 4);
    }
    // Strings.
    let f_len = f.args.first().copied();
    let t_len = t.args.first().copied();
    // PostgreSQL's varchar without a length takes any string; `text` is not proven
    // unbounded, as MySQL's holds 65,535 bytes (the rule below).
    let unbounded_text = |p: &ParsedType| is_varchar(&p.base) && p.args.is_empty();
    if (is_varchar(&f.base) || is_char(&f.base)) && (is_varchar(&t.base) || is_char(&t.base)) {
        // char to char/varchar, varchar to varchar: a length at least as long. A
        // varchar into a char would gain padding, so it is not proven.
        if is_varchar(&f.base) && is_char(&t.base) {
            return false;
        }
        return match (f_len, t_len) {
            (_, None) => is_varchar(&t.base),
            (None, Some(_)) => false,
            (Some(a), Some(b)) => b >= a,
        };
    }
    if (is_varchar(&f.base) || is_char(&f.base)) && unbounded_text(&t) {
        return true;
    }
    if let (true, Some(cap)) = (is_varchar(&f.base) || is_char(&f.base), text_bytes(&t.base)) {
        // Four bytes per character at most (utf8mb4).
        return f_len.is_some_and(|n| n.saturating_mul(4) <= cap);
    }
    if let (Some(a), Some(b)) = (text_bytes(&f.base), text_bytes(&t.base)) {
        return b >= a;
    }
    // Binary strings.
    let binary = |b: &str| matches!(b, "varbinary" | "binary" | "bit varying" | "varbit");
    if binary(&f.base) && f.base == t.base {
        return matches!((f_len, t_len), (Some(a), Some(b)) if b >= a) || t_len.is_none();
    }
    // Time types with fractional seconds: more digits.
    let timey = |b: &str| {
        matches!(
            b,
            "timestamp"
                | "time"
                | "datetime"
                | "timestamp without time zone"
                | "timestamp with time zone"
                | "time without time zone"
                | "time with time zone"
        )
    };
    if timey(&f.base) && f.base == t.base && f.suffix == t.suffix {
        // PostgreSQL's default precision is 6, MySQL's 0: no arguments is only proven
        // wider on PostgreSQL's spelling, so compare what is written.
        return matches!((f.args.first(), t.args.first()), (Some(a), Some(b)) if b >= a);
    }
    false
}

// ---------------------------------------------------------------------------------
// Matching by name and renamed_from

/// The outcome of matching names: pairs `(old name, new name)` in `to`'s order, new
/// names without a partner, old names without a partner in `from`'s order.
struct Matching<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    added: Vec<&'a str>,
    removed: Vec<&'a str>,
}

/// Matches by name, then `renamed_from`: a new name present in `from` is the same
/// object whatever its annotation (the rename already happened); otherwise its
/// annotated old name must be in `from`, not in `to`, and claimed once.
fn match_names<'a>(
    from: &[&'a str],
    to: &[(&'a str, Option<&'a str>)],
    kind: ObjectKind,
    qualify: &dyn Fn(&str) -> String,
) -> Result<Matching<'a>, DiffError> {
    let small = from.len() <= 16 && to.len() <= 16;
    // Small lists (the columns of a table) are searched in place: hashing costs more.
    let from_set: HashSet<&str> = if small {
        HashSet::new()
    } else {
        from.iter().copied().collect()
    };
    let to_set: HashSet<&str> = if small {
        HashSet::new()
    } else {
        to.iter().map(|t| t.0).collect()
    };
    let in_from = |n: &str| {
        if small {
            from.contains(&n)
        } else {
            from_set.contains(n)
        }
    };
    let in_to = |n: &str| {
        if small {
            to.iter().any(|t| t.0 == n)
        } else {
            to_set.contains(n)
        }
    };
    let mut pairs = Vec::with_capacity(to.len());
    let mut added = Vec::new();
    let mut claimed: Vec<(&str, &str)> = Vec::new();
    for &(name, renamed_from) in to {
        if in_from(name) {
            pairs.push((name, name));
            continue;
        }
        match renamed_from {
            Some(prev) if prev != name => {
                if !in_from(prev) {
                    return Err(DiffError::RenamedFromMatchesNothing {
                        kind,
                        name: qualify(name),
                        previous: prev.to_string(),
                    });
                }
                if in_to(prev) {
                    return Err(DiffError::RenamedFromStillPresent {
                        kind,
                        name: qualify(name),
                        previous: prev.to_string(),
                    });
                }
                if let Some((_, first)) = claimed.iter().find(|(p, _)| *p == prev) {
                    return Err(DiffError::DuplicateRenamedFrom {
                        kind,
                        previous: prev.to_string(),
                        first: qualify(first),
                        second: qualify(name),
                    });
                }
                claimed.push((prev, name));
                pairs.push((prev, name));
            }
            _ => added.push(name),
        }
    }
    let removed = if claimed.is_empty() {
        from.iter().copied().filter(|n| !in_to(n)).collect()
    } else {
        from.iter()
            .copied()
            .filter(|n| !in_to(n) && !claimed.iter().any(|(p, _)| p == n))
            .collect()
    };
    Ok(Matching {
        pairs,
        added,
        removed,
    })
}

// ---------------------------------------------------------------------------------
// The diff

/// The phases of the order described in the module documentation.
#[derive(Default)]
struct Phases {
    drop_triggers: Vec<Change>,
    drop_views: Vec<Change>,
    drop_foreign_keys: Vec<Change>,
    drop_keys: Vec<Change>,
    drop_columns: Vec<Change>,
    drop_tables: Vec<Change>,
    rename_tables: Vec<Change>,
    rename_columns: Vec<Change>,
    create_types: Vec<Change>,
    create_functions: Vec<Change>,
    create_tables: Vec<Change>,
    add_columns: Vec<Change>,
    alter_columns: Vec<Change>,
    drop_functions: Vec<Change>,
    drop_types: Vec<Change>,
    add_keys: Vec<Change>,
    add_foreign_keys: Vec<Change>,
    create_views: Vec<Change>,
    create_triggers: Vec<Change>,
}

impl Phases {
    fn into_changes(self) -> Vec<Change> {
        let mut out = Vec::new();
        for mut phase in [
            self.drop_triggers,
            self.drop_views,
            self.drop_foreign_keys,
            self.drop_keys,
            self.drop_columns,
            self.drop_tables,
            self.rename_tables,
            self.rename_columns,
            self.create_types,
            self.create_functions,
            self.create_tables,
            self.add_columns,
            self.alter_columns,
            self.drop_functions,
            self.drop_types,
            self.add_keys,
            self.add_foreign_keys,
            self.create_views,
            self.create_triggers,
        ] {
            out.append(&mut phase);
        }
        out
    }
}

/// A table present on both sides.
struct TablePair<'a> {
    from: &'a Table,
    to: &'a Table,
    /// Column pairs (old name, new name).
    columns: Matching<'a>,
}

/// Name translation from `from`'s names to `to`'s.
struct Names<'a> {
    tables: HashMap<&'a str, &'a str>,
    /// Per table (old name), old column name to new.
    columns: HashMap<&'a str, HashMap<&'a str, &'a str>>,
}

impl Names<'_> {
    fn table(&self, old: &str) -> String {
        self.tables
            .get(old)
            .map_or_else(|| old.to_string(), |n| n.to_string())
    }

    fn column(&self, old_table: &str, old: &str) -> String {
        self.columns
            .get(old_table)
            .and_then(|m| m.get(old))
            .map_or_else(|| old.to_string(), |n| n.to_string())
    }

    fn columns(&self, old_table: &str, cols: &[String]) -> Vec<String> {
        cols.iter().map(|c| self.column(old_table, c)).collect()
    }

    /// A foreign key of `old_table` in `to`'s names.
    fn foreign_key(&self, old_table: &str, fk: &ForeignKey) -> ForeignKey {
        ForeignKey {
            name: fk.name.clone(),
            columns: self.columns(old_table, &fk.columns),
            referenced_table: self.table(&fk.referenced_table),
            referenced_columns: self.columns(&fk.referenced_table, &fk.referenced_columns),
            on_delete: fk.on_delete,
            on_update: fk.on_update,
            deferrable: fk.deferrable,
        }
    }

    fn index(&self, old_table: &str, ix: &Index) -> Index {
        Index {
            parts: ix
                .parts
                .iter()
                .map(|p| IndexPart {
                    key: match &p.key {
                        IndexKey::Column(c) => IndexKey::Column(self.column(old_table, c)),
                        e => e.clone(),
                    },
                    descending: p.descending,
                })
                .collect(),
            ..ix.clone()
        }
    }
}

fn clean_column(c: &Column) -> Column {
    Column {
        renamed_from: None,
        ..c.clone()
    }
}

fn same_column(a: &Column, b: &Column) -> bool {
    a.data_type == b.data_type
        && a.nullable == b.nullable
        && a.default == b.default
        && a.identity == b.identity
        && a.generated == b.generated
        && a.collation == b.collation
}

/// Lower-cased identifier-like words of a SQL text, quotes removed, string literals
/// skipped: what a view or an expression may name.
pub(crate) fn words(sql: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut chars = sql.chars().peekable();
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut HashSet<String>| {
        if !w.is_empty() {
            out.insert(std::mem::take(w).to_lowercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                flush(&mut word, &mut out);
                // A string literal; `''` inside is two quotes in a row.
                while let Some(d) = chars.next() {
                    if d == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '"' | '`' | '[' => {
                flush(&mut word, &mut out);
                let close = if c == '[' { ']' } else { c };
                let mut quoted = String::new();
                for d in chars.by_ref() {
                    if d == close {
                        break;
                    }
                    quoted.push(d);
                }
                if !quoted.is_empty() {
                    out.insert(quoted.to_lowercase());
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => word.push(c),
            _ => flush(&mut word, &mut out),
        }
    }
    flush(&mut word, &mut out);
    out
}

fn mentions(words: &HashSet<String>, name: &str) -> bool {
    words.contains(&name.to_lowercase())
}

/// Tables in an order where each comes after the tables it references (among `names`);
/// reference cycles are broken in name order.
fn parents_first<'a>(names: &[&'a str], table: &dyn Fn(&str) -> Option<&'a Table>) -> Vec<&'a str> {
    let set: BTreeSet<&str> = names.iter().copied().collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    fn visit<'a>(
        n: &'a str,
        set: &BTreeSet<&'a str>,
        table: &dyn Fn(&str) -> Option<&'a Table>,
        done: &mut HashSet<&'a str>,
        out: &mut Vec<&'a str>,
    ) {
        if !done.insert(n) {
            return;
        }
        if let Some(t) = table(n) {
            for fk in &t.foreign_keys {
                if let Some(p) = set.get(fk.referenced_table.as_str()) {
                    if *p != n {
                        visit(p, set, table, done, out);
                    }
                }
            }
        }
        out.push(n);
    }
    for n in &set {
        visit(n, &set, table, &mut done, &mut out);
    }
    out
}

/// Views in an order where each comes after the views it reads (by name in its text).
pub(crate) fn views_dependencies_first<'a>(views: &[&'a View]) -> Vec<&'a View> {
    let by_name: BTreeMap<&str, &View> = views.iter().map(|v| (v.name.as_str(), *v)).collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(views.len());
    fn visit<'a>(
        v: &'a View,
        by_name: &BTreeMap<&'a str, &'a View>,
        done: &mut HashSet<&'a str>,
        out: &mut Vec<&'a View>,
    ) {
        if !done.insert(&v.name) {
            return;
        }
        let w = words(&v.definition);
        for (name, dep) in by_name {
            if *name != v.name && mentions(&w, name) {
                visit(dep, by_name, done, out);
            }
        }
        out.push(v);
    }
    for v in by_name.values() {
        visit(v, &by_name, &mut done, &mut out);
    }
    out
}

/// The constraints of one kind to drop (indexes into `from`) and to add (indexes into
/// `to`), each in order. A named one in `to` pairs with the same name in `from`; an
/// unnamed one with an unpaired constraint of `from` of the same content, preferring an
/// unnamed one. `content` compares a `from` item (in `to`'s names) with a `to` item.
/// Unpaired ones are dropped or added; a pair is re-created (dropped and added) when
/// `recreate(i, j)` says so, and kept otherwise (the third list, `(i, j)` in `to`'s
/// order).
fn constraint_changes<T>(
    from: &[T],
    to: &[T],
    name: fn(&T) -> Option<&str>,
    content: &dyn Fn(usize, &T) -> bool,
    recreate: impl Fn(usize, usize) -> bool,
) -> (Vec<usize>, Vec<usize>, Vec<(usize, usize)>) {
    let mut from_used = vec![false; from.len()];
    let mut to_pair: Vec<Option<usize>> = vec![None; to.len()];
    for (j, t) in to.iter().enumerate() {
        if let Some(n) = name(t) {
            if let Some(i) = from
                .iter()
                .enumerate()
                .position(|(i, f)| !from_used[i] && name(f) == Some(n))
            {
                from_used[i] = true;
                to_pair[j] = Some(i);
            }
        }
    }
    for pass_unnamed_only in [true, false] {
        for (j, t) in to.iter().enumerate() {
            if name(t).is_some() || to_pair[j].is_some() {
                continue;
            }
            if let Some(i) = (0..from.len()).find(|&i| {
                !from_used[i] && (!pass_unnamed_only || name(&from[i]).is_none()) && content(i, t)
            }) {
                from_used[i] = true;
                to_pair[j] = Some(i);
            }
        }
    }
    let mut drop: Vec<usize> = (0..from.len()).filter(|i| !from_used[*i]).collect();
    let mut add: Vec<usize> = Vec::new();
    let mut kept = Vec::new();
    for (j, pair) in to_pair.iter().enumerate() {
        match pair {
            None => add.push(j),
            Some(i) if recreate(*i, j) => {
                drop.push(*i);
                add.push(j);
            }
            Some(i) => kept.push((*i, j)),
        }
    }
    drop.sort_unstable();
    (drop, add, kept)
}

/// The changes that turn `from` into `to`, in dependency order (see the module
/// documentation), with warnings about possible renames.
///
/// # Errors
///
/// A `renamed_from` annotation of `to` that matches nothing in `from`, names an object
/// `to` still has, or is claimed by two objects.
pub fn diff(from: &Schema, to: &Schema) -> Result<Diff, DiffError> {
    let mut p = Phases::default();
    let mut warnings = Vec::new();

    // Tables.
    let from_names: Vec<&str> = from.tables.keys().map(String::as_str).collect();
    let to_names: Vec<(&str, Option<&str>)> = to
        .tables
        .values()
        .map(|t| (t.name.as_str(), t.renamed_from.as_deref()))
        .collect();
    let tables = match_names(&from_names, &to_names, ObjectKind::Table, &|n| {
        n.to_string()
    })?;

    let mut pairs: Vec<TablePair> = Vec::with_capacity(tables.pairs.len());
    for &(old, new) in &tables.pairs {
        let (Some(f), Some(t)) = (from.tables.get(old), to.tables.get(new)) else {
            continue;
        };
        let fc: Vec<&str> = f.columns.iter().map(|c| c.name.as_str()).collect();
        let tc: Vec<(&str, Option<&str>)> = t
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.renamed_from.as_deref()))
            .collect();
        let columns = match_names(&fc, &tc, ObjectKind::Column, &|n| format!("{}.{n}", t.name))?;
        pairs.push(TablePair {
            from: f,
            to: t,
            columns,
        });
    }
    let names = Names {
        tables: tables.pairs.iter().copied().collect(),
        columns: pairs
            .iter()
            .map(|tp| {
                (
                    tp.from.name.as_str(),
                    tp.columns.pairs.iter().copied().collect(),
                )
            })
            .collect(),
    };

    // Columns whose values change shape (type) or that are dropped and added again
    // (generation changes): keys and indexes over them are re-created.
    let mut retyped: HashSet<(String, String)> = HashSet::new();
    let mut replaced: HashSet<(String, String)> = HashSet::new();
    // Every altered column: the checks that read one are dropped before and added after
    // the change, as MariaDB's MODIFY COLUMN silently drops a check written on the
    // column itself.
    let mut altered: HashSet<(String, String)> = HashSet::new();
    // Tables whose columns change: views reading them are dropped and re-created.
    let mut reshaped: BTreeSet<String> = BTreeSet::new();

    for tp in &pairs {
        let (f, t) = (tp.from, tp.to);
        if f.name != t.name {
            p.rename_tables.push(Change::RenameTable {
                from: f.name.clone(),
                to: t.name.clone(),
            });
            reshaped.insert(t.name.clone());
        }
        for &(old, new) in &tp.columns.pairs {
            let (Some(fc), Some(tc)) = (f.get_column(old), t.get_column(new)) else {
                continue;
            };
            if old != new {
                p.rename_columns.push(Change::RenameColumn {
                    table: t.name.clone(),
                    from: old.to_string(),
                    to: new.to_string(),
                });
                reshaped.insert(t.name.clone());
            }
            if !same_column(fc, tc) {
                altered.insert((t.name.clone(), new.to_string()));
                if fc.data_type != tc.data_type {
                    retyped.insert((t.name.clone(), new.to_string()));
                }
                if fc.generated != tc.generated {
                    replaced.insert((t.name.clone(), new.to_string()));
                    retyped.insert((t.name.clone(), new.to_string()));
                }
                reshaped.insert(t.name.clone());
                p.alter_columns.push(Change::AlterColumn {
                    table: t.name.clone(),
                    from: Column {
                        name: new.to_string(),
                        ..clean_column(fc)
                    },
                    to: clean_column(tc),
                });
            }
        }
        for &old in &tp.columns.removed {
            if let Some(fc) = f.get_column(old) {
                reshaped.insert(t.name.clone());
                p.drop_columns.push(Change::DropColumn {
                    table: f.name.clone(),
                    column: clean_column(fc),
                });
            }
        }
        for &new in &tp.columns.added {
            if let Some(tc) = t.get_column(new) {
                p.add_columns.push(Change::AddColumn {
                    table: t.name.clone(),
                    column: clean_column(tc),
                });
            }
        }
        // A dropped and an added column of the same type may be a rename.
        let mut added: Vec<&Column> = tp
            .columns
            .added
            .iter()
            .filter_map(|n| t.get_column(n))
            .collect();
        for &old in &tp.columns.removed {
            let Some(fc) = f.get_column(old) else {
                continue;
            };
            if let Some(k) = added.iter().position(|c| c.data_type == fc.data_type) {
                let tc = added.remove(k);
                warnings.push(format!(
                    "column {}.{} dropped and {}.{} added with the same type: if this is a rename, annotate `{}` with `-- migrate:renamed_from {}`",
                    f.name, fc.name, t.name, tc.name, tc.name, fc.name
                ));
            }
        }
    }

    // Keys, indexes, checks of tables on both sides. Keys that are dropped (changed or
    // removed) are remembered: foreign keys referencing them must be dropped first and
    // added again after.
    let mut rekeyed: HashSet<(String, Vec<String>)> = HashSet::new();
    let involves = |table: &str, cols: &[String], set: &HashSet<(String, String)>| {
        !set.is_empty()
            && cols
                .iter()
                .any(|c| set.contains(&(table.to_string(), c.clone())))
    };
    let mentions_any = |table: &str, text: &str, set: &HashSet<(String, String)>| {
        if set.is_empty() {
            return false;
        }
        let w = words(text);
        set.iter().any(|(t, c)| t == table && mentions(&w, c))
    };
    for tp in &pairs {
        let (f, t) = (tp.from, tp.to);
        let old = f.name.as_str();
        // Primary key.
        let f_pk = f
            .primary_key
            .as_ref()
            .map(|k| (k, names.columns(old, &k.columns)));
        match (&f_pk, &t.primary_key) {
            (None, None) => {}
            (Some((fk, fcols)), Some(tk))
                if *fcols == tk.columns
                    && (tk.name.is_none() || tk.name == fk.name)
                    && !involves(&t.name, &tk.columns, &replaced) => {}
            _ => {
                if let Some((fk, fcols)) = &f_pk {
                    rekeyed.insert((t.name.clone(), fcols.clone()));
                    p.drop_keys.push(Change::DropPrimaryKey {
                        table: f.name.clone(),
                        primary_key: (*fk).clone(),
                    });
                }
                if let Some(tk) = &t.primary_key {
                    p.add_keys.push(Change::AddPrimaryKey {
                        table: t.name.clone(),
                        primary_key: tk.clone(),
                    });
                }
            }
        }
        // Unique constraints.
        let f_uniques: Vec<Vec<String>> = f
            .uniques
            .iter()
            .map(|u| names.columns(old, &u.columns))
            .collect();
        let (udrop, uadd, _) = constraint_changes(
            &f.uniques,
            &t.uniques,
            |u| u.name.as_deref(),
            &|i, u| f_uniques[i] == u.columns,
            |i, j| {
                f_uniques[i] != t.uniques[j].columns
                    || involves(&t.name, &t.uniques[j].columns, &replaced)
            },
        );
        for i in udrop {
            rekeyed.insert((t.name.clone(), f_uniques[i].clone()));
            p.drop_keys.push(Change::DropUnique {
                table: f.name.clone(),
                unique: f.uniques[i].clone(),
            });
        }
        for j in uadd {
            p.add_keys.push(Change::AddUnique {
                table: t.name.clone(),
                unique: t.uniques[j].clone(),
            });
        }
        // Checks: by name, or by expression; one that stays may change validity.
        let (cdrop, cadd, ckept) = constraint_changes(
            &f.checks,
            &t.checks,
            |c| c.name.as_deref(),
            &|i, c| f.checks[i].expression == c.expression,
            |i, j| {
                f.checks[i].expression != t.checks[j].expression
                    || mentions_any(&t.name, &t.checks[j].expression, &altered)
            },
        );
        for i in cdrop {
            p.drop_keys.push(Change::DropCheck {
                table: f.name.clone(),
                check: f.checks[i].clone(),
            });
        }
        for j in cadd {
            p.add_keys.push(Change::AddCheck {
                table: t.name.clone(),
                check: t.checks[j].clone(),
            });
        }
        for (i, j) in ckept {
            let (fc, tc) = (&f.checks[i], &t.checks[j]);
            if fc.not_valid != tc.not_valid {
                // An unnamed check of `to` is the one the database has, by its name.
                p.add_keys.push(Change::AlterCheck {
                    table: t.name.clone(),
                    from: fc.clone(),
                    to: Check {
                        name: tc.name.clone().or_else(|| fc.name.clone()),
                        ..tc.clone()
                    },
                });
            }
        }
        // Indexes, by name.
        for fi in &f.indexes {
            let translated = names.index(old, fi);
            let keep = t
                .indexes
                .iter()
                .find(|ti| ti.name == fi.name)
                .is_some_and(|ti| *ti == translated && !index_involves(&t.name, ti, &replaced));
            if !keep {
                if fi.unique {
                    if let Some(cols) = index_columns(&translated) {
                        rekeyed.insert((t.name.clone(), cols));
                    }
                }
                p.drop_keys.push(Change::DropIndex {
                    table: f.name.clone(),
                    index: fi.clone(),
                });
            }
        }
        for ti in &t.indexes {
            let keep = f
                .indexes
                .iter()
                .find(|fi| fi.name == ti.name)
                .is_some_and(|fi| {
                    names.index(old, fi) == *ti && !index_involves(&t.name, ti, &replaced)
                });
            if !keep {
                p.add_keys.push(Change::CreateIndex {
                    table: t.name.clone(),
                    index: ti.clone(),
                });
            }
        }
    }

    // Foreign keys of tables on both sides.
    for tp in &pairs {
        let (f, t) = (tp.from, tp.to);
        let old = f.name.as_str();
        let translated: Vec<ForeignKey> = f
            .foreign_keys
            .iter()
            .map(|k| names.foreign_key(old, k))
            .collect();
        let same = |a: &ForeignKey, b: &ForeignKey| {
            a.columns == b.columns
                && a.referenced_table == b.referenced_table
                && a.referenced_columns == b.referenced_columns
                && a.on_delete == b.on_delete
                && a.on_update == b.on_update
                && a.deferrable == b.deferrable
        };
        let (drop, add, _) = constraint_changes(
            &f.foreign_keys,
            &t.foreign_keys,
            |k| k.name.as_deref(),
            &|i, k| same(&translated[i], k),
            |i, j| {
                let k = &t.foreign_keys[j];
                !same(&translated[i], k)
                    || rekeyed.contains(&(k.referenced_table.clone(), k.referenced_columns.clone()))
                    || involves(&t.name, &k.columns, &retyped)
                    || involves(&k.referenced_table, &k.referenced_columns, &retyped)
            },
        );
        for i in drop {
            p.drop_foreign_keys.push(Change::DropForeignKey {
                table: f.name.clone(),
                foreign_key: f.foreign_keys[i].clone(),
            });
        }
        for j in add {
            p.add_foreign_keys.push(Change::AddForeignKey {
                table: t.name.clone(),
                foreign_key: t.foreign_keys[j].clone(),
            });
        }
    }

    // Dropped tables: foreign keys and indexes first, then the table, a referencing
    // table before the tables it references.
    let removed_order = parents_first(&tables.removed, &|n| from.tables.get(n));
    for &name in removed_order.iter().rev() {
        let Some(f) = from.tables.get(name) else {
            continue;
        };
        for k in &f.foreign_keys {
            p.drop_foreign_keys.push(Change::DropForeignKey {
                table: f.name.clone(),
                foreign_key: k.clone(),
            });
        }
        for ix in &f.indexes {
            p.drop_keys.push(Change::DropIndex {
                table: f.name.clone(),
                index: ix.clone(),
            });
        }
        p.drop_tables.push(Change::DropTable(bare_table(f)));
    }
    // Created tables: a referenced table before the tables that reference it.
    for name in parents_first(&tables.added, &|n| to.tables.get(n)) {
        let Some(t) = to.tables.get(name) else {
            continue;
        };
        p.create_tables.push(Change::CreateTable(bare_table(t)));
        for ix in &t.indexes {
            p.add_keys.push(Change::CreateIndex {
                table: t.name.clone(),
                index: ix.clone(),
            });
        }
        for k in &t.foreign_keys {
            p.add_foreign_keys.push(Change::AddForeignKey {
                table: t.name.clone(),
                foreign_key: k.clone(),
            });
        }
    }
    // A dropped and a created table with the same columns may be a rename.
    for &old in &tables.removed {
        let Some(f) = from.tables.get(old) else {
            continue;
        };
        for &new in &tables.added {
            let Some(t) = to.tables.get(new) else {
                continue;
            };
            if !f.columns.is_empty()
                && f.columns.len() == t.columns.len()
                && f.columns.iter().all(|c| {
                    t.get_column(&c.name)
                        .is_some_and(|d| d.data_type == c.data_type)
                })
            {
                warnings.push(format!(
                    "table {old} dropped and {new} created with the same columns: if this is a rename, annotate `{new}` with `-- migrate:renamed_from {old}`"
                ));
            }
        }
    }

    // Enums.
    for (name, e) in &from.enums {
        match to.enums.get(name) {
            None => p.drop_types.push(Change::DropEnum(e.clone())),
            Some(te) if te.values != e.values => {
                let columns = enum_columns(name, &pairs);
                // Tables with columns of a re-created enum have their columns altered.
                if added_labels(e, te).is_none() {
                    for c in &columns {
                        reshaped.insert(c.table.clone());
                    }
                }
                p.create_types.push(Change::AlterEnum {
                    from: e.clone(),
                    to: te.clone(),
                    columns,
                });
            }
            Some(_) => {}
        }
    }
    for (name, e) in &to.enums {
        if !from.enums.contains_key(name) {
            p.create_types.push(Change::CreateEnum(e.clone()));
        }
    }
    // Sequences.
    for (name, s) in &from.sequences {
        match to.sequences.get(name) {
            None => p.drop_types.push(Change::DropSequence(s.clone())),
            Some(ts) if ts != s => p.create_types.push(Change::AlterSequence {
                from: s.clone(),
                to: ts.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, s) in &to.sequences {
        if !from.sequences.contains_key(name) {
            p.create_types.push(Change::CreateSequence(s.clone()));
        }
    }

    // Views: changed or removed ones dropped, and those that may read a table whose
    // columns change (or a view dropped here), so the database accepts the change.
    let mut drop_views: BTreeSet<&str> = BTreeSet::new();
    for (name, v) in &from.views {
        if to
            .views
            .get(name)
            .is_none_or(|tv| tv.definition != v.definition)
        {
            drop_views.insert(name);
        }
    }
    let view_words: BTreeMap<&str, HashSet<String>> = from
        .views
        .iter()
        .map(|(n, v)| (n.as_str(), words(&v.definition)))
        .collect();
    let reshaped_old: Vec<&str> = pairs
        .iter()
        .filter(|tp| reshaped.contains(&tp.to.name))
        .map(|tp| tp.from.name.as_str())
        .chain(tables.removed.iter().copied())
        .collect();
    for (name, w) in &view_words {
        if reshaped_old.iter().any(|t| mentions(w, t)) {
            drop_views.insert(name);
        }
    }
    // Views reading a dropped view are dropped too, until nothing changes.
    loop {
        let before = drop_views.len();
        for (name, w) in &view_words {
            if !drop_views.contains(name) && drop_views.iter().any(|d| mentions(w, d)) {
                drop_views.insert(name);
            }
        }
        if drop_views.len() == before {
            break;
        }
    }
    let dropped: Vec<&View> = drop_views
        .iter()
        .filter_map(|n| from.views.get(*n))
        .collect();
    for v in views_dependencies_first(&dropped).into_iter().rev() {
        p.drop_views.push(Change::DropView(v.clone()));
    }
    let created: Vec<&View> = to
        .views
        .iter()
        .filter(|(n, _)| !from.views.contains_key(*n) || drop_views.contains(n.as_str()))
        .map(|(_, v)| v)
        .collect();
    for v in views_dependencies_first(&created) {
        p.create_views.push(Change::CreateView(v.clone()));
    }

    // Functions, by signature: a changed definition is replaced in place.
    for (signature, f) in &from.functions {
        match to.functions.get(signature) {
            None => p.drop_functions.push(Change::DropFunction(f.clone())),
            Some(tf) if !f.same_definition(tf) => {
                p.create_functions.push(Change::ReplaceFunction {
                    from: f.clone(),
                    to: tf.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (signature, f) in &to.functions {
        if !from.functions.contains_key(signature) {
            p.create_functions.push(Change::CreateFunction(f.clone()));
        }
    }

    // Triggers, by table and name: changed ones are dropped and created again, and so
    // are unchanged ones on a view dropped above (it takes them along) or naming a
    // column that changes or goes (PostgreSQL refuses to change it under a trigger).
    let mut changing: HashMap<&str, Vec<&str>> = HashMap::new();
    for tp in &pairs {
        let cols = changing.entry(tp.from.name.as_str()).or_default();
        for &(old, new) in &tp.columns.pairs {
            if altered.contains(&(tp.to.name.clone(), new.to_string())) {
                cols.push(old);
            }
        }
        cols.extend(tp.columns.removed.iter().copied());
    }
    for (key, tr) in &from.triggers {
        let recreate = match to.triggers.get(key) {
            None => {
                p.drop_triggers.push(Change::DropTrigger(tr.clone()));
                continue;
            }
            Some(tt) if tt.definition != tr.definition => true,
            Some(_) => {
                drop_views.contains(tr.table.as_str())
                    || changing.get(tr.table.as_str()).is_some_and(|cols| {
                        let w = words(&tr.definition);
                        cols.iter().any(|c| mentions(&w, c))
                    })
            }
        };
        if recreate {
            p.drop_triggers.push(Change::DropTrigger(tr.clone()));
            if let Some(tt) = to.triggers.get(key) {
                p.create_triggers.push(Change::CreateTrigger(tt.clone()));
            }
        }
    }
    for (key, tt) in &to.triggers {
        if !from.triggers.contains_key(key) {
            p.create_triggers.push(Change::CreateTrigger(tt.clone()));
        }
    }

    Ok(Diff {
        changes: p.into_changes(),
        warnings,
    })
}

/// A table without its indexes and foreign keys (separate changes) and annotations.
fn bare_table(t: &Table) -> Table {
    Table {
        name: t.name.clone(),
        columns: t.columns.iter().map(clean_column).collect(),
        primary_key: t.primary_key.clone(),
        uniques: t.uniques.clone(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: t.checks.clone(),
        renamed_from: None,
    }
}

/// The columns of an index made of plain columns only.
fn index_columns(ix: &Index) -> Option<Vec<String>> {
    if ix.predicate.is_some() {
        return None;
    }
    ix.parts
        .iter()
        .map(|p| match &p.key {
            IndexKey::Column(c) => Some(c.clone()),
            IndexKey::Expression(_) => None,
        })
        .collect()
}

fn index_involves(table: &str, ix: &Index, set: &HashSet<(String, String)>) -> bool {
    if set.is_empty() {
        return false;
    }
    let mut text = String::new();
    for p in &ix.parts {
        match &p.key {
            IndexKey::Column(c) => {
                if set.contains(&(table.to_string(), c.clone())) {
                    return true;
                }
            }
            IndexKey::Expression(e) => {
                text.push_str(e);
                text.push(' ');
            }
        }
    }
    if let Some(pred) = &ix.predicate {
        text.push_str(pred);
    }
    let w = words(&text);
    set.iter().any(|(t, c)| t == table && mentions(&w, c))
}

/// Columns (on both sides) whose type is enum `name` before the change.
fn enum_columns(name: &str, pairs: &[TablePair]) -> Vec<EnumColumn> {
    let quoted = format!("\"{name}\"");
    let mut out = Vec::new();
    for tp in pairs {
        for &(old, new) in &tp.columns.pairs {
            if let Some(fc) = tp.from.get_column(old) {
                if fc.data_type == name || fc.data_type == quoted {
                    out.push(EnumColumn {
                        table: tp.to.name.clone(),
                        column: new.to_string(),
                        default: fc.default.clone(),
                    });
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// A generator for benchmarks and tests

/// A synthetic schema of `tables` tables named `t0000`..., each with 10 columns, a
/// primary key, 2 indexes and a foreign key to the next table; `variant` other than 0
/// changes about one table in ten (a column added, dropped, retyped; an index and a
/// foreign key changed) and drops and adds a few tables, deterministically.
#[doc(hidden)]
pub fn generate_schema(tables: usize, variant: u64) -> Schema {
    let mut s = Schema::default();
    let name = |i: usize| format!("t{i:04}");
    for i in 0..tables {
        let changed = variant != 0
            && (i as u64)
                .wrapping_mul(2654435761)
                .wrapping_add(variant)
                .is_multiple_of(10);
        if variant != 0 && i % 97 == 5 {
            continue; // dropped in the variant
        }
        let mut t = Table::new(name(i))
            .column(Column::new("id", "bigint").not_null())
            .column(Column::new("parent_id", "bigint"))
            .column(Column::new("name", "character varying(100)").not_null())
            .column(Column::new("email", "character varying(255)"))
            .column(
                Column::new("status", "character varying(20)")
                    .not_null()
                    .default_expr("'new'::character varying"),
            )
            .column(Column::new("score", "integer").default_expr("0"))
            .column(Column::new("amount", "numeric(12,2)"))
            .column(
                Column::new("created_at", "timestamp without time zone")
                    .not_null()
                    .default_expr("CURRENT_TIMESTAMP"),
            )
            .column(Column::new("note", "text"))
            .primary_key(&["id"]);
        t.columns.push(if changed {
            Column::new("flag", "smallint")
        } else {
            Column::new("active", "boolean")
                .not_null()
                .default_expr("true")
        });
        if changed {
            t.columns[5].data_type = "bigint".into();
            t.columns.push(Column::new("extra", "text"));
        }
        t.indexes.push(Index {
            name: format!("ix_{}_name", name(i)),
            parts: vec![IndexPart {
                key: IndexKey::Column("name".into()),
                descending: false,
            }],
            unique: false,
            predicate: None,
            method: None,
        });
        t.indexes.push(Index {
            name: format!("ix_{}_status_created", name(i)),
            parts: vec![
                IndexPart {
                    key: IndexKey::Column("status".into()),
                    descending: false,
                },
                IndexPart {
                    key: IndexKey::Column("created_at".into()),
                    descending: changed,
                },
            ],
            unique: false,
            predicate: None,
            method: None,
        });
        t.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["parent_id".into()],
            referenced_table: name((i + 1) % tables.max(1)),
            referenced_columns: vec!["id".into()],
            on_delete: if changed {
                crate::model::ReferentialAction::Cascade
            } else {
                crate::model::ReferentialAction::NoAction
            },
            on_update: crate::model::ReferentialAction::NoAction,
            deferrable: crate::model::Deferrable::NotDeferrable,
        });
        s.add_table(t);
    }
    if variant != 0 {
        for k in 0..tables / 100 {
            s.add_table(
                Table::new(format!("new_{k:03}"))
                    .column(Column::new("id", "bigint").not_null())
                    .column(Column::new("label", "text"))
                    .primary_key(&["id"]),
            );
        }
    }
    // Foreign keys to dropped tables go with them.
    let present: HashSet<String> = s.tables.keys().cloned().collect();
    for t in s.tables.values_mut() {
        t.foreign_keys
            .retain(|k| present.contains(&k.referenced_table));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Deferrable, ReferentialAction};

    fn users() -> Table {
        Table::new("users")
            .column(Column::new("id", "integer").not_null())
            .column(Column::new("email", "text").not_null())
            .primary_key(&["id"])
    }

    fn tickets() -> Table {
        Table::new("tickets")
            .column(Column::new("id", "integer").not_null())
            .column(Column::new("user_id", "integer"))
            .column(Column::new("rating", "integer"))
            .column(Column::new("title", "character varying(20)"))
            .primary_key(&["id"])
    }

    fn fk(cols: &[&str], table: &str, refs: &[&str]) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: cols.iter().map(|c| c.to_string()).collect(),
            referenced_table: table.into(),
            referenced_columns: refs.iter().map(|c| c.to_string()).collect(),
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
        }
    }

    fn index(name: &str, cols: &[&str]) -> Index {
        Index {
            name: name.into(),
            parts: cols
                .iter()
                .map(|c| IndexPart {
                    key: IndexKey::Column(c.to_string()),
                    descending: false,
                })
                .collect(),
            unique: false,
            predicate: None,
            method: None,
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        let mut s = Schema::default();
        for t in tables {
            s.add_table(t);
        }
        s
    }

    fn described(d: &Diff) -> Vec<String> {
        d.changes.iter().map(Change::describe).collect()
    }

    #[test]
    fn same_schema_is_empty() {
        let s = schema(vec![users(), tickets()]);
        let d = diff(&s, &s).unwrap();
        assert!(d.is_empty(), "{:?}", described(&d));
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn add_column_and_describe() {
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        b.table_mut("tickets")
            .unwrap()
            .columns
            .push(Column::new("priority", "varchar(20)"));
        let d = diff(&a, &b).unwrap();
        assert_eq!(described(&d), ["add column tickets.priority varchar(20)"]);
        assert!(!d.is_destructive());
        assert_eq!(
            d.changes[0].to_string(),
            "add column tickets.priority varchar(20)"
        );
    }

    #[test]
    fn drop_table_is_destructive() {
        let a = schema(vec![
            users(),
            Table::new("legacy").column(Column::new("x", "int")),
        ]);
        let b = schema(vec![users()]);
        let d = diff(&a, &b).unwrap();
        assert_eq!(described(&d), ["drop table legacy"]);
        assert!(d.changes[0].is_destructive());
    }

    #[test]
    fn column_rename_through_annotation() {
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        let c = &mut b.table_mut("tickets").unwrap().columns[2];
        c.name = "score".into();
        c.renamed_from = Some("rating".into());
        let d = diff(&a, &b).unwrap();
        assert_eq!(described(&d), ["rename column tickets.rating to score"]);
        assert!(d.warnings.is_empty());
        // Once applied, the annotation is stale and means nothing.
        let mut applied = b.clone();
        applied.table_mut("tickets").unwrap().columns[2].renamed_from = None;
        assert!(diff(&applied, &b).unwrap().is_empty());
    }

    #[test]
    fn possible_rename_warning() {
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        b.table_mut("tickets").unwrap().columns[2].name = "score".into();
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop column tickets.rating",
                "add column tickets.score integer"
            ]
        );
        assert_eq!(
            d.warnings,
            ["column tickets.rating dropped and tickets.score added with the same type: if this is a rename, annotate `score` with `-- migrate:renamed_from rating`"]
        );
    }

    #[test]
    fn table_rename_and_errors() {
        let a = schema(vec![users(), tickets()]);
        let mut b = a.clone();
        let mut t = b.tables.remove("tickets").unwrap();
        t.name = "issues".into();
        t.renamed_from = Some("tickets".into());
        b.add_table(t.clone());
        let d = diff(&a, &b).unwrap();
        assert_eq!(described(&d), ["rename table tickets to issues"]);

        // Neither side has it.
        let mut c = b.clone();
        c.table_mut("issues").unwrap().renamed_from = Some("nothing".into());
        let e = diff(&a, &c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "renamed_from `nothing` on table `issues` matches nothing: the current schema has neither `issues` nor `nothing`; fix or remove the annotation"
        );
        assert!(matches!(e, DiffError::RenamedFromMatchesNothing { .. }));

        // The old name is still in the target.
        let mut s = b.clone();
        s.add_table(tickets());
        assert!(matches!(
            diff(&a, &s),
            Err(DiffError::RenamedFromStillPresent { .. })
        ));

        // Two claims.
        let mut two = b.clone();
        let mut other = t.clone();
        other.name = "issues2".into();
        two.add_table(other);
        assert!(matches!(
            diff(&a, &two),
            Err(DiffError::DuplicateRenamedFrom { .. })
        ));

        // Column annotation matching nothing names the column.
        let mut col = a.clone();
        col.table_mut("tickets").unwrap().columns[2].renamed_from = Some("zzz".into());
        col.table_mut("tickets").unwrap().columns[2].name = "score".into();
        let e = diff(&a, &col).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("renamed_from `zzz` on column `tickets.score` matches nothing"),
            "{e}"
        );
    }

    #[test]
    fn unnamed_constraints_match_by_content() {
        let mut t = tickets();
        t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
        t.checks.push(Check {
            name: None,
            expression: "rating > 0".into(),
            not_valid: false,
        });
        t.uniques.push(Unique {
            name: None,
            columns: vec!["title".into()],
        });
        let a = schema(vec![users(), t.clone()]);
        // Listed in another order, with names in `from`: still the same to an unnamed `to`.
        let mut named = t.clone();
        named.foreign_keys[0].name = Some("tickets_user_fk".into());
        named.checks.insert(
            0,
            Check {
                name: None,
                expression: "id > 0".into(),
                not_valid: false,
            },
        );
        let mut b_to = t.clone();
        b_to.checks.insert(
            0,
            Check {
                name: None,
                expression: "id > 0".into(),
                not_valid: false,
            },
        );
        b_to.checks.reverse();
        assert!(
            diff(&schema(vec![users(), named]), &schema(vec![users(), b_to]))
                .unwrap()
                .is_empty()
        );

        // Changing the action is a drop and an add.
        let mut c = t.clone();
        c.foreign_keys[0].on_delete = ReferentialAction::Cascade;
        let d = diff(&a, &schema(vec![users(), c])).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop foreign key on tickets (user_id) references users (id)",
                "add foreign key on tickets (user_id) references users (id)"
            ]
        );

        // A named constraint in `to` pairs by name: a new name is a drop and an add.
        let mut n = t.clone();
        n.checks[0].name = Some("rating_positive".into());
        let d = diff(&a, &schema(vec![users(), n])).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop check on tickets (rating > 0)",
                "add check rating_positive on tickets (rating > 0)"
            ]
        );
    }

    #[test]
    fn renames_translate_constraints() {
        let mut t = tickets();
        t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
        t.indexes.push(index("ix_rating", &["rating"]));
        let a = schema(vec![users(), t]);
        let mut b = a.clone();
        let mut u = b.tables.remove("users").unwrap();
        u.name = "accounts".into();
        u.renamed_from = Some("users".into());
        u.columns[0].name = "account_id".into();
        u.columns[0].renamed_from = Some("id".into());
        u.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["account_id".into()],
        });
        b.add_table(u);
        let bt = b.table_mut("tickets").unwrap();
        bt.foreign_keys[0].referenced_table = "accounts".into();
        bt.foreign_keys[0].referenced_columns = vec!["account_id".into()];
        bt.columns[2].name = "score".into();
        bt.columns[2].renamed_from = Some("rating".into());
        bt.indexes[0].parts[0].key = IndexKey::Column("score".into());
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "rename table users to accounts",
                "rename column accounts.id to account_id",
                "rename column tickets.rating to score"
            ]
        );
    }

    #[test]
    fn dependency_order() {
        // from: users, tickets -> users, view on tickets; enum mood.
        let mut t = tickets();
        t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
        t.indexes.push(index("ix_rating", &["rating"]));
        let mut a = schema(vec![
            users(),
            t,
            Table::new("legacy").column(Column::new("x", "int")),
        ]);
        a.views.insert(
            "open_tickets".into(),
            View {
                name: "open_tickets".into(),
                definition: "SELECT id, rating FROM tickets".into(),
            },
        );
        a.enums.insert(
            "old_mood".into(),
            EnumType {
                name: "old_mood".into(),
                values: vec!["a".into()],
            },
        );
        // to: rating dropped (with its index), a new table with a FK to tickets, a new
        // enum used by a new column, the view unchanged, legacy dropped.
        let mut b = a.clone();
        b.tables.remove("legacy");
        b.enums.clear();
        b.enums.insert(
            "mood".into(),
            EnumType {
                name: "mood".into(),
                values: vec!["happy".into(), "sad".into()],
            },
        );
        let bt = b.table_mut("tickets").unwrap();
        bt.columns.remove(2);
        bt.indexes.clear();
        bt.columns.push(Column::new("mood", "mood"));
        let mut comments = Table::new("comments")
            .column(Column::new("id", "integer").not_null())
            .column(Column::new("ticket_id", "integer"))
            .primary_key(&["id"]);
        comments
            .foreign_keys
            .push(fk(&["ticket_id"], "tickets", &["id"]));
        comments
            .indexes
            .push(index("ix_comments_ticket", &["ticket_id"]));
        b.add_table(comments);
        b.views.get_mut("open_tickets").unwrap().definition = "SELECT id FROM tickets".into();
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop view open_tickets",
                "drop index ix_rating on tickets",
                "drop column tickets.rating",
                "drop table legacy",
                "create enum mood ('happy', 'sad')",
                "create table comments",
                "add column tickets.mood mood",
                "drop enum old_mood",
                "create index ix_comments_ticket on comments (ticket_id)",
                "add foreign key on comments (ticket_id) references tickets (id)",
                "create view open_tickets",
            ]
        );
        // The inverse runs the opposite changes backwards.
        let inv = d.inverse();
        assert_eq!(described(&inv)[0], "drop view open_tickets");
        assert_eq!(
            described(&inv)[1],
            "drop foreign key on comments (ticket_id) references tickets (id)"
        );
        assert_eq!(inv.inverse(), d);
    }

    #[test]
    fn unchanged_view_over_changed_table_is_recreated() {
        let mut a = schema(vec![tickets()]);
        a.views.insert(
            "v".into(),
            View {
                name: "v".into(),
                definition: "SELECT t.id FROM \"tickets\" t".into(),
            },
        );
        a.views.insert(
            "w".into(),
            View {
                name: "w".into(),
                definition: "SELECT id FROM v".into(),
            },
        );
        let mut b = a.clone();
        b.table_mut("tickets").unwrap().columns[3].data_type = "text".into();
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop view w",
                "drop view v",
                "alter column tickets.title: type character varying(20) -> text",
                "create view v",
                "create view w"
            ]
        );
        // A report of differences names the column only: the views did not change.
        let listed: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
        assert_eq!(
            listed,
            ["alter column tickets.title: type character varying(20) -> text"]
        );
        // A view whose query changed is listed.
        b.views.get_mut("w").unwrap().definition = "SELECT id + 1 FROM v".into();
        let d = diff(&a, &b).unwrap();
        let listed: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
        assert_eq!(
            listed,
            [
                "drop view w",
                "alter column tickets.title: type character varying(20) -> text",
                "create view w"
            ]
        );
    }

    #[test]
    fn check_validity_is_altered_not_recreated() {
        let mut t = tickets();
        t.checks
            .push(Check::new(Some("rating_positive"), "rating > 0"));
        t.checks.push(Check::new(None, "id > 0"));
        let a = schema(vec![t]);
        let mut b = a.clone();
        for c in &mut b.table_mut("tickets").unwrap().checks {
            c.not_valid = true;
        }
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "check rating_positive on tickets (rating > 0) re-added not valid",
                "check on tickets (id > 0) re-added not valid",
            ]
        );
        assert_eq!(
            described(&d.inverse()),
            [
                "validate check on tickets (id > 0)",
                "validate check rating_positive on tickets (rating > 0)",
            ]
        );
        // A named check of the database is altered under its name when `to` leaves it
        // unnamed.
        let mut named = a.clone();
        named.table_mut("tickets").unwrap().checks[1].name = Some("id_positive".into());
        let d = diff(&named, &b).unwrap();
        assert!(
            matches!(&d.changes[1], Change::AlterCheck { to, .. } if to.name.as_deref() == Some("id_positive")),
            "{:?}",
            d.changes
        );
    }

    #[test]
    fn collation_is_a_column_change() {
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        b.table_mut("tickets").unwrap().columns[3].collation = Some("C".into());
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            ["alter column tickets.title: collation default -> \"C\""]
        );
        assert!(!d.is_destructive());
        assert_eq!(
            described(&d.inverse()),
            ["alter column tickets.title: collation \"C\" -> default"]
        );
    }

    fn function(name: &str, arguments: &str, body: &str) -> Function {
        Function {
            name: name.into(),
            arguments: arguments.into(),
            procedure: false,
            definition: format!(
                "CREATE OR REPLACE FUNCTION {name}({arguments})\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function${body}$function$"
            ),
        }
    }

    fn trigger(name: &str, table: &str, when: &str, function: &str) -> Trigger {
        Trigger {
            name: name.into(),
            table: table.into(),
            definition: format!(
                "CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
            ),
        }
    }

    #[test]
    fn functions_and_triggers_in_order() {
        let mut a = schema(vec![tickets()]);
        a.add_function(function("touch", "", "BEGIN RETURN NEW; END"));
        a.add_function(function("gone", "integer", "BEGIN RETURN NEW; END"));
        a.add_trigger(trigger("t_gone", "tickets", "BEFORE INSERT", "gone"));
        a.add_trigger(trigger(
            "t_rating",
            "tickets",
            "BEFORE UPDATE OF rating",
            "touch",
        ));
        a.add_trigger(trigger("t_touch", "tickets", "BEFORE UPDATE", "touch"));
        let mut b = a.clone();
        b.functions.remove("gone(integer)");
        b.triggers.remove("tickets.t_gone");
        b.add_function(function("fresh", "integer, text", "BEGIN RETURN NEW; END"));
        b.add_function(function("touch", "", "BEGIN RETURN OLD; END"));
        b.add_trigger(trigger("t_fresh", "tickets", "AFTER INSERT", "fresh"));
        // A column a trigger names changes type: the trigger goes and comes back.
        b.table_mut("tickets").unwrap().columns[2].data_type = "bigint".into();
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop trigger t_gone on tickets",
                "drop trigger t_rating on tickets",
                "replace function touch()",
                "create function fresh(integer, text)",
                "alter column tickets.rating: type integer -> bigint",
                "drop function gone(integer)",
                "create trigger t_rating on tickets",
                "create trigger t_fresh on tickets",
            ]
        );
        let listed: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
        assert!(!listed.iter().any(|l| l.contains("t_rating")), "{listed:?}");
        // The downgrade: triggers dropped before the functions they call.
        assert_eq!(
            described(&d.inverse()),
            [
                "drop trigger t_fresh on tickets",
                "drop trigger t_rating on tickets",
                "create function gone(integer)",
                "alter column tickets.rating: type bigint -> integer",
                "drop function fresh(integer, text)",
                "replace function touch()",
                "create trigger t_rating on tickets",
                "create trigger t_gone on tickets",
            ]
        );
        // A body only re-indented is the same function.
        let mut c = a.clone();
        c.add_function(function(
            "touch",
            "",
            "\n  BEGIN\n    RETURN NEW;   -- keep\n  END\n",
        ));
        let mut e = a.clone();
        e.add_function(function(
            "touch",
            "",
            "\nBEGIN\n RETURN NEW; -- keep\nEND\n",
        ));
        assert!(diff(&c, &e).unwrap().is_empty());
        // ...but a string literal or what a comment hides is not.
        let mut f = a.clone();
        f.add_function(function("touch", "", "\nBEGIN\n RETURN NEW; -- keep END\n"));
        assert!(!diff(&e, &f).unwrap().is_empty());
    }

    #[test]
    fn primary_key_change_recreates_referencing_foreign_keys() {
        let mut t = tickets();
        t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
        let a = schema(vec![users(), t]);
        let mut b = a.clone();
        b.table_mut("users")
            .unwrap()
            .primary_key
            .as_mut()
            .unwrap()
            .name = Some("users_pk".into());
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            described(&d),
            [
                "drop foreign key on tickets (user_id) references users (id)",
                "drop primary key on users (id)",
                "add primary key users_pk on users (id)",
                "add foreign key on tickets (user_id) references users (id)",
            ]
        );
    }

    #[test]
    fn enum_changes() {
        let e = |v: &[&str]| EnumType {
            name: "mood".into(),
            values: v.iter().map(|s| s.to_string()).collect(),
        };
        let mut a = schema(vec![
            Table::new("t").column(Column::new("m", "mood").default_expr("'a'::mood"))
        ]);
        a.enums.insert("mood".into(), e(&["a", "c"]));
        let mut b = a.clone();
        b.enums.insert("mood".into(), e(&["a", "b", "c", "d"]));
        let d = diff(&a, &b).unwrap();
        assert_eq!(described(&d), ["add values 'b', 'd' to enum mood"]);
        assert!(!d.is_destructive());
        assert_eq!(
            added_labels(&e(&["a", "c"]), &e(&["a", "b", "c", "d"])),
            Some(vec![("b".into(), Some("c".into())), ("d".into(), None)])
        );
        let Change::AlterEnum { columns, .. } = &d.changes[0] else {
            panic!()
        };
        assert_eq!(
            columns,
            &[EnumColumn {
                table: "t".into(),
                column: "m".into(),
                default: Some("'a'::mood".into())
            }]
        );
        // The inverse removes labels: a re-creation, destructive.
        let inv = d.inverse();
        assert_eq!(
            described(&inv),
            ["drop and re-create enum mood ('a', 'b', 'c', 'd') as ('a', 'c')"]
        );
        assert!(inv.is_destructive());
        // Reordering is a re-creation but loses nothing.
        let mut r = a.clone();
        r.enums.insert("mood".into(), e(&["c", "a"]));
        let d = diff(&a, &r).unwrap();
        assert!(!d.is_destructive());
        assert!(described(&d)[0].starts_with("drop and re-create enum mood"));
    }

    #[test]
    fn sequences() {
        let s = Sequence {
            name: "ticket_no".into(),
            data_type: "bigint".into(),
            start: 1,
            increment: 1,
            min_value: 1,
            max_value: i64::MAX,
            cycle: false,
        };
        let a = Schema::default();
        let mut b = Schema::default();
        b.sequences.insert(s.name.clone(), s.clone());
        assert_eq!(
            described(&diff(&a, &b).unwrap()),
            ["create sequence ticket_no"]
        );
        let d = diff(&b, &a).unwrap();
        assert!(d.changes[0].is_destructive());
        let mut c = b.clone();
        c.sequences.get_mut("ticket_no").unwrap().increment = 10;
        assert_eq!(
            described(&diff(&b, &c).unwrap()),
            ["alter sequence ticket_no"]
        );
    }

    #[test]
    fn widening() {
        for (a, b) in [
            ("character varying(10)", "character varying(20)"),
            ("varchar(10)", "text"),
            ("character varying(10)", "text"),
            ("char(3)", "varchar(3)"),
            ("smallint", "integer"),
            ("int(11)", "bigint(20)"),
            ("int", "bigint"),
            ("tinyint unsigned", "smallint"),
            ("int(10) unsigned", "bigint(20) unsigned"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric(11,3)"),
            ("numeric(10,2)", "numeric"),
            ("integer", "numeric(12,0)"),
            ("real", "double precision"),
            ("integer", "double precision"),
            ("varchar(100)", "mediumtext"),
            ("text", "longtext"),
            (
                "timestamp(3) without time zone",
                "timestamp(6) without time zone",
            ),
        ] {
            assert!(type_widens(a, b), "{a} -> {b}");
        }
        for (a, b) in [
            ("character varying(20)", "character varying(10)"),
            ("text", "character varying(10)"),
            ("varchar(10)", "char(10)"),
            ("integer", "smallint"),
            ("bigint", "int"),
            ("int", "int unsigned"),
            ("int unsigned", "int"),
            ("numeric(10,2)", "numeric(10,3)"),
            ("numeric(10,2)", "numeric(9,2)"),
            ("numeric", "numeric(10,2)"),
            ("bigint", "numeric(10,0)"),
            ("double precision", "real"),
            ("bigint", "double precision"),
            ("integer", "text"),
            ("text", "integer"),
            ("varchar(20000)", "text"),
            ("timestamp without time zone", "timestamp with time zone"),
            ("boolean", "integer"),
        ] {
            assert!(!type_widens(a, b), "{a} -> {b} is not proven");
        }
        let alter = |a: &str, b: &str| Change::AlterColumn {
            table: "t".into(),
            from: Column::new("c", a),
            to: Column::new("c", b),
        };
        assert!(alter("varchar(20)", "varchar(10)").is_destructive());
        assert!(!alter("varchar(10)", "varchar(20)").is_destructive());
        let mut gen = Column::new("c", "int");
        gen.generated = Some(Generated {
            expression: "a + 1".into(),
            stored: true,
        });
        let to_generated = Change::AlterColumn {
            table: "t".into(),
            from: Column::new("c", "int"),
            to: gen.clone(),
        };
        assert!(to_generated.is_destructive());
        assert!(!to_generated.inverse().is_destructive());
        assert!(!Change::DropColumn {
            table: "t".into(),
            column: gen
        }
        .is_destructive());
    }

    #[test]
    fn words_skip_strings_and_unquote() {
        let w = words("SELECT \"Tickets\".id, `x`.y FROM tickets WHERE s = 'users'");
        assert!(w.contains("tickets") && w.contains("y") && w.contains("x"));
        assert!(!w.contains("users"));
    }

    #[test]
    fn generated_schema_diff() {
        let a = generate_schema(200, 0);
        let b = generate_schema(200, 7);
        assert!(diff(&a, &a).unwrap().is_empty());
        let d = diff(&a, &b).unwrap();
        assert!(!d.is_empty());
        assert!(d.changes.iter().any(|c| matches!(c, Change::DropTable(_))));
        assert!(d
            .changes
            .iter()
            .any(|c| matches!(c, Change::CreateTable(_))));
        assert!(d
            .changes
            .iter()
            .any(|c| matches!(c, Change::AlterColumn { .. })));
        assert_eq!(d.inverse().inverse(), d);
    }
}

/// A seeded generator of schemas and of changed copies of them, and a model-level
/// `apply` that checks each change against the state it runs in, as a database would
/// (what it drops exists and nothing still uses it, what it adds is new and what it uses
/// is there): shared by the properties here and the rendering tests.
#[cfg(test)]
pub(crate) mod generated {
    use super::*;
    use crate::model::{Deferrable, ReferentialAction};

    /// splitmix64.
    pub(crate) struct Rng(pub u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        pub(crate) fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
        pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
            &xs[self.below(xs.len())]
        }
    }

    pub(crate) const TABLES: [&str; 6] = ["alpha", "beta", "gamma", "delta", "order", "Mixed"];
    pub(crate) const COLUMNS: [&str; 7] = ["a", "b", "c", "note", "score", "title", "Up"];
    pub(crate) const TYPES: [&str; 6] = [
        "integer",
        "bigint",
        "varchar(10)",
        "varchar(20)",
        "text",
        "numeric(10,2)",
    ];

    fn is_int(t: &str) -> bool {
        t == "integer" || t == "bigint"
    }

    fn default_for(rng: &mut Rng, ty: &str) -> Option<String> {
        if !rng.chance(30) {
            return None;
        }
        Some(match ty {
            "integer" | "bigint" => format!("{}", rng.below(9)),
            "numeric(10,2)" => "1.50".into(),
            _ => format!("'{}'", rng.pick(&["x", "y", "it''s"])),
        })
    }

    /// A constraint name decided by its content, so that equal constraints on both
    /// sides have the same name (or none).
    fn name_for(content: &str, prefix: &str) -> Option<String> {
        let h = content
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        (h % 3 == 0).then(|| format!("{prefix}_{}", h % 1000))
    }

    fn column(rng: &mut Rng, name: &str) -> Column {
        let ty = *rng.pick(&TYPES);
        Column {
            name: name.into(),
            data_type: ty.into(),
            nullable: rng.chance(70),
            default: default_for(rng, ty),
            identity: None,
            generated: None,
            collation: None,
            renamed_from: None,
        }
    }

    fn table(rng: &mut Rng, name: &str, others: &[&str]) -> Table {
        let mut t = Table::new(name)
            .column(Column::new("id", "integer").not_null())
            .primary_key(&["id"]);
        for c in COLUMNS {
            if rng.chance(45) {
                t.columns.push(column(rng, c));
            }
        }
        if !others.is_empty() && rng.chance(50) {
            t.columns.push(Column::new("parent_id", "integer"));
            let target = *rng.pick(others);
            add_fk(rng, &mut t, target);
        }
        for _ in 0..2 {
            add_constraint(rng, &mut t);
        }
        t
    }

    fn add_fk(rng: &mut Rng, t: &mut Table, target: &str) {
        if t.get_column("parent_id").is_none() {
            t.columns.push(Column::new("parent_id", "integer"));
        }
        let on_delete = *rng.pick(&[
            ReferentialAction::NoAction,
            ReferentialAction::Cascade,
            ReferentialAction::SetNull,
        ]);
        let content = format!("{}{target}{on_delete:?}", t.name);
        t.foreign_keys.push(ForeignKey {
            name: name_for(&content, "fk"),
            columns: vec!["parent_id".into()],
            referenced_table: target.into(),
            referenced_columns: vec!["id".into()],
            on_delete,
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
        });
    }

    /// Columns a key or index may cover (not text: MySQL cannot index it whole).
    fn keyable(t: &Table) -> Vec<String> {
        t.columns
            .iter()
            .filter(|c| c.data_type != "text" && c.name != "id" && c.name != "parent_id")
            .map(|c| c.name.clone())
            .collect()
    }

    fn add_constraint(rng: &mut Rng, t: &mut Table) {
        let keyable = keyable(t);
        if keyable.is_empty() {
            return;
        }
        let col = rng.pick(&keyable).clone();
        match rng.below(3) {
            0 if !t.uniques.iter().any(|u| u.columns == [col.clone()]) => t.uniques.push(Unique {
                name: name_for(&format!("{}u{col}", t.name), "uq"),
                columns: vec![col],
            }),
            1 => {
                let ints: Vec<&Column> = t
                    .columns
                    .iter()
                    .filter(|c| is_int(&c.data_type) && c.name != "id" && c.name != "parent_id")
                    .collect();
                if let Some(c) = ints.first() {
                    let q = if crate::render::needs_quotes(&c.name) {
                        format!("\"{}\"", c.name)
                    } else {
                        c.name.clone()
                    };
                    let expression = format!("{q} > {}", rng.below(3));
                    if !t.checks.iter().any(|k| k.expression == expression) {
                        t.checks.push(Check {
                            name: name_for(&format!("{}c{expression}", t.name), "ck"),
                            expression,
                            not_valid: false,
                        });
                    }
                }
            }
            _ => {
                let name = format!("ix_{}_{}", t.name.to_lowercase(), col.to_lowercase());
                if !t.indexes.iter().any(|i| i.name == name) {
                    t.indexes.push(Index {
                        name,
                        parts: vec![IndexPart {
                            key: IndexKey::Column(col),
                            descending: rng.chance(30),
                        }],
                        unique: rng.chance(20),
                        predicate: None,
                        method: None,
                    });
                }
            }
        }
    }

    /// A schema; `postgres` adds enums and sequences.
    pub(crate) fn schema(seed: u64, postgres: bool) -> Schema {
        let mut rng = Rng(seed);
        let mut s = Schema::default();
        let names: Vec<&str> = TABLES.iter().copied().filter(|_| rng.chance(60)).collect();
        for (i, n) in names.iter().enumerate() {
            let t = table(&mut rng, n, &names[..i]);
            s.add_table(t);
        }
        add_view(&mut rng, &mut s);
        if postgres {
            if rng.chance(50) {
                s.enums.insert(
                    "mood".into(),
                    EnumType {
                        name: "mood".into(),
                        values: vec!["happy".into(), "sad".into()],
                    },
                );
                if let Some(t) = s.tables.values_mut().next() {
                    t.columns
                        .push(Column::new("mood", "mood").default_expr("'happy'::mood"));
                }
            }
            if rng.chance(50) {
                s.sequences.insert(
                    "ticket_no".into(),
                    Sequence {
                        name: "ticket_no".into(),
                        data_type: "bigint".into(),
                        start: 1,
                        increment: 1,
                        min_value: 1,
                        max_value: i64::MAX,
                        cycle: false,
                    },
                );
            }
        }
        fixup(&mut s);
        s
    }

    fn add_view(rng: &mut Rng, s: &mut Schema) {
        let tables: Vec<&Table> = s.tables.values().collect();
        if tables.is_empty() || !rng.chance(50) {
            return;
        }
        let t = *rng.pick(&tables);
        let col = rng.pick(&t.columns).name.clone();
        let q = |n: &str| {
            if crate::render::needs_quotes(n) {
                format!("\"{n}\"")
            } else {
                n.to_string()
            }
        };
        let name = format!("v_{}", t.name.to_lowercase());
        let definition = format!("SELECT id, {} FROM {}", q(&col), q(&t.name));
        s.views.insert(name.clone(), View { name, definition });
    }

    /// Removes what a change left dangling: keys over missing or text columns, checks
    /// over non-integer columns, foreign keys to missing tables, views over missing
    /// tables or columns.
    pub(crate) fn fixup(s: &mut Schema) {
        let tables: HashSet<String> = s.tables.keys().cloned().collect();
        for t in s.tables.values_mut() {
            let cols: HashMap<String, String> = t
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect();
            let ok = |c: &String| cols.get(c).is_some_and(|ty| ty != "text");
            t.uniques.retain(|u| u.columns.iter().all(ok));
            t.indexes.retain(|i| {
                i.parts
                    .iter()
                    .all(|p| matches!(&p.key, IndexKey::Column(c) if ok(c)))
            });
            t.checks.retain(|k| {
                let w = words(&k.expression);
                cols.iter()
                    .any(|(c, ty)| w.contains(&c.to_lowercase()) && is_int(ty))
                    && !cols
                        .iter()
                        .any(|(c, ty)| w.contains(&c.to_lowercase()) && !is_int(ty))
            });
            t.foreign_keys.retain(|k| {
                tables.contains(&k.referenced_table)
                    && k.columns.iter().all(|c| cols.contains_key(c))
            });
            // A column of a dropped enum goes too.
        }
        // Index names are the schema's (PostgreSQL, SQLite): one of each.
        let mut seen: HashSet<String> = HashSet::new();
        for t in s.tables.values_mut() {
            t.indexes.retain(|i| seen.insert(i.name.clone()));
        }
        let enums: HashSet<String> = s.enums.keys().cloned().collect();
        for t in s.tables.values_mut() {
            t.columns
                .retain(|c| c.data_type != "mood" || enums.contains("mood"));
        }
        let snapshot = s.tables.clone();
        s.views.retain(|_, v| {
            let w = words(&v.definition);
            snapshot.values().any(|t| {
                w.contains(&t.name.to_lowercase())
                    && w.iter().all(|x| {
                        matches!(x.as_str(), "select" | "from" | "id")
                            || x == &t.name.to_lowercase()
                            || t.columns.iter().any(|c| c.name.to_lowercase() == *x)
                    })
            })
        });
    }

    /// A changed copy of `s`: `ops` random changes; `renames` allows annotated renames.
    pub(crate) fn mutate(
        s: &Schema,
        seed: u64,
        ops: usize,
        renames: bool,
        postgres: bool,
    ) -> Schema {
        let mut rng = Rng(seed);
        let original = s;
        let mut s = s.clone();
        // Whether a table (by its current name) and a column of it were in `original`:
        // only those can carry a rename annotation.
        let was_there = |t: &Table, column: Option<&Column>| {
            let old_table = t.renamed_from.as_deref().unwrap_or(&t.name);
            original.tables.get(old_table).is_some_and(|o| {
                column.is_none_or(|c| {
                    o.get_column(c.renamed_from.as_deref().unwrap_or(&c.name))
                        .is_some()
                })
            })
        };
        for _ in 0..ops {
            let names: Vec<String> = s.tables.keys().cloned().collect();
            let pick_table = |rng: &mut Rng| (!names.is_empty()).then(|| rng.pick(&names).clone());
            match rng.below(16) {
                0 => {
                    if let Some(n) = pick_table(&mut rng) {
                        s.tables.remove(&n);
                    }
                }
                1 => {
                    let free: Vec<&str> = TABLES
                        .iter()
                        .copied()
                        .filter(|n| !s.tables.contains_key(*n) && !claimed_tables(&s).contains(*n))
                        .collect();
                    if !free.is_empty() {
                        let n = *rng.pick(&free);
                        let others: Vec<&str> = names.iter().map(String::as_str).collect();
                        let t = table(&mut rng, n, &others);
                        s.add_table(t);
                    }
                }
                2 => {
                    if let Some(n) = pick_table(&mut rng) {
                        let t = s.table_mut(&n).unwrap();
                        let free: Vec<&str> = COLUMNS
                            .iter()
                            .copied()
                            .filter(|c| {
                                t.get_column(c).is_none()
                                    && !t
                                        .columns
                                        .iter()
                                        .any(|x| x.renamed_from.as_deref() == Some(*c))
                            })
                            .collect();
                        if !free.is_empty() {
                            let c = *rng.pick(&free);
                            t.columns.push(column(&mut rng, c));
                        }
                    }
                }
                3 => {
                    if let Some(n) = pick_table(&mut rng) {
                        let t = s.table_mut(&n).unwrap();
                        if t.columns.len() > 1 {
                            let k = 1 + rng.below(t.columns.len() - 1);
                            t.columns.remove(k);
                        }
                    }
                }
                4..=6 => {
                    if let Some(n) = pick_table(&mut rng) {
                        let t = s.table_mut(&n).unwrap();
                        let k = rng.below(t.columns.len());
                        let c = &mut t.columns[k];
                        if c.name != "id" && c.name != "parent_id" && c.data_type != "mood" {
                            match rng.below(3) {
                                0 => {
                                    c.data_type = rng.pick(&TYPES).to_string();
                                    let d = default_for(&mut rng, &c.data_type.clone());
                                    c.default = d;
                                }
                                1 => c.nullable = !c.nullable,
                                _ => {
                                    let d = default_for(&mut rng, &c.data_type.clone());
                                    c.default = d;
                                }
                            }
                        }
                    }
                }
                7 | 8 => {
                    if let Some(n) = pick_table(&mut rng) {
                        let t = s.table_mut(&n).unwrap();
                        if rng.chance(50) {
                            add_constraint(&mut rng, t);
                        } else {
                            match rng.below(3) {
                                0 if !t.uniques.is_empty() => {
                                    t.uniques.remove(0);
                                }
                                1 if !t.checks.is_empty() => {
                                    t.checks.remove(0);
                                }
                                _ if !t.indexes.is_empty() => {
                                    t.indexes.remove(0);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                9 => {
                    if let Some(n) = pick_table(&mut rng) {
                        let target = rng.pick(&names).clone();
                        let t = s.table_mut(&n).unwrap();
                        if t.foreign_keys.is_empty() {
                            add_fk(&mut rng, t, &target);
                        } else if rng.chance(50) {
                            t.foreign_keys.clear();
                        } else {
                            t.foreign_keys[0].on_delete = ReferentialAction::Cascade;
                            let content = format!(
                                "{}{}{:?}",
                                t.name,
                                t.foreign_keys[0].referenced_table,
                                ReferentialAction::Cascade
                            );
                            t.foreign_keys[0].name = name_for(&content, "fk");
                        }
                    }
                }
                10 if renames => {
                    // Not a name `original` has: that table would match by name.
                    let free: Vec<&str> = TABLES
                        .iter()
                        .copied()
                        .filter(|n| {
                            !s.tables.contains_key(*n)
                                && !claimed_tables(&s).contains(*n)
                                && !original.tables.contains_key(*n)
                        })
                        .collect();
                    if let (Some(n), false) = (pick_table(&mut rng), free.is_empty()) {
                        let new = rng.pick(&free).to_string();
                        let mut t = s.tables.remove(&n).unwrap();
                        t.name = new.clone();
                        // A second rename keeps the first old name.
                        let annotated = was_there(&t, None);
                        t.renamed_from = t.renamed_from.clone().or(Some(n.clone()));
                        if !annotated {
                            t.renamed_from = None;
                        }
                        // The database renames references and views' tables itself;
                        // views here are dropped rather than rewritten.
                        for u in s.tables.values_mut() {
                            for k in &mut u.foreign_keys {
                                if k.referenced_table == n {
                                    k.referenced_table = new.clone();
                                }
                            }
                        }
                        for k in &mut t.foreign_keys {
                            if k.referenced_table == n {
                                k.referenced_table = new.clone();
                            }
                        }
                        s.add_table(t);
                        s.views
                            .retain(|_, v| !words(&v.definition).contains(&n.to_lowercase()));
                    }
                }
                11 if renames => {
                    if let Some(n) = pick_table(&mut rng) {
                        let t = s.table_mut(&n).unwrap();
                        let free: Vec<&str> = COLUMNS
                            .iter()
                            .copied()
                            .filter(|c| {
                                t.get_column(c).is_none()
                                    && !t
                                        .columns
                                        .iter()
                                        .any(|x| x.renamed_from.as_deref() == Some(*c))
                            })
                            .collect();
                        let candidates: Vec<usize> = (0..t.columns.len())
                            .filter(|k| {
                                !["id", "parent_id", "mood"].contains(&t.columns[*k].name.as_str())
                            })
                            .collect();
                        if !free.is_empty() && !candidates.is_empty() {
                            let k = *rng.pick(&candidates);
                            let old = t.columns[k].name.clone();
                            let new = rng.pick(&free).to_string();
                            // Not a name the original table has: it would match by name.
                            let taken = original
                                .tables
                                .get(t.renamed_from.as_deref().unwrap_or(&t.name))
                                .is_some_and(|o| o.get_column(&new).is_some());
                            let annotated = was_there(t, Some(&t.columns[k])) && !taken;
                            t.columns[k].name = new.clone();
                            t.columns[k].renamed_from =
                                t.columns[k].renamed_from.clone().or(Some(old.clone()));
                            if !annotated {
                                t.columns[k].renamed_from = None;
                            }
                            for u in &mut t.uniques {
                                for c in &mut u.columns {
                                    if *c == old {
                                        *c = new.clone();
                                    }
                                }
                            }
                            for i in &mut t.indexes {
                                for p in &mut i.parts {
                                    if p.key == IndexKey::Column(old.clone()) {
                                        p.key = IndexKey::Column(new.clone());
                                    }
                                }
                            }
                            // Check texts are not rewritten here: they are dropped.
                            t.checks
                                .retain(|c| !words(&c.expression).contains(&old.to_lowercase()));
                            s.views
                                .retain(|_, v| !words(&v.definition).contains(&n.to_lowercase()));
                        }
                    }
                }
                12 => {
                    if rng.chance(50) {
                        s.views.clear();
                    }
                    add_view(&mut rng, &mut s);
                }
                13 if postgres => match s.enums.get_mut("mood") {
                    Some(e) => match rng.below(3) {
                        0 => e.values.insert(1, "meh".into()),
                        1 => e.values.reverse(),
                        _ => {
                            s.enums.clear();
                        }
                    },
                    None => {
                        s.enums.insert(
                            "mood".into(),
                            EnumType {
                                name: "mood".into(),
                                values: vec!["happy".into(), "sad".into()],
                            },
                        );
                    }
                },
                14 if postgres => {
                    if let Some(q) = s.sequences.get_mut("ticket_no") {
                        if rng.chance(50) {
                            q.increment = 5;
                        } else {
                            s.sequences.clear();
                        }
                    } else {
                        s.sequences.insert(
                            "ticket_no".into(),
                            Sequence {
                                name: "ticket_no".into(),
                                data_type: "integer".into(),
                                start: 10,
                                increment: 1,
                                min_value: 1,
                                max_value: 1000,
                                cycle: true,
                            },
                        );
                    }
                }
                _ => {}
            }
            fixup(&mut s);
        }
        s
    }

    fn claimed_tables(s: &Schema) -> HashSet<String> {
        s.tables
            .values()
            .filter_map(|t| t.renamed_from.clone())
            .collect()
    }

    /// The schema without annotations, each collection in a canonical order.
    pub(crate) fn normalized(s: &Schema) -> Schema {
        let mut s = s.clone();
        for t in s.tables.values_mut() {
            t.renamed_from = None;
            for c in &mut t.columns {
                c.renamed_from = None;
            }
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
            t.uniques.sort_by_key(|u| format!("{u:?}"));
            t.indexes.sort_by_key(|i| format!("{i:?}"));
            t.foreign_keys.sort_by_key(|k| format!("{k:?}"));
            t.checks.sort_by_key(|k| format!("{k:?}"));
        }
        s
    }

    fn table_of<'a>(s: &'a mut Schema, name: &str, c: &Change) -> &'a mut Table {
        s.tables
            .get_mut(name)
            .unwrap_or_else(|| panic!("{c}: no table {name}"))
    }

    fn strip(c: &Column) -> Column {
        Column {
            renamed_from: None,
            ..c.clone()
        }
    }

    /// Applies one change to the model, checking what a database would refuse.
    pub(crate) fn apply(s: &mut Schema, c: &Change) {
        let uses_table = |s: &Schema, name: &str| {
            s.tables.values().any(|t| {
                t.name != name && t.foreign_keys.iter().any(|k| k.referenced_table == name)
            })
        };
        match c {
            Change::CreateTable(t) => {
                assert!(!s.tables.contains_key(&t.name), "{c}: exists");
                assert!(t.foreign_keys.is_empty() && t.indexes.is_empty());
                s.add_table(t.clone());
            }
            Change::DropTable(t) => {
                let cur = s
                    .tables
                    .get(&t.name)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                assert!(
                    cur.foreign_keys.is_empty() && cur.indexes.is_empty(),
                    "{c}: keys left"
                );
                assert_eq!(
                    normalized_table(cur),
                    normalized_table(t),
                    "{c}: not as recorded"
                );
                assert!(!uses_table(s, &t.name), "{c}: still referenced");
                assert!(
                    !s.views
                        .values()
                        .any(|v| words(&v.definition).contains(&t.name.to_lowercase())),
                    "{c}: a view reads it"
                );
                s.tables.remove(&t.name);
            }
            Change::RenameTable { from, to } => {
                assert!(!s.tables.contains_key(to), "{c}: target exists");
                let mut t = s
                    .tables
                    .remove(from)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                t.name = to.clone();
                for k in &mut t.foreign_keys {
                    if k.referenced_table == *from {
                        k.referenced_table = to.clone();
                    }
                }
                s.add_table(t);
                for u in s.tables.values_mut() {
                    for k in &mut u.foreign_keys {
                        if k.referenced_table == *from {
                            k.referenced_table = to.clone();
                        }
                    }
                }
            }
            Change::AddColumn { table, column } => {
                let t = table_of(s, table, c);
                assert!(t.get_column(&column.name).is_none(), "{c}: exists");
                t.columns.push(column.clone());
            }
            Change::DropColumn { table, column } => {
                let referenced = s.tables.values().any(|u| {
                    u.foreign_keys.iter().any(|k| {
                        k.referenced_table == *table && k.referenced_columns.contains(&column.name)
                    })
                });
                assert!(!referenced, "{c}: referenced");
                let t = table_of(s, table, c);
                let k = t
                    .columns
                    .iter()
                    .position(|x| x.name == column.name)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                assert_eq!(strip(&t.columns[k]), *column, "{c}: not as recorded");
                let n = &column.name;
                assert!(
                    !t.primary_key
                        .as_ref()
                        .is_some_and(|p| p.columns.contains(n)),
                    "{c}: in the primary key"
                );
                assert!(
                    !t.uniques.iter().any(|u| u.columns.contains(n)),
                    "{c}: in a unique"
                );
                assert!(
                    !t.indexes
                        .iter()
                        .any(|i| i.parts.iter().any(|p| p.key == IndexKey::Column(n.clone()))),
                    "{c}: indexed"
                );
                assert!(
                    !t.foreign_keys.iter().any(|f| f.columns.contains(n)),
                    "{c}: in a foreign key"
                );
                assert!(
                    !t.checks
                        .iter()
                        .any(|k| words(&k.expression).contains(&n.to_lowercase())),
                    "{c}: in a check"
                );
                t.columns.remove(k);
            }
            Change::RenameColumn { table, from, to } => {
                let t = table_of(s, table, c);
                assert!(t.get_column(to).is_none(), "{c}: target exists");
                let col = t
                    .columns
                    .iter_mut()
                    .find(|x| x.name == *from)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                col.name = to.clone();
                let ren = |v: &mut Vec<String>| {
                    v.iter_mut()
                        .filter(|x| *x == from)
                        .for_each(|x| *x = to.clone())
                };
                if let Some(p) = &mut t.primary_key {
                    ren(&mut p.columns);
                }
                t.uniques.iter_mut().for_each(|u| ren(&mut u.columns));
                t.foreign_keys.iter_mut().for_each(|k| ren(&mut k.columns));
                for i in &mut t.indexes {
                    for p in &mut i.parts {
                        if p.key == IndexKey::Column(from.clone()) {
                            p.key = IndexKey::Column(to.clone());
                        }
                    }
                }
                for u in s.tables.values_mut() {
                    for k in &mut u.foreign_keys {
                        if k.referenced_table == *table {
                            ren(&mut k.referenced_columns);
                        }
                    }
                }
            }
            Change::AlterColumn { table, from, to } => {
                let t = table_of(s, table, c);
                let col = t
                    .columns
                    .iter_mut()
                    .find(|x| x.name == from.name)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                assert_eq!(strip(col), *from, "{c}: not as recorded");
                assert_eq!(from.name, to.name);
                *col = to.clone();
            }
            Change::AddPrimaryKey { table, primary_key } => {
                let t = table_of(s, table, c);
                assert!(t.primary_key.is_none(), "{c}: has one");
                assert!(
                    primary_key
                        .columns
                        .iter()
                        .all(|x| t.get_column(x).is_some()),
                    "{c}: column missing"
                );
                t.primary_key = Some(primary_key.clone());
            }
            Change::DropPrimaryKey { table, primary_key } => {
                let referenced = s.tables.values().any(|u| {
                    u.foreign_keys.iter().any(|k| {
                        k.referenced_table == *table && k.referenced_columns == primary_key.columns
                    })
                });
                assert!(!referenced, "{c}: a foreign key uses it");
                let t = table_of(s, table, c);
                assert_eq!(
                    t.primary_key.as_ref(),
                    Some(primary_key),
                    "{c}: not as recorded"
                );
                t.primary_key = None;
            }
            Change::AddUnique { table, unique } => {
                let t = table_of(s, table, c);
                assert!(
                    unique.columns.iter().all(|x| t.get_column(x).is_some()),
                    "{c}: column missing"
                );
                t.uniques.push(unique.clone());
            }
            Change::DropUnique { table, unique } => {
                let referenced = s.tables.values().any(|u| {
                    u.foreign_keys.iter().any(|k| {
                        k.referenced_table == *table && k.referenced_columns == unique.columns
                    })
                });
                assert!(!referenced, "{c}: a foreign key uses it");
                let t = table_of(s, table, c);
                let k = t
                    .uniques
                    .iter()
                    .position(|x| x == unique)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                t.uniques.remove(k);
            }
            Change::CreateIndex { table, index } => {
                assert!(
                    !s.tables
                        .values()
                        .any(|t| t.indexes.iter().any(|i| i.name == index.name)),
                    "{c}: name taken"
                );
                let t = table_of(s, table, c);
                assert!(
                    index.parts.iter().all(|p| match &p.key {
                        IndexKey::Column(x) => t.get_column(x).is_some(),
                        _ => true,
                    }),
                    "{c}: column missing"
                );
                t.indexes.push(index.clone());
            }
            Change::DropIndex { table, index } => {
                let t = table_of(s, table, c);
                let k = t
                    .indexes
                    .iter()
                    .position(|x| x == index)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                t.indexes.remove(k);
            }
            Change::AddForeignKey { table, foreign_key } => {
                let target = s
                    .tables
                    .get(&foreign_key.referenced_table)
                    .unwrap_or_else(|| panic!("{c}: no referenced table"));
                assert!(
                    foreign_key
                        .referenced_columns
                        .iter()
                        .all(|x| target.get_column(x).is_some()),
                    "{c}: referenced column missing"
                );
                let keyed = target
                    .primary_key
                    .as_ref()
                    .is_some_and(|p| p.columns == foreign_key.referenced_columns)
                    || target
                        .uniques
                        .iter()
                        .any(|u| u.columns == foreign_key.referenced_columns);
                assert!(keyed, "{c}: referenced columns are no key");
                let t = table_of(s, table, c);
                assert!(
                    foreign_key
                        .columns
                        .iter()
                        .all(|x| t.get_column(x).is_some()),
                    "{c}: column missing"
                );
                t.foreign_keys.push(foreign_key.clone());
            }
            Change::DropForeignKey { table, foreign_key } => {
                let t = table_of(s, table, c);
                let k = t
                    .foreign_keys
                    .iter()
                    .position(|x| x == foreign_key)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                t.foreign_keys.remove(k);
            }
            Change::AddCheck { table, check } => {
                table_of(s, table, c).checks.push(check.clone());
            }
            Change::DropCheck { table, check } => {
                let t = table_of(s, table, c);
                let k = t
                    .checks
                    .iter()
                    .position(|x| x == check)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                t.checks.remove(k);
            }
            Change::CreateView(v) => {
                assert!(
                    !s.views.contains_key(&v.name) && !s.tables.contains_key(&v.name),
                    "{c}: exists"
                );
                let w = words(&v.definition);
                // What it reads must be there (tables by name, in this generator).
                assert!(
                    s.tables
                        .keys()
                        .chain(s.views.keys())
                        .any(|n| w.contains(&n.to_lowercase()))
                        || !w.contains("from"),
                    "{c}: reads nothing there"
                );
                s.views.insert(v.name.clone(), v.clone());
            }
            Change::DropView(v) => {
                assert_eq!(s.views.get(&v.name), Some(v), "{c}: not as recorded");
                assert!(
                    !s.views.values().any(|o| o.name != v.name
                        && words(&o.definition).contains(&v.name.to_lowercase())),
                    "{c}: a view reads it"
                );
                s.views.remove(&v.name);
            }
            Change::CreateEnum(e) => {
                assert!(
                    s.enums.insert(e.name.clone(), e.clone()).is_none(),
                    "{c}: exists"
                );
            }
            Change::DropEnum(e) => {
                assert!(
                    !s.tables
                        .values()
                        .any(|t| t.columns.iter().any(|x| x.data_type == e.name)),
                    "{c}: in use"
                );
                assert_eq!(
                    s.enums.remove(&e.name).as_ref(),
                    Some(e),
                    "{c}: not as recorded"
                );
            }
            Change::AlterEnum { from, to, .. } => {
                assert_eq!(s.enums.get(&from.name), Some(from), "{c}: not as recorded");
                s.enums.insert(to.name.clone(), to.clone());
            }
            Change::CreateSequence(q) => {
                assert!(
                    s.sequences.insert(q.name.clone(), q.clone()).is_none(),
                    "{c}: exists"
                );
            }
            Change::DropSequence(q) => {
                assert_eq!(
                    s.sequences.remove(&q.name).as_ref(),
                    Some(q),
                    "{c}: not as recorded"
                );
            }
            Change::AlterSequence { from, to } => {
                assert_eq!(
                    s.sequences.get(&from.name),
                    Some(from),
                    "{c}: not as recorded"
                );
                s.sequences.insert(to.name.clone(), to.clone());
            }
            Change::AlterCheck { table, from, to } => {
                let t = table_of(s, table, c);
                let k = t
                    .checks
                    .iter()
                    .position(|x| x.expression == from.expression && x.not_valid == from.not_valid)
                    .unwrap_or_else(|| panic!("{c}: missing"));
                t.checks[k] = to.clone();
            }
            Change::CreateFunction(f) => {
                assert!(
                    s.functions.insert(f.signature(), f.clone()).is_none(),
                    "{c}: exists"
                );
            }
            Change::DropFunction(f) => {
                assert!(
                    !s.triggers
                        .values()
                        .any(|t| words(&t.definition).contains(&f.name.to_lowercase())),
                    "{c}: a trigger calls it"
                );
                assert_eq!(
                    s.functions.remove(&f.signature()).as_ref(),
                    Some(f),
                    "{c}: not as recorded"
                );
            }
            Change::ReplaceFunction { from, to } => {
                assert_eq!(
                    s.functions.get(&from.signature()),
                    Some(from),
                    "{c}: not as recorded"
                );
                s.functions.insert(to.signature(), to.clone());
            }
            Change::CreateTrigger(t) => {
                assert!(
                    s.tables.contains_key(&t.table) || s.views.contains_key(&t.table),
                    "{c}: no table"
                );
                assert!(
                    s.triggers.insert(t.key(), t.clone()).is_none(),
                    "{c}: exists"
                );
            }
            Change::DropTrigger(t) => {
                assert_eq!(
                    s.triggers.remove(&t.key()).as_ref(),
                    Some(t),
                    "{c}: not as recorded"
                );
            }
        }
    }

    fn normalized_table(t: &Table) -> Table {
        let mut s = Schema::default();
        s.add_table(t.clone());
        normalized(&s).tables.remove(&t.name).unwrap_or_default()
    }

    pub(crate) fn apply_all(s: &Schema, d: &Diff) -> Schema {
        let mut s = s.clone();
        for c in &d.changes {
            apply(&mut s, c);
        }
        s
    }
}

#[cfg(test)]
mod properties {
    use super::generated::{apply_all, mutate, normalized, schema};
    use super::*;
    use proptest::prelude::*;

    fn unnamed(s: &Schema) -> Schema {
        let mut s = normalized(s);
        for t in s.tables.values_mut() {
            t.uniques.iter_mut().for_each(|u| u.name = None);
            t.checks.iter_mut().for_each(|k| k.name = None);
            t.foreign_keys.iter_mut().for_each(|k| k.name = None);
            if let Some(p) = &mut t.primary_key {
                p.name = None;
            }
        }
        normalized(&s)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn same_schema_has_no_changes(seed in any::<u64>(), pg in any::<bool>()) {
            let a = schema(seed, pg);
            let d = diff(&a, &a).unwrap();
            prop_assert!(d.is_empty(), "{:?}", d.changes);
            // Whatever the order of the collections.
            let mut shuffled = a.clone();
            for t in shuffled.tables.values_mut() {
                t.columns.reverse();
                t.checks.reverse();
                t.uniques.reverse();
                t.foreign_keys.reverse();
            }
            prop_assert!(diff(&a, &shuffled).unwrap().is_empty());
        }

        #[test]
        fn empty_diff_iff_equal(seed in any::<u64>(), m in any::<u64>(), ops in 0usize..4, pg in any::<bool>()) {
            let a = schema(seed, pg);
            let b = mutate(&a, m, ops, false, pg);
            let d = diff(&a, &b).unwrap();
            prop_assert_eq!(d.is_empty(), normalized(&a) == normalized(&b), "{:?}", d.changes);
        }

        #[test]
        fn unnamed_target_constraints_ignore_names(seed in any::<u64>()) {
            let a = schema(seed, false);
            let mut b = a.clone();
            for t in b.tables.values_mut() {
                t.uniques.iter_mut().for_each(|u| u.name = None);
                t.checks.iter_mut().for_each(|k| k.name = None);
                t.foreign_keys.iter_mut().for_each(|k| k.name = None);
                if let Some(p) = &mut t.primary_key { p.name = None; }
            }
            prop_assert!(diff(&a, &b).unwrap().is_empty());
        }

        #[test]
        fn inverse_of_inverse(seed in any::<u64>(), m in any::<u64>(), ops in 1usize..8, pg in any::<bool>()) {
            let a = schema(seed, pg);
            let b = mutate(&a, m, ops, true, pg);
            let d = diff(&a, &b).unwrap();
            prop_assert_eq!(d.inverse().inverse(), d.clone());
            for c in &d.changes {
                prop_assert_eq!(c.inverse().inverse(), c.clone());
            }
        }

        /// The changes apply in order to the model (each finding what it needs and
        /// leaving nothing that uses what it drops), reach `b`, and their inverses,
        /// backwards, reach `a` again.
        #[test]
        fn changes_apply_in_order_and_back(seed in any::<u64>(), m in any::<u64>(), ops in 1usize..10, pg in any::<bool>()) {
            let a = schema(seed, pg);
            let b = mutate(&a, m, ops, true, pg);
            let d = diff(&a, &b).unwrap();
            // Constraint names aside: an unnamed constraint of `b` keeps the name `a`
            // gave it (the diff does not care, nor does a database).
            let up = apply_all(&a, &d);
            prop_assert_eq!(unnamed(&up), unnamed(&b), "{:#?}", d.changes);
            let down = apply_all(&up, &d.inverse());
            prop_assert_eq!(normalized(&down), normalized(&a));
            // And the diff agrees.
            prop_assert!(diff(&up, &b).unwrap().is_empty());
        }

        #[test]
        fn renders_on_every_database(seed in any::<u64>(), m in any::<u64>(), ops in 1usize..8, allow in any::<bool>()) {
            for (dialect, pg) in [(migrate_core::Dialect::Postgres, true), (migrate_core::Dialect::Sqlite, false), (migrate_core::Dialect::Mysql, false)] {
                let a = schema(seed, pg);
                let b = mutate(&a, m, ops, true, pg);
                let d = diff(&a, &b).unwrap();
                let r = crate::render::render(&d, &a, &b, dialect, &crate::render::RenderOptions { allow_destructive: allow }).unwrap();
                prop_assert_eq!(r.upgrade.is_empty(), d.is_empty());
                for line in r.upgrade.lines().chain(r.downgrade.lines()) {
                    prop_assert!(line.starts_with("-- ") || line.ends_with(';') || !line.ends_with(")") || line.starts_with("    ") || line.starts_with("   "), "{}", line);
                }
                if !allow && d.is_destructive() {
                    prop_assert!(!r.warnings.is_empty());
                    prop_assert!(r.upgrade.contains("-- autogenerate: destructive change, uncomment to apply: "));
                }
            }
        }
    }
}
