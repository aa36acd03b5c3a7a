//! Errors of the runtime.

use migrate_core::{Dialect, Direction, LoadError, RevisionError};
use std::path::PathBuf;
use std::time::Duration;

/// Why the CA file a URL names cannot be used: each names the file (`path`) and the
/// URL parameter that named it (`param`: `sslrootcert`, `ssl-ca`...).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsCaError {
    /// No file at that path.
    #[error("the CA file `{}` ({param}) does not exist; check the path", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// The URL parameter.
        param: &'static str,
    },
    /// The file exists but cannot be read.
    #[error("cannot read the CA file `{}` ({param})", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The URL parameter.
        param: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no certificate: empty, or not PEM.
    #[error("the CA file `{}` ({param}) holds no PEM certificate (`-----BEGIN CERTIFICATE-----`); name the file of the CA that signed the server's certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The URL parameter.
        param: &'static str,
    },
    /// A certificate in the file cannot be parsed.
    #[error("the CA file `{}` ({param}) holds a certificate that cannot be read", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The URL parameter.
        param: &'static str,
        /// What the parser said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server's certificate is signed by the named CA but not for the host the URL
    /// connects to (`verify-full`, `VERIFY_IDENTITY`).
    #[error("the server's certificate does not name the host `{host}` ({source}); connect by a name the certificate lists")]
    NotForHost {
        /// The host of the URL.
        host: String,
        /// What the TLS library found.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server's certificate does not verify against the named CA, the only one
    /// trusted when a CA is named.
    #[error("the server's certificate is not trusted by the CA file `{}` ({param}), the only CA a named file lets the connection trust: {source}", path.display())]
    NotTrusted {
        /// The file.
        path: PathBuf,
        /// The URL parameter.
        param: &'static str,
        /// What the TLS library found.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Everything that can go wrong while migrating a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The migrations folder could not be loaded or is invalid.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An identifier did not resolve, or the plan is not possible.
    #[error(transparent)]
    Revision(#[from] RevisionError),
    /// The database URL is not one this build supports.
    #[error("unsupported database URL `{url}`: expected {expected}")]
    UnsupportedUrl {
        /// The URL, password masked.
        url: String,
        /// What this build accepts.
        expected: &'static str,
    },
    /// Connecting failed.
    #[error("cannot connect to {url}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// Connecting, or the handshake and login after it, got no answer within the connect
    /// timeout (see [`Database::connect_with_timeout`](crate::Database::connect_with_timeout)).
    #[error("timed out after {timeout:?} connecting to {addr} ({what}) for {url}")]
    ConnectTimeout {
        /// The URL, password masked.
        url: String,
        /// `host:port`, or the socket path, connected to.
        addr: String,
        /// What got no answer, e.g. `no answer to the PostgreSQL handshake`.
        what: &'static str,
        /// The connect timeout.
        timeout: Duration,
    },
    /// The CA file the URL names (`sslrootcert`, `ssl-ca`) cannot be used, or did not
    /// sign the server's certificate: a named CA is the only one trusted, as in libpq
    /// and the MySQL client.
    #[error("cannot connect to {url}")]
    TlsCa {
        /// The URL, password masked.
        url: String,
        /// What is wrong with the CA file, naming it.
        #[source]
        problem: TlsCaError,
    },
    /// The SQLite file does not exist and the caller only reads (nothing was created).
    #[error("the database {url} does not exist; this command only reads and does not create it: check the URL, or create the database with `migrate upgrade`")]
    MissingDatabase {
        /// The URL, password masked.
        url: String,
    },
    /// A database operation of the migrator itself (not of a migration) failed.
    #[error("{context}")]
    Database {
        /// What the migrator was doing.
        context: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration's SQL failed. Everything before it stays applied; this one was
    /// rolled back where the database allows it.
    #[error(transparent)]
    Migration(Box<MigrationFailed>),
    /// A Rust migration failed (its `upgrade` or `downgrade` returned an error).
    #[error(transparent)]
    RustMigration(Box<RustMigrationFailed>),
    /// A Rust migration found by a migrator without its code: one that read the files
    /// (the `migrate` command line) instead of embedding them.
    #[error("revision `{revision}` ({path}) is a Rust migration, which only the application that embeds it can run: build the migrations into it with `embed_migrations!` and run them there, `myapp migrate {}` (`migrate_cli::run_embedded`), or `Migrator::new(&MIGRATIONS)` in code; nothing was run", embedded_command(.direction))]
    RustWithoutCode {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// Upgrade or downgrade.
        direction: Direction,
    },
    /// An offline script (`--sql`) reached a migration whose SQL is not known before it
    /// runs: a Rust migration, or a batched statement (which repeats until it changes no
    /// rows).
    #[error("offline SQL stops at revision `{revision}` ({path}): {why}; nothing was written{}", before_note(.before))]
    Offline {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// Why it cannot be written.
        why: &'static str,
        /// The range the script can cover, up to the revision before it (`from:to`),
        /// when there is one.
        before: Option<String>,
    },
    /// A batched statement still changing rows after its `max` batches.
    #[error("the batched statement at {path}:{line} (revision `{revision}`) still changed rows after {max} batches (its `max=`); nothing more was run, and running the migration again continues it: raise `max`, or check that its `WHERE` leaves out the rows already done{}", applied_note(.applied))]
    BatchLimit {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// The statement's line.
        line: usize,
        /// The cap.
        max: u64,
        /// Revisions completed before it.
        applied: Vec<String>,
    },
    /// A batched migration stopped on request ([`StopHandle`](crate::StopHandle),
    /// Ctrl-C) after a committed batch.
    #[error("interrupted: revision `{revision}` ({path}) stopped after a committed batch ({rows_done} rows done); run the upgrade again to continue where it stopped{}", applied_note(.applied))]
    Interrupted {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// Rows done by its committed batches.
        rows_done: u64,
        /// Revisions completed before it.
        applied: Vec<String>,
    },
    /// Applied migrations whose files changed since they ran.
    #[error("applied migrations were edited since they ran: {}; restore them, or accept the new contents on purpose (`migrate accept`)", list_edited(.0))]
    Edited(Vec<EditedMigration>),
    /// The migration lock was not obtained in time.
    #[error("timed out after {waited:?} waiting for the migration lock ({what}); another migrator is running, or a crashed one still holds its connection")]
    LockTimeout {
        /// How long we waited.
        waited: Duration,
        /// Which lock.
        what: String,
    },
    /// A revision has no SQL usable on this database.
    #[error("revision `{revision}` ({path}) has no `-- migrate:{direction}` section usable on {dialect}; nothing was run")]
    NoSqlForDialect {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// Upgrade or downgrade.
        direction: Direction,
        /// The database.
        dialect: Dialect,
    },
    /// A history row holds a value this version never writes.
    #[error("the history table holds a row for `{revision}` whose {column} is `{value}`, which this version does not write; was the table changed by hand?")]
    UnreadableHistory {
        /// The row's revision.
        revision: String,
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
    /// The version table changed in a way the plan did not expect.
    #[error("the version table `{table}` did not hold the rows expected while applying `{revision}` (expected {expected} changed rows, got {actual}); nothing of this step was kept")]
    VersionTable {
        /// Table name.
        table: String,
        /// Revision of the step.
        revision: String,
        /// Rows expected to change.
        expected: u64,
        /// Rows that changed.
        actual: u64,
    },
    /// Another migrator moved the version table during a run with a relative target.
    #[error("another migrator changed the version table while moving to the relative target `{target}`; nothing more was run{}; check `current` and run again with an absolute target", applied_note(.applied))]
    ConcurrentChange {
        /// The relative target.
        target: String,
        /// Steps this run completed before it noticed.
        applied: Vec<String>,
    },
    /// The lock file beside an SQLite database could not be created or locked.
    #[error("cannot use the migration lock file `{}`", path.display())]
    LockFile {
        /// The lock file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A table or schema name that cannot be written unquoted on every database.
    #[error("invalid table or schema name {name:?}: {reason}; pick a name of letters, digits and `_` that starts with a letter and is not an SQL keyword")]
    InvalidName {
        /// The name.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An operation on whole databases asked of SQLite, whose databases are files.
    #[error("{what} needs a database server (PostgreSQL, MySQL or MariaDB); SQLite keeps each database in a file of its own")]
    ServerOnly {
        /// What was asked.
        what: &'static str,
    },
    /// The database is not at the heads (from [`Migrator::check`](crate::Migrator::check)).
    #[error("database is behind the migrations: current {current}, heads {heads}; run `migrate upgrade head`", current = or_base(.current), heads = or_base(.heads))]
    NotAtHead {
        /// Rows of the version table.
        current: Vec<String>,
        /// Heads of the migrations.
        heads: Vec<String>,
    },
}

/// The details of [`MigrateError::Migration`].
#[derive(Debug, thiserror::Error)]
#[error("{direction} of revision `{revision}` failed at {path}:{line}: {message}\n  statement: {statement}{}{}{}", partial_note(.revision, *.partly_applied, *.resumable), applied_note(.applied), hint_note(*.hint))]
#[non_exhaustive]
pub struct MigrationFailed {
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// Line of the failing statement in the file.
    pub line: usize,
    /// The failing statement.
    pub statement: String,
    /// The database's message.
    pub message: String,
    /// Revisions applied (or reverted) before the failure, in order; steps a rollback
    /// undid are not listed.
    pub applied: Vec<String>,
    /// Why the failed revision may be partly applied (statements that committed before
    /// the failing one), or `None` when its changes were rolled back.
    pub partly_applied: Option<&'static str>,
    /// Whether what ran is recorded in the progress table, so that running the
    /// migration again continues after it (batched migrations).
    pub resumable: bool,
    /// What usually fixes this failure, when the database's message is a known one.
    pub hint: Option<&'static str>,
    /// Driver error.
    #[source]
    pub source: sqlx::Error,
}

/// The details of [`MigrateError::RustMigration`].
#[derive(Debug, thiserror::Error)]
#[error("{direction} of Rust migration `{revision}` ({path}) failed{}{}{}", resumable_note(.revision, *.resumable), partial_note(.revision, *.partly_applied, false), applied_note(.applied))]
#[non_exhaustive]
pub struct RustMigrationFailed {
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// Revisions applied (or reverted) before the failure, in order.
    pub applied: Vec<String>,
    /// Whether it ran outside a transaction and its walks recorded progress (committed
    /// batches) in the progress table: running it again runs its function from the top,
    /// and each walk continues after its last committed key.
    pub resumable: bool,
    /// Why what it ran before the failure may stay although nothing records it (DDL
    /// that commits at once, or a `transactional: false` migration without committed
    /// batches), or `None` when the rollback undid it or the progress table records it.
    pub partly_applied: Option<&'static str>,
    /// What the migration returned.
    #[source]
    pub source: crate::rust_migration::MigrationError,
}

fn resumable_note(revision: &str, resumable: bool) -> String {
    if resumable {
        format!("\n  revision `{revision}` is `transactional: false`: its committed batches stay, recorded in the progress table; running it again runs its function from the top (what it does outside its walks runs again) and each walk continues after its last committed key")
    } else {
        String::new()
    }
}

fn embedded_command(direction: &Direction) -> &'static str {
    match direction {
        Direction::Downgrade => "downgrade <target>",
        Direction::Upgrade => "upgrade head",
    }
}

fn before_note(before: &Option<String>) -> String {
    match before {
        Some(range) => format!("; `--sql {range}` writes the script up to the revision before it"),
        None => String::new(),
    }
}

/// An applied migration whose checksum differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedMigration {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// Checksum recorded when it ran, as the history table holds it (hex).
    pub recorded: String,
    /// Checksum of the file now.
    pub current: migrate_core::Checksum,
}

fn list_edited(v: &[EditedMigration]) -> String {
    v.iter()
        .map(|e| format!("`{}` ({})", e.revision, e.path))
        .collect::<Vec<_>>()
        .join(", ")
}

fn applied_note(applied: &[String]) -> String {
    if applied.is_empty() {
        String::new()
    } else {
        format!("\n  completed before the failure: {}", applied.join(", "))
    }
}

fn hint_note(hint: Option<&str>) -> String {
    hint.map(|h| format!("\n  hint: {h}")).unwrap_or_default()
}

fn partial_note(revision: &str, why: Option<&str>, resumable: bool) -> String {
    match why {
        Some(why) if resumable => format!("\n  revision `{revision}` is partly applied: {why}"),
        Some(why) => format!(
            "\n  revision `{revision}` may be partly applied: {why}; the version table does not list it, so check the schema and undo (or finish by hand and `migrate stamp`) what ran before running again"
        ),
        None => String::new(),
    }
}

fn or_base(v: &[String]) -> String {
    if v.is_empty() {
        "<base>".to_string()
    } else {
        v.join(", ")
    }
}

impl MigrateError {
    pub(crate) fn db(context: impl Into<String>, source: sqlx::Error) -> Self {
        MigrateError::Database {
            context: context.into(),
            source,
        }
    }
}

/// Masks every credential of a database URL for display: the password of the user
/// info (`postgres://u:***@h/db`, also when it holds a raw `/`, `?` or `@`, and in a
/// URL written without a scheme) and the values of query parameters that carry secrets
/// (`password`, `sslpassword`, ...: `?password=***`). What cannot be parsed is masked
/// rather than shown.
pub fn mask_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    // The user info ends at the last `@`: a password may hold `@`, `/` or `?` unescaped,
    // and masking a host too much is better than showing a password.
    let after_userinfo = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    let Some(q) = after_userinfo.find('?') else {
        out.push_str(after_userinfo);
        return out;
    };
    out.push_str(&after_userinfo[..=q]);
    for (i, pair) in after_userinfo[q + 1..].split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) if is_secret_parameter(key) => {
                out.push_str(key);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Query parameters of a database URL whose value is a secret.
fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password")
        || key.contains("secret")
        || key.contains("token")
        || matches!(key.as_str(), "pass" | "passwd" | "pwd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_failures_say_what_running_again_does() {
        let failed = |resumable, partly_applied| {
            RustMigrationFailed {
                direction: Direction::Upgrade,
                revision: "r".into(),
                path: "r.rs".into(),
                applied: Vec::new(),
                resumable,
                partly_applied,
                source: crate::rust_migration::MigrationError::other("boom"),
            }
            .to_string()
        };
        assert_eq!(
            failed(false, None),
            "upgrade of Rust migration `r` (r.rs) failed"
        );
        assert_eq!(
            failed(true, None),
            "upgrade of Rust migration `r` (r.rs) failed\n  revision `r` is `transactional: false`: its committed batches stay, recorded in the progress table; running it again runs its function from the top (what it does outside its walks runs again) and each walk continues after its last committed key"
        );
        assert_eq!(
            failed(false, Some("why")),
            "upgrade of Rust migration `r` (r.rs) failed\n  revision `r` may be partly applied: why; the version table does not list it, so check the schema and undo (or finish by hand and `migrate stamp`) what ran before running again"
        );
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_url("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(mask_url("mysql://root@h/db"), "mysql://root@h/db");
        assert_eq!(mask_url("sqlite://a.db"), "sqlite://a.db");
        assert_eq!(mask_url("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn masks_every_credential() {
        let cases = [
            (
                "postgres://h/db?password=SECRET",
                "postgres://h/db?password=***",
            ),
            (
                "postgres://u@h/db?sslmode=require&sslpassword=SECRET&application_name=x",
                "postgres://u@h/db?sslmode=require&sslpassword=***&application_name=x",
            ),
            ("postgres://u:SE?CRET@h/db", "postgres://u:***@h/db"),
            ("postgres://u:SE/CRET@h/db?x=1", "postgres://u:***@h/db?x=1"),
            ("mysql://u:a/b?c@d@h:3306/db", "mysql://u:***@h:3306/db"),
            ("bob:SECRET@127.0.0.1", "bob:***@127.0.0.1"),
            (
                "bob:SECRET@127.0.0.1/db?Password=SECRET",
                "bob:***@127.0.0.1/db?Password=***",
            ),
            (
                "postgres://h/db?PASSWORD=SECRET&pwd=SECRET",
                "postgres://h/db?PASSWORD=***&pwd=***",
            ),
        ];
        for (url, masked) in cases {
            assert_eq!(mask_url(url), masked, "{url}");
            assert!(!mask_url(url).contains("SECRET"), "{url}");
            assert!(!mask_url(url).contains("CRET"), "{url}");
        }
    }
}
