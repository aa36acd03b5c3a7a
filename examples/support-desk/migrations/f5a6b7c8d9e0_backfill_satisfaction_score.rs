// zero-downtime 2/5: backfill score from rating
//
// revision: f5a6b7c8d9e0
// down_revision: e4f5a6b7c8d9
// branch_labels:
// depends_on:
// create_date: 2025-04-02 09:00:00
// transactional: false
//
// In batches of 100 ratings, each committed with its progress, as the guide's phase 2
// does during low traffic: the runtime's batch helper walks the table by its key and
// continues after the last committed batch when run again.

use migrate_runtime::{Backfill, MigrationContext, MigrationResult};

/// Copies `rating` into the new `score` column, 100 rows a transaction.
pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let fill = Backfill::new("customer_satisfaction", "id")
        .batch_size(100)
        .filter("score IS NULL");
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let sql = format!(
                "UPDATE customer_satisfaction SET score = rating WHERE {} AND score IS NULL",
                batch.range()
            );
            batch.execute(&sql).await?;
            Ok(())
        })
    })
    .await
}

/// Nothing to undo: the previous revision drops the column.
pub async fn downgrade(_ctx: &mut MigrationContext<'_>) -> MigrationResult {
    Ok(())
}
