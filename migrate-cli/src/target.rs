//! The state a command runs with: the configuration's sections, the printer, the async
//! runtime (started only when a database is needed).

use crate::cli::GlobalArgs;
use crate::config::{self, Config, Overrides, Section};
use crate::error::CliError;
use crate::printer::Printer;
use crate::Source;
use migrate_core::{Dialect, RevisionError, ScriptDirectory, SumFile};
use migrate_runtime::{
    mask_url, ConnectOptions, Database, MigrateError, Migrator, TransactionMode,
};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) struct Ctx<'a> {
    pub global: GlobalArgs,
    pub x: Vec<(String, String)>,
    pub printer: Printer,
    pub source: Source<'a>,
    rt: Option<tokio::runtime::Runtime>,
    /// Revision ids and labels of the last loaded folder, for "did you mean" hints.
    known: Vec<String>,
    /// Every migrator handed out, so that `finish` can skip freeing thousands of scripts.
    keep: Vec<Migrator>,
    /// Whether the command changes databases: only then is a missing SQLite file
    /// created, and the database named before it is changed.
    pub changes_database: bool,
    /// Sections whose database was already named.
    announced: Vec<Option<String>>,
    /// An embedding application's own database, used when nothing else names one.
    pub default_url: Option<String>,
    /// An application's file command in its source tree (see [`Ctx::need_files`]):
    /// the migrations are read from the versions folder.
    files_in_tree: bool,
}

/// Where the URL came from when it is an embedding application's own default.
const APP_DEFAULT_ORIGIN: &str = "the application's default";

/// A connection being opened in the background.
pub(crate) struct Pending(tokio::task::JoinHandle<Result<Database, MigrateError>>);

/// A connection being opened and read in the background (see [`Ctx::prefetch`]).
pub(crate) struct Prefetch<T>(Fetching<T>);

type Fetching<T> =
    tokio::task::JoinHandle<Result<(Database, Result<T, MigrateError>), MigrateError>>;

/// One database to act on.
pub(crate) struct Target {
    pub section: Section,
}

impl<'a> Ctx<'a> {
    pub fn new(source: Source<'a>, global: GlobalArgs) -> Result<Ctx<'a>, CliError> {
        let x = config::parse_x(&global.x)?;
        Ok(Ctx {
            printer: Printer::new(global.quiet),
            global,
            x,
            source,
            rt: None,
            known: Vec::new(),
            keep: Vec::new(),
            changes_database: false,
            announced: Vec::new(),
            default_url: None,
            files_in_tree: false,
        })
    }

    fn overrides(&self) -> Overrides {
        Overrides {
            database_url: self.global.database_url.clone(),
            env_database_url: std::env::var("DATABASE_URL").ok(),
            x: self.x.clone(),
            connect_timeout: self.global.connect_timeout.map(Duration::from_secs),
            dev_url: self.global.dev_url.clone(),
        }
    }

    /// The configuration file path.
    pub fn config_path(&self) -> PathBuf {
        self.global
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::CONFIG_FILE))
    }

    /// The sections to act on. `single` names a command that needs exactly one.
    pub fn targets(&mut self, single: Option<&'static str>) -> Result<Vec<Target>, CliError> {
        let over = self.overrides();
        let sections = match self.source {
            Source::Files => {
                let cfg = Config::load(&self.config_path(), self.global.name.as_deref(), &over)?;
                self.warn_unused_database_url(&cfg, &over);
                if cfg.sections.len() > 1 {
                    if let Some(command) = single {
                        return Err(CliError::SeveralSections {
                            command,
                            path: cfg.path,
                            sections: cfg.sections.iter().filter_map(|s| s.name.clone()).collect(),
                        });
                    }
                    if over.database_url.is_some() {
                        return Err(CliError::Usage(format!(
                            "--database-url applies to one database and `{}` configures several; pick one with -n",
                            cfg.path.display()
                        )));
                    }
                }
                cfg.sections
            }
            Source::Embedded(_) => self.embedded_sections(&over)?,
        };
        Ok(sections
            .into_iter()
            .map(|section| Target { section })
            .collect())
    }

    /// The section of an application that embeds its migrations (`myapp migrate`): the
    /// configuration, `-c FILE` or else `migrate.toml` in the current folder when there
    /// is one (as the standalone command reads it), with the application's own default
    /// URL where the file names none; without a configuration, a section of the URL
    /// alone (`--database-url`, `DATABASE_URL`, the application's default). The embedded
    /// migrations are what runs either way: `script_location` only names the folder the
    /// file commands (`revision`, `merge`, `hash`...) work on in the source tree.
    fn embedded_sections(&mut self, over: &Overrides) -> Result<Vec<Section>, CliError> {
        let path = self.config_path();
        if self.global.config.is_some() || path.is_file() {
            let mut cfg = Config::load(&path, self.global.name.as_deref(), over)?;
            self.warn_unused_database_url(&cfg, over);
            if cfg.sections.len() > 1 {
                return Err(CliError::EmbeddedSeveralSections {
                    path: cfg.path,
                    sections: cfg.sections.iter().filter_map(|s| s.name.clone()).collect(),
                });
            }
            if let Some(url) = &self.default_url {
                for s in &mut cfg.sections {
                    if s.url_origin == config::NO_URL_ORIGIN {
                        s.database_url.clone_from(url);
                        s.url_origin = APP_DEFAULT_ORIGIN.to_string();
                    }
                }
            }
            return Ok(cfg.sections);
        }
        let url = over
            .database_url
            .clone()
            .map(|u| (u, "--database-url"))
            .or(over.env_database_url.clone().map(|u| (u, "$DATABASE_URL")))
            .or(self.default_url.clone().map(|u| (u, APP_DEFAULT_ORIGIN)));
        let Some((url, origin)) = url else {
            return Err(CliError::NoDatabaseUrl);
        };
        Ok(vec![Section {
            url_origin: origin.to_string(),
            name: None,
            script_location: PathBuf::from("migrations"),
            database_url: url,
            version_table: None,
            version_table_schema: None,
            transaction_per_migration: true,
            file_template: config::DEFAULT_FILE_TEMPLATE.to_string(),
            revision_template: None,
            schema_location: None,
            connect_timeout: over
                .connect_timeout
                .unwrap_or(Database::DEFAULT_CONNECT_TIMEOUT),
            // `embed_migrations!` already refused several heads unless its own
            // option allowed them.
            allow_multiple_heads: true,
            dev_url: over.dev_url.clone(),
        }])
    }

    /// Says so when `DATABASE_URL` is set and no section of `cfg` takes it.
    fn warn_unused_database_url(&mut self, cfg: &Config, over: &Overrides) {
        let env_used = cfg.sections.iter().any(|s| s.url_origin == "$DATABASE_URL");
        if cfg.named && over.env_database_url.is_some() && !env_used {
            self.printer.info(format!(
                "warning: DATABASE_URL is set but not used: `{}` has sections, and each takes its URL from its own `url_env` variable or `database_url`",
                cfg.path.display()
            ));
        }
    }

    /// The one section of a command that works on a single database.
    pub fn single_target(&mut self, command: &'static str) -> Result<Target, CliError> {
        self.targets(Some(command))?
            .into_iter()
            .next()
            .ok_or_else(|| CliError::Usage(format!("`{command}` found no database to work on")))
    }

    /// The one section of a command that writes migration files, and its migrations.
    pub fn file_target(&mut self, command: &'static str) -> Result<(Target, Migrator), CliError> {
        self.need_files(command)?;
        let t = self.single_target(command)?;
        let m = self.migrator(&t)?;
        Ok((t, m))
    }

    /// Prints a `[name]` line before a section's output when several are in play.
    pub fn section_header(&mut self, targets: &[Target], t: &Target) {
        if targets.len() > 1 {
            if let Some(n) = &t.section.name {
                self.printer.line(format!("[{n}]"));
            }
        }
    }

    /// Fails when the command needs the migration files and has none: the migrations
    /// are embedded and the application does not run in its source tree (no
    /// configuration naming the versions folder). In the source tree, the command
    /// works on the files from then on, as the standalone command does, with the
    /// embedded code of the Rust migrations.
    pub fn need_files(&mut self, command: &'static str) -> Result<(), CliError> {
        match self.source {
            Source::Files => Ok(()),
            Source::Embedded(_) => {
                if self.global.config.is_some() || self.config_path().is_file() {
                    self.files_in_tree = true;
                    Ok(())
                } else {
                    Err(CliError::NeedsFiles(command))
                }
            }
        }
    }

    /// Fails for a command only the standalone `migrate` has (`init`: an application
    /// is built from a versions folder that exists already).
    pub fn standalone_only(&self, command: &'static str) -> Result<(), CliError> {
        match self.source {
            Source::Files => Ok(()),
            Source::Embedded(_) => Err(CliError::StandaloneOnly(command)),
        }
    }

    /// After a file command changed the versions folder: in an application, says that
    /// the binary embeds the change only once rebuilt.
    pub fn files_changed(&mut self) {
        if self.files_in_tree {
            self.printer.info(
                "Rebuild the application to embed the change (`cargo build`, or run it with `cargo run -- migrate ...`): until then `migrate upgrade` runs the migrations it was built with",
            );
        }
    }

    /// Whether the migrations come from the versions folder: the standalone command, or
    /// an application's file command in its source tree.
    fn reads_files(&self) -> bool {
        matches!(self.source, Source::Files) || self.files_in_tree
    }

    /// Before a command replays the versions folder with the code an application
    /// embeds (`revision --autogenerate` in its source tree): fails unless the folder
    /// holds exactly the embedded revisions, byte for byte, so that what is replayed is
    /// what the files say. A binary older than the folder must be rebuilt first.
    pub fn require_embedded_files(&self, t: &Target, m: &Migrator) -> Result<(), CliError> {
        let Source::Embedded(e) = self.source else {
            return Ok(());
        };
        let on_disk = &m.directory().scripts;
        let embedded: std::collections::HashMap<&str, &migrate_core::Script> =
            e.migrations.iter().map(|x| (&*x.revision, x)).collect();
        let mut stale = Vec::new();
        for s in on_disk {
            match embedded.get(&*s.revision) {
                None => stale.push(format!("`{}` is not embedded", s.path)),
                Some(x) if x.checksum != s.checksum => {
                    stale.push(format!("`{}` was edited since the build", s.path));
                }
                Some(_) => {}
            }
        }
        let on_disk: std::collections::HashSet<&str> =
            on_disk.iter().map(|s| &*s.revision).collect();
        for x in e.migrations {
            if !on_disk.contains(&*x.revision) {
                stale.push(format!(
                    "`{}` is embedded but no longer in the folder",
                    x.path
                ));
            }
        }
        if stale.is_empty() {
            return Ok(());
        }
        Err(CliError::StaleEmbedded {
            path: t.location().to_path_buf(),
            differences: stale,
        })
    }

    /// Loads the migrations of a target into a configured migrator.
    pub fn migrator(&mut self, t: &Target) -> Result<Migrator, CliError> {
        self.load_migrator(t, true)
    }

    /// A migrator whose scripts have no SQL: for commands that list or check and never
    /// run a migration (`heads`, `history`, `current`, `check`...).
    pub fn migrator_without_sql(&mut self, t: &Target) -> Result<Migrator, CliError> {
        self.load_migrator(t, false)
    }

    fn load_migrator(&mut self, t: &Target, with_sql: bool) -> Result<Migrator, CliError> {
        let m = match self.source {
            Source::Files => {
                let dir = crate::cache::load(&t.section.script_location, with_sql)?;
                Migrator::from_directory(dir)
            }
            Source::Embedded(e) if self.files_in_tree => {
                let dir = crate::cache::load(&t.section.script_location, with_sql)?;
                Migrator::from_directory(dir).with_rust_code_of(e)
            }
            Source::Embedded(e) => Migrator::new(e)?,
        };
        self.known = m
            .directory()
            .scripts
            .iter()
            .map(|s| s.revision.to_string())
            .chain(
                m.directory()
                    .map
                    .branch_labels()
                    .iter()
                    .map(|(l, _)| l.to_string()),
            )
            .collect();
        let m = configure(m, &t.section);
        self.keep.push(m.clone());
        Ok(m)
    }

    /// The start of a command that changes a database: the migrations, checked against
    /// `migrations.sum`, and unless `offline` the connection, opened while they load.
    pub fn load_for_change(
        &mut self,
        t: &Target,
        offline: bool,
    ) -> Result<(Migrator, Option<Database>), CliError> {
        let pending = if offline {
            None
        } else {
            Some(self.start_connect(t)?)
        };
        let m = self.migrator(t)?;
        let sum = self.check_sum(t, &m);
        let db = match pending {
            Some(p) => Some(self.connected(p)?),
            None => None,
        };
        if let Err(e) = sum {
            let Some(db) = &db else { return Err(e) };
            let current = self.block_on(m.current(db))??;
            self.rehash_unapplied(t, &m, &current, e)?;
        }
        Ok((m, db))
    }

    /// After [`Ctx::check_sum`] failed with `err`: when every file that disagrees with
    /// `migrations.sum` belongs to a revision the database has not applied (a revision
    /// being written, edited since `migrate revision`), writes their new checksums with
    /// a notice instead of failing, so that a new revision needs no `migrate hash`
    /// after each edit before its first upgrade. Applied revisions stay protected: any
    /// of them disagreeing returns `err`.
    pub fn rehash_unapplied(
        &mut self,
        t: &Target,
        m: &Migrator,
        current: &[String],
        err: CliError,
    ) -> Result<(), CliError> {
        let CliError::Sum(migrate_core::SumError::Mismatch(mismatches)) = &err else {
            return Err(err);
        };
        let dir = m.directory();
        let mut applied: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for c in current {
            if dir.map.get(c).is_none() {
                return Err(err);
            }
            applied.extend(dir.map.ancestors(c)?);
        }
        let mut rehashed = Vec::new();
        for mismatch in mismatches {
            let (migrate_core::SumMismatch::Changed(path)
            | migrate_core::SumMismatch::NotListed(path)) = mismatch
            else {
                return Err(err);
            };
            match dir.scripts.iter().find(|s| &s.path == path) {
                Some(script) if !applied.contains(&*script.revision) => {
                    rehashed.push((path.clone(), script.checksum));
                }
                _ => return Err(err),
            }
        }
        update_sum(t.location(), dir, |sum| {
            for (path, checksum) in &rehashed {
                sum.entries.insert(path.clone(), *checksum);
            }
        })?;
        let names: Vec<&str> = rehashed.iter().map(|(p, _)| p.as_str()).collect();
        self.printer.info(format!(
            "migrations.sum: re-hashed {} (not applied to this database yet)",
            names.join(", ")
        ));
        Ok(())
    }

    /// Connects to a target's database and runs `read` on it in the background, with a
    /// migrator that knows the target's tables and no migrations: the database is read
    /// while the main thread loads the folder. [`Ctx::prefetched`] waits for both.
    pub fn prefetch<T, F, Fut>(&mut self, t: &Target, read: F) -> Result<Prefetch<T>, CliError>
    where
        F: FnOnce(Migrator, Database) -> Fut + Send + 'static,
        Fut: Future<Output = (Database, Result<T, MigrateError>)> + Send + 'static,
        T: Send + 'static,
    {
        let reader = configure(
            Migrator::from_directory(ScriptDirectory::from_scripts(Vec::new())?),
            &t.section,
        );
        let url = t.section.database_url.clone();
        let options = self.connect_options(t);
        let handle = self.runtime()?.spawn(async move {
            let db = Database::connect_with(&url, &options).await?;
            Ok(read(reader, db).await)
        });
        Ok(Prefetch(handle))
    }

    /// Waits for a [`Ctx::prefetch`]: the open database and what was read (a failed
    /// connection is the error; a failed read is left to the caller).
    pub fn prefetched<T>(
        &mut self,
        p: Prefetch<T>,
    ) -> Result<(Database, Result<T, MigrateError>), CliError> {
        match self.block_on(p.0)? {
            Ok(r) => Ok(r?),
            Err(e) => Err(CliError::Runtime(std::io::Error::other(e.to_string()))),
        }
    }

    /// Fails when the migrations have several heads and the target's configuration
    /// does not allow them (embedded migrations were checked when the binary was built).
    pub fn check_single_head(&self, t: &Target, m: &Migrator) -> Result<(), CliError> {
        let heads = m.heads();
        if heads.len() > 1 && !t.section.allow_multiple_heads && self.reads_files() {
            return Err(CliError::SeveralHeads {
                heads: heads.iter().map(|h| h.to_string()).collect(),
                path: t.location().to_path_buf(),
            });
        }
        Ok(())
    }

    /// Fails when `migrations.sum` disagrees with the files (the check the macro does at
    /// build time), before a command changes a database.
    pub fn check_sum(&self, t: &Target, m: &Migrator) -> Result<(), CliError> {
        if self.reads_files() {
            let text = migrate_core::read_sum_file(&t.section.script_location)?;
            m.directory().verify_sum(text.as_deref())?;
        }
        Ok(())
    }

    /// The (lazily started) runtime: one worker thread, so that connecting can proceed
    /// while the main thread loads the migrations.
    fn runtime(&mut self) -> Result<&tokio::runtime::Runtime, CliError> {
        if self.rt.is_none() {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(CliError::Runtime)?;
            self.rt = Some(rt);
        }
        self.rt
            .as_ref()
            .ok_or_else(|| CliError::Runtime(std::io::Error::other("no runtime")))
    }

    /// Runs a future on the runtime.
    pub fn block_on<F: Future>(&mut self, fut: F) -> Result<F::Output, CliError> {
        Ok(self.runtime()?.block_on(fut))
    }

    /// Starts connecting to a target's database in the background; [`Ctx::connected`]
    /// waits for it.
    pub fn start_connect(&mut self, t: &Target) -> Result<Pending, CliError> {
        let url = t.section.database_url.clone();
        let options = self.connect_options(t);
        let handle = self
            .runtime()?
            .spawn(async move { Database::connect_with(&url, &options).await });
        Ok(Pending(handle))
    }

    /// Waits for a connection started with [`Ctx::start_connect`].
    pub fn connected(&mut self, p: Pending) -> Result<Database, CliError> {
        match self.block_on(p.0)? {
            Ok(r) => Ok(r?),
            Err(e) => Err(CliError::Runtime(std::io::Error::other(e.to_string()))),
        }
    }

    /// Connects to a target's database.
    pub fn connect(&mut self, t: &Target) -> Result<Database, CliError> {
        let url = t.section.database_url.clone();
        let options = self.connect_options(t);
        Ok(self.block_on(Database::connect_with(&url, &options))??)
    }

    /// How a target's database is opened: its timeout, and a missing SQLite file is
    /// created only by commands that change the database.
    fn connect_options(&mut self, t: &Target) -> ConnectOptions {
        if self.changes_database && !self.announced.contains(&t.section.name) {
            // Which database a deploy acts on, before it acts (masked).
            self.announced.push(t.section.name.clone());
            self.printer.info(format!(
                "Using database {} (from {})",
                t.masked_url(),
                t.section.url_origin
            ));
        }
        ConnectOptions::default()
            .timeout(t.section.connect_timeout)
            .create_if_missing(self.changes_database)
    }

    /// The version-table rows of a target's database (connects and closes).
    pub fn current_revisions(&mut self, t: &Target, m: &Migrator) -> Result<Vec<String>, CliError> {
        let db = self.connect(t)?;
        let current = self.block_on(m.current(&db))?;
        self.block_on(db.close())?;
        Ok(current?)
    }

    /// The revisions an identifier names; `current` means the database's rows.
    pub fn revisions_named(
        &mut self,
        t: &Target,
        m: &Migrator,
        ident: &str,
    ) -> Result<Vec<String>, CliError> {
        if ident == "current" {
            return self.current_revisions(t, m);
        }
        Ok(m.directory()
            .map
            .resolve(ident)?
            .iter()
            .map(|s| s.to_string())
            .collect())
    }

    /// Ends a command-line run: flushes output and, when the process exits next (the
    /// `migrate` binary, not an application calling the commands), leaves the loaded
    /// migrations to the operating system instead of freeing them one by one.
    pub fn finish(mut self, exiting: bool) {
        self.printer.flush();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
        if exiting {
            std::mem::forget(self.keep);
        }
    }

    /// A "did you mean" hint for unknown revisions.
    pub fn hint_for(&self, err: &CliError) -> Option<String> {
        let CliError::Migrate(MigrateError::Revision(
            RevisionError::NoSuchRevision(unknown)
            | RevisionError::NoSuchBranch(unknown)
            | RevisionError::UnknownCurrent(unknown),
        )) = err
        else {
            return None;
        };
        let needle = unknown.split('@').next().unwrap_or_default();
        let needle = needle.split(['+', '-']).next().unwrap_or_default();
        let mut scored: Vec<(usize, &String)> = self
            .known
            .iter()
            .filter_map(|k| {
                let d = if k.starts_with(needle) || (needle.len() >= 3 && k.contains(needle)) {
                    0
                } else {
                    let prefix: String = k.chars().take(needle.chars().count()).collect();
                    strsim::levenshtein(needle, &prefix).min(strsim::levenshtein(needle, k))
                };
                (d <= 2 && needle.len() >= 2).then_some((d, k))
            })
            .collect();
        scored.sort();
        let picks: Vec<String> = scored
            .iter()
            .take(3)
            .map(|(_, k)| format!("`{k}`"))
            .collect();
        if picks.is_empty() {
            None
        } else {
            Some(format!(
                "did you mean {}? (`migrate history` lists every revision)",
                picks.join(" or ")
            ))
        }
    }
}

/// Applies a section's table names and transaction mode.
fn configure(m: Migrator, s: &Section) -> Migrator {
    let mut m = m.transaction_mode(if s.transaction_per_migration {
        TransactionMode::PerMigration
    } else {
        TransactionMode::Single
    });
    if let Some(vt) = &s.version_table {
        m = m.version_table(vt.clone());
    }
    if let Some(schema) = &s.version_table_schema {
        m = m.version_table_schema(schema.clone());
    }
    m
}

impl Target {
    /// The URL with its password masked.
    pub fn masked_url(&self) -> String {
        mask_url(&self.section.database_url)
    }

    /// The SQL dialect of the URL, for offline (`--sql`) output.
    pub fn dialect(&self) -> Result<Dialect, CliError> {
        dialect_of(&self.section.database_url)
    }

    /// The versions folder.
    pub fn location(&self) -> &Path {
        &self.section.script_location
    }
}

/// Writes `migrations.sum` with `update` applied to its current entries (all files when
/// it does not exist yet).
pub(crate) fn update_sum(
    dir: &Path,
    scripts: &ScriptDirectory,
    update: impl FnOnce(&mut SumFile),
) -> Result<(), CliError> {
    let mut sum = match migrate_core::read_sum_file(dir)? {
        Some(text) => SumFile::parse(&text)?,
        None => scripts.sum_file(),
    };
    update(&mut sum);
    let path = dir.join(migrate_core::SUM_FILE);
    std::fs::write(&path, sum.render()).map_err(|e| CliError::io("write", path, e))
}

/// The SQL dialect of a database URL.
pub(crate) fn dialect_of(url: &str) -> Result<Dialect, CliError> {
    Dialect::from_url(url).ok_or_else(|| {
        MigrateError::UnsupportedUrl {
            url: mask_url(url),
            expected: "one of `sqlite://`, `postgres://`, `mysql://`, `mariadb://`",
        }
        .into()
    })
}
