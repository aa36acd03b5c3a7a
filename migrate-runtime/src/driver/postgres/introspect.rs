//! PostgreSQL: nine queries on `pg_catalog` for the whole current schema (tables and
//! views, inheritance, columns, constraints, indexes, enums, sequences, functions,
//! triggers) and those of [`super::objects`], every text printed by the server itself,
//! run on two connections at once. `information_schema` is not used: its views are far
//! slower.

use crate::driver::{on_one_or_two, Share};
use crate::error::MigrateError;
use migrate_core::Dialect;
use migrate_schema::model::{Object, Stage};
use migrate_schema::render::{dialect, postgres_object_name};
use migrate_schema::{
    Check, Column, Deferrable, EnumType, ForeignKey, Function, Generated, Identity, Index,
    IndexKey, IndexPart, PartitionOf, PostgresTable, PrimaryKey, ReferentialAction, Schema,
    Sequence, Table, Trigger, Unique, View,
};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The current schema, and its tables and views not owned by an extension.
const RELATIONS: &str =
    "WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()), \
     rel AS (SELECT c.oid, c.relname, c.relkind, c.relispartition FROM pg_class c \
       JOIN ns ON c.relnamespace = ns.oid WHERE c.relkind IN ('r', 'p', 'v') \
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
         AND d.objid = c.oid AND d.deptype = 'e'))";

/// The relations themselves (after [`RELATIONS`]), with each view's query, a
/// partitioned table's key, a partition's parent and bound, whether a table is unlogged
/// and its storage parameters.
const RELATION_ROWS: &str = "SELECT rel.oid::int8, rel.relname::text, rel.relkind::text, \
         CASE WHEN rel.relkind = 'v' THEN pg_get_viewdef(rel.oid, true) END, \
         CASE WHEN rel.relkind = 'p' THEN pg_get_partkeydef(rel.oid) END, \
         (SELECT CASE WHEN p.relnamespace = (SELECT oid FROM ns) THEN p.relname::text \
             ELSE pn.nspname || '.' || p.relname END \
           FROM pg_inherits inh JOIN pg_class p ON p.oid = inh.inhparent \
           JOIN pg_namespace pn ON pn.oid = p.relnamespace \
           WHERE inh.inhrelid = rel.oid AND rel.relispartition), \
         CASE WHEN rel.relispartition THEN pg_get_expr(c.relpartbound, c.oid, true) END, \
         c.relpersistence = 'u', COALESCE(c.reloptions, '{}')::text[] \
         FROM rel JOIN pg_class c ON c.oid = rel.oid";

/// The parents of tables that inherit without being partitions (`INHERITS`), in order
/// (after [`RELATIONS`]).
const INHERITANCE: &str = "SELECT rel.relname::text, \
         array_agg(p.relname::text ORDER BY inh.inhseqno) \
         FROM pg_inherits inh JOIN rel ON rel.oid = inh.inhrelid \
         JOIN pg_class p ON p.oid = inh.inhparent \
         WHERE NOT rel.relispartition GROUP BY rel.relname";

/// The tables' columns (after [`RELATIONS`]). A collation is only named when it is not
/// the type's own (`typcollation`), as the SQL only names it then. A partition's
/// columns are its parent's: read for the names its own indexes use, not listed. A
/// default is printed without its table (relation 0), which it cannot refer to:
/// `pg_get_expr` opens the relation it is given, which on a new connection costs more
/// than the rest of the query; a generation expression names columns, so its table is
/// given.
const COLUMNS: &str = "SELECT a.attrelid::int8, a.attnum, a.attname::text, \
         format_type(a.atttypid, a.atttypmod), a.attnotnull, \
         pg_get_expr(ad.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE ad.adrelid END, true), \
         a.attidentity::text, a.attgenerated::text, \
         CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation \
           THEN co.collname::text END, rel.relispartition \
         FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid \
         JOIN pg_type ty ON ty.oid = a.atttypid \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         WHERE rel.relkind <> 'v' AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum";

/// Primary keys, uniques, foreign keys and checks (after [`RELATIONS`]), without those
/// a partition has from its parent (also when it had its own copy before it was
/// attached, as `pg_dump` writes partitions). The last two columns: the constraint as
/// `pg_get_constraintdef` prints it, and whether it is a key with index options the
/// model's keys do not carry (`INCLUDE`, `NULLS NOT DISTINCT`, storage parameters); the
/// definition is only printed for such a key, the one use of it, as printing every
/// constraint costs more than the rest of the query. Column names are looked up one by
/// one (an index scan each): a join on `pg_attribute` reads every column of the table.
const CONSTRAINTS: &str = "SELECT con.conrelid::int8, con.conname::text, con.contype::text, \
         ARRAY(SELECT (SELECT a.attname::text FROM pg_attribute a \
             WHERE a.attrelid = con.conrelid AND a.attnum = k.n) \
           FROM unnest(con.conkey) WITH ORDINALITY k(n, i) ORDER BY k.i), \
         CASE WHEN fc.oid IS NULL THEN NULL \
           WHEN fc.relnamespace = (SELECT oid FROM ns) THEN fc.relname::text \
           ELSE fn.nspname || '.' || fc.relname END, \
         ARRAY(SELECT (SELECT a.attname::text FROM pg_attribute a \
             WHERE a.attrelid = con.confrelid AND a.attnum = k.n) \
           FROM unnest(con.confkey) WITH ORDINALITY k(n, i) ORDER BY k.i), \
         con.confupdtype::text, con.confdeltype::text, con.condeferrable, con.condeferred, \
         CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid, true) END, \
         con.convalidated, \
         CASE WHEN ko.options THEN pg_get_constraintdef(con.oid, true) END, ko.options \
         FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         LEFT JOIN pg_index ci ON ci.indexrelid = con.conindid AND con.contype IN ('p', 'u') \
         LEFT JOIN pg_class cc ON cc.oid = ci.indexrelid, \
         LATERAL (SELECT COALESCE(ci.indnatts > ci.indnkeyatts OR ci.indnullsnotdistinct \
           OR cc.reloptions IS NOT NULL, false) AS options) ko \
         WHERE con.contype IN ('p', 'u', 'f', 'c') AND con.conparentid = 0 \
         AND (con.coninhcount = 0 OR NOT rel.relispartition)";

/// Indexes that no constraint owns (after [`RELATIONS`]), without a partition's
/// indexes that belong to an index of its parent (`pg_inherits`). Per key part: the
/// expression `pg_get_indexdef` prints where the part is not a column (empty text for a
/// column, named by `indkey`: printing each part costs as much as the rest of the
/// query), the operator class when it is not the default for its type and method
/// (empty text otherwise), and the collation when it is not the column's (for an
/// expression, the database's default). The parts of all indexes are one set, joined
/// once with `pg_opclass` and `pg_collation` (a lookup per index scanned both whole).
const INDEXES: &str = ", idx AS (SELECT ix.indexrelid, ix.indrelid, ix.indisunique, ix.indpred, \
           ix.indkey, ix.indoption, ix.indnkeyatts, ix.indnullsnotdistinct, ix.indclass, \
           ix.indcollation, i.relname, i.relam, i.reloptions \
         FROM pg_index ix JOIN rel ON rel.oid = ix.indrelid \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con \
           WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x')) \
         AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = ix.indexrelid)), \
       parts AS (SELECT idx.indexrelid, \
           array_agg(CASE WHEN idx.indkey[k.n - 1] = 0 \
             THEN pg_get_indexdef(idx.indexrelid, k.n::int, true) ELSE '' END ORDER BY k.n) \
             AS defs, \
           array_agg(CASE WHEN oc.opcdefault THEN '' ELSE oc.opcname::text END ORDER BY k.n) \
             FILTER (WHERE oc.oid IS NOT NULL) AS opclasses, \
           array_agg(COALESCE(co.collname::text, '') ORDER BY k.n) \
             FILTER (WHERE k.coll IS NOT NULL) AS collations \
         FROM idx CROSS JOIN LATERAL unnest(string_to_array(idx.indclass::text, ' ')::oid[], \
             string_to_array(idx.indcollation::text, ' ')::oid[]) WITH ORDINALITY k(cls, coll, n) \
         LEFT JOIN pg_opclass oc ON oc.oid = k.cls \
         LEFT JOIN pg_attribute a ON a.attrelid = idx.indrelid AND a.attnum = idx.indkey[k.n - 1] \
         LEFT JOIN pg_collation co ON co.oid = k.coll AND k.coll <> COALESCE(a.attcollation, 100) \
         GROUP BY idx.indexrelid) \
     SELECT idx.indrelid::int8, idx.relname::text, idx.indisunique, am.amname::text, \
         pg_get_expr(idx.indpred, idx.indrelid, true), \
         string_to_array(idx.indkey::text, ' ')::int2[], \
         string_to_array(idx.indoption::text, ' ')::int2[], \
         COALESCE(parts.defs, '{}'), idx.indnkeyatts, idx.indnullsnotdistinct, \
         COALESCE(idx.reloptions, '{}')::text[], \
         COALESCE(parts.opclasses, '{}'), COALESCE(parts.collations, '{}') \
         FROM idx JOIN pg_am am ON am.oid = idx.relam \
         LEFT JOIN parts ON parts.indexrelid = idx.indexrelid";

/// Enum types of the current schema that no extension owns, with their labels in order.
const ENUMS: &str =
    "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
         WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass \
           AND d.objid = t.oid AND d.deptype = 'e') \
         GROUP BY t.typname";

/// Sequences of the current schema that no column or extension owns.
const SEQUENCES: &str =
    "SELECT c.relname::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
         s.seqmin, s.seqmax, s.seqcycle \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
         WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
           AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))";

/// Functions and procedures (not aggregates or window functions) of the current schema
/// that no extension owns, nor a type (a range type's constructors). `pg_get_functiondef` always names the schema: it is taken
/// off, so that a scratch schema's functions compare with the real ones.
const FUNCTIONS: &str = "SELECT p.proname::text, oidvectortypes(p.proargtypes), p.prokind = 'p', \
         pg_get_functiondef(p.oid), quote_ident(n.nspname) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
           AND d.objid = p.oid AND d.deptype IN ('e', 'i'))";

/// User triggers (not those PostgreSQL makes for foreign keys, nor a partition's
/// copies of its parent's) on the tables and views read above (after [`RELATIONS`]).
const TRIGGERS: &str =
    "SELECT tg.tgname::text, rel.relname::text, pg_get_triggerdef(tg.oid, true) \
         FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid \
         WHERE NOT tg.tgisinternal AND tg.tgparentid = 0";

/// `(oid, relname, relkind, view definition, partition key, partition parent,
/// partition bound, unlogged, reloptions)`
type RelationRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Vec<String>,
);
/// `(child, parents)`
type InheritanceRow = (String, Vec<String>);
/// `(attrelid, attnum, attname, type, attnotnull, default or generation expression,
/// attidentity, attgenerated, collation, of a partition)`
type ColumnRow = (
    i64,
    i16,
    String,
    String,
    bool,
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
);
/// `(conrelid, conname, contype, columns, referenced table, referenced columns,
/// confupdtype, confdeltype, condeferrable, condeferred, check expression, convalidated,
/// definition of a key with index options, a key with index options)`
type ConstraintRow = (
    i64,
    String,
    String,
    Vec<String>,
    Option<String>,
    Vec<String>,
    String,
    String,
    bool,
    bool,
    Option<String>,
    bool,
    Option<String>,
    bool,
);
/// `(indrelid, name, indisunique, access method, predicate, indkey, indoption, each
/// key's expression or '', indnkeyatts, indnullsnotdistinct, reloptions, each key's
/// operator class or '', each key's collation or '')`
type IndexRow = (
    i64,
    String,
    bool,
    String,
    Option<String>,
    Vec<i16>,
    Vec<i16>,
    Vec<String>,
    i16,
    bool,
    Vec<String>,
    Vec<String>,
    Vec<String>,
);
/// `(typname, labels)`
type EnumRow = (String, Vec<String>);
/// `(name, type, start, increment, min, max, cycle)`
type SequenceRow = (String, String, i64, i64, i64, i64, bool);
/// `(proname, argument types, is a procedure, pg_get_functiondef, quoted schema)`
type FunctionRow = (String, String, bool, String, String);
/// `(tgname, table, pg_get_triggerdef)`
type TriggerRow = (String, String, String);

/// Table names by oid (views left out).
type TableNames = HashMap<i64, String>;
/// Column names by `(attrelid, attnum)`.
type ColumnNames = HashMap<(i64, i16), String>;

/// Reads the schema on the pool's connection and, as soon as the pool can open it, a
/// second one: the queries are independent, and the server answers two at once on two
/// cores in about half the time. Each connection takes the next query off one queue
/// (the costliest first), so a second connection that is slow to open or never opens
/// (a pool of one connection, a server at its connection limit) only leaves more to
/// the first. The second one must see the same schema: it reads nothing unless its
/// `current_schema()` is the first's.
pub(crate) async fn introspect(pool: &sqlx::PgPool) -> Result<Schema, MigrateError> {
    let queue = Queue::new();
    let mut first = pool.acquire().await.map_err(unreadable("connection"))?;
    let schema = current_schema(&mut first).await?;
    let second = async {
        let mut c = pool.acquire().await.ok()?;
        let same = current_schema(&mut c).await.ok() == Some(schema.clone());
        same.then_some(c)
    };
    let rows = on_one_or_two(&mut *first, second, &queue, work).await?;
    Ok(Catalog::from_rows(rows).into_schema())
}

/// The schema the catalog queries read, `None` when the search path names none that
/// exists.
async fn current_schema(c: &mut PgConnection) -> Result<Option<String>, MigrateError> {
    sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut *c)
        .await
        .map_err(unreadable("current_schema()"))
}

/// The error of a catalog query, naming what it read.
fn unreadable(what: &'static str) -> impl FnOnce(sqlx::Error) -> MigrateError {
    move |e| MigrateError::db(format!("cannot read the schema ({what})"), e)
}

/// Runs one catalog query.
async fn fetch<T>(
    c: &mut PgConnection,
    sql: &str,
    what: &'static str,
) -> Result<Vec<T>, MigrateError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as(sql)
        .fetch_all(&mut *c)
        .await
        .map_err(unreadable(what))
}

/// A query on the relations [`RELATIONS`] selects.
fn on_relations(select: &str) -> String {
    format!("{RELATIONS} {select}")
}

/// One catalog query.
#[derive(Debug, Clone, Copy)]
enum Query {
    Relations,
    Inheritance,
    Columns,
    Constraints,
    Indexes,
    Enums,
    Sequences,
    Functions,
    Triggers,
    /// One of the object queries (see [`super::objects::read`]).
    Objects(usize),
}

/// One catalog query's rows.
enum Rows {
    Relations(Vec<RelationRow>),
    Inheritance(Vec<InheritanceRow>),
    Columns(Vec<ColumnRow>),
    Constraints(Vec<ConstraintRow>),
    Indexes(Vec<IndexRow>),
    Enums(Vec<EnumRow>),
    Sequences(Vec<SequenceRow>),
    Functions(Vec<FunctionRow>),
    Triggers(Vec<TriggerRow>),
    Objects(usize, Vec<Object>),
}

impl Query {
    async fn run(self, c: &mut PgConnection) -> Result<Rows, MigrateError> {
        let started = Instant::now();
        let rows = match self {
            Query::Relations => {
                Rows::Relations(fetch(c, &on_relations(RELATION_ROWS), "pg_class").await?)
            }
            Query::Inheritance => {
                Rows::Inheritance(fetch(c, &on_relations(INHERITANCE), "pg_inherits").await?)
            }
            Query::Columns => {
                Rows::Columns(fetch(c, &on_relations(COLUMNS), "pg_attribute").await?)
            }
            Query::Constraints => {
                Rows::Constraints(fetch(c, &on_relations(CONSTRAINTS), "pg_constraint").await?)
            }
            Query::Indexes => Rows::Indexes(fetch(c, &on_relations(INDEXES), "pg_index").await?),
            Query::Enums => Rows::Enums(fetch(c, ENUMS, "pg_enum").await?),
            Query::Sequences => Rows::Sequences(fetch(c, SEQUENCES, "pg_sequence").await?),
            Query::Functions => Rows::Functions(fetch(c, FUNCTIONS, "pg_proc").await?),
            Query::Triggers => {
                Rows::Triggers(fetch(c, &on_relations(TRIGGERS), "pg_trigger").await?)
            }
            Query::Objects(i) => Rows::Objects(i, super::objects::read(c, i).await?),
        };
        tracing::debug!(query = ?self, elapsed = ?started.elapsed(), "introspection query");
        Ok(rows)
    }
}

/// The queries not yet taken by a connection.
struct Queue {
    queries: Vec<Query>,
    next: AtomicUsize,
}

impl Queue {
    /// Every query, the costliest first (measured on 1,000 tables: columns, indexes and
    /// constraints cost more than all the others together), so that no connection is
    /// left with a long one while the other is idle.
    fn new() -> Queue {
        let mut queries = vec![
            Query::Columns,
            Query::Indexes,
            Query::Constraints,
            Query::Relations,
            Query::Sequences,
        ];
        queries.extend((0..super::objects::COUNT).map(Query::Objects));
        queries.extend([
            Query::Enums,
            Query::Functions,
            Query::Triggers,
            Query::Inheritance,
        ]);
        Queue {
            queries,
            next: AtomicUsize::new(0),
        }
    }

    fn take(&self) -> Option<Query> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.queries.get(i).copied()
    }
}

/// Runs queries off `queue` on `c` until none is left.
fn work<'c>(c: &'c mut PgConnection, queue: &'c Queue) -> Share<'c, Rows> {
    Box::pin(async move {
        let mut out = Vec::new();
        while let Some(query) = queue.take() {
            out.push(query.run(c).await?);
        }
        Ok(out)
    })
}

/// Every catalog query's rows.
#[derive(Default)]
struct Catalog {
    relations: Vec<RelationRow>,
    inheritance: Vec<InheritanceRow>,
    columns: Vec<ColumnRow>,
    constraints: Vec<ConstraintRow>,
    indexes: Vec<IndexRow>,
    enums: Vec<EnumRow>,
    sequences: Vec<SequenceRow>,
    functions: Vec<FunctionRow>,
    triggers: Vec<TriggerRow>,
    /// By object query, in the order of the queries.
    objects: Vec<(usize, Vec<Object>)>,
}

impl Catalog {
    /// The rows of every query, in whatever order the connections read them.
    fn from_rows(rows: Vec<Rows>) -> Catalog {
        let mut catalog = Catalog::default();
        for r in rows {
            match r {
                Rows::Relations(v) => catalog.relations = v,
                Rows::Inheritance(v) => catalog.inheritance = v,
                Rows::Columns(v) => catalog.columns = v,
                Rows::Constraints(v) => catalog.constraints = v,
                Rows::Indexes(v) => catalog.indexes = v,
                Rows::Enums(v) => catalog.enums = v,
                Rows::Sequences(v) => catalog.sequences = v,
                Rows::Functions(v) => catalog.functions = v,
                Rows::Triggers(v) => catalog.triggers = v,
                Rows::Objects(i, v) => catalog.objects.push((i, v)),
            }
        }
        catalog.objects.sort_by_key(|(i, _)| *i);
        catalog
    }

    /// The schema the rows describe.
    fn into_schema(self) -> Schema {
        let mut schema = Schema::default();
        let names = add_relations(&mut schema, self.relations);
        add_inheritance(&mut schema, self.inheritance);
        let attnames = add_columns(&mut schema, &names, self.columns);
        for row in self.constraints {
            if let Some(t) = table_mut(&mut schema, &names, row.0) {
                if row.13 {
                    let object = key_object(&t.name, &row.1, row.12.as_deref().unwrap_or(""));
                    schema.add_object(object);
                } else {
                    add_constraint(t, row);
                }
            }
        }
        for row in self.indexes {
            if let Some(t) = table_mut(&mut schema, &names, row.0) {
                t.indexes.push(index(row, &attnames));
            }
        }
        add_objects(&mut schema, self.enums, self.sequences);
        add_routines(&mut schema, self.functions, self.triggers);
        for o in self.objects.into_iter().flat_map(|(_, v)| v) {
            schema.add_object(o);
        }
        schema
    }
}

/// The table of oid `relid`, if it is one of the tables read.
fn table_mut<'s>(schema: &'s mut Schema, names: &TableNames, relid: i64) -> Option<&'s mut Table> {
    names.get(&relid).and_then(|n| schema.tables.get_mut(n))
}

/// Adds the tables and views; the tables' names by oid.
fn add_relations(schema: &mut Schema, relations: Vec<RelationRow>) -> TableNames {
    let mut names = TableNames::new();
    for (oid, name, kind, view, partition_by, parent, bound, unlogged, mut storage) in relations {
        if kind == "v" {
            let definition = view.unwrap_or_default();
            let definition = definition
                .trim()
                .trim_end_matches(';')
                .trim_end()
                .to_string();
            schema.views.insert(name.clone(), View { name, definition });
        } else {
            names.insert(oid, name.clone());
            storage.sort();
            let postgres = PostgresTable {
                partition_by,
                partition_of: parent.map(|parent| PartitionOf {
                    parent,
                    bound: bound.unwrap_or_default(),
                }),
                unlogged,
                storage,
            };
            schema.add_table(Table {
                postgres,
                ..Table::new(name)
            });
        }
    }
    names
}

/// Adds the tables' columns; their names by `(attrelid, attnum)`, for the indexes.
fn add_columns(schema: &mut Schema, names: &TableNames, columns: Vec<ColumnRow>) -> ColumnNames {
    let mut attnames = ColumnNames::new();
    for row in columns {
        let (relid, attnum, name, data_type, notnull, default, identity, generated, collation) = (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
        );
        let Some(t) = table_mut(schema, names, relid) else {
            continue;
        };
        attnames.insert((relid, attnum), name.clone());
        if row.9 {
            continue;
        }
        let stored = generated == "s";
        t.columns.push(Column {
            name,
            data_type,
            nullable: !notnull,
            default: if stored { None } else { default.clone() },
            identity: match identity.as_str() {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            },
            generated: stored.then(|| Generated {
                expression: default.unwrap_or_default(),
                stored: true,
            }),
            collation,
            renamed_from: None,
            ..Default::default()
        });
    }
    attnames
}

/// Adds a primary key, unique, foreign key or check to its table.
fn add_constraint(t: &mut Table, row: ConstraintRow) {
    let (_, name, kind, cols, ftable, fcols, upd, del, deferrable, deferred, check, valid, _, _) =
        row;
    // The part between table and label of the name PostgreSQL would have chosen: a
    // check on one column is named after it, else after the table alone.
    let (middle, label) = match kind.as_str() {
        "p" => (None, "pkey"),
        "u" => (Some(cols.join("_")), "key"),
        "f" => (Some(cols.join("_")), "fkey"),
        _ => match cols.as_slice() {
            [one] => (Some(one.clone()), "check"),
            _ => (None, "check"),
        },
    };
    // A name PostgreSQL chose is left out, as the SQL left it out.
    let name = (!generated(&name, &t.name, middle.as_deref(), label)).then_some(name);
    match kind.as_str() {
        "p" => {
            t.primary_key = Some(PrimaryKey {
                name,
                columns: cols,
            });
        }
        "u" => {
            t.uniques.push(Unique {
                name,
                columns: cols,
            });
        }
        "f" => {
            t.foreign_keys.push(ForeignKey {
                name,
                columns: cols,
                referenced_table: ftable.unwrap_or_default(),
                referenced_columns: fcols,
                on_delete: action(&del),
                on_update: action(&upd),
                deferrable: deferrability(deferrable, deferred),
            });
        }
        _ => {
            t.checks.push(Check {
                name,
                expression: check.unwrap_or_default(),
                not_valid: !valid,
            });
        }
    }
}

/// `pg_constraint.condeferrable` and `condeferred`.
fn deferrability(deferrable: bool, deferred: bool) -> Deferrable {
    match (deferrable, deferred) {
        (false, _) => Deferrable::NotDeferrable,
        (true, false) => Deferrable::InitiallyImmediate,
        (true, true) => Deferrable::InitiallyDeferred,
    }
}

/// An index: each key a column where `indkey` names one, else the expression
/// `pg_get_indexdef` prints; the columns after the key ones are its `INCLUDE` list.
fn index(row: IndexRow, attnames: &ColumnNames) -> Index {
    let (relid, name, unique, method, predicate, keys, options, defs) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    let (key_count, nulls_not_distinct, mut storage, opclasses, collations) =
        (row.8, row.9, row.10, row.11, row.12);
    let named = |v: Option<&String>| v.filter(|s| !s.is_empty()).cloned();
    let parts = defs
        .into_iter()
        .enumerate()
        .map(|(k, def)| {
            let attnum = keys.get(k).copied().unwrap_or(0);
            let key = match attnames.get(&(relid, attnum)).filter(|_| attnum > 0) {
                Some(column) => IndexKey::Column(column.clone()),
                None => IndexKey::Expression(def),
            };
            // INDOPTION_DESC and INDOPTION_NULLS_FIRST; NULLs come first by default in
            // descending order only.
            let descending = options.get(k).is_some_and(|o| o & 1 != 0);
            let nulls_first = options.get(k).is_some_and(|o| o & 2 != 0);
            IndexPart {
                key,
                descending,
                nulls_first: (nulls_first != descending).then_some(nulls_first),
                collation: named(collations.get(k)),
                opclass: named(opclasses.get(k)),
                length: None,
            }
        })
        .collect();
    let key_count = usize::try_from(key_count).unwrap_or(0);
    let include = keys
        .iter()
        .skip(key_count)
        .map(|attnum| {
            attnames
                .get(&(relid, *attnum))
                .cloned()
                .unwrap_or_else(|| attnum.to_string())
        })
        .collect();
    storage.sort();
    Index {
        name,
        parts,
        unique,
        predicate,
        method: (method != "btree").then_some(method),
        include,
        nulls_not_distinct,
        storage,
    }
}

/// A primary key or unique constraint with index options the model's keys do not
/// carry (`INCLUDE`, `NULLS NOT DISTINCT`, storage parameters), kept whole as
/// `pg_get_constraintdef` prints it: compared by that text, added and dropped by name.
fn key_object(table: &str, name: &str, definition: &str) -> Object {
    let q = |n: &str| dialect(Dialect::Postgres).identifier(n);
    Object {
        kind: "constraint".into(),
        name: format!("{table}.{name}"),
        table: Some(table.to_string()),
        definition: definition.to_string(),
        create: Some(vec![format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
            q(table),
            q(name)
        )]),
        drop: Some(vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            q(table),
            q(name)
        )]),
        stage: Stage::Late,
        modelled: true,
    }
}

/// Table inheritance without partitioning (`INHERITS`): the child is a table with all
/// its columns, and inherits from its parents once every table exists (`ALTER TABLE
/// ... INHERIT`), which checks that its columns and checks match theirs.
fn add_inheritance(schema: &mut Schema, rows: Vec<InheritanceRow>) {
    let q = |n: &str| dialect(Dialect::Postgres).identifier(n);
    for (child, parents) in rows {
        let statements = |action: &str| {
            parents
                .iter()
                .map(|p| format!("ALTER TABLE {} {action} {}", q(&child), q(p)))
                .collect::<Vec<_>>()
        };
        schema.add_object(Object {
            kind: "inheritance".into(),
            name: child.clone(),
            table: Some(child.clone()),
            definition: format!("INHERITS ({})", parents.join(", ")),
            create: Some(statements("INHERIT")),
            drop: Some(statements("NO INHERIT")),
            stage: Stage::Late,
            modelled: true,
        });
    }
}

/// Adds the enum types and sequences.
fn add_objects(schema: &mut Schema, enums: Vec<EnumRow>, sequences: Vec<SequenceRow>) {
    for (name, values) in enums {
        schema.enums.insert(name.clone(), EnumType { name, values });
    }
    for (name, data_type, start, increment, min_value, max_value, cycle) in sequences {
        schema.sequences.insert(
            name.clone(),
            Sequence {
                name,
                data_type,
                start,
                increment,
                min_value,
                max_value,
                cycle,
            },
        );
    }
}

/// Adds the functions, procedures and triggers.
fn add_routines(schema: &mut Schema, functions: Vec<FunctionRow>, triggers: Vec<TriggerRow>) {
    for (name, arguments, procedure, definition, schema_name) in functions {
        schema.add_function(Function {
            name,
            arguments,
            procedure,
            definition: unqualified_function(&definition, &schema_name),
        });
    }
    for (name, table, definition) in triggers {
        schema.add_trigger(Trigger {
            name,
            table,
            definition,
        });
    }
}

/// `pg_get_functiondef`'s text without the schema before the function's name (`CREATE
/// OR REPLACE FUNCTION public.touch()` is `... FUNCTION touch()`), its final line break
/// or a `;`.
fn unqualified_function(definition: &str, schema: &str) -> String {
    let definition = definition.trim_end().trim_end_matches(';').trim_end();
    for kind in ["FUNCTION", "PROCEDURE"] {
        let head = format!("CREATE OR REPLACE {kind} {schema}.");
        if let Some(rest) = definition.strip_prefix(&head) {
            return format!("CREATE OR REPLACE {kind} {rest}");
        }
    }
    definition.to_string()
}

/// `pg_constraint.confupdtype` / `confdeltype`.
fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// Whether `name` is the one PostgreSQL generates for a constraint of `table` with
/// `label` (`pkey`, `key`, `fkey`, `check`), numbered (`key1`) when the first choice was
/// taken.
fn generated(name: &str, table: &str, columns: Option<&str>, label: &str) -> bool {
    if name == postgres_object_name(table, columns, label) {
        return true;
    }
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0
        && name
            == postgres_object_name(
                table,
                columns,
                &format!("{label}{}", &name[name.len() - digits..]),
            )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_definitions_lose_their_schema() {
        assert_eq!(
            unqualified_function(
                "CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\nAS $function$x$function$\n",
                "public"
            ),
            "CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\nAS $function$x$function$"
        );
        assert_eq!(
            unqualified_function(
                "CREATE OR REPLACE PROCEDURE \"My S\".p(IN a integer)",
                "\"My S\""
            ),
            "CREATE OR REPLACE PROCEDURE p(IN a integer)"
        );
    }

    #[test]
    fn generated_names() {
        assert!(generated("tickets_pkey", "tickets", None, "pkey"));
        assert!(generated("tickets_a_b_key", "tickets", Some("a_b"), "key"));
        assert!(generated(
            "tickets_user_id_fkey",
            "tickets",
            Some("user_id"),
            "fkey"
        ));
        assert!(generated(
            "tickets_priority_check1",
            "tickets",
            Some("priority"),
            "check"
        ));
        assert!(generated("tickets_check", "tickets", None, "check"));
        assert!(!generated("fk_user", "tickets", Some("user_id"), "fkey"));
        assert!(!generated("tickets_pkey", "other", None, "pkey"));
        // Long names: the longer part is shortened first, to 63 bytes in all.
        let table = "t".repeat(40);
        let col = "c".repeat(40);
        let name = postgres_object_name(&table, Some(&col), "fkey");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_fkey", "t".repeat(29), "c".repeat(28)));
    }
}
