//! Ports of Alembic's `tests/test_revision.py` (RevisionMap: identifiers, heads, bases,
//! `iterate_revisions` orders, `depends_on` normalization, loops and cycles).
//!
//! Test names are Alembic's `Class.test_name` in snake_case. Orders are asserted
//! exactly: ours must be Alembic's.

mod common;

use common::large_map::{LARGE_MAP, LARGE_MAP_HEADS_TO_BASE};
use common::*;
use migrate_core::{GraphError, RevisionError, RevisionMap};

fn abc() -> RevisionMap {
    map(&[("a", ""), ("b", "a"), ("c", "b")])
}

fn abc1c2() -> RevisionMap {
    map(&[("a", ""), ("b", "a"), ("c1", "b"), ("c2", "b")])
}

// ---- APITest ------------------------------------------------------------------------

/// Alembic rejects non-string identifiers (bytes from a misconfigured driver); Rust's
/// types rule that out, so what is left to check is that such a value read back as text
/// is not mistaken for a revision while real ids resolve.
#[test]
fn api_test_invalid_datatype() {
    let m = abc();
    assert_eq!(
        m.resolve("b'12345'"),
        Err(RevisionError::NoSuchRevision("b'12345'".into()))
    );
    assert_eq!(m.resolve_one("a").unwrap(), Some("a"));
}

/// Alembic's `add_revision`; our map is immutable, so build it again with one more.
#[test]
fn api_test_add_revision_one_head() {
    assert_eq!(abc().heads(), ["c"]);
    let m = map(&[("a", ""), ("b", "a"), ("c", "b"), ("d", "c")]);
    assert_eq!(m.heads(), ["d"]);
}

#[test]
fn api_test_add_revision_two_head() {
    assert_eq!(abc1c2().heads(), ["c1", "c2"]);
    let m = map(&[
        ("a", ""),
        ("b", "a"),
        ("c1", "b"),
        ("c2", "b"),
        ("d1", "c1"),
    ]);
    assert_eq!(m.heads(), ["c2", "d1"]);
}

#[test]
fn api_test_get_revision_head_single() {
    assert_eq!(abc().resolve_one("head").unwrap(), Some("c"));
}

#[test]
fn api_test_get_revision_base_single() {
    assert_eq!(abc().resolve_one("base").unwrap(), None);
}

#[test]
fn api_test_get_revision_head_multiple() {
    assert!(matches!(
        abc1c2().resolve_one("head"),
        Err(RevisionError::MultipleHeads { heads, .. }) if heads == ["c1", "c2"]
    ));
}

#[test]
fn api_test_get_revision_heads_multiple() {
    assert!(matches!(
        abc1c2().resolve_one("heads"),
        Err(RevisionError::MultipleHeads { heads, .. }) if heads == ["c1", "c2"]
    ));
}

#[test]
fn api_test_get_revisions_head_multiple() {
    assert!(matches!(
        abc1c2().resolve("head"),
        Err(RevisionError::MultipleHeads { .. })
    ));
}

#[test]
fn api_test_get_revisions_heads_multiple() {
    assert_eq!(abc1c2().resolve("heads").unwrap(), ["c1", "c2"]);
}

#[test]
fn api_test_get_revision_base_multiple() {
    let m = map(&[("a", ""), ("b", "a"), ("c", ""), ("d", "c")]);
    assert_eq!(m.resolve_one("base").unwrap(), None);
    assert_eq!(m.bases(), ["a", "c"]);
}

#[test]
fn api_test_iterate_tolerates_dupe_targets() {
    // Not inclusive, so a is not traversed.
    assert_iteration(&abc(), &["c", "c"], &["a"], &["c", "b"], IT.exclusive());
}

/// Alembic checks `repr(Revision('c', None, dependencies=('a', 'b')))`; we check the
/// same facts through the `Revision` view.
#[test]
fn api_test_repr_revs() {
    let m = specs(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c", "").depends_on("a,b"),
    ]);
    let c = m.get("c").unwrap();
    assert!(c.down_revisions().is_empty());
    assert_eq!(c.depends_on(), ["a", "b"]);
    assert_eq!(c.dependencies(), ["a", "b"]);
    // c has no ancestor that already depends on a or b, so both stay (Alembic keeps
    // them in a set; we keep the declared order).
    assert_eq!(c.normalized_down_revisions(), ["a", "b"]);
}

// ---- DiamondTest / EmptyMapTest ---------------------------------------------------------

#[test]
fn diamond_test_iterate_simple_diamond() {
    let m = map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("c", "b1,b2"),
        ("d", "c"),
    ]);
    assert_iteration(&m, &["d"], &["a"], &["d", "c", "b1", "b2", "a"], IT);
}

/// Issue #258.
#[test]
fn empty_map_test_iterate() {
    let m = map(&[]);
    assert_iteration(&m, &["head"], &["base"], &[], IT);
    assert!(m.heads().is_empty());
}

// ---- LabeledBranchTest ----------------------------------------------------------------------

fn labeled() -> RevisionMap {
    specs(vec![
        rev("a", "").labels("abranch"),
        rev("b", "a"),
        rev("somelongername", "b"),
        rev("c", "somelongername"),
        rev("d", ""),
        rev("e", "d").labels("ebranch"),
        rev("someothername", "e"),
        rev("f", "someothername"),
    ])
}

#[test]
fn labeled_branch_test_dupe_branch_collection() {
    let errs = graph_errors(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c", "b").labels("xy1"),
        rev("d", ""),
        rev("e", "d").labels("xy1"),
        rev("f", "e"),
    ]);
    assert!(
        errs.iter().any(|e| matches!(e,
            GraphError::DuplicateBranchLabel { label, revision, other, .. }
                if label == "xy1" && revision == "e" && other == "c")),
        "{errs:?}"
    );
}

#[test]
fn labeled_branch_test_filter_for_lineage_labeled_head_across_merge() {
    let m = specs(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c1", "b").labels("c1branch"),
        rev("c2", "b"),
        rev("d", "c1,c2"),
    ]);
    assert_eq!(
        m.filter_for_lineage(&["c1", "c2", "d"], "c1branch@head", false)
            .unwrap(),
        ["c1", "c2", "d"]
    );
}

#[test]
fn labeled_branch_test_filter_for_lineage_heads() {
    assert_eq!(
        labeled()
            .filter_for_lineage(&["f"], "heads", false)
            .unwrap(),
        ["f"]
    );
}

#[test]
fn labeled_branch_test_get_base_revisions_labeled() {
    let m = labeled();
    assert_eq!(
        m.filter_for_lineage(&m.bases(), "somelongername@base", false)
            .unwrap(),
        ["a"]
    );
}

#[test]
fn labeled_branch_test_get_current_named_rev() {
    assert_eq!(labeled().resolve_one("ebranch@head").unwrap(), Some("f"));
}

#[test]
fn labeled_branch_test_get_base_revisions() {
    let m = labeled();
    assert_eq!(
        m.filter_for_lineage(&m.bases(), "base", false).unwrap(),
        ["a", "d"]
    );
}

#[test]
fn labeled_branch_test_iterate_head_to_named_base() {
    let m = labeled();
    assert_iteration(
        &m,
        &["heads"],
        &["ebranch@base"],
        &["f", "someothername", "e", "d"],
        IT,
    );
    assert_iteration(
        &m,
        &["heads"],
        &["abranch@base"],
        &["c", "somelongername", "b", "a"],
        IT,
    );
}

#[test]
fn labeled_branch_test_iterate_named_head_to_base() {
    let m = labeled();
    assert_iteration(
        &m,
        &["ebranch@head"],
        &["base"],
        &["f", "someothername", "e", "d"],
        IT,
    );
    assert_iteration(
        &m,
        &["abranch@head"],
        &["base"],
        &["c", "somelongername", "b", "a"],
        IT,
    );
}

#[test]
fn labeled_branch_test_iterate_named_head_to_heads() {
    assert_iteration(&labeled(), &["heads"], &["ebranch@head"], &["f"], IT);
}

#[test]
fn labeled_branch_test_iterate_named_rev_to_heads() {
    assert_iteration(
        &labeled(),
        &["heads"],
        &["ebranch@d"],
        &["f", "someothername", "e", "d"],
        IT,
    );
}

#[test]
fn labeled_branch_test_iterate_head_to_version_specific_base() {
    let m = labeled();
    assert_iteration(
        &m,
        &["heads"],
        &["e@base"],
        &["f", "someothername", "e", "d"],
        IT,
    );
    assert_iteration(
        &m,
        &["heads"],
        &["c@base"],
        &["c", "somelongername", "b", "a"],
        IT,
    );
}

#[test]
fn labeled_branch_test_iterate_to_branch_at_rev() {
    assert_iteration(
        &labeled(),
        &["heads"],
        &["ebranch@d"],
        &["f", "someothername", "e", "d"],
        IT,
    );
}

#[test]
fn labeled_branch_test_branch_w_down_relative() {
    assert_iteration(
        &labeled(),
        &["heads"],
        &["ebranch@-2"],
        &["f", "someothername", "e"],
        IT,
    );
}

#[test]
fn labeled_branch_test_branch_w_up_relative() {
    assert_iteration(&labeled(), &["ebranch@+2"], &["base"], &["e", "d"], IT);
}

#[test]
fn labeled_branch_test_partial_id_resolve() {
    let m = labeled();
    assert_eq!(
        m.resolve_one("ebranch@some").unwrap(),
        Some("someothername")
    );
    assert_eq!(
        m.resolve_one("abranch@some").unwrap(),
        Some("somelongername")
    );
}

#[test]
fn labeled_branch_test_partial_id_resolve_too_short() {
    let err = labeled().resolve_one("ebranch@sos").unwrap_err();
    assert_eq!(err, RevisionError::NoSuchRevision("sos".into()));
    assert!(
        err.to_string().contains("at least four characters"),
        "{err}"
    );
}

#[test]
fn labeled_branch_test_branch_at_heads() {
    assert_eq!(labeled().resolve_one("abranch@heads").unwrap(), Some("c"));
}

#[test]
fn labeled_branch_test_branch_at_syntax() {
    let m = labeled();
    assert_eq!(m.resolve_one("abranch@head").unwrap(), Some("c"));
    assert_eq!(m.resolve_one("abranch@base").unwrap(), None);
    assert_eq!(m.resolve_one("ebranch@head").unwrap(), Some("f"));
    assert_eq!(m.resolve_one("ebranch@d").unwrap(), Some("d"));
}

#[test]
fn labeled_branch_test_branch_at_self() {
    assert_eq!(labeled().resolve_one("ebranch@ebranch").unwrap(), Some("e"));
}

#[test]
fn labeled_branch_test_retrieve_branch_revision() {
    let m = labeled();
    assert_eq!(m.resolve_one("abranch").unwrap(), Some("a"));
    assert_eq!(m.resolve_one("ebranch").unwrap(), Some("e"));
}

#[test]
fn labeled_branch_test_rev_not_in_branch() {
    let m = labeled();
    assert_eq!(
        m.resolve_one("ebranch@b"),
        Err(RevisionError::NotMemberOfBranch {
            revision: "b".into(),
            branch: "ebranch".into()
        })
    );
    assert_eq!(
        m.resolve_one("abranch@d"),
        Err(RevisionError::NotMemberOfBranch {
            revision: "d".into(),
            branch: "abranch".into()
        })
    );
}

#[test]
fn labeled_branch_test_actually_short_rev_name() {
    assert_eq!(labeled().resolve_one("e").unwrap(), Some("e"));
}

#[test]
fn labeled_branch_test_no_revision_exists() {
    let m = labeled();
    let long = m.resolve_one("abranch@qprstuv").unwrap_err();
    assert_eq!(long, RevisionError::NoSuchRevision("qprstuv".into()));
    assert!(!long.to_string().contains("four characters"));
    let short = m.resolve_one("abranch@qpr").unwrap_err();
    assert_eq!(short, RevisionError::NoSuchRevision("qpr".into()));
    assert!(short.to_string().contains("four characters"));
}

#[test]
fn labeled_branch_test_not_actually_a_branch() {
    assert_eq!(labeled().resolve_one("e@d").unwrap(), Some("d"));
}

#[test]
fn labeled_branch_test_not_actually_a_branch_partial_resolution() {
    assert_eq!(labeled().resolve_one("someoth@d").unwrap(), Some("d"));
}

#[test]
fn labeled_branch_test_no_such_branch() {
    assert_eq!(
        labeled().resolve_one("x@d"),
        Err(RevisionError::NoSuchBranch("x".into()))
    );
}

// ---- LongShortBranchTest / MultipleBranchTest ------------------------------------------------

#[test]
fn long_short_branch_test_iterate_full() {
    let m = map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("c1", "b1"),
        ("d11", "c1"),
        ("d12", "c1"),
    ]);
    assert_iteration(
        &m,
        &["heads"],
        &["base"],
        &["b2", "d11", "d12", "c1", "b1", "a"],
        IT,
    );
}

fn multiple_branch() -> RevisionMap {
    map(&[
        ("a", ""),
        ("b1", "a"),
        ("b2", "a"),
        ("cb1", "b1"),
        ("cb2", "b2"),
        ("d1cb1", "cb1"),
        ("d2cb1", "cb1"),
        ("d1cb2", "cb2"),
        ("d2cb2", "cb2"),
        ("d3cb2", "cb2"),
        ("d1d2cb2", "d1cb2,d2cb2"),
    ])
}

#[test]
fn multiple_branch_test_iterate_from_merge_point() {
    assert_iteration(
        &multiple_branch(),
        &["d1d2cb2"],
        &["a"],
        &["d1d2cb2", "d1cb2", "d2cb2", "cb2", "b2", "a"],
        IT,
    );
}

#[test]
fn multiple_branch_test_iterate_multiple_heads() {
    assert_iteration(
        &multiple_branch(),
        &["d2cb2", "d3cb2"],
        &["a"],
        &["d2cb2", "d3cb2", "cb2", "b2", "a"],
        IT,
    );
}

#[test]
fn multiple_branch_test_iterate_single_branch() {
    assert_iteration(
        &multiple_branch(),
        &["d3cb2"],
        &["a"],
        &["d3cb2", "cb2", "b2", "a"],
        IT,
    );
}

#[test]
fn multiple_branch_test_iterate_single_branch_to_base() {
    assert_iteration(
        &multiple_branch(),
        &["d3cb2"],
        &["base"],
        &["d3cb2", "cb2", "b2", "a"],
        IT,
    );
}

#[test]
fn multiple_branch_test_iterate_multiple_branch_to_base() {
    assert_iteration(
        &multiple_branch(),
        &["d3cb2", "cb1"],
        &["base"],
        &["cb1", "b1", "d3cb2", "cb2", "b2", "a"],
        IT,
    );
}

#[test]
fn multiple_branch_test_iterate_multiple_heads_single_base() {
    // head d1cb1 is omitted as it is not a descendant of b2
    assert_iteration(
        &multiple_branch(),
        &["d1cb1", "d2cb2", "d3cb2"],
        &["b2"],
        &["d2cb2", "d3cb2", "cb2", "b2"],
        IT,
    );
}

fn assert_not_ancestor(err: RevisionError) {
    assert!(
        matches!(err, RevisionError::RangeNotAncestor { .. }),
        "{err:?}"
    );
}

#[test]
fn multiple_branch_test_same_branch_wrong_direction() {
    // b1 and d1cb1 are connected, but d1cb1 is the descendant of b1
    assert_not_ancestor(iterate_err(&multiple_branch(), &["b1"], &["d1cb1"], IT));
}

#[test]
fn multiple_branch_test_distinct_branches() {
    // d2cb2 and b1 have no path to each other
    assert_not_ancestor(iterate_err(&multiple_branch(), &["d2cb2"], &["b1"], IT));
}

/// `iterate_revisions(None, "d1cb1")`: must raise, not return nothing (#258).
#[test]
fn multiple_branch_test_wrong_direction_to_base_as_none() {
    assert_not_ancestor(iterate_err(&multiple_branch(), &["base"], &["d1cb1"], IT));
}

/// `iterate_revisions((), "d1cb1")`.
#[test]
fn multiple_branch_test_wrong_direction_to_base_as_empty() {
    assert_not_ancestor(iterate_err(&multiple_branch(), &[], &["d1cb1"], IT));
}

// ---- MultipleBranchEffectiveHead ---------------------------------------------------------------

fn effective_head() -> RevisionMap {
    specs(vec![
        rev("y1", "").labels("y"),
        rev("x1", "").labels("x"),
        rev("y2", "y1").depends_on("x1"),
        rev("x2", "x1"),
    ])
}

#[test]
fn multiple_branch_effective_head_other_downgrade() {
    assert_iteration(
        &effective_head(),
        &["x2", "y2"],
        &["x@-1"],
        &["x2"],
        IT.exclusive().downgrade(),
    );
}

#[test]
fn multiple_branch_effective_head_use_all_current() {
    assert_iteration(
        &effective_head(),
        &["x1", "y2"],
        &["x@-1"],
        &["y2", "x1"],
        IT.exclusive().downgrade(),
    );
}

#[test]
fn multiple_branch_effective_head_effective_head() {
    assert_iteration(
        &effective_head(),
        &["y2"],
        &["x@-1"],
        &["y2", "x1"],
        IT.exclusive().downgrade(),
    );
}

// ---- BranchTravellingTest ----------------------------------------------------------------------

/// Depth-first along branches, but every branch is finished at its branch point
/// before the revisions below that point.
fn travelling() -> RevisionMap {
    map(&[
        ("a1", ""),
        ("a2", "a1"),
        ("a3", "a2"),
        ("b1", "a3"),
        ("b2", "a3"),
        ("cb1", "b1"),
        ("cb2", "b2"),
        ("db1", "cb1"),
        ("db2", "cb2"),
        ("e1b1", "db1"),
        ("fe1b1", "e1b1"),
        ("e2b1", "db1"),
        ("e2b2", "db2"),
        ("merge", "e2b1,e2b2"),
    ])
}

#[test]
fn branch_travelling_test_iterate_one_branch_both_to_merge() {
    // at a merge point, implicit base fills in every branch that feeds it
    assert_iteration(
        &travelling(),
        &["merge"],
        &["db1"],
        &["merge", "e2b1", "db1", "e2b2", "db2", "cb2", "b2"],
        IT.implicit_base(),
    );
}

#[test]
fn branch_travelling_test_three_branches_end_in_single_branch() {
    assert_iteration(
        &travelling(),
        &["merge", "fe1b1"],
        &["a3"],
        &[
            "fe1b1", "e1b1", "merge", "e2b1", "db1", "cb1", "b1", "e2b2", "db2", "cb2", "b2", "a3",
        ],
        IT,
    );
}

#[test]
fn branch_travelling_test_two_branches_to_root() {
    // a3 is a stop point, db1 is not (only one traversal passes it)
    assert_iteration(
        &travelling(),
        &["merge"],
        &["a1"],
        &[
            "merge", "e2b1", "db1", "cb1", "b1", "e2b2", "db2", "cb2", "b2", "a3", "a2", "a1",
        ],
        IT,
    );
}

#[test]
fn branch_travelling_test_two_branches_end_in_branch() {
    // b1 is local to the e2b1 branch, so that is all we get
    assert_iteration(
        &travelling(),
        &["merge"],
        &["b1"],
        &["merge", "e2b1", "db1", "cb1", "b1"],
        IT,
    );
}

#[test]
fn branch_travelling_test_two_branches_end_behind_branch() {
    assert_iteration(
        &travelling(),
        &["merge"],
        &["a2"],
        &[
            "merge", "e2b1", "db1", "cb1", "b1", "e2b2", "db2", "cb2", "b2", "a3", "a2",
        ],
        IT,
    );
}

#[test]
fn branch_travelling_test_three_branches_to_root() {
    // both a3 and db1 are stop points
    assert_iteration(
        &travelling(),
        &["merge", "fe1b1"],
        &["a1"],
        &[
            "fe1b1", "e1b1", "merge", "e2b1", "db1", "cb1", "b1", "e2b2", "db2", "cb2", "b2", "a3",
            "a2", "a1",
        ],
        IT,
    );
}

#[test]
fn branch_travelling_test_three_branches_end_multiple_bases() {
    assert_iteration(
        &travelling(),
        &["merge", "fe1b1"],
        &["cb1", "cb2"],
        &[
            "fe1b1", "e1b1", "merge", "e2b1", "db1", "cb1", "e2b2", "db2", "cb2",
        ],
        IT,
    );
}

#[test]
fn branch_travelling_test_three_branches_end_multiple_bases_exclusive() {
    assert_iteration(
        &travelling(),
        &["merge", "fe1b1"],
        &["cb1", "cb2"],
        &["fe1b1", "e1b1", "merge", "e2b1", "db1", "e2b2", "db2"],
        IT.exclusive(),
    );
}

#[test]
fn branch_travelling_test_detect_invalid_head_selection() {
    // db1 is an ancestor of fe1b1
    let err = iterate_err(&travelling(), &["db1", "b2", "fe1b1"], &[], IT);
    assert!(
        matches!(&err, RevisionError::Overlap { revision, others }
            if revision == "fe1b1" && others == &["db1"]),
        "{err:?}"
    );
}

#[test]
fn branch_travelling_test_three_branches_end_multiple_bases_exclusive_blank() {
    assert_iteration(
        &travelling(),
        &["e2b1", "b2", "fe1b1"],
        &[],
        &[
            "b2", "fe1b1", "e1b1", "e2b1", "db1", "cb1", "b1", "a3", "a2", "a1",
        ],
        IT.exclusive(),
    );
}

#[test]
fn branch_travelling_test_iterate_to_symbolic_base() {
    assert_iteration(
        &travelling(),
        &["fe1b1"],
        &["base"],
        &["fe1b1", "e1b1", "db1", "cb1", "b1", "a3", "a2", "a1"],
        IT.exclusive(),
    );
}

#[test]
fn branch_travelling_test_ancestor_nodes() {
    let m = travelling();
    assert_eq!(
        set(&m.ancestors("merge").unwrap()),
        set(&["a1", "e2b2", "e2b1", "cb2", "merge", "a3", "a2", "b1", "b2", "db1", "db2", "cb1"])
    );
}

// ---- MultipleBaseTest ---------------------------------------------------------------------------

fn multiple_base() -> RevisionMap {
    map(&[
        ("base1", ""),
        ("base2", ""),
        ("base3", ""),
        ("a1a", "base1"),
        ("a1b", "base1"),
        ("a2", "base2"),
        ("a3", "base3"),
        ("b1a", "a1a"),
        ("b1b", "a1b"),
        ("b2", "a2"),
        ("b3", "a3"),
        ("c2", "b2"),
        ("d2", "c2"),
        ("mergeb3d2", "b3,d2"),
    ])
}

const MULTIPLE_BASE_ALL: &[&str] = &[
    "b1a",
    "a1a",
    "b1b",
    "a1b",
    "base1",
    "mergeb3d2",
    "b3",
    "a3",
    "base3",
    "d2",
    "c2",
    "b2",
    "a2",
    "base2",
];

#[test]
fn multiple_base_test_heads_to_base() {
    assert_iteration(
        &multiple_base(),
        &["heads"],
        &["base"],
        MULTIPLE_BASE_ALL,
        IT,
    );
}

#[test]
fn multiple_base_test_heads_to_base_exclusive() {
    assert_iteration(
        &multiple_base(),
        &["heads"],
        &["base"],
        MULTIPLE_BASE_ALL,
        IT.exclusive(),
    );
}

/// `iterate_revisions("heads", None)`.
#[test]
fn multiple_base_test_heads_to_blank() {
    assert_iteration(&multiple_base(), &["heads"], &[], MULTIPLE_BASE_ALL, IT);
}

#[test]
fn multiple_base_test_detect_invalid_base_selection() {
    let err = iterate_err(&multiple_base(), &["c2"], &["a2", "b2"], IT);
    assert!(matches!(err, RevisionError::Overlap { .. }), "{err:?}");
}

#[test]
fn multiple_base_test_heads_to_revs_plus_implicit_base_exclusive() {
    assert_iteration(
        &multiple_base(),
        &["heads"],
        &["c2"],
        &[
            "b1a",
            "a1a",
            "b1b",
            "a1b",
            "base1",
            "mergeb3d2",
            "b3",
            "a3",
            "base3",
            "d2",
        ],
        IT.exclusive().implicit_base(),
    );
}

#[test]
fn multiple_base_test_heads_to_revs_base_exclusive() {
    assert_iteration(
        &multiple_base(),
        &["heads"],
        &["c2"],
        &["mergeb3d2", "d2"],
        IT.exclusive(),
    );
}

#[test]
fn multiple_base_test_heads_to_revs_plus_implicit_base_inclusive() {
    assert_iteration(
        &multiple_base(),
        &["heads"],
        &["c2"],
        &[
            "b1a",
            "a1a",
            "b1b",
            "a1b",
            "base1",
            "mergeb3d2",
            "b3",
            "a3",
            "base3",
            "d2",
            "c2",
        ],
        IT.implicit_base(),
    );
}

#[test]
fn multiple_base_test_specific_path_one() {
    assert_iteration(
        &multiple_base(),
        &["b3"],
        &["base3"],
        &["b3", "a3", "base3"],
        IT,
    );
}

#[test]
fn multiple_base_test_specific_path_two_implicit_base() {
    assert_iteration(
        &multiple_base(),
        &["b3", "b2"],
        &["base3"],
        &["b2", "a2", "base2", "b3", "a3"],
        IT.exclusive().implicit_base(),
    );
}

// ---- MultipleBaseCrossDependencyTestOne ----------------------------------------------------------

/// ```text
/// base1 -----> a1a  -> b1a
///       +----> a1b  -> b1b
///                       |
///           +-----------+
///           v
/// base3 -> a3 -> b3
///           ^
///           +-----------+
///                       |
/// base2 -> a2 -> b2 -> c2 -> d2
/// ```
fn cross_one() -> RevisionMap {
    specs(vec![
        rev("base1", "").labels("b_1"),
        rev("a1a", "base1"),
        rev("a1b", "base1"),
        rev("b1a", "a1a"),
        rev("b1b", "a1b").depends_on("a3"),
        rev("base2", "").labels("b_2"),
        rev("a2", "base2"),
        rev("b2", "a2"),
        rev("c2", "b2").depends_on("a3"),
        rev("d2", "c2"),
        rev("base3", "").labels("b_3"),
        rev("a3", "base3"),
        rev("b3", "a3"),
    ])
}

const CROSS_ONE_ALL: &[&str] = &[
    "b1a", "a1a", "b1b", "a1b", "base1", "d2", "c2", "b2", "a2", "base2", "b3", "a3", "base3",
];

#[test]
fn multiple_base_cross_dependency_test_one_what_are_the_heads() {
    assert_eq!(cross_one().heads(), ["b1a", "b1b", "d2", "b3"]);
}

#[test]
fn multiple_base_cross_dependency_test_one_heads_to_base() {
    assert_iteration(&cross_one(), &["heads"], &["base"], CROSS_ONE_ALL, IT);
}

#[test]
fn multiple_base_cross_dependency_test_one_heads_to_base_downgrade() {
    assert_iteration(
        &cross_one(),
        &["heads"],
        &["base"],
        CROSS_ONE_ALL,
        IT.downgrade(),
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_same_branch_wrong_direction() {
    assert_not_ancestor(iterate_err(&cross_one(), &["b2"], &["d2"], IT));
}

#[test]
fn multiple_base_cross_dependency_test_one_different_branch_not_wrong_direction() {
    assert_not_ancestor(iterate_err(&cross_one(), &["b3"], &["d2"], IT));
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_head2_upgrade() {
    // the 2 branch relies on the 3 branch
    assert_iteration(
        &cross_one(),
        &["b_2@head"],
        &["base"],
        &["d2", "c2", "b2", "a2", "base2", "a3", "base3"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_head2_downgrade() {
    // going down, the 3 branch is left alone
    assert_iteration(
        &cross_one(),
        &["b_2@head"],
        &["b_2@base"],
        &["d2", "c2", "b2", "a2", "base2"],
        IT.downgrade(),
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_head3_upgrade() {
    assert_iteration(
        &cross_one(),
        &["b_3@head"],
        &["base"],
        &["b3", "a3", "base3"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_head3_downgrade() {
    assert_iteration(
        &cross_one(),
        &["b_3@head"],
        &["base"],
        &["b3", "a3", "base3"],
        IT.downgrade(),
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_head1_upgrade() {
    assert_iteration(
        &cross_one(),
        &["b1b@head"],
        &["base"],
        &["b1b", "a1b", "base1", "a3", "base3"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_head1_downgrade() {
    assert_iteration(
        &cross_one(),
        &["b1b@head"],
        &["b1b@base"],
        &["b1b", "a1b", "base1"],
        IT.downgrade(),
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_base2_upgrade() {
    assert_iteration(
        &cross_one(),
        &["heads"],
        &["b_2@base"],
        &["d2", "c2", "b2", "a2", "base2", "a3", "base3"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_base2_downgrade() {
    assert_iteration(
        &cross_one(),
        &["heads"],
        &["b_2@base"],
        &["d2", "c2", "b2", "a2", "base2"],
        IT.downgrade(),
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_base3_upgrade() {
    // branch b_3 has no dependencies, so b1b/d2/c2 are not needed
    assert_iteration(
        &cross_one(),
        &["heads"],
        &["b_3@base"],
        &["b3", "a3", "base3"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_one_we_need_base3_downgrade() {
    // everything that depends on a3 goes first: b1b and c2 (and d2 above it)
    assert_iteration(
        &cross_one(),
        &["heads"],
        &["b_3@base"],
        &["b1b", "d2", "c2", "b3", "a3", "base3"],
        IT.downgrade(),
    );
}

// ---- MultipleBaseCrossDependencyTestTwo ------------------------------------------------------------

fn cross_two() -> RevisionMap {
    specs(vec![
        rev("base1", "").labels("b_1"),
        rev("a1", "base1"),
        rev("b1", "a1"),
        rev("c1", "b1"),
        rev("base2", "").depends_on("b_1").labels("b_2"),
        rev("a2", "base2"),
        rev("b2", "a2"),
        rev("c2", "b2"),
        rev("d2", "c2"),
        rev("base3", "").labels("b_3"),
        rev("a3", "base3"),
        rev("b3", "a3"),
        rev("c3", "b3").depends_on("b2"),
        rev("d3", "c3"),
    ])
}

#[test]
fn multiple_base_cross_dependency_test_two_what_are_the_heads() {
    assert_eq!(cross_two().heads(), ["c1", "d2", "d3"]);
}

#[test]
fn multiple_base_cross_dependency_test_two_heads_to_base() {
    assert_iteration(
        &cross_two(),
        &["heads"],
        &["base"],
        &[
            "c1", "b1", "a1", "d2", "c2", "d3", "c3", "b3", "a3", "base3", "b2", "a2", "base2",
            "base1",
        ],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_two_we_need_head2() {
    assert_iteration(
        &cross_two(),
        &["b_2@head"],
        &["base"],
        &["d2", "c2", "b2", "a2", "base2", "base1"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_two_we_need_head3() {
    assert_iteration(
        &cross_two(),
        &["b_3@head"],
        &["base"],
        &[
            "d3", "c3", "b3", "a3", "base3", "b2", "a2", "base2", "base1",
        ],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_two_we_need_head1() {
    assert_iteration(
        &cross_two(),
        &["b_1@head"],
        &["base"],
        &["c1", "b1", "a1", "base1"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_two_we_need_base1() {
    // b_1 has no dependencies
    assert_iteration(
        &cross_two(),
        &["heads"],
        &["b_1@base"],
        &["c1", "b1", "a1", "base1"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_two_we_need_base2() {
    // base2 depends on base1; nothing depends on b_3, so d3 and c3 are left out
    assert_iteration(
        &cross_two(),
        &["heads"],
        &["b_2@base"],
        &["d2", "c2", "b2", "a2", "base2", "base1"],
        IT,
    );
}

#[test]
fn multiple_base_cross_dependency_test_two_we_need_base3() {
    // c3 depends on b2, which brings b2, a2, base2 and base1
    assert_iteration(
        &cross_two(),
        &["heads"],
        &["b_3@base"],
        &[
            "d3", "c3", "b3", "a3", "base3", "b2", "a2", "base2", "base1",
        ],
        IT,
    );
}

// ---- MultipleBaseCrossDependencyTestThree / LargeMapTest ----------------------------------------------

#[test]
fn multiple_base_cross_dependency_test_three_traverse_no_parent_but_a_dep() {
    let m = specs(vec![
        rev("base1", ""),
        rev("a1", "base1"),
        rev("b1", "a1"),
        rev("c2", "").depends_on("a1"),
        rev("c3", "c2"),
    ]);
    assert_iteration(
        &m,
        &["heads"],
        &["base"],
        &["b1", "c3", "c2", "a1", "base1"],
        IT,
    );
}

/// Alembic checks that the full iteration is a valid topological order; we also
/// check that it is exactly the order Alembic produces on this map.
#[test]
fn large_map_test_all() {
    let m = map(LARGE_MAP);
    let revs = m
        .iterate_revisions(&["heads"], &["base"], Default::default())
        .unwrap();
    assert_eq!(set(&revs).len(), LARGE_MAP.len());
    for (idx, r) in revs.iter().enumerate() {
        let ancestors = set(&m.ancestors(r).unwrap());
        let descendants = set(&m.descendants(r).unwrap());
        let shared: Vec<_> = ancestors.intersection(&descendants).collect();
        assert_eq!(shared, [&r.to_string()], "only {r} itself is both");
        let remaining = set(&revs[idx + 1..]);
        if !remaining.is_empty() {
            assert!(remaining.intersection(&ancestors).next().is_some(), "{r}");
        }
    }
    assert_partial_order(&m, &revs);
    assert_eq!(revs, LARGE_MAP_HEADS_TO_BASE);
}

/// Alembic corrupts a built map by hand and expects "Dependency resolution failed".
/// Our maps cannot be corrupted after construction; the nearest case, a dependency on
/// a name that does not exist, is refused when the map is built.
#[test]
fn dep_resolution_failed_test_failure_message() {
    let errs = graph_errors(vec![
        rev("base1", ""),
        rev("a1", "base1"),
        rev("a2", "base1"),
        rev("b1", "a1").depends_on("fake"),
        rev("c1", "b1"),
    ]);
    assert!(
        errs.iter().any(|e| matches!(e,
            GraphError::MissingDependency { revision, target, .. } if revision == "b1" && target == "fake")),
        "{errs:?}"
    );
}

// ---- GraphWithLoopTest ------------------------------------------------------------------------------

/// Alembic raises `LoopDetected` (down_revision) or `DependencyLoopDetected`
/// (depends_on); we report both as [`GraphError::SelfReference`].
fn assert_self_loop(specs: Vec<migrate_core::RevisionSpec>, id: &str) {
    let errs = graph_errors(specs);
    assert!(
        errs.contains(&GraphError::SelfReference(id.to_string())),
        "{errs:?}"
    );
}

#[test]
fn graph_with_loop_test_revision_map_solitary_loop() {
    assert_self_loop(vec![rev("a", "a")], "a");
}

#[test]
fn graph_with_loop_test_revision_dupe_head() {
    let m = specs(vec![
        rev("user_foo", ""),
        rev("user", "user_foo").depends_on("user_foo"),
    ]);
    assert_iteration(&m, &["heads"], &[], &["user", "user_foo"], IT);
    assert_eq!(
        m.get("user").unwrap().normalized_down_revisions(),
        ["user_foo"]
    );
}

#[test]
fn graph_with_loop_test_revision_map_no_loop_w_overlapping_substrings() {
    let m = map(&[("user_foo", ""), ("user", "user_foo")]);
    assert_iteration(&m, &["heads"], &[], &["user", "user_foo"], IT);
}

#[test]
fn graph_with_loop_test_revision_map_no_loop_w_overlapping_substrings_dependencies() {
    let m = specs(vec![
        rev("user_foo", ""),
        rev("user", "").depends_on("user_foo"),
    ]);
    assert_iteration(&m, &["heads"], &[], &["user", "user_foo"], IT);
}

#[test]
fn graph_with_loop_test_revision_map_base_loop() {
    assert_self_loop(vec![rev("a", "a"), rev("b", "a"), rev("c", "b")], "a");
}

#[test]
fn graph_with_loop_test_revision_map_head_loop() {
    assert_self_loop(vec![rev("a", ""), rev("b", "a"), rev("c", "b,c")], "c");
}

#[test]
fn graph_with_loop_test_revision_map_branch_point_loop() {
    assert_self_loop(
        vec![
            rev("a", ""),
            rev("b", "a,b"),
            rev("c1", "b"),
            rev("c2", "b"),
        ],
        "b",
    );
}

#[test]
fn graph_with_loop_test_revision_map_merge_point_loop() {
    assert_self_loop(
        vec![
            rev("a", ""),
            rev("b1", "a"),
            rev("b2", "a"),
            rev("c", "b1,b2,c"),
        ],
        "c",
    );
}

#[test]
fn graph_with_loop_test_revision_map_solitary_dependency_loop() {
    assert_self_loop(vec![rev("a", "").depends_on("a")], "a");
}

#[test]
fn graph_with_loop_test_revision_map_base_dependency_loop() {
    assert_self_loop(
        vec![rev("a", "").depends_on("a"), rev("b", "a"), rev("c", "b")],
        "a",
    );
}

#[test]
fn graph_with_loop_test_revision_map_head_dep_loop() {
    assert_self_loop(
        vec![rev("a", ""), rev("b", "a"), rev("c", "b").depends_on("c")],
        "c",
    );
}

#[test]
fn graph_with_loop_test_revision_map_branch_point_dep_loop() {
    assert_self_loop(
        vec![
            rev("a", ""),
            rev("b", "a").depends_on("b"),
            rev("c1", "b"),
            rev("c2", "b"),
        ],
        "b",
    );
}

#[test]
fn graph_with_loop_test_revision_map_merge_point_dep_loop() {
    assert_self_loop(
        vec![
            rev("a", ""),
            rev("b1", "a"),
            rev("b2", "a"),
            rev("c", "b1,b2").depends_on("c"),
        ],
        "c",
    );
}

// ---- GraphWithCycleTest ------------------------------------------------------------------------------

/// Alembic's message lists the members in any order; ours are sorted.
fn assert_cycle(specs: Vec<migrate_core::RevisionSpec>, members: &[&str]) {
    let errs = graph_errors(specs);
    let want: Vec<String> = members.iter().map(|s| s.to_string()).collect();
    assert_eq!(errs, [GraphError::Cycle(want)]);
}

fn assert_dep_cycle(specs: Vec<migrate_core::RevisionSpec>, members: &[&str]) {
    let errs = graph_errors(specs);
    let want: Vec<String> = members.iter().map(|s| s.to_string()).collect();
    assert_eq!(errs, [GraphError::DependencyCycle(want)]);
}

#[test]
fn graph_with_cycle_test_revision_map_simple_cycle() {
    assert_cycle(
        vec![rev("a", "c"), rev("b", "a"), rev("c", "b")],
        &["a", "b", "c"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_extra_simple_cycle() {
    assert_cycle(
        vec![
            rev("a", "c"),
            rev("b", "a"),
            rev("c", "b"),
            rev("d", ""),
            rev("e", "d"),
        ],
        &["a", "b", "c"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_lower_simple_cycle() {
    assert_cycle(
        vec![
            rev("a", "c"),
            rev("b", "a"),
            rev("c", "b"),
            rev("d", "c"),
            rev("e", "d"),
        ],
        &["a", "b", "c", "d", "e"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_upper_simple_cycle() {
    assert_cycle(
        vec![
            rev("a", ""),
            rev("b", "a"),
            rev("c", "b,e"),
            rev("d", "c"),
            rev("e", "d"),
        ],
        &["a", "b", "c", "d", "e"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_simple_dep_cycle() {
    assert_dep_cycle(
        vec![rev("a", "").depends_on("c"), rev("b", "a"), rev("c", "b")],
        &["a", "b", "c"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_extra_simple_dep_cycle() {
    assert_dep_cycle(
        vec![
            rev("a", "").depends_on("c"),
            rev("b", "a"),
            rev("c", "b"),
            rev("d", ""),
            rev("e", "d"),
        ],
        &["a", "b", "c"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_lower_simple_dep_cycle() {
    assert_dep_cycle(
        vec![
            rev("a", "").depends_on("c"),
            rev("b", "a"),
            rev("c", "b"),
            rev("d", "c"),
            rev("e", "d"),
        ],
        &["a", "b", "c", "d", "e"],
    );
}

#[test]
fn graph_with_cycle_test_revision_map_upper_simple_dep_cycle() {
    assert_dep_cycle(
        vec![
            rev("a", ""),
            rev("b", "a"),
            rev("c", "b").depends_on("e"),
            rev("d", "c"),
            rev("e", "d"),
        ],
        &["a", "b", "c", "d", "e"],
    );
}

// ---- NormalizedDownRevTest (issue #789) ----------------------------------------------------------------

fn normalized() -> RevisionMap {
    specs(vec![
        rev("a1", ""),
        rev("a2", "a1"),
        rev("a3", "a2"),
        rev("b1", ""),
        rev("b2", "b1").depends_on("a3"),
        rev("b3", "b2"),
        rev("b4", "b3").depends_on("a3"),
        rev("b5", "b4").depends_on("b4"),
    ])
}

#[test]
fn normalized_down_rev_test_normalized_down_revisions() {
    let m = normalized();
    let b4 = m.get("b4").unwrap();
    // _all_down_revisions
    assert_eq!(b4.down_revisions(), ["b3"]);
    assert_eq!(b4.dependencies(), ["a3"]);
    // a3 is left out because ancestor b2 depends on it already
    assert_eq!(b4.normalized_down_revisions(), ["b3"]);
}

#[test]
fn normalized_down_rev_test_dupe_dependency() {
    let m = normalized();
    let b5 = m.get("b5").unwrap();
    assert_eq!(b5.down_revisions(), ["b4"]);
    assert_eq!(b5.normalized_down_revisions(), ["b4"]);
}

#[test]
fn normalized_down_rev_test_branch_traversal() {
    assert_iteration(
        &normalized(),
        &["b4"],
        &["b1@base"],
        &["b4", "b3", "b2", "b1"],
        IT.downgrade(),
    );
}

#[test]
fn normalized_down_rev_test_all_traversal() {
    assert_iteration(
        &normalized(),
        &["heads"],
        &["base"],
        &["b5", "b4", "b3", "b2", "b1", "a3", "a2", "a1"],
        IT.downgrade(),
    );
}

#[test]
fn normalized_down_rev_test_partial_traversal() {
    assert_iteration(
        &normalized(),
        &["heads"],
        &["a2"],
        &["b5", "b4", "b3", "b2", "a3", "a2"],
        IT.downgrade(),
    );
}

#[test]
fn normalized_down_rev_test_partial_traversal_implicit_base_one() {
    assert_iteration(
        &normalized(),
        &["heads"],
        &["a2"],
        &["b5", "b4", "b3", "b2", "b1", "a3", "a2"],
        IT.downgrade().implicit_base(),
    );
}

#[test]
fn normalized_down_rev_test_partial_traversal_implicit_base_two() {
    assert_iteration(
        &normalized(),
        &["b5"],
        &["b1"],
        &["b5", "b4", "b3", "b2", "b1", "a3", "a2", "a1"],
        IT.implicit_base(),
    );
}

#[test]
fn normalized_down_rev_test_partial_traversal_implicit_base_three() {
    let m = specs(vec![
        rev("c1", ""),
        rev("a1", ""),
        rev("a2", "a1").depends_on("c1"),
        rev("a3", "a2").depends_on("c1"),
        rev("b1", ""),
        rev("b2", "b1").depends_on("a3"),
        rev("b3", "b2"),
        rev("b4", "b3").depends_on("a3"),
        rev("b5", "b4"),
    ]);
    assert_iteration(
        &m,
        &["b5"],
        &["b1"],
        &["b5", "b4", "b3", "b2", "b1", "a3", "a2", "a1", "c1"],
        IT.implicit_base(),
    );
    // a3's dependency on c1 is implied by a2's
    assert_eq!(m.get("a3").unwrap().normalized_down_revisions(), ["a2"]);
}

// ---- get_all_current (what `alembic current` lists) --------------------------------------

/// The rows, plus what is applied only as a dependency; an ancestor through
/// `down_revision` is never listed.
#[test]
fn all_current_adds_revisions_applied_only_as_dependencies() {
    // a -> b -> c; x -> y; c depends on y.
    let m = specs(vec![
        rev("a", ""),
        rev("b", "a"),
        rev("c", "b").depends_on("y"),
        rev("x", ""),
        rev("y", "x"),
        rev("z", "y"),
    ]);
    assert_eq!(m.all_current(&["c"]).unwrap(), ["c", "y"]);
    assert_eq!(m.all_current(&["b"]).unwrap(), ["b"]);
    // Once z (a child of y) is applied too, y is no longer a branch head of the set.
    assert_eq!(m.all_current(&["c", "z"]).unwrap(), ["c", "z"]);
    assert!(m.all_current::<&str>(&[]).unwrap().is_empty());
    assert_eq!(
        m.all_current(&["nope"]),
        Err(RevisionError::UnknownCurrent("nope".into()))
    );
}
