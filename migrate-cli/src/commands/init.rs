//! `migrate init DIR [-t TEMPLATE]`.

use crate::cli::InitArgs;
use crate::config::config_dir;
use crate::error::CliError;
use crate::target::Ctx;
use crate::templates;
use std::path::{Path, PathBuf};

/// Writes the versions folder (with an empty `migrations.sum` and the revision
/// template) and `migrate.toml`.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: InitArgs) -> Result<(), CliError> {
    ctx.standalone_only("init")?;
    let files = templates::files(&args.template)?;
    let dir = &args.directory;
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| CliError::io("read", dir, e))?
            .next()
            .is_none();
        if !empty {
            return Err(CliError::DirectoryNotEmpty(dir.clone()));
        }
    } else {
        ctx.printer
            .status(format!("Creating directory {} ...  done", dir.display()));
        std::fs::create_dir_all(dir).map_err(|e| CliError::io("create", dir, e))?;
    }
    let config_path = ctx.config_path();
    let cdir = config_dir(&config_path);
    let dir_text = if cdir.as_os_str().is_empty() || dir.is_absolute() {
        slashes(dir)
    } else {
        let cwd = std::env::current_dir().map_err(|e| CliError::io("read", ".", e))?;
        slashes(&cwd.join(dir))
    };
    let dbdir = if cdir.as_os_str().is_empty() {
        String::new()
    } else {
        format!("{}/", slashes(&cdir))
    };
    let fill = |t: &str| t.replace("{{dir}}", &dir_text).replace("{{dbdir}}", &dbdir);
    let mut snippet = None;
    for (rel, text) in files {
        let target: PathBuf = if rel == "migrate.toml" {
            if config_path.exists() {
                ctx.printer.status(format!(
                    "File {} already exists, skipping",
                    config_path.display()
                ));
                continue;
            }
            config_path.clone()
        } else {
            dir.join(&rel)
        };
        if let Some(parent) = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty() && !p.exists())
        {
            ctx.printer
                .status(format!("Creating directory {} ...  done", parent.display()));
            std::fs::create_dir_all(parent).map_err(|e| CliError::io("create", parent, e))?;
        }
        let body = fill(text);
        if rel == "README" {
            snippet = body
                .split_once("    fn main() {")
                .map(|(_, s)| format!("    fn main() {{{s}"));
        }
        std::fs::write(&target, body).map_err(|e| CliError::io("write", &target, e))?;
        ctx.printer
            .status(format!("Generating {} ...  done", target.display()));
    }
    ctx.printer.status(format!(
        "Please edit the settings in {} before proceeding.",
        config_path.display()
    ));
    if let Some(s) = snippet {
        ctx.printer.status(format!(
            "To embed the migrations with `embed_migrations!`, add migrate-runtime to [build-dependencies] and this build.rs:\n\n{}",
            s.trim_end()
        ));
    }
    Ok(())
}

fn slashes(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}
