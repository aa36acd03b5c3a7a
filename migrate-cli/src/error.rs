//! The errors of the CLI. Commands return them; only the entry points print them.

use migrate_core::{LoadError, RevisionError, SumError};
use migrate_runtime::schema::SchemaError;
use migrate_runtime::MigrateError;
use std::path::PathBuf;

/// Everything a `migrate` command can fail with: the runtime's error, which also holds
/// the folder's and the graph's (so each has one place, whether the runtime or the
/// command found it), and the failures of the command line itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// From the runtime (database, plans, edited migrations), or an invalid folder or
    /// revision identifier found by a command.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// From the schema tools (scratch databases, dev URLs, the declared schema, comparing
    /// schemas). Their database and migration failures are [`CliError::Migrate`].
    #[error(transparent)]
    Schema(SchemaError),
    /// `migrations.sum` disagrees with the files.
    #[error(transparent)]
    Sum(#[from] SumError),
    /// A file could not be read or written.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// `read`, `write`, `create`...
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is missing.
    #[error("no configuration file `{}`; run `migrate init migrations` to create one, or pass -c FILE", path.display())]
    NoConfig {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The configuration file does not parse.
    #[error("invalid configuration `{}`", path.display())]
    ConfigSyntax {
        /// The file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// A configuration value is wrong, or a key unknown.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        /// The file.
        path: PathBuf,
        /// The line, when the error is about one place of the file.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A bad `-x` argument or option combination.
    #[error("{0}")]
    Usage(String),
    /// `-n` names a section that does not exist.
    #[error("no section `{name}` in `{}`; {}", path.display(), if sections.is_empty() { "it has no sections (add a `[name]` table for each database)".to_string() } else { format!("sections: {}", sections.join(", ")) })]
    NoSuchSection {
        /// The name asked for.
        name: String,
        /// The file.
        path: PathBuf,
        /// The sections it has.
        sections: Vec<String>,
    },
    /// A command that works on one database was given several.
    #[error("`{command}` works on one database and `{}` configures several ({}); pick one with -n", path.display(), sections.join(", "))]
    SeveralSections {
        /// The command.
        command: &'static str,
        /// The file.
        path: PathBuf,
        /// The sections.
        sections: Vec<String>,
    },
    /// `revision` without `--head` while several heads exist.
    #[error("multiple heads are present ({}); please specify the head revision on which the new revision should be based with --head, or merge them with `migrate merge heads`", .0.join(", "))]
    MultipleHeads(Vec<String>),
    /// `--head` names a revision that is not a head, without `--splice`.
    #[error("revision {0} is not a head revision; please specify --splice to create a new branch from this revision")]
    NotAHead(String),
    /// A revision id given with `--rev-id` is taken or invalid.
    #[error("revision id `{0}` already exists")]
    RevisionExists(String),
    /// An invalid revision id.
    #[error(transparent)]
    RevisionId(#[from] migrate_core::RevisionIdError),
    /// A branch label that is already used.
    #[error("branch label `{label}` is already used by revision `{revision}`")]
    LabelExists {
        /// The label.
        label: String,
        /// Who uses it.
        revision: String,
    },
    /// The revision template refers to a variable nobody set.
    #[error("the revision template `{template}` uses ${{{name}}}, which is not set; pass -x {name}=VALUE, set {name} in the environment, or write a default: ${{{name}:-VALUE}}")]
    TemplateVariable {
        /// The template.
        template: String,
        /// The variable.
        name: String,
    },
    /// The rendered template is not a valid migration.
    #[error("the revision template `{template}` does not produce a valid migration:\n  - {}", problems.join("\n  - "))]
    TemplateInvalid {
        /// The template.
        template: String,
        /// What is wrong.
        problems: Vec<String>,
    },
    /// A file to create exists.
    #[error("`{}` already exists; not overwriting it", .0.display())]
    Exists(PathBuf),
    /// `--version-path` outside the versions folder.
    #[error("version path `{}` is not inside the versions folder `{}`", path.display(), versions.display())]
    VersionPath {
        /// The path given.
        path: PathBuf,
        /// The versions folder.
        versions: PathBuf,
    },
    /// Unknown template.
    #[error("no template named `{name}`; available: {}", available.join(", "))]
    NoSuchTemplate {
        /// Asked for.
        name: String,
        /// Available.
        available: Vec<String>,
    },
    /// `init` into a non-empty folder.
    #[error("directory `{}` already exists and is not empty", .0.display())]
    DirectoryNotEmpty(PathBuf),
    /// `merge` with fewer than two revisions.
    #[error("merge needs at least two distinct revisions; `{0}` resolves to {1}")]
    MergeTooFew(String, String),
    /// `merge` of revisions where one is an ancestor of another.
    #[error("cannot merge `{0}` with its own ancestor `{1}`")]
    MergeAncestor(String, String),
    /// `merge` of a revision that is not a head, without `--splice`.
    #[error("revision {0} is not a head revision; pass --splice to merge it anyway")]
    MergeNotHead(String),
    /// No editor configured.
    #[error("no editor: set $VISUAL or $EDITOR")]
    NoEditor,
    /// The editor failed.
    #[error("editor `{editor}` exited with {status}")]
    EditorFailed {
        /// The command.
        editor: String,
        /// Its status.
        status: String,
    },
    /// `verify` found problems.
    #[error("{} found in `{}`:\n  - {}", if problems.len() == 1 { "1 problem".to_string() } else { format!("{} problems", problems.len()) }, path, problems.join("\n  - "))]
    Verify {
        /// The folder.
        path: String,
        /// Every problem.
        problems: Vec<String>,
    },
    /// `rebase` cannot do what was asked.
    #[error("cannot rebase `{revision}` onto `{onto}`: {reason}")]
    Rebase {
        /// The branch.
        revision: String,
        /// The target.
        onto: String,
        /// Why.
        reason: String,
    },
    /// A command that needs the files was run on embedded migrations, outside the
    /// application's source tree.
    #[error("`{0}` works on the migration files, and this binary embeds its migrations without them: run it in the project's source tree, where `migrate.toml` names the versions folder (`cargo run -- migrate {0} ...`), or pass -c FILE")]
    NeedsFiles(&'static str),
    /// A command only the standalone `migrate` offers.
    #[error("`{0}` is a command of the standalone `migrate` tool (`cargo install --path migrate-cli`), not of an application that embeds its migrations")]
    StandaloneOnly(&'static str),
    /// An application's configuration has several sections and it embeds one folder.
    #[error("`{}` configures several databases ({}) and this binary embeds one versions folder; pick its section with -n", path.display(), sections.join(", "))]
    EmbeddedSeveralSections {
        /// The file.
        path: PathBuf,
        /// The sections.
        sections: Vec<String>,
    },
    /// The versions folder differs from the migrations the running binary embeds.
    #[error("this binary embeds other migrations than `{}` holds: {}; rebuild it (`cargo build`, or run it with `cargo run -- migrate ...`) so that it embeds the folder, then run the command again", path.display(), differences.join(", "))]
    StaleEmbedded {
        /// The versions folder.
        path: PathBuf,
        /// Each file that differs, and how.
        differences: Vec<String>,
    },
    /// A schema command of the standalone `migrate` reached a Rust migration, which
    /// only the application that embeds it can run.
    #[error("`migrate {command}` replays the migrations, and revision `{revision}` ({path}) is a Rust migration that only the application that embeds it can run: run the command through the application, in this folder: `cargo run -- migrate {command}` (its `migrate` subcommand, `migrate_cli::Embedded`)")]
    NeedsApplication {
        /// The command as typed, without the program name.
        command: String,
        /// The Rust migration.
        revision: String,
        /// Its file.
        path: String,
    },
    /// No database URL for an embedded binary.
    #[error("no database URL: set DATABASE_URL or pass --database-url")]
    NoDatabaseUrl,
    /// `verify`, `check` or `current --check-heads` found several heads and the
    /// configuration does not allow them.
    #[error("several heads ({}) in `{}`; merge them (`migrate merge heads`) or rebase one (`migrate rebase`), or set `allow_multiple_heads = true` if the branches are meant to stay apart", heads.join(", "), path.display())]
    SeveralHeads {
        /// The heads.
        heads: Vec<String>,
        /// The versions folder.
        path: PathBuf,
    },
    /// Several problems found by one command (`check`); the exit code is the first's.
    #[error("{} problems found:\n  - {}", .0.len(), .0.iter().map(|p| p.to_string().replace('\n', "\n    ")).collect::<Vec<_>>().join("\n  - "))]
    Problems(Vec<CliError>),
    /// A schema difference that cannot be written for the database.
    #[error(transparent)]
    Render(#[from] migrate_runtime::schema::model::RenderError),
    /// `revision --autogenerate` in a project with per-database sections (declared
    /// schema or migrations), some of them for servers no `--also` names: their
    /// sections cannot be computed.
    #[error("the project has per-database sections for {}, so the new revision needs one for each, computed on a scratch database of that kind: add {} (servers where a scratch database may be created); nothing was written", needed_sections(.needed), needed_also(.needed))]
    AlsoNeeded {
        /// Each database whose section cannot be computed, with where a section of it
        /// is (`the declared schema's `x.sql``, `migration `y.sql``).
        needed: Vec<(migrate_core::Dialect, String)>,
    },
    /// A schema command needs a declared schema and none is configured.
    #[error("no declared schema: set `schema_location` in the configuration (a folder of plain SQL files), or pass --schema DIR")]
    NoDeclaredSchema,
    /// The live database differs from what its migrations produce (changes by hand).
    #[error("the database's schema has drifted from what its migrations produce at {}; changes made outside the migrations:\n  - {}", or_base(revisions), changes.join("\n  - "))]
    Drift {
        /// The database's version rows, where the migrations were replayed to.
        revisions: Vec<String>,
        /// The changes from the migrations' schema to the live one.
        changes: Vec<String>,
    },
    /// The declared schema differs from what the migrations produce at their heads.
    #[error("the declared schema differs from what the migrations produce at their heads: a revision is missing (`migrate revision --autogenerate -m ...` writes it) that would\n  - {}", changes.join("\n  - "))]
    SchemaAhead {
        /// The changes from the migrations' schema to the declared one.
        changes: Vec<String>,
    },
    /// The stairway test (`migrate test`) found a problem.
    #[error("{0}")]
    Stairway(String),
    /// An autogenerated revision failed its verification (it was written anyway).
    #[error("the autogenerated revision `{}` was written but does not verify: {problem}; its first lines say so, review it before applying", path.display())]
    AutogenerateUnverified {
        /// The file written.
        path: PathBuf,
        /// What failed.
        problem: String,
    },
    /// Stopped by Ctrl-C (scratch databases were dropped).
    #[error("interrupted; scratch databases were dropped")]
    Interrupted,
    /// A migration run stopped at once by Ctrl-C (not between two batches).
    #[error("interrupted by Ctrl-C: the migration running was stopped where it stood; a transaction it had open is rolled back by the database, but a `transactional: false` migration may be partly applied (a batched one continues where it stopped when run again)")]
    InterruptedRun,
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// The exit codes of the `migrate` command, one per kind of failure a deploy script
/// may want to tell apart (the README lists them).
pub mod exit {
    use super::CliError;
    use migrate_core::RevisionError;
    use migrate_runtime::schema::SchemaError;
    use migrate_runtime::MigrateError;

    /// Success.
    pub const SUCCESS: u8 = 0;
    /// Any failure without a code of its own (invalid folder or configuration, I/O...).
    pub const FAILURE: u8 = 1;
    /// Bad command line or option combination.
    pub const USAGE: u8 = 2;
    /// The database cannot be reached, or refused the credentials.
    pub const CONNECT: u8 = 3;
    /// The database is behind the migrations (`check`, `current --check-heads`).
    pub const BEHIND: u8 = 4;
    /// The database is at a revision the migrations do not have (ahead of them, or
    /// migrated by other migrations).
    pub const UNKNOWN_REVISION: u8 = 5;
    /// An applied migration was edited since it ran.
    pub const EDITED: u8 = 6;
    /// Several heads where one is required.
    pub const MULTIPLE_HEADS: u8 = 7;
    /// A migration failed: its SQL, a batched statement past its cap, or a Rust
    /// migration that returned an error or panicked.
    pub const MIGRATION_FAILED: u8 = 8;
    /// Another migrator held the migration lock past the timeout.
    pub const LOCKED: u8 = 9;
    /// The live database's schema differs from what its migrations produce (`check`
    /// with a declared schema).
    pub const DRIFT: u8 = 10;
    /// The declared schema differs from what the migrations produce: a revision is
    /// missing (`check` with a declared schema).
    pub const SCHEMA_AHEAD: u8 = 11;
    /// A schema test failed: the stairway test (`migrate test`), or an autogenerated
    /// revision that does not verify.
    pub const SCHEMA_TEST: u8 = 12;
    /// Stopped by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;

    /// The code a failed command exits with.
    pub(crate) fn of(e: &CliError) -> u8 {
        match e {
            CliError::Usage(_) | CliError::AlsoNeeded { .. } => USAGE,
            CliError::Migrate(e) => of_migrate(e),
            CliError::Schema(e) => of_schema(e),
            CliError::MultipleHeads(_) | CliError::SeveralHeads { .. } => MULTIPLE_HEADS,
            CliError::Drift { .. } => DRIFT,
            CliError::SchemaAhead { .. } => SCHEMA_AHEAD,
            CliError::Stairway(_) | CliError::AutogenerateUnverified { .. } => SCHEMA_TEST,
            CliError::Interrupted | CliError::InterruptedRun => INTERRUPTED,
            CliError::Problems(problems) => problems.first().map_or(FAILURE, of),
            _ => FAILURE,
        }
    }

    fn of_schema(e: &SchemaError) -> u8 {
        match e {
            SchemaError::Migrate(e) => of_migrate(e),
            _ => FAILURE,
        }
    }

    fn of_migrate(e: &MigrateError) -> u8 {
        match e {
            MigrateError::Connect { .. }
            | MigrateError::TlsCa { .. }
            | MigrateError::ConnectTimeout { .. }
            | MigrateError::MissingDatabase { .. } => CONNECT,
            MigrateError::NotAtHead { .. } => BEHIND,
            MigrateError::Edited(_) => EDITED,
            MigrateError::Migration(_)
            | MigrateError::RustMigration(_)
            | MigrateError::BatchLimit { .. } => MIGRATION_FAILED,
            MigrateError::Interrupted { .. } => INTERRUPTED,
            MigrateError::LockTimeout { .. } => LOCKED,
            MigrateError::Revision(RevisionError::MultipleHeads { .. }) => MULTIPLE_HEADS,
            MigrateError::Revision(RevisionError::UnknownCurrent(_)) => UNKNOWN_REVISION,
            _ => FAILURE,
        }
    }

    /// The code of a command line clap refused, or answered itself (`--help`).
    pub(crate) fn of_usage(e: &clap::Error) -> u8 {
        match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => SUCCESS,
            _ => USAGE,
        }
    }
}

fn or_base(v: &[String]) -> String {
    if v.is_empty() {
        "<base>".to_string()
    } else {
        v.join(", ")
    }
}

// The folder's and the graph's errors live in the runtime's error, whichever crate
// found them, so that a match on one variant sees every occurrence.
impl From<LoadError> for CliError {
    fn from(e: LoadError) -> Self {
        CliError::Migrate(e.into())
    }
}

// A database or migration failure met by a schema tool is the runtime's error, so that
// its exit code, JSON problem and hints are those of the same failure anywhere else.
impl From<SchemaError> for CliError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::Migrate(e) => CliError::Migrate(e),
            other => CliError::Schema(other),
        }
    }
}

impl From<RevisionError> for CliError {
    fn from(e: RevisionError) -> Self {
        CliError::Migrate(e.into())
    }
}

impl CliError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        CliError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The text printed for an error: `error: …`, then `  Caused by: …` for each source
/// (only the first unless `full_chain`), then a `hint:` when there is one.
pub fn render_error(err: &CliError, full_chain: bool, hint: Option<&str>) -> String {
    let mut out = format!("error: {err}\n");
    let mut source = std::error::Error::source(err);
    let mut last = err.to_string();
    let mut shown = 0;
    while let Some(s) = source {
        let text = s.to_string();
        // Transparent wrappers repeat their inner message; show each text once.
        if text != last && !last.ends_with(&text) {
            if shown == 0 || full_chain {
                for (i, line) in text.lines().enumerate() {
                    if i == 0 {
                        out.push_str(&format!("  Caused by: {line}\n"));
                    } else {
                        out.push_str(&format!("  {line}\n"));
                    }
                }
            }
            shown += 1;
        }
        last = text;
        source = s.source();
    }
    if let Some(h) = hint {
        out.push_str(&format!("hint: {h}\n"));
    }
    out
}

/// `postgres (in the declared schema's `01_users.sql`) and mysql (in ...)`.
fn needed_sections(needed: &[(migrate_core::Dialect, String)]) -> String {
    needed
        .iter()
        .map(|(d, place)| format!("{d} (in {place})"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `` `--also postgres://USER@HOST/DB --also mysql://USER@HOST/DB` ``.
fn needed_also(needed: &[(migrate_core::Dialect, String)]) -> String {
    let urls: Vec<String> = needed
        .iter()
        .map(|(d, _)| format!("--also {d}://USER@HOST/DB"))
        .collect();
    format!("`{}`", urls.join(" "))
}
