//! The schema half of the toolkit: a model of what a database holds (tables, columns,
//! keys, indexes, constraints, views, PostgreSQL enums, sequences, functions and
//! triggers), the ordered list of changes between two schemas, and the DDL that applies
//! them on each database.
//!
//! Everything here is pure: a [`Schema`] is read from a database by
//! `migrate_runtime::schema` (PostgreSQL's catalogs, SQLite's pragmas, MySQL's
//! `information_schema`), always after the database itself has normalized what the SQL
//! said (types, defaults, implicit names); nothing here parses SQL to build it.
//!
//! Each database's DDL, quoting, literals and identifier folding live in a file named
//! for it under `render/`, behind one trait; [`render::dialect`] gives a database's
//! [`DdlDialect`](render::DdlDialect), the one place that quotes for it. The diff runs
//! one step per kind of object (`diff/tables.rs`, `diff/columns.rs`, ...).

#[doc(hidden)]
pub mod bench_support;
pub mod declared;
pub mod diff;
pub mod model;
pub mod render;

pub use declared::{DeclaredError, DeclaredSchema};
pub use diff::{diff, Change, Diff, DiffError, EnumColumn, ObjectKind};
pub use model::{
    Check, Column, Deferrable, EnumType, ForeignKey, Function, Generated, Identity, Index,
    IndexKey, IndexPart, PartitionOf, PostgresTable, PrimaryKey, ReferentialAction, Schema,
    Sequence, Table, TableOptions, Trigger, Unique, View,
};
pub use render::{render, RenderError, RenderOptions, Rendered};
