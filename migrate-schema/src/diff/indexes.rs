//! Indexes of a table on both sides, by name: one that changes (in `to`'s names), or
//! covers a column dropped and added again, is dropped and created again.

use super::matching::{Names, TablePair};
use super::text::mentions;
use super::{words, Change, ColumnKey, Findings, Phases};
use crate::model::{Index, IndexKey};
use std::collections::HashSet;

/// The indexes dropped and created.
pub(super) fn compare(names: &Names<'_>, tp: &TablePair<'_>, p: &mut Phases, found: &mut Findings) {
    let (f, t) = (tp.from, tp.to);
    let old = f.name.as_str();
    for fi in &f.indexes {
        let translated = names.index(old, fi);
        let keep = t
            .indexes
            .iter()
            .find(|ti| ti.name == fi.name)
            .is_some_and(|ti| *ti == translated && !index_involves(&t.name, ti, &found.replaced));
        if !keep {
            if fi.unique {
                if let Some(cols) = index_columns(&translated) {
                    found.rekeyed.insert((t.name.clone(), cols));
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
                names.index(old, fi) == *ti && !index_involves(&t.name, ti, &found.replaced)
            });
        if !keep {
            p.add_keys.push(Change::CreateIndex {
                table: t.name.clone(),
                index: ti.clone(),
            });
        }
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

fn index_involves(table: &str, ix: &Index, set: &HashSet<ColumnKey>) -> bool {
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
