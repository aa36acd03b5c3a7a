//! SQLite: one query joining `sqlite_master` with the table-valued pragmas
//! (`pragma_table_xinfo`, `pragma_index_list` + `pragma_index_xinfo`,
//! `pragma_foreign_key_list`) into one JSON document, and the stored `CREATE` statements for
//! what the pragmas do not tell: constraint names, CHECK and generated expressions,
//! `AUTOINCREMENT`, deferrability, index expressions and predicates, view queries;
//! triggers are their stored `CREATE TRIGGER` statements.

use super::sqltext::{
    closing, lex, normalize, normalize_expression, normalize_text, split_commas, Kind, Tok,
};
use crate::error::MigrateError;
use migrate_schema::model::{Object, Stage};
use migrate_schema::{
    Check, Column, Deferrable, ForeignKey, Generated, Identity, Index, IndexKey, IndexPart,
    PrimaryKey, ReferentialAction, Schema, Table, Trigger, Unique, View,
};
use std::collections::HashMap;

/// The whole schema but the views as one JSON document: for each table, its SQL, and its
/// columns, indexes (with their key columns) and foreign keys. Through sqlx every row
/// costs a hand-over between threads, so one row for the whole schema rather than one per
/// column keeps a schema of thousands of columns fast. Virtual tables (FTS5, R*Tree...)
/// and their shadow tables are left out: they are not tables the schema model describes,
/// and the pragmas fail on a virtual table whose module is not loaded.
///
/// `pragma_table_list` is read once, into a materialized table: as the inner side of a
/// join SQLite would list every table again for each row of `sqlite_master`, which is
/// quadratic in the number of tables.
const TABLES: &str = "WITH tl AS MATERIALIZED (SELECT name, type, wr, \"strict\" \
    FROM pragma_table_list WHERE schema = 'main') \
  SELECT json_group_array(json_array(m.name, m.sql, \
  json((SELECT json_group_array(json_array(x.cid, x.name, x.type, x.\"notnull\", x.dflt_value, x.pk, x.hidden)) \
     FROM pragma_table_xinfo(m.name) x)), \
  json((SELECT json_group_array(json_array(il.name, il.\"unique\", il.origin, il.partial, \
       json((SELECT json_group_array(json_array(ix.seqno, ix.cid, ix.name, ix.\"desc\")) \
             FROM pragma_index_xinfo(il.name) ix WHERE ix.key = 1)))) \
     FROM pragma_index_list(m.name) il)), \
  json((SELECT json_group_array(json_array(fk.id, fk.seq, fk.\"table\", fk.\"from\", fk.\"to\", fk.on_update, fk.on_delete)) \
     FROM pragma_foreign_key_list(m.name) fk)), tl.wr, tl.\"strict\")) \
  FROM tl JOIN sqlite_master m ON m.name = tl.name AND m.type = 'table' \
  WHERE tl.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// The SQL of the indexes named in the bound JSON array: only those with expressions or
/// a predicate need it.
const INDEX_SQL: &str = "SELECT name, sql FROM sqlite_master \
  WHERE type = 'index' AND name IN (SELECT value FROM json_each(?1))";

/// `[name, sql, columns, indexes, foreign keys, without rowid, strict]`
type TableJson = (
    String,
    Option<String>,
    Vec<ColumnJson>,
    Vec<IndexJson>,
    Vec<ForeignKeyJson>,
    i64,
    i64,
);
/// `[cid, name, type, notnull, dflt_value, pk, hidden]`
type ColumnJson = (i64, String, Option<String>, i64, Option<String>, i64, i64);
/// `[seqno, cid, name, desc]`
type PartJson = (i64, i64, Option<String>, i64);
/// `[name, unique, origin, partial, parts]`
type IndexJson = (String, i64, String, i64, Vec<PartJson>);
/// `[id, seq, table, from, to, on_update, on_delete]`
type ForeignKeyJson = (i64, i64, String, String, Option<String>, String, String);

pub(crate) async fn introspect(pool: &sqlx::SqlitePool) -> Result<Schema, MigrateError> {
    let err = |what: &'static str| {
        move |e| MigrateError::db(format!("cannot read the schema ({what})"), e)
    };
    let mut c = pool.acquire().await.map_err(err("connection"))?;
    let document: String = sqlx::query_scalar(TABLES)
        .fetch_one(&mut *c)
        .await
        .map_err(err("tables"))?;
    let tables: Vec<TableJson> = serde_json::from_str(&document)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
        .map_err(err("decoding"))?;
    let views: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'view'")
            .fetch_all(&mut *c)
            .await
            .map_err(err("views"))?;
    let triggers: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut *c)
            .await
            .map_err(err("triggers"))?;
    // An index made by CREATE INDEX with an expression part or a predicate.
    let needs_sql: Vec<&str> = tables
        .iter()
        .flat_map(|t| &t.3)
        .filter(|(_, _, origin, partial, parts)| {
            origin == "c" && (*partial != 0 || parts.iter().any(|p| p.1 == -2))
        })
        .map(|i| i.0.as_str())
        .collect();
    let index_sql: HashMap<String, String> = if needs_sql.is_empty() {
        HashMap::new()
    } else {
        let names = serde_json::to_string(&needs_sql)
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))
            .map_err(err("index names"))?;
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(INDEX_SQL)
            .bind(names)
            .fetch_all(&mut *c)
            .await
            .map_err(err("index SQL"))?;
        rows.into_iter()
            .filter_map(|(n, s)| s.map(|s| (n, s)))
            .collect()
    };
    let others: Vec<MasterRow> = sqlx::query_as(MASTER)
        .fetch_all(&mut *c)
        .await
        .map_err(err("sqlite_master"))?;
    drop(c);
    let mut schema = build(tables, views, &index_sql);
    add_other_objects(&mut schema, others);
    // As written (SQLite keeps the text): the statement that made it, which is also the
    // one that makes it again.
    for (name, table, sql) in triggers {
        let definition = sql
            .unwrap_or_default()
            .trim()
            .trim_end_matches(';')
            .trim_end()
            .to_string();
        schema.add_trigger(Trigger {
            name,
            table,
            definition,
        });
    }
    Ok(schema)
}

/// Every `sqlite_master` row but the tables, indexes, views and triggers read above:
/// virtual tables, and whatever a later SQLite may add. Shadow tables (a virtual
/// table's storage, which `pragma_table_list` marks as such) belong to their virtual
/// table.
const MASTER: &str = "WITH tl AS MATERIALIZED (SELECT name, type FROM pragma_table_list \
    WHERE schema = 'main') \
  SELECT m.type, m.name, m.sql FROM sqlite_master m LEFT JOIN tl ON tl.name = m.name \
  WHERE m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
  AND NOT (m.type IN ('index', 'view', 'trigger')) \
  AND NOT (m.type = 'table' AND coalesce(tl.type, 'table') IN ('table', 'shadow'))";

/// `[type, name, sql]` of [`MASTER`].
type MasterRow = (String, String, Option<String>);

/// Virtual tables as objects, their statement as SQLite keeps it; anything else by
/// kind and name, to be reported.
fn add_other_objects(schema: &mut Schema, rows: Vec<MasterRow>) {
    for (kind, name, sql) in rows {
        let sql = sql
            .unwrap_or_default()
            .trim()
            .trim_end_matches(';')
            .trim_end()
            .to_string();
        let virtual_table = kind == "table" && !sql.is_empty();
        let drop = format!("DROP TABLE \"{}\"", name.replace('"', "\"\""));
        schema.add_object(Object {
            kind: if virtual_table {
                "virtual table".into()
            } else {
                kind.clone()
            },
            name,
            table: None,
            definition: sql.clone(),
            create: (virtual_table || !sql.is_empty()).then(|| vec![sql]),
            drop: virtual_table.then(|| vec![drop]),
            // Before the tables, views and triggers: a view may read a virtual
            // table and a trigger keep one up to date.
            stage: Stage::AfterFunctions,
            modelled: virtual_table,
        });
    }
}

/// The schema the pragmas and the stored SQL describe, but the triggers.
fn build(
    tables: Vec<TableJson>,
    views: Vec<(String, Option<String>)>,
    index_sql: &HashMap<String, String>,
) -> Schema {
    let mut schema = Schema::default();
    for (name, sql) in views {
        schema.views.insert(
            name.clone(),
            View {
                name,
                definition: view_query(sql.as_deref().unwrap_or("")),
            },
        );
    }
    // Foreign keys wait for every table's primary key: `REFERENCES t` names t's.
    let mut later: Vec<(String, Vec<ForeignKeyJson>, CreateTable)> =
        Vec::with_capacity(tables.len());
    for (name, sql, columns, indexes, foreign_keys, without_rowid, strict) in tables {
        let mut text = parse_create_table(sql.as_deref().unwrap_or(""));
        let mut t = Table::new(name);
        t.without_rowid = without_rowid != 0;
        t.strict = strict != 0;
        add_columns(&mut t, &mut text, columns);
        add_indexes(&mut t, &mut text, indexes, index_sql);
        // CHECK constraints, from the SQL text.
        t.checks = std::mem::take(&mut text.checks)
            .into_iter()
            .map(|(name, expression)| Check {
                name,
                expression,
                not_valid: false,
            })
            .collect();
        later.push((t.name.clone(), foreign_keys, text));
        schema.add_table(t);
    }
    for (table, rows, mut text) in later {
        let foreign_keys = foreign_keys(&schema, rows, &mut text);
        if let Some(t) = schema.table_mut(&table) {
            t.foreign_keys = foreign_keys;
        }
    }
    schema
}

/// Adds a table's columns, in order, and its primary key.
fn add_columns(t: &mut Table, text: &mut CreateTable, mut columns: Vec<ColumnJson>) {
    columns.sort_by_key(|c| c.0);
    let mut pk: Vec<(i64, String)> = Vec::new();
    for (_, name, ty, notnull, default, pk_position, hidden) in columns {
        // Hidden columns of virtual tables are not columns of the schema.
        if hidden == 1 {
            continue;
        }
        let col_text = text
            .columns
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(&name));
        let autoincrement = col_text.as_ref().is_some_and(|c| c.autoincrement);
        let generated_text = col_text.and_then(|c| c.generated.take());
        let declared = ty.unwrap_or_default();
        let generated = (hidden == 2 || hidden == 3).then(|| Generated {
            expression: generated_text.unwrap_or_default(),
            stored: hidden == 3,
        });
        if pk_position > 0 {
            pk.push((pk_position, name.clone()));
        }
        t.columns.push(Column {
            name,
            data_type: canonical_type(&declared),
            nullable: notnull == 0 && pk_position == 0,
            default: if generated.is_some() {
                None
            } else {
                default
                    .as_deref()
                    .and_then(|d| normalize_default(d, &declared))
            },
            identity: autoincrement.then_some(Identity::AutoIncrement),
            generated,
            collation: None,
            renamed_from: None,
            ..Default::default()
        });
    }
    if !pk.is_empty() {
        pk.sort();
        t.primary_key = Some(PrimaryKey {
            name: text.pk_name.take(),
            columns: pk.into_iter().map(|(_, c)| c).collect(),
        });
    }
}

/// Adds a table's uniques and indexes (its primary key's index is the primary key).
fn add_indexes(
    t: &mut Table,
    text: &mut CreateTable,
    mut indexes: Vec<IndexJson>,
    index_sql: &HashMap<String, String>,
) {
    indexes.sort_by(|a, b| a.0.cmp(&b.0));
    for (index, unique, origin, partial, mut parts) in indexes {
        parts.sort_by_key(|p| p.0);
        match origin.as_str() {
            "pk" => {}
            "u" => {
                let columns: Vec<String> = parts.into_iter().filter_map(|p| p.2).collect();
                let name = text.take_unique_name(&columns);
                t.uniques.push(Unique { name, columns });
            }
            _ => {
                let sql = index_sql.get(&index).map(String::as_str).unwrap_or("");
                t.indexes
                    .push(created_index(index, unique != 0, partial != 0, parts, sql));
            }
        }
    }
}

/// An index made by `CREATE INDEX` (whose SQL is `sql`): expression parts and the
/// predicate are read from its text.
fn created_index(
    name: String,
    unique: bool,
    partial: bool,
    parts: Vec<PartJson>,
    sql: &str,
) -> Index {
    let (exprs, predicate) = parse_create_index(sql);
    let parts = parts
        .into_iter()
        .enumerate()
        .map(|(k, (_, cid, col, desc))| {
            let key = match col.filter(|_| cid >= 0) {
                Some(c) => IndexKey::Column(c),
                None => IndexKey::Expression(exprs.get(k).cloned().unwrap_or_default()),
            };
            IndexPart {
                key,
                descending: desc != 0,
                ..Default::default()
            }
        })
        .collect();
    Index {
        name,
        parts,
        unique,
        predicate: if partial { predicate } else { None },
        method: None,
        ..Default::default()
    }
}

/// A table's foreign keys from `pragma_foreign_key_list` (one row per column), named
/// and made deferrable as its `CREATE TABLE` text says.
fn foreign_keys(
    schema: &Schema,
    mut rows: Vec<ForeignKeyJson>,
    text: &mut CreateTable,
) -> Vec<ForeignKey> {
    rows.sort_by_key(|f| (f.0, f.1));
    let mut foreign_keys = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while let Some((id, _, target, from, to, on_update, on_delete)) = rows.next() {
        let mut columns = vec![from];
        let mut referenced = vec![to];
        while let Some((_, _, _, from, to, ..)) = rows.next_if(|r| r.0 == id) {
            columns.push(from);
            referenced.push(to);
        }
        let (referenced_table, referenced_columns) = referenced_key(schema, &target, referenced);
        let (name, deferrable) = text
            .take_fk(&columns, &target)
            .unwrap_or((None, Deferrable::NotDeferrable));
        foreign_keys.push(ForeignKey {
            name,
            columns,
            referenced_table,
            referenced_columns,
            on_delete: ReferentialAction::parse(&on_delete).unwrap_or_default(),
            on_update: ReferentialAction::parse(&on_update).unwrap_or_default(),
            deferrable,
        });
    }
    foreign_keys
}

/// The table a foreign key references (`target` as written in REFERENCES, in any
/// case) and its columns: `referenced`, or the table's primary key when REFERENCES
/// names no columns.
fn referenced_key(
    schema: &Schema,
    target: &str,
    referenced: Vec<Option<String>>,
) -> (String, Vec<String>) {
    let resolved = schema.tables.get(target).or_else(|| {
        schema
            .tables
            .values()
            .find(|t| t.name.eq_ignore_ascii_case(target))
    });
    let referenced_columns = if referenced.iter().all(Option::is_none) {
        resolved
            .and_then(|t| t.primary_key.as_ref())
            .map(|pk| pk.columns.clone())
            .unwrap_or_default()
    } else {
        referenced
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect()
    };
    let referenced_table = resolved.map_or_else(|| target.to_string(), |t| t.name.clone());
    (referenced_table, referenced_columns)
}

/// What the `CREATE TABLE` text of a table says beyond the pragmas.
#[derive(Debug, Default, PartialEq)]
struct CreateTable {
    columns: Vec<ColumnText>,
    pk_name: Option<String>,
    /// `(name, columns)` of each UNIQUE constraint.
    uniques: Vec<(Option<String>, Vec<String>)>,
    /// `(name, columns, referenced table, deferrability)` of each foreign key.
    fks: Vec<(Option<String>, Vec<String>, String, Deferrable)>,
    /// `(name, expression)` of each CHECK, column ones included.
    checks: Vec<(Option<String>, String)>,
}

#[derive(Debug, Default, PartialEq)]
struct ColumnText {
    name: String,
    autoincrement: bool,
    generated: Option<String>,
}

impl CreateTable {
    /// The name of the UNIQUE constraint on `columns` (each is used once).
    fn take_unique_name(&mut self, columns: &[String]) -> Option<String> {
        let k = self
            .uniques
            .iter()
            .position(|(_, c)| same_names(c, columns))?;
        self.uniques.remove(k).0
    }

    /// The name and deferrability of the foreign key on `columns` to `target`.
    fn take_fk(
        &mut self,
        columns: &[String],
        target: &str,
    ) -> Option<(Option<String>, Deferrable)> {
        let k = self
            .fks
            .iter()
            .position(|(_, c, t, _)| same_names(c, columns) && t.eq_ignore_ascii_case(target))?;
        let (name, _, _, d) = self.fks.remove(k);
        Some((name, d))
    }
}

fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// Words that start a table constraint in `CREATE TABLE (...)`.
fn starts_table_constraint(sql: &str, t: &Tok) -> bool {
    ["constraint", "primary", "unique", "check", "foreign"]
        .iter()
        .any(|w| t.is_word(sql, w))
}

/// The identifiers of a parenthesized column list starting at `toks[open]` (each
/// entry's first token: `(a COLLATE nocase DESC, b)` is `[a, b]`), and the index after
/// its `)`.
fn column_list(sql: &str, toks: &[Tok], open: usize) -> (Vec<String>, usize) {
    if !toks.get(open).is_some_and(|t| t.is(b'(')) {
        return (Vec::new(), open);
    }
    let close = closing(toks, open);
    let cols = split_commas(&toks[open + 1..close])
        .into_iter()
        .filter_map(|item| item.first().and_then(|t| t.ident(sql)))
        .collect();
    (cols, close + 1)
}

/// The normalized text inside the parentheses starting at `toks[open]`, and the index
/// after the `)`.
fn parenthesized(sql: &str, toks: &[Tok], open: usize) -> (Option<String>, usize) {
    if !toks.get(open).is_some_and(|t| t.is(b'(')) {
        return (None, open);
    }
    let close = closing(toks, open);
    (
        Some(normalize_expression(sql, &toks[open + 1..close])),
        close + 1,
    )
}

/// `REFERENCES t [(cols)] [ON ...] [[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]]`
/// starting at `toks[at]` (the word after REFERENCES): the table, the deferrability, and
/// the index after the clause.
fn references(sql: &str, toks: &[Tok], at: usize) -> (String, Deferrable, usize) {
    let table = toks.get(at).and_then(|t| t.ident(sql)).unwrap_or_default();
    let (_, mut k) = column_list(sql, toks, at + 1);
    let mut deferrable = false;
    let mut not = false;
    let mut deferred = false;
    let stop = [
        "constraint",
        "primary",
        "unique",
        "check",
        "default",
        "collate",
        "generated",
        "as",
        "references",
    ];
    while let Some(t) = toks.get(k) {
        if stop.iter().any(|w| t.is_word(sql, w)) {
            break;
        }
        if t.is_word(sql, "not")
            && toks
                .get(k + 1)
                .is_some_and(|n| n.is_word(sql, "deferrable"))
        {
            not = true;
        } else if t.is_word(sql, "deferrable") {
            deferrable = !not;
        } else if t.is_word(sql, "initially") {
            deferred = toks.get(k + 1).is_some_and(|n| n.is_word(sql, "deferred"));
        } else if t.is_word(sql, "not") && toks.get(k + 1).is_some_and(|n| n.is_word(sql, "null")) {
            break;
        }
        k += 1;
    }
    let d = match (deferrable, deferred) {
        (false, _) => Deferrable::NotDeferrable,
        (true, false) => Deferrable::InitiallyImmediate,
        (true, true) => Deferrable::InitiallyDeferred,
    };
    (table, d, k)
}

/// Reads a stored `CREATE TABLE` statement.
fn parse_create_table(sql: &str) -> CreateTable {
    let toks = lex(sql);
    let mut out = CreateTable::default();
    // `CREATE TABLE x AS SELECT ...` has no column definitions.
    let Some(open) = toks.iter().position(|t| t.is(b'(') || t.is_word(sql, "as")) else {
        return out;
    };
    if !toks[open].is(b'(') {
        return out;
    }
    let close = closing(&toks, open);
    for item in split_commas(&toks[open + 1..close]) {
        let Some(first) = item.first() else { continue };
        if starts_table_constraint(sql, first) {
            table_constraint(sql, item, &mut out);
        } else {
            column_definition(sql, item, &mut out);
        }
    }
    out
}

fn table_constraint(sql: &str, item: &[Tok], out: &mut CreateTable) {
    let (name, k) = if item[0].is_word(sql, "constraint") {
        (item.get(1).and_then(|t| t.ident(sql)), 2)
    } else {
        (None, 0)
    };
    let Some(kw) = item.get(k) else { return };
    if kw.is_word(sql, "primary") {
        out.pk_name = name;
    } else if kw.is_word(sql, "unique") {
        let (cols, _) = column_list(sql, item, k + 1);
        out.uniques.push((name, cols));
    } else if kw.is_word(sql, "check") {
        if let (Some(expr), _) = parenthesized(sql, item, k + 1) {
            out.checks.push((name, expr));
        }
    } else if kw.is_word(sql, "foreign") {
        // FOREIGN KEY (cols) REFERENCES t ...
        let (cols, after) = column_list(sql, item, k + 2);
        if item
            .get(after)
            .is_some_and(|t| t.is_word(sql, "references"))
        {
            let (table, d, _) = references(sql, item, after + 1);
            out.fks.push((name, cols, table, d));
        }
    }
}

fn column_definition(sql: &str, item: &[Tok], out: &mut CreateTable) {
    let Some(name) = item[0].ident(sql) else {
        return;
    };
    let mut col = ColumnText {
        name: name.clone(),
        ..ColumnText::default()
    };
    let mut pending: Option<String> = None;
    let mut k = 1;
    while let Some(t) = item.get(k) {
        if t.is(b'(') {
            k = closing(item, k) + 1;
            continue;
        }
        if t.kind != Kind::Word {
            k += 1;
            continue;
        }
        let w = t.text(sql).to_ascii_lowercase();
        match w.as_str() {
            "constraint" => {
                pending = item.get(k + 1).and_then(|t| t.ident(sql));
                k += 2;
                continue;
            }
            "check" => {
                let (expr, next) = parenthesized(sql, item, k + 1);
                if let Some(expr) = expr {
                    out.checks.push((pending.take(), expr));
                }
                k = next.max(k + 1);
                continue;
            }
            "primary" => out.pk_name = pending.take(),
            "unique" => out.uniques.push((pending.take(), vec![name.clone()])),
            "references" => {
                let (table, d, next) = references(sql, item, k + 1);
                out.fks.push((pending.take(), vec![name.clone()], table, d));
                k = next.max(k + 1);
                continue;
            }
            "autoincrement" => col.autoincrement = true,
            "as" => {
                let (expr, next) = parenthesized(sql, item, k + 1);
                col.generated = expr;
                k = next.max(k + 1);
                continue;
            }
            "not" | "null" | "default" | "collate" | "generated" => pending = None,
            _ => {}
        }
        k += 1;
    }
    out.columns.push(col);
}

/// The key parts (expressions normalized, `None`-free: a column part's text is unused)
/// and the predicate of a stored `CREATE INDEX` statement.
fn parse_create_index(sql: &str) -> (Vec<String>, Option<String>) {
    let toks = lex(sql);
    let Some(on) = toks.iter().position(|t| t.is_word(sql, "on")) else {
        return (Vec::new(), None);
    };
    let Some(open) = toks[on..].iter().position(|t| t.is(b'(')).map(|p| on + p) else {
        return (Vec::new(), None);
    };
    let close = closing(&toks, open);
    let parts = split_commas(&toks[open + 1..close])
        .into_iter()
        .map(|part| {
            let mut end = part.len();
            while end > 0
                && (part[end - 1].is_word(sql, "asc") || part[end - 1].is_word(sql, "desc"))
            {
                end -= 1;
            }
            normalize_expression(sql, &part[..end])
        })
        .collect();
    let predicate = toks
        .get(close + 1)
        .filter(|t| t.is_word(sql, "where"))
        .map(|_| normalize_expression(sql, &toks[close + 2..]));
    (parts, predicate)
}

/// The query of a stored `CREATE VIEW` statement: the text after its `AS`, normalized.
fn view_query(sql: &str) -> String {
    let toks = lex(sql);
    // The first `AS` outside parentheses: the optional column list comes before it.
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.is(b'(') {
            depth += 1;
        } else if t.is(b')') {
            depth -= 1;
        } else if depth == 0 && t.is_word(sql, "as") {
            return normalize(sql, &toks[i + 1..]);
        }
    }
    normalize_text(sql)
}

/// SQLite's declared type, canonicalized so that spellings of one type compare equal:
/// lower case, blanks folded (none around `(`, `)` and `,`), and these names made one:
///
/// | written | read as |
/// |---|---|
/// | `int`, `integer`, `int4` | `integer` |
/// | `bigint`, `int8` | `bigint` |
/// | `smallint`, `int2` | `smallint` |
/// | `varchar`, `character varying` | `varchar` |
/// | `char`, `character` | `char` |
/// | `bool`, `boolean` | `boolean` |
/// | `double`, `double precision`, `float8` | `double precision` |
/// | `real`, `float4` | `real` |
/// | `numeric`, `decimal` | `numeric` |
pub(crate) fn canonical_type(declared: &str) -> String {
    let folded = declared
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    let mut compact = String::with_capacity(folded.len());
    let chars: Vec<char> = folded.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            if matches!(prev, Some('(' | ',')) || matches!(next, Some('(' | ')' | ',')) {
                continue;
            }
        }
        compact.push(c);
    }
    let (base, params) = match compact.find('(') {
        Some(p) => compact.split_at(p),
        None => (compact.as_str(), ""),
    };
    let base = match base {
        "int" | "integer" | "int4" => "integer",
        "bigint" | "int8" => "bigint",
        "smallint" | "int2" => "smallint",
        "varchar" | "character varying" => "varchar",
        "char" | "character" => "char",
        "bool" | "boolean" => "boolean",
        "double" | "double precision" | "float8" => "double precision",
        "real" | "float4" => "real",
        "numeric" | "decimal" => "numeric",
        other => other,
    };
    format!("{base}{params}")
}

/// Whether a declared type gives numeric affinity (SQLite's rules: not TEXT, not BLOB).
fn numeric_affinity(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        return true;
    }
    if t.contains("CHAR")
        || t.contains("CLOB")
        || t.contains("TEXT")
        || t.contains("BLOB")
        || t.trim().is_empty()
    {
        return false;
    }
    true
}

/// A default as SQLite stored it, normalized: `NULL` is no default, and a quoted
/// number on a column of numeric affinity is the number.
fn normalize_default(written: &str, declared: &str) -> Option<String> {
    let d = normalize_expression(written, &lex(written));
    if d == "null" || d.is_empty() {
        return None;
    }
    if numeric_affinity(declared) {
        if let Some(inner) = d.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            if crate::driver::is_numeric_text(inner) {
                return Some(inner.to_string());
            }
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_canonical() {
        for (written, read) in [
            ("INT", "integer"),
            ("integer", "integer"),
            ("Int4", "integer"),
            ("INT8", "bigint"),
            ("varchar (20)", "varchar(20)"),
            ("CHARACTER  VARYING( 20 )", "varchar(20)"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("decimal(10,2)", "numeric(10,2)"),
            ("double precision", "double precision"),
            ("TEXT", "text"),
            ("", ""),
            ("unsigned big int", "unsigned big int"),
        ] {
            assert_eq!(canonical_type(written), read, "{written}");
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(normalize_default("'0'", "INT").as_deref(), Some("0"));
        assert_eq!(normalize_default("0", "integer").as_deref(), Some("0"));
        assert_eq!(normalize_default("'0'", "TEXT").as_deref(), Some("'0'"));
        assert_eq!(normalize_default("'-1.5'", "REAL").as_deref(), Some("-1.5"));
        assert_eq!(normalize_default("NULL", "TEXT"), None);
        assert_eq!(normalize_default("(0)", "INT").as_deref(), Some("0"));
        assert_eq!(normalize_default("('0')", "INT").as_deref(), Some("0"));
        assert_eq!(
            normalize_default("CURRENT_TIMESTAMP", "TIMESTAMP").as_deref(),
            Some("current_timestamp")
        );
        assert_eq!(
            normalize_default("'Normal'", "VARCHAR(20)").as_deref(),
            Some("'Normal'")
        );
    }

    #[test]
    fn reads_create_table_text() {
        let sql = "CREATE TABLE t (\n  id INTEGER CONSTRAINT t_pk PRIMARY KEY AUTOINCREMENT,\n  a int CHECK (a > 0) CONSTRAINT a_pos CHECK(a<100),\n  b TEXT GENERATED ALWAYS AS (a || 'x') STORED,\n  c INT AS (a+1),\n  u INT REFERENCES users DEFERRABLE INITIALLY DEFERRED,\n  v INT CONSTRAINT v_fk REFERENCES users (id) NOT DEFERRABLE,\n  CONSTRAINT uq UNIQUE (a, \"c\"),\n  UNIQUE (b),\n  CHECK (a <> c),\n  FOREIGN KEY (a, c) REFERENCES pairs (x, y) ON DELETE CASCADE DEFERRABLE\n)";
        let p = parse_create_table(sql);
        assert_eq!(p.pk_name.as_deref(), Some("t_pk"));
        assert!(p.columns[0].autoincrement);
        assert_eq!(p.columns[2].generated.as_deref(), Some("a || 'x'"));
        assert_eq!(p.columns[3].generated.as_deref(), Some("a + 1"));
        assert_eq!(
            p.checks,
            [
                (None, "a > 0".to_string()),
                (Some("a_pos".to_string()), "a < 100".to_string()),
                (None, "a <> c".to_string())
            ]
        );
        assert_eq!(
            p.uniques,
            [
                (
                    Some("uq".to_string()),
                    vec!["a".to_string(), "c".to_string()]
                ),
                (None, vec!["b".to_string()])
            ]
        );
        let fks: Vec<_> = p
            .fks
            .iter()
            .map(|(n, c, t, d)| (n.clone(), c.join(","), t.clone(), *d))
            .collect();
        assert_eq!(
            fks,
            [
                (
                    None,
                    "u".to_string(),
                    "users".to_string(),
                    Deferrable::InitiallyDeferred
                ),
                (
                    Some("v_fk".to_string()),
                    "v".to_string(),
                    "users".to_string(),
                    Deferrable::NotDeferrable
                ),
                (
                    None,
                    "a,c".to_string(),
                    "pairs".to_string(),
                    Deferrable::InitiallyImmediate
                ),
            ]
        );
    }

    #[test]
    fn reads_index_and_view_text() {
        let (parts, pred) = parse_create_index("CREATE UNIQUE INDEX ix ON t (lower( b ) DESC, a, (a + 1) ASC) WHERE a > 0 AND b IS NOT NULL");
        assert_eq!(parts, ["lower(b)", "a", "a + 1"]);
        assert_eq!(pred.as_deref(), Some("a > 0 and b is not null"));
        assert_eq!(
            view_query("CREATE VIEW v (x) AS\n  SELECT id AS x FROM users"),
            "select id as x from users"
        );
    }
}
