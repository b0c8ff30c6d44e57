//! The state shared by the HTTP handlers, the background ticker and the Rust API.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::clock::{Clock, ClockListener};
use super::state::State;

/// One emulated panel.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) clock: Clock,
    /// Whether the `/admin/…` endpoints are served.
    pub(crate) admin: bool,
    /// Wakes the ticker when a schedule was added (its next due time may be sooner).
    pub(crate) wake: Arc<Notify>,
}

impl Shared {
    pub(crate) fn new(state: State, clock: Clock, admin: bool) -> Arc<Self> {
        let shared = Arc::new(Shared { state: Mutex::new(state), clock, admin, wake: Arc::new(Notify::new()) });
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

    /// Runs `f` on the state at the clock's current time, after firing what came due.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State, DateTime<Utc>) -> T) -> T {
        let now = self.clock.now();
        let mut state = self.lock();
        state.tick(now);
        let result = f(&mut state, now);
        drop(state);
        self.wake.notify_one();
        result
    }
}

impl ClockListener for Shared {
    fn time_changed(&self, now: DateTime<Utc>) {
        self.lock().tick(now);
    }
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
        let wait = {
            let now = strong.clock.now();
            let mut state = strong.lock();
            state.tick(now);
            state.next_due().map(|due| (due - now).to_std().unwrap_or(Duration::ZERO))
        };
        drop(strong);
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
    use crate::emulator::accounts::{Account, DeliveryTiming};
    use crate::emulator::schedule::Repeat;
    use crate::emulator::state::SendInput;

    #[tokio::test]
    async fn the_ticker_fires_scheduled_sends_on_the_system_clock() {
        let clock = Clock::system();
        let account = Account::new("u", "p").credit(10.0).sender("5000");
        let shared = Shared::new(State::new(vec![account], DeliveryTiming::default(), &[], clock.now()), clock, false);
        let ticker = tokio::spawn(ticker(Arc::downgrade(&shared)));
        let due = shared.clock.now() + chrono::Duration::milliseconds(20);
        let input = SendInput {
            to: vec![Some("09121234567".to_owned())],
            from: Some("5000".to_owned()),
            text: Some("hi".to_owned()),
            ..SendInput::default()
        };
        let code = shared.with_state(|state, now| state.schedule("u", input, due.into(), Repeat::Once, now));
        assert_eq!(code, 1);
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
