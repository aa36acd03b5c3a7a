//! Faults found by trying the runtime as an adversarial user would: reserved table
//! names, edited migrations on the way down, MySQL's implicit DDL commits in
//! single-transaction mode, locks scoped wrongly on MariaDB and bypassed through a
//! symlink on SQLite. Each runs on every configured database.

use migrate_test_support as common;

use common::{databases, mig, migrator, raw, scalar, strings, table_exists, table_mig};
use migrate_runtime::{Database, MigrateError, Migrator, TransactionMode};
use std::time::Duration;

fn linear() -> Vec<(&'static str, String)> {
    vec![
        ("a1.sql", table_mig("a1", "", "").1),
        ("b2.sql", table_mig("b2", "a1", "").1),
        ("c3.sql", table_mig("c3", "b2", "").1),
    ]
}

#[tokio::test]
async fn version_tables_that_would_need_quotes_are_refused_before_any_sql() {
    for t in databases("names").await {
        for bad in ["order", "user", "1abc", "select"] {
            let m = migrator(&linear()).version_table(bad);
            let err = m.upgrade(&t.db, "head").await.unwrap_err();
            assert!(
                matches!(&err, MigrateError::InvalidName { name, .. } if name == bad),
                "{}: {bad}: {err}",
                t.name
            );
            assert!(err.to_string().contains(bad), "{err}");
            assert!(
                m.sql(
                    migrate_runtime::Direction::Upgrade,
                    "head",
                    migrate_runtime::Dialect::Postgres
                )
                .is_err(),
                "{bad}"
            );
        }
        // Nothing ran: not even the first migration's table exists.
        assert!(!table_exists(&t.db, "t_a1").await, "{}", t.name);
        let m = migrator(&linear()).version_table("orders_version");
        m.upgrade(&t.db, "head").await.expect("a plain name works");
    }
}

#[tokio::test]
async fn downgrade_refuses_an_edited_applied_migration_until_accepted() {
    for t in databases("editdown").await {
        let m = migrator(&linear());
        m.upgrade(&t.db, "head").await.expect("upgrade");
        let mut edited = linear();
        edited[2].1 = mig(
            "c3",
            "b2",
            "",
            "CREATE TABLE t_c3 (id INT);",
            Some("DROP TABLE t_b2;"),
        );
        let m2 = migrator(&edited);
        let err = m2.downgrade(&t.db, "-1").await.unwrap_err();
        match &err {
            MigrateError::Edited(list) => {
                assert_eq!(list.len(), 1, "{}", t.name);
                assert_eq!(list[0].revision, "c3", "{}", t.name);
            }
            other => panic!("{}: expected Edited, got {other}", t.name),
        }
        // The edited downgrade did not run.
        assert!(table_exists(&t.db, "t_b2").await, "{}", t.name);
        assert!(table_exists(&t.db, "t_c3").await, "{}", t.name);
        assert_eq!(m2.current(&t.db).await.unwrap(), ["c3"], "{}", t.name);
        m2.accept_checksums(&t.db, None).await.expect("accept");
        m2.downgrade(&t.db, "-1")
            .await
            .expect("downgrade after accept");
        assert!(!table_exists(&t.db, "t_b2").await, "{}", t.name);
    }
}

/// The failing migration's revision, the version rows and the history rows after a
/// failure at the third of three revisions.
async fn fail_at_third(
    t: &common::TestDb,
    mode: TransactionMode,
) -> (MigrateError, Vec<String>, i64) {
    let mut files = linear();
    files[2].1 = mig(
        "c3",
        "b2",
        "",
        "CREATE TABLE t_c3 (id INT);\nINSERT INTO no_such_table VALUES (1);",
        Some("DROP TABLE t_c3;"),
    );
    let m = migrator(&files).transaction_mode(mode);
    let err = m.upgrade(&t.db, "head").await.unwrap_err();
    let current = m.current(&t.db).await.expect("current");
    let history = scalar(&t.db, "SELECT COUNT(*) FROM alembic_version_history").await;
    (err, current, history)
}

#[tokio::test]
async fn single_transaction_mode_records_each_migration_where_ddl_commits() {
    for t in databases("singlemy").await {
        let (err, current, history) = fail_at_third(&t, TransactionMode::Single).await;
        let MigrateError::Migration(failed) = &err else {
            panic!("{}: expected a migration failure, got {err}", t.name);
        };
        assert_eq!(failed.revision, "c3", "{}", t.name);
        if t.name == "mysql" {
            // DDL committed at once: the version table follows what really happened.
            assert_eq!(current, ["b2"], "{}", t.name);
            assert_eq!(history, 2, "{}", t.name);
            assert!(table_exists(&t.db, "t_b2").await);
            assert_eq!(failed.applied, ["a1", "b2"]);
            assert!(failed.partly_applied.is_some());
            let text = err.to_string();
            assert!(text.contains("may be partly applied"), "{text}");
            assert!(text.contains("`c3`"), "{text}");
            // A rerun picks up where the database is instead of failing on `t_a1`.
            raw(&t.db, "DROP TABLE t_c3").await;
            migrator(&linear())
                .transaction_mode(TransactionMode::Single)
                .upgrade(&t.db, "head")
                .await
                .expect("rerun after fixing the migration");
            assert_eq!(
                strings(&t.db, "SELECT version_num FROM alembic_version").await,
                ["c3"]
            );
        } else {
            // One transaction: all rolled back, and the message lists nothing as done.
            assert!(current.is_empty(), "{}: {current:?}", t.name);
            assert_eq!(history, 0, "{}", t.name);
            assert!(!table_exists(&t.db, "t_a1").await, "{}", t.name);
            assert!(
                failed.applied.is_empty(),
                "{}: {:?}",
                t.name,
                failed.applied
            );
            assert!(failed.partly_applied.is_none(), "{}", t.name);
            let text = err.to_string();
            assert!(!text.contains("completed before the failure"), "{text}");
            assert!(!text.contains("partly applied"), "{text}");
        }
    }
}

#[tokio::test]
async fn per_migration_failure_on_mysql_says_the_revision_may_be_partly_applied() {
    for t in databases("partial").await {
        let (err, current, _) = fail_at_third(&t, TransactionMode::PerMigration).await;
        assert_eq!(current, ["b2"], "{}", t.name);
        let text = err.to_string();
        assert_eq!(
            text.contains("may be partly applied"),
            t.name == "mysql",
            "{}: {text}",
            t.name
        );
    }
}

#[tokio::test]
async fn mysql_lock_is_scoped_to_the_database() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        // Without a server there is no MySQL lock to test; CI sets the URL.
        return;
    };
    let url_a = common::fresh_url("mysql", &admin, "locka").await;
    let url_b = common::fresh_url("mysql", &admin, "lockb").await;
    let slow = vec![("a1.sql", mig("a1", "", "", "SELECT SLEEP(3);", None))];
    let slow_m = migrator(&slow);
    let first = tokio::spawn(async move {
        let db = Database::connect(&url_a).await.expect("connect a");
        slow_m
            .upgrade(&db, "head")
            .await
            .map(|r| r.revisions().len())
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    let db_b = Database::connect(&url_b).await.expect("connect b");
    let started = std::time::Instant::now();
    let other = migrator(&linear()).lock_timeout(Duration::from_millis(500));
    other
        .upgrade(&db_b, "head")
        .await
        .expect("a deploy on another database of the server does not wait");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(first.await.expect("join").expect("first upgrade"), 1);
}

#[tokio::test]
async fn sqlite_lock_holds_through_a_symlink_to_the_same_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let real = dir.path().join("real.db");
    let link = dir.path().join("link.db");
    std::fs::File::create(&real).expect("create db");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    // Outside a transaction, so only the migration lock keeps a second migrator out.
    let slow = vec![(
        "a1.sql",
        mig(
            "a1",
            "",
            "-- transactional: false",
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 30000000) SELECT COUNT(*) FROM c;",
            None,
        ),
    )];
    let first_m = migrator(&slow);
    let real_url = format!("sqlite://{}", real.display());
    let first = tokio::spawn(async move {
        let db = Database::connect(&real_url).await.expect("connect");
        first_m
            .upgrade(&db, "head")
            .await
            .map(|r| r.revisions().len())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let db = Database::connect(&format!("sqlite://{}", link.display()))
        .await
        .expect("connect through the link");
    let second: Migrator = migrator(&slow).lock_timeout(Duration::from_millis(300));
    let err = second.upgrade(&db, "head").await.unwrap_err();
    assert!(
        matches!(&err, MigrateError::LockTimeout { what, .. } if what.contains("real.db")),
        "{err}"
    );
    assert_eq!(first.await.expect("join").expect("first upgrade"), 1);
    let history = scalar(&db, "SELECT COUNT(*) FROM alembic_version_history").await;
    assert_eq!(history, 1, "the migration ran once");
}

#[tokio::test]
async fn concurrently_inside_a_transaction_gets_a_hint() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        // Only PostgreSQL has CREATE INDEX CONCURRENTLY; CI sets the URL.
        return;
    };
    let url = common::fresh_url("postgres", &admin, "concurrently").await;
    let db = Database::connect(&url).await.expect("connect");
    let files = vec![(
        "a1.sql",
        mig(
            "a1",
            "",
            "",
            "CREATE TABLE t (id INT);\nCREATE INDEX CONCURRENTLY ix_t ON t (id);",
            None,
        ),
    )];
    let err = migrator(&files).upgrade(&db, "head").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("transactional: false"), "{text}");
    let MigrateError::Migration(failed) = err else {
        panic!("expected a migration failure");
    };
    assert_eq!(failed.line, 7, "the CONCURRENTLY statement's line");
    assert!(!table_exists(&db, "t").await, "rolled back");
}

/// A trigger that silently skips the version row's update (SQLite's `RAISE(IGNORE)`,
/// a PostgreSQL `BEFORE` trigger returning NULL) must not pass for a recorded step:
/// the run checks the rows its version change touched, and rolls the step back.
#[tokio::test]
async fn a_version_change_that_touches_no_row_fails_and_rolls_back() {
    for t in databases("skipped_update").await {
        let skip = match t.name {
            "sqlite" => "CREATE TRIGGER keep_version BEFORE UPDATE ON alembic_version BEGIN SELECT RAISE(IGNORE); END",
            "postgres" => "CREATE FUNCTION keep_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; \
                 CREATE TRIGGER keep_version BEFORE UPDATE ON alembic_version FOR EACH ROW EXECUTE FUNCTION keep_version()",
            // MySQL's triggers cannot skip a row, only fail the statement.
            _ => continue,
        };
        for inline in [false, true] {
            let m = migrator(&linear()).sqlite_inline(inline);
            m.upgrade(&t.db, "a1").await.expect("up to a1");
            raw(&t.db, skip).await;
            let err = m.upgrade(&t.db, "b2").await.unwrap_err();
            assert!(
                matches!(
                    &err,
                    MigrateError::VersionTable { revision, expected: 2, actual: 1, .. } if revision == "b2"
                ),
                "{} (inline {inline}): {err}",
                t.name
            );
            assert!(
                !table_exists(&t.db, "t_b2").await,
                "{}: rolled back",
                t.name
            );
            assert_eq!(m.current(&t.db).await.expect("current"), vec!["a1"]);
            let drop = match t.name {
                "sqlite" => "DROP TRIGGER keep_version",
                _ => "DROP TRIGGER keep_version ON alembic_version; DROP FUNCTION keep_version()",
            };
            raw(&t.db, drop).await;
            m.downgrade(&t.db, "base").await.expect("back to base");
        }
    }
}
