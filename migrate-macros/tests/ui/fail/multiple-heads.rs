static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/multiple-heads");

fn main() {
    let _ = &MIGRATIONS;
}
