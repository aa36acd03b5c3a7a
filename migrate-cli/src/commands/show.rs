//! `migrate show REV`.

use crate::cli::ShowArgs;
use crate::error::CliError;
use crate::printer::Formatter;
use crate::target::Ctx;

/// Prints the `-v` block of each revision the identifier denotes (`current`: the
/// database's).
pub(crate) fn run(ctx: &mut Ctx<'_>, args: ShowArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let m = ctx.migrator_without_sql(t)?;
        let ids = ctx.revisions_named(t, &m, &args.rev)?;
        let f = Formatter {
            dir: m.directory(),
            location: t.location(),
            current: &[],
        };
        for id in &ids {
            ctx.printer.line(f.entry(id, false));
        }
    }
    Ok(())
}
