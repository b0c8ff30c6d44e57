//! Deterministic crash points for the CLI's own tests (not a user feature).
//!
//! `PAYAMAK_TEST_CRASH=<point>:<n>` ends the process at once, like a kill,
//! at `point` of the n-th batch this run sends (1-based):
//! - `attempt`: its attempt is journaled, nothing sent;
//! - `send`: it was sent, its outcome not journaled;
//! - `outcome`: its outcome is journaled.
//!
//! `PAYAMAK_TEST_JOURNAL_FAIL=<point>:<n>` makes writing the journal fail at
//! `point` (`attempt` or `outcome`) of the n-th batch this run sends, as a full
//! disk would.
//!
//! `PAYAMAK_TEST_BATCH_DELAY_MS=<ms>` pauses before each batch, so a test can
//! kill the process from outside while it runs.

use std::collections::BTreeMap;
use std::time::Duration;

use payamak::bulk::{BatchOutcome, BatchRecord, Journal, JournalError, JsonLinesJournal};
use payamak::recipient::MobileNumber;

/// The exit code of a test crash.
pub const CRASH_EXIT_CODE: i32 = 86;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Attempt,
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

    /// Before a batch's attempt is journaled.
    pub async fn before_batch(&self) {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
    }

    /// `journal`, with this run's crash points and write failures around its records.
    pub fn journal(self, journal: JsonLinesJournal) -> HookedJournal {
        HookedJournal { inner: journal, hooks: self, attempts: 0 }
    }

    fn maybe_fail(&self, point: Point, position: usize, journal: &JsonLinesJournal) -> Result<(), JournalError> {
        if self.journal_fail == Some((point, position + 1)) {
            let source = std::io::Error::other("No space left on device (test)");
            return Err(JournalError::Io { path: journal.path().to_owned(), action: "write", source });
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
}

impl HookedJournal {
    /// The journal itself.
    pub fn inner(&self) -> &JsonLinesJournal {
        &self.inner
    }
}

impl Journal for HookedJournal {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.inner.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        let position = self.attempts;
        self.hooks.maybe_fail(Point::Attempt, position, &self.inner)?;
        self.inner.record_attempt(batch, numbers)?;
        self.attempts += 1;
        self.hooks.maybe_crash(Point::Attempt, position);
        Ok(())
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        let position = self.attempts.saturating_sub(1);
        // The batch was sent; its outcome is not journaled yet.
        self.hooks.maybe_crash(Point::Send, position);
        self.hooks.maybe_fail(Point::Outcome, position, &self.inner)?;
        self.inner.record_outcome(batch, outcome)?;
        self.hooks.maybe_crash(Point::Outcome, position);
        Ok(())
    }
}
