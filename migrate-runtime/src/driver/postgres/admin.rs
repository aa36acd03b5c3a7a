//! PostgreSQL's databases and schemas of the tools' own: scratch databases, the test
//! fixture's templates and copies, test suites' databases.

use crate::driver::{return_once_running, BoxFuture, Refused, Seen, Server};

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

/// `DROP DATABASE … WITH (FORCE)` on `conn`, plain before PostgreSQL 13 (no FORCE).
async fn drop_on(conn: &mut sqlx::PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let plain = format!("DROP DATABASE IF EXISTS {name}");
    let force = format!("{plain} WITH (FORCE)");
    match sqlx::Executor::execute(&mut *conn, force.as_str()).await {
        Err(e) if sqlstate(&e).as_deref() == Some("42601") => {
            sqlx::Executor::execute(conn, plain.as_str())
                .await
                .map(|_| ())
        }
        r => r.map(|_| ()),
    }
}

/// Whether the backend `pid` is executing a `DROP DATABASE`, or `name` is gone. A
/// backend's activity is in shared memory as soon as it starts a statement; it reads
/// `disabled` where `track_activities` is off, and nothing for another role's
/// sessions without `pg_read_all_stats`.
async fn seen_dropping(admin: &sqlx::PgPool, pid: i32, name: &str) -> Seen {
    let look = sqlx::query_as::<_, (bool, Option<String>, Option<bool>)>(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = $2), \
                a.state, a.query ILIKE 'DROP DATABASE%' \
         FROM (SELECT 1) AS one LEFT JOIN pg_stat_activity AS a ON a.pid = $1",
    )
    .bind(pid)
    .bind(name)
    .fetch_one(admin)
    .await;
    match look {
        Ok((true, _, _)) => Seen::Running,
        Ok((false, Some(state), Some(true))) if state == "active" => Seen::Running,
        Ok((false, Some(state), _)) if state != "disabled" => Seen::NotYet,
        _ => Seen::CannotTell,
    }
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
            let mut conn = self.acquire().await?;
            drop_on(&mut conn, name).await
        })
    }

    /// The drop on a connection taken out of the pool, seen running in
    /// `pg_stat_activity` (its backend's pid active on `DROP DATABASE`) or the database
    /// gone from `pg_database`. PostgreSQL 15 ends a drop with an immediate checkpoint
    /// of the whole cluster (seconds after a large scratch), which the backend then
    /// finishes alone.
    fn drop_database_unawaited<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let mut conn = self.acquire().await?.detach();
            // The drop must run to its end after this process exits: no role's statement
            // timeout cuts it short, and the backend does not look for its client while
            // it runs (PostgreSQL 14's setting, absent before, hence the error ignored).
            sqlx::Executor::execute(&mut conn, "SET statement_timeout = 0").await?;
            let _ = sqlx::Executor::execute(&mut conn, "SET client_connection_check_interval = 0")
                .await;
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&mut conn)
                .await?;
            let owned = name.to_string();
            let request = Box::pin(async move {
                let dropped = drop_on(&mut conn, &owned).await;
                let _ = sqlx::Connection::close(conn).await;
                dropped
            });
            return_once_running(format!("dropping the database {name}"), request, || {
                Box::pin(seen_dropping(self, pid, name))
            })
            .await
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

    /// Sets `search_path` to the scratch schema, and `synchronous_commit = off`: nothing
    /// in a scratch needs to survive a crash, so its commits (one per migration) need
    /// not wait for the WAL to reach disk. One `options` parameter, which libpq too
    /// reads whole (it keeps only the last of several).
    fn scratch_url(&self, url: &str, schema: Option<&str>) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        let search_path = schema
            .map(|s| format!("-c%20search_path%3D{s}%20"))
            .unwrap_or_default();
        format!("{url}{sep}options={search_path}-c%20synchronous_commit%3Doff")
    }

    fn grant_hint(&self, dev: bool) -> &'static str {
        if dev {
            "grant its role CREATEDB, or CREATE on the dev database for scratch schemas inside it"
        } else {
            "grant the role CREATEDB"
        }
    }
}
