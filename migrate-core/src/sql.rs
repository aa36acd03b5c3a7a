//! Splitting a section's SQL into statements, so a failure can name the statement.

use crate::lex::newlines;
use crate::lex::{tokens, Syntax, Token, TokenKind};
use crate::Dialect;
use std::borrow::Cow;

/// Splits SQL text into statements at top-level `;`, respecting quotes, comments
/// (PostgreSQL's nested block comments included), PostgreSQL dollar quoting and the
/// compound bodies of routines and triggers: `BEGIN ... END` of a SQLite or MySQL
/// trigger, a MySQL/MariaDB `CREATE PROCEDURE`/`FUNCTION`/`EVENT` (with `IF ... END
/// IF`, loops and `CASE` inside) and PostgreSQL's `BEGIN ATOMIC ... END`.
///
/// Each statement is returned trimmed, without its `;`, with the 1-based line it starts
/// on (relative to the text). Comment-only pieces are dropped.
///
/// The runner sends a section to the database whole where it can; this split names
/// the statement a failure stopped at, and runs statements one at a time where they
/// may not share a transaction block.
pub fn split_statements(sql: &str) -> Vec<(usize, &str)> {
    let mut splitter = Splitter::new(sql);
    for token in tokens(sql, Syntax::STATEMENTS) {
        splitter.take(&token);
    }
    splitter.finish()
}

/// The state of [`split_statements`] between tokens.
struct Splitter<'a> {
    sql: &'a str,
    out: Vec<(usize, &'a str)>,
    /// Where the statement being read starts, and its line.
    start: usize,
    start_line: usize,
    /// BEGIN/CASE ... END nesting inside the body of a routine or trigger, which holds
    /// `;` of its own.
    depth: i32,
    /// Whether the statement creates a routine or trigger, which may have such a body.
    compound: bool,
    /// Whether the previous word was END, for `END IF`/`END LOOP`/... (closing what was
    /// not counted).
    after_end: bool,
    /// Whether the statement holds more than blanks and comments yet.
    significant: bool,
}

impl<'a> Splitter<'a> {
    fn new(sql: &'a str) -> Self {
        Splitter {
            sql,
            out: Vec::new(),
            start: 0,
            start_line: 1,
            depth: 0,
            compound: false,
            after_end: false,
            significant: false,
        }
    }

    fn take(&mut self, token: &Token<'a>) {
        match token.kind {
            TokenKind::Blank | TokenKind::LineComment | TokenKind::BlockComment => {}
            // A statement that opens with a quote keeps the blanks and comments before
            // it (and their line), as it always has.
            TokenKind::Quoted | TokenKind::Str | TokenKind::DollarStr => self.significant = true,
            TokenKind::Punct => match token.text.as_bytes() {
                b"$" => self.significant = true,
                b";" if self.depth <= 0 => self.end_at(token),
                _ => self.begin_at(token),
            },
            TokenKind::Word => {
                self.begin_at(token);
                self.word(token.text);
            }
            // What a conditional comment holds is code: a statement may be nothing else
            // (`/*!40101 SET NAMES utf8mb4 */`).
            TokenKind::Conditional => self.begin_at(token),
        }
    }

    /// Starts the statement at `token` unless one has started.
    fn begin_at(&mut self, token: &Token<'a>) {
        if !self.significant {
            self.significant = true;
            self.start = token.start;
            self.start_line = token.line;
        }
    }

    /// Follows the nesting of a routine's or trigger's body through its words.
    fn word(&mut self, word: &str) {
        let is = |w: &str| word.eq_ignore_ascii_case(w);
        let closes_uncounted = is("IF") || is("LOOP") || is("WHILE") || is("REPEAT");
        if is("TRIGGER") || is("PROCEDURE") || is("FUNCTION") || is("EVENT") {
            self.compound = true;
        } else if self.compound && self.after_end && (closes_uncounted || is("CASE")) {
            // `END IF`: the END closed an IF (never counted), not a BEGIN;
            // `END CASE` closed the CASE it counted.
            if closes_uncounted {
                self.depth += 1;
            }
        } else if self.compound && (is("BEGIN") || is("CASE")) {
            self.depth += 1;
        } else if self.compound && is("END") {
            self.depth -= 1;
        }
        self.after_end = is("END");
    }

    /// Ends the statement at the `;` token, and starts reading the next after it.
    fn end_at(&mut self, semicolon: &Token<'a>) {
        self.push(semicolon.start);
        self.start = semicolon.end();
        self.start_line = semicolon.line;
        self.compound = false;
        self.depth = 0;
        self.after_end = false;
        self.significant = false;
    }

    /// Keeps the statement from its start to `end`, trimmed, when it holds more than
    /// blanks and comments.
    fn push(&mut self, end: usize) {
        let t = self.sql[self.start..end].trim();
        if self.significant && !t.is_empty() {
            self.out.push((self.start_line, t));
        }
    }

    fn finish(mut self) -> Vec<(usize, &'a str)> {
        self.push(self.sql.len());
        self.out
    }
}

/// A command of a database's client, in SQL text, that cannot be followed, with its
/// line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {command}")]
pub struct ClientCommandError {
    /// 1-based line of the command in the text.
    pub line: usize,
    /// What the command is and why it cannot be followed.
    pub command: ClientCommand,
}

/// Why a command of a database's client cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientCommand {
    /// `DELIMITER` in a section for a database whose client does not know it.
    #[error(
        "`DELIMITER` is a command of MySQL's client, and this section is for {0}; put it in a `mysql` section or a shared one"
    )]
    DelimiterElsewhere(Dialect),
    /// `DELIMITER` without the terminator to use.
    #[error("`DELIMITER` needs the new statement terminator after it (`DELIMITER ;;`)")]
    EmptyDelimiter,
    /// A client meta-command (a line starting with a backslash) other than the ones
    /// that are ignored.
    #[error("`{command}` is a command of the database's client (psql), not SQL, and cannot be followed here: {why}")]
    MetaCommand {
        /// The command, backslash included (`\connect`).
        command: String,
        /// Why it cannot be followed.
        why: &'static str,
    },
}

/// The psql meta-commands pg_dump writes around a dump that mean nothing to the SQL
/// (they guard psql against a dump's text), and are skipped.
const IGNORED_META_COMMANDS: &[&str] = &["\\restrict", "\\unrestrict"];

/// The SQL text the database receives from `sql`, as the databases' own clients read
/// it, for a section for `dialect` (`None` for a shared one). Client commands are not
/// SQL: each is removed (its line left blank, so that lines keep their numbers) after
/// it has done what the client would do with it.
///
/// - `DELIMITER <terminator>` (MySQL's client, at the start of a statement) ends the
///   statements that follow with `<terminator>` until the next `DELIMITER`; each such
///   terminator is written `;`, which the server and [`split_statements`] read as the
///   end of the statement (a routine's or trigger's body keeps its own `;`). It is
///   refused in a `postgres` or `sqlite` section; a shared section may use it, since
///   no database takes a statement that starts with `DELIMITER`: only MySQL's client
///   means anything by it.
/// - A line starting with a backslash, at the start of a statement, is a client
///   meta-command: `\restrict` and `\unrestrict` (which pg_dump writes) are ignored;
///   every other one is refused, `\connect` included (the SQL runs on the database it
///   is given), since sending it would be a syntax error and skipping it could change
///   what the SQL means.
///
/// MySQL's conditional comments (`/*!40101 … */`) are left as they are, for the
/// server to run or not by its version, as the client leaves them; the lexer reads
/// them as code (see [`Syntax::conditional_comments`]).
///
/// ```
/// use migrate_core::sql::{client_text, split_statements};
///
/// let dump = "DELIMITER ;;\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n  SET NEW.x = 1;\nEND ;;\nDELIMITER ;\n";
/// let text = client_text(dump, None).unwrap();
/// assert_eq!(text, "\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n  SET NEW.x = 1;\nEND ;\n\n");
/// assert_eq!(split_statements(&text).len(), 1);
/// ```
///
/// # Errors
/// The first command that cannot be followed, with its line.
pub fn client_text(
    sql: &str,
    dialect: Option<Dialect>,
) -> Result<Cow<'_, str>, ClientCommandError> {
    // Most text holds no command: a line-start check costs next to nothing.
    let may_hold = sql.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with('\\')
            || l.get(..9)
                .is_some_and(|w| w.eq_ignore_ascii_case("delimiter"))
    });
    if !may_hold {
        return Ok(Cow::Borrowed(sql));
    }
    let syntax = if dialect == Some(Dialect::Mysql) {
        Syntax::MYSQL
    } else {
        Syntax::STATEMENTS
    };
    let mut client = Client {
        sql,
        dialect,
        out: String::with_capacity(sql.len()),
        copied: 0,
        delimiter: None,
    };
    let mut from = 0;
    // Each command ends a run of tokens: the next starts after its line, so that
    // nothing on that line is read as SQL.
    while let Some(next) = client.run(from, syntax)? {
        from = next;
    }
    client.out.push_str(&sql[client.copied..]);
    Ok(Cow::Owned(client.out))
}

/// The state of [`client_text`].
struct Client<'a> {
    sql: &'a str,
    dialect: Option<Dialect>,
    /// The text so far, up to `copied` in `sql`.
    out: String,
    copied: usize,
    /// The terminator set by `DELIMITER`, when not `;`.
    delimiter: Option<String>,
}

impl Client<'_> {
    /// Reads the tokens from `from` (at the start of a statement) until a command or a
    /// `DELIMITER` terminator, which it follows: the offset where reading goes on (after
    /// the command's line, or the terminator), or `None` at the end. Reading starts
    /// afresh there, so that no token of the lexer runs across either.
    fn run(&mut self, from: usize, syntax: Syntax) -> Result<Option<usize>, ClientCommandError> {
        let sql = self.sql;
        let mut fresh = true;
        for t in tokens(&sql[from..], syntax) {
            let at = from + t.start;
            if t.is_trivia() {
                continue;
            }
            if fresh && line_start(sql, at) {
                let is_delimiter = t.is_word("DELIMITER");
                if is_delimiter || t.is_punct(b'\\') {
                    let end = sql[at..].find('\n').map_or(sql.len(), |p| at + p);
                    self.command(at, end, is_delimiter)?;
                    self.out.push_str(&sql[self.copied..at]);
                    self.copied = end;
                    return Ok(Some(end));
                }
            }
            match &self.delimiter {
                Some(d)
                    if t.kind != TokenKind::Conditional && sql[at..].starts_with(d.as_str()) =>
                {
                    self.out.push_str(&sql[self.copied..at]);
                    self.out.push(';');
                    self.copied = at + d.len();
                    return Ok(Some(self.copied));
                }
                None if t.is_punct(b';') => fresh = true,
                _ => fresh = false,
            }
        }
        Ok(None)
    }

    /// Follows the command on `sql[at..end]`: `DELIMITER` when `is_delimiter`, else a
    /// meta-command.
    fn command(
        &mut self,
        at: usize,
        end: usize,
        is_delimiter: bool,
    ) -> Result<(), ClientCommandError> {
        let line = line_at(self.sql.as_bytes(), at);
        let text = &self.sql[at..end];
        if is_delimiter {
            if let Some(dialect) = self.dialect.filter(|d| *d != Dialect::Mysql) {
                return Err(ClientCommandError {
                    line,
                    command: ClientCommand::DelimiterElsewhere(dialect),
                });
            }
            let terminator = text[9..]
                .split_whitespace()
                .next()
                .ok_or(ClientCommandError {
                    line,
                    command: ClientCommand::EmptyDelimiter,
                })?;
            self.delimiter = (terminator != ";").then(|| terminator.to_string());
            return Ok(());
        }
        let command = text.split_whitespace().next().unwrap_or("\\");
        if IGNORED_META_COMMANDS.contains(&command) {
            return Ok(());
        }
        let why = if matches!(command, "\\connect" | "\\c") {
            "the SQL runs on the database it is given and cannot switch to another; remove the line"
        } else {
            "only `\\restrict` and `\\unrestrict`, which pg_dump writes, are skipped; remove the line"
        };
        Err(ClientCommandError {
            line,
            command: ClientCommand::MetaCommand {
                command: command.to_string(),
                why,
            },
        })
    }
}

/// Whether only blanks come before `at` on its line.
fn line_start(sql: &str, at: usize) -> bool {
    sql[..at]
        .rsplit('\n')
        .next()
        .is_none_or(|before| before.trim().is_empty())
}

/// Cuts SQL text into consecutive pieces of whole statements, each about `max_bytes`
/// long or shorter (a statement longer than that is a piece of its own); joined, the
/// pieces are the text. A piece starts where a statement of [`split_statements`]
/// starts (the first starts at the text's start), so the comments and blank lines
/// after a statement stay with it.
///
/// A driver that handles a request's text in a way that costs the square of its
/// length (sqlx's SQLite driver copies the rest of the text for every statement) gets
/// a long section in pieces, each costing little.
pub fn statement_pieces(sql: &str, max_bytes: usize) -> Vec<&str> {
    let base = sql.as_ptr() as usize;
    let mut pieces = Vec::new();
    let mut start = 0usize;
    // Whether the piece being made holds a statement yet: the comments before the
    // first statement are not a piece of their own.
    let mut holds = false;
    for (_, statement) in split_statements(sql) {
        let at = statement.as_ptr() as usize - base;
        if holds && at - start >= max_bytes {
            pieces.push(&sql[start..at]);
            start = at;
        }
        holds = true;
    }
    if start < sql.len() || pieces.is_empty() {
        pieces.push(&sql[start..]);
    }
    pieces
}

/// The text of a file's bytes, or the 1-based line of its first byte that is not UTF-8.
///
/// # Errors
/// The line, when the bytes are not UTF-8.
pub fn utf8_text(bytes: &[u8]) -> Result<&str, usize> {
    std::str::from_utf8(bytes).map_err(|e| line_at(bytes, e.valid_up_to()))
}

/// The 1-based line of the byte at `at` in `bytes` (the line after the text's last
/// newline when `at` is past its end).
pub fn line_at(bytes: &[u8], at: usize) -> usize {
    newlines(&bytes[..at.min(bytes.len())]) + 1
}

/// The 1-based line of the first NUL byte of `bytes`, or `None` when there is none.
///
/// SQL text must not hold one: SQLite reads a NUL as the end of the text, so the
/// statements after it would never run (and a run would still be recorded), and
/// PostgreSQL's protocol carries SQL as a NUL-terminated string. Every reader of SQL
/// (migration files, the declared schema, SQL handed to the runtime) refuses it.
pub fn nul_line(bytes: &[u8]) -> Option<usize> {
    // `contains` on bytes is a `memchr`: the common case costs next to nothing.
    if !bytes.contains(&0) {
        return None;
    }
    let at = bytes.iter().position(|&b| b == 0)?;
    Some(line_at(bytes, at))
}

/// Why `name` cannot name a table or schema unquoted on every supported database, or
/// `None` when it can: letters, digits and `_`, not starting with a digit, at most 63
/// characters (PostgreSQL's limit), and not a reserved word of PostgreSQL, MySQL,
/// MariaDB or SQLite. The version and history tables are written unquoted, as Alembic
/// writes them, so a name that would need quotes is refused before any SQL runs.
pub fn plain_identifier_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 63 {
        return Some("it is longer than 63 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some("use only letters, digits and `_`");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("it starts with a digit");
    }
    let upper = name.to_ascii_uppercase();
    if RESERVED_WORDS.binary_search(&upper.as_str()).is_ok() {
        return Some("it is a reserved word in SQL");
    }
    None
}

/// Reserved words of PostgreSQL (reserved, including those allowed as function or type
/// names), MySQL 8, MariaDB 10/11 and SQLite's keywords that cannot name a table,
/// upper case and sorted.
const RESERVED_WORDS: &[&str] = &[
    "ACCESSIBLE",
    "ADD",
    "ALL",
    "ALTER",
    "ANALYSE",
    "ANALYZE",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "ASENSITIVE",
    "ASYMMETRIC",
    "AUTHORIZATION",
    "BEFORE",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BLOB",
    "BOTH",
    "BY",
    "CALL",
    "CASCADE",
    "CASE",
    "CAST",
    "CHANGE",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "COLLATE",
    "COLLATION",
    "COLUMN",
    "CONCURRENTLY",
    "CONDITION",
    "CONSTRAINT",
    "CONTINUE",
    "CONVERT",
    "CREATE",
    "CROSS",
    "CUBE",
    "CUME_DIST",
    "CURRENT_CATALOG",
    "CURRENT_DATE",
    "CURRENT_ROLE",
    "CURRENT_SCHEMA",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "CURSOR",
    "DATABASE",
    "DATABASES",
    "DAY_HOUR",
    "DAY_MICROSECOND",
    "DAY_MINUTE",
    "DAY_SECOND",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DEFERRABLE",
    "DELAYED",
    "DELETE",
    "DELETE_DOMAIN_ID",
    "DENSE_RANK",
    "DESC",
    "DESCRIBE",
    "DETERMINISTIC",
    "DISTINCT",
    "DISTINCTROW",
    "DIV",
    "DO",
    "DOUBLE",
    "DO_DOMAIN_IDS",
    "DROP",
    "DUAL",
    "EACH",
    "ELSE",
    "ELSEIF",
    "EMPTY",
    "ENCLOSED",
    "END",
    "ESCAPE",
    "ESCAPED",
    "EXCEPT",
    "EXISTS",
    "EXIT",
    "EXPLAIN",
    "FALSE",
    "FETCH",
    "FIRST_VALUE",
    "FLOAT",
    "FLOAT4",
    "FLOAT8",
    "FOR",
    "FORCE",
    "FOREIGN",
    "FREEZE",
    "FROM",
    "FULL",
    "FULLTEXT",
    "FUNCTION",
    "GENERAL",
    "GENERATED",
    "GET",
    "GLOB",
    "GRANT",
    "GROUP",
    "GROUPING",
    "GROUPS",
    "HAVING",
    "HIGH_PRIORITY",
    "HOUR_MICROSECOND",
    "HOUR_MINUTE",
    "HOUR_SECOND",
    "IF",
    "IGNORE",
    "IGNORE_DOMAIN_IDS",
    "IGNORE_SERVER_IDS",
    "ILIKE",
    "IN",
    "INDEX",
    "INFILE",
    "INITIALLY",
    "INNER",
    "INOUT",
    "INSENSITIVE",
    "INSERT",
    "INT",
    "INT1",
    "INT2",
    "INT3",
    "INT4",
    "INT8",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IO_AFTER_GTIDS",
    "IO_BEFORE_GTIDS",
    "IS",
    "ISNULL",
    "ITERATE",
    "JOIN",
    "JSON_TABLE",
    "KEY",
    "KEYS",
    "KILL",
    "LAG",
    "LAST_VALUE",
    "LATERAL",
    "LEAD",
    "LEADING",
    "LEAVE",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LINEAR",
    "LINES",
    "LOAD",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "LOCK",
    "LONG",
    "LONGBLOB",
    "LONGTEXT",
    "LOOP",
    "LOW_PRIORITY",
    "MASTER_BIND",
    "MASTER_HEARTBEAT_PERIOD",
    "MASTER_SSL_VERIFY_SERVER_CERT",
    "MATCH",
    "MAXVALUE",
    "MEDIUMBLOB",
    "MEDIUMINT",
    "MEDIUMTEXT",
    "MIDDLEINT",
    "MINUTE_MICROSECOND",
    "MINUTE_SECOND",
    "MOD",
    "MODIFIES",
    "NATURAL",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NO_WRITE_TO_BINLOG",
    "NTH_VALUE",
    "NTILE",
    "NULL",
    "NUMERIC",
    "OF",
    "OFFSET",
    "ON",
    "ONLY",
    "OPTIMIZE",
    "OPTIMIZER_COSTS",
    "OPTION",
    "OPTIONALLY",
    "OR",
    "ORDER",
    "OUT",
    "OUTER",
    "OUTFILE",
    "OVER",
    "OVERLAPS",
    "PAGE_CHECKSUM",
    "PARSE_VCOL_EXPR",
    "PARTITION",
    "PERCENT_RANK",
    "PLACING",
    "POSITION",
    "PRECISION",
    "PRIMARY",
    "PROCEDURE",
    "PURGE",
    "RAISE",
    "RANGE",
    "RANK",
    "READ",
    "READS",
    "READ_WRITE",
    "REAL",
    "RECURSIVE",
    "REFERENCES",
    "REF_SYSTEM_ID",
    "REGEXP",
    "RELEASE",
    "RENAME",
    "REPEAT",
    "REPLACE",
    "REQUIRE",
    "RESIGNAL",
    "RESTRICT",
    "RETURN",
    "RETURNING",
    "REVOKE",
    "RIGHT",
    "RLIKE",
    "ROW",
    "ROWS",
    "ROW_NUMBER",
    "SCHEMA",
    "SCHEMAS",
    "SECOND_MICROSECOND",
    "SELECT",
    "SENSITIVE",
    "SEPARATOR",
    "SESSION_USER",
    "SET",
    "SHOW",
    "SIGNAL",
    "SIMILAR",
    "SLOW",
    "SMALLINT",
    "SOME",
    "SPATIAL",
    "SPECIFIC",
    "SQL",
    "SQLEXCEPTION",
    "SQLSTATE",
    "SQLWARNING",
    "SQL_BIG_RESULT",
    "SQL_CALC_FOUND_ROWS",
    "SQL_SMALL_RESULT",
    "SSL",
    "STARTING",
    "STATS_AUTO_RECALC",
    "STATS_PERSISTENT",
    "STATS_SAMPLE_PAGES",
    "STORED",
    "STRAIGHT_JOIN",
    "SYMMETRIC",
    "SYSTEM",
    "TABLE",
    "TABLESAMPLE",
    "TERMINATED",
    "THEN",
    "TINYBLOB",
    "TINYINT",
    "TINYTEXT",
    "TO",
    "TRAILING",
    "TRANSACTION",
    "TRIGGER",
    "TRUE",
    "UNDO",
    "UNION",
    "UNIQUE",
    "UNLOCK",
    "UNSIGNED",
    "UPDATE",
    "USAGE",
    "USE",
    "USER",
    "USING",
    "UTC_DATE",
    "UTC_TIME",
    "UTC_TIMESTAMP",
    "VALUES",
    "VARBINARY",
    "VARCHAR",
    "VARCHARACTER",
    "VARIADIC",
    "VARYING",
    "VERBOSE",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WHILE",
    "WINDOW",
    "WITH",
    "WRITE",
    "XOR",
    "YEAR_MONTH",
    "ZEROFILL",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::{block_comment_end, dollar_quote_end, line_comment_end, quote_end};
    use proptest::prelude::*;

    fn stmts(s: &str) -> Vec<String> {
        split_statements(s)
            .into_iter()
            .map(|(_, s)| s.to_string())
            .collect()
    }

    #[test]
    fn splits_plain_statements_with_lines() {
        let v = split_statements("CREATE TABLE a (x INT);\n\n-- note\nINSERT INTO a VALUES (1);\n");
        assert_eq!(
            v,
            vec![
                (1, "CREATE TABLE a (x INT)"),
                (4, "INSERT INTO a VALUES (1)")
            ]
        );
    }

    #[test]
    fn respects_quotes_comments_and_dollars() {
        assert_eq!(
            stmts("INSERT INTO t VALUES ('a;b', \"c;\", `d;`); /* x; */ SELECT 1"),
            vec!["INSERT INTO t VALUES ('a;b', \"c;\", `d;`)", "SELECT 1"]
        );
        assert_eq!(
            stmts("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql; SELECT 2;"),
            vec![
                "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql",
                "SELECT 2"
            ]
        );
        assert_eq!(stmts("SELECT 'it''s; fine';"), vec!["SELECT 'it''s; fine'"]);
        assert_eq!(stmts("-- only a comment\n"), Vec::<String>::new());
    }

    #[test]
    fn trigger_bodies_stay_whole() {
        let sql = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; UPDATE t SET y = CASE WHEN 1 THEN 2 END; END;\nSELECT 1;";
        assert_eq!(stmts(sql).len(), 2);
    }

    #[test]
    fn routine_bodies_stay_whole() {
        let mysql = "CREATE PROCEDURE p(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  IF n > 0 THEN\n    SET i = 1;\n  END IF;\n  WHILE i < n DO\n    SET i = i + 1;\n  END WHILE;\n  CASE i WHEN 1 THEN SET i = 2; ELSE SET i = 3; END CASE;\nEND;\nCALL p(3);";
        let v = split_statements(mysql);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].1.ends_with("END CASE;\nEND"));
        assert_eq!(v[1], (12, "CALL p(3)"));
        let pg = "CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT a + b;\n  SELECT CASE WHEN a > 0 THEN a ELSE b END;\nEND;\nSELECT add(1, 2);";
        assert_eq!(stmts(pg).len(), 2);
        // A routine without a body block ends at its `;`.
        assert_eq!(
            stmts("CREATE FUNCTION one() RETURNS int LANGUAGE sql RETURN 1; DROP FUNCTION one; SELECT 1"),
            vec!["CREATE FUNCTION one() RETURNS int LANGUAGE sql RETURN 1", "DROP FUNCTION one", "SELECT 1"]
        );
    }

    /// What mariadb-dump writes around a table, a trigger and a procedure.
    const MYSQL_DUMP: &str = "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `a` (\n  `x` int(11) DEFAULT NULL\n) ENGINE=InnoDB;\nDELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW BEGIN\n  SET NEW.x = 1;\n  IF NEW.x > 2 THEN SET NEW.x = 2; END IF;\nEND */;;\nDELIMITER ;\n/*!50003 SET sql_mode = '' */ ;\ndelimiter //\nCREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\n  SELECT ';;';\nEND //\nDELIMITER ;\n/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n";

    #[test]
    fn a_mysql_dump_reads_as_its_client_reads_it() {
        for dialect in [None, Some(Dialect::Mysql)] {
            let text = client_text(MYSQL_DUMP, dialect).unwrap();
            // Lines keep their numbers; the commands' lines are left blank.
            assert_eq!(text.lines().count(), MYSQL_DUMP.lines().count());
            assert!(!text.to_ascii_uppercase().contains("DELIMITER"), "{text}");
            let v = split_statements(&text);
            let firsts: Vec<(usize, &str)> = v
                .iter()
                .map(|(l, s)| (*l, s.lines().next().unwrap()))
                .collect();
            assert_eq!(
                firsts,
                [
                    (1, "/*M!999999\\- enable the sandbox mode */ "),
                    (4, "/*!40101 SET NAMES utf8mb4 */"),
                    (5, "CREATE TABLE `a` ("),
                    (9, "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW BEGIN"),
                    (14, "/*!50003 SET sql_mode = '' */"),
                    (16, "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()"),
                    (21, "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */"),
                ],
                "{v:#?}"
            );
            assert!(v[3].1.ends_with("END */"), "{}", v[3].1);
            assert!(v[5].1.ends_with("SELECT ';;';\nEND"), "{}", v[5].1);
        }
    }

    #[test]
    fn delimiter_only_where_mysql_reads_it() {
        assert_eq!(
            client_text("SELECT 1;\n\nDELIMITER ;;\n", Some(Dialect::Postgres)),
            Err(ClientCommandError {
                line: 3,
                command: ClientCommand::DelimiterElsewhere(Dialect::Postgres)
            })
        );
        assert_eq!(
            client_text("DELIMITER\n", Some(Dialect::Mysql)),
            Err(ClientCommandError {
                line: 1,
                command: ClientCommand::EmptyDelimiter
            })
        );
        // Not at the start of a statement, or in a comment or string, it is SQL.
        let sql = "COPY t FROM '/x'\nDELIMITER ',';\n-- DELIMITER ;;\nSELECT '\nDELIMITER ;;';";
        assert_eq!(client_text(sql, None).unwrap(), sql);
        // `$$` ends statements where DELIMITER says so, even in a shared section read
        // with dollar quotes.
        let dollars =
            "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nSELECT 2$$\nDELIMITER ;\n";
        let text = client_text(dollars, None).unwrap();
        assert_eq!(
            stmts(&text),
            ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"]
        );
    }

    #[test]
    fn psql_meta_commands() {
        let dump = "--\n\\restrict abc123\nSET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.t (id integer);\n\\unrestrict abc123\n";
        let text = client_text(dump, Some(Dialect::Postgres)).unwrap();
        assert!(!text.contains('\\'), "{text}");
        assert_eq!(
            split_statements(&text),
            [
                (3, "SET statement_timeout = 0"),
                (4, "SELECT pg_catalog.set_config('search_path', '', false)"),
                (5, "CREATE TABLE public.t (id integer)")
            ]
        );
        let refused = client_text("SELECT 1;\n  \\connect other\n", None).unwrap_err();
        assert!(
            matches!(&refused, ClientCommandError { line: 2, command: ClientCommand::MetaCommand { command, .. } } if command == "\\connect"),
            "{refused:?}"
        );
        assert!(refused
            .to_string()
            .starts_with("line 2: `\\connect` is a command of the database's client"));
        assert!(matches!(
            client_text("\\set ON_ERROR_STOP on\n", Some(Dialect::Postgres)),
            Err(ClientCommandError {
                line: 1,
                command: ClientCommand::MetaCommand { .. }
            })
        ));
        // Text without commands comes back as it is, unchanged.
        assert!(matches!(
            client_text("SELECT 'a\\b';", None),
            Ok(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn a_statement_of_conditional_comments_alone_is_kept() {
        assert_eq!(
            stmts("/*!40101 SET NAMES utf8mb4 */;\n/* a comment */;\n/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END */;"),
            [
                "/*!40101 SET NAMES utf8mb4 */",
                "/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END */"
            ]
        );
    }

    #[test]
    fn nested_block_comments_are_one_comment() {
        let v = split_statements("/* outer /* inner; */ still; comment */\nSELECT 1;\nSELECT 2;");
        assert_eq!(v, vec![(2, "SELECT 1"), (3, "SELECT 2")]);
    }

    #[test]
    fn lexing_pieces() {
        let b = b"'it''s' \"a\"\"b\" [x]] 'a\\'b' 'open";
        assert_eq!(quote_end(b, 0), 6);
        assert_eq!(quote_end(b, 8), 13);
        assert_eq!(quote_end(b, 15), 17);
        assert_eq!(quote_end(b, 20), 25);
        assert_eq!(quote_end(b, 27), b.len());
        let d = b"$$ a $$ $q$ $$ $q$ $1 $x$ open";
        assert_eq!(dollar_quote_end(d, 0), Some(7));
        assert_eq!(dollar_quote_end(d, 8), Some(18));
        assert_eq!(dollar_quote_end(d, 19), None);
        assert_eq!(dollar_quote_end(d, 22), Some(d.len()));
        assert_eq!(dollar_quote_end(b"a $", 2), None);
        let c = b"-- x\n/* y\n */ z /* open";
        assert_eq!(line_comment_end(c, 0), 4);
        assert_eq!(block_comment_end(c, 5), 13);
        assert_eq!(block_comment_end(c, 16), c.len());
        assert_eq!(line_comment_end(b"-- end", 0), 6);
        assert_eq!(newlines(c), 2);
        assert_eq!(utf8_text(b"a\nb"), Ok("a\nb"));
        assert_eq!(utf8_text(b"a\nb\n\xff"), Err(3));
        assert_eq!(nul_line(b"a\nb\n"), None);
        assert_eq!(nul_line(b"\0"), Some(1));
        assert_eq!(nul_line(b"a\nb;\0\nc\0"), Some(2));
    }

    #[test]
    fn statement_pieces_cut_between_whole_statements() {
        let sql = "INSERT INTO t VALUES (1);\n-- one\nINSERT INTO t VALUES ('a;b');\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; END;\nSELECT 4";
        for max in [1, 10, 30, 60, 1000] {
            let pieces = statement_pieces(sql, max);
            assert_eq!(pieces.concat(), sql, "max {max}");
            // Each piece is whole statements: split alone, they are the text's.
            let each: Vec<String> = pieces.iter().flat_map(|p| stmts(p)).collect();
            assert_eq!(each, stmts(sql), "max {max}");
            for p in &pieces[..pieces.len() - 1] {
                assert!(p.len() >= max, "max {max}: {p:?}");
            }
        }
        assert_eq!(statement_pieces(sql, 1).len(), 4);
        assert_eq!(statement_pieces(sql, 1000), [sql]);
        assert_eq!(statement_pieces("", 10), [""]);
        assert_eq!(
            statement_pieces("  -- only a comment\n", 1),
            ["  -- only a comment\n"]
        );
        // Comments before the first statement stay in the first piece.
        assert_eq!(
            statement_pieces("-- a\nSELECT 1;\nSELECT 2;", 1),
            ["-- a\nSELECT 1;\n", "SELECT 2;"]
        );
    }

    /// The splitter as it was before it read `lex::tokens`: the oracle the lexer-based
    /// one must agree with.
    mod before_lexer {
        // The lexing pieces as they were, too, so that the oracle shares no code.
        fn quote_end(sql: &[u8], open: usize) -> usize {
            let Some(&c) = sql.get(open) else {
                return sql.len();
            };
            let close = if c == b'[' { b']' } else { c };
            let mut j = open + 1;
            while j < sql.len() {
                if sql[j] == close {
                    if close != b']' && sql.get(j + 1) == Some(&close) {
                        j += 2;
                        continue;
                    }
                    return j;
                }
                if sql[j] == b'\\' && c == b'\'' {
                    j += 1;
                }
                j += 1;
            }
            sql.len()
        }
        fn dollar_quote_end(sql: &[u8], open: usize) -> Option<usize> {
            let tag_end = sql
                .get(open + 1..)?
                .iter()
                .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_'))
                .map(|p| open + 1 + p)?;
            if sql[tag_end] != b'$'
                || sql[open + 1..tag_end]
                    .first()
                    .is_some_and(u8::is_ascii_digit)
            {
                return None;
            }
            let tag = &sql[open..=tag_end];
            let body = tag_end + 1;
            Some(
                sql[body..]
                    .windows(tag.len())
                    .position(|w| w == tag)
                    .map_or(sql.len(), |p| body + p + tag.len()),
            )
        }
        fn line_comment_end(sql: &[u8], open: usize) -> usize {
            sql.get(open..)
                .and_then(|rest| rest.iter().position(|&x| x == b'\n'))
                .map_or(sql.len(), |p| open + p)
        }
        fn block_comment_end(sql: &[u8], open: usize) -> usize {
            // PostgreSQL nests block comments; elsewhere a `/*` inside a comment is plain
            // text, which only matters for text those databases reject.
            let mut nesting = 1;
            let mut j = open + 2;
            while j < sql.len() {
                match (sql[j], sql.get(j + 1)) {
                    (b'*', Some(b'/')) => {
                        nesting -= 1;
                        j += 2;
                        if nesting == 0 {
                            return j;
                        }
                    }
                    (b'/', Some(b'*')) => {
                        nesting += 1;
                        j += 2;
                    }
                    _ => j += 1,
                }
            }
            sql.len()
        }
        fn newlines(bytes: &[u8]) -> usize {
            bytes.iter().filter(|&&c| c == b'\n').count()
        }

        pub(super) fn split_statements(sql: &str) -> Vec<(usize, &str)> {
            let b = sql.as_bytes();
            let mut out = Vec::new();
            let mut start = 0usize;
            let mut i = 0usize;
            let mut line = 1usize;
            let mut start_line = 1usize;
            // BEGIN/CASE ... END nesting inside the body of a routine or trigger, which holds
            // `;` of its own.
            let mut depth = 0i32;
            let mut compound = false;
            // The previous word, for `END IF`/`END LOOP`/... (closing what was not counted)
            // and `BEGIN ATOMIC`.
            let mut after_end = false;
            let mut significant = false;
            while i < b.len() {
                let c = b[i];
                match c {
                    b'\n' => {
                        line += 1;
                        i += 1;
                    }
                    b'\'' | b'"' | b'`' => {
                        significant = true;
                        let end = (quote_end(b, i) + 1).min(b.len());
                        line += newlines(&b[i..end]);
                        i = end;
                    }
                    b'-' if b.get(i + 1) == Some(&b'-') => i = line_comment_end(b, i),
                    b'/' if b.get(i + 1) == Some(&b'*') => {
                        let end = block_comment_end(b, i);
                        line += newlines(&b[i..end]);
                        i = end;
                    }
                    b'$' => {
                        significant = true;
                        match dollar_quote_end(b, i) {
                            Some(end) => {
                                line += newlines(&b[i..end]);
                                i = end;
                            }
                            None => i += 1,
                        }
                    }
                    b';' if depth <= 0 => {
                        push(&mut out, &sql[start..i], start_line, significant);
                        i += 1;
                        start = i;
                        start_line = line;
                        compound = false;
                        depth = 0;
                        after_end = false;
                        significant = false;
                    }
                    c if c.is_ascii_alphabetic() || c == b'_' => {
                        let s = i;
                        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                            i += 1;
                        }
                        let word = &sql[s..i];
                        if !significant {
                            start_line = line;
                            start = s;
                        }
                        significant = true;
                        let is = |w: &str| word.eq_ignore_ascii_case(w);
                        let closes_uncounted =
                            is("IF") || is("LOOP") || is("WHILE") || is("REPEAT");
                        if is("TRIGGER") || is("PROCEDURE") || is("FUNCTION") || is("EVENT") {
                            compound = true;
                        } else if compound && after_end && (closes_uncounted || is("CASE")) {
                            // `END IF`: the END closed an IF (never counted), not a BEGIN;
                            // `END CASE` closed the CASE it counted.
                            if closes_uncounted {
                                depth += 1;
                            }
                        } else if compound && (is("BEGIN") || is("CASE")) {
                            depth += 1;
                        } else if compound && is("END") {
                            depth -= 1;
                        }
                        after_end = is("END");
                    }
                    _ => {
                        if !c.is_ascii_whitespace() && !significant {
                            significant = true;
                            start = i;
                            start_line = line;
                        }
                        i += 1;
                    }
                }
            }
            push(
                &mut out,
                &sql[start.min(sql.len())..],
                start_line,
                significant,
            );
            out
        }

        fn push<'a>(
            out: &mut Vec<(usize, &'a str)>,
            piece: &'a str,
            line: usize,
            significant: bool,
        ) {
            let t = piece.trim();
            if significant && !t.is_empty() {
                out.push((line, t));
            }
        }
    }

    /// Pieces of SQL that exercise every branch of the splitter and the lexer: keywords
    /// of routine bodies, quotes and comments holding `;`, unclosed ones, dollar quotes
    /// and `$` that is not one, digits and non-ASCII glued to words.
    fn fragment() -> impl Strategy<Value = String> {
        let fixed = prop::sample::select(vec![
            "BEGIN",
            "begin",
            "END",
            "IF",
            "CASE",
            "LOOP",
            "WHILE",
            "REPEAT",
            "ATOMIC",
            "TRIGGER",
            "FUNCTION",
            "PROCEDURE",
            "EVENT",
            "CREATE",
            "SELECT",
            "x",
            "a_1",
            "1",
            "1END",
            "é",
            "éBEGIN",
            "a$b",
            "a$$",
            "$",
            "$1",
            "$$",
            "$q$",
            "$$ ; $$",
            "$q$ ; $$ $q$",
            ";",
            ";",
            ";",
            "(",
            ")",
            "[",
            "]",
            ",",
            "'",
            "\"",
            "`",
            "'a;b'",
            "'it''s;'",
            "'a\\';'",
            "\"c;\"",
            "`d;`",
            "[e;]",
            "--",
            "-- c;",
            "/*",
            "*/",
            "/* x; */",
            "/* a /* b; */ c; */",
            "-",
            "/",
            "*",
            " ",
            " ",
            "\n",
            "\t",
            "\r\n",
            "\u{b}",
        ]);
        prop_oneof![
            4 => fixed.prop_map(str::to_string),
            1 => "[a-z$;'\"`\\[\\]/*\n -]{0,6}",
        ]
    }

    fn sql_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            (fragment(), prop::sample::select(vec!["", " ", "\n"])),
            0..40,
        )
        .prop_map(|parts| parts.into_iter().map(|(f, sep)| f + sep).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn splitting_agrees_with_the_splitter_before_the_lexer(sql in sql_text()) {
            prop_assert_eq!(split_statements(&sql), before_lexer::split_statements(&sql));
        }

        #[test]
        fn tokens_join_into_the_text(sql in sql_text()) {
            for syntax in [Syntax::ANY, Syntax::STATEMENTS, Syntax::SQLITE] {
                let joined: String = tokens(&sql, syntax).map(|t| t.text).collect();
                prop_assert_eq!(&joined, &sql);
            }
        }
    }

    #[test]
    fn reserved_words_are_sorted_and_refused() {
        assert!(RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
        for bad in [
            "order", "ORDER", "user", "table", "select", "key", "1abc", "9", "", "a-b", "a.b",
        ] {
            assert!(plain_identifier_problem(bad).is_some(), "{bad:?} accepted");
        }
        for good in [
            "alembic_version",
            "migrations_v2",
            "_private",
            "Orders",
            "users_history",
        ] {
            assert_eq!(plain_identifier_problem(good), None, "{good:?} refused");
        }
        assert!(plain_identifier_problem(&"a".repeat(64)).is_some());
    }
}
