//! The renderer's tests, on the three databases.

use super::*;
use crate::diff::diff;
use crate::model::{EnumType, Function, Generated, Identity, Sequence, Trigger};

fn opts(allow: bool) -> RenderOptions {
    RenderOptions {
        allow_destructive: allow,
    }
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::default();
    for t in tables {
        s.add_table(t);
    }
    s
}

fn tickets() -> Table {
    Table::new("tickets")
        .column(Column::new("id", "integer").not_null())
        .column(Column::new("user_id", "integer"))
        .column(Column::new("rating", "integer"))
        .column(Column::new("title", "varchar(20)"))
        .primary_key(&["id"])
}

fn users() -> Table {
    Table::new("users")
        .column(Column::new("id", "integer").not_null())
        .primary_key(&["id"])
}

fn fk() -> ForeignKey {
    ForeignKey {
        name: None,
        columns: vec!["user_id".into()],
        referenced_table: "users".into(),
        referenced_columns: vec!["id".into()],
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::NoAction,
        deferrable: Deferrable::NotDeferrable,
    }
}

fn both(a: &Schema, b: &Schema, d: Dialect, allow: bool) -> Rendered {
    let diff = diff(a, b).unwrap();
    render(&diff, a, b, d, &opts(allow)).unwrap()
}

#[test]
fn quoting() {
    let r = dialect(Dialect::Postgres);
    assert_eq!(r.identifier("tickets"), "tickets");
    assert_eq!(r.identifier("user"), "\"user\"");
    assert_eq!(r.identifier("Tickets"), "\"Tickets\"");
    assert_eq!(r.identifier("a b"), "\"a b\"");
    assert_eq!(r.identifier("we\"ird"), "\"we\"\"ird\"");
    let m = dialect(Dialect::Mysql);
    assert_eq!(m.identifier("order"), "`order`");
    assert_eq!(m.string_literal("it's a \\"), "'it''s a \\\\'");
}

#[test]
fn dialects_quote_always_and_fold_their_way() {
    let (pg, my, lite) = (
        dialect(Dialect::Postgres),
        dialect(Dialect::Mysql),
        dialect(Dialect::Sqlite),
    );
    assert_eq!(pg.quote_identifier("tickets"), "\"tickets\"");
    assert_eq!(lite.quote_identifier("a\"b"), "\"a\"\"b\"");
    assert_eq!(my.quote_identifier("a`b"), "`a``b`");
    assert_eq!(lite.string_literal("it's \\"), "'it''s \\'");
    assert_eq!(pg.stored_name("Tickets", false), "tickets");
    assert_eq!(pg.stored_name("Tickets", true), "Tickets");
    assert_eq!(my.stored_name("Tickets", false), "Tickets");
    assert!(!pg.resolves_to("Tickets", true, "tickets"));
    assert!(pg.resolves_to("Tickets", false, "tickets"));
    assert!(lite.resolves_to("Tickets", true, "tickets"));
    assert_eq!(
        [pg.name(), my.name(), lite.name()],
        ["PostgreSQL", "MySQL", "SQLite"]
    );
}

#[test]
fn postgres_names() {
    assert_eq!(
        postgres_object_name("tickets", None, "pkey"),
        "tickets_pkey"
    );
    assert_eq!(
        postgres_object_name("tickets", Some("user_id"), "fkey"),
        "tickets_user_id_fkey"
    );
    let long = "a".repeat(40);
    let n = postgres_object_name(&long, Some(&"b".repeat(40)), "key");
    assert_eq!(n.len(), 63);
    assert_eq!(n, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
}

#[test]
fn add_column_each_dialect() {
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    b.table_mut("tickets").unwrap().columns.push(
        Column::new("priority", "varchar(20)")
            .not_null()
            .default_expr("'normal'"),
    );
    let pg = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        pg.upgrade,
        "ALTER TABLE tickets ADD COLUMN priority varchar(20) NOT NULL DEFAULT 'normal';\n"
    );
    // The downgrade drops an added column: not the upgrade's destructive change, so
    // it runs.
    assert_eq!(pg.downgrade, "ALTER TABLE tickets DROP COLUMN priority;\n");
    let my = both(&a, &b, Dialect::Mysql, false);
    assert_eq!(
        my.upgrade,
        "ALTER TABLE tickets ADD COLUMN priority varchar(20) NOT NULL DEFAULT 'normal';\n"
    );
    let lite = both(&a, &b, Dialect::Sqlite, false);
    assert_eq!(
        lite.upgrade,
        "ALTER TABLE tickets ADD COLUMN priority varchar(20) NOT NULL DEFAULT 'normal';\n"
    );
    assert!(pg.warnings.is_empty());
}

#[test]
fn destructive_changes_are_commented_out() {
    let mut t = tickets();
    t.indexes.push(Index {
        name: "ix_rating".into(),
        parts: vec![IndexPart {
            key: IndexKey::Column("rating".into()),
            descending: true,
            ..Default::default()
        }],
        unique: false,
        predicate: None,
        method: None,
    });
    let a = schema(vec![t]);
    let mut b = schema(vec![tickets()]);
    b.table_mut("tickets").unwrap().columns.remove(2);
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "-- autogenerate: destructive change, uncomment to apply: drop column tickets.rating\n-- DROP INDEX ix_rating;\n-- ALTER TABLE tickets DROP COLUMN rating;\n"
    );
    assert_eq!(
        r.downgrade,
        "-- autogenerate: commented out with the upgrade's destructive change: drop column tickets.rating\n-- ALTER TABLE tickets ADD COLUMN rating integer;\n-- CREATE INDEX ix_rating ON tickets (rating DESC);\n"
    );
    assert_eq!(
        r.warnings,
        ["destructive change left commented out in the upgrade and the downgrade: drop column tickets.rating; uncomment both to apply it"]
    );
    let allowed = both(&a, &b, Dialect::Postgres, true);
    assert_eq!(
        allowed.upgrade,
        "DROP INDEX ix_rating;\nALTER TABLE tickets DROP COLUMN rating;\n"
    );
    assert!(allowed.warnings.is_empty());
    assert_eq!(
        both(&a, &b, Dialect::Mysql, true).upgrade,
        "DROP INDEX ix_rating ON tickets;\nALTER TABLE tickets DROP COLUMN rating;\n"
    );
    // SQLite drops an unconstrained column in place.
    assert_eq!(
        both(&a, &b, Dialect::Sqlite, true).upgrade,
        "DROP INDEX ix_rating;\nALTER TABLE tickets DROP COLUMN rating;\n"
    );
}

#[test]
fn postgres_alter_column() {
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    let c = &mut b.table_mut("tickets").unwrap().columns[3];
    c.data_type = "varchar(50)".into();
    c.nullable = false;
    c.default = Some("'x'".into());
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "ALTER TABLE tickets ALTER COLUMN title TYPE varchar(50);\nALTER TABLE tickets ALTER COLUMN title SET NOT NULL;\nALTER TABLE tickets ALTER COLUMN title SET DEFAULT 'x';\n"
    );
    // Back: narrowing is destructive, so the downgrade of a safe upgrade still runs.
    assert_eq!(
        r.downgrade,
        "ALTER TABLE tickets ALTER COLUMN title DROP DEFAULT;\nALTER TABLE tickets ALTER COLUMN title TYPE varchar(20);\nALTER TABLE tickets ALTER COLUMN title DROP NOT NULL;\n"
    );
    let my = both(&a, &b, Dialect::Mysql, false);
    assert_eq!(
        my.upgrade,
        "ALTER TABLE tickets MODIFY COLUMN title varchar(50) NOT NULL DEFAULT 'x';\n"
    );
    assert_eq!(
        my.downgrade,
        "ALTER TABLE tickets MODIFY COLUMN title varchar(20) NULL;\n"
    );
    // Identity.
    let mut c = a.clone();
    c.table_mut("tickets").unwrap().columns[0].identity = Some(Identity::ByDefault);
    let r = both(&a, &c, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "ALTER TABLE tickets ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;\n"
    );
    assert_eq!(
        r.downgrade,
        "ALTER TABLE tickets ALTER COLUMN id DROP IDENTITY;\n"
    );
}

#[test]
fn constraints_postgres_and_mysql() {
    let mut t = tickets();
    t.foreign_keys.push(fk());
    t.checks.push(Check {
        name: None,
        expression: "rating > 0".into(),
        not_valid: false,
    });
    t.uniques.push(Unique {
        name: None,
        columns: vec!["title".into()],
    });
    let a = schema(vec![users(), t]);
    let mut b = schema(vec![users(), tickets()]);
    b.table_mut("tickets").unwrap().checks.push(Check {
        name: Some("rating_small".into()),
        expression: "rating < 10".into(),
        not_valid: false,
    });
    let pg = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        pg.upgrade,
        "ALTER TABLE tickets DROP CONSTRAINT tickets_user_id_fkey;\nALTER TABLE tickets DROP CONSTRAINT tickets_title_key;\nALTER TABLE tickets DROP CONSTRAINT tickets_rating_check;\nALTER TABLE tickets ADD CONSTRAINT rating_small CHECK (rating < 10);\n"
    );
    assert_eq!(
        pg.downgrade,
        "ALTER TABLE tickets DROP CONSTRAINT rating_small;\nALTER TABLE tickets ADD CHECK (rating > 0);\nALTER TABLE tickets ADD UNIQUE (title);\nALTER TABLE tickets ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n"
    );
    let my = both(&a, &b, Dialect::Mysql, false);
    assert!(my.upgrade.starts_with("-- the server named this foreign key: look its name up\nSET @migrate_ddl = (SELECT CONCAT('ALTER TABLE tickets DROP FOREIGN KEY `', REPLACE(constraint_name, '`', '``'), '`') FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = 'tickets' AND referenced_table_schema = DATABASE() AND referenced_table_name = 'users'"), "{}", my.upgrade);
    assert!(my.upgrade.contains("PREPARE migrate_stmt FROM @migrate_ddl;\nEXECUTE migrate_stmt;\nDEALLOCATE PREPARE migrate_stmt;\n"));
    assert!(my
        .upgrade
        .ends_with("ALTER TABLE tickets ADD CONSTRAINT rating_small CHECK (rating < 10);\n"));
    assert!(my
        .downgrade
        .starts_with("ALTER TABLE tickets DROP CONSTRAINT rating_small;\n"));
}

#[test]
fn sqlite_rebuild() {
    let a = schema(vec![users(), tickets()]);
    let mut b = a.clone();
    let t = b.table_mut("tickets").unwrap();
    t.foreign_keys.push(fk());
    t.columns[3].nullable = false;
    t.columns[2].name = "score".into();
    t.columns[2].renamed_from = Some("rating".into());
    t.indexes.push(Index {
        name: "ix_title".into(),
        parts: vec![IndexPart {
            key: IndexKey::Column("title".into()),
            descending: false,
            ..Default::default()
        }],
        unique: false,
        predicate: Some("title IS NOT NULL".into()),
        method: None,
    });
    let r = both(&a, &b, Dialect::Sqlite, false);
    assert_eq!(
        r.upgrade,
        "ALTER TABLE tickets RENAME COLUMN rating TO score;\n\
         -- autogenerate: SQLite cannot alter tickets in place: rebuild it (alter column tickets.title: set not null; create index ix_title on tickets (title); add foreign key on tickets (user_id) references users (id))\n\
         CREATE TABLE _migrate_new_tickets (\n    id integer NOT NULL,\n    user_id integer,\n    score integer,\n    title varchar(20) NOT NULL,\n    PRIMARY KEY (id),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n\
         INSERT INTO _migrate_new_tickets (id, user_id, score, title) SELECT id, user_id, score, title FROM tickets;\n\
         DROP TABLE tickets;\n\
         ALTER TABLE _migrate_new_tickets RENAME TO tickets;\n\
         CREATE INDEX ix_title ON tickets (title) WHERE title IS NOT NULL;\n\
         -- autogenerate: the rebuilt tables' rows must satisfy their foreign keys (PRAGMA foreign_key_check lists those that do not)\n\
         CREATE TEMP TABLE _migrate_foreign_key_check (violation INTEGER CONSTRAINT \"foreign key violations after rebuilding tables: see PRAGMA foreign_key_check\" CHECK (violation IS NULL));\n\
         INSERT INTO _migrate_foreign_key_check SELECT 1 FROM pragma_foreign_key_check LIMIT 1;\n\
         DROP TABLE _migrate_foreign_key_check;\n"
    );
    // The downgrade rebuilds back, then renames back first: renames run before.
    assert!(
        r.downgrade
            .starts_with("ALTER TABLE tickets RENAME COLUMN score TO rating;\n"),
        "{}",
        r.downgrade
    );
    assert!(r.downgrade.contains("CREATE TABLE _migrate_new_tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20),\n    PRIMARY KEY (id)\n);\n"));
    // Rebuilding users, which tickets references, needs foreign keys off.
    let mut c = b.clone();
    c.table_mut("users")
        .unwrap()
        .columns
        .push(Column::new("name", "text").not_null());
    let r = both(&b, &c, Dialect::Sqlite, false);
    assert!(
        r.upgrade.contains(
            "-- autogenerate: this rebuilds or drops a table that other tables reference"
        ),
        "{}",
        r.upgrade
    );
    assert!(r.upgrade.contains(
        "INSERT INTO _migrate_foreign_keys_off SELECT foreign_keys FROM pragma_foreign_keys;\n"
    ));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("users.name is added NOT NULL without a default")));
}

#[test]
fn create_and_drop_tables_with_foreign_keys() {
    let a = schema(vec![users()]);
    let mut t = tickets();
    t.foreign_keys.push(fk());
    let b = schema(vec![users(), t]);
    let pg = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        pg.upgrade,
        "CREATE TABLE tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20),\n    PRIMARY KEY (id)\n);\nALTER TABLE tickets ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n"
    );
    assert_eq!(
        pg.downgrade,
        "ALTER TABLE tickets DROP CONSTRAINT tickets_user_id_fkey;\nDROP TABLE tickets;\n"
    );
    let lite = both(&a, &b, Dialect::Sqlite, false);
    assert_eq!(
        lite.upgrade,
        "CREATE TABLE tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20),\n    PRIMARY KEY (id),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n"
    );
    assert_eq!(lite.downgrade, "DROP TABLE tickets;\n");
    // Dropping: commented as one, with its foreign key.
    let pg = both(&b, &a, Dialect::Postgres, false);
    assert_eq!(
        pg.upgrade,
        "-- autogenerate: destructive change, uncomment to apply: drop table tickets\n-- ALTER TABLE tickets DROP CONSTRAINT tickets_user_id_fkey;\n-- DROP TABLE tickets;\n"
    );
}

#[test]
fn enums_and_sequences_postgres() {
    let e = |v: &[&str]| EnumType {
        name: "mood".into(),
        values: v.iter().map(|s| s.to_string()).collect(),
    };
    let mut a = schema(vec![
        Table::new("t").column(Column::new("m", "mood").default_expr("'a'::mood"))
    ]);
    a.enums.insert("mood".into(), e(&["a", "c"]));
    let mut b = a.clone();
    b.enums.insert("mood".into(), e(&["a", "b", "c"]));
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "-- a label added here cannot be used before the transaction commits\nALTER TYPE mood ADD VALUE 'b' BEFORE 'c';\n"
    );
    // Removing a label back is destructive in the downgrade only when the upgrade's
    // change is: here the upgrade adds, so the downgrade runs.
    assert_eq!(
        r.downgrade,
        "ALTER TYPE mood RENAME TO _migrate_old_mood;\nCREATE TYPE mood AS ENUM ('a', 'c');\nALTER TABLE t ALTER COLUMN m DROP DEFAULT;\nALTER TABLE t ALTER COLUMN m TYPE mood USING m::text::mood;\nALTER TABLE t ALTER COLUMN m SET DEFAULT 'a'::mood;\nDROP TYPE _migrate_old_mood;\n"
    );
    let err = render(&diff(&a, &b).unwrap(), &a, &b, Dialect::Mysql, &opts(false)).unwrap_err();
    assert_eq!(err.to_string(), "MySQL has no enum types: mood");

    let s = Sequence {
        name: "ticket_no".into(),
        data_type: "bigint".into(),
        start: 100,
        increment: 1,
        min_value: 1,
        max_value: 9_223_372_036_854_775_807,
        cycle: false,
    };
    let mut c = Schema::default();
    c.sequences.insert("ticket_no".into(), s);
    let r = both(&Schema::default(), &c, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "CREATE SEQUENCE ticket_no AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 100 NO CYCLE;\n"
    );
    assert_eq!(r.downgrade, "DROP SEQUENCE ticket_no;\n");
}

#[test]
fn generated_column_change_drops_and_adds() {
    let mut t = tickets();
    t.columns.push(Column {
        generated: Some(Generated {
            expression: "rating * 2".into(),
            stored: true,
        }),
        ..Column::new("double_rating", "integer")
    });
    let a = schema(vec![t]);
    let mut b = a.clone();
    b.table_mut("tickets").unwrap().columns[4].generated = Some(Generated {
        expression: "rating * 3".into(),
        stored: true,
    });
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "ALTER TABLE tickets DROP COLUMN double_rating;\nALTER TABLE tickets ADD COLUMN double_rating integer GENERATED ALWAYS AS (rating * 3) STORED;\n"
    );
}

#[test]
fn mysql_auto_increment_goes_with_the_key() {
    let mut t = Table::new("t").column(Column {
        identity: Some(Identity::AutoIncrement),
        ..Column::new("id", "int(11)").not_null()
    });
    t.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".into()],
    });
    let a = schema(vec![t.clone()]);
    let mut b = a.clone();
    b.table_mut("t")
        .unwrap()
        .columns
        .push(Column::new("x", "int(11)").not_null().default_expr("0"));
    b.table_mut("t")
        .unwrap()
        .primary_key
        .as_mut()
        .unwrap()
        .columns
        .push("x".into());
    let r = both(&a, &b, Dialect::Mysql, false);
    assert_eq!(
        r.upgrade,
        "ALTER TABLE t MODIFY COLUMN id int(11) NOT NULL, DROP PRIMARY KEY;\nALTER TABLE t ADD COLUMN x int(11) NOT NULL DEFAULT 0;\nALTER TABLE t ADD PRIMARY KEY (id, x), MODIFY COLUMN id int(11) NOT NULL AUTO_INCREMENT;\n"
    );
}

#[test]
fn postgres_check_validity_and_collation() {
    let mut t = tickets();
    t.checks
        .push(Check::new(Some("rating_positive"), "rating > 0"));
    t.checks.push(Check::new(None, "id > 0"));
    let a = schema(vec![t]);
    let mut b = a.clone();
    let bt = b.table_mut("tickets").unwrap();
    for c in &mut bt.checks {
        c.not_valid = true;
    }
    bt.columns[3].collation = Some("C".into());
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "ALTER TABLE tickets ALTER COLUMN title TYPE varchar(20) COLLATE \"C\";\n\
         ALTER TABLE tickets DROP CONSTRAINT rating_positive;\n\
         ALTER TABLE tickets ADD CONSTRAINT rating_positive CHECK (rating > 0) NOT VALID;\n\
         ALTER TABLE tickets DROP CONSTRAINT tickets_id_check;\n\
         ALTER TABLE tickets ADD CONSTRAINT tickets_id_check CHECK (id > 0) NOT VALID;\n"
    );
    assert_eq!(
        r.downgrade,
        "ALTER TABLE tickets VALIDATE CONSTRAINT tickets_id_check;\n\
         ALTER TABLE tickets VALIDATE CONSTRAINT rating_positive;\n\
         ALTER TABLE tickets ALTER COLUMN title TYPE varchar(20);\n"
    );
    // A created table gets its NOT VALID checks after: CREATE TABLE validates them.
    let r = both(&Schema::default(), &b, Dialect::Postgres, false);
    assert!(
        r.upgrade.starts_with(
            "CREATE TABLE tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20) COLLATE \"C\",\n    PRIMARY KEY (id)\n);\n\
             ALTER TABLE tickets ADD CONSTRAINT rating_positive CHECK (rating > 0) NOT VALID;\n\
             ALTER TABLE tickets ADD CHECK (id > 0) NOT VALID;\n"
        ),
        "{}",
        r.upgrade
    );
    // Elsewhere NOT VALID is refused by name.
    let d = diff(&a, &b).unwrap();
    let err = render(&d, &a, &b, Dialect::Mysql, &opts(false)).unwrap_err();
    assert!(err.to_string().contains("NOT VALID checks"), "{err}");
}

#[test]
fn postgres_functions_and_triggers() {
    let touch = |body: &str| {
        Function {
        name: "touch".into(),
        arguments: String::new(),
        procedure: false,
        definition: format!("CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function${body}$function$"),
    }
    };
    let a = schema(vec![tickets()]);
    let mut b = a.clone();
    b.add_function(touch("BEGIN RETURN NEW; END"));
    b.add_function(Function {
        name: "Add One".into(),
        arguments: "integer".into(),
        procedure: true,
        definition: "CREATE OR REPLACE PROCEDURE \"Add One\"(IN n integer)\n LANGUAGE sql\nAS $procedure$ SELECT n + 1 $procedure$".into(),
    });
    b.add_trigger(Trigger {
        name: "tickets_touch".into(),
        table: "tickets".into(),
        definition: "CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION touch()".into(),
    });
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "CREATE OR REPLACE PROCEDURE \"Add One\"(IN n integer)\n LANGUAGE sql\nAS $procedure$ SELECT n + 1 $procedure$;\n\
         CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN RETURN NEW; END$function$;\n\
         CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION touch();\n"
    );
    assert_eq!(
        r.downgrade,
        "DROP TRIGGER tickets_touch ON tickets;\n\
         DROP FUNCTION touch();\n\
         DROP PROCEDURE \"Add One\"(integer);\n"
    );
    // A changed body is replaced in place, both ways.
    let mut c = b.clone();
    c.add_function(touch("BEGIN RETURN OLD; END"));
    let r = both(&b, &c, Dialect::Postgres, false);
    assert!(
        r.upgrade
            .contains("$function$BEGIN RETURN OLD; END$function$"),
        "{}",
        r.upgrade
    );
    assert!(
        r.downgrade
            .contains("$function$BEGIN RETURN NEW; END$function$"),
        "{}",
        r.downgrade
    );
    let d = diff(&a, &b).unwrap();
    let err = render(&d, &a, &b, Dialect::Sqlite, &opts(false)).unwrap_err();
    assert!(err.to_string().contains("functions"), "{err}");
}

#[test]
fn views_are_rendered_last() {
    let mut a = schema(vec![tickets()]);
    let mut b = a.clone();
    b.views.insert(
        "v".into(),
        View {
            name: "v".into(),
            definition: " SELECT tickets.id\n   FROM tickets;".into(),
        },
    );
    let r = both(&a, &b, Dialect::Postgres, false);
    assert_eq!(
        r.upgrade,
        "CREATE VIEW v AS SELECT tickets.id\n   FROM tickets;\n"
    );
    assert_eq!(r.downgrade, "DROP VIEW v;\n");
    a.views = b.views.clone();
    assert!(diff(&a, &b).unwrap().is_empty());
}

#[test]
fn literals() {
    for l in ["0", "-1", "1.5", "'a'", "'it''s'", "NULL", "true", "x'00'"] {
        assert!(is_literal(l), "{l}");
    }
    for e in [
        "datetime('now')",
        "CURRENT_TIMESTAMP",
        "'a' || 'b'",
        "1+1",
        "abs(-1)",
    ] {
        assert!(!is_literal(e), "{e}");
    }
}
