//! `migrate hash`: rewrite `migrations.sum`.

use crate::error::CliError;
use crate::target::Ctx;
use migrate_core::{scan, Checksum, SumFile, SUM_FILE};

/// Rewrites `migrations.sum` from the files as they are now (no parsing needed, so it
/// also works on a folder with a broken file).
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    ctx.need_files("hash")?;
    let targets = ctx.targets(None)?;
    for t in &targets {
        let sum = compute(t.location())?;
        let path = t.location().join(SUM_FILE);
        let text = sum.render();
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() == Some(text.as_str()) {
            ctx.printer.status(format!(
                "{} is up to date ({} migrations)",
                path.display(),
                sum.entries.len()
            ));
            continue;
        }
        std::fs::write(&path, text).map_err(|e| CliError::io("write", &path, e))?;
        ctx.printer.status(format!(
            "Wrote {} ({} migrations)",
            path.display(),
            sum.entries.len()
        ));
    }
    Ok(())
}

/// The sum file of the folder's files.
pub(crate) fn compute(dir: &std::path::Path) -> Result<SumFile, CliError> {
    let mut entries = Vec::new();
    for (rel, abs) in scan(dir)? {
        let bytes = std::fs::read(&abs).map_err(|e| CliError::io("read", &abs, e))?;
        entries.push((rel, Checksum::of(&bytes)));
    }
    Ok(SumFile::from_entries(entries))
}
