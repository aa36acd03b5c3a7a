// walks the marks one by one, panicking inside the batch of a `boom` mark
//
// revision: f4
// down_revision: f3
// transactional: false

use migrate_runtime::{Backfill, MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let fill = Backfill::new("marks", "id").batch_size(1);
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let range = batch.range();
            // Written in the batch's transaction before the panic: rolled back with it.
            let boom = batch
                .execute(&format!("UPDATE marks SET note = 'exploded' WHERE note = 'boom' AND {range}"))
                .await?;
            if boom > 0 {
                panic!("batch {} hit a boom mark", batch.number());
            }
            batch
                .execute(&format!("UPDATE marks SET note = 'walked' WHERE {range}"))
                .await?;
            Ok(())
        })
    })
    .await
}
