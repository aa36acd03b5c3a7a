//! The schemas `diff`, `check`, `revision --autogenerate` and `test` compare: the live
//! database, the migrations replayed into a scratch database, and the declared schema
//! (`schema_location`) loaded into one. Scratch databases live on the dev database's
//! server when one is named (`--dev-url`, `dev_url`), else on the target's (in memory
//! for SQLite), never inside the target database, and are dropped on every path,
//! Ctrl-C included.

use crate::error::CliError;
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
    let job = work(scratches.clone());
    ctx.block_on(async move {
        let result = tokio::select! {
            r = job => r,
            _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
        };
        let dropped = scratches.drop_all().await;
        let value = result?;
        dropped?;
        Ok(value)
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
        })
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
                let schema = testing::live_schema(&self.migrator, &db).await;
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
            SchemaSource::Declared => {
                let declared = self.declared()?;
                let scratch = self.scratch(scratches).await?;
                let schema = testing::declared_schema(declared, scratch.database()).await;
                let dropped = scratch.drop().await;
                let schema = schema?;
                dropped?;
                Ok(schema)
            }
        }
    }

    /// The schema the migrations produce at `revisions`, replayed into a scratch.
    pub async fn migrations_at(
        &self,
        revisions: &[String],
        scratches: &Scratches,
    ) -> Result<Schema, CliError> {
        let scratch = self.scratch(scratches).await?;
        let schema = testing::replay(&self.migrator, scratch.database(), revisions).await;
        let dropped = scratch.drop().await;
        let schema = schema?;
        dropped?;
        Ok(schema)
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
