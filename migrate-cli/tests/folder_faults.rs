//! Issue 10, items 7 to 11: what a versions folder may hold besides migrations. Every
//! command that loads the folder refuses the same entries with the same message, with
//! the parse cache and without it (`MIGRATE_NO_CACHE=1`), and none of them hangs
//! (`verify`, which lists these refusals among every other problem, is tested in
//! `verify_all.rs`).
#![cfg(unix)]

mod common;

use common::{transcript, Project};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// The commands that load the versions folder.
const COMMANDS: &[&[&str]] = &[
    &["heads"],
    &["history"],
    &["upgrade", "head"],
    &["upgrade", "--sql", "base:head"],
    &["check"],
    &["hash"],
];

/// A project with two revisions and a matching `migrations.sum`.
fn project() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
    p
}

/// Runs the binary, failing the test (and killing the child) when it has not finished
/// within 30 seconds: a command that opens a named pipe waits forever.
fn run(p: &Project, args: &[&str], no_cache: bool) -> Output {
    let mut cmd = p.cmd(args);
    if no_cache {
        cmd.env("MIGRATE_NO_CACHE", "1");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn migrate");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`migrate {}` hung", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The exit code and the error a command printed, without the status lines some
/// commands print before it (`Using database ...`).
fn failure(p: &Project, out: &Output) -> String {
    let text = transcript(p, out);
    let stderr = text.split("----- stderr -----\n").nth(1).unwrap_or("");
    let error = match stderr.find("error: ") {
        Some(i) if i == 0 || stderr[..i].ends_with('\n') => &stderr[i..],
        _ => stderr,
    };
    format!("exit_code: {}\n{error}", out.status.code().unwrap_or(-1))
}

/// Runs every command that loads the folder, with and without the cache, and returns
/// the one failure they all give (the test fails if any differs or succeeds).
fn every_command_fails_alike(p: &Project) -> String {
    let mut first: Option<(String, String)> = None;
    for args in COMMANDS {
        for no_cache in [false, true] {
            let out = run(p, args, no_cache);
            let text = failure(p, &out);
            let what = format!(
                "migrate {}{}",
                args.join(" "),
                if no_cache {
                    " (MIGRATE_NO_CACHE=1)"
                } else {
                    ""
                }
            );
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what}:\n{}",
                transcript(p, &out)
            );
            match &first {
                None => first = Some((what, text)),
                Some((w, t)) => assert_eq!(&text, t, "{what} differs from {w}"),
            }
        }
    }
    first.map(|(_, t)| t).unwrap_or_default()
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

fn sum_of(p: &Project) -> String {
    std::fs::read_to_string(p.path().join("migrations/migrations.sum")).expect("sum")
}

// ---- 7: named pipes --------------------------------------------------------------

#[test]
fn a_named_pipe_named_sql_is_refused_by_every_command_without_hanging() {
    let p = project();
    p.ok(&["heads"]); // a warm cache
    mkfifo(&p.path().join("migrations/c3_pipe.sql"));
    insta::assert_snapshot!(every_command_fails_alike(&p), @r"
    exit_code: 1
    error: `migrations/c3_pipe.sql` is a named pipe (FIFO), not a regular file; replace it with a regular file or remove it
    ");
}

#[test]
fn a_named_pipe_not_named_sql_is_ignored() {
    let p = project();
    mkfifo(&p.path().join("migrations/notes.pipe"));
    for args in COMMANDS {
        for no_cache in [false, true] {
            let out = run(&p, args, no_cache);
            assert!(
                out.status.success(),
                "migrate {args:?} (no cache: {no_cache}):\n{}",
                transcript(&p, &out)
            );
        }
    }
}

#[test]
fn a_named_pipe_as_migrations_sum_is_refused_without_hanging() {
    let p = project();
    p.ok(&["upgrade", "head"]); // a database to check
    let sum = p.path().join("migrations/migrations.sum");
    std::fs::remove_file(&sum).expect("remove sum");
    mkfifo(&sum);
    for args in [&["verify"][..], &["check"], &["hash"], &["upgrade", "head"]] {
        let out = run(&p, args, false);
        let text = transcript(&p, &out);
        assert_eq!(out.status.code(), Some(1), "{args:?}:\n{text}");
        assert!(
            text.contains("`migrations/migrations.sum` is a named pipe (FIFO), not a regular file"),
            "{args:?}:\n{text}"
        );
    }
}

// ---- 8: names that are not UTF-8 ---------------------------------------------------

#[test]
fn a_name_that_is_not_utf8_is_refused_by_every_command() {
    let p = project();
    p.ok(&["heads"]); // a warm cache
    let versions = p.path().join("migrations");
    let good = std::fs::read(common::find_file(&versions, "b2_").expect("b2")).expect("read");
    let text = String::from_utf8(good)
        .expect("utf-8")
        .replace("revision: b2", "revision: c3")
        .replace("down_revision: a1", "down_revision: b2");
    let bad = versions.join(std::ffi::OsStr::from_bytes(b"a4\xff.sql"));
    std::fs::write(&bad, text).expect("write");
    insta::assert_snapshot!(every_command_fails_alike(&p), @r"
    exit_code: 1
    error: the name of `migrations/a4�.sql` is not valid UTF-8; rename it
    ");
}

#[test]
fn a_folder_name_that_is_not_utf8_is_refused() {
    let p = project();
    let folder = p
        .path()
        .join("migrations")
        .join(std::ffi::OsStr::from_bytes(b"old\xfe"));
    std::fs::create_dir(&folder).expect("mkdir");
    let out = run(&p, &["heads"], false);
    assert_eq!(out.status.code(), Some(1));
    assert!(transcript(&p, &out)
        .contains("error: the name of `migrations/old�` is not valid UTF-8; rename it"));
}

// ---- 9: control characters in names ----------------------------------------------

#[test]
fn a_name_with_a_newline_is_refused_and_hash_writes_nothing() {
    let p = project();
    let before = sum_of(&p);
    std::fs::write(p.path().join("migrations/c3\nx.sql"), "-- c3\n").expect("write");
    insta::assert_snapshot!(every_command_fails_alike(&p), @r"
    exit_code: 1
    error: the name of `migrations/c3\nx.sql` contains the control character '\n'; rename it
    ");
    assert_eq!(sum_of(&p), before, "hash must not rewrite migrations.sum");
}

#[test]
fn names_with_other_control_characters_are_refused() {
    for (name, shown) in [
        (
            "c3\rx.sql",
            "c3\\rx.sql` contains the control character '\\r'",
        ),
        (
            "c3\tx.sql",
            "c3\\tx.sql` contains the control character '\\t'",
        ),
        (
            "c3\u{1b}x.sql",
            "c3\\u{1b}x.sql` contains the control character '\\u{1b}'",
        ),
        (
            "sub\n/c3.sql",
            "sub\\n` contains the control character '\\n'",
        ),
    ] {
        let p = project();
        let path = p.path().join("migrations").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "-- c3\n").expect("write");
        for args in [&["hash"][..], &["heads"]] {
            let out = run(&p, args, false);
            let text = transcript(&p, &out);
            assert_eq!(out.status.code(), Some(1), "{name:?} {args:?}:\n{text}");
            assert!(
                text.contains(&format!(
                    "error: the name of `migrations/{shown}; rename it"
                )),
                "{name:?} {args:?}:\n{text}"
            );
        }
    }
}

// ---- 10: file_template outside the versions folder --------------------------------

fn set_file_template(p: &Project, template: &str) {
    let path = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&path).expect("read config");
    let old = "file_template = \"%(rev)s_%(slug)s\"";
    assert!(text.contains(old));
    let new = format!("file_template = {}", toml_string(template));
    std::fs::write(&path, text.replace(old, &new)).expect("write config");
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn a_file_template_that_leaves_the_versions_folder_is_refused() {
    let p = project();
    let before = sum_of(&p);
    // The issue's template: `migrations/../../x_<rev>.sql` is beside the temp project.
    let rev = format!("t{}", std::process::id());
    let escaped = p
        .path()
        .parent()
        .expect("parent")
        .join(format!("x_{rev}.sql"));
    set_file_template(&p, "../../x_%(rev)s");
    let out = run(&p, &["revision", "-m", "three", "--rev-id", &rev], false);
    let written = escaped.exists();
    let _ = std::fs::remove_file(&escaped);
    assert!(
        !written,
        "the revision was written outside the versions folder"
    );
    let text = failure(&p, &out).replace(&rev, "[REV]");
    insta::assert_snapshot!(text, @r#"
    exit_code: 1
    error: migrate.toml: file_template "../../x_%(rev)s" gives `../../x_[REV].sql`, which leaves the versions folder through `..`; write a file name relative to the versions folder, such as "%(rev)s_%(slug)s"
    "#);
    assert_eq!(sum_of(&p), before);

    // One level up, an absolute path, and `..` made by an empty slug.
    let outside = p.path().join("abs");
    for (template, message) in [
        (
            "../x_%(rev)s",
            "which leaves the versions folder through `..`",
        ),
        (
            &*format!("{}/%(rev)s", outside.display()),
            "which is an absolute path, outside the versions folder",
        ),
        (
            ".%(slug)s./%(rev)s",
            "which leaves the versions folder through `..`",
        ),
    ] {
        let p = project();
        let before = sum_of(&p);
        set_file_template(&p, template);
        let out = run(&p, &["revision", "--rev-id", "c3"], false);
        let text = transcript(&p, &out);
        assert_eq!(out.status.code(), Some(1), "{template}:\n{text}");
        assert!(
            text.contains(&format!("file_template {template:?} gives")) && text.contains(message),
            "{template}:\n{text}"
        );
        assert!(common::find_file(p.path(), "c3").is_none(), "{template}");
        assert!(common::find_file(p.path(), "x_c3").is_none(), "{template}");
        assert_eq!(sum_of(&p), before, "{template}");
    }

    // A subfolder inside the versions folder stays allowed.
    let p = project();
    set_file_template(&p, "%(year)d/%(rev)s_%(slug)s");
    p.ok(&["revision", "-m", "three", "--rev-id", "c3"]);
    assert_eq!(p.ok(&["heads"]), "c3 (head)\n");
    p.ok(&["verify"]);
}

// ---- 11: symbolic link loops ------------------------------------------------------

#[test]
fn a_symbolic_link_loop_is_one_error_naming_the_link() {
    let p = project();
    std::os::unix::fs::symlink(".", p.path().join("migrations/self")).expect("symlink");
    let text = every_command_fails_alike(&p);
    assert!(!text.contains("duplicate"), "{text}");
    insta::assert_snapshot!(text, @r"
    exit_code: 1
    error: `migrations/self` leads back to `migrations`, a folder that contains it, so the folder walk would never end; remove the link
    ");
}

#[test]
fn a_link_to_a_folder_outside_is_followed() {
    let p = project();
    let shared = p.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    let b2 = common::find_file(&p.path().join("migrations"), "b2_").expect("b2");
    let text = std::fs::read_to_string(&b2)
        .expect("read")
        .replace("revision: b2", "revision: c3")
        .replace("down_revision: a1", "down_revision: b2");
    std::fs::write(shared.join("c3_shared.sql"), text).expect("write");
    std::os::unix::fs::symlink("../shared", p.path().join("migrations/shared")).expect("symlink");
    p.ok(&["hash"]);
    assert_eq!(p.ok(&["heads"]), "c3 (head)\n");
    p.ok(&["verify"]);
}

// ---- issue 11, item 7: Alembic's file order ----------------------------------------

/// A folder's files come before its subfolders (Alembic's `os.walk`): `m003.sql` before
/// `alpha/x.sql`, with the cache and without it.
#[test]
fn a_folders_files_come_before_its_subfolders() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let root = |rev: &str| {
        format!("-- {rev}\n-- revision: {rev}\n-- down_revision:\n\n-- migrate:upgrade\nCREATE TABLE t_{rev} (id INT);\n\n-- migrate:downgrade\nDROP TABLE t_{rev};\n")
    };
    let versions = p.path().join("migrations");
    std::fs::create_dir_all(versions.join("alpha")).expect("mkdir");
    std::fs::write(versions.join("alpha/x.sql"), root("x1")).expect("write");
    std::fs::write(versions.join("m003.sql"), root("m3")).expect("write");
    p.ok(&["hash"]);
    for no_cache in [false, true, false] {
        let out = run(&p, &["heads"], no_cache);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "m3 (head)\nx1 (head)\n",
            "{}",
            transcript(&p, &out)
        );
    }
}

// ---- issue 20, item 3: NUL bytes -----------------------------------------------------

/// Whether the project's SQLite database has a table.
fn has_table(p: &Project, table: &str) -> bool {
    p.count(&format!(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
    )) > 0
}

/// SQLite reads a NUL as the end of the SQL: the statements after it were skipped and
/// the revision recorded, `verify` passing. Every command refuses the file, naming it
/// and the line, and nothing of it runs or is recorded.
#[test]
fn a_nul_byte_in_a_migration_is_refused_with_its_line_and_nothing_is_recorded() {
    let p = project();
    p.ok(&["upgrade", "a1"]);
    p.fill(
        "b2_",
        "CREATE TABLE t_before (id INT);\0\nCREATE TABLE t_after (id INT);",
        "DROP TABLE t_after;\nDROP TABLE t_before;",
    );
    // `hash` only checksums files (it works on a folder with a broken file); with the
    // sum recorded, the NUL byte is the one problem left.
    p.ok(&["hash"]);
    // `verify` words its list of problems its own way; each command names the line.
    for args in COMMANDS.iter().filter(|a| a[0] != "hash") {
        for no_cache in [false, true] {
            let out = run(&p, args, no_cache);
            let text = failure(&p, &out);
            assert_eq!(out.status.code(), Some(1), "{args:?}:\n{text}");
            assert!(
                text.contains("b2_two.sql:10: a NUL byte (\\0) in the file"),
                "{args:?} (no cache: {no_cache}):\n{text}"
            );
        }
    }
    insta::assert_snapshot!(failure(&p, &run(&p, &["upgrade", "head"], false)), @r"
    exit_code: 1
    error: b2_two.sql:10: a NUL byte (\0) in the file: databases read it as the end of the SQL, so what follows would not run; remove it
    ");
    assert!(!has_table(&p, "t_before") && !has_table(&p, "t_after"));
    assert_eq!(
        p.count("SELECT COUNT(*) FROM alembic_version WHERE version_num = 'a1'"),
        1
    );
    assert_eq!(p.count("SELECT COUNT(*) FROM alembic_version"), 1);
}

/// A NUL byte in the declared schema made `diff`, `check` and `revision --autogenerate`
/// spin at 100% CPU forever on SQLite (sqlx's SQLite driver preparing nothing, again
/// and again, at the NUL). They refuse the file at once, naming it and the line.
#[test]
fn a_nul_byte_in_the_declared_schema_is_refused_at_once_with_its_line() {
    let p = project();
    p.ok(&["upgrade", "head"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    std::fs::write(
        p.path().join("schema/tables.sql"),
        "CREATE TABLE a (id INTEGER PRIMARY KEY);\n\0\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n",
    )
    .expect("write");
    let mut first: Option<String> = None;
    for args in [
        &["diff"][..],
        &["check"],
        &[
            "revision",
            "--autogenerate",
            "-m",
            "three",
            "--rev-id",
            "c3",
        ],
    ] {
        let started = Instant::now();
        let out = run(&p, args, false);
        let text = failure(&p, &out);
        assert_eq!(out.status.code(), Some(1), "{args:?}:\n{text}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            started.elapsed()
        );
        match &first {
            None => first = Some(text),
            Some(t) => assert_eq!(&text, t, "{args:?}"),
        }
    }
    insta::assert_snapshot!(first.unwrap_or_default(), @r"
    exit_code: 1
    error: tables.sql:2: a NUL byte (\0) in the file: databases read it as the end of the SQL, so what follows would not run; remove it
    ");
    assert!(common::find_file(&p.path().join("migrations"), "c3").is_none());
}
