//! The schema commands through the real binary, on SQLite and on every configured
//! server: `revision --autogenerate`, `check` with drift detection, `diff`, `test`.

mod common;

use common::schema_project::{self, exec};
use common::Project;

const SCHEMA: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(200) NOT NULL UNIQUE
);
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    title VARCHAR(200) NOT NULL,
    priority VARCHAR(20) DEFAULT 'normal',
    CONSTRAINT fk_tickets_user FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX ix_tickets_priority ON tickets (priority);
";

/// Projects on SQLite and on a fresh database of each configured server.
fn projects(tag: &str) -> Vec<(&'static str, Project)> {
    let mut out = vec![("sqlite", Project::sqlite())];
    for (kind, admin) in common::servers() {
        out.push((
            kind,
            Project::with_url(common::fresh_database(kind, &admin, tag)),
        ));
    }
    out
}

fn with_schema(p: &Project, sql: &str) {
    schema_project::declare(p, &[("tables.sql", sql)]);
}

/// The first revision, generated from the declared schema.
const AUTOGENERATE_A1: &[&str] = &[
    "revision",
    "--autogenerate",
    "-m",
    "initial",
    "--rev-id",
    "a1",
];

fn run(p: &Project, args: &[&str]) -> (i32, String, String) {
    let out = p.run(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Names of scratch databases (and schemas) a process left on a server.
fn scratches_of(url: &str, pid: u32) -> Vec<String> {
    scratches_like(url, &format!("{pid}_"))
}

/// Names of scratch databases (and schemas) whose name continues with `prefix`.
fn scratches_like(url: &str, prefix: &str) -> Vec<String> {
    let like = format!("migrate_scratch_{prefix}%");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            let mut names: Vec<String> =
                sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
                    .bind(&like)
                    .fetch_all(&pool)
                    .await
                    .expect("query");
            let schemas: Vec<String> = sqlx::query_scalar(
                "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1",
            )
            .bind(&like)
            .fetch_all(&pool)
            .await
            .expect("query");
            names.extend(schemas);
            pool.close().await;
            names
        } else if url.starts_with("mysql") {
            let pool = sqlx::MySqlPool::connect(url).await.expect("mysql");
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE ?",
            )
            .bind(&like)
            .fetch_all(&pool)
            .await
            .expect("query");
            pool.close().await;
            names
        } else {
            Vec::new()
        }
    })
}

#[test]
fn autogenerate_then_check_and_test_pass() {
    for (kind, p) in projects("autogen") {
        with_schema(&p, SCHEMA);
        let (code, _, err) = run(&p, AUTOGENERATE_A1);
        assert_eq!(code, 0, "{kind}: {err}");
        assert!(
            err.contains("Verified on a scratch database"),
            "{kind}: {err}"
        );
        assert!(
            err.contains("Detected create table tickets"),
            "{kind}: {err}"
        );
        let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
        let text = std::fs::read_to_string(file).expect("read");
        assert!(text.contains("CREATE TABLE users"), "{kind}: {text}");
        assert!(text.contains("DROP TABLE users"), "{kind}: {text}");
        // The sum was updated: upgrading needs no `migrate hash`.
        p.ok(&["verify"]);
        p.ok(&["upgrade", "head"]);
        let (code, out, err) = run(&p, &["check"]);
        assert_eq!(code, 0, "{kind}: {out}{err}");
        let (code, out, err) = run(&p, &["test"]);
        assert_eq!(code, 0, "{kind}: {err}");
        assert!(
            out.contains("every downgrade left no trace"),
            "{kind}: {out}"
        );
        // Nothing left to generate.
        let (code, _, err) = run(&p, &["revision", "--autogenerate", "-m", "nothing"]);
        assert_eq!(code, 0, "{kind}: {err}");
        assert!(
            err.contains("No changes in schema detected"),
            "{kind}: {err}"
        );
        // A new table in the declared schema: `check` says a revision is missing, `diff`
        // shows it, and the next autogenerate writes it.
        std::fs::write(
            p.path().join("schema/audit.sql"),
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, what VARCHAR(100));\n",
        )
        .expect("write");
        let (code, _, err) = run(&p, &["check"]);
        assert_eq!(code, 11, "{kind}: {err}");
        assert!(
            err.contains("a revision is missing") && err.contains("create table audit"),
            "{kind}: {err}"
        );
        let (code, out, _) = run(&p, &["diff"]);
        assert_eq!(code, 0);
        assert!(
            out.starts_with("-- migrate:upgrade\nCREATE TABLE audit"),
            "{kind}: {out}"
        );
        assert!(
            out.contains("-- migrate:downgrade\nDROP TABLE audit;"),
            "{kind}: {out}"
        );
        p.ok(&[
            "revision",
            "--autogenerate",
            "-m",
            "audit",
            "--rev-id",
            "b2",
        ]);
        p.ok(&["upgrade", "head"]);
        p.ok(&["check"]);
    }
}

#[test]
fn drift_by_hand_is_reported_column_index_and_foreign_key() {
    for (kind, p) in projects("drift") {
        with_schema(&p, SCHEMA);
        p.ok(AUTOGENERATE_A1);
        p.ok(&["upgrade", "head"]);
        p.ok(&["check"]);
        let drop_fk = match kind {
            "postgres" => "ALTER TABLE tickets DROP CONSTRAINT fk_tickets_user;",
            "mysql" => "ALTER TABLE tickets DROP FOREIGN KEY fk_tickets_user;",
            // SQLite drops a foreign key by rebuilding the table.
            _ => "CREATE TABLE tickets_new (id INTEGER NOT NULL, user_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL, priority VARCHAR(20) DEFAULT 'normal', PRIMARY KEY (id));
                  INSERT INTO tickets_new SELECT id, user_id, title, priority FROM tickets;
                  DROP TABLE tickets;
                  ALTER TABLE tickets_new RENAME TO tickets;
                  CREATE INDEX ix_tickets_priority ON tickets (priority);",
        };
        exec(&p.url, drop_fk);
        exec(&p.url, "ALTER TABLE tickets ADD COLUMN notes VARCHAR(100);");
        exec(&p.url, "CREATE INDEX ix_by_hand ON users (email);");
        let (code, _, err) = run(&p, &["check"]);
        assert_eq!(code, 10, "{kind}: {err}");
        assert!(err.contains("drifted"), "{kind}: {err}");
        assert!(err.contains("add column tickets.notes"), "{kind}: {err}");
        assert!(err.contains("ix_by_hand"), "{kind}: {err}");
        assert!(err.contains("drop foreign key"), "{kind}: {err}");
        let (code, out, _) = run(&p, &["check", "--json"]);
        assert_eq!(code, 10);
        assert!(out.contains("\"kind\": \"drift\""), "{kind}: {out}");
    }
}

#[test]
fn a_failing_schema_file_is_named_and_the_scratch_is_dropped() {
    for (kind, p) in projects("badschema") {
        with_schema(&p, "CREATE TABLE ok (id INTEGER PRIMARY KEY);\n\nCREATE TABLE broken (id INTEGER REFERENCES;\n");
        // Scratches of dead processes whose pid the child may reuse are not its own.
        let before = scratches_like(&p.url, "");
        let child = p
            .cmd(&["revision", "--autogenerate", "-m", "x"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let pid = child.id();
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(1), "{kind}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("tables.sql:3"), "{kind}: {err}");
        assert!(err.contains("CREATE TABLE broken"), "{kind}: {err}");
        // The server finishes a drop after the command exits (on PostgreSQL it waits
        // for a checkpoint of the whole cluster).
        let start = std::time::Instant::now();
        let left = loop {
            let left: Vec<String> = scratches_of(&p.url, pid)
                .into_iter()
                .filter(|n| !before.contains(n))
                .collect();
            if left.is_empty() || start.elapsed() > std::time::Duration::from_secs(120) {
                break left;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        assert!(left.is_empty(), "{kind}: scratch left behind: {left:?}");
        let written = std::fs::read_dir(p.path().join("migrations"))
            .expect("list")
            .filter(|e| {
                e.as_ref()
                    .map(|e| e.file_name().to_string_lossy().ends_with("_x.sql"))
                    .unwrap_or(false)
            })
            .count();
        assert_eq!(
            written, 0,
            "{kind}: nothing is written when the schema fails"
        );
    }
}

#[test]
fn an_autogenerated_revision_that_does_not_verify_is_written_with_the_failure_on_top() {
    let p = Project::sqlite();
    with_schema(&p, SCHEMA);
    // A template that adds its own statement to every upgrade: the revision then gives
    // more than the declared schema, which the verification catches.
    let template = p.path().join("migrations/script.sql.tmpl");
    let text = std::fs::read_to_string(&template).expect("template");
    std::fs::write(
        &template,
        text.replace(
            "-- migrate:upgrade\n",
            "-- migrate:upgrade\nCREATE TABLE from_the_template (id INTEGER);\n",
        ),
    )
    .expect("write");
    let (code, _, err) = run(&p, AUTOGENERATE_A1);
    assert_eq!(code, 12, "{err}");
    assert!(err.contains("does not verify"), "{err}");
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("written anyway");
    let text = std::fs::read_to_string(file).expect("read");
    let note = text
        .find("-- autogenerate: could not verify this revision")
        .expect(&text);
    let upgrade = text.find("-- migrate:upgrade").expect(&text);
    assert!(note < upgrade, "{text}");
    assert!(text.contains("from_the_template"), "{text}");
    // It is still a valid migration, with its sum.
    p.ok(&["verify"]);
}

#[test]
fn the_stairway_names_the_revision_whose_downgrade_leaves_a_trace() {
    for (kind, p) in projects("stairway") {
        p.ok(&["init", "migrations"]);
        p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
        p.fill(
            "a1_",
            "CREATE TABLE one (id INTEGER PRIMARY KEY);",
            "DROP TABLE one;",
        );
        p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
        p.fill(
            "b2_",
            "CREATE TABLE two (id INTEGER PRIMARY KEY);\nCREATE TABLE three (id INTEGER PRIMARY KEY);",
            "DROP TABLE two;",
        );
        p.ok(&["hash"]);
        let (code, out, err) = run(&p, &["test"]);
        assert_eq!(code, 12, "{kind}: {out}{err}");
        assert!(
            err.contains("the downgrade of revision `b2` leaves a trace"),
            "{kind}: {err}"
        );
        assert!(err.contains("three"), "{kind}: {err}");
        // The target database itself was never touched.
        let (code, out, _) = run(&p, &["current"]);
        if kind == "sqlite" {
            assert_eq!(code, 3, "{kind}: `test` must not create the target");
        } else {
            assert!(
                code == 0 && out.trim().is_empty(),
                "{kind}: `test` migrated the target: {out}"
            );
        }
    }
}

#[test]
fn autogenerate_also_writes_and_verifies_a_section_for_another_database() {
    for (kind, p) in projects("also") {
        if kind == "sqlite" {
            continue;
        }
        with_schema(&p, SCHEMA);
        let (code, _, err) = run(
            &p,
            &[
                "revision",
                "--autogenerate",
                "-m",
                "initial",
                "--rev-id",
                "a1",
                "--also",
                "sqlite::memory:",
            ],
        );
        assert_eq!(code, 0, "{kind}: {err}");
        assert!(
            err.contains("Verified on a scratch database of each kind"),
            "{kind}: {err}"
        );
        let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
        let text = std::fs::read_to_string(file).expect("read");
        assert!(
            text.contains("\n-- migrate:upgrade sqlite\nCREATE TABLE users"),
            "{kind}: {text}"
        );
        assert!(
            text.contains("\n-- migrate:downgrade sqlite\n"),
            "{kind}: {text}"
        );
        p.ok(&["upgrade", "head"]);
        // The same folder, applied to SQLite, takes the SQLite section.
        let sqlite = format!("sqlite://{}/other.db", p.path().display());
        p.ok(&["--database-url", &sqlite, "upgrade", "head"]);
        p.ok(&["--database-url", &sqlite, "check"]);
    }
}
