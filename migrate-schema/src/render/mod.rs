//! The DDL of a [`Diff`] for one database: the upgrade, and the downgrade that undoes
//! it exactly (the inverse changes, backwards, rendered against the schemas swapped).
//!
//! Statements end in `;`, one after the other on new lines. Identifiers are quoted only
//! when they must be (not plain lower-case letters, digits and `_`, or a keyword), with
//! `"` on PostgreSQL and SQLite and a backtick on MySQL.
//!
//! Destructive changes ([`Change::is_destructive`]) are written commented out under a
//! `-- autogenerate: destructive change, uncomment to apply: ...` line, with a warning,
//! unless [`RenderOptions::allow_destructive`]; so are the changes that only exist
//! because of them (the foreign keys and indexes of a dropped table, the indexes and
//! constraints over a dropped column) and, in the downgrade, their inverses.
//!
//! Per database:
//!
//! - PostgreSQL: `ALTER TABLE ... ALTER COLUMN` (`TYPE ... USING` when the change is
//!   not a proven widening, `SET`/`DROP NOT NULL`, `SET`/`DROP DEFAULT`, `ADD`/`SET`/
//!   `DROP` identity), `ADD`/`DROP CONSTRAINT` (an unnamed constraint is dropped by the
//!   name PostgreSQL gave it: `t_pkey`, `t_a_b_key`, `t_a_fkey`, `t_a_check`),
//!   `CREATE INDEX` with method, `DESC` and `WHERE`, enums (`CREATE TYPE`, `ALTER TYPE
//!   ... ADD VALUE`, and a re-creation through a renamed old type when a label goes or
//!   moves), sequences, views, functions (`CREATE OR REPLACE` for a changed one; `DROP
//!   FUNCTION name(argument types)`), triggers. A check `NOT VALID` is added by `ALTER
//!   TABLE` (`CREATE TABLE` would validate it), and validated with `VALIDATE
//!   CONSTRAINT`. A column's collation is written `COLLATE "C"`, and changed with `ALTER
//!   COLUMN ... TYPE`. A change of generation drops and adds the column.
//! - MySQL and MariaDB: `MODIFY COLUMN` with the whole definition, `ADD`/`DROP INDEX`,
//!   `DROP PRIMARY KEY`, `DROP FOREIGN KEY`, `DROP CONSTRAINT` for checks (MariaDB
//!   10.2+ and MySQL 8.0.19+; MySQL's own `DROP CHECK` is not in MariaDB),
//!   `DROP INDEX x ON t`, `AUTO_INCREMENT` (put on together with the primary key, which
//!   MySQL requires). An unnamed constraint's name is the server's choice
//!   (`t_ibfk_1`, `CONSTRAINT_1`), so it is looked up in `information_schema` and the
//!   drop runs as a prepared statement.
//! - SQLite, whose `ALTER TABLE` only renames tables and columns, adds columns (without
//!   a non-constant default, not `NOT NULL` without a default, not stored generated)
//!   and drops unconstrained ones: any other change to a table rebuilds it as SQLite
//!   documents (create `_migrate_new_t` with the target definition, copy the common
//!   columns, drop `t`, rename, create its indexes). Foreign keys live inside `CREATE
//!   TABLE`. Rebuilding or dropping a table that other tables reference needs
//!   `PRAGMA foreign_keys` off, which cannot change inside a transaction: the script
//!   checks it first and fails otherwise, and checks the foreign keys after the rebuilds.
//!   A rebuilt table's triggers are created again after it.
//!
//! Each database's DDL sits in a file named for it (`postgres.rs`, `mysql.rs`,
//! `sqlite.rs`, and SQLite's table rebuild in `sqlite/rebuild.rs`), behind the hooks of
//! one trait; this file renders a list of changes once for all of them.

mod dialect;
mod mysql;
mod pg_tables;
mod postgres;
mod sqlite;
#[cfg(test)]
mod tests;

use crate::diff::{words, Change, Diff};
use crate::model::{
    Check, Column, Deferrable, ForeignKey, Generated, Index, IndexKey, IndexPart, PrimaryKey,
    ReferentialAction, Schema, Table, TableOptions, Unique, View,
};
#[cfg(test)]
pub(crate) use dialect::needs_quotes;
pub use dialect::DdlDialect;
use dialect::{ColumnForm, Ddl};
use migrate_core::Dialect;
pub use postgres::postgres_object_name;
use std::collections::{HashMap, HashSet};

/// How to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Write destructive changes as statements that run, instead of commented out.
    pub allow_destructive: bool,
}

/// The DDL of a diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Statements that turn `from` into `to`.
    pub upgrade: String,
    /// Statements that turn `to` back into `from`.
    pub downgrade: String,
    /// Destructive changes left commented out, and statements that fail on some data
    /// (a `NOT NULL` column added without a default).
    pub warnings: Vec<String>,
}

/// Why a diff cannot be rendered for a database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The database has no such feature.
    #[error("{dialect} has no {feature}: {object}")]
    Unsupported {
        /// The database.
        dialect: &'static str,
        /// The feature.
        feature: &'static str,
        /// The object that uses it.
        object: String,
    },
    /// An object the catalog describes but gives no statement to create or drop.
    #[error("cannot write a statement to {action} {kind} `{name}`: the database describes it only as `{definition}`; write it by hand")]
    Unwritable {
        /// `create` or `drop`.
        action: &'static str,
        /// The object's kind.
        kind: String,
        /// Its name.
        name: String,
        /// What the catalog says about it.
        definition: String,
    },
    /// A change the database cannot make to an existing table (PostgreSQL: its
    /// partition key, or turning a table into a partition or back).
    #[error("table `{table}`: its {what} cannot be changed in place ({from} -> {to}); write this migration by hand (create the new table, copy the rows, swap the names)")]
    Unalterable {
        /// The table.
        table: String,
        /// What would change.
        what: &'static str,
        /// Before.
        from: String,
        /// After.
        to: String,
    },
    /// The diff names a table the schemas passed with it do not have.
    #[error("the diff changes table `{table}`, which the {side} schema does not have; render a diff with the schemas it was computed from")]
    MissingTable {
        /// The table.
        table: String,
        /// `current` or `target`.
        side: &'static str,
    },
}

/// How `dialect` writes names and values: its quoting, string literals and identifier
/// folding.
pub fn dialect(dialect: Dialect) -> &'static dyn DdlDialect {
    ddl(dialect)
}

/// The renderer's hooks for `dialect`: the one place that picks a database's
/// implementation.
fn ddl(dialect: Dialect) -> &'static dyn Ddl {
    match dialect {
        Dialect::Postgres => &postgres::Postgres,
        Dialect::Mysql => &mysql::Mysql,
        Dialect::Sqlite => &sqlite::Sqlite,
    }
}

/// Renders the upgrade and downgrade DDL of `diff`, computed by
/// [`diff`](crate::diff::diff) from `from` to `to`, for `dialect`.
///
/// # Errors
///
/// A change the database cannot express (an enum or a sequence outside PostgreSQL, a
/// partial index on MySQL, an index method on SQLite...), or a diff that names tables
/// the schemas do not have.
pub fn render(
    diff: &Diff,
    from: &Schema,
    to: &Schema,
    dialect: Dialect,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let ddl = ddl(dialect);
    let changes = &diff.changes;
    let mut reasons = commented_reasons(changes, opts.allow_destructive);
    ddl.group_reasons(changes, &mut reasons);
    let mut warnings = Vec::new();
    for (c, r) in changes.iter().zip(&reasons) {
        if r.is_some() && c.is_destructive() {
            warnings.push(format!(
                "destructive change left commented out in the upgrade and the downgrade: {}; uncomment both to apply it",
                c.describe()
            ));
        }
    }
    let upgrade = Renderer {
        ddl,
        from,
        to,
        downgrade: false,
    }
    .render_list(changes, &reasons, &mut warnings)?;
    let inverse: Vec<Change> = changes.iter().rev().map(Change::inverse).collect();
    let inverse_reasons: Vec<Option<String>> = reasons.iter().rev().cloned().collect();
    let downgrade = Renderer {
        ddl,
        from: to,
        to: from,
        downgrade: true,
    }
    .render_list(&inverse, &inverse_reasons, &mut warnings)?;
    Ok(Rendered {
        upgrade,
        downgrade,
        warnings,
    })
}
/// For each change, the description of the destructive change that keeps it commented
/// out: its own, or that of the dropped table or column it only exists for.
fn commented_reasons(changes: &[Change], allow: bool) -> Vec<Option<String>> {
    let mut reasons: Vec<Option<String>> = vec![None; changes.len()];
    if allow {
        return reasons;
    }
    for (i, c) in changes.iter().enumerate() {
        if c.is_destructive() {
            reasons[i] = Some(c.describe());
        }
    }
    for (j, c) in changes.iter().enumerate() {
        let Some(reason) = reasons[j].clone() else {
            continue;
        };
        match c {
            Change::DropTable(t) => {
                for (i, d) in changes.iter().enumerate() {
                    if matches!(d, Change::DropIndex { table, .. } | Change::DropForeignKey { table, .. } if *table == t.name)
                    {
                        reasons[i] = Some(reason.clone());
                    }
                }
            }
            Change::DropColumn { table, column } => {
                for (i, d) in changes.iter().enumerate() {
                    if d.table() == Some(table.as_str()) && drop_involves(d, &column.name) {
                        reasons[i] = Some(reason.clone());
                    }
                }
            }
            _ => {}
        }
    }
    reasons
}

/// Whether a dropped key, index or constraint covers column `col`.
fn drop_involves(c: &Change, col: &str) -> bool {
    let has = |cols: &[String]| cols.iter().any(|c| c == col);
    match c {
        Change::DropIndex { index, .. } => index_mentions(index, col),
        Change::DropUnique { unique, .. } => has(&unique.columns),
        Change::DropPrimaryKey { primary_key, .. } => has(&primary_key.columns),
        Change::DropForeignKey { foreign_key, .. } => has(&foreign_key.columns),
        Change::DropCheck { check, .. } => words(&check.expression).contains(&col.to_lowercase()),
        _ => false,
    }
}

fn index_mentions(ix: &Index, col: &str) -> bool {
    ix.parts.iter().any(|p| match &p.key {
        IndexKey::Column(c) => c == col,
        IndexKey::Expression(e) => words(e).contains(&col.to_lowercase()),
    }) || ix
        .predicate
        .as_ref()
        .is_some_and(|p| words(p).contains(&col.to_lowercase()))
}

/// Statements of one or more changes, with comment lines above them; commented out as
/// a whole when `reasons` is not empty.
pub(crate) struct Block {
    pub(crate) reasons: Vec<String>,
    pub(crate) comments: Vec<String>,
    pub(crate) statements: Vec<String>,
}

impl Block {
    pub(crate) fn new(reason: &Option<String>, statements: Vec<String>) -> Block {
        Block {
            reasons: reason.iter().cloned().collect(),
            comments: Vec::new(),
            statements,
        }
    }
}

/// What a list of changes does to table names: renames, created and dropped tables.
pub(crate) struct ListInfo {
    /// Old name to new name.
    pub(crate) renames: HashMap<String, String>,
    /// Index of the last table rename: changes before it use old names.
    last_rename: Option<usize>,
    /// Created tables (new names).
    pub(crate) created: HashSet<String>,
    /// Dropped tables (old names).
    pub(crate) dropped: HashSet<String>,
}

impl ListInfo {
    pub(crate) fn new(changes: &[Change]) -> ListInfo {
        let mut info = ListInfo {
            renames: HashMap::new(),
            last_rename: None,
            created: HashSet::new(),
            dropped: HashSet::new(),
        };
        for (i, c) in changes.iter().enumerate() {
            match c {
                Change::RenameTable { from, to } => {
                    info.renames.insert(from.clone(), to.clone());
                    info.last_rename = Some(i);
                }
                Change::CreateTable(t) => {
                    info.created.insert(t.name.clone());
                }
                Change::DropTable(t) => {
                    info.dropped.insert(t.name.clone());
                }
                _ => {}
            }
        }
        info
    }

    /// The final name of a table named `name` by change `i`.
    pub(crate) fn target(&self, i: usize, name: &str) -> String {
        match self.last_rename {
            Some(last) if i < last => self
                .renames
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string()),
            _ => name.to_string(),
        }
    }

    /// The original name of a table whose final name is `name`.
    pub(crate) fn source(&self, name: &str) -> String {
        self.renames
            .iter()
            .find(|(_, to)| *to == name)
            .map_or_else(|| name.to_string(), |(from, _)| from.clone())
    }
}

/// Where a change sits in the list being rendered.
pub(crate) struct Step<'c> {
    /// Its position.
    pub(crate) i: usize,
    /// The whole list.
    pub(crate) changes: &'c [Change],
    /// What the list does to table names.
    pub(crate) info: &'c ListInfo,
}

impl Step<'_> {
    /// Whether the list adds a primary key to `table` (MySQL puts `AUTO_INCREMENT` on
    /// with it).
    pub(crate) fn key_added(&self, table: &str) -> bool {
        self.changes
            .iter()
            .any(|d| matches!(d, Change::AddPrimaryKey { table: t, .. } if t == table))
    }
}

/// Renders one list of changes (the upgrade's, or the downgrade's inverse ones).
pub(crate) struct Renderer<'a> {
    ddl: &'static dyn Ddl,
    /// The schema before the changes of the list being rendered.
    pub(crate) from: &'a Schema,
    /// The schema after.
    pub(crate) to: &'a Schema,
    pub(crate) downgrade: bool,
}

impl Renderer<'_> {
    pub(crate) fn unsupported(
        &self,
        feature: &'static str,
        object: impl Into<String>,
    ) -> RenderError {
        RenderError::Unsupported {
            dialect: self.ddl.name(),
            feature,
            object: object.into(),
        }
    }

    /// An identifier, quoted when it must be.
    pub(crate) fn q(&self, name: &str) -> String {
        self.ddl.identifier(name)
    }

    pub(crate) fn qs(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.q(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A string literal.
    pub(crate) fn lit(&self, s: &str) -> String {
        self.ddl.string_literal(s)
    }

    /// A collation's name, always quoted (PostgreSQL's names are case-sensitive: `"C"`).
    pub(crate) fn collation(&self, name: &str) -> String {
        self.ddl.quote_identifier(name)
    }

    fn render_list(
        &self,
        changes: &[Change],
        reasons: &[Option<String>],
        warnings: &mut Vec<String>,
    ) -> Result<String, RenderError> {
        let info = ListInfo::new(changes);
        let blocks = self.ddl.blocks(self, changes, reasons, &info, warnings)?;
        Ok(self.assemble(&blocks))
    }

    /// One block per change, with its note.
    pub(crate) fn blocks_one_by_one(
        &self,
        changes: &[Change],
        reasons: &[Option<String>],
        info: &ListInfo,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Block>, RenderError> {
        let mut blocks = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            // A dropped table takes its indexes along.
            if let Change::DropIndex { table, .. } = c {
                if info.dropped.contains(table) {
                    continue;
                }
            }
            let step = Step { i, changes, info };
            let mut block = Block::new(&reasons[i], self.statements(&step, c, warnings)?);
            if let Some(note) = self.ddl.note(c) {
                block.comments.push(note);
            }
            blocks.push(block);
        }
        Ok(blocks)
    }

    fn assemble(&self, blocks: &[Block]) -> String {
        let mut out = String::new();
        let mut last_header = String::new();
        for b in blocks {
            if b.statements.is_empty() {
                continue;
            }
            if b.reasons.is_empty() {
                last_header.clear();
                for c in &b.comments {
                    out.push_str(&format!("-- {c}\n"));
                }
                for s in &b.statements {
                    out.push_str(s);
                    out.push_str(";\n");
                }
            } else {
                let header = self.commented_header(&b.reasons);
                if header != last_header {
                    out.push_str(&header);
                    out.push('\n');
                    last_header = header;
                }
                for c in &b.comments {
                    out.push_str(&format!("-- -- {c}\n"));
                }
                for s in &b.statements {
                    for line in format!("{s};").lines() {
                        out.push_str("-- ");
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }

    /// The line above statements left commented out.
    fn commented_header(&self, reasons: &[String]) -> String {
        if self.downgrade {
            format!(
                "-- autogenerate: commented out with the upgrade's destructive change: {}",
                reasons.join("; ")
            )
        } else {
            format!(
                "-- autogenerate: destructive change, uncomment to apply: {}",
                reasons.join("; ")
            )
        }
    }

    // -----------------------------------------------------------------------------
    // Definitions

    /// A column definition. `autoincrement_key` is SQLite's `INTEGER PRIMARY KEY
    /// AUTOINCREMENT`, which must be written on the column; `auto_increment: false`
    /// leaves MySQL's `AUTO_INCREMENT` out (added with the key).
    pub(crate) fn column_def(
        &self,
        table: &str,
        c: &Column,
        autoincrement_key: bool,
        auto_increment: bool,
    ) -> Result<String, RenderError> {
        let mut s = self.q(&c.name);
        let serial = self.ddl.serial_type(self, c);
        if let Some(serial) = serial {
            s.push(' ');
            s.push_str(serial);
        } else if !c.data_type.is_empty() {
            s.push(' ');
            s.push_str(&c.data_type);
        }
        if let Some(collation) = &c.collation {
            s.push_str(&format!(" COLLATE {}", self.collation(collation)));
        }
        let form = ColumnForm {
            autoincrement_key,
            auto_increment,
            serial: serial.is_some(),
        };
        s.push_str(&self.ddl.column_options(self, table, c, form)?);
        Ok(s)
    }

    /// A column default after `DEFAULT`, as the database wants it written.
    pub(crate) fn default_sql(&self, d: &str) -> String {
        self.ddl.default_sql(d)
    }

    /// `ALTER TABLE ... ADD` of a check, with `NOT VALID` when it is not validated
    /// (where the database has it).
    pub(crate) fn add_check(&self, table: &str, check: &Check) -> Result<String, RenderError> {
        let mut s = self.alter(table, format!("ADD {}", self.check_clause(check)));
        if check.not_valid {
            if !self.ddl.not_valid_checks() {
                return Err(self.unsupported(
                    "NOT VALID checks",
                    format!("{table} ({})", check.expression),
                ));
            }
            s.push_str(" NOT VALID");
        }
        Ok(s)
    }

    fn constraint_name(&self, name: &Option<String>) -> String {
        name.as_ref()
            .map(|n| format!("CONSTRAINT {} ", self.q(n)))
            .unwrap_or_default()
    }

    pub(crate) fn primary_key_clause(&self, k: &PrimaryKey) -> String {
        format!(
            "{}PRIMARY KEY ({})",
            self.constraint_name(&k.name),
            self.qs(&k.columns)
        )
    }

    fn unique_clause(&self, u: &Unique) -> String {
        format!(
            "{}UNIQUE ({})",
            self.constraint_name(&u.name),
            self.qs(&u.columns)
        )
    }

    fn check_clause(&self, c: &Check) -> String {
        format!("{}CHECK ({})", self.constraint_name(&c.name), c.expression)
    }

    fn foreign_key_clause(&self, table: &str, k: &ForeignKey) -> Result<String, RenderError> {
        let mut s = format!(
            "{}FOREIGN KEY ({}) REFERENCES {} ({})",
            self.constraint_name(&k.name),
            self.qs(&k.columns),
            self.q(&k.referenced_table),
            self.qs(&k.referenced_columns)
        );
        if k.on_delete != ReferentialAction::NoAction {
            s.push_str(&format!(" ON DELETE {}", k.on_delete.sql()));
        }
        if k.on_update != ReferentialAction::NoAction {
            s.push_str(&format!(" ON UPDATE {}", k.on_update.sql()));
        }
        if k.deferrable != Deferrable::NotDeferrable && !self.ddl.deferrable_foreign_keys() {
            return Err(self.unsupported(
                "deferrable foreign keys",
                format!("{table} ({})", k.columns.join(", ")),
            ));
        }
        match k.deferrable {
            Deferrable::NotDeferrable => {}
            Deferrable::InitiallyImmediate => s.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
            Deferrable::InitiallyDeferred => s.push_str(" DEFERRABLE INITIALLY DEFERRED"),
        }
        Ok(s)
    }

    pub(crate) fn create_table(
        &self,
        name: &str,
        t: &Table,
        foreign_keys: &[&ForeignKey],
    ) -> Result<String, RenderError> {
        let autoincrement_key = self.ddl.autoincrement_key(t);
        let mut lines = Vec::new();
        for c in &t.columns {
            lines.push(self.column_def(
                &t.name,
                c,
                autoincrement_key.as_deref() == Some(c.name.as_str()),
                true,
            )?);
        }
        if let Some(k) = &t.primary_key {
            if autoincrement_key.is_none() {
                lines.push(self.primary_key_clause(k));
            }
        }
        for u in &t.uniques {
            lines.push(self.unique_clause(u));
        }
        for c in &t.checks {
            // PostgreSQL validates a check of CREATE TABLE whatever it says: a NOT VALID
            // one is added after (`statements`).
            if c.not_valid && self.ddl.not_valid_checks() {
                continue;
            }
            if c.not_valid {
                return Err(
                    self.unsupported("NOT VALID checks", format!("{} ({})", t.name, c.expression))
                );
            }
            lines.push(self.check_clause(c));
        }
        for k in foreign_keys {
            lines.push(self.foreign_key_clause(&t.name, k)?);
        }
        let options = TableOptions::of(t);
        if options != TableOptions::default() && !self.ddl.table_options() {
            return Err(self.unsupported("STRICT and WITHOUT ROWID tables", t.name.clone()));
        }
        let created = pg_tables::create_table(self, name, t, &lines)?;
        Ok(match options.sql() {
            s if s.is_empty() => created,
            s => format!("{created} {s}"),
        })
    }

    pub(crate) fn index_parts(&self, parts: &[IndexPart]) -> String {
        parts
            .iter()
            .map(|p| {
                let mut key = match &p.key {
                    IndexKey::Column(c) => self.q(c),
                    IndexKey::Expression(e) => self.ddl.index_expression(e),
                };
                if let Some(n) = p.length {
                    key.push_str(&format!("({n})"));
                }
                if let Some(c) = &p.collation {
                    key.push_str(&format!(" COLLATE {}", self.collation(c)));
                }
                if let Some(o) = &p.opclass {
                    key.push_str(&format!(" {}", self.q(o)));
                }
                if p.descending {
                    key.push_str(" DESC");
                }
                match p.nulls_first {
                    Some(true) => key.push_str(" NULLS FIRST"),
                    Some(false) => key.push_str(" NULLS LAST"),
                    None => {}
                }
                key
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn create_index(&self, table: &str, ix: &Index) -> Result<String, RenderError> {
        if !self.ddl.postgres_options() {
            if let Some(feature) = pg_tables::postgres_index_feature(ix) {
                return Err(self.unsupported(feature, format!("index {} on {table}", ix.name)));
            }
        }
        self.ddl.create_index(self, table, ix)
    }

    pub(crate) fn view_sql(&self, v: &View) -> String {
        let def = v.definition.trim().trim_end_matches(';').trim_end();
        format!("CREATE VIEW {} AS {def}", self.q(&v.name))
    }

    pub(crate) fn alter(&self, table: &str, action: impl AsRef<str>) -> String {
        format!("ALTER TABLE {} {}", self.q(table), action.as_ref())
    }

    // -----------------------------------------------------------------------------
    // Statements

    /// The statements of one change (all of them on PostgreSQL and MySQL; on SQLite
    /// those its `ALTER TABLE` makes).
    pub(crate) fn statements(
        &self,
        step: &Step<'_>,
        c: &Change,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, RenderError> {
        match c {
            Change::CreateTable(_)
            | Change::DropTable(_)
            | Change::RenameTable { .. }
            | Change::RenameColumn { .. }
            | Change::AddColumn { .. }
            | Change::DropColumn { .. }
            | Change::AlterColumn { .. } => self.table_statements(step, c, warnings),
            Change::AlterPostgresTable { table, from, to } => {
                pg_tables::alter_table(self, table, from, to)
            }
            Change::AddPrimaryKey { .. }
            | Change::DropPrimaryKey { .. }
            | Change::AddUnique { .. }
            | Change::DropUnique { .. }
            | Change::AddCheck { .. }
            | Change::AlterCheck { .. }
            | Change::DropCheck { .. }
            | Change::CreateIndex { .. }
            | Change::DropIndex { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. } => self.key_statements(c),
            // Made by a rebuild where the database has these options.
            Change::AlterTableOptions { table, .. } => {
                Err(self.unsupported("STRICT and WITHOUT ROWID tables", table.clone()))
            }
            Change::CreateObject(o) | Change::DropObject(o) => {
                let create = matches!(c, Change::CreateObject(_));
                let statements = if create { &o.create } else { &o.drop };
                let Some(statements) = statements else {
                    return Err(RenderError::Unwritable {
                        action: if create { "create" } else { "drop" },
                        kind: o.kind.clone(),
                        name: o.name.clone(),
                        definition: o.definition.clone(),
                    });
                };
                if !o.modelled {
                    warnings.push(format!(
                        "{}: {} {} is written as the database's catalog prints it; review it",
                        if self.downgrade {
                            "downgrade"
                        } else {
                            "upgrade"
                        },
                        o.kind,
                        o.name
                    ));
                }
                Ok(statements.clone())
            }
            _ => self.object_statements(c),
        }
    }

    /// Tables and columns.
    fn table_statements(
        &self,
        step: &Step<'_>,
        c: &Change,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, RenderError> {
        Ok(match c {
            Change::CreateTable(t) => self.create_table_statements(step, t)?,
            Change::DropTable(t) => vec![format!("DROP TABLE {}", self.q(&t.name))],
            Change::RenameTable { from, to } => {
                vec![self.alter(from, format!("RENAME TO {}", self.q(to)))]
            }
            Change::RenameColumn { table, from, to } => vec![self.alter(
                table,
                format!("RENAME COLUMN {} TO {}", self.q(from), self.q(to)),
            )],
            Change::AddColumn { table, column } => {
                self.warn_not_null(table, column, warnings);
                vec![self.ddl.add_column(self, step, table, column)?]
            }
            Change::DropColumn { table, column } => {
                vec![self.alter(table, format!("DROP COLUMN {}", self.q(&column.name)))]
            }
            Change::AlterColumn { table, from, to } if from.generated != to.generated => {
                // Neither database changes a generation in place (PostgreSQL 15 has no
                // SET EXPRESSION; MySQL cannot switch STORED and VIRTUAL): the column is
                // dropped and added, its keys re-created around it by the diff.
                vec![
                    self.alter(table, format!("DROP COLUMN {}", self.q(&from.name))),
                    self.alter(
                        table,
                        format!("ADD COLUMN {}", self.column_def(table, to, false, true)?),
                    ),
                ]
            }
            Change::AlterColumn { table, from, to } => {
                self.ddl.alter_column(self, step, table, from, to)?
            }
            _ => Vec::new(),
        })
    }

    /// `CREATE TABLE`, and the `NOT VALID` checks that follow it.
    fn create_table_statements(
        &self,
        step: &Step<'_>,
        t: &Table,
    ) -> Result<Vec<String>, RenderError> {
        // Foreign keys inside CREATE TABLE (SQLite), or following as ALTERs.
        let fks: Vec<&ForeignKey> = if self.ddl.foreign_keys_in_create_table() {
            step.changes
                .iter()
                .filter_map(|d| match d {
                    Change::AddForeignKey { table, foreign_key } if *table == t.name => {
                        Some(foreign_key)
                    }
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut out = vec![self.create_table(&t.name, t, &fks)?];
        for c in t.checks.iter().filter(|c| c.not_valid) {
            out.push(self.add_check(&t.name, c)?);
        }
        Ok(out)
    }

    /// Keys, constraints and indexes.
    fn key_statements(&self, c: &Change) -> Result<Vec<String>, RenderError> {
        let ddl = self.ddl;
        Ok(match c {
            Change::AddPrimaryKey { table, primary_key } => {
                vec![ddl.add_primary_key(self, table, primary_key)?]
            }
            Change::DropPrimaryKey { table, primary_key } => {
                ddl.drop_primary_key(self, table, primary_key)?
            }
            Change::AddUnique { table, unique } => {
                vec![self.alter(table, format!("ADD {}", self.unique_clause(unique)))]
            }
            Change::DropUnique { table, unique } => ddl.drop_unique(self, table, unique),
            Change::AddCheck { table, check } => vec![self.add_check(table, check)?],
            Change::AlterCheck { table, from, to } => ddl.alter_check(self, table, from, to)?,
            Change::DropCheck { table, check } => ddl.drop_check(self, table, check)?,
            Change::CreateIndex { table, index } => vec![self.create_index(table, index)?],
            Change::DropIndex { table, index } => vec![ddl.drop_index(self, table, index)],
            Change::AddForeignKey { table, foreign_key } => vec![self.alter(
                table,
                format!("ADD {}", self.foreign_key_clause(table, foreign_key)?),
            )],
            Change::DropForeignKey { table, foreign_key } => {
                ddl.drop_foreign_key(self, table, foreign_key)
            }
            _ => Vec::new(),
        })
    }

    /// Views, types, sequences, functions and triggers.
    fn object_statements(&self, c: &Change) -> Result<Vec<String>, RenderError> {
        let ddl = self.ddl;
        Ok(match c {
            Change::CreateView(v) => vec![self.view_sql(v)],
            Change::DropView(v) => vec![format!("DROP VIEW {}", self.q(&v.name))],
            Change::CreateEnum(e) => ddl.create_enum(self, e)?,
            Change::DropEnum(e) => ddl.drop_enum(self, e)?,
            Change::AlterEnum { from, to, columns } => ddl.alter_enum(self, from, to, columns)?,
            Change::CreateSequence(s) => vec![ddl.create_sequence(self, s)?],
            Change::DropSequence(s) => vec![ddl.drop_sequence(self, s)?],
            Change::AlterSequence { to, .. } => vec![ddl.alter_sequence(self, to)?],
            Change::CreateFunction(f) | Change::ReplaceFunction { to: f, .. } => {
                vec![ddl.create_function(self, f)?]
            }
            Change::DropFunction(f) => vec![ddl.drop_function(self, f)?],
            Change::CreateTrigger(t) => {
                vec![t
                    .definition
                    .trim()
                    .trim_end_matches(';')
                    .trim_end()
                    .to_string()]
            }
            Change::DropTrigger(t) => vec![ddl.drop_trigger(self, t)],
            _ => Vec::new(),
        })
    }

    pub(crate) fn warn_not_null(&self, table: &str, c: &Column, warnings: &mut Vec<String>) {
        if !c.nullable && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
            warnings.push(format!(
                "{}: column {table}.{} is added NOT NULL without a default, which fails if the table has rows",
                if self.downgrade { "downgrade" } else { "upgrade" },
                c.name
            ));
        }
    }
}

/// ` GENERATED ALWAYS AS (...) STORED|VIRTUAL`, as PostgreSQL, MySQL and SQLite write
/// it.
pub(crate) fn generated(g: &Generated) -> String {
    format!(
        " GENERATED ALWAYS AS ({}) {}",
        g.expression,
        if g.stored { "STORED" } else { "VIRTUAL" }
    )
}

/// A literal: a number, a string, NULL, TRUE/FALSE, a blob or bit literal.
pub(crate) fn is_literal(d: &str) -> bool {
    let d = d.trim();
    if d.is_empty() {
        return false;
    }
    let lower = d.to_ascii_lowercase();
    if matches!(lower.as_str(), "null" | "true" | "false") {
        return true;
    }
    let quoted = |s: &str| {
        s.len() >= 2
            && s.starts_with('\'')
            && s.ends_with('\'')
            && !s[1..s.len() - 1].replace("''", "").contains('\'')
    };
    if quoted(d) {
        return true;
    }
    if (lower.starts_with("x'") || lower.starts_with("b'")) && quoted(&d[1..]) {
        return true;
    }
    let n = d.strip_prefix(['-', '+']).unwrap_or(d);
    !n.is_empty()
        && n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && n.parse::<f64>().is_ok()
}
