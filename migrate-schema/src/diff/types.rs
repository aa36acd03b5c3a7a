//! PostgreSQL's enums (labels added in place, or the type re-created with its
//! columns) and sequences.

use super::matching::TablePair;
use super::{Change, EnumColumn, Findings, Phases, Sides};
use crate::model::{EnumType, Schema};

/// Enums dropped, altered and created.
pub(super) fn enums(sides: &Sides<'_>, p: &mut Phases, found: &mut Findings) {
    let (from, to, pairs) = (sides.from, sides.to, &sides.pairs);
    for (name, e) in &from.enums {
        match to.enums.get(name) {
            None => p.drop_types.push(Change::DropEnum(e.clone())),
            Some(te) if te.values != e.values => {
                let columns = enum_columns(name, pairs);
                // Tables with columns of a re-created enum have their columns found.altered.
                if added_labels(e, te).is_none() {
                    for c in &columns {
                        found.reshaped.insert(c.table.clone());
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
}

/// Sequences dropped, altered and created.
pub(super) fn sequences(from: &Schema, to: &Schema, p: &mut Phases) {
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
