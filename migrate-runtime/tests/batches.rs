//! Rust migrations and batched data migrations on every database: a Rust migration's
//! context, transactions and errors; `-- migrate:batch` statements and the Rust batch
//! helper, stopped (a `StopHandle`, and `kill -9` of a child process in the middle of
//! 100,000 rows) and run again: every row updated exactly once, the version row set
//! once, the progress rows gone.

use migrate_test_support as common;

use common::{databases, raw, scalar, strings, TestDb};
use migrate_runtime::{
    Database, EmbeddedMigrations, MigrateError, MigrationError, Migrator, Progress, Resume,
    StopHandle,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static MIGRATIONS: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/batches");

/// The environment variable that makes [`child_upgrade`] the child process of a kill test.
const CHILD_URL: &str = "MIGRATE_TEST_CHILD_URL";
const CHILD_TARGET: &str = "MIGRATE_TEST_CHILD_TARGET";

/// Inserts `n` items (ids 1..=n) in multi-row statements.
async fn fill(db: &Database, n: i64) {
    let mut start = 1;
    while start <= n {
        let end = (start + 999).min(n);
        let values: Vec<String> = (start..=end).map(|i| format!("({i}, {i})")).collect();
        raw(
            db,
            &format!("INSERT INTO items (id, n) VALUES {}", values.join(", ")),
        )
        .await;
        start = end + 1;
    }
}

fn migrator() -> Migrator {
    Migrator::new(&MIGRATIONS).expect("embedded migrations load")
}

async fn version(db: &Database) -> Vec<String> {
    strings(db, "SELECT version_num FROM alembic_version").await
}

async fn progress_rows(db: &Database) -> i64 {
    scalar(db, "SELECT COUNT(*) FROM alembic_version_progress").await
}

async fn upgrades_recorded(db: &Database, revision: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT COUNT(*) FROM alembic_version_history WHERE revision = '{revision}' AND direction = 'upgrade'"),
    )
    .await
}

#[tokio::test]
async fn rust_and_batched_migrations_run_on_every_database() {
    for t in databases("batches_run").await {
        let m = migrator();
        m.upgrade(&t.db, "b1").await.unwrap();
        fill(&t.db, 2_500).await;
        // (revision, rows done, rows in all) of each progress event with rows.
        type Seen = Arc<Mutex<Vec<(Option<String>, u64, Option<u64>)>>>;
        let seen: Seen = Arc::default();
        let log = Arc::clone(&seen);
        let m = m.on_progress(move |p: &Progress<'_>| {
            if let Some(rows) = p.rows {
                log.lock().unwrap().push((
                    p.revision.map(str::to_string),
                    rows.rows_done,
                    rows.rows_total,
                ));
            }
        });
        let report = m
            .upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(report.revisions(), ["b2", "b3", "b4"], "{}", t.name);
        assert_eq!(version(&t.db).await, ["b4"], "{}", t.name);
        for (col, runs, want) in [
            ("twice", "twice_runs", "n * 2"),
            ("square", "square_runs", "n * n"),
        ] {
            let wrong = scalar(
                &t.db,
                &format!("SELECT COUNT(*) FROM items WHERE {col} IS NULL OR {col} <> {want} OR {runs} <> 1"),
            )
            .await;
            assert_eq!(wrong, 0, "{}: {col}", t.name);
        }
        // Progress after each batch, with the total: counted by the Rust walk, and by the
        // `-- migrate:batch-rows` query of the SQL one.
        let seen = seen.lock().unwrap().clone();
        let rust: Vec<_> = seen
            .iter()
            .filter(|s| s.0.as_deref() == Some("b2"))
            .collect();
        assert_eq!(
            rust.iter().map(|s| s.1).collect::<Vec<_>>(),
            [1000, 2000, 2500],
            "{}",
            t.name
        );
        assert!(
            rust.iter().all(|s| s.2 == Some(2500)),
            "{}: {rust:?}",
            t.name
        );
        let sql: Vec<_> = seen
            .iter()
            .filter(|s| s.0.as_deref() == Some("b3"))
            .collect();
        assert_eq!(
            sql.iter().map(|s| s.1).collect::<Vec<_>>(),
            [1000, 2000, 2500]
        );
        assert!(sql.iter().all(|s| s.2 == Some(2500)), "{}: {sql:?}", t.name);
        // Finished: no progress row left, one history row each.
        assert_eq!(progress_rows(&t.db).await, 0, "{}", t.name);
        for rev in ["b2", "b3", "b4"] {
            assert_eq!(upgrades_recorded(&t.db, rev).await, 1, "{}: {rev}", t.name);
        }
        // The transactional Rust migration used the typed connection.
        let note = strings(&t.db, "SELECT body FROM notes").await;
        assert_eq!(note, [format!("made on {}", t.db.db().dialect())]);
        // And back down through the Rust downgrades.
        migrator().downgrade(&t.db, "b1").await.unwrap();
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM items WHERE twice IS NOT NULL").await,
            0
        );
        assert_eq!(version(&t.db).await, ["b1"]);
    }
}

#[tokio::test]
async fn a_failing_transactional_rust_migration_leaves_nothing() {
    for t in databases("batches_fail").await {
        let m = migrator();
        m.upgrade(&t.db, "b3").await.unwrap();
        raw(&t.db, "INSERT INTO items (id, n) VALUES (0, 0)").await;
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        let MigrateError::RustMigration(failed) = &err else {
            panic!("{}: {err:?}", t.name);
        };
        assert_eq!(
            (failed.revision.as_str(), failed.path.as_str()),
            ("b4", "b4_transactional.rs")
        );
        assert!(!failed.resumable);
        assert!(
            err.to_string()
                .starts_with("upgrade of Rust migration `b4` (b4_transactional.rs) failed"),
            "{err}"
        );
        let cause = std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default();
        assert!(
            cause.contains("INSERT INTO items (id, n) VALUES (0, 0)"),
            "{cause}"
        );
        assert_eq!(version(&t.db).await, ["b3"], "{}", t.name);
        if t.name != "mysql" {
            // Rolled back with its transaction, CREATE TABLE included.
            assert!(!common::table_exists(&t.db, "notes").await, "{}", t.name);
            assert!(!err.to_string().contains("partly applied"), "{err}");
        } else {
            // Its CREATE TABLE committed at once, as the error says.
            assert!(common::table_exists(&t.db, "notes").await);
            assert!(
                err.to_string().contains("\n  revision `b4` may be partly applied: MySQL and MariaDB commit each DDL statement at once, so what ran before the failure stays; the version table does not list it"),
                "{err}"
            );
        }
    }
}

#[tokio::test]
async fn files_have_no_code_and_offline_scripts_stop_before_code_or_batches() {
    // A migrator over the files (what the `migrate` command has) cannot run Rust.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/batches");
    let from_files = Migrator::load(&dir).unwrap();
    for t in databases("batches_files").await {
        from_files.upgrade(&t.db, "b1").await.unwrap();
        let err = from_files.upgrade(&t.db, "head").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::RustWithoutCode { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "revision `b2` (b2_twice.rs) is a Rust migration, which only the application that embeds it can run: build the migrations into it with `embed_migrations!` and run them there, `myapp migrate upgrade head` (`migrate_cli::run_embedded`), or `Migrator::new(&MIGRATIONS)` in code; nothing was run"
        );
        assert_eq!(version(&t.db).await, ["b1"]);
    }
    // Offline scripts stop at Rust migrations and batched statements, before writing.
    let m = migrator();
    let err = m
        .sql(
            migrate_runtime::Direction::Upgrade,
            "base:head",
            migrate_runtime::Dialect::Postgres,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "offline SQL stops at revision `b2` (b2_twice.rs): it is a Rust migration, whose SQL is only known when it runs; nothing was written; `--sql base:b1` writes the script up to the revision before it"
    );
    let err = m
        .sql(
            migrate_runtime::Direction::Upgrade,
            "b2:b3",
            migrate_runtime::Dialect::Mysql,
        )
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "offline SQL stops at revision `b3` (b3_square.sql): it has a batched statement"
        ),
        "{err}"
    );
    assert!(m
        .sql(
            migrate_runtime::Direction::Upgrade,
            "base:b1",
            migrate_runtime::Dialect::Sqlite
        )
        .is_ok());
}

#[tokio::test]
async fn a_stop_ends_after_the_current_batch_and_the_next_run_continues() {
    for t in databases("batches_stop").await {
        migrator().upgrade(&t.db, "b1").await.unwrap();
        fill(&t.db, 5_000).await;
        for (target, runs) in [("b2", "twice_runs"), ("b3", "square_runs")] {
            let stop = StopHandle::new();
            let asked = stop.clone();
            let m = migrator().stop_handle(stop).on_progress(move |p| {
                if p.rows.is_some_and(|r| r.rows_done >= 2000) {
                    asked.stop();
                }
            });
            let err = m.upgrade(&t.db, target).await.unwrap_err();
            let MigrateError::Interrupted {
                revision,
                rows_done,
                ..
            } = &err
            else {
                panic!("{}: {err:?}", t.name);
            };
            assert_eq!(
                (revision.as_str(), *rows_done),
                (target, 2000),
                "{}",
                t.name
            );
            assert!(
                err.to_string()
                    .contains("run the upgrade again to continue"),
                "{err}"
            );
            assert_ne!(version(&t.db).await, [target], "{}", t.name);
            assert_eq!(
                scalar(
                    &t.db,
                    &format!("SELECT COUNT(*) FROM items WHERE {runs} = 1")
                )
                .await,
                2000,
                "{}",
                t.name
            );
            // Run again: it says where it resumes, once, before its first batch.
            let resumed: Arc<Mutex<Vec<Resume>>> = Arc::default();
            let seen = Arc::clone(&resumed);
            let m = migrator().on_progress(move |p| {
                if let Some(r) = p.resumed {
                    assert!(p.rows.is_none() && p.finished.is_none());
                    seen.lock().unwrap().push(r.clone());
                }
            });
            m.upgrade(&t.db, target).await.unwrap();
            let resumed = resumed.lock().unwrap().clone();
            let expected = if target == "b2" {
                Resume::Walk {
                    walk: "items.id".into(),
                    last_key: "2000".into(),
                    rows_done: 2000,
                }
            } else {
                Resume::Statement {
                    number: 3,
                    of: 3,
                    line: if t.name == "mysql" { 20 } else { 12 },
                    rows_done: 2000,
                }
            };
            assert_eq!(resumed, [expected], "{}: {target}", t.name);
            assert_eq!(
                scalar(
                    &t.db,
                    &format!("SELECT COUNT(*) FROM items WHERE {runs} <> 1")
                )
                .await,
                0,
                "{}: {target}",
                t.name
            );
            assert_eq!(version(&t.db).await, [target]);
            assert_eq!(progress_rows(&t.db).await, 0);
        }
    }
}

/// The child process of [`killed_in_the_middle_then_run_again`]: upgrades the database
/// it is given. A no-op test in a normal run.
#[tokio::test]
async fn child_upgrade() {
    let (Ok(url), Ok(target)) = (std::env::var(CHILD_URL), std::env::var(CHILD_TARGET)) else {
        return;
    };
    let db = Database::connect(&url).await.unwrap();
    migrator().upgrade(&db, &target).await.unwrap();
    // The parent kills this process before it gets here.
    eprintln!("child finished {target}");
}

/// Kills (SIGKILL) a child process upgrading `t` to `target` once the progress table
/// says `at_least` rows are done, and returns the rows done then.
async fn kill_in_the_middle(t: &TestDb, target: &str, at_least: i64) -> i64 {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_upgrade",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &t.url)
        .env(CHILD_TARGET, target)
        .env("MIGRATE_TEST_PAUSE_MS", "10")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{}: the child ended before it was killed",
            t.name
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}: no progress",
            t.name
        );
        let done = if common::table_exists(&t.db, "alembic_version_progress").await {
            scalar(
                &t.db,
                "SELECT COALESCE(MAX(rows_done), 0) FROM alembic_version_progress",
            )
            .await
        } else {
            0
        };
        if done >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "{}: {status:?}", t.name);
    scalar(&t.db, "SELECT MAX(rows_done) FROM alembic_version_progress").await
}

#[tokio::test]
async fn killed_in_the_middle_then_run_again() {
    const ROWS: i64 = 100_000;
    for t in databases("batches_kill").await {
        migrator().upgrade(&t.db, "b1").await.unwrap();
        fill(&t.db, ROWS).await;
        for (target, col, runs, want) in [
            ("b2", "twice", "twice_runs", "n * 2"),
            ("b3", "square", "square_runs", "n * n"),
        ] {
            let before = version(&t.db).await;
            let done = kill_in_the_middle(&t, target, 10_000).await;
            assert!(
                (10_000..ROWS).contains(&done),
                "{}: {target} {done}",
                t.name
            );
            // Killed: the version row did not move; exactly the committed batches are
            // done, each row once.
            assert_eq!(version(&t.db).await, before, "{}: {target}", t.name);
            let once = scalar(
                &t.db,
                &format!("SELECT COUNT(*) FROM items WHERE {runs} = 1"),
            )
            .await;
            assert_eq!(once, done, "{}: {target}", t.name);
            assert_eq!(
                scalar(
                    &t.db,
                    &format!("SELECT COUNT(*) FROM items WHERE {runs} > 1")
                )
                .await,
                0
            );
            // Run again: it continues where it stopped.
            let report = migrator()
                .upgrade(&t.db, target)
                .await
                .unwrap_or_else(|e| panic!("{}: {target}: {e}", t.name));
            assert_eq!(report.revisions(), [target], "{}", t.name);
            let wrong = scalar(
                &t.db,
                &format!("SELECT COUNT(*) FROM items WHERE {col} IS NULL OR {col} <> {want} OR {runs} <> 1"),
            )
            .await;
            assert_eq!(
                wrong, 0,
                "{}: {target}: rows not updated exactly once",
                t.name
            );
            assert_eq!(version(&t.db).await, [target], "{}", t.name);
            assert_eq!(
                upgrades_recorded(&t.db, target).await,
                1,
                "{}: {target}",
                t.name
            );
            assert_eq!(progress_rows(&t.db).await, 0, "{}: {target}", t.name);
        }
    }
}

static NULL_KEYS: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/batch_nulls");

/// A walk over a key with NULLs: `n2` leaves them out on purpose (its filter), `n3`
/// walks every row and is refused before its walk, naming the rows, until they have
/// keys; then it runs, each row once. `nulls` rows without a key come first (SQLite
/// and MariaDB sort NULL first: with two or more, the first batch of two is all NULL),
/// then keys 1 to 6.
async fn walk_with_null_keys(tag: &str, nulls: i64) {
    for t in databases(tag).await {
        let m = Migrator::new(&NULL_KEYS).unwrap();
        m.upgrade(&t.db, "n1").await.unwrap();
        for id in 1..=nulls {
            raw(
                &t.db,
                &format!("INSERT INTO loose (id, k) VALUES ({id}, NULL)"),
            )
            .await;
        }
        for k in 1..=6 {
            raw(
                &t.db,
                &format!("INSERT INTO loose (id, k) VALUES ({}, {k})", 100 + k),
            )
            .await;
        }
        let result = m.upgrade(&t.db, "head").await;
        let skipped = scalar(&t.db, "SELECT COUNT(*) FROM loose WHERE b_runs = 0").await;
        let err = match result {
            Ok(_) => panic!(
                "{}: the walk over NULL keys passed, {skipped} rows skipped",
                t.name
            ),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.starts_with("upgrade of Rust migration `n3` (n3_every.rs) failed"),
            "{}: {text}",
            t.name
        );
        let cause = std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default();
        assert_eq!(
            cause,
            format!("`loose.k` has {nulls} {} whose key is NULL, which the walk (`k > last key`, in key order) never reaches, so they would be skipped; stopped before the next batch: give them a key, or leave them out on purpose with `.filter(\"k IS NOT NULL\")` and handle them apart", if nulls == 1 { "row" } else { "rows" }),
            "{}",
            t.name
        );
        // Refused before any batch: nothing walked, n2 (filtered on purpose) applied.
        assert_eq!(version(&t.db).await, ["n2"], "{}", t.name);
        assert_eq!(skipped, nulls + 6, "{}", t.name);
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM loose WHERE a = 1").await,
            6,
            "{}",
            t.name
        );
        // Given keys, the walk runs and reaches every row once.
        raw(&t.db, "UPDATE loose SET k = 1000 + id WHERE k IS NULL").await;
        m.upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM loose WHERE b_runs <> 1").await,
            0,
            "{}",
            t.name
        );
        assert_eq!(version(&t.db).await, ["n3"], "{}", t.name);
        assert_eq!(progress_rows(&t.db).await, 0, "{}", t.name);
    }
}

#[tokio::test]
async fn a_walk_over_null_keys_mixed_in_is_refused_not_skipped() {
    walk_with_null_keys("batches_null_mixed", 1).await;
}

#[tokio::test]
async fn a_walk_whose_first_batch_is_all_null_is_refused_not_skipped() {
    walk_with_null_keys("batches_null_first", 3).await;
}

static FAULTS: EmbeddedMigrations = migrate_runtime::embed_migrations!("tests/rust_faults");

#[tokio::test]
async fn a_panicking_rust_migration_fails_naming_it_and_is_rolled_back() {
    for t in databases("rust_panic").await {
        let m = Migrator::new(&FAULTS).unwrap();
        m.upgrade(&t.db, "f1").await.unwrap();
        raw(&t.db, "INSERT INTO marks (id, note) VALUES (1, 'panic')").await;
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        let MigrateError::RustMigration(failed) = &err else {
            panic!("{}: {err:?}", t.name);
        };
        assert_eq!(
            (failed.revision.as_str(), failed.path.as_str()),
            ("f2", "f2_panics.rs")
        );
        assert!(
            matches!(&failed.source, MigrationError::Panicked { message, .. } if message == "f2 was told to panic"),
            "{:?}",
            failed.source
        );
        assert!(
            err.to_string()
                .starts_with("upgrade of Rust migration `f2` (f2_panics.rs) failed"),
            "{err}"
        );
        let cause = std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default();
        assert!(
            cause.starts_with("the migration panicked at ")
                && cause.contains("f2_panics.rs:")
                && cause.ends_with(": f2 was told to panic"),
            "{cause}"
        );
        // Rolled back: its row and its change to the switch are gone.
        assert_eq!(version(&t.db).await, ["f1"], "{}", t.name);
        assert_eq!(
            strings(&t.db, "SELECT note FROM marks ORDER BY id").await,
            ["panic"],
            "{}",
            t.name
        );
        // The lock was released and the connection is sound: without the switch it runs.
        raw(&t.db, "DELETE FROM marks").await;
        m.upgrade(&t.db, "f2")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(version(&t.db).await, ["f2"], "{}", t.name);
    }
}

#[tokio::test]
async fn a_failing_rust_migration_outside_a_transaction_says_a_rerun_starts_from_the_top() {
    for t in databases("rust_plain_fail").await {
        let m = Migrator::new(&FAULTS).unwrap();
        m.upgrade(&t.db, "f2").await.unwrap();
        raw(&t.db, "INSERT INTO marks (id, note) VALUES (1, 'fail')").await;
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        let MigrateError::RustMigration(failed) = &err else {
            panic!("{}: {err:?}", t.name);
        };
        assert_eq!(failed.revision, "f3", "{}", t.name);
        assert!(!failed.resumable, "{}", t.name);
        let text = err.to_string();
        assert!(!text.contains("continues after"), "{text}");
        assert!(
            text.contains("\n  revision `f3` may be partly applied: it is `transactional: false` and records no progress, so what it ran before the failure stays and running it again starts its function from the top; the version table does not list it"),
            "{text}"
        );
        assert_eq!(version(&t.db).await, ["f2"], "{}", t.name);
        // As said: run again, it starts from the top and meets the row it left.
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        let MigrateError::RustMigration(failed) = &err else {
            panic!("{}: {err:?}", t.name);
        };
        assert!(
            matches!(&failed.source, MigrationError::Statement { statement, .. } if statement == "INSERT INTO marks (id, note) VALUES (3, 'f3')"),
            "{}: {:?}",
            t.name,
            failed.source
        );
    }
}

#[tokio::test]
async fn a_panic_inside_a_batch_rolls_back_that_batch_and_the_rerun_resumes() {
    for t in databases("rust_batch_panic").await {
        let m = Migrator::new(&FAULTS).unwrap();
        m.upgrade(&t.db, "f3").await.unwrap();
        raw(
            &t.db,
            "INSERT INTO marks (id, note) VALUES (4, 'boom'), (5, 'x')",
        )
        .await;
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        let MigrateError::RustMigration(failed) = &err else {
            panic!("{}: {err:?}", t.name);
        };
        assert_eq!(failed.revision, "f4", "{}", t.name);
        assert!(
            matches!(&failed.source, MigrationError::Panicked { message, .. } if message == "batch 3 hit a boom mark"),
            "{}: {:?}",
            t.name,
            failed.source
        );
        assert!(failed.resumable && failed.partly_applied.is_none(), "{err}");
        // The two batches before it committed; its own was rolled back.
        assert_eq!(
            strings(&t.db, "SELECT note FROM marks ORDER BY id").await,
            ["walked", "walked", "boom", "x"],
            "{}",
            t.name
        );
        assert_eq!(version(&t.db).await, ["f3"], "{}", t.name);
        // Run again without the mark: it resumes after the last committed key.
        raw(&t.db, "UPDATE marks SET note = 'defused' WHERE id = 4").await;
        m.upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(
            strings(&t.db, "SELECT note FROM marks ORDER BY id").await,
            ["walked"; 4],
            "{}",
            t.name
        );
        assert_eq!(version(&t.db).await, ["f4"], "{}", t.name);
    }
}
