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

use crate::backend::Arg;
use libsqlite3_sys as ffi;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::LockedSqliteHandle;
use sqlx::Sqlite;
use std::borrow::Cow;
use std::ffi::{c_char, c_int};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A pool connection, driven through sqlx or, while the runner has borrowed its handle,
/// directly.
pub(crate) struct SqliteConn {
    /// Declared before `conn`, so that it is dropped (the handle given back) first.
    direct: Option<Direct>,
    /// Boxed: the connection keeps its address while `direct` borrows it, wherever
    /// this value moves.
    conn: Box<PoolConnection<Sqlite>>,
}

impl SqliteConn {
    pub(crate) fn new(conn: PoolConnection<Sqlite>) -> SqliteConn {
        SqliteConn {
            direct: None,
            conn: Box::new(conn),
        }
    }

    /// The connection for a request through sqlx. A borrowed handle is given back
    /// first, rolling back a transaction it left open (the runner closes its
    /// transactions before it gives the handle back, so this happens only to a run
    /// that was dropped half-way).
    pub(crate) fn driver(&mut self) -> &mut PoolConnection<Sqlite> {
        self.direct = None;
        &mut self.conn
    }

    /// Whether the handle is borrowed.
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The borrowed handle, if it is.
    pub(crate) fn direct(&mut self) -> Option<&mut Direct> {
        self.direct.as_mut()
    }

    /// Opens a transaction, on the borrowed handle when it is out, else through the
    /// driver's transaction manager (which then knows it is open).
    pub(crate) async fn begin(
        &mut self,
        statement: Option<Cow<'static, str>>,
    ) -> Result<(), sqlx::Error> {
        match &mut self.direct {
            Some(d) => d.begin(statement.as_deref().unwrap_or("BEGIN")).await,
            None => {
                <sqlx::sqlite::SqliteTransactionManager as sqlx::TransactionManager>::begin(
                    &mut self.conn,
                    statement,
                )
                .await
            }
        }
    }

    /// Commits, where [`SqliteConn::begin`] opened the transaction.
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        match &mut self.direct {
            Some(d) => d.commit().await,
            None => {
                <sqlx::sqlite::SqliteTransactionManager as sqlx::TransactionManager>::commit(
                    &mut self.conn,
                )
                .await
            }
        }
    }

    /// Borrows the handle from the driver's worker thread: one hand-off, after which
    /// requests are plain function calls until [`SqliteConn::driver`].
    pub(crate) async fn go_direct(
        &mut self,
        interrupt: Arc<AtomicBool>,
    ) -> Result<(), sqlx::Error> {
        if self.direct.is_some() {
            return Ok(());
        }
        let lent = self.conn.lock_handle().await?;
        // SAFETY: the guard's lifetime stands for the borrow of `*self.conn`, which
        // must not be used while the handle is out. `SqliteConn` keeps that promise
        // itself: `conn` is reached only through `driver`, which drops the guard
        // first, and `direct` is dropped before `conn`. The box keeps the connection
        // in place when `SqliteConn` moves.
        let mut lent: LockedSqliteHandle<'static> = unsafe { std::mem::transmute(lent) };
        let db = lent.as_raw_handle();
        // SAFETY: `db` is open; the flag the handler reads is kept alive by `Direct`,
        // which removes the handler before letting it go.
        unsafe {
            ffi::sqlite3_progress_handler(
                db.as_ptr(),
                PROGRESS_STEPS,
                Some(interrupted),
                Arc::as_ptr(&interrupt).cast_mut().cast(),
            )
        };
        let mut direct = Direct {
            _lent: lent,
            db,
            busy_ms: 0,
            _interrupt: interrupt,
            journal: Journal::Unseen,
        };
        // The wait the connection was given (`PRAGMA busy_timeout`), which lock
        // attempts turn off and back on.
        let rows = direct.query("PRAGMA busy_timeout").map_err(|(_, e)| e)?;
        direct.busy_ms = rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.direct = Some(direct);
        Ok(())
    }
}

/// The handle lent by the driver's worker thread.
pub(crate) struct Direct {
    /// Holds the worker thread off the handle until dropped.
    _lent: LockedSqliteHandle<'static>,
    db: NonNull<ffi::sqlite3>,
    /// The connection's busy timeout in milliseconds.
    busy_ms: c_int,
    /// Read by the progress handler while a statement runs.
    _interrupt: Arc<AtomicBool>,
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
const PROGRESS_STEPS: c_int = 1000;

/// SQLite's progress handler while the handle is borrowed: a non-zero answer
/// interrupts the running statement.
extern "C" fn interrupted(flag: *mut std::ffi::c_void) -> c_int {
    // SAFETY: `flag` is the `AtomicBool` of `Direct::_interrupt`, alive while the
    // handler is installed.
    let flag = unsafe { &*(flag as *const AtomicBool) };
    c_int::from(flag.load(Ordering::Relaxed))
}

// SAFETY: the handle is used by whichever thread owns the `Direct`, one at a time (the
// methods take `&mut self`); the worker thread that otherwise owns it is parked on the
// lock `_lent` holds. sqlx opens its connections in SQLite's multi-thread mode, which
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
        // SAFETY: `db` is open; no handler afterwards.
        unsafe { ffi::sqlite3_progress_handler(self.db.as_ptr(), 0, None, std::ptr::null_mut()) };
    }
}

/// Rows as text columns (`None` for NULL).
type Rows = Vec<Vec<Option<String>>>;

impl Direct {
    fn autocommit(&self) -> bool {
        // SAFETY: `db` is the open handle this value holds.
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) != 0 }
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        !self.autocommit()
    }

    /// Runs SQL text of any number of statements; returns the rows changed.
    pub(crate) fn execute(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        self.run(sql, &[], None).map_err(|(_, e)| e)
    }

    /// Runs statements binding `args` in order across them; returns the rows changed.
    pub(crate) fn execute_bound(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<u64, sqlx::Error> {
        self.run(sql, args, None).map_err(|(_, e)| e)
    }

    /// Runs SQL text of several statements; on failure, how many completed before it.
    pub(crate) fn execute_counted(&mut self, sql: &str) -> Result<(), (usize, sqlx::Error)> {
        self.run(sql, &[], None).map(|_| ())
    }

    /// The rows of a query.
    pub(crate) fn query(&mut self, sql: &str) -> Result<Rows, (usize, sqlx::Error)> {
        let mut rows = Vec::new();
        self.run(sql, &[], Some(&mut rows))?;
        Ok(rows)
    }

    /// The first column of every row, none of which may be NULL.
    pub(crate) fn strings(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        let rows = self.query(sql).map_err(|(_, e)| e)?;
        rows.into_iter()
            .map(|r| {
                r.into_iter()
                    .next()
                    .flatten()
                    .ok_or_else(|| sqlx::Error::Decode("unexpected NULL".into()))
            })
            .collect()
    }

    /// The first column of the one row a query must return.
    pub(crate) fn optional_string(&mut self, sql: &str) -> Result<Option<String>, sqlx::Error> {
        let rows = self.query(sql).map_err(|(_, e)| e)?;
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

    /// Rolls the open transaction back.
    pub(crate) fn rollback(&mut self) -> Result<(), sqlx::Error> {
        self.execute("ROLLBACK").map(|_| ())
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
    crate::backend::nul_byte_error(migrate_core::sql::line_at(bytes, nul))
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
    async fn direct() -> (sqlx::SqlitePool, SqliteConn) {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let mut conn = SqliteConn::new(pool.acquire().await.expect("a connection"));
        conn.go_direct(Arc::new(AtomicBool::new(false)))
            .await
            .expect("the handle");
        (pool, conn)
    }

    #[tokio::test]
    async fn a_nul_byte_is_an_error_not_the_end_of_the_text() {
        let (_pool, mut conn) = direct().await;
        let d = conn.direct().expect("borrowed");
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
        let d = conn.direct().expect("borrowed");
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
