//! The diff's tests.

use super::*;
use crate::bench_support::generate_schema;
use crate::model::*;

fn users() -> Table {
    Table::new("users")
        .column(Column::new("id", "integer").not_null())
        .column(Column::new("email", "text").not_null())
        .primary_key(&["id"])
}

fn tickets() -> Table {
    Table::new("tickets")
        .column(Column::new("id", "integer").not_null())
        .column(Column::new("user_id", "integer"))
        .column(Column::new("rating", "integer"))
        .column(Column::new("title", "character varying(20)"))
        .primary_key(&["id"])
}

fn fk(cols: &[&str], table: &str, refs: &[&str]) -> ForeignKey {
    ForeignKey {
        name: None,
        columns: cols.iter().map(|c| c.to_string()).collect(),
        referenced_table: table.into(),
        referenced_columns: refs.iter().map(|c| c.to_string()).collect(),
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        deferrable: Deferrable::NotDeferrable,
    }
}

fn index(name: &str, cols: &[&str]) -> Index {
    Index {
        name: name.into(),
        parts: cols
            .iter()
            .map(|c| IndexPart {
                key: IndexKey::Column(c.to_string()),
                descending: false,
                ..Default::default()
            })
            .collect(),
        unique: false,
        predicate: None,
        method: None,
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::default();
    for t in tables {
        s.add_table(t);
    }
    s
}

fn described(d: &Diff) -> Vec<String> {
    d.changes.iter().map(Change::describe).collect()
}

#[test]
fn same_schema_is_empty() {
    let s = schema(vec![users(), tickets()]);
    let d = diff(&s, &s).unwrap();
    assert!(d.is_empty(), "{:?}", described(&d));
    assert!(d.warnings.is_empty());
}

#[test]
fn add_column_and_describe() {
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    b.table_mut("tickets")
        .unwrap()
        .columns
        .push(Column::new("priority", "varchar(20)"));
    let d = diff(&a, &b).unwrap();
    assert_eq!(described(&d), ["add column tickets.priority varchar(20)"]);
    assert!(!d.is_destructive());
    assert_eq!(
        d.changes[0].to_string(),
        "add column tickets.priority varchar(20)"
    );
}

#[test]
fn drop_table_is_destructive() {
    let a = schema(vec![
        users(),
        Table::new("legacy").column(Column::new("x", "int")),
    ]);
    let b = schema(vec![users()]);
    let d = diff(&a, &b).unwrap();
    assert_eq!(described(&d), ["drop table legacy"]);
    assert!(d.changes[0].is_destructive());
}

#[test]
fn column_rename_through_annotation() {
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    let c = &mut b.table_mut("tickets").unwrap().columns[2];
    c.name = "score".into();
    c.renamed_from = Some("rating".into());
    let d = diff(&a, &b).unwrap();
    assert_eq!(described(&d), ["rename column tickets.rating to score"]);
    assert!(d.warnings.is_empty());
    // Once applied, the annotation is stale and means nothing.
    let mut applied = b.clone();
    applied.table_mut("tickets").unwrap().columns[2].renamed_from = None;
    assert!(diff(&applied, &b).unwrap().is_empty());
}

#[test]
fn possible_rename_warning() {
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    b.table_mut("tickets").unwrap().columns[2].name = "score".into();
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop column tickets.rating",
            "add column tickets.score integer"
        ]
    );
    assert_eq!(
        d.warnings,
        ["column tickets.rating dropped and tickets.score added with the same type: if this is a rename, annotate `score` with `-- migrate:renamed_from rating`"]
    );
}

#[test]
fn table_rename_and_errors() {
    let a = schema(vec![users(), tickets()]);
    let mut b = a.clone();
    let mut t = b.tables.remove("tickets").unwrap();
    t.name = "issues".into();
    t.renamed_from = Some("tickets".into());
    b.add_table(t.clone());
    let d = diff(&a, &b).unwrap();
    assert_eq!(described(&d), ["rename table tickets to issues"]);

    // Neither side has it.
    let mut c = b.clone();
    c.table_mut("issues").unwrap().renamed_from = Some("nothing".into());
    let e = diff(&a, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "renamed_from `nothing` on table `issues` matches nothing: the current schema has neither `issues` nor `nothing`; fix or remove the annotation"
    );
    assert!(matches!(e, DiffError::RenamedFromMatchesNothing { .. }));

    // The old name is still in the target.
    let mut s = b.clone();
    s.add_table(tickets());
    assert!(matches!(
        diff(&a, &s),
        Err(DiffError::RenamedFromStillPresent { .. })
    ));

    // Two claims.
    let mut two = b.clone();
    let mut other = t.clone();
    other.name = "issues2".into();
    two.add_table(other);
    assert!(matches!(
        diff(&a, &two),
        Err(DiffError::DuplicateRenamedFrom { .. })
    ));

    // Column annotation matching nothing names the column.
    let mut col = a.clone();
    col.table_mut("tickets").unwrap().columns[2].renamed_from = Some("zzz".into());
    col.table_mut("tickets").unwrap().columns[2].name = "score".into();
    let e = diff(&a, &col).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("renamed_from `zzz` on column `tickets.score` matches nothing"),
        "{e}"
    );
}

#[test]
fn unnamed_constraints_match_by_content() {
    let mut t = tickets();
    t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
    t.checks.push(Check {
        name: None,
        expression: "rating > 0".into(),
        not_valid: false,
    });
    t.uniques.push(Unique {
        name: None,
        columns: vec!["title".into()],
    });
    let a = schema(vec![users(), t.clone()]);
    // Listed in another order, with names in `from`: still the same to an unnamed `to`.
    let mut named = t.clone();
    named.foreign_keys[0].name = Some("tickets_user_fk".into());
    named.checks.insert(
        0,
        Check {
            name: None,
            expression: "id > 0".into(),
            not_valid: false,
        },
    );
    let mut b_to = t.clone();
    b_to.checks.insert(
        0,
        Check {
            name: None,
            expression: "id > 0".into(),
            not_valid: false,
        },
    );
    b_to.checks.reverse();
    assert!(
        diff(&schema(vec![users(), named]), &schema(vec![users(), b_to]))
            .unwrap()
            .is_empty()
    );

    // Changing the action is a drop and an add.
    let mut c = t.clone();
    c.foreign_keys[0].on_delete = ReferentialAction::Cascade;
    let d = diff(&a, &schema(vec![users(), c])).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop foreign key on tickets (user_id) references users (id)",
            "add foreign key on tickets (user_id) references users (id)"
        ]
    );

    // A named constraint in `to` pairs by name: a new name is a drop and an add.
    let mut n = t.clone();
    n.checks[0].name = Some("rating_positive".into());
    let d = diff(&a, &schema(vec![users(), n])).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop check on tickets (rating > 0)",
            "add check rating_positive on tickets (rating > 0)"
        ]
    );
}

#[test]
fn renames_translate_constraints() {
    let mut t = tickets();
    t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
    t.indexes.push(index("ix_rating", &["rating"]));
    let a = schema(vec![users(), t]);
    let mut b = a.clone();
    let mut u = b.tables.remove("users").unwrap();
    u.name = "accounts".into();
    u.renamed_from = Some("users".into());
    u.columns[0].name = "account_id".into();
    u.columns[0].renamed_from = Some("id".into());
    u.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["account_id".into()],
    });
    b.add_table(u);
    let bt = b.table_mut("tickets").unwrap();
    bt.foreign_keys[0].referenced_table = "accounts".into();
    bt.foreign_keys[0].referenced_columns = vec!["account_id".into()];
    bt.columns[2].name = "score".into();
    bt.columns[2].renamed_from = Some("rating".into());
    bt.indexes[0].parts[0].key = IndexKey::Column("score".into());
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "rename table users to accounts",
            "rename column accounts.id to account_id",
            "rename column tickets.rating to score"
        ]
    );
}

#[test]
fn dependency_order() {
    // from: users, tickets -> users, view on tickets; enum mood.
    let mut t = tickets();
    t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
    t.indexes.push(index("ix_rating", &["rating"]));
    let mut a = schema(vec![
        users(),
        t,
        Table::new("legacy").column(Column::new("x", "int")),
    ]);
    a.views.insert(
        "open_tickets".into(),
        View {
            name: "open_tickets".into(),
            definition: "SELECT id, rating FROM tickets".into(),
        },
    );
    a.enums.insert(
        "old_mood".into(),
        EnumType {
            name: "old_mood".into(),
            values: vec!["a".into()],
        },
    );
    // to: rating dropped (with its index), a new table with a FK to tickets, a new
    // enum used by a new column, the view unchanged, legacy dropped.
    let mut b = a.clone();
    b.tables.remove("legacy");
    b.enums.clear();
    b.enums.insert(
        "mood".into(),
        EnumType {
            name: "mood".into(),
            values: vec!["happy".into(), "sad".into()],
        },
    );
    let bt = b.table_mut("tickets").unwrap();
    bt.columns.remove(2);
    bt.indexes.clear();
    bt.columns.push(Column::new("mood", "mood"));
    let mut comments = Table::new("comments")
        .column(Column::new("id", "integer").not_null())
        .column(Column::new("ticket_id", "integer"))
        .primary_key(&["id"]);
    comments
        .foreign_keys
        .push(fk(&["ticket_id"], "tickets", &["id"]));
    comments
        .indexes
        .push(index("ix_comments_ticket", &["ticket_id"]));
    b.add_table(comments);
    b.views.get_mut("open_tickets").unwrap().definition = "SELECT id FROM tickets".into();
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop view open_tickets",
            "drop index ix_rating on tickets",
            "drop column tickets.rating",
            "drop table legacy",
            "create enum mood ('happy', 'sad')",
            "create table comments",
            "add column tickets.mood mood",
            "drop enum old_mood",
            "create index ix_comments_ticket on comments (ticket_id)",
            "add foreign key on comments (ticket_id) references tickets (id)",
            "create view open_tickets",
        ]
    );
    // The inverse runs the opposite changes backwards.
    let inv = d.inverse();
    assert_eq!(described(&inv)[0], "drop view open_tickets");
    assert_eq!(
        described(&inv)[1],
        "drop foreign key on comments (ticket_id) references tickets (id)"
    );
    assert_eq!(inv.inverse(), d);
}

#[test]
fn unchanged_view_over_changed_table_is_recreated() {
    let mut a = schema(vec![tickets()]);
    a.views.insert(
        "v".into(),
        View {
            name: "v".into(),
            definition: "SELECT t.id FROM \"tickets\" t".into(),
        },
    );
    a.views.insert(
        "w".into(),
        View {
            name: "w".into(),
            definition: "SELECT id FROM v".into(),
        },
    );
    let mut b = a.clone();
    b.table_mut("tickets").unwrap().columns[3].data_type = "text".into();
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop view w",
            "drop view v",
            "alter column tickets.title: type character varying(20) -> text",
            "create view v",
            "create view w"
        ]
    );
    // A report of differences names the column only: the views did not change.
    let listed: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
    assert_eq!(
        listed,
        ["alter column tickets.title: type character varying(20) -> text"]
    );
    // A view whose query changed is listed.
    b.views.get_mut("w").unwrap().definition = "SELECT id + 1 FROM v".into();
    let d = diff(&a, &b).unwrap();
    let listed: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
    assert_eq!(
        listed,
        [
            "drop view w",
            "alter column tickets.title: type character varying(20) -> text",
            "create view w"
        ]
    );
}

#[test]
fn check_validity_is_altered_not_recreated() {
    let mut t = tickets();
    t.checks
        .push(Check::new(Some("rating_positive"), "rating > 0"));
    t.checks.push(Check::new(None, "id > 0"));
    let a = schema(vec![t]);
    let mut b = a.clone();
    for c in &mut b.table_mut("tickets").unwrap().checks {
        c.not_valid = true;
    }
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "check rating_positive on tickets (rating > 0) re-added not valid",
            "check on tickets (id > 0) re-added not valid",
        ]
    );
    assert_eq!(
        described(&d.inverse()),
        [
            "validate check on tickets (id > 0)",
            "validate check rating_positive on tickets (rating > 0)",
        ]
    );
    // A named check of the database is altered under its name when `to` leaves it
    // unnamed.
    let mut named = a.clone();
    named.table_mut("tickets").unwrap().checks[1].name = Some("id_positive".into());
    let d = diff(&named, &b).unwrap();
    assert!(
        matches!(&d.changes[1], Change::AlterCheck { to, .. } if to.name.as_deref() == Some("id_positive")),
        "{:?}",
        d.changes
    );
}

#[test]
fn collation_is_a_column_change() {
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    b.table_mut("tickets").unwrap().columns[3].collation = Some("C".into());
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        ["alter column tickets.title: collation default -> \"C\""]
    );
    assert!(!d.is_destructive());
    assert_eq!(
        described(&d.inverse()),
        ["alter column tickets.title: collation \"C\" -> default"]
    );
}

fn function(name: &str, arguments: &str, body: &str) -> Function {
    Function {
        name: name.into(),
        arguments: arguments.into(),
        procedure: false,
        definition: format!(
            "CREATE OR REPLACE FUNCTION {name}({arguments})\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function${body}$function$"
        ),
    }
}

fn trigger(name: &str, table: &str, when: &str, function: &str) -> Trigger {
    Trigger {
        name: name.into(),
        table: table.into(),
        definition: format!(
            "CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
        ),
    }
}

#[test]
fn functions_and_triggers_in_order() {
    let mut a = schema(vec![tickets()]);
    a.add_function(function("touch", "", "BEGIN RETURN NEW; END"));
    a.add_function(function("gone", "integer", "BEGIN RETURN NEW; END"));
    a.add_trigger(trigger("t_gone", "tickets", "BEFORE INSERT", "gone"));
    a.add_trigger(trigger(
        "t_rating",
        "tickets",
        "BEFORE UPDATE OF rating",
        "touch",
    ));
    a.add_trigger(trigger("t_touch", "tickets", "BEFORE UPDATE", "touch"));
    let mut b = a.clone();
    b.functions.remove("gone(integer)");
    b.triggers.remove("tickets.t_gone");
    b.add_function(function("fresh", "integer, text", "BEGIN RETURN NEW; END"));
    b.add_function(function("touch", "", "BEGIN RETURN OLD; END"));
    b.add_trigger(trigger("t_fresh", "tickets", "AFTER INSERT", "fresh"));
    // A column a trigger names changes type: the trigger goes and comes back.
    b.table_mut("tickets").unwrap().columns[2].data_type = "bigint".into();
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop trigger t_gone on tickets",
            "drop trigger t_rating on tickets",
            "replace function touch()",
            "create function fresh(integer, text)",
            "alter column tickets.rating: type integer -> bigint",
            "drop function gone(integer)",
            "create trigger t_rating on tickets",
            "create trigger t_fresh on tickets",
        ]
    );
    let listed: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
    assert!(!listed.iter().any(|l| l.contains("t_rating")), "{listed:?}");
    // The downgrade: triggers dropped before the functions they call.
    assert_eq!(
        described(&d.inverse()),
        [
            "drop trigger t_fresh on tickets",
            "drop trigger t_rating on tickets",
            "create function gone(integer)",
            "alter column tickets.rating: type bigint -> integer",
            "drop function fresh(integer, text)",
            "replace function touch()",
            "create trigger t_rating on tickets",
            "create trigger t_gone on tickets",
        ]
    );
    // A body only re-indented is the same function.
    let mut c = a.clone();
    c.add_function(function(
        "touch",
        "",
        "\n  BEGIN\n    RETURN NEW;   -- keep\n  END\n",
    ));
    let mut e = a.clone();
    e.add_function(function(
        "touch",
        "",
        "\nBEGIN\n RETURN NEW; -- keep\nEND\n",
    ));
    assert!(diff(&c, &e).unwrap().is_empty());
    // ...but a string literal or what a comment hides is not.
    let mut f = a.clone();
    f.add_function(function("touch", "", "\nBEGIN\n RETURN NEW; -- keep END\n"));
    assert!(!diff(&e, &f).unwrap().is_empty());
}

#[test]
fn primary_key_change_recreates_referencing_foreign_keys() {
    let mut t = tickets();
    t.foreign_keys.push(fk(&["user_id"], "users", &["id"]));
    let a = schema(vec![users(), t]);
    let mut b = a.clone();
    b.table_mut("users")
        .unwrap()
        .primary_key
        .as_mut()
        .unwrap()
        .name = Some("users_pk".into());
    let d = diff(&a, &b).unwrap();
    assert_eq!(
        described(&d),
        [
            "drop foreign key on tickets (user_id) references users (id)",
            "drop primary key on users (id)",
            "add primary key users_pk on users (id)",
            "add foreign key on tickets (user_id) references users (id)",
        ]
    );
}

#[test]
fn enum_changes() {
    let e = |v: &[&str]| EnumType {
        name: "mood".into(),
        values: v.iter().map(|s| s.to_string()).collect(),
    };
    let mut a = schema(vec![
        Table::new("t").column(Column::new("m", "mood").default_expr("'a'::mood"))
    ]);
    a.enums.insert("mood".into(), e(&["a", "c"]));
    let mut b = a.clone();
    b.enums.insert("mood".into(), e(&["a", "b", "c", "d"]));
    let d = diff(&a, &b).unwrap();
    assert_eq!(described(&d), ["add values 'b', 'd' to enum mood"]);
    assert!(!d.is_destructive());
    assert_eq!(
        added_labels(&e(&["a", "c"]), &e(&["a", "b", "c", "d"])),
        Some(vec![("b".into(), Some("c".into())), ("d".into(), None)])
    );
    let Change::AlterEnum { columns, .. } = &d.changes[0] else {
        panic!()
    };
    assert_eq!(
        columns,
        &[EnumColumn {
            table: "t".into(),
            column: "m".into(),
            default: Some("'a'::mood".into())
        }]
    );
    // The inverse removes labels: a re-creation, destructive.
    let inv = d.inverse();
    assert_eq!(
        described(&inv),
        ["drop and re-create enum mood ('a', 'b', 'c', 'd') as ('a', 'c')"]
    );
    assert!(inv.is_destructive());
    // Reordering is a re-creation but loses nothing.
    let mut r = a.clone();
    r.enums.insert("mood".into(), e(&["c", "a"]));
    let d = diff(&a, &r).unwrap();
    assert!(!d.is_destructive());
    assert!(described(&d)[0].starts_with("drop and re-create enum mood"));
}

#[test]
fn sequences() {
    let s = Sequence {
        name: "ticket_no".into(),
        data_type: "bigint".into(),
        start: 1,
        increment: 1,
        min_value: 1,
        max_value: i64::MAX,
        cycle: false,
    };
    let a = Schema::default();
    let mut b = Schema::default();
    b.sequences.insert(s.name.clone(), s.clone());
    assert_eq!(
        described(&diff(&a, &b).unwrap()),
        ["create sequence ticket_no"]
    );
    let d = diff(&b, &a).unwrap();
    assert!(d.changes[0].is_destructive());
    let mut c = b.clone();
    c.sequences.get_mut("ticket_no").unwrap().increment = 10;
    assert_eq!(
        described(&diff(&b, &c).unwrap()),
        ["alter sequence ticket_no"]
    );
}

#[test]
fn widening() {
    for (a, b) in [
        ("character varying(10)", "character varying(20)"),
        ("varchar(10)", "text"),
        ("character varying(10)", "text"),
        ("char(3)", "varchar(3)"),
        ("smallint", "integer"),
        ("int(11)", "bigint(20)"),
        ("int", "bigint"),
        ("tinyint unsigned", "smallint"),
        ("int(10) unsigned", "bigint(20) unsigned"),
        ("numeric(10,2)", "numeric(12,2)"),
        ("numeric(10,2)", "numeric(11,3)"),
        ("numeric(10,2)", "numeric"),
        ("integer", "numeric(12,0)"),
        ("real", "double precision"),
        ("integer", "double precision"),
        ("varchar(100)", "mediumtext"),
        ("text", "longtext"),
        (
            "timestamp(3) without time zone",
            "timestamp(6) without time zone",
        ),
    ] {
        assert!(type_widens(a, b), "{a} -> {b}");
    }
    for (a, b) in [
        ("character varying(20)", "character varying(10)"),
        ("text", "character varying(10)"),
        ("varchar(10)", "char(10)"),
        ("integer", "smallint"),
        ("bigint", "int"),
        ("int", "int unsigned"),
        ("int unsigned", "int"),
        ("numeric(10,2)", "numeric(10,3)"),
        ("numeric(10,2)", "numeric(9,2)"),
        ("numeric", "numeric(10,2)"),
        ("bigint", "numeric(10,0)"),
        ("double precision", "real"),
        ("bigint", "double precision"),
        ("integer", "text"),
        ("text", "integer"),
        ("varchar(20000)", "text"),
        ("timestamp without time zone", "timestamp with time zone"),
        ("boolean", "integer"),
    ] {
        assert!(!type_widens(a, b), "{a} -> {b} is not proven");
    }
    let alter = |a: &str, b: &str| Change::AlterColumn {
        table: "t".into(),
        from: Column::new("c", a),
        to: Column::new("c", b),
    };
    assert!(alter("varchar(20)", "varchar(10)").is_destructive());
    assert!(!alter("varchar(10)", "varchar(20)").is_destructive());
    let mut gen = Column::new("c", "int");
    gen.generated = Some(Generated {
        expression: "a + 1".into(),
        stored: true,
    });
    let to_generated = Change::AlterColumn {
        table: "t".into(),
        from: Column::new("c", "int"),
        to: gen.clone(),
    };
    assert!(to_generated.is_destructive());
    assert!(!to_generated.inverse().is_destructive());
    assert!(!Change::DropColumn {
        table: "t".into(),
        column: gen
    }
    .is_destructive());
}

#[test]
fn words_skip_strings_and_unquote() {
    let w = words("SELECT \"Tickets\".id, `x`.y FROM tickets WHERE s = 'users'");
    assert!(w.contains("tickets") && w.contains("y") && w.contains("x"));
    assert!(!w.contains("users"));
}

#[test]
fn words_read_through_the_shared_lexer() {
    // Comments name nothing; a backslash ends no string; doubled quotes are one.
    let w = words("SELECT a -- b\n/* c */ FROM t WHERE s = 'x\\' AND \"q\"\"r\" > 0");
    assert!(w.contains("a") && w.contains("t") && w.contains("q\"r"));
    assert!(!w.contains("b") && !w.contains("c") && !w.contains("x"));
}

#[test]
fn generated_schema_diff() {
    let a = generate_schema(200, 0);
    let b = generate_schema(200, 7);
    assert!(diff(&a, &a).unwrap().is_empty());
    let d = diff(&a, &b).unwrap();
    assert!(!d.is_empty());
    assert!(d.changes.iter().any(|c| matches!(c, Change::DropTable(_))));
    assert!(d
        .changes
        .iter()
        .any(|c| matches!(c, Change::CreateTable(_))));
    assert!(d
        .changes
        .iter()
        .any(|c| matches!(c, Change::AlterColumn { .. })));
    assert_eq!(d.inverse().inverse(), d);
}
