//! Adding, then editing, a migration changes what a rebuilt binary contains.
//!
//! Builds a tiny crate with cargo: `embed_migrations!("migrations")` in `main.rs` and
//! `migrate_runtime::build::rerun_if_migrations_changed("migrations")` in `build.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const HEADER: &str = "--\n-- branch_labels:\n-- depends_on:\n\n-- migrate:upgrade\nSELECT 1;\n";

fn migration(message: &str, revision: &str, down: &str) -> String {
    format!("-- {message}\n--\n-- revision: {revision}\n-- down_revision: {down}\n{HEADER}")
}

struct Probe {
    dir: PathBuf,
    target: PathBuf,
}

impl Probe {
    fn new() -> Probe {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("embed-rebuild");
        let dir = root.join("probe");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::create_dir_all(dir.join("migrations")).unwrap();
        let runtime = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrate-runtime")
            .canonicalize()
            .unwrap();
        let dep = format!(
            "migrate-runtime = {{ path = {:?} }}",
            runtime.display().to_string()
        );
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"embed-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [workspace]\n\n[dependencies]\n{dep}\n\n[build-dependencies]\n{dep}\n"
            ),
        )
        .unwrap();
        // The workspace's lock file, so the probe needs nothing that is not already here.
        let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
        if lock.exists() {
            fs::copy(lock, dir.join("Cargo.lock")).unwrap();
        }
        fs::write(
            dir.join("build.rs"),
            "fn main() {\n    migrate_runtime::build::rerun_if_migrations_changed(\"migrations\");\n}\n",
        )
        .unwrap();
        fs::write(
            dir.join("src/main.rs"),
            "static MIGRATIONS: migrate_runtime::EmbeddedMigrations =\n    migrate_runtime::embed_migrations!(\"migrations\");\n\n\
             fn main() {\n    for m in MIGRATIONS.migrations {\n        println!(\"{} {} {}\", m.path, m.revision, m.message);\n    }\n}\n",
        )
        .unwrap();
        Probe {
            dir,
            target: root.join("target"),
        }
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.dir.join("migrations").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Rewrites `migrations.sum` the way `migrate hash` does.
    fn hash(&self) {
        let dir = self.dir.join("migrations");
        let loaded = migrate_core::ScriptDirectory::load(&dir).unwrap();
        fs::write(dir.join(migrate_core::SUM_FILE), loaded.sum_file().render()).unwrap();
    }

    /// `cargo build`; `Ok(stdout of the binary)` or `Err(cargo's stderr)`.
    fn build_and_run(&self) -> Result<String, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("MIGRATE_MACROS_MANIFEST_DIR")
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let bin = self
            .target
            .join("debug")
            .join(format!("embed-probe{}", std::env::consts::EXE_SUFFIX));
        let run = Command::new(bin).output().unwrap();
        assert!(run.status.success());
        Ok(String::from_utf8(run.stdout).unwrap())
    }
}

#[test]
fn adding_a_file_changes_what_a_rebuilt_binary_contains() {
    let probe = Probe::new();
    probe.write("a1_init.sql", &migration("init", "a1", ""));
    probe.hash();
    assert_eq!(probe.build_and_run().unwrap(), "a1_init.sql a1 init\n");

    // A new file in a new subfolder, not yet in migrations.sum: cargo must notice it
    // (through the build script) and the macro must refuse it.
    probe.write("reporting/b2_next.sql", &migration("next", "b2", "a1"));
    let err = probe.build_and_run().unwrap_err();
    assert!(
        err.contains("`migrations/reporting/b2_next.sql` is not listed in migrations.sum; run `migrate hash`"),
        "{err}"
    );

    // Once hashed, the rebuilt binary holds the new revision.
    probe.hash();
    assert_eq!(
        probe.build_and_run().unwrap(),
        "a1_init.sql a1 init\nreporting/b2_next.sql b2 next\n"
    );

    // An edit is picked up too (include_bytes!), and so is a removal.
    probe.write(
        "reporting/b2_next.sql",
        &migration("next, edited", "b2", "a1"),
    );
    assert!(probe
        .build_and_run()
        .unwrap_err()
        .contains("migrations.sum does not match `migrations/reporting/b2_next.sql`"));
    probe.hash();
    assert_eq!(
        probe.build_and_run().unwrap(),
        "a1_init.sql a1 init\nreporting/b2_next.sql b2 next, edited\n"
    );
    fs::remove_file(probe.dir.join("migrations/reporting/b2_next.sql")).unwrap();
    probe.hash();
    assert_eq!(probe.build_and_run().unwrap(), "a1_init.sql a1 init\n");
}
