//! `migrate branches [-v]`.

use crate::cli::VerboseArgs;
use crate::error::CliError;
use crate::printer::{Formatter, Include};
use crate::target::Ctx;

/// Lists branch points and the revisions they branch into, as Alembic's `branches`.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: VerboseArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let m = ctx.migrator_without_sql(t)?;
        let dir = m.directory();
        let f = Formatter {
            dir,
            location: t.location(),
            current: &[],
        };
        for id in dir.map.history(None)? {
            let Some(rev) = dir.map.get(id) else { continue };
            if !rev.is_branch_point() {
                continue;
            }
            let head = if args.verbose {
                f.entry(id, false)
            } else {
                f.line(
                    id,
                    Include {
                        branches: true,
                        tree: true,
                        ..Default::default()
                    },
                )
            };
            let pad = " ".repeat(id.len());
            let children: Vec<String> = rev
                .children()
                .iter()
                .map(|c| {
                    let inc = Include {
                        branches: true,
                        doc: args.verbose,
                        tree: true,
                        ..Default::default()
                    };
                    format!("{pad} -> {}", f.line(c, inc))
                })
                .collect();
            ctx.printer
                .line(format!("{head}\n{}\n", children.join("\n")));
        }
    }
    Ok(())
}
