//! Creating, finding and dropping whole databases through `Database`, on the real
//! servers (`MIGRATE_TEST_POSTGRES_URL`, `MIGRATE_TEST_MYSQL_URL`): what scratch
//! databases, the test fixture and test suites use.

use migrate_runtime::{Database, MigrateError};

/// A name no other run uses.
fn name(tag: &str) -> String {
    format!("mt_{}_{tag}_db", std::process::id())
}

async fn round_trip(admin_url: &str, kind: &str) {
    let admin = Database::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("{kind} test URL is set but unreachable: {e}"));
    let name = name(kind);
    admin.drop_database(&name).await.expect("no leftover");
    assert!(!admin.database_exists(&name).await.expect("list"), "{kind}");

    admin.create_database(&name).await.expect("create");
    assert!(admin.database_exists(&name).await.expect("list"), "{kind}");
    assert!(
        admin
            .database_names("mt_")
            .await
            .expect("list")
            .contains(&name),
        "{kind}: the prefix lists it"
    );
    // A prefix with LIKE's wildcards in it matches them as characters.
    assert!(
        !admin
            .database_names("mt%")
            .await
            .expect("list")
            .contains(&name),
        "{kind}: `%` in a prefix is no wildcard"
    );
    // The new database is empty and can be connected to by its URL.
    let url = Database::url_with_database(admin_url, &name);
    let db = Database::connect(&url)
        .await
        .expect("connect to the new one");
    let schema = migrate_runtime::schema::introspect(&db, &[])
        .await
        .expect("introspect");
    assert!(schema.tables.is_empty(), "{kind}: {:?}", schema.tables);
    // A session still on it does not stop the drop on PostgreSQL (FORCE); MySQL drops
    // a database in use anyway.
    admin.drop_database(&name).await.expect("drop");
    assert!(!admin.database_exists(&name).await.expect("list"), "{kind}");
    db.close().await;

    let refused = admin
        .create_database("not a name")
        .await
        .expect_err("refused");
    assert!(
        matches!(refused, MigrateError::InvalidName { .. }),
        "{refused}"
    );
    admin.close().await;
}

#[tokio::test]
async fn postgres_databases_are_created_found_and_dropped() {
    let Ok(url) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    round_trip(&url, "postgres").await;
}

#[tokio::test]
async fn mysql_databases_are_created_found_and_dropped() {
    let Ok(url) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    round_trip(&url, "mysql").await;
}

#[tokio::test]
async fn sqlite_has_no_databases_to_create() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::connect(&format!("sqlite://{}/x.db", dir.path().display()))
        .await
        .expect("sqlite");
    let e = db.create_database("other").await.expect_err("no server");
    assert!(matches!(e, MigrateError::ServerOnly { .. }), "{e}");
    assert!(e.to_string().contains("needs a database server"), "{e}");
    db.close().await;
}
