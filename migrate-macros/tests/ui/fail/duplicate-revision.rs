static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/duplicate-revision");

fn main() {
    let _ = &MIGRATIONS;
}
