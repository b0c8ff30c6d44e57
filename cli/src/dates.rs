//! Dates as people in Iran write and read them: Jalali (Solar Hijri) or Gregorian,
//! on the panel's Tehran wall clock.
//!
//! Input is Jalali when its year is 1200–1599 (`1405-09-10T10:00`, `1405/09/10 10:00`,
//! Persian digits too) and Gregorian from 1900 on (`2026-12-01 10:00`); RFC 3339 with an
//! offset (`2026-12-01T06:30:00Z`) is an exact instant. The conversion is ICU4X's
//! astronomical Persian calendar, Iran's official one.

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _};
use clap::ValueEnum;
use icu_calendar::cal::Persian;
use icu_calendar::{Date, Iso};
use payamak::PanelDateTime;
use serde::Deserialize;

/// The calendar dates are shown in, where a person reads them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Calendar {
    /// The Solar Hijri calendar (1405-09-10)
    #[default]
    Jalali,
    /// The Gregorian calendar (2026-12-01)
    Gregorian,
}

impl Calendar {
    /// `Jalali` or `Gregorian`.
    pub fn name(self) -> &'static str {
        match self {
            Calendar::Jalali => "Jalali",
            Calendar::Gregorian => "Gregorian",
        }
    }

    /// The other calendar.
    pub fn other(self) -> Calendar {
        match self {
            Calendar::Jalali => Calendar::Gregorian,
            Calendar::Gregorian => Calendar::Jalali,
        }
    }
}

/// How a time was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A Jalali date and a Tehran wall-clock time.
    Jalali,
    /// A Gregorian date and a Tehran wall-clock time.
    Gregorian,
    /// RFC 3339 with an offset: an exact instant.
    WithOffset,
}

/// A time read from the command line, and how it was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadTime {
    /// The instant.
    pub at: PanelDateTime,
    /// The calendar or form it was written in.
    pub written: Written,
    /// The text as given.
    pub text: String,
}

/// The years read as Jalali; from [`FIRST_GREGORIAN_YEAR`] on they are Gregorian.
const JALALI_YEARS: std::ops::RangeInclusive<i32> = 1200..=1599;
const FIRST_GREGORIAN_YEAR: i32 = 1900;

const FORMS: &str = "a Jalali date such as 1405-09-10T10:00 or 1405/09/10 10:00, a Gregorian one such as \
                     2026-12-01T10:00 (both Tehran time), or RFC 3339 with an offset such as 2026-12-01T06:30:00Z";

/// Reads a date and time (see the [module documentation](self)).
pub fn parse(text: &str) -> Result<ReadTime, String> {
    let ascii = ascii_digits(text.trim());
    if let Ok(at) = DateTime::parse_from_rfc3339(&ascii) {
        return Ok(ReadTime { at: at.into(), written: Written::WithOffset, text: text.to_owned() });
    }
    let invalid = |why: String| format!("invalid time {text:?}: {why}; expected {FORMS}");
    let (date, time) = ascii
        .split_once(['T', 't', ' '])
        .map(|(date, time)| (date.trim(), time.trim()))
        .ok_or_else(|| invalid("no time of day".to_owned()))?;
    let fields: Vec<&str> = date.split(['-', '/']).collect();
    let [year, month, day] = fields.as_slice() else { return Err(invalid(format!("{date:?} is not year-month-day"))) };
    let number = |field: &str| field.parse::<u32>().map_err(|_| invalid(format!("{field:?} is not a number")));
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    let year = i32::try_from(year).map_err(|_| invalid(format!("the year {year} is out of range")))?;
    let (month, day) = (u8::try_from(month).unwrap_or(u8::MAX), u8::try_from(day).unwrap_or(u8::MAX));
    let (date, written) = if JALALI_YEARS.contains(&year) {
        let date = from_jalali(year, month, day)
            .ok_or_else(|| invalid(format!("{year}-{month:02}-{day:02} is not a date of the Jalali calendar")))?;
        (date, Written::Jalali)
    } else if year >= FIRST_GREGORIAN_YEAR {
        let date = NaiveDate::from_ymd_opt(year, month.into(), day.into())
            .ok_or_else(|| invalid(format!("{year}-{month:02}-{day:02} is not a date of the Gregorian calendar")))?;
        (date, Written::Gregorian)
    } else {
        return Err(invalid(format!(
            "the year {year} is neither Jalali ({}–{}) nor Gregorian ({FIRST_GREGORIAN_YEAR} on)",
            JALALI_YEARS.start(),
            JALALI_YEARS.end()
        )));
    };
    let time = ["%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(time, format).ok())
        .ok_or_else(|| invalid(format!("{time:?} is not a time of day (HH:MM or HH:MM:SS)")))?;
    let at = PanelDateTime::from_tehran_local(date.and_time(time));
    Ok(ReadTime { at, written, text: text.to_owned() })
}

impl ReadTime {
    /// How the time was understood, in both calendars: `Jalali 1405-09-10 10:00 = Gregorian
    /// 2026-12-01 10:00, Tehran time (UTC+03:30)`.
    pub fn understood(&self) -> String {
        let local = self.at.naive_local();
        let (jalali, gregorian) = (format!("Jalali {}", jalali(local)), format!("Gregorian {}", gregorian(local)));
        let offset = self.at.tehran().format("%:z");
        match self.written {
            Written::Jalali => format!("{jalali} = {gregorian}, Tehran time (UTC{offset})"),
            Written::Gregorian => format!("{gregorian} = {jalali}, Tehran time (UTC{offset})"),
            Written::WithOffset => {
                format!("{} = {gregorian} = {jalali}, Tehran time (UTC{offset})", self.text.trim())
            }
        }
    }
}

/// `at` as a person reads it: the Tehran wall clock, in `calendar`.
pub fn show(at: PanelDateTime, calendar: Calendar) -> String {
    match calendar {
        Calendar::Jalali => jalali(at.naive_local()),
        Calendar::Gregorian => gregorian(at.naive_local()),
    }
}

/// `at` as `--json` writes it: Gregorian, RFC 3339 with Tehran's offset.
pub fn json(at: PanelDateTime) -> String {
    at.tehran().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Serialises `at` as [`json`] does, for `#[serde(serialize_with)]`.
pub fn serialize<S: serde::Serializer>(at: &PanelDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&json(*at))
}

/// `1405-09-10 10:00` (seconds only when there are some).
fn jalali(local: NaiveDateTime) -> String {
    let date = local.date();
    let persian = u8::try_from(date.month())
        .ok()
        .zip(u8::try_from(date.day()).ok())
        .and_then(|(month, day)| Date::try_new_iso(date.year(), month, day).ok())
        .map(|iso| iso.to_calendar(Persian));
    match persian {
        Some(persian) => format!(
            "{:04}-{:02}-{:02} {}",
            persian.era_year().extended_year,
            persian.month().ordinal,
            persian.day_of_month().0,
            clock(local)
        ),
        // Only for dates outside ICU4X's range (years beyond ±9999).
        None => gregorian(local),
    }
}

fn gregorian(local: NaiveDateTime) -> String {
    format!("{} {}", local.format("%Y-%m-%d"), clock(local))
}

fn clock(local: NaiveDateTime) -> String {
    if local.second() == 0 {
        local.format("%H:%M").to_string()
    } else {
        local.format("%H:%M:%S").to_string()
    }
}

/// The Gregorian date of a Jalali one, if it exists.
fn from_jalali(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    let iso = Date::try_new_persian(year, month, day).ok()?.to_calendar(Iso);
    NaiveDate::from_ymd_opt(iso.era_year().extended_year, iso.month().ordinal.into(), iso.day_of_month().0.into())
}

/// Persian (۰–۹) and Arabic-Indic (٠–٩) digits as ASCII.
fn ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '۰'..='۹' => char::from(b'0' + (u32::from(c) - u32::from('۰')) as u8),
            '٠'..='٩' => char::from(b'0' + (u32::from(c) - u32::from('٠')) as u8),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> ReadTime {
        parse(text).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn jalali_dates_are_read_as_jalali() {
        let at = read("1405-09-10T10:00");
        assert_eq!((at.written, at.at.to_string()), (Written::Jalali, "2026-12-01T10:00:00".to_owned()));
        assert_eq!(at.understood(), "Jalali 1405-09-10 10:00 = Gregorian 2026-12-01 10:00, Tehran time (UTC+03:30)");
        assert_eq!(read("۱۴۰۵/۰۹/۱۰ ۱۰:۰۰").at, at.at);
        assert_eq!(read("1403-01-01 00:00").at.to_string(), "2024-03-20T00:00:00", "Nowruz 1403");
        assert_eq!(read("1403-12-30 12:00").at.to_string(), "2025-03-20T12:00:00", "1403 is a leap year");
        for invalid in ["1404-12-30 12:00", "1405-07-31 10:00", "1405-13-01 10:00"] {
            let error = parse(invalid).unwrap_err();
            assert!(error.contains("is not a date of the Jalali calendar"), "{error}");
        }
    }

    #[test]
    fn gregorian_dates_and_instants_are_read_too() {
        let at = read("2026-12-01 10:00:30");
        assert_eq!((at.written, at.at.to_string()), (Written::Gregorian, "2026-12-01T10:00:30".to_owned()));
        assert_eq!(
            at.understood(),
            "Gregorian 2026-12-01 10:00:30 = Jalali 1405-09-10 10:00:30, Tehran time (UTC+03:30)"
        );
        let exact = read("2026-12-01T06:30:00Z");
        assert_eq!((exact.written, exact.at), (Written::WithOffset, read("1405-09-10T10:00").at));
        assert!(exact.understood().starts_with("2026-12-01T06:30:00Z = Gregorian 2026-12-01 10:00 = Jalali"));
    }

    #[test]
    fn what_is_not_a_time_says_why() {
        for (text, why) in [
            ("1405-09-10", "no time of day"),
            ("31/01/2024 10:00", "the year 31 is neither Jalali"),
            ("1405-09-10T25:00", "is not a time of day"),
            ("1700-01-01T10:00", "neither Jalali (1200–1599) nor Gregorian (1900 on)"),
            ("2024-02-30T10:00", "not a date of the Gregorian calendar"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(why) && error.contains("expected a Jalali date"), "{text}: {error}");
        }
    }

    #[test]
    fn dates_are_shown_in_either_calendar_and_json_has_the_offset() {
        let at = read("2024-03-20T09:00:00+03:30").at;
        assert_eq!(show(at, Calendar::Jalali), "1403-01-01 09:00");
        assert_eq!(show(at, Calendar::Gregorian), "2024-03-20 09:00");
        assert_eq!(json(at), "2024-03-20T09:00:00+03:30");
        let summer_2020 = read("2020-07-01T12:00").at;
        assert_eq!(json(summer_2020), "2020-07-01T12:00:00+04:30", "Iran's daylight saving time until 2022");
    }
}
