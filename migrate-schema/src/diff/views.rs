//! Views: changed or removed ones dropped, and those that may read a table whose
//! columns change (or a view dropped here), so the database accepts the change; then
//! created again, a view after the views it reads.

use super::text::mentions;
use super::{words, Change, Findings, Phases, Sides};
use crate::model::View;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The views dropped and created; returns the names of the dropped ones.
pub(super) fn compare<'a>(
    sides: &Sides<'a>,
    p: &mut Phases,
    found: &Findings,
) -> BTreeSet<&'a str> {
    let (from, to, pairs, tables) = (sides.from, sides.to, &sides.pairs, &sides.tables);
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
        .filter(|tp| found.reshaped.contains(&tp.to.name))
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

    drop_views
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
