//! PostgreSQL's functions (by signature, a changed definition replaced in place) and
//! triggers (by table and name).

use super::text::mentions;
use super::{words, Change, Findings, Phases, Sides};
use crate::model::Schema;
use std::collections::{BTreeSet, HashMap};

/// Functions dropped, replaced and created.
pub(super) fn functions(from: &Schema, to: &Schema, p: &mut Phases) {
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
}

/// Triggers: changed ones are dropped and created again, and so are unchanged ones on
/// a view dropped (`dropped_views`: it takes them along) or naming a column that
/// changes or goes (PostgreSQL refuses to change it under a trigger).
pub(super) fn triggers(
    sides: &Sides<'_>,
    p: &mut Phases,
    found: &Findings,
    dropped_views: &BTreeSet<&str>,
) {
    let (from, to, pairs) = (sides.from, sides.to, &sides.pairs);
    let mut changing: HashMap<&str, Vec<&str>> = HashMap::new();
    for tp in pairs {
        let cols = changing.entry(tp.from.name.as_str()).or_default();
        for &(old, new) in &tp.columns.pairs {
            if found
                .altered
                .contains(&(tp.to.name.clone(), new.to_string()))
            {
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
                dropped_views.contains(tr.table.as_str())
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
}
