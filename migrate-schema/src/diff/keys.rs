//! Primary keys, unique constraints and checks of a table on both sides.

use super::matching::{constraint_changes, Names, TablePair};
use super::{involves, mentions_any, Change, Findings, Phases};
use crate::model::Check;

/// The primary key dropped and added when it changes (or its columns are replaced).
pub(super) fn primary_key(
    names: &Names<'_>,
    tp: &TablePair<'_>,
    p: &mut Phases,
    found: &mut Findings,
) {
    let (f, t) = (tp.from, tp.to);
    let old = f.name.as_str();
    let f_pk = f
        .primary_key
        .as_ref()
        .map(|k| (k, names.columns(old, &k.columns)));
    match (&f_pk, &t.primary_key) {
        (None, None) => {}
        (Some((fk, fcols)), Some(tk))
            if *fcols == tk.columns
                && (tk.name.is_none() || tk.name == fk.name)
                && !involves(&t.name, &tk.columns, &found.replaced) => {}
        _ => {
            if let Some((fk, fcols)) = &f_pk {
                found.rekeyed.insert((t.name.clone(), fcols.clone()));
                p.drop_keys.push(Change::DropPrimaryKey {
                    table: f.name.clone(),
                    primary_key: (*fk).clone(),
                });
            }
            if let Some(tk) = &t.primary_key {
                p.add_keys.push(Change::AddPrimaryKey {
                    table: t.name.clone(),
                    primary_key: tk.clone(),
                });
            }
        }
    }
}

/// Unique constraints, by name or columns.
pub(super) fn uniques(names: &Names<'_>, tp: &TablePair<'_>, p: &mut Phases, found: &mut Findings) {
    let (f, t) = (tp.from, tp.to);
    let old = f.name.as_str();
    // Unique constraints.
    let f_uniques: Vec<Vec<String>> = f
        .uniques
        .iter()
        .map(|u| names.columns(old, &u.columns))
        .collect();
    let (udrop, uadd, _) = constraint_changes(
        &f.uniques,
        &t.uniques,
        |u| u.name.as_deref(),
        &|i, u| f_uniques[i] == u.columns,
        |i, j| {
            f_uniques[i] != t.uniques[j].columns
                || involves(&t.name, &t.uniques[j].columns, &found.replaced)
        },
    );
    for i in udrop {
        found.rekeyed.insert((t.name.clone(), f_uniques[i].clone()));
        p.drop_keys.push(Change::DropUnique {
            table: f.name.clone(),
            unique: f.uniques[i].clone(),
        });
    }
    for j in uadd {
        p.add_keys.push(Change::AddUnique {
            table: t.name.clone(),
            unique: t.uniques[j].clone(),
        });
    }
}

/// Checks: by name, or by expression; one that stays may change validity.
pub(super) fn checks(tp: &TablePair<'_>, p: &mut Phases, found: &Findings) {
    let (f, t) = (tp.from, tp.to);
    let (cdrop, cadd, ckept) = constraint_changes(
        &f.checks,
        &t.checks,
        |c| c.name.as_deref(),
        &|i, c| f.checks[i].expression == c.expression,
        |i, j| {
            f.checks[i].expression != t.checks[j].expression
                || mentions_any(&t.name, &t.checks[j].expression, &found.altered)
        },
    );
    for i in cdrop {
        p.drop_keys.push(Change::DropCheck {
            table: f.name.clone(),
            check: f.checks[i].clone(),
        });
    }
    for j in cadd {
        p.add_keys.push(Change::AddCheck {
            table: t.name.clone(),
            check: t.checks[j].clone(),
        });
    }
    for (i, j) in ckept {
        let (fc, tc) = (&f.checks[i], &t.checks[j]);
        if fc.not_valid != tc.not_valid {
            // An unnamed check of `to` is the one the database has, by its name.
            p.add_keys.push(Change::AlterCheck {
                table: t.name.clone(),
                from: fc.clone(),
                to: Check {
                    name: tc.name.clone().or_else(|| fc.name.clone()),
                    ..tc.clone()
                },
            });
        }
    }
}
