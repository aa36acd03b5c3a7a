//! `migrate stamp REV... [--sql] [--purge]`.

use super::upgrade::print_report;
use super::version_table_ddl;
use crate::cli::StampArgs;
use crate::error::CliError;
use crate::target::Ctx;
use migrate_core::{Dialect, RevisionError, VersionChange};

/// Sets the version table to the given revisions without running migrations.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: StampArgs) -> Result<(), CliError> {
    let _ = &args.tag;
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let pending = if args.sql {
            None
        } else {
            Some(ctx.start_connect(t)?)
        };
        let m = ctx.migrator(t)?;
        ctx.check_sum(t, &m)?;
        if args.sql {
            let sql = offline(&m, &args.revisions, args.purge, t.dialect()?)?;
            ctx.printer.raw(&sql);
            continue;
        }
        let revs: Vec<&str> = args.revisions.iter().map(String::as_str).collect();
        let Some(pending) = pending else { continue };
        let db = ctx.connected(pending)?;
        let result = ctx.block_on(m.stamp(&db, &revs, args.purge))?;
        ctx.block_on(db.close())?;
        print_report(ctx, &result?, false);
    }
    Ok(())
}

/// Alembic's `stamp --sql`: version-table statements only (`from:to` allowed).
fn offline(
    m: &migrate_runtime::Migrator,
    revisions: &[String],
    purge: bool,
    dialect: Dialect,
) -> Result<String, CliError> {
    let map = &m.directory().map;
    let (from, targets): (Option<&str>, Vec<&str>) = match revisions {
        [one] if one.contains(':') => {
            let (f, to) = one.split_once(':').unwrap_or(("", one));
            if to.is_empty() {
                return Err(RevisionError::BadRange(one.clone()).into());
            }
            (Some(f).filter(|f| !f.is_empty() && *f != "base"), vec![to])
        }
        many => (None, many.iter().map(String::as_str).collect()),
    };
    let current: Vec<String> = match from {
        Some(f) => map.resolve(f)?.iter().map(|s| s.to_string()).collect(),
        None => Vec::new(),
    };
    let plan = map.stamp_plan(&current, &targets, purge)?;
    let o = m.options();
    let vt = match &o.version_table_schema {
        Some(s) => format!("{s}.{}", o.version_table),
        None => o.version_table.clone(),
    };
    let tx = dialect != Dialect::Mysql;
    let mut out = String::new();
    if tx {
        out.push_str("BEGIN;\n\n");
    }
    if from.is_none() {
        out.push_str(&version_table_ddl(m));
    }
    for step in &plan.steps {
        for c in &step.changes {
            let sql = match c {
                VersionChange::Insert(v) => {
                    format!("INSERT INTO {vt} (version_num) VALUES ('{v}')")
                }
                VersionChange::Delete(v) => {
                    format!("DELETE FROM {vt} WHERE {vt}.version_num = '{v}'")
                }
                VersionChange::Update { from, to } => {
                    format!("UPDATE {vt} SET version_num='{to}' WHERE {vt}.version_num = '{from}'")
                }
            };
            out.push_str(&sql);
            out.push_str(";\n\n");
        }
    }
    if tx {
        out.push_str("COMMIT;\n\n");
    }
    Ok(out)
}
