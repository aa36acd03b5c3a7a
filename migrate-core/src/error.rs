//! Typed errors of the core crate.

use std::fmt;
use std::path::PathBuf;

/// A problem found while parsing one migration file.
///
/// Displays as `path:line: message`, so editors and terminals can jump to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {kind}")]
pub struct ParseError {
    /// The file, as given to the parser (usually relative to the versions folder).
    pub path: String,
    /// 1-based line number the problem was found on.
    pub line: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a migration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The file does not begin with a `--` comment header.
    #[error("expected a header of `-- key: value` comment lines at the top of the file")]
    MissingHeader,
    /// A required header field is absent.
    #[error("missing required header field `{0}`")]
    MissingField(&'static str),
    /// The same header field appears twice.
    #[error("header field `{field}` repeated (first given on line {first_line})")]
    DuplicateField {
        /// Field name.
        field: String,
        /// Where it was first given.
        first_line: usize,
    },
    /// A list field holds something other than comma-separated ids.
    #[error("{field}: expected revision ids separated by commas, found {found:?}")]
    BadIdList {
        /// Field name.
        field: &'static str,
        /// The offending value.
        found: String,
    },
    /// The `revision` field is not a valid revision id.
    #[error("revision: {0}")]
    BadRevisionId(RevisionIdError),
    /// `transactional` is neither `true` nor `false`.
    #[error("transactional: expected `true` or `false`, found {0:?}")]
    BadTransactional(String),
    /// No `-- migrate:upgrade` section.
    #[error("missing `-- migrate:upgrade` section")]
    MissingUpgrade,
    /// A `-- migrate:` directive that is not `upgrade`, `downgrade` or `batch`.
    #[error("unknown directive {0:?}; expected `-- migrate:upgrade`, `-- migrate:downgrade`, `-- migrate:batch` or `-- migrate:batch-rows`")]
    UnknownDirective(String),
    /// A `-- migrate:batch` directive that is malformed or not before a statement that
    /// limits itself with `{batch_size}`.
    #[error(transparent)]
    Batch(#[from] crate::batch::BatchError),
    /// A command of a database's client that cannot be followed (`\connect`,
    /// `DELIMITER` in a section for PostgreSQL...).
    #[error("{0}")]
    ClientCommand(crate::sql::ClientCommand),
    /// `-- migrate:batch` before any section.
    #[error("`-- migrate:batch` outside a section: write it inside `-- migrate:upgrade` (or `-- migrate:downgrade`), on the line before the statement it repeats")]
    BatchOutsideSection,
    /// `-- migrate:batch` in a migration that runs in one transaction.
    #[error("`-- migrate:batch` commits each batch on its own, which a migration run in one transaction cannot do: add `-- transactional: false` to the header")]
    BatchInTransaction,
    /// A `.rs` migration that does not begin with a `//` comment header.
    #[error("expected a header of `// key: value` comment lines at the top of the file")]
    MissingRustHeader,
    /// A `.rs` migration without an `upgrade` function.
    #[error("a Rust migration needs `pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult` at the top level of the file (and may have `downgrade` alike)")]
    MissingUpgradeFn,
    /// A section names a database this project does not know.
    #[error(
        "unknown database {0:?} in section directive; expected `postgres`, `sqlite` or `mysql`"
    )]
    UnknownDialect(String),
    /// The same section (direction and database) appears twice.
    #[error("section `-- migrate:{0}` repeated (first given on line {1})")]
    DuplicateSection(String, usize),
    /// SQL found after the header but before `-- migrate:upgrade`.
    #[error("SQL before the first `-- migrate:upgrade` section: {0:?}")]
    SqlOutsideSection(String),
    /// The file is not valid UTF-8.
    #[error("file is not valid UTF-8")]
    NotUtf8,
    /// A NUL byte, which SQLite reads as the end of the SQL text (so the statements
    /// after it would silently not run).
    #[error("a NUL byte (\\0) in the file: databases read it as the end of the SQL, so what follows would not run; remove it")]
    NulByte,
}

/// Why a string is not a valid revision id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevisionIdError {
    /// Empty id.
    #[error("revision id is empty")]
    Empty,
    /// Longer than `alembic_version.version_num` can hold.
    #[error("revision id {0:?} is longer than 32 characters")]
    TooLong(String),
    /// Contains a character outside `[A-Za-z0-9_]`.
    #[error("revision id {id:?} contains {ch:?}; only letters, digits and `_` are allowed")]
    BadChar {
        /// The id.
        id: String,
        /// First offending character.
        ch: char,
    },
    /// A reserved word (`head`, `heads`, `base`, `current`).
    #[error("revision id {0:?} is reserved")]
    Reserved(String),
}

/// One problem in a revision graph. [`GraphErrors`] carries all of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Two revisions share an id.
    #[error("duplicate revision `{id}` in {first} and {second}")]
    DuplicateRevision {
        /// The id.
        id: String,
        /// Where it was first defined.
        first: Origin,
        /// Where it was defined again.
        second: Origin,
    },
    /// A `down_revision` names a revision that does not exist.
    #[error("broken chain: revision `{revision}` ({origin}) has down_revision `{parent}`, which does not exist")]
    MissingParent {
        /// The child.
        revision: String,
        /// Where the child lives.
        origin: Origin,
        /// The missing parent id.
        parent: String,
    },
    /// A `depends_on` names neither a revision nor a branch label.
    #[error("revision `{revision}` ({origin}) depends on `{target}`, which is neither a revision nor a branch label")]
    MissingDependency {
        /// The dependent revision.
        revision: String,
        /// Where it lives.
        origin: Origin,
        /// The missing target.
        target: String,
    },
    /// Cycle through `down_revision`.
    #[error("cycle detected among revisions: {}", .0.join(", "))]
    Cycle(Vec<String>),
    /// Cycle through `down_revision` and `depends_on` together.
    #[error("dependency cycle detected among revisions: {}", .0.join(", "))]
    DependencyCycle(Vec<String>),
    /// Two revisions declare the same branch label.
    #[error("branch label `{label}` of revision `{revision}` ({origin}) is already used by revision `{other}`")]
    DuplicateBranchLabel {
        /// The label.
        label: String,
        /// Second revision declaring it.
        revision: String,
        /// Where it lives.
        origin: Origin,
        /// First revision declaring it.
        other: String,
    },
    /// A branch label that would shadow a revision id or a reserved word.
    #[error("branch label `{label}` of revision `{revision}` ({origin}) is not usable: {reason}")]
    BadBranchLabel {
        /// The label.
        label: String,
        /// Revision declaring it.
        revision: String,
        /// Where it lives.
        origin: Origin,
        /// Why.
        reason: &'static str,
    },
    /// A revision id that is not valid.
    #[error("{origin}: {error}")]
    InvalidId {
        /// Where it lives.
        origin: Origin,
        /// Why the id is invalid.
        error: RevisionIdError,
    },
    /// A revision lists itself as parent or dependency.
    #[error("revision `{0}` refers to itself")]
    SelfReference(String),
}

/// Every problem found in a revision graph, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphErrors(pub Vec<GraphError>);

impl fmt::Display for GraphErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in the revision graph:", many.len())?;
                for e in many {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for GraphErrors {}

/// Where a revision was defined: a file path when known.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Origin(pub Option<String>);

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(p) => write!(f, "`{p}`"),
            None => f.write_str("<memory>"),
        }
    }
}

/// Errors of identifier resolution and planning, named as Alembic names them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevisionError {
    /// `head` (or `label@head`) is ambiguous because several heads exist.
    #[error("multiple heads are present for given argument '{argument}'; {}; use `heads` or name one", heads.join(", "))]
    MultipleHeads {
        /// The heads.
        heads: Vec<String>,
        /// What was asked for.
        argument: String,
    },
    /// No revision or branch label by that name.
    #[error("no such revision or branch '{0}'{hint}", hint = if .0.len() < 4 { "; please ensure at least four characters are present for partial revision identifier matches" } else { "" })]
    NoSuchRevision(String),
    /// A prefix that matches several revisions.
    #[error("multiple revisions start with '{prefix}': {}", candidates.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "))]
    AmbiguousPrefix {
        /// The prefix.
        prefix: String,
        /// Every matching id.
        candidates: Vec<String>,
    },
    /// `label@...` where the label names nothing.
    #[error("no such branch: '{0}'")]
    NoSuchBranch(String),
    /// `label@rev` where rev is not on that branch.
    #[error("revision {revision} is not a member of branch '{branch}'")]
    NotMemberOfBranch {
        /// The revision.
        revision: String,
        /// The branch.
        branch: String,
    },
    /// A relative identifier walked past the ends of the graph.
    #[error("relative revision {relative} didn't produce {steps} migrations")]
    RelativeOutOfRange {
        /// The relative part as written (`+3`, `-1`).
        relative: String,
        /// Absolute step count.
        steps: u64,
    },
    /// A relative walk from a given revision went past base or the heads.
    #[error("walked too far from '{0}'")]
    WalkedTooFar(String),
    /// A relative walk reached a branch point or merge point and cannot choose.
    #[error("ambiguous walk from '{0}': it crosses a branch point or merge point; name a branch (`label@+1`) or a revision")]
    AmbiguousWalk(String),
    /// `+N` from several current heads.
    #[error("ambiguous upgrade from multiple current revisions ({}); name a branch, e.g. `label@+1`", .0.join(", "))]
    AmbiguousUpgrade(Vec<String>),
    /// `-N` with several current heads (Alembic only warns here).
    #[error("downgrade {relative} from multiple heads ({}) is ambiguous; name one, e.g. `{example}@-1`", heads.join(", "), example = heads.first().map(String::as_str).unwrap_or("label"))]
    AmbiguousDowngrade {
        /// The relative target.
        relative: String,
        /// The current heads.
        heads: Vec<String>,
    },
    /// The requested range does not connect.
    #[error("requested range {lower}:{upper} does not refer to ancestor/descendant revisions")]
    RangeNotAncestor {
        /// Lower end.
        lower: String,
        /// Upper end.
        upper: String,
    },
    /// A downgrade target above every current head.
    #[error("destination {target} is not a valid downgrade target from current head(s) {}", if current.is_empty() { "<base>".to_string() } else { current.join(", ") })]
    NothingToDrop {
        /// The target.
        target: String,
        /// Current heads.
        current: Vec<String>,
    },
    /// A downgrade branch filter that matches nothing.
    #[error("not a valid downgrade target from current heads: '{0}'")]
    InvalidDowngradeTarget(String),
    /// Two requested revisions where one is the ancestor of the other.
    #[error("requested revision {revision} overlaps with other requested revisions {}", others.join(", "))]
    Overlap {
        /// The revision.
        revision: String,
        /// What it overlaps with.
        others: Vec<String>,
    },
    /// A malformed `a:b` range.
    #[error("range {0:?} must have the form [start]:[end], [start]: or :[end]")]
    BadRange(String),
    /// A relative identifier that is not a valid number.
    #[error("invalid relative step in {0:?}")]
    BadRelative(String),
    /// A revision marked irreversible (no downgrade section) is on the downgrade path.
    #[error("revision `{revision}` ({origin}) has no `-- migrate:downgrade` section, so it cannot be downgraded; nothing was run")]
    Irreversible {
        /// The revision.
        revision: String,
        /// Its file.
        origin: Origin,
    },
    /// The version table cannot be moved by this step from the rows it holds.
    #[error("cannot move the version table past revision `{revision}`: it holds {}", if heads.is_empty() { "no rows".to_string() } else { heads.join(", ") })]
    VersionTableConflict {
        /// The revision of the step.
        revision: String,
        /// Rows at that point.
        heads: Vec<String>,
    },
    /// The version table holds a revision this folder does not know.
    #[error("the database is at revision '{0}', which is not among the migrations: it was migrated by a newer release, a migration file was deleted, or this is the wrong folder; deploy the migrations that have it, or overwrite the version table on purpose with `migrate stamp --purge REV`")]
    UnknownCurrent(String),
}

/// A problem found while loading a versions folder: every file's problems at once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The folder does not exist or cannot be read.
    #[error("cannot read versions folder `{}`: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// One or more files or graph problems.
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
    /// A `*.sql` entry (or `migrations.sum`) that is a named pipe, socket or device. It is
    /// never opened: opening a named pipe waits for a writer.
    #[error(
        "`{}` is a {kind}, not a regular file; replace it with a regular file or remove it",
        shown(path)
    )]
    NotAFile {
        /// The entry.
        path: PathBuf,
        /// What it is: `named pipe (FIFO)`, `socket`, `device`...
        kind: &'static str,
    },
    /// A migration or folder whose name is not valid UTF-8: paths in `migrations.sum`,
    /// messages and the version history are UTF-8.
    #[error("the name of `{}` is not valid UTF-8; rename it", shown(path))]
    NonUtf8Name {
        /// The entry (shown with U+FFFD for the invalid bytes).
        path: PathBuf,
    },
    /// A migration or folder whose name holds a control character (a newline would break
    /// `migrations.sum`, which lists one path per line).
    #[error(
        "the name of `{}` contains the control character {ch:?}; rename it",
        shown(path)
    )]
    ControlCharacterInName {
        /// The entry (control characters shown escaped).
        path: PathBuf,
        /// The first control character.
        ch: char,
    },
    /// A folder reached again inside itself, e.g. through `ln -s . migrations/self`.
    #[error("`{}` leads back to `{}`, a folder that contains it, so the folder walk would never end; remove the link", shown(link), shown(target))]
    FolderLoop {
        /// The symbolic link (or mount) that closes the loop.
        link: PathBuf,
        /// The folder it leads back to.
        target: PathBuf,
    },
}

impl LoadError {
    /// The same error with every path passed through `f`, e.g. to show paths relative
    /// to the crate in `embed_migrations!` messages.
    #[must_use]
    pub fn map_paths(self, f: impl Fn(PathBuf) -> PathBuf) -> LoadError {
        match self {
            LoadError::Io { path, source } => LoadError::Io {
                path: f(path),
                source,
            },
            LoadError::NotAFile { path, kind } => LoadError::NotAFile {
                path: f(path),
                kind,
            },
            LoadError::NonUtf8Name { path } => LoadError::NonUtf8Name { path: f(path) },
            LoadError::ControlCharacterInName { path, ch } => {
                LoadError::ControlCharacterInName { path: f(path), ch }
            }
            LoadError::FolderLoop { link, target } => LoadError::FolderLoop {
                link: f(link),
                target: f(target),
            },
            invalid @ LoadError::Invalid(_) => invalid,
        }
    }
}

/// A path on one line: invalid UTF-8 as U+FFFD, control characters escaped (`\n`).
fn shown(path: &std::path::Path) -> String {
    let lossy = path.to_string_lossy();
    if !lossy.chars().any(char::is_control) {
        return lossy.into_owned();
    }
    lossy
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One problem of a versions folder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A file that does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A graph problem.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

fn render_problems(problems: &[Problem]) -> String {
    match problems {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} problems in the migrations:", many.len());
            for p in many {
                s.push_str("\n  - ");
                s.push_str(&p.to_string());
            }
            s
        }
    }
}

/// Problems with `migrations.sum`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SumError {
    /// A line of the sum file does not parse.
    #[error("migrations.sum:{line}: expected `<sha256 hex>  <path>`, found {found:?}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// Offending text.
        found: String,
    },
    /// The sum file is missing.
    #[error("no migrations.sum in the versions folder; run `migrate hash` to create it")]
    MissingSumFile,
    /// One or more mismatches.
    #[error("{}", render_mismatches(.0))]
    Mismatch(Vec<SumMismatch>),
}

/// One difference between the files and `migrations.sum`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SumMismatch {
    /// A file not listed in the sum.
    #[error("`{0}` is not listed in migrations.sum; run `migrate hash` if the file is intended")]
    NotListed(String),
    /// A listed file that does not exist.
    #[error("migrations.sum lists `{0}`, which does not exist; run `migrate hash` if the removal is intended")]
    Absent(String),
    /// A file that changed since the sum was written.
    #[error("migrations.sum does not match `{0}`; run `migrate hash` if the edit is intended")]
    Changed(String),
}

fn render_mismatches(m: &[SumMismatch]) -> String {
    match m {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} files disagree with migrations.sum:", many.len());
            for p in many {
                s.push_str("\n  - ");
                s.push_str(&p.to_string());
            }
            s
        }
    }
}
