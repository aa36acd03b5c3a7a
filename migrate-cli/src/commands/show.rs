//! `migrate show REV [--format json]`.

use super::{each_section, Listing};
use crate::cli::ShowArgs;
use crate::error::CliError;
use crate::json;
use crate::printer::Include;
use crate::target::Ctx;

/// Prints the `-v` block of each revision the identifier denotes (`current`: the
/// database's).
pub(crate) fn run(ctx: &mut Ctx<'_>, args: ShowArgs) -> Result<(), CliError> {
    each_section(ctx, args.output.is_json(), |ctx, t| {
        let m = ctx.migrator_without_sql(t)?;
        let ids = ctx.revisions_named(t, &m, &args.rev)?;
        let listing = Listing::new(m.directory(), t.location(), &[], true, Include::default());
        Ok(listing
            .show(&mut ctx.printer, args.output.is_json(), &ids)
            .map(|revisions| json::Revisions { revisions }))
    })
}
