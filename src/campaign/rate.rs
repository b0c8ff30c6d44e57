//! The per-account token bucket, as GCRA: one number per account (its
//! theoretical arrival time), kept in the store and shared by every worker.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: how stores keep time.
pub type Millis = i64;

/// The time now, as stores keep it.
pub fn now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// A duration in milliseconds, saturating.
pub fn ms(duration: Duration) -> Millis {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// How fast one account may call SendSms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The time between two calls at the steady rate.
    pub emission: Duration,
    /// How many calls may go at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Rate {
    /// `calls` per second (more than 0), with `burst` calls at once.
    pub fn per_second(calls: f64, burst: u32) -> Self {
        let emission = if calls.is_finite() && calls > 0.0 {
            Duration::from_secs_f64(1.0 / calls)
        } else {
            Duration::from_secs(3600)
        };
        Rate { emission, burst: burst.max(1) }
    }
}

/// GCRA: given the account's theoretical arrival time `tat`, whether a call
/// may go `now`. `Ok(new tat)` takes the token; `Err(wait)` says how long until one is free.
pub fn gcra(tat: Millis, now: Millis, rate: Rate) -> Result<Millis, Duration> {
    let emission = ms(rate.emission).max(1);
    let tolerance = emission.saturating_mul(i64::from(rate.burst.max(1)) - 1);
    let start = tat.max(now);
    if start - tolerance <= now {
        Ok(start + emission)
    } else {
        Err(Duration::from_millis(u64::try_from(start - tolerance - now).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let rate = Rate { emission: Duration::from_millis(100), burst: 3 };
        let mut tat = 0;
        for _ in 0..3 {
            tat = gcra(tat, 1_000, rate).expect("the burst");
        }
        assert_eq!(gcra(tat, 1_000, rate), Err(Duration::from_millis(100)));
        tat = gcra(tat, 1_100, rate).expect("one emission later");
        assert_eq!(gcra(tat, 1_150, rate), Err(Duration::from_millis(50)));
        // After a quiet spell the burst is back, never more.
        let mut granted = 0;
        while gcra(tat, 10_000, rate).is_ok() {
            tat = gcra(tat, 10_000, rate).unwrap_or(tat);
            granted += 1;
        }
        assert_eq!(granted, 3);
    }
}
