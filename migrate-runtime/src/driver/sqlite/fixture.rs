//! SQLite's side of the test fixture ([`crate::testing::fixture`]): the template is a
//! file in the system's temporary folder (`TMPDIR`), and each copy is a copy of that
//! file in a folder of its own; the URL only picks SQLite.

use crate::driver::BoxFuture;
use crate::error::MigrateError;
use crate::testing::fixture::{
    fresh_name, is_own, is_stale, migrate_template, template_name, Copies, FixtureDriver,
    FixtureError, NewCopy, Templated,
};
use crate::{Database, Migrator};
use migrate_core::Dialect;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// SQLite's fixture.
pub(crate) struct Fixture;

impl FixtureDriver for Fixture {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn on_server(&self) -> bool {
        false
    }

    /// Migrates `<tmp>/migrate-fixture/migrate_tpl_….db`, after removing what dead
    /// processes left in that folder.
    fn template<'a>(
        &'a self,
        m: &'a Migrator,
        _url: &'a str,
        suffix: &'a str,
    ) -> BoxFuture<'a, Result<Templated, FixtureError>> {
        Box::pin(async move {
            let dir = std::env::temp_dir().join("migrate-fixture");
            std::fs::create_dir_all(&dir)
                .map_err(io("cannot create the test fixture folder", &dir))?;
            remove_where(&dir, is_stale);
            let stem = template_name(suffix);
            let file = dir.join(format!("{stem}.db"));
            remove_with_siblings(&dir, &stem, None);
            let r = migrate_template(m, &url_of(&file), &file.display().to_string()).await;
            // The migrator's lock file, and a journal if any.
            remove_with_siblings(&dir, &stem, Some(&file));
            if let Err(e) = r {
                let _ = std::fs::remove_file(&file);
                return Err(e);
            }
            let place = dir.to_str().unwrap_or_default().to_string();
            let copies: Arc<dyn Copies> = Arc::new(InFolder {
                file: file.clone(),
                dir,
                place,
            });
            Ok((file.display().to_string(), copies))
        })
    }

    fn connect<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Database, MigrateError>> {
        // Through `Database::connect`, with SQLite's errors.
        Box::pin(Database::connect(url))
    }
}

/// A template file and its copies' folders, in `dir`.
#[derive(Debug)]
struct InFolder {
    file: PathBuf,
    dir: PathBuf,
    /// `dir` as text.
    place: String,
}

impl Copies for InFolder {
    /// Copies the template into `<dir>/migrate_fresh_…/db.sqlite`.
    fn copy<'a>(&'a self, _template: &'a str) -> BoxFuture<'a, Result<NewCopy, FixtureError>> {
        Box::pin(async move {
            let name = fresh_name();
            let folder = self.dir.join(&name);
            let db = folder.join("db.sqlite");
            let (from, to, f) = (self.file.clone(), db.clone(), folder);
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir(&f)
                    .map_err(io("cannot create the test database folder", &f))?;
                std::fs::copy(&from, &to)
                    .map(|_| ())
                    .map_err(io("cannot copy the test template to", &to))
            })
            .await
            .map_err(FixtureError::Task)??;
            Ok(NewCopy {
                url: url_of(&db),
                name: db.display().to_string(),
                id: name,
            })
        })
    }

    /// Removes the copy's folder.
    fn drop_copy<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), FixtureError>> {
        let dir = self.dir.join(id);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(FixtureError::Io {
                    context: "cannot remove the test database folder",
                    path: dir,
                    source,
                }),
            })
            .await
            .map_err(FixtureError::Task)?
        })
    }

    fn place(&self) -> &str {
        &self.place
    }

    fn drop_own(&self) -> BoxFuture<'_, ()> {
        remove_where(&self.dir, is_own);
        Box::pin(std::future::ready(()))
    }
}

fn io(context: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FixtureError {
    let path = path.to_path_buf();
    move |source| FixtureError::Io {
        context,
        path,
        source,
    }
}

fn url_of(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// Removes, best effort, the templates (with their lock and journal files) and the
/// copies' folders in `dir` whose names `pick` selects.
fn remove_where(dir: &Path, pick: impl Fn(&str) -> bool) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if pick(name.split('.').next().unwrap_or_default()) {
                let p = e.path();
                let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
            }
        }
    }
}

/// Removes, best effort, the files in `dir` whose names start with `stem`, but `keep`.
fn remove_with_siblings(dir: &Path, stem: &str, keep: Option<&Path>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if Some(p.as_path()) != keep && e.file_name().to_string_lossy().starts_with(stem) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}
