//! `migrate heads [-v] [--resolve-dependencies] [--format json]`.

use crate::cli::HeadsArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::{Formatter, Include};
use crate::target::Ctx;

/// Lists the heads of the revision graph.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: HeadsArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    let mut docs = Vec::new();
    let targets = ctx.targets(None)?;
    for t in &targets {
        if !json {
            ctx.section_header(&targets, t);
        }
        let m = ctx.migrator_without_sql(t)?;
        let dir = m.directory();
        let heads = if args.resolve_dependencies {
            dir.map.real_heads()
        } else {
            dir.map.heads()
        };
        if json {
            docs.push(json::Heads {
                section: t.section.name.clone(),
                heads: heads
                    .iter()
                    .map(|id| json::Revision::of(dir, t.location(), id, None))
                    .collect(),
            });
            continue;
        }
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
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    Ok(())
}
