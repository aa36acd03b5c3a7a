static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/does-not-exist");

fn main() {
    let _ = &MIGRATIONS;
}
