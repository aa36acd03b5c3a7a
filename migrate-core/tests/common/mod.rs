//! Fixture builders and assertions shared by the Alembic ports
//! (`alembic_revision.rs`, `alembic_traversal.rs`, `alembic_version_table.rs`).
//!
//! The helpers mirror the ones of Alembic's own test suite: `assert_iteration` is
//! `DownIterateTest._assert_iteration`, `assert_upgrade` / `assert_downgrade` are
//! `MigrationTest._assert_upgrade` / `_assert_downgrade`.

#![allow(dead_code)]

use migrate_core::{
    GraphError, IterateOptions, Plan, RevisionError, RevisionMap, RevisionSpec, VersionChange,
};
use std::collections::BTreeSet;

/// A map from `(id, down_revisions)` pairs; `down_revisions` is comma-separated.
pub fn map(revs: &[(&str, &str)]) -> RevisionMap {
    specs(
        revs.iter()
            .map(|(id, down)| RevisionSpec::new(id, down))
            .collect(),
    )
}

/// A map from full specs (for `depends_on` and branch labels).
pub fn specs(specs: Vec<RevisionSpec>) -> RevisionMap {
    match RevisionMap::new(specs) {
        Ok(m) => m,
        Err(e) => panic!("fixture map is invalid: {e}"),
    }
}

/// Shorthand for [`RevisionSpec::new`].
pub fn rev(id: &str, down: &str) -> RevisionSpec {
    RevisionSpec::new(id, down)
}

/// The graph errors a set of specs is refused with.
pub fn graph_errors(specs: Vec<RevisionSpec>) -> Vec<GraphError> {
    match RevisionMap::new(specs) {
        Ok(_) => panic!("expected the map to be refused"),
        Err(e) => e.0,
    }
}

/// A set of ids, for comparing unordered results (Alembic compares sets there).
pub fn set<S: AsRef<str>>(ids: &[S]) -> BTreeSet<String> {
    ids.iter().map(|s| s.as_ref().to_string()).collect()
}

/// Options of `_assert_iteration`; Alembic's helper defaults to `inclusive=True`.
#[derive(Clone, Copy)]
pub struct It {
    pub inclusive: bool,
    pub implicit_base: bool,
    pub select_for_downgrade: bool,
}

/// `_assert_iteration`'s defaults.
pub const IT: It = It {
    inclusive: true,
    implicit_base: false,
    select_for_downgrade: false,
};

impl It {
    pub fn exclusive(self) -> It {
        It {
            inclusive: false,
            ..self
        }
    }
    pub fn implicit_base(self) -> It {
        It {
            implicit_base: true,
            ..self
        }
    }
    pub fn downgrade(self) -> It {
        It {
            select_for_downgrade: true,
            ..self
        }
    }
}

/// `iterate_revisions` with the options of `_assert_iteration`.
pub fn iterate<'m>(
    map: &'m RevisionMap,
    upper: &[&str],
    lower: &[&str],
    it: It,
) -> Result<Vec<&'m str>, RevisionError> {
    map.iterate_revisions(
        upper,
        lower,
        IterateOptions {
            inclusive: it.inclusive,
            implicit_base: it.implicit_base,
            select_for_downgrade: it.select_for_downgrade,
            assert_relative_length: true,
        },
    )
}

/// Asserts that `order` (newest first) puts every revision before its normalized down
/// revisions, as `_assert_iteration` does with `conforms_partial_ordering`.
pub fn assert_partial_order(map: &RevisionMap, order: &[&str]) {
    let pos = |id: &str| order.iter().position(|o| *o == id);
    for (i, id) in order.iter().enumerate() {
        let Some(r) = map.get(id) else {
            panic!("{id} is not in the map");
        };
        for down in r.normalized_down_revisions() {
            if let Some(j) = pos(down) {
                assert!(
                    j > i,
                    "{down} must come after {id} in the newest-first order {order:?}"
                );
            }
        }
        assert_eq!(pos(id), Some(i), "{id} listed twice in {order:?}");
    }
}

/// `_assert_iteration`: exact order plus the partial-ordering check.
#[track_caller]
pub fn assert_iteration(
    map: &RevisionMap,
    upper: &[&str],
    lower: &[&str],
    expected: &[&str],
    it: It,
) {
    let got = match iterate(map, upper, lower, it) {
        Ok(v) => v,
        Err(e) => panic!("iterate_revisions({upper:?}, {lower:?}) failed: {e}"),
    };
    assert_partial_order(map, &got);
    assert_eq!(got, expected, "iterate_revisions({upper:?}, {lower:?})");
}

/// The error `iterate_revisions` fails with.
#[track_caller]
pub fn iterate_err(map: &RevisionMap, upper: &[&str], lower: &[&str], it: It) -> RevisionError {
    match iterate(map, upper, lower, it) {
        Ok(v) => panic!("expected iterate_revisions({upper:?}, {lower:?}) to fail, got {v:?}"),
        Err(e) => e,
    }
}

/// Replays the version-table changes of `plan` on `source`, with the checks
/// `HeadMaintainer` makes (an inserted row is new, an updated or deleted row
/// exists), and returns the rows afterwards. Also checks `heads_after`.
#[track_caller]
pub fn replay(source: &[&str], plan: &Plan) -> BTreeSet<String> {
    let mut rows = set(source);
    for step in &plan.steps {
        for change in &step.changes {
            match change {
                VersionChange::Insert(v) => {
                    assert!(
                        rows.insert(v.clone()),
                        "insert of existing row {v} in {plan:?}"
                    )
                }
                VersionChange::Delete(v) => {
                    assert!(rows.remove(v), "delete of missing row {v} in {plan:?}")
                }
                VersionChange::Update { from, to } => {
                    assert!(
                        !rows.contains(to),
                        "update to existing row {to} in {plan:?}"
                    );
                    assert!(
                        rows.remove(from),
                        "update of missing row {from} in {plan:?}"
                    );
                    rows.insert(to.clone());
                }
            }
        }
    }
    assert_eq!(
        rows,
        set(&plan.heads_after),
        "heads_after disagrees with the changes"
    );
    rows
}

/// `_assert_upgrade(destination, source, expected, expected_heads)`.
#[track_caller]
pub fn assert_upgrade(
    map: &RevisionMap,
    destination: &str,
    source: &[&str],
    expected: &[&str],
    expected_heads: &[&str],
) -> Plan {
    let plan = match map.upgrade_plan(source, destination) {
        Ok(p) => p,
        Err(e) => panic!("upgrade {source:?} -> {destination} failed: {e}"),
    };
    assert_eq!(
        plan.revisions(),
        expected,
        "upgrade {source:?} -> {destination}"
    );
    assert_eq!(
        replay(source, &plan),
        set(expected_heads),
        "heads after upgrade {source:?} -> {destination}"
    );
    plan
}

/// `_assert_downgrade(destination, source, expected, expected_heads)`.
#[track_caller]
pub fn assert_downgrade(
    map: &RevisionMap,
    destination: &str,
    source: &[&str],
    expected: &[&str],
    expected_heads: &[&str],
) -> Plan {
    let plan = match map.downgrade_plan(source, destination) {
        Ok(p) => p,
        Err(e) => panic!("downgrade {source:?} -> {destination} failed: {e}"),
    };
    assert_eq!(
        plan.revisions(),
        expected,
        "downgrade {source:?} -> {destination}"
    );
    assert_eq!(
        replay(source, &plan),
        set(expected_heads),
        "heads after downgrade {source:?} -> {destination}"
    );
    plan
}

/// The error an upgrade fails with.
#[track_caller]
pub fn upgrade_err(map: &RevisionMap, destination: &str, source: &[&str]) -> RevisionError {
    match map.upgrade_plan(source, destination) {
        Ok(p) => panic!(
            "expected upgrade {source:?} -> {destination} to fail, got {:?}",
            p.revisions()
        ),
        Err(e) => e,
    }
}

/// The error a downgrade fails with.
#[track_caller]
pub fn downgrade_err(map: &RevisionMap, destination: &str, source: &[&str]) -> RevisionError {
    match map.downgrade_plan(source, destination) {
        Ok(p) => panic!(
            "expected downgrade {source:?} -> {destination} to fail, got {:?}",
            p.revisions()
        ),
        Err(e) => e,
    }
}

/// One `HeadMaintainer.update_to_step(up_(rev))` from `heads`: an upgrade plan to
/// `rev` that must consist of exactly that step. Returns the rows afterwards.
#[track_caller]
pub fn step_up(map: &RevisionMap, heads: &BTreeSet<String>, rev: &str) -> BTreeSet<String> {
    let cur: Vec<&str> = heads.iter().map(String::as_str).collect();
    let plan = assert_one_step(map.upgrade_plan(&cur, rev), rev);
    replay(&cur, &plan)
}

/// One `update_to_step(down_(rev))` from `heads`: a downgrade to the revision's parent
/// that must consist of exactly that step.
#[track_caller]
pub fn step_down(
    map: &RevisionMap,
    heads: &BTreeSet<String>,
    rev: &str,
    target: &str,
) -> BTreeSet<String> {
    let cur: Vec<&str> = heads.iter().map(String::as_str).collect();
    let plan = assert_one_step(map.downgrade_plan(&cur, target), rev);
    replay(&cur, &plan)
}

#[track_caller]
fn assert_one_step(plan: Result<Plan, RevisionError>, rev: &str) -> Plan {
    let plan = match plan {
        Ok(p) => p,
        Err(e) => panic!("step {rev} failed: {e}"),
    };
    assert_eq!(plan.revisions(), [rev], "expected exactly the step {rev}");
    plan
}

/// The version-table changes of every step of a plan, flattened.
pub fn changes(plan: &Plan) -> Vec<VersionChange> {
    plan.steps
        .iter()
        .flat_map(|s| s.changes.iter().cloned())
        .collect()
}

pub fn ins(v: &str) -> VersionChange {
    VersionChange::Insert(v.to_string())
}

pub fn del(v: &str) -> VersionChange {
    VersionChange::Delete(v.to_string())
}

pub fn upd(from: &str, to: &str) -> VersionChange {
    VersionChange::Update {
        from: from.to_string(),
        to: to.to_string(),
    }
}
pub mod large_map;
