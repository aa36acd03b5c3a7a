//! Build-script helper: rebuild the crate when a migration is added.
//!
//! [`embed_migrations!`](crate::embed_migrations) passes every migration file to
//! `include_bytes!`, so cargo already rebuilds when one is edited or removed. A *new* file
//! is invisible to cargo unless a build script watches the folder:
//!
//! ```no_run
//! // build.rs (with `migrate-runtime` under `[build-dependencies]`)
//! fn main() {
//!     migrate_runtime::build::rerun_if_migrations_changed("migrations");
//! }
//! ```

// The examples show a whole `build.rs`, `fn main` included.
#![allow(clippy::needless_doctest_main)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Tells cargo to re-run the build script, and so rebuild the crate and re-run
/// [`embed_migrations!`](crate::embed_migrations), whenever anything in the versions
/// folder changes: a migration added, removed or edited, or `migrations.sum` rewritten.
///
/// Call it from `build.rs` with the same path as the macro (relative paths are resolved
/// against the crate's folder, where cargo runs build scripts):
///
/// ```no_run
/// // build.rs
/// fn main() {
///     migrate_runtime::build::rerun_if_migrations_changed("migrations");
/// }
/// ```
///
/// It prints `cargo:rerun-if-changed=<dir>` for the folder and for each of its
/// subfolders (hidden ones skipped, as the macro skips them), so a file added to a
/// branch folder such as `migrations/reporting/` is picked up too. A missing folder is
/// still printed, so creating it triggers a rebuild; the macro reports it as an error.
pub fn rerun_if_migrations_changed(dir: impl AsRef<Path>) {
    let mut out = std::io::stdout().lock();
    for folder in watched_folders(dir.as_ref()) {
        // Build-script stdout is cargo's; nothing useful can be done if it is closed.
        let _ = writeln!(out, "cargo:rerun-if-changed={}", folder.display());
    }
}

/// The folder and every subfolder the loader reads (hidden ones skipped), in the
/// loader's own walk. A folder the loader refuses still yields what it listed before
/// the refusal, at least the folder itself, for the macro to report.
fn watched_folders(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let _ = migrate_core::scan_with(dir, |folder, _| out.push(folder.to_path_buf()));
    if out.is_empty() {
        out.push(dir.to_path_buf());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_folder_and_its_visible_subfolders() {
        let root = std::env::temp_dir().join(format!("migrate-build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for sub in ["reporting/2025", "billing", ".hidden/inner"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(root.join("a.sql"), "").unwrap();
        let got = watched_folders(&root);
        let want = [
            root.clone(),
            root.join("billing"),
            root.join("reporting"),
            root.join("reporting/2025"),
        ];
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn a_missing_folder_is_still_watched() {
        let missing = Path::new("/nonexistent/migrate-build/migrations");
        assert_eq!(watched_folders(missing), [missing.to_path_buf()]);
    }
}
