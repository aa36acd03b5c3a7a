//! Offline scripts: a plan written out as SQL for someone else to run (Alembic's
//! `--sql`). Pure text: the runtime resolves each step's section and hands it here.

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
            out.push_str(stmt);
            out.push_str(";\n\n");
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
