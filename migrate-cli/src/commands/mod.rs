//! One file per command. Each returns a result; errors are printed by the entry point.

use crate::cli::Command;
use crate::error::CliError;
use crate::json;
use crate::printer::{Formatter, Include, Printer};
use crate::target::{Ctx, Target};
use migrate_core::ScriptDirectory;
use serde::Serialize;
use std::path::Path;

pub mod accept;
pub mod branches;
pub mod check;
pub mod current;
pub mod diff;
pub mod downgrade;
pub mod edit;
pub mod ensure_version;
pub mod hash;
pub mod heads;
pub mod history;
pub mod init;
pub mod list_templates;
pub mod merge;
pub mod pending;
pub mod rebase;
pub mod revision;
pub mod schema_dump;
pub mod show;
pub mod stamp;
pub mod test;
pub mod upgrade;
pub mod verify;

/// Runs one command.
pub(crate) fn dispatch(ctx: &mut Ctx<'_>, command: Command) -> Result<(), CliError> {
    match command {
        Command::Init(a) => init::run(ctx, a),
        Command::ListTemplates => list_templates::run(ctx),
        Command::Revision(a) => revision::run(ctx, a),
        Command::Merge(a) => merge::run(ctx, a),
        Command::Upgrade(a) => upgrade::run(ctx, a),
        Command::Downgrade(a) => downgrade::run(ctx, a),
        Command::Current(a) => current::run(ctx, a),
        Command::History(a) => history::run(ctx, a),
        Command::Heads(a) => heads::run(ctx, a),
        Command::Branches(a) => branches::run(ctx, a),
        Command::Show(a) => show::run(ctx, a),
        Command::Stamp(a) => stamp::run(ctx, a),
        Command::Check(a) => check::run(ctx, a),
        Command::EnsureVersion(a) => ensure_version::run(ctx, a),
        Command::Edit(a) => edit::run(ctx, a),
        Command::Hash => hash::run(ctx),
        Command::Verify(a) => verify::run(ctx, a),
        Command::Rebase(a) => rebase::run(ctx, a),
        Command::Accept(a) => accept::run(ctx, a),
        Command::Pending(a) => pending::run(ctx, a),
        Command::Diff(a) => diff::run(ctx, a),
        Command::Test(a) => test::run(ctx, a),
        Command::Schema(crate::cli::SchemaCommand::Dump(a)) => schema_dump::run(ctx, a),
    }
}

/// Runs `each` on every section in play, in configuration order. In text mode `each`
/// prints its section's lines (under a `[name]` line when several sections are in play)
/// and returns `None`; in JSON mode it returns its section's object, and the run prints
/// one document: that object, or an array of them, each named by its `section`.
pub(crate) fn each_section<T: Serialize>(
    ctx: &mut Ctx<'_>,
    json: bool,
    mut each: impl FnMut(&mut Ctx<'_>, &Target) -> Result<Option<T>, CliError>,
) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    let mut docs = Vec::new();
    for t in &targets {
        if !json {
            ctx.section_header(&targets, t);
        }
        if let Some(body) = each(ctx, t)? {
            docs.push(json::Doc {
                section: t.section.name.clone(),
                body,
            });
        }
    }
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    Ok(())
}

/// Revisions listed as `current`, `heads`, `history` and `show` list them.
pub(crate) struct Listing<'a> {
    /// The revisions' folder and the database's rows.
    pub revisions: Formatter<'a>,
    /// `-v`: Alembic's blocks instead of its lines.
    pub verbose: bool,
    /// What a line shows; `current` also marks the rows in blocks and JSON.
    pub include: Include,
}

impl<'a> Listing<'a> {
    /// The revisions of `dir`, whose files are shown under `location`, with the
    /// database's rows `current`.
    pub fn new(
        dir: &'a ScriptDirectory,
        location: &'a Path,
        current: &'a [String],
        verbose: bool,
        include: Include,
    ) -> Listing<'a> {
        Listing {
            revisions: Formatter {
                dir,
                location,
                current,
            },
            verbose,
            include,
        }
    }

    /// Prints `ids` and returns `None`, or in JSON mode returns their objects.
    pub fn show<S: AsRef<str>>(
        &self,
        printer: &mut Printer,
        json: bool,
        ids: &[S],
    ) -> Option<Vec<json::Revision>> {
        let f = &self.revisions;
        if json {
            let marks = self.include.current.then_some(f.current);
            return Some(
                ids.iter()
                    .map(|id| json::Revision::of(f.dir, f.location, id.as_ref(), marks))
                    .collect(),
            );
        }
        for id in ids {
            printer.line(if self.verbose {
                f.entry(id.as_ref(), self.include.current)
            } else {
                f.line(id.as_ref(), self.include)
            });
        }
        None
    }
}
