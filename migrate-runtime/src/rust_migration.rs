//! Migrations written in Rust: a `.rs` file of the versions folder with the same header
//! fields as a `.sql` one (as `//` comment lines) and an async `upgrade` function (and
//! optionally `downgrade`), compiled into the application by
//! [`embed_migrations!`](crate::embed_migrations).
//!
//! ```ignore
//! // backfill score from rating
//! //
//! // revision: f5a6b7c8d9e0
//! // down_revision: e4f5a6b7c8d9
//! // transactional: false
//!
//! use migrate_runtime::{Backfill, MigrationContext, MigrationResult};
//!
//! pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
//!     let fill = Backfill::new("customer_satisfaction", "id").batch_size(100);
//!     ctx.backfill(&fill, |batch| {
//!         Box::pin(async move {
//!             let sql = format!("UPDATE customer_satisfaction SET score = rating WHERE {}", batch.range());
//!             batch.execute(&sql).await?;
//!             Ok(())
//!         })
//!     })
//!     .await
//! }
//! ```
//!
//! The runner calls `upgrade` with a [`MigrationContext`]: the database kind, the
//! connection (inside the migration's transaction unless `transactional: false`), and
//! [`MigrationContext::backfill`], the batch helper.

use crate::batch::{ProgressSink, StopHandle};
use crate::driver::Conn;
use migrate_core::{Dialect, Direction};
use std::future::Future;
use std::pin::Pin;

/// What a Rust migration's `upgrade` and `downgrade` return.
pub type MigrationResult = Result<(), MigrationError>;

/// The future of a Rust migration's function, boxed so that the embedded data can hold
/// a plain function pointer.
pub type MigrationFuture<'a> = Pin<Box<dyn Future<Output = MigrationResult> + Send + 'a>>;

/// A Rust migration's `upgrade` or `downgrade`, as `embed_migrations!` embeds it.
pub type MigrationFn = for<'a, 'c> fn(&'a mut MigrationContext<'c>) -> MigrationFuture<'a>;

/// The code of a Rust migration, as embedded by
/// [`embed_migrations!`](crate::embed_migrations).
#[derive(Clone, Copy)]
pub struct RustMigration {
    /// The `upgrade` function.
    pub upgrade: MigrationFn,
    /// The `downgrade` function, when the file has one.
    pub downgrade: Option<MigrationFn>,
}

impl std::fmt::Debug for RustMigration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustMigration")
            .field("downgrade", &self.downgrade.is_some())
            .finish_non_exhaustive()
    }
}

impl RustMigration {
    /// The function for `direction`.
    pub fn function(&self, direction: Direction) -> Option<MigrationFn> {
        match direction {
            Direction::Upgrade => Some(self.upgrade),
            Direction::Downgrade => self.downgrade,
        }
    }
}

/// Why a Rust migration failed. `?` works on sqlx's errors; the migration's own errors
/// go in through [`MigrationError::other`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// A statement run through the context failed.
    #[error("{message}\n  statement: {statement}")]
    Statement {
        /// The statement.
        statement: String,
        /// The database's message.
        message: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A query the migration ran itself (on [`MigrationContext::connection`]) failed.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// The migration's own error.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
    /// The migration's code panicked (the runner caught it and rolled back what the
    /// migration's transaction held).
    #[error("the migration panicked{}: {message}", location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default())]
    Panicked {
        /// The panic's message.
        message: String,
        /// Where it panicked (`file:line:column`), when known.
        location: Option<String>,
    },
    /// Stopped on request ([`StopHandle::stop`], Ctrl-C in the command line) after a
    /// committed batch.
    #[error("stopped after a committed batch, {rows_done} rows done")]
    Interrupted {
        /// Rows done by the batches committed so far (this run and earlier ones).
        rows_done: u64,
    },
    /// The batch helper in a migration that runs in one transaction.
    #[error("`backfill` commits each batch on its own, which a migration run in one transaction cannot do: add `// transactional: false` to the header")]
    NeedsNonTransactional,
    /// A batch that did not move the key forward: the walk would never end.
    #[error("batch {batch} of `{walk}` made no progress: its last key {key} is not after the previous batch's; stopped instead of looping (is `{walk}` unique and left unchanged by the batch?)")]
    NoProgress {
        /// The walk (`table.key`).
        walk: String,
        /// The 1-based batch number of this run.
        batch: u64,
        /// The key it stopped at.
        key: String,
    },
    /// A walk over a key that some rows leave NULL: a keyset walk (`key > last`, in key
    /// order) never reaches them, so it refuses to start (or go on) rather than skip them.
    #[error("`{table}.{key}` has {rows} {} whose key is NULL, which the walk (`{key} > last key`, in key order) never reaches, so they would be skipped; stopped before the next batch: give them a key, or leave them out on purpose with `.filter(\"{key} IS NOT NULL\")` and handle them apart", if *.rows == 1 { "row" } else { "rows" })]
    NullKeys {
        /// The walked table.
        table: String,
        /// The key column (or expression).
        key: String,
        /// Rows of the walk (its filter applied) whose key is NULL.
        rows: u64,
    },
    /// A batched statement or walk that reached its cap on batches.
    #[error("`{walk}` still had rows to change after {max} batches (the cap); raise it, or check that each batch leaves out the rows already done")]
    TooManyBatches {
        /// The walk or statement.
        walk: String,
        /// The cap.
        max: u64,
    },
}

impl MigrationError {
    /// Wraps the migration's own error.
    pub fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> MigrationError {
        MigrationError::Other(e.into())
    }

    /// A panic located in the migration's own file names it as the runner does (its
    /// path in the versions folder), not as the compiler saw it.
    pub(crate) fn located_in(self, path: &str) -> MigrationError {
        match self {
            MigrationError::Panicked {
                message,
                location: Some(at),
            } => {
                let location = match at.split_once(&format!("{path}:")) {
                    Some((dir, line)) if dir.is_empty() || dir.ends_with(['/', '\\']) => {
                        format!("{path}:{line}")
                    }
                    _ => at,
                };
                MigrationError::Panicked {
                    message,
                    location: Some(location),
                }
            }
            other => other,
        }
    }

    pub(crate) fn statement(statement: &str, source: sqlx::Error) -> MigrationError {
        MigrationError::Statement {
            // A NUL byte would reach the terminal raw (refused before it ran).
            statement: statement.replace('\0', "\\0"),
            message: crate::batch::db_message(&source),
            source,
        }
    }
}

/// What a Rust migration is given: the database, the connection, and the batch helper.
pub struct MigrationContext<'c> {
    pub(crate) conn: &'c mut Conn,
    pub(crate) revision: &'c str,
    pub(crate) direction: Direction,
    pub(crate) transactional: bool,
    pub(crate) progress_table: &'c str,
    pub(crate) sink: &'c ProgressSink<'c>,
    pub(crate) stop: &'c StopHandle,
    /// Whether a walk of this migration has progress recorded (committed batches, of
    /// this run or an earlier one): what a failure says about running it again.
    pub(crate) walked: bool,
}

impl std::fmt::Debug for MigrationContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationContext")
            .field("revision", &self.revision)
            .field("direction", &self.direction)
            .field("dialect", &self.dialect())
            .field("transactional", &self.transactional)
            .finish_non_exhaustive()
    }
}

impl MigrationContext<'_> {
    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    /// The revision running.
    pub fn revision(&self) -> &str {
        self.revision
    }

    /// Upgrade or downgrade.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether the migration runs in a transaction (its header has no
    /// `transactional: false`): then everything it does commits with its version row,
    /// or not at all.
    pub fn in_transaction(&self) -> bool {
        self.transactional
    }

    /// sqlx's SQLite connection, when the migration runs on SQLite, for any sqlx query
    /// (`sqlx::query(...).execute(conn)`). In a transactional migration it is inside
    /// the migration's transaction: do not commit or roll back on it.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        self.conn.sqlx_connection()
    }

    /// sqlx's PostgreSQL connection, when the migration runs on PostgreSQL (see
    /// [`MigrationContext::sqlite`]).
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        self.conn.sqlx_connection()
    }

    /// sqlx's MySQL/MariaDB connection, when the migration runs on MySQL or MariaDB
    /// (see [`MigrationContext::sqlite`]).
    #[cfg(feature = "mysql")]
    pub fn mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        self.conn.sqlx_connection()
    }

    /// Runs SQL text (one statement or several separated by `;`, unprepared) and
    /// returns the rows it changed.
    ///
    /// # Errors
    /// [`MigrationError::Statement`] with the database's message.
    pub async fn execute(&mut self, sql: &str) -> Result<u64, MigrationError> {
        execute(self.conn, sql).await
    }

    /// Whether a stop was asked for ([`StopHandle::stop`], Ctrl-C in the command
    /// line): a long migration of its own loops may check it between units of work
    /// and return [`MigrationError::Interrupted`]. The batch helper does.
    pub fn stop_requested(&self) -> bool {
        self.stop.is_stopped()
    }
}

/// The code of the Rust migrations of embedded migrations, by revision.
pub(crate) fn code_of(
    migrations: &crate::EmbeddedMigrations,
) -> std::collections::HashMap<String, RustMigration> {
    migrations
        .rust
        .iter()
        .map(|(revision, code)| (revision.to_string(), *code))
        .collect()
}

/// Sets the revisions a failed run completed (those a rollback did not undo) on the
/// errors of Rust migrations and batched steps.
pub(crate) fn set_applied(e: &mut crate::MigrateError, report: &crate::Report) {
    let done = || report.revisions().iter().map(|r| r.to_string()).collect();
    match e {
        crate::MigrateError::RustMigration(failed) => failed.applied = done(),
        crate::MigrateError::Interrupted { applied, .. }
        | crate::MigrateError::BatchLimit { applied, .. } => *applied = done(),
        _ => {}
    }
}

/// Runs SQL text for migration code and returns the rows it changed; a failure names
/// the statement.
pub(crate) async fn execute(conn: &mut Conn, sql: &str) -> Result<u64, MigrationError> {
    conn.execute(sql)
        .await
        .map_err(|e| MigrationError::statement(sql, e))
}

/// A Rust migration's future with its panics caught: a panic while it is polled ends
/// it with [`MigrationError::Panicked`] instead of unwinding through the runner (which
/// then rolls back and reports it as any failure). The panic hook stays quiet for the
/// panics it catches; others go to the hook that was there before.
pub(crate) struct CatchPanic<'a>(pub(crate) MigrationFuture<'a>);

impl Future for CatchPanic<'_> {
    type Output = MigrationResult;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<MigrationResult> {
        let future = &mut self.0;
        let scope = panic_scope::Scope::enter();
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx)));
        match polled {
            Ok(poll) => poll,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_string());
                std::task::Poll::Ready(Err(MigrationError::Panicked {
                    message,
                    location: scope.location(),
                }))
            }
        }
    }
}

/// The panic hook's side of [`CatchPanic`]: while a migration is polled on a thread, a
/// panic there records its location instead of printing `thread '...' panicked at`
/// and a backtrace note, since the runner reports it as the migration's error.
mod panic_scope {
    use std::cell::{Cell, RefCell};
    use std::sync::Once;

    thread_local! {
        static CATCHING: Cell<bool> = const { Cell::new(false) };
        static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    static INSTALL: Once = Once::new();

    /// Installs the hook once per process, in front of the one already there (the
    /// default, or the application's), which still gets every other panic.
    fn install() {
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let caught = CATCHING.try_with(Cell::get).unwrap_or(false);
                if !caught {
                    return previous(info);
                }
                let at = info.location().map(|l| l.to_string());
                let _ = LOCATION.try_with(|l| *l.borrow_mut() = at);
            }));
        });
    }

    /// One poll of a migration on this thread.
    pub(super) struct Scope {
        outer: bool,
    }

    impl Scope {
        pub(super) fn enter() -> Scope {
            install();
            LOCATION.with(|l| l.borrow_mut().take());
            Scope {
                outer: CATCHING.with(|c| c.replace(true)),
            }
        }

        /// Where the panic caught in this poll happened.
        pub(super) fn location(&self) -> Option<String> {
            LOCATION.with(|l| l.borrow_mut().take())
        }
    }

    impl Drop for Scope {
        fn drop(&mut self) {
            CATCHING.with(|c| c.set(self.outer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panicked(at: &str) -> MigrationError {
        MigrationError::Panicked {
            message: "boom".into(),
            location: Some(at.into()),
        }
    }

    #[test]
    fn panics_in_the_migration_file_are_located_by_its_path() {
        let at = |e: MigrationError| e.to_string();
        assert_eq!(
            at(panicked("/src/app/migrations/sub/r2_x.rs:13:9").located_in("sub/r2_x.rs")),
            "the migration panicked at sub/r2_x.rs:13:9: boom"
        );
        // Elsewhere (a helper, a library, another file ending alike): as it was.
        assert_eq!(
            at(panicked("src/helpers.rs:4:5").located_in("r2_x.rs")),
            "the migration panicked at src/helpers.rs:4:5: boom"
        );
        assert_eq!(
            at(panicked("/m/ar2_x.rs:1:1").located_in("r2_x.rs")),
            "the migration panicked at /m/ar2_x.rs:1:1: boom"
        );
    }

    #[test]
    fn a_panic_while_polled_is_an_error_and_other_panics_are_untouched() {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut caught = CatchPanic(Box::pin(async { panic!("inside {}", 1) }));
        let std::task::Poll::Ready(Err(MigrationError::Panicked { message, location })) =
            Pin::new(&mut caught).poll(&mut cx)
        else {
            panic!("not caught");
        };
        assert_eq!(message, "inside 1");
        assert!(location.is_some_and(|l| l.contains("rust_migration.rs:")));
        // Outside a migration's poll, a panic still unwinds as before.
        let outside = std::panic::catch_unwind(|| panic!("outside"));
        assert!(outside.is_err());
    }
}
