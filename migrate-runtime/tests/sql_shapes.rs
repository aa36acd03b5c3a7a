//! SQL that a naive split at `;` breaks, run on each database: routine bodies, nested
//! comments; a failure in a section sent whole names its statement; version rows are
//! bound, never spliced; a run dropped half-way leaves no transaction open.

use migrate_runtime::{MigrateError, Migrator};
use migrate_test_support::{databases, mig, migrator, raw, scalar, table_exists};

/// A migration whose SQL for each database holds a routine with `;` inside its body
/// and a nested block comment, then calls the routine.
fn routines() -> Vec<(&'static str, String)> {
    let text = "-- r1\n-- revision: r1\n-- down_revision:\n\n\
-- migrate:upgrade postgres\n\
/* outer /* inner; */ still a comment; */\n\
CREATE TABLE counter (n INT);\n\
INSERT INTO counter VALUES (0);\n\
CREATE FUNCTION bump(k int) RETURNS int LANGUAGE sql\n\
BEGIN ATOMIC\n\
  UPDATE counter SET n = n + k;\n\
  SELECT CASE WHEN k > 0 THEN k ELSE 0 END;\n\
END;\n\
SELECT bump(2);\n\
SELECT bump(3);\n\
-- migrate:upgrade mysql\n\
CREATE TABLE counter (n INT);\n\
INSERT INTO counter VALUES (0);\n\
CREATE PROCEDURE bump(IN k INT)\n\
BEGIN\n\
  DECLARE i INT DEFAULT 0;\n\
  WHILE i < k DO\n\
    UPDATE counter SET n = n + 1;\n\
    SET i = i + 1;\n\
  END WHILE;\n\
  IF k > 100 THEN\n\
    UPDATE counter SET n = 0;\n\
  END IF;\n\
END;\n\
CALL bump(2);\n\
CALL bump(3);\n\
-- migrate:upgrade sqlite\n\
/* a comment; with a semicolon */\n\
CREATE TABLE counter (n INT);\n\
CREATE TABLE log (k INT);\n\
INSERT INTO counter VALUES (0);\n\
CREATE TRIGGER bump AFTER INSERT ON log\n\
BEGIN\n\
  UPDATE counter SET n = n + NEW.k;\n\
  UPDATE counter SET n = n + CASE WHEN NEW.k > 100 THEN -NEW.k ELSE 0 END;\n\
END;\n\
INSERT INTO log VALUES (2);\n\
INSERT INTO log VALUES (3);\n"
        .to_string();
    vec![("r1.sql", text)]
}

#[tokio::test]
async fn routine_bodies_and_nested_comments_run_on_every_database() {
    for t in databases("shapes").await {
        let m = migrator(&routines());
        m.upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(
            scalar(&t.db, "SELECT n FROM counter").await,
            5,
            "{}",
            t.name
        );
        assert_eq!(m.current(&t.db).await.unwrap(), vec!["r1"], "{}", t.name);
    }
}

#[tokio::test]
async fn a_failure_in_a_section_sent_whole_names_its_statement_and_line() {
    let up = "CREATE TABLE first_ok (x INT);\nINSERT INTO first_ok VALUES (1);\n\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE never (x INT);";
    let files = vec![
        (
            "a.sql",
            mig("a", "", "", "CREATE TABLE base_t (x INT);", None),
        ),
        ("b.sql", mig("b", "a", "", up, None)),
    ];
    for t in databases("shapes_fail").await {
        let m = migrator(&files);
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        let MigrateError::Migration(failed) = err else {
            panic!("{}: not a migration failure: {err}", t.name);
        };
        assert_eq!(failed.revision, "b", "{}", t.name);
        assert_eq!(
            failed.statement, "INSERT INTO no_such_table VALUES (1)",
            "{}",
            t.name
        );
        // The file's header is 4 lines and the directive line 5: the SQL starts at 6.
        assert_eq!(failed.line, 9, "{}", t.name);
        assert_eq!(failed.applied, vec!["a"], "{}", t.name);
        assert!(!table_exists(&t.db, "never").await, "{}", t.name);
        if t.name == "mysql" {
            // DDL committed at once there, and the error says so.
            assert!(failed.partly_applied.is_some(), "{failed:?}");
            assert!(table_exists(&t.db, "first_ok").await);
        } else {
            assert!(failed.partly_applied.is_none(), "{}: {failed:?}", t.name);
            assert!(!table_exists(&t.db, "first_ok").await, "{}", t.name);
        }
        assert_eq!(m.current(&t.db).await.unwrap(), vec!["a"], "{}", t.name);
    }
}

#[tokio::test]
async fn stamp_purge_deletes_rows_holding_quotes_through_bound_values() {
    let files = vec![(
        "a.sql",
        mig("a", "", "", "CREATE TABLE base_t (x INT);", None),
    )];
    for t in databases("shapes_purge").await {
        let m = migrator(&files);
        m.upgrade(&t.db, "head").await.unwrap();
        // A row no migration has, with a quote and a comment marker in it: spliced into
        // SQL text it would break the statement (or worse).
        raw(
            &t.db,
            "INSERT INTO alembic_version (version_num) VALUES ('x''); --')",
        )
        .await;
        m.stamp(&t.db, &["a"], true)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(m.current(&t.db).await.unwrap(), vec!["a"], "{}", t.name);
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM alembic_version").await,
            1,
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn a_run_dropped_inside_its_transaction_leaves_nothing_open() {
    // The second migration waits long enough to be cancelled inside its transaction.
    let sleep = |name: &str| {
        match name {
        "postgres" => "SELECT pg_sleep(5);",
        "mysql" => "SELECT SLEEP(5);",
        _ => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT count(*) FROM c;",
    }
    };
    for t in databases("shapes_cancel").await {
        let files = vec![
            (
                "a.sql",
                mig("a", "", "", "CREATE TABLE base_t (x INT);", None),
            ),
            (
                "b.sql",
                mig(
                    "b",
                    "a",
                    "",
                    &format!("INSERT INTO base_t VALUES (1);\n{}", sleep(t.name)),
                    None,
                ),
            ),
        ];
        let m: Migrator = migrator(&files);
        m.upgrade(&t.db, "a").await.unwrap();
        let run = m.upgrade(&t.db, "head");
        let cut = tokio::time::timeout(std::time::Duration::from_millis(300), run).await;
        assert!(cut.is_err(), "{}: the run should still be going", t.name);
        // The pool hands out a connection whose transaction was rolled back: the row
        // the dropped run inserted is gone, and a new run applies `b` cleanly.
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM base_t").await,
            0,
            "{}",
            t.name
        );
        assert_eq!(m.current(&t.db).await.unwrap(), vec!["a"], "{}", t.name);
        let quick = migrator(&[
            files[0].clone(),
            (
                "b.sql",
                mig("b", "a", "", "INSERT INTO base_t VALUES (1);", None),
            ),
        ]);
        quick
            .upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM base_t").await,
            1,
            "{}",
            t.name
        );
    }
}
