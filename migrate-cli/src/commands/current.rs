//! `migrate current [-v] [--check-heads]`.

use crate::cli::CurrentArgs;
use crate::error::CliError;
use crate::printer::{Formatter, Include};
use crate::target::Ctx;
use migrate_core::RevisionError;

/// Prints the version-table rows of every configured database.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: CurrentArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let pending = ctx.start_connect(t)?;
        let m = ctx.migrator_without_sql(t)?;
        let db = ctx.connected(pending)?;
        let current = ctx.block_on(m.current(&db))?;
        ctx.block_on(db.close())?;
        let current = current?;
        if args.verbose {
            ctx.printer
                .line(format!("Current revision(s) for {}:", t.masked_url()));
        }
        let dir = m.directory();
        if let Some(unknown) = current.iter().find(|c| dir.map.get(c).is_none()) {
            return Err(RevisionError::UnknownCurrent(unknown.clone()).into());
        }
        if args.check_heads {
            let mut heads: Vec<String> = dir.map.heads().iter().map(|s| s.to_string()).collect();
            heads.sort();
            if heads != current {
                return Err(CliError::NotAtHeads { current, heads });
            }
        }
        let f = Formatter {
            dir,
            location: t.location(),
            current: &current,
        };
        for id in &current {
            if args.verbose {
                ctx.printer.line(f.entry(id, false));
            } else {
                ctx.printer.line(f.line(
                    id,
                    Include {
                        tree: true,
                        ..Default::default()
                    },
                ));
            }
        }
    }
    Ok(())
}
