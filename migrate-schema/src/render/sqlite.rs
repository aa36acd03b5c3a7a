//! SQLite's DDL: its `ALTER TABLE` only renames tables and columns, adds columns
//! (without a non-constant default, not `NOT NULL` without a default, not stored
//! generated) and drops unconstrained ones; any other change to a table rebuilds it
//! ([`rebuild`]). Foreign keys live inside `CREATE TABLE`; `AUTOINCREMENT` on the column
//! of a one-column `INTEGER PRIMARY KEY`.

mod rebuild;

use super::dialect::{ColumnForm, Ddl, DdlDialect};
use super::{generated, is_literal, postgres, Block, ListInfo, RenderError, Renderer, Step};
use crate::diff::Change;
use crate::model::{Check, Column, ForeignKey, Identity, Index, PrimaryKey, Table, Unique};

/// SQLite.
pub(crate) struct Sqlite;

impl DdlDialect for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn quote_identifier(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    fn string_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// SQLite keeps a name as written.
    fn stored_name(&self, name: &str, _quoted: bool) -> String {
        name.to_string()
    }

    /// Ignoring ASCII case: table and column names are case-insensitive.
    fn resolves_to(&self, name: &str, _quoted: bool, stored: &str) -> bool {
        name.eq_ignore_ascii_case(stored)
    }
}

impl Ddl for Sqlite {
    fn group_reasons(&self, changes: &[Change], reasons: &mut [Option<String>]) {
        rebuild::group_reasons(changes, reasons);
    }

    fn blocks(
        &self,
        r: &Renderer<'_>,
        changes: &[Change],
        reasons: &[Option<String>],
        info: &ListInfo,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Block>, RenderError> {
        rebuild::blocks(r, changes, reasons, info, warnings)
    }

    /// SQLite reports `DEFAULT (expr)` without its parentheses, which an expression
    /// needs back; a literal reads the same either way.
    fn default_sql(&self, d: &str) -> String {
        if is_literal(d) || is_current_keyword(d) {
            d.to_string()
        } else {
            format!("({d})")
        }
    }

    fn column_options(
        &self,
        r: &Renderer<'_>,
        table: &str,
        c: &Column,
        form: ColumnForm,
    ) -> Result<String, RenderError> {
        let object = || format!("{table}.{}", c.name);
        let mut s = String::new();
        match c.identity {
            Some(Identity::AutoIncrement) if form.autoincrement_key => {
                s.push_str(" PRIMARY KEY AUTOINCREMENT")
            }
            Some(Identity::AutoIncrement) => {
                return Err(r.unsupported(
                    "AUTOINCREMENT outside a one-column INTEGER PRIMARY KEY",
                    object(),
                ))
            }
            Some(_) => return Err(r.unsupported("identity columns", object())),
            None => {}
        }
        if !c.nullable {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT {}", r.default_sql(d)));
        }
        if let Some(g) = &c.generated {
            s.push_str(&generated(g));
        }
        Ok(s)
    }

    /// `AUTOINCREMENT` belongs to a one-column `INTEGER PRIMARY KEY`, on the column.
    fn autoincrement_key(&self, t: &Table) -> Option<String> {
        let k = t.primary_key.as_ref().filter(|k| k.columns.len() == 1)?;
        t.get_column(&k.columns[0])
            .is_some_and(|c| c.identity == Some(Identity::AutoIncrement))
            .then(|| k.columns[0].clone())
    }

    fn foreign_keys_in_create_table(&self) -> bool {
        true
    }

    fn table_options(&self) -> bool {
        true
    }

    /// SQLite keeps the text as written (and reads it back so).
    fn index_expression(&self, e: &str) -> String {
        e.to_string()
    }

    fn create_index(
        &self,
        r: &Renderer<'_>,
        table: &str,
        ix: &Index,
    ) -> Result<String, RenderError> {
        if ix.method.is_some() {
            return Err(r.unsupported("index methods", ix.name.clone()));
        }
        let unique = if ix.unique { "UNIQUE " } else { "" };
        let mut s = format!(
            "CREATE {unique}INDEX {} ON {} ({})",
            r.q(&ix.name),
            r.q(table),
            r.index_parts(&ix.parts)
        );
        if let Some(p) = &ix.predicate {
            s.push_str(&format!(" WHERE {p}"));
        }
        Ok(s)
    }

    // The changes below rebuild the table when it exists (`rebuild.rs`) and are not
    // written alone; a diff made by hand that asks for them gets PostgreSQL's forms.

    fn alter_column(
        &self,
        r: &Renderer<'_>,
        _step: &Step<'_>,
        table: &str,
        from: &Column,
        to: &Column,
    ) -> Result<Vec<String>, RenderError> {
        Ok(postgres::alter_column(r, table, from, to))
    }

    fn drop_primary_key(
        &self,
        r: &Renderer<'_>,
        table: &str,
        key: &PrimaryKey,
    ) -> Result<Vec<String>, RenderError> {
        Ok(postgres::drop_primary_key(r, table, key))
    }

    fn drop_unique(&self, r: &Renderer<'_>, table: &str, unique: &Unique) -> Vec<String> {
        postgres::drop_unique(r, table, unique)
    }

    fn drop_check(
        &self,
        r: &Renderer<'_>,
        table: &str,
        check: &Check,
    ) -> Result<Vec<String>, RenderError> {
        Ok(postgres::drop_check(r, table, check))
    }

    fn drop_foreign_key(&self, r: &Renderer<'_>, table: &str, key: &ForeignKey) -> Vec<String> {
        postgres::drop_foreign_key(r, table, key)
    }
}

/// Whether SQLite's `ALTER TABLE ADD COLUMN` takes the column.
pub(crate) fn simple_add(c: &Column) -> bool {
    c.identity.is_none()
        && c.generated.as_ref().is_none_or(|g| !g.stored)
        && c.default.as_ref().is_none_or(|d| is_literal(d))
        && (c.nullable
            || c.default
                .as_ref()
                .is_some_and(|d| !d.trim().eq_ignore_ascii_case("null")))
}

fn is_current_keyword(d: &str) -> bool {
    matches!(
        d.trim().to_ascii_uppercase().as_str(),
        "CURRENT_TIMESTAMP" | "CURRENT_TIME" | "CURRENT_DATE"
    )
}
