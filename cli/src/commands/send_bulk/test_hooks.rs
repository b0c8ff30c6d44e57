//! Deterministic crash points for the CLI's own tests (not a user feature).
//!
//! `PAYAMAK_TEST_CRASH=<point>:<n>` ends the process at once, like a kill,
//! at `point` of the n-th batch this run sends (1-based):
//! - `attempt`: the journal write holding its attempt is done (with `--store`:
//!   the store recorded it), nothing sent;
//! - `leaving`: the journal noted that it leaves (the n-th departure this run
//!   notes, for a batch written ahead), nothing sent;
//! - `send`: it was sent, its outcome not journaled;
//! - `outcome`: its outcome is journaled, and nothing after it: the crash tore
//!   the group write it was in (with the next batches' attempts) just after it.
//!
//! `PAYAMAK_TEST_JOURNAL_FAIL=<point>:<n>` makes a journal write fail when it
//! holds `point` (`attempt` or `outcome`) of the n-th batch this run sends, or
//! (`leaving`) when it notes the n-th departure, as a full disk would.
//!
//! `PAYAMAK_TEST_BATCH_DELAY_MS=<ms>` pauses before each batch, so a test can
//! kill the process from outside while it runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use payamak::bulk::{BatchOutcome, BatchRecord, Entry, Journal, JournalError, JsonLinesJournal, UnsyncedLog};
use payamak::recipient::MobileNumber;

/// The exit code of a test crash.
pub const CRASH_EXIT_CODE: i32 = 86;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Attempt,
    Leaving,
    Send,
    Outcome,
}

/// The crash point and delay read from the environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct Hooks {
    crash: Option<(Point, usize)>,
    journal_fail: Option<(Point, usize)>,
    delay: Option<Duration>,
}

impl Hooks {
    /// Reads `PAYAMAK_TEST_CRASH` and `PAYAMAK_TEST_BATCH_DELAY_MS`; release builds ignore them.
    pub fn from_env() -> Self {
        if !cfg!(debug_assertions) {
            return Hooks::default();
        }
        let point_of = |name: &str| {
            std::env::var(name).ok().and_then(|value| {
                let (point, n) = value.split_once(':')?;
                let point = match point {
                    "attempt" => Point::Attempt,
                    "leaving" => Point::Leaving,
                    "send" => Point::Send,
                    "outcome" => Point::Outcome,
                    _ => return None,
                };
                Some((point, n.parse().ok()?))
            })
        };
        let crash = point_of("PAYAMAK_TEST_CRASH");
        let journal_fail = point_of("PAYAMAK_TEST_JOURNAL_FAIL");
        let delay =
            std::env::var("PAYAMAK_TEST_BATCH_DELAY_MS").ok().and_then(|ms| ms.parse().ok()).map(Duration::from_millis);
        Hooks { crash, journal_fail, delay }
    }

    /// A job store recorded the attempt of the `nth` batch this run sends (1-based); nothing is sent yet.
    pub fn attempted(&self, nth: usize) {
        self.maybe_crash(Point::Attempt, nth.saturating_sub(1));
    }

    /// Before a batch's attempt is journaled.
    pub async fn before_batch(&self) {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
    }

    /// `journal`, with this run's crash points and write failures around its records.
    pub fn journal(self, journal: JsonLinesJournal) -> HookedJournal {
        HookedJournal { inner: journal, hooks: self, attempts: 0, positions: BTreeMap::new() }
    }

    fn maybe_fail(&self, point: Point, position: usize, journal: &JsonLinesJournal) -> Result<(), JournalError> {
        self.maybe_fail_at(point, position, journal.path())
    }

    fn maybe_fail_at(&self, point: Point, position: usize, path: &std::path::Path) -> Result<(), JournalError> {
        if self.journal_fail == Some((point, position + 1)) {
            let source = std::io::Error::other("No space left on device (test)");
            return Err(JournalError::Io { path: path.to_owned(), action: "write", source });
        }
        Ok(())
    }

    fn maybe_crash(&self, point: Point, position: usize) {
        if self.crash == Some((point, position + 1)) {
            crate::stderr_line!("test crash at {point:?} of batch #{} of this run", position + 1);
            std::process::exit(CRASH_EXIT_CODE);
        }
    }
}

/// The run's journal, with the test hooks around its records.
#[derive(Debug)]
pub struct HookedJournal {
    inner: JsonLinesJournal,
    hooks: Hooks,
    /// Batches this run has started.
    attempts: usize,
    /// The 0-based position in this run of each batch it started.
    positions: BTreeMap<usize, usize>,
}

impl HookedJournal {
    /// The journal itself.
    pub fn inner(&self) -> &JsonLinesJournal {
        &self.inner
    }
}

/// Where each record of a group falls: its hook point, batch and position in this run.
type Points = Vec<(Point, usize, usize)>;

impl HookedJournal {
    /// Before a group is written: the crashes and failures due before it, and its points.
    fn before_write(&mut self, entries: &[Entry<'_>]) -> Result<(Points, usize), JournalError> {
        let mut next = self.attempts;
        let mut points = Vec::with_capacity(entries.len());
        for entry in entries {
            match *entry {
                Entry::Attempt { batch, .. } | Entry::AttemptAhead { batch, .. } => {
                    self.hooks.maybe_fail(Point::Attempt, next, &self.inner)?;
                    points.push((Point::Attempt, batch, next));
                    next += 1;
                }
                Entry::Outcome { batch, .. } => {
                    let position = self.positions.get(&batch).copied().unwrap_or(0);
                    // The batch was sent; its outcome is not journaled yet.
                    self.hooks.maybe_crash(Point::Send, position);
                    self.hooks.maybe_fail(Point::Outcome, position, &self.inner)?;
                    points.push((Point::Outcome, batch, position));
                }
                _ => {}
            }
        }
        Ok((points, next))
    }

    /// A crash "at an outcome" tears the group write just after that outcome's line:
    /// the index of that entry.
    fn torn_at(&self, points: &Points) -> Option<usize> {
        let at = points.iter().position(|&(point, _, position)| self.hooks.crash == Some((point, position + 1)))?;
        (points[at].0 == Point::Outcome).then_some(at)
    }

    /// After a group was written: the crashes due after it.
    fn after_write(&mut self, points: Points, next: usize) {
        self.attempts = next;
        for (point, batch, position) in points {
            if point == Point::Attempt {
                self.positions.insert(batch, position);
            }
            self.hooks.maybe_crash(point, position);
        }
    }
}

impl Journal for HookedJournal {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.inner.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        let (points, next) = self.before_write(&[Entry::Attempt { batch, numbers }])?;
        self.inner.record_attempt(batch, numbers)?;
        self.after_write(points, next);
        Ok(())
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        let (points, next) = self.before_write(&[Entry::Outcome { batch, outcome }])?;
        self.inner.record_outcome(batch, outcome)?;
        self.after_write(points, next);
        Ok(())
    }

    async fn record(&mut self, entries: &[Entry<'_>]) -> Result<(), JournalError> {
        let (points, next) = self.before_write(entries)?;
        if let Some(last) = self.torn_at(&points) {
            self.inner.record(&entries[..=last]).await?;
            self.hooks.maybe_crash(Point::Outcome, points[last].2);
        }
        self.inner.record(entries).await?;
        self.after_write(points, next);
        Ok(())
    }

    fn unsynced_log(&self) -> Option<Arc<dyn UnsyncedLog>> {
        let inner = self.inner.unsynced_log()?;
        let path = self.inner.path().to_owned();
        Some(Arc::new(HookedLog { inner, hooks: self.hooks, path, departures: AtomicUsize::new(0) }))
    }
}

/// The journal's unsynced log, with this run's crash points and failures around its departures.
#[derive(Debug)]
struct HookedLog {
    inner: Arc<dyn UnsyncedLog>,
    hooks: Hooks,
    path: PathBuf,
    /// Departures noted so far.
    departures: AtomicUsize,
}

impl UnsyncedLog for HookedLog {
    fn leaving(&self, batch: usize) -> Result<(), JournalError> {
        let position = self.departures.load(Ordering::SeqCst);
        self.hooks.maybe_fail_at(Point::Leaving, position, &self.path)?;
        self.inner.leaving(batch)?;
        self.departures.store(position + 1, Ordering::SeqCst);
        self.hooks.maybe_crash(Point::Leaving, position);
        Ok(())
    }

    fn answered(&self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        self.inner.answered(batch, outcome)
    }
}
