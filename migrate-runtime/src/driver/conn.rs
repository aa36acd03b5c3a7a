//! One connection of any database, as the runner and the tools use it: the
//! [`Connection`] trait each driver implements, and [`Conn`], the owner the runner
//! holds, which checks what every database needs checked before a request and can
//! swap a connection for another implementation of the same database (SQLite's inline
//! handle) between requests.

use super::{Backend, BoxFut, BoxFuture, Counted};
use crate::error::MigrateError;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A bound parameter of the runner's own statements.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// Text.
    Text(&'a str),
    /// Text or `NULL`.
    OptText(Option<&'a str>),
    /// A 64-bit integer.
    Int(i64),
}

/// Rows of a query, every column as text (`None` for NULL); integer columns are
/// written in decimal.
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// One connection of a database. Each driver implements every method: a connection
/// that cannot answer a request says so in its error, never by handing the request to
/// another connection.
pub(crate) trait Connection: Send {
    /// The runner's facts and SQL for this database.
    fn backend(&self) -> &'static dyn Backend;

    /// Runs SQL text (one or several statements) and returns the rows affected.
    fn execute<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, u64>;

    /// Runs one statement with bound parameters (prepared once per connection and
    /// reused) and returns the rows affected.
    fn execute_bound<'a>(&'a mut self, sql: &'a str, args: &'a [Arg<'a>]) -> BoxFut<'a, u64>;

    /// Runs SQL text of several statements as one request and, when one fails, says
    /// how many completed before it.
    fn execute_counted<'a>(&'a mut self, sql: &'a str) -> Counted<'a>;

    /// The rows of a query with bound parameters, as text.
    fn query<'a>(&'a mut self, sql: &'a str, args: &'a [Arg<'a>]) -> BoxFut<'a, Rows>;

    /// Opens a transaction with the backend's statement, known to the connection: if
    /// the future running a migration is dropped half-way, the connection rolls it back
    /// before anyone else uses it.
    fn begin(&mut self) -> BoxFut<'_, ()>;

    /// Commits the open transaction.
    fn commit(&mut self) -> BoxFut<'_, ()>;

    /// Rolls the open transaction back.
    fn rollback(&mut self) -> BoxFut<'_, ()>;

    /// Whether a transaction is open on this connection.
    fn in_transaction(&mut self) -> bool;

    /// Whether this connection is SQLite's handle driven inline (see
    /// `sqlite/inline.rs`).
    fn is_inline(&self) -> bool {
        false
    }

    /// sqlx's own connection (`SqliteConnection`, `PgConnection`, `MySqlConnection`),
    /// for Rust migrations; `None` where the connection is not sqlx's to lend.
    fn sqlx_connection(&mut self) -> Option<&mut dyn std::any::Any>;

    /// This connection driven inline, its statements interrupted once `interrupt` is
    /// set; this same connection where the database has no inline driver. On failure,
    /// the connection as it was and the error.
    fn into_inline(
        self: Box<Self>,
        interrupt: Arc<AtomicBool>,
    ) -> BoxFuture<'static, (Box<dyn Connection>, Result<(), sqlx::Error>)>;

    /// The connection back on its driver, from an inline one (no transaction may be
    /// open); this same connection otherwise.
    fn into_driver(self: Box<Self>)
        -> BoxFuture<'static, Result<Box<dyn Connection>, sqlx::Error>>;
}

/// The connection a run works on.
pub(crate) struct Conn {
    inner: Box<dyn Connection>,
}

impl Conn {
    pub(crate) fn new(inner: Box<dyn Connection>) -> Conn {
        Conn { inner }
    }

    /// The runner's facts and SQL for this database.
    pub(crate) fn backend(&self) -> &'static dyn Backend {
        self.inner.backend()
    }

    /// The dialect of this connection's database.
    pub(crate) fn dialect(&self) -> migrate_core::Dialect {
        self.backend().dialect()
    }

    /// Runs SQL text (one or several statements) and returns the rows affected.
    pub(crate) fn execute<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, u64> {
        match refuse_nul(sql) {
            Ok(()) => self.inner.execute(sql),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    /// Runs one statement with bound parameters and returns the rows affected.
    pub(crate) fn execute_bound<'a>(
        &'a mut self,
        sql: &'a str,
        args: &'a [Arg<'a>],
    ) -> BoxFut<'a, u64> {
        match refuse_nul(sql) {
            Ok(()) => self.inner.execute_bound(sql, args),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    /// Runs SQL text of several statements as one request and, when one fails, says
    /// how many completed before it.
    pub(crate) fn execute_counted<'a>(&'a mut self, sql: &'a str) -> Counted<'a> {
        match refuse_nul(sql) {
            Ok(()) => self.inner.execute_counted(sql),
            Err(e) => Box::pin(std::future::ready(Err((0, e)))),
        }
    }

    /// The rows of a query with bound parameters, as text.
    pub(crate) async fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Rows, sqlx::Error> {
        refuse_nul(sql)?;
        self.inner.query(sql, args).await
    }

    /// Runs a query with bound parameters returning one 64-bit integer.
    pub(crate) async fn count_bound(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<i64, sqlx::Error> {
        let rows = self.query(sql, args).await?;
        let value = rows
            .into_iter()
            .next()
            .ok_or(sqlx::Error::RowNotFound)?
            .into_iter()
            .next()
            .flatten();
        integer(value.as_deref())
    }

    /// Runs a query returning one text column, never NULL.
    pub(crate) async fn strings(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        self.query(sql, &[])
            .await?
            .into_iter()
            .map(|row| row.into_iter().next().flatten().ok_or_else(unexpected_null))
            .collect()
    }

    /// The first column of the one row a query returns.
    pub(crate) async fn optional_string(
        &mut self,
        sql: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let rows = self.query(sql, &[]).await?;
        let row = rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)?;
        Ok(row.into_iter().next().flatten())
    }

    /// Runs a query returning two text columns, the second nullable.
    pub(crate) async fn pairs(
        &mut self,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
        self.query(sql, &[])
            .await?
            .into_iter()
            .map(|row| {
                let mut cols = row.into_iter();
                let first = cols.next().flatten().ok_or_else(unexpected_null)?;
                Ok((first, cols.next().flatten()))
            })
            .collect()
    }

    /// Runs a query returning three text columns, the third nullable.
    pub(crate) async fn triples(
        &mut self,
        sql: &str,
    ) -> Result<Vec<(String, String, Option<String>)>, sqlx::Error> {
        self.query(sql, &[])
            .await?
            .into_iter()
            .map(|row| {
                let mut cols = row.into_iter();
                let first = cols.next().flatten().ok_or_else(unexpected_null)?;
                let second = cols.next().flatten().ok_or_else(unexpected_null)?;
                Ok((first, second, cols.next().flatten()))
            })
            .collect()
    }

    /// Whether an error says the table does not exist.
    pub(crate) fn is_missing_table(&self, e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if self.backend().is_missing_table(db.as_ref()))
    }

    /// Whether an error says a lock could not be had in time (SQLite's busy timeout).
    pub(crate) fn is_busy(&self, e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if self.backend().is_busy(db.as_ref()))
    }

    /// Opens a transaction (see [`Connection::begin`]).
    pub(crate) fn begin(&mut self) -> BoxFut<'_, ()> {
        self.inner.begin()
    }

    /// Commits the open transaction.
    pub(crate) fn commit(&mut self) -> BoxFut<'_, ()> {
        self.inner.commit()
    }

    /// Rolls the open transaction back.
    pub(crate) fn rollback(&mut self) -> BoxFut<'_, ()> {
        self.inner.rollback()
    }

    /// Whether a transaction is open on this connection.
    pub(crate) fn in_transaction(&mut self) -> bool {
        self.inner.in_transaction()
    }

    /// Whether this connection is SQLite's handle driven inline.
    pub(crate) fn is_direct(&self) -> bool {
        self.inner.is_inline()
    }

    /// sqlx's own connection of this database, for Rust migrations.
    pub(crate) fn sqlx_connection<C: 'static>(&mut self) -> Option<&mut C> {
        self.inner.sqlx_connection()?.downcast_mut()
    }

    /// Drives the connection inline for the requests that follow (SQLite; a no-op
    /// elsewhere), its statements interrupted once `interrupt` is set; or, given
    /// `None`, back on its driver. Switch only with no transaction open: one opened on
    /// either side is unknown to the other.
    pub(crate) async fn go_direct(
        &mut self,
        interrupt: Option<Arc<AtomicBool>>,
    ) -> Result<(), sqlx::Error> {
        if interrupt.is_some() == self.inner.is_inline() {
            return Ok(());
        }
        // Left in place if this future is dropped half-way: the connection went with
        // it, and a request now says so.
        let current = std::mem::replace(&mut self.inner, Box::new(Lost));
        match interrupt {
            Some(flag) => {
                let (conn, result) = current.into_inline(flag).await;
                self.inner = conn;
                result
            }
            None => {
                self.inner = current.into_driver().await?;
                Ok(())
            }
        }
    }
}

/// An integer column read as text.
fn integer(value: Option<&str>) -> Result<i64, sqlx::Error> {
    let value = value.ok_or_else(unexpected_null)?;
    value
        .parse()
        .map_err(|_| sqlx::Error::Decode(format!("not an integer: {value:?}").into()))
}

fn unexpected_null() -> sqlx::Error {
    sqlx::Error::Decode("unexpected NULL".into())
}

/// What stands in for a connection that was lost while changing hands (its inline
/// driver could not give it back): every request is an error saying so.
pub(crate) struct Lost;

fn lost() -> sqlx::Error {
    sqlx::Error::PoolClosed
}

impl Connection for Lost {
    fn backend(&self) -> &'static dyn Backend {
        // Any: no request reaches the database.
        super::of(migrate_core::Dialect::Sqlite)
    }
    fn execute<'a>(&'a mut self, _: &'a str) -> BoxFut<'a, u64> {
        Box::pin(std::future::ready(Err(lost())))
    }
    fn execute_bound<'a>(&'a mut self, _: &'a str, _: &'a [Arg<'a>]) -> BoxFut<'a, u64> {
        Box::pin(std::future::ready(Err(lost())))
    }
    fn execute_counted<'a>(&'a mut self, _: &'a str) -> Counted<'a> {
        Box::pin(std::future::ready(Err((0, lost()))))
    }
    fn query<'a>(&'a mut self, _: &'a str, _: &'a [Arg<'a>]) -> BoxFut<'a, Rows> {
        Box::pin(std::future::ready(Err(lost())))
    }
    fn begin(&mut self) -> BoxFut<'_, ()> {
        Box::pin(std::future::ready(Err(lost())))
    }
    fn commit(&mut self) -> BoxFut<'_, ()> {
        Box::pin(std::future::ready(Err(lost())))
    }
    fn rollback(&mut self) -> BoxFut<'_, ()> {
        Box::pin(std::future::ready(Err(lost())))
    }
    fn in_transaction(&mut self) -> bool {
        false
    }
    fn sqlx_connection(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
    fn into_inline(
        self: Box<Self>,
        _: Arc<AtomicBool>,
    ) -> BoxFuture<'static, (Box<dyn Connection>, Result<(), sqlx::Error>)> {
        Box::pin(std::future::ready((
            self as Box<dyn Connection>,
            Err(lost()),
        )))
    }
    fn into_driver(
        self: Box<Self>,
    ) -> BoxFuture<'static, Result<Box<dyn Connection>, sqlx::Error>> {
        Box::pin(std::future::ready(Err(lost())))
    }
}

/// A held migration lock; [`HeldLock::release`] must be called on every path (a
/// dropped one is freed when its connection or file closes).
pub(crate) trait HeldLock: Send {
    /// Releases the lock.
    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), MigrateError>>;
}

/// The migration lock and the connection the run works on, held together.
pub(crate) struct Held {
    /// `None` where no lock is needed (a database in this process's memory).
    lock: Option<Box<dyn HeldLock>>,
    /// The work connection.
    pub(crate) conn: Conn,
}

impl Held {
    pub(crate) fn new(lock: Option<Box<dyn HeldLock>>, conn: Conn) -> Held {
        Held { lock, conn }
    }

    /// Whether no writer but this run can change the version table while it holds the
    /// lock: the database's lock keeps them out, or the database lives in this
    /// process's memory (no lock is needed there; another migrator in the process on
    /// the same pool still meets the version-row checks).
    pub(crate) fn excludes_writers(&self) -> bool {
        self.in_memory() || self.conn.backend().lock_excludes_writers()
    }

    /// Whether the database lives in this process's memory (SQLite's `:memory:`),
    /// where no other connection can wait on the run's locks.
    pub(crate) fn in_memory(&self) -> bool {
        self.lock.is_none()
    }

    /// Gives the connection back and releases the lock; returns the work's `result`,
    /// or the release's error when the work succeeded.
    pub(crate) async fn release<T>(
        self,
        result: Result<T, MigrateError>,
    ) -> Result<T, MigrateError> {
        drop(self.conn);
        let released = match self.lock {
            Some(lock) => lock.release().await,
            None => Ok(()),
        };
        let value = result?;
        released?;
        Ok(value)
    }
}

/// Refuses SQL text that holds a NUL byte before any driver sees it. SQLite reads a
/// NUL as the end of the text, and sqlx's SQLite driver, asked to run what follows,
/// prepares nothing forever at 100% CPU; PostgreSQL's protocol sends SQL as a
/// NUL-terminated string. Migration files and the declared schema are refused when
/// loaded; this catches SQL built at run time (a Rust migration's).
fn refuse_nul(sql: &str) -> Result<(), sqlx::Error> {
    match migrate_core::sql::nul_line(sql.as_bytes()) {
        None => Ok(()),
        Some(line) => Err(nul_byte_error(line)),
    }
}

/// The error of SQL text with a NUL byte on its `line`.
pub(crate) fn nul_byte_error(line: usize) -> sqlx::Error {
    sqlx::Error::InvalidArgument(format!(
        "the SQL holds a NUL byte (\\0) on its line {line}, which databases read as the end of the SQL, so what follows would not run; remove it"
    ))
}
