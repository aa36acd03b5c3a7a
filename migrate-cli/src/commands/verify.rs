//! `migrate verify [--format json]`: the folder's graph and sum, without a database.

use crate::cli::OutputArgs;
use crate::error::CliError;
use crate::json::{self, ProblemJson};
use crate::target::{Ctx, Target};
use crate::Source;
use migrate_core::{read_sum_file, Checksum, ScriptDirectory, SumError, SumFile, SumMismatch};
use migrate_runtime::Migrator;

/// Lists every problem of every section's versions folder; exits non-zero when there
/// is one. In JSON mode every section's document is printed, failing or not. The error
/// returned is the failing section's, or every failing section's (the exit code is the
/// first's).
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
    let mut failures = Vec::new();
    let targets = ctx.targets(None)?;
    // Every section is verified, failing or not, so one run lists every problem.
    for t in &targets {
        let verified = verify(t);
        if json {
            let (doc, error) = document(t, verified);
            docs.push(doc);
            failures.extend(error);
            continue;
        }
        let v = match verified {
            Ok(v) => v,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        match verdict(t, &v) {
            Some(e) => failures.push(e),
            None => ctx.printer.line(format!(
                "{}: {} migrations, {} {}, migrations.sum matches",
                t.location().display(),
                v.migrations,
                if v.heads.len() == 1 { "head" } else { "heads" },
                if v.heads.is_empty() {
                    "none".to_string()
                } else {
                    v.heads.join(", ")
                }
            )),
        }
    }
    if json {
        json::print(&mut ctx.printer, &docs);
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        _ => Err(CliError::Problems(failures)),
    }
}

/// What `verify` found in one versions folder.
struct Verified {
    /// Migrations loaded (files read when the folder does not load).
    migrations: usize,
    /// The heads, in the graph's order (none unless every file loads).
    heads: Vec<String>,
    /// Every problem of the folder and its sum, several heads aside.
    problems: Vec<ProblemJson>,
}

/// Verifies one section's folder: every entry that cannot be read, every file that does
/// not parse, the graph of those that do, and every disagreement with `migrations.sum`.
/// An error is a failure to list the folder at all.
fn verify(t: &Target) -> Result<Verified, CliError> {
    let loc = t.location();
    let found = ScriptDirectory::inspect(loc)?;
    let mut problems: Vec<ProblemJson> = found
        .unreadable
        .iter()
        .map(|(rel, e)| json::unreadable(rel, e))
        .collect();
    problems.extend(found.problems.iter().map(json::load_problem));
    match read_sum_file(loc) {
        Err(e) => problems.push(json::unreadable_sum(&e)),
        Ok(None) => problems.extend(json::sum_problems(&SumError::MissingSumFile)),
        // The common case, without hashing the files again.
        Ok(Some(text))
            if found
                .directory
                .as_ref()
                .is_some_and(|d| d.verify_sum(Some(&text)).is_ok()) => {}
        Ok(Some(text)) => {
            let (sum, malformed) = SumFile::parse_lenient(&text);
            problems.extend(malformed.iter().flat_map(json::sum_problems));
            let files = found
                .files
                .iter()
                .map(|(rel, bytes)| (rel.as_str(), Checksum::of(bytes)));
            if let Err(SumError::Mismatch(ms)) = sum.verify(files) {
                // A listed file that is there but cannot be read is named above.
                let unreadable = |p: &String| found.unreadable.iter().any(|(rel, _)| rel == p);
                problems.extend(
                    ms.iter()
                        .filter(|m| !matches!(m, SumMismatch::Absent(p) if unreadable(p)))
                        .map(json::mismatch),
                );
            }
        }
    }
    Ok(Verified {
        migrations: found
            .directory
            .as_ref()
            .map_or(found.files.len(), |d| d.scripts.len()),
        heads: found
            .directory
            .as_ref()
            .map(|d| d.map.heads().iter().map(|h| h.to_string()).collect())
            .unwrap_or_default(),
        problems,
    })
}

/// The several heads of a folder whose configuration wants one.
fn several_heads(t: &Target, v: &Verified) -> Option<CliError> {
    (v.heads.len() > 1 && !t.section.allow_multiple_heads).then(|| CliError::SeveralHeads {
        heads: v.heads.clone(),
        path: t.location().to_path_buf(),
    })
}

/// The error a verified folder exits with: its problems with several heads listed
/// last (exit 1, as the first problem listed says), else several heads alone (exit 7).
fn verdict(t: &Target, v: &Verified) -> Option<CliError> {
    let heads = several_heads(t, v);
    if v.problems.is_empty() {
        return heads;
    }
    let mut problems: Vec<String> = v.problems.iter().map(|p| p.message.clone()).collect();
    problems.extend(heads.map(|e| e.to_string()));
    Some(CliError::Verify {
        path: t.location().display().to_string(),
        problems,
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
    let heads_problem = several_heads(t, &v);
    let mut problems = v.problems;
    if let Some(e) = heads_problem {
        problems.extend(json::problems(&e, None));
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
