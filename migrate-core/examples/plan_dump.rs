//! Prints the plans `migrate-core` computes, for comparison with another implementation
//! (`scripts/alembic_differential.py` compares them with Alembic's).
//!
//! Reads a line format on stdin; blank lines and lines starting with `#` are ignored:
//!
//! ```text
//! graph                                   starts a new graph (and ends the previous one)
//! rev r2 down=r0,r1 deps=r5,lb3 labels=x  one revision; each key optional, order kept
//! upgrade r2 r3 -> heads                  current rows (may be none), then the target
//! downgrade r4 -> base
//! history                                 or `history start:end`
//! ```
//!
//! Prints one line per query, tab-separated, starting with the query itself:
//!
//! ```text
//! <query> \t ok \t <revisions in order> \t <rows after each step, ';'-separated> \t <rows after>
//! <query> \t err \t <message>
//! ```
//!
//! Revision lists are space-separated; each set of rows is sorted and comma-joined, `-`
//! when empty. A `history` line has only the order after `ok`. Queries on a graph that
//! failed validation print `err` with the validation message.
//!
//! ```sh
//! printf 'graph\nrev a\nrev b down=a\nupgrade -> heads\n' \
//!     | cargo run -q -p migrate-core --example plan_dump
//! ```

use migrate_core::{Plan, RevisionMap, RevisionSpec, VersionChange};
use std::collections::BTreeSet;
use std::io::{self, BufRead, Write};

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut specs: Vec<RevisionSpec> = Vec::new();
    // The map of the current graph, built at its first query.
    let mut map: Option<Result<RevisionMap, String>> = None;
    for line in stdin.lock().lines() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "graph" => {
                specs.clear();
                map = None;
            }
            "rev" => {
                if map.is_some() {
                    writeln!(out, "{line}\terr\trevisions must come before the queries")?;
                    continue;
                }
                match parse_rev(rest) {
                    Ok(spec) => specs.push(spec),
                    Err(e) => writeln!(out, "{line}\terr\t{e}")?,
                }
            }
            "upgrade" | "downgrade" | "history" => {
                let map = map.get_or_insert_with(|| {
                    RevisionMap::new(specs.clone()).map_err(|e| e.to_string().replace('\n', " "))
                });
                let answer = match map {
                    Ok(map) => query(map, word, rest),
                    Err(e) => format!("err\tinvalid graph: {e}"),
                };
                writeln!(out, "{line}\t{answer}")?;
            }
            other => writeln!(out, "{line}\terr\tunknown line kind {other:?}")?,
        }
    }
    out.flush()
}

fn parse_rev(rest: &str) -> Result<RevisionSpec, String> {
    let mut words = rest.split_whitespace();
    let id = words.next().ok_or("`rev` needs an id")?;
    let (mut down, mut deps, mut labels) = ("", "", "");
    for w in words {
        match w.split_once('=') {
            Some(("down", v)) => down = v,
            Some(("deps", v)) => deps = v,
            Some(("labels", v)) => labels = v,
            _ => return Err(format!("unknown field {w:?}")),
        }
    }
    Ok(RevisionSpec::new(id, down).depends_on(deps).labels(labels))
}

fn query(map: &RevisionMap, word: &str, rest: &str) -> String {
    if word == "history" {
        let range = Some(rest.trim()).filter(|r| !r.is_empty());
        return match map.history(range) {
            Ok(order) => format!("ok\t{}", order.join(" ")),
            Err(e) => format!("err\t{e}"),
        };
    }
    let Some((current, target)) = rest.split_once("->") else {
        return "err\texpected `<current...> -> <target>`".to_string();
    };
    let current: Vec<&str> = current.split_whitespace().collect();
    let target = target.trim();
    let plan = if word == "upgrade" {
        map.upgrade_plan(&current, target)
    } else {
        map.downgrade_plan(&current, target)
    };
    match plan {
        Ok(plan) => describe(&current, &plan),
        Err(e) => format!("err\t{e}"),
    }
}

fn rows(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "-".to_string()
    } else {
        set.iter().map(String::as_str).collect::<Vec<_>>().join(",")
    }
}

/// The order, the rows after each step (changes applied naively, so a change that
/// does not fit the rows shows up as a difference, not a crash), and `heads_after`.
fn describe(current: &[&str], plan: &Plan) -> String {
    let mut table: BTreeSet<String> = current.iter().map(|s| s.to_string()).collect();
    let mut after_steps = Vec::new();
    for step in &plan.steps {
        for change in &step.changes {
            match change {
                VersionChange::Insert(r) => {
                    table.insert(r.clone());
                }
                VersionChange::Delete(r) => {
                    table.remove(r);
                }
                VersionChange::Update { from, to } => {
                    table.remove(from);
                    table.insert(to.clone());
                }
            }
        }
        after_steps.push(rows(&table));
    }
    let heads: BTreeSet<String> = plan.heads_after.iter().cloned().collect();
    format!(
        "ok\t{}\t{}\t{}",
        plan.revisions().join(" "),
        after_steps.join(";"),
        rows(&heads)
    )
}
