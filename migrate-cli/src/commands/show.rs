//! `migrate show REV [--format json]`.

use crate::cli::ShowArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::Formatter;
use crate::target::Ctx;

/// Prints the `-v` block of each revision the identifier denotes (`current`: the
/// database's).
pub(crate) fn run(ctx: &mut Ctx<'_>, args: ShowArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    let mut docs = Vec::new();
    let targets = ctx.targets(None)?;
    for t in &targets {
        if !json {
            ctx.section_header(&targets, t);
        }
        let m = ctx.migrator_without_sql(t)?;
        let ids = ctx.revisions_named(t, &m, &args.rev)?;
        if json {
            docs.push(json::Revisions {
                section: t.section.name.clone(),
                revisions: ids
                    .iter()
                    .map(|id| json::Revision::of(m.directory(), t.location(), id, None))
                    .collect(),
            });
            continue;
        }
        let f = Formatter {
            dir: m.directory(),
            location: t.location(),
            current: &[],
        };
        for id in &ids {
            ctx.printer.line(f.entry(id, false));
        }
    }
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    Ok(())
}
