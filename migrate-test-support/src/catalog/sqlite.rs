//! SQLite's catalog.

pub(crate) struct Sqlite;

impl super::Catalog for Sqlite {
    /// SQLite keeps a value's type: an integer reads back as one.
    fn as_integer(&self, sql: &str) -> String {
        sql.to_string()
    }

    fn table_count(&self, table: &str) -> String {
        format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
    }

    fn columns(&self, table: &str) -> String {
        format!("SELECT name || '|' || lower(type) || '|' || CASE WHEN \"notnull\" = 1 OR pk = 1 THEN 'NO' ELSE 'YES' END FROM pragma_table_info('{table}')")
    }
}
