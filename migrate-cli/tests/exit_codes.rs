//! Exit codes a deploy script can tell apart, through the real binary.

mod common;

use common::Project;

fn code(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.run(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Two revisions `a1` → `b2`, each creating a table.
fn project() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.fill("a1_", "CREATE TABLE one (id INTEGER);", "DROP TABLE one;");
    p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
    p.fill("b2_", "CREATE TABLE two (id INTEGER);", "DROP TABLE two;");
    p.ok(&["hash"]);
    p
}

#[test]
fn usage_and_connection_failures() {
    let p = project();
    assert_eq!(code(&p, &["upgrade"]).0, 2);
    assert_eq!(code(&p, &["upgrade", "head", "--no-such-flag"]).0, 2);
    let (c, err) = code(
        &p,
        &["--database-url", "postgres://u@127.0.0.1:1/db", "current"],
    );
    assert_eq!(c, 3, "{err}");
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn behind_unknown_edited_and_failed() {
    let p = project();
    // `check` only reads: it names a missing database instead of creating it.
    assert_eq!(code(&p, &["check"]).0, 3);
    p.ok(&["ensure_version"]);
    let (c, err) = code(&p, &["check"]);
    assert_eq!(c, 4, "{err}");
    assert!(err.contains("behind the migrations"), "{err}");
    p.ok(&["upgrade", "a1"]);
    assert_eq!(code(&p, &["current", "--check-heads"]).0, 4);
    p.ok(&["upgrade", "head"]);
    assert_eq!(code(&p, &["check"]).0, 0);
    assert_eq!(code(&p, &["current", "--check-heads"]).0, 0);

    // An applied migration edited (and re-hashed): check and upgrade say so.
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("CREATE TABLE one", "CREATE TABLE uno")).expect("write");
    p.ok(&["hash"]);
    let (c, err) = code(&p, &["check"]);
    assert_eq!(c, 6, "{err}");
    assert_eq!(code(&p, &["upgrade", "head"]).0, 6);
    // Edited and behind: both are reported, the first one's code wins.
    p.ok(&["stamp", "a1"]);
    let (c, err) = code(&p, &["check"]);
    assert_eq!(c, 6, "{err}");
    assert!(err.contains("2 problems found"), "{err}");
    assert!(err.contains("edited since they ran"), "{err}");
    assert!(err.contains("behind the migrations"), "{err}");
    p.ok(&["accept"]);
    p.ok(&["stamp", "b2"]);

    // The database at a revision the folder does not have (a newer release ran).
    p.ok(&["revision", "-m", "three", "--rev-id", "c3"]);
    p.fill(
        "c3_",
        "CREATE TABLE three (id INTEGER);",
        "DROP TABLE three;",
    );
    p.ok(&["hash"]);
    p.ok(&["upgrade", "head"]);
    let c3 = common::find_file(&p.path().join("migrations"), "c3_").expect("c3");
    std::fs::remove_file(c3).expect("remove");
    p.ok(&["hash"]);
    for args in [&["check"][..], &["upgrade", "head"][..], &["current"][..]] {
        let (c, err) = code(&p, args);
        assert_eq!(c, 5, "{args:?}: {err}");
        assert!(
            err.contains("'c3'") && err.contains("newer release"),
            "{err}"
        );
    }
    p.ok(&["stamp", "--purge", "b2"]);

    // A failing migration.
    p.ok(&["revision", "-m", "bad", "--rev-id", "d4"]);
    p.fill("d4_", "INSERT INTO no_such_table VALUES (1);", "");
    p.ok(&["hash"]);
    let (c, err) = code(&p, &["upgrade", "head"]);
    assert_eq!(c, 8, "{err}");
}

#[test]
fn several_heads_fail_verify_and_check_unless_allowed() {
    let p = project();
    p.ok(&["revision", "-m", "side", "--rev-id", "s1", "--head", "base"]);
    p.fill("s1_", "CREATE TABLE side (id INTEGER);", "DROP TABLE side;");
    p.ok(&["hash"]);
    p.ok(&["upgrade", "heads"]);
    for args in [
        &["verify"][..],
        &["check"][..],
        &["current", "--check-heads"][..],
    ] {
        let (c, err) = code(&p, args);
        assert_eq!(c, 7, "{args:?}: {err}");
        assert!(err.contains("several heads (b2, s1)"), "{args:?}: {err}");
    }
    assert_eq!(code(&p, &["upgrade", "head"]).0, 7);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("allow_multiple_heads = true\n{text}")).expect("write");
    for args in [
        &["verify"][..],
        &["check"][..],
        &["current", "--check-heads"][..],
    ] {
        let (c, err) = code(&p, args);
        assert_eq!(c, 0, "{args:?}: {err}");
    }
}

/// The codes an embedding application or a wrapper script can name, as the README's
/// table gives them.
#[test]
fn the_public_exit_codes_are_the_documented_ones() {
    use migrate_cli::exit;
    let table = [
        (exit::SUCCESS, 0),
        (exit::FAILURE, 1),
        (exit::USAGE, 2),
        (exit::CONNECT, 3),
        (exit::BEHIND, 4),
        (exit::UNKNOWN_REVISION, 5),
        (exit::EDITED, 6),
        (exit::MULTIPLE_HEADS, 7),
        (exit::MIGRATION_FAILED, 8),
        (exit::LOCKED, 9),
        (exit::DRIFT, 10),
        (exit::SCHEMA_AHEAD, 11),
        (exit::SCHEMA_TEST, 12),
        (exit::INTERRUPTED, 130),
    ];
    for (constant, documented) in table {
        assert_eq!(constant, documented);
    }
    let p = project();
    assert_eq!(code(&p, &["upgrade"]).0, i32::from(exit::USAGE));
}
