//! `migrate hash`: rewrite `migrations.sum`.

use crate::error::CliError;
use crate::target::Ctx;
use migrate_core::directory::read_regular_file;
use migrate_core::{read_sum_file, scan, Checksum, LoadError, SumFile, SUM_FILE};

/// Rewrites `migrations.sum` from the files as they are now (no parsing needed, so it
/// also works on a folder with a broken file).
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    ctx.need_files("hash")?;
    let targets = ctx.targets(None)?;
    for t in &targets {
        let sum = compute(t.location())?;
        let path = t.location().join(SUM_FILE);
        let text = sum.render();
        // A `migrations.sum` that is not a regular file is refused before it is opened
        // (a named pipe would block both the read and the write); an unreadable one is
        // rewritten.
        let old = match read_sum_file(t.location()) {
            Err(e @ LoadError::NotAFile { .. }) => return Err(e.into()),
            other => other.ok().flatten(),
        };
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
        ctx.files_changed();
    }
    Ok(())
}

/// The sum file of the folder's files.
pub(crate) fn compute(dir: &std::path::Path) -> Result<SumFile, CliError> {
    let mut entries = Vec::new();
    for (rel, abs) in scan(dir)? {
        let bytes = read_regular_file(&abs).map_err(|e| match e {
            LoadError::Io { source, .. } => CliError::io("read", &abs, source),
            other => other.into(),
        })?;
        entries.push((rel, Checksum::of(&bytes)));
    }
    Ok(SumFile::from_entries(entries))
}
