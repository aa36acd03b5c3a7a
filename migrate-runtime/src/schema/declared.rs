//! The declared schema run on a database (normally a scratch one) and read back.

use super::{introspect, DeclaredFailed, SchemaError};
use crate::driver::Db;
use migrate_core::sql::split_statements;
use migrate_schema::declared::DeclaredSchema;
use migrate_schema::Schema;

/// Runs the declared schema on `db`, normally a [`scratch`](super::scratch()) database: each file's SQL
/// for this database (its own section, else the shared one), file by file in path
/// order, statement by statement, in transactions of up to 100 statements where the
/// database has transactional DDL (PostgreSQL, SQLite; so a statement that cannot run
/// in a transaction, such as `CREATE INDEX CONCURRENTLY`, does not belong in a declared
/// schema). The statements of a file
/// must not need those of a later file (a foreign key to a table created later fails).
///
/// # Errors
/// [`SchemaError::Declared`] naming the file, line, statement and the database's
/// message of the first statement that fails (rolled back where the database can);
/// [`MigrateError::Database`](crate::MigrateError::Database) (as
/// [`SchemaError::Migrate`]) when no connection can be had.
pub async fn apply_declared<'a>(
    db: impl Into<Db<'a>>,
    declared: &DeclaredSchema,
) -> Result<(), SchemaError> {
    let db = db.into();
    let dialect = db.dialect();
    let mut conn = db.acquire().await?;
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
    if batched && in_batch > 0 {
        let ended = if result.is_ok() {
            conn.commit().await
        } else {
            conn.rollback().await
        };
        result?;
        ended.map_err(|e| SchemaError::db("cannot commit the declared schema", e))?;
        return Ok(());
    }
    result
}

/// Runs one statement of the declared schema; a failure names its file and line.
async fn run_declared(
    conn: &mut crate::driver::Conn,
    piece: &migrate_schema::declared::Piece<'_>,
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
