//! Per-account SendSms pacing (a rate limit with a throttling answer, and a
//! latency), and a count of SendSms calls per batch, so that tests can see a
//! batch sent twice.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How fast one account's SendSms calls are answered, and how many it takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendPacing {
    /// Calls per second at the steady rate; `None` for no limit.
    pub per_second: Option<f64>,
    /// Calls taken at once after a quiet spell (at least 1).
    pub burst: u32,
    /// How long each SendSms call takes (half before the send is carried out, half after).
    pub latency: Duration,
}

impl Default for SendPacing {
    fn default() -> Self {
        SendPacing { per_second: None, burst: 1, latency: Duration::ZERO }
    }
}

/// SendSms calls, counted per batch (account, sender, text and recipients).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SendCalls {
    /// Every SendSms call carried out (throttled calls are not).
    pub calls: u64,
    /// Distinct batches among them.
    pub batches: u64,
    /// SendSms calls refused as throttled, per account.
    pub throttled: BTreeMap<String, u64>,
    /// The batches sent more than once: their account, first recipient and call count.
    pub repeated: Vec<RepeatedBatch>,
    /// Per account (user name, lower case): the calls carried out and the time from the first to the last.
    pub per_account: BTreeMap<String, AccountCalls>,
}

/// One account's SendSms calls carried out, for measuring the rate a client achieves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountCalls {
    /// Calls carried out.
    pub calls: u64,
    /// Microseconds from the first call carried out to the last.
    pub first_to_last_micros: u64,
    /// The most SendSms calls that arrived in any one second, throttled ones too
    /// (accounts with a rate limit only): what a client keeping to the limit
    /// holds to the rate plus the burst.
    pub max_in_one_second: u64,
}

/// A batch sent more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatedBatch {
    /// The account (user name, lower case).
    pub username: String,
    /// Its first recipient, as sent.
    pub first: String,
    /// Its recipients.
    pub recipients: usize,
    /// How many times it was sent.
    pub calls: u64,
}

/// What the pacing and the counts need of one SendSms call.
pub(crate) struct SendSmsCall {
    /// The account's user name, lower case.
    pub(crate) username: String,
    /// The batch: account, sender, text and recipients.
    fingerprint: String,
    /// Its first recipient, as sent.
    first: String,
    /// Its recipients.
    recipients: usize,
}

impl SendSmsCall {
    /// A call of `username` from `from` to `to` (the recipients given) with `text`.
    pub(crate) fn new<'a>(username: &str, from: &str, text: &str, to: impl IntoIterator<Item = &'a str>) -> Self {
        let username = username.to_lowercase();
        let mut fingerprint = format!("{username}\u{1f}{from}\u{1f}{text}\u{1f}");
        let (mut first, mut recipients) = (String::new(), 0);
        for recipient in to {
            if recipients == 0 {
                recipient.clone_into(&mut first);
            } else {
                fingerprint.push(',');
            }
            fingerprint.push_str(recipient);
            recipients += 1;
        }
        SendSmsCall { username, fingerprint, first, recipients }
    }
}

#[derive(Default)]
struct Counts {
    per_batch: HashMap<String, (String, String, usize, u64)>,
    calls: u64,
    throttled: BTreeMap<String, u64>,
    tat: HashMap<String, Instant>,
    /// Per account: calls carried out, the first and the last.
    per_account: BTreeMap<String, (u64, Instant, Instant)>,
    /// Per account with a rate limit: the calls that arrived in the last second.
    arrivals: HashMap<String, Window>,
}

/// The arrivals of the last second, and the most there were in any second.
#[derive(Default)]
struct Window {
    arrivals: VecDeque<Instant>,
    max: u64,
}

impl Window {
    const LENGTH: Duration = Duration::from_secs(1);

    /// Counts an arrival at `at` (arrivals come in order).
    fn arrive(&mut self, at: Instant) {
        while self.arrivals.front().is_some_and(|&first| at.saturating_duration_since(first) >= Self::LENGTH) {
            self.arrivals.pop_front();
        }
        self.arrivals.push_back(at);
        self.max = self.max.max(self.arrivals.len() as u64);
    }
}

/// The pacing of every account and the counts, shared by the handlers.
#[derive(Default)]
pub(crate) struct Pacing {
    accounts: HashMap<String, SendPacing>,
    counts: Mutex<Counts>,
}

impl Pacing {
    pub(crate) fn new(accounts: HashMap<String, SendPacing>) -> Self {
        Pacing { accounts, counts: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pacing of `username` (any case).
    pub(crate) fn of(&self, username: &str) -> SendPacing {
        if self.accounts.is_empty() {
            return SendPacing::default();
        }
        self.accounts.get(&username.to_lowercase()).copied().unwrap_or_default()
    }

    /// Takes a token of `username`'s bucket: `Err(wait)` when the call is throttled.
    pub(crate) fn admit(&self, username: &str) -> Result<(), Duration> {
        let pacing = self.of(username);
        let Some(rate) = pacing.per_second.filter(|rate| rate.is_finite() && *rate > 0.0) else { return Ok(()) };
        let emission = Duration::from_secs_f64(1.0 / rate);
        let tolerance = emission * pacing.burst.max(1).saturating_sub(1);
        let key = username.to_lowercase();
        let now = Instant::now();
        let mut counts = self.lock();
        counts.arrivals.entry(key.clone()).or_default().arrive(now);
        let tat = counts.tat.get(&key).copied().unwrap_or(now).max(now);
        if tat.saturating_duration_since(now) > tolerance {
            *counts.throttled.entry(key).or_default() += 1;
            return Err(tat.saturating_duration_since(now) - tolerance);
        }
        counts.tat.insert(key, tat + emission);
        Ok(())
    }

    /// Counts a SendSms call carried out.
    pub(crate) fn count(&self, call: &SendSmsCall) {
        let now = Instant::now();
        let mut counts = self.lock();
        counts.calls += 1;
        match counts.per_account.get_mut(&call.username) {
            Some(account) => {
                account.0 += 1;
                account.2 = now;
            }
            None => {
                counts.per_account.insert(call.username.clone(), (1, now, now));
            }
        }
        match counts.per_batch.get_mut(&call.fingerprint) {
            Some(batch) => batch.3 += 1,
            None => {
                let batch = (call.username.clone(), call.first.clone(), call.recipients, 1);
                counts.per_batch.insert(call.fingerprint.clone(), batch);
            }
        }
    }

    /// The counts so far.
    pub(crate) fn calls(&self) -> SendCalls {
        let counts = self.lock();
        let mut repeated: Vec<RepeatedBatch> = counts
            .per_batch
            .values()
            .filter(|(_, _, _, calls)| *calls > 1)
            .map(|(username, first, recipients, calls)| RepeatedBatch {
                username: username.clone(),
                first: first.clone(),
                recipients: *recipients,
                calls: *calls,
            })
            .collect();
        repeated.sort_by(|a, b| (&a.username, &a.first).cmp(&(&b.username, &b.first)));
        SendCalls {
            calls: counts.calls,
            batches: counts.per_batch.len() as u64,
            throttled: counts.throttled.clone(),
            repeated,
            per_account: counts
                .per_account
                .iter()
                .map(|(username, (calls, first, last))| {
                    let micros = u64::try_from(last.saturating_duration_since(*first).as_micros()).unwrap_or(u64::MAX);
                    let max_in_one_second = counts.arrivals.get(username).map_or(0, |window| window.max);
                    (username.clone(), AccountCalls { calls: *calls, first_to_last_micros: micros, max_in_one_second })
                })
                .collect(),
        }
    }

    /// Forgets the counts and the buckets (`/admin/reset`).
    pub(crate) fn reset(&self) {
        *self.lock() = Counts::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_throttled_and_batches_counted() {
        let pacing = Pacing::new(
            [("a".to_owned(), SendPacing { per_second: Some(10.0), burst: 2, latency: Duration::ZERO })].into(),
        );
        assert!(pacing.admit("A").is_ok());
        assert!(pacing.admit("a").is_ok());
        let wait = pacing.admit("a").expect_err("over the burst");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(pacing.admit("unpaced").is_ok());
        let to = ["09120000001", "09120000002"];
        let call = |username: &str, to: &[&str]| SendSmsCall::new(username, "5000", "hi", to.iter().copied());
        pacing.count(&call("a", &to));
        pacing.count(&call("A", &to));
        pacing.count(&call("a", &to[..1]));
        let calls = pacing.calls();
        assert_eq!((calls.calls, calls.batches, calls.throttled.get("a").copied()), (3, 2, Some(1)));
        assert_eq!(calls.repeated.len(), 1);
        assert_eq!((calls.repeated[0].calls, calls.repeated[0].recipients), (2, 2));
        assert_eq!(calls.per_account.get("a").map(|account| account.calls), Some(3));
        assert_eq!(calls.per_account.get("a").map(|account| account.max_in_one_second), Some(3), "throttled too");
    }

    #[test]
    fn a_window_counts_the_most_arrivals_in_any_one_second() {
        let start = Instant::now();
        let mut window = Window::default();
        for millis in [0, 100, 900, 999] {
            window.arrive(start + Duration::from_millis(millis));
        }
        assert_eq!(window.max, 4, "all within one second");
        for millis in [1000, 1100, 1500] {
            window.arrive(start + Duration::from_millis(millis));
        }
        // (0.5 s, 1.5 s] holds 900, 999, 1000, 1100 and 1500.
        assert_eq!(window.max, 5);
        window.arrive(start + Duration::from_millis(2600));
        assert_eq!((window.arrivals.len(), window.max), (1, 5), "a quiet second forgets the earlier arrivals");
    }
}
