//! `migrate check`.

use crate::error::CliError;
use crate::target::Ctx;

/// Fails unless the folder is valid, `migrations.sum` matches, the database is at every
/// head and no applied migration was edited.
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let pending = ctx.start_connect(t)?;
        let m = ctx.migrator_without_sql(t)?;
        ctx.check_sum(t, &m)?;
        let db = ctx.connected(pending)?;
        let result = ctx.block_on(m.check(&db))?;
        ctx.block_on(db.close())?;
        let report = result?;
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
