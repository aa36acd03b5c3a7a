//! `migrate check` on PostgreSQL through the real binary: drift made by hand after the
//! upgrade in the objects PostgreSQL has beyond tables (a CHECK re-added `NOT VALID`, a
//! column collation, a trigger, a function) exits 10 and names it; undoing it by hand
//! exits 0 again; and a view over a changed table is not listed when it is unchanged.
//! Runs when `MIGRATE_TEST_POSTGRES_URL` is set (an unreachable server fails it). The
//! last test checks that a trigger added by hand is drift on SQLite and MySQL too.

mod common;

use common::Project;

/// A declared schema with a function, a trigger that calls it, a named check, a text
/// column of the default collation and a view.
const SCHEMA: &str = "\
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    balance INTEGER NOT NULL,
    touched_at TIMESTAMP,
    CONSTRAINT balance_positive CHECK (balance >= 0)
);
CREATE VIEW account_names AS SELECT id, name FROM accounts;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.touched_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION touch();
";

/// A project on a fresh PostgreSQL database, `None` when PostgreSQL is not configured.
fn project(tag: &str) -> Option<Project> {
    let admin = std::env::var("MIGRATE_TEST_POSTGRES_URL").ok()?;
    let p = Project::with_url(common::fresh_database("postgres", &admin, tag));
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    std::fs::write(p.path().join("schema/tables.sql"), SCHEMA).expect("write");
    Some(p)
}

fn run(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.run(args);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs SQL on the project's database, outside the tool.
fn exec(url: &str, sql: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            let r = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ());
            pool.close().await;
            r.unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
}

/// The migrations written from the declared schema, applied: `check` passes.
fn upgraded(tag: &str) -> Option<Project> {
    let p = project(tag)?;
    let (code, out) = run(
        &p,
        &[
            "revision",
            "--autogenerate",
            "-m",
            "initial",
            "--rev-id",
            "a1",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let text = std::fs::read_to_string(file).expect("read");
    for wanted in [
        "CREATE OR REPLACE FUNCTION touch()",
        "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts",
        "DROP TRIGGER accounts_touch ON accounts;",
        "DROP FUNCTION touch();",
    ] {
        assert!(text.contains(wanted), "`{wanted}` missing:\n{text}");
    }
    p.ok(&["upgrade", "head"]);
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 0, "{out}");
    Some(p)
}

/// `check` exits 10 naming `wanted`; after `undo` it exits 0 again.
fn drifts(p: &Project, by_hand: &str, wanted: &[&str], undo: &str) {
    exec(&p.url, by_hand);
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 10, "{by_hand}\n{out}");
    assert!(out.contains("drifted"), "{out}");
    for w in wanted {
        assert!(out.contains(w), "`{w}` missing after {by_hand}:\n{out}");
    }
    exec(&p.url, undo);
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 0, "after {undo}:\n{out}");
}

#[test]
fn a_check_re_added_not_valid_is_drift() {
    let Some(p) = upgraded("pgd_notvalid") else {
        return;
    };
    drifts(
        &p,
        "ALTER TABLE accounts DROP CONSTRAINT balance_positive;
         ALTER TABLE accounts ADD CONSTRAINT balance_positive CHECK (balance >= 0) NOT VALID;",
        &["check balance_positive on accounts", "not valid"],
        "ALTER TABLE accounts VALIDATE CONSTRAINT balance_positive;",
    );
}

#[test]
fn a_column_collation_is_drift() {
    let Some(p) = upgraded("pgd_collate") else {
        return;
    };
    drifts(
        &p,
        "DROP VIEW account_names;
         ALTER TABLE accounts ALTER COLUMN name TYPE text COLLATE \"C\";
         CREATE VIEW account_names AS SELECT id, name FROM accounts;",
        &["alter column accounts.name: collation default -> \"C\""],
        "DROP VIEW account_names;
         ALTER TABLE accounts ALTER COLUMN name TYPE text COLLATE \"default\";
         CREATE VIEW account_names AS SELECT id, name FROM accounts;",
    );
}

#[test]
fn an_added_function_and_trigger_are_drift() {
    let Some(p) = upgraded("pgd_routines") else {
        return;
    };
    drifts(
        &p,
        "CREATE FUNCTION by_hand(n integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN n + 1; END $$;",
        &["create function by_hand(integer)"],
        "DROP FUNCTION by_hand(integer);",
    );
    drifts(
        &p,
        "CREATE TRIGGER accounts_by_hand BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION touch();",
        &["create trigger accounts_by_hand on accounts"],
        "DROP TRIGGER accounts_by_hand ON accounts;",
    );
    // A function's body changed in place is drift too.
    drifts(
        &p,
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
        &["replace function touch()"],
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.touched_at := now();
    RETURN NEW;
END
$$;",
    );
    // The migrations' own downgrade removes the function and the trigger.
    let (code, out) = run(&p, &["test"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn an_unchanged_view_over_a_changed_table_is_not_listed() {
    let Some(p) = upgraded("pgd_view") else {
        return;
    };
    exec(
        &p.url,
        "ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;",
    );
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 10, "{out}");
    assert!(
        out.contains("alter column accounts.balance: type integer -> bigint"),
        "{out}"
    );
    assert!(!out.contains("view"), "the view did not change:\n{out}");
    let listed = out
        .lines()
        .filter(|l| l.trim_start().starts_with("- "))
        .count();
    assert_eq!(listed, 1, "{out}");
}

#[test]
fn a_trigger_added_by_hand_is_drift_on_sqlite_and_mysql() {
    let mut projects = vec![("sqlite", Project::sqlite())];
    if let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        projects.push((
            "mysql",
            Project::with_url(common::fresh_database("mysql", &admin, "pgd_trigger")),
        ));
    }
    for (kind, p) in projects {
        p.ok(&["init", "migrations"]);
        let config = p.path().join("migrate.toml");
        let text = std::fs::read_to_string(&config).expect("config");
        std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
        std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
        std::fs::write(
            p.path().join("schema/tables.sql"),
            "CREATE TABLE counted (n INTEGER);\nCREATE TABLE items (id INTEGER PRIMARY KEY);\n",
        )
        .expect("write");
        p.ok(&[
            "revision",
            "--autogenerate",
            "-m",
            "initial",
            "--rev-id",
            "a1",
        ]);
        p.ok(&["upgrade", "head"]);
        p.ok(&["check"]);
        let (create, drop) = if kind == "sqlite" {
            (
                "CREATE TRIGGER items_counted AFTER INSERT ON items BEGIN UPDATE counted SET n = n + 1; END;",
                "DROP TRIGGER items_counted;",
            )
        } else {
            (
                "CREATE TRIGGER items_counted AFTER INSERT ON items FOR EACH ROW UPDATE counted SET n = n + 1;",
                "DROP TRIGGER items_counted;",
            )
        };
        exec_any(&p.url, create);
        let (code, out) = run(&p, &["check"]);
        assert_eq!(code, 10, "{kind}: {out}");
        assert!(
            out.contains("create trigger items_counted on items"),
            "{kind}: {out}"
        );
        exec_any(&p.url, drop);
        let (code, out) = run(&p, &["check"]);
        assert_eq!(code, 0, "{kind}: {out}");
    }
}

/// Runs SQL on an SQLite or MySQL database, outside the tool.
fn exec_any(url: &str, sql: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let r = if url.starts_with("sqlite") {
                let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
                let r = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ());
                pool.close().await;
                r
            } else {
                let pool = sqlx::MySqlPool::connect(url).await.expect("mysql");
                let r = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ());
                pool.close().await;
                r
            };
            r.unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
}
