//! The state shared by the HTTP handlers, the background ticker and the Rust API.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::clock::{Clock, ClockListener};
use super::limits::ServerLimits;
use super::state::State;

/// One emulated panel.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) clock: Clock,
    /// Whether the `/admin/…` endpoints are served.
    pub(crate) admin: bool,
    /// Wakes the ticker when a schedule was added (its next due time may be sooner).
    pub(crate) wake: Arc<Notify>,
    /// What the server tolerates from its clients.
    pub(crate) limits: ServerLimits,
    /// Permits to decode and answer a SOAP request, `limits.concurrent_requests` of them.
    pub(crate) requests: tokio::sync::Semaphore,
    /// SendSms rate limits, latencies and call counts.
    pub(crate) pacing: super::pacing::Pacing,
}

impl Shared {
    pub(crate) fn new(
        state: State,
        clock: Clock,
        admin: bool,
        limits: ServerLimits,
        pacing: super::pacing::Pacing,
    ) -> Arc<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            clock,
            admin,
            wake: Arc::new(Notify::new()),
            limits,
            requests: tokio::sync::Semaphore::new(limits.concurrent_requests),
            pacing,
        });
        let listener: Arc<dyn ClockListener> = shared.clone();
        let listener: Weak<dyn ClockListener> = Arc::downgrade(&listener);
        shared.clock.subscribe(listener);
        shared
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-changed in a way
        // that matters more than stopping the emulator would.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the state and says what time it is for it: the clock is read under the lock
    /// (a reading taken before waiting for it could be older than what another caller
    /// has applied meanwhile), and never earlier than the state has already seen.
    fn lock_at(&self, reading: Option<DateTime<Utc>>) -> (MutexGuard<'_, State>, DateTime<Utc>) {
        let mut state = self.lock();
        let now = state.observe(reading.unwrap_or_else(|| self.clock.now()));
        (state, now)
    }

    /// Runs `f` on the state at the clock's current time, after firing what came due.
    ///
    /// This blocks on a mutex and may catch up on many scheduled sends: async code calls
    /// it through [`blocking`], or tries [`try_with_state`](Self::try_with_state) first.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State, DateTime<Utc>) -> T) -> T {
        let (state, now) = self.lock_at(None);
        self.run_locked(state, now, f)
    }

    /// Runs `f` as [`with_state`](Self::with_state) does when the state is free right now,
    /// without waiting; gives `f` back when another caller holds it.
    pub(crate) fn try_with_state<T, F>(&self, f: F) -> Result<T, F>
    where
        F: FnOnce(&mut State, DateTime<Utc>) -> T,
    {
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Err(f),
        };
        let now = state.observe(self.clock.now());
        Ok(self.run_locked(state, now, f))
    }

    fn run_locked<T>(
        &self,
        mut state: MutexGuard<'_, State>,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut State, DateTime<Utc>) -> T,
    ) -> T {
        state.tick(now);
        let due = state.next_due();
        let result = f(&mut state, now);
        // The ticker needs waking only when a scheduled send came due sooner than it knows.
        let sooner = state.next_due().is_some_and(|next| due.is_none_or(|due| next < due));
        drop(state);
        if sooner {
            self.wake.notify_one();
        }
        result
    }
}

/// How long a request that finds the state locked keeps letting the runtime's other tasks
/// run and trying again before it waits for the lock on the blocking pool. The state is
/// held for tens of microseconds at a time, so the lock is usually free again well
/// within this, and the request costs no thread hop.
const RETRY_BEFORE_BLOCKING: Duration = Duration::from_micros(250);

impl Shared {
    /// Runs `f` as [`with_state`](Self::with_state) does, from async code: at once when the
    /// state is free, else after letting other tasks run while another caller holds it, and
    /// on the blocking pool when it stays held. `None` if `f` panicked there.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut State, DateTime<Utc>) -> T + Send + 'static,
    {
        let mut f = f;
        let mut started = None;
        loop {
            match self.try_with_state(f) {
                Ok(result) => return Some(result),
                Err(back) => f = back,
            }
            if started.get_or_insert_with(Instant::now).elapsed() >= RETRY_BEFORE_BLOCKING {
                break;
            }
            tokio::task::yield_now().await;
        }
        let shared = self.clone();
        blocking(move || shared.with_state(f)).await
    }
}

impl ClockListener for Shared {
    fn time_changed(&self, now: DateTime<Utc>) {
        let (mut state, now) = self.lock_at(Some(now));
        state.tick(now);
    }
}

/// Runs `f`, which may block (on the state's mutex, or catching up on scheduled sends),
/// on Tokio's blocking pool so that the runtime's workers keep serving. `None` if `f`
/// panicked.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// Fires scheduled sends on time when the clock is the system clock (a manual clock
/// fires them itself when it moves). Never returns while the emulator exists.
pub(crate) async fn ticker(shared: Weak<Shared>) {
    const IDLE: Duration = Duration::from_secs(60);
    loop {
        let Some(strong) = shared.upgrade() else { return std::future::pending().await };
        if !strong.clock.is_system() {
            return std::future::pending().await;
        }
        let wake = strong.wake.clone();
        let notified = wake.notified();
        let wait = blocking(move || {
            let (mut state, now) = strong.lock_at(None);
            state.tick(now);
            state.next_due().map(|due| (due - now).to_std().unwrap_or(Duration::ZERO))
        })
        .await
        .flatten();
        let wait = wait.unwrap_or(IDLE).min(IDLE);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = notified => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Account, DeliveryTiming};
    use crate::schedule::Repeat;
    use crate::snapshot::IncomingSms;
    use crate::state::SendInput;

    use crate::clock::ManualClock;
    use payamak::PanelDateTime;

    fn manual_shared() -> (ManualClock, Arc<Shared>) {
        let manual = ManualClock::starting_at("2024-03-20T09:00:00".parse::<PanelDateTime>().expect("date"));
        let clock = Clock::from(&manual);
        let account = Account::new("u", "p").credit(10.0).sender("5000");
        let state = State::new(vec![account], DeliveryTiming::default(), &[], clock.now());
        (manual, Shared::new(state, clock, false, ServerLimits::default(), Default::default()))
    }

    #[test]
    fn time_never_goes_back_for_the_state() {
        let (manual, shared) = manual_shared();
        let start = manual.now();
        manual.advance(Duration::from_secs(60));
        let later = shared.with_state(|_, now| now);
        assert_eq!(later, start + chrono::Duration::seconds(60));
        manual.set(PanelDateTime::from(start));
        assert_eq!(shared.with_state(|_, now| now), later, "a clock set back does not move the state back");
        let msg_id = shared.with_state(|state, now| state.inject(IncomingSms::new("u", "09121234567", "x"), now));
        let snapshot = shared.with_state(|state, now| state.snapshot("u", now)).expect("u");
        assert_eq!(snapshot.inbox.iter().find(|m| Ok(m.msg_id) == msg_id).map(|m| m.received_at.to_utc()), Some(later));
        manual.advance(Duration::from_secs(120));
        assert_eq!(shared.with_state(|_, now| now), start + chrono::Duration::seconds(120));
    }

    #[test]
    fn the_clock_is_read_after_taking_the_lock() {
        let (manual, shared) = manual_shared();
        let start = manual.now();
        // Hold the lock; a caller waits for it; meanwhile the clock moves (its listener
        // waits for the lock too). The waiting caller must act at the new time.
        let guard = shared.lock();
        let caller = {
            let shared = shared.clone();
            std::thread::spawn(move || shared.with_state(|_, now| now))
        };
        std::thread::sleep(Duration::from_millis(50));
        let mover = {
            let manual = manual.clone();
            std::thread::spawn(move || manual.advance(Duration::from_secs(30)))
        };
        while manual.now() == start {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(guard);
        let acted_at = caller.join().expect("the caller ends");
        mover.join().expect("the clock moves");
        assert_eq!(acted_at, start + chrono::Duration::seconds(30));
    }

    #[tokio::test]
    async fn the_ticker_fires_scheduled_sends_on_the_system_clock() {
        let clock = Clock::system();
        let account = Account::new("u", "p").credit(10.0).sender("5000");
        let shared = Shared::new(
            State::new(vec![account], DeliveryTiming::default(), &[], clock.now()),
            clock,
            false,
            ServerLimits::default(),
            Default::default(),
        );
        let ticker = tokio::spawn(ticker(Arc::downgrade(&shared)));
        let due = shared.clock.now() + chrono::Duration::milliseconds(20);
        let input = SendInput {
            to: vec![Some("09121234567".to_owned())],
            from: Some("5000".to_owned()),
            text: Some("hi".to_owned()),
            ..SendInput::default()
        };
        let code = shared.with_state(|state, now| state.schedule("u", input, due.into(), Repeat::Once, now));
        assert_eq!(code, Ok(()));
        // Look without ticking: only the background task can have sent it.
        let mut sent = 0;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            sent = shared.lock().snapshot("u", due).map_or(0, |snapshot| snapshot.sent.len());
            if sent > 0 {
                break;
            }
        }
        assert_eq!(sent, 1);
        ticker.abort();
    }
}
