//! `migrate pending [TARGET] [--format json]`: the steps `upgrade TARGET` would run,
//! without running them.

use super::current::known_rows;
use super::each_section;
use crate::cli::PendingArgs;
use crate::error::CliError;
use crate::json;
use crate::target::Ctx;

/// Lists, for every configured database, the upgrade steps from its version-table rows
/// to the target (`head` by default): exactly the plan `upgrade` would run, so neither
/// the current revision nor anything already applied. Nothing is listed at the target.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: PendingArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    each_section(ctx, json, |ctx, t| {
        let (m, current) = known_rows(ctx, t)?;
        let dir = m.directory();
        let plan = dir.map.upgrade_plan(&current, &args.revision)?;
        if json {
            return Ok(Some(json::Pending {
                database: t.masked_url(),
                current,
                target: args.revision.clone(),
                steps: plan
                    .steps
                    .iter()
                    .filter_map(|s| json::PendingStep::of(dir, t.location(), s))
                    .collect(),
            }));
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
        Ok(None)
    })
}
