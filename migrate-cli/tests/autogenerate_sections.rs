//! `revision --autogenerate` in a project on several databases (per-database sections
//! in its declared schema or its migrations), through the real binary: the target's DDL goes into its own section (never the shared one,
//! where another database would run it), every other database with a section gets its
//! own (SQLite's computed in memory, a server's on the `--also` URL), and without the
//! `--also` a server needs, nothing is written and the error says which to add. Server
//! tests run when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set.

mod common;

use common::{transcript, Project};

/// The same table in each database's own words.
const POSTGRES: &str = "\
-- migrate:schema postgres
CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL
);
";
const MYSQL: &str = "\
-- migrate:schema mysql
CREATE TABLE items (
    id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL
);
";
const SQLITE: &str = "\
-- migrate:schema sqlite
CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL
);
";
/// A single-database declared schema: shared SQL only.
const SHARED: &str = "\
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL
);
";

/// A project on `url` (`None`: an SQLite file in the project) whose declared schema is
/// `schema`.
fn project(url: Option<String>, schema: &str) -> Project {
    let p = url.map_or_else(Project::sqlite, Project::with_url);
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    std::fs::write(p.path().join("schema/items.sql"), schema).expect("write");
    p
}

fn sqlite_url(p: &Project, name: &str) -> String {
    format!("sqlite://{}/{name}", p.path().display())
}

/// `revision --autogenerate -m items --rev-id a1`, with `extra` arguments.
fn autogenerate(p: &Project, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "revision",
        "--autogenerate",
        "-m",
        "items",
        "--rev-id",
        "a1",
    ];
    args.extend_from_slice(extra);
    p.run(&args)
}

/// The written revision, its date filtered.
fn written(p: &Project) -> String {
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1 written");
    let text = std::fs::read_to_string(file).expect("read");
    text.lines()
        .map(|l| match l.strip_prefix("-- create_date: ") {
            Some(_) => "-- create_date: [DATE]",
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_nothing_written(p: &Project) {
    assert!(
        common::find_file(&p.path().join("migrations"), "a1_").is_none(),
        "a revision was written"
    );
    let sum =
        std::fs::read_to_string(p.path().join("migrations/migrations.sum")).unwrap_or_default();
    assert!(!sum.contains("a1_"), "{sum}");
}

/// The case: PostgreSQL's DDL (`serial`) went into the shared section, which
/// SQLite then ran. Now it goes into `-- migrate:upgrade postgres`, and SQLite's section
/// is computed in memory without any `--also`; both databases upgrade and check clean.
#[test]
fn postgres_target_writes_its_own_section_and_sqlites() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let url = common::fresh_database("postgres", &admin, "autosec");
    let p = project(Some(url), &format!("{POSTGRES}\n{SQLITE}"));
    let out = autogenerate(&p, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&p, &out));
    let text = written(&p);
    assert!(!text.contains("-- migrate:upgrade\n"), "{text}");
    insta::assert_snapshot!("postgres_and_sqlite_sections", text);
    p.ok(&["upgrade", "head"]);
    p.ok(&["check"]);
    let sqlite = sqlite_url(&p, "dev.db");
    p.ok(&["--database-url", &sqlite, "upgrade", "head"]);
    p.ok(&["--database-url", &sqlite, "check"]);
}

/// MariaDB as the target, with a PostgreSQL section too: without `--also postgres://`
/// nothing is written and the error says so; with it, each database gets its section.
#[test]
fn mysql_target_needs_also_for_the_postgres_section() {
    let (Ok(mysql_admin), Ok(postgres_admin)) = (
        std::env::var("MIGRATE_TEST_MYSQL_URL"),
        std::env::var("MIGRATE_TEST_POSTGRES_URL"),
    ) else {
        return;
    };
    let url = common::fresh_database("mysql", &mysql_admin, "autosec");
    let p = project(Some(url), &format!("{MYSQL}\n{POSTGRES}\n{SQLITE}"));
    let out = autogenerate(&p, &[]);
    insta::assert_snapshot!("mysql_target_without_also", transcript(&p, &out));
    assert_nothing_written(&p);

    let out = autogenerate(&p, &["--also", &postgres_admin]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&p, &out));
    let text = written(&p);
    assert!(!text.contains("-- migrate:upgrade\n"), "{text}");
    insta::assert_snapshot!("mysql_postgres_and_sqlite_sections", text);
    p.ok(&["upgrade", "head"]);
    p.ok(&["check"]);
    let pg = common::fresh_database("postgres", &postgres_admin, "autosec_pg");
    p.ok(&["--database-url", &pg, "upgrade", "head"]);
    p.ok(&["--database-url", &pg, "check"]);
}

/// SQLite as the target with two servers' sections: the error names both `--also` to add,
/// before any scratch database is made or anything written. Runs without servers.
#[test]
fn sqlite_target_with_a_server_section_says_which_also_is_needed() {
    let p = project(None, &format!("{SQLITE}\n{POSTGRES}\n{MYSQL}"));
    let out = autogenerate(&p, &[]);
    insta::assert_snapshot!("sqlite_target_without_also", transcript(&p, &out));
    assert_nothing_written(&p);
}

/// A declared schema without per-database sections is written as before, into the
/// shared sections, on each database.
#[test]
fn a_single_database_schema_keeps_the_shared_sections() {
    let mut targets = vec![("sqlite", None)];
    for (kind, admin) in common::servers() {
        targets.push((
            kind,
            Some(common::fresh_database(kind, &admin, "autosec_one")),
        ));
    }
    for (kind, url) in targets {
        let p = project(url, SHARED);
        let out = autogenerate(&p, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{kind}: {}",
            transcript(&p, &out)
        );
        let text = written(&p);
        assert!(
            text.contains("\n-- migrate:upgrade\nCREATE TABLE items"),
            "{kind}: {text}"
        );
        assert!(!text.contains("-- migrate:upgrade "), "{kind}: {text}");
    }
}

/// A first revision written per database, as a project on PostgreSQL and SQLite has.
const PER_DATABASE_MIGRATION: &str = "\
-- revision: a0
-- down_revision:

-- migrate:upgrade postgres
CREATE TABLE owners (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);

-- migrate:downgrade postgres
DROP TABLE owners;

-- migrate:upgrade sqlite
CREATE TABLE owners (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);

-- migrate:downgrade sqlite
DROP TABLE owners;
";

/// Shared declared SQL that both databases load.
const OWNERS_AND_PETS: &str = "\
CREATE TABLE owners (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE pets (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL);
";

/// `project` with [`PER_DATABASE_MIGRATION`] in its versions folder.
fn project_on_several_databases(url: Option<String>) -> Project {
    let p = project(url, OWNERS_AND_PETS);
    std::fs::write(
        p.path().join("migrations/a0_owners.sql"),
        PER_DATABASE_MIGRATION,
    )
    .expect("write");
    p.ok(&["hash"]);
    p
}

/// A declared schema without sections, in a project whose migrations have them: the
/// project runs on several databases, so the new revision is written per database too.
#[test]
fn migrations_with_sections_make_the_revision_per_database() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let url = common::fresh_database("postgres", &admin, "autosec_mig");
    let p = project_on_several_databases(Some(url));
    let out = autogenerate(&p, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&p, &out));
    let text = written(&p);
    insta::assert_snapshot!("sections_from_the_migrations", text);
    p.ok(&["upgrade", "head"]);
    p.ok(&["check"]);
    let sqlite = sqlite_url(&p, "dev.db");
    p.ok(&["--database-url", &sqlite, "upgrade", "head"]);
    p.ok(&["--database-url", &sqlite, "check"]);
}

/// On SQLite, the migrations' PostgreSQL sections call for `--also postgres://`; the
/// error names the migration. Runs without servers.
#[test]
fn sqlite_target_with_postgres_migrations_says_which_also_is_needed() {
    let p = project_on_several_databases(None);
    let out = autogenerate(&p, &[]);
    insta::assert_snapshot!("sqlite_target_postgres_migrations", transcript(&p, &out));
    assert_nothing_written(&p);
}
