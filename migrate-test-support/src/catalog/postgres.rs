//! PostgreSQL's catalog.

pub(crate) struct Postgres;

impl super::Catalog for Postgres {
    fn as_integer(&self, sql: &str) -> String {
        format!("SELECT CAST(({sql}) AS BIGINT)")
    }

    fn table_count(&self, table: &str) -> String {
        format!("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'")
    }

    fn columns(&self, table: &str) -> String {
        format!("SELECT column_name || '|' || lower(data_type) || '|' || is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position")
    }
}
