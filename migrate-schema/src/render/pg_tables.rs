//! PostgreSQL's table options in `CREATE TABLE` and `ALTER TABLE`: partitioned tables
//! and partitions, `UNLOGGED`, storage parameters; and the index options only
//! PostgreSQL has, which the other databases refuse by name.

use super::{RenderError, Renderer};
use crate::model::{Index, PartitionOf, PostgresTable, Table};

/// The PostgreSQL-only feature an index uses, if any.
pub(super) fn postgres_index_feature(ix: &Index) -> Option<&'static str> {
    if ix.parts.iter().any(|p| p.opclass.is_some()) {
        Some("index operator classes")
    } else if ix.parts.iter().any(|p| p.collation.is_some()) {
        Some("index key collations")
    } else if !ix.include.is_empty() {
        Some("INCLUDE columns in indexes")
    } else if ix.nulls_not_distinct {
        Some("NULLS NOT DISTINCT indexes")
    } else if !ix.storage.is_empty() {
        Some("index storage parameters")
    } else {
        None
    }
}

/// The PostgreSQL-only feature a table uses, if any.
fn postgres_table_feature(t: &PostgresTable) -> Option<&'static str> {
    if t.partition_by.is_some() {
        Some("partitioned tables")
    } else if t.partition_of.is_some() {
        Some("partitions")
    } else if t.unlogged {
        Some("unlogged tables")
    } else if !t.storage.is_empty() {
        Some("table storage parameters")
    } else {
        None
    }
}

/// `CREATE TABLE` with its column and constraint `lines`: a partition is `PARTITION OF`
/// its parent (whose columns it takes) with its bound, a partitioned table ends with
/// its `PARTITION BY`.
pub(super) fn create_table(
    r: &Renderer<'_>,
    name: &str,
    t: &Table,
    lines: &[String],
) -> Result<String, RenderError> {
    let pg = &t.postgres;
    if !r.ddl.postgres_options() {
        if let Some(feature) = postgres_table_feature(pg) {
            return Err(r.unsupported(feature, t.name.clone()));
        }
    }
    let kind = if pg.unlogged {
        "UNLOGGED TABLE"
    } else {
        "TABLE"
    };
    let body = format!("(\n    {}\n)", lines.join(",\n    "));
    let mut s = match &pg.partition_of {
        Some(PartitionOf { parent, bound }) => {
            let mut s = format!("CREATE {kind} {} PARTITION OF {}", r.q(name), r.q(parent));
            // Only the partition's own constraints: its columns are the parent's.
            if !lines.is_empty() {
                s.push(' ');
                s.push_str(&body);
            }
            s.push(' ');
            s.push_str(bound);
            s
        }
        None => format!("CREATE {kind} {} {body}", r.q(name)),
    };
    if let Some(key) = &pg.partition_by {
        s.push_str(&format!(" PARTITION BY {key}"));
    }
    if !pg.storage.is_empty() {
        s.push_str(&format!(" WITH ({})", pg.storage.join(", ")));
    }
    Ok(s)
}

/// The statements that change a table's partition bound, persistence and storage
/// parameters. A partition key cannot change in place, nor can a table become a
/// partition or stop being one here (its columns would have to move between the
/// table and its parent): both stop the rendering, naming the table.
pub(super) fn alter_table(
    r: &Renderer<'_>,
    table: &str,
    from: &PostgresTable,
    to: &PostgresTable,
) -> Result<Vec<String>, RenderError> {
    if !r.ddl.postgres_options() {
        let feature = postgres_table_feature(to).or_else(|| postgres_table_feature(from));
        return Err(r.unsupported(feature.unwrap_or("table options"), table));
    }
    if from.partition_by != to.partition_by {
        return Err(unalterable(
            table,
            "partition key",
            from.partition_by.as_deref(),
            to.partition_by.as_deref(),
        ));
    }
    let mut out = Vec::new();
    match (&from.partition_of, &to.partition_of) {
        (Some(f), Some(t)) if f != t => {
            // Detached and attached again with its new bound rather than dropped and
            // created: the rows stay, and ATTACH checks they fit the new bound.
            out.push(format!(
                "ALTER TABLE {} DETACH PARTITION {}",
                r.q(&f.parent),
                r.q(table)
            ));
            out.push(format!(
                "ALTER TABLE {} ATTACH PARTITION {} {}",
                r.q(&t.parent),
                r.q(table),
                t.bound
            ));
        }
        (f, t) if f.is_some() != t.is_some() => {
            let words = |p: &Option<PartitionOf>| match p {
                Some(p) => format!("partition of {} {}", p.parent, p.bound),
                None => "not a partition".to_string(),
            };
            return Err(RenderError::Unalterable {
                table: table.to_string(),
                what: "partitioning",
                from: words(f),
                to: words(t),
            });
        }
        _ => {}
    }
    if from.unlogged != to.unlogged {
        let persistence = if to.unlogged { "UNLOGGED" } else { "LOGGED" };
        out.push(r.alter(table, format!("SET {persistence}")));
    }
    out.extend(storage_changes(r, table, &from.storage, &to.storage));
    Ok(out)
}

/// `RESET` of the parameters `to` leaves out, `SET` of the new and changed ones.
fn storage_changes(r: &Renderer<'_>, table: &str, from: &[String], to: &[String]) -> Vec<String> {
    let key = |p: &String| p.split('=').next().unwrap_or_default().to_string();
    let to_keys: Vec<String> = to.iter().map(key).collect();
    let reset: Vec<String> = from
        .iter()
        .map(key)
        .filter(|k| !to_keys.contains(k))
        .collect();
    let set: Vec<&String> = to.iter().filter(|p| !from.contains(p)).collect();
    let mut out = Vec::new();
    if !reset.is_empty() {
        out.push(r.alter(table, format!("RESET ({})", reset.join(", "))));
    }
    if !set.is_empty() {
        let set: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
        out.push(r.alter(table, format!("SET ({})", set.join(", "))));
    }
    out
}

fn unalterable(
    table: &str,
    what: &'static str,
    from: Option<&str>,
    to: Option<&str>,
) -> RenderError {
    RenderError::Unalterable {
        table: table.to_string(),
        what,
        from: from.unwrap_or("none").to_string(),
        to: to.unwrap_or("none").to_string(),
    }
}
