//! Upgrade throughput against baselines that run the same SQL through the same driver.
//!
//! `cargo bench -p migrate-runtime --bench upgrade` runs SQLite (a temp file) always,
//! PostgreSQL and MariaDB when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL`
//! are set. `BENCH_REVISIONS` sets the number of revisions (default 1000).
//!
//! For each database it prints the median of several runs of:
//! - baseline, commit per revision: BEGIN; CREATE TABLE; UPDATE version row; COMMIT
//! - migrator, one transaction per migration (the default)
//! - baseline, one transaction: all of the above in one BEGIN/COMMIT
//! - migrator, `TransactionMode::Single`
//! - the start-up check of a binary already at head (`upgrade head` with nothing to do)
//!
//! `BENCH_SQLITE_INLINE=1` runs the migrator with `sqlite_inline(true)` (what the
//! `migrate` command line does) on an SQLite file; in memory it is the default.

use migrate_core::ScriptDirectory;
use migrate_runtime::{Database, Migrator, TransactionMode};
use std::time::{Duration, Instant};

fn files(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let down = if i == 0 { String::new() } else { format!("r{:05}", i - 1) };
            (
                format!("r{i:05}.sql"),
                format!("-- rev {i}\n-- revision: r{i:05}\n-- down_revision: {down}\n\n-- migrate:upgrade\nCREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50));\n"),
            )
        })
        .collect()
}

async fn exec(db: &Database, sql: &str) {
    let r = if let Some(p) = db.as_sqlite() {
        sqlx::raw_sql(sql).execute(p).await.map(|_| ())
    } else if let Some(p) = db.as_postgres() {
        sqlx::raw_sql(sql).execute(p).await.map(|_| ())
    } else if let Some(p) = db.as_mysql() {
        sqlx::raw_sql(sql).execute(p).await.map(|_| ())
    } else {
        unreachable!("every driver is compiled in")
    };
    r.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The hand-written loop a migrator competes with, on one pooled connection.
async fn baseline(db: &Database, n: usize, one_tx: bool) {
    macro_rules! run {
        ($pool:expr) => {{
            let mut c = $pool.acquire().await.expect("acquire");
            sqlx::Executor::execute(&mut *c, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))").await.expect("ddl");
            if one_tx {
                sqlx::Executor::execute(&mut *c, "BEGIN").await.expect("begin");
            }
            for i in 0..n {
                if !one_tx {
                    sqlx::Executor::execute(&mut *c, "BEGIN").await.expect("begin");
                }
                let create = format!("CREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50))");
                sqlx::Executor::execute(&mut *c, create.as_str()).await.expect("create");
                let version = if i == 0 {
                    "INSERT INTO alembic_version (version_num) VALUES ('r00000')".to_string()
                } else {
                    format!("UPDATE alembic_version SET version_num='r{i:05}' WHERE alembic_version.version_num = 'r{:05}'", i - 1)
                };
                sqlx::Executor::execute(&mut *c, version.as_str()).await.expect("version");
                if !one_tx {
                    sqlx::Executor::execute(&mut *c, "COMMIT").await.expect("commit");
                }
            }
            if one_tx {
                sqlx::Executor::execute(&mut *c, "COMMIT").await.expect("commit");
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

struct Target {
    name: &'static str,
    admin: Option<String>,
}

impl Target {
    /// A fresh, empty database; returns its URL.
    async fn fresh(&self, tag: &str) -> (String, Option<tempfile::TempDir>) {
        match &self.admin {
            None => {
                // BENCH_SQLITE_DIR=/dev/shm takes the disk's fsync out of the figures,
                // leaving the tool's own cost; `memory` is `sqlite::memory:`, where
                // test suites migrate.
                if std::env::var("BENCH_SQLITE_DIR").as_deref() == Ok("memory") {
                    return ("sqlite::memory:".to_string(), None);
                }
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
                let name = format!("mb_{tag}_{}", std::process::id());
                let db = Database::connect(admin).await.expect("admin connect");
                exec(&db, &format!("DROP DATABASE IF EXISTS {name}")).await;
                exec(&db, &format!("CREATE DATABASE {name}")).await;
                db.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
                (format!("{base}/{name}"), None)
            }
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_REVISIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let fs = files(n);
    let dir = ScriptDirectory::from_files(fs.iter().map(|(p, s)| (p.as_str(), s.as_bytes())))
        .expect("valid");
    let mut targets = vec![Target {
        name: "sqlite",
        admin: None,
    }];
    if let Ok(u) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        targets.push(Target {
            name: "postgres",
            admin: Some(u),
        });
    }
    if let Ok(u) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        targets.push(Target {
            name: "mysql",
            admin: Some(u),
        });
    }
    // BENCH_ONLY=postgres (or sqlite, mysql) measures one database.
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        targets.retain(|t| t.name == only);
    }
    println!("{n} revisions, median of {runs} runs");
    println!("| database | baseline, commit each | migrator, per migration | ratio | baseline, one tx | migrator, single tx | ratio | at-head check |");
    println!("|---|---|---|---|---|---|---|---|");
    for t in &targets {
        let mut base_each = Vec::new();
        let mut ours_each = Vec::new();
        let mut base_one = Vec::new();
        let mut ours_one = Vec::new();
        let mut at_head = Vec::new();
        for run in 0..runs {
            for (mode, tag) in [(0, "be"), (1, "oe"), (2, "bo"), (3, "os")] {
                let (url, _keep) = t.fresh(&format!("{tag}{run}")).await;
                let db = Database::connect(&url).await.expect("connect");
                let mut m = Migrator::from_directory(dir.clone()).transaction_mode(if mode == 3 {
                    TransactionMode::Single
                } else {
                    TransactionMode::PerMigration
                });
                if std::env::var("BENCH_SQLITE_INLINE").as_deref() == Ok("1") {
                    m = m.sqlite_inline(true);
                }
                let started = Instant::now();
                match mode {
                    0 => baseline(&db, n, false).await,
                    2 => baseline(&db, n, true).await,
                    _ => {
                        let r = m.upgrade(&db, "head").await.expect("upgrade");
                        assert_eq!(r.steps.len(), n);
                    }
                }
                let took = started.elapsed();
                match mode {
                    0 => base_each.push(took),
                    1 => ours_each.push(took),
                    2 => base_one.push(took),
                    _ => ours_one.push(took),
                }
                if mode == 1 {
                    for _ in 0..5 {
                        let started = Instant::now();
                        let r = m.upgrade(&db, "head").await.expect("at head");
                        at_head.push(started.elapsed());
                        assert!(r.steps.is_empty());
                    }
                }
                db.close().await;
            }
        }
        let (be, oe, bo, os) = (
            median(base_each),
            median(ours_each),
            median(base_one),
            median(ours_one),
        );
        println!(
            "| {} | {:.3} s | {:.3} s | {:.2}x | {:.3} s | {:.3} s | {:.2}x | {:.2} ms |",
            t.name,
            be.as_secs_f64(),
            oe.as_secs_f64(),
            oe.as_secs_f64() / be.as_secs_f64(),
            bo.as_secs_f64(),
            os.as_secs_f64(),
            os.as_secs_f64() / bo.as_secs_f64(),
            median(at_head).as_secs_f64() * 1000.0
        );
    }
}
