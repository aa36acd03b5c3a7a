//! `migrate rebase REV --onto HEAD`: move a branch nobody applied on top of another
//! head by rewriting its root's `down_revision`, so history stays linear without a
//! merge revision.

use crate::cli::RebaseArgs;
use crate::error::CliError;
use crate::target::{update_sum, Ctx, Target};
use migrate_core::{RevisionMap, Script, ScriptDirectory};
use std::collections::HashSet;
use std::path::Path;

/// Moves the branch of `revision` onto `onto`.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: RebaseArgs) -> Result<(), CliError> {
    let (t, m) = ctx.file_target("rebase")?;
    let t = &t;
    let dir = m.directory();
    let map = &dir.map;
    let fail = |reason: String| CliError::Rebase {
        revision: args.revision.clone(),
        onto: args.onto.clone(),
        reason,
    };
    let rev = map
        .resolve_one(&args.revision)?
        .ok_or_else(|| fail("`base` is not a branch".into()))?
        .to_string();
    let onto = map
        .resolve_one(&args.onto)?
        .ok_or_else(|| fail("use `migrate revision --head base` to start a new root".into()))?
        .to_string();
    if map.get(&onto).is_some_and(|r| !r.is_head()) {
        return Err(fail(format!("`{onto}` is not a head")));
    }
    let below_onto: HashSet<&str> = map.ancestors(&onto)?.into_iter().collect();
    if below_onto.contains(rev.as_str()) {
        return Err(fail(format!("`{rev}` is already below `{onto}`")));
    }
    let branch: HashSet<&str> = map
        .ancestors(&rev)?
        .into_iter()
        .filter(|a| !below_onto.contains(a))
        .collect();
    if branch.contains(onto.as_str()) {
        return Err(fail(format!("`{onto}` is below `{rev}`; nothing to move")));
    }
    let (root, old_parents) = branch_root(map, &branch, &fail)?;

    // Nothing of the branch may be applied anywhere we can see.
    if let Some(applied) = applied_in_branch(ctx, t, &m, &branch)? {
        return Err(fail(format!(
            "`{applied}` is already applied to {}; downgrade it first, or merge instead (`migrate merge heads`)",
            t.masked_url()
        )));
    }

    let script = dir
        .script(&root)
        .ok_or_else(|| fail(format!("no file for `{root}`")))?;
    let path = t.location().join(&*script.path);
    let (new_text, new_script) = rewritten(&path, script, &onto, &fail)?;
    let checksum = new_script.checksum;
    let scripts: Vec<Script> = dir
        .scripts
        .iter()
        .map(|s| {
            if s.revision == root {
                new_script.clone()
            } else {
                s.clone()
            }
        })
        .collect();
    let new_dir = ScriptDirectory::from_scripts(scripts)?;
    std::fs::write(&path, new_text).map_err(|e| CliError::io("write", &path, e))?;
    let rel = script.path.to_string();
    update_sum(t.location(), dir, |sum| {
        sum.entries.insert(rel, checksum);
    })?;
    ctx.printer.status(format!(
        "Rebased {root} ({}) from {} onto {onto}; heads: {}",
        path.display(),
        old_parents.join(", "),
        new_dir.map.heads().join(", ")
    ));
    ctx.files_changed();
    Ok(())
}

/// The one root of `branch` (the revision whose parent is outside it) and its parent;
/// refused for a branch of several roots, a base revision or a merge point.
fn branch_root(
    map: &RevisionMap,
    branch: &HashSet<&str>,
    fail: &dyn Fn(String) -> CliError,
) -> Result<(String, Vec<String>), CliError> {
    let mut roots: Vec<&str> = branch
        .iter()
        .copied()
        .filter(|id| {
            map.get(id)
                .is_some_and(|r| r.down_revisions().iter().all(|p| !branch.contains(p)))
        })
        .collect();
    roots.sort_unstable();
    let root = match roots.as_slice() {
        [one] => one.to_string(),
        many => {
            return Err(fail(format!(
                "the branch has {} roots ({}); rebase one line of revisions at a time",
                many.len(),
                many.join(", ")
            )))
        }
    };
    let root_rev = map
        .get(&root)
        .ok_or_else(|| fail(format!("`{root}` vanished")))?;
    let old_parents: Vec<String> = root_rev
        .down_revisions()
        .iter()
        .map(|s| s.to_string())
        .collect();
    match old_parents.len() {
        0 => Err(fail(format!(
            "`{root}` is a base revision (a separate branch by design)"
        ))),
        1 => Ok((root, old_parents)),
        _ => Err(fail(format!("`{root}` is a merge point"))),
    }
}

/// The text of `script` (read from `path`) with its `down_revision` rewritten to
/// `onto`, and the script it parses to.
fn rewritten(
    path: &Path,
    script: &Script,
    onto: &str,
    fail: &dyn Fn(String) -> CliError,
) -> Result<(String, Script), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io("read", path, e))?;
    // A Rust migration's header is `//` lines.
    let comment = if script.is_rust() { "//" } else { "--" };
    let new_text = rewrite_down_revision(&text, onto, comment).ok_or_else(|| {
        fail(format!(
            "no `{comment} down_revision:` line in the header of `{}`",
            script.path
        ))
    })?;
    let new_script = Script::parse(&script.path, new_text.as_bytes()).map_err(|errs| {
        fail(
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    Ok((new_text, new_script))
}

/// A revision of `branch` that the database holds (through its current heads), if any.
/// An SQLite file that does not exist holds nothing and is not created.
fn applied_in_branch(
    ctx: &mut Ctx<'_>,
    t: &Target,
    m: &migrate_runtime::Migrator,
    branch: &HashSet<&str>,
) -> Result<Option<String>, CliError> {
    let url = &t.section.database_url;
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let file = rest.trim_start_matches("//");
        let file = file.split('?').next().unwrap_or(file);
        if file.is_empty() || file == ":memory:" || !std::path::Path::new(file).exists() {
            return Ok(None);
        }
    }
    for c in ctx.current_revisions(t, m)? {
        let Ok(ancestors) = m.directory().map.ancestors(&c) else {
            continue;
        };
        if let Some(hit) = ancestors.into_iter().find(|a| branch.contains(a)) {
            return Ok(Some(hit.to_string()));
        }
    }
    Ok(None)
}

/// Replaces the value of the header's `-- down_revision:` line (`//` for a Rust
/// migration: `comment`), keeping line endings.
fn rewrite_down_revision(text: &str, onto: &str, comment: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut done = false;
    let mut in_header = true;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        if in_header && !body.trim_start().starts_with(comment) {
            in_header = false;
        }
        if in_header && !done {
            let stripped = body.trim_start().trim_start_matches(comment).trim_start();
            if let Some(rest) = stripped.strip_prefix("down_revision") {
                if rest.trim_start().starts_with(':') {
                    out.push_str(comment);
                    out.push_str(" down_revision: ");
                    out.push_str(onto);
                    out.push_str(ending);
                    done = true;
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    done.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::rewrite_down_revision;

    #[test]
    fn rewrites_only_the_header_line() {
        let text = "-- m\r\n-- revision: b\r\n-- down_revision: a\r\n\r\n-- migrate:upgrade\r\n-- down_revision: keep\r\n";
        let out = rewrite_down_revision(text, "z", "--").unwrap();
        assert!(out.contains("-- down_revision: z\r\n"));
        assert!(out.contains("-- down_revision: keep"));
        assert!(rewrite_down_revision("-- revision: a\n", "z", "--").is_none());
    }

    #[test]
    fn rewrites_a_rust_migrations_header() {
        let text = "// m\n// revision: b\n// down_revision: a\n\npub async fn upgrade() {}\n";
        let out = rewrite_down_revision(text, "z", "//").unwrap();
        assert_eq!(
            out,
            text.replace("// down_revision: a", "// down_revision: z")
        );
        assert!(rewrite_down_revision(text, "z", "--").is_none());
    }
}
