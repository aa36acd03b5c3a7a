//! What the runner knows of each database without a connection: the [`Backend`] trait
//! (the SQL it writes there and the facts it decides on), one implementation per
//! database in that database's folder, chosen by [`of`].

use migrate_core::Dialect;
use std::time::Duration;

/// A 64-bit FNV-1a hash, for lock keys derived from table names.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn lock_key(s: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// What the runner needs to know of a database and the SQL it writes there: one
/// implementation per database (in its file), chosen by [`of`]. No method does I/O.
pub(crate) trait Backend: Sync {
    /// The dialect this backend implements.
    fn dialect(&self) -> Dialect;

    /// `CREATE TABLE IF NOT EXISTS` for the history table.
    fn history_ddl(&self, table: &str) -> String;

    /// `CREATE TABLE IF NOT EXISTS` for the progress table of resumable migrations
    /// (see `batch.rs`).
    fn progress_ddl(&self, table: &str) -> String;

    /// The statement that opens a migration's transaction, when it is not `BEGIN`.
    fn begin_statement(&self) -> Option<&'static str> {
        None
    }

    /// A statement for the run's connection before the first transaction (a lock wait
    /// of the database's own, in milliseconds).
    fn session_setup(&self, _lock_timeout: Duration) -> Option<String> {
        None
    }

    /// A query answering `1` while the session is inside a transaction, for databases
    /// whose DDL commits the transaction it runs in: after a migration's SQL the
    /// runner opens a new one for the version-table change when the DDL ended it.
    fn in_transaction_query(&self) -> Option<&'static str> {
        None
    }

    /// Whether `statement` commits the transaction it runs in, and so needs none.
    fn commits_on_its_own(&self, _statement: &str) -> bool {
        false
    }

    /// What stays after a migration fails half-way, when the database commits DDL at
    /// once whatever the transaction (said in the error).
    fn ddl_commits_note(&self) -> Option<&'static str> {
        None
    }

    /// Whether statements of a `transactional: false` section go one at a time: a
    /// multi-statement request there forms a transaction block of its own, in which
    /// statements like `CREATE INDEX CONCURRENTLY` may not run.
    fn splits_outside_transactions(&self) -> bool {
        false
    }

    /// The query reading the newest checksum of every applied revision, and whether it
    /// answers in one row (`revision checksum` pairs joined by `,`, oldest first)
    /// rather than one row per pair.
    fn checksums_query(&self, history: &str) -> (String, bool) {
        (
            format!(
                "SELECT revision, checksum FROM {history} \
                 WHERE direction IN ('upgrade', 'stamp', 'accept') AND checksum IS NOT NULL ORDER BY id"
            ),
            false,
        )
    }

    /// The placeholder of the `n`th (1-based) bound parameter.
    fn placeholder(&self, _n: usize) -> String {
        "?".to_string()
    }

    /// Whether several statements with bound values may share one request (the
    /// version change and the history row of a step then go together), written by
    /// [`Backend::joined_request`].
    fn joins_bound_statements(&self) -> bool {
        false
    }

    /// The request that runs bound INSERT, UPDATE and DELETE `statements` (one, or
    /// several where [`Backend::joins_bound_statements`]), placeholders numbered
    /// across them, and how it tells the rows they touched.
    fn joined_request(&self, statements: &[String]) -> JoinedRequest {
        JoinedRequest::Execute(statements.join(";\n"))
    }

    /// Where the database a URL names lives: host (the loopback spellings as one),
    /// port and database, with the driver's defaults filled in, so that two spellings
    /// of one database compare equal. `None` where a database is a file, or the URL
    /// cannot be read. (What a dev URL is checked against: the `schema` feature.)
    #[cfg_attr(not(feature = "schema"), allow(dead_code))]
    fn location(&self, _url: &str) -> Option<(String, u16, String)> {
        None
    }

    /// Whether the database has an inline driver for plans of plain SQL (SQLite's
    /// handle driven in the calling thread, see `sqlite/inline.rs`).
    fn drives_inline(&self) -> bool {
        false
    }

    /// Whether the migration lock keeps every other writer out of the version table
    /// for the whole run. Where it does not (SQLite's file lock binds only migrators),
    /// each transaction takes the database's write lock and reads the version rows
    /// again before a migration.
    fn lock_excludes_writers(&self) -> bool {
        true
    }

    /// A query returning text rows that together name the server's version and the
    /// settings that shape what DDL creates there (encoding, collation, default
    /// engine...): two servers with equal answers give a schema equal models, which is
    /// what a cache of models is keyed by.
    fn fingerprint_query(&self) -> &'static str;

    /// Whether a database error says the table does not exist.
    fn is_missing_table(&self, e: &dyn sqlx::error::DatabaseError) -> bool;

    /// Whether a database error says a lock could not be had in time.
    fn is_busy(&self, _e: &dyn sqlx::error::DatabaseError) -> bool {
        false
    }

    /// A hint for a database message whose fix is known, said with a failed migration.
    fn failure_hint(&self, _message: &str) -> Option<&'static str> {
        None
    }

    /// `expr` converted to a 64-bit integer (`text: false`) or to text.
    fn cast(&self, expr: &str, text: bool) -> String;

    /// An SQL string literal of `s`, as this database's DDL writes it.
    fn literal(&self, s: &str) -> String {
        migrate_schema::render::dialect(self.dialect()).string_literal(s)
    }

    /// `name` as a quoted identifier, as this database's DDL writes it.
    // Only MySQL's schema reader and test fixture quote names of their own so far.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    fn quote_identifier(&self, name: &str) -> String {
        migrate_schema::render::dialect(self.dialect()).quote_identifier(name)
    }

    /// The statement that inserts or updates a progress row; `values` are the
    /// placeholders of the revision, the walk, the last key and the rows done.
    fn upsert_progress(&self, table: &str, values: [&str; 4]) -> String;
}

/// How [`Backend::joined_request`] sends statements.
pub(crate) enum JoinedRequest {
    /// Run as they are; the driver counts the rows touched.
    Execute(String),
    /// A query whose one value is the rows touched.
    Count(String),
}

/// The history table's DDL: `id` is the auto-numbered primary key's definition,
/// `timestamp` the type and default of the time it was written.
pub(super) fn history_table(table: &str, id: &str, timestamp: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    id {id},\n    revision VARCHAR(32) NOT NULL,\n    direction VARCHAR(16) NOT NULL,\n    checksum VARCHAR(64),\n    applied_at {timestamp},\n    duration_ms BIGINT NOT NULL DEFAULT 0\n)"
    )
}

/// The progress table's DDL; `timestamp` as for [`history_table`].
pub(super) fn progress_table(table: &str, timestamp: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    revision VARCHAR(32) NOT NULL,\n    walk VARCHAR(191) NOT NULL,\n    last_key TEXT,\n    rows_done BIGINT NOT NULL DEFAULT 0,\n    updated_at {timestamp},\n    PRIMARY KEY (revision, walk)\n)"
    )
}

/// The progress upsert of PostgreSQL and SQLite (`ON CONFLICT`); `values` as for
/// [`Backend::upsert_progress`].
pub(super) fn upsert_on_conflict(table: &str, values: [&str; 4]) -> String {
    let [r, w, k, rows_done] = values;
    format!(
        "INSERT INTO {table} (revision, walk, last_key, rows_done) VALUES ({r}, {w}, {k}, {rows_done}) \
         ON CONFLICT (revision, walk) DO UPDATE SET last_key = excluded.last_key, rows_done = excluded.rows_done, updated_at = CURRENT_TIMESTAMP"
    )
}

/// The backend of `dialect`: the one place a [`Dialect`] is matched to its database,
/// exhaustively, so a new database is a compile error here.
pub(crate) fn of(dialect: Dialect) -> &'static dyn Backend {
    match dialect {
        Dialect::Sqlite => &super::sqlite::Sqlite,
        Dialect::Postgres => &super::postgres::Postgres,
        Dialect::Mysql => &super::mysql::Mysql,
    }
}

/// A host name with the spellings of this machine (`localhost`, `127.0.0.1`, `::1`, none)
/// made one.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[cfg_attr(not(feature = "schema"), allow(dead_code))]
pub(super) fn same_host(host: &str) -> String {
    match host.trim_matches(['[', ']']).to_ascii_lowercase().as_str() {
        "localhost" | "127.0.0.1" | "::1" | "" => "localhost".to_string(),
        other => other.to_string(),
    }
}
