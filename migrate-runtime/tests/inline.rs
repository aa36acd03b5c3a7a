//! SQLite run inline (`Migrator::sqlite_inline`, the default for in-memory databases):
//! the same database and the same errors as through sqlx's worker thread, lock waits
//! that leave the runtime free, interrupts from another thread, and cancellation
//! between migrations.

use migrate_test_support as common;

use common::{mig, migrator, raw, scalar, strings, table_mig};
use migrate_runtime::{Database, MigrateError, Migrator, StopHandle, TransactionMode};
use std::time::{Duration, Instant};

async fn sqlite_file(dir: &tempfile::TempDir, name: &str) -> (String, Database) {
    let url = format!("sqlite://{}/{name}.db", dir.path().display());
    let db = Database::connect(&url).await.expect("sqlite connects");
    (url, db)
}

/// Ten migrations, the last failing at its third statement.
fn files_with_a_failure() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = (1..10)
        .map(|i| {
            let down = if i == 1 {
                String::new()
            } else {
                format!("r{}", i - 1)
            };
            table_mig(&format!("r{i}"), &down, "")
        })
        .collect();
    files.push((
        "r10.sql".to_string(),
        mig(
            "r10",
            "r9",
            "",
            "CREATE TABLE t_r10 (id INT);\nINSERT INTO t_r10 VALUES (1);\nINSERT INTO no_such_table VALUES (2);",
            Some("DROP TABLE t_r10;"),
        ),
    ));
    files
}

/// `a1` creates a table; `b2` creates another, then runs a statement that never ends.
fn endless_b2() -> Vec<(String, String)> {
    vec![
        table_mig("a1", "", ""),
        (
            "b2.sql".to_string(),
            mig(
                "b2",
                "a1",
                "",
                "CREATE TABLE t_b2 (id INT);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT max(i) FROM c;",
                None,
            ),
        ),
    ]
}

/// Interrupts from another thread once the run has had time to start its statement
/// (the run keeps the test's own thread meanwhile).
fn interrupt_soon(stop: StopHandle) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop.interrupt();
    })
}

fn borrowed(files: &[(String, String)]) -> Vec<(&str, String)> {
    files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect()
}

/// What a database records, to compare two runs.
async fn recorded(db: &Database) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        strings(db, "SELECT version_num FROM alembic_version").await,
        strings(
            db,
            "SELECT revision || ' ' || direction || ' ' || COALESCE(checksum, '-') FROM alembic_version_history ORDER BY id",
        )
        .await,
        strings(
            db,
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        )
        .await,
    )
}

#[tokio::test]
async fn inline_and_through_the_driver_record_the_same_and_fail_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = files_with_a_failure();
    let mut outcomes = Vec::new();
    for (name, inline) in [("driver", false), ("inline", true)] {
        for mode in [TransactionMode::PerMigration, TransactionMode::Single] {
            let (_, db) = sqlite_file(&dir, &format!("{name}_{mode:?}")).await;
            let m = migrator(&borrowed(&files))
                .sqlite_inline(inline)
                .transaction_mode(mode);
            let err = m.upgrade(&db, "head").await.unwrap_err();
            let MigrateError::Migration(failed) = &err else {
                panic!("{name}: {err}");
            };
            assert_eq!(failed.revision, "r10", "{name}");
            assert_eq!(failed.line, 8, "{name}: {err}");
            assert!(
                failed.statement.contains("no_such_table"),
                "{name}: {}",
                failed.statement
            );
            assert!(
                failed.message.contains("no such table: no_such_table"),
                "{name}: {}",
                failed.message
            );
            // The failing migration left nothing: its table and row are rolled back.
            let state = recorded(&db).await;
            assert!(!state.2.contains(&"t_r10".to_string()), "{name}: {state:?}");
            // Down again, then up to the last good one.
            m.upgrade(&db, "r9").await.expect("up to r9");
            m.downgrade(&db, "r3").await.expect("down to r3");
            outcomes.push((name, mode, failed.applied.clone(), recorded(&db).await));
        }
    }
    let driver: Vec<_> = outcomes.iter().filter(|o| o.0 == "driver").collect();
    let inline: Vec<_> = outcomes.iter().filter(|o| o.0 == "inline").collect();
    for (d, i) in driver.iter().zip(&inline) {
        assert_eq!(d.1, i.1);
        assert_eq!(d.2, i.2, "{:?}: applied before the failure", d.1);
        assert_eq!(d.3, i.3, "{:?}: recorded state", d.1);
    }
    // Per migration, r1..r9 stay applied before the failure; in one transaction,
    // nothing does.
    assert_eq!(driver[0].2.len(), 9);
    assert!(driver[1].2.is_empty());
    assert_eq!(inline[0].3 .0, vec!["r3".to_string()]);
}

/// A file database at `a1` of `a1 <- b2`, an inline migrator over it with
/// `lock_timeout`, and a second connection that holds the write lock after `lock_sql`.
struct WriteLocked {
    _dir: tempfile::TempDir,
    db: Database,
    m: Migrator,
    other: Database,
    holder: sqlx::pool::PoolConnection<sqlx::Sqlite>,
}

async fn write_locked(name: &str, lock_timeout: Duration, lock_sql: &str) -> WriteLocked {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, db) = sqlite_file(&dir, name).await;
    let files = vec![table_mig("a1", "", ""), table_mig("b2", "a1", "")];
    let m = migrator(&borrowed(&files))
        .sqlite_inline(true)
        .lock_timeout(lock_timeout);
    m.upgrade(&db, "a1").await.expect("up to a1");
    let other = Database::connect(&url).await.expect("second connection");
    let Some(pool) = other.as_sqlite() else {
        unreachable!("an sqlite URL")
    };
    let mut holder = pool.acquire().await.expect("connection");
    sqlx::raw_sql(lock_sql)
        .execute(&mut *holder)
        .await
        .expect("take the write lock");
    WriteLocked {
        _dir: dir,
        db,
        m,
        other,
        holder,
    }
}

#[tokio::test]
async fn an_inline_run_waits_for_the_write_lock_without_holding_up_the_runtime() {
    // A single-threaded runtime: if the run waited inside SQLite, the task holding the
    // write lock could never commit, and the run would time out.
    let WriteLocked {
        _dir,
        db,
        m,
        other,
        mut holder,
    } = write_locked(
        "busy",
        Duration::from_secs(10),
        "BEGIN IMMEDIATE; CREATE TABLE held (x INT)",
    )
    .await;
    let started = Instant::now();
    // The holder commits from the same thread the run is awaited on.
    let release = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        sqlx::raw_sql("COMMIT")
            .execute(&mut *holder)
            .await
            .expect("commit");
    };
    let (report, ()) = tokio::join!(m.upgrade(&db, "head"), release);
    let report = report.expect("upgrade after the wait");
    assert_eq!(report.revisions(), vec!["b2"]);
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "it waited for the holder: {:?}",
        started.elapsed()
    );
    drop(holder);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('held', 't_b2')"
        )
        .await,
        2
    );
    other.close().await;
}

#[tokio::test]
async fn an_inline_lock_wait_gives_up_after_the_lock_timeout() {
    let WriteLocked {
        _dir,
        db,
        m,
        other,
        mut holder,
    } = write_locked(
        "busy_timeout",
        Duration::from_millis(300),
        "BEGIN IMMEDIATE",
    )
    .await;
    let started = Instant::now();
    let err = m.upgrade(&db, "head").await.unwrap_err();
    assert!(
        matches!(&err, MigrateError::LockTimeout { what, .. } if what.contains("write lock")),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut *holder)
        .await
        .expect("rollback");
    drop(holder);
    assert_eq!(m.current(&db).await.expect("current"), vec!["a1"]);
    other.close().await;
}

#[tokio::test]
async fn an_interrupt_from_another_thread_stops_an_inline_statement() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, db) = sqlite_file(&dir, "interrupt").await;
    let files = endless_b2();
    let stop = StopHandle::new();
    let m = migrator(&borrowed(&files))
        .sqlite_inline(true)
        .stop_handle(stop.clone());
    // The statement never ends by itself; the run keeps this thread while it runs.
    let stopper = interrupt_soon(stop);
    let err = m.upgrade(&db, "head").await.unwrap_err();
    stopper.join().expect("stopper");
    let MigrateError::Migration(failed) = &err else {
        panic!("{err}");
    };
    assert_eq!(failed.revision, "b2");
    assert!(failed.message.contains("interrupt"), "{}", failed.message);
    assert_eq!(failed.applied, vec!["a1".to_string()]);
    assert_eq!(m.current(&db).await.expect("current"), vec!["a1"]);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 't_b2'"
        )
        .await,
        0,
        "rolled back"
    );
}

#[tokio::test]
async fn an_inline_run_cancelled_between_migrations_leaves_them_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, db) = sqlite_file(&dir, "cancel").await;
    let files: Vec<(String, String)> = (1..=400)
        .map(|i| {
            let down = if i == 1 {
                String::new()
            } else {
                format!("r{}", i - 1)
            };
            table_mig(&format!("r{i}"), &down, "")
        })
        .collect();
    let m: Migrator = migrator(&borrowed(&files)).sqlite_inline(true);
    let cut = tokio::time::timeout(Duration::from_millis(20), m.upgrade(&db, "head")).await;
    assert!(
        cut.is_err(),
        "400 file-backed commits take longer than 20 ms"
    );
    // Each migration that committed is recorded, and nothing else is there.
    let current = m.current(&db).await.expect("current");
    let tables = scalar(
        &db,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 't_r%'",
    )
    .await;
    // On a loaded machine the cut may come before the first commit made the history
    // table: then nothing at all may have been created.
    let has_history = scalar(
        &db,
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'alembic_version_history'",
    )
    .await;
    let history = if has_history == 1 {
        scalar(&db, "SELECT COUNT(*) FROM alembic_version_history").await
    } else {
        0
    };
    assert_eq!(tables, history, "{current:?}");
    if let Some(at) = current.first() {
        assert_eq!(format!("r{tables}"), *at);
    } else {
        assert_eq!(tables, 0);
    }
    let report = m.upgrade(&db, "head").await.expect("the rest");
    assert_eq!(report.steps.len() as i64, 400 - tables);
    assert_eq!(m.current(&db).await.expect("current"), vec!["r400"]);
}

#[tokio::test]
async fn in_memory_databases_run_inline_by_default() {
    let db = Database::connect("sqlite::memory:").await.expect("memory");
    let files = endless_b2();
    let stop = StopHandle::new();
    let m = migrator(&borrowed(&files)).stop_handle(stop.clone());
    // Only an inline statement sees the interrupt flag: through the driver, this run
    // would never end.
    let stopper = interrupt_soon(stop);
    let err = tokio::time::timeout(Duration::from_secs(20), m.upgrade(&db, "head"))
        .await
        .expect("the interrupt ended the statement")
        .unwrap_err();
    stopper.join().expect("stopper");
    assert!(err.to_string().contains("interrupt"), "{err}");
    assert_eq!(m.current(&db).await.expect("current"), vec!["a1"]);
}

#[tokio::test]
async fn rows_changed_by_triggers_do_not_count_as_version_rows_inline() {
    // The runner checks that each version change touched one row; a trigger on the
    // version table (an audit log, say) changes more rows, which are not its own.
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, db) = sqlite_file(&dir, "trigger").await;
    let files = vec![
        table_mig("a1", "", ""),
        table_mig("b2", "a1", ""),
        table_mig("c3", "b2", ""),
    ];
    let m = migrator(&borrowed(&files)).sqlite_inline(true);
    m.upgrade(&db, "a1").await.expect("up to a1");
    raw(
        &db,
        "CREATE TABLE version_audit (version_num TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP);\
         CREATE TRIGGER version_audit_t AFTER UPDATE ON alembic_version BEGIN \
           INSERT INTO version_audit (version_num) VALUES (new.version_num); \
           INSERT INTO version_audit (version_num) VALUES (old.version_num); \
         END",
    )
    .await;
    let report = m
        .upgrade(&db, "head")
        .await
        .expect("upgrade with the trigger");
    assert_eq!(report.revisions(), vec!["b2", "c3"]);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM version_audit").await, 4);
}

#[tokio::test]
async fn an_inline_run_leaves_the_journal_mode_and_no_journal_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, db) = sqlite_file(&dir, "journal").await;
    let files = vec![table_mig("a1", "", ""), table_mig("b2", "a1", "")];
    let m = migrator(&borrowed(&files)).sqlite_inline(true);
    m.upgrade(&db, "head").await.expect("upgrade");
    assert_eq!(
        strings(&db, "PRAGMA journal_mode").await,
        vec!["delete".to_string()],
        "the pool's connection is back in its own journal mode"
    );
    assert!(
        !dir.path().join("journal.db-journal").exists(),
        "the truncated journal file is deleted"
    );
}

#[tokio::test]
async fn a_journal_mode_a_migration_chose_stays_after_an_inline_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, db) = sqlite_file(&dir, "wal").await;
    let files = vec![
        table_mig("a1", "", ""),
        (
            "b2.sql".to_string(),
            mig(
                "b2",
                "a1",
                "-- transactional: false",
                "PRAGMA journal_mode = WAL;",
                None,
            ),
        ),
        table_mig("c3", "b2", ""),
    ];
    let m = migrator(&borrowed(&files)).sqlite_inline(true);
    m.upgrade(&db, "head").await.expect("upgrade");
    db.close().await;
    // WAL is recorded in the file: a new connection finds it.
    let again = Database::connect(&url).await.expect("reconnect");
    assert_eq!(
        strings(&again, "PRAGMA journal_mode").await,
        vec!["wal".to_string()]
    );
    assert_eq!(m.current(&again).await.expect("current"), vec!["c3"]);
}
