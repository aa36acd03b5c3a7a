//! `migrate list_templates`.

use crate::error::CliError;
use crate::target::Ctx;
use crate::templates;

/// Lists the templates shipped in the binary, as Alembic does.
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    ctx.printer.line("Available templates:\n");
    for t in templates::list() {
        ctx.printer.line(format!("{} - {}", t.name, t.synopsis));
    }
    ctx.printer
        .line("\nTemplates are used via the 'init' command, e.g.:");
    ctx.printer
        .line("\n  migrate init --template generic ./migrations");
    Ok(())
}
