//! Batched statements: `-- migrate:batch size=N [pause=D] [max=N]` before a statement
//! of a `transactional: false` migration repeats it, each repetition committed on its
//! own, until it changes no rows.
//!
//! The directive stays in the section's SQL as the comment line it is, so the text of a
//! section is all there is to know: [`statements`] splits it into statements with the
//! batch settings of those that have them, for the parser (which reports the problems)
//! and for the runtime (which runs them).
//!
//! ```
//! use migrate_core::batch::statements;
//!
//! let sql = "ALTER TABLE t ADD c INT;\n-- migrate:batch size=1000 pause=10ms\nUPDATE t SET c = 1 WHERE id IN (SELECT id FROM t WHERE c IS NULL LIMIT {batch_size});\n";
//! let stmts = statements(sql).unwrap();
//! assert!(stmts[0].batch.is_none());
//! let batch = stmts[1].batch.unwrap();
//! assert_eq!((batch.size, batch.pause.as_millis(), batch.max_batches), (1000, 10, None));
//! assert!(batch.render(stmts[1].sql).ends_with("LIMIT 1000)"));
//! ```
//!
//! `-- migrate:batch-rows <query>` right after the directive gives a query counting the
//! rows the batches will change (run once, before the first batch), so that progress
//! shows a total and the time left.

use crate::sql::split_statements;
use std::time::Duration;

/// What a batched statement writes where the batch size goes.
pub const BATCH_SIZE_PLACEHOLDER: &str = "{batch_size}";

/// The directive's name: `-- migrate:batch`.
pub const BATCH_DIRECTIVE: &str = "batch";

/// The optional directive after `-- migrate:batch` that counts the rows the batches
/// will change, once before the first, so that progress can show the time left:
/// `-- migrate:batch-rows SELECT COUNT(*) FROM t WHERE c IS NULL`.
pub const ROWS_DIRECTIVE: &str = "batch-rows";

/// The settings of one batched statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSpec {
    /// Rows per repetition, written into the statement for [`BATCH_SIZE_PLACEHOLDER`].
    pub size: u64,
    /// How long to wait between repetitions (to leave the database to other traffic).
    pub pause: Duration,
    /// At most this many repetitions; a statement still changing rows then stops the run
    /// with an error (`None`: no cap).
    pub max_batches: Option<u64>,
}

impl BatchSpec {
    /// The statement to run: `stmt` with the batch size written in.
    pub fn render(&self, stmt: &str) -> String {
        stmt.replace(BATCH_SIZE_PLACEHOLDER, &self.size.to_string())
    }

    /// Parses the directive's arguments: `size=N` (required, 1 to 10,000,000),
    /// `pause=D` (`250ms`, `2s`, `0`; default none) and `max=N` (at least 1).
    ///
    /// # Errors
    /// What is wrong with the arguments.
    pub fn parse(args: &str) -> Result<BatchSpec, BatchError> {
        let mut size = None;
        let mut pause = Duration::ZERO;
        let mut max_batches = None;
        for arg in args.split_whitespace() {
            let Some((key, value)) = arg.split_once('=') else {
                return Err(BatchError::BadArgument(arg.to_string()));
            };
            match key {
                "size" => match value.parse::<u64>() {
                    Ok(n) if (1..=10_000_000).contains(&n) => size = Some(n),
                    _ => return Err(BatchError::BadSize(value.to_string())),
                },
                "pause" => {
                    pause = parse_duration(value)
                        .ok_or_else(|| BatchError::BadPause(value.to_string()))?
                }
                "max" => match value.parse::<u64>() {
                    Ok(n) if n >= 1 => max_batches = Some(n),
                    _ => return Err(BatchError::BadMax(value.to_string())),
                },
                _ => return Err(BatchError::BadArgument(arg.to_string())),
            }
        }
        let size = size.ok_or(BatchError::MissingSize)?;
        Ok(BatchSpec {
            size,
            pause,
            max_batches,
        })
    }
}

/// `0`, `250ms`, `2s`, `1m`.
fn parse_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = digits.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

/// What is wrong with a `-- migrate:batch` directive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// An argument that is not `size=`, `pause=` or `max=`.
    #[error(
        "`-- migrate:batch`: unknown argument {0:?}; expected `size=N`, `pause=250ms` or `max=N`"
    )]
    BadArgument(String),
    /// No `size=N`.
    #[error("`-- migrate:batch` needs the batch size: `-- migrate:batch size=1000`")]
    MissingSize,
    /// A size that is not a number from 1 to 10,000,000.
    #[error("`-- migrate:batch`: size must be a number from 1 to 10000000, found {0:?}")]
    BadSize(String),
    /// A pause that is not a duration.
    #[error(
        "`-- migrate:batch`: pause must be a duration such as `250ms`, `2s` or `0`, found {0:?}"
    )]
    BadPause(String),
    /// A cap that is not a positive number.
    #[error("`-- migrate:batch`: max must be a number of batches of at least 1, found {0:?}")]
    BadMax(String),
    /// The directive is the last thing in its section.
    #[error("`-- migrate:batch` is not followed by a statement in its section")]
    NotFollowed,
    /// Two directives before one statement.
    #[error(
        "two `-- migrate:batch` directives before one statement (the other on line {0}); keep one"
    )]
    Repeated(usize),
    /// `-- migrate:batch-rows` not right after a `-- migrate:batch` line.
    #[error("`-- migrate:batch-rows` must follow a `-- migrate:batch` line, before the statement it counts for")]
    RowsWithoutBatch,
    /// `-- migrate:batch-rows` without its query.
    #[error("`-- migrate:batch-rows` needs the query that counts the rows left, e.g. `-- migrate:batch-rows SELECT COUNT(*) FROM t WHERE c IS NULL`")]
    RowsWithoutQuery,
    /// The statement does not say where the batch size goes.
    #[error("the statement after `-- migrate:batch` must limit each repetition with `{{batch_size}}` (e.g. `... WHERE id IN (SELECT id FROM t WHERE c IS NULL LIMIT {{batch_size}})`), so that it changes a batch of rows at a time")]
    NoPlaceholder,
}

/// One statement of a section, with its batch settings when a `-- migrate:batch`
/// directive precedes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// 1-based line of the statement in the section's text.
    pub line: usize,
    /// The statement, trimmed, without its `;` (and with [`BATCH_SIZE_PLACEHOLDER`]
    /// still in it: see [`BatchSpec::render`]).
    pub sql: &'a str,
    /// The batch settings, for a batched statement.
    pub batch: Option<BatchSpec>,
    /// For a batched statement, the query of its `-- migrate:batch-rows` line: how many
    /// rows its batches will change.
    pub rows_query: Option<&'a str>,
}

/// Whether a line of SQL text is a `-- migrate:batch` directive; its arguments if so.
pub fn directive_args(line: &str) -> Option<&str> {
    named_directive(line, BATCH_DIRECTIVE)
}

/// The arguments of a `-- migrate:<name>` line.
fn named_directive<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?.trim_start();
    let rest = rest.strip_prefix(name)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

/// Whether SQL text holds a `-- migrate:batch` directive (a quick test, before
/// [`statements`]).
pub fn has_batches(sql: &str) -> bool {
    sql.contains("migrate:batch") && sql.lines().any(|l| directive_args(l).is_some())
}

/// Splits a section's SQL into statements (as
/// [`split_statements`](crate::sql::split_statements)) and gives each batched one its
/// settings.
///
/// # Errors
/// Every problem of the directives, each with its 1-based line in `sql`.
pub fn statements(sql: &str) -> Result<Vec<Statement<'_>>, Vec<(usize, BatchError)>> {
    let mut stmts: Vec<Statement<'_>> = split_statements(sql)
        .into_iter()
        .map(|(line, sql)| Statement {
            line,
            sql,
            batch: None,
            rows_query: None,
        })
        .collect();
    if !has_batches(sql) {
        return Ok(stmts);
    }
    let mut errors = Vec::new();
    // Directives by line, each for the first statement that starts after it.
    let mut claimed: Vec<Option<usize>> = vec![None; stmts.len()];
    for (i, text) in sql.lines().enumerate() {
        let line = i + 1;
        if let Some(query) = named_directive(text, ROWS_DIRECTIVE) {
            // For the statement a `-- migrate:batch` line just above claimed.
            let index = stmts.iter().position(|s| s.line > line);
            let claimed_above = index.and_then(|i| claimed[i]).is_some_and(|b| b < line);
            match index.filter(|_| claimed_above) {
                None => errors.push((line, BatchError::RowsWithoutBatch)),
                Some(_) if query.is_empty() => errors.push((line, BatchError::RowsWithoutQuery)),
                Some(i) => stmts[i].rows_query = Some(query),
            }
            continue;
        }
        let Some(args) = directive_args(text) else {
            continue;
        };
        let spec = match BatchSpec::parse(args) {
            Ok(s) => s,
            Err(e) => {
                errors.push((line, e));
                continue;
            }
        };
        let Some(index) = stmts.iter().position(|s| s.line > line) else {
            errors.push((line, BatchError::NotFollowed));
            continue;
        };
        if let Some(first) = claimed[index] {
            errors.push((line, BatchError::Repeated(first)));
            continue;
        }
        claimed[index] = Some(line);
        if !stmts[index].sql.contains(BATCH_SIZE_PLACEHOLDER) {
            errors.push((stmts[index].line, BatchError::NoPlaceholder));
            continue;
        }
        stmts[index].batch = Some(spec);
    }
    if errors.is_empty() {
        Ok(stmts)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments() {
        let s = BatchSpec::parse("size=100 pause=250ms max=7").unwrap();
        assert_eq!(
            s,
            BatchSpec {
                size: 100,
                pause: Duration::from_millis(250),
                max_batches: Some(7)
            }
        );
        assert_eq!(
            BatchSpec::parse("pause=2s size=5").unwrap().pause,
            Duration::from_secs(2)
        );
        assert_eq!(
            BatchSpec::parse("size=5 pause=0").unwrap().pause,
            Duration::ZERO
        );
        let cases: &[(&str, BatchError)] = &[
            ("", BatchError::MissingSize),
            ("size=0", BatchError::BadSize("0".into())),
            ("size=x", BatchError::BadSize("x".into())),
            ("size=1 pause=5", BatchError::BadPause("5".into())),
            ("size=1 pause=1h", BatchError::BadPause("1h".into())),
            ("size=1 max=0", BatchError::BadMax("0".into())),
            ("size=1 every=2", BatchError::BadArgument("every=2".into())),
            ("size 1", BatchError::BadArgument("size".into())),
        ];
        for (args, want) in cases {
            assert_eq!(&BatchSpec::parse(args).unwrap_err(), want, "{args:?}");
        }
    }

    #[test]
    fn directives_attach_to_the_next_statement() {
        let sql = "ALTER TABLE t ADD c INT;\n\n-- migrate:batch size=2\n-- a note\nUPDATE t SET c = 1 WHERE id IN (SELECT id FROM t WHERE c IS NULL LIMIT {batch_size});\nSELECT 1;\n";
        let s = statements(sql).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!((s[1].line, s[1].batch.map(|b| b.size)), (5, Some(2)));
        assert!(s[0].batch.is_none() && s[2].batch.is_none());
        assert!(s[1].sql.starts_with("UPDATE"));
    }

    #[test]
    fn a_rows_query_counts_for_its_batched_statement() {
        let sql = "-- migrate:batch size=2\n-- migrate:batch-rows SELECT COUNT(*) FROM t WHERE c IS NULL\nUPDATE t SET c = 1 LIMIT {batch_size};\n";
        let s = statements(sql).unwrap();
        assert_eq!(
            s[0].rows_query,
            Some("SELECT COUNT(*) FROM t WHERE c IS NULL")
        );
        let bad = "-- migrate:batch-rows SELECT 1\nSELECT 2;\n-- migrate:batch size=2\n-- migrate:batch-rows\nUPDATE t SET c = 1 LIMIT {batch_size};\n";
        assert_eq!(
            statements(bad).unwrap_err(),
            vec![
                (1, BatchError::RowsWithoutBatch),
                (4, BatchError::RowsWithoutQuery)
            ]
        );
    }

    #[test]
    fn every_directive_problem_with_its_line() {
        let sql = "-- migrate:batch size=2\n-- migrate:batch size=3\nUPDATE t SET c = 1 LIMIT {batch_size};\n-- migrate:batch size=1\nDELETE FROM t;\n-- migrate:batch size=z\n-- migrate:batch size=4\n";
        let errs = statements(sql).unwrap_err();
        assert_eq!(
            errs,
            vec![
                (2, BatchError::Repeated(1)),
                (5, BatchError::NoPlaceholder),
                (6, BatchError::BadSize("z".into())),
                (7, BatchError::NotFollowed),
            ]
        );
    }

    #[test]
    fn only_the_directive_is_recognized() {
        assert_eq!(
            directive_args("  --  migrate:batch size=1 "),
            Some("size=1")
        );
        assert_eq!(directive_args("-- migrate:batched size=1"), None);
        assert_eq!(directive_args("SELECT 1 -- migrate:batch"), None);
        assert!(!has_batches("-- migrate:upgrade\nSELECT 1;\n"));
    }
}
