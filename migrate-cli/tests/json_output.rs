//! `--format json` / `--json` and `pending`, through the real binary: every document
//! parses, holds what the text says, and failing checks still print theirs.

mod common;

use common::{transcript, Project};
use serde_json::Value;

/// Runs the binary; returns the exit code, stdout parsed as one JSON document, and
/// stderr. Fails the test when stdout is not exactly one document.
fn json(p: &Project, args: &[&str]) -> (i32, Value, String) {
    let out = p.run(args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "migrate {args:?}: stdout is not JSON ({e}):\n{}",
            transcript(p, &out)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary, asserts success, returns the document.
fn ok_json(p: &Project, args: &[&str]) -> Value {
    let (code, doc, err) = json(p, args);
    assert_eq!(code, 0, "migrate {args:?}: {err}");
    doc
}

/// The `revision` fields of a list of revision objects or steps.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|r| match r {
            Value::String(s) => s.clone(),
            other => other["revision"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    ids(v)
}

/// A new revision `id` with `args` (e.g. `--head`), filled with a table of its own.
fn add(p: &Project, id: &str, message: &str, args: &[&str]) {
    let mut all = vec!["revision", "-m", message, "--rev-id", id];
    all.extend_from_slice(args);
    p.ok(&all);
    p.fill(
        &format!("{id}_"),
        &format!("CREATE TABLE t_{id} (id INTEGER);"),
        &format!("DROP TABLE t_{id};"),
    );
}

/// `a1 → b2 → c3`, hashed.
fn linear() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    add(&p, "a1", "one", &[]);
    add(&p, "b2", "two", &[]);
    add(&p, "c3", "three", &[]);
    p.ok(&["hash"]);
    p
}

#[test]
fn listings_hold_the_revisions() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    add(&p, "a1", "one", &[]);
    add(&p, "b2", "two", &[]);
    add(&p, "z0", "lookup", &["--head", "base"]);
    add(
        &p,
        "c3",
        "three",
        &[
            "--head",
            "a1",
            "--splice",
            "--branch-label",
            "feat",
            "--depends-on",
            "z0",
        ],
    );
    p.ok(&["merge", "-m", "join", "--rev-id", "d4", "b2", "c3"]);
    p.ok(&["hash"]);

    // `z0` is a head that `d4` depends on (through `c3`).
    let heads = ok_json(&p, &["heads", "--json"]);
    assert_eq!(heads["section"], Value::Null);
    let mut listed = ids(&heads["heads"]);
    listed.sort();
    assert_eq!(listed, ["d4", "z0"]);
    let heads = ok_json(&p, &["heads", "--resolve-dependencies", "--json"]);
    assert_eq!(ids(&heads["heads"]), ["d4"]);
    let d4 = &heads["heads"][0];
    assert_eq!(strings(&d4["down_revisions"]), ["b2", "c3"]);
    assert_eq!(d4["message"], "join");
    assert_eq!(d4["is_head"], true);
    assert_eq!(d4["is_merge_point"], true);
    assert_eq!(d4["is_branch_point"], false);
    assert!(d4.get("current").is_none(), "no database read: {d4}");
    assert!(
        d4["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("d4_join.sql"),
        "{d4}"
    );

    let show = ok_json(&p, &["show", "c3", "--format", "json"]);
    let c3 = &show["revisions"][0];
    assert_eq!(ids(&show["revisions"]), ["c3"]);
    assert_eq!(strings(&c3["branch_labels"]), ["feat"]);
    assert_eq!(strings(&c3["depends_on"]), ["z0"]);
    assert_eq!(strings(&c3["down_revisions"]), ["a1"]);
    assert_eq!(c3["message"], "three");
    assert_eq!(c3["is_head"], false);

    // The same revisions, in the same order, as the text listing.
    let history = ok_json(&p, &["history", "--json"]);
    let text = p.ok(&["history"]);
    let listed: Vec<String> = ids(&history["revisions"]);
    assert_eq!(listed.len(), text.lines().count(), "{text}");
    for (line, id) in text.lines().zip(&listed) {
        assert!(line.contains(&format!("-> {id}")), "{line} / {id}");
    }
    let a1 = &history["revisions"][listed.len() - 1];
    assert_eq!(a1["revision"], "a1");
    assert_eq!(a1["is_branch_point"], true);
    assert_eq!(strings(&a1["down_revisions"]), Vec::<String>::new());

    // The database: `current`, and `history -i` marks it.
    p.ok(&["upgrade", "b2"]);
    let current = ok_json(&p, &["current", "--json"]);
    assert_eq!(current["database"], p.url.as_str());
    assert_eq!(ids(&current["current"]), ["b2"]);
    assert_eq!(current["current"][0]["message"], "two");
    let marked = ok_json(&p, &["history", "-i", "--json"]);
    for r in marked["revisions"].as_array().expect("list") {
        assert_eq!(r["current"], r["revision"] == "b2", "{r}");
    }
    let ranged = ok_json(&p, &["history", "-r", "a1:b2", "--json"]);
    assert_eq!(ids(&ranged["revisions"]), ["b2", "a1"]);
    let shown = ok_json(&p, &["show", "current", "--json"]);
    assert_eq!(ids(&shown["revisions"]), ["b2"]);
    // `-v` changes the text only.
    assert_eq!(ok_json(&p, &["current", "-v", "--json"]), current);
}

#[test]
fn format_options() {
    let p = linear();
    let long = p.ok(&["heads", "--format", "json"]);
    assert_eq!(p.ok(&["heads", "--json"]), long);
    assert_eq!(p.ok(&["heads", "--format", "text"]), p.ok(&["heads"]));
    assert_eq!(p.ok(&["heads"]), "c3 (head)\n");
    for args in [
        &["heads", "--json", "--format", "text"][..],
        &["heads", "--format", "yaml"][..],
        &["upgrade", "head", "--json"][..],
        &["--json", "heads"][..],
    ] {
        let out = p.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            transcript(&p, &out)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Help lists the option and the command.
    let help = p.ok(&["--help"]);
    assert!(help.contains("pending"), "{help}");
    let help = p.ok(&["check", "--help"]);
    assert!(
        help.contains("--json") && help.contains("--format"),
        "{help}"
    );
}

#[test]
fn pending_lists_exactly_the_unapplied_steps() {
    let p = linear();
    // `pending` only reads: a missing SQLite file is an error, as for `current`.
    let out = p.run(&["pending", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", transcript(&p, &out));
    assert!(out.stdout.is_empty());
    p.ok(&["ensure_version"]);
    let fresh = ok_json(&p, &["pending", "--json"]);
    assert_eq!(fresh["target"], "head");
    assert_eq!(fresh["database"], p.url.as_str());
    assert_eq!(strings(&fresh["current"]), Vec::<String>::new());
    assert_eq!(ids(&fresh["steps"]), ["a1", "b2", "c3"]);
    let first = &fresh["steps"][0];
    assert_eq!(first["direction"], "upgrade");
    assert_eq!(strings(&first["from"]), Vec::<String>::new());
    assert_eq!(strings(&first["to"]), ["a1"]);
    assert_eq!(first["message"], "one");
    assert_eq!(first["transactional"], true);
    assert_eq!(
        p.ok(&["pending"]),
        "upgrade  -> a1, one\nupgrade a1 -> b2, two\nupgrade b2 -> c3, three\n"
    );

    // Not the current revision, which `history -r current:head` includes.
    p.ok(&["upgrade", "a1"]);
    let history = p.ok(&["history", "-r", "current:head"]);
    assert!(history.contains("-> a1"), "{history}");
    let doc = ok_json(&p, &["pending", "--json"]);
    assert_eq!(strings(&doc["current"]), ["a1"]);
    assert_eq!(ids(&doc["steps"]), ["b2", "c3"]);
    assert_eq!(strings(&doc["steps"][0]["from"]), ["a1"]);
    assert_eq!(strings(&doc["steps"][0]["to"]), ["b2"]);
    // Nothing was run.
    assert_eq!(ids(&ok_json(&p, &["current", "--json"])["current"]), ["a1"]);
    // Other targets, as `upgrade` takes them.
    assert_eq!(
        ids(&ok_json(&p, &["pending", "b2", "--json"])["steps"]),
        ["b2"]
    );
    assert_eq!(
        ids(&ok_json(&p, &["pending", "+1", "--json"])["steps"]),
        ["b2"]
    );
    assert_eq!(
        ok_json(&p, &["pending", "heads", "--json"])["steps"],
        doc["steps"]
    );

    // At head: an empty list, an empty listing, and a note on stderr unless -q.
    p.ok(&["upgrade", "head"]);
    let doc = ok_json(&p, &["pending", "--json"]);
    assert_eq!(doc["steps"], serde_json::json!([]));
    assert_eq!(strings(&doc["current"]), ["c3"]);
    let out = p.run(&["pending"]);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        transcript(&p, &out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "no migrations pending\n"
    );
    assert!(p.run(&["-q", "pending"]).stderr.is_empty());

    // A target below the database is nothing to upgrade.
    assert_eq!(
        ok_json(&p, &["pending", "a1", "--json"])["steps"],
        serde_json::json!([])
    );
}

#[test]
fn pending_follows_branches() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    add(&p, "a1", "one", &[]);
    add(&p, "b2", "two", &[]);
    add(
        &p,
        "c3",
        "three",
        &["--head", "a1", "--splice", "--branch-label", "feat"],
    );
    add(&p, "d4", "four", &["--head", "c3"]);
    // d4 runs outside a transaction.
    let d4 = common::find_file(&p.path().join("migrations"), "d4_").expect("d4");
    let text = std::fs::read_to_string(&d4).expect("read");
    std::fs::write(
        &d4,
        text.replace(
            "-- revision: d4\n",
            "-- revision: d4\n-- transactional: false\n",
        ),
    )
    .expect("write");
    p.ok(&["hash"]);
    p.ok(&["upgrade", "b2"]);

    // Only the other branch, whose steps start at the branch point.
    let doc = ok_json(&p, &["pending", "heads", "--json"]);
    assert_eq!(ids(&doc["steps"]), ["c3", "d4"]);
    assert_eq!(strings(&doc["steps"][0]["from"]), ["a1"]);
    assert_eq!(doc["steps"][0]["transactional"], true);
    assert_eq!(doc["steps"][1]["transactional"], false);
    assert_eq!(
        ok_json(&p, &["pending", "feat@head", "--json"])["steps"],
        doc["steps"]
    );
    assert_eq!(
        ids(&ok_json(&p, &["pending", "c3", "--json"])["steps"]),
        ["c3"]
    );
    // `head` with two heads fails as `upgrade head` does.
    let out = p.run(&["pending", "--json"]);
    assert_eq!(out.status.code(), Some(7), "{}", transcript(&p, &out));
    assert!(out.stdout.is_empty());
    assert_eq!(p.run(&["upgrade", "head"]).status.code(), Some(7));

    // `pending` names exactly what `upgrade heads` then runs.
    let out = p.run(&["upgrade", "heads"]);
    assert!(out.status.success(), "{}", transcript(&p, &out));
    let ran: Vec<&str> = std::str::from_utf8(&out.stderr)
        .expect("utf-8")
        .lines()
        .filter(|l| l.starts_with("Running upgrade"))
        .collect();
    assert_eq!(
        ran,
        [
            "Running upgrade a1 -> c3, three",
            "Running upgrade c3 -> d4, four"
        ]
    );
    let doc = ok_json(&p, &["pending", "heads", "--json"]);
    assert_eq!(doc["steps"], serde_json::json!([]));
    assert_eq!(strings(&doc["current"]), ["b2", "d4"]);
}

#[test]
fn pending_at_an_unknown_revision_fails_as_upgrade_does() {
    let p = linear();
    p.ok(&["upgrade", "head"]);
    let c3 = common::find_file(&p.path().join("migrations"), "c3_").expect("c3");
    std::fs::remove_file(c3).expect("remove");
    p.ok(&["hash"]);
    for args in [&["pending", "--json"][..], &["pending"][..]] {
        let out = p.run(args);
        assert_eq!(out.status.code(), Some(5), "{}", transcript(&p, &out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// What a CI step does: run `check --json`, parse stdout whatever the exit code, and
/// act on the problems' kinds.
#[test]
fn check_json_in_a_ci_script() {
    let p = linear();
    p.ok(&["upgrade", "head"]);
    let (code, doc, err) = json(&p, &["check", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["ok"], true);
    assert_eq!(strings(&doc["current"]), ["c3"]);
    assert_eq!(strings(&doc["heads"]), ["c3"]);
    assert_eq!(doc["problems"], serde_json::json!([]));
    assert_eq!(doc["database"], p.url.as_str());
    assert!(err.is_empty(), "{err}");

    // Behind, with an applied migration edited (and re-hashed).
    p.ok(&["stamp", "a1"]);
    let a1 = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let text = std::fs::read_to_string(&a1).expect("read");
    std::fs::write(&a1, text.replace("CREATE TABLE t_a1", "CREATE TABLE t_uno")).expect("write");
    p.ok(&["hash"]);
    let (code, doc, err) = json(&p, &["check", "--json"]);
    let text = p.run(&["check"]);
    assert_eq!(Some(code), text.status.code(), "same code as the text");
    assert_eq!(code, 6, "the first problem's code (edited): {err}");
    assert!(err.starts_with("error: 2 problems found"), "{err}");
    assert_eq!(doc["ok"], false);
    assert_eq!(strings(&doc["current"]), ["a1"]);
    let problems = doc["problems"].as_array().expect("problems");
    let kinds: Vec<&str> = problems.iter().filter_map(|p| p["kind"].as_str()).collect();
    assert_eq!(kinds, ["edited", "behind"]);
    assert_eq!(strings(&problems[0]["revisions"]), ["a1"]);
    assert!(
        problems[0]["paths"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("a1_"),
        "{}",
        problems[0]
    );
    assert!(problems[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("edited"));
    // `behind` names what `upgrade heads` would run.
    assert_eq!(strings(&problems[1]["revisions"]), ["b2", "c3"]);

    // A sum mismatch comes first, one problem per file.
    std::fs::write(
        &a1,
        std::fs::read_to_string(&a1).expect("read") + "-- more\n",
    )
    .expect("write");
    let (code, doc, _) = json(&p, &["check", "--json"]);
    assert_eq!(code, 1);
    let kinds: Vec<&str> = doc["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["sum_mismatch", "edited", "behind"]);
    assert!(doc["problems"][0]["paths"][0]
        .as_str()
        .unwrap_or_default()
        .starts_with("a1_"));
    p.ok(&["hash"]);
    p.ok(&["accept"]);

    // A database at a revision the folder does not have.
    p.ok(&["stamp", "c3"]);
    add(&p, "d4", "four", &[]);
    p.ok(&["hash"]);
    p.ok(&["upgrade", "head"]);
    let d4 = common::find_file(&p.path().join("migrations"), "d4_").expect("d4");
    std::fs::remove_file(d4).expect("remove");
    p.ok(&["hash"]);
    let (code, doc, _) = json(&p, &["check", "--json"]);
    assert_eq!(code, 5);
    assert_eq!(doc["problems"][0]["kind"], "unknown_revision");
    assert_eq!(strings(&doc["problems"][0]["revisions"]), ["d4"]);
}

#[test]
fn check_json_when_the_database_cannot_be_reached() {
    let p = linear();
    let url = "postgres://app:s3cret@127.0.0.1:1/app";
    let (code, doc, err) = json(&p, &["--database-url", url, "check", "--json"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["database"], "postgres://app:***@127.0.0.1:1/app");
    assert_eq!(doc["problems"][0]["kind"], "connect");
    assert!(!doc.to_string().contains("s3cret"), "{doc}");
    // Listings print no document when they fail.
    let out = p.run(&["--database-url", url, "current", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
}

#[test]
fn verify_json() {
    let p = linear();
    let doc = ok_json(&p, &["verify", "--json"]);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["migrations"], 3);
    assert_eq!(strings(&doc["heads"]), ["c3"]);
    assert_eq!(doc["problems"], serde_json::json!([]));

    // A file that changed since `migrations.sum` was written.
    let b2 = common::find_file(&p.path().join("migrations"), "b2_").expect("b2");
    let text = std::fs::read_to_string(&b2).expect("read");
    std::fs::write(&b2, format!("{text}-- edited\n")).expect("write");
    let (code, doc, err) = json(&p, &["verify", "--json"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: 1 problem found"), "{err}");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["problems"][0]["kind"], "sum_mismatch");
    assert!(doc["problems"][0]["paths"][0]
        .as_str()
        .unwrap_or_default()
        .starts_with("b2_"));

    // A file that does not parse.
    std::fs::write(&b2, "-- broken\n-- revision: b2\n").expect("write");
    p.ok(&["hash"]);
    let (code, doc, _) = json(&p, &["verify", "--json"]);
    assert_eq!(code, 1);
    assert_eq!(doc["problems"][0]["kind"], "invalid_migration");
    assert_eq!(doc["heads"], serde_json::json!([]));
    assert_eq!(doc["migrations"], 3);
    std::fs::write(&b2, text).expect("write");

    // Two heads where one is required: exit 7, as in text.
    add(&p, "x9", "other", &["--head", "b2", "--splice"]);
    p.ok(&["hash"]);
    let (code, doc, _) = json(&p, &["verify", "--json"]);
    assert_eq!(code, 7);
    assert_eq!(doc["problems"][0]["kind"], "several_heads");
    assert_eq!(strings(&doc["heads"]), ["c3", "x9"]);
    assert_eq!(strings(&doc["problems"][0]["revisions"]), ["c3", "x9"]);
}

#[test]
fn several_sections_give_an_array() {
    let p = common::multidb_project();
    let run = |args: &[&str]| {
        let mut c = p.cmd(args);
        c.env_remove("DATABASE_URL");
        let out = c.output().expect("run");
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?} ({e}): {}", transcript(&p, &out)));
        (out.status.code(), doc)
    };
    let mut c = p.cmd(&["ensure_version"]);
    c.env_remove("DATABASE_URL");
    assert!(c.output().expect("run").status.success());
    let (code, pending) = run(&["pending", "--json"]);
    assert_eq!(code, Some(0));
    let sections: Vec<&str> = pending
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|d| d["section"].as_str())
        .collect();
    assert_eq!(sections, ["main", "analytics"]);
    assert_eq!(ids(&pending[0]["steps"]), ["ma1"]);
    assert_eq!(ids(&pending[1]["steps"]), ["an1"]);
    assert!(pending[0]["database"]
        .as_str()
        .unwrap_or_default()
        .ends_with("main.db"));

    // Every section checked and printed; the exit code is the first failing one's.
    let mut c = p.cmd(&["-n", "main", "upgrade", "head"]);
    c.env_remove("DATABASE_URL");
    assert!(c.output().expect("run").status.success());
    let (code, check) = run(&["check", "--json"]);
    assert_eq!(code, Some(4));
    assert_eq!(check[0]["ok"], true);
    assert_eq!(check[1]["ok"], false);
    assert_eq!(check[1]["problems"][0]["kind"], "behind");
    let (code, heads) = run(&["heads", "--json"]);
    assert_eq!(code, Some(0));
    assert_eq!(ids(&heads[1]["heads"]), ["an1"]);
    // One section: one object.
    let (_, one) = run(&["-n", "analytics", "heads", "--json"]);
    assert_eq!(one["section"], "analytics");
    assert_eq!(ids(&one["heads"]), ["an1"]);
    let (_, verify) = run(&["verify", "--json"]);
    assert_eq!(verify.as_array().map(Vec::len), Some(2));
}

#[test]
fn pending_and_check_on_servers() {
    for (kind, admin) in common::servers() {
        let url = common::fresh_database(kind, &admin, "json");
        let p = Project::with_url(url);
        p.ok(&["init", "migrations"]);
        add(&p, "a1", "one", &[]);
        add(&p, "b2", "two", &[]);
        p.ok(&["hash"]);
        p.ok(&["upgrade", "a1"]);
        let doc = ok_json(&p, &["pending", "--json"]);
        assert_eq!(ids(&doc["steps"]), ["b2"], "{kind}");
        let (code, doc, _) = json(&p, &["check", "--json"]);
        assert_eq!(code, 4, "{kind}");
        assert_eq!(doc["problems"][0]["kind"], "behind", "{kind}");
        assert!(!doc["database"].as_str().unwrap_or_default().is_empty());
        p.ok(&["upgrade", "head"]);
        assert_eq!(
            ok_json(&p, &["pending", "--json"])["steps"],
            serde_json::json!([])
        );
        assert_eq!(ok_json(&p, &["check", "--json"])["ok"], true, "{kind}");
    }
}

// ---- embedded migrations -----------------------------------------------------------

static EMBEDDED: std::sync::LazyLock<migrate_runtime::EmbeddedMigrations> =
    std::sync::LazyLock::new(|| {
        common::embedded(&[
            (
                "a1_account.sql",
                "a1",
                None,
                "create account",
                true,
                "account",
                0,
            ),
            (
                "b2_ticket.sql",
                "b2",
                Some("a1"),
                "create ticket",
                false,
                "ticket",
                1,
            ),
        ])
    });

/// Set (to the arguments, separated by newlines) when this test binary is re-run as a
/// self-migrating application.
const CHILD: &str = "MIGRATE_JSON_TEST_EMBEDDED_ARGS";
/// Printed by the child before the command's output (the test harness prints first).
const MARKER: &str = "--- run_embedded ---\n";

/// The child side: `myapp migrate ...` through `run_embedded`, exiting with its code.
#[test]
fn embedded_child() {
    let Ok(args) = std::env::var(CHILD) else {
        return;
    };
    use std::io::Write as _;
    let mut out = std::io::stdout();
    let _ = out.write_all(MARKER.as_bytes());
    let _ = out.flush();
    let code = migrate_cli::run_embedded(&EMBEDDED, std::iter::once("myapp").chain(args.lines()));
    let shown = format!("{code:?}");
    let n = (0..=u8::MAX)
        .find(|n| format!("{:?}", std::process::ExitCode::from(*n)) == shown)
        .unwrap_or(u8::MAX);
    std::process::exit(i32::from(n));
}

/// Runs `myapp` (this test binary, as [`embedded_child`]) with `args`: the exit code
/// and what the command printed on stdout.
fn embedded(args: &[&str]) -> (i32, String) {
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "embedded_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, args.join("\n"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let printed = stdout
        .split_once(MARKER)
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_else(|| panic!("no marker in {stdout}"));
    (out.status.code().unwrap_or(-1), printed)
}

#[test]
fn embedded_binaries_offer_pending_and_json() {
    let p = Project::sqlite();
    let run = |args: &[&str]| {
        let mut all = vec!["--database-url", p.url.as_str()];
        all.extend_from_slice(args);
        embedded(&all)
    };
    let parse = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    assert_eq!(run(&["ensure_version"]).0, 0);
    let (code, text) = run(&["pending", "--json"]);
    assert_eq!(code, 0, "{text}");
    let doc = parse(&text);
    assert_eq!(ids(&doc["steps"]), ["a1", "b2"]);
    assert_eq!(doc["steps"][1]["transactional"], false);
    assert_eq!(doc["steps"][1]["message"], "create ticket");
    let (code, text) = run(&["pending"]);
    assert_eq!(code, 0);
    assert_eq!(
        text,
        "upgrade  -> a1, create account\nupgrade a1 -> b2, create ticket\n"
    );

    let (code, text) = run(&["check", "--json"]);
    assert_eq!(code, 4, "{text}");
    assert_eq!(parse(&text)["problems"][0]["kind"], "behind");
    assert_eq!(run(&["upgrade", "a1"]).0, 0);
    let (_, text) = run(&["pending", "--format", "json"]);
    assert_eq!(ids(&parse(&text)["steps"]), ["b2"]);
    let (_, text) = run(&["current", "--json"]);
    assert_eq!(ids(&parse(&text)["current"]), ["a1"]);
    let (_, text) = run(&["history", "--json"]);
    assert_eq!(ids(&parse(&text)["revisions"]), ["b2", "a1"]);
    let (_, text) = run(&["heads", "--json"]);
    assert_eq!(ids(&parse(&text)["heads"]), ["b2"]);
    let (_, text) = run(&["show", "a1", "--json"]);
    assert_eq!(parse(&text)["revisions"][0]["message"], "create account");
    assert_eq!(run(&["upgrade", "head"]).0, 0);
    let (code, text) = run(&["check", "--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(parse(&text)["ok"], true);
    let (code, text) = run(&["verify", "--json"]);
    assert_eq!(code, 0, "{text}");
    let doc = parse(&text);
    assert_eq!(doc["migrations"], 2);
    assert_eq!(strings(&doc["heads"]), ["b2"]);
}
