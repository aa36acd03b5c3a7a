//! Connecting through the `migrate` binary: the connect timeout (`--connect-timeout`,
//! `connect_timeout`), TLS from the URL, and which configured values are resolved.
//! Server tests run when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set.

mod common;

use common::{servers, transcript, Project};
use migrate_test_support::tls;
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

/// A local port that accepts TCP connections and never answers; it lives as long as
/// the test process.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// Runs the binary and returns its output and how long it took.
fn timed(cmd: &mut std::process::Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = cmd.output().expect("run migrate");
    (out, started.elapsed())
}

/// A project whose versions folder exists, on `url`.
fn project(url: String) -> Project {
    let p = Project::with_url(url);
    p.ok(&["init", "migrations"]);
    p
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a failure that is not a usage error, and returns the transcript with the
/// exit code left out (the code of each kind of failure is `migrate_cli::exit`'s
/// business, not this file's).
fn failure(p: &Project, out: &Output) -> String {
    let code = out.status.code();
    assert!(
        code.is_some_and(|c| c != 0 && c != 2),
        "{}",
        transcript(p, out)
    );
    transcript(p, out).replacen(
        &format!("exit_code: {}\n", code.unwrap_or_default()),
        "exit_code: [failure]\n",
        1,
    )
}

#[test]
fn current_gives_up_on_a_silent_server() {
    let addr = silent_server();
    let mut log = String::new();
    for scheme in ["postgres", "mysql"] {
        let p = project(format!("{scheme}://app:secret@{addr}/db"));
        let (out, took) = timed(&mut p.cmd(&["--connect-timeout", "1", "current"]));
        assert!(took < Duration::from_secs(6), "{scheme}: took {took:?}");
        assert!(!stderr(&out).contains("secret"), "{}", stderr(&out));
        log.push_str(&format!(
            "$ migrate --connect-timeout 1 current  # {scheme}\n{}\n",
            failure(&p, &out).replace(&addr, "[ADDR]")
        ));
    }
    insta::assert_snapshot!("silent_server", log);
}

#[test]
fn connect_timeout_comes_from_the_configuration_unless_given() {
    let addr = silent_server();
    let p = project(format!("postgres://app@{addr}/db"));
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("read migrate.toml");
    std::fs::write(&config, format!("connect_timeout = 1\n{text}")).expect("write");
    let (out, took) = timed(&mut p.cmd(&["current"]));
    failure(&p, &out);
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(
        stderr(&out).contains("error: timed out after 1s connecting to"),
        "{}",
        stderr(&out)
    );
    let (out, took) = timed(&mut p.cmd(&["--connect-timeout", "2", "current"]));
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    assert!(
        stderr(&out).contains("error: timed out after 2s connecting to"),
        "{}",
        stderr(&out)
    );
    // Whole seconds from 1: a usage error otherwise.
    let mut log = String::new();
    for bad in ["0", "1.5"] {
        let out = p.run(&["--connect-timeout", bad, "current"]);
        log.push_str(&format!(
            "$ migrate --connect-timeout {bad} current\n{}\n",
            transcript(&p, &out)
        ));
    }
    insta::assert_snapshot!("connect_timeout_usage", log);
}

#[test]
fn mysql_url_at_the_postgres_port_gives_up_within_the_timeout() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    // The PostgreSQL server's host and port, under a mysql:// URL: both sides wait for
    // the other to speak first.
    let rest = &admin[admin.find("://").map_or(0, |i| i + 3)..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let mut host_port = authority[authority.rfind('@').map_or(0, |i| i + 1)..].to_string();
    if !host_port.contains(':') {
        host_port.push_str(":5432");
    }
    let p = project(format!("mysql://root@{host_port}/test"));
    let (out, took) = timed(&mut p.cmd(&["--connect-timeout", "2", "current"]));
    failure(&p, &out);
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert_eq!(
        stderr(&out),
        format!(
            "error: timed out after 2s connecting to {host_port} (no answer to the MySQL handshake) for mysql://root@{host_port}/test\n"
        )
    );
}

/// `upgrade` and `current` through the binary over verified TLS.
#[test]
fn upgrade_over_tls() {
    for (kind, admin) in servers() {
        let url = common::fresh_database(kind, &admin, "tls");
        let url = if kind == "postgres" {
            let params = format!("sslmode=verify-full&sslrootcert={}", tls::postgres_ca());
            tls::with_params(&tls::with_host(&url, &tls::postgres_tls_host()), &params)
        } else {
            let params = format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", tls::mysql_ca());
            tls::with_params(&url, &params)
        };
        let p = project(url);
        p.ok(&["revision", "-m", "first", "--rev-id", "a1"]);
        p.fill(
            "a1_",
            "CREATE TABLE over_tls (id INT);",
            "DROP TABLE over_tls;",
        );
        p.ok(&["hash"]);
        p.ok(&["upgrade", "head"]);
        assert_eq!(p.ok(&["current"]), "a1 (head)\n", "{kind}");
        assert_eq!(common::upgrade_counts(&p.url), [("a1".to_string(), 1)]);
    }
}

/// A CA the URL names is the only one trusted, as with psql and the mysql client: with
/// the system's roots holding the server's CA (`SSL_CERT_FILE`), another CA, an empty
/// file or a garbage one is still refused (exit 3, nothing run), and a missing file is
/// named. The right CA alone, with empty system roots, connects.
#[test]
fn upgrade_trusts_only_the_named_ca() {
    for (kind, admin) in servers() {
        let url = common::fresh_database(kind, &admin, "tlsca");
        let (url, server_ca) = if kind == "postgres" {
            (
                tls::with_host(&url, &tls::postgres_tls_host()),
                tls::postgres_ca(),
            )
        } else {
            (url, tls::mysql_ca())
        };
        let with_ca = |ca: &std::path::Path| {
            let params = if kind == "postgres" {
                format!("sslmode=verify-full&sslrootcert={}", ca.display())
            } else {
                format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", ca.display())
            };
            tls::with_params(&url, &params)
        };
        let p = project(url.clone());
        p.ok(&["revision", "-m", "first", "--rev-id", "a1"]);
        p.fill(
            "a1_",
            "CREATE TABLE named_ca (id INT);",
            "DROP TABLE named_ca;",
        );
        p.ok(&["hash"]);
        let empty = p.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        let garbage = p.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").expect("write");
        let cases = [
            ("another CA", tls::wrong_ca(p.path())),
            ("an empty file", empty.clone()),
            ("a garbage file", garbage),
            ("a missing file", p.path().join("no-such-ca.pem")),
        ];
        for (what, ca) in &cases {
            let out = p
                .cmd(&["--database-url", &with_ca(ca), "upgrade", "head"])
                .env("SSL_CERT_FILE", &server_ca)
                .env_remove("SSL_CERT_DIR")
                .output()
                .expect("run migrate");
            let text = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{kind}, {what}: {text}");
            assert!(
                text.contains("\nerror: cannot connect to "),
                "{kind}, {what}: {text}"
            );
            assert!(
                text.contains(&format!("the CA file `{}`", ca.display())),
                "{kind}, {what}: {text}"
            );
        }
        // Nothing ran: the database has no revision.
        assert_eq!(p.ok(&["current"]), "", "{kind}");
        let right = std::path::PathBuf::from(&server_ca);
        let out = p
            .cmd(&["--database-url", &with_ca(&right), "upgrade", "head"])
            .env("SSL_CERT_FILE", &empty)
            .env_remove("SSL_CERT_DIR")
            .output()
            .expect("run migrate");
        assert!(out.status.success(), "{kind}: {}", transcript(&p, &out));
        assert_eq!(common::upgrade_counts(&url), [("a1".to_string(), 1)]);
    }
}

/// `PGSSLROOTCERT`, which sqlx reads when the URL names no CA, is held to the same rule
/// and named in the error.
#[test]
fn postgres_pgsslrootcert_is_the_only_trust_anchor_too() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let p = project(tls::with_host(&admin, &tls::postgres_tls_host()));
    let wrong = tls::wrong_ca(p.path());
    let url = tls::with_params(&p.url, "sslmode=verify-full");
    let out = p
        .cmd(&["--database-url", &url, "current"])
        .env("PGSSLROOTCERT", &wrong)
        .env("SSL_CERT_FILE", tls::postgres_ca())
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("run migrate");
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(&format!(
            "the server's certificate is not trusted by the CA file `{}` (PGSSLROOTCERT)",
            wrong.display()
        )),
        "{text}"
    );
}

/// A `database_url` whose `${VAR}` is unset is not needed while `DATABASE_URL` or
/// `--database-url` gives the URL.
#[test]
fn configured_url_is_resolved_only_when_used() {
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("read migrate.toml");
    std::fs::write(
        &config,
        format!("database_url = \"${{MIGRATE_TEST_UNSET_VAR}}\"\n{text}"),
    )
    .expect("write");
    let db = format!("sqlite://{}/flag.db", p.path().display());
    // `current` only reads: both databases must exist.
    std::fs::File::create(p.path().join("flag.db")).expect("create");
    std::fs::File::create(p.path().join("test.db")).expect("create");
    let mut log = String::new();
    for (label, mut cmd) in [
        ("DATABASE_URL set", p.cmd(&["current"])),
        ("--database-url", p.cmd(&["--database-url", &db, "current"])),
        ("neither", p.cmd(&["current"])),
    ] {
        if label != "DATABASE_URL set" {
            cmd.env_remove("DATABASE_URL");
        }
        let out = cmd.output().expect("run migrate");
        let shown = if label == "neither" {
            failure(&p, &out)
        } else {
            transcript(&p, &out)
        };
        log.push_str(&format!("$ migrate current  # {label}\n{shown}\n"));
    }
    insta::assert_snapshot!("configured_url_resolved_only_when_used", log);
}
