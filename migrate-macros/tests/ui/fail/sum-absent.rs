static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/sum-absent");

fn main() {
    let _ = &MIGRATIONS;
}
