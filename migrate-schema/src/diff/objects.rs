//! Objects kept as their catalog prints them ([`Object`]): by kind and name, a changed
//! definition dropped and created again.

use super::{Change, Phases};
use crate::model::{Schema, Stage};

/// Objects dropped, re-created and created, each in its stage's phases.
pub(super) fn compare(from: &Schema, to: &Schema, p: &mut Phases) {
    for (key, o) in &from.objects {
        match to.objects.get(key) {
            None => drops(p, o.stage).push(Change::DropObject(o.clone())),
            Some(t) if t.definition != o.definition || t.stage != o.stage => {
                // A changed object is dropped just before it is created again: an early
                // one cannot wait for the end of the tables (its new form is needed by
                // them), and a late one is dropped first anyway.
                match o.stage {
                    Stage::Late => p.drop_late_objects.push(Change::DropObject(o.clone())),
                    _ => creates(p, t.stage).push(Change::DropObject(o.clone())),
                }
                creates(p, t.stage).push(Change::CreateObject(t.clone()));
            }
            Some(_) => {}
        }
    }
    for (key, t) in &to.objects {
        if !from.objects.contains_key(key) {
            creates(p, t.stage).push(Change::CreateObject(t.clone()));
        }
    }
}

fn creates(p: &mut Phases, stage: Stage) -> &mut Vec<Change> {
    match stage {
        Stage::Early => &mut p.create_early_objects,
        Stage::AfterFunctions => &mut p.create_function_objects,
        Stage::Late => &mut p.create_late_objects,
    }
}

fn drops(p: &mut Phases, stage: Stage) -> &mut Vec<Change> {
    match stage {
        Stage::Early => &mut p.drop_early_objects,
        Stage::AfterFunctions => &mut p.drop_function_objects,
        Stage::Late => &mut p.drop_late_objects,
    }
}

#[cfg(test)]
mod tests {
    use crate::diff::{diff, Change};
    use crate::model::{Column, Object, Schema, Stage, Table};

    fn object(kind: &str, name: &str, definition: &str, stage: Stage) -> Object {
        Object {
            kind: kind.into(),
            name: name.into(),
            table: None,
            definition: definition.into(),
            create: Some(vec![format!("CREATE {kind} {name} {definition}")]),
            drop: Some(vec![format!("DROP {kind} {name}")]),
            stage,
            modelled: true,
        }
    }

    fn names(changes: &[Change]) -> Vec<String> {
        changes.iter().map(Change::describe).collect()
    }

    #[test]
    fn early_objects_come_before_tables_and_late_ones_after() {
        let mut to = Schema::default();
        to.add_object(object("domain", "year", "integer", Stage::Early));
        to.add_object(object("comment", "on table t", "'x'", Stage::Late));
        to.add_table(Table::new("t").column(Column::new("y", "year")));
        let d = diff(&Schema::default(), &to).unwrap();
        assert_eq!(
            names(&d.changes),
            [
                "create domain year",
                "create table t",
                "create comment on table t"
            ]
        );
        let back = diff(&to, &Schema::default()).unwrap();
        assert_eq!(
            names(&back.changes),
            [
                "drop comment on table t",
                "drop table t",
                "drop domain year"
            ]
        );
    }

    #[test]
    fn a_changed_definition_is_dropped_then_created_in_its_stage() {
        let mut from = Schema::default();
        from.add_object(object("domain", "year", "integer", Stage::Early));
        from.add_table(Table::new("t"));
        let mut to = from.clone();
        to.add_object(object(
            "domain",
            "year",
            "integer CHECK (VALUE > 0)",
            Stage::Early,
        ));
        to.add_table(Table::new("t").column(Column::new("y", "year")));
        let d = diff(&from, &to).unwrap();
        assert_eq!(
            names(&d.changes),
            [
                "drop domain year",
                "create domain year",
                "add column t.y year"
            ]
        );
        assert_eq!(d.differences().len(), 3, "a changed object is a difference");
        assert!(diff(&to, &to).unwrap().is_empty());
    }
}
