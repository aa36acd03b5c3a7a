//! The stairway test on every configured database: clean migrations pass, a downgrade
//! that forgets something is named with what it left, and a branchy graph is walked one
//! revision at a time.

use migrate_test_support as common;

use common::{databases, mig, migrator};
use migrate_runtime::testing::{stairway, StairwayFailure};

fn clean() -> Vec<(&'static str, String)> {
    vec![
        (
            "a1.sql",
            mig(
                "a1",
                "",
                "",
                "CREATE TABLE tickets (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL);",
                Some("DROP TABLE tickets;"),
            ),
        ),
        (
            "b2.sql",
            mig(
                "b2",
                "a1",
                "",
                "ALTER TABLE tickets ADD COLUMN priority VARCHAR(20);\nCREATE INDEX ix_tickets_priority ON tickets (priority);",
                Some("DROP INDEX ix_tickets_priority ON tickets;\nALTER TABLE tickets DROP COLUMN priority;"),
            ),
        ),
        // A branch from base and a merge: each step is reverted alone.
        (
            "r1.sql",
            mig(
                "r1",
                "",
                "",
                "CREATE TABLE reports (id INT PRIMARY KEY);",
                Some("DROP TABLE reports;"),
            ),
        ),
        (
            "m3.sql",
            mig("m3", "b2, r1", "", "CREATE TABLE merged (id INT);", Some("DROP TABLE merged;")),
        ),
    ]
}

/// `DROP INDEX x ON t` is MySQL's spelling; the others drop an index by name.
fn for_db(files: Vec<(&'static str, String)>, db: &str) -> Vec<(&'static str, String)> {
    if db == "mysql" {
        return files;
    }
    files
        .into_iter()
        .map(|(p, t)| {
            (
                p,
                t.replace(
                    "DROP INDEX ix_tickets_priority ON tickets;",
                    "DROP INDEX ix_tickets_priority;",
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn clean_migrations_pass_and_every_revision_is_checked() {
    for t in databases("stair").await {
        let m = migrator(&for_db(clean(), t.name));
        let report = stairway(&m, &t.url, None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(report.is_ok(), "{}: {report}", t.name);
        let mut checked = report.checked.clone();
        checked.sort();
        assert_eq!(checked, ["a1", "b2", "m3", "r1"], "{}", t.name);
    }
}

#[tokio::test]
async fn a_downgrade_that_leaves_an_index_is_named_with_the_index() {
    for t in databases("stairbad").await {
        let mut files = for_db(clean(), t.name);
        // b2's downgrade forgets its column and index.
        files[1].1 = mig(
            "b2",
            "a1",
            "",
            "ALTER TABLE tickets ADD COLUMN priority VARCHAR(20);\nCREATE INDEX ix_tickets_priority ON tickets (priority);",
            Some("SELECT 1;"),
        );
        let m = migrator(&files);
        let report = stairway(&m, &t.url, None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        match &report.failure {
            Some(StairwayFailure::Trace {
                revision,
                difference,
            }) => {
                assert_eq!(revision, "b2", "{}", t.name);
                let text = difference.join("\n");
                assert!(text.contains("priority"), "{}: {text}", t.name);
            }
            other => panic!("{}: expected a trace, got {other:?}", t.name),
        }
        assert!(report.checked.contains(&"a1".to_string()), "{}", t.name);
        assert!(!report.checked.contains(&"b2".to_string()), "{}", t.name);
    }
}

#[tokio::test]
async fn a_branch_that_depends_on_another_is_reverted_alone() {
    // r1 starts a branch of its own but depends on a1: reverting it gives a1's row back
    // instead of emptying the version table.
    for t in databases("stairdep").await {
        let files = vec![
            (
                "a1.sql",
                mig(
                    "a1",
                    "",
                    "",
                    "CREATE TABLE one (id INT);",
                    Some("DROP TABLE one;"),
                ),
            ),
            (
                "r1.sql",
                mig(
                    "r1",
                    "",
                    "-- depends_on: a1",
                    "CREATE TABLE two (id INT);",
                    Some("DROP TABLE two;"),
                ),
            ),
        ];
        let m = migrator(&files);
        let report = stairway(&m, &t.url, None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(report.is_ok(), "{}: {report}", t.name);
        assert_eq!(report.checked.len(), 2, "{}", t.name);
    }
}

/// `url` with its user replaced.
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}

#[tokio::test]
async fn a_role_without_createdb_runs_the_stairway_on_a_dev_database_only() {
    use migrate_runtime::schema::SchemaError;
    use migrate_runtime::schema::ScratchOn;
    use migrate_runtime::Database;
    let Ok(admin_url) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let target = common::fresh_url("postgres", &admin_url, "stair_target").await;
    let dev = common::fresh_url("postgres", &admin_url, "stair_dev").await;
    let name_of = |u: &str| u.rsplit('/').next().unwrap_or_default().to_string();
    let admin = Database::connect(&admin_url).await.expect("admin");
    let role = format!("migrate_stair_nocreatedb_{}", std::process::id());
    common::raw(&admin, &format!("DROP ROLE IF EXISTS {role}")).await;
    common::raw(&admin, &format!("CREATE ROLE {role} WITH LOGIN NOCREATEDB")).await;
    for db in [&target, &dev] {
        common::raw(
            &admin,
            &format!("ALTER DATABASE {} OWNER TO {role}", name_of(db)),
        )
        .await;
    }
    let (target_url, dev_url) = (with_user(&target, &role), with_user(&dev, &role));
    let m = migrator(&for_db(clean(), "postgres"));

    let refused = stairway(&m, &target_url, None).await;
    let on_dev = stairway(
        &m,
        ScratchOn::target(target_url.as_str()).with_dev(Some(dev_url.as_str())),
        None,
    )
    .await;
    let target_db = Database::connect(&target_url).await.expect("target");
    // Scratch schemas, and tables the migrations would have made in its `public`.
    let in_target = common::scalar(
        &target_db,
        "(SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'migrate\\_scratch\\_%') \
         + (SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public')",
    )
    .await;
    target_db.close().await;
    for db in [&target, &dev] {
        common::raw(
            &admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_of(db)),
        )
        .await;
    }
    common::raw(&admin, &format!("DROP ROLE {role}")).await;
    admin.close().await;

    assert!(
        matches!(refused, Err(SchemaError::ScratchNeedsDevUrl { .. })),
        "{refused:?}"
    );
    let report = on_dev.expect("the stairway on the dev database");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.checked.len(), 4);
    assert_eq!(in_target, 0, "nothing was made in the target database");
}
