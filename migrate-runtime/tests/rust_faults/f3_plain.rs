// outside a transaction, without batches: fails when a `fail` mark exists
//
// revision: f3
// down_revision: f2
// transactional: false

use migrate_runtime::{MigrationContext, MigrationError, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    // Not idempotent on purpose: a second run from the top fails here.
    ctx.execute("INSERT INTO marks (id, note) VALUES (3, 'f3')").await?;
    let told = ctx.execute("UPDATE marks SET note = 'failed' WHERE note = 'fail'").await?;
    if told > 0 {
        return Err(MigrationError::other("f3 was told to fail"));
    }
    Ok(())
}
