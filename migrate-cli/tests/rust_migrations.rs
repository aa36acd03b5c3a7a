//! Rust migrations and batched statements through the `migrate` command: `revision
//! --rust`, every listing, the refusal to run Rust (naming the way to do it), offline
//! scripts that stop at them, and batched statements with their progress lines and
//! Ctrl-C.

mod common;

use common::{transcript, Project};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// `a1` (SQL) then `b2` (Rust, from `revision --rust`).
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
    p
}

/// Runs each command and keeps its transcript, for one snapshot.
fn session(p: &Project, commands: &[&[&str]]) -> String {
    let mut log = String::new();
    for args in commands {
        let out = p.run(args);
        log.push_str(&format!(
            "$ migrate {}\n{}\n",
            args.join(" "),
            transcript(p, &out)
        ));
    }
    log
}

#[test]
fn rust_migrations_are_listed_refused_and_stop_offline_scripts() {
    let p = project();
    let file = common::find_file(&p.path().join("migrations"), "b2_").expect("b2 written");
    assert_eq!(file.extension().and_then(|e| e.to_str()), Some("rs"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("// backfill items\n//\n// revision: b2\n// down_revision: a1\n"),
        "{text}"
    );
    assert!(
        text.contains("pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult")
    );
    let sum = std::fs::read_to_string(p.path().join("migrations/migrations.sum")).unwrap();
    assert!(sum.contains("  b2_backfill_items.rs\n"), "{sum}");

    let log = session(
        &p,
        &[
            &["history"],
            &["heads"],
            &["show", "b2"],
            &["verify"],
            &["upgrade", "head"],
            &["current"],
            &["upgrade", "--sql", "base:head"],
            &["upgrade", "--sql", "base:a1"],
            &["upgrade", "a1"],
            &["pending"],
            &["check"],
            &["upgrade", "head"],
            &["downgrade", "--sql", "b2:base"],
        ],
    );
    insta::assert_snapshot!("rust_migrations", log);
}

/// `a1` with 20,000 items, then `b2`, a batched statement over them.
fn batched_project(pause: &str) -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "create items", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0);\nINSERT INTO items (id) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) SELECT i FROM c;",
        "DROP TABLE items;",
    );
    p.ok(&["revision", "-m", "mark items", "--rev-id", "b2"]);
    let file = common::find_file(&p.path().join("migrations"), "b2_").unwrap();
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "-- create_date:",
        "-- transactional: false\n-- create_date:",
    );
    let text = text.replace(
        "-- migrate:upgrade\n",
        &format!("-- migrate:upgrade\n-- migrate:batch size=1000 pause={pause}\nUPDATE items SET done = done + 1 WHERE id IN (SELECT id FROM items WHERE done = 0 ORDER BY id LIMIT {{batch_size}});\n"),
    );
    std::fs::write(&file, text).unwrap();
    p.ok(&["hash"]);
    p
}

fn count(p: &Project, sql: &str) -> i64 {
    p.count(sql)
}

#[test]
fn batched_statements_log_their_progress_when_stderr_is_not_a_terminal() {
    let p = batched_project("30ms");
    let out = p
        .cmd(&["upgrade", "head"])
        .env("MIGRATE_PROGRESS_INTERVAL", "0.2")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("still running revision b2 ("))
        .collect();
    assert!(!progress.is_empty(), "{err}");
    // `still running revision b2 (0 s): 7,000 rows, 11,203 rows/s`
    assert!(
        progress
            .iter()
            .all(|l| l.contains(" rows, ") && l.ends_with(" rows/s")),
        "{progress:?}"
    );
    assert_eq!(
        count(&p, "SELECT COUNT(*) FROM items WHERE done = 1"),
        20_000
    );
    assert_eq!(
        count(&p, "SELECT COUNT(*) FROM alembic_version_progress"),
        0
    );
}

#[test]
fn ctrl_c_stops_after_the_current_batch_and_the_next_run_continues() {
    let p = batched_project("50ms");
    let mut child = p
        .cmd(&["upgrade", "head"])
        .env("MIGRATE_PROGRESS_INTERVAL", "0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    // Wait for a progress line of the batched step, then Ctrl-C (SIGINT).
    let mut log = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let batching = line.starts_with("still running revision b2") && line.contains("rows");
        log.push(line);
        if batching {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{log:?}");
    }
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    log.extend(lines.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{log:#?}");
    let text = log.join("\n");
    assert!(
        text.contains("Ctrl-C: stopping after the current batch"),
        "{text}"
    );
    assert!(
        text.contains("error: interrupted: revision `b2` (b2_mark_items.sql) stopped after a committed batch ("),
        "{text}"
    );
    let done = count(&p, "SELECT COUNT(*) FROM items WHERE done = 1");
    assert!(done > 0 && done < 20_000 && done % 1000 == 0, "{done}");
    assert_eq!(count(&p, "SELECT COUNT(*) FROM items WHERE done > 1"), 0);
    assert_eq!(p.ok(&["current"]), "a1\n");
    // Run again: it continues, and every item is marked once.
    let out = p.run(&["upgrade", "head"]);
    assert!(out.status.success(), "{}", transcript(&p, &out));
    assert_eq!(
        count(&p, "SELECT COUNT(*) FROM items WHERE done = 1"),
        20_000
    );
    assert_eq!(p.ok(&["current"]), "b2 (head)\n");
}
