//! Tables: matched by name and `renamed_from`; dropped ones (after their foreign keys
//! and indexes, a referencing table first) and created ones (a referenced table
//! first, their indexes and foreign keys after).

use super::matching::{match_names, Names, TablePair};
use super::{bare_table, Change, DiffError, Findings, ObjectKind, Phases, Sides};
use crate::model::{Schema, Table};
use std::collections::{BTreeSet, HashSet};

/// The tables of `from` and `to` matched, and the columns of those on both sides.
pub(super) fn matched<'a>(from: &'a Schema, to: &'a Schema) -> Result<Sides<'a>, DiffError> {
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
    Ok(Sides {
        from,
        to,
        tables,
        pairs,
        names,
    })
}

/// Renamed tables (their views are re-created, as for a column change).
pub(super) fn renames(sides: &Sides<'_>, p: &mut Phases, found: &mut Findings) {
    for tp in &sides.pairs {
        let (f, t) = (tp.from, tp.to);
        if f.name != t.name {
            p.rename_tables.push(Change::RenameTable {
                from: f.name.clone(),
                to: t.name.clone(),
            });
            found.reshaped.insert(t.name.clone());
        }
    }
}

/// Tables on both sides whose PostgreSQL partitioning, persistence or storage
/// parameters differ (with a partition's parent in `to`'s names).
pub(super) fn postgres_options(sides: &Sides<'_>, p: &mut Phases) {
    for tp in &sides.pairs {
        let mut from = tp.from.postgres.clone();
        if let Some(po) = &mut from.partition_of {
            po.parent = sides.names.table(&po.parent);
        }
        if from != tp.to.postgres {
            p.alter_columns.push(Change::AlterPostgresTable {
                table: tp.to.name.clone(),
                from,
                to: tp.to.postgres.clone(),
            });
        }
    }
}

/// Dropped and created tables, and the warnings about pairs of them that may be a
/// rename.
pub(super) fn dropped_and_created(sides: &Sides<'_>, p: &mut Phases, warnings: &mut Vec<String>) {
    let (from, to, tables) = (sides.from, sides.to, &sides.tables);
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
}

/// Tables in an order where each comes after the tables it references and after the
/// table it is a partition of (among `names`); reference cycles are broken in name
/// order.
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
            let parent = t.postgres.partition_of.as_ref().map(|p| p.parent.as_str());
            let referenced = t.foreign_keys.iter().map(|k| k.referenced_table.as_str());
            for r in parent.into_iter().chain(referenced) {
                if let Some(p) = set.get(r) {
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
