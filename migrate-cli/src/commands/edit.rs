//! `migrate edit REV`.

use crate::cli::EditArgs;
use crate::error::CliError;
use crate::target::Ctx;
use migrate_core::RevisionError;

/// Opens the file of a revision in `$VISUAL` / `$EDITOR`.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: EditArgs) -> Result<(), CliError> {
    let (t, m) = ctx.file_target("edit")?;
    let t = &t;
    let ids = ctx.revisions_named(t, &m, &args.rev)?;
    if ids.is_empty() {
        return Err(RevisionError::NoSuchRevision(args.rev).into());
    }
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .ok_or(CliError::NoEditor)?;
    let mut words = editor.split_whitespace();
    let program = words.next().ok_or(CliError::NoEditor)?;
    for id in &ids {
        let Some(script) = m.directory().script(id) else {
            continue;
        };
        let path = t.location().join(&*script.path);
        let status = std::process::Command::new(program)
            .args(words.clone())
            .arg(&path)
            .status()
            .map_err(|e| CliError::io("run the editor on", &path, e))?;
        if !status.success() {
            return Err(CliError::EditorFailed {
                editor: editor.clone(),
                status: status.to_string(),
            });
        }
    }
    ctx.printer
        .info("If the edit is intended, run `migrate hash` to record it in migrations.sum");
    Ok(())
}
