//! What a CI log sees when stderr is not a terminal: each step's line as the step
//! starts, a periodic line while a long step runs, and every started step on failure.

mod common;

use common::Project;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A statement that keeps SQLite busy for a second or more.
const SLOW: &str = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8000000) SELECT COUNT(*) FROM c;";

fn project_with(second_upgrade: &str) -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.fill("a1_", "CREATE TABLE one (id INTEGER);", "DROP TABLE one;");
    p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
    p.fill("b2_", second_upgrade, "");
    p.ok(&["revision", "-m", "three", "--rev-id", "c3"]);
    p.fill(
        "c3_",
        "CREATE TABLE three (id INTEGER);",
        "DROP TABLE three;",
    );
    p.ok(&["hash"]);
    p
}

#[test]
fn each_step_is_logged_as_it_starts_and_long_steps_report_they_still_run() {
    let p = project_with(SLOW);
    let mut child = p
        .cmd(&["upgrade", "head"])
        .env("MIGRATE_PROGRESS_INTERVAL", "0.3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = Vec::new();
    let mut b2_seen_while_running = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if line.starts_with("Running upgrade a1 -> b2") {
            // The line of the slow step arrives while the process is still working.
            b2_seen_while_running = child.try_wait().expect("wait").is_none();
        }
        lines.push(line);
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{lines:?}");
    assert!(b2_seen_while_running, "{lines:?}");
    let position = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:?}"))
    };
    let a1 = position("Running upgrade  -> a1, one");
    let b2 = position("Running upgrade a1 -> b2, two");
    let still = position("still running revision b2 (");
    let c3 = position("Running upgrade b2 -> c3, three");
    assert!(a1 < b2 && b2 < still && still < c3, "{lines:?}");
    assert!(started.elapsed() < Duration::from_secs(120));
}

#[test]
fn a_failing_run_has_logged_every_step_it_started() {
    let p = project_with("INSERT INTO no_such_table VALUES (1);");
    let out = p.run(&["upgrade", "head"]);
    assert_eq!(out.status.code().map(|c| c != 0), Some(true));
    let err = String::from_utf8_lossy(&out.stderr);
    let a1 = err.find("Running upgrade  -> a1, one").expect(&err);
    let b2 = err.find("Running upgrade a1 -> b2, two").expect(&err);
    let failure = err.find("error:").expect(&err);
    assert!(a1 < b2 && b2 < failure, "{err}");
    assert!(!err.contains("-> c3"), "{err}");
}

#[test]
fn verbose_lines_carry_timings_and_quiet_prints_nothing() {
    let p = project_with("CREATE TABLE two (id INTEGER);");
    let out = p.run(&["upgrade", "head", "-v"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let timed = err
        .lines()
        .filter(|l| l.starts_with("Running upgrade") && l.ends_with(" ms)"))
        .count();
    assert_eq!(timed, 3, "{err}");
    p.ok(&["-q", "downgrade", "-1"]);
    let out = p.run(&["-q", "upgrade", "head"]);
    assert!(out.status.success() && out.stderr.is_empty());
}
