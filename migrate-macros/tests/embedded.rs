//! The embedded data equals what `migrate-core` reads from disk for the same folder
//! (sqlx's `tests/migrate/macro.rs` keeps the same check).

use migrate_core::{Script, ScriptDirectory};
use migrate_runtime::EmbeddedMigrations;
use std::path::Path;

static LINEAR: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/fixtures/linear");
static BRANCHES: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/fixtures/branches");
static DEPENDS_ON: EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/depends-on", allow_multiple_heads);
static NON_TRANSACTIONAL: EmbeddedMigrations =
    migrate_runtime::migrations!("tests/fixtures/non-transactional");
static CRLF: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/fixtures/crlf");
static DOC_EXAMPLE: EmbeddedMigrations = migrate_runtime::embed_migrations!("migrations");
static RUST: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/fixtures/rust");

fn load(folder: &str) -> ScriptDirectory {
    ScriptDirectory::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)).unwrap()
}

/// Every field of every script, compared one by one so a failure names the field.
fn assert_same(embedded: &EmbeddedMigrations, folder: &str) {
    let disk = load(folder);
    assert_eq!(
        embedded.migrations.len(),
        disk.scripts.len(),
        "{folder}: number of migrations"
    );
    assert!(!disk.scripts.is_empty(), "{folder} is empty");
    for (m, want) in embedded.migrations.iter().zip(&disk.scripts) {
        let got: Script = m.clone();
        let ctx = format!("{folder}/{}", want.path);
        assert_eq!(got.path, want.path, "{ctx}: path");
        assert_eq!(got.revision, want.revision, "{ctx}: revision");
        assert_eq!(
            got.down_revisions, want.down_revisions,
            "{ctx}: down_revisions"
        );
        assert_eq!(
            got.branch_labels, want.branch_labels,
            "{ctx}: branch_labels"
        );
        assert_eq!(got.depends_on, want.depends_on, "{ctx}: depends_on");
        assert_eq!(got.message, want.message, "{ctx}: message");
        assert_eq!(got.create_date, want.create_date, "{ctx}: create_date");
        assert_eq!(
            got.transactional, want.transactional,
            "{ctx}: transactional"
        );
        assert_eq!(got.upgrade, want.upgrade, "{ctx}: upgrade sections");
        assert_eq!(got.downgrade, want.downgrade, "{ctx}: downgrade sections");
        assert_eq!(got.checksum, want.checksum, "{ctx}: checksum");
        assert_eq!(got.extra_fields, want.extra_fields, "{ctx}: extra fields");
        assert_eq!(&got, want, "{ctx}");
    }
    // The graph rebuilt from the embedded data is the one on disk.
    let rebuilt = embedded.directory().unwrap();
    assert_eq!(rebuilt.map.heads(), disk.map.heads(), "{folder}: heads");
    assert_eq!(rebuilt.map.bases(), disk.map.bases(), "{folder}: bases");
    assert_eq!(
        rebuilt.map.branch_labels(),
        disk.map.branch_labels(),
        "{folder}: branch labels"
    );
    assert_eq!(rebuilt.sum_file(), disk.sum_file(), "{folder}: sums");
}

#[test]
fn linear_matches_disk() {
    assert_same(&LINEAR, "tests/fixtures/linear");
    assert!(!LINEAR.allow_multiple_heads);
}

#[test]
fn branches_match_disk() {
    assert_same(&BRANCHES, "tests/fixtures/branches");
}

#[test]
fn depends_on_matches_disk() {
    assert_same(&DEPENDS_ON, "tests/fixtures/depends-on");
    assert!(DEPENDS_ON.allow_multiple_heads);
}

#[test]
fn non_transactional_matches_disk() {
    assert_same(&NON_TRANSACTIONAL, "tests/fixtures/non-transactional");
    assert!(NON_TRANSACTIONAL
        .migrations
        .iter()
        .any(|m| !m.transactional));
}

#[test]
fn crlf_matches_disk_and_its_lf_twin() {
    assert_same(&CRLF, "tests/fixtures/crlf");
    let lf: Vec<_> = LINEAR.migrations.iter().map(|m| m.checksum).collect();
    let crlf: Vec<_> = CRLF.migrations.iter().map(|m| m.checksum).collect();
    assert_eq!(lf, crlf);
}

#[test]
fn rust_migrations_match_disk_and_carry_their_code() {
    assert_same(&RUST, "tests/fixtures/rust");
    let with_code: Vec<(&str, bool)> = RUST
        .migrations
        .iter()
        .filter_map(|m| {
            let code = RUST.rust_migration(&m.revision)?;
            Some((&*m.revision, code.downgrade.is_some()))
        })
        .collect();
    assert_eq!(with_code, [("r2", true)]);
    let r2 = RUST.migrations[1].clone();
    assert!(r2.is_rust() && r2.is_reversible() && !r2.transactional);
    assert!(RUST.migrations[2].has_batches());
}

#[test]
fn doc_example_matches_disk() {
    assert_same(&DOC_EXAMPLE, "migrations");
}
