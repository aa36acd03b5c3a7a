//! The fixtures' `migrations.sum` files are what `migrate-core` computes.
//!
//! Folders named `sum-*` carry a hand-written (deliberately wrong or absent) sum and are
//! skipped. Run with `MIGRATE_BLESS=1` to rewrite the others after editing a fixture.

use migrate_core::{scan, Checksum, SumFile, SUM_FILE};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The sum of a folder, from the raw bytes so folders whose files do not parse work too.
fn computed_sum(dir: &Path) -> String {
    let entries = scan(dir)
        .unwrap()
        .into_iter()
        .map(|(rel, abs)| (rel, Checksum::of(&std::fs::read(abs).unwrap())));
    SumFile::from_entries(entries).render()
}

#[test]
fn fixture_sums_are_current() {
    let bless = std::env::var_os("MIGRATE_BLESS").is_some();
    let mut checked = 0;
    let mut stale = Vec::new();
    let mut folders: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"));
    for dir in folders {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("sum-") {
            continue;
        }
        let want = computed_sum(&dir);
        let path = dir.join(SUM_FILE);
        if bless {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            stale.push(name);
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} fixture folders found");
    assert!(
        stale.is_empty(),
        "stale migrations.sum in {stale:?}; rerun with MIGRATE_BLESS=1"
    );
}

#[test]
fn crlf_fixture_hashes_like_its_lf_twin() {
    let crlf = fixtures().join("crlf");
    let lf = fixtures().join("linear");
    let files = scan(&crlf).unwrap();
    assert_eq!(files.len(), 3);
    for (rel, abs) in files {
        let crlf_bytes = std::fs::read(abs).unwrap();
        let lf_bytes = std::fs::read(lf.join(&rel)).unwrap();
        assert!(
            crlf_bytes.windows(2).any(|w| w == b"\r\n"),
            "{rel} has no CRLF"
        );
        assert!(!lf_bytes.contains(&b'\r'), "{rel} twin has CR");
        assert_eq!(
            String::from_utf8(crlf_bytes)
                .unwrap()
                .replace("\r\n", "\n")
                .into_bytes(),
            lf_bytes
        );
    }
    assert_eq!(
        std::fs::read_to_string(crlf.join(SUM_FILE)).unwrap(),
        std::fs::read_to_string(lf.join(SUM_FILE)).unwrap()
    );
}
