//! A Rust migration (a module of the crate, type-checked with it) and a batched
//! statement beside SQL migrations.

static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/rust");

fn main() {
    let [init, twice, batch] = MIGRATIONS.migrations else {
        panic!("expected three migrations, got {:?}", MIGRATIONS.migrations);
    };
    assert!(init.rust.is_none() && batch.rust.is_none());
    let code = twice.rust.expect("the .rs migration has code");
    assert!(code.downgrade.is_some());
    assert_eq!((twice.revision, twice.path), ("r2", "r2_twice.rs"));
    assert!(!twice.transactional);
    assert!(twice.to_script().is_rust());
    assert!(batch.to_script().has_batches());
}
