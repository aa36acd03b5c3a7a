//! The migration file format and the revision graph, with Alembic's semantics and no
//! database I/O.
//!
//! A migration is one `.sql` file with a comment header (`revision`, `down_revision`,
//! `branch_labels`, `depends_on`, ...) and `-- migrate:upgrade` / `-- migrate:downgrade`
//! sections. A [`ScriptDirectory`] loads a versions folder, a [`RevisionMap`] answers
//! every question about the graph (heads, branch points, identifiers such as `head-1` or
//! `label@+2`) and computes [`Plan`]s: the ordered steps and version-table changes that
//! take a database from the revisions it holds to a target.
//!
//! ```
//! use migrate_core::{ScriptDirectory, VersionChange};
//!
//! let files = [
//!     ("a_init.sql", "-- init\n-- revision: a1\n-- down_revision:\n\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n-- migrate:downgrade\nDROP TABLE t;\n"),
//!     ("b_col.sql", "-- add column\n-- revision: b2\n-- down_revision: a1\n\n-- migrate:upgrade\nALTER TABLE t ADD c INT;\n"),
//! ];
//! let dir = ScriptDirectory::from_files(files).unwrap();
//! assert_eq!(dir.map.heads(), ["b2"]);
//!
//! // An empty database: insert a1, then move the row to b2.
//! let plan = dir.map.upgrade_plan::<&str>(&[], "head").unwrap();
//! assert_eq!(plan.revisions(), ["a1", "b2"]);
//! assert_eq!(plan.steps[0].changes, [VersionChange::Insert("a1".into())]);
//! assert_eq!(plan.steps[1].changes, [VersionChange::Update { from: "a1".into(), to: "b2".into() }]);
//!
//! // b2 has no downgrade section, so it cannot be reverted.
//! assert!(dir.script("b2").unwrap().downgrade.is_empty());
//! assert_eq!(dir.map.resolve("head-1").unwrap(), ["a1"]);
//! ```

pub mod batch;
pub mod checksum;
pub mod directory;
pub mod error;
pub mod lex;
pub mod offline;
pub mod plan;
pub mod revision;
pub mod script;
pub mod sql;

pub use checksum::{verify_sum_file, Checksum, SumFile, SUM_FILE};
pub use directory::{read_sum_file, scan, scan_files, scan_with, Inspection, ScriptDirectory};
pub use error::{
    GraphError, GraphErrors, LoadError, Origin, ParseError, ParseErrorKind, Problem, RevisionError,
    RevisionIdError, SumError, SumMismatch,
};
pub use plan::{IterateOptions, Plan, Step, VersionChange};
pub use revision::{Revision, RevisionMap, RevisionSpec};
pub use script::{render, validate_revision_id, Dialect, Direction, Script, ScriptKind, Section};
