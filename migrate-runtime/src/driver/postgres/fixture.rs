//! PostgreSQL's side of the test fixture ([`crate::testing::fixture`]): the template is
//! a database closed to connections once migrated, and each copy is `CREATE DATABASE
//! migrate_fresh_… TEMPLATE migrate_tpl_…`.

use super::sqlstate;
use crate::driver::{BoxFuture, Server};
use crate::error::MigrateError;
use crate::testing::fixture::{
    connect_copy, server_template, sql_error, FixtureDriver, FixtureError, OnServer, ServerCopier,
    Templated,
};
use crate::{Database, Migrator};
use migrate_core::Dialect;
use std::time::Duration;

/// PostgreSQL's fixture.
pub(crate) struct Fixture;

impl FixtureDriver for Fixture {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn template<'a>(
        &'a self,
        m: &'a Migrator,
        url: &'a str,
        suffix: &'a str,
    ) -> BoxFuture<'a, Result<Templated, FixtureError>> {
        Box::pin(async move {
            let admin = super::connect(url, Database::DEFAULT_CONNECT_TIMEOUT).await?;
            let (name, ()) = server_template(
                m,
                url,
                suffix,
                &admin,
                "a role that may create databases (CREATEDB)",
                |name| close_to_connections(admin.clone(), name),
            )
            .await?;
            Ok((name, OnServer::copies(url, Copier { admin })))
        })
    }

    fn connect<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Database, MigrateError>> {
        use std::str::FromStr;
        Box::pin(connect_copy::<sqlx::Postgres>(
            url,
            sqlx::postgres::PgConnectOptions::from_str(url),
        ))
    }
}

/// No session may be on a template while it is copied: keeps everyone out of the
/// template `name` (autovacuum included).
async fn close_to_connections(admin: sqlx::PgPool, name: String) -> Result<(), FixtureError> {
    sqlx::raw_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&admin)
        .await
        .map(|_| ())
        .map_err(sql_error(format!(
            "cannot close the test template `{name}` to connections"
        )))
}

/// Copies a template on its server.
#[derive(Debug, Clone)]
struct Copier {
    admin: sqlx::PgPool,
}

impl ServerCopier for Copier {
    fn server(&self) -> &dyn Server {
        &self.admin
    }

    /// `CREATE DATABASE <name> TEMPLATE <template>`, retried for a while when a session
    /// is on the template (SQLSTATE 55006).
    fn copy_into<'a>(
        &'a self,
        template: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), FixtureError>> {
        Box::pin(async move {
            let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
            let mut pause = Duration::from_millis(10);
            let mut attempts = 0;
            loop {
                match sqlx::raw_sql(&sql).execute(&self.admin).await {
                    Ok(_) => return Ok(()),
                    Err(e) if sqlstate(&e).as_deref() == Some("55006") && attempts < 40 => {
                        attempts += 1;
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_millis(250));
                    }
                    Err(e) => {
                        return Err(sql_error(format!(
                        "cannot create the test database `{name}` from the template `{template}`"
                    ))(e))
                    }
                }
            }
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.admin.close())
    }
}
