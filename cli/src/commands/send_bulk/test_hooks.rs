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

use std::time::Duration;

/// The exit code of a test crash.
pub const CRASH_EXIT_CODE: i32 = 86;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Attempt,
    Send,
    Outcome,
}

/// The crash point and delay read from the environment.
#[derive(Debug, Default)]
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

    /// After the attempt of the batch at 0-based `position` in this run is journaled.
    pub fn after_attempt(&self, position: usize) {
        self.maybe_crash(Point::Attempt, position);
    }

    /// After the batch was sent, before its outcome is journaled.
    pub fn after_send(&self, position: usize) {
        self.maybe_crash(Point::Send, position);
    }

    /// After the batch's outcome is journaled.
    pub fn after_outcome(&self, position: usize) {
        self.maybe_crash(Point::Outcome, position);
    }

    /// Before the attempt of the batch at 0-based `position` is journaled: fails if asked to.
    pub fn attempt_write(&self, position: usize) -> anyhow::Result<()> {
        self.maybe_fail(Point::Attempt, position)
    }

    /// Before the outcome of the batch at 0-based `position` is journaled: fails if asked to.
    pub fn outcome_write(&self, position: usize) -> anyhow::Result<()> {
        self.maybe_fail(Point::Outcome, position)
    }

    fn maybe_fail(&self, point: Point, position: usize) -> anyhow::Result<()> {
        if self.journal_fail == Some((point, position + 1)) {
            return Err(anyhow::Error::new(std::io::Error::other("No space left on device (test)")));
        }
        Ok(())
    }

    fn maybe_crash(&self, point: Point, position: usize) {
        if self.crash == Some((point, position + 1)) {
            eprintln!("test crash at {point:?} of batch #{} of this run", position + 1);
            std::process::exit(CRASH_EXIT_CODE);
        }
    }
}
