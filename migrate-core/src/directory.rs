//! Loading a versions folder: every `*.sql` file under it, parsed and validated as one
//! revision graph, with its `migrations.sum`.

use crate::checksum::{SumFile, SUM_FILE};
use crate::error::{LoadError, Origin, Problem, SumError};
use crate::revision::{RevisionMap, RevisionSpec};
use crate::script::Script;
use std::path::{Path, PathBuf};

/// A versions folder: its scripts in path order and their revision graph.
#[derive(Debug, Clone)]
pub struct ScriptDirectory {
    /// Scripts sorted by relative path.
    pub scripts: Vec<Script>,
    /// The validated graph; revision order follows `scripts`.
    pub map: RevisionMap,
}

/// Lists the migration files under `dir`: `*.sql`, recursively, skipping hidden files
/// and folders. Returns `(relative path with '/', absolute path)` sorted by relative path.
///
/// # Errors
/// [`LoadError::Io`] when the folder or a subfolder cannot be read.
pub fn scan(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    scan_with(dir, |_, _| {})
}

/// [`scan`], calling `before_listing(absolute, relative)` for every folder it lists
/// (`""` for `dir` itself) just before listing it: a cache that records the folders'
/// modification times there sees any entry added while it lists.
///
/// # Errors
/// As [`scan`].
pub fn scan_with(
    dir: &Path,
    mut before_listing: impl FnMut(&Path, &str),
) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        before_listing(&abs, &rel);
        let entries = std::fs::read_dir(&abs).map_err(|source| LoadError::Io {
            path: abs.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| LoadError::Io {
                path: abs.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let rel_path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let file_type = entry.file_type().map_err(|source| LoadError::Io {
                path: path.clone(),
                source,
            })?;
            let is_dir = file_type.is_dir() || (file_type.is_symlink() && path.is_dir());
            if is_dir {
                stack.push((path, rel_path));
            } else if name.ends_with(".sql") {
                out.push((rel_path, path));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

impl ScriptDirectory {
    /// Reads, parses and validates every migration under `dir`.
    ///
    /// # Errors
    /// [`LoadError::Io`] for unreadable files; [`LoadError::Invalid`] with every parse
    /// and graph problem found.
    pub fn load(dir: &Path) -> Result<ScriptDirectory, LoadError> {
        let mut files = Vec::new();
        for (rel, abs) in scan(dir)? {
            let bytes = std::fs::read(&abs).map_err(|source| LoadError::Io {
                path: abs.clone(),
                source,
            })?;
            files.push((rel, bytes));
        }
        Self::from_files(files)
    }

    /// Parses and validates in-memory files: `(relative path, bytes)`.
    ///
    /// # Errors
    /// [`LoadError::Invalid`] with every parse and graph problem found.
    pub fn from_files<P, B>(
        files: impl IntoIterator<Item = (P, B)>,
    ) -> Result<ScriptDirectory, LoadError>
    where
        P: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let mut problems = Vec::new();
        let mut scripts = Vec::new();
        for (path, bytes) in files {
            match Script::parse(path.as_ref(), bytes.as_ref()) {
                Ok(s) => scripts.push(s),
                Err(errs) => problems.extend(errs.into_iter().map(Problem::Parse)),
            }
        }
        match Self::from_scripts(scripts) {
            Ok(d) if problems.is_empty() => Ok(d),
            Ok(_) => Err(LoadError::Invalid(problems)),
            Err(LoadError::Invalid(more)) => {
                problems.extend(more);
                Err(LoadError::Invalid(problems))
            }
            Err(e) => Err(e),
        }
    }

    /// Validates already-parsed scripts as one graph, keeping their order.
    ///
    /// # Errors
    /// [`LoadError::Invalid`] with every graph problem.
    pub fn from_scripts(mut scripts: Vec<Script>) -> Result<ScriptDirectory, LoadError> {
        if !scripts.is_sorted_by(|a, b| a.path <= b.path) {
            scripts.sort_by(|a, b| a.path.cmp(&b.path));
        }
        let specs = scripts.iter().map(|s| RevisionSpec {
            id: s.revision.clone(),
            down_revisions: s.down_revisions.clone(),
            branch_labels: s.branch_labels.clone(),
            depends_on: s.depends_on.clone(),
            origin: Origin(Some(s.path.clone())),
        });
        let map = RevisionMap::new(specs)
            .map_err(|e| LoadError::Invalid(e.0.into_iter().map(Problem::Graph).collect()))?;
        Ok(ScriptDirectory { scripts, map })
    }

    /// The script of a revision id.
    pub fn script(&self, revision: &str) -> Option<&Script> {
        // The map keeps the scripts' order, so its index is the script's.
        self.map.by_id.get(revision).map(|&i| &self.scripts[i])
    }

    /// The sum file these scripts would have.
    pub fn sum_file(&self) -> SumFile {
        SumFile::from_entries(self.scripts.iter().map(|s| (s.path.clone(), s.checksum)))
    }

    /// Checks the scripts against the text of `migrations.sum` (`None` when absent).
    ///
    /// # Errors
    /// [`SumError`] naming every file that is unlisted, absent or changed.
    pub fn verify_sum(&self, sum_text: Option<&str>) -> Result<(), SumError> {
        let text = sum_text.ok_or(SumError::MissingSumFile)?;
        if self.sum_matches_in_order(text) {
            return Ok(());
        }
        SumFile::parse(text)?.verify(self.scripts.iter().map(|s| (s.path.as_str(), s.checksum)))
    }

    /// The common case without building maps: the sum lists exactly these scripts, in
    /// the same (path) order, with the same checksums. Anything else goes through the
    /// full comparison, which names every difference.
    fn sum_matches_in_order(&self, text: &str) -> bool {
        let mut scripts = self.scripts.iter();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let Some((hex, path)) = line.split_once("  ") else {
                return false;
            };
            match scripts.next() {
                Some(s) if s.path == path && s.checksum.matches_hex(hex) => {}
                _ => return false,
            }
        }
        scripts.next().is_none()
    }
}

/// Reads `migrations.sum` from a versions folder; `Ok(None)` when it does not exist.
///
/// # Errors
/// [`LoadError::Io`] when it exists but cannot be read.
pub fn read_sum_file(dir: &Path) -> Result<Option<String>, LoadError> {
    let path = dir.join(SUM_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LoadError::Io { path, source }),
    }
}
