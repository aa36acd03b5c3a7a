//! `migrate check [--format json]`.

use crate::cli::OutputArgs;
use crate::error::CliError;
use crate::json;
use crate::target::{Ctx, Target};
use migrate_runtime::Migrator;

/// Fails unless the folder is valid, `migrations.sum` matches, there is one head (or
/// several are allowed), the database is at every head and no applied migration was
/// edited. Every problem found is reported; the exit code is the first one's. In JSON
/// mode every section is checked and its document printed, failing or not; the error
/// returned is the first failing section's.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: OutputArgs) -> Result<(), CliError> {
    let json = args.is_json();
    let mut docs = Vec::new();
    let mut failure = None;
    let targets = ctx.targets(None)?;
    for t in &targets {
        if !json {
            ctx.section_header(&targets, t);
        }
        let checked = check(ctx, t);
        if json {
            let (doc, error) = document(t, checked);
            docs.push(doc);
            failure = failure.or(error);
            continue;
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
    }
    if json {
        json::print(&mut ctx.printer, &docs);
    }
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
fn check(ctx: &mut Ctx<'_>, t: &Target) -> Result<Checked, CliError> {
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
        section: t.section.name.clone(),
        database: t.masked_url(),
        ok: error.is_none(),
        current,
        heads,
        problems,
    };
    (doc, error)
}
