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
        let ids: Vec<String> = if args.rev == "current" {
            let db = ctx.connect(t)?;
            let c = ctx.block_on(m.current(&db))?;
            ctx.block_on(db.close())?;
            c?
        } else {
            m.directory()
                .map
                .resolve(&args.rev)?
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
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
