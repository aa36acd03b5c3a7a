static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/sum-missing");

fn main() {
    let _ = &MIGRATIONS;
}
