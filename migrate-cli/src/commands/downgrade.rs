//! `migrate downgrade TARGET [--sql]`.

use super::upgrade::{print_offline, print_report, spinner};
use crate::cli::DowngradeArgs;
use crate::error::CliError;
use crate::target::Ctx;
use migrate_core::Direction;

/// Downgrades every configured database (or the `-n` one) to the target.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: DowngradeArgs) -> Result<(), CliError> {
    let _ = &args.tag;
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let (m, db) = ctx.load_for_change(t, args.sql)?;
        let Some(db) = db else {
            let dialect = t.dialect()?;
            print_offline(ctx, &m, |m| {
                m.sql(Direction::Downgrade, &args.revision, dialect)
            })?;
            continue;
        };
        let bar = spinner(ctx, &format!("downgrading to {}", args.revision));
        let result = ctx.block_on(m.downgrade(&db, &args.revision))?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        ctx.block_on(db.close())?;
        print_report(ctx, &result?, args.verbose);
    }
    Ok(())
}
