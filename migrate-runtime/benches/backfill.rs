//! Batched backfills against the same batches written by hand through the same driver.
//!
//! `cargo bench -p migrate-runtime --bench backfill` runs SQLite (a temp file) always,
//! PostgreSQL and MariaDB when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL`
//! are set (`BENCH_ONLY=sqlite|postgres|mysql` for one); `BENCH_ROWS` (default
//! 1,000,000) rows, batches of 1,000, median of `BENCH_RUNS` (default 3) runs, each on a
//! fresh copy of the table. For each database:
//!
//! - the Rust batch helper (`benches/backfill/k2_rust.rs`: `UPDATE items SET v = n * 2
//!   WHERE <batch range>`), against a hand-written keyset loop: the batch's last key
//!   (`SELECT MAX(id), COUNT(*) FROM (SELECT id ... WHERE id > last ORDER BY id LIMIT
//!   1000)`), then the same `UPDATE`, committed alone;
//! - a `-- migrate:batch` statement (`k3_sql.sql`), against the same statement in a
//!   loop, each run committed alone, until it changes no rows;
//! - for ours, the longest batch (so the longest transaction: one batch each).

use migrate_runtime::{Database, EmbeddedMigrations, Migrator};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static MIGRATIONS: EmbeddedMigrations = migrate_runtime::embed_migrations!("benches/backfill");

async fn exec(db: &Database, sql: &str) -> u64 {
    let r = if let Some(p) = db.as_sqlite() {
        sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    } else if let Some(p) = db.as_postgres() {
        sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    } else if let Some(p) = db.as_mysql() {
        sqlx::raw_sql(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    } else {
        unreachable!("every driver is compiled in")
    };
    r.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The hand-written keyset loop: what the batch helper competes with.
async fn keyset_by_hand(db: &Database) -> u64 {
    macro_rules! run {
        ($pool:expr) => {{
            let mut c = $pool.acquire().await.expect("acquire");
            let mut last: i64 = i64::MIN;
            let mut done = 0u64;
            loop {
                let next = format!("SELECT CAST(MAX(id) AS BIGINT), COUNT(*) FROM (SELECT id FROM items WHERE id > {last} ORDER BY id LIMIT 1000) b");
                let next = if db.dialect() == migrate_runtime::Dialect::Mysql {
                    next.replace("AS BIGINT", "AS SIGNED")
                } else {
                    next
                };
                let (max, n): (Option<i64>, i64) =
                    sqlx::query_as(&next).fetch_one(&mut *c).await.expect("next batch");
                let Some(max) = max.filter(|_| n > 0) else { break };
                let update = format!("UPDATE items SET v = n * 2 WHERE id > {last} AND id <= {max}");
                done += sqlx::Executor::execute(&mut *c, update.as_str()).await.expect("update").rows_affected();
                last = max;
            }
            done
        }};
    }
    if let Some(p) = db.as_sqlite() {
        run!(p)
    } else if let Some(p) = db.as_postgres() {
        run!(p)
    } else if let Some(p) = db.as_mysql() {
        run!(p)
    } else {
        unreachable!("every driver is compiled in")
    }
}

/// The batched statement by hand: run until it changes no rows, each run committed.
async fn statement_by_hand(db: &Database) -> u64 {
    let sql = if db.dialect() == migrate_runtime::Dialect::Mysql {
        "UPDATE items SET w = n * 3 WHERE w IS NULL LIMIT 1000"
    } else {
        "UPDATE items SET w = n * 3 WHERE id IN (SELECT id FROM items WHERE w IS NULL LIMIT 1000)"
    };
    macro_rules! run {
        ($pool:expr) => {{
            let mut c = $pool.acquire().await.expect("acquire");
            let mut done = 0u64;
            loop {
                let n = sqlx::Executor::execute(&mut *c, sql)
                    .await
                    .expect("update")
                    .rows_affected();
                if n == 0 {
                    break done;
                }
                done += n;
            }
        }};
    }
    if let Some(p) = db.as_sqlite() {
        run!(p)
    } else if let Some(p) = db.as_postgres() {
        run!(p)
    } else if let Some(p) = db.as_mysql() {
        run!(p)
    } else {
        unreachable!("every driver is compiled in")
    }
}

/// A fresh `items` table, copied from `items_source`, and the version table at `k1`.
async fn reset(db: &Database) {
    exec(db, "DROP TABLE items").await;
    exec(
        db,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, v BIGINT, w BIGINT)",
    )
    .await;
    exec(
        db,
        "INSERT INTO items (id, n) SELECT id, n FROM items_source",
    )
    .await;
    exec(db, "CREATE INDEX ix_items_w ON items (w)").await;
    Migrator::new(&MIGRATIONS)
        .expect("migrations")
        .stamp(db, &["k1"], true)
        .await
        .expect("stamp");
}

async fn fresh(name: &str, admin: Option<&str>) -> (String, Option<tempfile::TempDir>) {
    match admin {
        None => {
            let dir = match std::env::var("BENCH_SQLITE_DIR") {
                Ok(base) => tempfile::tempdir_in(base).expect("tempdir"),
                Err(_) => tempfile::tempdir().expect("tempdir"),
            };
            (
                format!("sqlite://{}/bench.db", dir.path().display()),
                Some(dir),
            )
        }
        Some(admin) => {
            let db_name = format!("mb_backfill_{name}_{}", std::process::id());
            let db = Database::connect(admin).await.expect("admin connect");
            exec(&db, &format!("DROP DATABASE IF EXISTS {db_name}")).await;
            exec(&db, &format!("CREATE DATABASE {db_name}")).await;
            db.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
            (format!("{base}/{db_name}"), None)
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs the migrator to `target` and returns how long it took and its longest batch.
async fn ours(db: &Database, target: &str) -> (Duration, Duration) {
    let gaps: Arc<Mutex<(Option<Instant>, Duration)>> = Arc::default();
    let seen = Arc::clone(&gaps);
    let m = Migrator::new(&MIGRATIONS)
        .expect("migrations")
        .on_progress(move |p| {
            // Between two committed batches: one batch, its transaction included.
            if p.rows.is_some() {
                let now = Instant::now();
                let mut g = seen.lock().unwrap();
                if let Some(prev) = g.0 {
                    g.1 = g.1.max(now - prev);
                }
                g.0 = Some(now);
            }
        });
    let started = Instant::now();
    let report = m.upgrade(db, target).await.expect("upgrade");
    assert_eq!(report.revisions(), [target]);
    let took = started.elapsed();
    let longest = gaps.lock().unwrap().1;
    (took, longest)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rows: i64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let mut targets: Vec<(&str, Option<String>)> = vec![("sqlite", None)];
    if let Ok(u) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        targets.push(("postgres", Some(u)));
    }
    if let Ok(u) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        targets.push(("mysql", Some(u)));
    }
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        targets.retain(|t| t.0 == only);
    }
    println!("{rows} rows in batches of 1,000, median of {runs} runs");
    println!("| database | keyset by hand | `backfill` (Rust) | ratio | rows/s | longest batch | statement by hand | `-- migrate:batch` | ratio | rows/s | longest batch |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, admin) in &targets {
        let (url, _keep) = fresh(name, admin.as_deref()).await;
        let db = Database::connect(&url).await.expect("connect");
        Migrator::new(&MIGRATIONS)
            .expect("migrations")
            .upgrade(&db, "k1")
            .await
            .expect("k1");
        exec(
            &db,
            "CREATE TABLE items_source (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)",
        )
        .await;
        for start in (1..=rows).step_by(10_000) {
            let values: Vec<String> = (start..(start + 10_000).min(rows + 1))
                .map(|i| format!("({i},{i})"))
                .collect();
            exec(
                &db,
                &format!(
                    "INSERT INTO items_source (id, n) VALUES {}",
                    values.join(",")
                ),
            )
            .await;
        }
        let (mut kh, mut kr, mut kl, mut sh, mut so, mut sl) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for _ in 0..runs {
            reset(&db).await;
            let started = Instant::now();
            assert_eq!(keyset_by_hand(&db).await, rows as u64);
            kh.push(started.elapsed());
            reset(&db).await;
            let (took, longest) = ours(&db, "k2").await;
            kr.push(took);
            kl.push(longest);
            reset(&db).await;
            let started = Instant::now();
            assert_eq!(statement_by_hand(&db).await, rows as u64);
            sh.push(started.elapsed());
            reset(&db).await;
            Migrator::new(&MIGRATIONS)
                .expect("migrations")
                .stamp(&db, &["k2"], true)
                .await
                .expect("stamp");
            let (took, longest) = ours(&db, "k3").await;
            so.push(took);
            sl.push(longest);
        }
        let (kh, kr, sh, so) = (median(kh), median(kr), median(sh), median(so));
        let rate = |d: Duration| rows as f64 / d.as_secs_f64();
        println!(
            "| {name} | {:.2} s | {:.2} s | {:.2}x | {:.0} | {:.1} ms | {:.2} s | {:.2} s | {:.2}x | {:.0} | {:.1} ms |",
            kh.as_secs_f64(),
            kr.as_secs_f64(),
            kr.as_secs_f64() / kh.as_secs_f64(),
            rate(kr),
            median(kl).as_secs_f64() * 1000.0,
            sh.as_secs_f64(),
            so.as_secs_f64(),
            so.as_secs_f64() / sh.as_secs_f64(),
            rate(so),
            median(sl).as_secs_f64() * 1000.0,
        );
        db.close().await;
        if let Some(admin) = admin {
            let a = Database::connect(admin).await.expect("admin");
            let db_name = url.rsplit('/').next().unwrap_or_default().to_string();
            exec(&a, &format!("DROP DATABASE IF EXISTS {db_name}")).await;
            a.close().await;
        }
    }
}
