//! `migrate verify`: the folder's graph and sum, without a database.

use super::hash::compute;
use crate::error::CliError;
use crate::target::Ctx;
use crate::Source;
use migrate_core::{read_sum_file, LoadError, ScriptDirectory, SumError, SumFile};

/// Lists every problem of the versions folder; exits non-zero when there is one.
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    if let Source::Embedded(e) = ctx.source {
        ctx.printer.line(format!(
            "{} embedded migrations, verified when the binary was built",
            e.migrations.len()
        ));
        return Ok(());
    }
    let targets = ctx.targets(None)?;
    for t in &targets {
        let loc = t.location();
        let mut problems = Vec::new();
        let dir = match ScriptDirectory::load(loc) {
            Ok(d) => Some(d),
            Err(LoadError::Invalid(ps)) => {
                problems.extend(ps.iter().map(|p| p.to_string()));
                None
            }
            Err(e) => return Err(e.into()),
        };
        let actual = compute(loc)?;
        match read_sum_file(loc)? {
            None => problems.push(SumError::MissingSumFile.to_string()),
            Some(text) => match SumFile::parse(&text) {
                Err(e) => problems.push(e.to_string()),
                Ok(sum) => {
                    if let Err(SumError::Mismatch(ms)) =
                        sum.verify(actual.entries.iter().map(|(p, c)| (p.as_str(), *c)))
                    {
                        problems.extend(ms.iter().map(|m| m.to_string()));
                    }
                }
            },
        }
        if !problems.is_empty() {
            return Err(CliError::Verify {
                path: loc.display().to_string(),
                problems,
            });
        }
        if let Some(d) = dir {
            let heads = d.map.heads();
            ctx.printer.line(format!(
                "{}: {} migrations, {} {}, migrations.sum matches",
                loc.display(),
                d.scripts.len(),
                if heads.len() == 1 { "head" } else { "heads" },
                if heads.is_empty() {
                    "none".to_string()
                } else {
                    heads.join(", ")
                }
            ));
            if heads.len() > 1 && !t.section.allow_multiple_heads {
                return Err(CliError::SeveralHeads {
                    heads: heads.iter().map(|h| h.to_string()).collect(),
                    path: loc.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}
