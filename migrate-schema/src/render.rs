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

use crate::diff::{added_labels, words, Change, Diff, EnumColumn};
use crate::model::{
    Check, Column, Deferrable, ForeignKey, Function, Identity, Index, IndexKey, IndexPart,
    PrimaryKey, ReferentialAction, Schema, Sequence, Table, Unique, View,
};
use migrate_core::sql::plain_identifier_problem;
use migrate_core::Dialect;
use std::collections::{BTreeSet, HashMap, HashSet};

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
    /// The diff names a table the schemas passed with it do not have.
    #[error("the diff changes table `{table}`, which the {side} schema does not have; render a diff with the schemas it was computed from")]
    MissingTable {
        /// The table.
        table: String,
        /// `current` or `target`.
        side: &'static str,
    },
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
    let changes = &diff.changes;
    let mut reasons = commented_reasons(changes, opts.allow_destructive);
    if dialect == Dialect::Sqlite {
        sqlite_group_reasons(changes, &mut reasons);
    }
    let mut warnings = Vec::new();
    for (c, r) in changes.iter().zip(&reasons) {
        if r.is_some() && c.is_destructive() {
            warnings.push(format!(
                "destructive change left commented out in the upgrade and the downgrade: {}; uncomment both to apply it",
                c.describe()
            ));
        }
    }
    let dialect = match dialect {
        Dialect::Postgres => Db::Postgres,
        Dialect::Sqlite => Db::Sqlite,
        Dialect::Mysql => Db::Mysql,
    };
    let upgrade = Renderer {
        dialect,
        from,
        to,
        downgrade: false,
    }
    .render_list(changes, &reasons, &mut warnings)?;
    let inverse: Vec<Change> = changes.iter().rev().map(Change::inverse).collect();
    let inverse_reasons: Vec<Option<String>> = reasons.iter().rev().cloned().collect();
    let downgrade = Renderer {
        dialect,
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

/// The tables SQLite must rebuild to apply `changes` (by their final names): those with a
/// change its `ALTER TABLE` cannot make.
fn sqlite_rebuilds(changes: &[Change], info: &ListInfo) -> BTreeSet<String> {
    let mut rebuild = BTreeSet::new();
    for (i, c) in changes.iter().enumerate() {
        let Some(table) = c.table() else { continue };
        let target = info.target(i, table);
        let existing = !info.created.contains(&target) && !info.dropped.contains(table);
        let needs = match c {
            Change::AlterColumn { .. }
            | Change::AddPrimaryKey { .. }
            | Change::DropPrimaryKey { .. }
            | Change::AddUnique { .. }
            | Change::DropUnique { .. }
            | Change::AddCheck { .. }
            | Change::DropCheck { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. } => existing,
            Change::AddColumn { column, .. } => existing && !Renderer::sqlite_simple_add(column),
            _ => false,
        };
        if needs {
            rebuild.insert(target);
        }
    }
    rebuild
}

/// SQLite rebuilds a table as a whole: when one of its changes stays commented out, in
/// the upgrade or the downgrade, all of them do (renames aside, which run alone), so
/// that each direction undoes exactly what the other did.
fn sqlite_group_reasons(changes: &[Change], reasons: &mut [Option<String>]) {
    let up = ListInfo::new(changes);
    let inverse: Vec<Change> = changes.iter().rev().map(Change::inverse).collect();
    let down = ListInfo::new(&inverse);
    // Tables by their name after the upgrade.
    let mut tables = sqlite_rebuilds(changes, &up);
    for t in sqlite_rebuilds(&inverse, &down) {
        tables.insert(up.renames.get(&t).cloned().unwrap_or(t));
    }
    let renaming =
        |c: &Change| matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. });
    for t in tables {
        let on_t: Vec<usize> = (0..changes.len())
            .filter(|&i| !renaming(&changes[i]))
            .filter(|&i| changes[i].table().is_some_and(|n| up.target(i, n) == t))
            .collect();
        if let Some(reason) = on_t.iter().find_map(|&i| reasons[i].clone()) {
            for i in on_t {
                reasons[i].get_or_insert_with(|| reason.clone());
            }
        }
    }
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
struct Block {
    reasons: Vec<String>,
    comments: Vec<String>,
    statements: Vec<String>,
}

impl Block {
    fn new(reason: &Option<String>, statements: Vec<String>) -> Block {
        Block {
            reasons: reason.iter().cloned().collect(),
            comments: Vec::new(),
            statements,
        }
    }
}

/// What a list of changes does to table names: renames, created and dropped tables.
struct ListInfo {
    /// Old name to new name.
    renames: HashMap<String, String>,
    /// Index of the last table rename: changes before it use old names.
    last_rename: Option<usize>,
    /// Created tables (new names).
    created: HashSet<String>,
    /// Dropped tables (old names).
    dropped: HashSet<String>,
}

impl ListInfo {
    fn new(changes: &[Change]) -> ListInfo {
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
    fn target(&self, i: usize, name: &str) -> String {
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
    fn source(&self, name: &str) -> String {
        self.renames
            .iter()
            .find(|(_, to)| *to == name)
            .map_or_else(|| name.to_string(), |(from, _)| from.clone())
    }
}

/// The databases rendered for ([`Dialect`] may grow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Postgres,
    Sqlite,
    Mysql,
}

struct Renderer<'a> {
    dialect: Db,
    /// The schema before the changes of the list being rendered.
    from: &'a Schema,
    /// The schema after.
    to: &'a Schema,
    downgrade: bool,
}

impl Renderer<'_> {
    fn dialect_name(&self) -> &'static str {
        match self.dialect {
            Db::Postgres => "PostgreSQL",
            Db::Sqlite => "SQLite",
            Db::Mysql => "MySQL",
        }
    }

    fn unsupported(&self, feature: &'static str, object: impl Into<String>) -> RenderError {
        RenderError::Unsupported {
            dialect: self.dialect_name(),
            feature,
            object: object.into(),
        }
    }

    /// An identifier, quoted when it must be.
    fn q(&self, name: &str) -> String {
        if !needs_quotes(name) {
            return name.to_string();
        }
        match self.dialect {
            Db::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    fn qs(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.q(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A string literal.
    fn lit(&self, s: &str) -> String {
        let s = s.replace('\'', "''");
        match self.dialect {
            // MySQL reads backslash escapes in literals (unless NO_BACKSLASH_ESCAPES).
            Db::Mysql => format!("'{}'", s.replace('\\', "\\\\")),
            _ => format!("'{s}'"),
        }
    }

    fn render_list(
        &self,
        changes: &[Change],
        reasons: &[Option<String>],
        warnings: &mut Vec<String>,
    ) -> Result<String, RenderError> {
        let info = ListInfo::new(changes);
        let blocks = match self.dialect {
            Db::Sqlite => self.sqlite_blocks(changes, reasons, &info, warnings)?,
            _ => {
                let mut blocks = Vec::new();
                for (i, c) in changes.iter().enumerate() {
                    // A dropped table takes its indexes along.
                    if let Change::DropIndex { table, .. } = c {
                        if info.dropped.contains(table) {
                            continue;
                        }
                    }
                    let mut block = Block::new(
                        &reasons[i],
                        self.statements(i, c, changes, &info, warnings)?,
                    );
                    if let Some(note) = self.note(c) {
                        block.comments.push(note);
                    }
                    blocks.push(block);
                }
                blocks
            }
        };
        Ok(self.assemble(&blocks))
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
                let header = if self.downgrade {
                    format!(
                        "-- autogenerate: commented out with the upgrade's destructive change: {}",
                        b.reasons.join("; ")
                    )
                } else {
                    format!(
                        "-- autogenerate: destructive change, uncomment to apply: {}",
                        b.reasons.join("; ")
                    )
                };
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

    /// A comment line explaining a statement that needs one.
    fn note(&self, c: &Change) -> Option<String> {
        match (self.dialect, c) {
            (Db::Mysql, Change::DropForeignKey { foreign_key: k, .. }) if k.name.is_none() => {
                Some("the server named this foreign key: look its name up".into())
            }
            (Db::Mysql, Change::DropUnique { unique: u, .. }) if u.name.is_none() => {
                Some("the server named this unique key: look its name up".into())
            }
            (Db::Mysql, Change::DropCheck { check: k, .. }) if k.name.is_none() => {
                Some("the server named this check: look its name up".into())
            }
            (Db::Postgres, Change::AlterEnum { from, to, .. })
                if added_labels(from, to).is_some() =>
            {
                Some("a label added here cannot be used before the transaction commits".into())
            }
            _ => None,
        }
    }

    // -----------------------------------------------------------------------------
    // Definitions

    fn default_sql(&self, d: &str) -> String {
        match self.dialect {
            Db::Postgres => d.to_string(),
            // SQLite reports `DEFAULT (expr)` without its parentheses, which an
            // expression needs back; a literal reads the same either way.
            Db::Sqlite => {
                if is_literal(d) || is_current_keyword(d) {
                    d.to_string()
                } else {
                    format!("({d})")
                }
            }
            // MySQL 8 wants an expression default in parentheses, except
            // CURRENT_TIMESTAMP; MariaDB takes both.
            Db::Mysql => {
                let lower = d.to_ascii_lowercase();
                if is_literal(d)
                    || lower.starts_with("current_timestamp")
                    || lower.starts_with("now(")
                    || lower.starts_with("localtimestamp")
                {
                    d.to_string()
                } else {
                    format!("({d})")
                }
            }
        }
    }

    /// A column definition. `autoincrement_key` is SQLite's `INTEGER PRIMARY KEY
    /// AUTOINCREMENT`, which must be written on the column; `auto_increment: false`
    /// leaves MySQL's `AUTO_INCREMENT` out (added with the key).
    fn column_def(
        &self,
        table: &str,
        c: &Column,
        autoincrement_key: bool,
        auto_increment: bool,
    ) -> Result<String, RenderError> {
        let mut s = self.q(&c.name);
        let serial = self.serial_type(c);
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
        let object = || format!("{table}.{}", c.name);
        let generated = |g: &crate::model::Generated| {
            format!(
                " GENERATED ALWAYS AS ({}) {}",
                g.expression,
                if g.stored { "STORED" } else { "VIRTUAL" }
            )
        };
        match self.dialect {
            Db::Postgres => {
                if let Some(g) = &c.generated {
                    s.push_str(&generated(g));
                }
                match c.identity {
                    Some(Identity::Always) => s.push_str(" GENERATED ALWAYS AS IDENTITY"),
                    Some(Identity::ByDefault) => s.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                    Some(Identity::AutoIncrement) => {
                        return Err(
                            self.unsupported("AUTO_INCREMENT (use an identity column)", object())
                        )
                    }
                    None => {}
                }
                if !c.nullable {
                    s.push_str(" NOT NULL");
                }
                if let (Some(d), None) = (&c.default, serial) {
                    s.push_str(&format!(" DEFAULT {}", self.default_sql(d)));
                }
            }
            Db::Mysql => {
                if let Some(g) = &c.generated {
                    s.push_str(&generated(g));
                    // MariaDB refuses NULL / NOT NULL on generated columns unless NOT NULL
                    // is wanted (MySQL only).
                    if !c.nullable {
                        s.push_str(" NOT NULL");
                    }
                } else {
                    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
                    if let Some(d) = &c.default {
                        s.push_str(&format!(" DEFAULT {}", self.default_sql(d)));
                    }
                }
                match c.identity {
                    Some(Identity::AutoIncrement) if auto_increment => {
                        s.push_str(" AUTO_INCREMENT")
                    }
                    Some(Identity::AutoIncrement) => {}
                    Some(_) => {
                        return Err(
                            self.unsupported("identity columns (use AUTO_INCREMENT)", object())
                        )
                    }
                    None => {}
                }
            }
            Db::Sqlite => {
                match c.identity {
                    Some(Identity::AutoIncrement) if autoincrement_key => {
                        s.push_str(" PRIMARY KEY AUTOINCREMENT")
                    }
                    Some(Identity::AutoIncrement) => {
                        return Err(self.unsupported(
                            "AUTOINCREMENT outside a one-column INTEGER PRIMARY KEY",
                            object(),
                        ))
                    }
                    Some(_) => return Err(self.unsupported("identity columns", object())),
                    None => {}
                }
                if !c.nullable {
                    s.push_str(" NOT NULL");
                }
                if let Some(d) = &c.default {
                    s.push_str(&format!(" DEFAULT {}", self.default_sql(d)));
                }
                if let Some(g) = &c.generated {
                    s.push_str(&generated(g));
                }
            }
        }
        Ok(s)
    }

    /// PostgreSQL's `serial` for a column numbered by a sequence that no schema lists
    /// (introspection leaves out the sequences columns own): the column then creates
    /// its own, `<table>_<column>_seq`, as it was.
    fn serial_type(&self, c: &Column) -> Option<&'static str> {
        if self.dialect != Db::Postgres {
            return None;
        }
        let d = c.default.as_deref()?.trim();
        let inner = d.strip_prefix("nextval('")?.strip_suffix("'::regclass)")?;
        let seq = inner.rsplit('.').next().unwrap_or(inner).trim_matches('"');
        if self.to.sequences.contains_key(seq) || self.from.sequences.contains_key(seq) {
            return None;
        }
        match c.data_type.as_str() {
            "integer" => Some("serial"),
            "bigint" => Some("bigserial"),
            "smallint" => Some("smallserial"),
            _ => None,
        }
    }

    /// A collation's name, always quoted (PostgreSQL's names are case-sensitive: `"C"`).
    fn collation(&self, name: &str) -> String {
        match self.dialect {
            Db::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// `ALTER TABLE ... ADD` of a check, with `NOT VALID` when it is not validated
    /// (PostgreSQL only).
    fn add_check(&self, table: &str, check: &Check) -> Result<String, RenderError> {
        let mut s = self.alter(table, format!("ADD {}", self.check_clause(check)));
        if check.not_valid {
            if self.dialect != Db::Postgres {
                return Err(self.unsupported(
                    "NOT VALID checks",
                    format!("{table} ({})", check.expression),
                ));
            }
            s.push_str(" NOT VALID");
        }
        Ok(s)
    }

    /// A function's `CREATE OR REPLACE` statement.
    fn function_sql(&self, f: &Function) -> Result<String, RenderError> {
        if self.dialect != Db::Postgres {
            return Err(self.unsupported("functions", f.signature()));
        }
        Ok(f.definition
            .trim()
            .trim_end_matches(';')
            .trim_end()
            .to_string())
    }

    fn constraint_name(&self, name: &Option<String>) -> String {
        name.as_ref()
            .map(|n| format!("CONSTRAINT {} ", self.q(n)))
            .unwrap_or_default()
    }

    fn primary_key_clause(&self, k: &PrimaryKey) -> String {
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
        match (k.deferrable, self.dialect) {
            (Deferrable::NotDeferrable, _) => {}
            (_, Db::Mysql) => {
                return Err(self.unsupported(
                    "deferrable foreign keys",
                    format!("{table} ({})", k.columns.join(", ")),
                ))
            }
            (Deferrable::InitiallyImmediate, _) => s.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
            (Deferrable::InitiallyDeferred, _) => s.push_str(" DEFERRABLE INITIALLY DEFERRED"),
        }
        Ok(s)
    }

    fn create_table(
        &self,
        name: &str,
        t: &Table,
        foreign_keys: &[&ForeignKey],
    ) -> Result<String, RenderError> {
        // SQLite's AUTOINCREMENT belongs to a one-column INTEGER PRIMARY KEY, on the column.
        let autoincrement_key = match (&t.primary_key, self.dialect) {
            (Some(k), Db::Sqlite) if k.columns.len() == 1 => t
                .get_column(&k.columns[0])
                .is_some_and(|c| c.identity == Some(Identity::AutoIncrement))
                .then(|| k.columns[0].clone()),
            _ => None,
        };
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
            if c.not_valid && self.dialect == Db::Postgres {
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
        Ok(format!(
            "CREATE TABLE {} (\n    {}\n)",
            self.q(name),
            lines.join(",\n    ")
        ))
    }

    fn index_parts(&self, parts: &[IndexPart]) -> String {
        parts
            .iter()
            .map(|p| {
                let key = match &p.key {
                    IndexKey::Column(c) => self.q(c),
                    // SQLite keeps the text as written (and reads it back so), MySQL
                    // wants functional key parts in parentheses, PostgreSQL reprints
                    // whatever it is given.
                    IndexKey::Expression(e) => match self.dialect {
                        Db::Sqlite => e.clone(),
                        Db::Mysql => format!("({e})"),
                        Db::Postgres if fully_parenthesized(e) => e.clone(),
                        Db::Postgres => format!("({e})"),
                    },
                };
                if p.descending {
                    format!("{key} DESC")
                } else {
                    key
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn create_index(&self, table: &str, ix: &Index) -> Result<String, RenderError> {
        let unique = if ix.unique { "UNIQUE " } else { "" };
        match self.dialect {
            Db::Postgres => {
                let mut s = format!(
                    "CREATE {unique}INDEX {} ON {}",
                    self.q(&ix.name),
                    self.q(table)
                );
                if let Some(m) = &ix.method {
                    s.push_str(&format!(" USING {m}"));
                }
                s.push_str(&format!(" ({})", self.index_parts(&ix.parts)));
                if let Some(p) = &ix.predicate {
                    s.push_str(&format!(" WHERE {p}"));
                }
                Ok(s)
            }
            Db::Sqlite => {
                if ix.method.is_some() {
                    return Err(self.unsupported("index methods", ix.name.clone()));
                }
                let mut s = format!(
                    "CREATE {unique}INDEX {} ON {} ({})",
                    self.q(&ix.name),
                    self.q(table),
                    self.index_parts(&ix.parts)
                );
                if let Some(p) = &ix.predicate {
                    s.push_str(&format!(" WHERE {p}"));
                }
                Ok(s)
            }
            Db::Mysql => {
                if ix.predicate.is_some() {
                    return Err(self.unsupported("partial indexes", ix.name.clone()));
                }
                let (kind, using) =
                    match ix.method.as_deref().map(str::to_ascii_lowercase).as_deref() {
                        None => (unique.to_string(), String::new()),
                        Some("fulltext") => ("FULLTEXT ".to_string(), String::new()),
                        Some("spatial") => ("SPATIAL ".to_string(), String::new()),
                        Some(m) => (
                            unique.to_string(),
                            format!(" USING {}", m.to_ascii_uppercase()),
                        ),
                    };
                Ok(format!(
                    "CREATE {kind}INDEX {} ON {} ({}){using}",
                    self.q(&ix.name),
                    self.q(table),
                    self.index_parts(&ix.parts)
                ))
            }
        }
    }

    fn view_sql(&self, v: &View) -> String {
        let def = v.definition.trim().trim_end_matches(';').trim_end();
        format!("CREATE VIEW {} AS {def}", self.q(&v.name))
    }

    fn sequence_options(&self, s: &Sequence) -> String {
        let mut o = String::new();
        if !s.data_type.is_empty() {
            o.push_str(&format!(" AS {}", s.data_type));
        }
        o.push_str(&format!(
            " INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}",
            s.increment,
            s.min_value,
            s.max_value,
            s.start,
            if s.cycle { "CYCLE" } else { "NO CYCLE" }
        ));
        o
    }

    fn alter(&self, table: &str, action: impl AsRef<str>) -> String {
        format!("ALTER TABLE {} {}", self.q(table), action.as_ref())
    }

    // -----------------------------------------------------------------------------
    // Names the database chose

    /// PostgreSQL names a check after its column when the expression reads exactly one.
    fn postgres_check_name(&self, table: &str, check: &Check) -> String {
        let w = words(&check.expression);
        let cols: Vec<&str> = self
            .from
            .tables
            .get(table)
            .or_else(|| self.to.tables.get(table))
            .map(|t| {
                t.columns
                    .iter()
                    .filter(|c| w.contains(&c.name.to_lowercase()))
                    .map(|c| c.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        postgres_object_name(
            table,
            if cols.len() == 1 { Some(cols[0]) } else { None },
            "check",
        )
    }

    /// Statements that run `ddl_select`'s one-row result, for a drop by a name the
    /// server generated.
    fn mysql_dynamic(&self, ddl_select: String) -> Vec<String> {
        vec![
            format!("SET @migrate_ddl = ({ddl_select})"),
            "PREPARE migrate_stmt FROM @migrate_ddl".into(),
            "EXECUTE migrate_stmt".into(),
            "DEALLOCATE PREPARE migrate_stmt".into(),
        ]
    }

    /// The lookup of an unnamed check's name. MariaDB names a check written on a column
    /// after the column and cannot drop it by that name (the column's definition holds
    /// it): `MODIFY COLUMN` with the definition without it does.
    fn mysql_check_lookup(&self, table: &str, check: &Check) -> Result<String, RenderError> {
        let w = words(&check.expression);
        let mut cases = String::new();
        if let Some(t) = self.from.tables.get(table) {
            for c in t
                .columns
                .iter()
                .filter(|c| w.contains(&c.name.to_lowercase()))
            {
                let modify = self.alter(
                    table,
                    format!("MODIFY COLUMN {}", self.column_def(table, c, false, true)?),
                );
                cases.push_str(&format!(
                    "WHEN {} THEN {} ",
                    self.lit(&c.name),
                    self.lit(&modify)
                ));
            }
        }
        let drop = self.mysql_concat_name(
            &format!("ALTER TABLE {} DROP CONSTRAINT", self.q(table)),
            "tc.constraint_name",
        );
        let pick = if cases.is_empty() {
            drop
        } else {
            format!("CASE tc.constraint_name {cases}ELSE {drop} END")
        };
        Ok(format!(
            "SELECT {pick} FROM information_schema.table_constraints tc JOIN information_schema.check_constraints cc ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = tc.constraint_name WHERE tc.table_schema = DATABASE() AND tc.table_name = {} AND tc.constraint_type = 'CHECK' AND cc.check_clause = {} LIMIT 1",
            self.lit(table),
            self.lit(&check.expression)
        ))
    }

    /// MySQL creates an index for a foreign key that has none (named after the
    /// constraint, or its first column), which introspection does not list and which
    /// stays when the key goes: drop it too, when it is there.
    fn mysql_drop_foreign_key_index(&self, table: &str, k: &ForeignKey) -> Vec<String> {
        let mut names = self.mysql_generated_index_names(&k.columns);
        if let Some(n) = &k.name {
            names.push_str(&format!(" OR index_name = {}", self.lit(n)));
        }
        let lookup = format!(
            "SELECT CONCAT('DROP INDEX `', REPLACE(index_name, '`', '``'), {}) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = {} AND non_unique = 1 AND ({names}) GROUP BY index_name HAVING GROUP_CONCAT(column_name ORDER BY seq_in_index) = {} LIMIT 1",
            self.lit(&format!("` ON {}", self.q(table))),
            self.lit(table),
            self.lit(&k.columns.join(","))
        );
        // `DO 0` when there is none: the key used an index of its own.
        vec![
            format!("SET @migrate_ddl = COALESCE(({lookup}), 'DO 0')"),
            "PREPARE migrate_stmt FROM @migrate_ddl".into(),
            "EXECUTE migrate_stmt".into(),
            "DEALLOCATE PREPARE migrate_stmt".into(),
        ]
    }

    /// The condition on `index_name` that MySQL's own names for a key over `columns`
    /// meet: the first column's name, or it with `_2`, `_3`...
    fn mysql_generated_index_names(&self, columns: &[String]) -> String {
        let first = columns.first().cloned().unwrap_or_default();
        let escaped: String = first
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c.to_string()
                } else {
                    format!("\\{c}")
                }
            })
            .collect();
        format!(
            "index_name = {} OR index_name REGEXP {}",
            self.lit(&first),
            self.lit(&format!("^{escaped}_[0-9]+$"))
        )
    }

    fn mysql_concat_name(&self, prefix: &str, column: &str) -> String {
        format!(
            "CONCAT({}, REPLACE({column}, '`', '``'), '`')",
            self.lit(&format!("{prefix} `"))
        )
    }

    // -----------------------------------------------------------------------------
    // Statements

    /// The statements of one change (PostgreSQL and MySQL; SQLite's simple ones).
    fn statements(
        &self,
        i: usize,
        c: &Change,
        changes: &[Change],
        info: &ListInfo,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, RenderError> {
        let pg = self.dialect == Db::Postgres;
        let my = self.dialect == Db::Mysql;
        let needs_pg = |feature: &'static str, object: &str| -> Result<(), RenderError> {
            if pg {
                Ok(())
            } else {
                Err(self.unsupported(feature, object.to_string()))
            }
        };
        // MySQL puts AUTO_INCREMENT on with the primary key of the same list.
        let key_added = |table: &str| {
            my && changes
                .iter()
                .any(|d| matches!(d, Change::AddPrimaryKey { table: t, .. } if t == table))
        };
        Ok(match c {
            Change::CreateTable(t) => {
                // SQLite: the foreign keys go inside; elsewhere they follow as ALTERs.
                let fks: Vec<&ForeignKey> = if self.dialect == Db::Sqlite {
                    changes
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
                out
            }
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
                vec![self.alter(
                    table,
                    format!(
                        "ADD COLUMN {}",
                        self.column_def(table, column, false, !key_added(table))?
                    ),
                )]
            }
            Change::DropColumn { table, column } => {
                vec![self.alter(table, format!("DROP COLUMN {}", self.q(&column.name)))]
            }
            Change::AlterColumn { table, from, to } => {
                if from.generated != to.generated {
                    // Neither database changes a generation in place (PostgreSQL 15
                    // has no SET EXPRESSION; MySQL cannot switch STORED and VIRTUAL):
                    // the column is dropped and added, its keys re-created around it
                    // by the diff.
                    vec![
                        self.alter(table, format!("DROP COLUMN {}", self.q(&from.name))),
                        self.alter(
                            table,
                            format!("ADD COLUMN {}", self.column_def(table, to, false, true)?),
                        ),
                    ]
                } else if my {
                    let target = info.target(i, table);
                    vec![self.alter(
                        table,
                        format!(
                            "MODIFY COLUMN {}",
                            self.column_def(table, to, false, !key_added(&target))?
                        ),
                    )]
                } else {
                    self.postgres_alter_column(table, from, to)
                }
            }
            Change::AddPrimaryKey { table, primary_key } => {
                let mut s = self.alter(table, format!("ADD {}", self.primary_key_clause(primary_key)));
                if my {
                    // AUTO_INCREMENT needs the key: put it back on with it.
                    if let Some(t) = self.to.tables.get(table) {
                        for col in &primary_key.columns {
                            if let Some(c) = t.get_column(col).filter(|c| c.identity == Some(Identity::AutoIncrement)) {
                                s.push_str(&format!(", MODIFY COLUMN {}", self.column_def(table, c, false, true)?));
                            }
                        }
                    }
                }
                vec![s]
            }
            Change::DropPrimaryKey { table, primary_key } => match self.dialect {
                Db::Mysql => {
                    // MySQL refuses to drop the key of an AUTO_INCREMENT column: take
                    // the AUTO_INCREMENT off in the same statement.
                    let mut actions = Vec::new();
                    if let Some(t) = self.from.tables.get(table) {
                        for col in &primary_key.columns {
                            if let Some(c) = t.get_column(col).filter(|c| c.identity == Some(Identity::AutoIncrement)) {
                                actions.push(format!("MODIFY COLUMN {}", self.column_def(table, c, false, false)?));
                            }
                        }
                    }
                    actions.push("DROP PRIMARY KEY".into());
                    vec![self.alter(table, actions.join(", "))]
                }
                _ => {
                    let name = primary_key
                        .name
                        .clone()
                        .unwrap_or_else(|| postgres_object_name(table, None, "pkey"));
                    vec![self.alter(table, format!("DROP CONSTRAINT {}", self.q(&name)))]
                }
            },
            Change::AddUnique { table, unique } => {
                vec![self.alter(table, format!("ADD {}", self.unique_clause(unique)))]
            }
            Change::DropUnique { table, unique } => match (&unique.name, self.dialect) {
                (Some(n), Db::Mysql) => vec![self.alter(table, format!("DROP INDEX {}", self.q(n)))],
                (None, Db::Mysql) => self.mysql_dynamic(format!(
                    "SELECT {} FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = {} AND non_unique = 0 AND ({}) GROUP BY index_name HAVING GROUP_CONCAT(column_name ORDER BY seq_in_index) = {} LIMIT 1",
                    self.mysql_concat_name(&format!("ALTER TABLE {} DROP INDEX", self.q(table)), "index_name"),
                    self.lit(table),
                    self.mysql_generated_index_names(&unique.columns),
                    self.lit(&unique.columns.join(","))
                )),
                (name, _) => {
                    let name = name
                        .clone()
                        .unwrap_or_else(|| postgres_object_name(table, Some(&unique.columns.join("_")), "key"));
                    vec![self.alter(table, format!("DROP CONSTRAINT {}", self.q(&name)))]
                }
            },
            Change::AddCheck { table, check } => vec![self.add_check(table, check)?],
            Change::AlterCheck { table, from, to } => {
                needs_pg("NOT VALID checks", table)?;
                let name = from.name.clone().unwrap_or_else(|| self.postgres_check_name(table, from));
                if to.not_valid {
                    let again = Check { name: Some(name.clone()), ..to.clone() };
                    vec![
                        self.alter(table, format!("DROP CONSTRAINT {}", self.q(&name))),
                        self.add_check(table, &again)?,
                    ]
                } else {
                    vec![self.alter(table, format!("VALIDATE CONSTRAINT {}", self.q(&name)))]
                }
            }
            Change::DropCheck { table, check } => match (&check.name, self.dialect) {
                (None, Db::Mysql) => self.mysql_dynamic(self.mysql_check_lookup(table, check)?),
                (name, _) => {
                    let name = name.clone().unwrap_or_else(|| self.postgres_check_name(table, check));
                    vec![self.alter(table, format!("DROP CONSTRAINT {}", self.q(&name)))]
                }
            },
            Change::CreateIndex { table, index } => vec![self.create_index(table, index)?],
            Change::DropIndex { table, index } => match self.dialect {
                Db::Mysql => vec![format!("DROP INDEX {} ON {}", self.q(&index.name), self.q(table))],
                _ => vec![format!("DROP INDEX {}", self.q(&index.name))],
            },
            Change::AddForeignKey { table, foreign_key } => {
                vec![self.alter(table, format!("ADD {}", self.foreign_key_clause(table, foreign_key)?))]
            }
            Change::DropForeignKey { table, foreign_key: k } => match (&k.name, self.dialect) {
                (Some(n), Db::Mysql) => {
                    let mut out = vec![self.alter(table, format!("DROP FOREIGN KEY {}", self.q(n)))];
                    out.extend(self.mysql_drop_foreign_key_index(table, k));
                    out
                }
                (None, Db::Mysql) => [self.mysql_dynamic(format!(
                    "SELECT {} FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = {} AND referenced_table_schema = DATABASE() AND referenced_table_name = {} GROUP BY constraint_name HAVING GROUP_CONCAT(column_name ORDER BY ordinal_position) = {} AND GROUP_CONCAT(referenced_column_name ORDER BY ordinal_position) = {} LIMIT 1",
                    self.mysql_concat_name(&format!("ALTER TABLE {} DROP FOREIGN KEY", self.q(table)), "constraint_name"),
                    self.lit(table),
                    self.lit(&k.referenced_table),
                    self.lit(&k.columns.join(",")),
                    self.lit(&k.referenced_columns.join(","))
                )), self.mysql_drop_foreign_key_index(table, k)].concat(),
                (name, _) => {
                    let name = name
                        .clone()
                        .unwrap_or_else(|| postgres_object_name(table, Some(&k.columns.join("_")), "fkey"));
                    vec![self.alter(table, format!("DROP CONSTRAINT {}", self.q(&name)))]
                }
            },
            Change::CreateView(v) => vec![self.view_sql(v)],
            Change::DropView(v) => vec![format!("DROP VIEW {}", self.q(&v.name))],
            Change::CreateEnum(e) => {
                needs_pg("enum types", &e.name)?;
                vec![format!(
                    "CREATE TYPE {} AS ENUM ({})",
                    self.q(&e.name),
                    e.values.iter().map(|v| self.lit(v)).collect::<Vec<_>>().join(", ")
                )]
            }
            Change::DropEnum(e) => {
                needs_pg("enum types", &e.name)?;
                vec![format!("DROP TYPE {}", self.q(&e.name))]
            }
            Change::AlterEnum { from, to, columns } => {
                needs_pg("enum types", &to.name)?;
                self.postgres_alter_enum(from, to, columns)
            }
            Change::CreateSequence(s) => {
                needs_pg("sequences", &s.name)?;
                vec![format!("CREATE SEQUENCE {}{}", self.q(&s.name), self.sequence_options(s))]
            }
            Change::DropSequence(s) => {
                needs_pg("sequences", &s.name)?;
                vec![format!("DROP SEQUENCE {}", self.q(&s.name))]
            }
            Change::AlterSequence { to, .. } => {
                needs_pg("sequences", &to.name)?;
                vec![format!("ALTER SEQUENCE {}{}", self.q(&to.name), self.sequence_options(to))]
            }
            Change::CreateFunction(f) | Change::ReplaceFunction { to: f, .. } => {
                vec![self.function_sql(f)?]
            }
            Change::DropFunction(f) => {
                needs_pg("functions", &f.signature())?;
                vec![format!(
                    "DROP {} {}({})",
                    if f.procedure { "PROCEDURE" } else { "FUNCTION" },
                    self.q(&f.name),
                    f.arguments
                )]
            }
            Change::CreateTrigger(t) => {
                vec![t.definition.trim().trim_end_matches(';').trim_end().to_string()]
            }
            Change::DropTrigger(t) => match self.dialect {
                Db::Postgres => vec![format!("DROP TRIGGER {} ON {}", self.q(&t.name), self.q(&t.table))],
                _ => vec![format!("DROP TRIGGER {}", self.q(&t.name))],
            },
        })
    }

    fn warn_not_null(&self, table: &str, c: &Column, warnings: &mut Vec<String>) {
        if !c.nullable && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
            warnings.push(format!(
                "{}: column {table}.{} is added NOT NULL without a default, which fails if the table has rows",
                if self.downgrade { "downgrade" } else { "upgrade" },
                c.name
            ));
        }
    }

    fn postgres_alter_column(&self, table: &str, from: &Column, to: &Column) -> Vec<String> {
        let col = self.q(&to.name);
        let a = |action: String| self.alter(table, format!("ALTER COLUMN {col} {action}"));
        let mut out = Vec::new();
        let type_changes = from.data_type != to.data_type;
        let collation_changes = from.collation != to.collation;
        if from.identity.is_some() && to.identity.is_none() {
            out.push(a("DROP IDENTITY".into()));
        }
        // A default may not cast to the new type: it goes first and comes back after.
        let reset_default = from.default.is_some() && (type_changes || from.default != to.default);
        if reset_default {
            out.push(a("DROP DEFAULT".into()));
        }
        let collate = to
            .collation
            .as_ref()
            .map(|c| format!(" COLLATE {}", self.collation(c)))
            .unwrap_or_default();
        if type_changes {
            // Within strings or within numbers, PostgreSQL's assignment cast applies and
            // refuses what does not fit (an explicit `::varchar(10)` would cut strings
            // silently); across kinds only an explicit cast converts.
            let kind = |t: &str| {
                let t = t.to_ascii_lowercase();
                if ["char", "text"].iter().any(|w| t.contains(w)) {
                    1
                } else if ["int", "numeric", "decimal", "real", "double"]
                    .iter()
                    .any(|w| t.contains(w))
                {
                    2
                } else {
                    0
                }
            };
            let same_kind =
                kind(&from.data_type) != 0 && kind(&from.data_type) == kind(&to.data_type);
            if same_kind || crate::diff::type_widens(&from.data_type, &to.data_type) {
                out.push(a(format!("TYPE {}{collate}", to.data_type)));
            } else {
                out.push(a(format!(
                    "TYPE {}{collate} USING {col}::{}",
                    to.data_type, to.data_type
                )));
            }
        } else if collation_changes {
            // The same type again, with the collation (none: the type's default).
            out.push(a(format!("TYPE {}{collate}", to.data_type)));
        }
        if from.nullable != to.nullable {
            out.push(a(if to.nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            }
            .into()));
        }
        if let Some(d) = &to.default {
            if reset_default || from.default.is_none() {
                out.push(a(format!("SET DEFAULT {d}")));
            }
        }
        match (from.identity, to.identity) {
            (None, Some(i)) => out.push(a(format!(
                "ADD GENERATED {} AS IDENTITY",
                if i == Identity::Always {
                    "ALWAYS"
                } else {
                    "BY DEFAULT"
                }
            ))),
            (Some(f), Some(t)) if f != t => out.push(a(format!(
                "SET GENERATED {}",
                if t == Identity::Always {
                    "ALWAYS"
                } else {
                    "BY DEFAULT"
                }
            ))),
            _ => {}
        }
        out
    }

    fn postgres_alter_enum(
        &self,
        from: &crate::model::EnumType,
        to: &crate::model::EnumType,
        columns: &[EnumColumn],
    ) -> Vec<String> {
        let name = self.q(&to.name);
        if let Some(added) = added_labels(from, to) {
            return added
                .iter()
                .map(|(v, before)| match before {
                    Some(b) => format!(
                        "ALTER TYPE {name} ADD VALUE {} BEFORE {}",
                        self.lit(v),
                        self.lit(b)
                    ),
                    None => format!("ALTER TYPE {name} ADD VALUE {}", self.lit(v)),
                })
                .collect();
        }
        // A label cannot be removed or moved: the old type steps aside under another
        // name, the new one is created, columns are cast through text, the old one goes.
        let old = self.q(&format!("_migrate_old_{}", to.name));
        let mut out = vec![
            format!("ALTER TYPE {name} RENAME TO {old}"),
            format!(
                "CREATE TYPE {name} AS ENUM ({})",
                to.values
                    .iter()
                    .map(|v| self.lit(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ];
        for c in columns {
            let col = self.q(&c.column);
            if c.default.is_some() {
                out.push(self.alter(&c.table, format!("ALTER COLUMN {col} DROP DEFAULT")));
            }
            out.push(self.alter(
                &c.table,
                format!("ALTER COLUMN {col} TYPE {name} USING {col}::text::{name}"),
            ));
            if let Some(d) = &c.default {
                out.push(self.alter(&c.table, format!("ALTER COLUMN {col} SET DEFAULT {d}")));
            }
        }
        out.push(format!("DROP TYPE {old}"));
        out
    }

    // -----------------------------------------------------------------------------
    // SQLite

    /// Whether SQLite's `ALTER TABLE ADD COLUMN` takes the column.
    fn sqlite_simple_add(c: &Column) -> bool {
        c.identity.is_none()
            && c.generated.as_ref().is_none_or(|g| !g.stored)
            && c.default.as_ref().is_none_or(|d| is_literal(d))
            && (c.nullable
                || c.default
                    .as_ref()
                    .is_some_and(|d| !d.trim().eq_ignore_ascii_case("null")))
    }

    fn sqlite_blocks(
        &self,
        changes: &[Change],
        reasons: &[Option<String>],
        info: &ListInfo,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Block>, RenderError> {
        // Tables SQLite cannot alter in place, by final name.
        let rebuild = sqlite_rebuilds(changes, info);
        // Per rebuilt table: why it is commented out (if it is), and its changes.
        let mut groups: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            if matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. }) {
                continue;
            }
            let Some(t) = c.table().map(|t| info.target(i, t)) else {
                continue;
            };
            if rebuild.contains(&t) {
                let g = groups.entry(t).or_default();
                if let Some(r) = &reasons[i] {
                    if !g.0.contains(r) {
                        g.0.push(r.clone());
                    }
                }
                g.1.push(c.describe());
            }
        }
        let referenced = |schema: &Schema, name: &str, skip: &HashSet<String>| {
            schema.tables.values().any(|t| {
                t.name != name
                    && !skip.contains(&t.name)
                    && t.foreign_keys.iter().any(|k| k.referenced_table == name)
            })
        };
        let none = HashSet::new();

        let mut body = Vec::new();
        let mut rebuilt = false;
        // Is a table other tables reference rebuilt or dropped (by a change that runs)?
        let mut needs_foreign_keys_off: Option<Vec<String>> = None;
        let mut note_fk_off = |reason: &Option<String>| {
            let r: Vec<String> = reason.iter().cloned().collect();
            needs_foreign_keys_off = Some(match needs_foreign_keys_off.take() {
                // One change that runs is enough for the check to run.
                Some(prev) if prev.is_empty() || r.is_empty() => Vec::new(),
                Some(prev) => prev,
                None => r,
            });
        };
        for (i, c) in changes.iter().enumerate() {
            // Before the views and triggers that read or sit on the rebuilt tables.
            if !rebuilt && matches!(c, Change::CreateView(_) | Change::CreateTrigger(_)) {
                body.extend(self.sqlite_rebuilds(changes, &rebuild, &groups, info)?);
                rebuilt = true;
            }
            let table = c.table().map(|t| info.target(i, t));
            let renaming = matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. });
            if let Some(t) = &table {
                if !renaming && rebuild.contains(t) {
                    if let Change::AddColumn { table, column } = c {
                        self.warn_not_null(table, column, warnings);
                    }
                    continue;
                }
            }
            match c {
                Change::DropIndex { table, .. } | Change::DropForeignKey { table, .. }
                    if info.dropped.contains(table) =>
                {
                    continue
                }
                Change::AddForeignKey { table, .. } if info.created.contains(table) => continue,
                Change::DropTable(t) if referenced(self.from, &t.name, &info.dropped) => {
                    note_fk_off(&reasons[i]);
                }
                _ => {}
            }
            body.push(Block::new(
                &reasons[i],
                self.statements(i, c, changes, info, warnings)?,
            ));
        }
        if !rebuilt {
            body.extend(self.sqlite_rebuilds(changes, &rebuild, &groups, info)?);
        }
        for t in &rebuild {
            let reasons: Vec<String> = groups.get(t).map(|g| g.0.clone()).unwrap_or_default();
            if referenced(self.from, &info.source(t), &none) || referenced(self.to, t, &none) {
                note_fk_off(&reasons.first().cloned());
            }
        }

        let mut blocks = Vec::new();
        if let Some(reasons) = needs_foreign_keys_off {
            blocks.push(Block {
                reasons,
                comments: vec![
                    "autogenerate: this rebuilds or drops a table that other tables reference: with PRAGMA foreign_keys on, SQLite would delete or orphan their rows, and the pragma cannot change inside a transaction".into(),
                    "run it with foreign keys off (e.g. `transactional: false`, with PRAGMA foreign_keys = OFF before and ON after); it stops here otherwise".into(),
                ],
                statements: vec![
                    "CREATE TEMP TABLE _migrate_foreign_keys_off (foreign_keys INTEGER CONSTRAINT \"PRAGMA foreign_keys must be OFF for this migration\" CHECK (foreign_keys = 0))".into(),
                    "INSERT INTO _migrate_foreign_keys_off SELECT foreign_keys FROM pragma_foreign_keys".into(),
                    "DROP TABLE _migrate_foreign_keys_off".into(),
                ],
            });
        }
        blocks.extend(body);
        if !rebuild.is_empty() {
            let all_commented = rebuild
                .iter()
                .all(|t| groups.get(t).is_some_and(|g| !g.0.is_empty()));
            blocks.push(Block {
                reasons: if all_commented {
                    rebuild
                        .iter()
                        .filter_map(|t| groups.get(t).and_then(|g| g.0.first().cloned()))
                        .take(1)
                        .collect()
                } else {
                    Vec::new()
                },
                comments: vec!["autogenerate: the rebuilt tables' rows must satisfy their foreign keys (PRAGMA foreign_key_check lists those that do not)".into()],
                statements: vec![
                    "CREATE TEMP TABLE _migrate_foreign_key_check (violation INTEGER CONSTRAINT \"foreign key violations after rebuilding tables: see PRAGMA foreign_key_check\" CHECK (violation IS NULL))".into(),
                    "INSERT INTO _migrate_foreign_key_check SELECT 1 FROM pragma_foreign_key_check LIMIT 1".into(),
                    "DROP TABLE _migrate_foreign_key_check".into(),
                ],
            });
        }
        Ok(blocks)
    }

    /// SQLite's table rebuild for each table in `rebuild`.
    fn sqlite_rebuilds(
        &self,
        changes: &[Change],
        rebuild: &BTreeSet<String>,
        groups: &HashMap<String, (Vec<String>, Vec<String>)>,
        info: &ListInfo,
    ) -> Result<Vec<Block>, RenderError> {
        let mut blocks = Vec::new();
        // Column renames by final table name: old column name to new.
        let mut column_renames: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            if let Change::RenameColumn { table, from, to } = c {
                column_renames
                    .entry(info.target(i, table))
                    .or_default()
                    .insert(from.clone(), to.clone());
            }
        }
        for name in rebuild {
            let target = self
                .to
                .tables
                .get(name)
                .ok_or_else(|| RenderError::MissingTable {
                    table: name.clone(),
                    side: if self.downgrade { "current" } else { "target" },
                })?;
            let source_name = info.source(name);
            let source =
                self.from
                    .tables
                    .get(&source_name)
                    .ok_or_else(|| RenderError::MissingTable {
                        table: source_name.clone(),
                        side: if self.downgrade { "target" } else { "current" },
                    })?;
            let renames = column_renames.get(name);
            let existing: HashSet<String> = source
                .columns
                .iter()
                .map(|c| {
                    renames
                        .and_then(|r| r.get(&c.name))
                        .cloned()
                        .unwrap_or_else(|| c.name.clone())
                })
                .collect();
            let common: Vec<String> = target
                .columns
                .iter()
                .filter(|c| c.generated.is_none() && existing.contains(&c.name))
                .map(|c| c.name.clone())
                .collect();
            let temp = format!("_migrate_new_{name}");
            let fks: Vec<&ForeignKey> = target.foreign_keys.iter().collect();
            let mut statements = vec![self.create_table(&temp, target, &fks)?];
            if !common.is_empty() {
                let cols = self.qs(&common);
                statements.push(format!(
                    "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
                    self.q(&temp),
                    self.q(name)
                ));
            }
            statements.push(format!("DROP TABLE {}", self.q(name)));
            statements.push(format!(
                "ALTER TABLE {} RENAME TO {}",
                self.q(&temp),
                self.q(name)
            ));
            for ix in &target.indexes {
                statements.push(self.create_index(name, ix)?);
            }
            // Dropping the old table took its triggers: those the changes do not
            // create themselves are created again.
            for t in self.to.triggers.values().filter(|t| t.table == *name) {
                let created = changes
                    .iter()
                    .any(|c| matches!(c, Change::CreateTrigger(u) if u.key() == t.key()));
                if !created {
                    statements.push(t.definition.clone());
                }
            }
            let (reasons, about) = groups.get(name).cloned().unwrap_or_default();
            blocks.push(Block {
                reasons,
                comments: vec![format!(
                    "autogenerate: SQLite cannot alter {name} in place: rebuild it ({})",
                    about.join("; ")
                )],
                statements,
            });
        }
        if blocks.is_empty() {
            return Ok(blocks);
        }
        // Renaming the new table into place checks every view, and one reading the
        // dropped table fails it: views over rebuilt tables (that the changes do not
        // drop already) are dropped before and created again after.
        let dropped_here: HashSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropView(v) => Some(v.name.as_str()),
                _ => None,
            })
            .collect();
        let standing: Vec<&View> = self
            .from
            .views
            .values()
            .filter(|v| !dropped_here.contains(v.name.as_str()))
            .collect();
        let mut around: BTreeSet<&str> = BTreeSet::new();
        for v in &standing {
            let w = words(&v.definition);
            if rebuild.iter().any(|t| {
                w.contains(&t.to_lowercase()) || w.contains(&info.source(t).to_lowercase())
            }) {
                around.insert(&v.name);
            }
        }
        loop {
            let before = around.len();
            for v in &standing {
                let w = words(&v.definition);
                if around.iter().any(|a| w.contains(&a.to_lowercase())) {
                    around.insert(&v.name);
                }
            }
            if around.len() == before {
                break;
            }
        }
        if around.is_empty() {
            return Ok(blocks);
        }
        // Commented out only when every rebuild is.
        let reasons: Vec<String> = if blocks.iter().all(|b| !b.reasons.is_empty()) {
            blocks[0].reasons.iter().take(1).cloned().collect()
        } else {
            Vec::new()
        };
        let views: Vec<&View> = standing
            .iter()
            .copied()
            .filter(|v| around.contains(v.name.as_str()))
            .collect();
        let order = crate::diff::views_dependencies_first(&views);
        let mut out = vec![Block {
            reasons: reasons.clone(),
            comments: vec![
                "autogenerate: views over the rebuilt tables go while they are rebuilt".into(),
            ],
            statements: order
                .iter()
                .rev()
                .map(|v| format!("DROP VIEW {}", self.q(&v.name)))
                .collect(),
        }];
        out.append(&mut blocks);
        let mut create = Vec::new();
        for v in order {
            create.push(self.view_sql(self.to.views.get(&v.name).unwrap_or(v)));
        }
        out.push(Block {
            reasons,
            comments: Vec::new(),
            statements: create,
        });
        Ok(out)
    }
}

/// Whether an identifier must be quoted: not plain lower-case letters, digits and `_`
/// (upper case would fold on PostgreSQL), or a keyword.
pub(crate) fn needs_quotes(name: &str) -> bool {
    plain_identifier_problem(name).is_some() || name.chars().any(|c| c.is_ascii_uppercase())
}

/// The name PostgreSQL gives a constraint or index it names itself (`makeObjectName`):
/// `name1_name2_label`, the longer of `name1` and `name2` shortened first (on a
/// character boundary) until the whole fits in 63 bytes, PostgreSQL's longest
/// identifier. Diff and introspection both use it, so a name the database chose is
/// recognized the same way on both sides.
pub fn postgres_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let avail = 63usize.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    match name2 {
        Some(m) => format!("{}_{}_{label}", clip(name1, n1), clip(m, n2)),
        None => format!("{}_{label}", clip(name1, n1)),
    }
}

/// Whether `e` is one parenthesized expression: `(a + 1)`, not `(a) + (b)`.
fn fully_parenthesized(e: &str) -> bool {
    let e = e.trim();
    if !e.starts_with('(') || !e.ends_with(')') {
        return false;
    }
    let mut depth = 0i32;
    let mut in_string = false;
    for (i, c) in e.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 && i + 1 < e.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// A literal: a number, a string, NULL, TRUE/FALSE, a blob or bit literal.
fn is_literal(d: &str) -> bool {
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

fn is_current_keyword(d: &str) -> bool {
    matches!(
        d.trim().to_ascii_uppercase().as_str(),
        "CURRENT_TIMESTAMP" | "CURRENT_TIME" | "CURRENT_DATE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use crate::model::{EnumType, Generated, Trigger};

    fn opts(allow: bool) -> RenderOptions {
        RenderOptions {
            allow_destructive: allow,
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        let mut s = Schema::default();
        for t in tables {
            s.add_table(t);
        }
        s
    }

    fn tickets() -> Table {
        Table::new("tickets")
            .column(Column::new("id", "integer").not_null())
            .column(Column::new("user_id", "integer"))
            .column(Column::new("rating", "integer"))
            .column(Column::new("title", "varchar(20)"))
            .primary_key(&["id"])
    }

    fn users() -> Table {
        Table::new("users")
            .column(Column::new("id", "integer").not_null())
            .primary_key(&["id"])
    }

    fn fk() -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec!["user_id".into()],
            referenced_table: "users".into(),
            referenced_columns: vec!["id".into()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
        }
    }

    fn both(a: &Schema, b: &Schema, d: Dialect, allow: bool) -> Rendered {
        let diff = diff(a, b).unwrap();
        render(&diff, a, b, d, &opts(allow)).unwrap()
    }

    #[test]
    fn quoting() {
        let r = Renderer {
            dialect: Db::Postgres,
            from: &Schema::default(),
            to: &Schema::default(),
            downgrade: false,
        };
        assert_eq!(r.q("tickets"), "tickets");
        assert_eq!(r.q("user"), "\"user\"");
        assert_eq!(r.q("Tickets"), "\"Tickets\"");
        assert_eq!(r.q("a b"), "\"a b\"");
        assert_eq!(r.q("we\"ird"), "\"we\"\"ird\"");
        let m = Renderer {
            dialect: Db::Mysql,
            ..r
        };
        assert_eq!(m.q("order"), "`order`");
        assert_eq!(m.lit("it's a \\"), "'it''s a \\\\'");
    }

    #[test]
    fn postgres_names() {
        assert_eq!(
            postgres_object_name("tickets", None, "pkey"),
            "tickets_pkey"
        );
        assert_eq!(
            postgres_object_name("tickets", Some("user_id"), "fkey"),
            "tickets_user_id_fkey"
        );
        let long = "a".repeat(40);
        let n = postgres_object_name(&long, Some(&"b".repeat(40)), "key");
        assert_eq!(n.len(), 63);
        assert_eq!(n, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
    }

    #[test]
    fn add_column_each_dialect() {
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        b.table_mut("tickets").unwrap().columns.push(
            Column::new("priority", "varchar(20)")
                .not_null()
                .default_expr("'normal'"),
        );
        let pg = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            pg.upgrade,
            "ALTER TABLE tickets ADD COLUMN priority varchar(20) NOT NULL DEFAULT 'normal';\n"
        );
        // The downgrade drops an added column: not the upgrade's destructive change, so
        // it runs.
        assert_eq!(pg.downgrade, "ALTER TABLE tickets DROP COLUMN priority;\n");
        let my = both(&a, &b, Dialect::Mysql, false);
        assert_eq!(
            my.upgrade,
            "ALTER TABLE tickets ADD COLUMN priority varchar(20) NOT NULL DEFAULT 'normal';\n"
        );
        let lite = both(&a, &b, Dialect::Sqlite, false);
        assert_eq!(
            lite.upgrade,
            "ALTER TABLE tickets ADD COLUMN priority varchar(20) NOT NULL DEFAULT 'normal';\n"
        );
        assert!(pg.warnings.is_empty());
    }

    #[test]
    fn destructive_changes_are_commented_out() {
        let mut t = tickets();
        t.indexes.push(Index {
            name: "ix_rating".into(),
            parts: vec![IndexPart {
                key: IndexKey::Column("rating".into()),
                descending: true,
            }],
            unique: false,
            predicate: None,
            method: None,
        });
        let a = schema(vec![t]);
        let mut b = schema(vec![tickets()]);
        b.table_mut("tickets").unwrap().columns.remove(2);
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "-- autogenerate: destructive change, uncomment to apply: drop column tickets.rating\n-- DROP INDEX ix_rating;\n-- ALTER TABLE tickets DROP COLUMN rating;\n"
        );
        assert_eq!(
            r.downgrade,
            "-- autogenerate: commented out with the upgrade's destructive change: drop column tickets.rating\n-- ALTER TABLE tickets ADD COLUMN rating integer;\n-- CREATE INDEX ix_rating ON tickets (rating DESC);\n"
        );
        assert_eq!(
            r.warnings,
            ["destructive change left commented out in the upgrade and the downgrade: drop column tickets.rating; uncomment both to apply it"]
        );
        let allowed = both(&a, &b, Dialect::Postgres, true);
        assert_eq!(
            allowed.upgrade,
            "DROP INDEX ix_rating;\nALTER TABLE tickets DROP COLUMN rating;\n"
        );
        assert!(allowed.warnings.is_empty());
        assert_eq!(
            both(&a, &b, Dialect::Mysql, true).upgrade,
            "DROP INDEX ix_rating ON tickets;\nALTER TABLE tickets DROP COLUMN rating;\n"
        );
        // SQLite drops an unconstrained column in place.
        assert_eq!(
            both(&a, &b, Dialect::Sqlite, true).upgrade,
            "DROP INDEX ix_rating;\nALTER TABLE tickets DROP COLUMN rating;\n"
        );
    }

    #[test]
    fn postgres_alter_column() {
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        let c = &mut b.table_mut("tickets").unwrap().columns[3];
        c.data_type = "varchar(50)".into();
        c.nullable = false;
        c.default = Some("'x'".into());
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "ALTER TABLE tickets ALTER COLUMN title TYPE varchar(50);\nALTER TABLE tickets ALTER COLUMN title SET NOT NULL;\nALTER TABLE tickets ALTER COLUMN title SET DEFAULT 'x';\n"
        );
        // Back: narrowing is destructive, so the downgrade of a safe upgrade still runs.
        assert_eq!(
            r.downgrade,
            "ALTER TABLE tickets ALTER COLUMN title DROP DEFAULT;\nALTER TABLE tickets ALTER COLUMN title TYPE varchar(20);\nALTER TABLE tickets ALTER COLUMN title DROP NOT NULL;\n"
        );
        let my = both(&a, &b, Dialect::Mysql, false);
        assert_eq!(
            my.upgrade,
            "ALTER TABLE tickets MODIFY COLUMN title varchar(50) NOT NULL DEFAULT 'x';\n"
        );
        assert_eq!(
            my.downgrade,
            "ALTER TABLE tickets MODIFY COLUMN title varchar(20) NULL;\n"
        );
        // Identity.
        let mut c = a.clone();
        c.table_mut("tickets").unwrap().columns[0].identity = Some(Identity::ByDefault);
        let r = both(&a, &c, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "ALTER TABLE tickets ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;\n"
        );
        assert_eq!(
            r.downgrade,
            "ALTER TABLE tickets ALTER COLUMN id DROP IDENTITY;\n"
        );
    }

    #[test]
    fn constraints_postgres_and_mysql() {
        let mut t = tickets();
        t.foreign_keys.push(fk());
        t.checks.push(Check {
            name: None,
            expression: "rating > 0".into(),
            not_valid: false,
        });
        t.uniques.push(Unique {
            name: None,
            columns: vec!["title".into()],
        });
        let a = schema(vec![users(), t]);
        let mut b = schema(vec![users(), tickets()]);
        b.table_mut("tickets").unwrap().checks.push(Check {
            name: Some("rating_small".into()),
            expression: "rating < 10".into(),
            not_valid: false,
        });
        let pg = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            pg.upgrade,
            "ALTER TABLE tickets DROP CONSTRAINT tickets_user_id_fkey;\nALTER TABLE tickets DROP CONSTRAINT tickets_title_key;\nALTER TABLE tickets DROP CONSTRAINT tickets_rating_check;\nALTER TABLE tickets ADD CONSTRAINT rating_small CHECK (rating < 10);\n"
        );
        assert_eq!(
            pg.downgrade,
            "ALTER TABLE tickets DROP CONSTRAINT rating_small;\nALTER TABLE tickets ADD CHECK (rating > 0);\nALTER TABLE tickets ADD UNIQUE (title);\nALTER TABLE tickets ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n"
        );
        let my = both(&a, &b, Dialect::Mysql, false);
        assert!(my.upgrade.starts_with("-- the server named this foreign key: look its name up\nSET @migrate_ddl = (SELECT CONCAT('ALTER TABLE tickets DROP FOREIGN KEY `', REPLACE(constraint_name, '`', '``'), '`') FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = 'tickets' AND referenced_table_schema = DATABASE() AND referenced_table_name = 'users'"), "{}", my.upgrade);
        assert!(my.upgrade.contains("PREPARE migrate_stmt FROM @migrate_ddl;\nEXECUTE migrate_stmt;\nDEALLOCATE PREPARE migrate_stmt;\n"));
        assert!(my
            .upgrade
            .ends_with("ALTER TABLE tickets ADD CONSTRAINT rating_small CHECK (rating < 10);\n"));
        assert!(my
            .downgrade
            .starts_with("ALTER TABLE tickets DROP CONSTRAINT rating_small;\n"));
    }

    #[test]
    fn sqlite_rebuild() {
        let a = schema(vec![users(), tickets()]);
        let mut b = a.clone();
        let t = b.table_mut("tickets").unwrap();
        t.foreign_keys.push(fk());
        t.columns[3].nullable = false;
        t.columns[2].name = "score".into();
        t.columns[2].renamed_from = Some("rating".into());
        t.indexes.push(Index {
            name: "ix_title".into(),
            parts: vec![IndexPart {
                key: IndexKey::Column("title".into()),
                descending: false,
            }],
            unique: false,
            predicate: Some("title IS NOT NULL".into()),
            method: None,
        });
        let r = both(&a, &b, Dialect::Sqlite, false);
        assert_eq!(
            r.upgrade,
            "ALTER TABLE tickets RENAME COLUMN rating TO score;\n\
             -- autogenerate: SQLite cannot alter tickets in place: rebuild it (alter column tickets.title: set not null; create index ix_title on tickets (title); add foreign key on tickets (user_id) references users (id))\n\
             CREATE TABLE _migrate_new_tickets (\n    id integer NOT NULL,\n    user_id integer,\n    score integer,\n    title varchar(20) NOT NULL,\n    PRIMARY KEY (id),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n\
             INSERT INTO _migrate_new_tickets (id, user_id, score, title) SELECT id, user_id, score, title FROM tickets;\n\
             DROP TABLE tickets;\n\
             ALTER TABLE _migrate_new_tickets RENAME TO tickets;\n\
             CREATE INDEX ix_title ON tickets (title) WHERE title IS NOT NULL;\n\
             -- autogenerate: the rebuilt tables' rows must satisfy their foreign keys (PRAGMA foreign_key_check lists those that do not)\n\
             CREATE TEMP TABLE _migrate_foreign_key_check (violation INTEGER CONSTRAINT \"foreign key violations after rebuilding tables: see PRAGMA foreign_key_check\" CHECK (violation IS NULL));\n\
             INSERT INTO _migrate_foreign_key_check SELECT 1 FROM pragma_foreign_key_check LIMIT 1;\n\
             DROP TABLE _migrate_foreign_key_check;\n"
        );
        // The downgrade rebuilds back, then renames back first: renames run before.
        assert!(
            r.downgrade
                .starts_with("ALTER TABLE tickets RENAME COLUMN score TO rating;\n"),
            "{}",
            r.downgrade
        );
        assert!(r.downgrade.contains("CREATE TABLE _migrate_new_tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20),\n    PRIMARY KEY (id)\n);\n"));
        // Rebuilding users, which tickets references, needs foreign keys off.
        let mut c = b.clone();
        c.table_mut("users")
            .unwrap()
            .columns
            .push(Column::new("name", "text").not_null());
        let r = both(&b, &c, Dialect::Sqlite, false);
        assert!(
            r.upgrade.contains(
                "-- autogenerate: this rebuilds or drops a table that other tables reference"
            ),
            "{}",
            r.upgrade
        );
        assert!(r.upgrade.contains(
            "INSERT INTO _migrate_foreign_keys_off SELECT foreign_keys FROM pragma_foreign_keys;\n"
        ));
        assert!(r
            .warnings
            .iter()
            .any(|w| w.contains("users.name is added NOT NULL without a default")));
    }

    #[test]
    fn create_and_drop_tables_with_foreign_keys() {
        let a = schema(vec![users()]);
        let mut t = tickets();
        t.foreign_keys.push(fk());
        let b = schema(vec![users(), t]);
        let pg = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            pg.upgrade,
            "CREATE TABLE tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20),\n    PRIMARY KEY (id)\n);\nALTER TABLE tickets ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n"
        );
        assert_eq!(
            pg.downgrade,
            "ALTER TABLE tickets DROP CONSTRAINT tickets_user_id_fkey;\nDROP TABLE tickets;\n"
        );
        let lite = both(&a, &b, Dialect::Sqlite, false);
        assert_eq!(
            lite.upgrade,
            "CREATE TABLE tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20),\n    PRIMARY KEY (id),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n"
        );
        assert_eq!(lite.downgrade, "DROP TABLE tickets;\n");
        // Dropping: commented as one, with its foreign key.
        let pg = both(&b, &a, Dialect::Postgres, false);
        assert_eq!(
            pg.upgrade,
            "-- autogenerate: destructive change, uncomment to apply: drop table tickets\n-- ALTER TABLE tickets DROP CONSTRAINT tickets_user_id_fkey;\n-- DROP TABLE tickets;\n"
        );
    }

    #[test]
    fn enums_and_sequences_postgres() {
        let e = |v: &[&str]| EnumType {
            name: "mood".into(),
            values: v.iter().map(|s| s.to_string()).collect(),
        };
        let mut a = schema(vec![
            Table::new("t").column(Column::new("m", "mood").default_expr("'a'::mood"))
        ]);
        a.enums.insert("mood".into(), e(&["a", "c"]));
        let mut b = a.clone();
        b.enums.insert("mood".into(), e(&["a", "b", "c"]));
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "-- a label added here cannot be used before the transaction commits\nALTER TYPE mood ADD VALUE 'b' BEFORE 'c';\n"
        );
        // Removing a label back is destructive in the downgrade only when the upgrade's
        // change is: here the upgrade adds, so the downgrade runs.
        assert_eq!(
            r.downgrade,
            "ALTER TYPE mood RENAME TO _migrate_old_mood;\nCREATE TYPE mood AS ENUM ('a', 'c');\nALTER TABLE t ALTER COLUMN m DROP DEFAULT;\nALTER TABLE t ALTER COLUMN m TYPE mood USING m::text::mood;\nALTER TABLE t ALTER COLUMN m SET DEFAULT 'a'::mood;\nDROP TYPE _migrate_old_mood;\n"
        );
        let err = render(&diff(&a, &b).unwrap(), &a, &b, Dialect::Mysql, &opts(false)).unwrap_err();
        assert_eq!(err.to_string(), "MySQL has no enum types: mood");

        let s = Sequence {
            name: "ticket_no".into(),
            data_type: "bigint".into(),
            start: 100,
            increment: 1,
            min_value: 1,
            max_value: 9_223_372_036_854_775_807,
            cycle: false,
        };
        let mut c = Schema::default();
        c.sequences.insert("ticket_no".into(), s);
        let r = both(&Schema::default(), &c, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "CREATE SEQUENCE ticket_no AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 100 NO CYCLE;\n"
        );
        assert_eq!(r.downgrade, "DROP SEQUENCE ticket_no;\n");
    }

    #[test]
    fn generated_column_change_drops_and_adds() {
        let mut t = tickets();
        t.columns.push(Column {
            generated: Some(Generated {
                expression: "rating * 2".into(),
                stored: true,
            }),
            ..Column::new("double_rating", "integer")
        });
        let a = schema(vec![t]);
        let mut b = a.clone();
        b.table_mut("tickets").unwrap().columns[4].generated = Some(Generated {
            expression: "rating * 3".into(),
            stored: true,
        });
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "ALTER TABLE tickets DROP COLUMN double_rating;\nALTER TABLE tickets ADD COLUMN double_rating integer GENERATED ALWAYS AS (rating * 3) STORED;\n"
        );
    }

    #[test]
    fn mysql_auto_increment_goes_with_the_key() {
        let mut t = Table::new("t").column(Column {
            identity: Some(Identity::AutoIncrement),
            ..Column::new("id", "int(11)").not_null()
        });
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        });
        let a = schema(vec![t.clone()]);
        let mut b = a.clone();
        b.table_mut("t")
            .unwrap()
            .columns
            .push(Column::new("x", "int(11)").not_null().default_expr("0"));
        b.table_mut("t")
            .unwrap()
            .primary_key
            .as_mut()
            .unwrap()
            .columns
            .push("x".into());
        let r = both(&a, &b, Dialect::Mysql, false);
        assert_eq!(
            r.upgrade,
            "ALTER TABLE t MODIFY COLUMN id int(11) NOT NULL, DROP PRIMARY KEY;\nALTER TABLE t ADD COLUMN x int(11) NOT NULL DEFAULT 0;\nALTER TABLE t ADD PRIMARY KEY (id, x), MODIFY COLUMN id int(11) NOT NULL AUTO_INCREMENT;\n"
        );
    }

    #[test]
    fn postgres_check_validity_and_collation() {
        let mut t = tickets();
        t.checks
            .push(Check::new(Some("rating_positive"), "rating > 0"));
        t.checks.push(Check::new(None, "id > 0"));
        let a = schema(vec![t]);
        let mut b = a.clone();
        let bt = b.table_mut("tickets").unwrap();
        for c in &mut bt.checks {
            c.not_valid = true;
        }
        bt.columns[3].collation = Some("C".into());
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "ALTER TABLE tickets ALTER COLUMN title TYPE varchar(20) COLLATE \"C\";\n\
             ALTER TABLE tickets DROP CONSTRAINT rating_positive;\n\
             ALTER TABLE tickets ADD CONSTRAINT rating_positive CHECK (rating > 0) NOT VALID;\n\
             ALTER TABLE tickets DROP CONSTRAINT tickets_id_check;\n\
             ALTER TABLE tickets ADD CONSTRAINT tickets_id_check CHECK (id > 0) NOT VALID;\n"
        );
        assert_eq!(
            r.downgrade,
            "ALTER TABLE tickets VALIDATE CONSTRAINT tickets_id_check;\n\
             ALTER TABLE tickets VALIDATE CONSTRAINT rating_positive;\n\
             ALTER TABLE tickets ALTER COLUMN title TYPE varchar(20);\n"
        );
        // A created table gets its NOT VALID checks after: CREATE TABLE validates them.
        let r = both(&Schema::default(), &b, Dialect::Postgres, false);
        assert!(
            r.upgrade.starts_with(
                "CREATE TABLE tickets (\n    id integer NOT NULL,\n    user_id integer,\n    rating integer,\n    title varchar(20) COLLATE \"C\",\n    PRIMARY KEY (id)\n);\n\
                 ALTER TABLE tickets ADD CONSTRAINT rating_positive CHECK (rating > 0) NOT VALID;\n\
                 ALTER TABLE tickets ADD CHECK (id > 0) NOT VALID;\n"
            ),
            "{}",
            r.upgrade
        );
        // Elsewhere NOT VALID is refused by name.
        let d = diff(&a, &b).unwrap();
        let err = render(&d, &a, &b, Dialect::Mysql, &opts(false)).unwrap_err();
        assert!(err.to_string().contains("NOT VALID checks"), "{err}");
    }

    #[test]
    fn postgres_functions_and_triggers() {
        let touch = |body: &str| {
            Function {
            name: "touch".into(),
            arguments: String::new(),
            procedure: false,
            definition: format!("CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function${body}$function$"),
        }
        };
        let a = schema(vec![tickets()]);
        let mut b = a.clone();
        b.add_function(touch("BEGIN RETURN NEW; END"));
        b.add_function(Function {
            name: "Add One".into(),
            arguments: "integer".into(),
            procedure: true,
            definition: "CREATE OR REPLACE PROCEDURE \"Add One\"(IN n integer)\n LANGUAGE sql\nAS $procedure$ SELECT n + 1 $procedure$".into(),
        });
        b.add_trigger(Trigger {
            name: "tickets_touch".into(),
            table: "tickets".into(),
            definition: "CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION touch()".into(),
        });
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "CREATE OR REPLACE PROCEDURE \"Add One\"(IN n integer)\n LANGUAGE sql\nAS $procedure$ SELECT n + 1 $procedure$;\n\
             CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN RETURN NEW; END$function$;\n\
             CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION touch();\n"
        );
        assert_eq!(
            r.downgrade,
            "DROP TRIGGER tickets_touch ON tickets;\n\
             DROP FUNCTION touch();\n\
             DROP PROCEDURE \"Add One\"(integer);\n"
        );
        // A changed body is replaced in place, both ways.
        let mut c = b.clone();
        c.add_function(touch("BEGIN RETURN OLD; END"));
        let r = both(&b, &c, Dialect::Postgres, false);
        assert!(
            r.upgrade
                .contains("$function$BEGIN RETURN OLD; END$function$"),
            "{}",
            r.upgrade
        );
        assert!(
            r.downgrade
                .contains("$function$BEGIN RETURN NEW; END$function$"),
            "{}",
            r.downgrade
        );
        let d = diff(&a, &b).unwrap();
        let err = render(&d, &a, &b, Dialect::Sqlite, &opts(false)).unwrap_err();
        assert!(err.to_string().contains("functions"), "{err}");
    }

    #[test]
    fn views_are_rendered_last() {
        let mut a = schema(vec![tickets()]);
        let mut b = a.clone();
        b.views.insert(
            "v".into(),
            View {
                name: "v".into(),
                definition: " SELECT tickets.id\n   FROM tickets;".into(),
            },
        );
        let r = both(&a, &b, Dialect::Postgres, false);
        assert_eq!(
            r.upgrade,
            "CREATE VIEW v AS SELECT tickets.id\n   FROM tickets;\n"
        );
        assert_eq!(r.downgrade, "DROP VIEW v;\n");
        a.views = b.views.clone();
        assert!(diff(&a, &b).unwrap().is_empty());
    }

    #[test]
    fn literals() {
        for l in ["0", "-1", "1.5", "'a'", "'it''s'", "NULL", "true", "x'00'"] {
            assert!(is_literal(l), "{l}");
        }
        for e in [
            "datetime('now')",
            "CURRENT_TIMESTAMP",
            "'a' || 'b'",
            "1+1",
            "abs(-1)",
        ] {
            assert!(!is_literal(e), "{e}");
        }
    }
}
