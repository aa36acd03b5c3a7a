//! MySQL's and MariaDB's catalog.

pub(crate) struct Mysql;

impl super::Catalog for Mysql {
    fn as_integer(&self, sql: &str) -> String {
        format!("SELECT CAST(({sql}) AS SIGNED)")
    }

    fn table_count(&self, table: &str) -> String {
        format!("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'")
    }

    fn columns(&self, table: &str) -> String {
        format!("SELECT CONCAT(column_name, '|', lower(column_type), '|', is_nullable) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position")
    }
}
