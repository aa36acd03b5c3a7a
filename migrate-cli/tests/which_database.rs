//! Which database a command acts on: named before it is changed, never created by a
//! command that only reads, and one URL per section in a multi-database setup.

mod common;

use common::Project;

#[test]
fn read_only_commands_do_not_create_a_database() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    let db = p.path().join("test.db");
    for args in [
        &["current"][..],
        &["check"][..],
        &["history", "-r", "current:"][..],
    ] {
        let out = p.run(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("does not exist; this command only reads"),
            "{err}"
        );
        assert!(!db.exists(), "{args:?} created the database");
    }
    let out = p.run(&["upgrade", "head"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("Using database {} (from $DATABASE_URL)\n", p.url)),
        "{err}"
    );
    assert!(db.exists());
    assert!(p.ok(&["current"]).contains("a1"));
}

#[test]
fn sections_take_their_own_variable_and_database_url_never_overrides_them() {
    let p = common::multidb_project();
    let elsewhere = p.path().join("elsewhere.db");
    let out = p
        .cmd(&["-n", "main", "upgrade", "head"])
        .env("DATABASE_URL", format!("sqlite://{}", elsewhere.display()))
        .env(
            "MAIN_DATABASE_URL",
            format!("sqlite://{}/tickets.db", p.path().display()),
        )
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: DATABASE_URL is set but not used"),
        "{err}"
    );
    assert!(
        err.contains("tickets.db (from $MAIN_DATABASE_URL)"),
        "{err}"
    );
    assert!(
        !elsewhere.exists(),
        "DATABASE_URL must not redirect a section"
    );
    assert!(p.path().join("tickets.db").exists());
    // Without its variable, the section's own database_url.
    let out = p
        .cmd(&["-n", "analytics", "upgrade", "head"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("analytics.db (from database_url in"), "{err}");
}
