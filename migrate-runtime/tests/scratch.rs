//! Dropping scratch databases on the real servers (`MIGRATE_TEST_POSTGRES_URL`,
//! `MIGRATE_TEST_MYSQL_URL`): a drop is left to the server once it is seen running, and
//! awaited while it could still be given up.

use migrate_runtime::schema;
use sqlx::Connection;
use std::time::{Duration, Instant};

/// How long a drop the server finishes on its own may take on a busy shared server.
const GONE_WITHIN: Duration = Duration::from_secs(120);

async fn pg_exists(c: &mut sqlx::PgConnection, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(c)
        .await
        .expect("pg_database")
}

async fn mysql_exists(c: &mut sqlx::MySqlConnection, name: &str) -> bool {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(name)
    .fetch_one(c)
    .await
    .expect("schemata");
    n > 0
}

/// A PostgreSQL scratch's sessions do not wait for the WAL at commit; dropping it
/// returns while the drop waits behind a lock the test holds, and the server finishes
/// the drop once the lock is released.
#[tokio::test]
async fn a_postgres_scratch_drop_returns_while_the_server_is_on_it() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let mut observer = sqlx::PgConnection::connect(&admin)
        .await
        .expect("postgres test URL is set but unreachable");
    let s = schema::scratch(admin.as_str()).await.expect("scratch");
    let name = s.name().expect("a database").to_string();
    let pool = s.database().as_postgres().expect("postgres").clone();
    let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&pool)
        .await
        .expect("show");
    assert_eq!(sync, "off");
    // Also on a connection to its URL, as migrations run through it get.
    let mut other = sqlx::PgConnection::connect(s.url()).await.expect("url");
    let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut other)
        .await
        .expect("show");
    assert_eq!(sync, "off");
    other.close().await.expect("close");
    sqlx::raw_sql("CREATE TABLE t (id INT PRIMARY KEY); CREATE TABLE u (t_id INT REFERENCES t)")
        .execute(&pool)
        .await
        .expect("tables");

    // A comment on the database holds a lock a drop waits for.
    let mut holder = sqlx::PgConnection::connect(&admin).await.expect("holder");
    sqlx::raw_sql(&format!(
        "BEGIN; COMMENT ON DATABASE {name} IS 'held by tests/scratch.rs'"
    ))
    .execute(&mut holder)
    .await
    .expect("lock");
    tokio::time::timeout(Duration::from_secs(60), s.drop())
        .await
        .expect("the drop returns while the lock is held")
        .expect("drop");
    assert!(
        pg_exists(&mut observer, &name).await,
        "dropped through the lock"
    );
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE state = 'active' AND wait_event_type = 'Lock' AND query LIKE $1",
    )
    .bind(format!("DROP DATABASE IF EXISTS {name}%"))
    .fetch_one(&mut observer)
    .await
    .expect("pg_stat_activity");
    assert_eq!(waiting, 1, "the drop waits for the lock on the server");

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("release");
    let start = Instant::now();
    while pg_exists(&mut observer, &name).await {
        assert!(start.elapsed() < GONE_WITHIN, "{name} still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    holder.close().await.expect("close");
    observer.close().await.expect("close");
}

/// MariaDB gives up a drop still waiting for a lock when its client leaves, so such a
/// drop is awaited rather than left to the server: `drop` returns only once the lock is
/// released and the database is gone.
#[tokio::test]
async fn a_mysql_scratch_drop_waiting_for_a_lock_is_awaited() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let mut observer = sqlx::MySqlConnection::connect(&admin)
        .await
        .expect("mysql test URL is set but unreachable");
    let s = schema::scratch(admin.as_str()).await.expect("scratch");
    let name = s.name().expect("a database").to_string();
    let pool = s.database().as_mysql().expect("mysql").clone();
    sqlx::raw_sql("CREATE TABLE held (id INT PRIMARY KEY)")
        .execute(&pool)
        .await
        .expect("table");

    // A transaction that read the table holds its metadata lock until it ends.
    let mut holder = sqlx::MySqlConnection::connect(&admin)
        .await
        .expect("holder");
    sqlx::raw_sql(&format!(
        "START TRANSACTION; SELECT COUNT(*) FROM {name}.held"
    ))
    .execute(&mut holder)
    .await
    .expect("lock");
    let dropping = tokio::spawn(s.drop());
    // Longer than a drop is looked for before being awaited, shorter than its lock
    // wait (ten seconds).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !dropping.is_finished(),
        "returned while the drop waits for a lock"
    );
    assert!(mysql_exists(&mut observer, &name).await);

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("release");
    tokio::time::timeout(GONE_WITHIN, dropping)
        .await
        .expect("the drop ends")
        .expect("task")
        .expect("drop");
    assert!(!mysql_exists(&mut observer, &name).await, "{name} awaited");
    holder.close().await.expect("close");
    observer.close().await.expect("close");
}
