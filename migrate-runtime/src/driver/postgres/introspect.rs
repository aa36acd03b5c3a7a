//! PostgreSQL: eight queries on `pg_catalog` for the whole current schema (tables and
//! views, columns, constraints, indexes, enums, sequences, functions, triggers), every
//! text printed by the server itself. `information_schema` is not used: its views are
//! far slower.

use crate::error::MigrateError;
use migrate_schema::render::postgres_object_name;
use migrate_schema::{
    Check, Column, Deferrable, EnumType, ForeignKey, Function, Generated, Identity, Index,
    IndexKey, IndexPart, PrimaryKey, ReferentialAction, Schema, Sequence, Table, Trigger, Unique,
    View,
};
use std::collections::HashMap;

/// The current schema, and its tables and views not owned by an extension.
const RELATIONS: &str =
    "WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()), \
     rel AS (SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN ns ON c.relnamespace = ns.oid \
       WHERE c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition \
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
         AND d.objid = c.oid AND d.deptype = 'e'))";

pub(crate) async fn introspect(pool: &sqlx::PgPool) -> Result<Schema, MigrateError> {
    let err = |what: &'static str| {
        move |e| MigrateError::db(format!("cannot read the schema ({what})"), e)
    };
    let mut c = pool.acquire().await.map_err(err("connection"))?;

    let relations: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(&format!(
        "{RELATIONS} SELECT oid::int8, relname::text, relkind::text, \
         CASE WHEN relkind = 'v' THEN pg_get_viewdef(oid, true) END FROM rel"
    ))
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_class"))?;

    type ColumnRow = (
        i64,
        i16,
        String,
        String,
        bool,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    // A collation is only named when it is not the type's own (`typcollation`), as the
    // SQL only names it then.
    let columns: Vec<ColumnRow> = sqlx::query_as(&format!(
        "{RELATIONS} SELECT a.attrelid::int8, a.attnum, a.attname::text, \
         format_type(a.atttypid, a.atttypmod), a.attnotnull, \
         pg_get_expr(ad.adbin, ad.adrelid, true), a.attidentity::text, a.attgenerated::text, \
         CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation \
           THEN co.collname::text END \
         FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid \
         JOIN pg_type ty ON ty.oid = a.atttypid \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         WHERE rel.relkind <> 'v' AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum"
    ))
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_attribute"))?;

    type ConstraintRow = (
        i64,
        String,
        String,
        Vec<String>,
        Option<String>,
        Vec<String>,
        String,
        String,
        bool,
        bool,
        Option<String>,
        bool,
    );
    let constraints: Vec<ConstraintRow> = sqlx::query_as(&format!(
        "{RELATIONS} SELECT con.conrelid::int8, con.conname::text, con.contype::text, \
         ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) \
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i), \
         CASE WHEN fc.oid IS NULL THEN NULL \
           WHEN fc.relnamespace = (SELECT oid FROM ns) THEN fc.relname::text \
           ELSE fn.nspname || '.' || fc.relname END, \
         ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) \
           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i), \
         con.confupdtype::text, con.confdeltype::text, con.condeferrable, con.condeferred, \
         CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid, true) END, \
         con.convalidated \
         FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE con.contype IN ('p', 'u', 'f', 'c')"
    ))
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_constraint"))?;

    type IndexRow = (
        i64,
        String,
        bool,
        String,
        Option<String>,
        Vec<i16>,
        Vec<i16>,
        Vec<String>,
    );
    let indexes: Vec<IndexRow> = sqlx::query_as(&format!(
        "{RELATIONS} SELECT ix.indrelid::int8, i.relname::text, ix.indisunique, am.amname::text, \
         pg_get_expr(ix.indpred, ix.indrelid, true), \
         string_to_array(ix.indkey::text, ' ')::int2[], \
         string_to_array(ix.indoption::text, ' ')::int2[], \
         ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) \
           FROM generate_series(1, ix.indnkeyatts) k ORDER BY k) \
         FROM pg_index ix JOIN rel ON rel.oid = ix.indrelid \
         JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_am am ON am.oid = i.relam \
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con \
           WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))"
    ))
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_index"))?;

    let enums: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
         WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass \
           AND d.objid = t.oid AND d.deptype = 'e') \
         GROUP BY t.typname",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_enum"))?;

    type SequenceRow = (String, String, i64, i64, i64, i64, bool);
    let sequences: Vec<SequenceRow> = sqlx::query_as(
        "SELECT c.relname::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
         s.seqmin, s.seqmax, s.seqcycle \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
         WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
           AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_sequence"))?;

    // Functions and procedures (not aggregates or window functions) of the current
    // schema that no extension owns. `pg_get_functiondef` always names the schema:
    // it is taken off, so that a scratch schema's functions compare with the real ones.
    type FunctionRow = (String, String, bool, String, String);
    let functions: Vec<FunctionRow> = sqlx::query_as(
        "SELECT p.proname::text, oidvectortypes(p.proargtypes), p.prokind = 'p', \
         pg_get_functiondef(p.oid), quote_ident(n.nspname) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
           AND d.objid = p.oid AND d.deptype = 'e')",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_proc"))?;

    // User triggers (not those PostgreSQL makes for foreign keys) on the tables and
    // views read above.
    let triggers: Vec<(String, String, String)> = sqlx::query_as(&format!(
        "{RELATIONS} SELECT tg.tgname::text, rel.relname::text, pg_get_triggerdef(tg.oid, true) \
         FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid WHERE NOT tg.tgisinternal"
    ))
    .fetch_all(&mut *c)
    .await
    .map_err(err("pg_trigger"))?;
    drop(c);

    let mut schema = Schema::default();
    let mut names: HashMap<i64, String> = HashMap::new();
    for (oid, name, kind, view) in relations {
        if kind == "v" {
            let definition = view.unwrap_or_default();
            let definition = definition
                .trim()
                .trim_end_matches(';')
                .trim_end()
                .to_string();
            schema.views.insert(name.clone(), View { name, definition });
        } else {
            names.insert(oid, name.clone());
            schema.add_table(Table::new(name));
        }
    }

    let mut attnames: HashMap<(i64, i16), String> = HashMap::new();
    for (relid, attnum, name, data_type, notnull, default, identity, generated, collation) in
        columns
    {
        let Some(t) = names.get(&relid).and_then(|n| schema.tables.get_mut(n)) else {
            continue;
        };
        attnames.insert((relid, attnum), name.clone());
        let stored = generated == "s";
        t.columns.push(Column {
            name,
            data_type,
            nullable: !notnull,
            default: if stored { None } else { default.clone() },
            identity: match identity.as_str() {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            },
            generated: stored.then(|| Generated {
                expression: default.unwrap_or_default(),
                stored: true,
            }),
            collation,
            renamed_from: None,
        });
    }

    for (relid, name, kind, cols, ftable, fcols, upd, del, deferrable, deferred, check, valid) in
        constraints
    {
        let Some(t) = names.get(&relid).and_then(|n| schema.tables.get_mut(n)) else {
            continue;
        };
        // The part between table and label of the name PostgreSQL would have chosen: a
        // check on one column is named after it, else after the table alone.
        let (middle, label) = match kind.as_str() {
            "p" => (None, "pkey"),
            "u" => (Some(cols.join("_")), "key"),
            "f" => (Some(cols.join("_")), "fkey"),
            _ => match cols.as_slice() {
                [one] => (Some(one.clone()), "check"),
                _ => (None, "check"),
            },
        };
        // A name PostgreSQL chose is left out, as the SQL left it out.
        let name = (!generated(&name, &t.name, middle.as_deref(), label)).then_some(name);
        match kind.as_str() {
            "p" => {
                t.primary_key = Some(PrimaryKey {
                    name,
                    columns: cols,
                });
            }
            "u" => {
                t.uniques.push(Unique {
                    name,
                    columns: cols,
                });
            }
            "f" => {
                t.foreign_keys.push(ForeignKey {
                    name,
                    columns: cols,
                    referenced_table: ftable.unwrap_or_default(),
                    referenced_columns: fcols,
                    on_delete: action(&del),
                    on_update: action(&upd),
                    deferrable: match (deferrable, deferred) {
                        (false, _) => Deferrable::NotDeferrable,
                        (true, false) => Deferrable::InitiallyImmediate,
                        (true, true) => Deferrable::InitiallyDeferred,
                    },
                });
            }
            _ => {
                t.checks.push(Check {
                    name,
                    expression: check.unwrap_or_default(),
                    not_valid: !valid,
                });
            }
        }
    }

    for (relid, name, unique, method, predicate, keys, options, defs) in indexes {
        let Some(t) = names.get(&relid).and_then(|n| schema.tables.get_mut(n)) else {
            continue;
        };
        let parts = defs
            .into_iter()
            .enumerate()
            .map(|(k, def)| {
                let attnum = keys.get(k).copied().unwrap_or(0);
                let key = match attnames.get(&(relid, attnum)).filter(|_| attnum > 0) {
                    Some(column) => IndexKey::Column(column.clone()),
                    None => IndexKey::Expression(def),
                };
                // INDOPTION_DESC
                let descending = options.get(k).is_some_and(|o| o & 1 != 0);
                IndexPart { key, descending }
            })
            .collect();
        t.indexes.push(Index {
            name,
            parts,
            unique,
            predicate,
            method: (method != "btree").then_some(method),
        });
    }

    for (name, values) in enums {
        schema.enums.insert(name.clone(), EnumType { name, values });
    }
    for (name, data_type, start, increment, min_value, max_value, cycle) in sequences {
        schema.sequences.insert(
            name.clone(),
            Sequence {
                name,
                data_type,
                start,
                increment,
                min_value,
                max_value,
                cycle,
            },
        );
    }
    for (name, arguments, procedure, definition, schema_name) in functions {
        schema.add_function(Function {
            name,
            arguments,
            procedure,
            definition: unqualified_function(&definition, &schema_name),
        });
    }
    for (name, table, definition) in triggers {
        schema.add_trigger(Trigger {
            name,
            table,
            definition,
        });
    }
    Ok(schema)
}

/// `pg_get_functiondef`'s text without the schema before the function's name (`CREATE
/// OR REPLACE FUNCTION public.touch()` is `... FUNCTION touch()`), its final line break
/// or a `;`.
fn unqualified_function(definition: &str, schema: &str) -> String {
    let definition = definition.trim_end().trim_end_matches(';').trim_end();
    for kind in ["FUNCTION", "PROCEDURE"] {
        let head = format!("CREATE OR REPLACE {kind} {schema}.");
        if let Some(rest) = definition.strip_prefix(&head) {
            return format!("CREATE OR REPLACE {kind} {rest}");
        }
    }
    definition.to_string()
}

/// `pg_constraint.confupdtype` / `confdeltype`.
fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// Whether `name` is the one PostgreSQL generates for a constraint of `table` with
/// `label` (`pkey`, `key`, `fkey`, `check`), numbered (`key1`) when the first choice was
/// taken.
fn generated(name: &str, table: &str, columns: Option<&str>, label: &str) -> bool {
    if name == postgres_object_name(table, columns, label) {
        return true;
    }
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0
        && name
            == postgres_object_name(
                table,
                columns,
                &format!("{label}{}", &name[name.len() - digits..]),
            )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_definitions_lose_their_schema() {
        assert_eq!(
            unqualified_function(
                "CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\nAS $function$x$function$\n",
                "public"
            ),
            "CREATE OR REPLACE FUNCTION touch()\n RETURNS trigger\nAS $function$x$function$"
        );
        assert_eq!(
            unqualified_function(
                "CREATE OR REPLACE PROCEDURE \"My S\".p(IN a integer)",
                "\"My S\""
            ),
            "CREATE OR REPLACE PROCEDURE p(IN a integer)"
        );
    }

    #[test]
    fn generated_names() {
        assert!(generated("tickets_pkey", "tickets", None, "pkey"));
        assert!(generated("tickets_a_b_key", "tickets", Some("a_b"), "key"));
        assert!(generated(
            "tickets_user_id_fkey",
            "tickets",
            Some("user_id"),
            "fkey"
        ));
        assert!(generated(
            "tickets_priority_check1",
            "tickets",
            Some("priority"),
            "check"
        ));
        assert!(generated("tickets_check", "tickets", None, "check"));
        assert!(!generated("fk_user", "tickets", Some("user_id"), "fkey"));
        assert!(!generated("tickets_pkey", "other", None, "pkey"));
        // Long names: the longer part is shortened first, to 63 bytes in all.
        let table = "t".repeat(40);
        let col = "c".repeat(40);
        let name = postgres_object_name(&table, Some(&col), "fkey");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_fkey", "t".repeat(29), "c".repeat(28)));
    }
}
