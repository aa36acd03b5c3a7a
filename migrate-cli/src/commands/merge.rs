//! `migrate merge REVS...`.

use super::revision::{create, NewRevision};
use crate::cli::MergeArgs;
use crate::error::CliError;
use crate::target::Ctx;

/// Creates a revision whose parents are the given revisions.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: MergeArgs) -> Result<(), CliError> {
    let (t, m) = ctx.file_target("merge")?;
    let t = &t;
    let map = &m.directory().map;
    let mut parents: Vec<String> = Vec::new();
    for r in &args.revisions {
        for id in map.resolve(r)? {
            if !parents.iter().any(|p| p == id) {
                parents.push(id.to_string());
            }
        }
    }
    if parents.len() < 2 {
        let what = if parents.is_empty() {
            "nothing".to_string()
        } else {
            parents.join(", ")
        };
        return Err(CliError::MergeTooFew(args.revisions.join(" "), what));
    }
    for a in &parents {
        for b in &parents {
            if a != b && map.ancestors(a)?.contains(&b.as_str()) {
                return Err(CliError::MergeAncestor(a.clone(), b.clone()));
            }
        }
        if !args.splice && map.get(a).is_some_and(|r| !r.is_head()) {
            return Err(CliError::MergeNotHead(a.clone()));
        }
    }
    let new = NewRevision {
        message: args.message,
        parents,
        branch_labels: args.branch_label,
        depends_on: Vec::new(),
        rev_id: args.rev_id,
        version_path: None,
        fill: None,
        rust: false,
    };
    create(ctx, t, &m, new).map(|_| ())
}
