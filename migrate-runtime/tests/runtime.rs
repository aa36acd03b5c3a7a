//! The runtime against real databases: SQLite always, PostgreSQL and MariaDB when their
//! test URLs are set (`.ci/run` sets both).

use migrate_test_support as common;

use common::*;
use migrate_runtime::{Database, Dialect, Direction, MigrateError, Migrator, TransactionMode};
use std::time::Duration;

fn linear() -> Vec<(&'static str, String)> {
    let a = table_mig("a1", "", "");
    let b = table_mig("b2", "a1", "");
    let c = table_mig("c3", "b2", "");
    vec![("a1.sql", a.1), ("b2.sql", b.1), ("c3.sql", c.1)]
}

async fn rows(m: &Migrator, db: &Database) -> Vec<String> {
    m.current(db).await.expect("current")
}

#[tokio::test]
async fn linear_upgrade_downgrade_with_rows_after_each_step() {
    for t in databases("linear").await {
        let m = migrator(&linear());
        assert!(rows(&m, &t.db).await.is_empty(), "{}: empty before", t.name);
        let r = m.upgrade(&t.db, "+1").await.expect("upgrade +1");
        assert_eq!(r.revisions(), ["a1"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["a1"], "{}", t.name);
        let r = m.upgrade(&t.db, "head").await.expect("upgrade head");
        assert_eq!(r.revisions(), ["b2", "c3"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["c3"], "{}", t.name);
        assert!(table_exists(&t.db, "t_c3").await, "{}", t.name);
        let r = m.upgrade(&t.db, "head").await.expect("noop");
        assert!(r.steps.is_empty(), "{}: already at head", t.name);
        m.check(&t.db).await.expect("at head");

        let r = m.downgrade(&t.db, "-1").await.expect("downgrade -1");
        assert_eq!(r.revisions(), ["c3"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["b2"], "{}", t.name);
        assert!(!table_exists(&t.db, "t_c3").await, "{}", t.name);
        assert!(
            matches!(m.check(&t.db).await, Err(MigrateError::NotAtHead { .. })),
            "{}",
            t.name
        );
        m.downgrade(&t.db, "base").await.expect("downgrade base");
        assert!(rows(&m, &t.db).await.is_empty(), "{}", t.name);
        assert!(!table_exists(&t.db, "t_a1").await, "{}", t.name);

        let hist = m.applied_history(&t.db).await.expect("history");
        let dirs: Vec<(&str, &str)> = hist
            .iter()
            .map(|h| (h.revision.as_str(), h.direction.name()))
            .collect();
        assert_eq!(
            dirs,
            [
                ("a1", "upgrade"),
                ("b2", "upgrade"),
                ("c3", "upgrade"),
                ("c3", "downgrade"),
                ("b2", "downgrade"),
                ("a1", "downgrade")
            ],
            "{}",
            t.name
        );
        let recorded = m.directory().script(&hist[0].revision).map(|s| s.checksum);
        assert_eq!(hist[0].checksum, recorded);
        assert!(hist[0].checksum.is_some());
    }
}

fn branchy() -> Vec<(&'static str, String)> {
    // a -> b (main), reporting branch from base: r1 -> r2 (depends on b), merge m.
    vec![
        ("a.sql", table_mig("a0", "", "").1),
        ("b.sql", table_mig("b0", "a0", "").1),
        (
            "reporting/r1.sql",
            table_mig("r1", "", "-- branch_labels: reports").1,
        ),
        (
            "reporting/r2.sql",
            table_mig("r2", "r1", "-- depends_on: a0").1,
        ),
        ("m.sql", table_mig("m0", "b0, r2", "").1),
    ]
}

#[tokio::test]
async fn branches_merges_and_depends_on() {
    for t in databases("branchy").await {
        let m = migrator(&branchy());
        // Only the reports branch up to r2: its dependency a0 comes along. (After the
        // merge, `reports@head` would be m0.)
        let r = m.upgrade(&t.db, "r2").await.expect("r2");
        assert_eq!(r.revisions(), ["a0", "r1", "r2"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["r2"], "{}", t.name);
        let r = m.upgrade(&t.db, "heads").await.expect("heads");
        assert_eq!(r.revisions(), ["b0", "m0"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["m0"], "{}", t.name);
        // As in Alembic, `-1` cannot walk down through a merge point...
        let err = m.downgrade(&t.db, "-1").await.unwrap_err();
        assert!(
            err.to_string().contains("ambiguous walk"),
            "{}: {err}",
            t.name
        );
        // ...but naming a parent unmerges: both parents become rows again.
        m.downgrade(&t.db, "b0").await.expect("to b0");
        assert_eq!(rows(&m, &t.db).await, ["b0", "r2"], "{}", t.name);
        // Several heads: `-1` is ambiguous and refused; naming the branch works.
        let err = m.downgrade(&t.db, "-1").await.unwrap_err();
        assert!(err.to_string().contains("ambiguous"), "{}: {err}", t.name);
        m.downgrade(&t.db, "reports@-1").await.expect("reports@-1");
        assert_eq!(rows(&m, &t.db).await, ["b0", "r1"], "{}", t.name);
        // Downgrading a0 takes b0 down with it (r1 stays).
        m.downgrade(&t.db, "a0").await.expect("to a0");
        assert_eq!(rows(&m, &t.db).await, ["a0", "r1"], "{}", t.name);
        m.downgrade(&t.db, "base").await.expect("base");
        assert!(rows(&m, &t.db).await.is_empty(), "{}", t.name);
    }
}

#[tokio::test]
async fn stamp_moves_rows_without_running_sql() {
    for t in databases("stamp").await {
        let m = migrator(&branchy());
        let r = m.stamp(&t.db, &["r2"], false).await.expect("stamp r2");
        assert!(r.revisions().is_empty());
        assert_eq!(rows(&m, &t.db).await, ["r2"], "{}", t.name);
        assert!(!table_exists(&t.db, "t_r2").await, "{}: no SQL ran", t.name);
        m.stamp(&t.db, &["b0"], false).await.expect("stamp b0");
        assert_eq!(rows(&m, &t.db).await, ["b0", "r2"], "{}", t.name);
        m.stamp(&t.db, &["heads"], false)
            .await
            .expect("stamp heads");
        assert_eq!(rows(&m, &t.db).await, ["m0"], "{}", t.name);
        m.stamp(&t.db, &["base"], false).await.expect("stamp base");
        assert!(rows(&m, &t.db).await.is_empty(), "{}", t.name);
        // --purge empties whatever the table held, unknown revisions included.
        raw(
            &t.db,
            "INSERT INTO alembic_version (version_num) VALUES ('deadbeef')",
        )
        .await;
        assert!(
            m.upgrade(&t.db, "head").await.is_err(),
            "{}: unknown current revision",
            t.name
        );
        let r = m.stamp(&t.db, &["a0"], true).await.expect("stamp --purge");
        assert_eq!(rows(&m, &t.db).await, ["a0"], "{}", t.name);
        // As Alembic logs it: the purge is part of the one stamp step.
        let steps: Vec<&str> = r.steps.iter().map(|s| s.description.as_str()).collect();
        assert_eq!(steps, ["stamp_revision  -> a0"], "{}", t.name);
    }
}

#[tokio::test]
async fn failing_migration_keeps_last_good_revision() {
    for t in databases("fail").await {
        let files = vec![
            ("a1.sql", table_mig("a1", "", "").1),
            (
                "b2.sql",
                mig(
                    "b2",
                    "a1",
                    "",
                    "CREATE TABLE t_b2 (id INT);\nINSERT INTO no_such_table VALUES (1);",
                    Some("DROP TABLE t_b2;"),
                ),
            ),
            ("c3.sql", table_mig("c3", "b2", "").1),
        ];
        let m = migrator(&files);
        let err = m.upgrade(&t.db, "head").await.unwrap_err();
        match &err {
            MigrateError::Migration(f) => {
                let (revision, path, line, statement, applied) =
                    (&f.revision, &f.path, &f.line, &f.statement, &f.applied);
                assert_eq!(revision, "b2");
                assert_eq!(path, "b2.sql");
                assert_eq!(*line, 7, "{}: line of the failing statement", t.name);
                assert!(statement.contains("no_such_table"));
                assert_eq!(applied, &["a1"]);
            }
            other => panic!("{}: unexpected {other}", t.name),
        }
        assert!(err.to_string().contains("b2.sql:7"), "{err}");
        assert_eq!(rows(&m, &t.db).await, ["a1"], "{}", t.name);
        if t.name != "mysql" {
            // Transactional DDL: the failed revision's table was rolled back.
            assert!(!table_exists(&t.db, "t_b2").await, "{}", t.name);
        }
        assert!(!table_exists(&t.db, "t_c3").await, "{}", t.name);
        // The lock was released: a second run does not wait for it.
        let m2 = migrator(&files).lock_timeout(Duration::from_secs(3));
        let again = m2.upgrade(&t.db, "head").await.unwrap_err();
        assert!(
            matches!(again, MigrateError::Migration(_)),
            "{}: {again}",
            t.name
        );
        if t.name == "postgres" {
            // Only this test's database: tests running beside it take locks of their own.
            let held = scalar(
                &t.db,
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await;
            assert_eq!(held, 0, "advisory lock leaked");
        }
    }
}

#[tokio::test]
async fn single_transaction_rolls_back_everything() {
    for t in databases("single").await {
        if t.name == "mysql" {
            continue; // MySQL commits DDL implicitly; covered by the per-migration test.
        }
        let files = vec![
            ("a1.sql", table_mig("a1", "", "").1),
            (
                "b2.sql",
                mig("b2", "a1", "", "SELECT * FROM no_such_table;", None),
            ),
        ];
        let m = migrator(&files).transaction_mode(TransactionMode::Single);
        assert!(m.upgrade(&t.db, "head").await.is_err());
        assert!(rows(&m, &t.db).await.is_empty(), "{}", t.name);
        assert!(!table_exists(&t.db, "t_a1").await, "{}", t.name);
        let ok = migrator(&linear()).transaction_mode(TransactionMode::Single);
        ok.upgrade(&t.db, "head").await.expect("single ok");
        assert_eq!(rows(&ok, &t.db).await, ["c3"], "{}", t.name);
    }
}

#[tokio::test]
async fn single_transaction_across_branches_writes_end_state_and_history() {
    for t in databases("singlebr").await {
        let m = migrator(&branchy()).transaction_mode(TransactionMode::Single);
        m.upgrade(&t.db, "r1").await.expect("r1");
        assert_eq!(rows(&m, &t.db).await, ["r1"], "{}", t.name);
        let r = m.upgrade(&t.db, "heads").await.expect("heads");
        assert_eq!(r.revisions(), ["a0", "r2", "b0", "m0"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["m0"], "{}", t.name);
        m.downgrade(&t.db, "b0").await.expect("unmerge");
        assert_eq!(rows(&m, &t.db).await, ["b0", "r2"], "{}", t.name);
        let hist = m.applied_history(&t.db).await.expect("history");
        let got: Vec<(&str, &str)> = hist
            .iter()
            .map(|h| (h.revision.as_str(), h.direction.name()))
            .collect();
        assert_eq!(
            got,
            [
                ("r1", "upgrade"),
                ("a0", "upgrade"),
                ("r2", "upgrade"),
                ("b0", "upgrade"),
                ("m0", "upgrade"),
                ("m0", "downgrade")
            ],
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn edited_applied_migration_is_refused_until_accepted() {
    for t in databases("edited").await {
        let m = migrator(&linear());
        m.upgrade(&t.db, "b2").await.expect("to b2");
        let mut files = linear();
        files[0].1.push_str("-- an edit\n");
        let edited = migrator(&files);
        let err = edited.upgrade(&t.db, "head").await.unwrap_err();
        match &err {
            MigrateError::Edited(v) => {
                assert_eq!(v.len(), 1);
                assert_eq!(v[0].revision, "a1");
                assert_eq!(v[0].path, "a1.sql");
            }
            other => panic!("{}: unexpected {other}", t.name),
        }
        assert!(err.to_string().contains("`a1` (a1.sql)"));
        assert_eq!(rows(&m, &t.db).await, ["b2"], "{}: nothing ran", t.name);
        let accepted = edited.accept_checksums(&t.db, None).await.expect("accept");
        assert_eq!(accepted, ["a1"]);
        edited.upgrade(&t.db, "head").await.expect("after accept");
        assert_eq!(rows(&m, &t.db).await, ["c3"], "{}", t.name);
    }
}

#[tokio::test]
async fn applied_state_read_without_migrations_is_judged_like_check() {
    for t in databases("state").await {
        // The command line reads the state with a migrator that only knows the tables.
        let reader = migrator(&[]).version_table("app_version");
        let empty = reader.applied_state(&t.db).await.expect("no tables yet");
        assert!(empty.current.is_empty() && empty.recorded.is_empty());
        let m = migrator(&linear()).version_table("app_version");
        assert!(matches!(
            m.check_state(&empty),
            Err(MigrateError::NotAtHead { .. })
        ));
        m.upgrade(&t.db, "head").await.expect("up");
        let state = reader.applied_state(&t.db).await.expect("state");
        assert_eq!(state.current, ["c3"], "{}", t.name);
        assert_eq!(state.recorded.len(), 3, "{}", t.name);
        assert_eq!(
            m.check_state(&state).expect("at head").current,
            m.check(&t.db).await.expect("check").current
        );
        let mut files = linear();
        files[1].1.push_str("-- an edit\n");
        match migrator(&files)
            .version_table("app_version")
            .check_state(&state)
        {
            Err(MigrateError::Edited(v)) => assert_eq!(v[0].revision, "b2", "{}", t.name),
            other => panic!("{}: unexpected {other:?}", t.name),
        }
        // Another table is another (empty) state.
        let other = migrator(&[]).applied_state(&t.db).await.expect("other");
        assert!(other.current.is_empty(), "{}", t.name);
    }
}

#[tokio::test]
async fn irreversible_revision_stops_downgrade_before_anything_runs() {
    for t in databases("irrev").await {
        let files = vec![
            (
                "a1.sql",
                mig("a1", "", "", "CREATE TABLE t_a1 (id INT);", None),
            ),
            ("b2.sql", table_mig("b2", "a1", "").1),
        ];
        let m = migrator(&files);
        m.upgrade(&t.db, "head").await.expect("up");
        let err = m.downgrade(&t.db, "base").await.unwrap_err();
        assert!(err.to_string().contains("`a1`"), "{err}");
        assert!(err.to_string().contains("nothing was run"), "{err}");
        assert_eq!(rows(&m, &t.db).await, ["b2"], "{}", t.name);
        assert!(table_exists(&t.db, "t_b2").await, "{}", t.name);
    }
}

#[tokio::test]
async fn non_transactional_migration() {
    for t in databases("nontx").await {
        let files = vec![
            ("a1.sql", table_mig("a1", "", "").1),
            (
                "b2.sql",
                "-- concurrent index\n-- revision: b2\n-- down_revision: a1\n-- transactional: false\n\n-- migrate:upgrade\nCREATE INDEX ix_a1 ON t_a1 (id);\n-- migrate:upgrade postgres\nCREATE INDEX CONCURRENTLY ix_a1 ON t_a1 (id);\n-- migrate:downgrade\nDROP INDEX ix_a1;\n-- migrate:downgrade mysql\nDROP INDEX ix_a1 ON t_a1;\n".to_string(),
            ),
        ];
        let m = migrator(&files);
        m.upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(rows(&m, &t.db).await, ["b2"], "{}", t.name);
        m.downgrade(&t.db, "-1")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(rows(&m, &t.db).await, ["a1"], "{}", t.name);
    }
}

#[tokio::test]
async fn takes_over_a_database_alembic_stamped() {
    for t in databases("takeover").await {
        // What Alembic leaves behind: its DDL and one row.
        raw(&t.db, "CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)").await;
        raw(&t.db, "CREATE TABLE t_a1 (id INT)").await;
        raw(
            &t.db,
            "INSERT INTO alembic_version (version_num) VALUES ('a1')",
        )
        .await;
        let m = migrator(&linear());
        let r = m.upgrade(&t.db, "head").await.expect("take over");
        assert_eq!(r.revisions(), ["b2", "c3"], "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["c3"], "{}", t.name);
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM alembic_version").await,
            1
        );
    }
}

#[tokio::test]
async fn concurrent_upgraders_apply_each_revision_once() {
    for t in databases("conc").await {
        let files: Vec<(String, String)> = (0..20)
            .map(|i| {
                let down = if i == 0 {
                    String::new()
                } else {
                    format!("r{}", i - 1)
                };
                (
                    format!("r{i:02}.sql"),
                    mig(
                        &format!("r{i}"),
                        &down,
                        "",
                        &format!("CREATE TABLE t_r{i} (id INT);"),
                        None,
                    ),
                )
            })
            .collect();
        let borrowed: Vec<(&str, String)> =
            files.iter().map(|(p, s)| (p.as_str(), s.clone())).collect();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let url = t.url.clone();
            let m = migrator(&borrowed);
            tasks.push(tokio::spawn(async move {
                let db = Database::connect(&url).await.expect("connect");
                let r = m.upgrade(&db, "head").await;
                db.close().await;
                r.map(|r| r.revisions().len())
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task
                .await
                .expect("join")
                .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        }
        assert_eq!(
            total, 20,
            "{}: each revision applied once across all upgraders",
            t.name
        );
        let m = migrator(&borrowed);
        let hist = m.applied_history(&t.db).await.expect("history");
        assert_eq!(hist.len(), 20, "{}", t.name);
        assert_eq!(rows(&m, &t.db).await, ["r19"], "{}", t.name);
    }
}

#[tokio::test]
async fn offline_sql_matches_alembic_shape() {
    let m = migrator(&linear());
    let pg = m
        .sql(Direction::Upgrade, "base:b2", Dialect::Postgres)
        .expect("sql");
    assert_eq!(
        pg,
        "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n-- Running upgrade  -> a1\n\nCREATE TABLE t_a1 (id INT);\n\nINSERT INTO alembic_version (version_num) VALUES ('a1') RETURNING alembic_version.version_num;\n\nCOMMIT;\n\nBEGIN;\n\n-- Running upgrade a1 -> b2\n\nCREATE TABLE t_b2 (id INT);\n\nUPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1';\n\nCOMMIT;\n\n"
    );
    let my = m
        .sql(Direction::Downgrade, "c3:a1", Dialect::Mysql)
        .expect("sql");
    assert_eq!(
        my,
        "-- Running downgrade c3 -> b2\n\nDROP TABLE t_c3;\n\nUPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'c3';\n\n-- Running downgrade b2 -> a1\n\nDROP TABLE t_b2;\n\nUPDATE alembic_version SET version_num='a1' WHERE alembic_version.version_num = 'b2';\n\n"
    );
    let single = migrator(&linear()).transaction_mode(TransactionMode::Single);
    let s = single
        .sql(Direction::Upgrade, "a1:head", Dialect::Sqlite)
        .expect("sql");
    assert!(
        s.starts_with("BEGIN;\n\n-- Running upgrade a1 -> b2\n"),
        "{s}"
    );
    assert!(s.ends_with("COMMIT;\n\n"), "{s}");
    assert!(m
        .sql(Direction::Downgrade, "base", Dialect::Sqlite)
        .is_err());
}

#[test]
fn offline_stamp_matches_alembic_shape() {
    let m = migrator(&linear());
    // What `alembic stamp --sql head` prints on PostgreSQL.
    assert_eq!(
        m.stamp_sql(&["head"], Dialect::Postgres).expect("stamp"),
        "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n-- Running stamp_revision  -> c3\n\nINSERT INTO alembic_version (version_num) VALUES ('c3') RETURNING alembic_version.version_num;\n\nCOMMIT;\n\n"
    );
    assert_eq!(
        m.stamp_sql(&["a1:c3"], Dialect::Mysql).expect("range"),
        "-- Running stamp_revision a1 -> c3\n\nUPDATE alembic_version SET version_num='c3' WHERE alembic_version.version_num = 'a1';\n\n"
    );
    let down = m.stamp_sql(&["c3:base"], Dialect::Sqlite).expect("to base");
    assert!(
        down.contains("DELETE FROM alembic_version WHERE alembic_version.version_num = 'c3'"),
        "{down}"
    );
    assert!(m
        .version_table_sql()
        .starts_with("CREATE TABLE alembic_version ("));
    // Two roots: per migration (the default), one transaction per stamp step, the table
    // created in the first; in one transaction, a single BEGIN.
    let roots = migrator(&[
        ("a1.sql", table_mig("a1", "", "").1),
        ("x1.sql", table_mig("x1", "", "").1),
    ]);
    let per_step = roots
        .stamp_sql(&["heads"], Dialect::Postgres)
        .expect("heads");
    assert_eq!(per_step.matches("BEGIN;").count(), 2, "{per_step}");
    assert!(
        per_step.starts_with("BEGIN;\n\nCREATE TABLE alembic_version"),
        "{per_step}"
    );
    let single = roots
        .clone()
        .transaction_mode(TransactionMode::Single)
        .stamp_sql(&["heads"], Dialect::Postgres)
        .expect("heads");
    assert_eq!(single.matches("BEGIN;").count(), 1, "{single}");
    assert_eq!(single.matches("CREATE TABLE").count(), 1, "{single}");
    // Nothing to do: not even the version table (as Alembic).
    let none = m
        .sql(Direction::Upgrade, "c3:head", Dialect::Postgres)
        .expect("none");
    assert!(!none.contains("CREATE TABLE"), "{none}");
    for bad in ["a1:", "zz:c3"] {
        assert!(m.stamp_sql(&[bad], Dialect::Sqlite).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn current_on_a_new_database_creates_nothing() {
    for t in databases("fresh").await {
        let m = migrator(&linear());
        assert!(rows(&m, &t.db).await.is_empty());
        assert!(!table_exists(&t.db, "alembic_version").await, "{}", t.name);
    }
}

#[tokio::test]
async fn unsupported_url_and_masked_password() {
    let err = Database::connect("oracle://u:secret@h/db")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("u:***@h"), "{msg}");
    assert!(!msg.contains("secret"), "{msg}");
    let err = Database::connect("postgres://u:secret@127.0.0.1:1/db")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test]
async fn progress_hook_sees_every_step_start_and_finish() {
    use std::sync::{Arc, Mutex};
    let t = databases("progress").await.remove(0);
    type Event = (usize, usize, Option<String>, bool);
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    let m = migrator(&linear()).on_progress(move |p| {
        sink.lock().expect("lock").push((
            p.index,
            p.total,
            p.revision.map(str::to_string),
            p.finished.is_some(),
        ));
    });
    m.upgrade(&t.db, "head").await.expect("upgrade");
    let seen = seen.lock().expect("lock").clone();
    let rev = |r: &str| Some(r.to_string());
    assert_eq!(
        seen,
        [
            (0, 3, rev("a1"), false),
            (0, 3, rev("a1"), true),
            (1, 3, rev("b2"), false),
            (1, 3, rev("b2"), true),
            (2, 3, rev("c3"), false),
            (2, 3, rev("c3"), true)
        ]
    );
}

#[tokio::test]
async fn custom_version_table_and_schema() {
    for t in databases("schema").await {
        let schema = match t.name {
            "postgres" => {
                raw(&t.db, "CREATE SCHEMA ops").await;
                "ops".to_string()
            }
            "mysql" => strings(&t.db, "SELECT DATABASE()").await.remove(0),
            _ => "main".to_string(),
        };
        let m = migrator(&linear())
            .version_table("schema_version")
            .version_table_schema(schema.clone());
        m.upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(rows(&m, &t.db).await, ["c3"], "{}", t.name);
        let count = scalar(
            &t.db,
            &format!("SELECT COUNT(*) FROM {schema}.schema_version_history"),
        )
        .await;
        assert_eq!(count, 3, "{}", t.name);
        assert!(!table_exists(&t.db, "alembic_version").await, "{}", t.name);
        let bad = migrator(&linear()).version_table("x; DROP TABLE t_a1");
        assert!(matches!(
            bad.upgrade(&t.db, "head").await,
            Err(MigrateError::InvalidName { .. })
        ));
    }
}

#[tokio::test]
async fn lock_wait_times_out_with_a_clear_message() {
    for t in databases("lockwait").await {
        let sleep = match t.name {
            "postgres" => "SELECT pg_sleep(3);",
            "mysql" => "SELECT SLEEP(3);",
            // A write that holds SQLite's write lock while a recursive query runs ~3 s.
            _ => "CREATE TABLE busy (x INT); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 30000000) SELECT COUNT(*) FROM c;",
        };
        let files = vec![("a1.sql", mig("a1", "", "", sleep, None))];
        let slow = migrator(&files);
        let url = t.url.clone();
        let first = tokio::spawn(async move {
            let db = Database::connect(&url).await.expect("connect");
            slow.upgrade(&db, "head").await.map(|r| r.revisions().len())
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
        let db2 = Database::connect(&t.url).await.expect("connect");
        let waiting = migrator(&files).lock_timeout(Duration::from_millis(300));
        let err = waiting.upgrade(&db2, "head").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::LockTimeout { .. }),
            "{}: {err}",
            t.name
        );
        assert!(
            err.to_string().contains("waiting for the migration lock"),
            "{err}"
        );
        assert_eq!(
            first.await.expect("join").expect("first upgrade"),
            1,
            "{}",
            t.name
        );
    }
}

/// Moves the version table from another connection when the run is about to begin its
/// first step, as a second migrator would on SQLite between planning and applying.
fn meddler(url: String) -> impl Fn(&migrate_runtime::Progress<'_>) + Send + Sync + 'static {
    let done = std::sync::atomic::AtomicBool::new(false);
    move |p| {
        if p.index == 0
            && p.finished.is_none()
            && !done.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            let url = url.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("rt");
                rt.block_on(async {
                    let db = Database::connect(&url).await.expect("connect");
                    raw(
                        &db,
                        "INSERT INTO alembic_version (version_num) VALUES ('a1')",
                    )
                    .await;
                    raw(&db, "CREATE TABLE t_a1 (id INT)").await;
                    db.close().await;
                });
            })
            .join()
            .expect("meddler thread");
        }
    }
}

#[tokio::test]
async fn sqlite_replans_when_another_migrator_moved_the_table() {
    let t = databases("replan").await.remove(0);
    let m = migrator(&linear()).on_progress(meddler(t.url.clone()));
    let r = m.upgrade(&t.db, "head").await.expect("upgrade");
    assert_eq!(
        r.revisions(),
        ["b2", "c3"],
        "a1 was applied by the other migrator"
    );
    assert_eq!(rows(&m, &t.db).await, ["c3"]);

    let t = databases("replanrel").await.remove(0);
    let m = migrator(&linear()).on_progress(meddler(t.url.clone()));
    let err = m.upgrade(&t.db, "+2").await.unwrap_err();
    assert!(
        matches!(err, MigrateError::ConcurrentChange { .. }),
        "{err}"
    );
    assert_eq!(rows(&m, &t.db).await, ["a1"], "nothing more ran");
}
