//! PostgreSQL: advisory lock on a connection of its own.

#[cfg(feature = "postgres")]
use crate::error::{mask_url, MigrateError};
#[cfg(feature = "postgres")]
use sqlx::{postgres::PgConnectOptions, Connection, PgConnection};
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
    super::open_pool::<sqlx::Postgres>(url, opts, timeout, at, HANDSHAKE, tcp).await
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
        super::history_table(
            table,
            "BIGSERIAL PRIMARY KEY",
            "TIMESTAMPTZ NOT NULL DEFAULT now()",
        )
    }

    /// Where each unfinished resumable migration stands (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String {
        super::progress_table(table, "TIMESTAMPTZ NOT NULL DEFAULT now()")
    }

    /// A multi-statement request is a transaction block of its own, where
    /// `CREATE INDEX CONCURRENTLY`, `VACUUM` and the like may not run.
    fn splits_outside_transactions(&self) -> bool {
        true
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool {
        e.code().as_deref() == Some("42P01")
    }

    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String {
        super::upsert_on_conflict(table, values)
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
