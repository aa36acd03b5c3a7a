//! `migrate history [-r RANGE] [-v] [-i]`.

use crate::cli::HistoryArgs;
use crate::error::CliError;
use crate::printer::{Formatter, Include};
use crate::target::Ctx;
use migrate_core::RevisionError;

/// Lists revisions newest first, as Alembic's `history`.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: HistoryArgs) -> Result<(), CliError> {
    if let Some(r) = &args.rev_range {
        if !r.contains(':') {
            return Err(RevisionError::BadRange(r.clone()).into());
        }
    }
    let needs_db = args.indicate_current
        || args
            .rev_range
            .as_deref()
            .is_some_and(|r| r.split(':').any(|p| p.trim() == "current"));
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let m = ctx.migrator_without_sql(t)?;
        let current = if needs_db {
            let db = ctx.connect(t)?;
            let c = ctx.block_on(m.current(&db))?;
            ctx.block_on(db.close())?;
            c?
        } else {
            Vec::new()
        };
        let range = args.rev_range.as_deref().map(|r| {
            let (lo, hi) = r.split_once(':').unwrap_or((r, ""));
            let sub = |p: &str| -> String {
                if p.trim() != "current" {
                    p.to_string()
                } else if current.is_empty() {
                    "base".to_string()
                } else {
                    current.join(",")
                }
            };
            format!("{}:{}", sub(lo), sub(hi))
        });
        let dir = m.directory();
        let ids = dir.map.history(range.as_deref())?;
        let f = Formatter {
            dir,
            location: t.location(),
            current: &current,
        };
        let inc = Include {
            branches: true,
            doc: true,
            parents: true,
            tree: true,
            current: args.indicate_current,
        };
        for id in ids {
            if args.verbose {
                ctx.printer.line(f.entry(id, args.indicate_current));
            } else {
                ctx.printer.line(f.line(id, inc));
            }
        }
    }
    Ok(())
}
