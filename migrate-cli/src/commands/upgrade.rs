//! `migrate upgrade TARGET [--sql]`.

use crate::cli::UpgradeArgs;
use crate::error::CliError;
use crate::target::Ctx;
use indicatif::{ProgressBar, ProgressStyle};
use migrate_core::Direction;
use migrate_runtime::{AppliedState, Database, MigrateError, Migrator, Report};
use std::io::Write as _;
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
            let sum = ctx.check_sum(t, &listing);
            let (db, state) = ctx.prefetched(prefetch)?;
            if let Err(e) = sum {
                match &state {
                    Ok(s) => ctx.rehash_unapplied(t, &listing, &s.current, e)?,
                    Err(_) => return Err(e),
                }
            }
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
        let result = upgrade(ctx, &m, &db, &args.revision, args.verbose);
        ctx.block_on(db.close())?;
        result?;
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
    verbose: bool,
) -> Result<Report, CliError> {
    run_shown(ctx, m, verbose, |m| async move { m.upgrade(db, target).await })
}

/// Runs `run` on a migrator whose steps are shown as they happen: a bar on a terminal,
/// and otherwise (CI, containers, `| tee`) Alembic's `Running ...` line on stderr as
/// each step starts (with `-v`, with its time as it ends), plus a `still running` line
/// every [`heartbeat_interval`] while one step lasts. Lines are written unbuffered, so a
/// failure, a kill or a pipe shows every step that started. Returns the report; its
/// lines are printed by [`print_report`] only where they were not shown live.
pub(crate) fn run_shown<'m, F, Fut>(
    ctx: &mut Ctx<'_>,
    m: &'m Migrator,
    verbose: bool,
    run: F,
) -> Result<Report, CliError>
where
    F: FnOnce(Migrator) -> Fut,
    Fut: std::future::Future<Output = Result<Report, MigrateError>> + 'm,
{
    if ctx.printer.quiet() {
        let report = ctx.block_on(run(m.clone()))??;
        return Ok(report);
    }
    if ctx.printer.progress_enabled() {
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
        let result = ctx.block_on(run(m))?;
        bar.finish_and_clear();
        let report = result?;
        print_report(ctx, &report, verbose);
        return Ok(report);
    }
    ctx.printer.flush();
    let heartbeat = Heartbeat::start(heartbeat_interval());
    let running = Arc::clone(&heartbeat.running);
    let m = m.clone().on_progress(move |p| {
        let line = match p.finished {
            None => {
                if let Ok(mut r) = running.lock() {
                    let what = p.revision.map_or_else(|| p.description.to_string(), str::to_string);
                    *r = Some((what, std::time::Instant::now()));
                }
                (!verbose).then(|| format!("Running {}\n", p.description))
            }
            Some(took) => {
                if let Ok(mut r) = running.lock() {
                    *r = None;
                }
                verbose.then(|| {
                    format!(
                        "Running {} ({:.1} ms)\n",
                        p.description,
                        took.as_secs_f64() * 1000.0
                    )
                })
            }
        };
        if let Some(line) = line {
            // Nothing more can be done if stderr is closed.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    });
    let result = ctx.block_on(run(m));
    drop(heartbeat);
    Ok(result??)
}

/// How often a step that is still running is reported when stderr is not a terminal:
/// `MIGRATE_PROGRESS_INTERVAL` seconds, 10 by default.
fn heartbeat_interval() -> Duration {
    std::env::var("MIGRATE_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

/// A thread that writes `still running revision X (N s)` while a step lasts longer
/// than the interval, and every interval after that.
struct Heartbeat {
    running: Arc<Mutex<Option<(String, std::time::Instant)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(interval: Duration) -> Heartbeat {
        let running: Arc<Mutex<Option<(String, std::time::Instant)>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (r, s) = (Arc::clone(&running), Arc::clone(&stop));
        // Without a thread the line would be printed only while the runner yields.
        let thread = std::thread::Builder::new()
            .name("migrate-heartbeat".to_string())
            .spawn(move || {
                let mut reported: Option<(String, u64)> = None;
                while !s.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::park_timeout(interval.min(Duration::from_millis(250)));
                    let Ok(guard) = r.lock() else { return };
                    let Some((what, since)) = guard.as_ref() else {
                        reported = None;
                        continue;
                    };
                    let elapsed = since.elapsed();
                    let ticks = (elapsed.as_secs_f64() / interval.as_secs_f64()) as u64;
                    let due = ticks > 0
                        && reported.as_ref().is_none_or(|(w, t)| w != what || *t < ticks);
                    if due {
                        let line = format!(
                            "still running revision {what} ({} s)\n",
                            elapsed.as_secs()
                        );
                        let _ = std::io::stderr().lock().write_all(line.as_bytes());
                        reported = Some((what.clone(), ticks));
                    }
                }
            })
            .ok();
        Heartbeat {
            running,
            stop,
            thread,
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
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

/// Alembic's `Running upgrade a -> b, message` lines (stderr), with timings at `-v`,
/// for a run shown by a bar.
fn print_report(ctx: &mut Ctx<'_>, report: &Report, verbose: bool) {
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
