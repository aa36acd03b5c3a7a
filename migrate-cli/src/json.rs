//! Machine-readable output (`--format json`, `--json`): the objects `current`, `heads`,
//! `history`, `show`, `check`, `verify` and `pending` print, one JSON document on stdout
//! per run. One section in play gives one object; several give an array of them. Every
//! object names its `section` (`null` outside a multi-database configuration). The
//! README documents the schema; field names are part of the interface, so only add.

use crate::error::CliError;
use crate::printer::Printer;
use migrate_core::{
    LoadError, Problem as LoadProblem, RevisionError, ScriptDirectory, Step, SumError, SumMismatch,
};
use migrate_runtime::MigrateError;
use serde::Serialize;
use std::path::Path;

/// Prints the documents of a run: the object itself for one section, else an array.
pub(crate) fn print<T: Serialize>(printer: &mut Printer, docs: &[T]) {
    match docs {
        [one] => printer.json(one),
        many => printer.json(&many),
    }
}

/// One section's document: its name, then the command's own fields.
#[derive(Debug, Serialize)]
pub(crate) struct Doc<T> {
    /// The configuration section, `null` when unnamed.
    pub section: Option<String>,
    /// The command's fields.
    #[serde(flatten)]
    pub body: T,
}

/// One revision, as the listing commands give it.
#[derive(Debug, Serialize)]
pub(crate) struct Revision {
    /// The revision id.
    pub revision: String,
    /// Parents, as declared; empty for a base revision.
    pub down_revisions: Vec<String>,
    /// Labels of every branch the revision is on, declared or inherited.
    pub branch_labels: Vec<String>,
    /// `depends_on` entries as written (ids or labels).
    pub depends_on: Vec<String>,
    /// The message.
    pub message: String,
    /// The file, as the text listings' `Path:` line shows it.
    pub path: Option<String>,
    /// No revision has this one as `down_revision`.
    pub is_head: bool,
    /// Two or more children.
    pub is_branch_point: bool,
    /// Two or more parents.
    pub is_merge_point: bool,
    /// Whether the database is at this revision; only where the database was read to
    /// say so (`history -i`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl Revision {
    /// The revision `id` of `dir` (files shown under `location`); `current` marks the
    /// database's rows when given.
    pub fn of(
        dir: &ScriptDirectory,
        location: &Path,
        id: &str,
        current: Option<&[String]>,
    ) -> Revision {
        let rev = dir.map.get(id);
        let script = dir.script(id);
        let strings = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
        Revision {
            revision: id.to_string(),
            down_revisions: rev.map(|r| strings(r.down_revisions())).unwrap_or_default(),
            branch_labels: rev.map(|r| strings(r.branch_labels())).unwrap_or_default(),
            depends_on: rev.map(|r| r.depends_on().to_vec()).unwrap_or_default(),
            message: script.map(|s| s.message.to_string()).unwrap_or_default(),
            path: script.map(|s| location.join(&*s.path).display().to_string()),
            is_head: rev.is_some_and(|r| r.is_head()),
            is_branch_point: rev.is_some_and(|r| r.is_branch_point()),
            is_merge_point: rev.is_some_and(|r| r.is_merge_point()),
            current: current.map(|c| c.iter().any(|c| c == id)),
        }
    }
}

/// `current`: the database and where it stands.
#[derive(Debug, Serialize)]
pub(crate) struct Current {
    /// The URL, password masked.
    pub database: String,
    /// What `current` lists: the version-table rows, plus revisions applied only as
    /// another's dependency.
    pub current: Vec<Revision>,
}

/// `heads`.
#[derive(Debug, Serialize)]
pub(crate) struct Heads {
    /// The heads.
    pub heads: Vec<Revision>,
}

/// `history` and `show`: revisions in the order the text lists them.
#[derive(Debug, Serialize)]
pub(crate) struct Revisions {
    /// The revisions.
    pub revisions: Vec<Revision>,
}

/// `check`: the verdict and every problem found.
#[derive(Debug, Serialize)]
pub(crate) struct Check {
    /// The URL, password masked.
    pub database: String,
    /// No problem found.
    pub ok: bool,
    /// The version-table rows (empty when they could not be read).
    pub current: Vec<String>,
    /// The heads of the migrations (empty when they could not be loaded).
    pub heads: Vec<String>,
    /// Every problem, in the order the text lists them; the exit code is the first's.
    pub problems: Vec<ProblemJson>,
}

/// `verify`: the folder's verdict.
#[derive(Debug, Serialize)]
pub(crate) struct Verify {
    /// No problem found.
    pub ok: bool,
    /// Migration files found.
    pub migrations: usize,
    /// The heads (empty when the folder does not load).
    pub heads: Vec<String>,
    /// Every problem.
    pub problems: Vec<ProblemJson>,
}

/// `pending`: what `upgrade TARGET` would run.
#[derive(Debug, Serialize)]
pub(crate) struct Pending {
    /// The URL, password masked.
    pub database: String,
    /// The version-table rows.
    pub current: Vec<String>,
    /// The target, as given.
    pub target: String,
    /// The steps, in the order `upgrade` would run them; empty when there is nothing
    /// to do.
    pub steps: Vec<PendingStep>,
}

/// One step of a pending upgrade.
#[derive(Debug, Serialize)]
pub(crate) struct PendingStep {
    /// The revision whose upgrade would run.
    pub revision: String,
    /// Always `upgrade`.
    pub direction: String,
    /// Revisions before the step (its parents).
    pub from: Vec<String>,
    /// Revisions after the step.
    pub to: Vec<String>,
    /// The message.
    pub message: String,
    /// The file, as the text listings' `Path:` line shows it.
    pub path: Option<String>,
    /// `false` when the migration runs outside any transaction.
    pub transactional: bool,
}

impl PendingStep {
    /// A step of an upgrade plan over `dir`; `None` for a step that runs no SQL.
    pub fn of(dir: &ScriptDirectory, location: &Path, step: &Step) -> Option<PendingStep> {
        let revision = step.revision.clone()?;
        let script = dir.script(&revision);
        Some(PendingStep {
            direction: step.direction.to_string(),
            from: step.from.clone(),
            to: step.to.clone(),
            message: script.map(|s| s.message.to_string()).unwrap_or_default(),
            path: script.map(|s| location.join(&*s.path).display().to_string()),
            transactional: script.is_none_or(|s| s.transactional),
            revision,
        })
    }
}

/// One problem `check` or `verify` found.
#[derive(Debug, Serialize)]
pub(crate) struct ProblemJson {
    /// What kind: `behind`, `unknown_revision`, `edited`, `several_heads`,
    /// `sum_mismatch`, `sum_missing`, `sum_invalid`, `invalid_migration`,
    /// `invalid_graph`, `connect`, or `error` for anything else.
    pub kind: &'static str,
    /// The message the text output gives.
    pub message: String,
    /// The revisions concerned: the edited ones, the unknown one, the heads, or for
    /// `behind` those `upgrade heads` would run.
    pub revisions: Vec<String>,
    /// The files concerned (edited migrations, files disagreeing with
    /// `migrations.sum`, files that do not parse).
    pub paths: Vec<String>,
}

impl ProblemJson {
    fn new(kind: &'static str, message: impl ToString) -> ProblemJson {
        ProblemJson {
            kind,
            message: message.to_string(),
            revisions: Vec::new(),
            paths: Vec::new(),
        }
    }

    fn with_revisions(mut self, revisions: impl IntoIterator<Item = impl ToString>) -> Self {
        self.revisions = revisions.into_iter().map(|r| r.to_string()).collect();
        self
    }

    fn with_paths(mut self, paths: impl IntoIterator<Item = impl ToString>) -> Self {
        self.paths = paths.into_iter().map(|p| p.to_string()).collect();
        self
    }
}

/// The problems an error stands for (several for [`CliError::Problems`], one per file
/// for a `migrations.sum` mismatch or an invalid folder). `dir`, when loaded, gives the
/// revisions a database behind would run.
pub(crate) fn problems(err: &CliError, dir: Option<&ScriptDirectory>) -> Vec<ProblemJson> {
    match err {
        CliError::Problems(all) => all.iter().flat_map(|e| problems(e, dir)).collect(),
        CliError::Sum(e) => sum_problems(e),
        CliError::Migrate(MigrateError::Load(LoadError::Invalid(ps))) => {
            ps.iter().map(load_problem).collect()
        }
        CliError::SeveralHeads { heads, .. } => {
            vec![ProblemJson::new("several_heads", err).with_revisions(heads)]
        }
        CliError::Migrate(MigrateError::Revision(RevisionError::UnknownCurrent(r))) => {
            vec![ProblemJson::new("unknown_revision", err).with_revisions([r])]
        }
        CliError::Migrate(MigrateError::Edited(edited)) => vec![ProblemJson::new("edited", err)
            .with_revisions(edited.iter().map(|e| &e.revision))
            .with_paths(edited.iter().map(|e| &e.path))],
        CliError::Migrate(MigrateError::NotAtHead { current, .. }) => {
            let pending = dir
                .and_then(|d| d.map.upgrade_plan(current, "heads").ok())
                .map(|plan| plan.revisions().iter().map(|r| r.to_string()).collect())
                .unwrap_or_default();
            let mut p = ProblemJson::new("behind", err);
            p.revisions = pending;
            vec![p]
        }
        CliError::Migrate(
            MigrateError::Connect { .. }
            | MigrateError::TlsCa { .. }
            | MigrateError::ConnectTimeout { .. },
        ) => {
            vec![ProblemJson::new("connect", err)]
        }
        CliError::Drift { revisions, .. } => {
            vec![ProblemJson::new("drift", err).with_revisions(revisions)]
        }
        CliError::SchemaAhead { .. } => vec![ProblemJson::new("schema_ahead", err)],
        other => vec![ProblemJson::new("error", other)],
    }
}

/// The problems of a `migrations.sum` check, one per file that disagrees.
pub(crate) fn sum_problems(e: &SumError) -> Vec<ProblemJson> {
    match e {
        SumError::Mismatch(ms) => ms.iter().map(mismatch).collect(),
        SumError::MissingSumFile => vec![ProblemJson::new("sum_missing", e)],
        other => vec![ProblemJson::new("sum_invalid", other)],
    }
}

/// One file that disagrees with `migrations.sum`.
pub(crate) fn mismatch(m: &SumMismatch) -> ProblemJson {
    let path = match m {
        SumMismatch::NotListed(p) | SumMismatch::Absent(p) | SumMismatch::Changed(p) => {
            Some(p.clone())
        }
        _ => None,
    };
    ProblemJson::new("sum_mismatch", m).with_paths(path)
}

/// An entry of a versions folder that cannot be read (a named pipe, a name that is not
/// UTF-8, a file or folder without permission, a folder loop), at `rel`.
pub(crate) fn unreadable(rel: &str, e: &LoadError) -> ProblemJson {
    ProblemJson::new("invalid_migration", e).with_paths([rel].into_iter().filter(|r| !r.is_empty()))
}

/// A `migrations.sum` that cannot be read.
pub(crate) fn unreadable_sum(e: &LoadError) -> ProblemJson {
    ProblemJson::new("sum_invalid", e).with_paths([migrate_core::SUM_FILE])
}

/// One problem of a folder that does not load.
pub(crate) fn load_problem(p: &LoadProblem) -> ProblemJson {
    match p {
        LoadProblem::Parse(e) => ProblemJson::new("invalid_migration", p).with_paths([&e.path]),
        _ => ProblemJson::new("invalid_graph", p),
    }
}
