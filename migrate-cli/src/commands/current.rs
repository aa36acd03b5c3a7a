//! `migrate current [-v] [--check-heads] [--format json]`.

use crate::cli::CurrentArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::{Formatter, Include};
use crate::target::Ctx;
use migrate_core::RevisionError;
use migrate_runtime::{Database, MigrateError, Migrator};

/// Prints the version-table rows of every configured database.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: CurrentArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    let mut docs = Vec::new();
    let targets = ctx.targets(None)?;
    for t in &targets {
        if !json {
            ctx.section_header(&targets, t);
        }
        let prefetch = ctx.prefetch(t, read_current)?;
        let m = ctx.migrator_without_sql(t)?;
        let (db, current) = ctx.prefetched(prefetch)?;
        ctx.block_on(db.close())?;
        let current = current?;
        if args.verbose && !json {
            ctx.printer
                .line(format!("Current revision(s) for {}:", t.masked_url()));
        }
        let dir = m.directory();
        if let Some(unknown) = current.iter().find(|c| dir.map.get(c).is_none()) {
            return Err(RevisionError::UnknownCurrent(unknown.clone()).into());
        }
        if args.check_heads {
            ctx.check_single_head(t, &m)?;
            let mut heads: Vec<String> = dir.map.heads().iter().map(|s| s.to_string()).collect();
            heads.sort();
            if heads != current {
                return Err(MigrateError::NotAtHead { current, heads }.into());
            }
        }
        let f = Formatter {
            dir,
            location: t.location(),
            current: &current,
        };
        // As `alembic current`: the rows, plus revisions applied only as another's
        // dependency.
        let listed = dir.map.all_current(&current)?;
        if json {
            docs.push(json::Current {
                section: t.section.name.clone(),
                database: t.masked_url(),
                current: listed
                    .iter()
                    .map(|id| json::Revision::of(dir, t.location(), id, None))
                    .collect(),
            });
            continue;
        }
        for id in listed {
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
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    Ok(())
}

/// The version-table rows, read while the folder loads.
pub(crate) async fn read_current(
    m: Migrator,
    db: Database,
) -> (Database, Result<Vec<String>, MigrateError>) {
    let current = m.current(&db).await;
    (db, current)
}
