//! What a schema command is doing, for work long enough to wonder about: loading the
//! declared schema, replaying migrations, reading a database, verifying a revision.
//!
//! A phase that has run for [`DEFAULT_AFTER`] (or `MIGRATE_PROGRESS_AFTER_MS`) is shown:
//! on a terminal as one status line on stderr, naming every phase under way and the time
//! so far, cleared when the work ends; elsewhere (a CI log) as one line per phase, printed
//! once when it passes that time. Quicker work prints nothing. `-q` silences it.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a phase runs before it is shown.
const DEFAULT_AFTER: Duration = Duration::from_secs(1);

/// How often the status line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The phases under way, shown by a thread of their own.
#[derive(Clone)]
pub(crate) struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    after: Duration,
    terminal: bool,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// Phases under way: id, text, start, whether its line was printed.
    phases: Vec<(u64, String, Instant, bool)>,
    /// Whether the status line is on screen.
    drawn: bool,
    /// Whether the drawing thread runs.
    running: bool,
}

/// A phase under way, ended when dropped.
pub(crate) struct Phase {
    inner: Option<Arc<Inner>>,
    id: u64,
}

impl Progress {
    /// Progress on stderr, silent when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        if quiet {
            return Progress { inner: None };
        }
        let after = std::env::var("MIGRATE_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_AFTER, Duration::from_millis);
        Progress {
            inner: Some(Arc::new(Inner {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                after,
                terminal: std::io::stderr().is_terminal(),
            })),
        }
    }

    /// Starts a phase described by `text` ("Loading the declared schema into a scratch
    /// database"); it ends when the returned guard is dropped.
    pub fn phase(&self, text: impl Into<String>) -> Phase {
        let Some(inner) = &self.inner else {
            return Phase { inner: None, id: 0 };
        };
        let Ok(mut state) = inner.state.lock() else {
            return Phase { inner: None, id: 0 };
        };
        state.next_id += 1;
        let id = state.next_id;
        let text = text.into();
        // Shown at once when asked to (MIGRATE_PROGRESS_AFTER_MS=0): every phase,
        // however short, in order.
        let printed = !inner.terminal && inner.after.is_zero();
        if printed {
            let _ = writeln!(std::io::stderr(), "{text}...");
        }
        state.phases.push((id, text, Instant::now(), printed));
        if !state.running {
            state.running = true;
            let inner = Arc::clone(inner);
            std::thread::spawn(move || inner.show());
        }
        inner.wake.notify_all();
        Phase {
            inner: Some(Arc::clone(inner)),
            id,
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        let Some(inner) = &self.inner else { return };
        if let Ok(mut state) = inner.state.lock() {
            state.phases.retain(|p| p.0 != self.id);
            if state.phases.is_empty() {
                inner.clear(&mut state);
            }
        }
        inner.wake.notify_all();
    }
}

impl Inner {
    /// The drawing thread: runs while phases are under way.
    fn show(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        loop {
            if state.phases.is_empty() {
                state.running = false;
                return;
            }
            let now = Instant::now();
            if self.terminal {
                self.draw(&mut state, now);
            } else {
                for (_, text, start, printed) in state.phases.iter_mut() {
                    if !*printed && now.duration_since(*start) >= self.after {
                        *printed = true;
                        let _ = writeln!(std::io::stderr(), "{text}...");
                    }
                }
            }
            state = match self.wake.wait_timeout(state, TICK) {
                Ok((s, _)) => s,
                Err(_) => return,
            };
        }
    }

    /// The status line: every phase under way once the oldest has run long enough.
    fn draw(&self, state: &mut State, now: Instant) {
        let Some(oldest) = state.phases.iter().map(|p| p.2).min() else {
            return;
        };
        let took = now.duration_since(oldest);
        if took < self.after {
            return;
        }
        let texts: Vec<&str> = state.phases.iter().map(|p| p.1.as_str()).collect();
        let line = format!("{} ({:.1} s)", texts.join("; "), took.as_secs_f64());
        let width = terminal_width();
        let line: String = line.chars().take(width.saturating_sub(1)).collect();
        let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
        state.drawn = true;
    }

    /// Takes the status line off the screen.
    fn clear(&self, state: &mut State) {
        if state.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            state.drawn = false;
        }
    }
}

/// The terminal's width from `COLUMNS`, else 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w > 10)
        .unwrap_or(80)
}
