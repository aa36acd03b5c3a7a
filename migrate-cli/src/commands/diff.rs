//! `migrate diff [--from SOURCE] [--to SOURCE]`: the DDL that turns one schema into
//! another, as the sections of a migration file.

use crate::cli::DiffArgs;
use crate::error::CliError;
use crate::schema::{guarded, SchemaSource, Sources};
use crate::target::Ctx;
use migrate_runtime::schema::model::{diff, render, RenderOptions};
use migrate_runtime::schema::SchemaError;

/// Prints the upgrade and downgrade DDL from `--from` to `--to` (by default from the
/// migrations' heads to the declared schema: what `revision --autogenerate` writes).
pub(crate) fn run(ctx: &mut Ctx<'_>, args: DiffArgs) -> Result<(), CliError> {
    let from = SchemaSource::parse(&args.from)?;
    let to = SchemaSource::parse(&args.to)?;
    let t = &ctx.single_target("diff")?;
    let dialect = t.dialect()?;
    let sources = Sources::of(ctx, t, args.schema.as_ref())?;
    let (a, b) = {
        let (from, to) = (from.clone(), to.clone());
        guarded(ctx, move |scratches| async move {
            // `join!`: a failure must not cancel the other halfway through creating
            // a scratch database, which would then never be dropped.
            let (a, b) = tokio::join!(
                sources.read(&from, &scratches),
                sources.read(&to, &scratches)
            );
            Ok((a?, b?))
        })?
    };
    let changes = diff(&a, &b).map_err(SchemaError::from)?;
    if changes.is_empty() {
        ctx.printer.info(format!(
            "No differences: {} and {} have the same schema.",
            from.describe(),
            to.describe()
        ));
        return Ok(());
    }
    let rendered = render(
        &changes,
        &a,
        &b,
        dialect,
        &RenderOptions {
            allow_destructive: args.allow_destructive,
        },
    )?;
    for w in &changes.warnings {
        ctx.printer.info(format!("warning: {w}"));
    }
    for w in &rendered.warnings {
        ctx.printer.info(format!("warning: {w}"));
    }
    ctx.printer.raw(&format!(
        "-- migrate:upgrade\n{}\n-- migrate:downgrade\n{}",
        ensure_newline(&rendered.upgrade),
        ensure_newline(&rendered.downgrade)
    ));
    Ok(())
}

/// The text with one final newline.
pub(crate) fn ensure_newline(s: &str) -> String {
    let trimmed = s.trim_end();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}
