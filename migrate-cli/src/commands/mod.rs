//! One file per command. Each returns a result; errors are printed by the entry point.

use crate::cli::Command;
use crate::error::CliError;
use crate::target::Ctx;

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
    }
}
