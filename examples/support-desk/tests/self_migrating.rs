//! `support-desk migrate ...`, the service's own migration commands, run as a user runs
//! them: the built binary, in a copy of the project's source tree (its `migrate.toml`,
//! `migrations/` and `schema/`) or in an empty folder, on SQLite and on PostgreSQL and
//! MariaDB when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set.

use migrate_test_support::*;
use std::path::Path;
use std::process::Output;

const HEAD: &str = "c8d9e0f1a2b3";

/// A copy of the example's source tree: `migrate.toml`, `migrations/` and `schema/`.
fn source_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("migrate.toml"), dir.path().join("migrate.toml")).expect("copy");
    copy_dir(&root.join("migrations"), &dir.path().join("migrations"));
    copy_dir(&root.join("schema"), &dir.path().join("schema"));
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// `support-desk migrate ARGS` in `dir` on the database `url`.
fn app(dir: &Path, url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("MIGRATE_CACHE_DIR", dir.join(".cache"))
        .env_remove("VISUAL")
        .env_remove("EDITOR")
        .arg("migrate")
        .args(args)
        .output()
        .expect("run support-desk")
}

/// Exit code, stdout and stderr, with the folder and the URL filtered.
fn transcript(out: &Output, dir: &Path, url: &str) -> String {
    format!(
        "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .replace(url, "[URL]")
    .replace(&dir.display().to_string(), "[TEMP]")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Issue 20, item 4: in the source tree `check` reads `./migrate.toml` (as its `--help`
/// says), so its declared schema is there and a hand-made index is drift, exit 10,
/// without `-c`.
#[tokio::test]
async fn check_in_the_source_tree_reads_migrate_toml_and_reports_drift() {
    for t in databases("sdcheck").await {
        let tree = source_tree();
        let up = app(tree.path(), &t.url, &["upgrade", "head"]);
        assert!(up.status.success(), "{}: {}", t.name, stderr(&up));
        let clean = app(tree.path(), &t.url, &["check"]);
        assert_eq!(
            clean.status.code(),
            Some(0),
            "{}: {}",
            t.name,
            stderr(&clean)
        );
        assert!(
            String::from_utf8_lossy(&clean.stdout)
                .contains(&format!("Database is up to date at {HEAD}")),
            "{}",
            t.name
        );

        raw(&t.db, "CREATE INDEX hand_made ON tickets (title)").await;
        let drifted = app(tree.path(), &t.url, &["check"]);
        let err = stderr(&drifted);
        assert_eq!(drifted.status.code(), Some(10), "{}: {err}", t.name);
        assert!(
            err.contains("drifted") && err.contains("create index hand_made on tickets (title)"),
            "{}: {err}",
            t.name
        );
    }
}

/// The settings of `./migrate.toml` apply to the commands that run migrations too: its
/// `version_table` is the table `upgrade` writes and `current` reads.
#[tokio::test]
async fn the_configuration_names_the_version_table() {
    for t in databases("sdvt").await {
        let tree = source_tree();
        let config = tree.path().join("migrate.toml");
        let text = std::fs::read_to_string(&config).expect("read");
        std::fs::write(&config, format!("{text}version_table = \"desk_version\"\n"))
            .expect("write");
        let up = app(tree.path(), &t.url, &["upgrade", "head"]);
        assert!(up.status.success(), "{}: {}", t.name, stderr(&up));
        assert!(table_exists(&t.db, "desk_version").await, "{}", t.name);
        assert!(!table_exists(&t.db, "alembic_version").await, "{}", t.name);
        let current = app(tree.path(), &t.url, &["current"]);
        assert!(
            String::from_utf8_lossy(&current.stdout).contains(HEAD),
            "{}: {}",
            t.name,
            stderr(&current)
        );
    }
}

/// Issue 20, item 8: the example has a Rust migration, which the standalone command
/// cannot replay; the service's own `revision --autogenerate` replays it with the
/// embedded code, writes the revision into the folder `migrate.toml` names with
/// `migrations.sum` updated, verifies it, and says to rebuild. Until rebuilt, a second
/// autogenerate is refused: the binary does not embed what the folder holds.
#[test]
fn autogenerate_through_the_service_replays_its_rust_migration() {
    let tree = source_tree();
    let url = format!("sqlite://{}/desk.db", tree.path().display());
    std::fs::write(
        tree.path().join("schema/04_tags.sql"),
        "-- migrate:schema\nCREATE TABLE ticket_tags (\n    ticket_id INTEGER NOT NULL,\n    tag VARCHAR(50) NOT NULL\n);\n",
    )
    .expect("write schema");

    let ahead = app(tree.path(), &url, &["upgrade", "head"]);
    assert!(ahead.status.success(), "{}", stderr(&ahead));
    let missing = app(tree.path(), &url, &["check"]);
    assert_eq!(missing.status.code(), Some(11), "{}", stderr(&missing));

    let autogenerate = [
        "revision",
        "--autogenerate",
        "-m",
        "ticket tags",
        "--rev-id",
        "aa11bb22cc33",
    ];
    // The declared schema has PostgreSQL and MySQL sections: their DDL needs a scratch
    // database of each kind, which only `--also` can name.
    let refused = app(tree.path(), &url, &autogenerate);
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("add `--also postgres://USER@HOST/DB --also mysql://USER@HOST/DB`")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!tree
        .path()
        .join("migrations/aa11bb22cc33_ticket_tags.sql")
        .exists());
    let (Ok(postgres), Ok(mysql)) = (
        std::env::var("MIGRATE_TEST_POSTGRES_URL"),
        std::env::var("MIGRATE_TEST_MYSQL_URL"),
    ) else {
        // SQLite only (see the crate's tests): no server for the other sections.
        return;
    };
    let mut with_also = autogenerate.to_vec();
    with_also.extend(["--also", &postgres, "--also", &mysql]);
    let out = app(tree.path(), &url, &with_also);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Detected create table ticket_tags"), "{err}");
    assert!(err.contains("Verified on a scratch database"), "{err}");
    assert!(
        err.contains("Rebuild the application to embed the change")
            && err.contains("`support-desk migrate upgrade`"),
        "{err}"
    );
    let file = tree.path().join("migrations/aa11bb22cc33_ticket_tags.sql");
    let text = std::fs::read_to_string(&file).expect("revision written");
    assert!(text.contains("-- down_revision: c8d9e0f1a2b3"), "{text}");
    assert!(text.contains("CREATE TABLE ticket_tags"), "{text}");
    assert!(text.contains("DROP TABLE ticket_tags;"), "{text}");
    for section in ["postgres", "mysql"] {
        assert!(
            text.contains(&format!("-- migrate:upgrade {section}")),
            "{section}: {text}"
        );
    }
    let sum = std::fs::read_to_string(tree.path().join("migrations/migrations.sum")).expect("sum");
    let checksum = migrate_core::Checksum::of(text.as_bytes());
    assert!(
        sum.contains(&format!("{checksum}  aa11bb22cc33_ticket_tags.sql\n")),
        "{sum}"
    );

    let stale = app(
        tree.path(),
        &url,
        &["revision", "--autogenerate", "-m", "again"],
    );
    let err = stderr(&stale);
    assert_eq!(stale.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`aa11bb22cc33_ticket_tags.sql` is not embedded") && err.contains("rebuild"),
        "{err}"
    );
}

/// The file commands work on the folder in the source tree and say where to run them
/// elsewhere; `--help` lists them only where they work.
#[test]
fn file_commands_work_in_the_source_tree_only() {
    let tree = source_tree();
    let url = format!("sqlite://{}/desk.db", tree.path().display());
    let out = app(
        tree.path(),
        &url,
        &["revision", "-m", "notes", "--rev-id", "bb22"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(tree.path().join("migrations/bb22_notes.sql"))
        .expect("revision written");
    assert!(text.contains("-- down_revision: c8d9e0f1a2b3"), "{text}");
    let hash = app(tree.path(), &url, &["hash"]);
    assert!(hash.status.success(), "{}", stderr(&hash));
    assert!(
        String::from_utf8_lossy(&hash.stdout).contains("is up to date (14 migrations)"),
        "revision updated migrations.sum: {}",
        String::from_utf8_lossy(&hash.stdout)
    );
    let help = app(tree.path(), &url, &["--help"]);
    let listed = String::from_utf8_lossy(&help.stdout);
    for shown in ["revision", "merge", "hash", "diff", "test", "check"] {
        assert!(
            listed.contains(&format!("\n  {shown} ")),
            "{shown}:\n{listed}"
        );
    }
    assert!(!listed.contains("\n  init "), "{listed}");

    let elsewhere = tempfile::tempdir().expect("temp dir");
    let refused = app(elsewhere.path(), &url, &["revision", "-m", "x"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains(
            "run it in the project's source tree, where `migrate.toml` names the versions folder"
        ),
        "{}",
        stderr(&refused)
    );
}

/// Issue 20, item 11: the service's `migrate --help` is headed by the service, and its
/// hints name the command the user runs.
#[test]
fn help_and_hints_name_the_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/desk.db", dir.path().display());
    let mut log = String::new();
    for args in [
        &["-h"][..],
        &["--version"],
        &["ensure_version"],
        &["check"],
        &["check", "--json"],
        &["upgrade", "c8d9e0f1a2bX"],
    ] {
        let out = app(dir.path(), &url, args);
        log.push_str(&format!(
            "$ support-desk migrate {}\n{}\n",
            args.join(" "),
            transcript(&out, dir.path(), &url)
        ));
    }
    insta::assert_snapshot!("help_and_hints", log);
}

/// The service's own start-up errors name its commands too: a database at a revision
/// this build does not know suggests `support-desk migrate stamp --purge REV`.
#[tokio::test]
async fn start_up_errors_name_the_service_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/desk.db", dir.path().display());
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
            .current_dir(dir.path())
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "off")
            .arg("Printer on fire")
            .output()
            .expect("run support-desk")
    };
    let first = start();
    assert!(first.status.success(), "{}", stderr(&first));
    let db = migrate_runtime::Database::connect(&url)
        .await
        .expect("connect");
    raw(&db, "UPDATE alembic_version SET version_num = 'f00dfeed'").await;
    db.close().await;
    let refused = start();
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`support-desk migrate stamp --purge REV`") && !err.contains("`migrate stamp"),
        "{err}"
    );
}
