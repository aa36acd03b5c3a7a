//! A parse cache for versions folders, so that a command on thousands of migrations
//! costs one `stat` per file instead of open, read and parse.
//!
//! The folders' listing is cached too, under each folder's own key: adding, removing or
//! renaming an entry moves a folder's modification time, so while no folder moved the
//! listing is reused and only the files are stat-ed (an edit in place moves only the
//! file's times).
//! Like git's index, an entry is reused only when the file's size, modification time,
//! change time and inode are unchanged; files modified in the last two seconds are never
//! cached ("racily clean" files are re-read). The cache lives in `$MIGRATE_CACHE_DIR`,
//! else `$XDG_CACHE_HOME/migrate`, else `~/.cache/migrate` (a folder only the user can
//! write), one file per versions folder; `MIGRATE_NO_CACHE=1` turns it off. Any problem
//! with the cache (missing, corrupt, unwritable) falls back to reading every file.

use crate::error::CliError;
use migrate_core::directory::{path_order, read_regular_file};
use migrate_core::{scan_with, Checksum, Dialect, Script, ScriptDirectory, ScriptKind, Section};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

// v3: listings include `.rs` migrations (a v2 listing would hide them).
const MAGIC: &[u8] = b"migrate-cache v3\n";

/// Files changed this recently (by change time, which tools cannot set) are re-read.
const RACY_NS: i128 = 2_000_000_000;

/// What identifies an unchanged file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    len: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
}

/// Loads a versions folder, using and refreshing the cache when possible. Without
/// `with_sql` the scripts have no SQL sections (enough for listings and checks, and
/// cheaper to decode).
///
/// # Errors
/// As [`ScriptDirectory::load`].
pub(crate) fn load(dir: &Path, with_sql: bool) -> Result<ScriptDirectory, CliError> {
    match cache_file(dir) {
        Some(cache) => load_cached(dir, &cache, RACY_NS, with_sql),
        None => Ok(ScriptDirectory::load(dir)?),
    }
}

fn cache_root() -> Option<PathBuf> {
    if std::env::var_os("MIGRATE_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    if let Some(d) = std::env::var_os("MIGRATE_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("migrate"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("migrate"))
}

fn cache_file(dir: &Path) -> Option<PathBuf> {
    if !cfg!(unix) {
        return None;
    }
    let root = cache_root()?;
    let abs = std::fs::canonicalize(dir).ok()?;
    let hash = Checksum::of(abs.as_os_str().as_encoded_bytes()).to_hex();
    Some(root.join(format!("{}.bin", &hash[..24])))
}

#[cfg(unix)]
fn key_of_metadata(m: &std::fs::Metadata) -> Key {
    use std::os::unix::fs::MetadataExt;
    Key {
        len: m.len(),
        mtime: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        ctime: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        ino: m.ino(),
    }
}

/// Stats every file; on Linux relative to the folder's descriptor, which spares the
/// kernel walking the folder's path again for each of thousands of files. Anything but
/// a regular file has no key, so it is never taken from the cache (and the loader
/// refuses it without opening it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keys_of(dir: &Path, files: &[Cow<'_, str>]) -> Vec<Option<Key>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    // O_DIRECTORY: whatever `dir` has become, only a folder is opened.
    let folder = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir);
    let Ok(folder) = folder else {
        return files
            .iter()
            .map(|rel| key_of_file(&dir.join(&**rel)))
            .collect();
    };
    let fd = folder.as_raw_fd();
    let mut name: Vec<u8> = Vec::with_capacity(256);
    files
        .iter()
        .map(|rel| {
            name.clear();
            name.extend_from_slice(rel.as_bytes());
            name.push(0);
            let name = std::ffi::CStr::from_bytes_with_nul(&name).ok()?;
            // SAFETY: `st` is a plain C struct that fstatat fills; `fd` is open for the
            // whole loop and `name` is NUL-terminated.
            let st = unsafe {
                let mut st: libc::stat = std::mem::zeroed();
                if libc::fstatat(fd, name.as_ptr(), &mut st, 0) != 0 {
                    return None;
                }
                st
            };
            if st.st_mode & libc::S_IFMT != libc::S_IFREG {
                return None;
            }
            Some(Key {
                len: st.st_size as u64,
                mtime: i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec),
                ctime: i128::from(st.st_ctime) * 1_000_000_000 + i128::from(st.st_ctime_nsec),
                ino: st.st_ino,
            })
        })
        .collect()
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keys_of(dir: &Path, files: &[Cow<'_, str>]) -> Vec<Option<Key>> {
    files
        .iter()
        .map(|rel| key_of_file(&dir.join(&**rel)))
        .collect()
}

#[cfg(unix)]
fn key_of_path(path: &Path) -> Option<Key> {
    std::fs::metadata(path).ok().map(|m| key_of_metadata(&m))
}

/// [`key_of_path`] for a migration: none unless it is a regular file.
#[cfg(unix)]
fn key_of_file(path: &Path) -> Option<Key> {
    std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| key_of_metadata(&m))
}

#[cfg(not(unix))]
fn key_of_file(_path: &Path) -> Option<Key> {
    None
}

#[cfg(not(unix))]
fn key_of_path(_path: &Path) -> Option<Key> {
    None
}

fn load_cached(
    dir: &Path,
    cache: &Path,
    racy_ns: i128,
    with_sql: bool,
) -> Result<ScriptDirectory, CliError> {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let racy = |k: &Key| now_ns - k.mtime.max(k.ctime) < racy_ns;
    let bytes = std::fs::read(cache).unwrap_or_default();
    let header = decode_header(&bytes);
    // A folder's modification time moves whenever an entry is added, removed or
    // renamed in it, so while no listed folder moved, the listing is still right and
    // only the files need a stat (for edits in place).
    let reuse = header.as_ref().is_some_and(|h| {
        !h.folders.is_empty()
            && h.folders.iter().all(|(rel, k)| {
                key_of_path(&dir.join(rel)).is_some_and(|now| now == *k && !racy(&now))
            })
    });
    let mut folders: Vec<(String, Option<Key>)> = Vec::new();
    let files: Vec<Cow<'_, str>> = match &header {
        Some(h) if reuse => {
            folders = h
                .folders
                .iter()
                .map(|(r, k)| (r.to_string(), Some(*k)))
                .collect();
            h.listing.iter().map(|r| Cow::Borrowed(*r)).collect()
        }
        _ => scan_with(dir, |abs, rel| {
            folders.push((rel.to_string(), key_of_path(abs)))
        })?
        .into_iter()
        .map(|(rel, _)| Cow::Owned(rel))
        .collect(),
    };
    let entries = header.as_ref().map(|h| h.entries).unwrap_or_default();
    // Decoding the entries and stat-ing every file take about as long as each other: do
    // them at the same time.
    let (keys, cached) = std::thread::scope(|scope| {
        let decoder = scope.spawn(|| decode_entries(entries, with_sql).unwrap_or_default());
        let keys = keys_in_parallel(dir, &files);
        (keys, decoder.join().unwrap_or_default())
    });
    let mut scripts = Vec::with_capacity(files.len());
    // The key each script is cached under (none for files changed too recently).
    let mut kept: Vec<Option<Key>> = Vec::with_capacity(files.len());
    let mut missed = cached.len() != files.len();
    // Both lists are in the loader's path order: walk them together.
    let mut cached = cached.into_iter().peekable();
    for (rel, key) in files.iter().zip(keys) {
        let rel: &str = rel;
        while cached
            .next_if(|(_, s)| path_order(&s.path, rel).is_lt())
            .is_some()
        {}
        let hit = match (key, cached.next_if(|(_, s)| s.path == rel)) {
            (Some(k), Some((ck, s))) if k == ck && !racy(&k) => Some(s),
            _ => None,
        };
        let script = match hit {
            Some(s) => s,
            None if !with_sql => return load_cached(dir, cache, racy_ns, true),
            None => {
                missed = true;
                let bytes = read_regular_file(&dir.join(rel))?;
                match Script::parse(rel, &bytes) {
                    Ok(s) => s,
                    // Report exactly what the uncached loader reports.
                    Err(_) => return Ok(ScriptDirectory::load(dir)?),
                }
            }
        };
        kept.push(key.filter(|k| !racy(k)));
        scripts.push(script);
    }
    let directory = ScriptDirectory::from_scripts(scripts)?;
    // A listing is only worth keeping when no folder changed too recently to tell.
    let folders: Vec<(String, Key)> = folders
        .into_iter()
        .map(|(r, k)| k.filter(|k| !racy(k)).map(|k| (r, k)))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    let listing: Vec<&str> = files.iter().map(|f| &**f).collect();
    if missed && with_sql {
        let mut out = encode_header(&folders, &listing);
        encode_entries(
            &mut out,
            directory
                .scripts
                .iter()
                .zip(&kept)
                .filter_map(|(s, k)| k.map(|k| (k, s))),
        );
        write_atomically(cache, &out);
    } else if !reuse && !missed && !folders.is_empty() {
        // Same entries, a new listing (e.g. a file other than a migration was added).
        let mut out = encode_header(&folders, &listing);
        out.extend_from_slice(entries);
        write_atomically(cache, &out);
    }
    Ok(directory)
}

/// Stats the files on two threads when there are many.
fn keys_in_parallel(dir: &Path, files: &[Cow<'_, str>]) -> Vec<Option<Key>> {
    if files.len() < 1024 {
        return keys_of(dir, files);
    }
    let (a, b) = files.split_at(files.len() / 2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| keys_of(dir, b));
        let mut keys = keys_of(dir, a);
        match second.join() {
            Ok(more) => keys.extend(more),
            Err(_) => keys.extend(keys_of(dir, b)),
        }
        keys
    })
}

/// Best effort: a cache that cannot be written is simply not used next time.
fn write_atomically(path: &Path, bytes: &[u8]) {
    let Some(parent) = path.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700));
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

// ---- encoding ------------------------------------------------------------------------

struct W(Vec<u8>);

impl W {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i128(&mut self, v: i128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn strs(&mut self, v: &[String]) {
        self.u64(v.len() as u64);
        for s in v {
            self.str(s);
        }
    }
    fn sections(&mut self, v: &[Section]) {
        self.u64(v.len() as u64);
        for s in v {
            self.str(s.dialect.map(Dialect::name).unwrap_or(""));
            self.str(&s.sql);
            self.u64(s.line as u64);
        }
    }
}

impl W {
    fn key(&mut self, k: Key) {
        self.u64(k.len);
        self.i128(k.mtime);
        self.i128(k.ctime);
        self.u64(k.ino);
    }
}

/// The file's start: the folders listed (relative path and key, none when the listing
/// must not be reused) and the `.sql` files found in them, in the loader's path order.
fn encode_header(folders: &[(String, Key)], listing: &[&str]) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(1 << 16));
    w.0.extend_from_slice(MAGIC);
    w.u64(folders.len() as u64);
    for (rel, k) in folders {
        w.str(rel);
        w.key(*k);
    }
    w.u64(listing.len() as u64);
    for rel in listing {
        w.str(rel);
    }
    w.0
}

/// The parsed scripts, each under the key of its file.
fn encode_entries<'a>(out: &mut Vec<u8>, entries: impl Iterator<Item = (Key, &'a Script)>) {
    let mut w = W(std::mem::take(out));
    let entries: Vec<_> = entries.collect();
    w.u64(entries.len() as u64);
    for (k, s) in entries {
        w.key(k);
        w.str(&s.path);
        w.str(&s.revision);
        w.strs(&s.down_revisions);
        w.strs(&s.branch_labels);
        w.strs(&s.depends_on);
        w.str(&s.message);
        match &s.create_date {
            Some(d) => {
                w.u64(1);
                w.str(d);
            }
            None => w.u64(0),
        }
        w.u64(u64::from(s.transactional));
        w.u64(s.extra_fields.len() as u64);
        for (a, b) in &s.extra_fields {
            w.str(a);
            w.str(b);
        }
        w.sections(&s.upgrade);
        w.sections(&s.downgrade);
        w.0.extend_from_slice(&s.checksum.0);
    }
    *out = w.0;
}

struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i128(&mut self) -> Option<i128> {
        Some(i128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
    fn key(&mut self) -> Option<Key> {
        Some(Key {
            len: self.u64()?,
            mtime: self.i128()?,
            ctime: self.i128()?,
            ino: self.u64()?,
        })
    }
    fn str_ref(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u64()?).ok()?;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.u64()?;
        (0..n).map(|_| self.str()).collect()
    }
    fn skip_str(&mut self) -> Option<()> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n).map(|_| ())
    }
    fn sections(&mut self, with_sql: bool) -> Option<Vec<Section>> {
        let n = self.u64()?;
        if !with_sql {
            for _ in 0..n {
                self.skip_str()?;
                self.skip_str()?;
                self.u64()?;
            }
            return Some(Vec::new());
        }
        (0..n)
            .map(|_| {
                let d = self.str()?;
                let dialect = if d.is_empty() {
                    None
                } else {
                    Some(Dialect::from_name(&d)?)
                };
                Some(Section {
                    dialect,
                    sql: self.str()?,
                    line: usize::try_from(self.u64()?).ok()?,
                })
            })
            .collect()
    }
}

/// The start of a cache file, borrowed from its bytes.
struct Header<'a> {
    folders: Vec<(&'a str, Key)>,
    listing: Vec<&'a str>,
    /// The encoded entries that follow.
    entries: &'a [u8],
}

fn decode_header(bytes: &[u8]) -> Option<Header<'_>> {
    let mut r = R(bytes.strip_prefix(MAGIC)?);
    let nf = usize::try_from(r.u64()?).ok()?;
    let mut folders = Vec::with_capacity(nf.min(1 << 16));
    for _ in 0..nf {
        let rel = r.str_ref()?;
        folders.push((rel, r.key()?));
    }
    let nl = usize::try_from(r.u64()?).ok()?;
    let mut listing: Vec<&str> = Vec::with_capacity(nl.min(1 << 20));
    for _ in 0..nl {
        let rel = r.str_ref()?;
        // Only what a scan can produce: in path order, relative, inside the folder, no
        // control characters (a cache written before the scan refused them must not
        // bring them back). Anything else is a damaged cache, not a listing to act on.
        let inside = !rel.starts_with('/') && !rel.split('/').any(|p| p == ".." || p.is_empty());
        let clean = !rel.chars().any(char::is_control);
        if !inside
            || !clean
            || ScriptKind::of_path(rel).is_none()
            || listing.last().is_some_and(|l| path_order(l, rel).is_ge())
        {
            return None;
        }
        listing.push(rel);
    }
    Some(Header {
        folders,
        listing,
        entries: r.0,
    })
}

fn decode_entries(bytes: &[u8], with_sql: bool) -> Option<Vec<(Key, Script)>> {
    let mut r = R(bytes);
    let n = r.u64()?;
    let mut out = Vec::with_capacity(usize::try_from(n).ok()?.min(1 << 20));
    for _ in 0..n {
        let key = r.key()?;
        let path = r.str()?;
        let revision = r.str()?;
        let down_revisions = r.strs()?;
        let branch_labels = r.strs()?;
        let depends_on = r.strs()?;
        let message = r.str()?;
        let create_date = match r.u64()? {
            0 => None,
            _ => Some(r.str()?),
        };
        let transactional = r.u64()? != 0;
        let nx = r.u64()?;
        let extra_fields = (0..nx)
            .map(|_| Some((r.str()?, r.str()?)))
            .collect::<Option<Vec<_>>>()?;
        let upgrade = r.sections(with_sql)?;
        let downgrade = r.sections(with_sql)?;
        let checksum = Checksum(r.take(32)?.try_into().ok()?);
        let script = Script {
            revision,
            down_revisions,
            branch_labels,
            depends_on,
            message,
            create_date,
            transactional,
            extra_fields,
            upgrade,
            downgrade,
            checksum,
            kind: ScriptKind::of_path(&path).unwrap_or_default(),
            path,
        };
        out.push((key, script));
    }
    r.0.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn load_cached(dir: &Path, cache: &Path) -> Result<ScriptDirectory, CliError> {
        super::load_cached(dir, cache, 0, true)
    }

    #[test]
    fn hits_match_a_fresh_load_and_edits_are_seen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        std::fs::create_dir(&dir).unwrap();
        let a = dir.join("a.sql");
        let b = dir.join("b.sql");
        std::fs::write(&a, "-- one\n-- revision: a1\n-- down_revision:\n-- author: x\n\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n-- migrate:downgrade sqlite\nDROP TABLE t;\n").unwrap();
        std::fs::write(&b, "-- two\n-- revision: b2\n-- down_revision: a1\n-- transactional: false\n\n-- migrate:upgrade\nSELECT 1;\n").unwrap();
        let cache = tmp.path().join("cache.bin");
        let first = load_cached(&dir, &cache).unwrap();
        assert!(cache.exists());
        let bytes = std::fs::read(&cache).unwrap();
        let header = decode_header(&bytes).unwrap();
        assert_eq!(header.listing, ["a.sql", "b.sql"]);
        assert_eq!(decode_entries(header.entries, true).unwrap().len(), 2);
        let meta = super::load_cached(&dir, &cache, 0, false).unwrap();
        assert!(meta.scripts.iter().all(|s| s.upgrade.is_empty()));
        assert_eq!(
            meta.script("b2").unwrap().checksum,
            first.script("b2").unwrap().checksum
        );
        let second = load_cached(&dir, &cache).unwrap();
        assert_eq!(first.scripts, second.scripts);
        assert_eq!(second.scripts, ScriptDirectory::load(&dir).unwrap().scripts);
        // An edit of the same size is still seen (mtime and ctime move).
        std::thread::sleep(Duration::from_millis(30));
        std::fs::write(&b, "-- two\n-- revision: b2\n-- down_revision: a1\n-- transactional: false\n\n-- migrate:upgrade\nSELECT 2;\n").unwrap();
        let third = load_cached(&dir, &cache).unwrap();
        assert_eq!(third.scripts, ScriptDirectory::load(&dir).unwrap().scripts);
        assert!(third.script("b2").unwrap().upgrade[0]
            .sql
            .contains("SELECT 2"));
        // A corrupt cache is ignored.
        std::fs::write(&cache, b"migrate-cache v2\ngarbage").unwrap();
        assert_eq!(load_cached(&dir, &cache).unwrap().scripts, third.scripts);
        // Errors are those of the uncached loader.
        std::fs::write(dir.join("c.sql"), "-- bad\n-- revision: c3\n").unwrap();
        let err = load_cached(&dir, &cache).unwrap_err().to_string();
        assert_eq!(err, ScriptDirectory::load(&dir).unwrap_err().to_string());
    }

    fn write(path: &Path, rev: &str, down: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = format!("-- {rev}\n-- revision: {rev}\n-- down_revision: {down}\n\n-- migrate:upgrade\nSELECT 1;\n");
        std::fs::write(path, text).unwrap();
    }

    /// Folder and file times come from a clock that may tick only every few
    /// milliseconds; the production cache never trusts anything changed in the last two
    /// seconds, the tests trust at once and so leave a tick between changes.
    fn tick() {
        std::thread::sleep(Duration::from_millis(30));
    }

    /// Loads twice (the second time from a cache with a listing), checking both against
    /// the uncached loader.
    fn load_twice(dir: &Path, cache: &Path) -> Vec<String> {
        let fresh = ScriptDirectory::load(dir).unwrap();
        for _ in 0..2 {
            let cached = load_cached(dir, cache).unwrap();
            assert_eq!(cached.scripts, fresh.scripts);
        }
        fresh.scripts.iter().map(|s| s.path.clone()).collect()
    }

    #[test]
    fn the_folder_listing_is_reused_until_a_folder_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        let cache = tmp.path().join("cache.bin");
        write(&dir.join("a.sql"), "a1", "");
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        assert_eq!(load_twice(&dir, &cache), ["a.sql"]);
        let bytes = std::fs::read(&cache).unwrap();
        let header = decode_header(&bytes).unwrap();
        let mut folders: Vec<&str> = header.folders.iter().map(|(r, _)| *r).collect();
        folders.sort();
        assert_eq!(folders, ["", "empty"], "every folder listed is recorded");
        assert_eq!(header.listing, ["a.sql"]);

        // New files in the top folder, in a folder that held none, in a new folder.
        tick();
        write(&dir.join("b.sql"), "b2", "a1");
        assert_eq!(load_twice(&dir, &cache), ["a.sql", "b.sql"]);
        tick();
        write(&dir.join("empty/c.sql"), "c3", "b2");
        assert_eq!(load_twice(&dir, &cache), ["a.sql", "b.sql", "empty/c.sql"]);
        tick();
        write(&dir.join("new/deeper/d.sql"), "d4", "c3");
        assert_eq!(
            load_twice(&dir, &cache),
            ["a.sql", "b.sql", "empty/c.sql", "new/deeper/d.sql"]
        );
        // Removed and renamed files.
        tick();
        std::fs::remove_file(dir.join("new/deeper/d.sql")).unwrap();
        std::fs::rename(dir.join("b.sql"), dir.join("bb.sql")).unwrap();
        assert_eq!(load_twice(&dir, &cache), ["a.sql", "bb.sql", "empty/c.sql"]);
        // A file that is not a migration changes the listing's folder but not the result.
        tick();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        assert_eq!(load_twice(&dir, &cache), ["a.sql", "bb.sql", "empty/c.sql"]);
    }

    #[test]
    fn a_listing_that_a_scan_cannot_produce_is_refused() {
        let k = Key {
            len: 1,
            mtime: 2,
            ctime: 3,
            ino: 4,
        };
        let folders = [(String::new(), k)];
        assert!(decode_header(&encode_header(&folders, &["a.sql", "b/c.sql"])).is_some());
        // A folder's files come before its subfolders, as the loader lists them.
        assert!(decode_header(&encode_header(&folders, &["z.sql", "b/c.sql"])).is_some());
        for bad in [
            &["b.sql", "a.sql"][..],
            &["b/c.sql", "z.sql"],
            &["a.sql", "a.sql"],
            &["../x.sql"],
            &["/etc/x.sql"],
            &["a//b.sql"],
            &["notes.txt"],
            &["a\nb.sql"],
            &["a\r.sql"],
        ] {
            assert!(
                decode_header(&encode_header(&folders, bad)).is_none(),
                "{bad:?}"
            );
        }
    }

    /// A folder's files before its subfolders (Alembic's walk), in the listing and the
    /// entries alike, so every file is a hit.
    #[test]
    fn the_cache_keeps_the_loaders_order_and_hits_every_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        let cache = tmp.path().join("cache.bin");
        write(&dir.join("m003.sql"), "m3", "");
        write(&dir.join("alpha/x.sql"), "x1", "m3");
        write(&dir.join("alpha/deep/d.sql"), "d1", "x1");
        write(&dir.join("z.sql"), "z9", "d1");
        let want = ["m003.sql", "z.sql", "alpha/x.sql", "alpha/deep/d.sql"];
        assert_eq!(load_twice(&dir, &cache), want);
        let bytes = std::fs::read(&cache).unwrap();
        assert_eq!(decode_header(&bytes).unwrap().listing, want);
        // Without SQL, a single miss would reload everything with it.
        let meta = super::load_cached(&dir, &cache, 0, false).unwrap();
        let paths: Vec<&str> = meta.scripts.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, want);
        assert!(meta.scripts.iter().all(|s| s.upgrade.is_empty()));
    }

    #[test]
    fn folders_changed_too_recently_are_not_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        let cache = tmp.path().join("cache.bin");
        write(&dir.join("a.sql"), "a1", "");
        super::load_cached(&dir, &cache, RACY_NS, true).unwrap();
        let bytes = std::fs::read(&cache).unwrap();
        assert!(decode_header(&bytes).unwrap().folders.is_empty());
        // Within the racy window a new file is still seen (the folder is scanned).
        write(&dir.join("b.sql"), "b2", "a1");
        let d = super::load_cached(&dir, &cache, RACY_NS, true).unwrap();
        assert_eq!(d.scripts.len(), 2);
    }

    /// Even a listing taken from the cache never leads to opening a named pipe: it has
    /// no key, so it is re-read, and the loader refuses it before opening it.
    #[cfg(unix)]
    #[test]
    fn a_named_pipe_in_a_cached_listing_is_refused_without_being_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        let cache = tmp.path().join("cache.bin");
        write(&dir.join("a.sql"), "a1", "");
        let ok = std::process::Command::new("mkfifo")
            .arg(dir.join("b.sql"))
            .status()
            .unwrap()
            .success();
        assert!(ok);
        tick();
        // A listing as a scan that accepted the pipe would have written it.
        let folders = [(String::new(), key_of_path(&dir).unwrap())];
        write_atomically(&cache, &encode_header(&folders, &["a.sql", "b.sql"]));
        let (tx, rx) = std::sync::mpsc::channel();
        let (d, c) = (dir.clone(), cache.clone());
        std::thread::spawn(move || {
            let _ = tx.send(load_cached(&d, &c).map(|_| ()).map_err(|e| e.to_string()));
        });
        let result = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the cache opened the named pipe");
        assert_eq!(
            result.unwrap_err(),
            format!(
                "`{}` is a named pipe (FIFO), not a regular file; replace it with a regular file or remove it",
                dir.join("b.sql").display()
            )
        );
    }
}
