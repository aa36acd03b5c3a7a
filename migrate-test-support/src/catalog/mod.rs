//! The catalog queries the test helpers ask, one file per database; [`of`] picks one.

mod mysql;
mod postgres;
mod sqlite;

use migrate_runtime::Dialect;

/// What the helpers ask a database's catalog, as SQL.
pub(crate) trait Catalog {
    /// `sql` (a query answering one number) read back as a 64-bit integer.
    fn as_integer(&self, sql: &str) -> String;
    /// A query counting the tables named `table` in the current database or schema.
    fn table_count(&self, table: &str) -> String;
    /// A query answering `name|type|YES or NO` for each column of `table`, in order.
    fn columns(&self, table: &str) -> String;
}

/// The catalog of `dialect`.
pub(crate) fn of(dialect: Dialect) -> &'static dyn Catalog {
    match dialect {
        Dialect::Sqlite => &sqlite::Sqlite,
        Dialect::Postgres => &postgres::Postgres,
        Dialect::Mysql => &mysql::Mysql,
    }
}
