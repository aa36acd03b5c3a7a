//! Opening connections and pools to the servers, with one timeout for TCP, TLS and the
//! login, shared by the server databases' drivers.

#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::error::{mask_url, MigrateError};
use std::time::Duration;

/// How [`Database::connect_with`] opens a database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// How long to wait for a server to answer (TCP, TLS and login).
    pub timeout: Duration,
    /// Whether a missing SQLite file is created (the default) or an error.
    pub create_if_missing: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            timeout: super::Database::DEFAULT_CONNECT_TIMEOUT,
            create_if_missing: true,
        }
    }
}

impl ConnectOptions {
    /// Sets the connect timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets whether a missing SQLite file is created.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }
}

/// Opens one connection, giving up after `timeout`: TCP, TLS and the login all count.
/// A server that accepts and never answers (or a server of another kind, for a MySQL
/// client that waits for the server to speak first) would otherwise hold the caller for
/// as long as the operating system keeps the socket open. `url` (masked) and `addr`
/// name the server in the error, `what` what did not answer.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn connect_within<C: sqlx::Connection>(
    opts: &<C as sqlx::Connection>::Options,
    timeout: Duration,
    url: String,
    addr: String,
    what: &'static str,
) -> Result<Result<C, sqlx::Error>, MigrateError> {
    tokio::time::timeout(timeout, C::connect_with(opts))
        .await
        .map_err(|_| MigrateError::ConnectTimeout {
            url,
            addr,
            what,
            timeout,
        })
}

/// A pool on a server with its first connection open, so that the server is known to
/// answer and the first query does not pay for a second login. A refused TCP port is
/// found by a bare TCP connect first (`tcp`: the host and port, `None` for a Unix
/// socket): the pool itself retries refused connections until its acquire timeout and
/// would then report only that it timed out. A server that accepts and never answers
/// is given up on after `timeout`, named by `addr` and `handshake`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) async fn open_pool<DB: sqlx::Database>(
    url: &str,
    opts: <DB::Connection as sqlx::Connection>::Options,
    timeout: Duration,
    addr: String,
    handshake: &'static str,
    tcp: Option<(String, u16)>,
) -> Result<sqlx::Pool<DB>, MigrateError> {
    let timed_out = |addr: String| MigrateError::ConnectTimeout {
        url: mask_url(url),
        addr,
        what: handshake,
        timeout,
    };
    if let Some((host, port)) = tcp {
        match tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Err(_) => return Err(timed_out(addr)),
            Ok(Err(e)) => {
                return Err(MigrateError::Connect {
                    url: mask_url(url),
                    source: sqlx::Error::Io(e),
                })
            }
            Ok(Ok(_)) => {}
        }
    }
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(2)
        .acquire_timeout(timeout)
        .connect_with(opts);
    match tokio::time::timeout(timeout, pool).await {
        Err(_) | Ok(Err(sqlx::Error::PoolTimedOut)) => Err(timed_out(addr)),
        Ok(Err(source)) => Err(MigrateError::Connect {
            url: mask_url(url),
            source,
        }),
        Ok(Ok(pool)) => Ok(pool),
    }
}
