//! PostgreSQL: the objects outside tables, columns, keys, indexes, views, enums,
//! sequences, functions and triggers, read as [`Object`]s: extensions, domains,
//! composite and range types, aggregates, materialized views, row-level security and
//! policies, exclusion constraints, rules, event triggers, comments, the table
//! properties the table model does not hold (inheritance, `UNLOGGED`, storage
//! parameters, replica identity), and every other
//! kind the catalogs hold (operators, casts, collations, text search objects, foreign
//! data wrappers, servers and tables, publications, statistics objects, other schemas
//! and what they hold), so that nothing the catalogs show is left out of a comparison.
//!
//! Each query (in `objects/`) prints its objects whole, in the same eight columns: the
//! catalogs already know how to print most of them, and text built on the server is
//! compared as the server normalized it. Objects owned by an extension are never read:
//! the extension stands for them.

use crate::error::MigrateError;
use migrate_schema::model::{Object, Stage};
use sqlx::PgConnection;

/// The queries, each with what it reads (for errors). Each stands alone, so that they
/// can run on several connections at once; comments come last, as they name objects
/// the other queries read.
const QUERIES: [(&str, &str); COUNT] = [
    ("pg_extension", include_str!("objects/extensions.sql")),
    ("pg_namespace", include_str!("objects/schemas.sql")),
    ("domains", include_str!("objects/domains.sql")),
    ("types", include_str!("objects/types.sql")),
    ("pg_aggregate", include_str!("objects/aggregates.sql")),
    (
        "materialized views",
        include_str!("objects/materialized_views.sql"),
    ),
    ("pg_policy", include_str!("objects/row_security.sql")),
    (
        "exclusion constraints, rules and statistics",
        include_str!("objects/table_objects.sql"),
    ),
    (
        "inheritance and table options",
        include_str!("objects/table_properties.sql"),
    ),
    (
        "pg_event_trigger",
        include_str!("objects/event_triggers.sql"),
    ),
    ("other catalogs", include_str!("objects/others.sql")),
    ("pg_description", include_str!("objects/comments.sql")),
];

/// How many queries read the objects: [`read`] takes `0..COUNT`, whose objects are
/// added to a schema in that order.
pub(super) const COUNT: usize = 12;

/// `(kind, name, table, definition, create statements, drop statements, stage, modelled)`
type ObjectRow = (
    String,
    String,
    Option<String>,
    String,
    Option<Vec<String>>,
    Option<Vec<String>>,
    String,
    bool,
);

/// The objects query `i` (below [`COUNT`]) reads: together, every object of the
/// current schema (and the database-wide ones) the other catalog queries do not read.
pub(super) async fn read(c: &mut PgConnection, i: usize) -> Result<Vec<Object>, MigrateError> {
    let (what, sql) = QUERIES[i];
    let rows: Vec<ObjectRow> = sqlx::query_as(sql)
        .fetch_all(&mut *c)
        .await
        .map_err(|e| MigrateError::db(format!("cannot read the schema ({what})"), e))?;
    Ok(rows.into_iter().map(object).collect())
}

/// The object a row describes.
fn object(row: ObjectRow) -> Object {
    let (kind, name, table, definition, create, drop, stage, modelled) = row;
    Object {
        kind,
        name,
        table,
        definition,
        create,
        drop,
        stage: match stage.as_str() {
            "early" => Stage::Early,
            "functions" => Stage::AfterFunctions,
            _ => Stage::Late,
        },
        modelled,
    }
}
