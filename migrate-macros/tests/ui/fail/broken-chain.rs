static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/broken-chain");

fn main() {
    let _ = &MIGRATIONS;
}
