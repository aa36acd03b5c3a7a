//! PostgreSQL objects beyond tables, read back as the model's kept objects: extensions,
//! domains, composite and range types, aggregates, materialized views, row-level
//! security and policies, exclusion constraints, rules, statistics objects, event
//! triggers, comments, other schemas, and kinds the model does not describe. Runs when
//! `MIGRATE_TEST_POSTGRES_URL` is set (an unreachable server fails it).

use migrate_test_support as common;

use common::*;
use migrate_runtime::schema::model::model::Stage;
use migrate_runtime::schema::model::Schema;
use migrate_runtime::schema::{self};
use migrate_runtime::Database;

/// A fresh PostgreSQL database, `None` when PostgreSQL is not configured.
async fn postgres(tag: &str) -> Option<Database> {
    let admin = std::env::var("MIGRATE_TEST_POSTGRES_URL").ok()?;
    let url = fresh_url("postgres", &admin, tag).await;
    Some(Database::connect(&url).await.expect("connect"))
}

async fn read(db: &Database) -> Schema {
    schema::introspect(db, &["alembic_version"])
        .await
        .unwrap_or_else(|e| panic!("introspect: {e}: {:?}", std::error::Error::source(&e)))
}

/// The definition of the object `key`, failing with the keys there are.
fn definition<'s>(s: &'s Schema, key: &str) -> &'s str {
    match s.objects.get(key) {
        Some(o) => &o.definition,
        None => panic!(
            "no `{key}` among {:?}",
            s.objects.keys().collect::<Vec<_>>()
        ),
    }
}

const OBJECTS: &str = "
CREATE EXTENSION btree_gist;
CREATE DOMAIN year AS integer CHECK (VALUE >= 1901);
CREATE DOMAIN recent AS year DEFAULT 2000 NOT NULL;
CREATE TYPE pair AS (a integer, b text COLLATE \"C\");
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TABLE bookings (
  id integer PRIMARY KEY,
  room integer NOT NULL,
  built year,
  during tsrange,
  CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);
CREATE INDEX bookings_room ON bookings USING gist (room);
CREATE MATERIALIZED VIEW rooms AS SELECT room, count(*) AS n FROM bookings GROUP BY room;
CREATE UNIQUE INDEX rooms_room ON rooms (room);
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookings FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rooms ON bookings AS RESTRICTIVE FOR SELECT TO PUBLIC USING (room > 0);
CREATE POLICY any_insert ON bookings FOR INSERT WITH CHECK (id > 0);
CREATE FUNCTION add_pair(acc integer, x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT acc + x';
CREATE AGGREGATE total(integer) (SFUNC = add_pair, STYPE = integer, INITCOND = '0');
CREATE RULE no_delete AS ON DELETE TO bookings DO INSTEAD NOTHING;
CREATE STATISTICS room_during (ndistinct) ON room, built FROM bookings;
COMMENT ON TABLE bookings IS 'who has which room';
COMMENT ON COLUMN bookings.room IS 'the room''s number';
COMMENT ON FUNCTION add_pair(integer, integer) IS 'adds';
COMMENT ON CONSTRAINT year_check ON DOMAIN year IS 'from 1901';
CREATE OPERATOR === (FUNCTION = int4eq, LEFTARG = integer, RIGHTARG = integer);
CREATE TABLE base_rows (id integer NOT NULL, CONSTRAINT id_positive CHECK (id > 0));
CREATE UNLOGGED TABLE child_rows (note text) INHERITS (base_rows) WITH (fillfactor = 70);
ALTER TABLE bookings REPLICA IDENTITY FULL;
";

/// Objects of the database rather than of a schema, and a second schema.
const DATABASE_OBJECTS: &str = "
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER ddl_watch ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
  EXECUTE FUNCTION on_ddl();
CREATE SCHEMA archive;
CREATE TABLE archive.old_bookings (id integer, note text NOT NULL);
";

#[tokio::test]
async fn postgres_objects_read_back_by_kind_and_definition() {
    let Some(db) = postgres("pgo_kinds").await else {
        return;
    };
    raw(&db, OBJECTS).await;
    raw(&db, DATABASE_OBJECTS).await;
    let s = read(&db).await;
    raw(&db, "DROP EVENT TRIGGER ddl_watch").await;
    let keys: Vec<&str> = s.objects.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "aggregate total(integer)",
            "comment on column bookings.room",
            "comment on constraint year_check on domain year",
            "comment on function add_pair(integer,integer)",
            "comment on table bookings",
            "domain recent",
            "domain year",
            "event trigger ddl_watch",
            "exclusion constraint no_overlap on bookings",
            "extension btree_gist",
            "inheritance child_rows",
            "materialized view rooms",
            "operator ===(integer, integer)",
            "policy any_insert on bookings",
            "policy own_rooms on bookings",
            "replica identity bookings",
            "row level security bookings",
            "rule no_delete on bookings",
            "schema archive",
            "statistics room_during",
            "table archive.old_bookings",
            "type floatrange",
            "type pair",
        ]
    );
    // UNLOGGED and storage parameters are the table's own (`Table::postgres`).
    let child = &s.tables["child_rows"].postgres;
    assert!(child.unlogged);
    assert_eq!(child.storage, ["fillfactor=70"]);
    assert_eq!(
        definition(&s, "inheritance child_rows"),
        "INHERITS (base_rows)"
    );
    assert_eq!(definition(&s, "extension btree_gist"), "");
    assert_eq!(
        definition(&s, "domain year"),
        "integer CONSTRAINT year_check CHECK (VALUE >= 1901)"
    );
    assert_eq!(
        definition(&s, "domain recent"),
        "year DEFAULT 2000 NOT NULL"
    );
    // A domain over a domain of the schema waits for the types; one over a built-in
    // type comes first.
    assert_eq!(s.objects["domain year"].stage, Stage::Early);
    assert_eq!(s.objects["domain recent"].stage, Stage::AfterFunctions);
    assert_eq!(
        s.tables["bookings"].get_column("built").unwrap().data_type,
        "year"
    );
    assert_eq!(
        definition(&s, "type pair"),
        "AS (a integer, b text COLLATE \"C\")"
    );
    assert_eq!(
        definition(&s, "type floatrange"),
        "AS RANGE (SUBTYPE = double precision, SUBTYPE_DIFF = float8mi)"
    );
    assert_eq!(
        definition(&s, "aggregate total(integer)"),
        "CREATE AGGREGATE total(integer) (SFUNC = add_pair, STYPE = integer, INITCOND = '0')"
    );
    assert_eq!(
        definition(&s, "materialized view rooms"),
        "SELECT bookings.room,\n    count(*) AS n\n   FROM bookings\n  GROUP BY bookings.room\n\
         CREATE UNIQUE INDEX rooms_room ON rooms USING btree (room)"
    );
    assert_eq!(
        s.objects["materialized view rooms"].create.as_deref(),
        Some(
            &[
                "CREATE MATERIALIZED VIEW rooms AS SELECT bookings.room,\n    count(*) AS n\n   FROM bookings\n  GROUP BY bookings.room".to_string(),
                "CREATE UNIQUE INDEX rooms_room ON rooms USING btree (room)".to_string(),
            ][..]
        )
    );
    assert_eq!(
        definition(&s, "row level security bookings"),
        "enabled, forced"
    );
    assert_eq!(
        definition(&s, "policy own_rooms on bookings"),
        "CREATE POLICY own_rooms ON bookings AS RESTRICTIVE FOR SELECT TO PUBLIC USING (room > 0)"
    );
    assert_eq!(
        definition(&s, "policy any_insert on bookings"),
        "CREATE POLICY any_insert ON bookings AS PERMISSIVE FOR INSERT TO PUBLIC WITH CHECK (id > 0)"
    );
    assert_eq!(
        definition(&s, "exclusion constraint no_overlap on bookings"),
        "EXCLUDE USING gist (room WITH =, during WITH &&)"
    );
    assert_eq!(
        definition(&s, "rule no_delete on bookings"),
        "CREATE RULE no_delete AS\n    ON DELETE TO bookings DO INSTEAD NOTHING"
    );
    assert_eq!(
        definition(&s, "statistics room_during"),
        "CREATE STATISTICS room_during (ndistinct) ON room, built FROM bookings"
    );
    assert_eq!(
        definition(&s, "event trigger ddl_watch"),
        "CREATE EVENT TRIGGER ddl_watch ON ddl_command_end WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE') EXECUTE FUNCTION on_ddl()"
    );
    assert_eq!(
        s.objects["comment on column bookings.room"]
            .create
            .as_deref(),
        Some(&["COMMENT ON COLUMN bookings.room IS 'the room''s number'".to_string()][..])
    );
    assert_eq!(
        s.objects["comment on constraint year_check on domain year"]
            .drop
            .as_deref(),
        Some(&["COMMENT ON CONSTRAINT year_check ON DOMAIN year IS NULL".to_string()][..])
    );
    assert_eq!(
        definition(&s, "table archive.old_bookings"),
        "id integer, note text NOT NULL"
    );
    // Kinds the model does not describe are kept, to be reviewed.
    assert!(!s.objects["operator ===(integer, integer)"].modelled);
    assert!(!s.objects["table archive.old_bookings"].modelled);
    assert!(s.objects["table archive.old_bookings"].create.is_none());
    // The exclusion constraint's index is not a plain index; the gist index is.
    let indexes: Vec<&str> = s.tables["bookings"]
        .indexes
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(indexes, ["bookings_room"]);
    // What btree_gist brings (functions, operator classes, types) is not listed, nor
    // the range type's constructors; the materialized view is not a table or view.
    let functions: Vec<&str> = s.functions.keys().map(String::as_str).collect();
    assert_eq!(functions, ["add_pair(integer, integer)", "on_ddl()"]);
    assert!(!s.tables.contains_key("rooms") && !s.views.contains_key("rooms"));
    db.close().await;
}

#[tokio::test]
async fn an_empty_postgres_database_has_no_objects() {
    let Some(db) = postgres("pgo_empty").await else {
        return;
    };
    // plpgsql, the public schema and its comment come with every database.
    let s = read(&db).await;
    assert!(s.objects.is_empty(), "{:?}", s.objects.keys());
    // An empty second schema is still reported.
    raw(&db, "CREATE SCHEMA empty_one; CREATE SCHEMA app").await;
    let s = read(&db).await;
    let keys: Vec<&str> = s.objects.keys().map(String::as_str).collect();
    assert_eq!(keys, ["schema app", "schema empty_one"]);
    db.close().await;
}

#[tokio::test]
async fn a_scratch_schema_reads_its_objects_as_a_database_reads_them() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let whole = Database::connect(&fresh_url("postgres", &admin, "pgo_whole").await)
        .await
        .expect("connect");
    raw(&whole, OBJECTS).await;
    let in_database = read(&whole).await;
    whole.close().await;

    // The objects again, in a schema named as the tool names its scratch schemas,
    // inside a database that also holds objects of its own elsewhere.
    let dev_url = fresh_url("postgres", &admin, "pgo_dev").await;
    let dev = Database::connect(&dev_url).await.expect("connect");
    raw(&dev, DATABASE_OBJECTS).await;
    raw(&dev, "CREATE SCHEMA migrate_scratch_pgo_test").await;
    let sep = if dev_url.contains('?') { '&' } else { '?' };
    let scratch_url = format!("{dev_url}{sep}options=-c%20search_path%3Dmigrate_scratch_pgo_test");
    let scratch = Database::connect(&scratch_url).await.expect("connect");
    raw(&scratch, OBJECTS).await;
    let in_schema = read(&scratch).await;
    scratch.close().await;
    raw(&dev, "DROP EVENT TRIGGER ddl_watch").await;
    dev.close().await;

    let keys = |s: &Schema| s.objects.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&in_schema), keys(&in_database));
    for (key, o) in &in_database.objects {
        assert_eq!(&in_schema.objects[key], o, "{key}");
    }
    assert_eq!(in_schema.tables, in_database.tables);
}
