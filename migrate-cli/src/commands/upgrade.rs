//! `migrate upgrade TARGET [--sql]`.

use crate::cli::UpgradeArgs;
use crate::error::CliError;
use crate::target::Ctx;
use indicatif::{ProgressBar, ProgressStyle};
use migrate_core::Direction;
use migrate_runtime::{AppliedState, Database, MigrateError, Migrator, Report};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upgrades every configured database (or the `-n` one) to the target.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: UpgradeArgs) -> Result<(), CliError> {
    let _ = &args.tag;
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        if args.sql {
            let (m, _) = ctx.load_for_change(t, true)?;
            let dialect = t.dialect()?;
            print_offline(ctx, &m, |m| {
                m.sql(Direction::Upgrade, &args.revision, dialect)
            })?;
            continue;
        }
        let (m, db) = if matches!(args.revision.as_str(), "head" | "heads") {
            // The usual start of a deploy is a database already at head: that needs the
            // graph and the checksums, not the SQL of every migration, and the database
            // can be read while the folder loads.
            let prefetch = ctx.prefetch(t, read_state)?;
            let listing = ctx.migrator_without_sql(t)?;
            ctx.check_sum(t, &listing)?;
            let (db, state) = ctx.prefetched(prefetch)?;
            // `head` with several heads is an error even at those heads (as in Alembic);
            // that and any other outcome (behind, edited, unreadable) is the full run's
            // to report.
            let unambiguous = args.revision == "heads" || listing.heads().len() <= 1;
            if unambiguous && state.and_then(|s| listing.check_state(&s)).is_ok() {
                ctx.block_on(db.close())?;
                continue;
            }
            (ctx.migrator(t)?, db)
        } else {
            match ctx.load_for_change(t, false)? {
                (m, Some(db)) => (m, db),
                (_, None) => continue,
            }
        };
        let result = upgrade(ctx, &m, &db, &args.revision);
        ctx.block_on(db.close())?;
        print_report(ctx, &result?, args.verbose);
    }
    Ok(())
}

/// The database's version rows and checksums, read while the folder loads.
pub(crate) async fn read_state(
    m: Migrator,
    db: Database,
) -> (Database, Result<AppliedState, MigrateError>) {
    let state = m.applied_state(&db).await;
    (db, state)
}

fn upgrade(
    ctx: &mut Ctx<'_>,
    m: &Migrator,
    db: &Database,
    target: &str,
) -> Result<Report, CliError> {
    if !ctx.printer.progress_enabled() {
        return Ok(ctx.block_on(m.upgrade(db, target))??);
    }
    // On a terminal: a bar fed by the runner's progress hook, one run under one lock.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let shown = bar.clone();
    let m = m.clone().on_progress(move |p| {
        shown.set_length(p.total as u64);
        match p.finished {
            None => shown.set_message(format!(
                "migration {} of {}: {}",
                p.index + 1,
                p.total,
                p.description
            )),
            Some(_) => shown.inc(1),
        }
    });
    let result = ctx.block_on(m.upgrade(db, target))?;
    bar.finish_and_clear();
    Ok(result?)
}

/// Writes an offline script: its `Running ...` lines on stderr, as Alembic logs them
/// in `--sql` mode, and the script on stdout.
pub(crate) fn print_offline(
    ctx: &mut Ctx<'_>,
    m: &Migrator,
    write: impl FnOnce(&Migrator) -> Result<String, MigrateError>,
) -> Result<(), CliError> {
    if ctx.printer.quiet() {
        let sql = write(m)?;
        ctx.printer.raw(&sql);
        return Ok(());
    }
    let steps = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&steps);
    let m = m.clone().on_progress(move |p| {
        if p.finished.is_none() {
            if let Ok(mut v) = seen.lock() {
                v.push(format!("Running {}", p.description));
            }
        }
    });
    let sql = write(&m)?;
    let steps = steps
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default();
    ctx.printer.info_lines(steps);
    ctx.printer.raw(&sql);
    Ok(())
}

/// Alembic's `Running upgrade a -> b, message` lines (stderr), with timings at `-v`.
pub(crate) fn print_report(ctx: &mut Ctx<'_>, report: &Report, verbose: bool) {
    ctx.printer.info_lines(report.steps.iter().map(|s| {
        if verbose {
            format!(
                "Running {} ({:.1} ms)",
                s.description,
                s.duration.as_secs_f64() * 1000.0
            )
        } else {
            format!("Running {}", s.description)
        }
    }));
}

/// A spinner on a terminal while a single database call runs.
pub(crate) fn spinner(ctx: &Ctx<'_>, msg: &str) -> Option<ProgressBar> {
    if !ctx.printer.progress_enabled() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}
