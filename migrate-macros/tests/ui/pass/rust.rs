//! A Rust migration (a module of the crate, type-checked with it) and a batched
//! statement beside SQL migrations.

static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/rust");

fn main() {
    let [init, twice, batch] = MIGRATIONS.migrations else {
        panic!("expected three migrations, got {:?}", MIGRATIONS.migrations);
    };
    let code_of = |m: &migrate_runtime::core::Script| MIGRATIONS.rust_migration(&m.revision);
    assert!(code_of(init).is_none() && code_of(batch).is_none());
    let code = code_of(twice).expect("the .rs migration has code");
    assert!(code.downgrade.is_some());
    assert_eq!((&*twice.revision, &*twice.path), ("r2", "r2_twice.rs"));
    assert!(!twice.transactional);
    assert!(twice.is_rust());
    assert!(batch.has_batches());
}
