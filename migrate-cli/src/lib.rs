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
//!     let mut args = std::env::args_os().skip(1);
//!     match args.next() {
//!         // `myapp migrate upgrade head`: the rest goes to the migrate commands, under
//!         // the name the user typed, with the application's own default database.
//!         Some(a) if a == "migrate" => migrate_cli::Embedded::new(migrations)
//!             .default_database_url("sqlite://myapp.db")
//!             .run("myapp migrate", args),
//!         _ => std::process::ExitCode::SUCCESS,
//!     }
//! }
//! ```

mod cache;
mod cli;
mod commands;
mod config;
mod error;
mod json;
mod printer;
mod schema;
mod target;
mod templates;

pub use error::exit;
use error::CliError;
use migrate_runtime::EmbeddedMigrations;
use std::ffi::OsString;
use std::process::ExitCode;

/// Where the migrations come from.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The versions folder named by the configuration.
    Files,
    /// Migrations compiled into the running binary.
    Embedded(&'a EmbeddedMigrations),
}

/// Runs the `migrate` command line over migration files: parses `args` (the program
/// name first), runs the command, prints any error and returns the exit code (see
/// [`exit`]).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    entry(Source::Files, None, args, false)
}

/// The `migrate` binary's entry: [`run`], plus what only a process that exits right
/// after may do (one malloc arena; the loaded migrations left to the operating system
/// instead of freed one by one). Not for applications.
#[doc(hidden)]
pub fn run_binary<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    single_malloc_arena();
    entry(Source::Files, None, args, true)
}

/// Runs the same commands over migrations embedded with
/// [`embed_migrations!`](migrate_runtime::embed_migrations), for self-migrating
/// binaries. `args` starts with the program name. Equivalent to
/// `Embedded::new(migrations).run(program, rest)`; see [`Embedded`].
pub fn run_embedded<I, T>(migrations: &EmbeddedMigrations, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    entry(Source::Embedded(migrations), None, args, false)
}

/// The `migrate` commands inside an application, over its embedded migrations
/// (`myapp migrate upgrade head`). Only the commands that work without the migration
/// files are listed in `--help` (`init`, `revision`, `merge`, `edit`, `hash` and
/// `rebase` need the files and say so if called). The URL is `--database-url`, else
/// `DATABASE_URL`, else the `-c` configuration's, else the application's default.
#[derive(Debug, Clone)]
pub struct Embedded<'a> {
    migrations: &'a EmbeddedMigrations,
    default_url: Option<String>,
}

impl<'a> Embedded<'a> {
    /// The commands over `migrations`.
    pub fn new(migrations: &'a EmbeddedMigrations) -> Embedded<'a> {
        Embedded {
            migrations,
            default_url: None,
        }
    }

    /// The database the commands use when nothing else names one: the application's
    /// own default, so that `myapp migrate current` looks at the database the
    /// application itself uses.
    pub fn default_database_url(mut self, url: impl Into<String>) -> Embedded<'a> {
        self.default_url = Some(url.into());
        self
    }

    /// Parses `args` (without the program name) as the commands of `program` (the
    /// words the user typed, e.g. `"myapp migrate"`, shown in usage lines), runs the
    /// command, prints any error and returns the exit code.
    pub fn run<I, T>(&self, program: &str, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = std::iter::once(OsString::from(program)).chain(args.into_iter().map(Into::into));
        entry(
            Source::Embedded(self.migrations),
            self.default_url.as_deref(),
            args,
            false,
        )
    }
}

/// Commands that need the migration files, hidden from an embedded binary's help.
const FILE_COMMANDS: &[&str] = &[
    "init",
    "list_templates",
    "revision",
    "merge",
    "edit",
    "hash",
    "rebase",
];

fn entry<I, T>(source: Source<'_>, default_url: Option<&str>, args: I, exiting: bool) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = <cli::Cli as clap::CommandFactory>::command();
    if let Source::Embedded(_) = source {
        // The program name is the words the user typed (`myapp migrate`), not a path.
        if let Some(name) = args.first().and_then(|a| a.to_str()) {
            command = command.bin_name(name.to_string());
        }
        for name in FILE_COMMANDS {
            command = command.mut_subcommand(name, |c| c.hide(true));
        }
    }
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|m| <cli::Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(error::exit::of_usage(&e));
        }
    };
    let raiseerr = cli.global.raiseerr;
    match execute_with(source, default_url, cli, exiting) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let text = error::render_error(&f.error, raiseerr, f.hint.as_deref());
            // Nothing more can be done if stderr is closed.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            ExitCode::from(error::exit::of(&f.error))
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
struct Failure {
    error: CliError,
    hint: Option<String>,
}

/// Runs a parsed command line; prints nothing on failure (the caller does).
fn execute_with(
    source: Source<'_>,
    default_url: Option<&str>,
    cli: cli::Cli,
    exiting: bool,
) -> Result<(), Box<Failure>> {
    let mut ctx = target::Ctx::new(source, cli.global)
        .map_err(|error| Box::new(Failure { error, hint: None }))?;
    ctx.default_url = default_url.map(str::to_string);
    ctx.changes_database = match &cli.command {
        cli::Command::Upgrade(a) => !a.run.sql,
        cli::Command::Downgrade(a) => !a.run.sql,
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
    ctx.finish(exiting);
    result
}
