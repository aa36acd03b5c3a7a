//! `migrate ensure_version [--sql]`.

use crate::cli::EnsureVersionArgs;
use crate::error::CliError;
use crate::target::Ctx;

/// Creates the version (and history) table when missing.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: EnsureVersionArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let m = ctx.migrator(t)?;
        if args.sql {
            ctx.printer.raw(&m.version_table_sql());
            continue;
        }
        let db = ctx.connect(t)?;
        let result = ctx.block_on(m.ensure_version_table(&db))?;
        ctx.block_on(db.close())?;
        result?;
        ctx.printer.info(format!(
            "Version table `{}` is present",
            m.options().version_table
        ));
    }
    Ok(())
}
