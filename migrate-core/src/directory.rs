//! Loading a versions folder: every `*.sql` and `*.rs` file under it, parsed and
//! validated as one revision graph, with its `migrations.sum`.

use crate::checksum::{SumFile, SUM_FILE};
use crate::error::{LoadError, Origin, Problem, SumError};
use crate::revision::{RevisionMap, RevisionSpec};
use crate::script::{Script, ScriptKind};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// A versions folder: its scripts in [`path_order`] and their revision graph.
#[derive(Debug, Clone)]
pub struct ScriptDirectory {
    /// Scripts in [`path_order`] of their relative paths.
    pub scripts: Vec<Script>,
    /// The validated graph; revision order follows `scripts`.
    pub map: RevisionMap,
}

/// Lists the migration files under `dir`: `*.sql` and `*.rs` (Rust migrations),
/// recursively, skipping hidden files and folders. Returns `(relative path with '/', absolute path)` in [`path_order`]:
/// a folder's files by name, then its subfolders by name, as Alembic walks it.
///
/// Symbolic links are followed, and nothing is opened but folders: a migration entry
/// must be a regular file (a named pipe would block whoever opens it), and the names of
/// migrations and of folders must be UTF-8 without control characters, so that every
/// path can be written to `migrations.sum` and read back. Other entries are ignored.
///
/// # Errors
/// [`LoadError::Io`] when the folder or a subfolder cannot be read;
/// [`LoadError::NotAFile`], [`LoadError::NonUtf8Name`],
/// [`LoadError::ControlCharacterInName`] or [`LoadError::FolderLoop`] for the first
/// refused entry in path order.
pub fn scan(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    scan_with(dir, |_, _| {})
}

/// The extensions [`scan`] lists: those of [`ScriptKind::EXTENSIONS`].
const MIGRATION_EXTENSIONS: [&str; 2] = [ScriptKind::EXTENSIONS[0].0, ScriptKind::EXTENSIONS[1].0];

/// [`scan`] for files with other extensions (with the dot: `[".sql"]`), with the same
/// order and refusals: the declared schema folder lists only `*.sql`.
///
/// # Errors
/// As [`scan`].
pub fn scan_files(dir: &Path, extensions: &[&str]) -> Result<Vec<(String, PathBuf)>, LoadError> {
    first_refusal(scan_inner(dir, extensions, false, &mut |_, _| {})?)
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
    first_refusal(scan_inner(
        dir,
        &MIGRATION_EXTENSIONS,
        false,
        &mut before_listing,
    )?)
}

/// The files a walk found, or the refused entry that sorts first in [`path_order`], so
/// the error does not depend on the order the file system lists entries in.
fn first_refusal(found: Scanned) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let (files, refused) = found;
    match refused
        .into_iter()
        .min_by(|(a, _), (b, _)| path_order(a, b))
    {
        Some((_, e)) => Err(e),
        None => Ok(files),
    }
}

/// What a walk found: the files, and the refused entries by relative path.
type Scanned = (Vec<(String, PathBuf)>, Vec<(String, LoadError)>);

/// Walks `dir`. Without `collect`, an entry or subfolder that cannot be read ends the
/// walk with its error; with it, the walk records it among the refused entries and goes
/// on. `dir` itself that cannot be listed is an error either way.
fn scan_inner(
    dir: &Path,
    extensions: &[&str],
    collect: bool,
    before_listing: &mut dyn FnMut(&Path, &str),
) -> Result<Scanned, LoadError> {
    let root = std::fs::metadata(dir)
        .and_then(|m| folder_id(&m, dir))
        .map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    let mut walk = Walk {
        out: Vec::new(),
        refused: Vec::new(),
        collect,
        before_listing,
        extensions,
    };
    walk.folder(dir, "", &mut vec![(root, dir.to_path_buf())])?;
    Ok((walk.out, walk.refused))
}

/// The order of the files of a versions folder, Alembic's (`os.walk`, files sorted, then
/// folders sorted): a folder's files by name, then its subfolders by name, each in the
/// same order. So `m003.sql` comes before `alpha/x.sql`. Takes relative `/` paths.
pub fn path_order(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.split('/'), b.split('/'));
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) => {
                // A name that is not the last is a folder; files come first.
                let x_folder = a.clone().next().is_some();
                let y_folder = b.clone().next().is_some();
                match x_folder.cmp(&y_folder).then_with(|| x.cmp(y)) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            (x, y) => return x.is_some().cmp(&y.is_some()),
        }
    }
}

/// What tells folders apart: device and inode, so a link back to a folder being walked
/// is seen whatever path leads to it.
#[cfg(unix)]
type FolderId = (u64, u64);
#[cfg(not(unix))]
type FolderId = PathBuf;

#[cfg(unix)]
fn folder_id(meta: &std::fs::Metadata, _path: &Path) -> std::io::Result<FolderId> {
    use std::os::unix::fs::MetadataExt;
    Ok((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn folder_id(_meta: &std::fs::Metadata, path: &Path) -> std::io::Result<FolderId> {
    std::fs::canonicalize(path)
}

/// What a file that is not a regular file is, for messages.
fn kind_of(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "named pipe (FIFO)";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    if t.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

/// One folder walk: the files found and the refused entries by relative path.
struct Walk<'a> {
    out: Vec<(String, PathBuf)>,
    refused: Vec<(String, LoadError)>,
    /// Whether an entry that cannot be read is one more refusal rather than the end of
    /// the walk.
    collect: bool,
    before_listing: &'a mut dyn FnMut(&Path, &str),
    /// The extensions of the files listed, with the dot.
    extensions: &'a [&'a str],
}

impl Walk<'_> {
    fn refuse(&mut self, rel: String, e: LoadError) {
        self.refused.push((rel, e));
    }

    /// An entry (or a subfolder, `rel`) that could not be read: one more refusal when
    /// collecting, else the walk's error. The versions folder itself is always the
    /// walk's error.
    fn unreadable(&mut self, rel: &str, e: LoadError) -> Result<(), LoadError> {
        if self.collect && !rel.is_empty() {
            self.refuse(rel.to_string(), e);
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Lists `abs`; `ancestors` are the folders walked down to it, itself included.
    fn folder(
        &mut self,
        abs: &Path,
        rel: &str,
        ancestors: &mut Vec<(FolderId, PathBuf)>,
    ) -> Result<(), LoadError> {
        (self.before_listing)(abs, rel);
        let entries = match std::fs::read_dir(abs) {
            Ok(entries) => entries,
            Err(e) => return self.unreadable(rel, io_error(abs, e)),
        };
        let first_file = self.out.len();
        let mut subfolders = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    // The rest of this folder cannot be listed.
                    self.unreadable(rel, io_error(abs, e))?;
                    break;
                }
            };
            if let Some(subfolder) = self.entry(&entry, rel, ancestors)? {
                subfolders.push(subfolder);
            }
        }
        // Alembic's order (`os.walk`): this folder's files by name, then each subfolder
        // by name, walked the same way. Paths in one folder differ only by name.
        self.out[first_file..].sort_unstable_by(|a, b| a.0.cmp(&b.0));
        subfolders.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (rel_path, path, id) in subfolders {
            ancestors.push((id, path.clone()));
            let walked = self.folder(&path, &rel_path, ancestors);
            ancestors.pop();
            walked?;
        }
        Ok(())
    }

    /// One entry of the folder `rel`: a migration file is kept, a subfolder returned to
    /// be walked, anything refused is noted, and other entries are ignored.
    fn entry(
        &mut self,
        entry: &std::fs::DirEntry,
        rel: &str,
        ancestors: &[(FolderId, PathBuf)],
    ) -> Result<Option<Subfolder>, LoadError> {
        let name = entry.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.starts_with(b".") {
            return Ok(None);
        }
        let is_listed = self
            .extensions
            .iter()
            .any(|ext| bytes.ends_with(ext.as_bytes()));
        let path = entry.path();
        let rel_path = {
            let name = name.to_string_lossy();
            if rel.is_empty() {
                name.into_owned()
            } else {
                format!("{rel}/{name}")
            }
        };
        let Some(meta) = self.followed(entry, is_listed, &rel_path, &path)? else {
            return Ok(None);
        };
        let kind = meta.kind();
        if !kind.is_dir() && !is_listed {
            return Ok(None);
        }
        let Some(name) = name.to_str() else {
            self.refuse(rel_path, LoadError::NonUtf8Name { path });
            return Ok(None);
        };
        if let Some(ch) = name.chars().find(|c| c.is_control()) {
            self.refuse(rel_path, LoadError::ControlCharacterInName { path, ch });
            return Ok(None);
        }
        match meta {
            Followed::Stat(meta) if kind.is_dir() => {
                self.subfolder(rel_path, path, &meta, ancestors)
            }
            _ if kind.is_file() => {
                self.out.push((rel_path, path));
                Ok(None)
            }
            _ => {
                let kind = kind_of(kind);
                self.refuse(rel_path, LoadError::NotAFile { path, kind });
                Ok(None)
            }
        }
    }

    /// What the entry is, through symbolic links; `stat` never opens the file. `None`
    /// when the entry is left out: refused, or a dangling link that is not a migration.
    fn followed(
        &mut self,
        entry: &std::fs::DirEntry,
        is_listed: bool,
        rel_path: &str,
        path: &Path,
    ) -> Result<Option<Followed>, LoadError> {
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                self.unreadable(rel_path, io_error(path, e))?;
                return Ok(None);
            }
        };
        if file_type.is_symlink() {
            match std::fs::metadata(path) {
                Ok(m) => Ok(Some(Followed::Stat(m))),
                Err(source) if is_listed => {
                    let path = path.to_path_buf();
                    self.refuse(rel_path.to_string(), LoadError::Io { path, source });
                    Ok(None)
                }
                // A dangling link that is not a migration is ignored, as before.
                Err(_) => Ok(None),
            }
        } else if file_type.is_dir() {
            match entry.metadata() {
                Ok(m) => Ok(Some(Followed::Stat(m))),
                Err(e) => {
                    self.unreadable(rel_path, io_error(path, e))?;
                    Ok(None)
                }
            }
        } else {
            Ok(Some(Followed::Type(file_type)))
        }
    }

    /// The subfolder at `path` to walk, unless it is one of its own `ancestors` (a link
    /// back up), which is refused.
    fn subfolder(
        &mut self,
        rel_path: String,
        path: PathBuf,
        meta: &std::fs::Metadata,
        ancestors: &[(FolderId, PathBuf)],
    ) -> Result<Option<Subfolder>, LoadError> {
        let id = match folder_id(meta, &path) {
            Ok(id) => id,
            Err(e) => {
                self.unreadable(&rel_path, io_error(&path, e))?;
                return Ok(None);
            }
        };
        if let Some((_, target)) = ancestors.iter().find(|(a, _)| *a == id) {
            let target = target.clone();
            self.refuse(rel_path, LoadError::FolderLoop { link: path, target });
            return Ok(None);
        }
        Ok(Some((rel_path, path, id)))
    }
}

/// A subfolder found while listing a folder: `(relative path, path, identity)`.
type Subfolder = (String, PathBuf, FolderId);

/// What a folder entry is: its metadata where it was needed (a link followed, or a
/// folder, whose identity detects loops), else the type its listing gave.
enum Followed {
    Stat(std::fs::Metadata),
    Type(std::fs::FileType),
}

impl Followed {
    fn kind(&self) -> std::fs::FileType {
        match self {
            Followed::Stat(meta) => meta.file_type(),
            Followed::Type(t) => *t,
        }
    }
}

/// The error of `path` that could not be read.
fn io_error(path: &Path, source: std::io::Error) -> LoadError {
    LoadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a file of a versions folder. Anything but a regular file (after symbolic
/// links) is refused before it is opened.
///
/// # Errors
/// [`LoadError::NotAFile`] for a named pipe, socket, device or folder;
/// [`LoadError::Io`] when it cannot be read.
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    std::fs::read(path).map_err(io)
}

/// Parses every file: the scripts of those that parse, and every problem of the others.
fn parse_each<P, B>(files: impl IntoIterator<Item = (P, B)>) -> (Vec<Script>, Vec<Problem>)
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
    (scripts, problems)
}

/// A versions folder read as far as it goes, with every problem found, for a check
/// that lists them all (`migrate verify`): [`ScriptDirectory::load`] stops at the first
/// entry it cannot read, and has no graph once a file does not parse.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inspection {
    /// The migration files read, `(relative path, bytes)`, in [`path_order`].
    pub files: Vec<(String, Vec<u8>)>,
    /// The entries that could not be read, `(relative path, why)`, in [`path_order`]:
    /// what [`scan`] refuses (every one, not the first), subfolders that cannot be
    /// listed, and files that cannot be read.
    pub unreadable: Vec<(String, LoadError)>,
    /// The problems of the files read that do not parse, then those of the graph of the
    /// files that do.
    pub problems: Vec<Problem>,
    /// The folder, when every file was read and parsed and the graph is valid: only
    /// then are its heads the folder's.
    pub directory: Option<ScriptDirectory>,
}

impl Inspection {
    /// Whether nothing is wrong with the folder (its `migrations.sum` aside).
    pub fn is_valid(&self) -> bool {
        self.directory.is_some()
    }
}

impl ScriptDirectory {
    /// Reads, parses and validates every migration under `dir` as far as it can,
    /// collecting every problem where [`ScriptDirectory::load`] stops at the first
    /// unreadable entry.
    ///
    /// # Errors
    /// [`LoadError::Io`] only when `dir` itself cannot be listed.
    pub fn inspect(dir: &Path) -> Result<Inspection, LoadError> {
        let (found, mut unreadable) = scan_inner(dir, &MIGRATION_EXTENSIONS, true, &mut |_, _| {})?;
        let mut files = Vec::with_capacity(found.len());
        for (rel, abs) in found {
            match read_regular_file(&abs) {
                Ok(bytes) => files.push((rel, bytes)),
                Err(e) => unreadable.push((rel, e)),
            }
        }
        unreadable.sort_by(|(a, _), (b, _)| path_order(a, b));
        let (scripts, mut problems) = parse_each(files.iter().map(|(p, b)| (p, b)));
        let complete = problems.is_empty() && unreadable.is_empty();
        let directory = match Self::from_scripts(scripts) {
            Ok(d) => complete.then_some(d),
            Err(LoadError::Invalid(graph)) => {
                problems.extend(graph);
                None
            }
            Err(e) => {
                unreadable.push((String::new(), e));
                None
            }
        };
        Ok(Inspection {
            files,
            unreadable,
            problems,
            directory,
        })
    }

    /// Reads, parses and validates every migration under `dir`.
    ///
    /// # Errors
    /// [`LoadError::Io`] for unreadable files; the refusals of [`scan`];
    /// [`LoadError::Invalid`] with every parse and graph problem found.
    pub fn load(dir: &Path) -> Result<ScriptDirectory, LoadError> {
        let mut files = Vec::new();
        for (rel, abs) in scan(dir)? {
            files.push((rel, read_regular_file(&abs)?));
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
        let (scripts, mut problems) = parse_each(files);
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
        if !scripts.is_sorted_by(|a, b| path_order(&a.path, &b.path).is_le()) {
            scripts.sort_by(|a, b| path_order(&a.path, &b.path));
        }
        let owned = |ids: &[std::borrow::Cow<'static, str>]| -> Vec<String> {
            ids.iter().map(|id| id.to_string()).collect()
        };
        let specs = scripts.iter().map(|s| RevisionSpec {
            id: s.revision.to_string(),
            down_revisions: owned(&s.down_revisions),
            branch_labels: owned(&s.branch_labels),
            depends_on: owned(&s.depends_on),
            origin: Origin(Some(s.path.to_string())),
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
        SumFile::from_entries(
            self.scripts
                .iter()
                .map(|s| (s.path.to_string(), s.checksum)),
        )
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
        SumFile::parse(text)?.verify(self.scripts.iter().map(|s| (&*s.path, s.checksum)))
    }

    /// The common case without building maps: the sum lists exactly these scripts, in
    /// the same (path) order, with the same checksums. Anything else goes through the
    /// full comparison, which names every difference.
    fn sum_matches_in_order(&self, text: &str) -> bool {
        // `migrations.sum` lists paths in plain string order; the scripts differ from it
        // only when a folder's files sort after one of its subfolders' names.
        let mut scripts: Box<dyn Iterator<Item = &Script>> =
            if self.scripts.is_sorted_by(|a, b| a.path <= b.path) {
                Box::new(self.scripts.iter())
            } else {
                let mut by_path: Vec<&Script> = self.scripts.iter().collect();
                by_path.sort_unstable_by(|a, b| a.path.cmp(&b.path));
                Box::new(by_path.into_iter())
            };
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
/// [`LoadError::NotAFile`] when it is not a regular file (it is not opened);
/// [`LoadError::Io`] when it exists but cannot be read.
pub fn read_sum_file(dir: &Path) -> Result<Option<String>, LoadError> {
    let path = dir.join(SUM_FILE);
    match std::fs::metadata(&path) {
        Ok(m) if !m.is_file() => Err(LoadError::NotAFile {
            kind: kind_of(m.file_type()),
            path,
        }),
        Ok(_) => match std::fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(source) => Err(LoadError::Io { path, source }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LoadError::Io { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// A fresh folder under the system's temp dir, removed on drop (the core crate has
    /// no `tempfile`).
    struct Temp(PathBuf);

    impl Temp {
        fn new() -> Temp {
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "migrate-core-directory-{}-{}",
                std::process::id(),
                N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(p.join("m")).unwrap();
            Temp(p)
        }

        /// The versions folder.
        fn m(&self) -> PathBuf {
            self.0.join("m")
        }

        fn write(&self, rel: &str, rev: &str, down: &str) {
            let path = self.m().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = format!(
                "-- {rev}\n-- revision: {rev}\n-- down_revision: {down}\n\n-- migrate:upgrade\nSELECT 1;\n"
            );
            std::fs::write(path, text).unwrap();
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Runs `f` on another thread and fails the test if it has not returned within ten
    /// seconds (opening a named pipe blocks until a writer comes).
    fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the loader blocked: it opened a named pipe")
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {}", path.display());
    }

    #[test]
    fn scan_lists_sql_files_recursively_and_skips_hidden_ones() {
        let t = Temp::new();
        t.write("b.sql", "b", "a");
        t.write("a.sql", "a", "");
        t.write("sub/c.sql", "c", "b");
        t.write(".hidden/d.sql", "d", "c");
        t.write(".e.sql", "e", "c");
        std::fs::write(t.m().join("notes.txt"), "x").unwrap();
        let rels: Vec<String> = scan(&t.m()).unwrap().into_iter().map(|(r, _)| r).collect();
        assert_eq!(rels, ["a.sql", "b.sql", "sub/c.sql"]);
        assert_eq!(ScriptDirectory::load(&t.m()).unwrap().map.heads(), ["c"]);
    }

    #[test]
    fn a_nul_byte_in_a_migration_is_refused_by_the_loader() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        t.write("b.sql", "b", "a");
        let b = t.m().join("b.sql");
        let text = std::fs::read_to_string(&b).unwrap();
        let text = text.replace("SELECT 1;\n", "SELECT 1;\0\nSELECT 2;\n");
        std::fs::write(&b, text).unwrap();
        let err = ScriptDirectory::load(&t.m()).unwrap_err();
        let LoadError::Invalid(problems) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(err.to_string().contains("b.sql:6: a NUL byte"), "{err}");
    }

    #[test]
    fn rust_migrations_join_the_sql_ones_in_one_graph() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        std::fs::write(
            t.m().join("b_backfill.rs"),
            "// backfill\n// revision: b\n// down_revision: a\n\npub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {\n    Ok(())\n}\n",
        )
        .unwrap();
        t.write("sub/c.sql", "c", "b");
        let rels: Vec<String> = scan(&t.m()).unwrap().into_iter().map(|(r, _)| r).collect();
        assert_eq!(rels, ["a.sql", "b_backfill.rs", "sub/c.sql"]);
        let sql_only: Vec<String> = scan_files(&t.m(), &[".sql"])
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(sql_only, ["a.sql", "sub/c.sql"]);
        let d = ScriptDirectory::load(&t.m()).unwrap();
        assert_eq!(d.map.heads(), ["c"]);
        let b = d.script("b").unwrap();
        assert!(b.is_rust() && !b.is_reversible());
        assert_eq!(b.message, "backfill");
        assert!(d.sum_file().render().contains("  b_backfill.rs\n"));
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_named_sql_is_refused_without_being_opened() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        mkfifo(&t.m().join("b.sql"));
        let m = t.m();
        let err = within_seconds(move || ScriptDirectory::load(&m).unwrap_err());
        assert!(
            matches!(&err, LoadError::NotAFile { path, kind: "named pipe (FIFO)" } if path.ends_with("m/b.sql")),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` is a named pipe (FIFO), not a regular file; replace it with a regular file or remove it",
                t.m().join("b.sql").display()
            )
        );
        let m = t.m().join("b.sql");
        let err = within_seconds(move || read_regular_file(&m).unwrap_err());
        assert!(matches!(err, LoadError::NotAFile { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_not_named_sql_is_ignored() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        mkfifo(&t.m().join("pipe"));
        mkfifo(&t.m().join(".pipe.sql"));
        let m = t.m();
        let d = within_seconds(move || ScriptDirectory::load(&m).unwrap());
        assert_eq!(d.scripts.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_as_the_sum_file_is_refused_without_being_opened() {
        let t = Temp::new();
        mkfifo(&t.m().join(SUM_FILE));
        let m = t.m();
        let err = within_seconds(move || read_sum_file(&m).unwrap_err());
        assert!(matches!(err, LoadError::NotAFile { .. }), "{err:?}");
        assert!(err.to_string().contains("migrations.sum` is a named pipe"));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_to_a_named_pipe_is_refused() {
        let t = Temp::new();
        mkfifo(&t.0.join("pipe"));
        std::os::unix::fs::symlink(t.0.join("pipe"), t.m().join("a.sql")).unwrap();
        let m = t.m();
        let err = within_seconds(move || scan(&m).unwrap_err());
        assert!(matches!(err, LoadError::NotAFile { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_refused() {
        use std::os::unix::ffi::OsStrExt;
        let t = Temp::new();
        t.write("a.sql", "a", "");
        let bad = t.m().join(std::ffi::OsStr::from_bytes(b"a4\xff.sql"));
        std::fs::write(
            &bad,
            "-- x\n-- revision: x\n-- down_revision: a\n\n-- migrate:upgrade\nSELECT 1;\n",
        )
        .unwrap();
        let err = scan(&t.m()).unwrap_err();
        assert!(
            matches!(&err, LoadError::NonUtf8Name { path } if *path == bad),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "the name of `{}/a4\u{fffd}.sql` is not valid UTF-8; rename it",
                t.m().display()
            )
        );
        assert!(matches!(
            ScriptDirectory::load(&t.m()),
            Err(LoadError::NonUtf8Name { .. })
        ));

        // A folder too, since its files would get lossy paths; other entries are ignored.
        std::fs::remove_file(&bad).unwrap();
        std::fs::write(
            t.m().join(std::ffi::OsStr::from_bytes(b"notes\xff.txt")),
            "x",
        )
        .unwrap();
        assert_eq!(scan(&t.m()).unwrap().len(), 1);
        t.write("sub\u{1}/b.sql", "b", "a");
        std::fs::rename(
            t.m().join("sub\u{1}"),
            t.m().join(std::ffi::OsStr::from_bytes(b"s\xfe")),
        )
        .unwrap();
        assert!(matches!(scan(&t.m()), Err(LoadError::NonUtf8Name { .. })));
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        for name in [
            "a\n.sql",
            "a\r.sql",
            "a\t.sql",
            "a\u{1b}.sql",
            "a\u{85}.sql",
        ] {
            let t = Temp::new();
            t.write("a.sql", "a", "");
            if std::fs::write(t.m().join(name), "x").is_err() {
                continue; // a file system that refuses the name itself
            }
            let err = scan(&t.m()).unwrap_err();
            let ch = name.chars().nth(1).unwrap();
            assert!(
                matches!(&err, LoadError::ControlCharacterInName { ch: c, .. } if *c == ch),
                "{name:?}: {err:?}"
            );
            let msg = err.to_string();
            assert!(!msg.contains(ch), "the message stays on one line: {msg:?}");
            assert!(
                msg.ends_with(&format!("contains the control character {ch:?}; rename it")),
                "{msg}"
            );
        }
        // `migrate hash` would write this sum file and fail to read it back.
        let t = Temp::new();
        t.write("x\ny/b.sql", "b", "");
        let err = ScriptDirectory::load(&t.m()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the name of `{}/x\\ny` contains the control character '\\n'; rename it",
                t.m().display()
            )
        );
        // Ignored when it is neither a migration nor a folder.
        let t = Temp::new();
        std::fs::write(t.m().join("notes\n.txt"), "x").unwrap();
        assert!(scan(&t.m()).unwrap().is_empty());
    }

    #[test]
    fn the_first_refused_entry_in_path_order_is_reported() {
        let t = Temp::new();
        for name in ["d\n.sql", "b\n.sql", "c\n.sql", "e\n.sql"] {
            std::fs::write(t.m().join(name), "x").unwrap();
        }
        let err = scan(&t.m()).unwrap_err();
        assert!(
            matches!(&err, LoadError::ControlCharacterInName { path, .. } if path.ends_with("b\n.sql")),
            "{err:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn inspect_collects_every_refused_entry_and_every_problem() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        t.write("b.sql", "b", "zz");
        std::fs::write(t.m().join("c\n.sql"), "x").unwrap();
        std::fs::write(t.m().join("d.sql"), "-- d\n").unwrap();
        std::fs::create_dir(t.m().join("sub")).unwrap();
        mkfifo(&t.m().join("sub/e.sql"));
        std::os::unix::fs::symlink(".", t.m().join("sub/loop")).unwrap();
        let found = within_seconds({
            let m = t.m();
            move || ScriptDirectory::inspect(&m).unwrap()
        });
        let files: Vec<&str> = found.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(files, ["a.sql", "b.sql", "d.sql"]);
        let refused: Vec<&str> = found.unreadable.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(refused, ["c\n.sql", "sub/e.sql", "sub/loop"]);
        assert!(matches!(found.unreadable[1].1, LoadError::NotAFile { .. }));
        // `d.sql`'s parse problems, then the graph of `a` and `b`.
        assert!(matches!(found.problems.first(), Some(Problem::Parse(e)) if e.path == "d.sql"));
        assert!(
            matches!(found.problems.last(), Some(Problem::Graph(e)) if e.to_string().contains("`zz`")),
            "{:?}",
            found.problems
        );
        assert!(found.directory.is_none());
        // `scan` still stops at the first refusal in path order.
        assert!(matches!(
            scan(&t.m()),
            Err(LoadError::ControlCharacterInName { .. })
        ));
    }

    #[test]
    fn inspect_gives_the_directory_only_when_everything_loads() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        t.write("b.sql", "b", "a");
        let found = ScriptDirectory::inspect(&t.m()).unwrap();
        assert!(found.unreadable.is_empty() && found.problems.is_empty());
        let dir = found.directory.expect("loads");
        assert_eq!(dir.map.heads(), ["b"]);
        assert_eq!(
            dir.scripts.len(),
            ScriptDirectory::load(&t.m()).unwrap().scripts.len()
        );
        // A head that does not parse: no heads are claimed for the rest.
        std::fs::write(t.m().join("c.sql"), "-- c\n-- revision: c\n").unwrap();
        let found = ScriptDirectory::inspect(&t.m()).unwrap();
        assert!(found.directory.is_none());
        assert!(!found.problems.is_empty());
        // A folder that cannot be listed is still an error.
        assert!(matches!(
            ScriptDirectory::inspect(&t.0.join("missing")),
            Err(LoadError::Io { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_loop_is_one_error_naming_the_link() {
        let t = Temp::new();
        t.write("a.sql", "a", "");
        t.write("sub/b.sql", "b", "a");
        std::os::unix::fs::symlink(".", t.m().join("self")).unwrap();
        let err = ScriptDirectory::load(&t.m()).unwrap_err();
        assert!(
            matches!(&err, LoadError::FolderLoop { link, target } if *link == t.m().join("self") && *target == t.m()),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "`{0}/self` leads back to `{0}`, a folder that contains it, so the folder walk would never end; remove the link",
                t.m().display()
            )
        );

        // Through two folders: a/to_b -> ../b, b/to_a -> ../a.
        let t = Temp::new();
        t.write("a/x.sql", "x", "");
        t.write("b/y.sql", "y", "x");
        std::os::unix::fs::symlink("../b", t.m().join("a/to_b")).unwrap();
        std::os::unix::fs::symlink("../a", t.m().join("b/to_a")).unwrap();
        let err = scan(&t.m()).unwrap_err();
        assert!(
            matches!(&err, LoadError::FolderLoop { link, target } if link.ends_with("a/to_b/to_a") && *target == t.m().join("a")),
            "{err:?}"
        );

        // A link to a folder elsewhere is followed, not a loop.
        let t = Temp::new();
        std::fs::create_dir_all(t.0.join("shared")).unwrap();
        std::fs::write(t.0.join("shared/s.sql"), "x").unwrap();
        std::os::unix::fs::symlink("../shared", t.m().join("shared")).unwrap();
        let rels: Vec<String> = scan(&t.m()).unwrap().into_iter().map(|(r, _)| r).collect();
        assert_eq!(rels, ["shared/s.sql"]);
    }

    #[test]
    fn map_paths_rewrites_every_path() {
        let e = LoadError::FolderLoop {
            link: PathBuf::from("/abs/m/self"),
            target: PathBuf::from("/abs/m"),
        };
        let e = e.map_paths(|p| p.strip_prefix("/abs").map(Path::to_path_buf).unwrap_or(p));
        assert!(
            matches!(&e, LoadError::FolderLoop { link, target } if *link == Path::new("m/self") && *target == Path::new("m"))
        );
    }

    #[test]
    fn path_order_puts_a_folders_files_before_its_subfolders() {
        let mut paths = vec![
            "beta/b.sql",
            "alpha/deep/a.sql",
            "z.sql",
            "alpha/y.sql",
            "m003.sql",
            "alpha/x.sql",
            "alpha/deep/z/q.sql",
            "alpha/deep/b.sql",
        ];
        paths.sort_by(|a, b| path_order(a, b));
        assert_eq!(
            paths,
            [
                "m003.sql",
                "z.sql",
                "alpha/x.sql",
                "alpha/y.sql",
                "alpha/deep/a.sql",
                "alpha/deep/b.sql",
                "alpha/deep/z/q.sql",
                "beta/b.sql",
            ]
        );
        assert_eq!(path_order("a.sql", "a.sql"), Ordering::Equal);
        // A file and a folder of the same name: the file first.
        assert_eq!(path_order("a", "a/b.sql"), Ordering::Less);
        assert_eq!(path_order("a/b.sql", "a"), Ordering::Greater);
    }

    #[test]
    fn scan_and_load_follow_alembics_walk() {
        let t = Temp::new();
        t.write("alpha/x.sql", "x", "");
        t.write("alpha/deep/d.sql", "d", "");
        t.write("m003.sql", "m", "");
        t.write("beta/b.sql", "b", "");
        t.write("a001.sql", "a", "");
        let want = [
            "a001.sql",
            "m003.sql",
            "alpha/x.sql",
            "alpha/deep/d.sql",
            "beta/b.sql",
        ];
        let rels: Vec<String> = scan(&t.m()).unwrap().into_iter().map(|(r, _)| r).collect();
        assert_eq!(rels, want);
        let d = ScriptDirectory::load(&t.m()).unwrap();
        let paths: Vec<&str> = d.scripts.iter().map(|s| &*s.path).collect();
        assert_eq!(paths, want);
        // The graph keeps that order: five roots, five heads, in file order.
        assert_eq!(d.map.heads(), ["a", "m", "x", "d", "b"]);

        // In-memory files are put in the same order.
        let mut files: Vec<(String, Vec<u8>)> = want
            .iter()
            .map(|p| (p.to_string(), std::fs::read(t.m().join(p)).unwrap()))
            .collect();
        files.reverse();
        let from_files = ScriptDirectory::from_files(files).unwrap();
        assert_eq!(from_files.scripts, d.scripts);

        // migrations.sum stays in plain path order and still matches, quickly or not.
        let sum = d.sum_file().render();
        let listed: Vec<&str> = sum.lines().map(|l| &l[66..]).collect();
        assert_eq!(
            listed,
            [
                "a001.sql",
                "alpha/deep/d.sql",
                "alpha/x.sql",
                "beta/b.sql",
                "m003.sql"
            ]
        );
        assert!(d.sum_matches_in_order(&sum));
        assert_eq!(d.verify_sum(Some(&sum)), Ok(()));
        let edited = sum.replacen(&sum[..64], &"0".repeat(64), 1);
        assert!(!d.sum_matches_in_order(&edited));
        assert!(matches!(
            d.verify_sum(Some(&edited)),
            Err(SumError::Mismatch(_))
        ));
    }
}
