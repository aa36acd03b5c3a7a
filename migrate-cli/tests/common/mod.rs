//! Helpers: a temp project, the real `migrate` binary, uv-style transcripts, and fresh
//! databases (SQLite always; PostgreSQL and MariaDB when `MIGRATE_TEST_POSTGRES_URL` /
//! `MIGRATE_TEST_MYSQL_URL` are set — a set URL that is unreachable fails the test).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// A temporary working directory with a database URL.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl Project {
    /// A project on an SQLite file inside the temp dir.
    pub fn sqlite() -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        Project { dir, url }
    }

    /// A project on the given database URL.
    pub fn with_url(url: String) -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
            url,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary, run in the project with a clean environment and the project's URL.
    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(bin());
        c.current_dir(self.path())
            .env_remove("DATABASE_URL")
            .env_remove("VISUAL")
            .env_remove("EDITOR")
            .env("DATABASE_URL", &self.url)
            .env("MIGRATE_CACHE_DIR", self.path().join(".cache"))
            .args(args);
        c
    }

    /// Runs the binary and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run migrate")
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "migrate {args:?} failed:\n{}",
            transcript(self, &out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The one integer an SQL query on the project's SQLite database returns.
    pub fn count(&self, sql: &str) -> i64 {
        let url = self.url.clone();
        let sql = sql.to_string();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
                let n: i64 = sqlx::query_scalar(&sql)
                    .fetch_one(&pool)
                    .await
                    .expect("query");
                pool.close().await;
                n
            })
    }

    /// Replaces the empty upgrade/downgrade sections of a generated file with SQL.
    pub fn fill(&self, rel_glob_rev: &str, up: &str, down: &str) {
        let versions = self.path().join("migrations");
        let file = find_file(&versions, rel_glob_rev).expect("revision file");
        let text = std::fs::read_to_string(&file).expect("read");
        let text = text.replace(
            "-- migrate:upgrade\n\n\n-- migrate:downgrade\n",
            &format!("-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n"),
        );
        std::fs::write(&file, text).expect("write");
    }
}

/// Finds the file under `dir` whose name starts with `prefix`.
pub fn find_file(dir: &Path, prefix: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let e = e.ok()?;
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, prefix) {
                return Some(f);
            }
        } else if e.file_name().to_string_lossy().starts_with(prefix) {
            return Some(p);
        }
    }
    None
}

/// The path of the `migrate` binary cargo built for these tests.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("migrate")
}

/// uv's shape: exit code, stdout, stderr; temp paths, dates, ids and timings filtered.
pub fn transcript(p: &Project, out: &Output) -> String {
    let raw = format!(
        "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    filter(p, &raw)
}

/// Filters what changes between runs.
pub fn filter(p: &Project, s: &str) -> String {
    let mut s = s.replace(&p.url, "[URL]");
    s = s.replace(&p.path().display().to_string(), "[TEMP]");
    dates_and_timings(&s)
}

/// Replaces date-times (`YYYY-MM-DD HH:MM:SS`) and `(N.N ms)` timings.
fn dates_and_timings(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if i + 19 <= b.len() && is_datetime(&b[i..i + 19]) {
            out.push_str("[DATE]");
            i += 19;
            continue;
        }
        if b[i] == b'(' {
            if let Some(end) = s[i..].find(" ms)") {
                let inner = &s[i + 1..i + end];
                if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit() || c == '.') {
                    out.push_str("([N] ms)");
                    i += end + 4;
                    continue;
                }
            }
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn is_datetime(w: &[u8]) -> bool {
    let digit = |k: usize| w[k].is_ascii_digit();
    (0..4).all(digit)
        && w[4] == b'-'
        && digit(5)
        && digit(6)
        && w[7] == b'-'
        && digit(8)
        && digit(9)
        && w[10] == b' '
        && digit(11)
        && digit(12)
        && w[13] == b':'
        && digit(14)
        && digit(15)
        && w[16] == b':'
        && digit(17)
        && digit(18)
}

/// Replaces every 12-hex-digit generated revision id with `[ID]`.
pub fn filter_ids(s: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.len() >= 12
            && word[..12]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            && word[..12].chars().any(|c| c.is_ascii_digit())
        {
            out.push_str("[ID]");
            out.push_str(&word[12..]);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

// ---- databases ---------------------------------------------------------------------

/// The runtime tests' database helpers: one way to name, create and clean up test
/// databases for the whole workspace.
use migrate_test_support as shared;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Server databases configured for this run: `(name, admin URL)`.
pub fn servers() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Ok(u) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        out.push(("postgres", u));
    }
    if let Ok(u) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        out.push(("mysql", u));
    }
    out
}

/// Creates a fresh database through the admin URL and returns its URL. Panics (fails
/// the test) when the server is unreachable.
pub fn fresh_database(kind: &str, admin: &str, tag: &str) -> String {
    rt().block_on(shared::fresh_url(kind, admin, tag))
}

/// Rows of the history table with direction 'upgrade', per revision.
pub fn upgrade_counts(url: &str) -> Vec<(String, i64)> {
    let sql = "SELECT revision, COUNT(*) FROM alembic_version_history WHERE direction = 'upgrade' GROUP BY revision ORDER BY revision";
    rt().block_on(async {
        if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            let rows: Vec<(String, i64)> =
                sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
            pool.close().await;
            rows
        } else if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            let rows: Vec<(String, i64)> =
                sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
            pool.close().await;
            rows
        } else {
            let pool = sqlx::MySqlPool::connect(url).await.expect("mysql");
            let rows: Vec<(String, i64)> =
                sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
            pool.close().await;
            rows
        }
    })
}

/// A project made by `init -t multidb` with one revision in each section: `ma1` in
/// `main`, `an1` in `analytics`.
pub fn multidb_project() -> Project {
    let p = Project::sqlite();
    p.ok(&["init", "-t", "multidb", "dbs"]);
    p.ok(&[
        "-n", "main", "revision", "-m", "main one", "--rev-id", "ma1",
    ]);
    p.ok(&[
        "-n",
        "analytics",
        "revision",
        "-m",
        "events",
        "--rev-id",
        "an1",
    ]);
    p
}

/// One migration for [`embedded`]: `(path, revision, parent, message, transactional,
/// table, checksum byte)`.
pub type TableMigration<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    bool,
    &'a str,
    u8,
);

/// Migrations as `embed_migrations!` would hand them to an application: each one a
/// table made by its upgrade (SQL on line 6) and dropped by its downgrade (line 9).
pub fn embedded(scripts: &[TableMigration<'_>]) -> migrate_runtime::EmbeddedMigrations {
    use migrate_runtime::core::{Checksum, Script, ScriptKind, Section};
    use std::borrow::Cow;
    let section = |sql: String, line| Section {
        dialect: None,
        sql: Cow::Owned(sql),
        line,
    };
    let owned = |s: &str| Cow::Owned(s.to_string());
    let migrations: Vec<Script> = scripts
        .iter()
        .map(
            |&(path, revision, parent, message, transactional, table, sum)| Script {
                path: owned(path),
                revision: owned(revision),
                down_revisions: Cow::Owned(parent.into_iter().map(owned).collect()),
                branch_labels: Cow::Borrowed(&[]),
                depends_on: Cow::Borrowed(&[]),
                message: owned(message),
                create_date: None,
                transactional,
                extra_fields: Cow::Borrowed(&[]),
                upgrade: Cow::Owned(vec![section(
                    format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);\n"),
                    6,
                )]),
                downgrade: Cow::Owned(vec![section(format!("DROP TABLE {table};\n"), 9)]),
                checksum: Checksum([sum; 32]),
                kind: ScriptKind::Sql,
            },
        )
        .collect();
    migrate_runtime::EmbeddedMigrations {
        // Test data, made once per test binary.
        migrations: Box::leak(migrations.into_boxed_slice()),
        rust: &[],
        allow_multiple_heads: false,
    }
}

pub mod schema_project;
