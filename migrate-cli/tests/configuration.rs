//! `migrate.toml` through the binary: a misspelt key is refused, at the top level and in
//! a section, with the file, the line and the key named, and the configuration's exit
//! code.

mod common;

use common::{transcript, Project};

/// Writes `migrate.toml` and runs `migrate current`, which reads it before anything else.
fn current_with(p: &Project, config: &str) -> String {
    std::fs::write(p.path().join("migrate.toml"), config).expect("write migrate.toml");
    transcript(p, &p.run(&["current"]))
}

#[test]
fn a_misspelt_key_at_the_top_level_is_refused() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let text = current_with(
        &p,
        "script_location = \"migrations\"\nversion_tabel = \"my_version\"\n",
    );
    insta::assert_snapshot!(text, @r"
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: migrate.toml:2: unknown field `version_tabel`, expected one of `script_location`, `database_url`, `url_env`, `version_table`, `version_table_schema`, `transaction_per_migration`, `file_template`, `revision_template`, `connect_timeout`, `allow_multiple_heads`, `schema_location`, `dev_url`
    ");
}

#[test]
fn a_misspelt_key_in_a_section_is_refused_even_when_another_is_picked() {
    let p = Project::sqlite();
    p.ok(&["init", "-t", "multidb", "dbs"]);
    let config = std::fs::read_to_string(p.path().join("migrate.toml")).expect("read");
    let config = config.replace(
        "url_env = \"ANALYTICS_DATABASE_URL\"",
        "url_env = \"ANALYTICS_DATABASE_URL\"\nconect_timeout = 5",
    );
    let line = config
        .lines()
        .position(|l| l.starts_with("conect_timeout"))
        .expect("the misspelt key")
        + 1;
    for args in [&["current"][..], &["-n", "main", "current"][..]] {
        std::fs::write(p.path().join("migrate.toml"), &config).expect("write");
        let out = p.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!(
                "error: migrate.toml:{line}: unknown field `conect_timeout`, expected one of"
            )),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // The same spelled right is accepted.
    std::fs::write(
        p.path().join("migrate.toml"),
        config.replace("conect_timeout", "connect_timeout"),
    )
    .expect("write");
    assert!(p.run(&["heads"]).status.success());
}
