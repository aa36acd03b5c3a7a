//! Scratch databases are dropped by the server after the command that made them exits:
//! a schema command returns once the server is seen executing the drop, without
//! waiting for it (on PostgreSQL 15 a `DROP DATABASE` waits for a checkpoint of the
//! whole cluster), and nothing is left behind.

mod common;

use common::schema_project;
use common::Project;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Tables enough that loading them takes the command a while (the window in which a
/// test sees its scratch database), each referencing the one before.
const TABLES: usize = 300;

/// How long a drop the server finishes on its own may take on a busy shared server
/// (each `DROP DATABASE` on PostgreSQL waits for a checkpoint of the cluster).
const GONE_WITHIN: Duration = Duration::from_secs(180);

/// How long the command may take: loading the tables, reading them back, the diff.
const COMMAND_WITHIN: Duration = Duration::from_secs(300);

/// The declared schema: `n` tables with a foreign key, an index, ten columns.
fn schema(kind: &str, n: usize) -> String {
    let id = if kind == "postgres" {
        "SERIAL PRIMARY KEY"
    } else {
        "INTEGER AUTO_INCREMENT PRIMARY KEY"
    };
    (0..n)
        .map(|i| {
            let parent = i.saturating_sub(1);
            format!(
                "CREATE TABLE t{i} (\n    id {id},\n    parent_id INTEGER,\n    \
                 name VARCHAR(100) NOT NULL,\n    email VARCHAR(200),\n    \
                 qty INTEGER NOT NULL DEFAULT 0,\n    price NUMERIC(10, 2),\n    note TEXT,\n    \
                 flag BOOLEAN,\n    code VARCHAR(20),\n    \
                 CONSTRAINT fk_t{i}_parent FOREIGN KEY (parent_id) REFERENCES t{parent} (id)\n);\n\
                 CREATE INDEX ix_t{i}_name ON t{i} (name);\n"
            )
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// One connection to a server, outside the tool.
enum Server {
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

impl Server {
    fn connect(rt: &tokio::runtime::Runtime, url: &str) -> Server {
        use sqlx::Connection;
        rt.block_on(async {
            if url.starts_with("postgres") {
                Server::Postgres(sqlx::PgConnection::connect(url).await.expect("postgres"))
            } else {
                Server::Mysql(sqlx::MySqlConnection::connect(url).await.expect("mysql"))
            }
        })
    }

    /// The scratch databases whose names continue with `prefix`.
    fn scratches(&mut self, rt: &tokio::runtime::Runtime, prefix: &str) -> Vec<String> {
        let like = format!("migrate\\_scratch\\_{}%", prefix.replace('_', "\\_"));
        rt.block_on(async {
            match self {
                Server::Postgres(c) => sqlx::query_scalar(
                    "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
                )
                .bind(&like)
                .fetch_all(c)
                .await
                .expect("pg_database"),
                Server::Mysql(c) => sqlx::query_scalar(
                    "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA \
                     WHERE SCHEMA_NAME LIKE ?",
                )
                .bind(&like)
                .fetch_all(c)
                .await
                .expect("schemata"),
            }
        })
    }

    /// Whether the database `name` is on the server.
    fn has(&mut self, rt: &tokio::runtime::Runtime, name: &str) -> bool {
        let prefix = name
            .strip_prefix("migrate_scratch_")
            .expect("a scratch name");
        self.scratches(rt, prefix).iter().any(|n| n == name)
    }

    fn execute(&mut self, rt: &tokio::runtime::Runtime, sql: &str) {
        rt.block_on(async {
            let done = match self {
                Server::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
                Server::Mysql(c) => sqlx::raw_sql(sql).execute(c).await.map(|_| ()),
            };
            done.unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
    }
}

/// A project declaring [`TABLES`] tables on a fresh database of each configured server.
fn projects(tag: &str) -> Vec<(&'static str, Project)> {
    common::servers()
        .into_iter()
        .map(|(kind, _)| {
            let p = schema_project::on_server(kind, tag, &[("tables.sql", &schema(kind, TABLES))])
                .expect("a configured server");
            (kind, p)
        })
        .collect()
}

/// `migrate diff --from database --to schema`: one scratch, loaded with the declared
/// schema; its (long) listing goes to a file, so the command never waits for a reader.
fn spawn_diff(p: &Project) -> Child {
    let out = std::fs::File::create(p.path().join("diff.out")).expect("output file");
    p.cmd(&["diff", "--from", "database", "--to", "schema"])
        .stdout(Stdio::from(out))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn migrate")
}

/// Waits for `child` at most `within`; kills it and fails the test when it is not done.
fn finish(mut child: Child, within: Duration, what: &str) -> std::process::Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > within {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{what}: still running after {within:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls until none of `names` is on the server, at most [`GONE_WITHIN`].
fn gone(rt: &tokio::runtime::Runtime, server: &mut Server, names: &[String], what: &str) {
    let start = Instant::now();
    loop {
        let left: Vec<String> = server
            .scratches(rt, "")
            .into_iter()
            .filter(|n| names.contains(n))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < GONE_WITHIN,
            "{what}: {left:?} still there {GONE_WITHIN:?} after the command exited"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_diffed(p: &Project, out: &std::process::Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = std::fs::read_to_string(p.path().join("diff.out")).expect("listing");
    let last = format!("t{}", TABLES - 1);
    assert!(listing.contains(&last), "{what}: {listing}");
}

#[test]
fn scratch_databases_are_gone_after_the_command_exits() {
    let rt = runtime();
    for (kind, p) in projects("scratch_gone") {
        let mut server = Server::connect(&rt, &p.url);
        // Scratches of dead processes whose pid the child may reuse are not its own.
        let before = server.scratches(&rt, "");
        let child = spawn_diff(&p);
        let pid = child.id();
        let out = finish(child, COMMAND_WITHIN, kind);
        assert_diffed(&p, &out, kind);
        let made: Vec<String> = server
            .scratches(&rt, &format!("{pid}_"))
            .into_iter()
            .filter(|n| !before.contains(n))
            .collect();
        gone(&rt, &mut server, &made, kind);
    }
}

/// The drop is held up by a lock the test takes on the scratch database: the command
/// still exits, the server keeps the drop going without it, and a second command (which
/// drops a dead process's scratches before making its own) does not wait for it either.
/// Once the lock is released the server finishes the drop.
#[test]
fn a_postgres_command_exits_while_the_server_drops_its_scratch() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = runtime();
    let p = schema_project::on_server(
        "postgres",
        "scratch_held",
        &[("tables.sql", &schema("postgres", TABLES))],
    )
    .expect("a configured server");
    let mut server = Server::connect(&rt, &admin);
    let before = server.scratches(&rt, "");
    let child = spawn_diff(&p);
    let pid = child.id();

    // Its scratch, seen while the command loads the tables into it.
    let start = Instant::now();
    let scratch = loop {
        let new: Vec<String> = server
            .scratches(&rt, &format!("{pid}_"))
            .into_iter()
            .filter(|n| !before.contains(n))
            .collect();
        if let Some(name) = new.into_iter().next() {
            break name;
        }
        assert!(
            start.elapsed() < COMMAND_WITHIN,
            "no scratch database of process {pid} seen"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    // A comment takes a lock on the database (connecting does not conflict with it, a
    // drop does), held until the transaction ends. A quick failure here means the
    // command finished before the lock was taken, and the test tells nothing.
    let mut holder = Server::connect(&rt, &admin);
    holder.execute(&rt, "BEGIN; SET LOCAL lock_timeout = '30s'");
    holder.execute(
        &rt,
        &format!("COMMENT ON DATABASE {scratch} IS 'held by scratch_drop.rs'"),
    );

    let out = finish(child, COMMAND_WITHIN, "with its scratch's drop held up");
    assert_diffed(&p, &out, "postgres");
    // The server is still on the drop the command left to it.
    let dropping: i64 = rt.block_on(async {
        let Server::Postgres(c) = &mut server else {
            unreachable!()
        };
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE state = 'active' AND query LIKE 'DROP DATABASE%' AND query LIKE $1",
        )
        .bind(format!("%{scratch}%"))
        .fetch_one(c)
        .await
        .expect("pg_stat_activity")
    });
    assert!(dropping >= 1, "no drop of {scratch} running");
    assert!(
        server.has(&rt, &scratch),
        "{scratch} dropped through the lock"
    );

    // The next command finds the scratch of a process that is gone and drops it too,
    // without waiting behind the lock.
    let second = spawn_diff(&p);
    let second_pid = second.id();
    let out = finish(second, COMMAND_WITHIN, "a second command");
    assert_diffed(&p, &out, "postgres, second command");
    assert!(
        server.has(&rt, &scratch),
        "{scratch} dropped through the lock"
    );

    holder.execute(&rt, "ROLLBACK");
    let mut made = vec![scratch];
    made.extend(
        server
            .scratches(&rt, &format!("{second_pid}_"))
            .into_iter()
            .filter(|n| !before.contains(n)),
    );
    gone(&rt, &mut server, &made, "postgres");
}
