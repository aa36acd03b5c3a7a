//! A cache of schema models, so that a schema read from a source that has not changed is
//! not built again: the migrations replayed to some revisions, and the declared schema
//! loaded, each into a scratch database and read back. Those are the expensive steps of
//! `check`, `diff` and `revision --autogenerate` on a large schema (creating a database,
//! running thousands of statements, reading the catalogs), and their result depends only
//! on what is named in the entry's key:
//!
//! - the migrations: the checksum of every revision replayed (each file's bytes, header
//!   included), the revisions replayed to, and the migrator's own table names (which the
//!   model leaves out); when a Rust migration is among them, also the running binary
//!   (size and modification time), since its code may call code outside its file;
//! - the declared schema: every file's path and the SQL of its sections;
//! - both: the database kind, the scratch server's [fingerprint] (version, encoding,
//!   collation, SQL mode, installed extensions...) and this program's version.
//!
//! Never stale: any change to an input is another key, hence a miss. An entry holds its
//! whole key, checked on reading, so a hash collision or a foreign file is a miss too; an
//! entry that cannot be decoded is ignored and rewritten. Entries live in the `models`
//! folder of the parse cache's folder (`$MIGRATE_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/migrate`, else `~/.cache/migrate`), written atomically; the oldest
//! are removed beyond [`KEEP`] entries; deleting the folder is always safe.
//! `MIGRATE_NO_CACHE=1` turns it off.
//!
//! [fingerprint]: migrate_runtime::Database::server_fingerprint

use migrate_core::{Checksum, Dialect};
use migrate_runtime::schema::model::{DeclaredSchema, Schema};
use migrate_runtime::Migrator;
use std::path::{Path, PathBuf};

/// What every entry starts with: the format, changed whenever the model's shape does.
const MAGIC: &[u8] = b"migrate model cache 1\n";

/// How many entries are kept; the least recently used go first.
const KEEP: usize = 64;

/// The inputs a model was built from, written out in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key(String);

impl Key {
    /// The key of the schema the migrations produce at `revisions` (replayed from base
    /// in that order) on a server of kind `dialect` with `fingerprint`. `None` when a
    /// revision is unknown (the replay reports it).
    pub fn migrations(
        m: &Migrator,
        revisions: &[String],
        dialect: Dialect,
        fingerprint: &str,
    ) -> Option<Key> {
        let dir = m.directory();
        let mut replayed: Vec<&str> = Vec::new();
        for r in revisions {
            replayed.extend(dir.map.ancestors(r).ok()?);
        }
        replayed.sort_unstable();
        replayed.dedup();
        let mut text = header("migrations", dialect, fingerprint);
        text.push_str(&format!("own tables {}\n", m.own_tables().join(",")));
        text.push_str(&format!("at {}\n", revisions.join(",")));
        let mut rust = false;
        for id in replayed {
            let script = dir.script(id)?;
            rust |= script.is_rust();
            text.push_str(&format!("{id} {}\n", script.checksum.to_hex()));
        }
        if rust {
            text.push_str(&format!("binary {}\n", binary_identity()?));
        }
        Some(Key(text))
    }

    /// The key of the schema `declared` loads on a server of kind `dialect` with
    /// `fingerprint`.
    pub fn declared(declared: &DeclaredSchema, dialect: Dialect, fingerprint: &str) -> Key {
        let mut text = header("declared", dialect, fingerprint);
        text.push_str(&format!("files {}\n", declared.checksum().to_hex()));
        Key(text)
    }

    /// The entry's file name: a hash of the key.
    fn file_name(&self) -> String {
        format!("{}.bin", &Checksum::of(self.0.as_bytes()).to_hex()[..32])
    }
}

fn header(what: &str, dialect: Dialect, fingerprint: &str) -> String {
    format!(
        "{what}\nmigrate {}\nkind {dialect}\nserver {}\n",
        env!("CARGO_PKG_VERSION"),
        fingerprint.replace('\n', " ")
    )
}

/// The running binary's path, size and modification time: what changes when a Rust
/// migration's code (or code it calls) is rebuilt.
fn binary_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{} {} {}",
        exe.display(),
        meta.len(),
        mtime.as_nanos()
    ))
}

/// The model cache's folder; without one (turned off, no home) nothing is cached.
#[derive(Debug, Clone)]
pub(crate) struct ModelCache {
    dir: Option<PathBuf>,
}

impl ModelCache {
    /// The cache in the usual folder (see the module's documentation).
    pub fn open() -> ModelCache {
        ModelCache {
            dir: crate::cache::cache_root().map(|r| r.join("models")),
        }
    }

    /// A cache in `dir` (tests).
    #[cfg(test)]
    fn in_dir(dir: &Path) -> ModelCache {
        ModelCache {
            dir: Some(dir.to_path_buf()),
        }
    }

    /// The model stored under `key`, if there is a readable one.
    pub fn get(&self, key: &Key) -> Option<Schema> {
        let path = self.dir.as_ref()?.join(key.file_name());
        let bytes = std::fs::read(&path).ok()?;
        let schema = decode(&bytes, key)?;
        // Recently used entries are kept longest.
        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(schema)
    }

    /// Stores `schema` under `key` (best effort: a cache that cannot be written is
    /// simply not used next time).
    pub fn put(&self, key: &Key, schema: &Schema) {
        let Some(dir) = &self.dir else { return };
        let Some(bytes) = encode(key, schema) else {
            return;
        };
        crate::cache::write_atomically(&dir.join(key.file_name()), &bytes);
        prune(dir, KEEP);
    }
}

fn encode(key: &Key, schema: &Schema) -> Option<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(key.0.len() as u64).to_le_bytes());
    out.extend_from_slice(key.0.as_bytes());
    postcard::to_extend(schema, out).ok()
}

/// The model in `bytes` if they are an entry of this format for exactly `key`.
fn decode(bytes: &[u8], key: &Key) -> Option<Schema> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    if rest.len() < len || &rest[..len] != key.0.as_bytes() {
        return None;
    }
    postcard::from_bytes(&rest[len..]).ok()
}

/// Removes the least recently used entries beyond `keep`.
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bin"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= keep {
        return;
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, path) in files.into_iter().skip(keep) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_runtime::schema::model::{Column, Table};

    fn schema(column: &str) -> Schema {
        let mut s = Schema::default();
        s.add_table(Table {
            name: "t".into(),
            columns: vec![Column {
                name: column.into(),
                data_type: "integer".into(),
                ..Column::default()
            }],
            ..Table::default()
        });
        s
    }

    fn declared(sql: &str) -> DeclaredSchema {
        DeclaredSchema::from_files([("schema.sql", sql)]).expect("declared schema")
    }

    #[test]
    fn an_entry_is_read_back_only_under_its_own_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = ModelCache::in_dir(dir.path());
        let key = Key::declared(
            &declared("CREATE TABLE t (a int);"),
            Dialect::Sqlite,
            "3.45",
        );
        assert_eq!(cache.get(&key), None, "empty");
        cache.put(&key, &schema("a"));
        assert_eq!(cache.get(&key), Some(schema("a")));

        // Any input changed is another key: the SQL, the database kind, the server.
        for other in [
            Key::declared(
                &declared("CREATE TABLE t (b int);"),
                Dialect::Sqlite,
                "3.45",
            ),
            Key::declared(
                &declared("CREATE TABLE t (a int);"),
                Dialect::Postgres,
                "3.45",
            ),
            Key::declared(
                &declared("CREATE TABLE t (a int);"),
                Dialect::Sqlite,
                "3.46",
            ),
        ] {
            assert_ne!(other, key);
            assert_eq!(cache.get(&other), None, "{other:?}");
        }
    }

    #[test]
    fn corrupt_and_foreign_entries_are_misses_and_get_rewritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = ModelCache::in_dir(dir.path());
        let key = Key::declared(&declared("CREATE TABLE t (a int);"), Dialect::Sqlite, "x");
        let path = dir.path().join(key.file_name());

        std::fs::write(&path, b"not an entry").expect("write");
        assert_eq!(cache.get(&key), None, "garbage");
        let mut truncated = encode(&key, &schema("a")).expect("encoded");
        truncated.truncate(truncated.len() - 3);
        std::fs::write(&path, &truncated).expect("write");
        assert_eq!(cache.get(&key), None, "truncated");
        // Another key's entry under this key's file name (a collision, a copied file).
        let other = Key::declared(&declared("CREATE TABLE u (a int);"), Dialect::Sqlite, "x");
        std::fs::write(&path, encode(&other, &schema("a")).expect("encoded")).expect("write");
        assert_eq!(cache.get(&key), None, "foreign");

        cache.put(&key, &schema("b"));
        assert_eq!(cache.get(&key), Some(schema("b")), "rewritten");
    }

    #[test]
    fn the_oldest_entries_go_beyond_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        for i in 0..5u64 {
            let key = Key(format!("k{i}"));
            let path = dir.path().join(key.file_name());
            std::fs::write(&path, encode(&key, &schema("a")).expect("encoded")).expect("write");
            let f = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open");
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i))
                .expect("set time");
        }
        prune(dir.path(), 2);
        let left: Vec<bool> = (0..5)
            .map(|i| dir.path().join(Key(format!("k{i}")).file_name()).exists())
            .collect();
        assert_eq!(left, [false, false, false, true, true]);
    }

    #[test]
    fn a_migration_key_names_every_revision_replayed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("write");
        };
        write("a.sql", "-- revision: a\n-- down_revision:\n\n-- migrate:upgrade\nCREATE TABLE a (x int);\n-- migrate:downgrade\nDROP TABLE a;\n");
        write("b.sql", "-- revision: b\n-- down_revision: a\n\n-- migrate:upgrade\nCREATE TABLE b (x int);\n-- migrate:downgrade\nDROP TABLE b;\n");
        let load = || Migrator::load(dir.path()).expect("migrations");
        let at = |m: &Migrator, r: &str| {
            Key::migrations(m, &[r.to_string()], Dialect::Sqlite, "f").expect("key")
        };
        let m = load();
        let (at_a, at_b) = (at(&m, "a"), at(&m, "b"));
        assert_ne!(at_a, at_b);
        assert!(Key::migrations(&m, &["zz".into()], Dialect::Sqlite, "f").is_none());

        // Editing b changes the key at b, not at a (which does not replay b).
        write("b.sql", "-- revision: b\n-- down_revision: a\n\n-- migrate:upgrade\nCREATE TABLE b (y int);\n-- migrate:downgrade\nDROP TABLE b;\n");
        let m = load();
        assert_eq!(at(&m, "a"), at_a);
        assert_ne!(at(&m, "b"), at_b);
    }
}
