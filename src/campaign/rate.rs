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
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct Rate {
    /// The time between two calls at the steady rate.
    pub emission: Duration,
    /// How many calls may go at once after a quiet spell (at least 1).
    pub burst: u32,
    /// Tokens of the burst that campaigns leave for single sends: a batch of
    /// priority [`CAMPAIGN_PRIORITY`](super::CAMPAIGN_PRIORITY) or more takes a
    /// token only while the bucket keeps this many after it; a single send
    /// (a lower priority) may take any. Campaigns still reach the full rate
    /// (only their burst is smaller), and a single send enqueued during one
    /// finds a token at once. At most `burst - 1`; 0 for none.
    pub reserve: u32,
}

impl Rate {
    /// `calls` per second (more than 0), with `burst` calls at once.
    pub fn per_second(calls: f64, burst: u32) -> Self {
        let emission = if calls.is_finite() && calls > 0.0 {
            Duration::from_secs_f64(1.0 / calls)
        } else {
            Duration::from_secs(3600)
        };
        Rate { emission, burst: burst.max(1), reserve: 0 }
    }

    /// A rate as the SQL stores keep it: the emission in ms (none: no limit), the burst and the reserve.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn from_columns(emission_ms: Option<i64>, burst: Option<i64>, reserve: i64) -> Option<Rate> {
        let emission = u64::try_from(emission_ms?).ok()?;
        Some(Rate {
            emission: Duration::from_millis(emission),
            burst: u32::try_from(burst.unwrap_or(1)).unwrap_or(1),
            reserve: u32::try_from(reserve).unwrap_or(0),
        })
    }

    /// The same rate, campaigns leaving `tokens` of the burst for single sends (see [`Rate::reserve`]).
    #[must_use]
    pub fn with_reserve(mut self, tokens: u32) -> Self {
        self.reserve = tokens;
        self
    }

    /// The burst a batch of `priority` may use: the whole of it for single
    /// sends, less the reserve for campaigns (never less than 1).
    pub fn burst_for(&self, priority: i32) -> u32 {
        let burst = self.burst.max(1);
        if priority >= super::store::CAMPAIGN_PRIORITY {
            burst.saturating_sub(self.reserve).max(1)
        } else {
            burst
        }
    }

    /// The same rate with the burst a batch of `priority` may use.
    pub fn for_priority(&self, priority: i32) -> Rate {
        Rate { burst: self.burst_for(priority), reserve: 0, ..*self }
    }
}

/// GCRA: given the account's theoretical arrival time `tat`, whether a call
/// may go `now`. `Ok(new tat)` takes the token; `Err(wait)` says how long until one is free.
pub fn gcra(tat: Millis, now: Millis, rate: Rate) -> Result<Millis, Duration> {
    let emission = ms(rate.emission).max(1);
    let tolerance = emission.saturating_mul(i64::from(rate.burst.max(1)) - 1);
    let start = tat.max(now);
    // Saturating: a rate or a time read from a store may be anything.
    let earliest = start.saturating_sub(tolerance);
    if earliest <= now {
        Ok(start.saturating_add(emission))
    } else {
        Err(Duration::from_millis(u64::try_from(earliest.saturating_sub(now)).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let rate = Rate { emission: Duration::from_millis(100), burst: 3, reserve: 0 };
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

    #[test]
    fn campaigns_leave_the_reserve_to_single_sends_but_keep_the_rate() {
        let rate = Rate { emission: Duration::from_millis(100), burst: 3, reserve: 1 };
        let campaign = rate.for_priority(super::super::store::CAMPAIGN_PRIORITY);
        let single = rate.for_priority(0);
        assert_eq!((campaign.burst, single.burst), (2, 3));
        // A campaign takes two at once, then must wait; a single send still gets the third.
        let mut tat = 0;
        for _ in 0..2 {
            tat = gcra(tat, 1_000, campaign).expect("the campaign's burst");
        }
        assert!(gcra(tat, 1_000, campaign).is_err());
        tat = gcra(tat, 1_000, single).expect("the reserved token");
        assert!(gcra(tat, 1_000, single).is_err());
        // At the steady rate the campaign gets a token every emission.
        let mut tat = 0;
        let mut granted = 0;
        for now in (1_000..3_000).step_by(100) {
            if let Ok(next) = gcra(tat, now, campaign) {
                tat = next;
                granted += 1;
            }
        }
        assert_eq!(granted, 20);
        // The reserve never takes a campaign's whole bucket.
        assert_eq!(Rate { reserve: 5, ..rate }.burst_for(100), 1);
    }
}
