//! PostgreSQL's databases and schemas of the tools' own: scratch databases, the test
//! fixture's templates and copies, test suites' databases.

use crate::driver::{BoxFuture, Refused, Server};

/// The SQLSTATE of a server error.
pub(crate) fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// A refusal for lack of privilege (SQLSTATE 42501) apart from other failures.
fn refused(e: sqlx::Error) -> Refused {
    if sqlstate(&e).as_deref() == Some("42501") {
        Refused::Denied(e)
    } else {
        Refused::Failed(e)
    }
}

async fn run(admin: &sqlx::PgPool, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(admin).await.map(|_| ())
}

/// Names of the catalog `list` query (one text column, `$1` the `LIKE` pattern).
async fn names(admin: &sqlx::PgPool, list: &str, prefix: &str) -> Vec<String> {
    sqlx::query_scalar(list)
        .bind(format!("{}%", super::super::like_escaped(prefix)))
        .fetch_all(admin)
        .await
        .unwrap_or_default()
}

impl Server for sqlx::PgPool {
    fn create_database<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), Refused>> {
        Box::pin(async move {
            run(self, &format!("CREATE DATABASE {name}"))
                .await
                .map_err(refused)
        })
    }

    /// `DROP DATABASE … WITH (FORCE)`, ending the sessions still on it (a plain drop
    /// before PostgreSQL 13, which has no FORCE).
    fn drop_database<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let plain = format!("DROP DATABASE IF EXISTS {name}");
            match run(self, &format!("{plain} WITH (FORCE)")).await {
                Err(e) if sqlstate(&e).as_deref() == Some("42601") => run(self, &plain).await,
                r => r,
            }
        })
    }

    fn database_names<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(names(
            self,
            "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
            prefix,
        ))
    }

    fn create_schema<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), Refused>> {
        Box::pin(async move {
            run(self, &format!("CREATE SCHEMA {name}"))
                .await
                .map_err(refused)
        })
    }

    fn drop_schema<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            run(
                self,
                &format!("SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"),
            )
            .await
        })
    }

    fn schema_names<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(names(
            self,
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1",
            prefix,
        ))
    }

    fn has_schemas(&self) -> bool {
        true
    }

    fn in_schema(&self, url: &str, schema: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{schema}")
    }

    fn grant_hint(&self, dev: bool) -> &'static str {
        if dev {
            "grant its role CREATEDB, or CREATE on the dev database for scratch schemas inside it"
        } else {
            "grant the role CREATEDB"
        }
    }
}
