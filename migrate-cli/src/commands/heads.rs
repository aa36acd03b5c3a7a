//! `migrate heads [-v] [--resolve-dependencies] [--format json]`.

use super::{each_section, Listing};
use crate::cli::HeadsArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::Include;
use crate::target::Ctx;

/// Lists the heads of the revision graph.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: HeadsArgs) -> Result<(), CliError> {
    each_section(ctx, args.output.is_json(), |ctx, t| {
        let m = ctx.migrator_without_sql(t)?;
        let dir = m.directory();
        let heads = if args.resolve_dependencies {
            dir.map.real_heads()
        } else {
            dir.map.heads()
        };
        let branches = Include {
            branches: true,
            ..Default::default()
        };
        let listing = Listing::new(dir, t.location(), &[], args.verbose, branches);
        Ok(listing
            .show(&mut ctx.printer, args.output.is_json(), &heads)
            .map(|heads| json::Heads { heads }))
    })
}
