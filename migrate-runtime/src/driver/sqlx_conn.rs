//! [`Connection`] for a connection of sqlx's pool, written once for every database
//! sqlx drives; what differs per database is its [`SqlxDriver`] implementation, in the
//! database's own folder.

use super::{
    Arg, Backend, BoxFut, BoxFuture, Conn, Connection, Counted, HeldLock, Pool, Rows, Server,
};
use crate::error::MigrateError;
use futures_util::StreamExt;
use migrate_schema::Schema;
use sqlx::pool::PoolConnection;
use sqlx::{Row, TransactionManager};
use std::borrow::Cow;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// What the generic connection needs to know of a database sqlx drives.
pub(crate) trait SqlxDriver: sqlx::Database {
    /// The runner's facts and SQL for this database.
    fn backend() -> &'static dyn Backend;

    /// The most SQL text given to the driver in one request, when it must be cut into
    /// pieces of whole statements (see `sqlite::PIECE_BYTES`).
    fn piece_bytes() -> Option<usize> {
        None
    }

    /// The rows a statement inserted, updated or deleted.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The error for a pool whose acquire timeout passed, naming the server; `None`
    /// where a pool has no such wait (SQLite's).
    fn pool_timed_out(_pool: &sqlx::Pool<Self>) -> Option<MigrateError> {
        None
    }

    /// Takes the migration lock named `key` (see [`Pool::lock`]).
    fn lock<'a>(
        pool: &'a sqlx::Pool<Self>,
        key: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn HeldLock>>, MigrateError>>;

    /// Reads the schema of the database (see [`Pool::introspect`]).
    fn introspect(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Result<Schema, MigrateError>>;

    /// The server side of the pool (see [`Pool::server`]).
    fn server(_pool: &sqlx::Pool<Self>) -> Option<&dyn Server> {
        None
    }

    /// The connection driven inline (see [`Connection::into_inline`]), or the
    /// connection back (the default) where the database has no inline driver.
    #[allow(clippy::type_complexity)]
    fn into_inline(
        conn: PoolConnection<Self>,
        _interrupt: Arc<AtomicBool>,
    ) -> Result<
        BoxFuture<'static, (Box<dyn Connection>, Result<(), sqlx::Error>)>,
        PoolConnection<Self>,
    > {
        Err(conn)
    }
}

/// Every database sqlx drives has its pool as a [`Pool`], written once here; what
/// differs is its [`SqlxDriver`].
impl<DB> Pool for sqlx::Pool<DB>
where
    DB: SqlxDriver,
    SqlxConn<DB>: Connection,
{
    fn backend(&self) -> &'static dyn Backend {
        DB::backend()
    }

    fn acquire(&self) -> BoxFuture<'_, Result<Conn, MigrateError>> {
        Box::pin(async move {
            let conn = sqlx::Pool::acquire(self).await.map_err(|e| {
                match (&e, DB::pool_timed_out(self)) {
                    (sqlx::Error::PoolTimedOut, Some(timed_out)) => timed_out,
                    _ => MigrateError::db("cannot take a connection from the pool", e),
                }
            })?;
            Ok(Conn::new(Box::new(SqlxConn::new(conn))))
        })
    }

    fn lock<'a>(
        &'a self,
        key: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Option<Box<dyn HeldLock>>, MigrateError>> {
        DB::lock(self, key, timeout)
    }

    fn introspect(&self) -> BoxFuture<'_, Result<Schema, MigrateError>> {
        DB::introspect(self)
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(sqlx::Pool::close(self))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn server(&self) -> Option<&dyn Server> {
        DB::server(self)
    }
}

/// A connection of sqlx's pool; `None` only once [`Connection::into_inline`] took it.
pub(crate) struct SqlxConn<DB: sqlx::Database>(Option<PoolConnection<DB>>);

impl<DB: sqlx::Database> SqlxConn<DB> {
    pub(crate) fn new(conn: PoolConnection<DB>) -> SqlxConn<DB> {
        SqlxConn(Some(conn))
    }

    fn conn(&mut self) -> Result<&mut DB::Connection, sqlx::Error> {
        self.0.as_deref_mut().ok_or(sqlx::Error::PoolClosed)
    }
}

type Tm<DB> = <DB as sqlx::Database>::TransactionManager;

impl<DB> Connection for SqlxConn<DB>
where
    DB: SqlxDriver,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    fn backend(&self) -> &'static dyn Backend {
        DB::backend()
    }

    fn execute<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, u64> {
        Box::pin(async move {
            let Some(piece) = DB::piece_bytes() else {
                // A plain `&str` runs unprepared (the simple protocol), so several
                // statements may share one call.
                return sqlx::Executor::execute(self.conn()?, sql)
                    .await
                    .map(|r| DB::rows_affected(&r));
            };
            let mut changed = 0;
            for part in migrate_core::sql::statement_pieces(sql, piece) {
                let done = sqlx::Executor::execute(self.conn()?, part).await?;
                changed += DB::rows_affected(&done);
            }
            Ok(changed)
        })
    }

    fn execute_bound<'a>(&'a mut self, sql: &'a str, args: &'a [Arg<'a>]) -> BoxFut<'a, u64> {
        Box::pin(async move {
            bind(sqlx::query(sql), args)
                .execute(self.conn()?)
                .await
                .map(|r| DB::rows_affected(&r))
        })
    }

    fn execute_counted<'a>(&'a mut self, sql: &'a str) -> Counted<'a> {
        Box::pin(async move {
            let pieces = match DB::piece_bytes() {
                Some(piece) => migrate_core::sql::statement_pieces(sql, piece),
                None => vec![sql],
            };
            let mut done = 0usize;
            let conn = self.conn().map_err(|e| (0, e))?;
            for part in pieces {
                let mut results = sqlx::Executor::fetch_many(&mut *conn, part);
                while let Some(item) = results.next().await {
                    match item {
                        Ok(sqlx::Either::Left(_)) => done += 1,
                        Ok(sqlx::Either::Right(_)) => {}
                        Err(e) => return Err((done, e)),
                    }
                }
            }
            Ok(())
        })
    }

    fn query<'a>(&'a mut self, sql: &'a str, args: &'a [Arg<'a>]) -> BoxFut<'a, Rows> {
        Box::pin(async move {
            let rows = bind(sqlx::query(sql), args).fetch_all(self.conn()?).await?;
            rows.iter().map(text_row::<DB>).collect()
        })
    }

    fn begin(&mut self) -> BoxFut<'_, ()> {
        let statement = DB::backend().begin_statement().map(Cow::Borrowed);
        match self.conn() {
            Ok(c) => <Tm<DB> as TransactionManager>::begin(c, statement),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn commit(&mut self) -> BoxFut<'_, ()> {
        match self.conn() {
            Ok(c) => <Tm<DB> as TransactionManager>::commit(c),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn rollback(&mut self) -> BoxFut<'_, ()> {
        match self.conn() {
            Ok(c) => <Tm<DB> as TransactionManager>::rollback(c),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn in_transaction(&mut self) -> bool {
        self.0
            .as_deref()
            .is_some_and(|c| <Tm<DB> as TransactionManager>::get_transaction_depth(c) > 0)
    }

    fn sqlx_connection(&mut self) -> Option<&mut dyn std::any::Any> {
        self.0.as_deref_mut().map(|c| c as &mut dyn std::any::Any)
    }

    fn into_inline(
        self: Box<Self>,
        interrupt: Arc<AtomicBool>,
    ) -> BoxFuture<'static, (Box<dyn Connection>, Result<(), sqlx::Error>)> {
        let mut this = *self;
        match this.0.take() {
            Some(conn) => match DB::into_inline(conn, interrupt) {
                Ok(inline) => inline,
                Err(conn) => {
                    let same: Box<dyn Connection> = Box::new(SqlxConn::new(conn));
                    Box::pin(std::future::ready((same, Ok(()))))
                }
            },
            None => Box::pin(std::future::ready((
                Box::new(super::Lost) as Box<dyn Connection>,
                Err(sqlx::Error::PoolClosed),
            ))),
        }
    }

    fn into_driver(
        self: Box<Self>,
    ) -> BoxFuture<'static, Result<Box<dyn Connection>, sqlx::Error>> {
        Box::pin(std::future::ready(Ok(self as Box<dyn Connection>)))
    }
}

impl<DB: sqlx::Database> Drop for SqlxConn<DB> {
    fn drop(&mut self) {
        // A run dropped inside a transaction (its future cancelled, a panic): queue the
        // rollback, which the pool sends before the connection is used again.
        if let Some(c) = self.0.as_deref_mut() {
            if <Tm<DB> as TransactionManager>::get_transaction_depth(c) > 0 {
                <Tm<DB> as TransactionManager>::start_rollback(c);
            }
        }
    }
}

/// `query` with `args` bound in order.
fn bind<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments<'q>>,
    args: &'q [Arg<'q>],
) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for a in args {
        query = match *a {
            Arg::Text(t) => query.bind(t),
            Arg::OptText(t) => query.bind(t),
            Arg::Int(i) => query.bind(i),
        };
    }
    query
}

/// A row with every column as text: text columns as they are, integer columns in
/// decimal (the runner's queries cast anything else to one of the two).
fn text_row<DB>(row: &DB::Row) -> Result<Vec<Option<String>>, sqlx::Error>
where
    DB: sqlx::Database,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    (0..row.columns().len())
        .map(|i| match row.try_get::<Option<String>, _>(i) {
            Ok(text) => Ok(text),
            Err(sqlx::Error::ColumnDecode { .. }) => row
                .try_get::<Option<i64>, _>(i)
                .map(|n| n.map(|n| n.to_string())),
            Err(e) => Err(e),
        })
        .collect()
}
