//! Writing revisions: editing a new revision before its first upgrade, template
//! fields from the environment and defaults, Alembic's `%%` file templates.

mod common;

use common::Project;

#[test]
fn an_unapplied_revision_is_rehashed_on_upgrade_and_an_applied_one_stays_protected() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    p.fill("a1_", "CREATE TABLE one (id INTEGER);", "DROP TABLE one;");
    // Edited after `migrate revision`, without `migrate hash`.
    let out = p.run(&["upgrade", "head"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("migrations.sum: re-hashed a1_one.sql (not applied to this database yet)"),
        "{err}"
    );
    p.ok(&["verify"]);
    // The same for `upgrade <rev>` on a second revision.
    p.ok(&["revision", "-m", "two", "--rev-id", "b2"]);
    p.fill("b2_", "CREATE TABLE two (id INTEGER);", "DROP TABLE two;");
    p.ok(&["upgrade", "b2"]);
    // Now applied: an edit without `migrate hash` is refused.
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("CREATE TABLE one", "CREATE TABLE uno")).expect("write");
    for args in [&["upgrade", "head"][..], &["downgrade", "-1"][..]] {
        let out = p.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("migrations.sum does not match `a1_one.sql`"),
            "{err}"
        );
    }
    assert!(p.ok(&["current"]).contains("b2"));
}

#[test]
fn template_fields_come_from_x_the_environment_or_their_default() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let template = p.path().join("migrations/script.sql.tmpl");
    let text = std::fs::read_to_string(&template).expect("template");
    std::fs::write(
        &template,
        text.replacen(
            "\n",
            "\n-- author: ${author:-unknown}\n-- team: ${MIGRATE_TEST_TEAM}\n",
            1,
        ),
    )
    .expect("write");
    let out = p
        .cmd(&["revision", "-m", "one", "--rev-id", "a1"])
        .env("MIGRATE_TEST_TEAM", "support")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let written = std::fs::read_to_string(file).expect("read");
    assert!(written.contains("-- author: unknown\n"), "{written}");
    assert!(written.contains("-- team: support\n"), "{written}");
    p.ok(&[
        "-x",
        "author=ann",
        "-x",
        "MIGRATE_TEST_TEAM=x",
        "revision",
        "-m",
        "two",
        "--rev-id",
        "b2",
    ]);
    let file = common::find_file(&p.path().join("migrations"), "b2_").expect("b2");
    assert!(std::fs::read_to_string(file)
        .expect("read")
        .contains("-- author: ann\n"));
    let out = p.run(&["revision", "-m", "three", "--rev-id", "c3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("${MIGRATE_TEST_TEAM}, which is not set"),
        "{err}"
    );
}

#[test]
fn alembic_ini_file_templates_with_doubled_percents() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let changed = text
        .lines()
        .filter(|l| !l.starts_with("file_template"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(
        &config,
        format!("file_template = \"%%(year)d_%%(rev)s_%%(slug)s\"\n{changed}\n"),
    )
    .expect("write");
    p.ok(&["revision", "-m", "add tickets", "--rev-id", "a1"]);
    let names: Vec<String> = std::fs::read_dir(p.path().join("migrations"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with("_a1_add_tickets.sql"), "{names:?}");
    assert!(names[0].starts_with("20"), "{names:?}");
}

#[test]
fn verbose_listings_show_the_creation_date_and_the_template_fields() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "one", "--rev-id", "a1"]);
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replacen("--\n", "--\n-- author: ann\n-- jira: SUP-12\n", 1),
    )
    .expect("write");
    p.ok(&["hash"]);
    p.ok(&["upgrade", "head"]);
    for args in [
        &["show", "a1"][..],
        &["history", "-v"][..],
        &["current", "-v"][..],
    ] {
        let out = p.ok(args);
        assert!(out.contains("    Create Date: 20"), "{args:?}: {out}");
        assert!(out.contains("    author: ann\n"), "{args:?}: {out}");
        assert!(out.contains("    jira: SUP-12\n"), "{args:?}: {out}");
    }
}
