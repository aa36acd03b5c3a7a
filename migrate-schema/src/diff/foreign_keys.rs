//! Foreign keys of a table on both sides: by name or content; one is re-created when
//! the key it references is, or a column of it changes type.

use super::matching::{constraint_changes, Names, TablePair};
use super::{involves, Change, Findings, Phases};
use crate::model::ForeignKey;

/// The foreign keys dropped and added.
pub(super) fn compare(names: &Names<'_>, tp: &TablePair<'_>, p: &mut Phases, found: &Findings) {
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
                || found
                    .rekeyed
                    .contains(&(k.referenced_table.clone(), k.referenced_columns.clone()))
                || involves(&t.name, &k.columns, &found.retyped)
                || involves(&k.referenced_table, &k.referenced_columns, &found.retyped)
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
