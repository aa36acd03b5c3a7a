//! `migrate verify [--format json]`: the folder's graph and sum, without a database.

use crate::cli::OutputArgs;
use crate::error::CliError;
use crate::json::{self, ProblemJson};
use crate::target::{Ctx, Target};
use crate::Source;
use migrate_core::directory::read_regular_file;
use migrate_core::{read_sum_file, scan, verify_sum_file, LoadError, ScriptDirectory};
use migrate_runtime::Migrator;

/// Lists every problem of the versions folder; exits non-zero when there is one. In
/// JSON mode every section's document is printed, failing or not; the error returned
/// is the first failing section's.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: OutputArgs) -> Result<(), CliError> {
    let json = args.is_json();
    if let Source::Embedded(e) = ctx.source {
        if json {
            let mut heads: Vec<String> = Migrator::new(e)?
                .heads()
                .iter()
                .map(|h| h.to_string())
                .collect();
            heads.sort();
            let doc = json::Doc {
                section: None,
                body: json::Verify {
                    ok: true,
                    migrations: e.migrations.len(),
                    heads,
                    problems: Vec::new(),
                },
            };
            json::print(&mut ctx.printer, &[doc]);
            return Ok(());
        }
        ctx.printer.line(format!(
            "{} embedded migrations, verified when the binary was built",
            e.migrations.len()
        ));
        return Ok(());
    }
    let mut docs = Vec::new();
    let mut failure = None;
    let targets = ctx.targets(None)?;
    for t in &targets {
        let verified = verify(t);
        if json {
            let (doc, error) = document(t, verified);
            docs.push(doc);
            failure = failure.or(error);
            continue;
        }
        let v = verified?;
        if v.problems.is_empty() {
            ctx.printer.line(format!(
                "{}: {} migrations, {} {}, migrations.sum matches",
                t.location().display(),
                v.migrations,
                if v.heads.len() == 1 { "head" } else { "heads" },
                if v.heads.is_empty() {
                    "none".to_string()
                } else {
                    v.heads.join(", ")
                }
            ));
        }
        if let Some(e) = verdict(t, &v) {
            return Err(e);
        }
    }
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    failure.map_or(Ok(()), Err)
}

/// What `verify` found in one versions folder.
struct Verified {
    /// Migrations loaded (files found when the folder does not load).
    migrations: usize,
    /// The heads, in the graph's order (none when the folder does not load).
    heads: Vec<String>,
    /// Every problem of the folder and its sum (several heads aside).
    problems: Vec<ProblemJson>,
}

/// Verifies one section's folder; an error is a failure to read it at all.
fn verify(t: &Target) -> Result<Verified, CliError> {
    let loc = t.location();
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for (rel, abs) in scan(loc)? {
        files.push((rel, read_regular_file(&abs)?));
    }
    let files_read = || {
        files
            .iter()
            .map(|(rel, bytes)| (rel.as_str(), bytes.as_slice()))
    };
    let dir = match ScriptDirectory::from_files(files_read()) {
        Ok(d) => Some(d),
        Err(LoadError::Invalid(ps)) => {
            problems.extend(ps.iter().map(json::load_problem));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let sum_text = read_sum_file(loc)?;
    if let Err(e) = verify_sum_file(sum_text.as_deref(), dir.as_ref(), files_read()) {
        problems.extend(json::sum_problems(&e));
    }
    Ok(Verified {
        migrations: dir.as_ref().map_or(files.len(), |d| d.scripts.len()),
        heads: dir
            .as_ref()
            .map(|d| d.map.heads().iter().map(|h| h.to_string()).collect())
            .unwrap_or_default(),
        problems,
    })
}

/// The error a verified folder exits with: its problems, else several heads where the
/// configuration wants one.
fn verdict(t: &Target, v: &Verified) -> Option<CliError> {
    if !v.problems.is_empty() {
        return Some(CliError::Verify {
            path: t.location().display().to_string(),
            problems: v.problems.iter().map(|p| p.message.clone()).collect(),
        });
    }
    (v.heads.len() > 1 && !t.section.allow_multiple_heads).then(|| CliError::SeveralHeads {
        heads: v.heads.clone(),
        path: t.location().to_path_buf(),
    })
}

/// The JSON document of one section, and the error it exits with.
fn document(
    t: &Target,
    verified: Result<Verified, CliError>,
) -> (json::Doc<json::Verify>, Option<CliError>) {
    let doc = |body| json::Doc {
        section: t.section.name.clone(),
        body,
    };
    let v = match verified {
        Ok(v) => v,
        Err(e) => {
            let doc = doc(json::Verify {
                ok: false,
                migrations: 0,
                heads: Vec::new(),
                problems: json::problems(&e, None),
            });
            return (doc, Some(e));
        }
    };
    let error = verdict(t, &v);
    let mut problems = v.problems;
    if let Some(e @ CliError::SeveralHeads { .. }) = &error {
        problems.extend(json::problems(e, None));
    }
    let mut heads = v.heads;
    heads.sort();
    let doc = doc(json::Verify {
        ok: error.is_none(),
        migrations: v.migrations,
        heads,
        problems,
    });
    (doc, error)
}
