//! MySQL/MariaDB through the real binary: a declared schema using what MySQL adds to
//! tables (`ON UPDATE`, character sets and collations, comments, index prefixes,
//! partitioning) and its stored routines and events is written by `revision
//! --autogenerate`, applied, found clean by `check`; each kind changed by hand is
//! reported by `check` (exit 10, naming it) and clean again once undone; `downgrade
//! base` leaves nothing. Runs when `MIGRATE_TEST_MYSQL_URL` is set.

mod common;

use common::Project;

/// Repro 5 (`DEFAULT CHARSET=utf8`, `NVARCHAR`) and repro 6 (`ON UPDATE`).
const TABLES: &str = "\
CREATE TABLE customers (
    id INT PRIMARY KEY,
    name NVARCHAR(50) NOT NULL COMMENT 'as printed on invoices',
    city VARCHAR(40),
    KEY ix_customers_name (name(10))
) DEFAULT CHARSET=utf8 COMMENT='who pays';
CREATE TABLE sessions (
    id INT PRIMARY KEY,
    ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);
CREATE TABLE readings (
    id INT NOT NULL,
    at INT NOT NULL
) PARTITION BY RANGE (at) (
    PARTITION p0 VALUES LESS THAN (100),
    PARTITION p1 VALUES LESS THAN MAXVALUE
);
CREATE TABLE places (
    id INT PRIMARY KEY,
    body TEXT,
    pos POINT NOT NULL,
    FULLTEXT KEY ft_body (body),
    SPATIAL KEY sp_pos (pos)
);
";

/// Routines and an event; the procedure's body is one statement to the splitter.
const ROUTINES: &str = "\
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
CREATE PROCEDURE purge_sessions()
BEGIN
    DELETE FROM sessions WHERE ts < NOW() - INTERVAL 30 DAY;
END;
CREATE EVENT purge_nightly ON SCHEDULE EVERY 1 DAY DO CALL purge_sessions();
";

fn project(tag: &str, files: &[(&str, &str)]) -> Option<Project> {
    let admin = std::env::var("MIGRATE_TEST_MYSQL_URL").ok()?;
    let p = Project::with_url(common::fresh_database("mysql", &admin, tag));
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    for (name, sql) in files {
        std::fs::write(p.path().join("schema").join(name), sql).expect("write");
    }
    Some(p)
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

/// Runs SQL on the project's database, outside the tool; answers the first column of
/// the last statement's rows.
fn exec(url: &str, sql: &str) -> Vec<String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let pool = sqlx::MySqlPool::connect(url).await.expect("mysql");
            let r = if sql.trim_start().to_ascii_uppercase().starts_with("SELECT") {
                sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await
            } else {
                sqlx::raw_sql(sql).execute(&pool).await.map(|_| Vec::new())
            };
            pool.close().await;
            r.unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
}

/// Autogenerates the first revision, upgrades, and checks it clean; answers the
/// revision's text.
fn upgraded(p: &Project) -> String {
    let (code, out) = run(
        p,
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
    let (code, out) = run(p, &["upgrade", "head"]);
    assert_eq!(code, 0, "{out}\n{text}");
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 0, "{out}\n{text}");
    text
}

/// `check` exits 10 naming every `wanted`; after `undo` it exits 0 again.
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

/// What the database holds besides the version table: tables, routines, events.
fn leftovers(p: &Project) -> Vec<String> {
    exec(
        &p.url,
        "SELECT CONCAT('table ', TABLE_NAME) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'alembic%' \
         UNION ALL SELECT CONCAT('routine ', ROUTINE_NAME) FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE() \
         UNION ALL SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS \
         WHERE EVENT_SCHEMA = DATABASE()",
    )
}

#[test]
fn on_update_charsets_comments_and_prefixes_round_trip_and_drift() {
    let Some(p) = project("dmy_columns", &[("schema.sql", TABLES)]) else {
        return;
    };
    let text = upgraded(&p);
    for wanted in [
        "ON UPDATE current_timestamp()",
        "COLLATE `utf8mb3_general_ci`",
        "COMMENT 'as printed on invoices'",
        "ON customers (name(10))",
        "ALTER TABLE `customers` COMMENT = 'who pays'",
        "ALTER TABLE `customers` DEFAULT COLLATE = utf8mb3_general_ci",
        "ALTER TABLE `readings` PARTITION BY RANGE",
        "ALTER TABLE `readings` REMOVE PARTITIONING",
        "CREATE FULLTEXT INDEX ft_body ON places (body)",
        "CREATE SPATIAL INDEX sp_pos ON places (pos)",
    ] {
        assert!(text.contains(wanted), "`{wanted}` missing:\n{text}");
    }
    // The live table says utf8mb3 too: the declared charset was applied.
    let charset = exec(
        &p.url,
        "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers' AND COLUMN_NAME = 'name'",
    );
    assert_eq!(charset, ["utf8mb3"]);
    drifts(
        &p,
        "ALTER TABLE sessions MODIFY ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
        &["alter column sessions.ts: on update current_timestamp() -> none"],
        "ALTER TABLE sessions MODIFY ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
    );
    drifts(
        &p,
        "ALTER TABLE customers MODIFY city VARCHAR(40) CHARACTER SET utf8mb4",
        &["alter column customers.city: collation \"utf8mb3_general_ci\" -> \"utf8mb4_general_ci\""],
        "ALTER TABLE customers MODIFY city VARCHAR(40) CHARACTER SET utf8mb3",
    );
    drifts(
        &p,
        "ALTER TABLE customers DEFAULT CHARSET = utf8mb4",
        &["default collation customers"],
        "ALTER TABLE customers DEFAULT CHARSET = utf8mb3",
    );
    drifts(
        &p,
        "ALTER TABLE customers MODIFY name NVARCHAR(50) NOT NULL COMMENT 'changed'",
        &["alter column customers.name: comment 'as printed on invoices' -> 'changed'"],
        "ALTER TABLE customers MODIFY name NVARCHAR(50) NOT NULL COMMENT 'as printed on invoices'",
    );
    drifts(
        &p,
        "ALTER TABLE customers COMMENT = 'who owes'",
        &["comment on table customers"],
        "ALTER TABLE customers COMMENT = 'who pays'",
    );
    drifts(
        &p,
        "DROP INDEX ix_customers_name ON customers; CREATE INDEX ix_customers_name ON customers (name(20))",
        &["ix_customers_name"],
        "DROP INDEX ix_customers_name ON customers; CREATE INDEX ix_customers_name ON customers (name(10))",
    );
    drifts(
        &p,
        "ALTER TABLE readings REMOVE PARTITIONING",
        &["partitioning readings"],
        "ALTER TABLE readings PARTITION BY RANGE (at) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE)",
    );
    let (code, out) = run(&p, &["downgrade", "base"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(leftovers(&p), Vec::<String>::new());
}

#[test]
fn routines_and_events_round_trip_and_drift() {
    let Some(p) = project(
        "dmy_routines",
        &[("schema.sql", TABLES), ("routines.sql", ROUTINES)],
    ) else {
        return;
    };
    let text = upgraded(&p);
    for wanted in [
        "CREATE FUNCTION `add_one`(x INT) RETURNS int",
        "CREATE PROCEDURE `purge_sessions`()",
        "CREATE EVENT `purge_nightly` ON SCHEDULE EVERY 1 DAY",
        "DROP EVENT IF EXISTS `purge_nightly`",
        "DROP FUNCTION IF EXISTS `add_one`",
    ] {
        assert!(text.contains(wanted), "`{wanted}` missing:\n{text}");
    }
    assert!(!text.contains("DEFINER"), "{text}");
    drifts(
        &p,
        "DROP FUNCTION add_one; CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 2",
        &["drop function add_one", "create function add_one"],
        "DROP FUNCTION add_one; CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
    );
    drifts(
        &p,
        "DROP PROCEDURE purge_sessions",
        &["drop procedure purge_sessions"],
        "CREATE PROCEDURE purge_sessions()
BEGIN
    DELETE FROM sessions WHERE ts < NOW() - INTERVAL 30 DAY;
END",
    );
    // An event made by hand in the live database is a difference, by name.
    drifts(
        &p,
        "CREATE EVENT by_hand ON SCHEDULE EVERY 1 HOUR DO DELETE FROM sessions WHERE id < 0",
        &["create event by_hand"],
        "DROP EVENT by_hand",
    );
    drifts(
        &p,
        "ALTER EVENT purge_nightly ON SCHEDULE EVERY 2 DAY",
        &["event purge_nightly"],
        "ALTER EVENT purge_nightly ON SCHEDULE EVERY 1 DAY",
    );
    // The stairway: each revision's downgrade and upgrade again.
    let (code, out) = run(&p, &["test"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&p, &["downgrade", "base"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(leftovers(&p), Vec::<String>::new());
}

#[test]
fn mariadb_sequences_engines_and_system_versioning_round_trip_and_drift() {
    let Some(p) = project(
        "dmy_mariadb",
        &[(
            "schema.sql",
            "CREATE TABLE notes (n INT) ENGINE=MyISAM;\n\
             CREATE TABLE audited (n INT) WITH SYSTEM VERSIONING;\n",
        )],
    ) else {
        return;
    };
    let mariadb = exec(&p.url, "SELECT VERSION()")[0].contains("MariaDB");
    if mariadb {
        std::fs::write(
            p.path().join("schema/sequences.sql"),
            "CREATE SEQUENCE ticket_numbers START WITH 100;\n",
        )
        .expect("write");
    }
    let text = upgraded(&p);
    assert!(
        text.contains("ALTER TABLE `notes` ENGINE = MyISAM"),
        "{text}"
    );
    drifts(
        &p,
        "ALTER TABLE notes ENGINE = InnoDB",
        &["engine notes"],
        "ALTER TABLE notes ENGINE = MyISAM",
    );
    if mariadb {
        assert!(text.contains("CREATE SEQUENCE `ticket_numbers`"), "{text}");
        drifts(
            &p,
            "ALTER TABLE audited DROP SYSTEM VERSIONING",
            &["system versioning audited"],
            "ALTER TABLE audited ADD SYSTEM VERSIONING",
        );
        drifts(
            &p,
            "CREATE SEQUENCE by_hand",
            &["create sequence by_hand"],
            "DROP SEQUENCE by_hand",
        );
    }
    let (code, out) = run(&p, &["downgrade", "base"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(leftovers(&p), Vec::<String>::new());
}
