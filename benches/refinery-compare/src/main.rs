//! refinery on the workload of `migrate-runtime/benches/upgrade.rs`.
//!
//! N revisions (`BENCH_REVISIONS`, default 1000) of one
//! `CREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50))` each, written as refinery
//! files `V{i}__t{i:05}.sql` into a temp folder and loaded with
//! `refinery::load_sql_migrations`, upgraded from an empty database. Median of
//! `BENCH_RUNS` (default 3) runs of:
//! - baseline, commit per revision: BEGIN; CREATE TABLE; version-row INSERT/UPDATE; COMMIT,
//!   through the same driver refinery uses (rusqlite / the sync `postgres` client)
//! - refinery's default `Runner::run` (no grouping)
//! - baseline, one transaction: the same statements in one BEGIN/COMMIT
//! - refinery with `set_grouped(true)` (everything in one transaction)
//! - `Runner::run` on a database already at the last migration (5 per run)
//!
//! SQLite always (a temp file; `BENCH_SQLITE_DIR` picks the folder), PostgreSQL when
//! `MIGRATE_TEST_POSTGRES_URL` is set (an admin URL: each run gets a fresh
//! `rb_<pid>_<n>` database, dropped afterwards). `BENCH_ONLY=sqlite|postgres` measures one.

use refinery::{Migration, Runner};
use std::path::Path;
use std::time::{Duration, Instant};

/// A connection refinery can run on, plus the raw statement call the baseline uses.
trait Conn: refinery::Migrate {
    fn exec(&mut self, sql: &str);
}

impl Conn for rusqlite::Connection {
    fn exec(&mut self, sql: &str) {
        self.execute_batch(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Conn for postgres::Client {
    fn exec(&mut self, sql: &str) {
        self.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn write_files(dir: &Path, n: usize) {
    for i in 0..n {
        std::fs::write(
            dir.join(format!("V{i}__t{i:05}.sql")),
            format!("CREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50));\n"),
        )
        .expect("write migration");
    }
}

/// The same hand-written loop as migrate-runtime's bench, through refinery's driver.
fn baseline<C: Conn>(c: &mut C, n: usize, one_tx: bool) {
    c.exec("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))");
    if one_tx {
        c.exec("BEGIN");
    }
    for i in 0..n {
        if !one_tx {
            c.exec("BEGIN");
        }
        c.exec(&format!(
            "CREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50))"
        ));
        let version = if i == 0 {
            "INSERT INTO alembic_version (version_num) VALUES ('r00000')".to_string()
        } else {
            format!("UPDATE alembic_version SET version_num='r{i:05}' WHERE alembic_version.version_num = 'r{:05}'", i - 1)
        };
        c.exec(&version);
        if !one_tx {
            c.exec("COMMIT");
        }
    }
    if one_tx {
        c.exec("COMMIT");
    }
}

#[derive(Default)]
struct Times {
    base_each: Vec<Duration>,
    refinery_each: Vec<Duration>,
    base_one: Vec<Duration>,
    refinery_grouped: Vec<Duration>,
    at_head: Vec<Duration>,
}

/// One measurement on a fresh connection: mode 0/2 baseline (commit each / one tx),
/// 1 refinery default, 3 refinery grouped.
fn measure<C: Conn>(c: &mut C, mode: u8, n: usize, migrations: &[Migration], t: &mut Times) {
    let runner = Runner::new(migrations).set_grouped(mode == 3);
    let started = Instant::now();
    match mode {
        0 | 2 => baseline(c, n, mode == 2),
        _ => {
            let r = runner.run(c).expect("refinery run");
            assert_eq!(r.applied_migrations().len(), n);
        }
    }
    let took = started.elapsed();
    match mode {
        0 => t.base_each.push(took),
        1 => t.refinery_each.push(took),
        2 => t.base_one.push(took),
        _ => t.refinery_grouped.push(took),
    }
    if mode == 1 {
        for _ in 0..5 {
            let started = Instant::now();
            let r = runner.run(c).expect("refinery at head");
            t.at_head.push(started.elapsed());
            assert!(r.applied_migrations().is_empty());
        }
    }
}

async fn exec_async(c: &tokio_postgres::Client, sql: &str) {
    c.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `baseline` through tokio-postgres.
async fn baseline_async(c: &tokio_postgres::Client, n: usize, one_tx: bool) {
    exec_async(c, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))").await;
    if one_tx {
        exec_async(c, "BEGIN").await;
    }
    for i in 0..n {
        if !one_tx {
            exec_async(c, "BEGIN").await;
        }
        exec_async(
            c,
            &format!("CREATE TABLE t{i:05} (id INT PRIMARY KEY, name VARCHAR(50))"),
        )
        .await;
        let version = if i == 0 {
            "INSERT INTO alembic_version (version_num) VALUES ('r00000')".to_string()
        } else {
            format!("UPDATE alembic_version SET version_num='r{i:05}' WHERE alembic_version.version_num = 'r{:05}'", i - 1)
        };
        exec_async(c, &version).await;
        if !one_tx {
            exec_async(c, "COMMIT").await;
        }
    }
    if one_tx {
        exec_async(c, "COMMIT").await;
    }
}

/// `measure` through tokio-postgres and `Runner::run_async`.
async fn measure_async(
    c: &mut tokio_postgres::Client,
    mode: u8,
    n: usize,
    migrations: &[Migration],
    t: &mut Times,
) {
    let runner = Runner::new(migrations).set_grouped(mode == 3);
    let started = Instant::now();
    match mode {
        0 | 2 => baseline_async(c, n, mode == 2).await,
        _ => {
            let r = runner.run_async(c).await.expect("refinery run");
            assert_eq!(r.applied_migrations().len(), n);
        }
    }
    let took = started.elapsed();
    match mode {
        0 => t.base_each.push(took),
        1 => t.refinery_each.push(took),
        2 => t.base_one.push(took),
        _ => t.refinery_grouped.push(took),
    }
    if mode == 1 {
        for _ in 0..5 {
            let started = Instant::now();
            let r = runner.run_async(c).await.expect("refinery at head");
            t.at_head.push(started.elapsed());
            assert!(r.applied_migrations().is_empty());
        }
    }
}

fn sqlite_dir() -> tempfile::TempDir {
    // BENCH_SQLITE_DIR=/dev/shm takes the disk's fsync out of the figures.
    match std::env::var("BENCH_SQLITE_DIR") {
        Ok(base) => tempfile::tempdir_in(base).expect("tempdir"),
        Err(_) => tempfile::tempdir().expect("tempdir"),
    }
}

fn run_sqlite(runs: usize, n: usize, migrations: &[Migration]) -> Times {
    let mut t = Times::default();
    {
        let dir = sqlite_dir();
        let c = rusqlite::Connection::open(dir.path().join("bench.db")).expect("open");
        let (v, j, s): (String, String, i64) = c
            .query_row(
                "SELECT sqlite_version(), (SELECT * FROM pragma_journal_mode), (SELECT * FROM pragma_synchronous)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("pragmas");
        eprintln!(
            "sqlite: {} (rusqlite, bundled SQLite {v}, journal_mode={j}, synchronous={s})",
            dir.path().display()
        );
    }
    for _run in 0..runs {
        for mode in 0..4 {
            let dir = sqlite_dir();
            let mut c = rusqlite::Connection::open(dir.path().join("bench.db")).expect("open");
            measure(&mut c, mode, n, migrations, &mut t);
        }
    }
    t
}

/// `is_async`: tokio-postgres on a current-thread runtime (as our bench runs sqlx)
/// instead of the sync `postgres` client.
fn run_postgres(
    admin: &str,
    is_async: bool,
    runs: usize,
    n: usize,
    migrations: &[Migration],
) -> Times {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut t = Times::default();
    let mut admin_client = postgres::Client::connect(admin, postgres::NoTls).expect("admin connect");
    let version: String = admin_client
        .query_one("SHOW server_version", &[])
        .expect("version")
        .get(0);
    eprintln!(
        "postgres: server {version} ({})",
        if is_async { "tokio-postgres, current-thread runtime" } else { "sync postgres client" }
    );
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    let pid = std::process::id();
    let mut k = 0;
    for _run in 0..runs {
        for mode in 0..4 {
            let name = format!("rb_{pid}_{k}");
            k += 1;
            admin_client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("drop");
            admin_client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create");
            let url = format!("{base}/{name}");
            if is_async {
                rt.block_on(async {
                    let (mut c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                        .await
                        .expect("connect");
                    let task = tokio::spawn(conn);
                    let xid = async |c: &tokio_postgres::Client| -> i64 {
                        c.query_one("SELECT txid_current()::text::int8", &[])
                            .await
                            .expect("txid")
                            .get(0)
                    };
                    let before = xid(&c).await;
                    measure_async(&mut c, mode, n, migrations, &mut t).await;
                    if _run == 0 {
                        report_xids(true, mode, xid(&c).await - before - 1);
                    }
                    drop(c);
                    let _ = task.await;
                });
            } else {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                let xid = |c: &mut postgres::Client| -> i64 {
                    c.query_one("SELECT txid_current()::text::int8", &[]).expect("txid").get(0)
                };
                let before = xid(&mut c);
                measure(&mut c, mode, n, migrations, &mut t);
                if _run == 0 {
                    report_xids(false, mode, xid(&mut c) - before - 1);
                }
                c.close().expect("close");
            }
            admin_client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .expect("drop");
        }
    }
    t
}

/// Each write transaction takes one transaction id (the probe takes one too, subtracted).
fn report_xids(is_async: bool, mode: u8, xids: i64) {
    eprintln!(
        "postgres ({}): {} committed {xids} write transactions",
        if is_async { "tokio-postgres" } else { "sync" },
        ["baseline, commit each", "refinery default (+5 at-head runs)", "baseline, one tx", "refinery grouped"][mode as usize],
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The refinery-core version this binary was built with, read from the Cargo.lock.
fn locked_version(krate: &str) -> &'static str {
    let lock = include_str!("../Cargo.lock");
    let needle = format!("name = \"{krate}\"\nversion = \"");
    lock.find(&needle)
        .map(|at| {
            let rest = &lock[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .unwrap_or("?")
}

fn main() {
    let n: usize = std::env::var("BENCH_REVISIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let only = std::env::var("BENCH_ONLY").ok();
    let files = tempfile::tempdir().expect("tempdir");
    write_files(files.path(), n);
    let started = Instant::now();
    let migrations = refinery::load_sql_migrations(files.path()).expect("load migrations");
    let load = started.elapsed();
    assert_eq!(migrations.len(), n);

    println!(
        "refinery {} (refinery-core {}), {n} revisions, median of {runs} runs; load_sql_migrations of the {n} files: {:.1} ms",
        locked_version("refinery"),
        locked_version("refinery-core"),
        load.as_secs_f64() * 1000.0
    );
    println!("| database | baseline, commit each | refinery, default (per migration) | ratio | baseline, one tx | refinery, grouped | ratio | at head |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut results = Vec::new();
    if only.as_deref().is_none_or(|o| o == "sqlite") {
        let label = match std::env::var("BENCH_SQLITE_DIR") {
            Ok(d) => format!("SQLite ({d})"),
            Err(_) => "SQLite".to_string(),
        };
        results.push((label, run_sqlite(runs, n, &migrations)));
        print_row(results.last().unwrap());
    }
    if let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        if only.as_deref().is_none_or(|o| o == "postgres") {
            for is_async in [false, true] {
                results.push((
                    if is_async {
                        "PostgreSQL (tokio-postgres)".to_string()
                    } else {
                        "PostgreSQL (postgres, sync)".to_string()
                    },
                    run_postgres(&admin, is_async, runs, n, &migrations),
                ));
                print_row(results.last().unwrap());
            }
        }
    }
}

fn print_row((name, t): &(String, Times)) {
    let be = median(t.base_each.clone());
    let re = median(t.refinery_each.clone());
    let bo = median(t.base_one.clone());
    let rg = median(t.refinery_grouped.clone());
    println!(
        "| {name} | {:.3} s | {:.3} s | {:.2}x | {:.3} s | {:.3} s | {:.2}x | {:.2} ms |",
        be.as_secs_f64(),
        re.as_secs_f64(),
        re.as_secs_f64() / be.as_secs_f64(),
        bo.as_secs_f64(),
        rg.as_secs_f64(),
        rg.as_secs_f64() / bo.as_secs_f64(),
        median(t.at_head.clone()).as_secs_f64() * 1000.0
    );
}
