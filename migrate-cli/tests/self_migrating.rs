//! The standalone `migrate` on a folder with a Rust migration: the schema commands that
//! replay the migrations cannot run its code, and say which command of the application
//! that embeds it does (issue 20, item 8). The application side (`support-desk migrate
//! revision --autogenerate`...) is tested in `examples/support-desk/tests/self_migrating.rs`,
//! on the built service.

mod common;

use common::{transcript, Project};

/// `a1` (SQL: `items`), `b2` (Rust, from `revision --rust`), and a declared schema with a
/// column more than the migrations give.
fn project() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "create items", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0);",
        "DROP TABLE items;",
    );
    p.ok(&["hash"]);
    p.ok(&[
        "revision",
        "-m",
        "backfill items",
        "--rust",
        "--rev-id",
        "b2",
    ]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("read migrate.toml");
    std::fs::write(&config, format!("{text}\nschema_location = \"schema\"\n")).expect("write");
    std::fs::create_dir(p.path().join("schema")).expect("schema folder");
    std::fs::write(
        p.path().join("schema/items.sql"),
        "-- migrate:schema\nCREATE TABLE items (id INTEGER PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0, note TEXT);\n",
    )
    .expect("write schema");
    p
}

#[test]
fn replaying_commands_name_the_application_command() {
    let p = project();
    p.ok(&["ensure_version"]);
    let mut log = String::new();
    for args in [
        &["test"][..],
        &["diff"],
        &["check"],
        &["revision", "--autogenerate", "-m", "add item notes"],
    ] {
        let out = p.run(args);
        assert_eq!(out.status.code(), Some(1), "{}", transcript(&p, &out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("`cargo run -- migrate {}`", quoted(args))),
            "{err}"
        );
        log.push_str(&format!(
            "$ migrate {}\n{}\n",
            args.join(" "),
            transcript(&p, &out)
        ));
    }
    insta::assert_snapshot!("replaying_commands", log);
    assert!(
        common::find_file(&p.path().join("migrations"), "add_item_notes").is_none(),
        "nothing written"
    );

    // Reading the database needs no replay, and is not refused.
    let out = p.run(&["diff", "--from", "database", "--to", "schema"]);
    assert!(out.status.success(), "{}", transcript(&p, &out));
}

/// The arguments as the message quotes them.
fn quoted(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.contains(' ') {
                format!("\"{a}\"")
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A URL given on the command line is shown masked in the command to run instead.
#[test]
fn the_command_to_run_masks_a_password() {
    let p = project();
    let out = p.run(&[
        "revision",
        "--autogenerate",
        "-m",
        "x",
        "--also",
        "postgres://app:s3cret@127.0.0.1:1/x",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "`cargo run -- migrate revision --autogenerate -m x --also \"postgres://app:***@127.0.0.1:1/x\"`"
        ),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}
