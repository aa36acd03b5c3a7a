// v in batches of 1,000, with the batch helper
//
// revision: k2
// down_revision: k1
// transactional: false

use migrate_runtime::{Backfill, MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let fill = Backfill::new("items", "id").batch_size(1000);
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let sql = format!("UPDATE items SET v = n * 2 WHERE {}", batch.range());
            batch.execute(&sql).await?;
            Ok(())
        })
    })
    .await
}
