// panics while a `panic` mark exists
//
// revision: p2
// down_revision: a1

use migrate_runtime::{MigrationContext, MigrationResult};

pub async fn upgrade(ctx: &mut MigrationContext<'_>) -> MigrationResult {
    ctx.execute("INSERT INTO marks (id, note) VALUES (2, 'p2')").await?;
    let told = ctx.execute("UPDATE marks SET note = 'panicked' WHERE note = 'panic'").await?;
    if told > 0 {
        panic!("p2 was told to panic");
    }
    Ok(())
}
