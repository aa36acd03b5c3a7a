//! `migrate upgrade TARGET [--sql]`.

use crate::cli::UpgradeArgs;
use crate::error::CliError;
use crate::target::Ctx;
use indicatif::{ProgressBar, ProgressStyle};
use migrate_core::Direction;
use migrate_runtime::{
    AppliedState, Database, MigrateError, Migrator, Progress, Report, RowProgress, StopHandle,
};
use std::collections::HashSet;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upgrades every configured database (or the `-n` one) to the target.
pub(crate) fn run(ctx: &mut Ctx<'_>, args: UpgradeArgs) -> Result<(), CliError> {
    let _ = &args.run.tag;
    let targets = ctx.targets(None)?;
    for t in &targets {
        ctx.section_header(&targets, t);
        if args.run.sql {
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
        let result = upgrade(ctx, &m, &db, &args.revision, args.run.verbose);
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
    run_shown(
        ctx,
        m,
        verbose,
        |m| async move { m.upgrade(db, target).await },
    )
}

/// Runs `run` on a migrator whose steps are shown as they happen: a bar on a terminal,
/// and otherwise (CI, containers, `| tee`) Alembic's `Running ...` line on stderr as
/// each step starts (with `-v`, with its time as it ends), plus a `still running` line
/// every [`heartbeat_interval`] while one step lasts (with the rows done, the rate and
/// the time left for a batched step). Lines are written unbuffered, so a failure, a
/// kill or a pipe shows every step that started. Returns the report; its lines are
/// printed by [`print_report`] only where they were not shown live. Ctrl-C is
/// [`drive`]'s.
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
    let stop = StopHandle::new();
    let batched = Batched::of(m);
    // SQLite runs inline (no hand-off to sqlx's thread per request); a Ctrl-C then
    // reaches a long statement through the stop handle's interrupt (see `drive`).
    let m = m.clone().stop_handle(stop.clone()).sqlite_inline(true);
    if ctx.printer.quiet() {
        let track = batched.clone();
        let m = m.on_progress(move |p| track.see(p));
        let report = drive(ctx, run(m), &stop, &batched)??;
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
        let track = batched.clone();
        let m = m.on_progress(move |p| {
            track.see(p);
            if let Some(line) = resume_line(p) {
                shown.println(line);
                return;
            }
            shown.set_length(p.total as u64);
            let step = format!(
                "migration {} of {}: {}",
                p.index + 1,
                p.total,
                p.description
            );
            match (p.finished, p.rows) {
                (None, Some(rows)) => shown.set_message(format!("{step}: {}", rows_text(&rows))),
                (None, None) => shown.set_message(step),
                (Some(_), _) => shown.inc(1),
            }
        });
        let result = drive(ctx, run(m), &stop, &batched);
        bar.finish_and_clear();
        let report = result??;
        print_report(ctx, &report, verbose);
        return Ok(report);
    }
    ctx.printer.flush();
    let heartbeat = Heartbeat::start(heartbeat_interval());
    let running = Arc::clone(&heartbeat.running);
    let track = batched.clone();
    let m = m.on_progress(move |p| {
        track.see(p);
        if let Some(line) = resume_line(p) {
            // Nothing more can be done if stderr is closed.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            return;
        }
        if let Some(rows) = p.rows {
            // Shown by the heartbeat, every interval, not after every batch.
            if let Ok(mut r) = running.lock() {
                if let Some(step) = r.as_mut() {
                    step.rows = Some(rows);
                }
            }
            return;
        }
        let line = match p.finished {
            None => {
                if let Ok(mut r) = running.lock() {
                    let what = p
                        .revision
                        .map_or_else(|| p.description.to_string(), str::to_string);
                    *r = Some(Running {
                        what,
                        since: std::time::Instant::now(),
                        rows: None,
                    });
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
    let result = drive(ctx, run(m), &stop, &batched);
    drop(heartbeat);
    Ok(result??)
}

/// Which revisions are batched (resumable: `transactional: false` with batched
/// statements or Rust code), and whether the step running is one of them.
#[derive(Clone)]
struct Batched {
    revisions: Arc<HashSet<String>>,
    now: Arc<AtomicBool>,
}

impl Batched {
    fn of(m: &Migrator) -> Batched {
        let revisions = m
            .directory()
            .scripts
            .iter()
            .filter(|s| !s.transactional && (s.is_rust() || s.has_batches()))
            .map(|s| s.revision.to_string())
            .collect();
        Batched {
            revisions: Arc::new(revisions),
            now: Arc::default(),
        }
    }

    /// Follows the steps of a run.
    fn see(&self, p: &Progress<'_>) {
        if p.rows.is_none() && p.resumed.is_none() {
            let batched =
                p.finished.is_none() && p.revision.is_some_and(|r| self.revisions.contains(r));
            self.now.store(batched, Ordering::SeqCst);
        }
    }
}

/// Runs a migration run to its end, or until Ctrl-C. A first Ctrl-C during a batched
/// step asks it to stop after its current batch (committed and recorded): the run then
/// fails with [`MigrateError::Interrupted`] (exit code 130) and the next run continues
/// where it stopped. Otherwise, or at a second Ctrl-C, the run is dropped at once, as
/// the default signal would (the database rolls back an open transaction). A statement
/// running inline on SQLite keeps this thread busy, so a task on the runtime's worker
/// thread interrupts it through the stop handle instead.
fn drive<Fut>(
    ctx: &mut Ctx<'_>,
    run: Fut,
    stop: &StopHandle,
    batched: &Batched,
) -> Result<Result<Report, MigrateError>, CliError>
where
    Fut: std::future::Future<Output = Result<Report, MigrateError>>,
{
    let (stop, batched) = (stop.clone(), batched.clone());
    ctx.block_on(async move {
        let interrupter = tokio::spawn({
            let (stop, batched) = (stop.clone(), batched.clone());
            // On the worker thread, free while this one runs a statement.
            async move {
                loop {
                    if tokio::signal::ctrl_c().await.is_err() {
                        return;
                    }
                    // A batched step never runs inline; the loop below handles it.
                    if !batched.now.load(Ordering::SeqCst) {
                        stop.interrupt();
                        return;
                    }
                }
            }
        });
        let _abort = AbortOnDrop(interrupter);
        let mut run = std::pin::pin!(run);
        loop {
            tokio::select! {
                result = &mut run => {
                    if stop.is_interrupted() {
                        return Err(CliError::InterruptedRun);
                    }
                    return Ok(result);
                }
                _ = tokio::signal::ctrl_c() => {
                    if stop.is_stopped() || !batched.now.load(Ordering::SeqCst) {
                        return Err(CliError::InterruptedRun);
                    }
                    stop.stop();
                    let _ = std::io::stderr().lock().write_all(
                        b"Ctrl-C: stopping after the current batch (the migration stays resumable); Ctrl-C again stops now\n",
                    );
                }
            }
        }
    })?
}

/// Ends a spawned task when the run it watches ends, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `Resuming revision b2 at statement 1 of 1 (line 9), 3000 rows of it done before`:
/// a batched step continuing what an earlier run left unfinished, under its `Running`
/// line.
fn resume_line(p: &Progress<'_>) -> Option<String> {
    let resume = p.resumed?;
    let what = p.revision.unwrap_or(p.description);
    Some(format!("Resuming revision {what} {resume}"))
}

/// `12,000 of 100,000 rows (12%), 5,300 rows/s, about 15 s left`.
fn rows_text(p: &RowProgress) -> String {
    let mut s = match p.rows_total {
        Some(total) if total > 0 => format!(
            "{} of {} rows ({}%)",
            thousands(p.rows_done),
            thousands(total),
            p.rows_done.saturating_mul(100) / total
        ),
        _ => format!("{} rows", thousands(p.rows_done)),
    };
    s.push_str(&format!(
        ", {} rows/s",
        thousands(p.rows_per_second.round() as u64)
    ));
    if let Some(eta) = p.eta {
        s.push_str(&format!(", about {} left", duration_text(eta)));
    }
    s
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration_text(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
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

/// The step a [`Heartbeat`] reports on.
struct Running {
    /// The revision (or the step's description, for a stamp).
    what: String,
    since: std::time::Instant,
    /// How far a batched step has got.
    rows: Option<RowProgress>,
}

/// A thread that writes `still running revision X (N s)` while a step lasts longer
/// than the interval, and every interval after that (with the rows done, the rate and
/// the time left, for a batched step).
struct Heartbeat {
    running: Arc<Mutex<Option<Running>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(interval: Duration) -> Heartbeat {
        let running: Arc<Mutex<Option<Running>>> = Arc::default();
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
                    let Some(Running { what, since, rows }) = guard.as_ref() else {
                        reported = None;
                        continue;
                    };
                    let elapsed = since.elapsed();
                    let ticks = (elapsed.as_secs_f64() / interval.as_secs_f64()) as u64;
                    let due = ticks > 0
                        && reported
                            .as_ref()
                            .is_none_or(|(w, t)| w != what || *t < ticks);
                    if due {
                        let rows = rows
                            .map(|r| format!(": {}", rows_text(&r)))
                            .unwrap_or_default();
                        let line = format!(
                            "still running revision {what} ({} s){rows}\n",
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
