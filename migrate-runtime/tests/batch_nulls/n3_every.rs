// a walk over every row, whose key may be NULL
//
// revision: n3
// down_revision: n2
// transactional: false

use migrate_runtime::{Backfill, MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let fill = Backfill::new("loose", "k").batch_size(2);
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let sql = format!("UPDATE loose SET b_runs = b_runs + 1 WHERE {}", batch.range());
            batch.execute(&sql).await?;
            Ok(())
        })
    })
    .await
}
