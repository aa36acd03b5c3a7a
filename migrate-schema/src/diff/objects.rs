//! Objects kept as their catalog prints them ([`Object`]): by kind and name, a changed
//! definition dropped and created again.
//!
//! Within a stage, objects are created in the order of their kinds in [`KIND_ORDER`]
//! (a schema before the extension installed in it, an extension before the operator
//! classes it brings, a function-backed operator before the class that uses it, a
//! table's row-level security before its policies, comments last), and among objects
//! of one kind, one whose definition names another after it (a materialized view over
//! another); drops run in the reverse order.

use super::text::{mentions, words};
use super::{Change, Phases};
use crate::model::{Object, Schema, Stage};
use std::collections::BTreeSet;

/// The order kinds are created in, within a stage. A kind not listed comes after
/// those listed, before comments.
const KIND_ORDER: &[&str] = &[
    "schema",
    "extension",
    "language",
    "foreign data wrapper",
    "server",
    "collation",
    "shell type",
    "base type",
    "type",
    "domain",
    "access method",
    "text search template",
    "text search parser",
    "text search dictionary",
    "text search configuration",
    "conversion",
    "operator",
    "operator family",
    "operator class",
    "cast",
    "aggregate",
    "window function",
    "transform",
    "foreign table",
    "exclusion constraint",
    "inheritance",
    "unlogged table",
    "storage parameters",
    "replica identity",
    "materialized view",
    "statistics",
    "row level security",
    "policy",
    "rule",
    "event trigger",
    "publication",
    "subscription",
];

/// Where a kind comes in [`KIND_ORDER`]: unlisted kinds after the listed ones, comments
/// (which need the object they are on) last.
fn rank(kind: &str) -> usize {
    match kind {
        "comment" => KIND_ORDER.len() + 1,
        _ => KIND_ORDER
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(KIND_ORDER.len()),
    }
}

/// Objects dropped, re-created and created, each in its stage's phases, in dependency
/// order. `dropped_views` are the views the diff drops (and re-creates when `to` has
/// them): an unchanged comment on one is written again after it, as dropping a view
/// takes its comments along.
pub(super) fn compare(from: &Schema, to: &Schema, p: &mut Phases, dropped_views: &BTreeSet<&str>) {
    added(from, to, p);
    for (key, o) in &from.objects {
        let on_recreated_view = o.kind == "comment"
            && o.table
                .as_deref()
                .is_some_and(|v| dropped_views.contains(v) && to.views.contains_key(v));
        if on_recreated_view && to.objects.get(key) == Some(o) {
            p.drop_late_objects.push(Change::DropObject(o.clone()));
            p.create_late_objects.push(Change::CreateObject(o.clone()));
        }
    }
    for phase in [
        &mut p.create_early_objects,
        &mut p.create_function_objects,
        &mut p.create_late_objects,
        &mut p.drop_early_objects,
        &mut p.drop_function_objects,
        &mut p.drop_late_objects,
    ] {
        ordered(phase);
    }
}

/// Drops first, dependents before what they use, then creates, in the reverse order.
fn ordered(phase: &mut Vec<Change>) {
    let (mut drops, mut creates, mut others) = (Vec::new(), Vec::new(), Vec::new());
    for c in phase.drain(..) {
        match c {
            Change::CreateObject(o) => creates.push(o),
            Change::DropObject(o) => drops.push(o),
            // Only objects go in these phases; anything else keeps its place first.
            other => others.push(other),
        }
    }
    phase.append(&mut others);
    let mut drops = dependencies_first(drops);
    drops.reverse();
    phase.extend(drops.into_iter().map(Change::DropObject));
    phase.extend(
        dependencies_first(creates)
            .into_iter()
            .map(Change::CreateObject),
    );
}

/// Objects by kind rank, and within one kind, each after those of its kind its
/// definition names (the rest keeping their order).
fn dependencies_first(mut objects: Vec<Object>) -> Vec<Object> {
    objects.sort_by_key(|o| rank(&o.kind));
    let mut out: Vec<Object> = Vec::with_capacity(objects.len());
    let mut rest = objects;
    while !rest.is_empty() {
        let kind_rank = rank(&rest[0].kind);
        let end = rest
            .iter()
            .position(|o| rank(&o.kind) != kind_rank)
            .unwrap_or(rest.len());
        let group: Vec<Object> = rest.drain(..end).collect();
        out.extend(within_kind(group));
    }
    out
}

/// One kind's objects, an object after those whose name its definition mentions.
fn within_kind(group: Vec<Object>) -> Vec<Object> {
    let named: Vec<_> = group.iter().map(|o| words(&o.definition)).collect();
    let mut placed = vec![false; group.len()];
    let mut order = Vec::with_capacity(group.len());
    fn visit(
        i: usize,
        group: &[Object],
        named: &[std::collections::HashSet<String>],
        placed: &mut [bool],
        order: &mut Vec<usize>,
    ) {
        if placed[i] {
            return;
        }
        placed[i] = true;
        for (j, other) in group.iter().enumerate() {
            if j != i && mentions(&named[i], &other.name) {
                visit(j, group, named, placed, order);
            }
        }
        order.push(i);
    }
    for i in 0..group.len() {
        visit(i, &group, &named, &mut placed, &mut order);
    }
    let mut slots: Vec<Option<Object>> = group.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Each object's change, in its stage's phases (ordered by [`compare`]).
fn added(from: &Schema, to: &Schema, p: &mut Phases) {
    for (key, o) in &from.objects {
        match to.objects.get(key) {
            None => drops(p, o.stage).push(Change::DropObject(o.clone())),
            Some(t) if t.definition != o.definition || t.stage != o.stage => {
                // A changed object is dropped just before it is created again: an early
                // one cannot wait for the end of the tables (its new form is needed by
                // them), and a late one is dropped first anyway.
                match o.stage {
                    Stage::Late => p.drop_late_objects.push(Change::DropObject(o.clone())),
                    _ => creates(p, t.stage).push(Change::DropObject(o.clone())),
                }
                creates(p, t.stage).push(Change::CreateObject(t.clone()));
            }
            Some(_) => {}
        }
    }
    for (key, t) in &to.objects {
        if !from.objects.contains_key(key) {
            creates(p, t.stage).push(Change::CreateObject(t.clone()));
        }
    }
}

fn creates(p: &mut Phases, stage: Stage) -> &mut Vec<Change> {
    match stage {
        Stage::Early => &mut p.create_early_objects,
        Stage::AfterFunctions => &mut p.create_function_objects,
        Stage::Late => &mut p.create_late_objects,
    }
}

fn drops(p: &mut Phases, stage: Stage) -> &mut Vec<Change> {
    match stage {
        Stage::Early => &mut p.drop_early_objects,
        Stage::AfterFunctions => &mut p.drop_function_objects,
        Stage::Late => &mut p.drop_late_objects,
    }
}

#[cfg(test)]
mod tests {
    use crate::diff::{diff, Change};
    use crate::model::{Column, Object, Schema, Stage, Table, View};

    fn object(kind: &str, name: &str, definition: &str, stage: Stage) -> Object {
        Object {
            kind: kind.into(),
            name: name.into(),
            table: None,
            definition: definition.into(),
            create: Some(vec![format!("CREATE {kind} {name} {definition}")]),
            drop: Some(vec![format!("DROP {kind} {name}")]),
            stage,
            modelled: true,
        }
    }

    fn names(changes: &[Change]) -> Vec<String> {
        changes.iter().map(Change::describe).collect()
    }

    #[test]
    fn early_objects_come_before_tables_and_late_ones_after() {
        let mut to = Schema::default();
        to.add_object(object("domain", "year", "integer", Stage::Early));
        to.add_object(object("comment", "on table t", "'x'", Stage::Late));
        to.add_table(Table::new("t").column(Column::new("y", "year")));
        let d = diff(&Schema::default(), &to).unwrap();
        assert_eq!(
            names(&d.changes),
            [
                "create domain year",
                "create table t",
                "create comment on table t"
            ]
        );
        let back = diff(&to, &Schema::default()).unwrap();
        assert_eq!(
            names(&back.changes),
            [
                "drop comment on table t",
                "drop table t",
                "drop domain year"
            ]
        );
    }

    #[test]
    fn a_changed_definition_is_dropped_then_created_in_its_stage() {
        let mut from = Schema::default();
        from.add_object(object("domain", "year", "integer", Stage::Early));
        from.add_table(Table::new("t"));
        let mut to = from.clone();
        to.add_object(object(
            "domain",
            "year",
            "integer CHECK (VALUE > 0)",
            Stage::Early,
        ));
        to.add_table(Table::new("t").column(Column::new("y", "year")));
        let d = diff(&from, &to).unwrap();
        assert_eq!(
            names(&d.changes),
            [
                "drop domain year",
                "create domain year",
                "add column t.y year"
            ]
        );
        assert_eq!(d.differences().len(), 3, "a changed object is a difference");
        assert!(diff(&to, &to).unwrap().is_empty());
    }

    #[test]
    fn kinds_follow_their_dependencies_within_a_stage() {
        let mut to = Schema::default();
        to.add_object(object(
            "extension",
            "btree_gist",
            "schema ext",
            Stage::Early,
        ));
        to.add_object(object("schema", "ext", "", Stage::Early));
        to.add_object(object(
            "comment",
            "on materialized view a_top",
            "'x'",
            Stage::Late,
        ));
        to.add_object(object("policy", "p on t", "USING (true)", Stage::Late));
        to.add_object(object("row level security", "t", "enabled", Stage::Late));
        // Alphabetically first, but it reads the other one.
        to.add_object(object(
            "materialized view",
            "a_top",
            "SELECT * FROM z_base",
            Stage::Late,
        ));
        to.add_object(object(
            "materialized view",
            "z_base",
            "SELECT 1",
            Stage::Late,
        ));
        let d = diff(&Schema::default(), &to).unwrap();
        assert_eq!(
            names(&d.changes),
            [
                "create schema ext",
                "create extension btree_gist",
                "create materialized view z_base",
                "create materialized view a_top",
                "create row level security t",
                "create policy p on t",
                "create comment on materialized view a_top",
            ]
        );
        let back = diff(&to, &Schema::default()).unwrap();
        let mut reversed = names(&d.changes);
        reversed.reverse();
        let dropped: Vec<String> = names(&back.changes)
            .into_iter()
            .map(|n| n.replacen("drop", "create", 1))
            .collect();
        assert_eq!(dropped, reversed, "drops run in the reverse order");
    }

    #[test]
    fn changed_objects_are_dropped_dependents_first_then_created() {
        let mut from = Schema::default();
        from.add_object(object(
            "materialized view",
            "a_top",
            "SELECT * FROM z_base",
            Stage::Late,
        ));
        from.add_object(object(
            "materialized view",
            "z_base",
            "SELECT 1",
            Stage::Late,
        ));
        let mut to = from.clone();
        to.add_object(object(
            "materialized view",
            "z_base",
            "SELECT 2",
            Stage::Late,
        ));
        to.add_object(object(
            "materialized view",
            "a_top",
            "SELECT *, 1 FROM z_base",
            Stage::Late,
        ));
        let d = diff(&from, &to).unwrap();
        assert_eq!(
            names(&d.changes),
            [
                "drop materialized view a_top",
                "drop materialized view z_base",
                "create materialized view z_base",
                "create materialized view a_top",
            ]
        );
    }

    #[test]
    fn a_comment_on_a_re_created_view_is_written_again() {
        let mut from = Schema::default();
        from.add_table(Table::new("t").column(Column::new("c", "integer")));
        from.views.insert(
            "v".into(),
            View {
                name: "v".into(),
                definition: "SELECT t.c FROM t".into(),
            },
        );
        let mut comment = object("comment", "on view v", "'kept'", Stage::Late);
        comment.table = Some("v".into());
        from.add_object(comment);
        let mut to = from.clone();
        to.add_table(Table::new("t").column(Column::new("c", "bigint")));
        let d = diff(&from, &to).unwrap();
        let all = names(&d.changes);
        let at = |s: &str| {
            all.iter()
                .position(|n| n == s)
                .unwrap_or_else(|| panic!("{s}: {all:?}"))
        };
        assert!(at("drop comment on view v") < at("drop view v"), "{all:?}");
        assert!(
            at("create view v") < at("create comment on view v"),
            "{all:?}"
        );
        let differences: Vec<String> = d.differences().into_iter().map(Change::describe).collect();
        assert_eq!(differences, ["alter column t.c: type integer -> bigint"]);
    }
}
