//! `migrate check`.

use crate::error::CliError;
use crate::target::Ctx;

/// Fails unless the folder is valid, `migrations.sum` matches, there is one head (or
/// several are allowed), the database is at every head and no applied migration was
/// edited. Every problem found is reported; the exit code is the first one's.
pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        let prefetch = ctx.prefetch(t, super::upgrade::read_state)?;
        let m = ctx.migrator_without_sql(t)?;
        let mut problems: Vec<CliError> = Vec::new();
        if let Err(e) = ctx.check_sum(t, &m) {
            problems.push(e);
        }
        if let Err(e) = ctx.check_single_head(t, &m) {
            problems.push(e);
        }
        let (db, state) = ctx.prefetched(prefetch)?;
        ctx.block_on(db.close())?;
        let state = state?;
        problems.extend(m.check_problems(&state).into_iter().map(CliError::from));
        if problems.len() > 1 {
            return Err(CliError::Problems(problems));
        }
        if let Some(problem) = problems.pop() {
            return Err(problem);
        }
        let at = if state.current.is_empty() {
            "<base>".to_string()
        } else {
            state.current.join(", ")
        };
        ctx.printer.line(format!(
            "Database is up to date at {at}; no migrations pending."
        ));
    }
    Ok(())
}
