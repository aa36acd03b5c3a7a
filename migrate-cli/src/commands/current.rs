//! `migrate current [-v] [--check-heads] [--format json]`.

use super::{each_section, Listing};
use crate::cli::CurrentArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::Include;
use crate::target::{Ctx, Target};
use migrate_core::RevisionError;
use migrate_runtime::{Database, MigrateError, Migrator};

/// Prints the version-table rows of every configured database.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: CurrentArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    each_section(ctx, json, |ctx, t| {
        let (m, current) = known_rows(ctx, t)?;
        if args.verbose && !json {
            ctx.printer
                .line(format!("Current revision(s) for {}:", t.masked_url()));
        }
        let dir = m.directory();
        if args.check_heads {
            ctx.check_single_head(t, &m)?;
            let mut heads: Vec<String> = dir.map.heads().iter().map(|s| s.to_string()).collect();
            heads.sort();
            if heads != current {
                return Err(MigrateError::NotAtHead { current, heads }.into());
            }
        }
        let listing = Listing::new(
            dir,
            t.location(),
            &current,
            args.verbose,
            Include {
                tree: true,
                ..Default::default()
            },
        );
        // As `alembic current`: the rows, plus revisions applied only as another's
        // dependency.
        let listed = dir.map.all_current(&current)?;
        Ok(listing
            .show(&mut ctx.printer, json, &listed)
            .map(|revisions| json::Current {
                database: t.masked_url(),
                current: revisions,
            }))
    })
}

/// The migrations of a target and its database's version-table rows, read while they
/// load; a row the migrations do not have is an error.
pub(crate) fn known_rows(
    ctx: &mut Ctx<'_>,
    t: &Target,
) -> Result<(Migrator, Vec<String>), CliError> {
    let prefetch = ctx.prefetch(t, read_current)?;
    let m = ctx.migrator_without_sql(t)?;
    let (db, current) = ctx.prefetched(prefetch)?;
    ctx.block_on(db.close())?;
    let current = current?;
    if let Some(unknown) = current.iter().find(|c| m.directory().map.get(c).is_none()) {
        return Err(RevisionError::UnknownCurrent(unknown.clone()).into());
    }
    Ok((m, current))
}

/// The version-table rows, read while the folder loads.
pub(crate) async fn read_current(
    m: Migrator,
    db: Database,
) -> (Database, Result<Vec<String>, MigrateError>) {
    let current = m.current(&db).await;
    (db, current)
}
