//! `transactional: false` and per-database sections.

static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/non-transactional");

fn main() {
    let [init, index] = MIGRATIONS.migrations else {
        panic!("expected two migrations, got {:?}", MIGRATIONS.migrations);
    };
    assert!(init.transactional);
    assert!(!index.transactional);
    let dialects: Vec<&str> = index.upgrade.iter().map(|s| s.dialect.map_or("", |d| d.name())).collect();
    assert_eq!(dialects, ["", "postgres"]);
    assert_eq!(index.upgrade[1].sql, "CREATE INDEX CONCURRENTLY ix_events_at ON events (at);\n");
    assert_eq!(index.downgrade[1].dialect.map(|d| d.name()), Some("postgres"));
    let script = index;
    assert_eq!(
        script.upgrade_sql(migrate_runtime::core::Dialect::Postgres),
        Some("CREATE INDEX CONCURRENTLY ix_events_at ON events (at);\n")
    );
    assert_eq!(
        script.upgrade_sql(migrate_runtime::core::Dialect::Sqlite),
        Some("CREATE INDEX ix_events_at ON events (at);\n")
    );
}
