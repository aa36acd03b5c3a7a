//! Introspection on PostgreSQL and MariaDB/MySQL reads on a second connection of the
//! pool when it can: the schema read must be the same whatever the pool allows. A pool
//! of one connection reads it all on that one (without waiting for a second), and of
//! two connections that see different schemas (PostgreSQL's `search_path`, MySQL's
//! database), only the first is read.
//!
//! Runs when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set (a set URL
//! that cannot be reached fails).

use migrate_runtime::{schema, Database};
use migrate_test_support as common;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough that a read waiting for a second connection of a full pool would show.
const ACQUIRE: Duration = Duration::from_secs(20);

const POSTGRES_SCHEMA: &str = "
CREATE TABLE parent (id SERIAL PRIMARY KEY, code TEXT COLLATE \"C\" NOT NULL UNIQUE);
CREATE TABLE child (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE,
    qty INTEGER NOT NULL DEFAULT 0 CHECK (qty >= 0),
    price NUMERIC(10, 2),
    total NUMERIC GENERATED ALWAYS AS (qty * price) STORED,
    note TEXT,
    created_at TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX child_note_lower ON child (lower(note) text_pattern_ops) WHERE note IS NOT NULL;
CREATE INDEX child_note_c ON child (note COLLATE \"C\" DESC NULLS LAST, qty);
CREATE UNIQUE INDEX child_parent_qty ON child (parent_id) INCLUDE (qty);
CREATE TYPE mood AS ENUM ('low', 'high');
CREATE SEQUENCE tickets START 10;
CREATE VIEW big_children AS SELECT id, qty FROM child WHERE qty > 10;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TABLE child IS 'children';
CREATE SCHEMA other;
CREATE TABLE other.elsewhere (id INTEGER);
";

const MYSQL_SCHEMA: &str = "
CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE);
CREATE TABLE child (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    parent_id INT NOT NULL,
    qty INT NOT NULL DEFAULT 0 CHECK (qty >= 0),
    note VARCHAR(200) COMMENT 'a note',
    CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE,
    INDEX child_note (note(10), qty)
);
CREATE VIEW big_children AS SELECT id, qty FROM child WHERE qty > 10;
CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW SET NEW.qty = NEW.qty + 1;
";

/// The database a URL names.
fn name_of(url: &str) -> String {
    let path = url.split('?').next().unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn postgres_reads_the_same_schema_on_one_connection_or_two() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let url = common::fresh_url("postgres", &admin, "iconn").await;
    let db = Database::connect(&url).await.expect("connect");
    common::raw(&db, POSTGRES_SCHEMA).await;
    let two = schema::introspect(&db, &[]).await.expect("introspect");
    assert!(two.tables.contains_key("child") && !two.tables.contains_key("elsewhere"));
    assert_eq!(
        two.tables["child"].indexes.len(),
        3,
        "{:?}",
        two.tables["child"]
    );

    // A pool of one connection: everything on it, at once.
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE)
        .connect(&url)
        .await
        .expect("connect one");
    let one = Database::from(one);
    let started = Instant::now();
    assert_eq!(
        schema::introspect(&one, &[]).await.expect("introspect"),
        two
    );
    assert!(started.elapsed() < ACQUIRE / 2, "{:?}", started.elapsed());
    one.close().await;

    // Two connections whose search paths differ: the read is the first one's alone
    // (whichever the pool hands out first), never a mix of both.
    let other_url = format!("{url}?options=-c%20search_path%3Dother");
    let other_db = Database::connect(&other_url).await.expect("connect other");
    let other = schema::introspect(&other_db, &[])
        .await
        .expect("introspect");
    other_db.close().await;
    assert!(other.tables.contains_key("elsewhere"));
    let opened = Arc::new(AtomicUsize::new(0));
    let counter = opened.clone();
    let elsewhere = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .min_connections(2)
        .acquire_timeout(ACQUIRE)
        .after_connect(move |c, _| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n > 0 {
                    sqlx::query("SET search_path TO other").execute(c).await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .expect("connect elsewhere");
    // Both connections open before the read, so that the second one takes queries
    // however fast the first one runs them.
    while elsewhere.size() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elsewhere = Database::from(elsewhere);
    let read = schema::introspect(&elsewhere, &[])
        .await
        .expect("introspect");
    assert!(read == two || read == other, "{read:?}");
    assert_eq!(opened.load(Ordering::SeqCst), 2);
    elsewhere.close().await;

    db.close().await;
    let admin_db = Database::connect(&admin).await.expect("admin");
    let name = name_of(&url);
    admin_db.drop_database(&name).await.expect("drop");
    admin_db.close().await;
}

#[tokio::test]
async fn mysql_reads_the_same_schema_on_one_connection_or_two() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let url = common::fresh_url("mysql", &admin, "iconn").await;
    let other_url = common::fresh_url("mysql", &admin, "iconn_other").await;
    let other_name = name_of(&other_url);
    let db = Database::connect(&url).await.expect("connect");
    common::raw(&db, MYSQL_SCHEMA).await;
    let other_db = Database::connect(&other_url).await.expect("connect other");
    common::raw(&other_db, "CREATE TABLE elsewhere (id INT)").await;
    let other = schema::introspect(&other_db, &[])
        .await
        .expect("introspect");
    other_db.close().await;
    let two = schema::introspect(&db, &[]).await.expect("introspect");
    assert!(two.tables.contains_key("child") && !two.tables.contains_key("elsewhere"));

    let one = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE)
        .connect(&url)
        .await
        .expect("connect one");
    let one = Database::from(one);
    let started = Instant::now();
    assert_eq!(
        schema::introspect(&one, &[]).await.expect("introspect"),
        two
    );
    assert!(started.elapsed() < ACQUIRE / 2, "{:?}", started.elapsed());
    one.close().await;

    let opened = Arc::new(AtomicUsize::new(0));
    let counter = opened.clone();
    // The hook wants SQL that outlives every connection the pool opens.
    let use_other: &'static str = Box::leak(format!("USE `{other_name}`").into_boxed_str());
    let elsewhere = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .min_connections(2)
        .acquire_timeout(ACQUIRE)
        .after_connect(move |c, _| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n > 0 {
                    // A bare `&str` runs unprepared: `USE` cannot be prepared.
                    sqlx::Executor::execute(&mut *c, use_other).await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .expect("connect elsewhere");
    // Both connections open before the read, so that the second one takes queries
    // however fast the first one runs them.
    while elsewhere.size() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elsewhere = Database::from(elsewhere);
    let read = schema::introspect(&elsewhere, &[])
        .await
        .expect("introspect");
    assert!(read == two || read == other, "{read:?}");
    assert_eq!(opened.load(Ordering::SeqCst), 2);
    elsewhere.close().await;

    db.close().await;
    let admin_db = Database::connect(&admin).await.expect("admin");
    let name = name_of(&url);
    admin_db.drop_database(&name).await.expect("drop");
    admin_db
        .drop_database(&other_name)
        .await
        .expect("drop other");
    admin_db.close().await;
}
