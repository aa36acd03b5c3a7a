//! Ports of Alembic's `tests/test_version_table.py`, the parts about which rows of the
//! version table are inserted, deleted or updated (`UpdateRevTest`, and the
//! `HeadMaintainer` parts of `TestMigrationContext`).
//!
//! Alembic drives `HeadMaintainer.update_to_step` with hand-made `StampStep`s
//! (`_up(from, to, branch_move)` / `_down(...)`) against a real table. We have no
//! free-standing stamp steps: the same movements are produced by `stamp_plan` (or a
//! one-step upgrade/downgrade plan) on a map shaped so that Alembic's `_stamp_revs`
//! would build exactly those steps, and we check the changes and the rows after them.
//! The rowcount checks (`*_no_match`, `*_multi_match`) belong to the runtime, which
//! executes the changes; here we check what the plan does with such rows.

mod common;

use common::*;
use migrate_core::{Plan, RevisionError, RevisionMap, VersionChange};
use std::collections::BTreeSet;

/// Stamps from `rows` to `target`, checks the changes, returns the rows after.
#[track_caller]
fn stamp(
    m: &RevisionMap,
    rows: &BTreeSet<String>,
    target: &str,
    expected: &[VersionChange],
) -> BTreeSet<String> {
    let cur: Vec<&str> = rows.iter().map(String::as_str).collect();
    let plan: Plan = match m.stamp_plan(&cur, &[target], false) {
        Ok(p) => p,
        Err(e) => panic!("stamp {cur:?} -> {target} failed: {e}"),
    };
    assert_eq!(changes(&plan), expected, "stamp {cur:?} -> {target}");
    replay(&cur, &plan)
}

fn empty() -> BTreeSet<String> {
    BTreeSet::new()
}

// ---- UpdateRevTest ----------------------------------------------------------------------

#[test]
fn update_rev_test_update_none_to_single() {
    let m = map(&[("a", "")]);
    let rows = stamp(&m, &empty(), "a", &[ins("a")]);
    assert_eq!(rows, set(&["a"]));
}

#[test]
fn update_rev_test_update_single_to_single() {
    let m = map(&[("a", ""), ("b", "a")]);
    let rows = stamp(&m, &empty(), "a", &[ins("a")]);
    let rows = stamp(&m, &rows, "b", &[upd("a", "b")]);
    assert_eq!(rows, set(&["b"]));
}

#[test]
fn update_rev_test_update_single_to_none() {
    let m = map(&[("a", "")]);
    let rows = stamp(&m, &empty(), "a", &[ins("a")]);
    let rows = stamp(&m, &rows, "base", &[del("a")]);
    assert_eq!(rows, empty());
}

#[test]
fn update_rev_test_add_branches() {
    let m = map(&[
        ("a", ""),
        ("b", "a"),
        ("c", ""),
        ("d", "c"),
        ("e1", "d"),
        ("e2", "d"),
    ]);
    let rows = stamp(&m, &empty(), "a", &[ins("a")]);
    let rows = stamp(&m, &rows, "b", &[upd("a", "b")]);
    // c is on no current branch: a new row
    let rows = stamp(&m, &rows, "c", &[ins("c")]);
    assert_eq!(rows, set(&["b", "c"]));
    let rows = stamp(&m, &rows, "d", &[upd("c", "d")]);
    let rows = stamp(&m, &rows, "e1", &[upd("d", "e1")]);
    // e2 is a sibling of the current e1: a new row
    let rows = stamp(&m, &rows, "e2", &[ins("e2")]);
    assert_eq!(rows, set(&["b", "e1", "e2"]));
}

/// Alembic steps `_down("d1", "c")` then `_down("d2", "c", True)`: the first leaves the
/// rows `c, d2` with c below d2, a state no plan over a real map produces. Stamping
/// both heads down to their branch point does it in one step (DELETE d1, UPDATE d2 to
/// c), as Alembic's `_stamp_revs` would; the rows end the same.
#[test]
fn update_rev_test_teardown_branches() {
    let m = map(&[("a", ""), ("b", "a"), ("c", "b"), ("d1", "c"), ("d2", "c")]);
    let rows = stamp(&m, &empty(), "d1", &[ins("d1")]);
    let rows = stamp(&m, &rows, "d2", &[ins("d2")]);
    assert_eq!(rows, set(&["d1", "d2"]));
    let rows = stamp(&m, &rows, "c", &[del("d1"), upd("d2", "c")]);
    assert_eq!(rows, set(&["c"]));
    let rows = stamp(&m, &rows, "b", &[upd("c", "b")]);
    assert_eq!(rows, set(&["b"]));
}

#[test]
fn update_rev_test_resolve_merges() {
    let m = map(&[
        ("a", ""),
        ("b", "a"),
        ("c1", "b"),
        ("c2", "b"),
        ("d1", "c1"),
        ("d2", "c2"),
        ("e", "d1,d2"),
    ]);
    let rows = stamp(&m, &empty(), "a", &[ins("a")]);
    let rows = stamp(&m, &rows, "b", &[upd("a", "b")]);
    let rows = stamp(&m, &rows, "c1", &[upd("b", "c1")]);
    let rows = stamp(&m, &rows, "c2", &[ins("c2")]);
    let rows = stamp(&m, &rows, "d1", &[upd("c1", "d1")]);
    let rows = stamp(&m, &rows, "d2", &[upd("c2", "d2")]);
    assert_eq!(rows, set(&["d1", "d2"]));
    let rows = stamp(&m, &rows, "e", &[del("d1"), upd("d2", "e")]);
    assert_eq!(rows, set(&["e"]));
}

/// `_down("e", ("d1", "d2"))` is the downgrade step of the merge point e; then
/// `_down("d2", "c2")`.
#[test]
fn update_rev_test_unresolve_merges() {
    let m = map(&[
        ("a", ""),
        ("b", "a"),
        ("c1", "b"),
        ("c2", "b"),
        ("d1", "c1"),
        ("d2", "c2"),
        ("e", "d1,d2"),
    ]);
    let rows = stamp(&m, &empty(), "e", &[ins("e")]);
    let cur: Vec<&str> = rows.iter().map(String::as_str).collect();
    let plan = m.downgrade_plan(&cur, "d1").unwrap();
    assert_eq!(plan.revisions(), ["e"]);
    // which of d1/d2 is inserted and which updated to follows Python set order in
    // Alembic; ours is declaration order
    assert_eq!(changes(&plan), [ins("d1"), upd("e", "d2")]);
    let rows = replay(&cur, &plan);
    assert_eq!(rows, set(&["d2", "d1"]));

    let rows = step_down(&m, &rows, "d2", "c2");
    assert_eq!(rows, set(&["c2", "d1"]));
}

/// Alembic's table holds `a` while its `HeadMaintainer` believes it holds `x` too;
/// updating x then matches no row. A row the map does not know is refused before
/// anything runs.
#[test]
fn update_rev_test_update_no_match() {
    let m = map(&[("a", ""), ("b", "a")]);
    assert_eq!(
        m.stamp_plan(&["a", "x"], &["b"], false),
        Err(RevisionError::UnknownCurrent("x".into()))
    );
    assert_eq!(
        m.upgrade_plan(&["x"], "b"),
        Err(RevisionError::UnknownCurrent("x".into()))
    );
}

/// Without a sane rowcount Alembic carries on silently; we refuse the unknown row
/// whatever the driver, since planning happens before any SQL.
#[test]
fn update_rev_test_update_no_match_no_sane_rowcount() {
    let m = map(&[("a", ""), ("b", "a")]);
    assert_eq!(
        m.downgrade_plan(&["a", "x"], "base"),
        Err(RevisionError::UnknownCurrent("x".into()))
    );
}

/// Two rows `a` (no primary key): the plan treats them as one head and moves it with
/// one UPDATE; the runtime's rowcount check ("expected to match one row ... 2 found")
/// is what catches the duplicate, as in Alembic.
#[test]
fn update_rev_test_update_multi_match() {
    let m = map(&[("a", ""), ("b", "a")]);
    let plan = m.stamp_plan(&["a", "a"], &["b"], false).unwrap();
    assert_eq!(changes(&plan), [upd("a", "b")]);
    assert_eq!(plan.heads_after, ["b"]);
    let plan = m.upgrade_plan(&["a", "a"], "b").unwrap();
    assert_eq!(changes(&plan), [upd("a", "b")]);
    assert_eq!(plan.heads_after, ["b"]);
}

/// Alembic's `test_err_correctly_raised_on_dupe_rows_no_pk` shape: `downgrade -1` from
/// duplicate rows is not "several heads" (Alembic compares distinct rows too).
#[test]
fn update_rev_test_update_multi_match_no_sane_rowcount() {
    let m = map(&[("a", ""), ("b", "a")]);
    let plan = m.downgrade_plan(&["b", "b"], "-1").unwrap();
    assert_eq!(plan.revisions(), ["b"]);
    assert_eq!(changes(&plan), [upd("b", "a")]);
}

/// `_down("x", None, True)` with no row x: refused as unknown.
#[test]
fn update_rev_test_delete_no_match() {
    let m = map(&[("a", "")]);
    assert_eq!(
        m.stamp_plan(&["a", "x"], &["base"], false),
        Err(RevisionError::UnknownCurrent("x".into()))
    );
}

/// A purge (`stamp --purge`) deletes every row, known or not: that is how a table with
/// stray rows is repaired.
#[test]
fn update_rev_test_delete_no_matchno_sane_rowcount() {
    let m = map(&[("a", "")]);
    let plan = m.stamp_plan(&["a", "x"], &["base"], true).unwrap();
    assert_eq!(changes(&plan), [del("a"), del("x")]);
    assert!(plan.heads_after.is_empty());
}

/// Deleting a duplicated row: one DELETE (the runtime sees it match two rows).
#[test]
fn update_rev_test_delete_multi_match() {
    let m = map(&[("a", "")]);
    let plan = m.stamp_plan(&["a", "a"], &["base"], false).unwrap();
    assert_eq!(changes(&plan), [del("a")]);
    assert!(plan.heads_after.is_empty());
}

#[test]
fn update_rev_test_delete_multi_match_no_sane_rowcount() {
    let m = map(&[("a", "")]);
    let plan = m.downgrade_plan(&["a", "a"], "base").unwrap();
    assert_eq!(plan.revisions(), ["a"]);
    assert_eq!(changes(&plan), [del("a")]);
    assert!(plan.heads_after.is_empty());
}

// ---- TestMigrationContext (HeadMaintainer parts) ------------------------------------------------

/// Two unrelated roots inserted one after the other: two rows.
#[test]
fn test_migration_context_get_heads() {
    let m = map(&[("a", ""), ("b", "")]);
    let rows = stamp(&m, &empty(), "a", &[ins("a")]);
    let rows = stamp(&m, &rows, "b", &[ins("b")]);
    assert_eq!(rows, set(&["a", "b"]));
}

/// Several rows means `head` cannot name one revision for the database.
#[test]
fn test_migration_context_get_current_revision_multiple_heads() {
    let m = map(&[("a", ""), ("b", "")]);
    let plan = m.stamp_plan::<&str>(&[], &["heads"], false).unwrap();
    assert_eq!(plan.heads_after, ["a", "b"]);
    assert!(matches!(
        m.resolve_one("head"),
        Err(RevisionError::MultipleHeads { .. })
    ));
}

/// `context.stamp(script, "b")` with `_stamp_revs` giving two branch inserts.
#[test]
fn test_migration_context_stamp_api_creates_table() {
    let m = map(&[("a", ""), ("b", "")]);
    let plan = m.stamp_plan::<&str>(&[], &["a", "b"], false).unwrap();
    assert_eq!(changes(&plan), [ins("a"), ins("b")]);
    assert!(plan.steps.iter().all(|s| !s.is_migration()));
    assert_eq!(plan.heads_after, ["a", "b"]);
}

// ---- HeadMaintainer with revision steps (runtime/migration.py) ----------------------------------------

/// `should_create_branch`: an upgrade of a root inserts.
#[test]
fn head_maintainer_create_branch_for_root() {
    let m = map(&[("a", ""), ("b", "")]);
    let plan = assert_upgrade(&m, "b", &["a"], &["b"], &["a", "b"]);
    assert_eq!(changes(&plan), [ins("b")]);
}

/// `should_create_branch`: none of the down revisions is a row, so the upgrade of a
/// merge point's first missing parent creates a row.
#[test]
fn head_maintainer_create_branch_when_no_downrev_present() {
    let m = map(&[("a", ""), ("b1", "a"), ("b2", "a"), ("c", "b1,b2")]);
    let plan = assert_upgrade(&m, "c", &["b1"], &["b2", "c"], &["c"]);
    assert_eq!(changes(&plan), [ins("b2"), del("b1"), upd("b2", "c")]);
}

/// `should_delete_branch`: the downgrade of a root deletes.
#[test]
fn head_maintainer_delete_branch_for_root() {
    let m = map(&[("a", ""), ("b", "")]);
    let plan = assert_downgrade(&m, "base", &["a", "b"], &["a", "b"], &[]);
    assert_eq!(changes(&plan), [del("a"), del("b")]);
}

/// `should_unmerge_branches` with another head that already implies one parent.
#[test]
fn head_maintainer_unmerge_with_other_head_implying_parent() {
    // c merges b1 and b2; d2 sits on b2 as well
    let m = map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("c", "b1,b2"),
        ("d2", "b2"),
    ]);
    let plan = assert_downgrade(&m, "b1", &["c", "d2"], &["c"], &["b1", "d2"]);
    assert_eq!(changes(&plan), [upd("c", "b1")]);
}

/// A merge point with only one parent among the rows (the other is under another
/// head): not a merge, `update_version_num` moves that one row.
#[test]
fn head_maintainer_merge_with_parent_under_other_head() {
    let m = map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("c", "b1,b2"),
        ("d2", "b2"),
    ]);
    let plan = assert_upgrade(&m, "c", &["b1", "d2"], &["c"], &["c", "d2"]);
    assert_eq!(changes(&plan), [upd("b1", "c")]);
}

// `revert_plan`: the one step a stairway test takes back down, whatever else is applied.

#[test]
fn revert_one_head_leaves_the_other_branches() {
    // a -> b1, a -> b2: reverting b2 keeps b1, and a is covered by b1.
    let m = map(&[("a", ""), ("b1", "a"), ("b2", "a")]);
    let plan = m.revert_plan(&["b1", "b2"], "b2").expect("plan");
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].revision.as_deref(), Some("b2"));
    assert_eq!(plan.steps[0].changes, [VersionChange::Delete("b2".into())]);
    assert_eq!(plan.heads_after, ["b1"]);
    // Linear: the row moves to the parent.
    let plan = m.revert_plan(&["b1"], "b1").expect("plan");
    assert_eq!(
        plan.steps[0].changes,
        [VersionChange::Update {
            from: "b1".into(),
            to: "a".into()
        }]
    );
    // A root: the row goes.
    let plan = m.revert_plan(&["a"], "a").expect("plan");
    assert_eq!(plan.steps[0].changes, [VersionChange::Delete("a".into())]);
    assert!(plan.heads_after.is_empty());
}

#[test]
fn revert_a_merge_restores_both_parents() {
    let m = map(&[("a", ""), ("b1", "a"), ("b2", "a"), ("c", "b1,b2")]);
    let plan = m.revert_plan(&["c"], "c").expect("plan");
    assert_eq!(
        plan.steps[0].changes,
        [
            VersionChange::Delete("c".into()),
            VersionChange::Insert("b1".into()),
            VersionChange::Insert("b2".into())
        ]
    );
    assert!(matches!(
        m.revert_plan(&["c"], "b1"),
        Err(RevisionError::NothingToDrop { .. })
    ));
}

#[test]
fn revert_a_dependent_root_restores_its_dependency() {
    // r1 starts a branch of its own but depends on a: applying it replaced a's row.
    let m = specs(vec![rev("a", ""), rev("b", "a"), {
        let mut r = rev("r1", "");
        r.depends_on = vec!["a".into()];
        r
    }]);
    let plan = m.revert_plan(&["r1"], "r1").expect("plan");
    assert_eq!(
        plan.steps[0].changes,
        [VersionChange::Update {
            from: "r1".into(),
            to: "a".into()
        }]
    );
    assert_eq!(plan.heads_after, ["a"]);
}
