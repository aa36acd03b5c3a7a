// a walk that leaves the NULL keys out on purpose
//
// revision: n2
// down_revision: n1
// transactional: false

use migrate_runtime::{Backfill, MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let fill = Backfill::new("loose", "k").batch_size(2).filter("k IS NOT NULL");
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let sql = format!("UPDATE loose SET a = 1 WHERE {}", batch.range());
            batch.execute(&sql).await?;
            Ok(())
        })
    })
    .await
}
