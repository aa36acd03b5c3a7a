//! `migrate heads [-v] [--resolve-dependencies]`.

use crate::cli::HeadsArgs;
use crate::error::CliError;
use crate::printer::{Formatter, Include};
use crate::target::Ctx;

/// Lists the heads of the revision graph.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: HeadsArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let m = ctx.migrator_without_sql(t)?;
        let dir = m.directory();
        let heads = if args.resolve_dependencies {
            dir.map.real_heads()
        } else {
            dir.map.heads()
        };
        let f = Formatter {
            dir,
            location: t.location(),
            current: &[],
        };
        for id in heads {
            if args.verbose {
                ctx.printer.line(f.entry(id, false));
            } else {
                ctx.printer.line(f.line(
                    id,
                    Include {
                        branches: true,
                        ..Default::default()
                    },
                ));
            }
        }
    }
    Ok(())
}
