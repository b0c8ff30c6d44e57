//! XML Schema built-in types beyond the panel's own: exact decimals, big
//! integers, dates, times, durations, hex binary, QNames and .NET's `char`.
//!
//! Each is the content of one element ([`XmlContent`]); text is parsed after
//! whitespace collapsing, as XML Schema says for every type but `string`.

use std::fmt;
use std::str::FromStr;

use chrono::{FixedOffset, NaiveDate, NaiveTime};
pub use rust_decimal::Decimal;

use super::content::{stream_parsed, XmlContent};
use super::cursor::{XmlCursor, XmlStart};
use super::error::DecodeError;
use super::reader::XmlElement;
use super::writer::XmlWriter;

/// Reads an element's text as a `T`; an invalid value is an error naming `expected`.
fn parse_text<T: FromStr>(element: XmlElement<'_, '_>, expected: &'static str) -> Result<T, DecodeError> {
    let text = element.text()?;
    text.trim().parse().map_err(|_| element.invalid_value(expected, &text))
}

fn parse_decimal(text: &str) -> Option<Decimal> {
    let trimmed = text.trim();
    // `from_str_exact` refuses what it would have to round; XML Schema has no exponent form.
    let valid = !trimmed.is_empty() && !trimmed.contains(['e', 'E', '_']);
    valid.then(|| Decimal::from_str_exact(trimmed.strip_prefix('+').unwrap_or(trimmed)).ok()).flatten()
}

/// `xs:decimal`, exactly: [`Decimal`] holds 28 significant digits; longer values are refused, never rounded.
impl XmlContent for Decimal {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text_display(self);
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        parse_decimal(&text).ok_or_else(|| element.invalid_value("xs:decimal", &text))
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_parsed(cursor, element, "xs:decimal", parse_decimal)
    }
}

/// `char` of ASP.NET (`http://microsoft.com/wsdl/types/`): the character's code as an `xs:unsignedShort`.
impl XmlContent for char {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text_display(u32::from(*self));
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        text.trim().parse::<u32>().ok().and_then(char::from_u32).ok_or_else(|| element.invalid_value("char", &text))
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_parsed(cursor, element, "char", |text| text.trim().parse::<u32>().ok().and_then(char::from_u32))
    }
}

/// A time zone as XML Schema writes it: `Z` or `±hh:mm`.
fn write_offset(f: &mut fmt::Formatter<'_>, offset: Option<FixedOffset>) -> fmt::Result {
    match offset {
        None => Ok(()),
        Some(offset) if offset.local_minus_utc() == 0 => f.write_str("Z"),
        Some(offset) => {
            let seconds = offset.local_minus_utc();
            let sign = if seconds < 0 { '-' } else { '+' };
            let minutes = seconds.unsigned_abs() / 60;
            write!(f, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

/// Splits a trailing time zone (`Z`, `+03:30`, `-05:00`) off a date or time.
fn split_offset(text: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(rest) = text.strip_suffix('Z') {
        return Some((rest, FixedOffset::east_opt(0)));
    }
    let split = text.len().checked_sub(6).filter(|&at| text.is_char_boundary(at));
    if let Some(at) = split {
        let zone = &text[at..];
        let bytes = zone.as_bytes();
        if matches!(bytes[0], b'+' | b'-') && bytes[3] == b':' {
            let hours: i32 = zone[1..3].parse().ok()?;
            let minutes: i32 = zone[4..6].parse().ok()?;
            if hours > 14 || minutes > 59 {
                return None;
            }
            let seconds = (hours * 60 + minutes) * 60 * if bytes[0] == b'-' { -1 } else { 1 };
            return Some((&text[..at], Some(FixedOffset::east_opt(seconds)?)));
        }
    }
    Some((text, None))
}

/// `xs:date`: a calendar date, with the time zone it was written with, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XsDate {
    /// The date.
    pub date: NaiveDate,
    /// The time zone (`Z` is an offset of zero), when the value has one.
    pub offset: Option<FixedOffset>,
}

impl XsDate {
    /// A date without a time zone.
    pub fn new(date: NaiveDate) -> Self {
        XsDate { date, offset: None }
    }
}

impl fmt::Display for XsDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date.format("%Y-%m-%d"))?;
        write_offset(f, self.offset)
    }
}

/// Text that is not a value of the XML Schema type named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an {expected}")]
pub struct InvalidValue {
    expected: &'static str,
    text: String,
}

impl InvalidValue {
    fn new(expected: &'static str, text: &str) -> Self {
        InvalidValue { expected, text: text.to_owned() }
    }
}

impl FromStr for XsDate {
    type Err = InvalidValue;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidValue::new("xs:date", text);
        let (date, offset) = split_offset(text.trim()).ok_or_else(invalid)?;
        // chrono also takes one-digit months and days; XML Schema wants `-?YYYY-MM-DD`.
        let digits = |part: &str, length: usize| part.len() == length && part.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = date.strip_prefix('-').unwrap_or(date).split('-').collect();
        let valid = matches!(parts.as_slice(), [year, month, day]
            if year.len() >= 4 && digits(year, year.len()) && digits(month, 2) && digits(day, 2));
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().filter(|_| valid).ok_or_else(invalid)?;
        Ok(XsDate { date, offset })
    }
}

/// `xs:time`: a time of day, with the time zone it was written with, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XsTime {
    /// The time, to the nanosecond.
    pub time: NaiveTime,
    /// The time zone (`Z` is an offset of zero), when the value has one.
    pub offset: Option<FixedOffset>,
}

impl XsTime {
    /// A time without a time zone.
    pub fn new(time: NaiveTime) -> Self {
        XsTime { time, offset: None }
    }
}

impl fmt::Display for XsTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time.format("%H:%M:%S%.f"))?;
        write_offset(f, self.offset)
    }
}

impl FromStr for XsTime {
    type Err = InvalidValue;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidValue::new("xs:time", text);
        let (time, offset) = split_offset(text.trim()).ok_or_else(invalid)?;
        // Exactly hh:mm:ss with optional fractional seconds; chrono would also take a leap second.
        let valid = time.len() >= 8
            && time.as_bytes()[2] == b':'
            && time.as_bytes()[5] == b':'
            && time.get(6..8).is_some_and(|s| s < "60");
        let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f").ok().filter(|_| valid).ok_or_else(invalid)?;
        Ok(XsTime { time, offset })
    }
}

/// `xs:duration`: years, months, days, hours, minutes and seconds, kept as
/// written (a month has no fixed length, so nothing is normalised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XsDuration {
    /// A negative duration (`-P…`).
    pub negative: bool,
    /// Years.
    pub years: u64,
    /// Months.
    pub months: u64,
    /// Days.
    pub days: u64,
    /// Hours.
    pub hours: u64,
    /// Minutes.
    pub minutes: u64,
    /// Seconds, exactly (`PT1.5S`).
    pub seconds: Decimal,
}

impl fmt::Display for XsDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str("P")?;
        for (value, unit) in [(self.years, 'Y'), (self.months, 'M'), (self.days, 'D')] {
            if value != 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        let has_time = self.hours != 0 || self.minutes != 0 || !self.seconds.is_zero();
        let has_date = self.years != 0 || self.months != 0 || self.days != 0;
        if has_time || !has_date {
            f.write_str("T")?;
            for (value, unit) in [(self.hours, 'H'), (self.minutes, 'M')] {
                if value != 0 {
                    write!(f, "{value}{unit}")?;
                }
            }
            if !self.seconds.is_zero() || !(self.hours != 0 || self.minutes != 0) {
                write!(f, "{}S", self.seconds.normalize())?;
            }
        }
        Ok(())
    }
}

impl FromStr for XsDuration {
    type Err = InvalidValue;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidValue::new("xs:duration", text);
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let rest = rest.strip_prefix('P').ok_or_else(invalid)?;
        let (date_part, time_part) = match rest.split_once('T') {
            Some((date, time)) if !time.is_empty() => (date, Some(time)),
            Some(_) => return Err(invalid()),
            None => (rest, None),
        };
        let mut duration = XsDuration { negative, ..XsDuration::default() };
        let mut components = 0;
        let mut read = |part: &str, units: &[char]| -> Result<Vec<(char, String)>, InvalidValue> {
            let mut found = Vec::new();
            let mut number = String::new();
            let mut next_unit = 0;
            for c in part.chars() {
                if c.is_ascii_digit() || c == '.' {
                    number.push(c);
                    continue;
                }
                let position = units.iter().position(|&unit| unit == c).filter(|&at| at >= next_unit);
                let Some(at) = position.filter(|_| !number.is_empty()) else { return Err(invalid()) };
                next_unit = at + 1;
                found.push((c, std::mem::take(&mut number)));
                components += 1;
            }
            if number.is_empty() {
                Ok(found)
            } else {
                Err(invalid())
            }
        };
        let integer = |number: &str| number.parse::<u64>().map_err(|_| invalid());
        for (unit, number) in read(date_part, &['Y', 'M', 'D'])? {
            let value = integer(&number)?;
            match unit {
                'Y' => duration.years = value,
                'M' => duration.months = value,
                _ => duration.days = value,
            }
        }
        for (unit, number) in read(time_part.unwrap_or(""), &['H', 'M', 'S'])? {
            match unit {
                'H' => duration.hours = integer(&number)?,
                'M' => duration.minutes = integer(&number)?,
                _ => {
                    let exact = number.starts_with(|c: char| c.is_ascii_digit()) && !number.ends_with('.');
                    duration.seconds =
                        exact.then(|| Decimal::from_str_exact(&number).ok()).flatten().ok_or_else(invalid)?;
                }
            }
        }
        if components == 0 {
            return Err(invalid());
        }
        Ok(duration)
    }
}

/// `xs:hexBinary`: bytes written as pairs of hex digits (upper case, as XML Schema's canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct HexBinary(pub Vec<u8>);

impl fmt::Display for HexBinary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02X}"))
    }
}

impl FromStr for HexBinary {
    type Err = InvalidValue;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.trim().as_bytes();
        if !digits.len().is_multiple_of(2) {
            return Err(InvalidValue::new("xs:hexBinary", text));
        }
        let digit = |byte: u8| (byte as char).to_digit(16);
        digits
            .chunks(2)
            .map(|pair| u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok())
            .collect::<Option<Vec<u8>>>()
            .map(HexBinary)
            .ok_or_else(|| InvalidValue::new("xs:hexBinary", text))
    }
}

macro_rules! text_content {
    ($($ty:ty => $xsd:literal),* $(,)?) => {$(
        impl XmlContent for $ty {
            fn write_content(&self, w: &mut XmlWriter) {
                w.text_display(self);
            }
            fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
                parse_text(element, $xsd)
            }
            fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
                stream_parsed(cursor, element, $xsd, |text| text.trim().parse().ok())
            }
        }
    )*};
}

text_content!(XsDate => "xs:date", XsTime => "xs:time", XsDuration => "xs:duration", HexBinary => "xs:hexBinary");

/// Serde sees these types as their XML Schema text (`"2024-01-31+03:30"`).
#[cfg(feature = "serde")]
macro_rules! serde_as_text {
    ($($ty:ty),*) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

#[cfg(feature = "serde")]
serde_as_text!(XsDate, XsTime, XsDuration, HexBinary);

/// `xs:QName`: a namespace and a local name. On the wire it is `prefix:local`,
/// the prefix declared in scope; it is read by namespace, whatever the prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QName {
    /// The namespace URI (`""` for none).
    pub namespace: String,
    /// The local name.
    pub local: String,
}

impl QName {
    /// `{namespace}local`.
    pub fn new(namespace: impl Into<String>, local: impl Into<String>) -> Self {
        QName { namespace: namespace.into(), local: local.into() }
    }
}

impl XmlContent for QName {
    fn write_content(&self, w: &mut XmlWriter) {
        w.qname_text(&self.namespace, &self.local);
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        let trimmed = text.trim();
        let (prefix, local) = trimmed.split_once(':').unwrap_or(("", trimmed));
        let valid_local = !local.is_empty() && !local.contains(':');
        let namespace = element.lookup_namespace(prefix).or(prefix.is_empty().then_some(""));
        match namespace.filter(|_| valid_local) {
            Some(namespace) => Ok(QName::new(namespace, local)),
            None => Err(element.invalid_value("xs:QName", &text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn dates_and_times_keep_their_time_zone() {
        for text in ["2024-01-31", "2024-01-31Z", "2024-01-31+03:30", "-0044-03-15-05:00"] {
            assert_eq!(text.parse::<XsDate>().map(|date| date.to_string()).as_deref(), Ok(text));
        }
        for text in ["14:30:00", "14:30:00.125Z", "00:00:01+14:00"] {
            assert_eq!(text.parse::<XsTime>().map(|time| time.to_string()).as_deref(), Ok(text));
        }
        for bad in ["2024-1-31", "2024-01-31+3:30", "2024-01-31+15:00", "", "31/01/2024"] {
            assert!(bad.parse::<XsDate>().is_err(), "{bad}");
        }
        for bad in ["14:30", "14:30:60", "2:30:00", "14:30:00+"] {
            assert!(bad.parse::<XsTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_parse_every_component() {
        let duration: XsDuration = "-P1Y2M3DT4H5M6.5S".parse().expect("a duration");
        assert_eq!(
            duration,
            XsDuration {
                negative: true,
                years: 1,
                months: 2,
                days: 3,
                hours: 4,
                minutes: 5,
                seconds: Decimal::new(65, 1)
            }
        );
        assert_eq!(duration.to_string(), "-P1Y2M3DT4H5M6.5S");
        assert_eq!("PT0S".parse::<XsDuration>().map(|d| d.to_string()).as_deref(), Ok("PT0S"));
        assert_eq!("P0Y".parse::<XsDuration>().map(|d| d.to_string()).as_deref(), Ok("PT0S"));
        for bad in ["P", "PT", "P1H", "PT1D", "P1M1Y", "1Y", "P-1Y", "PT1.S", "PT.5S", "P1.5Y", "P1YT"] {
            assert!(bad.parse::<XsDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn hex_binary_is_pairs_of_digits() {
        assert_eq!("0fA0".parse::<HexBinary>(), Ok(HexBinary(vec![0x0f, 0xa0])));
        assert_eq!(HexBinary(vec![0x0f, 0xa0]).to_string(), "0FA0");
        assert!("0".parse::<HexBinary>().is_err() && "zz".parse::<HexBinary>().is_err());
    }

    proptest! {
        /// What is written reads back as the same value.
        #[test]
        fn written_values_read_back(
            days in -700_000i64..700_000,
            millis in 0u32..86_400_000,
            offset in prop::option::of(-14i32 * 60..=14 * 60),
            parts in (any::<bool>(), 0u64..3000, 0u64..30, 0u64..40, 0u64..30, 0u64..70),
            seconds in (0i64..1_000_000, 0u32..9),
            bytes in prop::collection::vec(any::<u8>(), 0..16),
        ) {
            let offset = offset.and_then(|minutes| FixedOffset::east_opt(minutes * 60));
            let date = NaiveDate::from_num_days_from_ce_opt(730_000 + days as i32).expect("a date");
            let value = XsDate { date, offset };
            prop_assert_eq!(value.to_string().parse::<XsDate>(), Ok(value));
            let time = NaiveTime::from_num_seconds_from_midnight_opt(millis / 1000, (millis % 1000) * 1_000_000)
                .expect("a time");
            let value = XsTime { time, offset };
            prop_assert_eq!(value.to_string().parse::<XsTime>(), Ok(value));
            let (negative, years, months, days, hours, minutes) = parts;
            let seconds = Decimal::new(seconds.0, seconds.1);
            let value = XsDuration { negative, years, months, days, hours, minutes, seconds };
            let read: XsDuration = value.to_string().parse().expect("a duration");
            prop_assert_eq!(read, XsDuration { seconds: read.seconds, ..value });
            prop_assert_eq!(read.seconds.normalize(), seconds.normalize());
            let value = HexBinary(bytes);
            prop_assert_eq!(value.to_string().parse::<HexBinary>(), Ok(value));
        }
    }
}
