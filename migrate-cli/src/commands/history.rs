//! `migrate history [-r RANGE] [-v] [-i] [--format json]`.

use super::{each_section, Listing};
use crate::cli::HistoryArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::Include;
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
    each_section(ctx, args.output.is_json(), |ctx, t| {
        let m = ctx.migrator_without_sql(t)?;
        let current = if needs_db {
            ctx.current_revisions(t, &m)?
        } else {
            Vec::new()
        };
        // `current` stands for every row of the version table, so a database with several
        // heads gives a bound of several revisions (as Alembic passes a tuple).
        let bound = |p: &str, default: &str| -> Vec<String> {
            match p.trim() {
                "" => vec![default.to_string()],
                "current" if current.is_empty() => vec!["base".to_string()],
                "current" => current.clone(),
                other => vec![other.to_string()],
            }
        };
        let dir = m.directory();
        let ids = match args.rev_range.as_deref() {
            None => dir.map.history(None)?,
            Some(r) => {
                let Some((lo, hi)) = r.split_once(':') else {
                    return Err(RevisionError::BadRange(r.to_string()).into());
                };
                let (lower, upper) = (bound(lo, "base"), bound(hi, "heads"));
                let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
                let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
                let opts = migrate_core::IterateOptions {
                    inclusive: true,
                    ..Default::default()
                };
                dir.map.iterate_revisions(&upper, &lower, opts)?
            }
        };
        let include = Include {
            branches: true,
            doc: true,
            parents: true,
            tree: true,
            current: args.indicate_current,
        };
        let listing = Listing::new(dir, t.location(), &current, args.verbose, include);
        Ok(listing
            .show(&mut ctx.printer, args.output.is_json(), &ids)
            .map(|revisions| json::Revisions { revisions }))
    })
}
