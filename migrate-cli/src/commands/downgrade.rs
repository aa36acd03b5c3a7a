//! `migrate downgrade TARGET [--sql]`.

use super::upgrade::{print_offline, run_shown};
use crate::cli::DowngradeArgs;
use crate::error::CliError;
use crate::target::Ctx;
use migrate_core::Direction;

/// Downgrades every configured database (or the `-n` one) to the target.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: DowngradeArgs) -> Result<(), CliError> {
    let _ = &args.run.tag;
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let (m, db) = ctx.load_for_change(t, args.run.sql)?;
        let Some(db) = db else {
            let dialect = t.dialect()?;
            print_offline(ctx, &m, |m| {
                m.sql(Direction::Downgrade, &args.revision, dialect)
            })?;
            continue;
        };
        let (target, db_ref) = (args.revision.as_str(), &db);
        let result = run_shown(ctx, &m, args.run.verbose, |m| async move {
            m.downgrade(db_ref, target).await
        });
        ctx.block_on(db.close())?;
        result?;
    }
    Ok(())
}
