//! Drives the real `migrate` binary in temporary folders. Listings and error messages
//! are snapshotted (exit code, stdout and stderr together); the Alembic workflow runs on
//! SQLite, and on PostgreSQL and MariaDB when their test URLs are set.

mod common;

use common::{filter_ids, servers, transcript, upgrade_counts, Project};

/// Runs commands and records a transcript of each.
struct Session<'a> {
    p: &'a Project,
    log: String,
}

impl<'a> Session<'a> {
    fn new(p: &'a Project) -> Self {
        Session {
            p,
            log: String::new(),
        }
    }

    fn run(&mut self, args: &[&str]) -> std::process::Output {
        let out = self.p.run(args);
        self.log.push_str(&format!(
            "$ migrate {}\n{}\n",
            args.join(" "),
            transcript(self.p, &out)
        ));
        out
    }

    fn ok(&mut self, args: &[&str]) {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "migrate {args:?} failed:\n{}",
            self.log
        );
    }
}

/// The issue's workflow: init → revision ×3 → a branch from base with a label → merge
/// heads → upgrade head → history -i → downgrade -1 → stamp → check. A revision on top
/// of the merge makes `downgrade -1` meaningful: from the merge point itself Alembic
/// (and migrate) refuse it as an ambiguous walk.
fn workflow(p: &Project) -> String {
    let mut s = Session::new(p);
    s.ok(&["init", "migrations"]);
    s.ok(&["revision", "-m", "create account", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name VARCHAR(50));",
        "DROP TABLE account;",
    );
    s.ok(&["revision", "-m", "add email", "--rev-id", "b2"]);
    p.fill(
        "b2_",
        "ALTER TABLE account ADD email VARCHAR(100);",
        "ALTER TABLE account DROP COLUMN email;",
    );
    s.ok(&["revision", "-m", "add audit", "--rev-id", "c3"]);
    p.fill(
        "c3_",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
        "DROP TABLE audit;",
    );
    s.ok(&[
        "revision",
        "-m",
        "reporting base",
        "--head",
        "base",
        "--branch-label",
        "reporting",
        "--rev-id",
        "r1",
    ]);
    p.fill(
        "r1_",
        "CREATE TABLE report (id INTEGER PRIMARY KEY);",
        "DROP TABLE report;",
    );
    s.ok(&["heads"]);
    let out = s.run(&["revision", "-m", "ambiguous"]);
    assert_eq!(out.status.code(), Some(7), "several heads");
    s.ok(&["merge", "-m", "merge heads", "heads", "--rev-id", "m1"]);
    let out = s.run(&["verify"]);
    assert_eq!(out.status.code(), Some(1), "edited files must not verify");
    s.ok(&["hash"]);
    s.ok(&["verify"]);
    s.ok(&["revision", "-m", "add settings", "--rev-id", "d4"]);
    p.fill(
        "d4_",
        "CREATE TABLE settings (id INTEGER PRIMARY KEY);",
        "DROP TABLE settings;",
    );
    s.ok(&["hash"]);
    s.ok(&["upgrade", "head"]);
    s.ok(&["history", "-i"]);
    s.ok(&["current"]);
    s.ok(&["downgrade", "-1"]);
    s.ok(&["current"]);
    s.ok(&["history", "-r", "base:current", "-i"]);
    // As in Alembic, a relative step down from a merge point is ambiguous.
    assert_eq!(s.run(&["downgrade", "-1"]).status.code(), Some(1));
    s.ok(&["downgrade", "reporting@base"]);
    s.ok(&["current"]);
    s.ok(&["stamp", "head"]);
    s.ok(&["check"]);
    s.ok(&["upgrade", "head"]);
    s.log
}

#[test]
fn workflow_sqlite() {
    let p = Project::sqlite();
    let log = workflow(&p);
    insta::assert_snapshot!("workflow", log);
}

#[test]
fn workflow_servers() {
    let reference = workflow(&Project::sqlite());
    for (kind, admin) in servers() {
        let url = common::fresh_database(kind, &admin, "flow");
        let log = workflow(&Project::with_url(url));
        assert_eq!(log, reference, "{kind} transcript differs from SQLite's");
    }
}

/// Alembic's own example graph (checked against `alembic` 1.x output): a branch point,
/// a splice, a labelled root and a three-way merge.
fn alembic_graph(p: &Project) {
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "create table t", "--rev-id", "a1"]);
    p.ok(&["revision", "-m", "second", "--rev-id", "b2"]);
    p.ok(&[
        "revision",
        "-m",
        "branch b",
        "--head",
        "base",
        "--branch-label",
        "other",
        "--rev-id",
        "c3",
    ]);
    p.ok(&["revision", "-m", "third", "--head", "b2", "--rev-id", "d4"]);
    p.ok(&[
        "revision", "-m", "side", "--head", "a1", "--splice", "--rev-id", "e5",
    ]);
}

#[test]
fn listings_have_alembic_shapes() {
    let p = Project::sqlite();
    alembic_graph(&p);
    // The lines alembic prints for the same graph.
    assert_eq!(
        p.ok(&["heads"]),
        "c3 (other) (head)\nd4 (head)\ne5 (head)\n"
    );
    p.ok(&["merge", "-m", "merge", "heads", "--rev-id", "f6"]);
    assert_eq!(
        p.ok(&["history"]),
        "c3, d4, e5 -> f6 (other) (head) (mergepoint), merge\n\
         <base> -> c3 (other), branch b\n\
         b2 -> d4, third\n\
         a1 -> b2, second\n\
         a1 -> e5, side\n\
         <base> -> a1 (branchpoint), create table t\n"
    );
    assert_eq!(p.ok(&["heads"]), "f6 (other) (head)\n");
    let mut s = Session::new(&p);
    for args in [
        &["history", "-v"][..],
        &["history", "-r", "a1:d4"],
        &["history", "-r", "b2:"],
        &["heads", "-v"],
        &["heads", "--resolve-dependencies"],
        &["branches"],
        &["branches", "-v"],
        &["show", "f6"],
        &["show", "a1"],
        &["upgrade", "e5"],
        &["current"],
        &["current", "-v"],
        &["history", "-i"],
        &["history", "-i", "-v", "-r", "a1:e5"],
        &["upgrade", "heads", "-v"],
        &["current", "--check-heads"],
        &["list_templates"],
    ] {
        s.ok(args);
    }
    insta::assert_snapshot!("listings", s.log);
}

#[test]
fn offline_sql() {
    let p = Project::sqlite();
    let mut s = Session::new(&p);
    s.ok(&["init", "migrations"]);
    s.ok(&["revision", "-m", "create account", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE account (id INTEGER PRIMARY KEY);",
        "DROP TABLE account;",
    );
    s.ok(&["revision", "-m", "add audit", "--rev-id", "b2"]);
    p.fill(
        "b2_",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY);",
        "DROP TABLE audit;",
    );
    s.ok(&["hash"]);
    s.ok(&["upgrade", "--sql", "base:head"]);
    s.ok(&["upgrade", "--sql", "a1:b2"]);
    s.ok(&["downgrade", "--sql", "b2:base"]);
    s.ok(&[
        "--database-url",
        "postgres://u:secret@localhost/db",
        "upgrade",
        "--sql",
        "head",
    ]);
    s.ok(&[
        "--database-url",
        "mysql://u:secret@localhost/db",
        "upgrade",
        "--sql",
        "head",
    ]);
    s.ok(&["stamp", "--sql", "head"]);
    s.ok(&["stamp", "--sql", "a1:b2"]);
    s.ok(&["ensure_version", "--sql"]);
    let quiet = p.run(&["-q", "upgrade", "--sql", "base:head"]);
    assert!(quiet.status.success() && quiet.stderr.is_empty());
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("-- Running upgrade a1 -> b2"));
    let purge = p.run(&["stamp", "--sql", "--purge", "head"]);
    assert_eq!(purge.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&purge.stderr).contains("--purge cannot be used with --sql"));
    assert!(
        !p.path().join("test.db").exists(),
        "offline commands must not touch the database"
    );
    insta::assert_snapshot!("offline_sql", s.log);
}

#[test]
fn upgrade_head_with_several_heads_fails_even_at_those_heads() {
    let p = Project::sqlite();
    let mut s = Session::new(&p);
    s.ok(&["init", "migrations"]);
    s.ok(&["revision", "-m", "a", "--rev-id", "a1"]);
    s.ok(&[
        "revision",
        "-m",
        "b",
        "--rev-id",
        "b1",
        "--head",
        "base",
        "--branch-label",
        "other",
    ]);
    s.ok(&["upgrade", "heads"]);
    let out = s.run(&["upgrade", "head"]);
    assert_eq!(out.status.code(), Some(7), "{}", s.log);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("multiple heads"), "{stderr}");
    s.ok(&["upgrade", "heads"]);
    s.ok(&["upgrade", "other@head"]);
    // Several heads fail `check` unless the configuration expects them.
    assert_eq!(s.run(&["check"]).status.code(), Some(7));
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("allow_multiple_heads = true\n{text}")).expect("write");
    s.ok(&["check"]);
}

#[test]
fn dependencies_are_listed_as_written_and_current_includes_them() {
    let p = Project::sqlite();
    let mut s = Session::new(&p);
    s.ok(&["init", "migrations"]);
    s.ok(&["revision", "-m", "a", "--rev-id", "a1"]);
    s.ok(&[
        "revision",
        "-m",
        "reports",
        "--rev-id",
        "r1",
        "--head",
        "base",
        "--branch-label",
        "reports",
    ]);
    s.ok(&[
        "revision",
        "-m",
        "b",
        "--rev-id",
        "b2",
        "--head",
        "a1",
        "--depends-on",
        "reports",
    ]);
    let stdout = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let history = stdout(s.run(&["history"]));
    assert!(
        history.contains("a1 (reports) -> b2 (head), b"),
        "{history}"
    );
    s.ok(&["upgrade", "b2"]);
    // The table holds b2 only; r1 is applied as its dependency, and listed as Alembic
    // lists it.
    let current = stdout(s.run(&["current"]));
    assert_eq!(current, "b2 (head)\nr1 (effective head)\n", "{}", s.log);
    let verbose = stdout(s.run(&["history", "-v", "-r", "b2:b2"]));
    assert!(verbose.contains("Also depends on: reports"), "{verbose}");
}

#[test]
fn errors() {
    let p = Project::sqlite();
    let mut s = Session::new(&p);
    // Before init.
    assert_eq!(s.run(&["heads"]).status.code(), Some(1));
    assert_eq!(s.run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(s.run(&["upgrade"]).status.code(), Some(2));
    s.ok(&["init", "migrations"]);
    assert_eq!(s.run(&["init", "migrations"]).status.code(), Some(1));
    assert_eq!(
        s.run(&["init", "other", "-t", "nope"]).status.code(),
        Some(1)
    );
    s.ok(&["revision", "-m", "create account", "--rev-id", "a1b2c3d4"]);
    s.ok(&["revision", "-m", "second", "--rev-id", "b2"]);
    for args in [
        &["revision", "-m", "dup", "--rev-id", "b2"][..],
        &["revision", "-m", "bad id", "--rev-id", "no-dashes"],
        &["revision", "-m", "not a head", "--head", "a1b2c3d4"],
        &[
            "revision",
            "-m",
            "label",
            "--branch-label",
            "x",
            "--head",
            "base",
            "--version-path",
            "/elsewhere",
        ],
        &["upgrade", "a1b2c3dX"],
        &["upgrade", "zzz"],
        &["upgrade", "nosuch@head"],
        &["history", "-r", "a1b2c3d4"],
        &["history", "-r", "b2:a1b2c3d4"],
        &["downgrade", "+1"],
        &["-n", "main", "heads"],
        &["merge", "-m", "m", "heads"],
        &["edit", "b2"],
        &["rebase", "b2", "--onto", "a1b2c3d4"],
        &[
            "--database-url",
            "postgres://admin:s3cret@127.0.0.1:1/app",
            "current",
        ],
        &["--database-url", "oracle://admin:s3cret@db/app", "current"],
        &[
            "--database-url",
            "oracle://admin:s3cret@db/app",
            "upgrade",
            "--sql",
            "head",
        ],
    ] {
        let out = s.run(args);
        // Exit code 3: the server cannot be reached.
        let expected = if args.contains(&"postgres://admin:s3cret@127.0.0.1:1/app") {
            3
        } else {
            1
        };
        assert_eq!(out.status.code(), Some(expected), "{args:?}\n{}", s.log);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("s3cret"), "password leaked: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("{ "),
            "{stderr}"
        );
    }
    assert_eq!(s.run(&["-x", "novalue", "heads"]).status.code(), Some(2));
    // A template field nobody set.
    let tmpl = p.path().join("migrations/script.sql.tmpl");
    let text = std::fs::read_to_string(&tmpl).expect("template");
    std::fs::write(
        &tmpl,
        text.replace("-- create_date", "-- author: ${author}\n-- create_date"),
    )
    .expect("write");
    assert_eq!(
        s.run(&["revision", "-m", "needs author"]).status.code(),
        Some(1)
    );
    s.ok(&[
        "revision",
        "-m",
        "with author",
        "-x",
        "author=ann",
        "--rev-id",
        "c3",
    ]);
    let c3 = common::find_file(&p.path().join("migrations"), "c3_").expect("c3");
    assert!(std::fs::read_to_string(c3)
        .expect("read")
        .contains("-- author: ann\n"));
    // Database states.
    s.ok(&["upgrade", "b2"]);
    assert_eq!(s.run(&["check"]).status.code(), Some(4), "behind");
    assert_eq!(s.run(&["current", "--check-heads"]).status.code(), Some(4));
    s.ok(&["upgrade", "head"]);
    let a1 = common::find_file(&p.path().join("migrations"), "a1b2c3d4_").expect("a1");
    let text = std::fs::read_to_string(&a1).expect("read");
    std::fs::write(
        &a1,
        text.replace("-- migrate:upgrade\n", "-- migrate:upgrade\nSELECT 1;\n"),
    )
    .expect("write");
    assert_eq!(
        s.run(&["upgrade", "head"]).status.code(),
        Some(1),
        "sum mismatch"
    );
    assert_eq!(s.run(&["verify"]).status.code(), Some(1));
    s.ok(&["hash"]);
    assert_eq!(
        s.run(&["upgrade", "head"]).status.code(),
        Some(6),
        "edited applied migration"
    );
    assert_eq!(s.run(&["check"]).status.code(), Some(6));
    s.ok(&["accept"]);
    s.ok(&["check"]);
    // A broken file: every problem listed.
    std::fs::write(
        p.path().join("migrations/zz_bad.sql"),
        "-- bad\n-- revision: zz\n-- down_revision: nope\n",
    )
    .expect("write");
    assert_eq!(s.run(&["verify"]).status.code(), Some(1));
    assert_eq!(s.run(&["heads"]).status.code(), Some(1));
    assert_eq!(s.run(&["--raiseerr", "heads"]).status.code(), Some(1));
    insta::assert_snapshot!("errors", s.log);
}

#[test]
fn rebase_moves_an_unapplied_branch() {
    let p = Project::sqlite();
    let mut s = Session::new(&p);
    s.ok(&["init", "migrations"]);
    s.ok(&["revision", "-m", "base table", "--rev-id", "a1"]);
    s.ok(&["upgrade", "head"]);
    // Two people add a migration on a1 in parallel branches.
    s.ok(&["revision", "-m", "mine", "--rev-id", "m1"]);
    s.ok(&["revision", "-m", "mine too", "--rev-id", "m2"]);
    s.ok(&[
        "revision", "-m", "theirs", "--head", "a1", "--splice", "--rev-id", "t1",
    ]);
    s.ok(&["heads"]);
    s.ok(&["upgrade", "t1"]);
    // t1 is applied: moving it is refused; moving m1..m2 onto t1 works.
    assert_eq!(
        s.run(&["rebase", "t1", "--onto", "m2"]).status.code(),
        Some(1)
    );
    s.ok(&["rebase", "m2", "--onto", "t1"]);
    s.ok(&["history"]);
    s.ok(&["verify"]);
    s.ok(&["upgrade", "head"]);
    s.ok(&["check"]);
    insta::assert_snapshot!("rebase", s.log);
}

#[test]
fn multidb_template_acts_on_each_section() {
    let p = Project::sqlite();
    let mut s = Session::new(&p);
    s.ok(&["init", "-t", "multidb", "dbs"]);
    s.ok(&[
        "-n", "main", "revision", "-m", "main one", "--rev-id", "ma1",
    ]);
    s.ok(&[
        "-n",
        "analytics",
        "revision",
        "-m",
        "events",
        "--rev-id",
        "an1",
    ]);
    assert_eq!(s.run(&["revision", "-m", "which"]).status.code(), Some(1));
    let mut c = p.cmd(&["upgrade", "head"]);
    c.env_remove("DATABASE_URL");
    let out = c.output().expect("run");
    assert!(out.status.success(), "{}", transcript(&p, &out));
    assert!(p.path().join("main.db").exists() && p.path().join("analytics.db").exists());
    let mut c = p.cmd(&["current"]);
    c.env_remove("DATABASE_URL");
    let out = c.output().expect("run");
    s.log.push_str(&transcript(&p, &out));
    s.ok(&["-n", "analytics", "heads"]);
    insta::assert_snapshot!("multidb", s.log);
}

#[test]
fn generated_ids_and_config() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let out = p.ok(&["revision", "-m", "Add ticket priority column!"]);
    let shown = filter_ids(&common::filter(&p, &out));
    assert_eq!(
        shown,
        "Generating migrations/[ID]_add_ticket_priority_column.sql ...  done\n"
    );
    // DATABASE_URL < --database-url; ${VAR:-default} in migrate.toml.
    std::fs::write(
        p.path().join("migrate.toml"),
        "script_location = \"migrations\"\ndatabase_url = \"${APP_DB:-sqlite://fromconfig.db}\"\n",
    )
    .expect("write");
    // `current` only reads: the databases must exist (it would not create them).
    for db in ["fromconfig.db", "fromenv.db", "cli.db"] {
        std::fs::File::create(p.path().join(db)).expect("create");
    }
    let mut c = p.cmd(&["current", "-v"]);
    c.env_remove("DATABASE_URL");
    let out = c.output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("for sqlite://fromconfig.db:"));
    let mut c = p.cmd(&["current", "-v"]);
    c.env_remove("DATABASE_URL")
        .env("APP_DB", "sqlite://fromenv.db");
    let out = c.output().expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("for sqlite://fromenv.db:"));
    let out = p.ok(&["--database-url", "sqlite://cli.db", "current", "-v"]);
    assert!(out.contains("for sqlite://cli.db:"));
    // Without any URL: an SQLite file beside the configuration.
    std::fs::write(
        p.path().join("migrate.toml"),
        "script_location = \"migrations\"\n",
    )
    .expect("write");
    let mut c = p.cmd(&["upgrade", "head"]);
    c.env_remove("DATABASE_URL");
    assert!(c.output().expect("run").status.success());
    assert!(p.path().join("migrate.db").exists());
    // -c elsewhere: paths are relative to the file.
    let sub = p.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let out = p
        .cmd(&["-c", "../migrate.toml", "heads"])
        .current_dir(&sub)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", transcript(&p, &out));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(" (head)\n"));
}

#[test]
fn edit_opens_the_editor() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    let out = p
        .cmd(&["edit", "a1"])
        .env("EDITOR", "echo editing")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(
        common::filter(&p, &String::from_utf8_lossy(&out.stdout)),
        "editing migrations/a1_one.sql\n"
    );
    let out = p
        .cmd(&["edit", "head"])
        .env("EDITOR", "false")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
}

/// Eight processes upgrade one database at once: each revision applied exactly once.
fn concurrent_upgrades(p: &Project) {
    p.ok(&["init", "migrations"]);
    for i in 0..12 {
        let id = format!("r{i:02}");
        p.ok(&["revision", "-m", &format!("table {i}"), "--rev-id", &id]);
        p.fill(
            &format!("{id}_"),
            &format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY);"),
            &format!("DROP TABLE t{i};"),
        );
    }
    p.ok(&["hash"]);
    let children: Vec<_> = (0..8)
        .map(|_| {
            p.cmd(&["-q", "upgrade", "head"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", transcript(p, &out));
    }
    let counts = upgrade_counts(&p.url);
    assert_eq!(counts.len(), 12, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
    p.ok(&["check"]);
}

#[test]
fn concurrent_upgrades_sqlite() {
    concurrent_upgrades(&Project::sqlite());
}

#[test]
fn concurrent_upgrades_servers() {
    for (kind, admin) in servers() {
        let url = common::fresh_database(kind, &admin, "conc");
        concurrent_upgrades(&Project::with_url(url));
    }
}

static EMBEDDED: std::sync::LazyLock<migrate_runtime::EmbeddedMigrations> =
    std::sync::LazyLock::new(|| {
        common::embedded(&[(
            "a1_account.sql",
            "a1",
            None,
            "create account",
            true,
            "account",
            0,
        )])
    });

#[test]
fn run_embedded_offers_the_same_commands() {
    let p = Project::sqlite();
    let code = |args: &[&str]| {
        let argv = std::iter::once("myapp")
            .chain(["--database-url", p.url.as_str()])
            .chain(args.iter().copied());
        format!("{:?}", migrate_cli::run_embedded(&EMBEDDED, argv))
    };
    let ok = format!("{:?}", std::process::ExitCode::SUCCESS);
    let failure = format!("{:?}", std::process::ExitCode::from(1));
    assert_eq!(code(&["upgrade", "head"]), ok);
    assert_eq!(code(&["check"]), ok);
    assert_eq!(code(&["history"]), ok);
    assert_eq!(
        code(&["revision", "-m", "x"]),
        failure,
        "editing commands need files"
    );
    assert_eq!(code(&["downgrade", "base"]), ok);
    assert_eq!(
        code(&["check"]),
        format!("{:?}", std::process::ExitCode::from(4))
    );
    assert_eq!(
        format!(
            "{:?}",
            migrate_cli::run_embedded(&EMBEDDED, ["myapp", "upgrade"])
        ),
        format!("{:?}", std::process::ExitCode::from(2))
    );
}

#[test]
fn history_from_current_with_several_current_heads() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "a", "--rev-id", "a1a1"]);
    p.ok(&["revision", "-m", "b", "--rev-id", "b2b2", "--head", "a1a1"]);
    p.ok(&[
        "revision", "-m", "c", "--rev-id", "c3c3", "--head", "a1a1", "--splice",
    ]);
    p.ok(&["revision", "-m", "d", "--rev-id", "d4d4", "--head", "b2b2"]);
    p.ok(&["upgrade", "b2b2"]);
    p.ok(&["upgrade", "c3c3"]);
    assert_eq!(p.ok(&["current"]).lines().count(), 2, "two current heads");
    let out = p.ok(&["history", "-r", "current:"]);
    let lines: Vec<&str> = out.lines().collect();
    // From the current heads (b2b2, c3c3) up to the heads: d4d4 and the two current ones.
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        out.contains("-> d4d4") && out.contains("-> b2b2") && out.contains("-> c3c3"),
        "{out}"
    );
    let pos = |r: &str| {
        lines
            .iter()
            .position(|l| l.contains(r))
            .unwrap_or(usize::MAX)
    };
    assert!(pos("-> d4d4") < pos("-> b2b2"), "newest first: {out}");
    assert!(!out.contains("-> a1a1"), "{out}");
    let err = p.run(&["history", "-r", "a1a1"]);
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("[start]:[end]"));
}
