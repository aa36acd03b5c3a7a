//! Matching objects of the two schemas: tables and columns by name and
//! `renamed_from`, constraints by name or content, and the translation of old names
//! into new ones.

use super::{DiffError, ObjectKind};
use crate::model::{Column, ForeignKey, Index, IndexKey, IndexPart, Table};
use std::collections::{HashMap, HashSet};

/// The outcome of matching names: pairs `(old name, new name)` in `to`'s order, new
/// names without a partner, old names without a partner in `from`'s order.
pub(super) struct Matching<'a> {
    pub(super) pairs: Vec<(&'a str, &'a str)>,
    pub(super) added: Vec<&'a str>,
    pub(super) removed: Vec<&'a str>,
}

/// Matches by name, then `renamed_from`: a new name present in `from` is the same
/// object whatever its annotation (the rename already happened); otherwise its
/// annotated old name must be in `from`, not in `to`, and claimed once.
pub(super) fn match_names<'a>(
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

/// A table present on both sides.
pub(super) struct TablePair<'a> {
    pub(super) from: &'a Table,
    pub(super) to: &'a Table,
    /// Column pairs (old name, new name).
    pub(super) columns: Matching<'a>,
}

/// Name translation from `from`'s names to `to`'s.
pub(super) struct Names<'a> {
    pub(super) tables: HashMap<&'a str, &'a str>,
    /// Per table (old name), old column name to new.
    pub(super) columns: HashMap<&'a str, HashMap<&'a str, &'a str>>,
}

impl Names<'_> {
    pub(super) fn table(&self, old: &str) -> String {
        self.tables
            .get(old)
            .map_or_else(|| old.to_string(), |n| n.to_string())
    }

    pub(super) fn column(&self, old_table: &str, old: &str) -> String {
        self.columns
            .get(old_table)
            .and_then(|m| m.get(old))
            .map_or_else(|| old.to_string(), |n| n.to_string())
    }

    pub(super) fn columns(&self, old_table: &str, cols: &[String]) -> Vec<String> {
        cols.iter().map(|c| self.column(old_table, c)).collect()
    }

    /// A foreign key of `old_table` in `to`'s names.
    pub(super) fn foreign_key(&self, old_table: &str, fk: &ForeignKey) -> ForeignKey {
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

    pub(super) fn index(&self, old_table: &str, ix: &Index) -> Index {
        Index {
            parts: ix
                .parts
                .iter()
                .map(|p| IndexPart {
                    key: match &p.key {
                        IndexKey::Column(c) => IndexKey::Column(self.column(old_table, c)),
                        e => e.clone(),
                    },
                    ..p.clone()
                })
                .collect(),
            include: self.columns(old_table, &ix.include),
            ..ix.clone()
        }
    }
}

pub(super) fn clean_column(c: &Column) -> Column {
    Column {
        renamed_from: None,
        ..c.clone()
    }
}

pub(super) fn same_column(a: &Column, b: &Column) -> bool {
    a.data_type == b.data_type
        && a.nullable == b.nullable
        && a.default == b.default
        && a.identity == b.identity
        && a.generated == b.generated
        && a.collation == b.collation
        && a.on_update == b.on_update
        && a.comment == b.comment
}

/// The constraints of one kind to drop (indexes into `from`) and to add (indexes into
/// `to`), each in order. A named one in `to` pairs with the same name in `from`; an
/// unnamed one with an unpaired constraint of `from` of the same content, preferring an
/// unnamed one. `content` compares a `from` item (in `to`'s names) with a `to` item.
/// Unpaired ones are dropped or added; a pair is re-created (dropped and added) when
/// `recreate(i, j)` says so, and kept otherwise (the third list, `(i, j)` in `to`'s
/// order).
pub(super) fn constraint_changes<T>(
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
