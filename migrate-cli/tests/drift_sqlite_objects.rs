//! SQLite through the real binary: `STRICT` and `WITHOUT ROWID` tables and an FTS5
//! virtual table kept up to date by a trigger are written by `revision
//! --autogenerate`, applied, found clean by `check`; each changed by hand is reported
//! by `check` (exit 10, naming it) and clean again once undone; a change of options
//! made by a later revision rebuilds the table and keeps its rows; `downgrade base`
//! leaves nothing.

mod common;

use common::Project;

const SCHEMA: &str = "\
CREATE TABLE readings (id INTEGER PRIMARY KEY, value REAL NOT NULL) STRICT;
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id');
CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, body) VALUES (new.id, new.body);
END;
";

fn project() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    std::fs::write(p.path().join("schema/schema.sql"), SCHEMA).expect("write");
    p
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

/// Runs SQL on the project's database outside the tool; answers the first column of
/// a query's rows as text.
fn exec(url: &str, sql: &str) -> Vec<String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            let r = if sql.trim_start().to_ascii_uppercase().starts_with("SELECT") {
                sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await
            } else {
                sqlx::raw_sql(sql).execute(&pool).await.map(|_| Vec::new())
            };
            pool.close().await;
            r.unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
}

fn drifts(p: &Project, by_hand: &str, wanted: &[&str], undo: &str) {
    exec(&p.url, by_hand);
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 10, "{by_hand}\n{out}");
    for w in wanted {
        assert!(out.contains(w), "`{w}` missing after {by_hand}:\n{out}");
    }
    exec(&p.url, undo);
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 0, "after {undo}:\n{out}");
}

fn leftovers(p: &Project) -> Vec<String> {
    exec(
        &p.url,
        "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'alembic%' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
}

#[test]
fn strict_without_rowid_and_virtual_tables_round_trip_and_drift() {
    let p = project();
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
        ") STRICT;",
        ") WITHOUT ROWID;",
        "CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id');",
        "DROP TABLE \"docs_fts\";",
    ] {
        assert!(text.contains(wanted), "`{wanted}` missing:\n{text}");
    }
    p.ok(&["upgrade", "head"]);
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 0, "{out}\n{text}");
    // The trigger fills the virtual table: it was created before it.
    exec(
        &p.url,
        "INSERT INTO docs (id, body) VALUES (1, 'hello world')",
    );
    assert_eq!(
        exec(
            &p.url,
            "SELECT CAST(rowid AS TEXT) FROM docs_fts WHERE docs_fts MATCH 'hello'"
        ),
        ["1"]
    );
    drifts(
        &p,
        "DROP TABLE docs_fts; CREATE VIRTUAL TABLE docs_fts USING fts5(body)",
        &["drop virtual table docs_fts", "create virtual table docs_fts"],
        "DROP TABLE docs_fts; CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id')",
    );
    drifts(
        &p,
        "CREATE VIRTUAL TABLE by_hand USING fts5(x)",
        &["create virtual table by_hand"],
        "DROP TABLE by_hand",
    );
    drifts(
        &p,
        "CREATE TABLE r2 (id INTEGER PRIMARY KEY, value REAL NOT NULL);
         INSERT INTO r2 SELECT * FROM readings; DROP TABLE readings;
         ALTER TABLE r2 RENAME TO readings;",
        &["alter table readings: options strict -> none"],
        "CREATE TABLE r2 (id INTEGER PRIMARY KEY, value REAL NOT NULL) STRICT;
         INSERT INTO r2 SELECT * FROM readings; DROP TABLE readings;
         ALTER TABLE r2 RENAME TO readings;",
    );
    // A later revision changes the options: the tables are rebuilt, rows kept.
    exec(
        &p.url,
        "INSERT INTO readings VALUES (1, 2.5); INSERT INTO settings VALUES ('k', 'v')",
    );
    std::fs::write(
        p.path().join("schema/schema.sql"),
        SCHEMA
            .replace(") STRICT;", ");")
            .replace(") WITHOUT ROWID;", ") WITHOUT ROWID, STRICT;"),
    )
    .expect("write");
    let (code, out) = run(
        &p,
        &[
            "revision",
            "--autogenerate",
            "-m",
            "options",
            "--rev-id",
            "b2",
        ],
    );
    assert_eq!(code, 0, "{out}");
    p.ok(&["upgrade", "head"]);
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        exec(&p.url, "SELECT key || value FROM settings"),
        ["kv"],
        "rows kept"
    );
    assert_eq!(
        exec(
            &p.url,
            "SELECT name || ' ' || wr || strict FROM pragma_table_list \
             WHERE name IN ('readings', 'settings') ORDER BY name"
        ),
        ["readings 00", "settings 11"]
    );
    // The stairway, and nothing left after the downgrade.
    let (code, out) = run(&p, &["test"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&p, &["downgrade", "base"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(leftovers(&p), Vec::<String>::new());
}
