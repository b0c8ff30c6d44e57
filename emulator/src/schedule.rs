//! Scheduled sends (ScheduleSms): when each occurrence is due.

use chrono::{DateTime, Datelike as _, Months, NaiveDateTime, Utc};

use super::clock::latest;
use payamak::PanelDateTime;

/// How a scheduled message repeats.
///
/// Occurrences are counted on the Tehran wall clock from the first one: a daily
/// message at 09:00 stays at 09:00; a monthly one on the 31st is sent on the last day
/// of shorter months (and on the 31st again when there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repeat {
    /// Sent once. The WSDL's `Custom` period is treated as `Once`: the service
    /// has no parameter that would say what the custom period is.
    Once,
    /// Every day.
    Daily,
    /// Every 7 days.
    Weekly,
    /// Every month, on the same day of the month.
    Monthly,
    /// Every year, on the same day.
    Yearly,
}

impl Repeat {
    /// The name as in the WSDL's `PeriodType`.
    pub fn name(self) -> &'static str {
        match self {
            Repeat::Once => "Once",
            Repeat::Daily => "Daily",
            Repeat::Weekly => "Weekly",
            Repeat::Monthly => "Monthly",
            Repeat::Yearly => "Yearly",
        }
    }

    /// The time of occurrence `n` (0 = the first) of a schedule starting at `first`
    /// (Tehran wall time), if it exists and is within the emulator's range.
    pub(crate) fn occurrence(self, first: NaiveDateTime, n: u32) -> Option<DateTime<Utc>> {
        let local = match self {
            Repeat::Once if n == 0 => Some(first),
            Repeat::Once => None,
            Repeat::Daily => first.checked_add_days(chrono::Days::new(u64::from(n))),
            Repeat::Weekly => first.checked_add_days(chrono::Days::new(u64::from(n) * 7)),
            Repeat::Monthly => first.checked_add_months(Months::new(n)),
            Repeat::Yearly => n.checked_mul(12).and_then(|months| first.checked_add_months(Months::new(months))),
        }?;
        let at = PanelDateTime::from_tehran_local(local).to_utc();
        (at <= latest()).then_some(at)
    }

    /// The index of the last occurrence due at or before `now` (0 when none is).
    pub(crate) fn last_due(self, first: NaiveDateTime, now: DateTime<Utc>) -> u32 {
        let now_local = PanelDateTime::from(now).naive_local();
        if now_local <= first {
            return 0;
        }
        let months =
            i64::from(now_local.year() - first.year()) * 12 + i64::from(now_local.month()) - i64::from(first.month());
        let estimate = match self {
            Repeat::Once => 0,
            Repeat::Daily => (now_local - first).num_days(),
            Repeat::Weekly => (now_local - first).num_days() / 7,
            Repeat::Monthly => months,
            Repeat::Yearly => months / 12,
        };
        // The estimate is off by at most one step (time of day, day of month, clock changes).
        let mut n = u32::try_from(estimate.max(0)).unwrap_or(u32::MAX);
        for _ in 0..3 {
            if n > 0 && self.occurrence(first, n).is_none_or(|at| at > now) {
                n -= 1;
            }
        }
        for _ in 0..3 {
            if n < u32::MAX && self.occurrence(first, n + 1).is_some_and(|at| at <= now) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> NaiveDateTime {
        text.parse::<PanelDateTime>().expect("date").naive_local()
    }

    fn show(at: Option<DateTime<Utc>>) -> Option<String> {
        at.map(|at| PanelDateTime::from(at).to_string())
    }

    #[test]
    fn occurrences_follow_the_tehran_wall_clock() {
        let first = local("2024-01-31T09:00:00");
        assert_eq!(show(Repeat::Once.occurrence(first, 0)).as_deref(), Some("2024-01-31T09:00:00"));
        assert_eq!(Repeat::Once.occurrence(first, 1), None);
        assert_eq!(show(Repeat::Daily.occurrence(first, 2)).as_deref(), Some("2024-02-02T09:00:00"));
        assert_eq!(show(Repeat::Weekly.occurrence(first, 1)).as_deref(), Some("2024-02-07T09:00:00"));
        assert_eq!(show(Repeat::Monthly.occurrence(first, 1)).as_deref(), Some("2024-02-29T09:00:00"));
        assert_eq!(show(Repeat::Monthly.occurrence(first, 2)).as_deref(), Some("2024-03-31T09:00:00"));
        assert_eq!(show(Repeat::Yearly.occurrence(first, 1)).as_deref(), Some("2025-01-31T09:00:00"));
        assert_eq!(Repeat::Yearly.occurrence(first, u32::MAX), None);
        assert_eq!(Repeat::Daily.occurrence(local("9999-12-30T09:00:00"), 5), None);
    }

    #[test]
    fn last_due_finds_the_latest_past_occurrence() {
        let first = local("2024-01-31T09:00:00");
        let at = |text: &str| text.parse::<PanelDateTime>().expect("date").to_utc();
        assert_eq!(Repeat::Daily.last_due(first, at("2024-01-30T09:00:00")), 0);
        assert_eq!(Repeat::Daily.last_due(first, at("2024-02-02T08:59:59")), 1);
        assert_eq!(Repeat::Daily.last_due(first, at("2024-02-02T09:00:00")), 2);
        assert_eq!(Repeat::Weekly.last_due(first, at("2024-02-14T09:00:00")), 2);
        assert_eq!(Repeat::Monthly.last_due(first, at("2024-02-29T08:00:00")), 0);
        assert_eq!(Repeat::Monthly.last_due(first, at("2024-03-01T00:00:00")), 1);
        assert_eq!(Repeat::Yearly.last_due(first, at("2026-01-31T08:00:00")), 1);
        assert_eq!(Repeat::Once.last_due(first, at("2030-01-01T00:00:00")), 0);
        let ancient = local("0001-01-01T00:00:00");
        let n = Repeat::Daily.last_due(ancient, at("2024-01-01T12:00:00"));
        assert!(Repeat::Daily.occurrence(ancient, n).is_some_and(|due| due <= at("2024-01-01T12:00:00")));
        assert!(Repeat::Daily.occurrence(ancient, n + 1).is_some_and(|due| due > at("2024-01-01T12:00:00")));
    }
}
