//! MySQL's and MariaDB's objects kept as the server prints them ([`Object`]): stored
//! functions and procedures, events, sequences (MariaDB), partitioning, system
//! versioning, a table's engine when it is not the server's default, its default
//! collation when it is not the database's, its comment, and every other kind of relation `TABLES` lists, by name.
//!
//! The text compared is the server's `SHOW CREATE ...` without the `DEFINER=` clause
//! (the scratch database and the real one are made by different accounts) and without
//! the `` `database`. `` qualifier; a recurring event also loses its `STARTS` time,
//! which the server sets to the moment of creation when the statement gives none.

use crate::error::MigrateError;
use migrate_core::Dialect;
use migrate_schema::model::{Object, Stage};
use migrate_schema::render::dialect;
use migrate_schema::Schema;
use sqlx::mysql::MySqlConnection;

/// One `TABLES` row, as the objects need it.
pub(super) struct TableRow {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) engine: Option<String>,
    pub(super) collation: Option<String>,
    pub(super) comment: String,
    pub(super) options: String,
}

fn q(name: &str) -> String {
    dialect(Dialect::Mysql).quote_identifier(name)
}

fn lit(s: &str) -> String {
    dialect(Dialect::Mysql).string_literal(s)
}

/// An object the model knows, with its statements.
fn object(
    kind: &str,
    name: &str,
    table: Option<&str>,
    definition: String,
    create: Vec<String>,
    drop: Vec<String>,
    stage: Stage,
) -> Object {
    Object {
        kind: kind.into(),
        name: name.into(),
        table: table.map(str::to_string),
        definition,
        create: Some(create),
        drop: Some(drop),
        stage,
        modelled: true,
    }
}

/// The objects that belong to the tables `TABLES` lists, and the relations of kinds the
/// model does not describe. `default_engine` is `@@default_storage_engine`,
/// `default_collation` the database's (`@@collation_database`).
pub(super) fn table_objects(
    schema: &mut Schema,
    rows: &[TableRow],
    default_engine: &str,
    default_collation: &str,
) {
    for r in rows {
        let t = r.name.as_str();
        match r.kind.as_str() {
            "BASE TABLE" | "SYSTEM VERSIONED" => {}
            // Views are read from `VIEWS`; sequences from `SHOW CREATE SEQUENCE`.
            "VIEW" | "SEQUENCE" => continue,
            other => {
                schema.add_object(Object {
                    kind: other.to_ascii_lowercase(),
                    name: r.name.clone(),
                    table: None,
                    definition: format!("{other} {}", r.engine.as_deref().unwrap_or("")),
                    create: None,
                    drop: None,
                    stage: Stage::Late,
                    modelled: false,
                });
                continue;
            }
        }
        if r.kind == "SYSTEM VERSIONED" {
            schema.add_object(object(
                "system versioning",
                t,
                Some(t),
                "WITH SYSTEM VERSIONING".into(),
                vec![format!("ALTER TABLE {} ADD SYSTEM VERSIONING", q(t))],
                vec![format!("ALTER TABLE {} DROP SYSTEM VERSIONING", q(t))],
                Stage::Late,
            ));
        }
        if let Some(engine) = r
            .engine
            .as_deref()
            .filter(|e| !e.eq_ignore_ascii_case(default_engine))
        {
            schema.add_object(object(
                "engine",
                t,
                Some(t),
                engine.to_string(),
                vec![format!("ALTER TABLE {} ENGINE = {engine}", q(t))],
                vec![format!("ALTER TABLE {} ENGINE = {default_engine}", q(t))],
                Stage::Late,
            ));
        }
        if let Some(collation) = r
            .collation
            .as_ref()
            .filter(|c| !c.eq_ignore_ascii_case(default_collation))
        {
            // Columns carry their own collation: this is the one a column added without
            // one would get, when the table does not take the database's (the scratch
            // database and the real one may have different defaults, which the tool's
            // statements never rely on: they name every column's collation).
            schema.add_object(object(
                "default collation",
                t,
                Some(t),
                collation.clone(),
                vec![format!(
                    "ALTER TABLE {} DEFAULT COLLATE = {collation}",
                    q(t)
                )],
                vec![format!(
                    "ALTER TABLE {} DEFAULT CHARACTER SET = DEFAULT",
                    q(t)
                )],
                Stage::Late,
            ));
        }
        if !r.comment.is_empty() {
            schema.add_object(object(
                "comment",
                &format!("on table {t}"),
                Some(t),
                lit(&r.comment),
                vec![format!(
                    "ALTER TABLE {} COMMENT = {}",
                    q(t),
                    lit(&r.comment)
                )],
                vec![format!("ALTER TABLE {} COMMENT = ''", q(t))],
                Stage::Late,
            ));
        }
    }
}

/// Reads the routines, events, sequences and partitionings, one `SHOW CREATE` each.
pub(super) async fn read(
    c: &mut MySqlConnection,
    schema: &mut Schema,
    rows: &[TableRow],
    database: &str,
) -> Result<(), MigrateError> {
    let routines = super::introspect::fetch(
        c,
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME",
        "ROUTINES",
    )
    .await?;
    for r in &routines {
        let name = super::introspect::req(r, 0).map_err(unreadable("ROUTINES"))?;
        let kind = super::introspect::req(r, 1)
            .map_err(unreadable("ROUTINES"))?
            .to_ascii_lowercase();
        let keyword = kind.to_ascii_uppercase();
        let shown = show_create(c, &format!("SHOW CREATE {keyword} {}", q(&name)), 2).await?;
        schema.add_object(shown_object(
            &kind,
            &name,
            None,
            shown.map(|s| strip_database(&strip_definer(&s), database)),
            vec![format!("DROP {keyword} IF EXISTS {}", q(&name))],
            // MySQL forbids stored functions in generated columns, defaults and
            // checks, so no table needs them; views and triggers, which may call them,
            // come after; a routine's body is resolved when it runs, so the tables it
            // reads need not exist yet.
            Stage::AfterFunctions,
        ));
    }
    let events = super::introspect::fetch(
        c,
        "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() \
         ORDER BY EVENT_NAME",
        "EVENTS",
    )
    .await?;
    for r in &events {
        let name = super::introspect::req(r, 0).map_err(unreadable("EVENTS"))?;
        let shown = show_create(c, &format!("SHOW CREATE EVENT {}", q(&name)), 3).await?;
        schema.add_object(shown_object(
            "event",
            &name,
            None,
            shown.map(|s| strip_database(&strip_starts(&strip_definer(&s)), database)),
            vec![format!("DROP EVENT IF EXISTS {}", q(&name))],
            // Events run statements on tables and views: after them.
            Stage::Late,
        ));
    }
    for r in rows {
        if r.kind == "SEQUENCE" {
            let shown = show_create(c, &format!("SHOW CREATE SEQUENCE {}", q(&r.name)), 1).await?;
            schema.add_object(shown_object(
                "sequence",
                &r.name,
                None,
                shown,
                vec![format!("DROP SEQUENCE IF EXISTS {}", q(&r.name))],
                // A column's default may take its next value.
                Stage::Early,
            ));
        } else if r.options.to_ascii_lowercase().contains("partitioned") {
            let shown = show_create(c, &format!("SHOW CREATE TABLE {}", q(&r.name)), 1).await?;
            let clause = shown.as_deref().and_then(partition_clause);
            schema.add_object(shown_object(
                "partitioning",
                &r.name,
                Some(&r.name),
                clause.map(|p| format!("ALTER TABLE {} {p}", q(&r.name))),
                vec![format!("ALTER TABLE {} REMOVE PARTITIONING", q(&r.name))],
                Stage::Late,
            ));
        }
    }
    Ok(())
}

/// An object whose definition is also its one create statement; `None` when the
/// server would not show it (a missing privilege): still compared, by name, and a
/// revision that would create it stops.
fn shown_object(
    kind: &str,
    name: &str,
    table: Option<&str>,
    shown: Option<String>,
    drop: Vec<String>,
    stage: Stage,
) -> Object {
    match shown {
        Some(definition) => object(
            kind,
            name,
            table,
            definition.clone(),
            vec![definition],
            drop,
            stage,
        ),
        None => Object {
            kind: kind.into(),
            name: name.into(),
            table: table.map(str::to_string),
            definition: format!("{kind} {name} (the server does not show its definition)"),
            create: None,
            drop: Some(drop),
            stage,
            modelled: false,
        },
    }
}

fn unreadable(what: &'static str) -> impl FnOnce(sqlx::Error) -> MigrateError {
    move |e| MigrateError::db(format!("cannot read the schema ({what})"), e)
}

/// Column `i` of a `SHOW CREATE` statement's one row.
async fn show_create(
    c: &mut MySqlConnection,
    sql: &str,
    i: usize,
) -> Result<Option<String>, MigrateError> {
    let rows = super::introspect::fetch(c, sql, "SHOW CREATE").await?;
    match rows.first() {
        Some(r) => Ok(super::introspect::text(r, i)
            .map_err(unreadable("SHOW CREATE"))?
            .map(|s| s.trim().trim_end_matches(';').trim_end().to_string())
            .filter(|s| !s.is_empty())),
        None => Ok(None),
    }
}

/// `CREATE DEFINER=`u`@`h` FUNCTION ...` as `CREATE FUNCTION ...`.
pub(super) fn strip_definer(sql: &str) -> String {
    let Some(at) = find_ignore_case(sql, "DEFINER=") else {
        return sql.to_string();
    };
    // Only the header's: the word must come right after `CREATE `.
    if !sql[..at].trim().eq_ignore_ascii_case("CREATE") {
        return sql.to_string();
    }
    let rest = &sql[at + "DEFINER=".len()..];
    let mut quote: Option<char> = None;
    let mut end = rest.len();
    for (i, ch) in rest.char_indices() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '`' || ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch.is_whitespace() => {
                end = i;
                break;
            }
            None => {}
        }
    }
    format!("{}{}", &sql[..at], rest[end..].trim_start())
}

/// A recurring event's header without `STARTS '...'`.
pub(super) fn strip_starts(sql: &str) -> String {
    let header_end = find_ignore_case(sql, " DO ").unwrap_or(sql.len());
    let Some(at) = find_ignore_case(&sql[..header_end], " STARTS '") else {
        return sql.to_string();
    };
    let after = at + " STARTS '".len();
    match sql[after..].find('\'') {
        Some(close) => format!("{}{}", &sql[..at], &sql[after + close + 1..]),
        None => sql.to_string(),
    }
}

/// The `PARTITION BY ...` clause of a `SHOW CREATE TABLE`, without MySQL's `/*!50100
/// ... */` around it.
pub(super) fn partition_clause(create: &str) -> Option<String> {
    let at = find_ignore_case(create, "PARTITION BY")?;
    let clause = create[at..].trim_end();
    let clause = clause.strip_suffix("*/").unwrap_or(clause).trim_end();
    Some(clause.to_string())
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .to_ascii_uppercase()
        .find(&needle.to_ascii_uppercase())
}

/// A statement without the `` `database`. `` before names.
fn strip_database(sql: &str, database: &str) -> String {
    if database.is_empty() {
        return sql.to_string();
    }
    sql.replace(&format!("{}.", q(database)), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_starts_and_partitions_come_off() {
        assert_eq!(
            strip_definer("CREATE DEFINER=`root`@`127.0.0.1` FUNCTION `f`() RETURNS int RETURN 1"),
            "CREATE FUNCTION `f`() RETURNS int RETURN 1"
        );
        assert_eq!(
            strip_definer("CREATE DEFINER=`a b`@`%` PROCEDURE `p`() BEGIN END"),
            "CREATE PROCEDURE `p`() BEGIN END"
        );
        assert_eq!(
            strip_definer("CREATE FUNCTION `f`() RETURNS text RETURN 'DEFINER=x'"),
            "CREATE FUNCTION `f`() RETURNS text RETURN 'DEFINER=x'"
        );
        assert_eq!(
            strip_starts("CREATE EVENT `e` ON SCHEDULE EVERY 1 HOUR STARTS '2026-12-07 19:09:03' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t"),
            "CREATE EVENT `e` ON SCHEDULE EVERY 1 HOUR ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t"
        );
        assert_eq!(
            partition_clause("CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`id`)\nPARTITIONS 2 */").as_deref(),
            Some("PARTITION BY HASH (`id`)\nPARTITIONS 2")
        );
    }
}
