//! The templates `init` writes, embedded in the binary.

use crate::error::CliError;
use include_dir::{include_dir, Dir, DirEntry};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// A template: its name and the first line of its README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    /// Name passed to `init -t`.
    pub name: String,
    /// One-line description.
    pub synopsis: String,
}

/// The templates shipped in the binary, sorted by name.
pub fn list() -> Vec<TemplateInfo> {
    let mut out: Vec<TemplateInfo> = TEMPLATES
        .dirs()
        .map(|d| {
            let name = d.path().to_string_lossy().into_owned();
            let synopsis = d
                .get_file(d.path().join("README"))
                .and_then(|f| f.contents_utf8())
                .and_then(|t| t.lines().next())
                .unwrap_or("")
                .to_string();
            TemplateInfo { name, synopsis }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The files of a template: `(path relative to the template, text)`.
///
/// # Errors
/// [`CliError::NoSuchTemplate`] naming the templates that exist.
pub fn files(name: &str) -> Result<Vec<(String, &'static str)>, CliError> {
    let dir = TEMPLATES
        .get_dir(name)
        .ok_or_else(|| CliError::NoSuchTemplate {
            name: name.to_string(),
            available: list().into_iter().map(|t| t.name).collect(),
        })?;
    let mut out = Vec::new();
    collect(dir, dir.path(), &mut out);
    out.sort();
    Ok(out)
}

fn collect(dir: &Dir<'static>, root: &std::path::Path, out: &mut Vec<(String, &'static str)>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => collect(d, root, out),
            DirEntry::File(f) => {
                let rel = f
                    .path()
                    .strip_prefix(root)
                    .unwrap_or(f.path())
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, f.contents_utf8().unwrap_or("")));
            }
        }
    }
}

/// The template of `migrate revision --rust`: a Rust migration, with the same header
/// fields as `//` lines.
pub const RUST_REVISION_TEMPLATE: &str = "\
// ${message}
//
// revision: ${up_revision}
// down_revision: ${down_revision}
// branch_labels: ${branch_labels}
// depends_on: ${depends_on}
// create_date: ${create_date}
//
// A Rust migration: `embed_migrations!` compiles it into the application, which runs
// it (`myapp migrate upgrade head`); the `migrate` command lists it but cannot run it.
// For a batched backfill (`ctx.backfill`, each batch committed on its own), add
// `// transactional: false` to this header.

use migrate_runtime::{MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let _ = ctx;
    Ok(())
}

pub async fn downgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let _ = ctx;
    Ok(())
}
";

/// The revision template used when the configuration names none.
pub fn default_revision_template() -> &'static str {
    TEMPLATES
        .get_file("generic/script.sql.tmpl")
        .and_then(|f| f.contents_utf8())
        .unwrap_or("-- ${message}\n--\n-- revision: ${up_revision}\n-- down_revision: ${down_revision}\n-- branch_labels: ${branch_labels}\n-- depends_on: ${depends_on}\n-- create_date: ${create_date}\n\n-- migrate:upgrade\n\n\n-- migrate:downgrade\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_generic_and_multidb() {
        let names: Vec<_> = list().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["generic", "multidb"]);
        let generic = files("generic").unwrap();
        assert!(generic
            .iter()
            .any(|(p, t)| p == "migrations.sum" && t.is_empty()));
        assert!(generic.iter().any(|(p, _)| p == "migrate.toml"));
        let multi = files("multidb").unwrap();
        assert!(multi.iter().any(|(p, _)| p == "main/migrations.sum"));
        assert!(matches!(
            files("nope"),
            Err(CliError::NoSuchTemplate { .. })
        ));
        assert!(default_revision_template().contains("${up_revision}"));
    }
}
