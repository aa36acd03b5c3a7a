//! The declared schema run on a database (normally a scratch one) and read back.

use super::{introspect, DeclaredFailed, SchemaError};
use crate::driver::Db;
use migrate_core::lex::{tokens, Syntax, TokenKind};
use migrate_core::sql::split_statements;
use migrate_core::Dialect;
use migrate_schema::declared::{
    DeclaredError, DeclaredProblem, DeclaredProblemKind, DeclaredSchema, Piece,
};
use migrate_schema::Schema;

/// The prefix of a scratch's name (a database, or a schema of the dev database).
const SCRATCH_PREFIX: &str = "migrate_scratch_";

/// Runs the declared schema on `db`, normally a [`scratch`](super::scratch()) database: each file's SQL
/// for this database (its own section, else the shared one), file by file in path
/// order, statement by statement, in transactions of up to 100 statements where the
/// database has transactional DDL (PostgreSQL, SQLite; so a statement that cannot run
/// in a transaction, such as `CREATE INDEX CONCURRENTLY`, does not belong in a declared
/// schema). The statements of a file
/// must not need those of a later file (a foreign key to a table created later fails).
///
/// A dump loads as it is (the client commands in it are followed when the files are
/// read, see [`migrate_core::sql::client_text`]), except for what only makes sense on
/// the server it came from, which is skipped: `ALTER ... OWNER TO` (the owner may not
/// exist here, and ownership is not compared) and SQLite's `CREATE TABLE
/// sqlite_sequence` (the `.schema` of a database with an `AUTOINCREMENT` table prints
/// it; SQLite makes it itself). On PostgreSQL the session settings a dump makes
/// (`SET ...`, `set_config('search_path', ...)`) are reset after loading.
///
/// # Errors
/// [`SchemaError::Declared`] naming the file, line, statement and the database's
/// message of the first statement that fails (rolled back where the database can);
/// [`SchemaError::DeclaredSchema`] for a statement naming the `public` schema where the
/// scratch is a schema inside the dev database (it would write outside the scratch);
/// [`MigrateError::Database`](crate::MigrateError::Database) (as
/// [`SchemaError::Migrate`]) when no connection can be had.
pub async fn apply_declared<'a>(
    db: impl Into<Db<'a>>,
    declared: &DeclaredSchema,
) -> Result<(), SchemaError> {
    let db = db.into();
    let dialect = db.dialect();
    let mut conn = db.acquire().await?;
    let scratch_schema = scratch_schema(&mut conn, dialect).await?;
    // Where DDL is transactional, statements go in transactions of `BATCH` statements:
    // one commit (one fsync) per batch instead of per statement, while a transaction
    // stays far below PostgreSQL's lock table (thousands of tables in one transaction
    // run out of it on a default server).
    const BATCH: usize = 100;
    let batched = dialect.transactional_ddl();
    let mut in_batch = 0usize;
    let result = async {
        for piece in declared.pieces(dialect) {
            for (line, statement) in split_statements(piece.sql) {
                if skipped(statement) {
                    continue;
                }
                if let Some(scratch) = &scratch_schema {
                    escapes_scratch(&piece, line, statement, scratch)?;
                }
                if batched && in_batch == 0 {
                    conn.begin().await.map_err(|e| {
                        SchemaError::db("cannot begin loading the declared schema", e)
                    })?;
                }
                run_declared(&mut conn, &piece, line, statement).await?;
                in_batch += 1;
                if batched && in_batch == BATCH {
                    conn.commit()
                        .await
                        .map_err(|e| SchemaError::db("cannot commit the declared schema", e))?;
                    in_batch = 0;
                }
            }
        }
        Ok::<(), SchemaError>(())
    }
    .await;
    let result = match result {
        // A dump's session settings (an empty `search_path`...) must not follow the
        // connection back to the pool, where reading the schema back would get it.
        Ok(()) if dialect == Dialect::Postgres && !(batched && in_batch > 0) => {
            conn.execute("RESET ALL").await.map(|_| ()).map_err(|e| {
                SchemaError::db("cannot reset the session after the declared schema", e)
            })
        }
        other => other,
    };
    if batched && in_batch > 0 {
        let ended = if result.is_ok() {
            conn.commit().await
        } else {
            conn.rollback().await
        };
        result?;
        ended.map_err(|e| SchemaError::db("cannot commit the declared schema", e))?;
        if dialect == Dialect::Postgres {
            conn.execute("RESET ALL").await.map_err(|e| {
                SchemaError::db("cannot reset the session after the declared schema", e)
            })?;
        }
        return Ok(());
    }
    result
}

/// The scratch schema `conn` loads into, when the scratch is a schema inside the dev
/// database (PostgreSQL, for a role that may not create databases); `None` otherwise.
async fn scratch_schema(
    conn: &mut crate::driver::Conn,
    dialect: Dialect,
) -> Result<Option<String>, SchemaError> {
    if dialect != Dialect::Postgres {
        return Ok(None);
    }
    let current = conn
        .strings("SELECT current_schema()::text")
        .await
        .map_err(|e| SchemaError::db("cannot read the current schema", e))?;
    Ok(current
        .into_iter()
        .next()
        .filter(|s| s.starts_with(SCRATCH_PREFIX)))
}

/// Whether a statement of a dump is skipped: it only makes sense on the server the
/// dump came from (see [`apply_declared`]).
fn skipped(statement: &str) -> bool {
    let words: Vec<String> = tokens(statement, Syntax::STATEMENTS)
        .filter(|t| !t.is_trivia())
        .map(|t| {
            t.unquoted()
                .map_or_else(|| t.text.to_ascii_lowercase(), |u| u.to_ascii_lowercase())
        })
        .collect();
    let owner_to = words.first().is_some_and(|w| w == "alter")
        && words.len() >= 3
        && words[words.len() - 3] == "owner"
        && words[words.len() - 2] == "to";
    let sqlite_sequence = words.starts_with(&["create".into(), "table".into()])
        && words.get(2).is_some_and(|w| w == "sqlite_sequence");
    owner_to || sqlite_sequence
}

/// Refuses a statement that names the `public` schema when the declared schema loads
/// into the scratch schema `scratch`: what it creates would land beside the dev
/// database's own tables.
fn escapes_scratch(
    piece: &Piece<'_>,
    line: usize,
    statement: &str,
    scratch: &str,
) -> Result<(), SchemaError> {
    let solid: Vec<_> = tokens(statement, Syntax::STATEMENTS)
        .filter(|t| !t.is_trivia())
        .collect();
    let names_public = solid.windows(2).any(|w| {
        let name = match w[0].kind {
            TokenKind::Word => Some(w[0].text.to_ascii_lowercase()),
            TokenKind::Quoted => w[0].unquoted().map(|u| u.into_owned()),
            _ => None,
        };
        name.as_deref() == Some("public") && w[1].is_punct(b'.')
    });
    if !names_public {
        return Ok(());
    }
    Err(SchemaError::DeclaredSchema(DeclaredError::Invalid(vec![
        DeclaredProblem {
            path: piece.path.to_string(),
            line: piece.line + line - 1,
            kind: DeclaredProblemKind::EscapesScratch {
                named: "public".to_string(),
                scratch: scratch.to_string(),
            },
        },
    ])))
}

/// Runs one statement of the declared schema; a failure names its file and line.
async fn run_declared(
    conn: &mut crate::driver::Conn,
    piece: &Piece<'_>,
    line: usize,
    statement: &str,
) -> Result<(), SchemaError> {
    conn.execute(statement).await.map(|_| ()).map_err(|source| {
        let message = match &source {
            sqlx::Error::Database(d) => d.message().to_string(),
            other => other.to_string(),
        };
        SchemaError::Declared(Box::new(DeclaredFailed {
            path: piece.path.to_string(),
            line: piece.line + line - 1,
            statement: statement.to_string(),
            message,
            source,
        }))
    })
}

/// Sets `renamed_from` on the tables and columns of `schema` from the
/// `-- migrate:renamed_from` annotations of `declared` that hold on `dialect`
/// ([`DeclaredSchema::apply_renames`], here beside the functions that produce the
/// schema it is applied to).
///
/// # Errors
/// [`SchemaError::DeclaredSchema`] naming the file and line of each annotation whose
/// table or column `schema` does not have.
pub fn apply_renames(
    schema: &mut Schema,
    declared: &DeclaredSchema,
    dialect: migrate_core::Dialect,
) -> Result<(), SchemaError> {
    Ok(declared.apply_renames(schema, dialect)?)
}

/// The schema `declared` creates: runs it on `db` (an empty [`scratch`](super::scratch()) database) with
/// [`apply_declared`], reads it back with [`introspect`] and applies the
/// `-- migrate:renamed_from` annotations. `db` is left as the declared schema made it;
/// dropping it is the caller's job.
///
/// # Errors
/// As [`apply_declared`], [`introspect`] and [`apply_renames`].
pub async fn introspect_declared<'a>(
    db: impl Into<Db<'a>>,
    declared: &DeclaredSchema,
) -> Result<Schema, SchemaError> {
    let db = db.into();
    apply_declared(db, declared).await?;
    let mut schema = introspect(db, &[]).await?;
    apply_renames(&mut schema, declared, db.dialect())?;
    Ok(schema)
}
