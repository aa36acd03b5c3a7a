//! `migrate check`.

use crate::error::CliError;
use crate::target::Ctx;

/// Fails unless the folder is valid, `migrations.sum` matches, the database is at every
/// head and no applied migration was edited.
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let prefetch = ctx.prefetch(t, super::upgrade::read_state)?;
        let m = ctx.migrator_without_sql(t)?;
        ctx.check_sum(t, &m)?;
        let (db, state) = ctx.prefetched(prefetch)?;
        ctx.block_on(db.close())?;
        let report = m.check_state(&state?)?;
        let at = if report.current.is_empty() {
            "<base>".to_string()
        } else {
            report.current.join(", ")
        };
        ctx.printer.line(format!(
            "Database is up to date at {at}; no migrations pending."
        ));
    }
    Ok(())
}
