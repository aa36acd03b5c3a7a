//! Columns of a table on both sides: renamed, altered, dropped, added; and the
//! dropped and added ones that may be a rename.

use super::matching::{clean_column, same_column, TablePair};
use super::{Change, Findings, Phases};
use crate::model::{Column, TableOptions};

/// The changes to the columns of a table on both sides, with what they change noted
/// in `found`.
pub(super) fn compare(
    tp: &TablePair<'_>,
    p: &mut Phases,
    found: &mut Findings,
    warnings: &mut Vec<String>,
) {
    let (f, t) = (tp.from, tp.to);
    let (from_options, to_options) = (TableOptions::of(f), TableOptions::of(t));
    if from_options != to_options {
        // A rebuild (SQLite), with the columns' changes.
        found.reshaped.insert(t.name.clone());
        p.alter_columns.push(Change::AlterTableOptions {
            table: t.name.clone(),
            from: from_options,
            to: to_options,
        });
    }
    for &(old, new) in &tp.columns.pairs {
        let (Some(fc), Some(tc)) = (f.get_column(old), t.get_column(new)) else {
            continue;
        };
        if old != new {
            p.rename_columns.push(Change::RenameColumn {
                table: t.name.clone(),
                from: old.to_string(),
                to: new.to_string(),
            });
            found.reshaped.insert(t.name.clone());
        }
        if !same_column(fc, tc) {
            found.altered.insert((t.name.clone(), new.to_string()));
            if fc.data_type != tc.data_type {
                found.retyped.insert((t.name.clone(), new.to_string()));
            }
            if fc.generated != tc.generated {
                found.replaced.insert((t.name.clone(), new.to_string()));
                found.retyped.insert((t.name.clone(), new.to_string()));
            }
            found.reshaped.insert(t.name.clone());
            p.alter_columns.push(Change::AlterColumn {
                table: t.name.clone(),
                from: Column {
                    name: new.to_string(),
                    ..clean_column(fc)
                },
                to: clean_column(tc),
            });
        }
    }
    for &old in &tp.columns.removed {
        if let Some(fc) = f.get_column(old) {
            found.reshaped.insert(t.name.clone());
            p.drop_columns.push(Change::DropColumn {
                table: f.name.clone(),
                column: clean_column(fc),
            });
        }
    }
    for &new in &tp.columns.added {
        if let Some(tc) = t.get_column(new) {
            p.add_columns.push(Change::AddColumn {
                table: t.name.clone(),
                column: clean_column(tc),
            });
        }
    }
    possible_renames(tp, warnings);
}

/// A dropped and an added column of the same type may be a rename.
fn possible_renames(tp: &TablePair<'_>, warnings: &mut Vec<String>) {
    let (f, t) = (tp.from, tp.to);
    let mut added: Vec<&Column> = tp
        .columns
        .added
        .iter()
        .filter_map(|n| t.get_column(n))
        .collect();
    for &old in &tp.columns.removed {
        let Some(fc) = f.get_column(old) else {
            continue;
        };
        if let Some(k) = added.iter().position(|c| c.data_type == fc.data_type) {
            let tc = added.remove(k);
            warnings.push(format!(
                "column {}.{} dropped and {}.{} added with the same type: if this is a rename, annotate `{}` with `-- migrate:renamed_from {}`",
                f.name, fc.name, t.name, tc.name, tc.name, fc.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diff::{diff, Change};
    use crate::model::{Column, Schema, Table, TableOptions};

    fn schema(strict: bool, comment: Option<&str>) -> Schema {
        let mut s = Schema::default();
        let mut t = Table::new("t").column(Column {
            comment: comment.map(str::to_string),
            ..Column::new("n", "integer")
        });
        t.strict = strict;
        s.add_table(t);
        s
    }

    #[test]
    fn table_options_and_comments_are_changes() {
        let d = diff(&schema(false, None), &schema(true, Some("count"))).unwrap();
        let described: Vec<String> = d.changes.iter().map(Change::describe).collect();
        assert_eq!(
            described,
            [
                "alter table t: options none -> strict",
                "alter column t.n: comment none -> 'count'"
            ]
        );
        let back = d.inverse();
        assert_eq!(
            back.changes[1],
            Change::AlterTableOptions {
                table: "t".into(),
                from: TableOptions {
                    strict: true,
                    without_rowid: false
                },
                to: TableOptions::default(),
            }
        );
        assert!(!d.is_destructive());
        assert!(diff(&schema(true, None), &schema(true, None))
            .unwrap()
            .is_empty());
    }
}
