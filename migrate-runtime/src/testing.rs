//! Schema checks for `cargo test` and for the `migrate` command line: the schema the
//! migrations produce, the declared schema, drift, and the stairway test that proves
//! each downgrade leaves no trace (cargo feature `schema`, on by default); and
//! [`fixture`], a database at head for each test (cargo feature `testing-fixture`).
//!
//! ```no_run
//! # async fn t() -> Result<(), Box<dyn std::error::Error>> {
//! use migrate_runtime::{schema::ScratchOn, testing, Migrator};
//! let migrator = Migrator::load("migrations")?;
//! // Every revision up, down, up again on a scratch database of the server the URL
//! // names (an in-memory database for SQLite), which is dropped afterwards.
//! let report = testing::stairway(&migrator, "postgres://localhost/app", None).await?;
//! assert!(report.is_ok(), "{report}");
//! // A role that may not create databases needs a dev database for the scratch work:
//! // nothing runs inside the target database itself.
//! let on = ScratchOn::target("postgres://app@db/app").with_dev(Some("postgres://app@db/app_dev"));
//! let report = testing::stairway(&migrator, on, None).await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "schema")]
mod checks;
#[cfg(feature = "testing-fixture")]
pub mod fixture;

#[cfg(feature = "schema")]
pub use checks::{
    assert_matches_declared, declared_schema, live_schema, replay, stairway, stairway_in,
    StairwayFailure, StairwayReport,
};
