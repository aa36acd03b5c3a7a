//! A parse cache for versions folders, so that a command on thousands of migrations
//! costs one `stat` per file instead of open, read and parse.
//!
//! Like git's index, an entry is reused only when the file's size, modification time,
//! change time and inode are unchanged; files modified in the last two seconds are never
//! cached ("racily clean" files are re-read). The cache lives in `$MIGRATE_CACHE_DIR`,
//! else `$XDG_CACHE_HOME/migrate`, else `~/.cache/migrate` (a folder only the user can
//! write), one file per versions folder; `MIGRATE_NO_CACHE=1` turns it off. Any problem
//! with the cache (missing, corrupt, unwritable) falls back to reading every file.

use crate::error::CliError;
use migrate_core::{scan, Checksum, Dialect, Script, ScriptDirectory, Section};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"migrate-cache v1\n";

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
/// kernel walking the folder's path again for each of thousands of files.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keys_of(dir: &Path, files: &[(String, PathBuf)]) -> Vec<Option<Key>> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    let Ok(folder) = std::fs::File::open(dir) else {
        return files
            .iter()
            .map(|(_, abs)| std::fs::metadata(abs).ok().map(|m| key_of_metadata(&m)))
            .collect();
    };
    let fd = folder.as_raw_fd();
    files
        .iter()
        .map(|(rel, _)| {
            let name = CString::new(rel.as_bytes()).ok()?;
            // SAFETY: `st` is a plain C struct that fstatat fills; `fd` is open for the
            // whole loop and `name` is NUL-terminated.
            let st = unsafe {
                let mut st: libc::stat = std::mem::zeroed();
                if libc::fstatat(fd, name.as_ptr(), &mut st, 0) != 0 {
                    return None;
                }
                st
            };
            Some(Key {
                len: st.st_size as u64,
                mtime: i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec),
                ctime: i128::from(st.st_ctime) * 1_000_000_000 + i128::from(st.st_ctime_nsec),
                ino: st.st_ino,
            })
        })
        .collect()
}

#[cfg(all(unix, not(all(target_os = "linux", target_env = "gnu"))))]
fn keys_of(_dir: &Path, files: &[(String, PathBuf)]) -> Vec<Option<Key>> {
    files
        .iter()
        .map(|(_, abs)| std::fs::metadata(abs).ok().map(|m| key_of_metadata(&m)))
        .collect()
}

#[cfg(not(unix))]
fn keys_of(_dir: &Path, files: &[(String, PathBuf)]) -> Vec<Option<Key>> {
    files.iter().map(|_| None).collect()
}

fn load_cached(
    dir: &Path,
    cache: &Path,
    racy_ns: i128,
    with_sql: bool,
) -> Result<ScriptDirectory, CliError> {
    // Decoding the cache and stat-ing every file take about as long as each other: do
    // them at the same time.
    let (files, keys, cached) = std::thread::scope(|scope| {
        let decoder = scope.spawn(|| -> Vec<(Key, Script)> {
            std::fs::read(cache)
                .ok()
                .and_then(|b| decode(&b, with_sql))
                .unwrap_or_default()
        });
        let files = scan(dir);
        let keys: Vec<Option<Key>> = match &files {
            Ok(f) => keys_in_parallel(dir, f),
            Err(_) => Vec::new(),
        };
        let cached = decoder.join().unwrap_or_default();
        (files, keys, cached)
    });
    let files = files?;
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let racy = |k: &Key| now_ns - k.mtime.max(k.ctime) < racy_ns;
    let mut scripts = Vec::with_capacity(files.len());
    let mut fresh: Vec<(String, Key)> = Vec::with_capacity(files.len());
    let mut changed = cached.len() != files.len();
    // Both lists are sorted by path: walk them together.
    let mut cached = cached.into_iter().peekable();
    for ((rel, abs), key) in files.iter().zip(keys) {
        while cached
            .next_if(|(_, s)| s.path.as_str() < rel.as_str())
            .is_some()
        {}
        let hit = match (key, cached.next_if(|(_, s)| s.path == *rel)) {
            (Some(k), Some((ck, s))) if k == ck && !racy(&k) => Some(s),
            _ => None,
        };
        let script = match hit {
            Some(s) => s,
            None if !with_sql => return load_cached(dir, cache, racy_ns, true),
            None => {
                changed = true;
                let bytes = std::fs::read(abs).map_err(|source| migrate_core::LoadError::Io {
                    path: abs.clone(),
                    source,
                })?;
                match Script::parse(rel, &bytes) {
                    Ok(s) => s,
                    // Report exactly what the uncached loader reports.
                    Err(_) => return Ok(ScriptDirectory::load(dir)?),
                }
            }
        };
        if let Some(k) = key.filter(|k| !racy(k)) {
            fresh.push((rel.clone(), k));
        }
        scripts.push(script);
    }
    let directory = ScriptDirectory::from_scripts(scripts)?;
    if changed && with_sql {
        let keys: HashMap<&str, Key> = fresh.iter().map(|(r, k)| (r.as_str(), *k)).collect();
        let bytes = encode(
            directory
                .scripts
                .iter()
                .filter_map(|s| keys.get(s.path.as_str()).map(|k| (*k, s))),
        );
        write_atomically(cache, &bytes);
    }
    Ok(directory)
}

/// Stats the files on two threads when there are many.
fn keys_in_parallel(dir: &Path, files: &[(String, PathBuf)]) -> Vec<Option<Key>> {
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

fn encode<'a>(entries: impl Iterator<Item = (Key, &'a Script)>) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(1 << 16));
    w.0.extend_from_slice(MAGIC);
    let entries: Vec<_> = entries.collect();
    w.u64(entries.len() as u64);
    for (k, s) in entries {
        w.u64(k.len);
        w.i128(k.mtime);
        w.i128(k.ctime);
        w.u64(k.ino);
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
    w.0
}

struct R<'a>(&'a [u8]);

impl R<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
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

fn decode(bytes: &[u8], with_sql: bool) -> Option<Vec<(Key, Script)>> {
    let mut r = R(bytes.strip_prefix(MAGIC)?);
    let n = r.u64()?;
    let mut out = Vec::with_capacity(usize::try_from(n).ok()?.min(1 << 20));
    for _ in 0..n {
        let key = Key {
            len: r.u64()?,
            mtime: r.i128()?,
            ctime: r.i128()?,
            ino: r.u64()?,
        };
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
            path,
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
        let decoded = decode(&std::fs::read(&cache).unwrap(), true).unwrap();
        assert_eq!(decoded.len(), 2);
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
        std::fs::write(&cache, b"migrate-cache v1\ngarbage").unwrap();
        assert_eq!(load_cached(&dir, &cache).unwrap().scripts, third.scripts);
        // Errors are those of the uncached loader.
        std::fs::write(dir.join("c.sql"), "-- bad\n-- revision: c3\n").unwrap();
        let err = load_cached(&dir, &cache).unwrap_err().to_string();
        assert_eq!(err, ScriptDirectory::load(&dir).unwrap_err().to_string());
    }
}
