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
//!             .about("myapp's database migrations")
//!             .run("myapp migrate", args),
//!         _ => std::process::ExitCode::SUCCESS,
//!     }
//! }
//! ```
//!
//! Run in the project's source tree (where `migrate.toml` names the versions folder),
//! the application also writes revisions, `revision --autogenerate` included, replaying
//! its Rust migrations with their embedded code: `cargo run -- migrate revision
//! --autogenerate -m "..."`. See [`Embedded`].

mod cache;
mod cli;
mod commands;
mod config;
mod error;
mod json;
mod model_cache;
mod printer;
mod progress;
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
    let mut args = args.into_iter().map(Into::into);
    let program = args
        .next()
        .and_then(|p| p.to_str().map(str::to_string))
        .unwrap_or_else(|| "myapp".to_string());
    Embedded::new(migrations).run(&program, args)
}

/// The `migrate` commands inside an application, over its embedded migrations
/// (`myapp migrate upgrade head`).
///
/// Configuration: `-c FILE`, else `migrate.toml` in the current folder when there is
/// one (its `version_table`, `schema_location`, sections and `url_env`, `connect_timeout`
/// and the rest apply, as for the standalone command); the migrations that run are
/// always the embedded ones, and `script_location` names the folder the file commands
/// work on. The URL is `--database-url`, else `DATABASE_URL` (or the section's
/// `url_env`), else the configuration's `database_url`, else the application's default.
///
/// Every command of the standalone `migrate` but `init` is offered. The schema commands
/// (`check` with a declared schema, `diff`, `test`, `revision --autogenerate`) replay
/// the embedded migrations, Rust ones included. The commands that write migration files
/// (`revision`, `merge`, `hash`, `edit`, `rebase`) need the project's source tree, where
/// the configuration names the versions folder: there they act on the files (the
/// binary embeds a new revision once rebuilt), and `--help` lists them; elsewhere they
/// say where to run them. Messages name the commands as the user typed them
/// (`myapp migrate upgrade head`).
#[derive(Debug, Clone)]
pub struct Embedded<'a> {
    migrations: &'a EmbeddedMigrations,
    default_url: Option<String>,
    about: Option<String>,
    version: Option<&'static str>,
}

impl<'a> Embedded<'a> {
    /// The commands over `migrations`.
    pub fn new(migrations: &'a EmbeddedMigrations) -> Embedded<'a> {
        Embedded {
            migrations,
            default_url: None,
            about: None,
            version: None,
        }
    }

    /// The database the commands use when nothing else names one: the application's
    /// own default, so that `myapp migrate current` looks at the database the
    /// application itself uses.
    pub fn default_database_url(mut self, url: impl Into<String>) -> Embedded<'a> {
        self.default_url = Some(url.into());
        self
    }

    /// The first line of `--help` (default: ``The database migrations built into
    /// `myapp` `` after the program's first word).
    pub fn about(mut self, about: impl Into<String>) -> Embedded<'a> {
        self.about = Some(about.into());
        self
    }

    /// The version `--version` prints, usually `env!("CARGO_PKG_VERSION")` (default:
    /// the version of this crate).
    pub fn version(mut self, version: &'static str) -> Embedded<'a> {
        self.version = Some(version);
        self
    }

    /// Parses `args` (without the program name) as the commands of `program` (the
    /// words the user typed, e.g. `"myapp migrate"`, shown in usage lines and hints),
    /// runs the command, prints any error and returns the exit code.
    pub fn run<I, T>(&self, program: &str, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = std::iter::once(OsString::from(program)).chain(args.into_iter().map(Into::into));
        entry(Source::Embedded(self.migrations), Some(self), args, false)
    }

    /// The command line of the application: its name, headline and version, and the
    /// file commands listed only where they work (see [`Embedded`]).
    fn command(&self, program: &str, args: &[OsString]) -> clap::Command {
        let mut command = <cli::Cli as clap::CommandFactory>::command()
            .bin_name(program.to_string())
            .display_name(program.to_string());
        let app = program.split_whitespace().next().unwrap_or(program);
        let about = self
            .about
            .clone()
            .unwrap_or_else(|| format!("The database migrations built into `{app}`"));
        command = command.about(about.clone()).long_about(about);
        if let Some(v) = self.version {
            command = command.version(v);
        }
        let in_tree = args.iter().any(|a| {
            let a = a.to_string_lossy();
            a == "-c" || a == "--config" || a.starts_with("--config=")
        }) || std::path::Path::new(config::CONFIG_FILE).is_file();
        for name in STANDALONE_COMMANDS {
            command = command.mut_subcommand(name, |c| c.hide(true));
        }
        if !in_tree {
            for name in FILE_COMMANDS {
                command = command.mut_subcommand(name, |c| c.hide(true));
            }
        }
        command
    }
}

/// Commands only the standalone `migrate` offers, hidden from an application's help.
const STANDALONE_COMMANDS: &[&str] = &["init", "list_templates"];

/// Commands that write migration files: an application lists them in its source tree.
const FILE_COMMANDS: &[&str] = &["revision", "merge", "edit", "hash", "rebase"];

/// Schema commands that replay the migrations, and so need an application's code when
/// the folder has Rust migrations.
const REPLAYING_COMMANDS: &[&str] = &["revision", "check", "diff", "test"];

fn entry<I, T>(source: Source<'_>, app: Option<&Embedded<'_>>, args: I, exiting: bool) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // The program name is the words the user typed (`myapp migrate`), not a path.
    let program = match app {
        Some(_) => args
            .first()
            .and_then(|a| a.to_str())
            .unwrap_or("migrate")
            .to_string(),
        None => "migrate".to_string(),
    };
    let command = match app {
        Some(app) => app.command(&program, &args),
        None => <cli::Cli as clap::CommandFactory>::command(),
    };
    let typed = typed_command(args.get(1..).unwrap_or_default());
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
    let default_url = app.and_then(|a| a.default_url.as_deref());
    match execute_with(source, default_url, &program, cli, exiting) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let error = match (source, app) {
                (Source::Files, None) => needs_application(f.error, &typed),
                _ => f.error,
            };
            let text = error::render_error(&error, raiseerr, f.hint.as_deref());
            let text = name_commands(&text, &program);
            // Nothing more can be done if stderr is closed.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            ExitCode::from(error::exit::of(&error))
        }
    }
}

/// The arguments as typed, quoted where a shell would need it and with any URL's
/// password masked, to be shown in a command to run instead.
fn typed_command(args: &[OsString]) -> String {
    args.iter()
        .map(|a| {
            let a = a.to_string_lossy();
            let a = if a.contains("://") {
                migrate_runtime::mask_url(&a)
            } else {
                a.into_owned()
            };
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=.,:/@+%^".contains(c));
            if plain {
                a
            } else {
                format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A schema command of the standalone tool that reached a Rust migration while
/// replaying: the error names the same command run through the application.
fn needs_application(error: CliError, typed: &str) -> CliError {
    let CliError::Migrate(migrate_runtime::MigrateError::RustWithoutCode {
        revision, path, ..
    }) = &error
    else {
        return error;
    };
    let replays = typed
        .split_whitespace()
        .find(|w| cli_subcommand(w))
        .is_some_and(|w| REPLAYING_COMMANDS.contains(&w));
    if !replays {
        return error;
    }
    CliError::NeedsApplication {
        command: typed.to_string(),
        revision: revision.clone(),
        path: path.clone(),
    }
}

/// Whether `word` names a subcommand (or an alias of one).
fn cli_subcommand(word: &str) -> bool {
    let command = <cli::Cli as clap::CommandFactory>::command();
    let found = command
        .get_subcommands()
        .any(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word));
    found
}

/// Names `program` in the commands `text` suggests: `` `migrate upgrade head` ``
/// becomes `` `myapp migrate upgrade head` ``. Only a quoted `migrate` followed by one
/// of the application's commands is replaced (`init` is the standalone tool's). The
/// commands do this for what they print; an application that prints a runtime error
/// itself (a failed upgrade at start-up) does it with this function, so that the hint
/// names the command its users have.
///
/// ```
/// let e = "database is behind the migrations; run `migrate upgrade head`";
/// assert_eq!(
///     migrate_cli::name_commands(e, "myapp migrate"),
///     "database is behind the migrations; run `myapp migrate upgrade head`"
/// );
/// ```
pub fn name_commands(text: &str, program: &str) -> String {
    if program == "migrate" || !text.contains("`migrate ") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("`migrate ") {
        let after = &rest[i + "`migrate ".len()..];
        let word: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        out.push_str(&rest[..i]);
        // `init` stays the standalone tool's: an application does not offer it.
        if cli_subcommand(&word) && !STANDALONE_COMMANDS.contains(&word.as_str()) {
            out.push('`');
            out.push_str(program);
            out.push(' ');
        } else {
            out.push_str("`migrate ");
        }
        rest = after;
    }
    out.push_str(rest);
    out
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
    program: &str,
    cli: cli::Cli,
    exiting: bool,
) -> Result<(), Box<Failure>> {
    let mut ctx = target::Ctx::new(source, cli.global)
        .map_err(|error| Box::new(Failure { error, hint: None }))?;
    ctx.printer.set_program(program);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_program_before_a_command_only() {
        let text = "run `migrate upgrade head`; `migrate stamp --purge REV`, `migrate_cli::run_embedded`, the `migrate` tool, `migrate nonsense`, `migrate init migrations`";
        assert_eq!(
            name_commands(text, "myapp migrate"),
            "run `myapp migrate upgrade head`; `myapp migrate stamp --purge REV`, `migrate_cli::run_embedded`, the `migrate` tool, `migrate nonsense`, `migrate init migrations`"
        );
        assert_eq!(name_commands(text, "migrate"), text);
    }

    #[test]
    fn the_typed_command_is_quoted_and_masked() {
        let args: Vec<OsString> = ["revision", "-m", "add \"x\"", "--also", "mysql://u:pw@h/db"]
            .into_iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            typed_command(&args),
            r#"revision -m "add \"x\"" --also "mysql://u:***@h/db""#
        );
    }
}
