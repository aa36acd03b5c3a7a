//! The schemas `diff`, `check`, `revision --autogenerate` and `test` compare: the live
//! database, the migrations replayed into a scratch database, and the declared schema
//! (`schema_location`) loaded into one. Scratch databases live on the dev database's
//! server when one is named (`--dev-url`, `dev_url`), else on the target's (in memory
//! for SQLite), never inside the target database, and are dropped on every path,
//! Ctrl-C included.

use crate::error::CliError;
use crate::model_cache::{Key, ModelCache};
use crate::progress::Progress;
use crate::target::{Ctx, Target};
use migrate_runtime::schema::model::{DeclaredSchema, Schema};
use migrate_runtime::schema::{self as rt_schema, Scratch, ScratchDropper, ScratchOn};
use migrate_runtime::{testing, ConnectOptions, Database, Migrator};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SchemaSource {
    /// The live target database.
    Database,
    /// The migrations replayed from base to a revision (`None`: the heads).
    Migrations(Option<String>),
    /// The declared schema folder.
    Declared,
}

impl SchemaSource {
    /// Parses `database`, `migrations`, `migrations@REV` or `schema`.
    pub fn parse(s: &str) -> Result<SchemaSource, CliError> {
        match s {
            "database" | "db" => Ok(SchemaSource::Database),
            "migrations" | "migrations@heads" | "migrations@head" => {
                Ok(SchemaSource::Migrations(None))
            }
            "schema" | "declared" => Ok(SchemaSource::Declared),
            other => match other.strip_prefix("migrations@") {
                Some(rev) if !rev.is_empty() => Ok(SchemaSource::Migrations(Some(rev.to_string()))),
                _ => Err(CliError::Usage(format!(
                    "unknown schema source {other:?}: use `database`, `migrations`, `migrations@REV` or `schema`"
                ))),
            },
        }
    }

    /// How the source is named in messages.
    pub fn describe(&self) -> String {
        match self {
            SchemaSource::Database => "the database".to_string(),
            SchemaSource::Migrations(None) => "the migrations at their heads".to_string(),
            SchemaSource::Migrations(Some(r)) => format!("the migrations at {r}"),
            SchemaSource::Declared => "the declared schema".to_string(),
        }
    }
}

/// Scratch databases made by one command, dropped at its end or on Ctrl-C.
#[derive(Clone, Default)]
pub(crate) struct Scratches(Arc<Mutex<Vec<ScratchDropper>>>);

impl Scratches {
    /// A new empty scratch database where `on` says, remembered for dropping.
    pub async fn create(&self, on: &ScratchOn) -> Result<Scratch, CliError> {
        let scratch = rt_schema::scratch(on.clone()).await?;
        if let Ok(mut list) = self.0.lock() {
            list.push(scratch.dropper());
        }
        Ok(scratch)
    }

    /// Drops every scratch database still there (dropping twice is harmless).
    pub async fn drop_all(&self) -> Result<(), CliError> {
        let list = match self.0.lock() {
            Ok(mut l) => std::mem::take(&mut *l),
            Err(_) => Vec::new(),
        };
        let mut result = Ok(());
        for d in list {
            if let Err(e) = d.drop_scratch().await {
                result = Err(e.into());
            }
        }
        result
    }
}

/// Runs `work` on the async runtime with the scratch databases it makes dropped
/// afterwards, and on Ctrl-C (which stops the work and fails with
/// [`CliError::Interrupted`]).
pub(crate) fn guarded<T, F, Fut>(ctx: &mut Ctx<'_>, work: F) -> Result<T, CliError>
where
    F: FnOnce(Scratches) -> Fut,
    Fut: Future<Output = Result<T, CliError>>,
{
    let scratches = Scratches::default();
    let result = guarded_in(ctx, &scratches, work);
    let dropped = ctx.block_on(scratches.drop_all());
    let value = result?;
    dropped??;
    Ok(value)
}

/// Runs `work` on the async runtime with the scratch databases of `scratches`, which
/// outlive it (for work in several steps, e.g. a revision verified on the scratch
/// database it was computed on): the caller drops them with [`Scratches::drop_all`].
/// Ctrl-C stops the work, drops them, and fails with [`CliError::Interrupted`].
pub(crate) fn guarded_in<T, F, Fut>(
    ctx: &mut Ctx<'_>,
    scratches: &Scratches,
    work: F,
) -> Result<T, CliError>
where
    F: FnOnce(Scratches) -> Fut,
    Fut: Future<Output = Result<T, CliError>>,
{
    let job = work(scratches.clone());
    let interrupted = scratches.clone();
    ctx.block_on(async move {
        tokio::select! {
            r = job => r,
            _ = tokio::signal::ctrl_c() => {
                let _ = interrupted.drop_all().await;
                Err(CliError::Interrupted)
            }
        }
    })?
}

/// What a target's schema sources need, cloned out of the context for the async work.
#[derive(Clone)]
pub(crate) struct Sources {
    /// The migrations (with their SQL).
    pub migrator: Migrator,
    /// The target's database URL.
    pub url: String,
    /// Where the scratch databases are made: the dev database's server when one is
    /// named, else the target's.
    pub scratch_on: ScratchOn,
    /// How to open the target's database (read-only: never created).
    pub connect: ConnectOptions,
    /// The declared schema, when a folder is known.
    pub declared: Option<Arc<DeclaredSchema>>,
    /// Models already built from unchanged sources.
    cache: ModelCache,
    /// The scratch server's fingerprint, read once per command (`None`: unreadable, so
    /// nothing is cached).
    fingerprint: Arc<tokio::sync::OnceCell<Option<String>>>,
    /// What is shown while the work takes long.
    pub progress: Progress,
}

impl Sources {
    /// The sources of a target: `schema` (a `--schema` folder) overrides the
    /// configuration's `schema_location`.
    pub fn of(
        ctx: &mut Ctx<'_>,
        t: &Target,
        schema: Option<&PathBuf>,
    ) -> Result<Sources, CliError> {
        let migrator = ctx.migrator(t)?;
        let declared_path = schema
            .cloned()
            .or_else(|| t.section.schema_location.clone());
        let declared = match &declared_path {
            Some(p) => Some(Arc::new(
                DeclaredSchema::load(p).map_err(migrate_runtime::schema::SchemaError::from)?,
            )),
            None => None,
        };
        Ok(Sources {
            migrator,
            url: t.section.database_url.clone(),
            scratch_on: ScratchOn::target(t.section.database_url.as_str())
                .with_dev(t.section.dev_url.as_deref()),
            connect: ConnectOptions::default()
                .timeout(t.section.connect_timeout)
                .create_if_missing(false),
            declared,
            cache: ModelCache::open(),
            fingerprint: Arc::default(),
            progress: Progress::new(ctx.printer.quiet()),
        })
    }

    /// The same sources with scratch work on `on` (another server: its own
    /// fingerprint).
    pub fn on(&self, url: &str, on: ScratchOn) -> Sources {
        Sources {
            url: url.to_string(),
            scratch_on: on,
            fingerprint: Arc::default(),
            ..self.clone()
        }
    }

    /// The declared schema, or the error that says how to give one.
    pub fn declared(&self) -> Result<&DeclaredSchema, CliError> {
        self.declared.as_deref().ok_or(CliError::NoDeclaredSchema)
    }

    /// Opens the target database for reading.
    pub async fn open(&self) -> Result<Database, CliError> {
        Ok(Database::connect_with(&self.url, &self.connect).await?)
    }

    /// Reads one source. `current` are the database's version rows, for
    /// `migrations@current`.
    pub async fn read(
        &self,
        source: &SchemaSource,
        scratches: &Scratches,
    ) -> Result<Schema, CliError> {
        match source {
            SchemaSource::Database => {
                let db = self.open().await?;
                let phase = self.progress.phase("Reading the database's schema");
                let schema = testing::live_schema(&self.migrator, &db).await;
                drop(phase);
                db.close().await;
                Ok(schema?)
            }
            SchemaSource::Migrations(rev) => {
                let revisions = match rev.as_deref() {
                    None => self.heads(),
                    Some("current") => {
                        let db = self.open().await?;
                        let current = self.migrator.current(&db).await;
                        db.close().await;
                        current?
                    }
                    Some(r) => self
                        .migrator
                        .directory()
                        .map
                        .resolve(r)?
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                };
                self.migrations_at(&revisions, scratches).await
            }
            SchemaSource::Declared => self.declared_schema(scratches).await,
        }
    }

    /// The schema the declared schema folder creates, loaded into a scratch database
    /// unless its model is cached.
    async fn declared_schema(&self, scratches: &Scratches) -> Result<Schema, CliError> {
        let declared = self.declared()?;
        let key = match (self.fingerprint().await, self.scratch_dialect()) {
            (Some(f), Some(d)) => Some(Key::declared(declared, d, f)),
            _ => None,
        };
        if let Some(schema) = key.as_ref().and_then(|k| self.cache.get(k)) {
            let _phase = self
                .progress
                .phase("Using the declared schema's model from the cache");
            return Ok(schema);
        }
        let _phase = self
            .progress
            .phase("Loading the declared schema into a scratch database");
        let scratch = self.scratch(scratches).await?;
        let schema = testing::declared_schema(declared, scratch.database()).await;
        let dropped = scratch.drop().await;
        let schema = schema?;
        dropped?;
        if let Some(k) = key {
            self.cache.put(&k, &schema);
        }
        Ok(schema)
    }

    /// The schema the migrations produce at `revisions`: cached, or replayed into a
    /// scratch database.
    pub async fn migrations_at(
        &self,
        revisions: &[String],
        scratches: &Scratches,
    ) -> Result<Schema, CliError> {
        let key = self.migrations_key(revisions).await;
        if let Some(schema) = key.as_ref().and_then(|k| self.cache.get(k)) {
            let _phase = self.progress.phase(format!(
                "Using the model of the migrations at {} from the cache",
                at(revisions)
            ));
            return Ok(schema);
        }
        let (schema, scratch) = self.replayed(revisions, scratches).await?;
        scratch.drop().await?;
        if let Some(k) = key {
            self.cache.put(&k, &schema);
        }
        Ok(schema)
    }

    /// The schemas the migrations produce at `first` and at `then` (revisions above
    /// `first`, e.g. a database's current revisions and the heads), each from the cache
    /// or replayed: when neither is cached, one scratch database is replayed to `first`,
    /// read, taken on to `then` and read again.
    pub async fn migrations_at_both(
        &self,
        first: &[String],
        then: &[String],
        scratches: &Scratches,
    ) -> Result<(Schema, Schema), CliError> {
        let (first_key, then_key) = (
            self.migrations_key(first).await,
            self.migrations_key(then).await,
        );
        let cached = |key: &Option<Key>| key.as_ref().and_then(|k| self.cache.get(k));
        let (at_first, at_then) = (cached(&first_key), cached(&then_key));
        match (at_first, at_then) {
            (Some(a), Some(b)) => {
                let _phase = self.progress.phase(format!(
                    "Using the models of the migrations at {} and at {} from the cache",
                    at(first),
                    at(then)
                ));
                Ok((a, b))
            }
            (Some(a), None) => Ok((a, self.migrations_at(then, scratches).await?)),
            (None, _) => {
                let (a, scratch) = self.replayed(first, scratches).await?;
                if let Some(k) = &first_key {
                    self.cache.put(k, &a);
                }
                let more = self
                    .replay_count(then)
                    .saturating_sub(self.replay_count(first));
                let phase = self.progress.phase(format!(
                    "Replaying {more} more migration{} to {}",
                    if more == 1 { "" } else { "s" },
                    at(then)
                ));
                let b = testing::replay(&self.migrator, scratch.database(), then).await;
                drop(phase);
                let dropped = scratch.drop().await;
                let b = b?;
                dropped?;
                if let Some(k) = &then_key {
                    self.cache.put(k, &b);
                }
                Ok((a, b))
            }
        }
    }

    /// The migrations replayed to `revisions` in a new scratch database, kept for more
    /// work (the caller drops it), and its schema, which goes into the cache.
    pub async fn replayed_kept(
        &self,
        revisions: &[String],
        scratches: &Scratches,
    ) -> Result<(Schema, Scratch), CliError> {
        let key = self.migrations_key(revisions).await;
        let (schema, scratch) = self.replayed(revisions, scratches).await?;
        if let Some(k) = key {
            self.cache.put(&k, &schema);
        }
        Ok((schema, scratch))
    }

    /// Replays into a new scratch database and reads it; on failure the scratch is
    /// dropped.
    async fn replayed(
        &self,
        revisions: &[String],
        scratches: &Scratches,
    ) -> Result<(Schema, Scratch), CliError> {
        let count = self.replay_count(revisions);
        let _phase = self.progress.phase(format!(
            "Replaying {count} migration{} into a scratch database",
            if count == 1 { "" } else { "s" }
        ));
        let scratch = self.scratch(scratches).await?;
        match testing::replay(&self.migrator, scratch.database(), revisions).await {
            Ok(schema) => Ok((schema, scratch)),
            Err(e) => {
                let _ = scratch.drop().await;
                Err(e.into())
            }
        }
    }

    /// How many revisions a replay to `revisions` runs.
    fn replay_count(&self, revisions: &[String]) -> usize {
        let map = &self.migrator.directory().map;
        let mut all: Vec<&str> = revisions
            .iter()
            .filter_map(|r| map.ancestors(r).ok())
            .flatten()
            .collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    }

    /// The cache key of the migrations at `revisions` on the scratch server.
    async fn migrations_key(&self, revisions: &[String]) -> Option<Key> {
        let fingerprint = self.fingerprint().await?;
        Key::migrations(
            &self.migrator,
            revisions,
            self.scratch_dialect()?,
            fingerprint,
        )
    }

    /// The kind of database the scratch work runs on.
    fn scratch_dialect(&self) -> Option<migrate_core::Dialect> {
        migrate_core::Dialect::from_url(self.scratch_on.server_url())
    }

    /// The scratch server's fingerprint (read once; `None` when it cannot be read, and
    /// then nothing is cached: the scratch work that follows says why).
    async fn fingerprint(&self) -> Option<&str> {
        self.fingerprint
            .get_or_init(|| async {
                let url = match self.scratch_dialect()? {
                    // The scratch is in memory, on the SQLite compiled in.
                    migrate_core::Dialect::Sqlite => "sqlite::memory:",
                    _ => self.scratch_on.server_url(),
                };
                let db = Database::connect_with(url, &self.connect).await.ok()?;
                let fingerprint = db.server_fingerprint().await.ok();
                db.close().await;
                fingerprint
            })
            .await
            .as_deref()
    }

    /// A new empty scratch database for this target's work, dropped with `scratches`.
    pub async fn scratch(&self, scratches: &Scratches) -> Result<Scratch, CliError> {
        scratches.create(&self.scratch_on).await
    }

    /// The heads of the migrations.
    pub fn heads(&self) -> Vec<String> {
        self.migrator
            .heads()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// Revisions as messages name them: `<base>` for none.
fn at(revisions: &[String]) -> String {
    if revisions.is_empty() {
        "<base>".to_string()
    } else {
        revisions.join(", ")
    }
}
