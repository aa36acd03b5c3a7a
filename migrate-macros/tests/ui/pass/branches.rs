//! Two labelled branches, one in each subfolder, joined by a merge revision; the short
//! name `migrations!`.

static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::migrations!("tests/fixtures/branches/");

fn main() {
    let paths: Vec<&str> = MIGRATIONS.migrations.iter().map(|m| &*m.path).collect();
    // Alembic's walk: the folder's files, then each subfolder.
    assert_eq!(
        paths,
        [
            "a0_base.sql",
            "m1_merge.sql",
            "billing/b1_invoices.sql",
            "reporting/r1_reports.sql",
            "reporting/r2_report_views.sql",
        ]
    );
    let by_rev = |rev: &str| MIGRATIONS.migrations.iter().find(|m| m.revision == rev).unwrap();
    assert_eq!(by_rev("b1").branch_labels[..], ["billing"]);
    assert_eq!(by_rev("r1").branch_labels[..], ["reporting"]);
    assert_eq!(by_rev("m1").down_revisions[..], ["b1", "r2"]);
    let dir = MIGRATIONS.directory().expect("valid graph");
    assert_eq!(dir.map.heads(), ["m1"]);
    assert_eq!(dir.map.branch_points(), ["a0"]);
    assert_eq!(dir.map.merge_points(), ["m1"]);
    assert_eq!(dir.map.resolve("reporting@head").unwrap(), ["m1"]);
}
