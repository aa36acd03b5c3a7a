//! The difference between two schemas: an ordered list of [`Change`]s that turns `from`
//! into `to`, in an order every database accepts, and whose reverse (each change
//! inverted, the list read backwards) turns `to` back into `from`.
//!
//! Objects are matched by name. Renames come only from the `renamed_from` fields of
//! `to` (the `-- migrate:renamed_from` annotations of a declared schema): without one, a
//! renamed table or column is a drop and a create, and a drop and an add of the same
//! type in one table is reported in [`Diff::warnings`] as a possible rename. Constraints
//! that `to` leaves unnamed are matched by content (columns, referenced table and
//! columns, actions, expression) whatever their name in `from`; named ones by name.
//!
//! The order, in phases (a change's names are those current when it runs: drops use the
//! old names, additions the new ones):
//!
//! Objects kept as their catalog prints them ([`Object`](crate::model::Object)) go by
//! their [`Stage`](crate::model::Stage): late ones are dropped before 0 and created
//! after 16; early ones (extensions, domains) created before 8 and dropped after 12;
//! those that need functions (aggregates) created after the functions in 8 and dropped
//! before them in 12. A changed one is dropped just before it is created again.
//!
//! 0. drop triggers (changed ones, and unchanged ones on a view dropped in 1 or naming a
//!    column that changes; they are re-created in 16);
//! 1. drop views (changed ones, and unchanged ones that may read a table whose columns
//!    change, found by the table's name in the view's text; they are re-created in 15);
//! 2. drop foreign keys (before the keys, columns and tables they use);
//! 3. drop indexes, checks, unique constraints, primary keys (before their columns);
//! 4. drop columns;
//! 5. drop tables (a table before the tables it references);
//! 6. rename tables, 7. rename columns;
//! 8. create enums and sequences, change enums and sequences (before the tables and
//!    columns that use them), then create and replace functions (after the types their
//!    arguments use);
//! 9. create tables (without their indexes and foreign keys, which come in 13 and 14),
//!    10. add columns, 11. alter columns;
//! 12. drop functions, then enums and sequences (after the columns, checks and
//!     triggers that used them are gone or altered);
//! 13. add primary keys, unique constraints, checks, indexes (after their columns), and
//!     validate or invalidate checks;
//! 14. add foreign keys (after every table and key they use);
//! 15. create views, a view after the views it reads;
//! 16. create triggers, last (after the functions they call and the views they are on).
//!
//! The DDL must drop and re-create some unchanged objects around a change (a view over
//! a table whose column changes); [`Diff::differences`] leaves them out, for reports of
//! what differs.
//!
//! The reverse order is valid for the inverse changes by construction: every pair of
//! phases that must be ordered one way in the upgrade is ordered the other way, for the
//! opposite changes, in the downgrade.
//!
//! Each kind of object is compared in a module of its own (`tables`, `columns`, `keys`,
//! `indexes`, `foreign_keys`, `types`, `views`, `routines`, `objects`); this one runs them in
//! order, each adding its changes to their phases.

mod change;
mod columns;
mod describe;
mod foreign_keys;
mod indexes;
mod keys;
mod matching;
mod objects;
mod routines;
mod tables;
mod text;
mod types;
mod views;
mod widen;

#[cfg(test)]
pub(crate) mod generated;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use change::{Change, EnumColumn};
pub(crate) use text::words;
pub(crate) use types::added_labels;
pub(crate) use views::views_dependencies_first;
pub use widen::type_widens;

use crate::model::{Schema, Table};
use matching::{Matching, Names, TablePair};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

/// The changes that turn one schema into another, in the order they must run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// The changes, in dependency order.
    pub changes: Vec<Change>,
    /// Things worth a look that are not changes, such as a dropped and an added column
    /// of the same type that may be a rename.
    pub warnings: Vec<String>,
}

impl Diff {
    /// Whether the two schemas are the same (warnings aside).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The diff that undoes this one: each change inverted, in reverse order.
    pub fn inverse(&self) -> Diff {
        Diff {
            changes: self.changes.iter().rev().map(Change::inverse).collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// Whether some change may lose data (see [`Change::is_destructive`]).
    pub fn is_destructive(&self) -> bool {
        self.changes.iter().any(Change::is_destructive)
    }

    /// The changes that make the two schemas differ, in order: [`Diff::changes`] without
    /// the objects that are only dropped and created again, unchanged, so that the
    /// database accepts another change (a view over a table whose column changes type,
    /// a check on that column). What a report of differences (drift) lists; the DDL
    /// needs them all.
    pub fn differences(&self) -> Vec<&Change> {
        // A change whose inverse is in the list too is such a drop and create again.
        let mut by_description: HashMap<String, Vec<&Change>> = HashMap::new();
        for c in &self.changes {
            by_description.entry(c.describe()).or_default().push(c);
        }
        self.changes
            .iter()
            .filter(|c| {
                let inverse = c.inverse();
                !by_description
                    .get(&inverse.describe())
                    .is_some_and(|cs| cs.iter().any(|d| **d == inverse))
            })
            .collect()
    }
}

/// Why two schemas cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// `to` has `name` with `renamed_from: previous`, and `from` has neither.
    #[error("renamed_from `{previous}` on {kind} `{name}` matches nothing: the current schema has neither `{name}` nor `{previous}`; fix or remove the annotation")]
    RenamedFromMatchesNothing {
        /// Table or column.
        kind: ObjectKind,
        /// The annotated object (`table.column` for a column).
        name: String,
        /// The name in the annotation.
        previous: String,
    },
    /// The annotated old name is still an object of `to`.
    #[error("renamed_from `{previous}` on {kind} `{name}`: `{previous}` is also in the target schema; rename one of them or remove the annotation")]
    RenamedFromStillPresent {
        /// Table or column.
        kind: ObjectKind,
        /// The annotated object.
        name: String,
        /// The name in the annotation.
        previous: String,
    },
    /// Two objects claim the same old name.
    #[error(
        "renamed_from `{previous}` is on {kind} `{first}` and on {kind} `{second}`; keep it on one"
    )]
    DuplicateRenamedFrom {
        /// Table or column.
        kind: ObjectKind,
        /// The name in the annotations.
        previous: String,
        /// The first annotated object.
        first: String,
        /// The second annotated object.
        second: String,
    },
}

/// What a [`DiffError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A table.
    Table,
    /// A column.
    Column,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
        })
    }
}

/// The phases of the order described in the module documentation.
#[derive(Default)]
struct Phases {
    drop_late_objects: Vec<Change>,
    drop_triggers: Vec<Change>,
    drop_views: Vec<Change>,
    drop_foreign_keys: Vec<Change>,
    drop_keys: Vec<Change>,
    drop_columns: Vec<Change>,
    drop_tables: Vec<Change>,
    rename_tables: Vec<Change>,
    rename_columns: Vec<Change>,
    create_early_objects: Vec<Change>,
    create_types: Vec<Change>,
    create_functions: Vec<Change>,
    create_function_objects: Vec<Change>,
    create_tables: Vec<Change>,
    add_columns: Vec<Change>,
    alter_columns: Vec<Change>,
    drop_function_objects: Vec<Change>,
    drop_functions: Vec<Change>,
    drop_types: Vec<Change>,
    drop_early_objects: Vec<Change>,
    add_keys: Vec<Change>,
    add_foreign_keys: Vec<Change>,
    create_views: Vec<Change>,
    create_triggers: Vec<Change>,
    create_late_objects: Vec<Change>,
}

impl Phases {
    fn into_changes(self) -> Vec<Change> {
        let mut out = Vec::new();
        for mut phase in [
            self.drop_late_objects,
            self.drop_triggers,
            self.drop_views,
            self.drop_foreign_keys,
            self.drop_keys,
            self.drop_columns,
            self.drop_tables,
            self.rename_tables,
            self.rename_columns,
            self.create_early_objects,
            self.create_types,
            self.create_functions,
            self.create_function_objects,
            self.create_tables,
            self.add_columns,
            self.alter_columns,
            self.drop_function_objects,
            self.drop_functions,
            self.drop_types,
            self.drop_early_objects,
            self.add_keys,
            self.add_foreign_keys,
            self.create_views,
            self.create_triggers,
            self.create_late_objects,
        ] {
            out.append(&mut phase);
        }
        out
    }
}

/// A column by its table's and its own name (new names).
type ColumnKey = (String, String);

/// What the comparison of tables and columns found, for the steps after it.
#[derive(Default)]
struct Findings {
    /// Columns whose values change shape (type) or that are dropped and added again
    /// (generation changes): keys and indexes over them are re-created.
    retyped: HashSet<ColumnKey>,
    /// Columns dropped and added again (generation changes).
    replaced: HashSet<ColumnKey>,
    /// Every altered column: the checks that read one are dropped before and added
    /// after the change, as MariaDB's MODIFY COLUMN silently drops a check written on
    /// the column itself.
    altered: HashSet<ColumnKey>,
    /// Tables whose columns change: views reading them are dropped and re-created.
    reshaped: BTreeSet<String>,
    /// Keys that are dropped (changed or removed), by table and columns: foreign keys
    /// referencing them must be dropped first and added again after.
    rekeyed: HashSet<(String, Vec<String>)>,
}

/// The two schemas and how their tables match.
struct Sides<'a> {
    from: &'a Schema,
    to: &'a Schema,
    /// Tables by name (old name, new name).
    tables: Matching<'a>,
    /// Tables on both sides, with their columns matched.
    pairs: Vec<TablePair<'a>>,
    /// Old names to new ones.
    names: Names<'a>,
}

/// The changes that turn `from` into `to`, in dependency order (see the module
/// documentation), with warnings about possible renames.
///
/// # Errors
///
/// A `renamed_from` annotation of `to` that matches nothing in `from`, names an object
/// `to` still has, or is claimed by two objects.
pub fn diff(from: &Schema, to: &Schema) -> Result<Diff, DiffError> {
    let mut p = Phases::default();
    let mut warnings = Vec::new();
    let mut found = Findings::default();
    let sides = tables::matched(from, to)?;
    tables::renames(&sides, &mut p, &mut found);
    for tp in &sides.pairs {
        columns::compare(tp, &mut p, &mut found, &mut warnings);
    }
    for tp in &sides.pairs {
        // Per table, in this order: the phases keep it.
        keys::primary_key(&sides.names, tp, &mut p, &mut found);
        keys::uniques(&sides.names, tp, &mut p, &mut found);
        keys::checks(tp, &mut p, &found);
        indexes::compare(&sides.names, tp, &mut p, &mut found);
    }
    for tp in &sides.pairs {
        foreign_keys::compare(&sides.names, tp, &mut p, &found);
    }
    tables::dropped_and_created(&sides, &mut p, &mut warnings);
    tables::postgres_options(&sides, &mut p);
    types::enums(&sides, &mut p, &mut found);
    types::sequences(from, to, &mut p);
    let dropped_views = views::compare(&sides, &mut p, &found);
    routines::functions(from, to, &mut p);
    routines::triggers(&sides, &mut p, &found, &dropped_views);
    objects::compare(from, to, &mut p, &dropped_views);
    Ok(Diff {
        changes: p.into_changes(),
        warnings,
    })
}

/// Whether one of `cols` of `table` is in `set`.
fn involves(table: &str, cols: &[String], set: &HashSet<ColumnKey>) -> bool {
    !set.is_empty()
        && cols
            .iter()
            .any(|c| set.contains(&(table.to_string(), c.clone())))
}

/// Whether `text` names a column of `table` that is in `set`.
fn mentions_any(table: &str, text: &str, set: &HashSet<ColumnKey>) -> bool {
    if set.is_empty() {
        return false;
    }
    let w = words(text);
    set.iter().any(|(t, c)| t == table && text::mentions(&w, c))
}

/// A table without its indexes and foreign keys (separate changes) and annotations.
fn bare_table(t: &Table) -> Table {
    Table {
        name: t.name.clone(),
        columns: t.columns.iter().map(matching::clean_column).collect(),
        primary_key: t.primary_key.clone(),
        uniques: t.uniques.clone(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: t.checks.clone(),
        renamed_from: None,
        ..t.clone()
    }
}
