//! SQLite.

/// The test fixture's templates and copies.
#[cfg(feature = "sqlite")]
mod inline;
#[cfg(feature = "sqlite")]
mod introspect;
#[cfg(feature = "sqlite")]
mod sqltext;

#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
#[cfg(feature = "sqlite")]
use std::str::FromStr;
#[cfg(feature = "sqlite")]
use std::time::Duration;

#[cfg(feature = "sqlite")]
pub(crate) async fn connect(
    url: &str,
    create_if_missing: bool,
) -> Result<sqlx::SqlitePool, crate::error::MigrateError> {
    let connect_err = |source| crate::error::MigrateError::Connect {
        url: crate::error::mask_url(url),
        source,
    };
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(connect_err)?
        .create_if_missing(create_if_missing)
        .busy_timeout(Duration::from_secs(30));
    let file = opts.get_filename();
    let name = file.to_string_lossy();
    let in_memory = name.is_empty() || name == ":memory:" || name.starts_with("file:");
    if !create_if_missing && !in_memory && !file.exists() {
        return Err(crate::error::MigrateError::MissingDatabase {
            url: crate::error::mask_url(url),
        });
    }
    // One connection: a migrator does one thing at a time, and an in-memory database
    // exists only on the connection that created it.
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(connect_err)
}

/// The most SQL text handed to sqlx's SQLite driver in one request. The driver gives
/// SQLite the text without a NUL terminator, which makes SQLite copy the rest of the
/// text for every statement: N statements cost N²/2 statements' bytes (100,000 one-row
/// INSERTs, seconds). Sent in pieces of whole statements this long, a section costs
/// time in proportion to its length, at one hand-off to the driver's thread per piece.
#[cfg(feature = "sqlite")]
pub(crate) const PIECE_BYTES: usize = 16 * 1024;

/// Sqlite's answers to the runner's questions (see [`super::Backend`]).
pub(crate) struct Sqlite;

impl super::Backend for Sqlite {
    fn dialect(&self) -> migrate_core::Dialect {
        migrate_core::Dialect::Sqlite
    }

    fn history_ddl(&self, table: &str) -> String {
        super::backend::history_table(
            table,
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
        )
    }

    /// Where each unfinished resumable migration stands (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String {
        super::backend::progress_table(table, "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP")
    }

    /// Takes the write lock at the start, not at the first write, so that another
    /// writer cannot make the migration fail half-way.
    fn begin_statement(&self) -> Option<&'static str> {
        Some("BEGIN IMMEDIATE")
    }

    /// SQLite's lock is its write lock: wait for it as long as for the others.
    fn session_setup(&self, lock_timeout: std::time::Duration) -> Option<String> {
        Some(format!(
            "PRAGMA busy_timeout = {}",
            lock_timeout.as_millis()
        ))
    }

    /// One row instead of one per revision: SQLite hands rows over one at a time from
    /// its worker thread, which dominates the start-up check of a binary already at
    /// head. (An ordered aggregate: SQLite 3.44+, which sqlx bundles.)
    fn checksums_query(&self, history: &str) -> (String, bool) {
        (
            format!(
                "SELECT group_concat(revision || ' ' || checksum, ',' ORDER BY id) FROM {history} \
                 WHERE direction IN ('upgrade', 'stamp', 'accept') AND checksum IS NOT NULL"
            ),
            true,
        )
    }

    /// The driver binds a request's values across its statements in order.
    fn joins_bound_statements(&self) -> bool {
        true
    }

    fn drives_inline(&self) -> bool {
        true
    }

    /// The file lock binds only migrators; other programs may write between two
    /// transactions of a run.
    fn lock_excludes_writers(&self) -> bool {
        false
    }

    fn fingerprint_query(&self) -> &'static str {
        "SELECT sqlite_version() || '|' || \
           (SELECT group_concat(compile_options, ',') FROM pragma_compile_options)"
    }

    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool {
        e.message().contains("no such table")
    }

    fn is_busy(&self, e: &dyn sqlx::error::DatabaseError) -> bool {
        e.message().contains("database is locked")
            || e.message().contains("database table is locked")
    }

    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String {
        super::backend::upsert_on_conflict(table, values)
    }

    fn cast(&self, expr: &str, text: bool) -> String {
        // SQLite's values keep their type: text is read back as it is.
        if text {
            expr.to_string()
        } else {
            format!("CAST({expr} AS INTEGER)")
        }
    }
}

/// An exclusive `flock` on `<database file>.migrate-lock`, held for a whole run.
///
/// SQLite's own write lock cannot be held across the separate transactions of a run, and
/// a migration marked `transactional: false` runs outside any; the file lock keeps a
/// second migrator (another process of the same deploy) out meanwhile. The operating
/// system drops it when the process dies, so a crash leaves nothing to clean up. The
/// lock file itself stays, empty, beside the database.
#[cfg(feature = "sqlite")]
pub(crate) struct FileLock(std::fs::File);

#[cfg(feature = "sqlite")]
impl FileLock {
    pub(crate) fn release(self) {
        // Closing the file releases the lock as well; unlocking first says so explicitly.
        let _ = self.0.unlock();
    }
}

/// Takes the file lock of a file-backed database; `None` for an in-memory one, which no
/// other process can reach.
#[cfg(feature = "sqlite")]
pub(crate) async fn lock(
    pool: &sqlx::SqlitePool,
    key: &str,
    timeout: Duration,
) -> Result<Option<FileLock>, crate::error::MigrateError> {
    use crate::error::MigrateError;
    use std::fs::TryLockError;
    if in_memory(pool) {
        return Ok(None);
    }
    let options = pool.connect_options();
    let db_file = options.get_filename();
    // Another path to the same file (a symlink, `./x.db`, a relative path from another
    // directory) must find the same lock: name it after the file's canonical path.
    // The database file exists by now (the pool opened it).
    let canonical = std::fs::canonicalize(db_file).map_err(|e| MigrateError::LockFile {
        path: db_file.to_path_buf(),
        source: e,
    })?;
    // One lock per version table, like the advisory locks on the servers.
    let mut lock_path = canonical.into_os_string();
    lock_path.push(format!(".{}.migrate-lock", key.replace(['.', '/'], "_")));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| MigrateError::LockFile {
            path: lock_path.clone().into(),
            source: e,
        })?;
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(FileLock(file))),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(MigrateError::LockFile {
                    path: lock_path.into(),
                    source: e,
                })
            }
        }
        if started.elapsed() >= timeout {
            return Err(MigrateError::LockTimeout {
                waited: started.elapsed(),
                what: format!("lock file {}", std::path::Path::new(&lock_path).display()),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(feature = "sqlite")]
fn in_memory(pool: &sqlx::SqlitePool) -> bool {
    let options = pool.connect_options();
    let name = options.get_filename().to_string_lossy();
    // sqlx names an in-memory database `file:sqlx-in-memory-N`.
    name.is_empty() || name == ":memory:" || name.starts_with("file:")
}

#[cfg(feature = "sqlite")]
impl super::sqlx_conn::SqlxDriver for sqlx::Sqlite {
    fn lock<'a>(
        pool: &'a sqlx::SqlitePool,
        key: &'a str,
        timeout: Duration,
    ) -> super::BoxFuture<'a, Result<Option<Box<dyn super::HeldLock>>, crate::error::MigrateError>>
    {
        Box::pin(async move {
            let held = lock(pool, key, timeout).await?;
            Ok(held.map(|l| Box::new(l) as Box<dyn super::HeldLock>))
        })
    }

    fn introspect(
        pool: &sqlx::SqlitePool,
    ) -> super::BoxFuture<'_, Result<migrate_schema::Schema, crate::error::MigrateError>> {
        Box::pin(introspect::introspect(pool))
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn backend() -> &'static dyn super::Backend {
        &Sqlite
    }

    fn piece_bytes() -> Option<usize> {
        Some(PIECE_BYTES)
    }

    #[allow(clippy::type_complexity)]
    fn into_inline(
        conn: sqlx::pool::PoolConnection<Self>,
        interrupt: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<
        super::BoxFuture<'static, (Box<dyn super::Connection>, Result<(), sqlx::Error>)>,
        sqlx::pool::PoolConnection<Self>,
    > {
        Ok(inline::into_inline(conn, interrupt))
    }
}

#[cfg(feature = "sqlite")]
impl super::HeldLock for FileLock {
    fn release(
        self: Box<Self>,
    ) -> super::BoxFuture<'static, Result<(), crate::error::MigrateError>> {
        (*self).release();
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use crate::driver::Db;
    use libsqlite3_sys as ffi;

    /// The largest allocation SQLite makes while `f` runs.
    async fn largest_allocation<F: std::future::Future<Output = ()>>(f: F) -> i64 {
        let (mut current, mut largest) = (0i64, 0i64);
        // SAFETY: a status read (and reset of its high-water mark) of SQLite's own.
        unsafe {
            ffi::sqlite3_status64(
                ffi::SQLITE_STATUS_MALLOC_SIZE,
                &mut current,
                &mut largest,
                1,
            )
        };
        f.await;
        // SAFETY: as above.
        unsafe {
            ffi::sqlite3_status64(
                ffi::SQLITE_STATUS_MALLOC_SIZE,
                &mut current,
                &mut largest,
                0,
            )
        };
        largest
    }

    /// Through sqlx's driver, a long section goes in pieces: SQLite, which copies the
    /// rest of a request's text for every statement, never sees the whole text at once.
    #[tokio::test]
    async fn a_long_text_reaches_the_driver_in_pieces() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let mut conn = Db::from(&pool).acquire().await.expect("a connection");
        conn.execute("CREATE TABLE t (id INT, name TEXT)")
            .await
            .expect("create");
        let sql: String = (0..40_000)
            .map(|i| format!("INSERT INTO t VALUES ({i}, 'row number {i}');\n"))
            .collect();
        assert!(sql.len() > 1_600_000);
        let largest = largest_allocation(async {
            conn.execute_counted(&sql).await.expect("the inserts");
            assert_eq!(conn.execute(&sql).await.expect("again"), 40_000);
        })
        .await;
        assert!(
            largest < 400_000,
            "SQLite allocated {largest} bytes at once for a text of {} bytes: it was given the whole text",
            sql.len()
        );
        // A failure still names the statement it stopped at, counted across pieces.
        let failing = format!("{sql}INSERT INTO nope VALUES (1);\nINSERT INTO t VALUES (0, 'x');");
        let (done, _) = conn.execute_counted(&failing).await.expect_err("no table");
        assert_eq!(done, 40_000);
        let rows: i64 = conn
            .optional_string("SELECT CAST(COUNT(*) AS TEXT) FROM t")
            .await
            .expect("count")
            .and_then(|n| n.parse().ok())
            .unwrap_or_default();
        assert_eq!(rows, 120_000);
    }
}
