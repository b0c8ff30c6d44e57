//! Scheduled sends (ScheduleSms): accepting them, sending each occurrence when it comes
//! due, and when the next one does.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::accounts::Accounts;
use super::sends::{self, Ledger, SendInput};
use crate::schedule::Repeat;
use crate::snapshot::{ScheduleRun, ScheduleSnapshot};
use payamak::status_codes::SendStatus;
use payamak::PanelDateTime;

/// Most scheduled occurrences fired in one catch-up (a huge clock jump with a daily
/// schedule would otherwise loop for a long time under the lock).
const MAX_CATCH_UP: usize = 100_000;

struct Schedule {
    id: u64,
    account: String,
    input: SendInput,
    first: NaiveDateTime,
    repeat: Repeat,
    /// Index of the next occurrence.
    occurrence: u32,
    /// When the next occurrence is due.
    next_at: Option<DateTime<Utc>>,
    runs: Vec<Run>,
}

impl Schedule {
    fn snapshot(&self) -> ScheduleSnapshot {
        ScheduleSnapshot {
            id: self.id,
            to: self.input.to.iter().map(|to| to.clone().unwrap_or_default()).collect(),
            from: self.input.from.clone().unwrap_or_default(),
            body: self.input.text.clone().unwrap_or_default(),
            period: self.repeat.name().to_owned(),
            next_at: self.next_at.map(PanelDateTime::from),
            runs: self.runs.iter().map(Run::snapshot).collect(),
        }
    }
}

/// One occurrence of a schedule that came due.
struct Run {
    at: DateTime<Utc>,
    /// The recIds it created, or why it was refused.
    result: Result<Vec<i64>, SendStatus>,
}

impl Run {
    fn snapshot(&self) -> ScheduleRun {
        let (result, rec_ids) = match &self.result {
            Ok(rec_ids) => (SendStatus::Sent, rec_ids.clone()),
            Err(status) => (*status, Vec::new()),
        };
        ScheduleRun { at: self.at.into(), result: result.code(), rec_ids }
    }
}

/// Every schedule, in the order they were accepted.
#[derive(Default)]
pub(crate) struct Schedules {
    schedules: Vec<Schedule>,
}

impl Schedules {
    /// ScheduleSms: checks the send as SendSms would (the daily limit against the day it
    /// is due, the credit against one occurrence now) and stores it. An occurrence already
    /// due is sent by the next [`tick`](Self::tick).
    pub(crate) fn add(
        &mut self,
        accounts: &Accounts,
        key: &str,
        input: SendInput,
        at: PanelDateTime,
        repeat: Repeat,
        now: DateTime<Utc>,
    ) -> Result<(), SendStatus> {
        let first = at.naive_local();
        // Occurrences already past collapse into one immediate send; the rest keep their grid.
        let occurrence = repeat.last_due(first, now);
        let next_at = repeat.occurrence(first, occurrence).map(|due| due.max(now));
        let check_at = next_at.unwrap_or(now);
        sends::check(accounts, key, &input, check_at)?;
        let id = u64::try_from(self.schedules.len()).unwrap_or(u64::MAX).saturating_add(1);
        tracing::debug!(account = key, id, period = repeat.name(), "scheduled");
        self.schedules.push(Schedule {
            id,
            account: key.to_owned(),
            input,
            first,
            repeat,
            occurrence,
            next_at,
            runs: Vec::new(),
        });
        Ok(())
    }

    /// Sends every scheduled occurrence due at or before `now`, oldest first.
    pub(crate) fn tick(&mut self, now: DateTime<Utc>, ledger: &mut Ledger<'_>) {
        for _ in 0..MAX_CATCH_UP {
            let due = self
                .schedules
                .iter()
                .enumerate()
                .filter_map(|(index, schedule)| schedule.next_at.filter(|at| *at <= now).map(|at| (at, index)))
                .min();
            let Some((at, index)) = due else { return };
            self.fire(index, at, ledger);
        }
        tracing::warn!("scheduled sends are still catching up after {MAX_CATCH_UP} occurrences");
    }

    fn fire(&mut self, index: usize, at: DateTime<Utc>, ledger: &mut Ledger<'_>) {
        let Some(schedule) = self.schedules.get_mut(index) else { return };
        let result = ledger.send(&schedule.account, &schedule.input, at).map(|sent| sent.rec_ids);
        let status = result.as_ref().map_or_else(|status| *status, |_| SendStatus::Sent);
        tracing::debug!(
            account = schedule.account,
            schedule = index + 1,
            result = status.code(),
            "scheduled send came due"
        );
        schedule.runs.push(Run { at, result });
        schedule.occurrence = schedule.occurrence.saturating_add(1);
        // An occurrence never fires twice at the same instant, even if the calendar
        // arithmetic clamps two of them together.
        schedule.next_at = schedule.repeat.occurrence(schedule.first, schedule.occurrence).filter(|next| *next > at);
    }

    /// When the next scheduled occurrence is due, if any.
    pub(crate) fn next_due(&self) -> Option<DateTime<Utc>> {
        self.schedules.iter().filter_map(|schedule| schedule.next_at).min()
    }

    /// The schedules of `key`, in the order they were accepted.
    pub(crate) fn snapshots(&self, key: &str) -> Vec<ScheduleSnapshot> {
        self.schedules.iter().filter(|schedule| schedule.account == key).map(Schedule::snapshot).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::clock::after;
    use crate::schedule::Repeat;
    use crate::state::fixtures::{input, start, state};
    use payamak::PanelDateTime;

    #[test]
    fn schedules_fire_on_tick_and_repeat() {
        let mut state = state();
        let now = start();
        let at = PanelDateTime::from(now + chrono::Duration::hours(1));
        assert_eq!(state.schedule("u", input(&["09121111111"], "hi"), at, Repeat::Daily, now), Ok(()));
        state.tick(now + chrono::Duration::minutes(59));
        assert!(state.snapshot("u", now).expect("u").sent.is_empty());
        state.tick(after(now, Duration::from_secs(3600 * 49)));
        let snapshot = state.snapshot("u", now).expect("u");
        assert_eq!(snapshot.sent.len(), 3);
        assert_eq!(snapshot.schedules[0].runs.len(), 3);
        assert_eq!(snapshot.schedules[0].next_at.map(|at| at.to_string()).as_deref(), Some("2024-03-23T10:00:00"));
    }
}
