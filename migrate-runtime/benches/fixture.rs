//! What a test pays for a database at head: `testing::fixture::fresh` (a copy of a
//! template migrated once per process) against what a test does without it (an empty
//! database, then every migration).
//!
//! `cargo bench -p migrate-runtime --bench fixture` runs SQLite always, PostgreSQL and
//! MariaDB when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set
//! (`BENCH_ONLY=postgres` picks one). `BENCH_REVISIONS` (default 100) linear revisions
//! of one `CREATE TABLE` and one `CREATE INDEX` each; `BENCH_TESTS` (default 30) copies
//! per series. For each database it prints the medians of:
//! - without the fixture: an empty database, connected, upgraded to head;
//! - the first `fresh` of the process (migrates the template, then copies it);
//! - `fresh` back to back, its slowest, and `FreshDatabase::drop`;
//! - `fresh` after 50 ms of test work (the server has settled);
//!   and what 500 tests would spend on databases either way (without the fixture: an
//!   empty database and the migrations each; with it: the first `fresh`, then `fresh`
//!   and `drop` for each other test).

use migrate_core::ScriptDirectory;
use migrate_runtime::testing::fixture;
use migrate_runtime::{Database, Migrator};
use std::time::{Duration, Instant};

fn files(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let down = if i == 0 { String::new() } else { format!("r{:05}", i - 1) };
            (
                format!("r{i:05}.sql"),
                format!("-- rev {i}\n-- revision: r{i:05}\n-- down_revision: {down}\n\n-- migrate:upgrade\nCREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50));\nCREATE INDEX ix_t{i:05}_name ON t{i:05} (name);\n\n-- migrate:downgrade\nDROP TABLE t{i:05};\n"),
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

/// What a test does without the fixture: an empty database and every migration. Returns
/// the time, the empty database's creation and the drop afterwards left out.
async fn without_fixture(m: &Migrator, admin: Option<&str>, run: usize) -> Duration {
    match admin {
        None => {
            let dir = tempfile::tempdir().expect("tempdir");
            let started = Instant::now();
            let db = Database::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
                .await
                .expect("connect");
            m.upgrade(&db, "head").await.expect("upgrade");
            let took = started.elapsed();
            db.close().await;
            took
        }
        Some(admin) => {
            let name = format!("mbf_{}_{run}", std::process::id());
            let a = Database::connect(admin).await.expect("admin connect");
            exec(&a, &format!("DROP DATABASE IF EXISTS {name}")).await;
            let started = Instant::now();
            exec(&a, &format!("CREATE DATABASE {name}")).await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
            let db = Database::connect(&format!("{base}/{name}"))
                .await
                .expect("connect");
            m.upgrade(&db, "head").await.expect("upgrade");
            let took = started.elapsed();
            db.close().await;
            let force = if admin.starts_with("postgres") {
                " WITH (FORCE)"
            } else {
                ""
            };
            exec(&a, &format!("DROP DATABASE IF EXISTS {name}{force}")).await;
            a.close().await;
            took
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_REVISIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let tests: usize = std::env::var("BENCH_TESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let fs = files(n);
    let dir = ScriptDirectory::from_files(fs.iter().map(|(p, s)| (p.as_str(), s.as_bytes())))
        .expect("valid");
    let m = Migrator::from_directory(dir);
    let mut targets: Vec<(&str, Option<String>)> = vec![("sqlite", None)];
    for (name, var) in [
        ("postgres", "MIGRATE_TEST_POSTGRES_URL"),
        ("mysql", "MIGRATE_TEST_MYSQL_URL"),
    ] {
        if let Ok(u) = std::env::var(var) {
            targets.push((name, Some(u)));
        }
    }
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        targets.retain(|t| t.0 == only);
    }
    println!(
        "{n} revisions (CREATE TABLE + CREATE INDEX each), {tests} copies per series, medians"
    );
    println!("| database | without fixture: empty db + upgrade | first fresh (template) | fresh back to back | slowest | drop | fresh after 50 ms of work | 500 tests without / with |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, admin) in &targets {
        let url = admin
            .clone()
            .unwrap_or_else(|| "sqlite::memory:".to_string());
        let runs = if *name == "mysql" { 3 } else { 5 };
        let started = Instant::now();
        let first = fixture::fresh(&m, &url).await.expect("first fresh");
        let first_took = started.elapsed();
        assert_eq!(m.current(first.database()).await.expect("current").len(), 1);
        first.drop().await.expect("drop");

        // Rounds of one database without the fixture, then copies back to back, then
        // copies after some work: the machine's load shifts, and each round sees it
        // alike.
        let mut base = Vec::new();
        let mut back = Vec::new();
        let mut drops = Vec::new();
        let mut paced = Vec::new();
        for run in 0..runs {
            base.push(without_fixture(&m, admin.as_deref(), run).await);
            for _ in 0..tests.div_ceil(runs) {
                let started = Instant::now();
                let db = fixture::fresh(&m, &url).await.expect("fresh");
                back.push(started.elapsed());
                let rows = m.current(db.database()).await.expect("current");
                assert_eq!(rows, [format!("r{:05}", n - 1)]);
                let started = Instant::now();
                db.drop().await.expect("drop");
                drops.push(started.elapsed());
            }
            for _ in 0..tests.div_ceil(runs) {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let started = Instant::now();
                let db = fixture::fresh(&m, &url).await.expect("fresh");
                paced.push(started.elapsed());
                db.drop().await.expect("drop");
            }
        }
        let base = median(base);
        let slowest = back.iter().max().copied().unwrap_or_default();
        let (back, drop_, paced) = (median(back), median(drops), median(paced));
        let without_500 = base * 500;
        let with_500 = first_took + (back + drop_) * 499;
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {:.1} s / {:.1} s |",
            ms(base),
            ms(first_took),
            ms(back),
            ms(slowest),
            ms(drop_),
            ms(paced),
            without_500.as_secs_f64(),
            with_500.as_secs_f64()
        );
    }
}
