//! The command line, as Alembic's: global options first, then one subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `migrate`: Alembic's command set over plain `.sql` migrations.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about = "Alembic's revision graph and commands for plain .sql migrations",
    propagate_version = true,
    disable_help_subcommand = false
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before (or after) any subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: `migrate.toml` in the current directory).
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Section of the configuration to use (one database of several).
    #[arg(short = 'n', long = "name", global = true, value_name = "SECTION")]
    pub name: Option<String>,
    /// Extra `key=value` pairs, visible to `${key}` in migrate.toml and the revision template.
    #[arg(short = 'x', global = true, value_name = "KEY=VALUE")]
    pub x: Vec<String>,
    /// Database URL; overrides `DATABASE_URL` and the configuration.
    #[arg(long = "database-url", global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// A separate database where the schema commands do their scratch work, never
    /// inside the target database; overrides `dev_url` in the configuration.
    #[arg(long = "dev-url", global = true, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Seconds to wait for a database server to answer when connecting (TCP, TLS and
    /// login); overrides `connect_timeout` in the configuration (default 30).
    #[arg(long = "connect-timeout", global = true, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=crate::config::MAX_CONNECT_TIMEOUT))]
    pub connect_timeout: Option<u64>,
    /// Do not print informational messages (listings still print).
    #[arg(short = 'q', long = "quiet", global = true)]
    pub quiet: bool,
    /// Print the whole chain of causes of an error.
    #[arg(long = "raiseerr", global = true)]
    pub raiseerr: bool,
}

/// The subcommands, named as Alembic names them.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Create a new migration environment from a template.
    Init(InitArgs),
    /// List the templates `init` can use.
    #[command(name = "list_templates", alias = "list-templates")]
    ListTemplates,
    /// Create a new revision file.
    Revision(RevisionArgs),
    /// Merge two or more revisions into one new revision.
    Merge(MergeArgs),
    /// Upgrade to a later revision.
    Upgrade(UpgradeArgs),
    /// Revert to a previous revision.
    Downgrade(DowngradeArgs),
    /// Show the current revision(s) of the database.
    Current(CurrentArgs),
    /// List revisions in chronological order (newest first).
    History(HistoryArgs),
    /// Show the current available heads.
    Heads(HeadsArgs),
    /// Show the branch points.
    Branches(VerboseArgs),
    /// Show the revision(s) denoted by the given symbol.
    Show(ShowArgs),
    /// Set the version table to the given revision(s) without running migrations.
    Stamp(StampArgs),
    /// Fail unless the database is at head with no edited migration and a valid folder.
    Check(CheckArgs),
    /// Create the version table if it does not exist.
    #[command(name = "ensure_version", alias = "ensure-version")]
    EnsureVersion(EnsureVersionArgs),
    /// Open a revision file in $EDITOR.
    Edit(EditArgs),
    /// Rewrite migrations.sum from the files as they are.
    Hash,
    /// Check the versions folder (graph and migrations.sum) without a database.
    Verify(OutputArgs),
    /// Move a branch that no database has applied on top of another head.
    Rebase(RebaseArgs),
    /// Accept the new contents of applied migrations that were edited on purpose.
    Accept(AcceptArgs),
    /// List the migrations `upgrade` would run, without running them.
    Pending(PendingArgs),
    /// Print the DDL between two schemas (database, migrations, declared schema).
    Diff(DiffArgs),
    /// The stairway test: every revision up, down and up again on a scratch database.
    Test(TestArgs),
    /// The declared schema: `schema dump` writes a live database's as one.
    #[command(subcommand)]
    Schema(SchemaCommand),
}

/// `schema ...`.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum SchemaCommand {
    /// Write a live database's schema as a declared schema folder (it only reads the
    /// database). The database is the configured one, or `--database-url`.
    Dump(SchemaDumpArgs),
}

/// `schema dump`.
#[derive(Debug, Clone, Args)]
pub struct SchemaDumpArgs {
    /// The folder to write (default: `schema_location` of the configuration, else
    /// `schema`).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// One file per table (with its indexes, keys and triggers) and files for the other
    /// objects, numbered so that loading them in path order works.
    #[arg(long)]
    pub split: bool,
    /// Write into a folder that is not empty, removing its `.sql` files first.
    #[arg(long)]
    pub force: bool,
    /// Output format (JSON: the files written).
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `check`.
#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
    /// The declared schema folder (default: `schema_location`); with one, `check`
    /// also compares the live schema with the migrations' (drift) and the declared one.
    #[arg(long, value_name = "DIR")]
    pub schema: Option<PathBuf>,
}

/// `diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Where to start: `database`, `migrations`, `migrations@REV` or `schema`.
    #[arg(long, default_value = "migrations")]
    pub from: String,
    /// Where to arrive: `database`, `migrations`, `migrations@REV` or `schema`.
    #[arg(long, default_value = "schema")]
    pub to: String,
    /// The declared schema folder (default: `schema_location`).
    #[arg(long, value_name = "DIR")]
    pub schema: Option<PathBuf>,
    /// Write destructive changes (drops, narrowing types) as statements, not comments.
    #[arg(long)]
    pub allow_destructive: bool,
}

/// `test`.
#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// The declared schema folder the heads must match (default: `schema_location`).
    #[arg(long, value_name = "DIR")]
    pub schema: Option<PathBuf>,
}

/// How a listing or check is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Alembic's lines, for people.
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// `--format text|json` and its shorthand `--json`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    pub format: Format,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl OutputArgs {
    /// Whether JSON was asked for.
    pub fn is_json(&self) -> bool {
        self.json || self.format == Format::Json
    }
}

/// `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The versions folder to create.
    pub directory: PathBuf,
    /// Template to use.
    #[arg(short = 't', long = "template", default_value = "generic")]
    pub template: String,
    /// Fill a folder that exists but is empty.
    #[arg(long)]
    pub package: bool,
    /// Take over an existing database: write its schema as the declared schema
    /// (`schema/` beside the configuration) and a baseline revision that creates it
    /// (checked on a scratch database). The database itself is not touched: run
    /// `migrate stamp <baseline>` on it when you decide it is at the baseline (it may
    /// still change before you deploy the tool, and stamping is what makes later
    /// upgrades skip the baseline).
    #[arg(long = "from-database", value_name = "URL")]
    pub from_database: Option<String>,
}

/// `revision`.
#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// Message (the first header line).
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    /// Revision the new one is based on (default `head`; `base` starts a new root).
    #[arg(long = "head")]
    pub head: Option<String>,
    /// Allow a parent that is not a head, creating a branch.
    #[arg(long)]
    pub splice: bool,
    /// Branch label(s) of the new revision.
    #[arg(long = "branch-label")]
    pub branch_label: Vec<String>,
    /// Folder (inside the versions folder) to write the file to.
    #[arg(long = "version-path")]
    pub version_path: Option<PathBuf>,
    /// Revision id to use instead of a generated one.
    #[arg(long = "rev-id")]
    pub rev_id: Option<String>,
    /// Revisions or branch labels the new revision depends on.
    #[arg(long = "depends-on", num_args = 1..)]
    pub depends_on: Vec<String>,
    /// Write a Rust migration (`.rs`: an async `upgrade` and `downgrade` taking a
    /// `MigrationContext`) instead of SQL. Only an application that embeds the
    /// migrations can run it; this command lists it but cannot.
    #[arg(long, conflicts_with = "autogenerate")]
    pub rust: bool,
    /// Fill the revision with the DDL from the migrations' head schema to the declared
    /// schema (`schema_location`), then verify it on a scratch database.
    #[arg(long)]
    pub autogenerate: bool,
    /// The declared schema folder for `--autogenerate` (default: `schema_location`).
    #[arg(long, value_name = "DIR", requires = "autogenerate")]
    pub schema: Option<PathBuf>,
    /// With `--autogenerate`: write destructive changes (drops, narrowing types) as
    /// statements instead of comments.
    #[arg(long, requires = "autogenerate")]
    pub allow_destructive: bool,
    /// With `--autogenerate`: also write sections for the database kind of URL
    /// (`-- migrate:upgrade postgres`...), computed on scratch databases of its server
    /// (`sqlite::memory:` for SQLite). Repeatable.
    #[arg(long, value_name = "URL", requires = "autogenerate")]
    pub also: Vec<String>,
    /// With `--autogenerate`: skip the verification on scratch databases (for very
    /// large revisions: a downgrade of thousands of tables can exceed PostgreSQL's
    /// lock table in one transaction).
    #[arg(long, requires = "autogenerate")]
    pub no_verify: bool,
}

/// `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Revisions to merge (`heads` for every head).
    #[arg(required = true)]
    pub revisions: Vec<String>,
    /// Message.
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    /// Branch label of the merge revision.
    #[arg(long = "branch-label")]
    pub branch_label: Vec<String>,
    /// Revision id to use instead of a generated one.
    #[arg(long = "rev-id")]
    pub rev_id: Option<String>,
    /// Allow merging revisions that are not heads.
    #[arg(long)]
    pub splice: bool,
}

/// `upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Target: `head`, `heads`, `+2`, `label@head`, a revision... (`from:to` with `--sql`).
    pub revision: String,
    /// Offline mode, tag and timings.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `downgrade`.
#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// Target: `base`, `-1`, a revision, `label@-1`... (`from:to` with `--sql`).
    #[arg(allow_hyphen_values = true)]
    pub revision: String,
    /// Offline mode, tag and timings.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The options `upgrade` and `downgrade` share.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Print the SQL instead of running it (offline mode).
    #[arg(long)]
    pub sql: bool,
    /// Arbitrary tag (accepted for Alembic compatibility).
    #[arg(long)]
    pub tag: Option<String>,
    /// Print the time each migration took.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// `current`.
#[derive(Debug, Args)]
pub struct CurrentArgs {
    /// Verbose output.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Fail unless the database is on every head.
    #[arg(long = "check-heads")]
    pub check_heads: bool,
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Range `[start]:[end]` (`current` allowed at either end).
    #[arg(short = 'r', long = "rev-range", allow_hyphen_values = true)]
    pub rev_range: Option<String>,
    /// Verbose output.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Mark the database's current revisions.
    #[arg(short = 'i', long = "indicate-current")]
    pub indicate_current: bool,
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `heads`.
#[derive(Debug, Args)]
pub struct HeadsArgs {
    /// Verbose output.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Treat dependency versions as down revisions.
    #[arg(long = "resolve-dependencies")]
    pub resolve_dependencies: bool,
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A command whose only option is `-v`.
#[derive(Debug, Args)]
pub struct VerboseArgs {
    /// Verbose output.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Revision identifier (`current` for the database's).
    pub rev: String,
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `stamp`.
#[derive(Debug, Args)]
pub struct StampArgs {
    /// Target revision(s) (`from:to` with `--sql`).
    // Negative numbers only: with any hyphen value allowed, `stamp REV --purge` took
    // `--purge` for a revision, where Alembic accepts options in any position.
    #[arg(required = true, allow_negative_numbers = true)]
    pub revisions: Vec<String>,
    /// Print the SQL instead of running it (offline mode).
    #[arg(long)]
    pub sql: bool,
    /// Empty the version table first (it may hold revisions that no longer exist).
    #[arg(long)]
    pub purge: bool,
    /// Arbitrary tag (accepted for Alembic compatibility).
    #[arg(long)]
    pub tag: Option<String>,
}

/// `ensure_version`.
#[derive(Debug, Args)]
pub struct EnsureVersionArgs {
    /// Print the DDL instead of running it.
    #[arg(long)]
    pub sql: bool,
}

/// `edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Revision to edit (`head` by default in Alembic's spirit: name one).
    pub rev: String,
}

/// `rebase`.
#[derive(Debug, Args)]
pub struct RebaseArgs {
    /// A revision of the branch to move (usually its head).
    pub revision: String,
    /// The head to put the branch on top of.
    #[arg(long)]
    pub onto: String,
}

/// `accept`.
#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Revisions whose new checksum to accept (default: every edited one).
    pub revisions: Vec<String>,
}

/// `pending`.
#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Target, as for `upgrade`: `head`, `heads`, `+2`, `label@head`, a revision...
    #[arg(default_value = "head")]
    pub revision: String,
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
}
