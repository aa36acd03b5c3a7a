//! Issue 20, item 10: one migration of many statements. Every database runs them all,
//! and on MySQL and MariaDB, whose DDL commits the transaction it runs in, the
//! statements after a `CREATE TABLE` run in a transaction again (sent whole, they ran
//! in autocommit mode: a commit and a flush to disk per statement, minutes for 100,000
//! one-row INSERTs), so that a failure rolls them back.

use migrate_test_support as common;

use common::{databases, mig, migrator, scalar, strings};

/// `CREATE TABLE`, `n` one-row INSERTs, then `tail`.
fn inserts(n: usize, tail: &str) -> String {
    let mut sql = String::from("CREATE TABLE many_t (id INT PRIMARY KEY, name VARCHAR(50));\n");
    for i in 1..=n {
        sql.push_str(&format!(
            "INSERT INTO many_t (id, name) VALUES ({i}, 'item {i}');\n"
        ));
    }
    sql.push_str(tail);
    sql
}

#[tokio::test]
async fn a_migration_of_many_statements_runs_them_all_on_every_database() {
    // Over 1 MiB of text: MySQL gets it in several requests.
    let sql = inserts(
        30_000,
        "CREATE INDEX many_ix ON many_t (name);\nINSERT INTO many_t (id, name) VALUES (0, 'after the index');\n",
    );
    assert!(sql.len() > 1 << 20);
    let files = [("m1.sql", mig("m1", "", "", &sql, None))];
    for t in databases("many_all").await {
        for inline in [false, true] {
            if inline && t.name != "sqlite" {
                continue;
            }
            let m = migrator(&files).sqlite_inline(inline);
            m.upgrade(&t.db, "head")
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(
                scalar(&t.db, "SELECT COUNT(*) FROM many_t").await,
                30_001,
                "{}",
                t.name
            );
            assert_eq!(
                strings(&t.db, "SELECT version_num FROM alembic_version").await,
                ["m1"],
                "{}",
                t.name
            );
            if t.name == "sqlite" && !inline {
                // Again, inline, on a fresh table.
                common::raw(&t.db, "DROP TABLE many_t").await;
                common::raw(&t.db, "DELETE FROM alembic_version").await;
            }
        }
    }
}

#[tokio::test]
async fn statements_after_ddl_share_a_transaction_that_a_failure_rolls_back() {
    let sql = inserts(2_000, "INSERT INTO no_such_table VALUES (1);\n");
    let files = [("m1.sql", mig("m1", "", "", &sql, None))];
    for t in databases("many_rollback").await {
        let err = migrator(&files)
            .upgrade(&t.db, "head")
            .await
            .expect_err("the last statement fails");
        let crate_err = err.to_string();
        assert!(
            crate_err.contains("no_such_table"),
            "{}: {crate_err}",
            t.name
        );
        // The failing statement is named by its line: after the CREATE TABLE (line 6)
        // and 2,000 INSERTs.
        assert!(crate_err.contains("m1.sql:2007"), "{}: {crate_err}", t.name);
        let rows = if t.name == "mysql" {
            // The CREATE TABLE committed at once; the INSERTs after it did not.
            scalar(&t.db, "SELECT COUNT(*) FROM many_t").await
        } else {
            assert!(!common::table_exists(&t.db, "many_t").await, "{}", t.name);
            0
        };
        assert_eq!(
            rows, 0,
            "{}: the INSERTs after the DDL were committed",
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
