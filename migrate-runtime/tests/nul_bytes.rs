//! Issue 20, item 3: SQL text with a NUL byte, which SQLite reads as the end of the
//! text. Migration files are refused when loaded (migrate-core); what reaches the
//! runtime at run time, the SQL a Rust migration passes, is refused before any of it
//! runs, on every database, inline and through sqlx's worker thread (whose SQLite
//! driver would otherwise loop forever at 100% CPU).

use migrate_test_support as common;

use common::{databases, strings};
use migrate_runtime::core::Script;
use migrate_runtime::{
    EmbeddedMigrations, MigrateError, MigrationContext, MigrationFuture, Migrator, RustMigration,
};
use std::time::Duration;

fn upgrade<'a>(ctx: &'a mut MigrationContext<'_>) -> MigrationFuture<'a> {
    Box::pin(async move {
        ctx.execute("CREATE TABLE nul_a (id INT);\n\0\nCREATE TABLE nul_b (id INT)")
            .await?;
        Ok(())
    })
}

/// One Rust migration, `r1`, whose upgrade passes SQL with a NUL byte on its line 2.
fn migrations() -> EmbeddedMigrations {
    let text = "// nul\n// revision: r1\n// down_revision:\n\npub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {\n    Ok(())\n}\n";
    let script = Script::parse("r1_nul.rs", text.as_bytes()).expect("a Rust migration");
    EmbeddedMigrations {
        // Test data, made once per test.
        migrations: Box::leak(vec![script].into_boxed_slice()),
        rust: Box::leak(Box::new([(
            "r1",
            RustMigration {
                upgrade,
                downgrade: None,
            },
        )])),
        allow_multiple_heads: false,
    }
}

#[tokio::test]
async fn sql_with_a_nul_byte_from_a_rust_migration_is_refused_naming_the_revision() {
    let migrations = migrations();
    for t in databases("nul_rust").await {
        for inline in [false, true] {
            let m = Migrator::new(&migrations)
                .expect("migrations")
                .sqlite_inline(inline);
            // A hang (sqlx's SQLite driver looping on the text after the NUL) fails.
            let err = tokio::time::timeout(Duration::from_secs(30), m.upgrade(&t.db, "head"))
                .await
                .unwrap_or_else(|_| panic!("{} (inline: {inline}): the upgrade hung", t.name))
                .expect_err("a NUL byte must be refused");
            let MigrateError::RustMigration(failed) = &err else {
                panic!("{}: {err:?}", t.name);
            };
            assert_eq!(failed.revision, "r1", "{}", t.name);
            let cause = std::error::Error::source(&err)
                .map(|s| s.to_string())
                .unwrap_or_default();
            assert!(
                cause.contains("the SQL holds a NUL byte (\\0) on its line 2")
                    && cause.contains("CREATE TABLE nul_a (id INT);\n\\0\n"),
                "{}: {cause}",
                t.name
            );
            assert!(
                !common::table_exists(&t.db, "nul_a").await,
                "{}: nothing may run",
                t.name
            );
            assert_eq!(
                strings(&t.db, "SELECT version_num FROM alembic_version").await,
                Vec::<String>::new(),
                "{}",
                t.name
            );
        }
    }
}
