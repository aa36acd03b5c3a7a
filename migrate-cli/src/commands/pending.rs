//! `migrate pending [TARGET] [--format json]`: the steps `upgrade TARGET` would run,
//! without running them.

use crate::cli::PendingArgs;
use crate::error::CliError;
use crate::json;
use crate::target::Ctx;
use migrate_core::RevisionError;

/// Lists, for every configured database, the upgrade steps from its version-table rows
/// to the target (`head` by default): exactly the plan `upgrade` would run, so neither
/// the current revision nor anything already applied. Nothing is listed at the target.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: PendingArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    let mut docs = Vec::new();
    let targets = ctx.targets(None)?;
    for t in &targets {
        if !json {
            ctx.section_header(&targets, t);
        }
        let prefetch = ctx.prefetch(t, super::current::read_current)?;
        let m = ctx.migrator_without_sql(t)?;
        let (db, current) = ctx.prefetched(prefetch)?;
        ctx.block_on(db.close())?;
        let current = current?;
        let dir = m.directory();
        if let Some(unknown) = current.iter().find(|c| dir.map.get(c).is_none()) {
            return Err(RevisionError::UnknownCurrent(unknown.clone()).into());
        }
        let plan = dir.map.upgrade_plan(&current, &args.revision)?;
        if json {
            docs.push(json::Pending {
                section: t.section.name.clone(),
                database: t.masked_url(),
                current,
                target: args.revision.clone(),
                steps: plan
                    .steps
                    .iter()
                    .filter_map(|s| json::PendingStep::of(dir, t.location(), s))
                    .collect(),
            });
            continue;
        }
        if plan.steps.is_empty() {
            ctx.printer.info("no migrations pending");
        }
        // Alembic's `Running ...` lines, without `Running`.
        for step in &plan.steps {
            let message = step
                .revision
                .as_deref()
                .and_then(|r| dir.script(r))
                .map_or("", |s| &*s.message);
            if message.is_empty() {
                ctx.printer.line(step.to_string());
            } else {
                ctx.printer.line(format!("{step}, {message}"));
            }
        }
    }
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    Ok(())
}
