//! PostgreSQL's table options in `CREATE TABLE` and `ALTER TABLE`: partitioned tables
//! and partitions, `UNLOGGED`, storage parameters; and the index options only
//! PostgreSQL has, which the other databases refuse by name.

use super::{RenderError, Renderer};
use crate::model::{Index, PartitionOf, PostgresTable, Table};

/// The PostgreSQL-only feature an index uses, if any.
pub(super) fn postgres_index_feature(ix: &Index) -> Option<&'static str> {
    if ix.parts.iter().any(|p| p.opclass.is_some()) {
        Some("index operator classes")
    } else if ix.parts.iter().any(|p| p.nulls_first.is_some()) {
        Some("NULLS FIRST or LAST in indexes")
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

#[cfg(test)]
mod tests {
    use crate::diff::{diff, Change};
    use crate::model::{
        Column, Index, IndexKey, IndexPart, PartitionOf, PostgresTable, Schema, Table,
    };
    use crate::render::{render, RenderError, RenderOptions};
    use migrate_core::Dialect;

    fn schema(tables: Vec<Table>) -> Schema {
        let mut s = Schema::default();
        for t in tables {
            s.add_table(t);
        }
        s
    }

    fn hosts(index: Index) -> Table {
        let mut t = Table::new("hosts")
            .column(Column::new("id", "integer"))
            .column(Column::new("addr", "inet"))
            .column(Column::new("name", "text"));
        t.indexes.push(index);
        t
    }

    fn part(column: &str) -> IndexPart {
        IndexPart {
            key: IndexKey::Column(column.into()),
            ..IndexPart::default()
        }
    }

    fn full_index() -> Index {
        Index {
            name: "hosts_addr".into(),
            parts: vec![
                IndexPart {
                    opclass: Some("inet_ops".into()),
                    ..part("addr")
                },
                IndexPart {
                    collation: Some("C".into()),
                    descending: true,
                    nulls_first: Some(false),
                    ..part("name")
                },
            ],
            unique: true,
            method: Some("gist".into()),
            include: vec!["id".into()],
            nulls_not_distinct: true,
            storage: vec!["fillfactor=70".into()],
            predicate: Some("id > 0".into()),
        }
    }

    fn parent() -> Table {
        let mut t = Table::new("ev")
            .column(Column::new("id", "integer"))
            .column(Column::new("at", "date"));
        t.postgres.partition_by = Some("RANGE (at)".into());
        t
    }

    fn partition(name: &str, parent: &str, bound: &str) -> Table {
        Table {
            postgres: PostgresTable {
                partition_of: Some(PartitionOf {
                    parent: parent.into(),
                    bound: bound.into(),
                }),
                ..PostgresTable::default()
            },
            ..Table::new(name)
        }
    }

    fn up_down(
        from: &Schema,
        to: &Schema,
        dialect: Dialect,
    ) -> Result<(String, String), RenderError> {
        let d = diff(from, to).expect("diff");
        let options = RenderOptions {
            allow_destructive: true,
        };
        render(&d, from, to, dialect, &options).map(|r| (r.upgrade, r.downgrade))
    }

    #[test]
    fn every_index_option_is_written_in_order_and_described() {
        let to = schema(vec![hosts(full_index())]);
        let mut bare = hosts(Index::default());
        bare.indexes.clear();
        let from = schema(vec![bare]);
        let (up, down) = up_down(&from, &to, Dialect::Postgres).expect("render");
        assert_eq!(
            up,
            "CREATE UNIQUE INDEX hosts_addr ON hosts USING gist (addr inet_ops, name COLLATE \"C\" DESC NULLS LAST) INCLUDE (id) NULLS NOT DISTINCT WITH (fillfactor=70) WHERE id > 0;\n"
        );
        assert_eq!(down, "DROP INDEX hosts_addr;\n");
        let d = diff(&from, &to).expect("diff");
        assert_eq!(
            d.changes[0].describe(),
            "create unique index hosts_addr on hosts (addr inet_ops, name collate \"C\" desc nulls last) include (id) nulls not distinct with (fillfactor=70)"
        );
    }

    #[test]
    fn each_changed_index_option_recreates_the_index() {
        let base = full_index();
        let variants: [fn(&mut Index); 6] = [
            |ix| ix.parts[0].opclass = None,
            |ix| ix.parts[1].collation = None,
            |ix| ix.parts[1].nulls_first = None,
            |ix| ix.include.clear(),
            |ix| ix.nulls_not_distinct = false,
            |ix| ix.storage = vec!["fillfactor=50".into()],
        ];
        for change in variants {
            let mut other = base.clone();
            change(&mut other);
            let d = diff(
                &schema(vec![hosts(base.clone())]),
                &schema(vec![hosts(other)]),
            )
            .expect("diff");
            let kinds: Vec<&str> = d
                .changes
                .iter()
                .map(|c| match c {
                    Change::DropIndex { .. } => "drop",
                    Change::CreateIndex { .. } => "create",
                    _ => "other",
                })
                .collect();
            assert_eq!(kinds, ["drop", "create"], "{:?}", d.changes);
        }
    }

    #[test]
    fn mysql_and_sqlite_refuse_postgres_index_and_table_options() {
        let mut plain = full_index();
        plain.method = None;
        plain.predicate = None;
        let to = schema(vec![hosts(plain)]);
        let mut bare = to.clone();
        bare.tables.get_mut("hosts").unwrap().indexes.clear();
        for dialect in [Dialect::Mysql, Dialect::Sqlite] {
            let e = up_down(&bare, &to, dialect).expect_err("refused");
            assert!(
                matches!(&e, RenderError::Unsupported { feature: "index operator classes", object, .. } if object == "index hosts_addr on hosts"),
                "{dialect:?}: {e:?}"
            );
            let e =
                up_down(&Schema::default(), &schema(vec![parent()]), dialect).expect_err("refused");
            assert!(
                matches!(&e, RenderError::Unsupported { feature: "partitioned tables", object, .. } if object == "ev"),
                "{dialect:?}: {e:?}"
            );
        }
    }

    #[test]
    fn partitions_come_after_their_parent_and_go_before_it() {
        let mut sub = partition(
            "ev_2024",
            "ev",
            "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        );
        sub.postgres.partition_by = Some("LIST (id)".into());
        let mut other = partition("a_rest", "ev", "DEFAULT");
        other.checks.push(crate::model::Check::new(
            Some("old"),
            "at < '2030-01-01'::date",
        ));
        other.postgres.storage = vec!["fillfactor=60".into()];
        let to = schema(vec![
            partition("a_one", "ev_2024", "FOR VALUES IN (1)"),
            other,
            sub,
            parent(),
        ]);
        let (up, down) = up_down(&Schema::default(), &to, Dialect::Postgres).expect("render");
        assert_eq!(
            up,
            "CREATE TABLE ev (\n    id integer,\n    at date\n) PARTITION BY RANGE (at);\n\
             CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (id);\n\
             CREATE TABLE a_one PARTITION OF ev_2024 FOR VALUES IN (1);\n\
             CREATE TABLE a_rest PARTITION OF ev (\n    CONSTRAINT old CHECK (at < '2030-01-01'::date)\n) DEFAULT WITH (fillfactor=60);\n"
        );
        assert_eq!(
            down,
            "DROP TABLE a_rest;\nDROP TABLE a_one;\nDROP TABLE ev_2024;\nDROP TABLE ev;\n"
        );
    }

    #[test]
    fn a_changed_bound_is_detached_and_attached_and_undone() {
        let from = schema(vec![
            parent(),
            partition("ev_a", "ev", "FOR VALUES FROM (1) TO (2)"),
        ]);
        let to = schema(vec![
            parent(),
            partition("ev_a", "ev", "FOR VALUES FROM (1) TO (3)"),
        ]);
        let d = diff(&from, &to).expect("diff");
        assert_eq!(
            d.changes[0].describe(),
            "alter table ev_a: partition of ev FOR VALUES FROM (1) TO (2) -> partition of ev FOR VALUES FROM (1) TO (3)"
        );
        assert!(!d.is_destructive());
        let (up, down) = up_down(&from, &to, Dialect::Postgres).expect("render");
        assert_eq!(
            up,
            "ALTER TABLE ev DETACH PARTITION ev_a;\nALTER TABLE ev ATTACH PARTITION ev_a FOR VALUES FROM (1) TO (3);\n"
        );
        assert_eq!(
            down,
            "ALTER TABLE ev DETACH PARTITION ev_a;\nALTER TABLE ev ATTACH PARTITION ev_a FOR VALUES FROM (1) TO (2);\n"
        );
    }

    #[test]
    fn unlogged_and_storage_changes_are_altered_in_place() {
        let mut a = Table::new("s").column(Column::new("id", "integer"));
        a.postgres.storage = vec!["autovacuum_enabled=false".into(), "fillfactor=70".into()];
        let mut b = a.clone();
        b.postgres.unlogged = true;
        b.postgres.storage = vec!["fillfactor=50".into()];
        let (up, down) =
            up_down(&schema(vec![a]), &schema(vec![b]), Dialect::Postgres).expect("render");
        assert_eq!(
            up,
            "ALTER TABLE s SET UNLOGGED;\nALTER TABLE s RESET (autovacuum_enabled);\nALTER TABLE s SET (fillfactor=50);\n"
        );
        assert_eq!(
            down,
            "ALTER TABLE s SET LOGGED;\nALTER TABLE s SET (autovacuum_enabled=false, fillfactor=70);\n"
        );
    }

    #[test]
    fn a_partition_key_change_or_a_table_becoming_a_partition_is_refused_by_name() {
        let mut rekeyed = parent();
        rekeyed.postgres.partition_by = Some("HASH (id)".into());
        let e = up_down(
            &schema(vec![parent()]),
            &schema(vec![rekeyed]),
            Dialect::Postgres,
        )
        .expect_err("refused");
        assert_eq!(
            e.to_string(),
            "table `ev`: its partition key cannot be changed in place (RANGE (at) -> HASH (id)); write this migration by hand (create the new table, copy the rows, swap the names)"
        );
        let plain = Table::new("ev_a");
        let e = up_down(
            &schema(vec![parent(), plain]),
            &schema(vec![parent(), partition("ev_a", "ev", "DEFAULT")]),
            Dialect::Postgres,
        )
        .expect_err("refused");
        assert!(
            matches!(&e, RenderError::Unalterable { table, what: "partitioning", .. } if table == "ev_a"),
            "{e:?}"
        );
    }
}
