//! PostgreSQL: advisory lock on a connection of its own.

#[cfg(feature = "postgres")]
mod admin;
#[cfg(all(feature = "postgres", feature = "testing-fixture"))]
pub(crate) use admin::sqlstate;
/// The test fixture's templates and copies.
#[cfg(feature = "postgres")]
mod introspect;
#[cfg(feature = "postgres")]
mod objects;

#[cfg(feature = "postgres")]
use super::tls::NamedCa;
#[cfg(feature = "postgres")]
use crate::error::{mask_url, MigrateError};
#[cfg(feature = "postgres")]
use sqlx::{
    postgres::{PgConnectOptions, PgSslMode},
    Connection, PgConnection,
};
#[cfg(feature = "postgres")]
use std::time::{Duration, Instant};

#[cfg(feature = "postgres")]
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<sqlx::PgPool, MigrateError> {
    use std::str::FromStr;
    let opts = PgConnectOptions::from_str(url).map_err(|source| MigrateError::Connect {
        url: mask_url(url),
        source,
    })?;
    let at = addr(&opts);
    let tcp = opts
        .get_socket()
        .is_none()
        .then(|| (opts.get_host().to_string(), opts.get_port()));
    if let Some(ca) = named_ca(url, &opts)? {
        // PostgreSQL offers no TLS on a Unix socket: only a TCP server is checked.
        if let Some((host, port)) = &tcp {
            let check_name = matches!(opts.get_ssl_mode(), PgSslMode::VerifyFull);
            let errors = (mask_url(url), at.clone(), HANDSHAKE, timeout);
            ca.verify_server(host, *port, check_name, request_tls, errors)
                .await?;
        }
    }
    super::open_pool::<sqlx::Postgres>(url, opts, timeout, at, HANDSHAKE, tcp).await
}

/// The CA a verifying URL (`verify-ca`, `verify-full`) names, read and checked: the
/// URL's `sslrootcert` (or sqlx's other spellings of it), else `PGSSLROOTCERT` as sqlx
/// reads it. `None` when the mode does not verify or no CA is named (the system's roots
/// are trusted then).
#[cfg(feature = "postgres")]
fn named_ca(url: &str, opts: &PgConnectOptions) -> Result<Option<NamedCa>, MigrateError> {
    if !matches!(
        opts.get_ssl_mode(),
        PgSslMode::VerifyCa | PgSslMode::VerifyFull
    ) {
        return Ok(None);
    }
    let in_url = url::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .filter(|(k, _)| matches!(&**k, "sslrootcert" | "ssl-root-cert" | "ssl-ca"))
            .last()
            .map(|(_, v)| v.into_owned())
    });
    let (value, param) = match in_url {
        Some(v) => (v, "sslrootcert"),
        None => match std::env::var("PGSSLROOTCERT") {
            Ok(v) => (v, "PGSSLROOTCERT"),
            Err(_) => return Ok(None),
        },
    };
    NamedCa::read(&value, param)
        .map(Some)
        .map_err(|problem| MigrateError::TlsCa {
            url: mask_url(url),
            problem,
        })
}

/// Asks the server for TLS as a PostgreSQL client does before its startup message (an
/// `SSLRequest`); whether it agreed (`S`).
#[cfg(feature = "postgres")]
fn request_tls(sock: &mut std::net::TcpStream) -> std::io::Result<bool> {
    use std::io::{Read, Write};
    // Length 8, then the request code 80877103.
    sock.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])?;
    let mut answer = [0u8];
    sock.read_exact(&mut answer)?;
    Ok(answer[0] == b'S')
}

#[cfg(feature = "postgres")]
const HANDSHAKE: &str = "no answer to the PostgreSQL handshake";

/// The error for a pool whose acquire timeout passed.
#[cfg(feature = "postgres")]
pub(crate) fn pool_timed_out(pool: &sqlx::PgPool) -> MigrateError {
    let opts = pool.connect_options();
    MigrateError::ConnectTimeout {
        url: describe(&opts),
        addr: addr(&opts),
        what: "no pooled PostgreSQL connection became available",
        timeout: pool.options().get_acquire_timeout(),
    }
}

/// `host:port`, or the socket path.
#[cfg(feature = "postgres")]
fn addr(opts: &PgConnectOptions) -> String {
    match opts.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    }
}

/// A URL for messages, without the password, when the original is not at hand.
#[cfg(feature = "postgres")]
fn describe(opts: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}/{}",
        opts.get_username(),
        addr(opts),
        opts.get_database().unwrap_or_default()
    )
}

/// Postgres's answers to the runner's questions (see [`super::Backend`]).
pub(crate) struct Postgres;

impl super::Backend for Postgres {
    /// A data-modifying `WITH`: the version change and the history row of a step in
    /// one round trip, answering the rows they touched.
    fn joins_bound_statements(&self) -> bool {
        true
    }

    fn joined_request(&self, statements: &[String]) -> super::JoinedRequest {
        let mut ctes = Vec::new();
        let mut counts = Vec::new();
        for (i, statement) in statements.iter().enumerate() {
            ctes.push(format!("s{i} AS ({statement} RETURNING 1)"));
            counts.push(format!("(SELECT count(*) FROM s{i})"));
        }
        super::JoinedRequest::Count(format!(
            "WITH {} SELECT {}",
            ctes.join(", "),
            counts.join(" + ")
        ))
    }

    fn dialect(&self) -> migrate_core::Dialect {
        migrate_core::Dialect::Postgres
    }

    fn history_ddl(&self, table: &str) -> String {
        super::backend::history_table(
            table,
            "BIGSERIAL PRIMARY KEY",
            "TIMESTAMPTZ NOT NULL DEFAULT now()",
        )
    }

    /// Where each unfinished resumable migration stands (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String {
        super::backend::progress_table(table, "TIMESTAMPTZ NOT NULL DEFAULT now()")
    }

    /// A multi-statement request is a transaction block of its own, where
    /// `CREATE INDEX CONCURRENTLY`, `VACUUM` and the like may not run.
    fn splits_outside_transactions(&self) -> bool {
        true
    }

    /// Without a database in the URL, the server takes the user's name.
    #[cfg(feature = "postgres")]
    fn location(&self, url: &str) -> Option<(String, u16, String)> {
        use std::str::FromStr;
        let o = PgConnectOptions::from_str(url).ok()?;
        let at = match o.get_socket() {
            Some(dir) => dir.display().to_string(),
            None => super::backend::same_host(o.get_host()),
        };
        let db = o.get_database().unwrap_or(o.get_username()).to_string();
        Some((at, o.get_port(), db))
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn fingerprint_query(&self) -> &'static str {
        // A new database copies template1 (encoding, locale); extensions come from the
        // server's installed packages, whose versions may change without the server's.
        "SELECT version() || '|' || current_setting('server_encoding') \
           || '|' || current_setting('default_table_access_method') \
           || '|' || (SELECT datcollate || '|' || datctype FROM pg_database WHERE datname = 'template1') \
           || '|' || coalesce((SELECT string_agg(name || '=' || coalesce(default_version, ''), ',' ORDER BY name) \
                               FROM pg_available_extensions), '')"
    }

    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool {
        e.code().as_deref() == Some("42P01")
    }

    fn failure_hint(&self, message: &str) -> Option<&'static str> {
        if message.contains("cannot run inside a transaction block")
            || message.contains("cannot be executed within a pipeline")
        {
            // CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE (< 12).
            return Some("this statement cannot run in a transaction: put it in a revision of its own with `-- transactional: false` in the header");
        }
        None
    }

    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String {
        super::backend::upsert_on_conflict(table, values)
    }

    fn cast(&self, expr: &str, text: bool) -> String {
        let ty = if text { "TEXT" } else { "BIGINT" };
        format!("CAST({expr} AS {ty})")
    }
}

/// A held `pg_advisory_lock`.
#[cfg(feature = "postgres")]
pub(crate) struct PgLock {
    conn: PgConnection,
    key: i64,
}

#[cfg(feature = "postgres")]
pub(crate) async fn lock(
    pool: &sqlx::PgPool,
    name: &str,
    timeout: Duration,
) -> Result<PgLock, MigrateError> {
    let key = super::lock_key(name);
    let opts = pool.connect_options();
    let within = pool.options().get_acquire_timeout();
    let what = "no answer to the PostgreSQL handshake on the lock connection";
    let mut conn =
        super::connect_within::<PgConnection>(&opts, within, describe(&opts), addr(&opts), what)
            .await?
            .map_err(|e| MigrateError::db("cannot open the lock connection", e))?;
    let started = Instant::now();
    // Polling `pg_try_advisory_lock` keeps the wait bounded without a server-side
    // timeout setting that would leak into the session.
    let mut pause = Duration::from_millis(5);
    loop {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| MigrateError::db("cannot take the migration lock", e))?;
        if got {
            return Ok(PgLock { conn, key });
        }
        if started.elapsed() >= timeout {
            let _ = conn.close().await;
            return Err(MigrateError::LockTimeout {
                waited: started.elapsed(),
                what: format!("pg_advisory_lock({key})"),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(feature = "postgres")]
impl PgLock {
    pub(crate) async fn release(mut self) -> Result<(), MigrateError> {
        let unlocked = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .fetch_one(&mut self.conn)
            .await;
        // Closing the session frees the lock even when the unlock statement failed.
        let _ = self.conn.close().await;
        unlocked
            .map(|_| ())
            .map_err(|e| MigrateError::db("cannot release the migration lock", e))
    }
}

#[cfg(feature = "postgres")]
impl super::sqlx_conn::SqlxDriver for sqlx::Postgres {
    fn lock<'a>(
        pool: &'a sqlx::PgPool,
        key: &'a str,
        timeout: Duration,
    ) -> super::BoxFuture<'a, Result<Option<Box<dyn super::HeldLock>>, MigrateError>> {
        Box::pin(async move {
            let held = lock(pool, key, timeout).await?;
            Ok(Some(Box::new(held) as Box<dyn super::HeldLock>))
        })
    }

    fn introspect(
        pool: &sqlx::PgPool,
    ) -> super::BoxFuture<'_, Result<migrate_schema::Schema, MigrateError>> {
        Box::pin(introspect::introspect(pool))
    }

    fn pool_timed_out(pool: &sqlx::PgPool) -> Option<MigrateError> {
        Some(pool_timed_out(pool))
    }

    fn server(pool: &sqlx::PgPool) -> Option<&dyn super::Server> {
        Some(pool)
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn backend() -> &'static dyn super::Backend {
        &Postgres
    }
}

#[cfg(feature = "postgres")]
impl super::HeldLock for PgLock {
    fn release(self: Box<Self>) -> super::BoxFuture<'static, Result<(), MigrateError>> {
        Box::pin((*self).release())
    }
}
