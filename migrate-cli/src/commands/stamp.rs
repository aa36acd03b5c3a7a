//! `migrate stamp REV... [--sql] [--purge]`.

use super::upgrade::{print_offline, run_shown};
use crate::cli::StampArgs;
use crate::error::CliError;
use crate::target::Ctx;

/// Sets the version table to the given revisions without running migrations.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: StampArgs) -> Result<(), CliError> {
    let _ = &args.tag;
    if args.sql && args.purge {
        return Err(CliError::Usage(
            "--purge cannot be used with --sql: an offline script cannot know which rows the version table holds".to_string(),
        ));
    }
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let revs: Vec<&str> = args.revisions.iter().map(String::as_str).collect();
        let (m, db) = ctx.load_for_change(t, args.sql)?;
        let Some(db) = db else {
            let dialect = t.dialect()?;
            print_offline(ctx, &m, |m| m.stamp_sql(&revs, dialect))?;
            continue;
        };
        let (revs, purge, db_ref) = (&revs, args.purge, &db);
        let result = run_shown(ctx, &m, false, |m| async move {
            m.stamp(db_ref, revs, purge).await
        });
        ctx.block_on(db.close())?;
        result?;
    }
    Ok(())
}
