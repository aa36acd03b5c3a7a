//! The one-line descriptions of changes, as drift reports print them.

use super::{added_labels, Change};
use crate::model::{
    Column, ForeignKey, Function, Generated, Identity, Index, IndexKey, IndexPart, PostgresTable,
    TableOptions,
};
use crate::render::dialect;
use migrate_core::Dialect;

impl Change {
    /// One human line, as used in drift reports: `add column tickets.priority
    /// varchar(20)`, `drop table legacy`.
    pub fn describe(&self) -> String {
        self.describe_table()
            .or_else(|| self.describe_key())
            .or_else(|| self.describe_object())
            .unwrap_or_default()
    }

    /// Tables and columns.
    fn describe_table(&self) -> Option<String> {
        Some(match self {
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
            Change::AlterTableOptions { table, from, to } => {
                let words = |o: &TableOptions| match o.sql() {
                    s if s.is_empty() => "none".to_string(),
                    s => s.to_ascii_lowercase(),
                };
                format!(
                    "alter table {table}: options {} -> {}",
                    words(from),
                    words(to)
                )
            }
            Change::AlterColumn { table, from, to } => {
                format!(
                    "alter column {table}.{}: {}",
                    to.name,
                    alterations(from, to).join(", ")
                )
            }
            Change::AlterPostgresTable { table, from, to } => {
                format!(
                    "alter table {table}: {}",
                    table_alterations(from, to).join(", ")
                )
            }
            _ => return None,
        })
    }

    /// Keys, constraints and indexes.
    fn describe_key(&self) -> Option<String> {
        Some(match self {
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
                "create {}index {} on {table} ({}){}",
                if index.unique { "unique " } else { "" },
                index.name,
                index_parts_summary(&index.parts),
                index_options_summary(index)
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
            _ => return None,
        })
    }

    /// Views, types, sequences, functions and triggers.
    fn describe_object(&self) -> Option<String> {
        Some(match self {
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
            Change::CreateObject(o) => format!("create {} {}", o.kind, o.name),
            Change::DropObject(o) => format!("drop {} {}", o.kind, o.name),
            _ => return None,
        })
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
        .map(|v| dialect(Dialect::Postgres).string_literal(v))
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
    if let Some(u) = &c.on_update {
        s.push_str(&format!(" on update {u}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" {}", generated_words(g)));
    }
    if let Some(comment) = &c.comment {
        s.push_str(&format!(" comment {}", comment_words(comment)));
    }
    s
}

/// A comment as a string literal (PostgreSQL's quoting, whatever the database).
fn comment_words(comment: &str) -> String {
    dialect(Dialect::Postgres).string_literal(comment)
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

/// A collation as SQL names it: `"C"`, `"en_US"` (quoted as PostgreSQL and SQLite
/// quote, whatever the database).
fn quoted_collation(name: &str) -> String {
    dialect(Dialect::Postgres).quote_identifier(name)
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
    mysql_alterations(from, to, &mut out);
    out
}

/// `ON UPDATE` and comments.
fn mysql_alterations(from: &Column, to: &Column, out: &mut Vec<String>) {
    if from.on_update != to.on_update {
        out.push(format!(
            "on update {} -> {}",
            from.on_update.as_deref().unwrap_or("none"),
            to.on_update.as_deref().unwrap_or("none")
        ));
    }
    if from.comment != to.comment {
        let words = |c: &Option<String>| c.as_deref().map(comment_words).unwrap_or("none".into());
        out.push(format!(
            "comment {} -> {}",
            words(&from.comment),
            words(&to.comment)
        ));
    }
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
            let mut s = match p.length {
                Some(n) => format!("{key}({n})"),
                None => key,
            };
            if let Some(c) = &p.collation {
                s.push_str(&format!(" collate {}", quoted_collation(c)));
            }
            if let Some(o) = &p.opclass {
                s.push_str(&format!(" {o}"));
            }
            if p.descending {
                s.push_str(" desc");
            }
            match p.nulls_first {
                Some(true) => s.push_str(" nulls first"),
                Some(false) => s.push_str(" nulls last"),
                None => {}
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// PostgreSQL's index options beyond its key parts: included columns, NULL handling,
/// storage parameters.
fn index_options_summary(ix: &Index) -> String {
    let mut s = String::new();
    if !ix.include.is_empty() {
        s.push_str(&format!(" include ({})", ix.include.join(", ")));
    }
    if ix.nulls_not_distinct {
        s.push_str(" nulls not distinct");
    }
    if !ix.storage.is_empty() {
        s.push_str(&format!(" with ({})", ix.storage.join(", ")));
    }
    s
}

/// What changes in a PostgreSQL table's partitioning, persistence and storage.
fn table_alterations(from: &PostgresTable, to: &PostgresTable) -> Vec<String> {
    let mut out = Vec::new();
    if from.partition_by != to.partition_by {
        let words = |k: &Option<String>| k.clone().unwrap_or_else(|| "none".into());
        out.push(format!(
            "partition key {} -> {}",
            words(&from.partition_by),
            words(&to.partition_by)
        ));
    }
    if from.partition_of != to.partition_of {
        let words = |p: &Option<crate::model::PartitionOf>| match p {
            Some(p) => format!("partition of {} {}", p.parent, p.bound),
            None => "not a partition".into(),
        };
        out.push(format!(
            "{} -> {}",
            words(&from.partition_of),
            words(&to.partition_of)
        ));
    }
    if from.unlogged != to.unlogged {
        out.push(
            if to.unlogged {
                "set unlogged"
            } else {
                "set logged"
            }
            .into(),
        );
    }
    if from.storage != to.storage {
        out.push(format!(
            "storage ({}) -> ({})",
            from.storage.join(", "),
            to.storage.join(", ")
        ));
    }
    out
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
