static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/rust-wrong-signature");

fn main() {
    let _ = &MIGRATIONS;
}
