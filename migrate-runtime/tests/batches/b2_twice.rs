// twice in batches, in Rust
//
// revision: b2
// down_revision: b1
// transactional: false

use migrate_runtime::{Backfill, MigrationContext, MigrationResult};
use std::time::Duration;

/// Batches of 1,000; `MIGRATE_TEST_PAUSE_MS` slows them down for the kill test.
pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    let pause = std::env::var("MIGRATE_TEST_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fill = Backfill::new("items", "id")
        .batch_size(1000)
        .pause(Duration::from_millis(pause));
    ctx.backfill(&fill, |batch| {
        Box::pin(async move {
            let sql = format!(
                "UPDATE items SET twice = n * 2, twice_runs = twice_runs + 1 WHERE {}",
                batch.range()
            );
            batch.execute(&sql).await?;
            Ok(())
        })
    })
    .await
}

pub async fn downgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    ctx.execute("UPDATE items SET twice = NULL, twice_runs = 0").await?;
    Ok(())
}
