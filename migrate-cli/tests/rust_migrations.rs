//! Rust migrations and batched statements through the `migrate` command: `revision
//! --rust`, every listing, the refusal to run Rust (naming the way to do it), offline
//! scripts that stop at them, and batched statements with their progress lines and
//! Ctrl-C; and Rust migrations run by a self-migrating application (`myapp migrate`,
//! this test binary run again as one) that fail or panic.

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

#[test]
fn a_rerun_after_a_failure_past_a_batched_statement_resumes_at_the_failed_one() {
    let p = batched_project("0");
    // After the batched statement, one that fails while item 1 exists.
    let file = common::find_file(&p.path().join("migrations"), "b2_").unwrap();
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "LIMIT {batch_size});\n",
        "LIMIT {batch_size});\nINSERT INTO items (id) VALUES (1);\n",
    );
    std::fs::write(&file, text).unwrap();
    p.ok(&["hash"]);
    let out = p.run(&["upgrade", "head"]);
    assert_eq!(out.status.code(), Some(8), "{}", transcript(&p, &out));
    assert_eq!(
        count(&p, "SELECT COUNT(*) FROM items WHERE done = 1"),
        20_000
    );
    exec(&p.url, "DELETE FROM items WHERE id = 1");
    let out = p.run(&["upgrade", "head"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("INSERT INTO items"))
        .unwrap()
        + 1;
    // The rows of the finished statement are not the failed one's.
    assert!(
        stderr.contains(&format!("Running upgrade a1 -> b2, mark items\nResuming revision b2 at statement 2 of 2 (line {line})\n")),
        "{stderr}"
    );
    assert_eq!(count(&p, "SELECT COUNT(*) FROM items WHERE done > 1"), 0);
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
    // Run again: it says it resumes, and from where, and every item is marked once.
    let out = p.run(&["upgrade", "head"]);
    assert!(out.status.success(), "{}", transcript(&p, &out));
    let file = common::find_file(&p.path().join("migrations"), "b2_").unwrap();
    let line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("UPDATE items"))
        .unwrap()
        + 1;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("Running upgrade a1 -> b2, mark items\nResuming revision b2 at statement 1 of 1 (line {line}), {done} rows of it done before\n")),
        "{stderr}"
    );
    assert_eq!(
        count(&p, "SELECT COUNT(*) FROM items WHERE done = 1"),
        20_000
    );
    assert_eq!(p.ok(&["current"]), "b2 (head)\n");
}

// ---- a self-migrating application -------------------------------------------------

/// `a1` (SQL, with the `panic` mark and ten items), `p2` (Rust, panics while the mark
/// exists), `r3` (Rust, walks the items in batches of 3, failing on a stop mark).
static APP: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/rust_app");

/// Set (to the arguments, separated by newlines) when this test binary is run again as
/// `myapp`.
const APP_ARGS: &str = "MIGRATE_RUST_TEST_APP_ARGS";

/// What the child prints on stdout before the command's output.
const APP_MARKER: &str = "--- myapp ---";

/// The child side: `myapp migrate ...` over [`APP`], exiting with the command's code.
#[test]
fn app_child() {
    let Ok(args) = std::env::var(APP_ARGS) else {
        return;
    };
    // The harness has printed `test app_child ... ` without a line end.
    println!("{APP_MARKER}");
    let code = migrate_cli::Embedded::new(&APP).run("myapp migrate", args.lines());
    let shown = format!("{code:?}");
    let n = (0..=u8::MAX)
        .find(|n| format!("{:?}", std::process::ExitCode::from(*n)) == shown)
        .unwrap_or(u8::MAX);
    std::process::exit(i32::from(n));
}

/// Runs `myapp migrate <args>` on `url` (this test binary, as [`app_child`]).
fn myapp_migrate(url: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--database-url", url];
    all.extend_from_slice(args);
    std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["app_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(APP_ARGS, all.join("\n"))
        .env_remove("DATABASE_URL")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run the test binary")
}

#[test]
fn a_panicking_rust_migration_fails_with_an_error_line_and_exit_8() {
    let p = Project::sqlite();
    let mut urls = vec![("sqlite", p.url.clone())];
    for (kind, admin) in common::servers() {
        urls.push((kind, common::fresh_database(kind, &admin, "rust_panic")));
    }
    for (kind, url) in urls {
        let out = myapp_migrate(&url, &["upgrade", "head"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(8), "{kind}: {stderr}");
        assert!(
            stderr.contains("Running upgrade  -> a1, marks, with the one that makes p2 panic, and items for r3 to walk\nRunning upgrade a1 -> p2, panics while a `panic` mark exists\nerror: upgrade of Rust migration `p2` (p2_panics.rs) failed\n"),
            "{kind}: {stderr}"
        );
        assert!(
            stderr.contains("\n  Caused by: the migration panicked at p2_panics.rs:12:9: p2 was told to panic\n"),
            "{kind}: {stderr}"
        );
        // No raw panic report: no thread name, no backtrace note.
        assert!(
            !stderr.contains("thread '") && !stderr.contains("RUST_BACKTRACE"),
            "{kind}: {stderr}"
        );
        // Rolled back: the database stays at a1, and a1 is all that ran.
        let current = myapp_migrate(&url, &["current"]);
        let stdout = String::from_utf8_lossy(&current.stdout);
        assert_eq!(
            stdout
                .split_once(&format!("{APP_MARKER}\n"))
                .map(|(_, out)| out),
            Some("a1\n"),
            "{kind}: {stdout}"
        );
        if kind == "sqlite" {
            assert_eq!(p.count("SELECT COUNT(*) FROM marks WHERE id = 2"), 0);
            assert_eq!(
                p.count("SELECT COUNT(*) FROM marks WHERE note = 'panic'"),
                1
            );
        }
    }
}

/// Runs SQL on any of the test databases.
fn exec(url: &str, sql: &str) {
    use sqlx::Connection as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if url.starts_with("sqlite") {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
            sqlx::raw_sql(sql).execute(&mut c).await.expect(sql);
        } else if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.expect("postgres");
            sqlx::raw_sql(sql).execute(&mut c).await.expect(sql);
        } else {
            let mut c = sqlx::MySqlConnection::connect(url).await.expect("mysql");
            sqlx::raw_sql(sql).execute(&mut c).await.expect(sql);
        }
    });
}

#[test]
fn a_failed_rust_walk_says_what_a_rerun_does_and_the_rerun_says_where_it_resumes() {
    let p = Project::sqlite();
    let mut urls = vec![("sqlite", p.url.clone())];
    for (kind, admin) in common::servers() {
        urls.push((kind, common::fresh_database(kind, &admin, "rust_resume")));
    }
    for (kind, url) in urls {
        let out = myapp_migrate(&url, &["upgrade", "a1"]);
        assert!(out.status.success(), "{kind}: {out:?}");
        // Batch 1 (items 1 to 3) commits, batch 2 (4 to 6) fails.
        exec(
            &url,
            "DELETE FROM marks; UPDATE items SET stop = 1 WHERE id = 5",
        );
        let out = myapp_migrate(&url, &["upgrade", "head"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(8), "{kind}: {stderr}");
        assert!(
            stderr.contains("error: upgrade of Rust migration `r3` (r3_walk.rs) failed\n  revision `r3` is `transactional: false`: its committed batches stay, recorded in the progress table; running it again runs its function from the top (what it does outside its walks runs again) and each walk continues after its last committed key\n"),
            "{kind}: {stderr}"
        );
        assert!(
            stderr.contains("  Caused by: a batch holds a stop mark\n"),
            "{kind}: {stderr}"
        );
        // Run again: it says it resumes and from where, then finishes the walk.
        exec(&url, "UPDATE items SET stop = 0");
        let out = myapp_migrate(&url, &["upgrade", "head"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kind}: {stderr}");
        assert!(
            stderr.contains("Running upgrade p2 -> r3, walks items in batches of 3, failing on a batch with a stop mark\nResuming revision r3 with walk `items.id` after key 3 (3 rows done before); its function runs again from the top\n"),
            "{kind}: {stderr}"
        );
        if kind == "sqlite" {
            assert_eq!(p.count("SELECT COUNT(*) FROM items WHERE done <> 1"), 0);
        }
    }
}
