//! `migrate check [--format json]`.

use super::each_section;
use crate::cli::CheckArgs;
use crate::error::CliError;
use crate::json;
use crate::schema::{guarded, SchemaSource, Sources};
use crate::target::{Ctx, Target};
use migrate_runtime::Migrator;

/// Fails unless the folder is valid, `migrations.sum` matches, there is one head (or
/// several are allowed), the database is at every head and no applied migration was
/// edited. Every problem found is reported; the exit code is the first one's. In JSON
/// mode every section is checked and its document printed, failing or not; the error
/// returned is the first failing section's.
///
/// With a declared schema (`schema_location`, or `--schema DIR`) it also replays the
/// migrations into scratch databases and fails when the live schema differs from what
/// they produce at the database's revisions (drift: changes made by hand), or when the
/// declared schema differs from what they produce at their heads (a missing revision).
pub(crate) fn run(ctx: &mut Ctx<'_>, args: CheckArgs) -> Result<(), CliError> {
    let json = args.output.is_json();
    let mut failure = None;
    each_section(ctx, json, |ctx, t| {
        let checked = check(ctx, t, args.schema.as_ref());
        if json {
            let (doc, error) = document(t, checked);
            failure = failure.take().or(error);
            return Ok(Some(doc));
        }
        let Checked {
            current, problems, ..
        } = checked?;
        if let Some(problem) = combined(problems) {
            return Err(problem);
        }
        let at = if current.is_empty() {
            "<base>".to_string()
        } else {
            current.join(", ")
        };
        ctx.printer.line(format!(
            "Database is up to date at {at}; no migrations pending."
        ));
        Ok(None)
    })?;
    failure.map_or(Ok(()), Err)
}

/// What one section's check found.
struct Checked {
    migrator: Migrator,
    current: Vec<String>,
    problems: Vec<CliError>,
}

/// Checks one section; an error is a failure to check at all (the database or the
/// folder could not be read).
fn check(
    ctx: &mut Ctx<'_>,
    t: &Target,
    schema: Option<&std::path::PathBuf>,
) -> Result<Checked, CliError> {
    let prefetch = ctx.prefetch(t, super::upgrade::read_state)?;
    let m = ctx.migrator_without_sql(t)?;
    let mut problems: Vec<CliError> = Vec::new();
    if let Err(e) = ctx.check_sum(t, &m) {
        problems.push(e);
    }
    if let Err(e) = ctx.check_single_head(t, &m) {
        problems.push(e);
    }
    // Problems of the folder come first: a database that cannot be read is listed
    // after them rather than hiding them.
    let read = ctx.prefetched(prefetch).and_then(|(db, state)| {
        ctx.block_on(db.close())?;
        Ok(state?)
    });
    let state = match read {
        Ok(state) => state,
        Err(e) if !problems.is_empty() => {
            problems.push(e);
            return Ok(Checked {
                migrator: m,
                current: Vec::new(),
                problems,
            });
        }
        Err(e) => return Err(e),
    };
    problems.extend(m.check_problems(&state).into_iter().map(CliError::from));
    let known = state
        .current
        .iter()
        .all(|r| m.directory().map.get(r).is_some());
    if known && (schema.is_some() || t.section.schema_location.is_some()) {
        problems.extend(schema_problems(ctx, t, schema, &state.current)?);
    }
    Ok(Checked {
        migrator: m,
        current: state.current,
        problems,
    })
}

/// The error for a section's problems: the one, or all of them (the first's exit code).
fn combined(mut problems: Vec<CliError>) -> Option<CliError> {
    if problems.len() > 1 {
        return Some(CliError::Problems(problems));
    }
    problems.pop()
}

/// The JSON document of one section, and the error it exits with.
fn document(t: &Target, checked: Result<Checked, CliError>) -> (json::Check, Option<CliError>) {
    let (current, heads, error, dir) = match checked {
        Ok(c) => {
            let mut heads: Vec<String> = c.migrator.heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            (c.current, heads, combined(c.problems), Some(c.migrator))
        }
        Err(e) => (Vec::new(), Vec::new(), Some(e), None),
    };
    let problems = error
        .as_ref()
        .map(|e| json::problems(e, dir.as_ref().map(Migrator::directory)))
        .unwrap_or_default();
    let doc = json::Check {
        database: t.masked_url(),
        ok: error.is_none(),
        current,
        heads,
        problems,
    };
    (doc, error)
}

/// Drift (the live schema against the migrations at the database's revisions) and a
/// missing revision (the declared schema against the migrations at their heads).
fn schema_problems(
    ctx: &mut Ctx<'_>,
    t: &Target,
    schema: Option<&std::path::PathBuf>,
    current: &[String],
) -> Result<Vec<CliError>, CliError> {
    let sources = Sources::of(ctx, t, schema)?;
    let current = current.to_vec();
    let heads = {
        let mut h = sources.heads();
        h.sort();
        h
    };
    let at_heads_is_current = heads == current;
    let (live, at_current, at_heads, declared) = {
        let current = current.clone();
        guarded(ctx, move |scratches| async move {
            // Independent: the scratch databases are created, filled and read at the
            // same time (creating a database is mostly the server's I/O).
            // `join!`, not `try_join!`: a failure must not cancel the others halfway
            // through creating a scratch database, which would then never be dropped.
            let migrations = async {
                if at_heads_is_current {
                    let at = sources.migrations_at(&current, &scratches).await?;
                    Ok::<_, CliError>((at.clone(), at))
                } else {
                    sources
                        .migrations_at_both(&current, &heads, &scratches)
                        .await
                }
            };
            let (live, migrations, declared) = tokio::join!(
                sources.read(&SchemaSource::Database, &scratches),
                migrations,
                sources.read(&SchemaSource::Declared, &scratches),
            );
            let (live, (at_current, at_heads), declared) = (live?, migrations?, declared?);
            Ok((live, at_current, at_heads, declared))
        })?
    };
    let mut problems = Vec::new();
    // Described as what was done outside the migrations (from their schema to the live
    // one): `add column tickets.notes`.
    let drift = migrate_runtime::schema::model::diff(&at_current, &live)
        .map_err(migrate_runtime::schema::SchemaError::from)?;
    if !drift.is_empty() {
        problems.push(CliError::Drift {
            revisions: current,
            changes: drift.differences().iter().map(|c| c.describe()).collect(),
        });
    }
    let ahead = migrate_runtime::schema::model::diff(&at_heads, &declared)
        .map_err(migrate_runtime::schema::SchemaError::from)?;
    if !ahead.is_empty() {
        problems.push(CliError::SchemaAhead {
            changes: ahead.changes.iter().map(|c| c.describe()).collect(),
        });
    }
    Ok(problems)
}
