//! `migrate accept [REV...]`: accept intended edits of applied migrations.

use crate::cli::AcceptArgs;
use crate::error::CliError;
use crate::target::Ctx;

/// Records the current checksums of edited, applied migrations as accepted.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: AcceptArgs) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let m = ctx.migrator(t)?;
        let mut ids: Vec<String> = Vec::new();
        for r in &args.revisions {
            ids.extend(m.directory().map.resolve(r)?.iter().map(|s| s.to_string()));
        }
        let only: Vec<&str> = ids.iter().map(String::as_str).collect();
        let db = ctx.connect(t)?;
        let result = ctx.block_on(
            m.accept_checksums(&db, (!args.revisions.is_empty()).then_some(only.as_slice())),
        )?;
        ctx.block_on(db.close())?;
        let accepted = result?;
        if accepted.is_empty() {
            ctx.printer.status("No edited migrations to accept.");
        }
        for rev in accepted {
            let path = m
                .directory()
                .script(&rev)
                .map(|s| s.path.clone())
                .unwrap_or_default();
            ctx.printer
                .status(format!("Accepted the new checksum of {rev} ({path})"));
        }
    }
    Ok(())
}
