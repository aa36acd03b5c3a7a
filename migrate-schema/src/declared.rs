//! The declared schema folder: plain SQL files that say what the schema should be, as
//! opposed to the migrations that say how to get there.
//!
//! Every `*.sql` file under the folder is read in the versions folder's path order
//! (a folder's files by name, then its subfolders; hidden files and folders skipped).
//! A file is SQL, optionally split into sections for one database, as migrations are:
//!
//! ```sql
//! -- tickets: what users report
//! CREATE TABLE tickets (                -- migrate:renamed_from issues
//!     id INTEGER PRIMARY KEY,
//!     title VARCHAR(200) NOT NULL,      -- migrate:renamed_from subject
//!     body TEXT
//! );
//!
//! -- migrate:schema postgres
//! CREATE TABLE tickets (                -- migrate:renamed_from issues
//!     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//!     title VARCHAR(200) NOT NULL,      -- migrate:renamed_from subject
//!     body TEXT
//! );
//! ```
//!
//! Text before any directive, and a `-- migrate:schema` section, are shared; a
//! `-- migrate:schema postgres|sqlite|mysql` section replaces the shared SQL of its file
//! on that database (an empty one says the file has nothing for it). A
//! `-- migrate:renamed_from <old name>` comment at the end of a `CREATE TABLE <name>`
//! line renames the table; at the end of a column line inside a `CREATE TABLE`, it
//! renames that column (the first identifier of the line). The diff then renames
//! instead of dropping and creating.
//!
//! ```
//! use migrate_core::Dialect;
//! use migrate_schema::declared::DeclaredSchema;
//!
//! let files = [(
//!     "tickets.sql",
//!     "CREATE TABLE tickets ( -- migrate:renamed_from issues\n    id INT,\n    title TEXT -- migrate:renamed_from subject\n);\n",
//! )];
//! let declared = DeclaredSchema::from_files(files).unwrap();
//! let renames: Vec<_> = declared.renames(Dialect::Sqlite).collect();
//! assert_eq!(renames[0].table.name, "tickets");
//! assert_eq!(renames[0].old_name.name, "issues");
//! assert_eq!(renames[1].column.as_ref().unwrap().name, "title");
//! ```

use crate::model::Schema;
use crate::render;
use migrate_core::directory::{read_regular_file, scan_files};
use migrate_core::lex::{self, Syntax, Token, TokenKind};
use migrate_core::sql::{client_text, nul_line, utf8_text, ClientCommand};
use migrate_core::{Dialect, LoadError};
use std::fmt;
use std::path::{Path, PathBuf};

/// The directive that starts a section (`-- migrate:schema [database]`).
pub const SCHEMA_DIRECTIVE: &str = "schema";
/// The annotation that renames a table or column (`-- migrate:renamed_from <old>`).
pub const RENAMED_FROM: &str = "renamed_from";

/// A loaded declared schema folder: its files in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredSchema {
    /// Files in path order (see [`migrate_core::directory::path_order`]).
    pub files: Vec<DeclaredFile>,
}

/// One file of the declared schema folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredFile {
    /// Path relative to the folder, with `/`.
    pub path: String,
    /// Sections in file order: at most one shared (`dialect: None`) and one per database.
    pub sections: Vec<DeclaredSection>,
}

/// A piece of SQL of one file, for every database or for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredSection {
    /// `None` for the shared SQL, else the database whose shared SQL it replaces.
    pub dialect: Option<Dialect>,
    /// The SQL text, every line of the section kept (blank lines too), so that line `n`
    /// of the text is line `line + n - 1` of the file.
    pub sql: String,
    /// 1-based line of the file where `sql` starts.
    pub line: usize,
    /// The `-- migrate:renamed_from` annotations of the section.
    pub renames: Vec<Rename>,
}

/// A `-- migrate:renamed_from` annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The table, by its name in the `CREATE TABLE`.
    pub table: Ident,
    /// The renamed column, `None` when the table itself is renamed.
    pub column: Option<Ident>,
    /// The previous name.
    pub old_name: Ident,
    /// The file.
    pub path: String,
    /// 1-based line of the annotation.
    pub line: usize,
}

/// An identifier as written in the SQL, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name without its quotes.
    pub name: String,
    /// Whether it was quoted (`"x"`, `` `x` `` or `[x]`).
    pub quoted: bool,
}

impl Ident {
    /// The name as `dialect` stores it: PostgreSQL folds an unquoted name to lower case;
    /// the others keep it as written (see [`render::DdlDialect::stored_name`]).
    pub fn stored_name(&self, dialect: Dialect) -> String {
        render::dialect(dialect).stored_name(&self.name, self.quoted)
    }

    /// Whether `dialect` would resolve this identifier to the object named `stored`:
    /// exactly on PostgreSQL (after folding an unquoted name), ignoring ASCII case on
    /// SQLite and MySQL, whose column names (and SQLite's table names) are
    /// case-insensitive (see [`render::DdlDialect::resolves_to`]).
    pub fn matches(&self, stored: &str, dialect: Dialect) -> bool {
        render::dialect(dialect).resolves_to(&self.name, self.quoted, stored)
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Why a declared schema folder cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeclaredError {
    /// The folder or one of its files cannot be read.
    #[error("cannot read the declared schema `{}`: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An entry of the folder is refused (a named pipe, a non-UTF-8 name, a folder loop),
    /// as in a versions folder.
    #[error(transparent)]
    Refused(LoadError),
    /// Problems in the files, every one found, each naming its file and line.
    #[error("{}", render_problems(.0))]
    Invalid(Vec<DeclaredProblem>),
}

/// A problem in one file of the declared schema, at a line.
///
/// Displays as `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {kind}")]
pub struct DeclaredProblem {
    /// The file, relative to the folder.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub kind: DeclaredProblemKind,
}

/// What is wrong with a line of the declared schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeclaredProblemKind {
    /// The file is not UTF-8.
    #[error("the file is not valid UTF-8")]
    NotUtf8,
    /// A NUL byte, which SQLite reads as the end of the SQL text.
    #[error("a NUL byte (\\0) in the file: databases read it as the end of the SQL, so what follows would not run; remove it")]
    NulByte,
    /// A `-- migrate:` directive other than `schema` and `renamed_from`.
    #[error("unknown directive `-- migrate:{0}`; expected `-- migrate:schema [postgres|sqlite|mysql]` or `-- migrate:renamed_from <old name>`")]
    UnknownDirective(String),
    /// `-- migrate:schema` names a database this project does not know.
    #[error(
        "unknown database `{0}` in `-- migrate:schema`; expected `postgres`, `sqlite` or `mysql`"
    )]
    UnknownDialect(String),
    /// Two sections for the same database (or two shared ones) in one file.
    #[error("a second `-- migrate:{label}` section in this file (the first starts on line {first_line}); merge them")]
    DuplicateSection {
        /// `schema` or `schema postgres`...
        label: String,
        /// Where the first one starts.
        first_line: usize,
    },
    /// `-- migrate:renamed_from` without a name, or with more than one.
    #[error("`-- migrate:renamed_from` takes one name, the previous one: `-- migrate:renamed_from old_name`")]
    BadOldName,
    /// An annotation that is not on a `CREATE TABLE` line or a column line inside one.
    #[error("`-- migrate:renamed_from {0}` is not attached to a table or column: write it at the end of the `CREATE TABLE <name>` line, or of a column's line inside the `CREATE TABLE`")]
    Unattached(String),
    /// An annotation whose table the loaded schema does not have.
    #[error("`-- migrate:renamed_from {old_name}` renames table `{table}`, which the declared schema does not create")]
    UnknownTable {
        /// The table.
        table: String,
        /// The previous name.
        old_name: String,
    },
    /// An annotation whose column the loaded schema does not have.
    #[error("`-- migrate:renamed_from {old_name}` renames column `{column}` of table `{table}`, which the declared schema does not have")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The previous name.
        old_name: String,
    },
    /// A command of a database's client that cannot be followed (`\connect`,
    /// `DELIMITER` in a section for PostgreSQL...).
    #[error("{0}")]
    ClientCommand(ClientCommand),
    /// A statement that names a PostgreSQL schema other than the scratch one, where the
    /// scratch is a schema inside the dev database: what it creates would land outside
    /// the scratch, beside the dev database's own tables.
    #[error("this statement names the schema `{named}`, but the declared schema is loaded into the scratch schema `{scratch}` inside the dev database (the role may not create databases), so it would write outside the scratch: give the role CREATEDB, or write the names without `{named}.`")]
    EscapesScratch {
        /// The schema the statement names.
        named: String,
        /// The scratch schema.
        scratch: String,
    },
    /// A second annotation on the same table or column.
    #[error("`{object}` is already renamed from `{first_old_name}` at {first_path}:{first_line}; keep one `-- migrate:renamed_from`")]
    DuplicateRename {
        /// `table t` or `column t.c`.
        object: String,
        /// The first annotation's old name.
        first_old_name: String,
        /// Its file.
        first_path: String,
        /// Its line.
        first_line: usize,
    },
}

fn render_problems(problems: &[DeclaredProblem]) -> String {
    match problems {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} problems in the declared schema:", many.len());
            for p in many {
                s.push_str("\n  - ");
                s.push_str(&p.to_string());
            }
            s
        }
    }
}

/// One piece of SQL to run on a database: a file's section, with where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The file.
    pub path: &'a str,
    /// 1-based line of the file where `sql` starts.
    pub line: usize,
    /// The SQL text.
    pub sql: &'a str,
}

impl DeclaredSchema {
    /// Reads every `*.sql` file under `dir` in path order, refusing what a versions
    /// folder refuses (see [`migrate_core::scan`]).
    ///
    /// # Errors
    /// [`DeclaredError::Io`] when the folder or a file cannot be read;
    /// [`DeclaredError::Refused`] for a refused entry; [`DeclaredError::Invalid`] with
    /// every problem of every file.
    pub fn load(dir: &Path) -> Result<DeclaredSchema, DeclaredError> {
        let io = |e: LoadError| match e {
            LoadError::Io { path, source } => DeclaredError::Io { path, source },
            other => DeclaredError::Refused(other),
        };
        let mut files = Vec::new();
        for (rel, abs) in scan_files(dir, &[".sql"]).map_err(io)? {
            files.push((rel, read_regular_file(&abs).map_err(io)?));
        }
        DeclaredSchema::from_files(files)
    }

    /// Parses files given as `(relative path, bytes)`, in the order given.
    ///
    /// # Errors
    /// [`DeclaredError::Invalid`] with every problem found.
    pub fn from_files<P, B>(
        files: impl IntoIterator<Item = (P, B)>,
    ) -> Result<DeclaredSchema, DeclaredError>
    where
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for (path, bytes) in files {
            match parse_file(path.as_ref(), bytes.as_ref()) {
                Ok(file) => out.push(file),
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            Ok(DeclaredSchema { files: out })
        } else {
            Err(DeclaredError::Invalid(problems))
        }
    }

    /// A checksum of everything loading the folder runs: each file's path and its
    /// sections (database, first line, SQL). Equal checksums load equal schemas on one
    /// server, which is what a cache of the loaded model is keyed by.
    pub fn checksum(&self) -> migrate_core::Checksum {
        let mut bytes = Vec::new();
        for f in &self.files {
            bytes.extend_from_slice(f.path.as_bytes());
            bytes.push(0);
            for s in &f.sections {
                let dialect = s.dialect.map(|d| d.to_string()).unwrap_or_default();
                bytes.extend_from_slice(format!("{dialect}\0{}\0", s.line).as_bytes());
                bytes.extend_from_slice(&(s.sql.len() as u64).to_le_bytes());
                bytes.extend_from_slice(s.sql.as_bytes());
            }
            bytes.push(0xff);
        }
        migrate_core::Checksum::of(&bytes)
    }

    /// The SQL to run on `dialect`, in order: of each file, its section for `dialect`
    /// if it has one, else its shared section.
    pub fn pieces(&self, dialect: Dialect) -> impl Iterator<Item = Piece<'_>> {
        self.files.iter().filter_map(move |f| {
            f.section(dialect).map(|s| Piece {
                path: &f.path,
                line: s.line,
                sql: &s.sql,
            })
        })
    }

    /// The annotations that hold on `dialect` (those of the sections [`pieces`] picks).
    ///
    /// [`pieces`]: DeclaredSchema::pieces
    pub fn renames(&self, dialect: Dialect) -> impl Iterator<Item = &Rename> {
        self.files
            .iter()
            .filter_map(move |f| f.section(dialect))
            .flat_map(|s| s.renames.iter())
    }

    /// Sets `renamed_from` on the tables and columns of `schema` (the declared schema as
    /// a database read it back) from the annotations that hold on `dialect`.
    ///
    /// # Errors
    /// [`DeclaredError::Invalid`] naming the file and line of each annotation whose
    /// table or column `schema` does not have, or that renames an object renamed
    /// already.
    pub fn apply_renames(
        &self,
        schema: &mut Schema,
        dialect: Dialect,
    ) -> Result<(), DeclaredError> {
        let mut problems = Vec::new();
        let mut done: Vec<(String, Option<String>, &Rename)> = Vec::new();
        for r in self.renames(dialect) {
            let problem = |kind| DeclaredProblem {
                path: r.path.clone(),
                line: r.line,
                kind,
            };
            let old_name = r.old_name.stored_name(dialect);
            let Some(table) = find_by(schema.tables.values_mut(), |t| &t.name, &r.table, dialect)
            else {
                problems.push(problem(DeclaredProblemKind::UnknownTable {
                    table: r.table.name.clone(),
                    old_name,
                }));
                continue;
            };
            let key = match &r.column {
                None => (table.name.clone(), None),
                Some(c) => {
                    let Some(column) = find_by(table.columns.iter_mut(), |c| &c.name, c, dialect)
                    else {
                        problems.push(problem(DeclaredProblemKind::UnknownColumn {
                            table: table.name.clone(),
                            column: c.name.clone(),
                            old_name,
                        }));
                        continue;
                    };
                    (table.name.clone(), Some(column.name.clone()))
                }
            };
            if let Some((_, _, first)) = done.iter().find(|(t, c, _)| (t, c) == (&key.0, &key.1)) {
                let object = match &key.1 {
                    None => format!("table {}", key.0),
                    Some(c) => format!("column {}.{c}", key.0),
                };
                problems.push(problem(DeclaredProblemKind::DuplicateRename {
                    object,
                    first_old_name: first.old_name.stored_name(dialect),
                    first_path: first.path.clone(),
                    first_line: first.line,
                }));
                continue;
            }
            match &key.1 {
                None => table.renamed_from = Some(old_name),
                Some(c) => {
                    if let Some(column) = table.columns.iter_mut().find(|x| &x.name == c) {
                        column.renamed_from = Some(old_name);
                    }
                }
            }
            done.push((key.0, key.1, r));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DeclaredError::Invalid(problems))
        }
    }
}

/// The one object `ident` resolves to: an exact match first, else the only one that
/// [`Ident::matches`].
fn find_by<'a, T: 'a>(
    items: impl Iterator<Item = &'a mut T>,
    name: impl Fn(&T) -> &String,
    ident: &Ident,
    dialect: Dialect,
) -> Option<&'a mut T> {
    let stored = ident.stored_name(dialect);
    let mut exact = None;
    let mut loose = Vec::new();
    for item in items {
        if *name(item) == stored {
            exact = Some(item);
        } else if ident.matches(name(item), dialect) {
            loose.push(item);
        }
    }
    exact.or_else(|| (loose.len() == 1).then(|| loose.pop()).flatten())
}

impl DeclaredFile {
    /// The section used on `dialect`: its own, else the shared one.
    pub fn section(&self, dialect: Dialect) -> Option<&DeclaredSection> {
        self.sections
            .iter()
            .find(|s| s.dialect == Some(dialect))
            .or_else(|| self.sections.iter().find(|s| s.dialect.is_none()))
    }
}

/// What a whole line is, for finding sections.
enum Line<'a> {
    /// `-- migrate:<name> <arg>`
    Directive { name: &'a str, arg: &'a str },
    /// Anything else: SQL, comments, blank lines.
    Other,
}

fn classify(line: &str) -> Line<'_> {
    let t = line.trim();
    let Some(rest) = t.strip_prefix("--") else {
        return Line::Other;
    };
    let Some(d) = rest.trim_start().strip_prefix("migrate:") else {
        return Line::Other;
    };
    let d = d.trim();
    let (name, arg) = match d.find(char::is_whitespace) {
        Some(i) => (&d[..i], d[i..].trim()),
        None => (d, ""),
    };
    Line::Directive { name, arg }
}

/// Whether a line holds SQL (not only blanks and `--` comments).
fn has_sql(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with("--")
}

/// Parses one file of the declared schema.
///
/// # Errors
/// Every problem of the file, each with its line.
pub fn parse_file(path: &str, bytes: &[u8]) -> Result<DeclaredFile, Vec<DeclaredProblem>> {
    let refuse = |line, kind| {
        vec![DeclaredProblem {
            path: path.to_string(),
            line,
            kind,
        }]
    };
    let text = utf8_text(bytes).map_err(|line| refuse(line, DeclaredProblemKind::NotUtf8))?;
    if let Some(line) = nul_line(bytes) {
        return Err(refuse(line, DeclaredProblemKind::NulByte));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Vec::new();
    let mut err = |line, kind| {
        problems.push(DeclaredProblem {
            path: path.to_string(),
            line,
            kind,
        })
    };
    let closed = open_sections(text, &mut err);
    let sections = close_sections(closed, path, &mut err);
    if problems.is_empty() {
        Ok(DeclaredFile {
            path: path.to_string(),
            sections,
        })
    } else {
        Err(problems)
    }
}

/// A section being read.
struct Open<'t> {
    dialect: Option<Dialect>,
    /// First line of its text.
    line: usize,
    lines: Vec<&'t str>,
    /// The directive's line.
    declared_at: usize,
    kind: OpenKind,
}

/// How a section was opened.
#[derive(PartialEq)]
enum OpenKind {
    /// Text before any directive: shared when it holds SQL.
    Implicit,
    /// After `-- migrate:schema [database]`.
    Explicit,
    /// After a directive naming an unknown database: reported, then ignored.
    Discarded,
}

impl Open<'_> {
    fn new(dialect: Option<Dialect>, lineno: usize, kind: OpenKind) -> Self {
        Open {
            dialect,
            line: lineno + 1,
            lines: Vec::new(),
            declared_at: lineno,
            kind,
        }
    }
}

/// The sections of a file's text, as the directives open them; problems go to `err`.
fn open_sections<'t>(
    text: &'t str,
    err: &mut dyn FnMut(usize, DeclaredProblemKind),
) -> Vec<Open<'t>> {
    let mut open = Open::new(None, 0, OpenKind::Implicit);
    let mut closed: Vec<Open<'_>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        match classify(raw) {
            Line::Directive { name, arg } if name == SCHEMA_DIRECTIVE => {
                let next = if arg.is_empty() {
                    Open::new(None, lineno, OpenKind::Explicit)
                } else if let Some(d) = Dialect::from_name(arg) {
                    Open::new(Some(d), lineno, OpenKind::Explicit)
                } else {
                    err(lineno, DeclaredProblemKind::UnknownDialect(arg.to_string()));
                    Open::new(None, lineno, OpenKind::Discarded)
                };
                closed.push(std::mem::replace(&mut open, next));
            }
            // `renamed_from` on a line of its own is found (and refused) with the SQL.
            Line::Directive { name, .. } if name == RENAMED_FROM => open.lines.push(raw),
            Line::Directive { name, .. } => {
                err(
                    lineno,
                    DeclaredProblemKind::UnknownDirective(name.to_string()),
                );
                open.lines.push("");
            }
            Line::Other => open.lines.push(raw),
        }
    }
    closed.push(open);
    closed
}

/// The sections that count (those holding SQL, or declared), with their renames;
/// problems go to `err`.
fn close_sections(
    closed: Vec<Open<'_>>,
    path: &str,
    err: &mut dyn FnMut(usize, DeclaredProblemKind),
) -> Vec<DeclaredSection> {
    let mut sections: Vec<DeclaredSection> = Vec::new();
    let mut seen: Vec<(Option<Dialect>, usize)> = Vec::new();
    for s in closed {
        let mut sql = s.lines.join("\n");
        if !sql.is_empty() {
            sql.push('\n');
        }
        // What runs is what the database's client would send.
        match client_text(&sql, s.dialect) {
            Ok(std::borrow::Cow::Owned(sent)) => sql = sent,
            Ok(std::borrow::Cow::Borrowed(_)) => {}
            Err(e) => err(
                s.line + e.line - 1,
                DeclaredProblemKind::ClientCommand(e.command),
            ),
        }
        let (renames, bad) = find_renames(&sql, s.line, path);
        for (line, kind) in bad {
            err(line, kind);
        }
        // Text outside any explicit section counts only when it holds SQL (a file often
        // starts with a comment).
        let sql_line = s.lines.iter().position(|l| has_sql(l));
        let first = match s.kind {
            OpenKind::Discarded => continue,
            OpenKind::Implicit => match sql_line {
                Some(n) => s.line + n,
                None => continue,
            },
            OpenKind::Explicit => s.declared_at,
        };
        if let Some((_, first_line)) = seen.iter().find(|(d, _)| *d == s.dialect) {
            let label = match s.dialect {
                Some(d) => format!("{SCHEMA_DIRECTIVE} {d}"),
                None => SCHEMA_DIRECTIVE.to_string(),
            };
            err(
                first,
                DeclaredProblemKind::DuplicateSection {
                    label,
                    first_line: *first_line,
                },
            );
        }
        seen.push((s.dialect, first));
        sections.push(DeclaredSection {
            dialect: s.dialect,
            sql,
            line: s.line,
            renames,
        });
    }
    sections
}

/// Words that start a table constraint rather than a column inside `CREATE TABLE (...)`.
const CONSTRAINT_WORDS: &[&str] = &[
    "constraint",
    "primary",
    "unique",
    "check",
    "foreign",
    "key",
    "index",
    "exclude",
    "like",
    "fulltext",
    "spatial",
    "period",
];

/// Words allowed between `CREATE` and `TABLE`.
const TABLE_MODIFIERS: &[&str] = &[
    "temp",
    "temporary",
    "unlogged",
    "global",
    "local",
    "or",
    "replace",
];

/// Finds the `-- migrate:renamed_from` annotations of a section: the ones attached to a
/// table or column, and the problems of the others.
fn find_renames(
    sql: &str,
    first_line: usize,
    path: &str,
) -> (Vec<Rename>, Vec<(usize, DeclaredProblemKind)>) {
    let mut finder = RenameFinder {
        path,
        renames: Vec::new(),
        bad: Vec::new(),
        table: None,
        body: None,
        depth: 0,
        column_on_line: None,
        item_start: false,
        state: State::Idle,
    };
    for tok in lex::tokens(sql, Syntax::ANY) {
        let line = first_line + tok.line - 1;
        match tok.kind {
            TokenKind::Blank | TokenKind::BlockComment => {}
            // The comment's text after its `--`.
            TokenKind::LineComment => finder.comment(line, tok.text.get(2..).unwrap_or("")),
            _ => finder.token(line, &tok),
        }
    }
    (finder.renames, finder.bad)
}

/// Where the tokens are in recognizing `CREATE ... TABLE [IF NOT EXISTS] name`.
#[derive(PartialEq)]
enum State {
    Idle,
    Create,
    Table,
    Named,
}

/// Reads a section's tokens, attaching each annotation to the table or column on its
/// line.
struct RenameFinder<'p> {
    path: &'p str,
    renames: Vec<Rename>,
    bad: Vec<(usize, DeclaredProblemKind)>,
    /// The most recent `CREATE TABLE`: its name and the line of the name.
    table: Option<(Ident, usize)>,
    /// Its body's depth once its `(` is open, while it is.
    body: Option<i32>,
    depth: i32,
    /// The first column that starts on a line: (line, column).
    column_on_line: Option<(usize, Ident)>,
    /// A column (or constraint) may start at the next token.
    item_start: bool,
    state: State,
}

/// A token as an identifier, if it is one.
fn ident(t: &Token<'_>) -> Option<Ident> {
    match t.kind {
        TokenKind::Word => Some(Ident {
            name: t.text.to_string(),
            quoted: false,
        }),
        TokenKind::Quoted => Some(Ident {
            name: t.unquoted()?.into_owned(),
            quoted: true,
        }),
        _ => None,
    }
}

impl RenameFinder<'_> {
    /// A `--` comment: an annotation is attached to the table or column of its line.
    fn comment(&mut self, line: usize, text: &str) {
        let Some(arg) = annotation(text) else {
            return;
        };
        let words: Vec<&str> = arg.split_whitespace().collect();
        let [old] = words.as_slice() else {
            self.bad.push((line, DeclaredProblemKind::BadOldName));
            return;
        };
        let old_name = unquote(old);
        let attached = match (&self.table, &self.column_on_line) {
            (Some((t, l)), _) if *l == line => Some((t.clone(), None)),
            (Some((t, _)), Some((l, c))) if *l == line => Some((t.clone(), Some(c.clone()))),
            _ => None,
        };
        match attached {
            Some((table, column)) => self.renames.push(Rename {
                table,
                column,
                old_name,
                path: self.path.to_string(),
                line,
            }),
            None => self
                .bad
                .push((line, DeclaredProblemKind::Unattached(old.to_string()))),
        }
    }

    /// Any other token.
    fn token(&mut self, line: usize, tok: &Token<'_>) {
        // Columns: the first token after the body's `(` or a `,` at its depth.
        if self.item_start {
            self.item_start = false;
            if let Some(i) = ident(tok).filter(|_| self.table.is_some()) {
                let is_constraint =
                    !i.quoted && CONSTRAINT_WORDS.contains(&i.name.to_ascii_lowercase().as_str());
                if !is_constraint && self.column_on_line.as_ref().is_none_or(|(l, _)| *l != line) {
                    self.column_on_line = Some((line, i));
                }
            }
        }
        match (tok.kind, tok.text) {
            (TokenKind::Punct, "(") => {
                self.depth += 1;
                if self.state == State::Named && self.depth == 1 {
                    self.body = Some(self.depth);
                    self.item_start = true;
                }
                self.state = State::Idle;
            }
            (TokenKind::Punct, ")") => {
                if self.body == Some(self.depth) {
                    self.body = None;
                }
                self.depth -= 1;
            }
            (TokenKind::Punct, ",") if self.body == Some(self.depth) => self.item_start = true,
            (TokenKind::Punct, ";") => {
                self.depth = 0;
                self.body = None;
                self.state = State::Idle;
            }
            _ => {}
        }
        if self.depth == 0 {
            self.create_table(line, tok);
        }
    }

    /// Steps through `CREATE ... TABLE [IF NOT EXISTS] name` at the top level.
    fn create_table(&mut self, line: usize, tok: &Token<'_>) {
        let word = (tok.kind == TokenKind::Word).then(|| tok.text.to_ascii_lowercase());
        let state = std::mem::replace(&mut self.state, State::Idle);
        self.state = match (state, word.as_deref()) {
            (State::Idle, Some("create")) => State::Create,
            (State::Create, Some("table")) => State::Table,
            (State::Create, Some(w)) if TABLE_MODIFIERS.contains(&w) => State::Create,
            (State::Table, Some("if" | "not" | "exists")) => State::Table,
            (State::Table, _) | (State::Named, _) if tok.is_punct(b'.') => State::Table,
            (State::Table, _) => match ident(tok) {
                Some(i) => {
                    self.table = Some((i, line));
                    self.column_on_line = None;
                    State::Named
                }
                None => State::Idle,
            },
            (State::Named, _) => State::Idle,
            _ => State::Idle,
        };
    }
}

/// The argument of a `-- migrate:renamed_from` comment, from the text after `--`.
fn annotation(comment: &str) -> Option<&str> {
    let d = comment.trim().strip_prefix("migrate:")?;
    let rest = d.strip_prefix(RENAMED_FROM)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

/// An identifier as written in an annotation.
fn unquote(s: &str) -> Ident {
    let quoted = [('"', '"'), ('`', '`'), ('[', ']')]
        .iter()
        .find_map(|(o, c)| s.strip_prefix(*o).and_then(|r| r.strip_suffix(*c)));
    match quoted {
        Some(inner) => Ident {
            name: inner.to_string(),
            quoted: true,
        },
        None => Ident {
            name: s.to_string(),
            quoted: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Table};

    fn parse(text: &str) -> DeclaredFile {
        parse_file("t.sql", text.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn problems(text: &str) -> Vec<String> {
        match parse_file("t.sql", text.as_bytes()) {
            Ok(f) => panic!("expected problems, parsed {f:?}"),
            Err(p) => p.iter().map(ToString::to_string).collect(),
        }
    }

    fn names(r: &Rename) -> (String, Option<String>, String, usize) {
        (
            r.table.name.clone(),
            r.column.as_ref().map(|c| c.name.clone()),
            r.old_name.name.clone(),
            r.line,
        )
    }

    #[test]
    fn text_before_any_directive_is_shared() {
        let f = parse("-- users\nCREATE TABLE users (id INT);\n");
        assert_eq!(f.sections.len(), 1);
        let s = &f.sections[0];
        assert_eq!(s.dialect, None);
        assert_eq!(s.line, 1);
        assert_eq!(s.sql, "-- users\nCREATE TABLE users (id INT);\n");
    }

    #[test]
    fn a_database_section_replaces_the_shared_one() {
        let text = "-- header comment\n\n-- migrate:schema\nCREATE TABLE a (id INT);\n-- migrate:schema postgres\nCREATE TABLE a (id BIGINT);\n-- migrate:schema sqlite\n";
        let f = parse(text);
        assert_eq!(f.sections.len(), 3);
        assert_eq!(f.section(Dialect::Mysql).map(|s| s.line), Some(4));
        assert_eq!(
            f.section(Dialect::Postgres).map(|s| s.sql.as_str()),
            Some("CREATE TABLE a (id BIGINT);\n")
        );
        assert_eq!(f.section(Dialect::Postgres).map(|s| s.line), Some(6));
        // An empty section for a database: nothing from this file there.
        assert_eq!(f.section(Dialect::Sqlite).map(|s| s.sql.trim()), Some(""));
        let schema = DeclaredSchema { files: vec![f] };
        let pieces: Vec<_> = schema.pieces(Dialect::Mysql).collect();
        assert_eq!(pieces.len(), 1);
        assert_eq!((pieces[0].path, pieces[0].line), ("t.sql", 4));
    }

    #[test]
    fn section_lines_map_back_to_the_file() {
        let text = "-- migrate:schema\n\n\nCREATE TABLE a (id INT);\n\nCREATE TABLE b (id INT);\n";
        let f = parse(text);
        let s = &f.sections[0];
        let stmts = migrate_core::sql::split_statements(&s.sql);
        let lines: Vec<usize> = stmts.iter().map(|(l, _)| s.line + l - 1).collect();
        assert_eq!(lines, [4, 6]);
    }

    #[test]
    fn aliases_and_duplicates() {
        let f = parse(
            "-- migrate:schema postgresql\nSELECT 1;\n-- migrate:schema mariadb\nSELECT 2;\n",
        );
        assert_eq!(f.sections[0].dialect, Some(Dialect::Postgres));
        assert_eq!(f.sections[1].dialect, Some(Dialect::Mysql));
        assert_eq!(
            problems("-- migrate:schema sqlite\nSELECT 1;\n-- migrate:schema sqlite\nSELECT 2;\n"),
            ["t.sql:3: a second `-- migrate:schema sqlite` section in this file (the first starts on line 1); merge them"]
        );
        assert_eq!(
            problems("CREATE TABLE a (id INT);\n-- migrate:schema\nSELECT 2;\n"),
            ["t.sql:2: a second `-- migrate:schema` section in this file (the first starts on line 1); merge them"]
        );
    }

    #[test]
    fn unknown_directives_and_databases() {
        assert_eq!(
            problems("-- migrate:upgrade\nSELECT 1;\n-- migrate:schema oracle\nSELECT 2;\n"),
            [
                "t.sql:1: unknown directive `-- migrate:upgrade`; expected `-- migrate:schema [postgres|sqlite|mysql]` or `-- migrate:renamed_from <old name>`",
                "t.sql:3: unknown database `oracle` in `-- migrate:schema`; expected `postgres`, `sqlite` or `mysql`",
            ]
        );
    }

    #[test]
    fn table_and_column_renames() {
        let text = "\
CREATE TABLE tickets ( -- migrate:renamed_from issues
    id INT PRIMARY KEY,
    title TEXT NOT NULL, -- migrate:renamed_from subject
    \"Body\" TEXT DEFAULT 'a, -- migrate:renamed_from x', -- migrate:renamed_from \"Text\"
    price NUMERIC(10, 2) -- migrate:renamed_from cost
);
CREATE TABLE IF NOT EXISTS public.users -- migrate:renamed_from people
  (id INT,
   name TEXT) -- migrate:renamed_from login
;
";
        let f = parse(text);
        let got: Vec<_> = f.sections[0].renames.iter().map(names).collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            got,
            [
                (s("tickets"), None, s("issues"), 1),
                (s("tickets"), Some(s("title")), s("subject"), 3),
                (s("tickets"), Some(s("Body")), s("Text"), 4),
                (s("tickets"), Some(s("price")), s("cost"), 5),
                (s("users"), None, s("people"), 7),
                (s("users"), Some(s("name")), s("login"), 9),
            ]
        );
        let body = &f.sections[0].renames[2];
        assert!(body.column.as_ref().is_some_and(|c| c.quoted));
        assert!(body.old_name.quoted);
    }

    #[test]
    fn leading_comma_style_and_multiline_strings() {
        let text = "CREATE TABLE t (\n    a INT\n  , c INT -- migrate:renamed_from old_c\n  , b TEXT DEFAULT 'x\n y' -- migrate:renamed_from old_b\n);\n";
        assert_eq!(
            problems(text),
            ["t.sql:5: `-- migrate:renamed_from old_b` is not attached to a table or column: write it at the end of the `CREATE TABLE <name>` line, or of a column's line inside the `CREATE TABLE`"],
            "b starts on line 4, the annotation is on line 5"
        );
        let f = parse(&text.replace(" -- migrate:renamed_from old_b", ""));
        let got: Vec<_> = f.sections[0].renames.iter().map(names).collect();
        assert_eq!(
            got,
            [(
                "t".to_string(),
                Some("c".to_string()),
                "old_c".to_string(),
                3
            )]
        );
    }

    #[test]
    fn unattached_annotations_are_errors() {
        let text = "\
-- migrate:renamed_from floating
CREATE TABLE t (
    -- migrate:renamed_from alone
    id INT,
    CONSTRAINT t_pk PRIMARY KEY (id) -- migrate:renamed_from pk
);
CREATE INDEX ix ON t (id); -- migrate:renamed_from old_ix
CREATE TABLE u (id INT); -- migrate:renamed_from
";
        assert_eq!(
            problems(text),
            [
                "t.sql:1: `-- migrate:renamed_from floating` is not attached to a table or column: write it at the end of the `CREATE TABLE <name>` line, or of a column's line inside the `CREATE TABLE`",
                "t.sql:3: `-- migrate:renamed_from alone` is not attached to a table or column: write it at the end of the `CREATE TABLE <name>` line, or of a column's line inside the `CREATE TABLE`",
                "t.sql:5: `-- migrate:renamed_from pk` is not attached to a table or column: write it at the end of the `CREATE TABLE <name>` line, or of a column's line inside the `CREATE TABLE`",
                "t.sql:7: `-- migrate:renamed_from old_ix` is not attached to a table or column: write it at the end of the `CREATE TABLE <name>` line, or of a column's line inside the `CREATE TABLE`",
                "t.sql:8: `-- migrate:renamed_from` takes one name, the previous one: `-- migrate:renamed_from old_name`",
            ]
        );
    }

    #[test]
    fn client_commands_are_followed_or_named() {
        let f = parse("-- dump\nDELIMITER ;;\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END;;\nDELIMITER ;\n");
        assert_eq!(
            f.sections[0].sql,
            "-- dump\n\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END;\n\n"
        );
        assert_eq!(
            problems("-- migrate:schema postgres\nSELECT 1;\n\\connect other\n"),
            ["t.sql:3: `\\connect` is a command of the database's client (psql), not SQL, and cannot be followed here: the SQL runs on the database it is given and cannot switch to another; remove the line"]
        );
        assert_eq!(
            problems("-- migrate:schema sqlite\nDELIMITER ;;\n"),
            ["t.sql:2: `DELIMITER` is a command of MySQL's client, and this section is for sqlite; put it in a `mysql` section or a shared one"]
        );
    }

    #[test]
    fn not_utf8_names_the_line() {
        assert_eq!(
            parse_file("t.sql", b"SELECT 1;\nSELECT '\xff';\n").unwrap_err()[0].to_string(),
            "t.sql:2: the file is not valid UTF-8"
        );
    }

    #[test]
    fn a_nul_byte_names_the_line() {
        // SQLite would read `CREATE TABLE a` alone; sqlx's SQLite driver would loop
        // forever on the text after the NUL.
        assert_eq!(
            parse_file("t.sql", b"CREATE TABLE a (id INT);\n\0\nCREATE TABLE b (id INT);\n")
                .unwrap_err()[0]
                .to_string(),
            "t.sql:2: a NUL byte (\\0) in the file: databases read it as the end of the SQL, so what follows would not run; remove it"
        );
        let err = DeclaredSchema::from_files([
            ("a.sql", &b"CREATE TABLE a (id INT);\n"[..]),
            (
                "b.sql",
                b"-- migrate:schema sqlite\nCREATE TABLE b (id INT);\0\n",
            ),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("b.sql:2: a NUL byte"), "{err}");
    }

    #[test]
    fn renames_follow_the_database_section() {
        let text = "CREATE TABLE t (id INT); -- migrate:renamed_from a\n-- migrate:schema postgres\nCREATE TABLE T (id INT); -- migrate:renamed_from B\n";
        let d = DeclaredSchema::from_files([("x.sql", text)]).unwrap();
        let pg: Vec<_> = d.renames(Dialect::Postgres).collect();
        assert_eq!(pg.len(), 1);
        assert_eq!(pg[0].old_name.stored_name(Dialect::Postgres), "b");
        assert_eq!(d.renames(Dialect::Sqlite).next().map(|r| r.line), Some(1));
    }

    #[test]
    fn apply_renames_sets_the_model_and_names_unknown_objects() {
        let text = "\
CREATE TABLE Tickets ( -- migrate:renamed_from Issues
    Title TEXT -- migrate:renamed_from subject
);
CREATE TABLE gone ( -- migrate:renamed_from old_gone
    nope INT -- migrate:renamed_from older
);
";
        let d = DeclaredSchema::from_files([("s/t.sql", text)]).unwrap();
        let mut schema = Schema::default();
        schema.add_table(Table::new("tickets").column(Column::new("title", "text")));
        schema.add_table(Table::new("other"));
        let err = d.apply_renames(&mut schema, Dialect::Postgres).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 problems in the declared schema:\n  - s/t.sql:4: `-- migrate:renamed_from old_gone` renames table `gone`, which the declared schema does not create\n  - s/t.sql:5: `-- migrate:renamed_from older` renames table `gone`, which the declared schema does not create"
        );
        let tickets = &schema.tables["tickets"];
        assert_eq!(tickets.renamed_from.as_deref(), Some("issues"));
        assert_eq!(tickets.columns[0].renamed_from.as_deref(), Some("subject"));

        // SQLite keeps the case as written and compares without it.
        let mut schema = Schema::default();
        schema.add_table(Table::new("tickets").column(Column::new("title", "text")));
        let d = DeclaredSchema::from_files([("t.sql", "CREATE TABLE Tickets (\n  Title TEXT, -- migrate:renamed_from Subject\n  body TEXT -- migrate:renamed_from b\n);\n")]).unwrap();
        let err = d.apply_renames(&mut schema, Dialect::Sqlite).unwrap_err();
        assert_eq!(err.to_string(), "t.sql:3: `-- migrate:renamed_from b` renames column `body` of table `tickets`, which the declared schema does not have");
        assert_eq!(
            schema.tables["tickets"].columns[0].renamed_from.as_deref(),
            Some("Subject")
        );
    }

    #[test]
    fn a_second_rename_of_one_object_is_an_error() {
        let a =
            "CREATE TABLE t ( -- migrate:renamed_from a\n  c INT -- migrate:renamed_from x\n);\n";
        let b =
            "ALTER TABLE t ADD d INT;\nCREATE TABLE t ( -- migrate:renamed_from b\n  c INT\n);\n";
        let d = DeclaredSchema::from_files([("a.sql", a), ("b.sql", b)]).unwrap();
        let mut schema = Schema::default();
        schema.add_table(Table::new("t").column(Column::new("c", "integer")));
        let err = d.apply_renames(&mut schema, Dialect::Sqlite).unwrap_err();
        assert_eq!(err.to_string(), "b.sql:2: `table t` is already renamed from `a` at a.sql:1; keep one `-- migrate:renamed_from`");
    }

    #[test]
    fn load_reads_sql_files_in_path_order_and_skips_hidden_ones() {
        let dir = std::env::temp_dir().join(format!("migrate-declared-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("b.sql"), "CREATE TABLE b (id INT);\n").unwrap();
        std::fs::write(dir.join("a.sql"), "CREATE TABLE a (id INT);\n").unwrap();
        std::fs::write(dir.join("sub/0.sql"), "CREATE TABLE c (id INT);\n").unwrap();
        std::fs::write(dir.join(".hidden.sql"), "nonsense").unwrap();
        std::fs::write(dir.join("notes.txt"), "nonsense").unwrap();
        let d = DeclaredSchema::load(&dir).unwrap();
        let paths: Vec<_> = d.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.sql", "b.sql", "sub/0.sql"]);
        let missing = DeclaredSchema::load(&dir.join("nope")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read the declared schema `"),
            "{missing}"
        );
        #[cfg(unix)]
        {
            let fifo = dir.join("pipe.sql");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let err = DeclaredSchema::load(&dir).unwrap_err();
                assert!(matches!(err, DeclaredError::Refused(_)), "{err}");
                assert!(err.to_string().contains("named pipe"), "{err}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
