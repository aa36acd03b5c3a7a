//! Offline mode for MySQL/MariaDB through the real binary and the real `mariadb`
//! client: a migration written with `DELIMITER ;;` (a trigger and a procedure whose
//! bodies hold `;`) becomes, with `upgrade head --sql`, a script the client runs whole
//! on a fresh database, after which the trigger and procedure exist and work. Runs when
//! `MIGRATE_TEST_MYSQL_URL` is set; a set URL whose server cannot be reached fails.

mod common;

use common::Project;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The migration as a dump or a hand-written MySQL script has it: bodies with `;`
/// between `DELIMITER` lines. The procedure's body holds `//`, so the script must pick
/// another terminator for it.
const UPGRADE: &str = "\
CREATE TABLE readings (id INT PRIMARY KEY, val INT, note VARCHAR(20));
DELIMITER ;;
CREATE TRIGGER readings_bi BEFORE INSERT ON readings FOR EACH ROW BEGIN
  IF NEW.val < 0 THEN SET NEW.val = 0; END IF;
  SET NEW.note = 'checked; ok';
END ;;
CREATE PROCEDURE add_reading(IN n INT)
BEGIN
  INSERT INTO readings (id, val) VALUES (n, n - 5);
  UPDATE readings SET note = CONCAT(note, ' //') WHERE id = n;
END ;;
DELIMITER ;
INSERT INTO readings (id, val) VALUES (1, -3);";

const DOWNGRADE: &str = "\
DROP PROCEDURE add_reading;
DROP TRIGGER readings_bi;
DROP TABLE readings;";

/// Where the `mariadb` client connects, from a `mysql://user[:password]@host[:port]/db`
/// URL.
struct Server {
    user: String,
    password: Option<String>,
    host: String,
    port: String,
}

impl Server {
    fn from_url(url: &str) -> Server {
        let rest = url
            .split_once("://")
            .map_or(url, |(_, r)| r)
            .split(['/', '?'])
            .next()
            .unwrap_or_default();
        let (auth, host) = rest.rsplit_once('@').unwrap_or(("root", rest));
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (u, Some(p.to_string())),
            None => (auth, None),
        };
        let (host, port) = host.split_once(':').unwrap_or((host, "3306"));
        Server {
            user: user.to_string(),
            password,
            host: host.to_string(),
            port: port.to_string(),
        }
    }

    /// The `mariadb` client on `database` (none for server-wide statements).
    fn client(&self, database: Option<&str>) -> Command {
        let mut c = Command::new("mariadb");
        c.args(["-h", &self.host, "-P", &self.port, "-u", &self.user])
            .args(["--batch", "--skip-column-names"]);
        if let Some(p) = &self.password {
            c.env("MYSQL_PWD", p);
        }
        if let Ok(ca) = std::env::var("MIGRATE_TEST_MYSQL_TLS_CA") {
            c.arg(format!("--ssl-ca={ca}"));
        }
        c.args(database);
        c
    }

    /// Runs `input` through the client on `database`; answers its output, or fails the
    /// test with the client's error.
    fn run(&self, database: Option<&str>, input: &str) -> String {
        let mut child = self
            .client(database)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the mariadb client");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write to the mariadb client");
        let out = child.wait_with_output().expect("mariadb client output");
        assert!(
            out.status.success(),
            "mariadb client failed on:\n{input}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A database of the test's own, dropped when the test ends (failed or not).
struct Scratch<'a> {
    server: &'a Server,
    name: String,
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let _ = self
            .server
            .client(None)
            .args(["-e", &format!("DROP DATABASE IF EXISTS `{}`", self.name)])
            .output();
    }
}

#[test]
fn upgrade_sql_runs_whole_bodies_in_the_mysql_client() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let server = Server::from_url(&admin);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let scratch = Scratch {
        server: &server,
        name: format!("offline_{}_{nanos}", std::process::id()),
    };
    server.run(None, &format!("CREATE DATABASE `{}`;", scratch.name));
    let url = format!(
        "mysql://{}@{}:{}/{}",
        server.user, server.host, server.port, scratch.name
    );

    let p = Project::with_url(url);
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "readings", "--rev-id", "a1"]);
    p.fill("a1_", UPGRADE, DOWNGRADE);
    p.ok(&["hash"]);
    let script = p.ok(&["upgrade", "head", "--sql"]);
    assert!(script.contains("DELIMITER //\nCREATE TRIGGER"), "{script}");
    assert!(
        script.contains("DELIMITER $$\nCREATE PROCEDURE"),
        "{script}"
    );

    server.run(Some(&scratch.name), &script);
    let db = &scratch.name;
    let objects = server.run(
        None,
        &format!(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{db}';
SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{db}';
SELECT version_num FROM `{db}`.alembic_version;"
        ),
    );
    assert_eq!(objects, "readings_bi\nPROCEDURE\tadd_reading\na1\n");
    // The bodies arrived whole: every statement of each runs.
    let rows = server.run(
        Some(db),
        "CALL add_reading(2);\nSELECT id, val, note FROM readings ORDER BY id;",
    );
    assert_eq!(rows, "1\t0\tchecked; ok\n2\t0\tchecked; ok //\n");
}
