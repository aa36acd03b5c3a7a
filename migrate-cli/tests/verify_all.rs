//! Issue 20, item 11: `migrate verify` lists every problem at once ("graph and sum, no
//! database; lists every problem"): every entry that cannot be read, every file that
//! does not parse, the graph of those that do, every disagreement with
//! `migrations.sum`, several heads, in every section. Text and `--json`, through the
//! real binary.
#![cfg(unix)]

mod common;

use common::{transcript, Project};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A project with three revisions `a1 <- b2 <- c3` and a matching `migrations.sum`.
fn project() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    for (id, message) in [("a1", "one"), ("b2", "two"), ("c3", "three")] {
        p.ok(&["revision", "-m", message, "--rev-id", id]);
    }
    p
}

fn versions(p: &Project) -> PathBuf {
    p.path().join("migrations")
}

/// A migration `rev` after `down`, written as `name` in the versions folder.
fn write(p: &Project, name: &str, rev: &str, down: &str) {
    std::fs::write(
        versions(p).join(name),
        format!("-- {rev}\n-- revision: {rev}\n-- down_revision: {down}\n\n-- migrate:upgrade\nSELECT 1;\n\n-- migrate:downgrade\nSELECT 1;\n"),
    )
    .expect("write");
}

/// Appends a line to the generated file of `rev`: `migrations.sum` no longer matches.
fn edit(p: &Project, rev: &str) {
    let file = common::find_file(&versions(p), &format!("{rev}_")).expect("revision file");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, format!("{text}-- edited\n")).expect("write");
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// `migrate verify` and `migrate verify --json`, as transcripts. The JSON run's stdout
/// must be one document.
fn both(p: &Project) -> String {
    let text = p.run(&["verify"]);
    let json = p.run(&["verify", "--json"]);
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&json.stdout);
    assert!(
        parsed.is_ok(),
        "not one document:\n{}",
        transcript(p, &json)
    );
    format!(
        "$ migrate verify\n{}\n$ migrate verify --json\n{}",
        transcript(p, &text),
        transcript(p, &json)
    )
}

#[test]
fn every_problem_of_the_folder_is_listed_at_once() {
    let p = project();
    // Two files that do not parse: an unknown directive, no `revision`.
    std::fs::write(
        versions(&p).join("d4_bad.sql"),
        "-- d4\n-- revision: d4\n-- down_revision: c3\n\n-- migrate:bogus\nSELECT 1;\n",
    )
    .expect("write");
    std::fs::write(
        versions(&p).join("e5_bad.sql"),
        "-- e5\n-- down_revision: c3\n\n-- migrate:upgrade\nSELECT 1;\n",
    )
    .expect("write");
    // Two entries that cannot be read: a named pipe, a name that is not UTF-8.
    mkfifo(&versions(&p).join("f6_pipe.sql"));
    write(&p, "g7.sql", "g7", "c3");
    std::fs::rename(
        versions(&p).join("g7.sql"),
        versions(&p).join(std::ffi::OsStr::from_bytes(b"g7\xff.sql")),
    )
    .expect("rename");
    // A graph problem among the files that parse, and an edited migration.
    write(&p, "h8_orphan.sql", "h8", "zz");
    edit(&p, "a1");
    insta::assert_snapshot!("every_problem", both(&p));
}

#[test]
fn a_sum_mismatch_and_several_heads_are_both_listed() {
    let p = project();
    write(&p, "d4_branch.sql", "d4", "b2");
    edit(&p, "c3");
    let out = p.run(&["verify"]);
    // The first problem listed gives the exit code, as `check` does.
    assert_eq!(out.status.code(), Some(1), "{}", transcript(&p, &out));
    insta::assert_snapshot!("sum_and_heads", both(&p));

    // Several heads alone still exit 7.
    p.ok(&["hash"]);
    let out = p.run(&["verify"]);
    assert_eq!(out.status.code(), Some(7), "{}", transcript(&p, &out));
}

#[test]
fn a_listed_file_that_cannot_be_read_is_not_also_called_absent() {
    let p = project();
    let b2 = common::find_file(&versions(&p), "b2_").expect("b2");
    std::fs::remove_file(&b2).expect("remove");
    mkfifo(&b2);
    edit(&p, "c3");
    let text = both(&p);
    assert!(
        !text.contains("does not exist; run `migrate hash`"),
        "{text}"
    );
    insta::assert_snapshot!("unreadable_listed_file", text);
}

#[test]
fn every_malformed_line_of_the_sum_is_listed_with_the_files_problems() {
    let p = project();
    let sum = versions(&p).join("migrations.sum");
    let text = std::fs::read_to_string(&sum).expect("read");
    // A merge conflict left in the sum.
    std::fs::write(
        &sum,
        format!("<<<<<<< HEAD\n{text}=======\n>>>>>>> theirs\n"),
    )
    .expect("write");
    edit(&p, "b2");
    write(&p, "d4_new.sql", "d4", "c3");
    insta::assert_snapshot!("malformed_sum", both(&p));
}

#[test]
fn a_folder_loop_does_not_hide_the_other_problems() {
    let p = project();
    std::os::unix::fs::symlink(".", versions(&p).join("self")).expect("symlink");
    std::fs::write(versions(&p).join("d4_bad.sql"), "-- d4\n").expect("write");
    edit(&p, "a1");
    let out = p.run(&["verify"]);
    let text = transcript(&p, &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for wanted in [
        "`migrations/self` leads back to `migrations`",
        "d4_bad.sql:1: missing required header field `revision`",
        "migrations.sum does not match `a1_one.sql`",
        "`d4_bad.sql` is not listed in migrations.sum",
    ] {
        assert!(text.contains(wanted), "{wanted:?} missing:\n{text}");
    }
}

#[test]
fn every_section_is_verified() {
    let p = common::multidb_project();
    let run = |args: &[&str]| {
        let mut c = p.cmd(args);
        c.env_remove("DATABASE_URL");
        c.output().expect("run")
    };
    let section = |name: &str| p.path().join("dbs").join(name);
    // `main`: a file that does not parse; `analytics`: an edit and a branch.
    std::fs::write(section("main").join("mb2_bad.sql"), "-- mb2\n").expect("write");
    let an1 = common::find_file(&section("analytics"), "an1_").expect("an1");
    let text = std::fs::read_to_string(&an1).expect("read");
    std::fs::write(&an1, format!("{text}-- edited\n")).expect("write");
    std::fs::write(
        section("analytics").join("an2_branch.sql"),
        "-- an2\n-- revision: an2\n-- down_revision:\n\n-- migrate:upgrade\nSELECT 1;\n",
    )
    .expect("write");
    let text = run(&["verify"]);
    let json = run(&["verify", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", transcript(&p, &json)));
    assert_eq!(doc.as_array().map(Vec::len), Some(2), "{doc}");
    insta::assert_snapshot!(
        "every_section",
        format!(
            "$ migrate verify\n{}\n$ migrate verify --json\n{}",
            transcript(&p, &text),
            transcript(&p, &json)
        )
    );

    // A good section is reported as such beside a failing one.
    std::fs::remove_file(section("main").join("mb2_bad.sql")).expect("remove");
    let out = run(&["verify"]);
    let text = transcript(&p, &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("dbs/main: 1 migrations, head ma1, migrations.sum matches"),
        "{text}"
    );
    assert!(
        text.contains("3 problems found in `dbs/analytics`"),
        "{text}"
    );
}
