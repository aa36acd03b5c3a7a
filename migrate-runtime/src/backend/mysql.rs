//! MySQL and MariaDB: `GET_LOCK` on a connection of its own.

#[cfg(feature = "mysql")]
use crate::error::MigrateError;
#[cfg(feature = "mysql")]
use sqlx::{Connection, MySqlConnection};
#[cfg(feature = "mysql")]
use std::time::{Duration, Instant};

#[cfg(feature = "mysql")]
pub(crate) async fn connect(url: &str) -> Result<sqlx::MySqlPool, sqlx::Error> {
    let url = match url.strip_prefix("mariadb") {
        Some(rest) => format!("mysql{rest}"),
        None => url.to_string(),
    };
    use std::str::FromStr;
    let opts = sqlx::mysql::MySqlConnectOptions::from_str(&url)?;
    // One direct connection first: a pool retries a refused connection until its
    // acquire timeout and then reports only that it timed out.
    let probe = MySqlConnection::connect_with(&opts).await?;
    let _ = probe.close().await;
    Ok(sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with(opts))
}

pub(crate) fn history_ddl(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    id BIGINT AUTO_INCREMENT PRIMARY KEY,\n    revision VARCHAR(32) NOT NULL,\n    direction VARCHAR(16) NOT NULL,\n    checksum VARCHAR(64),\n    applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),\n    duration_ms BIGINT NOT NULL DEFAULT 0\n)"
    )
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
    // Lock names are limited to 64 characters.
    let name: String = format!("migrate:{key}").chars().take(64).collect();
    let mut conn = MySqlConnection::connect_with(&pool.connect_options())
        .await
        .map_err(|e| MigrateError::db("cannot open the lock connection", e))?;
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
