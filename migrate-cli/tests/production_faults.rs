//! Production faults seen through the real binary: credentials in messages, table
//! names that would need quoting, and edited migrations on the way down.

mod common;

use common::Project;

fn stdout_and_stderr(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn no_credential_is_ever_printed() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    // Port 1 refuses connections at once, so every command fails while connecting and
    // prints the URL it tried.
    let urls = [
        "postgres://bob:SECRET@127.0.0.1:1/db",
        "postgres://bob@127.0.0.1:1/db?password=SECRET",
        "postgres://bob@127.0.0.1:1/db?sslmode=disable&sslpassword=SECRET",
        "postgres://bob:SE?CRET@127.0.0.1:1/db",
        "postgres://bob:SE/CRET@127.0.0.1:1/db",
        "mysql://bob:SE/C?RET@127.0.0.1:1/db",
        "bob:SECRET@127.0.0.1",
    ];
    for url in urls {
        for command in [&["current"][..], &["upgrade", "head"][..]] {
            let mut args = vec!["--database-url", url];
            args.extend_from_slice(command);
            let out = p.run(&args);
            assert!(!out.status.success(), "{url}: {command:?} succeeded");
            let text = stdout_and_stderr(&out);
            assert!(text.contains("error:"), "{url}: {text}");
            assert!(
                !text.contains("SECRET") && !text.contains("CRET"),
                "{url}: credential printed:\n{text}"
            );
            assert!(text.contains("***"), "{url}: no masked URL in\n{text}");
        }
    }
}

#[test]
fn version_table_needing_quotes_is_refused_with_its_name() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE account (id INTEGER);",
        "DROP TABLE account;",
    );
    p.ok(&["hash"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    for bad in ["order", "1abc"] {
        let changed = text.replace(
            "version_table = \"alembic_version\"",
            &format!("version_table = \"{bad}\""),
        );
        assert_ne!(
            changed, text,
            "the generated configuration names its version table"
        );
        std::fs::write(&config, changed).expect("write");
        for command in [&["upgrade", "head"][..], &["upgrade", "--sql", "head"][..]] {
            let out = p.run(command);
            assert_eq!(out.status.code(), Some(1), "{bad} {command:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("invalid table or schema name \"{bad}\"")),
                "{bad}: {err}"
            );
        }
    }
    std::fs::write(&config, text).expect("write");
    p.ok(&["upgrade", "head"]);
}

#[test]
fn downgrade_of_an_edited_migration_is_refused() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE account (id INTEGER);",
        "DROP TABLE account;",
    );
    p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
    p.fill(
        "b2_",
        "CREATE TABLE audit (id INTEGER);",
        "DROP TABLE audit;",
    );
    p.ok(&["hash"]);
    p.ok(&["upgrade", "head"]);
    let file = common::find_file(&p.path().join("migrations"), "b2_").expect("b2");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace("DROP TABLE audit;", "DROP TABLE account;"),
    )
    .expect("write");
    p.ok(&["hash"]);
    let out = p.run(&["downgrade", "-1"]);
    assert_eq!(out.status.code(), Some(6), "edited applied migration");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("edited since they ran") && err.contains("`b2`"),
        "{err}"
    );
    assert!(p.ok(&["current"]).contains("b2"));
    p.ok(&["accept"]);
    p.ok(&["downgrade", "-1"]);
    assert!(p.ok(&["current"]).contains("a1"));
}

#[test]
fn stamp_takes_options_after_the_revisions() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
    p.ok(&["hash"]);
    p.ok(&["stamp", "b2"]);
    p.ok(&["stamp", "a1", "--purge"]);
    assert!(p.ok(&["current"]).contains("a1"));
    let out = p.run(&["stamp", "b2", "--sql"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("INSERT INTO alembic_version"));
}

/// SQLite runs inline in the command line's main thread; Ctrl-C must still stop a
/// statement that never ends, and the database must roll it back.
#[test]
fn ctrl_c_interrupts_a_long_sqlite_statement_and_rolls_it_back() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "accounts", "--rev-id", "a1"]);
    p.fill(
        "a1_",
        "CREATE TABLE account (id INTEGER);",
        "DROP TABLE account;",
    );
    p.ok(&["revision", "-m", "endless", "--rev-id", "b2"]);
    p.fill(
        "b2_",
        "CREATE TABLE audit (id INTEGER);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT max(i) FROM c;",
        "DROP TABLE audit;",
    );
    let mut child = p
        .cmd(&["upgrade", "head"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run migrate");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut log = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("stderr line");
        let started_b2 = line.contains("Running upgrade a1 -> b2");
        log.push(line);
        if started_b2 {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let sent = Instant::now();
    // The statement never ends on its own: only the interrupt ends the process.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("Ctrl-C did not stop the run: {log:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    log.extend(lines.map(|l| l.expect("stderr line")));
    let text = log.join("\n");
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted by Ctrl-C"), "{text}");
    let current = p.ok(&["current"]);
    assert!(
        current.contains("a1") && !current.contains("b2"),
        "{current}"
    );
    assert_eq!(
        p.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit'"),
        0,
        "b2's table was rolled back"
    );
}
