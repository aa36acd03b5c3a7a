static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/rust-missing-upgrade");

fn main() {
    let _ = &MIGRATIONS;
}
