//! `migrate schema dump` and `migrate init --from-database`, through the real binary on
//! every configured database (SQLite always; PostgreSQL and MySQL when their
//! `MIGRATE_TEST_*_URL` is set, an unreachable server failing the test).
//!
//! The round trip: a schema made here → `schema dump` → a new project with that
//! declared schema and no migrations, on an empty database → `revision --autogenerate`
//! → `upgrade head` → `check` clean, and `diff --from database --to schema` on the
//! original database finds nothing. The take-over: a live database → `init
//! --from-database` → `stamp` → `check` clean → a declared change → autogenerate →
//! upgrade → `check` clean.

mod common;

use common::schema_project::{exec, with_schema_location};
use common::Project;
use std::path::Path;

/// The schema the round trip starts from, per database: one statement per object, so
/// that a new kind of object is one more line.
fn objects(kind: &str) -> &'static [&'static str] {
    match kind {
        "postgres" => &[
            "CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL UNIQUE)",
            "CREATE TABLE books (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE, title varchar(200) NOT NULL DEFAULT 'untitled', pages integer CHECK (pages > 0), updated_at timestamp)",
            "CREATE INDEX books_title ON books (lower(title))",
            "CREATE UNIQUE INDEX books_author_title ON books (author_id, title) WHERE pages IS NOT NULL",
            "CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500",
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$",
            "CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION touch()",
            "CREATE EXTENSION btree_gist",
            "CREATE DOMAIN year AS integer CHECK (VALUE >= 1901)",
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
            "CREATE TABLE shelves (id integer PRIMARY KEY, built year, mood mood, during tsrange, addr inet, label text COLLATE \"C\", CONSTRAINT no_overlap EXCLUDE USING gist (id WITH =, during WITH &&))",
            "CREATE INDEX shelves_addr ON shelves USING gist (addr inet_ops)",
            "CREATE INDEX shelves_label ON shelves (label) INCLUDE (built) WITH (fillfactor = 70)",
            "CREATE TABLE loans (id integer NOT NULL, lent_on date NOT NULL) PARTITION BY RANGE (lent_on)",
            "CREATE TABLE loans_2025 PARTITION OF loans FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
            "CREATE MATERIALIZED VIEW shelf_count AS SELECT count(*) AS n FROM shelves",
            "ALTER TABLE shelves ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY shelves_positive ON shelves USING (id > 0)",
            "CREATE FUNCTION add_int(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b'",
            "CREATE AGGREGATE total(integer) (SFUNC = add_int, STYPE = integer, INITCOND = '0')",
            "COMMENT ON TABLE shelves IS 'where books stand'",
        ],
        "mysql" => &[
            "CREATE TABLE authors (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE)",
            "CREATE TABLE books (id INT AUTO_INCREMENT PRIMARY KEY, author_id INT NOT NULL, title VARCHAR(200) NOT NULL DEFAULT 'untitled', pages INT, CONSTRAINT books_author FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE, INDEX books_title (title))",
            "CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500",
            "CREATE TRIGGER books_pages BEFORE INSERT ON books FOR EACH ROW BEGIN IF NEW.pages < 0 THEN SET NEW.pages = 0; END IF; END",
            "CREATE TABLE shelves (id INT PRIMARY KEY, label VARCHAR(100) COMMENT 'on the front', touched TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, KEY shelves_label (label(10))) DEFAULT CHARSET=utf8 COMMENT='where books stand'",
            "CREATE TABLE loans (id INT NOT NULL, lent_year INT NOT NULL) PARTITION BY RANGE (lent_year) (PARTITION p2025 VALUES LESS THAN (2026), PARTITION pmax VALUES LESS THAN MAXVALUE)",
            "CREATE FUNCTION add_int(a INT, b INT) RETURNS INT DETERMINISTIC RETURN a + b",
            "CREATE PROCEDURE count_books() BEGIN SELECT count(*) FROM books; END",
            "CREATE EVENT tidy ON SCHEDULE EVERY 1 DAY DO DELETE FROM loans WHERE lent_year < 2000",
        ],
        _ => &[
            "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
            "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE, title TEXT NOT NULL DEFAULT 'untitled', pages INTEGER CHECK (pages > 0))",
            "CREATE INDEX books_title ON books (title)",
            "CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500",
            "CREATE TRIGGER books_pages AFTER INSERT ON books BEGIN UPDATE books SET pages = 1 WHERE id = NEW.id AND pages IS NULL; END",
            "CREATE TABLE shelves (id INTEGER PRIMARY KEY, label TEXT NOT NULL) STRICT",
            "CREATE TABLE tags (name TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID",
            "CREATE VIRTUAL TABLE book_text USING fts5(title, body)",
        ],
    }
}

/// Every configured database: `(kind, a fresh empty database's URL)` per call of
/// `fresh`, with SQLite files kept in `dir`.
fn kinds() -> Vec<&'static str> {
    let mut out = vec!["sqlite"];
    out.extend(common::servers().into_iter().map(|(k, _)| k));
    out
}

/// A fresh empty database of `kind`; SQLite's file goes into `dir`.
fn fresh(kind: &str, dir: &Path, tag: &str) -> String {
    if kind == "sqlite" {
        return format!("sqlite://{}/{tag}.db", dir.display());
    }
    let admin = common::servers()
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, u)| u)
        .expect("configured");
    common::fresh_database(kind, &admin, tag)
}

fn run(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.run(args);
    (out.status.code().unwrap_or(-1), common::transcript(p, &out))
}

#[test]
fn a_dumped_schema_round_trips_on_every_database() {
    let files = tempfile::tempdir().expect("temp dir");
    for kind in kinds() {
        let source = fresh(kind, files.path(), "dump_rt_src");
        exec(&source, &format!("{};", objects(kind).join(";\n")));
        // A folder without configuration: the URL alone says what to read.
        let reader = Project::with_url(source.clone());
        let to = reader.path().join("out");
        let to_arg = to.display().to_string();
        let split = kind != "sqlite";
        let mut args = vec!["schema", "dump", "--to", &to_arg];
        if split {
            args.push("--split");
        }
        reader.ok(&args);
        let written: Vec<_> = std::fs::read_dir(&to)
            .expect("folder")
            .map(|e| e.expect("entry").path())
            .collect();
        assert!(!written.is_empty(), "{kind}: nothing written");
        if split {
            assert!(written.len() > 2, "{kind}: {written:?}");
        }
        // Deterministic: a second dump writes the same files, and only with --force.
        let first = read_all(&to);
        let (code, out) = run(&reader, &args);
        assert_ne!(code, 0, "{kind}: {out}");
        assert!(out.contains("--force"), "{kind}: {out}");
        args.extend(["--force", "--json"]);
        let json = reader.ok(&args);
        assert_eq!(read_all(&to), first, "{kind}: a second dump differs");
        // `--json` lists the files written.
        for (name, _) in &first {
            assert!(json.contains(name.as_str()), "{kind}: {name} not in {json}");
        }
        assert!(json.contains("\"files\""), "{kind}: {json}");
        // The dump as the declared schema of a new project on an empty database.
        let target = fresh(kind, files.path(), "dump_rt_dst");
        let p = Project::with_url(target);
        p.ok(&["init", "migrations"]);
        with_schema_location(&p);
        copy_folder(&to, &p.path().join("schema"));
        p.ok(&["revision", "--autogenerate", "-m", "from dump"]);
        p.ok(&["upgrade", "head"]);
        let (code, out) = run(&p, &["check"]);
        assert_eq!(code, 0, "{kind}: {out}");
        // And the original database has the declared schema.
        let (code, out) = run(
            &p,
            &[
                "--database-url",
                &source,
                "diff",
                "--from",
                "database",
                "--to",
                "schema",
            ],
        );
        assert_eq!(code, 0, "{kind}: {out}");
        assert!(out.contains("No differences"), "{kind}: {out}");
    }
}

#[test]
fn a_dump_without_a_database_url_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(common::bin())
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args(["schema", "dump"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no database URL"), "{err}");
    assert!(!dir.path().join("schema").exists());
}

#[test]
fn init_from_database_takes_a_database_over() {
    let files = tempfile::tempdir().expect("temp dir");
    for kind in kinds() {
        let live = fresh(kind, files.path(), "dump_takeover");
        exec(&live, &format!("{};", objects(kind).join(";\n")));
        let p = Project::with_url(live.clone());
        let out = p.ok(&["init", "--from-database", &live, "migrations"]);
        let (_, all) = run(&p, &["heads"]);
        let baseline = all
            .lines()
            .find_map(|l| l.split_whitespace().next().filter(|w| w.len() == 12))
            .unwrap_or_else(|| panic!("{kind}: no baseline head: {all}\n{out}"))
            .to_string();
        assert!(p.path().join("schema/schema.sql").is_file(), "{kind}");
        // Not stamped: the database is left alone until the user says so.
        let (code, out) = run(&p, &["check"]);
        assert_ne!(code, 0, "{kind}: {out}");
        p.ok(&["stamp", &baseline]);
        let (code, out) = run(&p, &["check"]);
        assert_eq!(code, 0, "{kind}: {out}");
        // Carrying on: a declared change becomes a migration.
        let schema = p.path().join("schema/schema.sql");
        let mut text = std::fs::read_to_string(&schema).expect("schema");
        text.push_str("\nCREATE TABLE reviews (id INTEGER PRIMARY KEY, stars INTEGER NOT NULL);\n");
        std::fs::write(&schema, text).expect("write");
        p.ok(&["revision", "--autogenerate", "-m", "reviews"]);
        p.ok(&["upgrade", "head"]);
        let (code, out) = run(&p, &["check"]);
        assert_eq!(code, 0, "{kind}: {out}");
    }
}

/// The files of a folder by name, with their text.
fn read_all(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for (name, text) in read_all(from) {
        std::fs::write(to.join(name), text).expect("write");
    }
}
