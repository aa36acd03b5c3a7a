static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/batch-in-transaction");

fn main() {
    let _ = &MIGRATIONS;
}
