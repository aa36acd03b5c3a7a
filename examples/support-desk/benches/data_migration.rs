//! 10,000 tickets through the data migrations (step 4, statuses; step 5, resolution
//! times) on every configured database.
//!
//! `cargo bench -p support-desk --bench data_migration`; PostgreSQL and MariaDB are
//! included when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set.

use migrate_runtime::Migrator;
use migrate_test_support as common;
use std::time::Instant;
use support_desk::MIGRATIONS;

const TICKETS: usize = 10_000;
const STATUSES: [&str; 5] = ["open", "in_progress", "pending", "resolved", "closed"];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("| database | {TICKETS} tickets through steps 4 and 5 |");
    println!("|---|---|");
    for t in common::databases("sdbench").await {
        let m = Migrator::new(&MIGRATIONS).expect("embedded");
        m.upgrade(&t.db, "5c6d7e8f9a0b").await.expect("to step 3");
        for chunk in (0..TICKETS).collect::<Vec<_>>().chunks(1000) {
            let values: Vec<String> = chunk
                .iter()
                .map(|&i| {
                    let status = STATUSES[i % STATUSES.len()];
                    let resolved = if status == "resolved" || status == "closed" {
                        format!("'2025-01-02 {:02}:{:02}:00'", i % 24, i % 60)
                    } else {
                        "NULL".to_string()
                    };
                    format!(
                        "('ticket {i}', '{status}', '2025-01-01 00:00:00', {resolved}, 'normal')"
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO tickets (title, status, created_at, resolved_at, priority) VALUES {}",
                values.join(", ")
            );
            common::raw(&t.db, &sql).await;
        }
        let started = Instant::now();
        let report = m
            .upgrade(&t.db, "9a0b1c2d3e4f")
            .await
            .expect("steps 4 and 5");
        let took = started.elapsed();
        assert_eq!(report.revisions(), ["7e8f9a0b1c2d", "9a0b1c2d3e4f"]);
        let computed = common::scalar(
            &t.db,
            "SELECT COUNT(*) FROM tickets WHERE resolution_time_seconds IS NOT NULL",
        )
        .await;
        assert_eq!(computed as usize, TICKETS * 2 / 5);
        let upper = common::scalar(
            &t.db,
            "SELECT COUNT(*) FROM tickets WHERE status = 'WAITING_ON_CUSTOMER'",
        )
        .await;
        assert_eq!(upper as usize, TICKETS / 5);
        println!("| {} | {:.0} ms |", t.name, took.as_secs_f64() * 1000.0);
    }
}
