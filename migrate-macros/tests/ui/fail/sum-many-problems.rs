static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/sum-many-problems");

fn main() {
    let _ = &MIGRATIONS;
}
