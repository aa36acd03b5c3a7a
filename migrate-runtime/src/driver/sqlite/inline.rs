//! A run of plain-SQL migrations on SQLite's own handle.
//!
//! sqlx drives each SQLite connection from a worker thread and hands every request and
//! every result across a channel: a thread hand-off per request, several per migration,
//! each costing more than SQLite needs for a `CREATE TABLE` in memory. For a plan made
//! only of SQL, the runner borrows the connection's handle from that thread once
//! ([`LockedSqliteHandle`]) and calls SQLite from its own thread until the plan is done.
//! The connection stays the pool's, with its pragmas, functions and collations.
//!
//! What changes is where a statement waits: in the calling thread, as with any
//! synchronous SQLite library. Waits for the database's write lock are the exception:
//! opening and committing a transaction never wait inside SQLite but retry
//! asynchronously (see [`Direct::begin`]), so that another task of the same runtime
//! can finish the transaction that holds the lock.

use crate::driver::{Arg, BoxFut, BoxFuture, Connection, Counted, Rows};
use libsqlite3_sys as ffi;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::pool::PoolConnection;
#[cfg(doc)]
use sqlx::sqlite::LockedSqliteHandle;
use sqlx::Sqlite;
use std::borrow::Cow;
use std::ffi::{c_char, c_int};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// SQLite's handle driven inline: a [`Connection`] of its own, which the runner
/// swaps in for sqlx's connection (see [`into_inline`]) and back. The handle is lent
/// by sqlx's worker thread for as long as a task of ours holds the guard
/// ([`LockedSqliteHandle`]) with the connection it borrows; that task gives the
/// connection back when this value lets it go.
pub(crate) struct InlineSqlite {
    /// Declared first, so that the handle is cleaned up (an open transaction rolled
    /// back, the journal mode restored) before the guard goes.
    direct: Direct,
    /// Dropping it (or sending) lets the owner task drop the guard.
    give_back: tokio::sync::oneshot::Sender<()>,
    /// The task holding the guard; it answers with the connection.
    owner: tokio::task::JoinHandle<PoolConnection<Sqlite>>,
}

/// A raw handle, moved from the task that holds its guard to the connection that
/// drives it.
struct Handle(NonNull<ffi::sqlite3>);

// SAFETY: the handle is used by one thread at a time (see `Direct`'s `Send`).
unsafe impl Send for Handle {}

/// Borrows the handle of `conn` from the driver's worker thread: one hand-off, after
/// which requests are plain function calls until [`Connection::into_driver`]. On
/// failure, the connection as it was and the error.
pub(crate) fn into_inline(
    conn: PoolConnection<Sqlite>,
    interrupt: Arc<AtomicBool>,
) -> BoxFuture<'static, (Box<dyn Connection>, Result<(), sqlx::Error>)> {
    Box::pin(async move {
        match lend(conn, interrupt).await {
            Ok(inline) => (Box::new(inline) as Box<dyn Connection>, Ok(())),
            Err((conn, e)) => (conn, Err(e)),
        }
    })
}

/// [`into_inline`], as the inline connection itself.
async fn lend(
    mut conn: PoolConnection<Sqlite>,
    interrupt: Arc<AtomicBool>,
) -> Result<InlineSqlite, (Box<dyn Connection>, sqlx::Error)> {
    {
        let (lent_tx, lent_rx) = tokio::sync::oneshot::channel();
        let (give_back, given_back) = tokio::sync::oneshot::channel::<()>();
        // The guard borrows the connection: both live in this task, which holds them
        // until the handle is given back (or its holder dropped), then answers with
        // the connection. No lifetime is stretched.
        let owner = tokio::spawn(async move {
            match conn.lock_handle().await {
                Ok(mut guard) => {
                    // Statements stop once the flag is set (sqlx's own handler: it
                    // interrupts when the callback answers `false`).
                    guard.set_progress_handler(PROGRESS_STEPS, move || {
                        !interrupt.load(Ordering::Relaxed)
                    });
                    if lent_tx.send(Ok(Handle(guard.as_raw_handle()))).is_ok() {
                        let _ = given_back.await;
                    }
                    guard.remove_progress_handler();
                    drop(guard);
                }
                Err(e) => {
                    let _ = lent_tx.send(Err(e));
                }
            }
            conn
        });
        let lent = lent_rx.await.unwrap_or(Err(sqlx::Error::WorkerCrashed));
        let db = match lent {
            Ok(Handle(db)) => db,
            Err(e) => {
                drop(give_back);
                return Err(match owner.await {
                    Ok(conn) => (sqlx_conn(conn), e),
                    Err(_) => (Box::new(crate::driver::Lost) as Box<dyn Connection>, e),
                });
            }
        };
        let mut direct = Direct {
            db,
            busy_ms: 0,
            journal: Journal::Unseen,
        };
        // The wait the connection was given (`PRAGMA busy_timeout`), which lock
        // attempts turn off and back on.
        let busy = direct.query("PRAGMA busy_timeout", &[]).map_err(|(_, e)| e);
        direct.busy_ms = match busy {
            Ok(rows) => rows
                .first()
                .and_then(|r| r.first().cloned().flatten())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            Err(e) => {
                let inline = InlineSqlite {
                    direct,
                    give_back,
                    owner,
                };
                return Err(match Box::new(inline).into_driver().await {
                    Ok(conn) => (conn, e),
                    Err(_) => (Box::new(crate::driver::Lost) as Box<dyn Connection>, e),
                });
            }
        };
        Ok(InlineSqlite {
            direct,
            give_back,
            owner,
        })
    }
}

fn sqlx_conn(conn: PoolConnection<Sqlite>) -> Box<dyn Connection> {
    Box::new(crate::driver::sqlx_conn::SqlxConn::new(conn))
}

/// A request that completes at once.
fn ready<'a, T: Send + 'a>(value: Result<T, sqlx::Error>) -> BoxFut<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Connection for InlineSqlite {
    fn backend(&self) -> &'static dyn crate::driver::Backend {
        &super::Sqlite
    }

    fn execute<'a>(&'a mut self, sql: &'a str) -> BoxFut<'a, u64> {
        ready(self.direct.run(sql, &[], None).map_err(|(_, e)| e))
    }

    fn execute_bound<'a>(&'a mut self, sql: &'a str, args: &'a [Arg<'a>]) -> BoxFut<'a, u64> {
        ready(self.direct.run(sql, args, None).map_err(|(_, e)| e))
    }

    fn execute_counted<'a>(&'a mut self, sql: &'a str) -> Counted<'a> {
        Box::pin(std::future::ready(
            self.direct.run(sql, &[], None).map(|_| ()),
        ))
    }

    fn query<'a>(&'a mut self, sql: &'a str, args: &'a [Arg<'a>]) -> BoxFut<'a, Rows> {
        ready(self.direct.query(sql, args).map_err(|(_, e)| e))
    }

    fn begin(&mut self) -> BoxFut<'_, ()> {
        let statement = crate::driver::Backend::begin_statement(&super::Sqlite).unwrap_or("BEGIN");
        Box::pin(self.direct.begin(statement))
    }

    fn commit(&mut self) -> BoxFut<'_, ()> {
        Box::pin(self.direct.commit())
    }

    fn rollback(&mut self) -> BoxFut<'_, ()> {
        ready(self.direct.execute("ROLLBACK").map(|_| ()))
    }

    fn in_transaction(&mut self) -> bool {
        !self.direct.autocommit()
    }

    fn is_inline(&self) -> bool {
        true
    }

    /// sqlx's connection is parked while its handle is driven here.
    fn sqlx_connection(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }

    fn into_inline(
        self: Box<Self>,
        _interrupt: Arc<AtomicBool>,
    ) -> BoxFuture<'static, (Box<dyn Connection>, Result<(), sqlx::Error>)> {
        Box::pin(std::future::ready((self as Box<dyn Connection>, Ok(()))))
    }

    fn into_driver(
        self: Box<Self>,
    ) -> BoxFuture<'static, Result<Box<dyn Connection>, sqlx::Error>> {
        let InlineSqlite {
            direct,
            give_back,
            owner,
        } = *self;
        Box::pin(async move {
            // Cleans the handle up while it is still lent.
            drop(direct);
            let _ = give_back.send(());
            owner
                .await
                .map(sqlx_conn)
                .map_err(|_| sqlx::Error::WorkerCrashed)
        })
    }
}

/// The handle lent by the driver's worker thread.
pub(crate) struct Direct {
    db: NonNull<ffi::sqlite3>,
    /// The connection's busy timeout in milliseconds.
    busy_ms: c_int,
    /// What the first write found of the connection's journal mode.
    journal: Journal,
}

/// The journal mode, as far as the borrowed handle changed it.
#[derive(PartialEq)]
enum Journal {
    /// Nothing written yet: not looked at.
    Unseen,
    /// `DELETE`, truncated while the handle is out (set back when it goes back).
    Truncated,
    /// Left as it was.
    Kept,
}

/// How many virtual machine steps SQLite takes between two looks at the interrupt flag:
/// a few microseconds of work, so an interrupt is seen at once.
const PROGRESS_STEPS: i32 = 1000;

// SAFETY: the handle is used by whichever thread owns the `Direct`, one at a time (the
// methods take `&mut self`); the worker thread that otherwise owns it is parked on the
// lock the owner task's guard holds. sqlx opens its connections in SQLite's multi-thread mode, which
// allows a connection to move between threads between calls.
unsafe impl Send for Direct {}

impl Drop for Direct {
    fn drop(&mut self) {
        // A transaction left open (a run dropped half-way) must not reach the worker
        // thread, whose bookkeeping knows nothing of it.
        if !self.autocommit() {
            let _ = self.run("ROLLBACK", &[], None);
        }
        // Unless a migration chose a journal mode of its own (WAL, say), which stays.
        if self.journal == Journal::Truncated
            && self
                .optional_string("PRAGMA journal_mode")
                .ok()
                .flatten()
                .as_deref()
                == Some("truncate")
        {
            // Also deletes the journal file the run kept, which takes the write lock:
            // not waited for here (if another connection writes just now, this one
            // keeps truncating its journal, which is as safe).
            // SAFETY: `db` is the open handle this value holds.
            unsafe { ffi::sqlite3_busy_timeout(self.db.as_ptr(), 0) };
            let _ = self.run("PRAGMA journal_mode = DELETE", &[], None);
            // SAFETY: as above.
            unsafe { ffi::sqlite3_busy_timeout(self.db.as_ptr(), self.busy_ms) };
        }
    }
}

impl Direct {
    pub(crate) fn autocommit(&self) -> bool {
        // SAFETY: `db` is the open handle this value holds.
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) != 0 }
    }

    /// Runs SQL text of any number of statements; returns the rows changed.
    pub(crate) fn execute(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        self.run(sql, &[], None).map_err(|(_, e)| e)
    }

    /// The rows of a query, binding `args` in order.
    pub(crate) fn query(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Rows, (usize, sqlx::Error)> {
        let mut rows = Vec::new();
        self.run(sql, args, Some(&mut rows))?;
        Ok(rows)
    }

    /// The first column of the one row a query must return.
    pub(crate) fn optional_string(&mut self, sql: &str) -> Result<Option<String>, sqlx::Error> {
        let rows = self.query(sql, &[]).map_err(|(_, e)| e)?;
        let row = rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)?;
        Ok(row.into_iter().next().flatten())
    }

    /// Opens a transaction with `statement`. When another connection holds the write
    /// lock, SQLite is not left to wait (it would sleep in this thread, and the holder
    /// may be a task waiting for this thread): the attempt is repeated after
    /// asynchronous pauses, for as long as the connection's busy timeout.
    pub(crate) async fn begin(&mut self, statement: &str) -> Result<(), sqlx::Error> {
        if self.journal == Journal::Unseen {
            // The default journal file is created and deleted by every commit;
            // truncated instead, it stays, empty, between the run's commits, with the
            // same guarantees (see `Drop` for the way back). Only a run that writes
            // changes it.
            let mode = self.optional_string("PRAGMA journal_mode")?;
            self.journal = if mode.as_deref() == Some("delete") {
                self.execute("PRAGMA journal_mode = TRUNCATE")?;
                Journal::Truncated
            } else {
                Journal::Kept
            };
        }
        self.without_waiting(statement).await
    }

    /// Commits; a commit that must wait for readers to finish waits as `begin` does.
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.without_waiting("COMMIT").await
    }

    async fn without_waiting(&mut self, statement: &str) -> Result<(), sqlx::Error> {
        let started = Instant::now();
        let limit = Duration::from_millis(u64::try_from(self.busy_ms).unwrap_or(0));
        let mut pause = Duration::from_millis(1);
        loop {
            // SAFETY: `db` is the open handle this value holds.
            unsafe { ffi::sqlite3_busy_timeout(self.db.as_ptr(), 0) };
            let result = self.run(statement, &[], None);
            // SAFETY: as above.
            unsafe { ffi::sqlite3_busy_timeout(self.db.as_ptr(), self.busy_ms) };
            match result {
                Err((_, e)) if is_busy(&e) && started.elapsed() < limit => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                other => return other.map(|_| ()).map_err(|(_, e)| e),
            }
        }
    }

    /// Prepares and steps each statement of `sql` in turn, binding `args` in order
    /// across them and collecting the rows of any that return some. Returns the rows
    /// the statements inserted, updated and deleted; on failure, the statements
    /// completed before it and the error.
    fn run(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut rows: Option<&mut Rows>,
    ) -> Result<u64, (usize, sqlx::Error)> {
        let db = self.db.as_ptr();
        let mut args = args.iter();
        let mut done = 0usize;
        // SQLite copies text given without its NUL terminator before parsing it, the
        // whole rest of the text for every statement: N statements cost N²/2 bytes
        // copied. Given with the terminator (counted in the length), it parses in
        // place, so the text is copied once, here.
        let text = nul_terminated(sql);
        let end = sql.len();
        let mut at = 0usize;
        // SAFETY (for the calls below): `db` is the open handle this value holds;
        // `text[at..]` is alive for the whole call and NUL-terminated, its length
        // (terminator included) given; each prepared statement is finalized by
        // `Prepared` on every path.
        let mut changed = 0u64;
        while at < end {
            let mut stmt = std::ptr::null_mut();
            let mut tail: *const c_char = std::ptr::null();
            let rest = &text[at..];
            let len = c_int::try_from(rest.len()).map_err(|_| {
                (
                    done,
                    sqlx::Error::Protocol("SQL text longer than 2 GiB".into()),
                )
            })?;
            let rc = unsafe {
                ffi::sqlite3_prepare_v2(db, rest.as_ptr().cast(), len, &mut stmt, &mut tail)
            };
            if rc != ffi::SQLITE_OK {
                return Err((done, self.error(rc)));
            }
            let used = if tail.is_null() {
                end - at
            } else {
                (tail as usize).saturating_sub(rest.as_ptr() as usize)
            };
            let stmt = NonNull::new(stmt);
            if used == 0 && stmt.is_none() {
                // SQLite stops at a NUL byte as at the end: stopping here would skip
                // the statements after it without a word.
                return Err((done, stopped_early(sql, at)));
            }
            at = (at + used).min(end);
            // Whitespace or a comment: no statement.
            let Some(stmt) = stmt else {
                continue;
            };
            let stmt = Prepared(stmt);
            let total_before = unsafe { ffi::sqlite3_total_changes64(db) };
            let count = unsafe { ffi::sqlite3_bind_parameter_count(stmt.0.as_ptr()) };
            for i in 1..=count {
                let rc = match args.next() {
                    Some(arg) => self.bind(&stmt, i, arg),
                    None => ffi::SQLITE_RANGE,
                };
                if rc != ffi::SQLITE_OK {
                    return Err((done, self.error(rc)));
                }
            }
            loop {
                let rc = unsafe { ffi::sqlite3_step(stmt.0.as_ptr()) };
                match rc {
                    ffi::SQLITE_ROW => {
                        if let Some(rows) = rows.as_deref_mut() {
                            rows.push(row(&stmt));
                        }
                    }
                    ffi::SQLITE_DONE => break,
                    rc => return Err((done, self.error(rc))),
                }
            }
            done += 1;
            // The rows the statement itself changed, as sqlx counts them: the
            // connection's total moves with rows changed by triggers too, and the
            // statement's own count is only set by INSERT, UPDATE and DELETE.
            let total = unsafe { ffi::sqlite3_total_changes64(db) };
            if total != total_before {
                changed += u64::try_from(unsafe { ffi::sqlite3_changes64(db) }).unwrap_or(0);
            }
        }
        Ok(changed)
    }

    fn bind(&self, stmt: &Prepared, i: c_int, arg: &Arg<'_>) -> c_int {
        let s = stmt.0.as_ptr();
        // SAFETY: `s` is a prepared statement of this handle and `i` one of its
        // parameters; text is copied by SQLite (`SQLITE_TRANSIENT`).
        unsafe {
            match *arg {
                Arg::Text(t) | Arg::OptText(Some(t)) => match c_int::try_from(t.len()) {
                    Ok(n) => {
                        ffi::sqlite3_bind_text(s, i, t.as_ptr().cast(), n, ffi::SQLITE_TRANSIENT())
                    }
                    Err(_) => ffi::SQLITE_TOOBIG,
                },
                Arg::OptText(None) => ffi::sqlite3_bind_null(s, i),
                Arg::Int(v) => ffi::sqlite3_bind_int64(s, i, v),
            }
        }
    }

    /// The error SQLite reports for `rc` on this handle.
    fn error(&self, rc: c_int) -> sqlx::Error {
        // SAFETY: `db` is the open handle; the message is copied before the next call.
        let (code, message) = unsafe {
            let code = ffi::sqlite3_extended_errcode(self.db.as_ptr());
            let msg = ffi::sqlite3_errmsg(self.db.as_ptr());
            let message = if msg.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(msg).to_string_lossy().into_owned()
            };
            (code, message)
        };
        // Binding errors are not recorded on the handle: name them by their code.
        let (code, message) = if rc != ffi::SQLITE_OK && code & 0xff != rc & 0xff {
            (rc, ffi::code_to_str(rc).to_string())
        } else {
            (code, message)
        };
        sqlx::Error::Database(Box::new(SqliteFailure { code, message }))
    }
}

/// `sql` and a NUL after it, the text as SQLite parses without copying it.
fn nul_terminated(sql: &str) -> Vec<u8> {
    let mut text = Vec::with_capacity(sql.len() + 1);
    text.extend_from_slice(sql.as_bytes());
    text.push(0);
    text
}

/// The error of a text SQLite stopped reading at byte `at`, before its end: at a NUL
/// byte, the only character that makes SQLite read nothing more.
fn stopped_early(sql: &str, at: usize) -> sqlx::Error {
    let bytes = sql.as_bytes();
    let nul = bytes[at..]
        .iter()
        .position(|&b| b == 0)
        .map_or(at, |p| at + p);
    crate::driver::nul_byte_error(migrate_core::sql::line_at(bytes, nul))
}

/// A prepared statement, finalized when dropped.
struct Prepared(NonNull<ffi::sqlite3_stmt>);

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared by `Direct::run` and is finalized once.
        unsafe { ffi::sqlite3_finalize(self.0.as_ptr()) };
    }
}

/// The current row of `stmt`, each column as text.
fn row(stmt: &Prepared) -> Vec<Option<String>> {
    let s = stmt.0.as_ptr();
    // SAFETY: `s` has a current row (`sqlite3_step` returned `SQLITE_ROW`); the text
    // pointer and length are read together and copied at once.
    unsafe {
        (0..ffi::sqlite3_column_count(s))
            .map(|i| {
                if ffi::sqlite3_column_type(s, i) == ffi::SQLITE_NULL {
                    return None;
                }
                let text = ffi::sqlite3_column_text(s, i);
                let n = usize::try_from(ffi::sqlite3_column_bytes(s, i)).unwrap_or(0);
                if text.is_null() {
                    return Some(String::new());
                }
                let bytes = std::slice::from_raw_parts(text, n);
                Some(String::from_utf8_lossy(bytes).into_owned())
            })
            .collect()
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().and_then(|c| c.parse::<c_int>().ok()).is_some_and(|c| c & 0xff == ffi::SQLITE_BUSY))
}

/// An error SQLite reported on a borrowed handle, in the shape sqlx gives its own.
#[derive(Debug)]
struct SqliteFailure {
    /// The extended result code.
    code: c_int,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection of an in-memory database, its handle borrowed.
    async fn direct() -> (sqlx::SqlitePool, InlineSqlite) {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let conn = pool.acquire().await.expect("a connection");
        let Ok(inline) = lend(conn, Arc::new(AtomicBool::new(false))).await else {
            panic!("the handle could not be borrowed");
        };
        (pool, inline)
    }

    #[tokio::test]
    async fn a_nul_byte_is_an_error_not_the_end_of_the_text() {
        let (_pool, mut conn) = direct().await;
        let d = &mut conn.direct;
        d.execute("CREATE TABLE t (id INT)").expect("create");
        for (sql, done, line) in [
            (
                "INSERT INTO t VALUES (1);\n\0\nINSERT INTO t VALUES (2);",
                1,
                2,
            ),
            ("INSERT INTO t VALUES (1)\0;INSERT INTO t VALUES (2);", 1, 1),
            ("\0INSERT INTO t VALUES (1);", 0, 1),
            ("INSERT INTO t VALUES (1);\n -- c\n  \0", 1, 3),
        ] {
            let (completed, e) = d.run(sql, &[], None).expect_err(sql);
            assert_eq!(completed, done, "{sql:?}");
            let message = e.to_string();
            assert!(
                message.contains(&format!("NUL byte (\\0) on its line {line},")),
                "{sql:?}: {message}"
            );
        }
        // Text that ends in whitespace or a comment is not stopped early.
        d.run("INSERT INTO t VALUES (3); -- done\n  ", &[], None)
            .expect("a trailing comment");
    }

    /// SQLite copies text given without its terminator before parsing it: the whole
    /// rest of the text for every statement, quadratic in the statements. The largest
    /// allocation SQLite makes while running a long text shows whether it copied it.
    #[tokio::test]
    async fn a_long_text_is_parsed_in_place_not_copied_per_statement() {
        let (_pool, mut conn) = direct().await;
        let d = &mut conn.direct;
        d.execute("CREATE TABLE t (id INT, name TEXT)")
            .expect("create");
        let sql: String = (0..40_000)
            .map(|i| format!("INSERT INTO t VALUES ({i}, 'row number {i}');\n"))
            .collect();
        assert!(sql.len() > 1_600_000);
        let mut current = 0i64;
        let mut largest = 0i64;
        // SAFETY: a status read (and reset of its high-water mark) of SQLite's own.
        unsafe {
            ffi::sqlite3_status64(
                ffi::SQLITE_STATUS_MALLOC_SIZE,
                &mut current,
                &mut largest,
                1,
            )
        };
        assert_eq!(d.execute(&sql).expect("the inserts"), 40_000);
        // SAFETY: as above.
        unsafe {
            ffi::sqlite3_status64(
                ffi::SQLITE_STATUS_MALLOC_SIZE,
                &mut current,
                &mut largest,
                0,
            )
        };
        assert!(
            largest < 400_000,
            "SQLite allocated {largest} bytes at once for a text of {} bytes: it copied the text",
            sql.len()
        );
    }
}
