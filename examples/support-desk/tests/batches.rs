//! The support-desk's batched data migrations on SQLite, PostgreSQL and MariaDB: the
//! resolution-time backfill (`9a0b1c2d3e4f`, a `-- migrate:batch` statement, batches of
//! 1,000) and the satisfaction-score backfill (`f5a6b7c8d9e0`, a Rust migration with the
//! batch helper, batches of 100).

use migrate_runtime::{Database, Migrator};
use migrate_test_support::{databases, raw, scalar};
use std::sync::{Arc, Mutex};
use support_desk::MIGRATIONS;

const BEFORE_RESOLUTION_TIME: &str = "7e8f9a0b1c2d";
const RESOLUTION_TIME: &str = "9a0b1c2d3e4f";
const BEFORE_SCORE: &str = "e4f5a6b7c8d9";
const SCORE: &str = "f5a6b7c8d9e0";

/// `n` tickets, resolved one hour after they were opened.
async fn tickets(db: &Database, n: usize) {
    for start in (1..=n).step_by(500) {
        let rows: Vec<String> = (start..=(start + 499).min(n))
            .map(|i| {
                format!("('ticket {i}', 'RESOLVED', '2025-01-01 00:00:00', '2025-01-01 01:00:00')")
            })
            .collect();
        raw(
            db,
            &format!(
                "INSERT INTO tickets (title, status, created_at, resolved_at) VALUES {}",
                rows.join(", ")
            ),
        )
        .await;
    }
}

/// Rows done, per progress event, of `revision`.
type Seen = Arc<Mutex<Vec<(String, u64, Option<u64>)>>>;

fn watched() -> (Migrator, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let m = Migrator::new(&MIGRATIONS)
        .expect("embedded migrations")
        .on_progress(move |p| {
            if let (Some(rev), Some(rows)) = (p.revision, p.rows) {
                log.lock()
                    .unwrap()
                    .push((rev.to_string(), rows.rows_done, rows.rows_total));
            }
        });
    (m, seen)
}

fn rows_of(seen: &Seen, revision: &str) -> Vec<(u64, Option<u64>)> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(r, _, _)| r == revision)
        .map(|(_, n, t)| (*n, *t))
        .collect()
}

#[tokio::test]
async fn backfills_run_in_batches_of_1000_and_100_on_every_database() {
    for t in databases("desk_batches").await {
        let (m, seen) = watched();
        m.upgrade(&t.db, BEFORE_RESOLUTION_TIME).await.unwrap();
        tickets(&t.db, 2_500).await;
        m.upgrade(&t.db, BEFORE_SCORE)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        // The SQL directive: batches of 1,000, of the 2,500 rows its
        // `-- migrate:batch-rows` query counted.
        assert_eq!(
            rows_of(&seen, RESOLUTION_TIME),
            [(1000, Some(2500)), (2000, Some(2500)), (2500, Some(2500))],
            "{}",
            t.name
        );
        let wrong = scalar(
            &t.db,
            "SELECT COUNT(*) FROM tickets WHERE resolution_time_seconds IS NULL OR resolution_time_seconds <> 3600",
        )
        .await;
        assert_eq!(wrong, 0, "{}", t.name);

        raw(
            &t.db,
            "INSERT INTO customer_satisfaction (ticket_id, rating) SELECT id, 1 + id % 5 FROM tickets WHERE id <= 250",
        )
        .await;
        m.upgrade(&t.db, SCORE)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        // The Rust migration: batches of 100 of the 250 rows it counted first.
        assert_eq!(
            rows_of(&seen, SCORE),
            [(100, Some(250)), (200, Some(250)), (250, Some(250))],
            "{}",
            t.name
        );
        let wrong = scalar(
            &t.db,
            "SELECT COUNT(*) FROM customer_satisfaction WHERE score IS NULL OR score <> rating",
        )
        .await;
        assert_eq!(wrong, 0, "{}", t.name);
        assert_eq!(
            scalar(&t.db, "SELECT COUNT(*) FROM alembic_version_progress").await,
            0,
            "{}",
            t.name
        );
        m.upgrade(&t.db, "head").await.unwrap();
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM customer_satisfaction WHERE score IS NULL"
            )
            .await,
            0
        );
    }
}
