//! MySQL's and MariaDB's databases of the tools' own: scratch databases, the test
//! fixture's templates and copies, test suites' databases.

use crate::driver::{return_once_running, BoxFuture, Refused, Seen, Server};

impl Server for sqlx::MySqlPool {
    fn create_database<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), Refused>> {
        Box::pin(async move {
            match sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(self)
                .await
            {
                Ok(_) => Ok(()),
                // ER_DBACCESS_DENIED_ERROR (1044), SQLSTATE 42000: no CREATE privilege.
                Err(e) if denied(&e) => Err(Refused::Denied(e)),
                Err(e) => Err(Refused::Failed(e)),
            }
        })
    }

    /// Waits at most ten seconds for a lock on it.
    fn drop_database<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let mut conn = self.acquire().await?;
            drop_on(&mut conn, name).await
        })
    }

    /// The drop on a connection taken out of the pool, seen running in the process
    /// list (its connection id on `DROP DATABASE` with no state, past its lock waits)
    /// or the database gone. MariaDB removes a database's tables one by one (seconds
    /// for a thousand) and finishes once past its locks though its client left; a drop
    /// still waiting for a lock is abandoned with its client, so that one is awaited.
    fn drop_database_unawaited<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let mut conn = self.acquire().await?.detach();
            let id: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
                .fetch_one(&mut conn)
                .await?;
            let owned = name.to_string();
            let request = Box::pin(async move {
                let dropped = drop_on(&mut conn, &owned).await;
                let _ = sqlx::Connection::close(conn).await;
                dropped
            });
            return_once_running(format!("dropping the database {name}"), request, || {
                Box::pin(seen_dropping(self, id, name))
            })
            .await
        })
    }

    fn database_names<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            sqlx::query_scalar(
                "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
            )
            .bind(format!("{}%", super::super::like_escaped(prefix)))
            .fetch_all(self)
            .await
            .unwrap_or_default()
        })
    }

    /// No schema inside a database to fall back to: the scratch databases' names can be
    /// granted instead.
    fn grant_hint(&self, _dev: bool) -> &'static str {
        "grant the user CREATE on the scratch databases' names: GRANT ALL ON `migrate\\_scratch\\_%`.* TO ..."
    }
}

/// `DROP DATABASE` on `conn`, waiting at most ten seconds for a lock on it. The
/// statement goes alone (the process list shows a request's current statement).
async fn drop_on(conn: &mut sqlx::MySqlConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::Executor::execute(&mut *conn, "SET SESSION lock_wait_timeout = 10").await?;
    let drop = format!("DROP DATABASE IF EXISTS {name}");
    sqlx::Executor::execute(conn, drop.as_str())
        .await
        .map(|_| ())
}

/// Whether the connection `id` is executing a `DROP DATABASE` past its locks (no state:
/// `checking permissions`, `Opening tables` and `Waiting for … lock` come before), or
/// `name` is gone (a user sees its own connections in the process list without
/// `PROCESS`).
async fn seen_dropping(admin: &sqlx::MySqlPool, id: i64, name: &str) -> Seen {
    let look = sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?), \
                (SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE ID = ? AND COMMAND = 'Query' AND INFO LIKE 'DROP DATABASE%' \
                   AND COALESCE(STATE, '') = '')",
    )
    .bind(name)
    .bind(id)
    .fetch_one(admin)
    .await;
    match look {
        Ok((0, _)) => Seen::Running,
        Ok((_, running)) if running > 0 => Seen::Running,
        Ok(_) => Seen::NotYet,
        Err(_) => Seen::CannotTell,
    }
}

/// Whether an error is ER_DBACCESS_DENIED_ERROR (1044, SQLSTATE 42000): no privilege.
fn denied(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().as_deref() == Some("42000") && d.message().contains("denied"))
}
