//! Offline scripts: a plan written out as SQL for someone else to run (Alembic's
//! `--sql`). Pure text: the runtime resolves each step's section and hands it here.

use crate::lex::{tokens, Syntax};
use crate::{Dialect, Step, VersionChange};
use std::fmt::Write as _;

/// How an offline script is written.
#[derive(Debug, Clone, Copy)]
pub struct OfflineOptions<'a> {
    /// The database the script is for.
    pub dialect: Dialect,
    /// The version table, schema-qualified where a schema is set.
    pub version_table: &'a str,
    /// The statement that creates the version table, written before the first step
    /// that starts from an empty table.
    pub version_table_ddl: &'a str,
    /// One transaction per migration (else one for the whole script).
    pub per_migration: bool,
}

/// One step of an offline script with what it runs.
#[derive(Debug, Clone, Copy)]
pub struct OfflineStep<'a> {
    /// The step of the plan.
    pub step: &'a Step,
    /// The section's SQL; `None` for a stamp.
    pub sql: Option<&'a str>,
    /// `false` for a `transactional: false` migration, which no transaction wraps.
    pub transactional: bool,
}

/// Writes steps as Alembic's offline mode does: `-- Running ...` comments, the
/// migration SQL statement by statement and the version-table statements; one
/// transaction for everything, or one per step in per-migration mode (none for
/// `transactional: false` scripts), where the database has transactional DDL; and the
/// version table's creation in the first step that starts from an empty table.
///
/// For MySQL, a statement holding `;` of its own (a trigger's or routine's body) is
/// written between `DELIMITER` lines, since MySQL's client, which runs the script,
/// would otherwise cut it at its first `;`.
pub fn offline_script(
    steps: &[OfflineStep<'_>],
    mut heads: Vec<String>,
    o: &OfflineOptions<'_>,
) -> String {
    let transactional_ddl = o.dialect.transactional_ddl();
    let mut out = String::new();
    if transactional_ddl && !o.per_migration {
        out.push_str("BEGIN;\n\n");
    }
    for s in steps {
        let step = s.step;
        let tx = transactional_ddl && o.per_migration && s.transactional;
        if tx {
            out.push_str("BEGIN;\n\n");
        }
        if heads.is_empty() {
            out.push_str(o.version_table_ddl);
            out.push_str(";\n\n");
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "-- Running {} {} -> {}\n\n",
            step.kind(),
            step.from.join(", "),
            step.to.join(", ")
        );
        for (_, stmt) in s.sql.map(crate::sql::split_statements).unwrap_or_default() {
            write_statement(&mut out, stmt, o.dialect);
        }
        for c in &step.changes {
            out.push_str(&change_sql(o.version_table, c, o.dialect));
            out.push_str(";\n\n");
        }
        if tx {
            out.push_str("COMMIT;\n\n");
        }
        VersionChange::apply_all(&mut heads, &step.changes);
    }
    if transactional_ddl && !o.per_migration {
        out.push_str("COMMIT;\n\n");
    }
    out
}

/// Writes one statement of a migration for `dialect`'s client to read: ended by `;`,
/// or, for MySQL when the statement holds a `;` the client would end it at, as
/// `DELIMITER <d>`, the statement, `<d>`, `DELIMITER ;`, with a terminator `<d>` found
/// nowhere in the statement. PostgreSQL's and SQLite's clients read a body with `;`
/// inside whole (dollar quotes, `BEGIN ... END`), so their statements are left as
/// they are.
fn write_statement(out: &mut String, stmt: &str, dialect: Dialect) {
    if dialect == Dialect::Mysql && mysql_client_splits(stmt) {
        let d = free_delimiter(stmt);
        // The terminator goes on a line of its own, so that a line comment ending the
        // statement cannot hide it.
        let _ = write!(out, "DELIMITER {d}\n{stmt}\n{d}\nDELIMITER ;\n\n");
    } else {
        out.push_str(stmt);
        out.push_str(";\n\n");
    }
}

/// Whether MySQL's client would end `stmt` before its end: it holds a `;` outside
/// quotes and comments (inside a conditional comment too, which the client reads as
/// code).
fn mysql_client_splits(stmt: &str) -> bool {
    tokens(stmt, Syntax::MYSQL).any(|t| t.is_punct(b';'))
}

/// A `DELIMITER` terminator that occurs nowhere in `stmt`: the usual ones first, then
/// a run of slashes longer than any in the statement.
fn free_delimiter(stmt: &str) -> String {
    ["//", "$$", ";;"]
        .iter()
        .find(|d| !stmt.contains(*d))
        .map_or_else(
            || {
                let mut d = "///".to_string();
                while stmt.contains(&d) {
                    d.push('/');
                }
                d
            },
            |d| (*d).to_string(),
        )
}

/// A version-table change as a statement with its values written in, as Alembic's
/// offline mode renders it (`RETURNING` included). Revision ids come from the graph,
/// which admits no quote.
fn change_sql(vt: &str, c: &VersionChange, dialect: Dialect) -> String {
    match c {
        VersionChange::Insert(v) => {
            let returning = match dialect {
                Dialect::Postgres => format!(" RETURNING {vt}.version_num"),
                Dialect::Sqlite => " RETURNING version_num".to_string(),
                Dialect::Mysql => String::new(),
            };
            format!("INSERT INTO {vt} (version_num) VALUES ('{v}'){returning}")
        }
        VersionChange::Delete(v) => format!("DELETE FROM {vt} WHERE {vt}.version_num = '{v}'"),
        VersionChange::Update { from, to } => {
            format!("UPDATE {vt} SET version_num='{to}' WHERE {vt}.version_num = '{from}'")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction;

    const SECTION: &str = "CREATE TABLE t (x INT, note VARCHAR(9) DEFAULT 'a;b');\n\
CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.x = 1;\nEND;\n\
CREATE PROCEDURE p() BEGIN SELECT '//'; SELECT '$$'; END;\n\
CREATE PROCEDURE q() BEGIN SELECT '// $$ ;; ///'; END;\n\
INSERT INTO t (x) /* one; two */ VALUES (2);";

    fn script(dialect: Dialect) -> String {
        let step = Step {
            revision: Some("a1".to_string()),
            direction: Direction::Upgrade,
            from: Vec::new(),
            to: vec!["a1".to_string()],
            changes: vec![VersionChange::Insert("a1".to_string())],
        };
        offline_script(
            &[OfflineStep {
                step: &step,
                sql: Some(SECTION),
                transactional: true,
            }],
            vec!["x".to_string()],
            &OfflineOptions {
                dialect,
                version_table: "alembic_version",
                version_table_ddl: "",
                per_migration: false,
            },
        )
    }

    #[test]
    fn mysql_bodies_between_delimiters() {
        let text = script(Dialect::Mysql);
        assert_eq!(
            text,
            "-- Running upgrade  -> a1\n\n\
CREATE TABLE t (x INT, note VARCHAR(9) DEFAULT 'a;b');\n\n\
DELIMITER //\nCREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.x = 1;\nEND\n//\nDELIMITER ;\n\n\
DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT '//'; SELECT '$$'; END\n;;\nDELIMITER ;\n\n\
DELIMITER ////\nCREATE PROCEDURE q() BEGIN SELECT '// $$ ;; ///'; END\n////\nDELIMITER ;\n\n\
INSERT INTO t (x) /* one; two */ VALUES (2);\n\n\
INSERT INTO alembic_version (version_num) VALUES ('a1');\n\n"
        );
    }

    #[test]
    fn other_clients_read_bodies_whole() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let text = script(dialect);
            assert!(!text.contains("DELIMITER"), "{text}");
            assert!(text.contains("BEGIN\n  SET NEW.x = 1;\nEND;\n"), "{text}");
        }
    }
}
