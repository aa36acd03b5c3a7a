static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/malformed-header");

fn main() {
    let _ = &MIGRATIONS;
}
