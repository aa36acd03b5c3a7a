//! Test databases and TLS settings for the workspace's tests and benches.
//!
//! SQLite is always there; PostgreSQL and MariaDB/MySQL join when
//! `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set. Each call makes a
//! database of its own, so tests run in parallel. A set URL that cannot be reached fails
//! the test (the helpers panic, as assertions do) rather than skipping it.
//!
//! ```no_run
//! # async fn t() {
//! use migrate_test_support::{databases, migrator, table_exists, table_mig};
//! let (path, text) = table_mig("a1", "", "");
//! let m = migrator(&[(path.as_str(), text)]);
//! for t in databases("example").await {
//!     m.upgrade(&t.db, "heads").await.expect("upgrade");
//!     assert!(table_exists(&t.db, "t_a1").await, "{}", t.name);
//! }
//! # }
//! ```

mod catalog;
mod db;
pub mod tls;

pub use db::{
    columns, databases, fresh_url, mig, migrator, raw, scalar, strings, table_exists, table_mig,
    TestDb,
};
