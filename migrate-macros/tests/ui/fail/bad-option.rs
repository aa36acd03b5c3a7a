static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/linear", allow_several_heads);

static NOT_A_LITERAL: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::migrations!(tests / fixtures / linear);

fn main() {
    let _ = (&MIGRATIONS, &NOT_A_LITERAL);
}
