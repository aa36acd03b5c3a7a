//! MySQL's and MariaDB's databases of the tools' own: scratch databases, the test
//! fixture's templates and copies, test suites' databases.

use crate::driver::{BoxFuture, Refused, Server};

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
            sqlx::raw_sql(&format!(
                "SET SESSION lock_wait_timeout = 10; DROP DATABASE IF EXISTS {name}"
            ))
            .execute(self)
            .await
            .map(|_| ())
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

/// Whether an error is ER_DBACCESS_DENIED_ERROR (1044, SQLSTATE 42000): no privilege.
fn denied(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().as_deref() == Some("42000") && d.message().contains("denied"))
}
