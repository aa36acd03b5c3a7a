//! MySQL's and MariaDB's DDL: `MODIFY COLUMN` with the whole definition,
//! `AUTO_INCREMENT` put on together with the primary key, `DROP INDEX ... ON`, `DROP
//! FOREIGN KEY`, and the drops of constraints the server named, whose names are looked
//! up in `information_schema` and dropped by a prepared statement.

use super::dialect::{ColumnForm, Ddl, DdlDialect};
use super::{generated, is_literal, RenderError, Renderer, Step};
use crate::diff::{words, Change};
use crate::model::{Check, Column, ForeignKey, Identity, Index, PrimaryKey, Unique};

/// MySQL and MariaDB.
pub(crate) struct Mysql;

impl DdlDialect for Mysql {
    fn name(&self) -> &'static str {
        "MySQL"
    }

    fn quote_identifier(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    /// MySQL reads backslash escapes in literals (unless `NO_BACKSLASH_ESCAPES`).
    fn string_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''").replace('\\', "\\\\"))
    }

    /// MySQL keeps a name as written.
    fn stored_name(&self, name: &str, _quoted: bool) -> String {
        name.to_string()
    }

    /// Ignoring ASCII case: column names are case-insensitive.
    fn resolves_to(&self, name: &str, _quoted: bool, stored: &str) -> bool {
        name.eq_ignore_ascii_case(stored)
    }
}

impl Ddl for Mysql {
    fn note(&self, change: &Change) -> Option<String> {
        match change {
            Change::DropForeignKey { foreign_key: k, .. } if k.name.is_none() => {
                Some("the server named this foreign key: look its name up".into())
            }
            Change::DropUnique { unique: u, .. } if u.name.is_none() => {
                Some("the server named this unique key: look its name up".into())
            }
            Change::DropCheck { check: k, .. } if k.name.is_none() => {
                Some("the server named this check: look its name up".into())
            }
            _ => None,
        }
    }

    /// MySQL 8 wants an expression default in parentheses, except `CURRENT_TIMESTAMP`;
    /// MariaDB takes both.
    fn default_sql(&self, d: &str) -> String {
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

    fn column_options(
        &self,
        r: &Renderer<'_>,
        table: &str,
        c: &Column,
        form: ColumnForm,
    ) -> Result<String, RenderError> {
        let mut s = String::new();
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
                s.push_str(&format!(" DEFAULT {}", r.default_sql(d)));
            }
            if let Some(u) = &c.on_update {
                s.push_str(&format!(" ON UPDATE {u}"));
            }
        }
        match c.identity {
            Some(Identity::AutoIncrement) if form.auto_increment => s.push_str(" AUTO_INCREMENT"),
            Some(Identity::AutoIncrement) => {}
            Some(_) => {
                return Err(r.unsupported(
                    "identity columns (use AUTO_INCREMENT)",
                    format!("{table}.{}", c.name),
                ))
            }
            None => {}
        }
        if let Some(comment) = &c.comment {
            s.push_str(&format!(" COMMENT {}", r.lit(comment)));
        }
        Ok(s)
    }

    fn deferrable_foreign_keys(&self) -> bool {
        false
    }

    /// Functional key parts go in parentheses.
    fn index_expression(&self, e: &str) -> String {
        format!("({e})")
    }

    fn create_index(
        &self,
        r: &Renderer<'_>,
        table: &str,
        ix: &Index,
    ) -> Result<String, RenderError> {
        if ix.predicate.is_some() {
            return Err(r.unsupported("partial indexes", ix.name.clone()));
        }
        let unique = if ix.unique { "UNIQUE " } else { "" };
        let (kind, using) = match ix.method.as_deref().map(str::to_ascii_lowercase).as_deref() {
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
            r.q(&ix.name),
            r.q(table),
            r.index_parts(&ix.parts)
        ))
    }

    fn drop_index(&self, r: &Renderer<'_>, table: &str, ix: &Index) -> String {
        format!("DROP INDEX {} ON {}", r.q(&ix.name), r.q(table))
    }

    /// `AUTO_INCREMENT` waits for a primary key the list adds.
    fn add_column(
        &self,
        r: &Renderer<'_>,
        step: &Step<'_>,
        table: &str,
        column: &Column,
    ) -> Result<String, RenderError> {
        Ok(r.alter(
            table,
            format!(
                "ADD COLUMN {}",
                r.column_def(table, column, false, !step.key_added(table))?
            ),
        ))
    }

    /// `MODIFY COLUMN` with the whole definition.
    fn alter_column(
        &self,
        r: &Renderer<'_>,
        step: &Step<'_>,
        table: &str,
        _from: &Column,
        to: &Column,
    ) -> Result<Vec<String>, RenderError> {
        let target = step.info.target(step.i, table);
        Ok(vec![r.alter(
            table,
            format!(
                "MODIFY COLUMN {}",
                r.column_def(table, to, false, !step.key_added(&target))?
            ),
        )])
    }

    /// `AUTO_INCREMENT` needs the key: it is put back on with it.
    fn add_primary_key(
        &self,
        r: &Renderer<'_>,
        table: &str,
        key: &PrimaryKey,
    ) -> Result<String, RenderError> {
        let mut s = r.alter(table, format!("ADD {}", r.primary_key_clause(key)));
        if let Some(t) = r.to.tables.get(table) {
            for col in &key.columns {
                if let Some(c) = t
                    .get_column(col)
                    .filter(|c| c.identity == Some(Identity::AutoIncrement))
                {
                    s.push_str(&format!(
                        ", MODIFY COLUMN {}",
                        r.column_def(table, c, false, true)?
                    ));
                }
            }
        }
        Ok(s)
    }

    /// MySQL refuses to drop the key of an `AUTO_INCREMENT` column: the
    /// `AUTO_INCREMENT` comes off in the same statement.
    fn drop_primary_key(
        &self,
        r: &Renderer<'_>,
        table: &str,
        key: &PrimaryKey,
    ) -> Result<Vec<String>, RenderError> {
        let mut actions = Vec::new();
        if let Some(t) = r.from.tables.get(table) {
            for col in &key.columns {
                if let Some(c) = t
                    .get_column(col)
                    .filter(|c| c.identity == Some(Identity::AutoIncrement))
                {
                    actions.push(format!(
                        "MODIFY COLUMN {}",
                        r.column_def(table, c, false, false)?
                    ));
                }
            }
        }
        actions.push("DROP PRIMARY KEY".into());
        Ok(vec![r.alter(table, actions.join(", "))])
    }

    fn drop_unique(&self, r: &Renderer<'_>, table: &str, unique: &Unique) -> Vec<String> {
        match &unique.name {
            Some(n) => vec![r.alter(table, format!("DROP INDEX {}", r.q(n)))],
            None => dynamic(format!(
                "SELECT {} FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = {} AND non_unique = 0 AND ({}) GROUP BY index_name HAVING GROUP_CONCAT(column_name ORDER BY seq_in_index) = {} LIMIT 1",
                concat_name(r, &format!("ALTER TABLE {} DROP INDEX", r.q(table)), "index_name"),
                r.lit(table),
                generated_index_names(r, &unique.columns),
                r.lit(&unique.columns.join(","))
            )),
        }
    }

    fn drop_check(
        &self,
        r: &Renderer<'_>,
        table: &str,
        check: &Check,
    ) -> Result<Vec<String>, RenderError> {
        match &check.name {
            None => Ok(dynamic(check_lookup(r, table, check)?)),
            Some(n) => Ok(vec![r.alter(table, format!("DROP CONSTRAINT {}", r.q(n)))]),
        }
    }

    fn drop_foreign_key(&self, r: &Renderer<'_>, table: &str, k: &ForeignKey) -> Vec<String> {
        let drop = match &k.name {
            Some(n) => vec![r.alter(table, format!("DROP FOREIGN KEY {}", r.q(n)))],
            None => dynamic(format!(
                "SELECT {} FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = {} AND referenced_table_schema = DATABASE() AND referenced_table_name = {} GROUP BY constraint_name HAVING GROUP_CONCAT(column_name ORDER BY ordinal_position) = {} AND GROUP_CONCAT(referenced_column_name ORDER BY ordinal_position) = {} LIMIT 1",
                concat_name(r, &format!("ALTER TABLE {} DROP FOREIGN KEY", r.q(table)), "constraint_name"),
                r.lit(table),
                r.lit(&k.referenced_table),
                r.lit(&k.columns.join(",")),
                r.lit(&k.referenced_columns.join(","))
            )),
        };
        [drop, drop_foreign_key_index(r, table, k)].concat()
    }
}

/// Statements that run `ddl_select`'s one-row result, for a drop by a name the server
/// generated.
fn dynamic(ddl_select: String) -> Vec<String> {
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
fn check_lookup(r: &Renderer<'_>, table: &str, check: &Check) -> Result<String, RenderError> {
    let w = words(&check.expression);
    let mut cases = String::new();
    if let Some(t) = r.from.tables.get(table) {
        for c in t
            .columns
            .iter()
            .filter(|c| w.contains(&c.name.to_lowercase()))
        {
            let modify = r.alter(
                table,
                format!("MODIFY COLUMN {}", r.column_def(table, c, false, true)?),
            );
            cases.push_str(&format!("WHEN {} THEN {} ", r.lit(&c.name), r.lit(&modify)));
        }
    }
    let drop = concat_name(
        r,
        &format!("ALTER TABLE {} DROP CONSTRAINT", r.q(table)),
        "tc.constraint_name",
    );
    let pick = if cases.is_empty() {
        drop
    } else {
        format!("CASE tc.constraint_name {cases}ELSE {drop} END")
    };
    Ok(format!(
        "SELECT {pick} FROM information_schema.table_constraints tc JOIN information_schema.check_constraints cc ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = tc.constraint_name WHERE tc.table_schema = DATABASE() AND tc.table_name = {} AND tc.constraint_type = 'CHECK' AND cc.check_clause = {} LIMIT 1",
        r.lit(table),
        r.lit(&check.expression)
    ))
}

/// MySQL creates an index for a foreign key that has none (named after the
/// constraint, or its first column), which introspection does not list and which
/// stays when the key goes: drop it too, when it is there.
fn drop_foreign_key_index(r: &Renderer<'_>, table: &str, k: &ForeignKey) -> Vec<String> {
    let mut names = generated_index_names(r, &k.columns);
    if let Some(n) = &k.name {
        names.push_str(&format!(" OR index_name = {}", r.lit(n)));
    }
    let lookup = format!(
        "SELECT CONCAT('DROP INDEX `', REPLACE(index_name, '`', '``'), {}) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = {} AND non_unique = 1 AND ({names}) GROUP BY index_name HAVING GROUP_CONCAT(column_name ORDER BY seq_in_index) = {} LIMIT 1",
        r.lit(&format!("` ON {}", r.q(table))),
        r.lit(table),
        r.lit(&k.columns.join(","))
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
fn generated_index_names(r: &Renderer<'_>, columns: &[String]) -> String {
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
        r.lit(&first),
        r.lit(&format!("^{escaped}_[0-9]+$"))
    )
}

fn concat_name(r: &Renderer<'_>, prefix: &str, column: &str) -> String {
    format!(
        "CONCAT({}, REPLACE({column}, '`', '``'), '`')",
        r.lit(&format!("{prefix} `"))
    )
}

#[cfg(test)]
mod tests {
    use crate::diff::diff;
    use crate::model::{Column, Index, IndexPart, Schema, Table};
    use crate::render::{render, RenderOptions};
    use migrate_core::Dialect;

    fn sessions(ts: Column) -> Schema {
        let mut s = Schema::default();
        let mut t = Table::new("sessions")
            .column(Column::new("id", "int(11)").not_null())
            .column(ts)
            .primary_key(&["id"]);
        t.indexes.push(Index {
            name: "ix_note".into(),
            parts: vec![IndexPart {
                length: Some(10),
                ..IndexPart::column("note")
            }],
            ..Index::default()
        });
        t.columns.push(Column {
            collation: Some("utf8mb3_general_ci".into()),
            comment: Some("it's free text".into()),
            ..Column::new("note", "varchar(40)")
        });
        s.add_table(t);
        s
    }

    fn ts(on_update: Option<&str>) -> Column {
        Column {
            on_update: on_update.map(str::to_string),
            ..Column::new("ts", "timestamp")
                .not_null()
                .default_expr("current_timestamp()")
        }
    }

    #[test]
    fn on_update_collation_comment_and_prefix_are_written() {
        let to = sessions(ts(Some("current_timestamp()")));
        let d = diff(&Schema::default(), &to).unwrap();
        let r = render(
            &d,
            &Schema::default(),
            &to,
            Dialect::Mysql,
            &RenderOptions::default(),
        )
        .unwrap();
        for wanted in [
            "ts timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()",
            "note varchar(40) COLLATE `utf8mb3_general_ci` NULL COMMENT 'it''s free text'",
            "CREATE INDEX ix_note ON sessions (note(10));",
        ] {
            assert!(r.upgrade.contains(wanted), "{wanted}\n{}", r.upgrade);
        }
        // Losing ON UPDATE is a column change, written with the whole column.
        let from = sessions(ts(None));
        let d = diff(&from, &to).unwrap();
        assert_eq!(
            d.changes.iter().map(|c| c.describe()).collect::<Vec<_>>(),
            ["alter column sessions.ts: on update none -> current_timestamp()"]
        );
        let r = render(&d, &from, &to, Dialect::Mysql, &RenderOptions::default()).unwrap();
        assert_eq!(
            r.upgrade,
            "ALTER TABLE sessions MODIFY COLUMN ts timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp();\n"
        );
    }
}
