//! TLS test settings shared by the runtime's and the CLI's tests: the servers' CAs, a
//! CA that signed nothing, and URL edits.

use std::path::{Path, PathBuf};

/// `url` with `params` added to its query string.
pub fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// `url` with its host replaced (the port stays).
pub fn with_host(url: &str, host: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| i + start);
    let authority = &url[start..end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let port = authority[host_start..]
        .rfind(':')
        .map_or("", |i| &authority[host_start + i..]);
    format!(
        "{}{}{host}{port}{}",
        &url[..start],
        &authority[..host_start],
        &url[end..]
    )
}

fn ca(var: &str, default: &str) -> String {
    match std::env::var(var) {
        Ok(path) => path,
        Err(_) if Path::new(default).exists() => default.to_string(),
        Err(_) => panic!(
            "the server's test URL is set but not its CA: set {var} (`.ci/run` does, after \
             giving the server a certificate)"
        ),
    }
}

/// The CA of the PostgreSQL server's certificate: `MIGRATE_TEST_POSTGRES_TLS_CA`, else
/// Debian's self-signed "snakeoil" certificate, which its PostgreSQL serves.
///
/// # Panics
/// When neither is there.
pub fn postgres_ca() -> String {
    ca(
        "MIGRATE_TEST_POSTGRES_TLS_CA",
        "/etc/ssl/certs/ssl-cert-snakeoil.pem",
    )
}

/// The CA of the MariaDB/MySQL server's certificate: `MIGRATE_TEST_MYSQL_TLS_CA`, else
/// the one `.ci/run` makes.
///
/// # Panics
/// When neither is there.
pub fn mysql_ca() -> String {
    ca("MIGRATE_TEST_MYSQL_TLS_CA", "/etc/mysql/migrate-tls/ca.pem")
}

/// The host name the PostgreSQL certificate is issued to (`MIGRATE_TEST_POSTGRES_TLS_HOST`,
/// default `localhost`): with sqlx 0.8.6 and current rustls, `verify-ca` checks it as
/// `verify-full` does (sqlx issue #3793), and Debian's snakeoil certificate names the
/// machine.
pub fn postgres_tls_host() -> String {
    std::env::var("MIGRATE_TEST_POSTGRES_TLS_HOST").unwrap_or_else(|_| "localhost".to_string())
}

/// Writes a CA certificate that signed no server's certificate into `dir`.
///
/// # Panics
/// When the file cannot be written.
pub fn wrong_ca(dir: &Path) -> PathBuf {
    let path = dir.join("wrong-ca.pem");
    std::fs::write(&path, include_str!("../fixtures/wrong-ca.pem")).expect("write CA");
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_edits() {
        assert_eq!(
            with_host("postgres://u:p@127.0.0.1:5432/db?x=1", "localhost"),
            "postgres://u:p@localhost:5432/db?x=1"
        );
        assert_eq!(
            with_host("postgres://127.0.0.1/db", "localhost"),
            "postgres://localhost/db"
        );
        assert_eq!(with_params("mysql://h/db", "a=1"), "mysql://h/db?a=1");
        assert_eq!(
            with_params("mysql://h/db?b=2", "a=1"),
            "mysql://h/db?b=2&a=1"
        );
    }
}
