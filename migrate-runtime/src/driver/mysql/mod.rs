//! MySQL and MariaDB: `GET_LOCK` on a connection of its own.

#[cfg(feature = "mysql")]
mod admin;
/// The test fixture's templates and copies.
#[cfg(feature = "mysql")]
mod introspect;
#[cfg(feature = "mysql")]
mod objects;

#[cfg(feature = "mysql")]
use super::tls::NamedCa;
#[cfg(feature = "mysql")]
use crate::error::{mask_url, MigrateError};
#[cfg(feature = "mysql")]
use sqlx::{
    mysql::{MySqlConnectOptions, MySqlSslMode},
    Connection, MySqlConnection,
};
#[cfg(feature = "mysql")]
use std::time::{Duration, Instant};

#[cfg(feature = "mysql")]
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<sqlx::MySqlPool, MigrateError> {
    use std::str::FromStr;
    let normalized = match url.strip_prefix("mariadb") {
        Some(rest) => format!("mysql{rest}"),
        None => url.to_string(),
    };
    let opts =
        MySqlConnectOptions::from_str(&normalized).map_err(|source| MigrateError::Connect {
            url: mask_url(url),
            source,
        })?;
    let at = addr(&opts);
    let tcp = opts
        .get_socket()
        .is_none()
        .then(|| (opts.get_host().to_string(), opts.get_port()));
    if let Some(ca) = named_ca(url, &opts)? {
        // TLS on a Unix socket is left to sqlx: only a TCP server is checked.
        if let Some((host, port)) = &tcp {
            let check_name = matches!(opts.get_ssl_mode(), MySqlSslMode::VerifyIdentity);
            let errors = (mask_url(url), at.clone(), HANDSHAKE, timeout);
            ca.verify_server(host, *port, check_name, request_tls, errors)
                .await?;
        }
    }
    super::open_pool::<sqlx::MySql>(url, opts, timeout, at, HANDSHAKE, tcp).await
}

/// The CA a verifying URL (`VERIFY_CA`, `VERIFY_IDENTITY`) names in `ssl-ca`, read and
/// checked; `None` when the mode does not verify or no CA is named (the system's roots
/// are trusted then).
#[cfg(feature = "mysql")]
fn named_ca(url: &str, opts: &MySqlConnectOptions) -> Result<Option<NamedCa>, MigrateError> {
    if !matches!(
        opts.get_ssl_mode(),
        MySqlSslMode::VerifyCa | MySqlSslMode::VerifyIdentity
    ) {
        return Ok(None);
    }
    let in_url = url::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .filter(|(k, _)| matches!(&**k, "ssl-ca" | "sslca"))
            .last()
            .map(|(_, v)| v.into_owned())
    });
    let Some(value) = in_url else {
        return Ok(None);
    };
    NamedCa::read(&value, "ssl-ca")
        .map(Some)
        .map_err(|problem| MigrateError::TlsCa {
            url: mask_url(url),
            problem,
        })
}

/// Reads the server's greeting and, when it offers TLS, asks for it as a MySQL client
/// does (an `SSLRequest` packet); whether it offered TLS. A greeting that is an error
/// packet (too many connections, a blocked host) is returned as the error.
#[cfg(feature = "mysql")]
fn request_tls(sock: &mut std::net::TcpStream) -> std::io::Result<bool> {
    use std::io::{Error, ErrorKind, Read, Write};
    const CLIENT_PROTOCOL_41: u32 = 0x200;
    const CLIENT_SSL: u32 = 0x800;
    const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
    let mut header = [0u8; 4];
    sock.read_exact(&mut header)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut greeting = vec![0u8; len];
    sock.read_exact(&mut greeting)?;
    let not_mysql = || Error::new(ErrorKind::InvalidData, "not a MySQL server greeting");
    match greeting.first() {
        Some(10) => {}
        // An error packet: code, then (protocol 4.1) `#` and a state, then the message.
        Some(0xff) => {
            let text = greeting.get(3..).unwrap_or_default();
            let text = text
                .strip_prefix(b"#")
                .map_or(text, |t| t.get(5..).unwrap_or_default());
            return Err(Error::new(
                ErrorKind::ConnectionRefused,
                String::from_utf8_lossy(text).into_owned(),
            ));
        }
        _ => return Err(not_mysql()),
    }
    // Protocol 10: the version byte, the server's version up to a NUL, a 4-byte
    // connection id, 8 bytes of scramble and a filler, then the low capability bits.
    let version_end = greeting[1..]
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(not_mysql)?;
    let at = 1 + version_end + 1 + 4 + 8 + 1;
    let caps = greeting.get(at..at + 2).ok_or_else(not_mysql)?;
    if u32::from(u16::from_le_bytes([caps[0], caps[1]])) & CLIENT_SSL == 0 {
        return Ok(false);
    }
    let mut request = vec![32, 0, 0, header[3].wrapping_add(1)];
    request.extend_from_slice(
        &(CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION).to_le_bytes(),
    );
    request.extend_from_slice(&(16u32 << 20).to_le_bytes());
    // utf8mb4_general_ci, then 23 reserved bytes.
    request.push(45);
    request.extend_from_slice(&[0; 23]);
    sock.write_all(&request)?;
    Ok(true)
}

#[cfg(feature = "mysql")]
const HANDSHAKE: &str = "no answer to the MySQL handshake";

/// The error for a pool whose acquire timeout passed.
#[cfg(feature = "mysql")]
pub(crate) fn pool_timed_out(pool: &sqlx::MySqlPool) -> MigrateError {
    let opts = pool.connect_options();
    MigrateError::ConnectTimeout {
        url: describe(&opts),
        addr: addr(&opts),
        what: "no pooled MySQL connection became available",
        timeout: pool.options().get_acquire_timeout(),
    }
}

/// `host:port`, or the socket path.
#[cfg(feature = "mysql")]
fn addr(opts: &MySqlConnectOptions) -> String {
    match opts.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    }
}

/// A URL for messages, without the password, when the original is not at hand.
#[cfg(feature = "mysql")]
fn describe(opts: &MySqlConnectOptions) -> String {
    format!(
        "mysql://{}@{}/{}",
        opts.get_username(),
        addr(opts),
        opts.get_database().unwrap_or_default()
    )
}

/// Mysql's answers to the runner's questions (see [`super::Backend`]).
pub(crate) struct Mysql;

impl super::Backend for Mysql {
    fn dialect(&self) -> migrate_core::Dialect {
        migrate_core::Dialect::Mysql
    }

    fn history_ddl(&self, table: &str) -> String {
        super::backend::history_table(
            table,
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
        )
    }

    /// Where each unfinished resumable migration stands (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String {
        super::backend::progress_table(table, "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)")
    }

    /// Data definition commits before and after it (a temporary table aside).
    fn commits_on_its_own(&self, statement: &str) -> bool {
        let mut words = statement
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty());
        let first = words.next().unwrap_or_default().to_ascii_uppercase();
        let second = words.next().unwrap_or_default().to_ascii_uppercase();
        matches!(
            first.as_str(),
            "CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE"
        ) && second != "TEMPORARY"
    }

    fn ddl_commits_note(&self) -> Option<&'static str> {
        Some("MySQL and MariaDB commit each DDL statement at once, so what ran before the failure stays")
    }

    /// DDL commits the transaction it runs in.
    fn in_transaction_query(&self) -> Option<&'static str> {
        Some("SELECT CAST(@@in_transaction AS CHAR)")
    }

    fn fingerprint_query(&self) -> &'static str {
        // A new database takes the server's character set and collation; the session's
        // SQL mode and the engine's defaults decide what a CREATE TABLE gives.
        "SELECT CONCAT_WS('|', @@version, @@version_comment, @@character_set_server, \
           @@collation_server, @@lower_case_table_names, @@sql_mode, @@default_storage_engine, \
           @@explicit_defaults_for_timestamp, @@innodb_default_row_format)"
    }

    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool {
        e.code().as_deref() == Some("42S02") || e.message().contains("doesn't exist")
    }

    #[cfg(feature = "mysql")]
    fn location(&self, url: &str) -> Option<(String, u16, String)> {
        use std::str::FromStr;
        let o = MySqlConnectOptions::from_str(url).ok()?;
        let at = match o.get_socket() {
            Some(path) => path.display().to_string(),
            None => super::backend::same_host(o.get_host()),
        };
        Some((at, o.get_port(), o.get_database()?.to_string()))
    }

    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String {
        let [r, w, k, rows_done] = values;
        format!(
            "INSERT INTO {table} (revision, walk, last_key, rows_done) VALUES ({r}, {w}, {k}, {rows_done}) \
             ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), rows_done = VALUES(rows_done), updated_at = CURRENT_TIMESTAMP(6)"
        )
    }

    fn cast(&self, expr: &str, text: bool) -> String {
        let ty = if text { "CHAR" } else { "SIGNED" };
        format!("CAST({expr} AS {ty})")
    }
}

/// The `GET_LOCK` name of a qualified version table: `migrate:<database>.<table>`, or,
/// beyond the server's 64-character limit, a prefix of it followed by a hash of the
/// whole, so that long names stay distinct.
#[cfg(feature = "mysql")]
pub(crate) fn lock_name(qualified: &str) -> String {
    let full = format!("migrate:{qualified}");
    if full.len() <= 64 {
        return full;
    }
    let hash = format!("~{:016x}", super::lock_key(qualified) as u64);
    // Names are plain ASCII identifiers (checked before any lock is taken).
    let keep: String = full.chars().take(64 - hash.len()).collect();
    format!("{keep}{hash}")
}

/// A held `GET_LOCK`.
#[cfg(feature = "mysql")]
pub(crate) struct MySqlLock {
    conn: MySqlConnection,
    name: String,
}

#[cfg(feature = "mysql")]
pub(crate) async fn lock(
    pool: &sqlx::MySqlPool,
    key: &str,
    timeout: Duration,
) -> Result<MySqlLock, MigrateError> {
    let opts = pool.connect_options();
    let within = pool.options().get_acquire_timeout();
    let what = "no answer to the MySQL handshake on the lock connection";
    let mut conn =
        super::connect_within::<MySqlConnection>(&opts, within, describe(&opts), addr(&opts), what)
            .await?
            .map_err(|e| MigrateError::db("cannot open the lock connection", e))?;
    // `GET_LOCK` names are server-wide: qualify an unqualified table with the
    // connection's database, so deploys to two databases of one server do not wait
    // for each other.
    let qualified = if key.contains('.') {
        key.to_string()
    } else {
        let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| MigrateError::db("cannot read the current database", e))?;
        format!("{}.{key}", database.unwrap_or_default())
    };
    let name = lock_name(&qualified);
    let started = Instant::now();
    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
        .bind(&name)
        .bind(timeout.as_secs_f64())
        .fetch_one(&mut conn)
        .await
        .map_err(|e| MigrateError::db("cannot take the migration lock", e))?;
    if got == Some(1) {
        return Ok(MySqlLock { conn, name });
    }
    let _ = conn.close().await;
    Err(MigrateError::LockTimeout {
        waited: started.elapsed(),
        what: format!("GET_LOCK('{name}')"),
    })
}

#[cfg(feature = "mysql")]
impl MySqlLock {
    pub(crate) async fn release(mut self) -> Result<(), MigrateError> {
        let released = sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(&self.name)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
        released
            .map(|_| ())
            .map_err(|e| MigrateError::db("cannot release the migration lock", e))
    }
}

#[cfg(feature = "mysql")]
impl super::sqlx_conn::SqlxDriver for sqlx::MySql {
    fn lock<'a>(
        pool: &'a sqlx::MySqlPool,
        key: &'a str,
        timeout: Duration,
    ) -> super::BoxFuture<'a, Result<Option<Box<dyn super::HeldLock>>, MigrateError>> {
        Box::pin(async move {
            let held = lock(pool, key, timeout).await?;
            Ok(Some(Box::new(held) as Box<dyn super::HeldLock>))
        })
    }

    fn introspect(
        pool: &sqlx::MySqlPool,
    ) -> super::BoxFuture<'_, Result<migrate_schema::Schema, MigrateError>> {
        Box::pin(introspect::introspect(pool))
    }

    fn pool_timed_out(pool: &sqlx::MySqlPool) -> Option<MigrateError> {
        Some(pool_timed_out(pool))
    }

    fn server(pool: &sqlx::MySqlPool) -> Option<&dyn super::Server> {
        Some(pool)
    }

    fn rows_affected(result: &sqlx::mysql::MySqlQueryResult) -> u64 {
        result.rows_affected()
    }

    fn backend() -> &'static dyn super::Backend {
        &Mysql
    }
}

#[cfg(feature = "mysql")]
impl super::HeldLock for MySqlLock {
    fn release(self: Box<Self>) -> super::BoxFuture<'static, Result<(), MigrateError>> {
        Box::pin((*self).release())
    }
}

#[cfg(all(test, feature = "mysql"))]
mod tests {
    use super::lock_name;

    #[test]
    fn data_definition_commits_on_its_own() {
        use crate::driver::Backend;
        let b = super::Mysql;
        for ddl in [
            "CREATE TABLE t (id INT)",
            "create index i on t (x)",
            "ALTER TABLE t ADD COLUMN y INT",
            "DROP TABLE t",
            "RENAME TABLE a TO b",
            "TRUNCATE t",
        ] {
            assert!(b.commits_on_its_own(ddl), "{ddl}");
        }
        for other in [
            "CREATE TEMPORARY TABLE t (id INT)",
            "DROP TEMPORARY TABLE t",
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET x = 1",
            "",
        ] {
            assert!(!b.commits_on_its_own(other), "{other}");
        }
    }

    #[test]
    fn lock_names_are_per_database_and_fit() {
        assert_eq!(lock_name("a.alembic_version"), "migrate:a.alembic_version");
        assert_ne!(
            lock_name("a.alembic_version"),
            lock_name("b.alembic_version")
        );
        let long_a = format!("{}.v", "d".repeat(63));
        let long_b = format!("{}.w", "d".repeat(63));
        assert_eq!(lock_name(&long_a).len(), 64);
        assert_ne!(lock_name(&long_a), lock_name(&long_b));
    }
}
