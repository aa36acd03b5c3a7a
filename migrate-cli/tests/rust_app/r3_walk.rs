// walks items in batches of 3, failing on a batch with a stop mark
//
// revision: r3
// down_revision: p2
// transactional: false

use migrate_runtime::{Backfill, MigrationContext, MigrationError, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let fill = Backfill::new("items", "id").batch_size(3);
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let range = batch.range();
            let marked = batch
                .execute(&format!("UPDATE items SET stop = 2 WHERE stop = 1 AND {range}"))
                .await?;
            if marked > 0 {
                return Err(MigrationError::other("a batch holds a stop mark"));
            }
            batch
                .execute(&format!("UPDATE items SET done = done + 1 WHERE {range}"))
                .await?;
            Ok(())
        })
    })
    .await
}
