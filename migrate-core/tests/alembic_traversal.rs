//! Ports of Alembic's `tests/test_version_traversal.py`: upgrade and downgrade plans
//! (`_upgrade_revs` / `_downgrade_revs` + `HeadMaintainer`) and stamps (`_stamp_revs`).
//!
//! `assert_upgrade(map, destination, source, expected, expected_heads)` is Alembic's
//! `_assert_upgrade`: the exact order of revisions, then the rows the version table
//! holds after replaying every step's changes (checked against `heads_after`).
//!
//! Alembic generates most of these revisions with random ids; we use readable ids and
//! insert revisions in the order the Alembic test generates them.

mod common;

use common::*;
use migrate_core::{RevisionError, RevisionMap, VersionChange};

// ---- RevisionPathTest --------------------------------------------------------------------
// a -> b -> c -> d -> e, with Alembic's own ids (prefixes are used below).

const A: &str = "e6239818bb3a";
const B: &str = "548bbb905360";
const C: &str = "b7ea43dc85e4";
const D: &str = "1bbe33445780";
const E: &str = "3975fb1a0125";

fn path() -> RevisionMap {
    map(&[(A, ""), (B, A), (C, B), (D, C), (E, D)])
}

#[test]
fn revision_path_test_downgrade_base_no_version() {
    assert_downgrade(&path(), "base", &[], &[], &[]);
}

/// Issue #838: downgrade to a revision that is current but not a head.
#[test]
fn revision_path_test_downgrade_to_existing() {
    assert_downgrade(&path(), A, &[A], &[], &[A]);
}

/// Issue #839: downgrade to a revision that is current and a head.
#[test]
fn revision_path_test_downgrade_to_existing_head() {
    assert_downgrade(&path(), E, &[E], &[], &[E]);
}

#[test]
fn revision_path_test_upgrade_path() {
    let m = path();
    assert_upgrade(&m, E, &[C], &[D, E], &[E]);
    assert_upgrade(&m, C, &[], &[A, B, C], &[C]);
}

#[test]
fn revision_path_test_relative_upgrade_path() {
    let m = path();
    assert_upgrade(&m, "+2", &[A], &[B, C], &[C]);
    assert_upgrade(&m, "+1", &[A], &[B], &[B]);
    assert_upgrade(&m, "+3", &[B], &[C, D, E], &[E]);
    assert_upgrade(&m, &format!("{B}+2"), &[A], &[B, C, D], &[D]);
    assert_upgrade(&m, &format!("{D}-2"), &[A], &[B], &[B]);
}

#[test]
fn revision_path_test_invalid_relative_upgrade_path() {
    let m = path();
    assert_eq!(
        upgrade_err(&m, "-2", &[B]),
        RevisionError::RelativeOutOfRange {
            relative: "-2".into(),
            steps: 2
        }
    );
    assert_eq!(
        upgrade_err(&m, "+5", &[B]),
        RevisionError::RelativeOutOfRange {
            relative: "+5".into(),
            steps: 5
        }
    );
}

#[test]
fn revision_path_test_downgrade_path() {
    let m = path();
    assert_downgrade(&m, C, &[E], &[E, D], &[C]);
    assert_downgrade(&m, "base", &[C], &[C, B, A], &[]);
}

#[test]
fn revision_path_test_relative_downgrade_path() {
    let m = path();
    assert_downgrade(&m, "-1", &[C], &[C], &[B]);
    assert_downgrade(&m, "-3", &[E], &[E, D, C], &[B]);
    assert_downgrade(&m, &format!("{A}+2"), &[D], &[D], &[C]);
    assert_downgrade(&m, &format!("{C}-2"), &[D], &[D, C, B], &[A]);
}

#[test]
fn revision_path_test_invalid_relative_downgrade_path() {
    let m = path();
    assert_eq!(
        downgrade_err(&m, "-5", &[B]),
        RevisionError::RelativeOutOfRange {
            relative: "-5".into(),
            steps: 5
        }
    );
    assert_eq!(
        downgrade_err(&m, "+2", &[B]),
        RevisionError::RelativeOutOfRange {
            relative: "+2".into(),
            steps: 2
        }
    );
}

#[test]
fn revision_path_test_invalid_move_rev_to_none() {
    let err = downgrade_err(&path(), &B[..3], &[]);
    assert!(
        matches!(&err, RevisionError::NothingToDrop { target, current } if target == &B[..3] && current.is_empty()),
        "{err:?}"
    );
}

#[test]
fn revision_path_test_invalid_move_higher_to_lower() {
    let err = downgrade_err(&path(), &C[..4], &[B]);
    assert!(
        matches!(&err, RevisionError::NothingToDrop { target, current } if target == &C[..4] && current == &[B]),
        "{err:?}"
    );
}

#[test]
fn revision_path_test_stamp_to_base() {
    let plan = path().stamp_plan(&[D], &["base"], false).unwrap();
    assert_eq!(plan.steps.len(), 1);
    assert!(!plan.steps[0].is_migration());
    assert_eq!(plan.steps[0].changes, [del(D)]);
    assert!(plan.heads_after.is_empty());
}

// ---- BranchedPathTest -----------------------------------------------------------------------
// a -> b -> c1 (c1branch) -> d1
//        -> c2 (c2branch) -> d2

fn branched() -> RevisionMap {
    specs(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c1", "b").labels("c1branch"),
        rev("d1", "c1"),
        rev("c2", "b").labels("c2branch"),
        rev("d2", "c2"),
    ])
}

#[test]
fn branched_path_test_stamp_down_across_multiple_branch_to_branchpoint() {
    let plan = branched().stamp_plan(&["d1", "c2"], &["b"], false).unwrap();
    assert_eq!(plan.steps.len(), 1);
    // DELETE d1, UPDATE c2 to b
    assert_eq!(plan.steps[0].changes, [del("d1"), upd("c2", "b")]);
    assert_eq!(plan.heads_after, ["b"]);
}

#[test]
fn branched_path_test_stamp_to_labeled_base_multiple_heads() {
    let plan = branched()
        .stamp_plan(&["d1", "c2"], &["c1branch@base"], false)
        .unwrap();
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].changes, [del("d1")]);
    assert_eq!(plan.heads_after, ["c2"]);
}

#[test]
fn branched_path_test_stamp_to_labeled_head_multiple_heads() {
    let plan = branched()
        .stamp_plan(&["d1", "c2"], &["c2branch@head"], false)
        .unwrap();
    assert_eq!(plan.steps.len(), 1);
    // the c1branch remains unchanged
    assert_eq!(plan.steps[0].changes, [upd("c2", "d2")]);
    assert_eq!(set(&plan.heads_after), set(&["d1", "d2"]));
}

#[test]
fn branched_path_test_upgrade_single_branch() {
    assert_upgrade(&branched(), "d1", &["b"], &["c1", "d1"], &["d1"]);
}

/// From a single head to two heads; Alembic passes the destination `(d1, d2)`.
#[test]
fn branched_path_test_upgrade_multiple_branch() {
    let m = branched();
    let plan = m.upgrade_plan_to(&["a"], &["d1", "d2"]).unwrap();
    assert_eq!(plan.revisions(), ["b", "c2", "d2", "c1", "d1"]);
    assert_eq!(replay(&["a"], &plan), set(&["d1", "d2"]));
}

#[test]
fn branched_path_test_downgrade_multiple_branch() {
    assert_downgrade(&branched(), "a", &["d1", "d2"], &["d1", "c1", "d2", "c2", "b"], &["a"]);
}

#[test]
fn branched_path_test_relative_upgrade() {
    assert_upgrade(&branched(), "c2branch@head-1", &["b"], &["c2"], &["c2"]);
}

/// base+2 is b, no branch label: everything above b goes.
#[test]
fn branched_path_test_relative_downgrade_baseplus2() {
    assert_downgrade(&branched(), "base+2", &["d2", "d1"], &["d1", "c1", "d2", "c2"], &["b"]);
}

/// Only c2branch goes down, back to base+2 = b (alembic PR #763).
#[test]
fn branched_path_test_relative_downgrade_branchplus2() {
    assert_downgrade(&branched(), "c2branch@base+2", &["d2", "d1"], &["d2", "c2"], &["d1"]);
}

/// c2branch@base+3 is c2.
#[test]
fn branched_path_test_relative_downgrade_branchplus3() {
    let m = branched();
    assert_downgrade(&m, "c2", &["d2", "d1"], &["d2"], &["d1", "c2"]);
    assert_downgrade(&m, "c2branch@base+3", &["d2", "d1"], &["d2"], &["d1", "c2"]);
}

/// Deliberate difference: Alembic warns "downgrade -1 from multiple heads is ambiguous"
/// and takes down the first current head (here d2, leaving d1 and c2). We refuse.
#[test]
fn branched_path_test_downgrade_once_order_right() {
    let err = downgrade_err(&branched(), "-1", &["d2", "d1"]);
    assert_eq!(
        err,
        RevisionError::AmbiguousDowngrade {
            relative: "-1".into(),
            heads: vec!["d1".into(), "d2".into()]
        }
    );
}

/// Deliberate difference: Alembic warns and downgrades c2 (leaving d1). We refuse.
#[test]
fn branched_path_test_downgrade_once_order_right_unbalanced() {
    let err = downgrade_err(&branched(), "-1", &["c2", "d1"]);
    assert!(matches!(err, RevisionError::AmbiguousDowngrade { .. }), "{err:?}");
}

/// Deliberate difference: Alembic warns and downgrades d1 (leaving d2 and c1). We refuse.
#[test]
fn branched_path_test_downgrade_once_order_left() {
    let err = downgrade_err(&branched(), "-1", &["d1", "d2"]);
    assert!(matches!(err, RevisionError::AmbiguousDowngrade { .. }), "{err:?}");
}

/// Deliberate difference: Alembic warns and downgrades c1 (leaving d2). We refuse; the
/// labelled form below is how to say it.
#[test]
fn branched_path_test_downgrade_once_order_left_unbalanced() {
    let err = downgrade_err(&branched(), "-1", &["c1", "d2"]);
    assert!(matches!(err, RevisionError::AmbiguousDowngrade { .. }), "{err:?}");
    assert_downgrade(&branched(), "c1branch@-1", &["c1", "d2"], &["c1"], &["d2"]);
}

#[test]
fn branched_path_test_downgrade_once_order_left_unbalanced_labelled() {
    assert_downgrade(&branched(), "c1branch@-1", &["d1", "d2"], &["d1"], &["c1", "d2"]);
}

/// Issue #765.
#[test]
fn branched_path_test_downgrade_relative_order_right() {
    assert_downgrade(&branched(), "d2-1", &["d2", "c1"], &["d2"], &["c1", "c2"]);
}

#[test]
fn branched_path_test_downgrade_relative_order_left() {
    assert_downgrade(&branched(), "d2-1", &["c1", "d2"], &["d2"], &["c1", "c2"]);
}

/// A branch label picks the branch to downgrade.
#[test]
fn branched_path_test_downgrade_single_branch_c1branch() {
    assert_downgrade(&branched(), "c1branch@b", &["c1", "d2"], &["c1"], &["d2"]);
}

/// The branch label is not on the head revision.
#[test]
fn branched_path_test_downgrade_single_branch_c1branch_from_d1_head() {
    assert_downgrade(&branched(), "c2branch@b", &["c1", "d2"], &["d2", "c2"], &["c1"]);
}

/// A revision on the branch (not its head) picks the branch.
#[test]
fn branched_path_test_downgrade_single_branch_c2() {
    assert_downgrade(&branched(), "c2@b", &["d1", "d2"], &["d2", "c2"], &["d1"]);
}

/// The head revision picks the branch.
#[test]
fn branched_path_test_downgrade_single_branch_d1() {
    assert_downgrade(&branched(), "d1@b", &["d1", "d2"], &["d1", "c1"], &["d2"]);
}

#[test]
fn branched_path_test_downgrade_relative_to_branch_head() {
    assert_downgrade(&branched(), "c1branch@head-1", &["d1", "d2"], &["d1"], &["c1", "d2"]);
}

/// Advance c2branch by one: one past the branch point here.
#[test]
fn branched_path_test_upgrade_other_branch_from_mergepoint() {
    assert_upgrade(&branched(), "c2branch@+1", &["c1"], &["c2"], &["c1", "c2"]);
}

#[test]
fn branched_path_test_upgrade_one_branch_of_heads() {
    assert_upgrade(&branched(), "c2branch@+1", &["c1", "c2"], &["d2"], &["c1", "d2"]);
}

#[test]
fn branched_path_test_ambiguous_upgrade() {
    let err = upgrade_err(&branched(), "+1", &["c1", "c2"]);
    assert_eq!(
        err,
        RevisionError::AmbiguousUpgrade(vec!["c1".into(), "c2".into()])
    );
}

#[test]
fn branched_path_test_upgrade_from_base() {
    assert_upgrade(&branched(), "base+1", &[], &["a"], &["a"]);
}

#[test]
fn branched_path_test_upgrade_from_base_implicit() {
    assert_upgrade(&branched(), "+1", &[], &["a"], &["a"]);
}

#[test]
fn branched_path_test_downgrade_minus1_to_base() {
    assert_downgrade(&branched(), "-1", &["a"], &["a"], &[]);
}

#[test]
fn branched_path_test_downgrade_minus1_from_base() {
    assert_eq!(
        downgrade_err(&branched(), "-1", &[]),
        RevisionError::RelativeOutOfRange {
            relative: "-1".into(),
            steps: 1
        }
    );
}

#[test]
fn branched_path_test_downgrade_no_effect_branched() {
    let m = branched();
    assert_downgrade(&m, "c2", &["d1", "c2"], &[], &["d1", "c2"]);
    assert_downgrade(&m, "d1", &["d1", "c2"], &[], &["d1", "c2"]);
}

// ---- BranchFromMergepointTest -------------------------------------------------------------------
// a1 -> b1 -> c1 -+-> d1
// a2 -> b2 -> c2 -+
//              c2 ---> d2

fn from_mergepoint() -> RevisionMap {
    map(&[
        ("a1", ""),
        ("b1", "a1"),
        ("c1", "b1"),
        ("a2", ""),
        ("b2", "a2"),
        ("c2", "b2"),
        ("d1", "c1,c2"),
        ("d2", "c2"),
    ])
}

#[test]
fn branch_from_mergepoint_test_mergepoint_to_only_one_side_upgrade() {
    assert_upgrade(&from_mergepoint(), "d1", &["d2", "b1"], &["c1", "d1"], &["d2", "d1"]);
}

#[test]
fn branch_from_mergepoint_test_mergepoint_to_only_one_side_downgrade() {
    assert_downgrade(&from_mergepoint(), "b1", &["d2", "d1"], &["d1", "c1"], &["d2", "b1"]);
}

// ---- BranchFrom3WayMergepointTest ------------------------------------------------------------------

fn from_3way_mergepoint() -> RevisionMap {
    map(&[
        ("a1", ""),
        ("b1", "a1"),
        ("c1", "b1"),
        ("a2", ""),
        ("b2", "a2"),
        ("c2", "b2"),
        ("a3", ""),
        ("b3", "a3"),
        ("c3", "b3"),
        ("d1", "c1,c2,c3"),
        ("d2", "c2"),
        ("d3", "c3"),
    ])
}

#[test]
fn branch_from3_way_mergepoint_test_mergepoint_to_only_one_side_upgrade() {
    assert_upgrade(
        &from_3way_mergepoint(),
        "d1",
        &["d3", "d2", "b1"],
        &["c1", "d1"],
        &["d3", "d2", "d1"],
    );
}

#[test]
fn branch_from3_way_mergepoint_test_mergepoint_to_only_one_side_downgrade() {
    assert_downgrade(
        &from_3way_mergepoint(),
        "b1",
        &["d3", "d2", "d1"],
        &["d1", "c1"],
        &["d3", "d2", "b1"],
    );
}

#[test]
fn branch_from3_way_mergepoint_test_mergepoint_to_two_sides_upgrade() {
    let m = from_3way_mergepoint();
    // b2 and b1 merge into d1 ...
    assert_upgrade(&m, "d1", &["d3", "b2", "b1"], &["c2", "c1", "d1"], &["d3", "d1"]);
    // ... and b2's line breaks out again when it goes on
    assert_upgrade(&m, "d2", &["d3", "d1"], &["d2"], &["d3", "d2", "d1"]);
}

// ---- TwinMergeTest (issue #297) / NotQuiteTwinMergeTest -----------------------------------------------

/// `HeadMaintainer` driven one upgrade step at a time; `steps` is (revision, rows after).
fn assert_steps_up(m: &RevisionMap, start: &[&str], steps: &[(&str, &[&str])]) {
    let mut heads = set(start);
    for (r, expected) in steps {
        heads = step_up(m, &heads, r);
        assert_eq!(heads, set(expected), "after up {r}");
    }
}

/// A -> B1, B2, B3; B1, B2, B3 -> C1 and -> C2; C1 -> D1; C2 -> D2.
#[test]
fn twin_merge_test_upgrade() {
    let m = map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("b3", "a"),
        ("c1", "b1,b2,b3"),
        ("c2", "b1,b2,b3"),
        ("d1", "c1"),
        ("d2", "c2"),
    ]);
    assert_steps_up(
        &m,
        &["a"],
        &[
            ("b3", &["b3"]),
            ("b1", &["b1", "b3"]),
            ("b2", &["b1", "b2", "b3"]),
            ("c2", &["c2"]),
            ("d2", &["d2"]),
            ("c1", &["c1", "d2"]),
            ("d1", &["d1", "d2"]),
        ],
    );
}

/// A -> B1, B2, B3; B1, B2 -> C1; B2, B3 -> C2; C1 -> D1; C2 -> D2.
#[test]
fn not_quite_twin_merge_test_upgrade() {
    let m = map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("b3", "a"),
        ("c1", "b1,b2"),
        ("c2", "b2,b3"),
        ("d1", "c1"),
        ("d2", "c2"),
    ]);
    assert_steps_up(
        &m,
        &["a"],
        &[
            ("b2", &["b2"]),
            ("b3", &["b2", "b3"]),
            ("c2", &["c2"]),
            ("d2", &["d2"]),
            ("b1", &["b1", "d2"]),
            ("c1", &["c1", "d2"]),
            ("d1", &["d1", "d2"]),
        ],
    );
}

// ---- DependsOnBranchTestOne ---------------------------------------------------------------------------
// a1 (lib1) -> b1 -> c1 -> d1 -> e1 -> f1
// a2 -> b2 -> c2 (depends_on c1)

fn depends_one() -> RevisionMap {
    specs(vec![
        rev("a1", "").labels("lib1"),
        rev("b1", "a1"),
        rev("c1", "b1"),
        rev("a2", ""),
        rev("b2", "a2"),
        rev("c2", "b2").depends_on("c1"),
        rev("d1", "c1"),
        rev("e1", "d1"),
        rev("f1", "e1"),
    ])
}

#[test]
fn depends_on_branch_test_one_downgrade_to_dependency() {
    let m = depends_one();
    let heads = step_down(&m, &set(&["c2", "d1"]), "d1", "c1");
    // c1 is implied by c2, so the d1 row is deleted rather than moved to c1
    assert_eq!(heads, set(&["c2"]));
}

#[test]
fn depends_on_branch_test_one_stamp_across_dependency() {
    let plan = depends_one().stamp_plan(&["e1", "c2"], &["b1"], false).unwrap();
    assert_eq!(replay(&["e1", "c2"], &plan), set(&["b1"]));
    assert_eq!(changes(&plan), [del("e1"), upd("c2", "b1")]);
}

// ---- DependsOnBranchTestTwo -------------------------------------------------------------------------

/// ```text
/// a1, a2, a3 -> amerge;  b1, b2 -> bmerge;  c1, c2, c3 -> cmerge
/// d1 (root) depends on a3, b2, c1
/// ```
fn depends_two() -> RevisionMap {
    specs(vec![
        rev("a1", ""),
        rev("a2", ""),
        rev("a3", ""),
        rev("amerge", "a1,a2,a3"),
        rev("b1", ""),
        rev("b2", ""),
        rev("bmerge", "b1,b2"),
        rev("c1", ""),
        rev("c2", ""),
        rev("c3", ""),
        rev("cmerge", "c1,c2,c3"),
        rev("d1", "").depends_on("a3,b2,c1"),
    ])
}

#[test]
fn depends_on_branch_test_two_kaboom() {
    let m = depends_two();
    // b2 is not a row afterwards, but d1 is, which implies b2
    assert_downgrade(
        &m,
        "b2",
        &["amerge", "bmerge", "cmerge", "d1"],
        &["bmerge"],
        &["amerge", "b1", "cmerge", "d1"],
    );
    // b2 has to be INSERTed, because it was implied by d1
    assert_downgrade(
        &m,
        "d1@base",
        &["amerge", "d1", "b1", "cmerge"],
        &["d1"],
        &["amerge", "b1", "b2", "cmerge"],
    );
    // Alembic notes this order "can vary a lot based on what sorting algorithm is in
    // use"; the test pins one order, and ours is that one.
    assert_downgrade(
        &m,
        "base",
        &["amerge", "b1", "b2", "cmerge"],
        &["amerge", "a1", "b1", "b2", "cmerge", "c1", "a2", "a3", "c2", "c3"],
        &[],
    );
}

// ---- DependsOnBranchTestThree (issue #377) ---------------------------------------------------------------

/// ```text
/// a1 -> a2 -> a3 (depends_on b1)
/// b1 -> b2 (depends_on a2) -> b3
/// ```
#[test]
fn depends_on_branch_test_three_downgrade_over_crisscross() {
    let m = specs(vec![
        rev("a1", ""),
        rev("a2", "a1"),
        rev("b1", ""),
        rev("b2", "b1").depends_on("a2"),
        rev("b3", "b2"),
        rev("a3", "a2").depends_on("b1"),
    ]);
    // b2 can go although a3 stays; b1 stays implied by a3 (half a merge point removed)
    let plan = assert_downgrade(&m, "b1", &["a3", "b2"], &["b2"], &["a3"]);
    assert_eq!(changes(&plan), [del("b2")]);
}

// ---- DependsOnOwnDownrevTest (issue #843) --------------------------------------------------------------

fn own_downrev() -> RevisionMap {
    specs(vec![rev("a1", ""), rev("a2", "a1").depends_on("a1")])
}

#[test]
fn depends_on_own_downrev_test_traverse() {
    let plan = assert_upgrade(&own_downrev(), "a2", &[], &["a1", "a2"], &["a2"]);
    assert_eq!(changes(&plan), [ins("a1"), upd("a1", "a2")]);
}

#[test]
fn depends_on_own_downrev_test_traverse_down() {
    let plan = assert_downgrade(&own_downrev(), "a1", &["a2"], &["a2"], &["a1"]);
    assert_eq!(changes(&plan), [upd("a2", "a1")]);
}

// ---- DependsOnBranchTestFour (issue #789) ---------------------------------------------------------------

/// a1 -> a2 -> a3; b1 -> b2 (depends_on a3) -> b3 -> b4 (depends_on a3).
#[test]
fn depends_on_branch_test_four_dependencies_are_normalized() {
    let m = specs(vec![
        rev("a1", ""),
        rev("a2", "a1"),
        rev("a3", "a2"),
        rev("b1", ""),
        rev("b2", "b1").depends_on("a3"),
        rev("b3", "b2"),
        rev("b4", "b3").depends_on("a3"),
    ]);
    // a3 is not a row afterwards: b3 still implies it
    let plan = assert_downgrade(&m, "b3", &["b4"], &["b4"], &["b3"]);
    assert_eq!(changes(&plan), [upd("b4", "b3")]);
}

// ---- DependsOnBranchTestFive (issue #1373) ----------------------------------------------------------------

/// ```text
/// a1 ------+
///  ^       +-> bmerge
///  +-- b1 -+        (b1 is a root that depends on a1)
/// ```
#[test]
fn depends_on_branch_test_five_downgrade_to_depends_on() {
    let m = specs(vec![
        rev("a1", ""),
        rev("b1", "").depends_on("a1"),
        rev("bmerge", "a1,b1"),
    ]);
    // a1 -> b1 leaves just b1
    let plan = assert_upgrade(&m, "b1", &["a1"], &["b1"], &["b1"]);
    assert_eq!(changes(&plan), [upd("a1", "b1")]);
    // b1 -> bmerge leaves just bmerge
    let plan = assert_upgrade(&m, "bmerge", &["b1"], &["bmerge"], &["bmerge"]);
    assert_eq!(changes(&plan), [upd("b1", "bmerge")]);
    // down from bmerge to a1 goes back to b1 ...
    let plan = assert_downgrade(&m, "a1", &["bmerge"], &["bmerge"], &["b1"]);
    assert_eq!(changes(&plan), [upd("bmerge", "b1")]);
    // ... and so does down to b1
    assert_downgrade(&m, "b1", &["bmerge"], &["bmerge"], &["b1"]);
}

// ---- DependsOnBranchLabelTest ----------------------------------------------------------------------------

#[test]
fn depends_on_branch_label_test_upgrade_path() {
    let m = specs(vec![
        rev("a1", "").labels("lib1"),
        rev("b1", "a1"),
        rev("c1", "b1").labels("c1lib"),
        rev("a2", ""),
        rev("b2", "a2"),
        rev("c2", "b2").depends_on("c1lib"),
        rev("d1", "c1"),
        rev("e1", "d1"),
        rev("f1", "e1"),
    ]);
    assert_eq!(m.get("c2").unwrap().dependencies(), ["c1"]);
    assert_upgrade(&m, "c2", &["a2"], &["a1", "b1", "c1", "b2", "c2"], &["c2"]);
}

// ---- ForestTest ---------------------------------------------------------------------------------------------

fn forest() -> RevisionMap {
    map(&[("a1", ""), ("b1", "a1"), ("a2", ""), ("b2", "a2")])
}

#[test]
fn forest_test_base_to_heads() {
    assert_upgrade(&forest(), "heads", &[], &["a2", "b2", "a1", "b1"], &["b1", "b2"]);
}

#[test]
fn forest_test_stamp_to_heads() {
    let plan = forest().stamp_plan::<&str>(&[], &["heads"], false).unwrap();
    assert_eq!(plan.steps.len(), 2);
    let to: Vec<Vec<String>> = plan.steps.iter().map(|s| s.to.clone()).collect();
    assert_eq!(set(&to.concat()), set(&["b1", "b2"]));
    assert!(to.iter().all(|t| t.len() == 1));
    assert_eq!(changes(&plan), [ins("b1"), ins("b2")]);
}

#[test]
fn forest_test_stamp_to_heads_no_moves_needed() {
    let plan = forest().stamp_plan(&["b1", "b2"], &["heads"], false).unwrap();
    assert!(plan.steps.is_empty());
    assert_eq!(plan.heads_after, ["b1", "b2"]);
}

// ---- MergedPathTest ----------------------------------------------------------------------------------------
// a -> b -> c1 -> d1 -+-> e -> f
//        -> c2 -> d2 -+   (c2branch)

fn merged() -> RevisionMap {
    specs(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c1", "b"),
        rev("d1", "c1"),
        rev("c2", "b").labels("c2branch"),
        rev("d2", "c2"),
        rev("e", "d1,d2"),
        rev("f", "e"),
    ])
}

fn assert_one_stamp(m: &RevisionMap, target: &str, heads: &[&str], expected: &[VersionChange]) {
    let plan = m.stamp_plan(heads, &[target], false).unwrap();
    assert_eq!(plan.steps.len(), 1, "{plan:?}");
    assert_eq!(plan.steps[0].changes, expected);
    replay(heads, &plan);
}

#[test]
fn merged_path_test_stamp_down_across_merge_point_branch() {
    // no deletes, UPDATE e to c2
    assert_one_stamp(&merged(), "c2", &["e"], &[upd("e", "c2")]);
}

#[test]
fn merged_path_test_stamp_down_across_merge_prior_branching() {
    assert_one_stamp(&merged(), "a", &["e"], &[upd("e", "a")]);
}

#[test]
fn merged_path_test_stamp_up_across_merge_from_single_branch() {
    assert_one_stamp(&merged(), "e", &["c2"], &[upd("c2", "e")]);
}

/// filter_for_lineage must see d1 both in terms of c2branch and as below the head f.
#[test]
fn merged_path_test_stamp_labeled_head_across_merge_from_multiple_branch() {
    assert_one_stamp(&merged(), "c2branch@head", &["d1", "c2"], &[del("d1"), upd("c2", "f")]);
}

#[test]
fn merged_path_test_stamp_up_across_merge_from_multiple_branch() {
    assert_one_stamp(&merged(), "e", &["d1", "c2"], &[del("d1"), upd("c2", "e")]);
}

#[test]
fn merged_path_test_stamp_up_across_merge_prior_branching() {
    assert_one_stamp(&merged(), "e", &["b"], &[upd("b", "e")]);
}

#[test]
fn merged_path_test_upgrade_across_merge_point() {
    let plan = assert_upgrade(&merged(), "f", &["b"], &["c2", "d2", "c1", "d1", "e", "f"], &["f"]);
    // b -> c1 creates a new branch; d1/d2 -> e merges. Alembic's comment says "DELETE
    // d2, UPDATE d1 -> e" but its code deletes all but the last down revision and
    // updates the last: DELETE d1, UPDATE d2 -> e.
    assert_eq!(
        changes(&plan),
        [
            upd("b", "c2"),
            upd("c2", "d2"),
            ins("c1"),
            upd("c1", "d1"),
            del("d1"),
            upd("d2", "e"),
            upd("e", "f"),
        ]
    );
}

#[test]
fn merged_path_test_downgrade_across_merge_point() {
    let plan = assert_downgrade(&merged(), "b", &["f"], &["f", "e", "d1", "c1", "d2", "c2"], &["b"]);
    // e -> d1, d2 unmerges; c2 -> b deletes a branch. Which of d1/d2 Alembic INSERTs
    // and which it UPDATEs e to depends on Python set order; ours is declaration order
    // (INSERT d1, UPDATE e -> d2).
    assert_eq!(
        changes(&plan),
        [
            upd("f", "e"),
            ins("d1"),
            upd("e", "d2"),
            upd("d1", "c1"),
            del("c1"),
            upd("d2", "c2"),
            upd("c2", "b"),
        ]
    );
}

// ---- BranchedPathTestCrossDependencies ------------------------------------------------------------------------

fn branched_cross() -> RevisionMap {
    specs(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c1", "b").labels("c1branch"),
        rev("d1", "c1"),
        rev("c2", "b").labels("c2branch"),
        rev("d2", "c2").depends_on("c1"),
    ])
}

/// c2branch depends on c1branch, so it can be taken down on its own.
#[test]
fn branched_path_test_cross_dependencies_downgrade_independent_branch() {
    assert_downgrade(&branched_cross(), "c2branch@b", &["d1", "d2"], &["d2", "c2"], &["d1"]);
}

/// Taking c1branch down takes d2 with it (it depends on c1). Alembic only checks the
/// set and a partial order ("full ordering of migrations is not consistent"); we check
/// those, and that ours is one of the orders Alembic allows.
#[test]
fn branched_path_test_cross_dependencies_downgrade_branch_dependency() {
    let m = branched_cross();
    let plan = m.downgrade_plan(&["d1", "d2"], "c1branch@b").unwrap();
    let revs = plan.revisions();
    assert_eq!(set(&revs), set(&["c1", "d1", "d2"]));
    let pos = |r: &str| revs.iter().position(|x| *x == r).unwrap();
    assert!(pos("d1") < pos("c1"));
    assert!(pos("d2") < pos("c1"));
    assert!(revs == ["d2", "d1", "c1"] || revs == ["d1", "d2", "c1"], "{revs:?}");
    assert_eq!(replay(&["d1", "d2"], &plan), set(&["c2"]));
}
