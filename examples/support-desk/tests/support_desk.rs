//! The support-desk service end to end on SQLite, PostgreSQL and MariaDB (the latter two
//! when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set, as `.ci/run` does).

use migrate_runtime::{Database, Migrator};
use migrate_test_support::*;
use support_desk::{migrate, open_ticket, open_tickets, MIGRATIONS};

const HEAD: &str = "c8d9e0f1a2b3";
const SATISFACTION: &str = "5c6d7e8f9a0b";

fn migrator() -> Migrator {
    Migrator::new(&MIGRATIONS).expect("embedded migrations")
}

fn upgrade_order() -> Vec<String> {
    let m = migrator();
    let plan = m
        .directory()
        .map
        .upgrade_plan::<&str>(&[], "heads")
        .expect("plan");
    plan.revisions().iter().map(|s| s.to_string()).collect()
}

/// A database of its own at head on every configured database, copied from a template
/// migrated once per test process (`testing::fixture`), for tests that only need a
/// database at head. A set URL that cannot be reached fails the test.
struct AtHead {
    name: &'static str,
    url: String,
    db: Database,
    guard: migrate_runtime::testing::fixture::FreshDatabase,
}

async fn at_head() -> Vec<AtHead> {
    let mut servers = vec![("sqlite", "sqlite::memory:".to_string())];
    if let Ok(u) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        servers.push(("postgres", u));
    }
    if let Ok(u) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        servers.push(("mysql", u));
    }
    let mut out = Vec::new();
    for (name, url) in servers {
        let guard = migrate_runtime::testing::fixture::fresh(&MIGRATIONS, &url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{name}: no database at head (a set test URL must be reachable): {e}: {:?}",
                    std::error::Error::source(&e)
                )
            });
        out.push(AtHead {
            name,
            url: guard.url().to_string(),
            db: guard.database().clone(),
            guard,
        });
    }
    out
}

const TABLES: [&str; 5] = [
    "users",
    "tickets",
    "customer_satisfaction",
    "reports",
    "scheduled_reports",
];

#[test]
fn the_graph_has_one_head_and_every_revision() {
    let m = migrator();
    assert_eq!(m.heads(), [HEAD]);
    assert_eq!(m.directory().scripts.len(), 13);
    assert_eq!(
        m.directory().map.branch("reporting").expect("label").len(),
        8
    );
}

#[tokio::test]
async fn schema_at_head_has_the_expected_columns_and_types() {
    for t in at_head().await {
        assert_eq!(migrate(&t.db).await.expect("migrate"), HEAD);
        let tickets = columns(&t.db, "tickets").await;
        let names: Vec<&str> = tickets.iter().map(|c| c.0.as_str()).collect();
        for want in [
            "id",
            "title",
            "created_at",
            "resolved_at",
            "assignee_id",
            "priority",
            "status",
            "resolution_time_seconds",
        ] {
            assert!(
                names.contains(&want),
                "{}: tickets.{want} missing in {names:?}",
                t.name
            );
        }
        let col = |cols: &[(String, String, bool)], n: &str| {
            cols.iter().find(|c| c.0 == n).cloned().expect("column")
        };
        let status = col(&tickets, "status");
        assert!(
            status.1.contains("char"),
            "{}: status type {}",
            t.name,
            status.1
        );
        assert!(!status.2, "{}: status must be NOT NULL", t.name);
        let rt = col(&tickets, "resolution_time_seconds");
        assert!(
            rt.1.starts_with("int"),
            "{}: resolution_time_seconds type {}",
            t.name,
            rt.1
        );
        let sat = columns(&t.db, "customer_satisfaction").await;
        let score = col(&sat, "score");
        assert!(
            score.1.starts_with("int"),
            "{}: score type {}",
            t.name,
            score.1
        );
        assert!(
            !score.2,
            "{}: score must be NOT NULL after the zero-downtime sequence",
            t.name
        );
        assert!(
            !sat.iter().any(|c| c.0 == "rating"),
            "{}: rating dropped",
            t.name
        );
        for table in TABLES {
            assert!(table_exists(&t.db, table).await, "{}: {table}", t.name);
        }
        t.guard.drop().await.expect("drop");
    }
}

#[tokio::test]
async fn upgrade_downgrade_base_upgrade_again() {
    for t in databases("sdupdown").await {
        let m = migrator();
        m.upgrade(&t.db, "head").await.expect("up");
        m.downgrade(&t.db, "base")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(m.current(&t.db).await.expect("current").is_empty());
        for table in TABLES {
            assert!(
                !table_exists(&t.db, table).await,
                "{}: {table} left behind",
                t.name
            );
        }
        let r = m.upgrade(&t.db, "head").await.expect("up again");
        assert_eq!(r.steps.len(), 13, "{}", t.name);
        m.check(&t.db).await.expect("at head");
    }
}

#[tokio::test]
async fn stairway_every_revision_up_down_up() {
    let order = upgrade_order();
    for t in databases("sdstair").await {
        let m = migrator();
        let map = &m.directory().map;
        for rev in &order {
            let before = m.current(&t.db).await.expect("current");
            m.upgrade(&t.db, rev)
                .await
                .unwrap_or_else(|e| panic!("{}: up {rev}: {e}", t.name));
            let after = m.current(&t.db).await.expect("current");
            let r = map.get(rev).expect("revision");
            let down_to = match r.down_revisions().first() {
                Some(parent) => parent.to_string(),
                None => match r.own_branch_labels().first() {
                    Some(label) => format!("{label}@base"),
                    None => "base".to_string(),
                },
            };
            m.downgrade(&t.db, &down_to)
                .await
                .unwrap_or_else(|e| panic!("{}: down {rev} to {down_to}: {e}", t.name));
            assert_eq!(
                m.current(&t.db).await.expect("current"),
                before,
                "{}: down from {rev}",
                t.name
            );
            m.upgrade(&t.db, rev)
                .await
                .unwrap_or_else(|e| panic!("{}: up {rev} again: {e}", t.name));
            assert_eq!(
                m.current(&t.db).await.expect("current"),
                after,
                "{}: up {rev} again",
                t.name
            );
        }
        assert_eq!(m.current(&t.db).await.expect("current"), [HEAD]);
    }
}

#[tokio::test]
async fn data_written_at_revision_3_survives_to_head_and_back() {
    for t in databases("sddata").await {
        let m = migrator();
        m.upgrade(&t.db, SATISFACTION).await.expect("to revision 3");
        raw(
            &t.db,
            "INSERT INTO users (name, email) VALUES ('Ann', 'ann@example.com')",
        )
        .await;
        raw(
            &t.db,
            "INSERT INTO tickets (title, status, created_at, resolved_at, assignee_id, priority) VALUES \
             ('a', 'open', '2025-01-01 10:00:00', NULL, 1, 'high'), \
             ('b', 'in_progress', '2025-01-01 10:00:00', NULL, 1, 'normal'), \
             ('c', 'pending', '2025-01-01 10:00:00', NULL, NULL, 'low'), \
             ('d', 'resolved', '2025-01-01 10:00:00', '2025-01-01 11:30:00', 1, 'urgent'), \
             ('e', 'closed', '2025-01-01 10:00:00', '2025-01-03 10:00:05', 1, 'normal')",
        )
        .await;
        raw(&t.db, "INSERT INTO customer_satisfaction (ticket_id, rating, feedback) VALUES (4, 5, 'quick'), (5, 2, 'slow')").await;

        m.upgrade(&t.db, "head")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let statuses = strings(&t.db, "SELECT status FROM tickets ORDER BY id").await;
        assert_eq!(
            statuses,
            [
                "OPEN",
                "IN_PROGRESS",
                "WAITING_ON_CUSTOMER",
                "RESOLVED",
                "CLOSED"
            ],
            "{}",
            t.name
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT resolution_time_seconds FROM tickets WHERE title = 'd'"
            )
            .await,
            5400,
            "{}",
            t.name
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT resolution_time_seconds FROM tickets WHERE title = 'e'"
            )
            .await,
            172_805,
            "{}",
            t.name
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM tickets WHERE resolution_time_seconds IS NULL"
            )
            .await,
            3,
            "{}",
            t.name
        );
        assert_eq!(
            scalar(&t.db, "SELECT SUM(score) FROM customer_satisfaction").await,
            7,
            "{}",
            t.name
        );
        let open: Vec<String> = open_tickets(&t.db)
            .await
            .expect("open")
            .into_iter()
            .map(|t| t.title)
            .collect();
        assert_eq!(open, ["a", "b", "c"], "{}: by priority", t.name);

        m.downgrade(&t.db, SATISFACTION)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let statuses = strings(&t.db, "SELECT status FROM tickets ORDER BY id").await;
        assert_eq!(
            statuses,
            ["open", "in_progress", "pending", "resolved", "closed"],
            "{}",
            t.name
        );
        assert_eq!(
            scalar(&t.db, "SELECT SUM(rating) FROM customer_satisfaction").await,
            7,
            "{}",
            t.name
        );
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM tickets").await,
            5,
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn the_binary_migrates_at_start_up_and_leaves_nothing_pending() {
    for t in databases("sdbin").await {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
            .env("DATABASE_URL", &t.url)
            .arg("Printer on fire")
            .output()
            .expect("run support-desk");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {stdout}{}",
            t.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("Printer on fire"), "{stdout}");
        assert!(
            stdout.contains(&format!("database at revision {HEAD}")),
            "{stdout}"
        );
        migrator()
            .check(&t.db)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let current = std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
            .env("DATABASE_URL", &t.url)
            .args(["migrate", "current"])
            .output()
            .expect("migrate current");
        assert!(current.status.success());
        assert!(
            String::from_utf8_lossy(&current.stdout).contains(HEAD),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn two_processes_starting_together_apply_each_revision_once() {
    for t in databases("sdtwo").await {
        let spawn = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
                .env("DATABASE_URL", &t.url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}: {}",
                t.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let applied = strings(&t.db, "SELECT revision FROM alembic_version_history WHERE direction = 'upgrade' ORDER BY revision").await;
        let mut expected = upgrade_order();
        expected.sort();
        assert_eq!(applied, expected, "{}: each revision exactly once", t.name);
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM tickets").await,
            2,
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn job_functions_open_and_list() {
    for t in at_head().await {
        migrate(&t.db).await.expect("migrate");
        let low = open_ticket(&t.db, "a@example.com", "low one", "low")
            .await
            .expect("open");
        let urgent = open_ticket(&t.db, "a@example.com", "urgent one", "urgent")
            .await
            .expect("open");
        let list = open_tickets(&t.db).await.expect("list");
        let ids: Vec<i64> = list.iter().map(|t| t.id).collect();
        assert_eq!(ids, [urgent, low], "{}", t.name);
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM users").await,
            1,
            "{}: user created once",
            t.name
        );
        let _ = Database::connect(&t.url).await.expect("reconnect");
        t.guard.drop().await.expect("drop");
    }
}

#[test]
fn the_binary_explains_itself_and_its_migrate_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/sd.db", dir.path().display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
            .env("DATABASE_URL", &url)
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("run support-desk")
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.starts_with("Usage: support-desk [TITLE]"), "{text}");
    assert!(
        !dir.path().join("sd.db").exists(),
        "--help must not touch the database"
    );
    assert_eq!(run(&["--frobnicate"]).status.code(), Some(2));

    let help = run(&["migrate", "--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Usage: support-desk migrate [OPTIONS] <COMMAND>"),
        "{text}"
    );
    for shown in ["upgrade", "current", "check", "pending", "history"] {
        assert!(
            text.contains(&format!("\n  {shown} ")),
            "{shown} missing:\n{text}"
        );
    }
    for hidden in ["revision", "hash", "init", "edit", "rebase", "merge"] {
        assert!(
            !text.contains(&format!("\n  {hidden} ")),
            "{hidden} listed:\n{text}"
        );
    }
    let refused = run(&["migrate", "hash"]);
    assert_eq!(refused.status.code(), Some(1));

    // Start-up logs what it applied, then that nothing was left to do.
    let first = run(&["Printer on fire"]);
    assert!(first.status.success());
    let log = String::from_utf8_lossy(&first.stderr);
    assert!(log.contains("applied 13 migrations"), "{log}");
    assert!(log.contains(&format!("database now at {HEAD}")), "{log}");
    assert!(log.contains("Running upgrade"), "{log}");
    let second = run(&["Toner low"]);
    let log = String::from_utf8_lossy(&second.stderr);
    assert!(
        log.contains(&format!("database already at head {HEAD}")),
        "{log}"
    );

    // A database at a revision this build does not know: start-up says what it means.
    let pool_url = url.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let db = migrate_runtime::Database::connect(&pool_url)
            .await
            .expect("connect");
        raw(&db, "UPDATE alembic_version SET version_num = 'f00dfeed'").await;
        db.close().await;
    });
    let newer = run(&["x"]);
    assert_eq!(newer.status.code(), Some(1));
    let err = String::from_utf8_lossy(&newer.stderr);
    assert!(
        err.contains("'f00dfeed', which is not among the migrations"),
        "{err}"
    );
    assert!(err.contains("newer release"), "{err}");
}

fn declared() -> migrate_runtime::schema::model::DeclaredSchema {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    migrate_runtime::schema::model::DeclaredSchema::load(&dir)
        .unwrap_or_else(|e| panic!("schema/: {e}"))
}

#[tokio::test]
async fn stairway_every_revision_up_down_up_and_the_head_is_the_declared_schema() {
    let declared = declared();
    for t in databases("sdstair").await {
        let report = migrate_runtime::testing::stairway(&migrator(), &t.url, Some(&declared))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(report.is_ok(), "{}: {report}", t.name);
        assert_eq!(report.checked.len(), 13, "{}: {report}", t.name);
    }
}

#[tokio::test]
async fn the_database_at_head_matches_the_declared_schema_until_changed_by_hand() {
    use migrate_runtime::schema::model::diff;
    use migrate_runtime::testing::{live_schema, replay};
    let declared = declared();
    for t in at_head().await {
        migrate(&t.db)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let m = migrator();
        migrate_runtime::testing::assert_matches_declared(&m, &t.db, &declared, &t.url).await;
        // The migrations replayed on a scratch database give the live schema: no drift.
        let scratch = migrate_runtime::schema::scratch(&t.url)
            .await
            .expect("scratch");
        let heads: Vec<String> = m.heads().iter().map(|s| s.to_string()).collect();
        let replayed = replay(&m, scratch.database(), &heads)
            .await
            .expect("replay");
        scratch.drop().await.expect("drop scratch");
        let live = live_schema(&m, &t.db).await.expect("live");
        assert!(
            diff(&replayed, &live).expect("diff").is_empty(),
            "{}",
            t.name
        );
        // A column added by hand is drift.
        raw(&t.db, "ALTER TABLE tickets ADD COLUMN notes VARCHAR(100)").await;
        let live = live_schema(&m, &t.db).await.expect("live");
        let drift = diff(&replayed, &live).expect("diff");
        let described: Vec<String> = drift.changes.iter().map(|c| c.describe()).collect();
        assert_eq!(described.len(), 1, "{}: {described:?}", t.name);
        assert!(
            described[0].contains("tickets.notes"),
            "{}: {described:?}",
            t.name
        );
        t.guard.drop().await.expect("drop");
    }
}
