//! The `migrate` command line: Alembic's command set (`init`, `revision`, `upgrade`,
//! `downgrade`, `current`, `history`, `heads`, `branches`, `show`, `stamp`, `merge`,
//! `check`, ...) over plain `.sql` migrations, plus `hash`, `verify`, `rebase` and
//! `accept`.
//!
//! The same commands are available to an application over migrations embedded in its
//! binary, so `myapp migrate upgrade head` needs no separate tool:
//!
//! ```no_run
//! use migrate_runtime::EmbeddedMigrations;
//!
//! // In the application: `static MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");`
//! fn main_with(migrations: &'static EmbeddedMigrations) -> std::process::ExitCode {
//!     let mut args = std::env::args_os();
//!     let program = args.next();
//!     match args.next() {
//!         // `myapp migrate upgrade head`: the rest goes to the migrate commands.
//!         Some(a) if a == "migrate" => {
//!             migrate_cli::run_embedded(migrations, program.into_iter().chain(args))
//!         }
//!         _ => std::process::ExitCode::SUCCESS,
//!     }
//! }
//! ```

mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
mod json;
pub mod printer;
mod target;
pub mod templates;

use clap::Parser;
pub use error::CliError;
use migrate_runtime::EmbeddedMigrations;
use std::ffi::OsString;
use std::process::ExitCode;

/// Where the migrations come from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// The versions folder named by the configuration.
    Files,
    /// Migrations compiled into the running binary.
    Embedded(&'a EmbeddedMigrations),
}

/// Runs the `migrate` command line over migration files: parses `args` (the program
/// name first), runs the command, prints any error and returns the exit code (0 on
/// success, 1 for a failure, 2 for a usage error).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    entry(Source::Files, args)
}

/// Runs the same commands over migrations embedded with
/// [`embed_migrations!`](migrate_runtime::embed_migrations), for self-migrating
/// binaries. `args` starts with the program name. Commands that edit files (`revision`,
/// `merge`, `edit`, `hash`, `rebase`, `init`) report that they need the files. The URL
/// is `--database-url`, else `DATABASE_URL`, else the `-c` configuration's.
pub fn run_embedded<I, T>(migrations: &EmbeddedMigrations, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    entry(Source::Embedded(migrations), args)
}

fn entry<I, T>(source: Source<'_>, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    single_malloc_arena();
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 2,
            });
        }
    };
    let raiseerr = cli.global.raiseerr;
    match execute(source, cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let text = error::render_error(&f.error, raiseerr, f.hint.as_deref());
            // Nothing more can be done if stderr is closed.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            ExitCode::from(f.error.exit_code())
        }
    }
}

/// A short-lived command gains nothing from glibc's per-thread malloc arenas (the SQLite
/// worker thread would set up its own, page by page); one arena saves about a third of
/// the CPU time of `migrate current` on a thousand migrations.
fn single_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before this process
    // starts any thread of ours.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// A failed command: the error and, when there is one, a hint (e.g. the revisions an
/// unknown identifier may have meant).
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: CliError,
    /// What the user may have meant.
    pub hint: Option<String>,
}

/// Runs a parsed command line; prints nothing on failure (the caller does).
///
/// # Errors
/// Whatever the command fails with.
pub fn execute(source: Source<'_>, cli: cli::Cli) -> Result<(), Box<Failure>> {
    let mut ctx = target::Ctx::new(source, cli.global)
        .map_err(|error| Box::new(Failure { error, hint: None }))?;
    ctx.changes_database = match &cli.command {
        cli::Command::Upgrade(a) => !a.sql,
        cli::Command::Downgrade(a) => !a.sql,
        cli::Command::Stamp(a) => !a.sql,
        cli::Command::EnsureVersion(a) => !a.sql,
        cli::Command::Accept(_) => true,
        _ => false,
    };
    let result = commands::dispatch(&mut ctx, cli.command);
    let result = result.map_err(|error| {
        let hint = ctx.hint_for(&error);
        Box::new(Failure { error, hint })
    });
    ctx.finish();
    result
}
