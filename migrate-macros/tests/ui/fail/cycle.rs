static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/cycle");

fn main() {
    let _ = &MIGRATIONS;
}
