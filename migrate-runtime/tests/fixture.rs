//! `testing::fixture`: each test gets a database of its own at head, copied from a
//! template migrated once per process, dropped with its guard. On SQLite always, on
//! PostgreSQL and MariaDB when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL`
//! are set (a set URL whose server cannot be reached fails, never skips).

use migrate_test_support as common;

use common::*;
use migrate_runtime::testing::{self, fixture};
use migrate_runtime::{Database, Migrator};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `(kind, URL the fixture is given)` for every configured database.
fn servers() -> Vec<(&'static str, String)> {
    let mut out = vec![("sqlite", "sqlite::memory:".to_string())];
    if let Ok(u) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        out.push(("postgres", u));
    }
    if let Ok(u) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        out.push(("mysql", u));
    }
    out
}

/// Migrations with what a copy must carry: foreign keys, seed rows, counters that go on
/// (AUTOINCREMENT, SERIAL, AUTO_INCREMENT), a view, a trigger, a procedure (MySQL).
/// `tag` makes the set (and so its template) the test's own.
fn rich(tag: &str) -> Migrator {
    let files = [
        (
            "a1.sql",
            mig(
                "a1",
                "",
                &format!("-- tag: {tag}"),
                "CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL);\nINSERT INTO parent (id, name) VALUES (0, 'zero'), (1, 'one'), (2, 'two');\nCREATE TABLE counter (n INT NOT NULL);\nINSERT INTO counter (n) VALUES (0);",
                Some("DROP TABLE counter;\nDROP TABLE parent;"),
            ),
        ),
        (
            "b2.sql",
            mig(
                "b2",
                "a1",
                "",
                "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));\nINSERT INTO child (id, parent_id) VALUES (10, 1);\nCREATE VIEW parent_names AS SELECT name FROM parent;",
                Some("DROP VIEW parent_names;\nDROP TABLE child;"),
            ),
        ),
        (
            "c3.sql",
            "-- c3\n-- revision: c3\n-- down_revision: b2\n\n\
             -- migrate:upgrade\n\
             CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR(50));\n\
             INSERT INTO note (body) VALUES ('x'), ('y');\n\
             CREATE TRIGGER parent_counted AFTER INSERT ON parent BEGIN UPDATE counter SET n = n + 1; END;\n\
             -- migrate:upgrade postgres\n\
             CREATE TABLE note (id SERIAL PRIMARY KEY, body VARCHAR(50));\n\
             INSERT INTO note (body) VALUES ('x'), ('y');\n\
             CREATE FUNCTION count_parent() RETURNS trigger AS $$ BEGIN UPDATE counter SET n = n + 1; RETURN NEW; END; $$ LANGUAGE plpgsql;\n\
             CREATE TRIGGER parent_counted AFTER INSERT ON parent FOR EACH ROW EXECUTE FUNCTION count_parent();\n\
             -- migrate:upgrade mysql\n\
             CREATE TABLE note (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(50));\n\
             INSERT INTO note (body) VALUES ('x'), ('y');\n\
             CREATE TRIGGER parent_counted AFTER INSERT ON parent FOR EACH ROW UPDATE counter SET n = n + 1;\n\
             CREATE PROCEDURE add_note(b VARCHAR(50)) INSERT INTO note (body) VALUES (b);\n\
             -- migrate:downgrade\n\
             DROP TABLE note;\n"
                .to_string(),
        ),
    ];
    migrator(&files)
}

async fn fresh(m: &Migrator, kind: &str, url: &str) -> fixture::FreshDatabase {
    fixture::fresh(m, url).await.unwrap_or_else(|e| {
        panic!(
            "{kind}: the fixture failed (a set test URL must be reachable): {e}: {:?}",
            std::error::Error::source(&e)
        )
    })
}

/// Whether the database (or SQLite file) a copy was is still there.
async fn exists(kind: &str, url: &str, name: &str) -> bool {
    if kind == "sqlite" {
        return std::path::Path::new(name).exists();
    }
    let admin = Database::connect(url).await.expect("admin connects");
    let sql = if kind == "postgres" {
        format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'")
    } else {
        format!("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'")
    };
    let n = scalar(&admin, &sql).await;
    admin.close().await;
    n > 0
}

#[tokio::test]
async fn each_copy_is_at_head_and_isolated() {
    let m = rich("isolated");
    for (kind, url) in servers() {
        let a = fresh(&m, kind, &url).await;
        let b = fresh(&m, kind, &url).await;
        assert_ne!(a.name(), b.name(), "{kind}");
        for db in [&a, &b] {
            assert_eq!(
                m.current(db.database()).await.expect("current"),
                ["c3"],
                "{kind}"
            );
            m.check(db.database())
                .await
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            let history = m.applied_history(db.database()).await.expect("history");
            assert_eq!(history.len(), 3, "{kind}: the template's history rows");
        }
        raw(
            a.database(),
            "INSERT INTO parent (id, name) VALUES (7, 'only in a')",
        )
        .await;
        raw(a.database(), "DELETE FROM child").await;
        assert_eq!(
            scalar(a.database(), "SELECT COUNT(*) FROM parent").await,
            4,
            "{kind}"
        );
        assert_eq!(
            scalar(b.database(), "SELECT COUNT(*) FROM parent").await,
            3,
            "{kind}: a's write seen in b"
        );
        assert_eq!(
            scalar(b.database(), "SELECT COUNT(*) FROM child").await,
            1,
            "{kind}: a's delete seen in b"
        );
        // And through their URLs, as another process would see them.
        let again = Database::connect(b.url()).await.expect("connect by url");
        assert_eq!(
            scalar(&again, "SELECT COUNT(*) FROM parent").await,
            3,
            "{kind}"
        );
        again.close().await;
        a.drop().await.expect("drop a");
        b.drop().await.expect("drop b");
    }
}

#[tokio::test]
async fn a_copy_has_the_schema_and_rows_the_migrations_give() {
    let m = rich("faithful");
    for (kind, url) in servers() {
        let db = fresh(&m, kind, &url).await;
        let d = db.database();
        // The schema a database migrated from empty has.
        let scratch = migrate_runtime::schema::scratch(&url)
            .await
            .expect("scratch");
        let replayed = testing::replay(&m, scratch.database(), &["c3".to_string()])
            .await
            .expect("replay");
        scratch.drop().await.expect("drop scratch");
        let live = testing::live_schema(&m, d).await.expect("live");
        let difference = migrate_runtime::schema::model::diff(&replayed, &live).expect("diff");
        assert!(
            difference.is_empty(),
            "{kind}: {:?}",
            difference
                .changes
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
        );
        // Seed rows, id 0 included.
        assert_eq!(
            strings(d, "SELECT name FROM parent ORDER BY id").await,
            ["zero", "one", "two"],
            "{kind}"
        );
        assert_eq!(
            strings(d, "SELECT name FROM parent_names ORDER BY name").await,
            ["one", "two", "zero"],
            "{kind}: the view"
        );
        // Foreign keys are enforced.
        let orphan_sql = sqlx::raw_sql("INSERT INTO child (id, parent_id) VALUES (11, 99)");
        let orphan = if let Some(p) = d.as_sqlite() {
            orphan_sql.execute(p).await.map(|_| ())
        } else if let Some(p) = d.as_postgres() {
            orphan_sql.execute(p).await.map(|_| ())
        } else if let Some(p) = d.as_mysql() {
            orphan_sql.execute(p).await.map(|_| ())
        } else {
            unreachable!("every driver is compiled in")
        };
        assert!(
            orphan.is_err(),
            "{kind}: a child without parent was accepted"
        );
        // Counters go on from the template's rows.
        raw(d, "INSERT INTO note (body) VALUES ('z')").await;
        assert_eq!(
            scalar(d, "SELECT MAX(id) FROM note").await,
            3,
            "{kind}: the counter"
        );
        // The trigger fires once per insert; the template's rows were not counted twice.
        raw(d, "INSERT INTO parent (id, name) VALUES (3, 'three')").await;
        assert_eq!(
            scalar(d, "SELECT n FROM counter").await,
            1,
            "{kind}: the trigger"
        );
        if kind == "mysql" {
            raw(d, "CALL add_note('w')").await;
            assert_eq!(
                scalar(d, "SELECT COUNT(*) FROM note").await,
                4,
                "{kind}: the procedure"
            );
        }
        db.drop().await.expect("drop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_is_migrated_once_per_process() {
    for (kind, url) in servers() {
        // Migrations of this test and this database alone, so no other test makes the
        // template first.
        let steps = Arc::new(AtomicUsize::new(0));
        let counted = steps.clone();
        let m = rich(&format!("once_{kind}")).on_progress(move |p| {
            if p.finished.is_some() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        // Concurrent first calls wait for one template.
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let (m, url) = (m.clone(), url.clone());
                tokio::spawn(async move { fixture::fresh(&m, &url).await })
            })
            .collect();
        let mut copies = Vec::new();
        for c in calls {
            copies.push(
                c.await
                    .expect("join")
                    .unwrap_or_else(|e| panic!("{kind}: {e}")),
            );
        }
        let started = Instant::now();
        for _ in 0..3 {
            copies.push(fresh(&m, kind, &url).await);
        }
        let per_copy = started.elapsed() / 3;
        assert_eq!(
            steps.load(Ordering::SeqCst),
            3,
            "{kind}: 3 migrations for 7 copies"
        );
        let mut names: Vec<&str> = copies.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 7, "{kind}: each its own");
        for c in &copies {
            assert_eq!(
                m.current(c.database()).await.expect("current"),
                ["c3"],
                "{kind}"
            );
        }
        // The template's history, copied: the same rows, the same times.
        let times = |db: &Database| {
            let db = db.clone();
            async move {
                strings(
                    &db,
                    "SELECT CAST(applied_at AS CHAR(40)) FROM alembic_version_history ORDER BY id",
                )
                .await
            }
        };
        let first = times(copies[0].database()).await;
        assert_eq!(first.len(), 3, "{kind}");
        assert_eq!(times(copies[6].database()).await, first, "{kind}");
        eprintln!("{kind}: {per_copy:?} per copy");
        for c in copies {
            c.drop().await.expect("drop");
        }
    }
}

#[tokio::test]
async fn guards_drop_their_databases() {
    let m = rich("dropped");
    for (kind, url) in servers() {
        let db = fresh(&m, kind, &url).await;
        let name = db.name().to_string();
        assert!(exists(kind, &url, &name).await, "{kind}: {name} made");
        db.drop().await.expect("drop");
        assert!(
            !exists(kind, &url, &name).await,
            "{kind}: {name} left after drop()"
        );

        // Dropped without `drop()` (a test that panicked): gone in the background.
        let db = fresh(&m, kind, &url).await;
        let name = db.name().to_string();
        raw(
            db.database(),
            "INSERT INTO parent (id, name) VALUES (5, 'five')",
        )
        .await;
        drop(db);
        let deadline = Instant::now() + Duration::from_secs(30);
        while exists(kind, &url, &name).await {
            assert!(
                Instant::now() < deadline,
                "{kind}: {name} still there 30 s after its guard was dropped"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn a_failing_migration_names_the_template_and_is_retried() {
    let files = [
        table_mig("a1", "", "-- tag: failing"),
        (
            "b2.sql".to_string(),
            mig("b2", "a1", "", "CREATE TABLE t_a1 (id INT);", None),
        ),
    ];
    let m = migrator(
        &files
            .iter()
            .map(|(p, t)| (p.as_str(), t.clone()))
            .collect::<Vec<_>>(),
    );
    for (kind, url) in servers() {
        for _ in 0..2 {
            let err = fixture::fresh(&m, &url).await.expect_err("b2 fails");
            assert!(
                matches!(err, fixture::FixtureError::Template { .. }),
                "{kind}: {err:?}"
            );
            assert!(err.to_string().contains("migrate_tpl_"), "{kind}: {err}");
            let cause = std::error::Error::source(&err)
                .map(|s| s.to_string())
                .unwrap_or_default();
            assert!(cause.contains("`b2`"), "{kind}: {cause}");
        }
    }
}

#[tokio::test]
async fn what_the_fixture_cannot_copy_is_refused() {
    let m = rich("refused");
    let err = fixture::fresh(&m, "oracle://u:secret@h/db")
        .await
        .expect_err("unsupported");
    assert!(
        matches!(err, fixture::FixtureError::Unsupported { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("secret"), "{err}");
    if let Ok(url) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        let elsewhere = rich("refused").version_table_schema("other_db");
        let err = fixture::fresh(&elsewhere, &url)
            .await
            .expect_err("version table elsewhere");
        assert!(err.to_string().contains("version_table_schema"), "{err}");
    }
}

/// The line a child process prints for each copy it made: `fixture-child <kind> <name>`.
const CHILD_LINE: &str = "fixture-child";
/// Set in the child's environment to make it abort (as a crash does) instead of ending
/// normally.
const CHILD_ABORTS: &str = "MIGRATE_FIXTURE_CHILD_ABORTS";

/// Run by the two tests below in a test process of its own (and in the suite like any
/// test): on every database a copy dropped with `drop()`, one dropped by its guard (a
/// test that panicked), and one never dropped (as a guard held in a static is), each
/// at head. Prints the copies' names for the parent.
#[tokio::test]
async fn child_process_uses_the_fixture() {
    let m = rich("child");
    for (kind, url) in servers() {
        let copies = [
            fresh(&m, kind, &url).await,
            fresh(&m, kind, &url).await,
            fresh(&m, kind, &url).await,
        ];
        for c in &copies {
            assert_eq!(
                m.current(c.database()).await.expect("current"),
                ["c3"],
                "{kind}"
            );
            println!("{CHILD_LINE} {kind} {}", c.name());
        }
        let [dropped, guarded, kept] = copies;
        dropped.drop().await.expect("drop");
        drop(guarded);
        std::mem::forget(kept);
    }
    if std::env::var_os(CHILD_ABORTS).is_some() {
        std::process::abort();
    }
}

/// Runs [`child_process_uses_the_fixture`] in a process of its own; returns whether it
/// ended successfully and `(kind, name)` of the copies it made.
fn run_child(aborts: bool) -> (bool, Vec<(String, String)>) {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "--exact",
        "child_process_uses_the_fixture",
        "--nocapture",
        "--test-threads",
        "1",
    ]);
    if aborts {
        cmd.env(CHILD_ABORTS, "1");
    } else {
        cmd.env_remove(CHILD_ABORTS);
    }
    let out = cmd.output().expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let copies: Vec<(String, String)> = stdout
        .lines()
        // The harness's `test … ... ` may share the first line.
        .filter_map(|l| l.split_once(CHILD_LINE).map(|(_, rest)| rest))
        .filter_map(|l| l.trim().split_once(' '))
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect();
    assert_eq!(
        copies.len(),
        3 * servers().len(),
        "the child's copies:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), copies)
}

/// The process tag (`<pid>_<host>_<nonce>`) in a copy's name (`migrate_fresh_<tag>_<n>`,
/// on SQLite the folder `…/migrate_fresh_<tag>_<n>/db.sqlite`).
fn tag_of(kind: &str, name: &str) -> String {
    let base = if kind == "sqlite" {
        std::path::Path::new(name)
            .parent()
            .and_then(|p| p.file_name())
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        name.to_string()
    };
    let rest = base.strip_prefix("migrate_fresh_").expect(name);
    rest.rsplit_once('_').expect(name).0.to_string()
}

/// What of the fixture's databases (files on SQLite) carries the process tag `tag`.
async fn left_by(kind: &str, url: &str, tag: &str) -> Vec<String> {
    let ours = |n: &String| {
        n.starts_with(&format!("migrate_tpl_{tag}_"))
            || n.starts_with(&format!("migrate_fresh_{tag}_"))
    };
    if kind == "sqlite" {
        let dir = std::env::temp_dir().join("migrate-fixture");
        return std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(ours)
                    .collect()
            })
            .unwrap_or_default();
    }
    let admin = Database::connect(url).await.expect("admin connects");
    let sql = if kind == "postgres" {
        "SELECT datname::text FROM pg_database"
    } else {
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata"
    };
    let names = strings(&admin, sql).await;
    admin.close().await;
    names.into_iter().filter(ours).collect()
}

#[tokio::test]
async fn nothing_is_left_when_the_test_process_ends() {
    let (ok, copies) = run_child(false);
    assert!(ok, "the child ended normally");
    for (kind, url) in servers() {
        let (_, name) = copies.iter().find(|(k, _)| k == kind).expect(kind);
        let tag = tag_of(kind, name);
        let left = left_by(kind, &url, &tag).await;
        assert!(
            left.is_empty(),
            "{kind}: the ended process {tag} left {left:?}"
        );
    }
}

#[tokio::test]
async fn what_a_crashed_process_left_is_dropped_by_the_next() {
    let (ok, copies) = run_child(true);
    assert!(!ok, "the child aborted");
    for (kind, url) in servers() {
        let (_, name) = copies.iter().find(|(k, _)| k == kind).expect(kind);
        let tag = tag_of(kind, name);
        // What it left is not checked here: any process of this host making a template
        // (another test of this binary, say) may have dropped it already.
        // A template made here (migrations of this test alone) drops them first.
        let db = fresh(&rich(&format!("after_crash_{kind}")), kind, &url).await;
        db.drop().await.expect("drop");
        let left = left_by(kind, &url, &tag).await;
        assert!(
            left.is_empty(),
            "{kind}: the aborted process {tag} still has {left:?}"
        );
    }
}
