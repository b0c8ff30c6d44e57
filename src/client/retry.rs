//! When and how often a call is tried again.

use std::time::Duration;

/// How a client retries calls that are safe to retry.
///
/// Only operations marked retry-safe (reads and flag updates) are retried
/// after an error that [`crate::Error::is_retryable`] accepts, each attempt on
/// the next base URL. SendSms and ScheduleSms move to the next base URL only
/// when no connection could be made, so their request never reaches two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Pause before the second attempt; doubled after each attempt.
    pub initial_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// One attempt only (failover still happens for connection failures while
    /// other base URLs remain).
    pub const fn none() -> Self {
        RetryPolicy { max_attempts: 1, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO }
    }

    /// The pause after attempt `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    /// Three attempts, pausing 200 ms then 400 ms (at most 5 s).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let pauses: Vec<_> = (1..=4).map(|attempt| policy.backoff(attempt).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 350, 350]);
    }
}
