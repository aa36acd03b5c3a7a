//! PostgreSQL: advisory lock on a connection of its own.

#[cfg(feature = "postgres")]
use crate::error::MigrateError;
#[cfg(feature = "postgres")]
use sqlx::{Connection, PgConnection};
#[cfg(feature = "postgres")]
use std::time::{Duration, Instant};

#[cfg(feature = "postgres")]
pub(crate) async fn connect(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {
    use std::str::FromStr;
    let opts = sqlx::postgres::PgConnectOptions::from_str(url)?;
    // One direct connection first: a pool retries a refused connection until its
    // acquire timeout and then reports only that it timed out.
    let probe = PgConnection::connect_with(&opts).await?;
    let _ = probe.close().await;
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with(opts))
}

pub(crate) fn history_ddl(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    id BIGSERIAL PRIMARY KEY,\n    revision VARCHAR(32) NOT NULL,\n    direction VARCHAR(16) NOT NULL,\n    checksum VARCHAR(64),\n    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n    duration_ms BIGINT NOT NULL DEFAULT 0\n)"
    )
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
    let mut conn = PgConnection::connect_with(&pool.connect_options())
        .await
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
