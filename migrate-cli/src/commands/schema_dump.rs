//! `migrate schema dump [--to DIR] [--split] [--force]`: a live database's schema
//! written as a declared schema folder, as `revision --autogenerate` would create it
//! from nothing. It only reads the database.

use crate::cli::SchemaDumpArgs;
use crate::error::CliError;
use crate::target::{dialect_of, Ctx};
use migrate_core::lex::{tokens, Syntax, TokenKind};
use migrate_core::sql::split_statements;
use migrate_core::{Dialect, ScriptDirectory};
use migrate_runtime::schema::model::{diff, render, RenderOptions, Schema};
use migrate_runtime::schema::SchemaError;
use migrate_runtime::{mask_url, ConnectOptions, Database, Migrator};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The folder a dump goes to when neither `--to` nor `schema_location` names one.
pub(crate) const DEFAULT_FOLDER: &str = "schema";

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Written {
    /// The folder written.
    folder: String,
    /// The files written, in load order.
    files: Vec<String>,
    /// Objects the model writes but does not know, to review.
    warnings: Vec<String>,
}

/// Reads the database and writes its schema into the folder.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: SchemaDumpArgs) -> Result<(), CliError> {
    let (url, migrator, configured) = source(ctx)?;
    let to = args
        .to
        .clone()
        .or(configured)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FOLDER));
    prepare_folder(&to, args.force)?;
    let dialect = dialect_of(&url)?;
    let live = read_live(ctx, &url, &migrator)?;
    let dump = render_dump(&live, dialect, args.split, &mask_url(&url))?;
    let files = write_files(&to, &dump.files)?;
    if args.output.is_json() {
        ctx.printer.json(&Written {
            folder: to.display().to_string(),
            files: files.iter().map(|f| f.display().to_string()).collect(),
            warnings: dump.warnings,
        });
        return Ok(());
    }
    for w in &dump.warnings {
        ctx.printer.info(format!("warning: {w}"));
    }
    for f in &files {
        ctx.printer
            .status(format!("Generating {} ...  done", f.display()));
    }
    Ok(())
}

/// The database to read, a migrator that knows the version and history tables to
/// leave out, and the configured schema folder: from the configuration when there is
/// one, else from `--database-url` (or `DATABASE_URL`) alone.
fn source(ctx: &mut Ctx<'_>) -> Result<(String, Migrator, Option<PathBuf>), CliError> {
    if ctx.global.config.is_some() || ctx.config_path().is_file() {
        let t = ctx.single_target("schema dump")?;
        let m = ctx.migrator_without_sql(&t)?;
        return Ok((
            t.section.database_url.clone(),
            m,
            t.section.schema_location.clone(),
        ));
    }
    let url = ctx
        .global
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .ok_or(CliError::NoDatabaseUrl)?;
    Ok((
        url,
        Migrator::from_directory(ScriptDirectory::from_scripts(Vec::new())?),
        None,
    ))
}

/// Refuses a folder with files in it unless `force`, which removes its `.sql` files
/// (they would be loaded beside the new ones).
pub(crate) fn prepare_folder(dir: &Path, force: bool) -> Result<(), CliError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let entries: Vec<_> = entries.filter_map(Result::ok).collect();
    if entries.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(CliError::Usage(format!(
            "`{}` is not empty; pass --force to replace its .sql files, or --to another folder",
            dir.display()
        )));
    }
    remove_sql_files(dir)
}

/// Removes the `.sql` files under `dir`, in subfolders too (the declared schema reads
/// them all).
fn remove_sql_files(dir: &Path) -> Result<(), CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::io("read", dir, e))?;
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        if path.is_dir() {
            remove_sql_files(&path)?;
        } else if path.extension().is_some_and(|x| x == "sql") {
            std::fs::remove_file(&path).map_err(|e| CliError::io("remove", &path, e))?;
        }
    }
    Ok(())
}

/// The live schema of `url`, without the migrator's own tables.
pub(crate) fn read_live(
    ctx: &mut Ctx<'_>,
    url: &str,
    migrator: &Migrator,
) -> Result<Schema, CliError> {
    let own = migrator.own_tables();
    let url = url.to_string();
    ctx.block_on(async move {
        let opts = ConnectOptions::default().create_if_missing(false);
        let db = Database::connect_with(&url, &opts).await?;
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        let schema = migrate_runtime::schema::introspect(&db, &own).await;
        db.close().await;
        Ok::<Schema, CliError>(schema?)
    })?
}

/// A dump: its files (name relative to the folder, text) and the warnings of the
/// rendering.
pub(crate) struct Dump {
    /// The files, in load order.
    pub files: Vec<(String, String)>,
    /// Objects written that the model does not know, to review.
    pub warnings: Vec<String>,
}

/// The schema as the DDL that creates it from nothing: one `schema.sql`, or with
/// `split` files of consecutive statements about one table each (see [`groups`]).
pub(crate) fn render_dump(
    live: &Schema,
    dialect: Dialect,
    split: bool,
    origin: &str,
) -> Result<Dump, CliError> {
    let empty = Schema::default();
    let changes = diff(&empty, live).map_err(SchemaError::from)?;
    let rendered = render(&changes, &empty, live, dialect, &RenderOptions::default())?;
    let mut warnings: Vec<String> = changes.warnings.iter().map(|w| w.to_string()).collect();
    warnings.extend(rendered.warnings.iter().map(|w| w.to_string()));
    let header = format!(
        "-- The schema of {origin}, written by `migrate schema dump`.\n-- Edit it as the schema you want: `migrate revision --autogenerate` writes the migration.\n"
    );
    let upgrade = rendered.upgrade.trim();
    let files = if !split {
        vec![("schema.sql".to_string(), format!("{header}\n{upgrade}\n"))]
    } else {
        let groups = groups(upgrade);
        let width = groups.len().to_string().len().max(3);
        groups
            .into_iter()
            .enumerate()
            .map(|(i, (name, statements))| {
                let file = format!("{:0width$}_{}.sql", i + 1, file_name(&name));
                let body: String = statements.iter().map(|s| format!("{s};\n\n")).collect();
                (file, format!("{header}\n{}\n", body.trim_end()))
            })
            .collect()
    };
    Ok(Dump { files, warnings })
}

/// The statements of `sql` in runs about one table each (its `CREATE TABLE`, indexes,
/// `ALTER TABLE`s and triggers), the other statements in runs named `objects`. The
/// order of the statements is kept, so files written in this order load in path order
/// whatever depends on what.
fn groups(sql: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for (_, statement) in split_statements(sql) {
        let name = statement_table(statement).unwrap_or_else(|| "objects".to_string());
        match out.last_mut() {
            Some((last, statements)) if *last == name => statements.push(statement),
            _ => out.push((name, vec![statement])),
        }
    }
    out
}

/// The table a statement creates or changes, or that an index, trigger or comment
/// is on; `None` for other statements.
fn statement_table(statement: &str) -> Option<String> {
    let toks: Vec<_> = tokens(statement, Syntax::STATEMENTS)
        .filter(|t| !t.is_trivia())
        .collect();
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.text.to_ascii_lowercase())
    };
    // The name at `i`, its last part when qualified (`public.t`).
    let name_at = |mut i: usize| {
        let mut name = None;
        while let Some(t) = toks.get(i) {
            name = match t.kind {
                TokenKind::Word => Some(t.text.to_string()),
                TokenKind::Quoted => t.unquoted().map(|u| u.into_owned()),
                _ => return None,
            };
            if !toks.get(i + 1).is_some_and(|t| t.is_punct(b'.')) {
                break;
            }
            i += 2;
        }
        name
    };
    let after = |from: usize, w: &str| (from..toks.len()).find(|&i| word(i).as_deref() == Some(w));
    let skip = |mut i: usize, words: &[&str]| {
        while word(i).is_some_and(|w| words.contains(&w.as_str())) {
            i += 1;
        }
        i
    };
    match (word(0)?.as_str(), word(1).as_deref()) {
        ("alter", Some("table")) => name_at(skip(2, &["if", "exists", "only"])),
        ("comment", Some("on")) if matches!(word(2).as_deref(), Some("table" | "column")) => {
            let i = 3;
            // `COMMENT ON COLUMN t.c`: the table is the part before the last.
            if word(2).as_deref() == Some("column") {
                let parts: Vec<String> = toks[i..]
                    .iter()
                    .take_while(|t| !t.is_word("is"))
                    .filter(|t| !t.is_punct(b'.'))
                    .filter_map(|t| match t.kind {
                        TokenKind::Word => Some(t.text.to_string()),
                        TokenKind::Quoted => t.unquoted().map(|u| u.into_owned()),
                        _ => None,
                    })
                    .collect();
                return parts.len().checked_sub(2).map(|k| parts[k].clone());
            }
            name_at(i)
        }
        ("create", _) => {
            let kind = skip(
                1,
                &[
                    "or",
                    "replace",
                    "unique",
                    "temporary",
                    "temp",
                    "unlogged",
                    "constraint",
                    "definer",
                ],
            );
            match word(kind).as_deref() {
                Some("table") => name_at(skip(kind + 1, &["if", "not", "exists"])),
                Some("index" | "trigger") => name_at(skip(after(kind, "on")? + 1, &["only"])),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A file name part for a table name: its letters, digits and `_`, others as `_`.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the files into `dir` (created when missing); their paths.
pub(crate) fn write_files(
    dir: &Path,
    files: &[(String, String)],
) -> Result<Vec<PathBuf>, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::io("create", dir, e))?;
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| CliError::io("write", &path, e))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_grouped_by_table_in_order() {
        let sql = "CREATE TABLE a (id INT);\nCREATE UNIQUE INDEX a_id ON a (id);\nCREATE TABLE \"B\" (id INT REFERENCES a (id));\nALTER TABLE ONLY public.\"B\" ADD CONSTRAINT c CHECK (id > 0);\nCREATE VIEW v AS SELECT 1;\nCREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\nCREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\nCOMMENT ON COLUMN a.id IS 'x';";
        let got: Vec<(String, usize)> =
            groups(sql).into_iter().map(|(n, s)| (n, s.len())).collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            got,
            [(s("a"), 2), (s("B"), 2), (s("objects"), 2), (s("a"), 2)]
        );
        assert_eq!(file_name("my table"), "my_table");
    }
}
