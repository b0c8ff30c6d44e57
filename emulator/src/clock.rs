//! The emulator's notion of time: the system clock, or a manual clock that tests advance.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};

use payamak::PanelDateTime;

/// Something to tell when a [`ManualClock`] moves (the emulator's state, which then
/// fires the scheduled sends that came due).
pub(crate) trait ClockListener: Send + Sync {
    /// The clock now reads `now`.
    fn time_changed(&self, now: DateTime<Utc>);
}

/// The source of "now" for an emulator.
///
/// [`Clock::system`] (the default) follows the real time; a [`ManualClock`] only moves
/// when told to, so tests can let hours pass in microseconds: deliveries progress,
/// UpdateDelivery's minimum interval elapses and scheduled messages fire exactly when
/// the test says.
///
/// ```
/// use std::time::Duration;
/// use payamak_emulator::{Clock, ManualClock};
///
/// let manual = ManualClock::starting_at("2024-03-20T09:00:00".parse::<payamak::PanelDateTime>()?);
/// let clock: Clock = manual.clone().into();
/// manual.advance(Duration::from_secs(90));
/// assert_eq!(clock.now_panel().to_string(), "2024-03-20T09:01:30");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<ManualClock>,
}

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            Some(manual) => manual.now(),
            None => Utc::now(),
        }
    }

    /// The current time, in the panel's time zone.
    pub fn now_panel(&self) -> PanelDateTime {
        self.now().into()
    }

    /// The manual clock behind this one, if it is one.
    pub fn as_manual(&self) -> Option<&ManualClock> {
        self.manual.as_ref()
    }

    /// True for the system clock.
    pub fn is_system(&self) -> bool {
        self.manual.is_none()
    }

    /// Registers `listener` to hear about manual moves (held weakly).
    pub(crate) fn subscribe(&self, listener: Weak<dyn ClockListener>) {
        if let Some(manual) = &self.manual {
            manual.subscribe(listener);
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manual {
            Some(manual) => fmt::Debug::fmt(manual, f),
            None => f.write_str("Clock::System"),
        }
    }
}

impl From<ManualClock> for Clock {
    fn from(manual: ManualClock) -> Self {
        Clock { manual: Some(manual) }
    }
}

impl From<&ManualClock> for Clock {
    fn from(manual: &ManualClock) -> Self {
        Clock { manual: Some(manual.clone()) }
    }
}

/// A clock that stands still until [`advance`](ManualClock::advance)d or
/// [`set`](ManualClock::set).
///
/// Clones share the same time. Moving it tells every emulator using it, which fires the
/// scheduled sends that came due before `advance` returns.
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    now: Mutex<DateTime<Utc>>,
    listeners: Mutex<Vec<Weak<dyn ClockListener>>>,
}

/// The latest time the emulator handles: far enough for any test, early enough that
/// converting it to Tehran wall time cannot overflow.
pub(crate) fn latest() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    // 9999-12-31T00:00:00Z
}

/// The earliest time the emulator handles (see [`latest`]).
pub(crate) fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    // 0001-01-01T00:00:00Z
}

/// `by` after `at`, or [`latest`] when that is beyond what the emulator handles.
pub(crate) fn after(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by).ok().and_then(|by| at.checked_add_signed(by)).unwrap_or_else(latest)
}

fn clamp(at: DateTime<Utc>) -> DateTime<Utc> {
    at.clamp(earliest(), latest())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ManualClock {
    /// A manual clock reading `start`.
    pub fn starting_at(start: impl Into<PanelDateTime>) -> Self {
        ManualClock {
            inner: Arc::new(ManualInner {
                now: Mutex::new(clamp(start.into().to_utc())),
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A manual clock reading the current real time.
    pub fn starting_now() -> Self {
        Self::starting_at(Utc::now())
    }

    /// The time it reads.
    pub fn now(&self) -> DateTime<Utc> {
        *lock(&self.inner.now)
    }

    /// Moves the clock forward by `by`, then lets the emulators catch up.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let now = {
            let mut now = lock(&self.inner.now);
            *now = clamp(now.checked_add_signed(by).unwrap_or_else(latest));
            *now
        };
        self.notify(now);
    }

    /// Sets the clock to `at`. Backwards too, but an emulator's time never goes back:
    /// nothing is undone, and it keeps acting at the latest time it has seen (sending,
    /// receiving, firing schedules) until the clock passes that time again.
    pub fn set(&self, at: impl Into<PanelDateTime>) {
        let now = clamp(at.into().to_utc());
        *lock(&self.inner.now) = now;
        self.notify(now);
    }

    fn subscribe(&self, listener: Weak<dyn ClockListener>) {
        let mut listeners = lock(&self.inner.listeners);
        listeners.retain(|existing| existing.strong_count() > 0);
        listeners.push(listener);
    }

    fn notify(&self, now: DateTime<Utc>) {
        // Call the listeners without holding any of the clock's locks.
        let listeners: Vec<_> = lock(&self.inner.listeners).iter().filter_map(Weak::upgrade).collect();
        for listener in listeners {
            listener.time_changed(now);
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::starting_now()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&PanelDateTime::from(self.now()).to_string()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counter(AtomicUsize);

    impl ClockListener for Counter {
        fn time_changed(&self, _now: DateTime<Utc>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told_and_notifies() {
        let manual = ManualClock::starting_at("2024-01-01T00:00:00".parse::<PanelDateTime>().expect("date"));
        let clock = Clock::from(&manual);
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let weak: Weak<dyn ClockListener> = Arc::downgrade(&(counter.clone() as Arc<dyn ClockListener>));
        clock.subscribe(weak);
        let before = clock.now();
        manual.advance(Duration::from_secs(3600));
        assert_eq!((clock.now() - before).num_seconds(), 3600);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        manual.set("2025-01-01T00:00:00".parse::<PanelDateTime>().expect("date"));
        assert_eq!(clock.now_panel().to_string(), "2025-01-01T00:00:00");
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn huge_advance_saturates() {
        let manual = ManualClock::starting_now();
        manual.advance(Duration::MAX);
        assert_eq!(manual.now(), latest());
        assert_eq!(Clock::from(manual).now_panel().to_string(), "9999-12-31T03:30:00");
    }
}
