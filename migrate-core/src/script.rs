//! Parsing one migration file.

use crate::checksum::Checksum;
use crate::error::{ParseError, ParseErrorKind, RevisionIdError};
use crate::sql::{nul_line, utf8_text};
use std::borrow::Cow;
use std::fmt;

/// The databases a section of a migration can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
    /// MySQL and MariaDB.
    Mysql,
}

impl Dialect {
    /// Every dialect, in a stable order.
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql];

    /// The name used in section directives (`-- migrate:upgrade postgres`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
            Dialect::Mysql => "mysql",
        }
    }

    /// Whether DDL takes part in transactions. MySQL and MariaDB commit implicitly
    /// before and after most DDL statements, so a migration there cannot be rolled back
    /// and a transaction cannot span several migrations.
    pub fn transactional_ddl(self) -> bool {
        match self {
            Dialect::Postgres | Dialect::Sqlite => true,
            Dialect::Mysql => false,
        }
    }

    /// Parses a directive name; `postgresql` and `mariadb` are accepted as aliases.
    pub fn from_name(name: &str) -> Option<Dialect> {
        match name {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "sqlite" => Some(Dialect::Sqlite),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    /// The database a connection URL names, by its scheme (`postgres://`,
    /// `postgresql://`, `mysql://`, `mariadb://`, `sqlite:`); `None` for any other.
    pub fn from_url(url: &str) -> Option<Dialect> {
        let (scheme, _) = url.split_once(':')?;
        Dialect::from_name(scheme)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Upgrade or downgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Towards the heads.
    Upgrade,
    /// Towards base.
    Downgrade,
}

impl Direction {
    /// `upgrade` or `downgrade`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a migration file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ScriptKind {
    /// A `.sql` file: `--` header, `-- migrate:upgrade` / `-- migrate:downgrade` sections.
    #[default]
    Sql,
    /// A `.rs` file: `//` header, `pub async fn upgrade` and optionally `downgrade`,
    /// compiled into the application by `embed_migrations!`. Its sections hold no SQL:
    /// there is one, shared, per function the file defines, starting at its line.
    Rust,
}

impl ScriptKind {
    /// The file extensions of migrations, with their kinds.
    pub const EXTENSIONS: [(&'static str, ScriptKind); 2] =
        [(".sql", ScriptKind::Sql), (".rs", ScriptKind::Rust)];

    /// The kind of a migration file by its name (`.sql` or `.rs`); `None` for other files.
    pub fn of_path(path: &str) -> Option<ScriptKind> {
        Self::EXTENSIONS
            .iter()
            .find(|(ext, _)| path.ends_with(ext))
            .map(|(_, k)| *k)
    }

    /// The extension of its files, with the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ScriptKind::Sql => ".sql",
            ScriptKind::Rust => ".rs",
        }
    }
}

/// One SQL section of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Section {
    /// `None` for the section every database uses unless it has its own.
    pub dialect: Option<Dialect>,
    /// The SQL text, without the directive line.
    pub sql: Cow<'static, str>,
    /// 1-based line of the first SQL line (the line after the directive).
    pub line: usize,
}

/// A parsed migration file: header fields, SQL sections and checksum.
///
/// The one definition of a migration: the parser returns it with owned text, and
/// `embed_migrations!` writes it as static data with borrowed text, so the runtime, the
/// command line and its cache all work on the same type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Script {
    /// Path as given to the parser, normally relative to the versions folder with `/`.
    pub path: Cow<'static, str>,
    /// The revision id.
    pub revision: Cow<'static, str>,
    /// Parents; empty for a root revision, several for a merge point.
    pub down_revisions: Cow<'static, [Cow<'static, str>]>,
    /// Branch labels declared on this revision.
    pub branch_labels: Cow<'static, [Cow<'static, str>]>,
    /// Revisions or branch labels that must be applied first, without being parents.
    pub depends_on: Cow<'static, [Cow<'static, str>]>,
    /// The message (Alembic's docstring first line); empty when the file has none.
    pub message: Cow<'static, str>,
    /// `create_date`, as written.
    pub create_date: Option<Cow<'static, str>>,
    /// `false` runs the upgrade outside any transaction.
    pub transactional: bool,
    /// Header fields this project does not interpret (team fields such as `author`), in order.
    pub extra_fields: Cow<'static, [(Cow<'static, str>, Cow<'static, str>)]>,
    /// Upgrade sections (at least one).
    pub upgrade: Cow<'static, [Section]>,
    /// Downgrade sections; empty means irreversible.
    pub downgrade: Cow<'static, [Section]>,
    /// SHA-256 of the file with CRLF turned into LF.
    pub checksum: Checksum,
    /// SQL, or Rust code that only the application embedding it can run.
    pub kind: ScriptKind,
}

impl Script {
    /// Whether this is a `.rs` migration, which only an application that embeds it
    /// (`embed_migrations!`) can run.
    pub fn is_rust(&self) -> bool {
        self.kind == ScriptKind::Rust
    }

    /// Whether a section holds a `-- migrate:batch` statement (always `false` for a
    /// Rust migration, whose batches are code).
    pub fn has_batches(&self) -> bool {
        self.upgrade
            .iter()
            .chain(self.downgrade.iter())
            .any(|s| crate::batch::has_batches(&s.sql))
    }

    /// The upgrade SQL to run on `dialect`: its own section, else the shared one.
    pub fn upgrade_sql(&self, dialect: Dialect) -> Option<&str> {
        pick(&self.upgrade, dialect)
    }

    /// The downgrade SQL to run on `dialect`; `None` when the revision cannot be downgraded there.
    pub fn downgrade_sql(&self, dialect: Dialect) -> Option<&str> {
        pick(&self.downgrade, dialect)
    }

    /// The SQL for `direction` on `dialect`.
    pub fn sql(&self, direction: Direction, dialect: Dialect) -> Option<&str> {
        match direction {
            Direction::Upgrade => self.upgrade_sql(dialect),
            Direction::Downgrade => self.downgrade_sql(dialect),
        }
    }

    /// Whether any downgrade section exists.
    pub fn is_reversible(&self) -> bool {
        !self.downgrade.is_empty()
    }

    /// Parses a file's bytes. `path` is used in error messages and kept on the script;
    /// a path ending in `.rs` is a Rust migration (`//` header), anything else SQL.
    ///
    /// # Errors
    /// Every problem found, each naming the file and line.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Script, Vec<ParseError>> {
        let checksum = Checksum::of(bytes);
        let refuse = |line, kind| {
            vec![ParseError {
                path: path.to_string(),
                line,
                kind,
            }]
        };
        let text = utf8_text(bytes).map_err(|line| refuse(line, ParseErrorKind::NotUtf8))?;
        if let Some(line) = nul_line(bytes) {
            return Err(refuse(line, ParseErrorKind::NulByte));
        }
        let kind = ScriptKind::of_path(path).unwrap_or_default();
        Parser::new(path).run(text, checksum, kind)
    }
}

fn pick(sections: &[Section], dialect: Dialect) -> Option<&str> {
    sections
        .iter()
        .find(|s| s.dialect == Some(dialect))
        .or_else(|| sections.iter().find(|s| s.dialect.is_none()))
        .map(|s| &*s.sql)
}

/// Checks a revision id: 1 to 32 of `[A-Za-z0-9_]`, not a reserved word.
///
/// # Errors
/// Why the id is not valid.
pub fn validate_revision_id(id: &str) -> Result<(), RevisionIdError> {
    if id.is_empty() {
        return Err(RevisionIdError::Empty);
    }
    if let Some(ch) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(RevisionIdError::BadChar {
            id: id.to_string(),
            ch,
        });
    }
    if id.len() > 32 {
        return Err(RevisionIdError::TooLong(id.to_string()));
    }
    if matches!(id, "head" | "heads" | "base" | "current") {
        return Err(RevisionIdError::Reserved(id.to_string()));
    }
    Ok(())
}

const KNOWN_FIELDS: [&str; 6] = [
    "revision",
    "down_revision",
    "branch_labels",
    "depends_on",
    "create_date",
    "transactional",
];

struct Parser<'a> {
    path: &'a str,
    errors: Vec<ParseError>,
}

enum Line<'a> {
    Directive { name: &'a str, arg: &'a str },
    Comment(&'a str),
    Blank,
    Sql,
}

fn classify(line: &str) -> Line<'_> {
    let t = line.trim();
    if t.is_empty() {
        return Line::Blank;
    }
    if let Some(rest) = t.strip_prefix("--") {
        let rest = rest.trim_start();
        if let Some(d) = rest.strip_prefix("migrate:") {
            let d = d.trim();
            let (name, arg) = match d.find(char::is_whitespace) {
                Some(i) => (&d[..i], d[i..].trim()),
                None => (d, ""),
            };
            return Line::Directive { name, arg };
        }
        return Line::Comment(rest.trim_end());
    }
    Line::Sql
}

/// The text of a `//` comment line of a Rust migration's header (not `///` or `//!`,
/// which are doc comments).
fn rust_comment(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("//")?;
    if rest.starts_with(['/', '!']) {
        return None;
    }
    Some(rest.trim())
}

/// Where a top-level `fn <name>` of a Rust migration is defined: its 1-based line. Items
/// at the top level start at the first column (`pub async fn upgrade(`, with any
/// visibility); whether the signature is right is the compiler's to say.
fn rust_fn_line(lines: &[&str], name: &str) -> Option<usize> {
    lines
        .iter()
        .position(|line| {
            let mut rest = *line;
            if let Some(r) = rest.strip_prefix("pub") {
                rest = match r.strip_prefix('(') {
                    Some(r) => match r.find(')') {
                        Some(close) => &r[close + 1..],
                        None => return false,
                    },
                    None => r,
                };
                if !rest.starts_with(char::is_whitespace) {
                    return false;
                }
                rest = rest.trim_start();
            }
            if let Some(r) = rest.strip_prefix("async") {
                if !r.starts_with(char::is_whitespace) {
                    return false;
                }
                rest = r.trim_start();
            }
            let Some(r) = rest.strip_prefix("fn") else {
                return false;
            };
            let Some(r) = r.trim_start().strip_prefix(name) else {
                return false;
            };
            r.starts_with(['(', '<']) || r.starts_with(char::is_whitespace) || r.is_empty()
        })
        .map(|i| i + 1)
}

/// Splits `key: value` when `key` looks like a field name.
fn as_field(comment: &str) -> Option<(&str, &str)> {
    let (key, value) = comment.split_once(':')?;
    let key = key.trim();
    let ok = !key.is_empty()
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some((key, value.trim()))
}

impl<'a> Parser<'a> {
    fn new(path: &'a str) -> Self {
        Parser {
            path,
            errors: Vec::new(),
        }
    }

    fn err(&mut self, line: usize, kind: ParseErrorKind) {
        self.errors.push(ParseError {
            path: self.path.to_string(),
            line,
            kind,
        });
    }

    fn id_list(&mut self, line: usize, field: &'static str, value: &str) -> Vec<Cow<'static, str>> {
        let value = value.trim();
        if value.is_empty() || value == "None" || value == "()" {
            return Vec::new();
        }
        let mut out = Vec::new();
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() && value.ends_with(',') {
                continue;
            }
            let looks_like_id =
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !looks_like_id {
                self.err(
                    line,
                    ParseErrorKind::BadIdList {
                        field,
                        found: value.to_string(),
                    },
                );
                return Vec::new();
            }
            out.push(Cow::Owned(part.to_string()));
        }
        out
    }

    fn run(
        mut self,
        text: &str,
        checksum: Checksum,
        kind: ScriptKind,
    ) -> Result<Script, Vec<ParseError>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines: Vec<&str> = text.lines().collect();
        let header_start = lines
            .iter()
            .position(|l| !matches!(classify(l), Line::Blank))
            .unwrap_or(lines.len());
        let (fields, message, body_start) = self.header_lines(&lines, header_start, kind);
        if body_start == header_start {
            let missing = match kind {
                ScriptKind::Sql => ParseErrorKind::MissingHeader,
                ScriptKind::Rust => ParseErrorKind::MissingRustHeader,
            };
            self.err(header_start + 1, missing);
        }
        let header = self.header(fields, message, body_start.max(1), checksum);
        match kind {
            ScriptKind::Rust => self.rust_body(&lines, header),
            ScriptKind::Sql => self.sql_body(&lines, body_start, header),
        }
    }

    /// The header: the leading run of comment lines from `start`, up to the first
    /// directive. Its fields `(name, value, line)`, its message, and the index of the
    /// line after it.
    fn header_lines<'t>(
        &mut self,
        lines: &[&'t str],
        start: usize,
        kind: ScriptKind,
    ) -> (Vec<Field<'t>>, Option<Cow<'static, str>>, usize) {
        let mut fields: Vec<Field<'t>> = Vec::with_capacity(8);
        let mut message: Option<Cow<'static, str>> = None;
        let mut i = start;
        while i < lines.len() {
            let comment = match kind {
                ScriptKind::Rust => rust_comment(lines[i]),
                ScriptKind::Sql => match classify(lines[i]) {
                    Line::Comment(c) => Some(c),
                    _ => None,
                },
            };
            let Some(c) = comment else {
                break;
            };
            let lineno = i + 1;
            i += 1;
            let field = as_field(c).filter(|(k, _)| {
                // The first line is the message unless it is one of our own fields, so a
                // message such as "fix: add index" is not taken for a field.
                lineno != start + 1 || KNOWN_FIELDS.contains(k)
            });
            match field {
                Some((k, v)) => {
                    if let Some((_, _, first)) = fields.iter().find(|(fk, _, _)| *fk == k) {
                        let first_line = *first;
                        self.err(
                            lineno,
                            ParseErrorKind::DuplicateField {
                                field: k.to_string(),
                                first_line,
                            },
                        );
                    } else {
                        fields.push((k, v, lineno));
                    }
                }
                None if c.is_empty() => {}
                None => {
                    if message.is_none() && fields.is_empty() {
                        message = Some(Cow::Owned(c.to_string()));
                    }
                }
            }
        }
        (fields, message, i)
    }

    /// The header's fields read, each problem noted; a missing `revision` or
    /// `down_revision` is reported on `end_line`, the header's last.
    fn header(
        &mut self,
        fields: Vec<Field<'_>>,
        message: Option<Cow<'static, str>>,
        end_line: usize,
        checksum: Checksum,
    ) -> Header {
        let mut h = Header {
            revision: None,
            down_revisions: None,
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            message,
            create_date: None,
            transactional: true,
            extra_fields: Vec::new(),
            checksum,
        };
        for (k, v, line) in fields {
            match k {
                "revision" => match crate::script::validate_revision_id(v) {
                    Ok(()) => h.revision = Some(Cow::Owned(v.to_string())),
                    Err(e) => self.err(line, ParseErrorKind::BadRevisionId(e)),
                },
                "down_revision" => h.down_revisions = Some(self.id_list(line, "down_revision", v)),
                "branch_labels" => h.branch_labels = self.id_list(line, "branch_labels", v),
                "depends_on" => h.depends_on = self.id_list(line, "depends_on", v),
                "create_date" => {
                    h.create_date = (!v.is_empty()).then(|| Cow::Owned(v.to_string()));
                }
                "transactional" => match v {
                    "true" | "True" => h.transactional = true,
                    "false" | "False" => h.transactional = false,
                    _ => self.err(line, ParseErrorKind::BadTransactional(v.to_string())),
                },
                _ => h
                    .extra_fields
                    .push((Cow::Owned(k.to_string()), Cow::Owned(v.to_string()))),
            }
        }
        let has_revision_field = h.revision.is_some()
            || self
                .errors
                .iter()
                .any(|e| matches!(e.kind, ParseErrorKind::BadRevisionId(_)));
        if !has_revision_field {
            self.err(end_line, ParseErrorKind::MissingField("revision"));
        }
        if h.down_revisions.is_none() {
            self.err(end_line, ParseErrorKind::MissingField("down_revision"));
        }
        h
    }

    /// The body of a SQL migration, from line index `start`: sections introduced by
    /// directives.
    fn sql_body(
        mut self,
        lines: &[&str],
        start: usize,
        header: Header,
    ) -> Result<Script, Vec<ParseError>> {
        let mut upgrade: Vec<Section> = Vec::new();
        let mut downgrade: Vec<Section> = Vec::new();
        let mut batch_lines: Vec<usize> = Vec::new();
        let mut seen: Vec<(Direction, Option<Dialect>, usize)> = Vec::new();
        let mut current: Option<OpenSection<'_>> = None;
        let mut flush = |cur: Option<OpenSection<'_>>| {
            if let Some((dir, section)) = cur.map(OpenSection::close) {
                match dir {
                    Direction::Upgrade => upgrade.push(section),
                    Direction::Downgrade => downgrade.push(section),
                }
            }
        };
        for (i, &raw) in lines.iter().enumerate().skip(start) {
            let lineno = i + 1;
            match classify(raw) {
                Line::Directive { name, .. }
                    if name == crate::batch::BATCH_DIRECTIVE
                        || name == crate::batch::ROWS_DIRECTIVE =>
                {
                    // Kept in the section's SQL, where it is a comment: see `batch`.
                    match current.as_mut() {
                        Some(open) => {
                            open.body.push(raw);
                            batch_lines.push(lineno);
                        }
                        None => self.err(lineno, ParseErrorKind::BatchOutsideSection),
                    }
                }
                Line::Directive { name, arg } => {
                    let Some((dir, dialect)) = self.section_directive(name, arg, lineno, &seen)
                    else {
                        continue;
                    };
                    seen.push((dir, dialect, lineno));
                    flush(current.take());
                    current = Some(OpenSection {
                        dir,
                        dialect,
                        line: lineno + 1,
                        body: Vec::new(),
                    });
                }
                other => match current.as_mut() {
                    Some(open) => open.body.push(raw),
                    None => {
                        if matches!(other, Line::Sql) {
                            self.err(
                                lineno,
                                ParseErrorKind::SqlOutsideSection(raw.trim().to_string()),
                            );
                        }
                    }
                },
            }
        }
        flush(current.take());
        // What runs is what the database's client would send.
        for section in upgrade.iter_mut().chain(downgrade.iter_mut()) {
            match crate::sql::client_text(&section.sql, section.dialect) {
                Ok(Cow::Owned(sent)) => section.sql = Cow::Owned(sent),
                Ok(Cow::Borrowed(_)) => {}
                Err(e) => self.err(
                    section.line + e.line - 1,
                    ParseErrorKind::ClientCommand(e.command),
                ),
            }
        }
        if upgrade.is_empty() {
            self.err(lines.len().max(1), ParseErrorKind::MissingUpgrade);
        }
        if let Some(&first_batch) = batch_lines.first() {
            self.check_batches(upgrade.iter().chain(&downgrade), first_batch, &header);
        }
        self.finish(header, upgrade, downgrade, ScriptKind::Sql)
    }

    /// The direction and dialect of an `upgrade`/`downgrade` directive on `lineno`, with
    /// a duplicate of one in `seen` noted; `None` (and the problem noted) for another
    /// directive or an unknown dialect.
    fn section_directive(
        &mut self,
        name: &str,
        arg: &str,
        lineno: usize,
        seen: &[(Direction, Option<Dialect>, usize)],
    ) -> Option<(Direction, Option<Dialect>)> {
        let dir = match name {
            "upgrade" => Direction::Upgrade,
            "downgrade" => Direction::Downgrade,
            other => {
                self.err(lineno, ParseErrorKind::UnknownDirective(other.to_string()));
                return None;
            }
        };
        let dialect = if arg.is_empty() {
            None
        } else {
            match Dialect::from_name(arg) {
                Some(d) => Some(d),
                None => {
                    self.err(lineno, ParseErrorKind::UnknownDialect(arg.to_string()));
                    return None;
                }
            }
        };
        if let Some((_, _, first)) = seen.iter().find(|(d, l, _)| *d == dir && *l == dialect) {
            let label = match dialect {
                Some(d) => format!("{dir} {d}"),
                None => dir.to_string(),
            };
            let first = *first;
            self.err(lineno, ParseErrorKind::DuplicateSection(label, first));
        }
        Some((dir, dialect))
    }

    /// The problems of a file with batched statements (its first on `first_batch`):
    /// those of each section's directives, and a transactional file. Sorted by line,
    /// with the others.
    fn check_batches<'s>(
        &mut self,
        sections: impl Iterator<Item = &'s Section>,
        first_batch: usize,
        header: &Header,
    ) {
        for section in sections {
            if let Err(errs) = crate::batch::statements(&section.sql) {
                for (line, e) in errs {
                    self.err(section.line + line - 1, ParseErrorKind::Batch(e));
                }
            }
        }
        if header.transactional {
            self.err(first_batch, ParseErrorKind::BatchInTransaction);
        }
        self.errors.sort_by_key(|e| e.line);
    }

    /// The body of a Rust migration: its `upgrade` and `downgrade` functions, each an
    /// empty shared section at the function's line.
    fn rust_body(mut self, lines: &[&str], header: Header) -> Result<Script, Vec<ParseError>> {
        let section = |line| Section {
            dialect: None,
            sql: Cow::Borrowed(""),
            line,
        };
        let upgrade: Vec<Section> = rust_fn_line(lines, "upgrade")
            .map(section)
            .into_iter()
            .collect();
        let downgrade: Vec<Section> = rust_fn_line(lines, "downgrade")
            .map(section)
            .into_iter()
            .collect();
        if upgrade.is_empty() {
            self.err(lines.len().max(1), ParseErrorKind::MissingUpgradeFn);
        }
        self.finish(header, upgrade, downgrade, ScriptKind::Rust)
    }

    /// The script, or every problem found on the way.
    fn finish(
        self,
        h: Header,
        upgrade: Vec<Section>,
        downgrade: Vec<Section>,
        kind: ScriptKind,
    ) -> Result<Script, Vec<ParseError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(Script {
            path: Cow::Owned(self.path.to_string()),
            revision: h.revision.unwrap_or_default(),
            down_revisions: Cow::Owned(h.down_revisions.unwrap_or_default()),
            branch_labels: Cow::Owned(h.branch_labels),
            depends_on: Cow::Owned(h.depends_on),
            message: h.message.unwrap_or_default(),
            create_date: h.create_date,
            transactional: h.transactional,
            extra_fields: Cow::Owned(h.extra_fields),
            upgrade: Cow::Owned(upgrade),
            downgrade: Cow::Owned(downgrade),
            checksum: h.checksum,
            kind,
        })
    }
}

/// A header field: `(name, value, line)`.
type Field<'t> = (&'t str, &'t str, usize);

/// A section whose lines are being read: its directive's direction and dialect, the
/// line after the directive, and the lines so far.
struct OpenSection<'t> {
    dir: Direction,
    dialect: Option<Dialect>,
    line: usize,
    body: Vec<&'t str>,
}

impl OpenSection<'_> {
    /// The section, its SQL without the blank lines around it.
    fn close(self) -> (Direction, Section) {
        let sql = trim_blank_lines(&self.body);
        // The blank lines trimmed off the top move the first SQL line down, and
        // statement positions are counted from it.
        let skipped = self.body.iter().take_while(|l| l.trim().is_empty()).count();
        let line = if sql.is_empty() {
            self.line
        } else {
            self.line + skipped
        };
        let section = Section {
            dialect: self.dialect,
            sql: Cow::Owned(sql),
            line,
        };
        (self.dir, section)
    }
}

/// The header fields of a file, as parsed, and the file's checksum.
struct Header {
    revision: Option<Cow<'static, str>>,
    down_revisions: Option<Vec<Cow<'static, str>>>,
    branch_labels: Vec<Cow<'static, str>>,
    depends_on: Vec<Cow<'static, str>>,
    message: Option<Cow<'static, str>>,
    create_date: Option<Cow<'static, str>>,
    transactional: bool,
    extra_fields: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    checksum: Checksum,
}

fn trim_blank_lines(body: &[&str]) -> String {
    let start = body.iter().position(|l| !l.trim().is_empty());
    let end = body.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => {
            let mut out = body[s..=e].join("\n");
            out.push('\n');
            out
        }
        _ => String::new(),
    }
}

/// Renders a script's header and sections back into the file format.
///
/// `parse(render(s))` yields the same fields and SQL as `s`; the CLI uses it to write files.
///
/// A Rust migration is rendered as its `//` header and functions that do nothing.
pub fn render(script: &Script) -> String {
    let c = match script.kind {
        ScriptKind::Rust => "//",
        ScriptKind::Sql => "--",
    };
    let mut out = String::new();
    if !script.message.is_empty() {
        out.push_str(&format!("{c} {}\n{c}\n", script.message));
    }
    out.push_str(&format!("{c} revision: {}\n", script.revision));
    out.push_str(&format!(
        "{c} down_revision: {}\n",
        script.down_revisions.join(", ")
    ));
    out.push_str(&format!(
        "{c} branch_labels: {}\n",
        script.branch_labels.join(", ")
    ));
    out.push_str(&format!(
        "{c} depends_on: {}\n",
        script.depends_on.join(", ")
    ));
    if let Some(d) = &script.create_date {
        out.push_str(&format!("{c} create_date: {d}\n"));
    }
    if !script.transactional {
        out.push_str(&format!("{c} transactional: false\n"));
    }
    for (k, v) in script.extra_fields.iter() {
        out.push_str(&format!("{c} {k}: {v}\n"));
    }
    if script.kind == ScriptKind::Rust {
        out.push_str("\nuse migrate_runtime::{MigrationContext, MigrationResult};\n");
        let mut functions = vec!["upgrade"];
        if script.is_reversible() {
            functions.push("downgrade");
        }
        for f in functions {
            out.push_str(&format!(
                "\npub async fn {f}(_ctx: &mut MigrationContext<'_>) -> MigrationResult {{\n    Ok(())\n}}\n"
            ));
        }
        return out;
    }
    for (dir, sections) in [
        (Direction::Upgrade, &script.upgrade),
        (Direction::Downgrade, &script.downgrade),
    ] {
        for s in sections.iter() {
            match s.dialect {
                Some(d) => out.push_str(&format!("\n-- migrate:{dir} {d}\n")),
                None => out.push_str(&format!("\n-- migrate:{dir}\n")),
            }
            out.push_str(&s.sql);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "-- add ticket priority column\n--\n-- revision: 3f2a9c1b7d4e\n-- down_revision: 1a2b3c4d5e6f\n-- branch_labels:\n-- depends_on:\n-- create_date: 2025-01-15 10:30:00\n\n-- migrate:upgrade\nALTER TABLE tickets ADD COLUMN priority VARCHAR(20) DEFAULT 'normal';\nCREATE INDEX ix_tickets_priority ON tickets (priority);\n\n-- migrate:downgrade\nDROP INDEX ix_tickets_priority;\nALTER TABLE tickets DROP COLUMN priority;\n";

    fn parse(s: &str) -> Result<Script, Vec<ParseError>> {
        Script::parse("m/x.sql", s.as_bytes())
    }

    #[test]
    fn client_commands_in_sections() {
        let s = parse("-- revision: a\n-- down_revision:\n-- migrate:upgrade mysql\nDELIMITER ;;\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END;;\nDELIMITER ;\n-- migrate:downgrade\nDROP TRIGGER t;\n").unwrap();
        assert_eq!(
            s.upgrade[0].sql,
            "\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END;\n\n"
        );
        assert_eq!(s.upgrade[0].line, 4);
        let errs = parse("-- revision: a\n-- down_revision:\n-- migrate:upgrade postgres\nSELECT 1;\n\\connect other\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 5);
        assert!(
            matches!(errs[0].kind, ParseErrorKind::ClientCommand(_)),
            "{:?}",
            errs[0]
        );
    }

    fn first_err(s: &str) -> String {
        parse(s).unwrap_err()[0].to_string()
    }

    #[test]
    fn parses_the_contract_example() {
        let s = parse(SAMPLE).unwrap();
        assert_eq!(s.revision, "3f2a9c1b7d4e");
        assert_eq!(s.down_revisions, vec!["1a2b3c4d5e6f"]);
        assert!(s.branch_labels.is_empty() && s.depends_on.is_empty());
        assert_eq!(s.message, "add ticket priority column");
        assert_eq!(s.create_date.as_deref(), Some("2025-01-15 10:30:00"));
        assert!(s.transactional);
        assert!(s
            .upgrade_sql(Dialect::Sqlite)
            .unwrap()
            .starts_with("ALTER TABLE tickets ADD"));
        assert!(s
            .downgrade_sql(Dialect::Postgres)
            .unwrap()
            .ends_with("DROP COLUMN priority;\n"));
        assert_eq!(s.upgrade[0].line, 10);
    }

    #[test]
    fn merge_labels_deps_and_flags() {
        let s = parse("-- merge\n-- revision: m1\n-- down_revision: a1, b2\n-- branch_labels: x, y\n-- depends_on: z\n-- transactional: false\n-- author: ann\n-- migrate:upgrade\nSELECT 1;\n").unwrap();
        assert_eq!(s.down_revisions, vec!["a1", "b2"]);
        assert_eq!(s.branch_labels, vec!["x", "y"]);
        assert_eq!(s.depends_on, vec!["z"]);
        assert!(!s.transactional);
        assert_eq!(
            s.extra_fields[..],
            [(Cow::from("author"), Cow::from("ann"))]
        );
        assert!(!s.is_reversible());
    }

    #[test]
    fn dialect_sections_replace_the_shared_one() {
        let s = parse("-- revision: a\n-- down_revision:\n-- migrate:upgrade\nA;\n-- migrate:upgrade postgres\nP;\n-- migrate:downgrade sqlite\nS;\n").unwrap();
        assert_eq!(s.upgrade_sql(Dialect::Postgres), Some("P;\n"));
        assert_eq!(s.upgrade_sql(Dialect::Mysql), Some("A;\n"));
        assert_eq!(s.downgrade_sql(Dialect::Sqlite), Some("S;\n"));
        assert_eq!(s.downgrade_sql(Dialect::Mysql), None);
    }

    #[test]
    fn message_that_looks_like_a_field() {
        let s =
            parse("-- fix: add index\n-- revision: a\n-- down_revision:\n-- migrate:upgrade\nA;\n")
                .unwrap();
        assert_eq!(s.message, "fix: add index");
    }

    #[test]
    fn bad_id_list_names_file_line_and_value() {
        assert_eq!(
            first_err("-- m\n--\n-- revision: a\n-- down_revision: a b\n-- migrate:upgrade\nx;\n"),
            "m/x.sql:4: down_revision: expected revision ids separated by commas, found \"a b\""
        );
    }

    #[test]
    fn each_parse_error() {
        let cases: &[(&str, &str)] = &[
            ("SELECT 1;\n", "m/x.sql:1: expected a header"),
            ("-- revision: a\n-- migrate:upgrade\nx;\n", "missing required header field `down_revision`"),
            ("-- down_revision:\n-- migrate:upgrade\nx;\n", "missing required header field `revision`"),
            ("-- revision: a\n-- revision: b\n-- down_revision:\n-- migrate:upgrade\nx;\n", "m/x.sql:2: header field `revision` repeated (first given on line 1)"),
            ("-- revision: a-b\n-- down_revision:\n-- migrate:upgrade\nx;\n", "contains '-'"),
            ("-- revision: head\n-- down_revision:\n-- migrate:upgrade\nx;\n", "reserved"),
            ("-- revision: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n-- down_revision:\n-- migrate:upgrade\nx;\n", "longer than 32"),
            ("-- revision: a\n-- down_revision:\n-- transactional: maybe\n-- migrate:upgrade\nx;\n", "m/x.sql:3: transactional: expected `true` or `false`"),
            ("-- revision: a\n-- down_revision:\n-- migrate:downgrade\nx;\n", "missing `-- migrate:upgrade` section"),
            ("-- revision: a\n-- down_revision:\n-- migrate:sideways\nx;\n", "m/x.sql:3: unknown directive \"sideways\""),
            ("-- revision: a\n-- down_revision:\n-- migrate:upgrade oracle\nx;\n", "unknown database \"oracle\""),
            ("-- revision: a\n-- down_revision:\n-- migrate:upgrade\nx;\n-- migrate:upgrade\ny;\n", "m/x.sql:5: section `-- migrate:upgrade` repeated (first given on line 3)"),
            ("-- revision: a\n-- down_revision:\n\nDROP TABLE x;\n-- migrate:upgrade\nx;\n", "m/x.sql:4: SQL before the first"),
        ];
        for (input, want) in cases {
            let got = first_err(input);
            assert!(
                got.contains(want),
                "input {input:?}: got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn all_problems_reported() {
        let errs = parse("-- revision: a b\n-- down_revision: x y\n-- migrate:nope\n").unwrap_err();
        assert!(errs.len() >= 3, "{errs:?}");
    }

    #[test]
    fn not_utf8_is_an_error() {
        let errs = Script::parse("m/x.sql", b"-- revision: a\n\xff\n").unwrap_err();
        assert_eq!(errs[0].line, 2);
        assert_eq!(errs[0].kind, ParseErrorKind::NotUtf8);
    }

    #[test]
    fn a_nul_byte_is_refused_with_its_line() {
        // SQLite would stop reading the section at the NUL: `y` would never be created.
        let text = b"-- revision: a\n-- down_revision:\n\n-- migrate:upgrade\nCREATE TABLE x (id INT);\0\nCREATE TABLE y (id INT);\n";
        let errs = Script::parse("m/x.sql", text).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, 5);
        assert_eq!(errs[0].kind, ParseErrorKind::NulByte);
        assert!(
            errs[0].to_string().starts_with("m/x.sql:5: a NUL byte"),
            "{}",
            errs[0]
        );
        // In the header, in a downgrade, in a Rust migration: refused alike.
        for (path, text) in [
            ("m/x.sql", &b"-- revision: a\0\n-- down_revision:\n-- migrate:upgrade\nx;\n"[..]),
            ("m/x.sql", b"-- revision: a\n-- down_revision:\n-- migrate:upgrade\nx;\n-- migrate:downgrade\n\0"),
            ("m/x.rs", b"// revision: a\n// down_revision:\n\0pub async fn upgrade() {}\n"),
        ] {
            let errs = Script::parse(path, text).unwrap_err();
            assert_eq!(errs[0].kind, ParseErrorKind::NulByte, "{text:?}");
        }
        // Not UTF-8 is said first: the line of the first bad byte.
        let errs = Script::parse("m/x.sql", b"-- a\n\xff\0\n").unwrap_err();
        assert_eq!((errs[0].line, &errs[0].kind), (2, &ParseErrorKind::NotUtf8));
    }

    #[test]
    fn crlf_parses_like_lf() {
        let crlf = SAMPLE.replace('\n', "\r\n");
        let a = parse(SAMPLE).unwrap();
        let b = parse(&crlf).unwrap();
        assert_eq!(a.upgrade, b.upgrade);
        assert_eq!(a.checksum, b.checksum);
    }

    const RUST: &str = "// backfill satisfaction score\n//\n// revision: f5a6b7c8d9e0\n// down_revision: e4f5a6b7c8d9\n// branch_labels:\n// depends_on:\n// transactional: false\n// author: ann\n\nuse migrate_runtime::{MigrationContext, MigrationResult};\n\n/// Doc.\npub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {\n    ctx.execute(\"UPDATE t SET x = 1\").await?;\n    Ok(())\n}\n\nasync fn helper() {}\n";

    #[test]
    fn parses_a_rust_migration() {
        let s = Script::parse("m/f5_backfill.rs", RUST.as_bytes()).unwrap();
        assert_eq!(s.kind, ScriptKind::Rust);
        assert!(s.is_rust());
        assert_eq!(s.revision, "f5a6b7c8d9e0");
        assert_eq!(s.down_revisions[..], ["e4f5a6b7c8d9"]);
        assert_eq!(s.message, "backfill satisfaction score");
        assert!(!s.transactional);
        assert_eq!(
            s.extra_fields[..],
            [(Cow::from("author"), Cow::from("ann"))]
        );
        assert_eq!(s.upgrade.len(), 1);
        assert_eq!((s.upgrade[0].line, &*s.upgrade[0].sql), (13, ""));
        assert!(!s.is_reversible());
        assert_eq!(s.upgrade_sql(Dialect::Mysql), Some(""));
        assert_eq!(s.checksum, Checksum::of(RUST.as_bytes()));

        let with_down = format!("{RUST}\npub(crate) async fn downgrade(_: &mut MigrationContext<'_>) -> MigrationResult {{ Ok(()) }}\n");
        let s = Script::parse("x.rs", with_down.as_bytes()).unwrap();
        assert!(s.is_reversible());
        assert_eq!(s.downgrade[0].line, 20);
        let again = Script::parse("x.rs", render(&s).as_bytes()).unwrap();
        assert_eq!(
            (&again.revision, again.is_reversible(), again.kind),
            (&s.revision, true, ScriptKind::Rust)
        );
    }

    #[test]
    fn rust_migration_problems() {
        let no_upgrade = RUST.replace("pub async fn upgrade", "pub async fn upgrade_all");
        let errs = Script::parse("m/x.rs", no_upgrade.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .to_string()
                .starts_with("m/x.rs:18: a Rust migration needs `pub async fn upgrade("),
            "{}",
            errs[0]
        );
        // Only top-level functions count: a method of the same name does not.
        let nested =
            "// revision: a\n// down_revision:\nimpl X {\n    pub async fn upgrade() {}\n}\n";
        assert_eq!(
            Script::parse("x.rs", nested.as_bytes()).unwrap_err()[0].kind,
            ParseErrorKind::MissingUpgradeFn
        );
        let no_header = "//! docs\npub async fn upgrade() {}\n";
        assert_eq!(
            Script::parse("x.rs", no_header.as_bytes()).unwrap_err()[0].to_string(),
            "x.rs:1: expected a header of `// key: value` comment lines at the top of the file"
        );
        let sql_header = "-- revision: a\n-- down_revision:\npub async fn upgrade() {}\n";
        assert!(Script::parse("x.rs", sql_header.as_bytes()).is_err());
    }

    #[test]
    fn batch_directives() {
        let ok = "-- revision: a\n-- down_revision:\n-- transactional: false\n\n-- migrate:upgrade\nALTER TABLE t ADD c INT;\n-- migrate:batch size=1000 pause=100ms\nUPDATE t SET c = 1 WHERE id IN (SELECT id FROM t WHERE c IS NULL LIMIT {batch_size});\n";
        let s = parse(ok).unwrap();
        assert!(s.has_batches());
        assert!(s.upgrade[0].sql.contains("-- migrate:batch size=1000"));
        let stmts = crate::batch::statements(&s.upgrade[0].sql).unwrap();
        assert_eq!(s.upgrade[0].line + stmts[1].line - 1, 8);
        assert!(!parse(SAMPLE).unwrap().has_batches());

        let transactional = ok.replace("-- transactional: false\n", "");
        assert_eq!(
            first_err(&transactional),
            "m/x.sql:6: `-- migrate:batch` commits each batch on its own, which a migration run in one transaction cannot do: add `-- transactional: false` to the header"
        );
        let outside = "-- revision: a\n-- down_revision:\n-- transactional: false\n-- migrate:batch size=1\n-- migrate:upgrade\nSELECT 1;\n";
        assert!(first_err(outside).starts_with("m/x.sql:4: `-- migrate:batch` outside a section"));
        let bad = ok
            .replace("size=1000", "size=lots")
            .replace("{batch_size}", "1000");
        assert_eq!(
            first_err(&bad),
            "m/x.sql:7: `-- migrate:batch`: size must be a number from 1 to 10000000, found \"lots\""
        );
        let no_placeholder = ok.replace("{batch_size}", "1000");
        assert!(first_err(&no_placeholder)
            .starts_with("m/x.sql:8: the statement after `-- migrate:batch` must limit"));
    }

    #[test]
    fn render_round_trips() {
        let s = parse(SAMPLE).unwrap();
        let again = parse(&render(&s)).unwrap();
        assert_eq!(
            (
                &s.revision,
                &s.down_revisions,
                &s.message,
                &s.upgrade.iter().map(|x| &x.sql).collect::<Vec<_>>()
            ),
            (
                &again.revision,
                &again.down_revisions,
                &again.message,
                &again.upgrade.iter().map(|x| &x.sql).collect::<Vec<_>>()
            )
        );
    }

    #[test]
    fn section_line_skips_the_blank_lines_above_the_sql() {
        let text = "-- m\n-- revision: a1\n-- down_revision:\n\n-- migrate:upgrade\n\n\nCREATE TABLE t (id INT);\n";
        let script = Script::parse("a1.sql", text.as_bytes()).expect("parses");
        // Line 8 holds the statement, after two blank lines.
        assert_eq!(script.upgrade[0].line, 8);
    }
}
