//! How long `schema::introspect` takes on a large schema.
//!
//! `cargo bench -p migrate-runtime --bench introspect` builds, on SQLite (a temp file)
//! always and on PostgreSQL and MariaDB when `MIGRATE_TEST_POSTGRES_URL` /
//! `MIGRATE_TEST_MYSQL_URL` are set, a schema of `BENCH_TABLES` tables (default 1000),
//! each with 10 columns, 2 indexes and 1 foreign key, then prints the median of
//! `BENCH_RUNS` (default 5) introspections, after one warm-up run, and the client's CPU
//! time per introspection (on a loaded machine the wall clock also measures the queue). `BENCH_ONLY=postgres`
//! (or sqlite, mysql) measures one database.
//!
//! Budgets for 1,000 tables: 150 ms on SQLite, 500 ms on PostgreSQL, 2 s on MariaDB.

use migrate_runtime::{schema, Database};
use std::time::{Duration, Instant};

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
    r.unwrap_or_else(|e| panic!("{}: {e}", &sql[..sql.len().min(200)]));
}

/// The DDL of table `i`: 10 columns, a foreign key to the previous table (the first to
/// itself), an index on the foreign key and one on two other columns.
fn table_ddl(i: usize, mysql: bool) -> String {
    let parent = i.saturating_sub(1);
    let mut s = format!(
        "CREATE TABLE t{i:04} (\n  id INT NOT NULL PRIMARY KEY,\n  parent_id INT,\n  name VARCHAR(100) NOT NULL,\n  email VARCHAR(200),\n  score INT NOT NULL DEFAULT 0,\n  price DECIMAL(10,2),\n  note TEXT,\n  created_at TIMESTAMP NULL,\n  flag SMALLINT DEFAULT 1,\n  code CHAR(8),\n  CONSTRAINT fk_t{i:04}_parent FOREIGN KEY (parent_id) REFERENCES t{parent:04} (id)"
    );
    if mysql {
        s.push_str(&format!(
            ",\n  INDEX ix_t{i:04}_parent (parent_id),\n  INDEX ix_t{i:04}_name (name, score)\n);\n"
        ));
    } else {
        s.push_str(&format!(
            "\n);\nCREATE INDEX ix_t{i:04}_parent ON t{i:04} (parent_id);\nCREATE INDEX ix_t{i:04}_name ON t{i:04} (name, score);\n"
        ));
    }
    s
}

/// CPU time of this process, all threads (Linux; `None` elsewhere): on a loaded machine
/// the wall-clock time measures the queue as much as the work.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime
    // and stime fields 14 and 15, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_TABLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
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
    println!("{n} tables (10 columns, 2 indexes, 1 foreign key each), median of {runs} runs");
    println!("| database | build the schema | introspect (wall, median) | client CPU per introspection (mean) |");
    println!("|---|---|---|---|");
    for (name, admin) in targets {
        // A scratch database on the server (or an SQLite file), dropped at the end.
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, scratch) = match &admin {
            None => {
                let url = format!("sqlite://{}/bench.db", dir.path().display());
                (Database::connect(&url).await.expect("connect"), None)
            }
            Some(url) => {
                let s = schema::scratch(url).await.expect("scratch");
                (s.database().clone(), Some(s))
            }
        };
        let mysql = name == "mysql";
        let started = Instant::now();
        // Batches of 100 tables, each in one transaction where DDL is transactional
        // (and on one connection: a batch is one call).
        let (begin, commit) = if mysql {
            ("", "")
        } else {
            ("BEGIN;\n", "COMMIT;\n")
        };
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            let mut batch = begin.to_string();
            for &i in chunk {
                batch.push_str(&table_ddl(i, mysql));
            }
            batch.push_str(commit);
            exec(&db, &batch).await;
        }
        let built = started.elapsed();
        let first = schema::introspect(&db, &[]).await.expect("introspect");
        assert_eq!(first.tables.len(), n);
        let t = &first.tables["t0001"];
        assert_eq!(
            (t.columns.len(), t.indexes.len(), t.foreign_keys.len()),
            (10, 2, 1),
            "{t:?}"
        );
        let mut took = Vec::new();
        let cpu_before = cpu_time();
        for _ in 0..runs {
            let started = Instant::now();
            let s = schema::introspect(&db, &[]).await.expect("introspect");
            took.push(started.elapsed());
            assert_eq!(s, first);
        }
        let cpu = match (cpu_before, cpu_time()) {
            (Some(a), Some(b)) => format!("{:.0} ms", (b - a).as_secs_f64() * 1000.0 / runs as f64),
            _ => "-".to_string(),
        };
        println!(
            "| {name} | {:.1} s | {:.1} ms | {cpu} |",
            built.as_secs_f64(),
            median(took).as_secs_f64() * 1000.0
        );
        if let Some(s) = scratch {
            s.drop().await.expect("drop the scratch database");
        } else {
            db.close().await;
        }
    }
}
