// a transactional Rust migration: all or nothing
//
// revision: b4
// down_revision: b3

use migrate_runtime::{MigrationContext, MigrationError, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    assert!(ctx.in_transaction());
    ctx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100) NOT NULL)")
        .await?;
    // The connection, typed per database: any sqlx query runs on it.
    let body = format!("made on {}", ctx.dialect());
    if let Some(c) = ctx.sqlite() {
        sqlx::query("INSERT INTO notes (id, body) VALUES (1, ?)").bind(&body).execute(c).await?;
    } else if let Some(c) = ctx.postgres() {
        sqlx::query("INSERT INTO notes (id, body) VALUES (1, $1)").bind(&body).execute(c).await?;
    } else if let Some(c) = ctx.mysql() {
        sqlx::query("INSERT INTO notes (id, body) VALUES (1, ?)").bind(&body).execute(c).await?;
    } else {
        return Err(MigrationError::other("unexpected database"));
    }
    // Fails when an item 0 exists: then nothing of this migration stays (on the
    // databases with transactional DDL).
    ctx.execute("INSERT INTO items (id, n) VALUES (0, 0)").await?;
    ctx.execute("DELETE FROM items WHERE id = 0").await?;
    Ok(())
}

pub async fn downgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    ctx.execute("DROP TABLE notes").await?;
    Ok(())
}
