//! The schema of a live database: reading it into the [`model`] ([`introspect`]),
//! empty scratch databases to apply SQL to ([`scratch`], on the target's server or a
//! dev database's, [`ScratchOn`]), and the declared schema
//! folder run on one of them ([`apply_declared`]), so that what the SQL of the folder
//! creates can be read back and compared with what a database holds.
//!
//! ```no_run
//! use migrate_runtime::schema::{self, model::declared::DeclaredSchema};
//! use migrate_runtime::Database;
//!
//! # async fn run() -> Result<(), migrate_runtime::schema::SchemaError> {
//! let url = "postgres://app@db.internal/app";
//! let db = Database::connect(url).await?;
//! let exclude = ["alembic_version", "alembic_version_history"];
//! let current = schema::introspect(&db, &exclude).await?;
//!
//! let declared = DeclaredSchema::load(std::path::Path::new("schema"))?;
//! let scratch = schema::scratch(url).await?;
//! // Always drop the scratch database, also when reading it failed.
//! let wanted = schema::introspect_declared(scratch.database(), &declared).await;
//! scratch.drop().await?;
//! let wanted = wanted?;
//! println!("{} tables wanted, {} there", wanted.tables.len(), current.tables.len());
//! # Ok(()) }
//! ```
//!
//! Each database reports types, defaults and expressions in its own normalized text, so
//! a schema is compared with another read from the same kind of database. What each
//! database needs beyond that (SQLite's declared types, MariaDB's quoted defaults,
//! generated constraint names) is normalized here and documented on [`introspect`].
//!
//! Scratch databases and the declared schema are the cargo feature `schema` (on by
//! default); [`introspect`] is always built, as reading a schema is the driver's.

#[cfg(feature = "schema")]
mod declared;
mod error;
// Process tags name the scratch databases and the test fixture's templates and copies.
#[cfg(any(
    all(feature = "schema", any(feature = "postgres", feature = "mysql")),
    feature = "testing-fixture"
))]
pub(crate) mod leftover;
#[cfg(feature = "schema")]
mod scratch;

#[cfg(feature = "schema")]
pub use declared::{apply_declared, apply_renames, introspect_declared};
pub use error::{DeclaredFailed, SchemaError};
pub use migrate_schema as model;
pub use migrate_schema::declared::{DeclaredError, DeclaredSchema};
pub use migrate_schema::Schema;
#[cfg(feature = "schema")]
pub use scratch::{scratch, Scratch, ScratchDropper, ScratchOn};

use crate::driver::Db;
use migrate_schema::{Check, ForeignKey, Table, Unique};

/// Reads the schema of the database `db` is connected to: on PostgreSQL the current
/// schema (`current_schema()`), on MySQL/MariaDB the current database (`DATABASE()`),
/// on SQLite `main`. Tables named in `exclude` are left out (pass the version and
/// history tables; a qualified `schema.table` excludes `table`, and the triggers on it),
/// and so are objects owned by an extension, SQLite's internal `sqlite_%` tables and
/// the shadow tables of its virtual tables (a virtual table is an object, its
/// statement as SQLite keeps it).
///
/// Names are as the database stores them. Constraints whose name is the one the
/// database would have generated are read with `name: None`: PostgreSQL's
/// `<table>_pkey`, `<table>_<columns>_key`, `<table>_<columns>_fkey`,
/// `<table>_<column>_check` and `<table>_check` (truncated to 63 bytes and numbered on a
/// clash as PostgreSQL does); MySQL's `PRIMARY`, `<table>_ibfk_<n>`, `<table>_chk_<n>`
/// and unique keys named after their first column (`email`, `email_2`); MariaDB's
/// `CONSTRAINT_<n>` and column checks named after their column; SQLite's unnamed
/// constraints (autoindex names are never names). Uniques, foreign keys and checks are
/// sorted by content, indexes by name.
///
/// What each database needs normalized:
/// - **SQLite** keeps the SQL as written. Declared types are lower-cased with spaces
///   folded, and a few spellings of one type made one (`int`, `int4` and `integer` are
///   `integer`; `int8` is `bigint`; `int2` is `smallint`; `character varying(n)` is
///   `varchar(n)`; `character(n)` is `char(n)`; `bool` is `boolean`; `double` and
///   `float8` are `double precision`). Defaults, checks, generated expressions, index
///   expressions and predicates and view queries are read from the SQL text with
///   comments dropped, words lower-cased outside quotes, blanks folded, one space around
///   binary operators (`n>=0` is `n >= 0`) and parentheses around a whole expression
///   dropped (`DEFAULT (0)` is `0`, `CHECK ((a > 0))` is `a > 0`); a quoted
///   number as the default of a column of numeric affinity is unquoted (`'0'` is `0`);
///   `DEFAULT NULL` is no default. A primary key column is `NOT NULL` (as on the
///   servers). The expression of a generated column and deferrability come from the
///   `CREATE TABLE` text.
/// - **PostgreSQL** prints everything itself (`format_type`, `pg_get_expr`,
///   `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_triggerdef`, all pretty-printed, and
///   `pg_get_functiondef`); view definitions lose their surrounding blanks and final
///   `;`, function definitions the schema before the name. A check's validity
///   (`convalidated`) and a column's collation when it is not its type's default are
///   read; functions and procedures are identified by name and argument types
///   (`oidvectortypes`), and triggers made for foreign keys are left out.
/// - **Triggers** on SQLite are their stored `CREATE TRIGGER` text; on MySQL/MariaDB the
///   statement is rebuilt from `information_schema.TRIGGERS` (timing, event, table, the
///   body as written), without the `DEFINER`.
/// - **MySQL/MariaDB**: MariaDB quotes string defaults and reports a missing default as
///   `NULL`, MySQL 8 does not quote: both read as MariaDB's quoted literal, `None` for no
///   default, and `CURRENT_TIMESTAMP` as `current_timestamp()`. `RESTRICT` is
///   `NO ACTION` (InnoDB does not tell them apart, and reports either for an unspecified
///   action depending on the server). Every unique index on plain ascending columns is a
///   unique constraint (MySQL does not tell them apart either), and the index the server
///   creates for a foreign key that has none (named after the constraint or its first
///   column) is not listed. View definitions lose the `` `database`. `` qualifier the
///   server adds, so scratch and real databases compare equal. Every text column has
///   its collation (the charset follows from it), whatever the table's default; a
///   table's default collation is an object when it is not the database's. `ON
///   UPDATE` reads as MariaDB prints it (`current_timestamp()`), comments as written,
///   an index part's prefix length from `SUB_PART` (not a spatial key's). Routines,
///   events and MariaDB sequences are objects, their `SHOW CREATE` text without the
///   `DEFINER` and the database name (a recurring event also without its `STARTS`
///   time, which the server sets to the moment of creation); partitioning, system
///   versioning, a table comment and an engine other than the server's default are
///   objects of their table.
/// - **SQLite** `STRICT` and `WITHOUT ROWID` come from `pragma_table_list`.
///
/// # Errors
/// [`MigrateError::Database`](crate::MigrateError::Database) (as
/// [`SchemaError::Migrate`]) when a catalog query fails.
pub async fn introspect<'a>(
    db: impl Into<Db<'a>>,
    exclude: &[&str],
) -> Result<Schema, SchemaError> {
    let mut schema = db.into().introspect().await?;
    let excluded = |name: &str| {
        exclude
            .iter()
            .any(|e| e.rsplit('.').next().unwrap_or(e) == name)
    };
    schema.tables.retain(|name, _| !excluded(name));
    // A trigger on an excluded table goes with it.
    schema.triggers.retain(|_, t| !excluded(&t.table));
    // So do the objects that belong to it (its comment, collation, partitioning).
    schema
        .objects
        .retain(|_, o| o.table.as_deref().is_none_or(|t| !excluded(t)));
    for table in schema.tables.values_mut() {
        sort_table(table);
    }
    Ok(schema)
}

/// Sorts a table's collections into the order [`introspect`] promises.
pub(crate) fn sort_table(t: &mut Table) {
    t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let unique_key = |u: &Unique| (u.columns.clone(), u.name.clone());
    t.uniques.sort_by_key(unique_key);
    let fk_key = |f: &ForeignKey| {
        (
            f.columns.clone(),
            f.referenced_table.clone(),
            f.referenced_columns.clone(),
            f.name.clone(),
        )
    };
    t.foreign_keys.sort_by_key(fk_key);
    let check_key = |c: &Check| (c.expression.clone(), c.name.clone());
    t.checks.sort_by_key(check_key);
}
