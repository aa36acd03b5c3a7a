//! Generators for the benchmarks (`benches/diff.rs`) and tests: not part of the API.

use crate::model::{
    Column, Deferrable, ForeignKey, Index, IndexKey, IndexPart, ReferentialAction, Schema, Table,
};
use std::collections::HashSet;

/// A synthetic schema of `tables` tables named `t0000`..., each with 10 columns, a
/// primary key, 2 indexes and a foreign key to the next table; `variant` other than 0
/// changes about one table in ten (a column added, dropped, retyped; an index and a
/// foreign key changed) and drops and adds a few tables, deterministically.
#[doc(hidden)]
pub fn generate_schema(tables: usize, variant: u64) -> Schema {
    let mut s = Schema::default();
    let name = |i: usize| format!("t{i:04}");
    for i in 0..tables {
        let changed = variant != 0
            && (i as u64)
                .wrapping_mul(2654435761)
                .wrapping_add(variant)
                .is_multiple_of(10);
        if variant != 0 && i % 97 == 5 {
            continue; // dropped in the variant
        }
        let mut t = Table::new(name(i))
            .column(Column::new("id", "bigint").not_null())
            .column(Column::new("parent_id", "bigint"))
            .column(Column::new("name", "character varying(100)").not_null())
            .column(Column::new("email", "character varying(255)"))
            .column(
                Column::new("status", "character varying(20)")
                    .not_null()
                    .default_expr("'new'::character varying"),
            )
            .column(Column::new("score", "integer").default_expr("0"))
            .column(Column::new("amount", "numeric(12,2)"))
            .column(
                Column::new("created_at", "timestamp without time zone")
                    .not_null()
                    .default_expr("CURRENT_TIMESTAMP"),
            )
            .column(Column::new("note", "text"))
            .primary_key(&["id"]);
        t.columns.push(if changed {
            Column::new("flag", "smallint")
        } else {
            Column::new("active", "boolean")
                .not_null()
                .default_expr("true")
        });
        if changed {
            t.columns[5].data_type = "bigint".into();
            t.columns.push(Column::new("extra", "text"));
        }
        t.indexes.push(Index {
            name: format!("ix_{}_name", name(i)),
            parts: vec![IndexPart {
                key: IndexKey::Column("name".into()),
                descending: false,
                ..Default::default()
            }],
            unique: false,
            predicate: None,
            method: None,
        });
        t.indexes.push(Index {
            name: format!("ix_{}_status_created", name(i)),
            parts: vec![
                IndexPart {
                    key: IndexKey::Column("status".into()),
                    descending: false,
                    ..Default::default()
                },
                IndexPart {
                    key: IndexKey::Column("created_at".into()),
                    descending: changed,
                    ..Default::default()
                },
            ],
            unique: false,
            predicate: None,
            method: None,
        });
        t.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["parent_id".into()],
            referenced_table: name((i + 1) % tables.max(1)),
            referenced_columns: vec!["id".into()],
            on_delete: if changed {
                ReferentialAction::Cascade
            } else {
                ReferentialAction::NoAction
            },
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
        });
        s.add_table(t);
    }
    if variant != 0 {
        for k in 0..tables / 100 {
            s.add_table(
                Table::new(format!("new_{k:03}"))
                    .column(Column::new("id", "bigint").not_null())
                    .column(Column::new("label", "text"))
                    .primary_key(&["id"]),
            );
        }
    }
    // Foreign keys to dropped tables go with them.
    let present: HashSet<String> = s.tables.keys().cloned().collect();
    for t in s.tables.values_mut() {
        t.foreign_keys
            .retain(|k| present.contains(&k.referenced_table));
    }
    s
}
