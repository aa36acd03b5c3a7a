// a transactional Rust migration that panics when a `panic` mark exists
//
// revision: f2
// down_revision: f1

use migrate_runtime::{MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    ctx.execute("INSERT INTO marks (id, note) VALUES (2, 'f2')").await?;
    // Rows changed: the marks whose note is `panic` (none, or one).
    let told = ctx.execute("UPDATE marks SET note = 'panicked' WHERE note = 'panic'").await?;
    if told > 0 {
        panic!("f2 was told to panic");
    }
    Ok(())
}
