static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/missing-dependency");

fn main() {
    let _ = &MIGRATIONS;
}
