//! TLS to the servers: the URL's `sslmode` / `ssl-mode` and the CA it names, checked
//! through the server's own view of the session (`pg_stat_ssl`, `Ssl_cipher`). Each test
//! runs when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` is set; a set URL
//! that cannot be reached, or a server without TLS, fails the test.
//!
//! The CAs: `MIGRATE_TEST_POSTGRES_TLS_CA` (default: Debian's self-signed "snakeoil"
//! certificate, which PostgreSQL serves there) and `MIGRATE_TEST_MYSQL_TLS_CA` (default:
//! the CA `.ci/run` creates in `/etc/mysql/migrate-tls`).

use migrate_runtime::{Database, MigrateError};
use migrate_test_support::tls as support;
use support::{mysql_ca, postgres_ca, postgres_tls_host, with_host, with_params};

async fn connect(url: &str) -> Database {
    Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e)))
}

/// Whether the PostgreSQL session is encrypted, as the server sees it.
async fn postgres_ssl(db: &Database) -> bool {
    let Some(pool) = db.as_postgres() else {
        panic!("not PostgreSQL")
    };
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pool)
        .await
        .expect("pg_stat_ssl")
}

/// The session's cipher as MariaDB/MySQL sees it; empty without TLS.
async fn mysql_cipher(db: &Database) -> String {
    let Some(pool) = db.as_mysql() else {
        panic!("not MySQL")
    };
    let (_, cipher): (String, String) = sqlx::query_as("SHOW STATUS LIKE 'Ssl_cipher'")
        .fetch_one(pool)
        .await
        .expect("Ssl_cipher");
    cipher
}

/// The error and its causes on one line.
fn chain(e: &MigrateError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[tokio::test]
async fn postgres_sslmode_require_encrypts_the_session() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let db = connect(&with_params(&admin, "sslmode=require")).await;
    assert!(
        postgres_ssl(&db).await,
        "sslmode=require left the session plain"
    );
    db.close().await;
    // The check itself tells the difference.
    let db = connect(&with_params(&admin, "sslmode=disable")).await;
    assert!(!postgres_ssl(&db).await);
    db.close().await;
}

#[tokio::test]
async fn postgres_verify_ca_and_verify_full_with_the_servers_ca() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let url = with_host(&admin, &postgres_tls_host());
    for mode in ["verify-ca", "verify-full"] {
        let params = format!("sslmode={mode}&sslrootcert={}", postgres_ca());
        let db = connect(&with_params(&url, &params)).await;
        assert!(
            postgres_ssl(&db).await,
            "sslmode={mode} left the session plain"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn mysql_ssl_mode_required_encrypts_the_session() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let db = connect(&with_params(&admin, "ssl-mode=REQUIRED")).await;
    assert!(
        !mysql_cipher(&db).await.is_empty(),
        "no cipher with REQUIRED"
    );
    db.close().await;
    let db = connect(&with_params(&admin, "ssl-mode=DISABLED")).await;
    assert_eq!(mysql_cipher(&db).await, "");
    db.close().await;
}

#[tokio::test]
async fn mysql_verify_ca_and_verify_identity_with_the_servers_ca() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    for mode in ["VERIFY_CA", "VERIFY_IDENTITY"] {
        let params = format!("ssl-mode={mode}&ssl-ca={}", mysql_ca());
        let db = connect(&with_params(&admin, &params)).await;
        assert!(!mysql_cipher(&db).await.is_empty(), "no cipher with {mode}");
        db.close().await;
    }
}

/// The files a verifying URL may wrongly name: another CA's, an empty one, one with no
/// PEM certificate in it.
fn bad_cas(dir: &std::path::Path) -> Vec<(&'static str, std::path::PathBuf)> {
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").expect("write");
    vec![
        ("wrong CA", support::wrong_ca(dir)),
        ("empty file", empty),
        ("garbage file", garbage),
    ]
}

/// Asserts `err` refuses the CA at `path` and names it.
fn assert_refused(what: &str, err: &MigrateError, path: &std::path::Path) {
    let text = chain(err);
    assert!(matches!(err, MigrateError::TlsCa { .. }), "{what}: {err:?}");
    assert!(text.starts_with("cannot connect to "), "{what}: {text}");
    assert!(text.contains(&path.display().to_string()), "{what}: {text}");
}

/// A named CA is the only one trusted, as with libpq: the server's certificate is in the
/// system's roots here (Debian lists its snakeoil certificate in /etc/ssl/certs), and
/// still another CA, an empty file or a garbage one is refused.
#[tokio::test]
async fn postgres_a_named_ca_is_the_only_trust_anchor() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let url = with_host(&admin, &postgres_tls_host());
    let dir = tempfile::tempdir().expect("temp dir");
    for (what, ca) in bad_cas(dir.path()) {
        for mode in ["verify-ca", "verify-full"] {
            let params = format!("sslmode={mode}&sslrootcert={}", ca.display());
            let err = Database::connect(&with_params(&url, &params))
                .await
                .expect_err(&format!("{mode} with a {what} connected"));
            assert_refused(&format!("{mode}, {what}"), &err, &ca);
        }
    }
    let wrong = support::wrong_ca(dir.path());
    let params = format!("sslmode=verify-full&sslrootcert={}", wrong.display());
    let err = Database::connect(&with_params(&url, &params))
        .await
        .expect_err("another CA was trusted");
    assert!(
        chain(&err).contains("is not trusted by the CA file")
            && chain(&err).contains("UnknownIssuer"),
        "{}",
        chain(&err)
    );
}

#[tokio::test]
async fn postgres_a_missing_ca_file_is_named() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-ca.pem");
    let params = format!("sslmode=verify-full&sslrootcert={}", missing.display());
    let url = with_params(&with_host(&admin, &postgres_tls_host()), &params);
    let err = Database::connect(&url)
        .await
        .expect_err("a missing CA file was accepted");
    assert_refused("missing file", &err, &missing);
    assert!(chain(&err).contains("does not exist"), "{}", chain(&err));
}

/// As on PostgreSQL. The file is read before the server is asked for TLS, so these hold
/// against a server without TLS too.
#[tokio::test]
async fn mysql_an_empty_garbage_or_missing_ca_file_is_refused_naming_it() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-ca.pem");
    let mut cases = bad_cas(dir.path());
    cases.retain(|(what, _)| *what != "wrong CA");
    cases.push(("missing file", missing));
    for (what, ca) in cases {
        for mode in ["VERIFY_CA", "VERIFY_IDENTITY"] {
            let params = format!("ssl-mode={mode}&ssl-ca={}", ca.display());
            let err = Database::connect(&with_params(&admin, &params))
                .await
                .expect_err(&format!("{mode} with a {what} connected"));
            assert_refused(&format!("{mode}, {what}"), &err, &ca);
        }
    }
}

/// Another CA is refused by the check of our own, though the system's roots may trust
/// the server.
#[tokio::test]
async fn mysql_a_named_ca_is_the_only_trust_anchor() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let wrong = support::wrong_ca(dir.path());
    for mode in ["VERIFY_CA", "VERIFY_IDENTITY"] {
        let params = format!("ssl-mode={mode}&ssl-ca={}", wrong.display());
        let err = Database::connect(&with_params(&admin, &params))
            .await
            .expect_err("another CA was trusted");
        assert_refused(mode, &err, &wrong);
        assert!(chain(&err).contains("UnknownIssuer"), "{}", chain(&err));
    }
}
