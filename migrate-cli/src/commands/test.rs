//! `migrate test`: the stairway test on a scratch database (on the dev database's server
//! when one is named, else the target's).

use crate::cli::TestArgs;
use crate::error::CliError;
use crate::schema::{guarded, Sources};
use crate::target::Ctx;
use migrate_runtime::testing;

/// For every revision in upgrade order: upgrade to it, take it back down and require
/// the schema from before, upgrade again and require the same schema; at the heads,
/// require the declared schema when there is one. Reports the first revision whose
/// downgrade leaves a trace.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: TestArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let sources = Sources::of(ctx, t, args.schema.as_ref())?;
        let quiet = ctx.printer.quiet();
        let report = guarded(ctx, move |scratches| async move {
            let db = sources.scratch(&scratches).await?;
            let declared_db = match &sources.declared {
                Some(_) => Some(sources.scratch(&scratches).await?),
                None => None,
            };
            let declared = sources
                .declared
                .as_deref()
                .zip(declared_db.as_ref().map(|s| s.database()));
            if !quiet {
                eprintln!(
                    "Testing {} revisions up, down and up on a scratch database{}",
                    sources.migrator.directory().scripts.len(),
                    if declared.is_some() {
                        ", then the heads against the declared schema"
                    } else {
                        ""
                    }
                );
            }
            Ok(testing::stairway_in(&sources.migrator, db.database(), declared).await?)
        })?;
        if !report.is_ok() {
            return Err(CliError::Stairway(report.to_string()));
        }
        ctx.printer.line(report.to_string());
    }
    Ok(())
}
