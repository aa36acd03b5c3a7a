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
use migrate_core::{scan_with, Checksum, Script, ScriptDirectory, ScriptKind, Section};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Files changed this recently (by change time, which tools cannot set) are re-read.
const RACY_NS: i128 = 2_000_000_000;

/// What identifies an unchanged file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

pub(crate) fn cache_root() -> Option<PathBuf> {
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
    use rustix::fs::{FileType, Mode, OFlags};
    // O_DIRECTORY: whatever `dir` has become, only a folder is opened.
    let folder = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let Ok(folder) = folder else {
        return files
            .iter()
            .map(|rel| key_of_file(&dir.join(&**rel)))
            .collect();
    };
    files
        .iter()
        .map(|rel| {
            // A name holding a NUL is refused by the call, so it has no key.
            let st = rustix::fs::statat(&folder, &**rel, rustix::fs::AtFlags::empty()).ok()?;
            if !FileType::from_raw_mode(st.st_mode).is_file() {
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
        let entries = directory
            .scripts
            .iter()
            .zip(&kept)
            .filter_map(|(s, k)| k.map(|k| (k, s)));
        if let Some(out) =
            encode_header(&folders, &listing).and_then(|out| encode_entries(out, entries))
        {
            write_atomically(cache, &out);
        }
    } else if !reuse && !missed && !folders.is_empty() {
        // Same entries, a new listing (e.g. a file other than a migration was added).
        if let Some(mut out) = encode_header(&folders, &listing) {
            out.extend_from_slice(entries);
            write_atomically(cache, &out);
        }
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
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) {
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
//
// A cache file is the magic line, then three postcard values: the header (folders and
// listing), the scripts without their SQL, each under the key of its file, and the SQL
// sections of those scripts. A command that needs no SQL stops after the second.

/// The SQL sections of one script: upgrade, downgrade.
type Sections<S> = (S, S);

/// The folders (relative path, key) and migration files a cache file lists, borrowed.
type Listing<'a> = (Vec<(&'a str, Key)>, Vec<&'a str>);

/// The first bytes of every cache file: the format's name and a fingerprint of the shape
/// of [`Script`] (its fields' names, nesting and enum variants, as JSON shows them), so
/// that a cache written by a build whose scripts have other fields is refused, not
/// misread: postcard's encoding carries no field names.
fn magic() -> &'static [u8] {
    static MAGIC: OnceLock<Vec<u8>> = OnceLock::new();
    MAGIC.get_or_init(|| {
        const SAMPLE: &str = "-- m\n-- revision: a1\n-- down_revision: b2, c3\n-- branch_labels: l\n-- depends_on: d4\n-- create_date: 2025-01-01\n-- transactional: false\n-- author: x\n\n-- migrate:upgrade\nA;\n-- migrate:upgrade postgres\nB;\n-- migrate:downgrade\nC;\n";
        let shape = Script::parse("a1.sql", SAMPLE.as_bytes())
            .ok()
            .and_then(|s| serde_json::to_vec(&s).ok())
            .unwrap_or_default();
        let fingerprint = Checksum::of(&shape).to_hex();
        format!("migrate-cache v5 {}\n", &fingerprint[..16]).into_bytes()
    })
}

/// The file's start: the folders listed (relative path and key) and the migration files
/// found in them, in the loader's path order. `None` if it cannot be encoded.
fn encode_header(folders: &[(String, Key)], listing: &[&str]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(1 << 16);
    out.extend_from_slice(magic());
    postcard::to_extend(&(folders, listing), out).ok()
}

/// Appends the parsed scripts, each under the key of its file: first without their SQL,
/// then their sections. `None` if they cannot be encoded.
fn encode_entries<'a>(
    out: Vec<u8>,
    entries: impl Iterator<Item = (Key, &'a Script)>,
) -> Option<Vec<u8>> {
    let entries: Vec<(Key, &Script)> = entries.collect();
    // Cloned to leave the SQL out; a cache is written only after files were parsed,
    // which costs far more.
    let without_sql: Vec<(Key, Script)> = entries
        .iter()
        .map(|(k, s)| {
            let mut s = (*s).clone();
            s.upgrade = Cow::Borrowed(&[]);
            s.downgrade = Cow::Borrowed(&[]);
            (*k, s)
        })
        .collect();
    let sections: Vec<Sections<&[Section]>> = entries
        .iter()
        .map(|(_, s)| (&*s.upgrade, &*s.downgrade))
        .collect();
    let out = postcard::to_extend(&without_sql, out).ok()?;
    postcard::to_extend(&sections, out).ok()
}

/// The start of a cache file, borrowed from its bytes.
struct Header<'a> {
    folders: Vec<(&'a str, Key)>,
    listing: Vec<&'a str>,
    /// The encoded entries that follow.
    entries: &'a [u8],
}

fn decode_header(bytes: &[u8]) -> Option<Header<'_>> {
    let rest = bytes.strip_prefix(magic())?;
    let ((folders, listing), entries): (Listing<'_>, _) = postcard::take_from_bytes(rest).ok()?;
    // Only what a scan can produce: in path order, relative, inside the folder, no
    // control characters (a cache written before the scan refused them must not bring
    // them back). Anything else is a damaged cache, not a listing to act on.
    let scannable = listing.iter().enumerate().all(|(i, rel)| {
        let inside = !rel.starts_with('/') && !rel.split('/').any(|p| p == ".." || p.is_empty());
        let clean = !rel.chars().any(char::is_control);
        let ordered = i == 0 || path_order(listing[i - 1], rel).is_lt();
        inside && clean && ordered && ScriptKind::of_path(rel).is_some()
    });
    scannable.then_some(Header {
        folders,
        listing,
        entries,
    })
}

/// The cached scripts and their keys; without `with_sql`, with no sections.
fn decode_entries(bytes: &[u8], with_sql: bool) -> Option<Vec<(Key, Script)>> {
    let (mut scripts, rest): (Vec<(Key, Script)>, _) = postcard::take_from_bytes(bytes).ok()?;
    if !with_sql {
        return Some(scripts);
    }
    let (sections, rest): (Vec<Sections<Vec<Section>>>, _) =
        postcard::take_from_bytes(rest).ok()?;
    if !rest.is_empty() || sections.len() != scripts.len() {
        return None;
    }
    for ((_, script), (upgrade, downgrade)) in scripts.iter_mut().zip(sections) {
        script.upgrade = Cow::Owned(upgrade);
        script.downgrade = Cow::Owned(downgrade);
    }
    Some(scripts)
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

    /// Every field of a script survives the cache, in both kinds, with several sections
    /// and dialects; without SQL, only the sections are left out.
    #[test]
    fn scripts_round_trip_through_the_cache_format() {
        let sql = "-- everything\n-- revision: a1\n-- down_revision: p1, p2\n-- branch_labels: core, api\n-- depends_on: d1\n-- create_date: 2025-01-15 10:30:00\n-- transactional: false\n-- author: ann\n-- jira: DESK-1\n\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n-- migrate:upgrade postgres\nCREATE TABLE t (id SERIAL);\n-- migrate:upgrade mysql\nCREATE TABLE t (id INT AUTO_INCREMENT);\n-- migrate:downgrade\nDROP TABLE t;\n-- migrate:downgrade sqlite\nDROP TABLE IF EXISTS t;\n";
        let rust = "// code\n// revision: r2\n// down_revision: a1\n\npub async fn upgrade(_: &mut Ctx<'_>) -> R { Ok(()) }\n\npub async fn downgrade(_: &mut Ctx<'_>) -> R { Ok(()) }\n";
        let scripts = [
            Script::parse("a1_everything.sql", sql.as_bytes()).unwrap(),
            Script::parse("sub/r2_code.rs", rust.as_bytes()).unwrap(),
        ];
        assert_eq!(scripts[0].upgrade.len(), 3);
        assert_eq!(scripts[1].kind, ScriptKind::Rust);
        let keys = [1, 2].map(|n| Key {
            len: n,
            mtime: -i128::from(n),
            ctime: i128::MAX - i128::from(n),
            ino: u64::MAX - n,
        });
        let folders = [(String::new(), keys[0]), ("sub".to_string(), keys[1])];
        let bytes = encode_header(&folders, &["a1_everything.sql", "sub/r2_code.rs"])
            .and_then(|out| encode_entries(out, keys.into_iter().zip(&scripts)))
            .unwrap();
        let header = decode_header(&bytes).unwrap();
        assert_eq!(header.folders, [("", keys[0]), ("sub", keys[1])]);
        let entries = decode_entries(header.entries, true).unwrap();
        assert_eq!(
            entries,
            keys.into_iter().zip(scripts.clone()).collect::<Vec<_>>()
        );
        let without_sql = decode_entries(header.entries, false).unwrap();
        for ((key, got), want) in without_sql.into_iter().zip(&scripts) {
            let mut want = want.clone();
            want.upgrade = Cow::Borrowed(&[]);
            want.downgrade = Cow::Borrowed(&[]);
            assert_eq!(got, want, "{key:?}");
        }
    }

    /// A cache cut short anywhere (a full disk, a crash while copying) is refused or
    /// partly used, never trusted wrongly: every load equals the uncached one.
    #[test]
    fn a_truncated_cache_is_re_parsed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        let cache = tmp.path().join("cache.bin");
        write(&dir.join("a.sql"), "a1", "");
        write(&dir.join("sub/b.sql"), "b2", "a1");
        let fresh = load_twice(&dir, &cache);
        let whole = std::fs::read(&cache).unwrap();
        for len in 0..whole.len() {
            std::fs::write(&cache, &whole[..len]).unwrap();
            let loaded = load_cached(&dir, &cache).unwrap();
            let paths: Vec<&str> = loaded.scripts.iter().map(|s| &*s.path).collect();
            assert_eq!(paths, fresh, "cut at {len} of {}", whole.len());
            assert_eq!(
                loaded.scripts,
                ScriptDirectory::load(&dir).unwrap().scripts,
                "cut at {len}"
            );
            let truncated = &whole[..len];
            if let Some(h) = decode_header(truncated) {
                assert!(decode_entries(h.entries, true).is_none(), "cut at {len}");
            }
        }
        // A cache of another format version is refused the same way.
        let mut other = b"migrate-cache v3\n".to_vec();
        other.extend_from_slice(&whole[magic().len()..]);
        assert!(decode_header(&other).is_none());
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
        fresh.scripts.iter().map(|s| s.path.to_string()).collect()
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
        assert!(decode_header(&encode_header(&folders, &["a.sql", "b/c.sql"]).unwrap()).is_some());
        // A folder's files come before its subfolders, as the loader lists them.
        assert!(decode_header(&encode_header(&folders, &["z.sql", "b/c.sql"]).unwrap()).is_some());
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
                decode_header(&encode_header(&folders, bad).unwrap()).is_none(),
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
        let paths: Vec<&str> = meta.scripts.iter().map(|s| &*s.path).collect();
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
        write_atomically(
            &cache,
            &encode_header(&folders, &["a.sql", "b.sql"]).unwrap(),
        );
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
