static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/nul-byte");

fn main() {
    let _ = &MIGRATIONS;
}
