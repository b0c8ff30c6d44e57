//! `xs:dateTime` as the panel means it: local time in Asia/Tehran.

use std::fmt;
use std::str::FromStr;

use chrono::format::{Fixed, Item, Numeric, Pad, Parsed};
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone as _, Timelike as _};
use chrono_tz::{Asia::Tehran, Tz};

use super::content::XmlContent;
use super::error::DecodeError;
use super::reader::XmlElement;
use super::writer::XmlWriter;

/// A point in time, held in the panel's time zone (Asia/Tehran).
///
/// The panel (an ASP.NET service) writes `xs:dateTime` values without an
/// offset: they are its local time. They are read as Tehran time; a value that
/// does carry an offset (`Z`, `+03:30`) is converted to Tehran time. Values are
/// written the way the panel writes them: Tehran local time, no offset.
///
/// A local time that a daylight-saving change made ambiguous (Iran observed DST
/// until 2022) is read as the earlier instant; one that a change skipped is
/// read one hour later, as .NET does.
///
/// ```
/// use payamak::PanelDateTime;
///
/// let at: PanelDateTime = "2024-01-31T14:30:00".parse()?;
/// assert_eq!(at.to_string(), "2024-01-31T14:30:00");
/// assert_eq!(at.to_utc().to_rfc3339(), "2024-01-31T11:00:00+00:00");
/// # Ok::<(), payamak::error::InvalidDateTime>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PanelDateTime(DateTime<Tz>);

/// Text that is not an `xs:dateTime`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an xs:dateTime (expected e.g. 2024-01-31T14:30:00, optionally with fractional seconds and an offset)"
)]
pub struct InvalidDateTime(String);

impl PanelDateTime {
    /// The current time.
    pub fn now() -> Self {
        PanelDateTime(chrono::Utc::now().with_timezone(&Tehran))
    }

    /// Interprets a wall-clock time as Tehran local time.
    pub fn from_tehran_local(local: NaiveDateTime) -> Self {
        let resolved = match Tehran.from_local_datetime(&local) {
            LocalResult::Single(at) => at,
            LocalResult::Ambiguous(earlier, _) => earlier,
            LocalResult::None => {
                // Inside a skipped hour: move forward past the gap.
                let later = local + chrono::Duration::hours(1);
                Tehran.from_local_datetime(&later).earliest().unwrap_or_else(|| Tehran.from_utc_datetime(&local))
            }
        };
        PanelDateTime(resolved)
    }

    /// The time in Tehran.
    pub fn tehran(&self) -> DateTime<Tz> {
        self.0
    }

    /// The Tehran wall-clock time, as the panel writes it.
    pub fn naive_local(&self) -> NaiveDateTime {
        self.0.naive_local()
    }

    /// The same instant in UTC.
    pub fn to_utc(&self) -> DateTime<chrono::Utc> {
        self.0.with_timezone(&chrono::Utc)
    }
}

/// The Unix epoch, so that generated types can derive `Default`.
impl Default for PanelDateTime {
    fn default() -> Self {
        PanelDateTime(DateTime::UNIX_EPOCH.with_timezone(&Tehran))
    }
}

impl<T: chrono::TimeZone> From<DateTime<T>> for PanelDateTime {
    fn from(at: DateTime<T>) -> Self {
        PanelDateTime(at.with_timezone(&Tehran))
    }
}

impl FromStr for PanelDateTime {
    type Err = InvalidDateTime;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (local, offset) = split_offset(text);
        if offset.is_none() {
            if let Some(naive) = parse_local(local) {
                return Ok(Self::from_tehran_local(naive));
            }
        }
        DateTime::parse_from_rfc3339(text).map(Into::into).map_err(|_| InvalidDateTime(text.to_owned()))
    }
}

/// `%Y-%m-%dT%H:%M:%S%.f`, parsed once: a list reply holds a date per row.
const LOCAL_FORMAT: &[Item<'static>] = &[
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal("T"),
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
    Item::Fixed(Fixed::Nanosecond),
];

/// An `xs:dateTime` without offset.
fn parse_local(text: &str) -> Option<NaiveDateTime> {
    if let Some(plain) = parse_plain(text) {
        return Some(plain);
    }
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, LOCAL_FORMAT.iter()).ok()?;
    parsed.to_naive_datetime_with_offset(0).ok()
}

/// `YYYY-MM-DDTHH:MM:SS` exactly, the form the panel writes, without
/// chrono's general parser; anything else (and a leap second) is left to it.
fn parse_plain(text: &str) -> Option<NaiveDateTime> {
    let bytes: &[u8; 19] = text.as_bytes().try_into().ok()?;
    let number = |range: std::ops::Range<usize>| {
        bytes.get(range)?.iter().try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, separator)| bytes[at] != separator) {
        return None;
    }
    let year = i32::try_from(number(0..4)?).ok()?;
    let (month, day) = (number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if second > 59 {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)
}

/// Splits a trailing `Z` or `±hh:mm` off an `xs:dateTime` lexical form.
fn split_offset(text: &str) -> (&str, Option<&str>) {
    if let Some(local) = text.strip_suffix('Z') {
        return (local, Some("Z"));
    }
    let bytes = text.as_bytes();
    if bytes.len() > 6 && matches!(bytes[bytes.len() - 6], b'+' | b'-') && bytes[bytes.len() - 3] == b':' {
        let at = text.len() - 6;
        return (&text[..at], Some(&text[at..]));
    }
    (text, None)
}

impl fmt::Display for PanelDateTime {
    /// `YYYY-MM-DDThh:mm:ss[.fffffff]` in Tehran local time, without offset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.0.naive_local();
        write!(f, "{}", local.format("%Y-%m-%dT%H:%M:%S"))?;
        let nanos = local.nanosecond() % 1_000_000_000;
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

impl XmlContent for PanelDateTime {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text_display(self);
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        text.parse().map_err(|_| element.invalid_value("xs:dateTime", &text))
    }
    fn read_stream(cursor: &mut super::XmlCursor<'_>, element: super::XmlStart) -> Result<Self, DecodeError> {
        super::content::stream_parsed(cursor, element, "xs:dateTime", |text| text.parse().ok())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for PanelDateTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for PanelDateTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_naive_time_as_tehran_local() {
        let at: PanelDateTime = "2024-01-31T14:30:00".parse().unwrap();
        assert_eq!(at.to_utc().to_rfc3339(), "2024-01-31T11:00:00+00:00");
    }

    #[test]
    fn converts_offset_times_to_tehran() {
        let at: PanelDateTime = "2024-01-31T11:00:00Z".parse().unwrap();
        assert_eq!(at.to_string(), "2024-01-31T14:30:00");
        let at: PanelDateTime = "2024-01-31T14:30:00.1234567+03:30".parse().unwrap();
        assert_eq!(at.to_string(), "2024-01-31T14:30:00.1234567");
    }

    #[test]
    fn the_plain_form_reads_as_chrono_reads_it() {
        for text in [
            "2024-01-31T14:30:00",
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59",
            "2024-02-29T12:00:00",
            "2023-02-29T12:00:00",
            "2024-13-01T00:00:00",
            "2024-01-01T24:00:00",
            "2024-01-01T23:60:00",
            "2024-06-30T23:59:60",
            "2024-01-01 00:00:00",
            "+024-01-01T00:00:00",
            "2024-01-01T00:00:0x",
        ] {
            let mut parsed = Parsed::new();
            let chrono = chrono::format::parse(&mut parsed, text, LOCAL_FORMAT.iter())
                .ok()
                .and_then(|()| parsed.to_naive_datetime_with_offset(0).ok());
            assert_eq!(parse_local(text), chrono, "{text}");
        }
    }

    #[test]
    fn keeps_dotnet_seven_digit_fractions() {
        let at: PanelDateTime = "2023-05-01T08:00:00.1234567".parse().unwrap();
        assert_eq!(at.to_string(), "2023-05-01T08:00:00.1234567");
    }

    #[test]
    fn refuses_non_dates() {
        for text in ["", "yesterday", "2024-13-01T00:00:00", "2024-01-01", "2024-01-01T00:00:00+3"] {
            assert!(text.parse::<PanelDateTime>().is_err(), "{text}");
        }
    }

    #[test]
    fn ambiguous_dst_hour_reads_as_earlier_instant() {
        // Iran left DST at 2021-09-22 00:00 local, repeating 23:00–24:00.
        let at: PanelDateTime = "2021-09-21T23:30:00".parse().unwrap();
        assert_eq!(at.to_utc().to_rfc3339(), "2021-09-21T19:00:00+00:00");
    }
}
