//! The schema checks of [`crate::testing`]: the schema the migrations produce, the
//! declared schema, and the stairway test.

use crate::schema::{self, SchemaError, ScratchOn};
use crate::{Database, Db, Migrator};
use migrate_schema::{diff, DeclaredSchema, Diff, Schema};
use std::fmt;

/// The schema of a database, without the migrator's own version and history tables.
///
/// # Errors
/// Catalog queries that fail.
pub async fn live_schema<'a>(m: &Migrator, db: impl Into<Db<'a>>) -> Result<Schema, SchemaError> {
    let own = m.own_tables();
    let own: Vec<&str> = own.iter().map(String::as_str).collect();
    schema::introspect(db, &own).await
}

/// The schema the migrations produce at `revisions` (the database's current rows, or
/// the heads), replayed from base into `db`, an empty scratch database.
///
/// # Errors
/// A migration that fails, and catalog queries that fail.
pub async fn replay(
    m: &Migrator,
    db: &Database,
    revisions: &[String],
) -> Result<Schema, SchemaError> {
    for r in revisions {
        m.upgrade(db, r).await?;
    }
    live_schema(m, db).await
}

/// The schema a declared schema folder creates, loaded into `db`, an empty scratch
/// database, with its `renamed_from` annotations.
///
/// # Errors
/// A statement that fails (naming file, line and statement), catalog queries, and
/// annotations that name nothing.
pub async fn declared_schema(
    declared: &DeclaredSchema,
    db: &Database,
) -> Result<Schema, SchemaError> {
    schema::introspect_declared(db, declared).await
}

/// What a stairway test found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StairwayReport {
    /// Revisions taken up, down and up again, in upgrade order.
    pub checked: Vec<String>,
    /// Revisions without a downgrade, only taken up.
    pub irreversible: Vec<String>,
    /// The first problem found, if any.
    pub failure: Option<StairwayFailure>,
}

impl StairwayReport {
    /// Whether every revision passed (and the head matched the declared schema).
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// A revision whose steps do not give the schema back, or a head that differs from the
/// declared schema.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StairwayFailure {
    /// Its downgrade did not give back the schema from before its upgrade.
    Trace {
        /// The revision.
        revision: String,
        /// What the downgrade left (from the schema after it to the one before the
        /// upgrade).
        difference: Vec<String>,
    },
    /// Its upgrade run a second time (after the downgrade) gave another schema.
    NotRepeatable {
        /// The revision.
        revision: String,
        /// From the first upgrade's schema to the second's.
        difference: Vec<String>,
    },
    /// The heads' schema is not the declared schema.
    Declared {
        /// From the heads' schema to the declared one.
        difference: Vec<String>,
    },
}

impl fmt::Display for StairwayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            None => write!(
                f,
                "{} revisions up, down and up again: every downgrade left no trace",
                self.checked.len()
            )?,
            Some(failure) => write!(f, "{failure}")?,
        }
        if !self.irreversible.is_empty() {
            write!(
                f,
                "\n  irreversible, only upgraded: {}",
                self.irreversible.join(", ")
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for StairwayFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, lines) = match self {
            StairwayFailure::Trace {
                revision,
                difference,
            } => (
                format!("the downgrade of revision `{revision}` leaves a trace; to give back the schema from before its upgrade it would still need to"),
                difference,
            ),
            StairwayFailure::NotRepeatable {
                revision,
                difference,
            } => (
                format!("revision `{revision}` upgraded again after its downgrade gives another schema; the second upgrade would need to"),
                difference,
            ),
            StairwayFailure::Declared { difference } => (
                "the migrations' head schema is not the declared schema; a revision is missing that would".to_string(),
                difference,
            ),
        };
        f.write_str(&head)?;
        for l in lines {
            write!(f, "\n  - {l}")?;
        }
        Ok(())
    }
}

/// What differs, without the objects the DDL only re-creates unchanged.
fn described(d: &Diff) -> Vec<String> {
    d.differences().iter().map(|c| c.describe()).collect()
}

/// The stairway test on a scratch database made where `on` says: a URL (the target
/// database's) for the server it names, an in-memory database for SQLite, or a
/// [`ScratchOn`] with a dev database (see [`schema::scratch`]). For every revision in
/// upgrade order, upgrade to it and read
/// the schema, take exactly that revision back down and require the schema from before
/// its upgrade, upgrade it again and require the same schema as the first time. At the
/// heads, require `declared` when given. The scratch is dropped afterwards.
///
/// # Errors
/// Failures to run it at all (creating the scratch, as [`schema::scratch`]: a role that
/// may not create databases needs a dev database; a migration that fails, catalog
/// queries); what the test finds wrong is the report's
/// [`failure`](StairwayReport::failure).
pub async fn stairway(
    m: &Migrator,
    on: impl Into<ScratchOn>,
    declared: Option<&DeclaredSchema>,
) -> Result<StairwayReport, SchemaError> {
    let on = on.into();
    let scratch = schema::scratch(on.clone()).await?;
    let declared_scratch = match declared {
        Some(_) => match schema::scratch(on).await {
            Ok(s) => Some(s),
            Err(e) => {
                let _ = scratch.drop().await;
                return Err(e);
            }
        },
        None => None,
    };
    let declared_in = declared.zip(declared_scratch.as_ref().map(|s| s.database()));
    let result = stairway_in(m, scratch.database(), declared_in).await;
    let mut dropped = scratch.drop().await;
    if let Some(s) = declared_scratch {
        dropped = dropped.and(s.drop().await);
    }
    let report = result?;
    dropped?;
    Ok(report)
}

/// [`stairway`] on databases the caller made and drops (e.g. to drop them from a
/// Ctrl-C handler too): `db` for the migrations, and an empty one to load the declared
/// schema into when there is one.
///
/// # Errors
/// As [`stairway`].
pub async fn stairway_in(
    m: &Migrator,
    db: &Database,
    declared: Option<(&DeclaredSchema, &Database)>,
) -> Result<StairwayReport, SchemaError> {
    stairway_on(m, db, declared).await
}

async fn stairway_on(
    m: &Migrator,
    db: &Database,
    declared: Option<(&DeclaredSchema, &Database)>,
) -> Result<StairwayReport, SchemaError> {
    let plan = m.directory().map.upgrade_plan::<&str>(&[], "heads")?;
    let mut report = StairwayReport::default();
    let mut before = live_schema(m, db).await?;
    for step in &plan.steps {
        let Some(rev) = step.revision.as_deref() else {
            continue;
        };
        m.upgrade(db, rev).await?;
        let after = live_schema(m, db).await?;
        let reversible = m
            .directory()
            .script(rev)
            .is_some_and(|s| !s.downgrade.is_empty());
        if !reversible {
            report.irreversible.push(rev.to_string());
            before = after;
            continue;
        }
        m.revert(db, rev).await?;
        let back = live_schema(m, db).await?;
        let trace = diff(&back, &before)?;
        if !trace.is_empty() {
            report.failure = Some(StairwayFailure::Trace {
                revision: rev.to_string(),
                difference: described(&trace),
            });
            return Ok(report);
        }
        m.upgrade(db, rev).await?;
        let again = live_schema(m, db).await?;
        let changed = diff(&after, &again)?;
        if !changed.is_empty() {
            report.failure = Some(StairwayFailure::NotRepeatable {
                revision: rev.to_string(),
                difference: described(&changed),
            });
            return Ok(report);
        }
        report.checked.push(rev.to_string());
        before = again;
    }
    if let Some((declared, declared_db)) = declared {
        let wanted = declared_schema(declared, declared_db).await?;
        let missing = diff(&before, &wanted)?;
        if !missing.is_empty() {
            report.failure = Some(StairwayFailure::Declared {
                difference: described(&missing),
            });
        }
    }
    Ok(report)
}

/// Fails (panics, for `cargo test`) unless the database behind `db` has the schema
/// `declared` creates, printing every difference. The declared schema is loaded into a
/// scratch database made where `scratch_on` says: the database's own URL is the usual
/// choice (a new database on its server; in memory for SQLite), or a [`ScratchOn`] with
/// a dev database when its role may not create databases.
///
/// # Panics
/// When the schemas differ, or when they cannot be read.
pub async fn assert_matches_declared<'a>(
    m: &Migrator,
    db: impl Into<Db<'a>>,
    declared: &DeclaredSchema,
    scratch_on: impl Into<ScratchOn>,
) {
    let live = match live_schema(m, db).await {
        Ok(s) => s,
        Err(e) => panic!("cannot read the database's schema: {e}"),
    };
    let scratch = match schema::scratch(scratch_on).await {
        Ok(s) => s,
        Err(e) => panic!("cannot create a scratch database: {e}"),
    };
    let wanted = declared_schema(declared, scratch.database()).await;
    let _ = scratch.drop().await;
    let wanted = match wanted {
        Ok(s) => s,
        Err(e) => panic!("cannot load the declared schema: {e}"),
    };
    match diff(&live, &wanted) {
        Ok(d) if d.is_empty() => {}
        Ok(d) => panic!(
            "the database differs from the declared schema; to match it, it would need to:\n  - {}",
            described(&d).join("\n  - ")
        ),
        Err(e) => panic!("cannot compare the schemas: {e}"),
    }
}
