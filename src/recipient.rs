//! Iranian mobile number normalisation.
//!
//! The panel expects recipient numbers in the national form `09xxxxxxxxx`
//! (a `0` trunk prefix followed by ten digits starting with `9`). People type
//! them in many other ways, so [`MobileNumber::parse`] accepts all of:
//!
//! | written as          | example              |
//! | ------------------- | -------------------- |
//! | national            | `09121234567`        |
//! | without trunk `0`   | `9121234567`         |
//! | country code        | `989121234567`       |
//! | `+` country code    | `+989121234567`      |
//! | `00` country code   | `00989121234567`     |
//!
//! A redundant trunk `0` after the country code (`+98 0912 123 4567`, a
//! common way of writing it) is accepted as well.
//!
//! Digits may be ASCII (`0`–`9`), Persian (`۰`–`۹`, U+06F0–U+06F9) or
//! Arabic-Indic (`٠`–`٩`, U+0660–U+0669), mixed freely. The following
//! *separators* are ignored wherever they appear:
//!
//! * any Unicode white space (space, tab, no-break space U+00A0, narrow
//!   no-break space U+202F, …);
//! * `-`, `.`, `(`, `)`, the Unicode dashes U+2010–U+2015 and the minus sign
//!   U+2212;
//! * invisible formatting characters that sneak in when numbers are copied
//!   from right-to-left text: zero-width space U+200B, zero-width non-joiner
//!   U+200C, zero-width joiner U+200D, the direction marks LRM U+200E,
//!   RLM U+200F and ALM U+061C, the embedding/override controls
//!   U+202A–U+202E, the isolate controls U+2066–U+2069 and the byte order
//!   mark U+FEFF.
//!
//! A single `+` is allowed before the first digit. Anything else is rejected
//! with an [`InvalidNumber`] error that says what was wrong and where.
//!
//! Only the *shape* of the number is checked (a `9` after the prefix and the
//! right number of digits); operator prefixes are not, since new ones are
//! assigned from time to time.
//!
//! Sender ("virtual") line numbers such as `50001333337375` or `۳۰۰۰۱۲۳۴` are
//! not mobile numbers: clean those up with [`normalize_digits`] instead,
//! which only converts digits and drops separators.
//!
//! ```
//! use payamak::recipient::{normalize_all, MobileNumber};
//!
//! let number = MobileNumber::parse("+98 (912) 123-4567")?;
//! assert_eq!(number.as_str(), "09121234567");
//! assert_eq!(number.international(), "+989121234567");
//!
//! let all = normalize_all(["۰۹۱۲۱۲۳۴۵۶۷", "9351234567"])?;
//! assert_eq!(all[1].as_str(), "09351234567");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use arrayvec::ArrayString;
use std::str::FromStr;

/// Number of digits in a national significant number (`9xxxxxxxxx`).
const NSN_DIGITS: usize = 10;
/// The trunk `0` and the national significant number.
const CANONICAL_LEN: usize = NSN_DIGITS + 1;

/// A validated Iranian mobile number in canonical national form
/// (`09` followed by nine ASCII digits, e.g. `09121234567`).
///
/// Obtain one with [`MobileNumber::parse`] (or [`str::parse`], or
/// `TryFrom<&str>` / `TryFrom<String>`); see the [module documentation](self)
/// for the accepted input forms. Two numbers written differently but denoting
/// the same line compare equal once parsed, so `MobileNumber` can be used to
/// de-duplicate recipient lists.
///
/// With the `serde` feature it serialises as its canonical string, and
/// deserialises from any accepted form (normalising and validating it).
///
/// ```
/// use payamak::recipient::MobileNumber;
///
/// let a: MobileNumber = "0912 123 4567".parse()?;
/// let b = MobileNumber::parse("+989121234567")?;
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "09121234567");
/// # Ok::<(), payamak::recipient::InvalidNumber>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    any(feature = "journal", feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
// The canonical form, held inline: a list of a million numbers is a million
// times 16 bytes, with no allocation per number, and reading it as `&str`
// checks nothing (the bytes were checked once, when parsed).
pub struct MobileNumber(ArrayString<CANONICAL_LEN>);

impl MobileNumber {
    /// Parses and normalises a mobile number written in any of the accepted
    /// forms.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidNumber`] when the input has no digits, contains a
    /// character that is neither a digit nor a separator, has the wrong
    /// number of digits for the form it is written in, or is not an Iranian
    /// mobile number (a landline, or a foreign country code). The error's
    /// [`reason`](InvalidNumber::reason) tells which.
    ///
    /// ```
    /// use payamak::recipient::{InvalidNumberReason, MobileNumber};
    ///
    /// assert_eq!(MobileNumber::parse("٠٩١٢ ١٢٣ ٤٥٦٧")?.as_str(), "09121234567");
    ///
    /// let err = MobileNumber::parse("0912-abc").unwrap_err();
    /// assert_eq!(
    ///     err.reason(),
    ///     &InvalidNumberReason::InvalidCharacter { character: 'a', position: 6 },
    /// );
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"invalid mobile number "0912-abc": contains 'a' at character 6"#,
    /// );
    /// # Ok::<(), payamak::recipient::InvalidNumber>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, InvalidNumber> {
        parse_canonical(input).map(MobileNumber).map_err(|reason| InvalidNumber { input: input.to_owned(), reason })
    }

    /// The canonical national form, `09xxxxxxxxx`, as sent to the panel.
    ///
    /// ```
    /// use payamak::recipient::MobileNumber;
    ///
    /// let number = MobileNumber::parse("00989121234567")?;
    /// assert_eq!(number.as_str(), "09121234567");
    /// # Ok::<(), payamak::recipient::InvalidNumber>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The international (E.164) form, `+989xxxxxxxxx`.
    ///
    /// ```
    /// use payamak::recipient::MobileNumber;
    ///
    /// let number = MobileNumber::parse("09121234567")?;
    /// assert_eq!(number.international(), "+989121234567");
    /// # Ok::<(), payamak::recipient::InvalidNumber>(())
    /// ```
    #[must_use]
    pub fn international(&self) -> String {
        // The canonical form always starts with the ASCII trunk prefix `0`.
        let canonical = self.as_str();
        let national_significant = canonical.strip_prefix('0').unwrap_or(canonical);
        format!("+98{national_significant}")
    }

    /// Consumes the number, returning its canonical national form.
    ///
    /// ```
    /// use payamak::recipient::MobileNumber;
    ///
    /// let number = MobileNumber::parse("9121234567")?;
    /// assert_eq!(number.into_string(), "09121234567");
    /// # Ok::<(), payamak::recipient::InvalidNumber>(())
    /// ```
    #[must_use]
    pub fn into_string(self) -> String {
        self.as_str().to_owned()
    }
}

impl fmt::Display for MobileNumber {
    /// Writes the canonical national form, `09xxxxxxxxx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MobileNumber").field(&self.as_str()).finish()
    }
}

impl FromStr for MobileNumber {
    type Err = InvalidNumber;

    /// Same as [`MobileNumber::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for MobileNumber {
    type Error = InvalidNumber;

    /// Same as [`MobileNumber::parse`].
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for MobileNumber {
    type Error = InvalidNumber;

    /// Same as [`MobileNumber::parse`].
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MobileNumber> for String {
    /// Returns the canonical national form, `09xxxxxxxxx`.
    fn from(number: MobileNumber) -> Self {
        number.into_string()
    }
}

impl AsRef<str> for MobileNumber {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Error returned when a string is not a valid Iranian mobile number.
///
/// It keeps the offending input (verbatim) and the
/// [reason](InvalidNumberReason) it was rejected. Its message quotes the input
/// with Rust string escaping, so invisible characters show up:
///
/// ```
/// use payamak::recipient::{InvalidNumberReason, MobileNumber};
///
/// let err = MobileNumber::parse("021 1234 5678").unwrap_err();
/// assert_eq!(err.input(), "021 1234 5678");
/// assert_eq!(err.reason(), &InvalidNumberReason::NotMobile);
/// assert!(err.to_string().starts_with(r#"invalid mobile number "021 1234 5678": "#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mobile number {input:?}: {reason}")]
pub struct InvalidNumber {
    input: String,
    reason: InvalidNumberReason,
}

impl InvalidNumber {
    /// The input that was rejected, exactly as given.
    #[must_use]
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why the input was rejected.
    #[must_use]
    pub fn reason(&self) -> &InvalidNumberReason {
        &self.reason
    }
}

/// Why a string was rejected as a mobile number; see [`InvalidNumber`].
///
/// Its `Display` is the part of the error message after the quoted input,
/// e.g. `contains 'a' at character 6`.
///
/// ```
/// use payamak::recipient::{InvalidNumberReason, MobileNumber};
///
/// let reason = *MobileNumber::parse("0912 123 456").unwrap_err().reason();
/// assert_eq!(reason, InvalidNumberReason::WrongLength { digits: 10, expected: 11 });
/// assert_eq!(reason.to_string(), "has 10 digits, expected 11");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidNumberReason {
    /// The input contains no digits at all (it is empty, or consists only of
    /// separators and possibly a `+`).
    Empty,
    /// The input contains a character that is neither a digit nor a
    /// separator (or a `+` that is not before the first digit).
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 1-based position in the input, counted in characters
        /// (Unicode scalar values), not bytes.
        position: usize,
    },
    /// The input has the wrong number of digits for the form it is written
    /// in.
    WrongLength {
        /// How many digits the input has (in any script, prefix included).
        digits: usize,
        /// How many digits a valid number written in the same form has:
        /// 10 for `9xxxxxxxxx`, 11 for `09xxxxxxxxx`, 12 for `989xxxxxxxxx`
        /// and `+989xxxxxxxxx`, 14 for `00989xxxxxxxxx` (one more when a
        /// trunk `0` follows the country code).
        expected: usize,
    },
    /// The digits do not form an Iranian mobile number: the national number
    /// (after the `0` trunk prefix or the `98` country code) does not start
    /// with `9` (e.g. a landline such as `021…`), or the number has a
    /// foreign country code (e.g. `+44…`, `0044…`).
    NotMobile,
}

impl fmt::Display for InvalidNumberReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("contains no digits"),
            Self::InvalidCharacter { character, position } => {
                write!(f, "contains {character:?} at character {position}")
            }
            Self::WrongLength { digits, expected } => {
                let plural = if digits == 1 { "" } else { "s" };
                write!(f, "has {digits} digit{plural}, expected {expected}")
            }
            Self::NotMobile => f.write_str(
                "not an Iranian mobile number (expected 09 followed by 9 digits, \
                 or +989 followed by 9 digits)",
            ),
        }
    }
}

/// Error returned by [`normalize_all`]: the recipient at [`index`] (0-based
/// position in the input list) is not a valid mobile number.
///
/// The message includes the wrapped [`InvalidNumber`]'s message, so the
/// wrapped error is available through [`error`](InvalidRecipient::error)
/// rather than through [`std::error::Error::source`] (which would repeat it
/// when an error chain is printed).
///
/// [`index`]: InvalidRecipient::index
///
/// ```
/// use payamak::recipient::normalize_all;
///
/// let err = normalize_all(["09121234567", "0912"]).unwrap_err();
/// assert_eq!(err.index(), 1);
/// assert_eq!(err.error().input(), "0912");
/// assert_eq!(
///     err.to_string(),
///     r#"recipient #1: invalid mobile number "0912": has 4 digits, expected 11"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recipient #{index}: {error}")]
pub struct InvalidRecipient {
    index: usize,
    error: InvalidNumber,
}

impl InvalidRecipient {
    /// The 0-based position of the invalid number in the list given to
    /// [`normalize_all`].
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Why that number is invalid.
    #[must_use]
    pub fn error(&self) -> &InvalidNumber {
        &self.error
    }

    /// Consumes the error, returning the wrapped [`InvalidNumber`].
    #[must_use]
    pub fn into_error(self) -> InvalidNumber {
        self.error
    }

    /// The same error with its index moved by `offset` (for lists built in pieces).
    #[must_use]
    pub(crate) fn offset_by(self, offset: usize) -> Self {
        InvalidRecipient { index: self.index + offset, ..self }
    }
}

/// Parses every number in `numbers`, in order, stopping at the first invalid
/// one.
///
/// The result has one entry per input, in the same order; duplicates are kept
/// (collect into a [`BTreeSet`](std::collections::BTreeSet) to drop them).
///
/// # Errors
///
/// Returns [`InvalidRecipient`] naming the 0-based index of the first number
/// that [`MobileNumber::parse`] rejects.
///
/// ```
/// use payamak::recipient::normalize_all;
///
/// let numbers = normalize_all(vec!["+98 912 123 4567".to_string(), "۰۹۳۵۱۲۳۴۵۶۷".into()])?;
/// let numbers: Vec<&str> = numbers.iter().map(|n| n.as_str()).collect();
/// assert_eq!(numbers, ["09121234567", "09351234567"]);
///
/// let err = normalize_all(["09121234567", "09351234567", "", "x"]).unwrap_err();
/// assert_eq!(err.index(), 2);
/// # Ok::<(), payamak::recipient::InvalidRecipient>(())
/// ```
pub fn normalize_all<I, S>(numbers: I) -> Result<Vec<MobileNumber>, InvalidRecipient>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    numbers
        .into_iter()
        .enumerate()
        .map(|(index, number)| MobileNumber::parse(number.as_ref()).map_err(|error| InvalidRecipient { index, error }))
        .collect()
}

/// Converts Persian and Arabic-Indic digits to ASCII and removes separators,
/// leaving every other character untouched.
///
/// Meant for sender ("virtual") line numbers such as `50001333337375` or
/// `۳۰۰۰۱۲۳۴`, which are not mobile numbers and must not be reshaped. The
/// separators removed are those listed in the [module documentation](self).
/// Nothing is validated: letters, `+` and other characters are kept as they
/// are.
///
/// ```
/// use payamak::recipient::normalize_digits;
///
/// assert_eq!(normalize_digits("۳۰۰۰ ۱۲۳۴"), "30001234");
/// assert_eq!(normalize_digits("5000-1333-337375"), "50001333337375");
/// assert_eq!(normalize_digits("٢١٠\u{200c}٠"), "2100");
/// assert_eq!(normalize_digits("+98 abc"), "+98abc");
/// ```
#[must_use]
pub fn normalize_digits(input: &str) -> String {
    input.chars().filter(|&c| !is_separator(c)).map(|c| ascii_digit(c).map_or(c, char::from)).collect()
}

/// Maps an ASCII, Persian or Arabic-Indic digit to its ASCII byte
/// (`b'0'..=b'9'`).
fn ascii_digit(c: char) -> Option<u8> {
    let offset = match c {
        '0'..='9' => u32::from(c) - u32::from('0'),
        '\u{06F0}'..='\u{06F9}' => u32::from(c) - 0x06F0,
        '\u{0660}'..='\u{0669}' => u32::from(c) - 0x0660,
        _ => return None,
    };
    // `offset` is in 0..=9 by construction of the ranges above.
    u8::try_from(offset).ok().map(|d| b'0' + d)
}

/// Characters ignored inside numbers; see the module documentation.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.'
                | '('
                | ')'
                | '\u{2010}'..='\u{2015}' // hyphen .. horizontal bar
                | '\u{2212}' // minus sign
                | '\u{200B}'..='\u{200F}' // ZWSP, ZWNJ, ZWJ, LRM, RLM
                | '\u{061C}' // arabic letter mark
                | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
                | '\u{2066}'..='\u{2069}' // bidi isolates
                | '\u{FEFF}' // byte order mark / zero-width no-break space
        )
}

/// The digits read so far, kept on the stack while they fit.
#[derive(Default)]
struct Digits {
    inline: [u8; 24],
    count: usize,
    spilled: Vec<u8>,
}

impl Digits {
    fn push(&mut self, digit: u8) {
        if let Some(slot) = self.inline.get_mut(self.count) {
            *slot = digit;
        } else {
            if self.spilled.is_empty() {
                self.spilled.extend_from_slice(&self.inline);
            }
            self.spilled.push(digit);
        }
        self.count += 1;
    }

    fn as_slice(&self) -> &[u8] {
        self.inline.get(..self.count).unwrap_or(&self.spilled)
    }
}

/// Validates `input` and returns its canonical `09xxxxxxxxx` form.
fn parse_canonical(input: &str) -> Result<ArrayString<CANONICAL_LEN>, InvalidNumberReason> {
    let mut plus = false;
    // ASCII digits, in order: on the stack for any number (15 digits at
    // most); a pathological long input costs a copy, as the error makes anyway.
    let mut digits = Digits::default();
    for (index, c) in input.chars().enumerate() {
        if let Some(d) = ascii_digit(c) {
            digits.push(d);
        } else if c == '+' && !plus && digits.as_slice().is_empty() {
            plus = true;
        } else if !is_separator(c) {
            return Err(InvalidNumberReason::InvalidCharacter { character: c, position: index + 1 });
        }
    }
    let digits = digits.as_slice();
    if digits.is_empty() {
        return Err(InvalidNumberReason::Empty);
    }

    let (national, prefix_len) = split_prefix(digits, plus)?;
    match national.first() {
        Some(b'9') | None => {}
        Some(_) => return Err(InvalidNumberReason::NotMobile),
    }
    if national.len() != NSN_DIGITS {
        return Err(InvalidNumberReason::WrongLength { digits: digits.len(), expected: prefix_len + NSN_DIGITS });
    }

    // `0` and the NSN_DIGITS digits of `national` fill it exactly.
    let mut canonical = ArrayString::new();
    canonical.push('0');
    national.iter().for_each(|&digit| canonical.push(char::from(digit)));
    Ok(canonical)
}

/// Splits the (non-empty) digits into the prefix (`0`, `98`, `+98`, `0098`,
/// each of the last three optionally followed by a trunk `0`) and the
/// national significant number, returning the latter and the prefix length
/// in digits.
fn split_prefix(digits: &[u8], plus: bool) -> Result<(&[u8], usize), InvalidNumberReason> {
    const COUNTRY_CODE: &[u8] = b"98";

    let international_marker = if plus {
        Some(0)
    } else if digits.starts_with(b"00") {
        Some(2)
    } else {
        None
    };

    let after_country_code = if let Some(marker) = international_marker {
        let rest = &digits[marker..];
        if let Some(after) = rest.strip_prefix(COUNTRY_CODE) {
            Some((after, marker + COUNTRY_CODE.len()))
        } else if COUNTRY_CODE.starts_with(rest) {
            // Truncated country code: "+9", "009", "00".
            return Err(InvalidNumberReason::WrongLength {
                digits: digits.len(),
                expected: marker + COUNTRY_CODE.len() + NSN_DIGITS,
            });
        } else {
            // Another country's code.
            return Err(InvalidNumberReason::NotMobile);
        }
    } else if digits.len() > NSN_DIGITS {
        // "98" without "+" or "00": a country code only when there are too
        // many digits for the national form `9xxxxxxxxx`.
        digits.strip_prefix(COUNTRY_CODE).map(|after| (after, COUNTRY_CODE.len()))
    } else {
        None
    };

    Ok(match after_country_code {
        // A redundant trunk prefix after the country code: +98 0912 ...
        Some((after, len)) => match after.strip_prefix(b"0") {
            Some(national) => (national, len + 1),
            None => (after, len),
        },
        None => match digits.strip_prefix(b"0") {
            Some(national) => (national, 1),
            None => (digits, 0),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn reason(input: &str) -> InvalidNumberReason {
        match MobileNumber::parse(input) {
            Ok(n) => panic!("{input:?} unexpectedly parsed as {n}"),
            Err(e) => {
                assert_eq!(e.input(), input);
                *e.reason()
            }
        }
    }

    fn canonical(input: &str) -> String {
        match MobileNumber::parse(input) {
            Ok(n) => n.into_string(),
            Err(e) => panic!("{input:?} rejected: {e}"),
        }
    }

    #[test]
    fn accepts_all_prefix_forms() {
        for input in [
            "09121234567",
            "9121234567",
            "989121234567",
            "+989121234567",
            "00989121234567",
            "+9809121234567",
            "9809121234567",
            "009809121234567",
        ] {
            assert_eq!(canonical(input), "09121234567", "input {input:?}");
        }
    }

    #[test]
    fn accepts_persian_and_arabic_indic_digits() {
        assert_eq!(canonical("۰۹۱۲۱۲۳۴۵۶۷"), "09121234567");
        assert_eq!(canonical("٠٩١٢١٢٣٤٥٦٧"), "09121234567");
        assert_eq!(canonical("+۹۸۹۳۵۱۲۳۴۵۶۷"), "09351234567");
        // Mixed scripts in one number.
        assert_eq!(canonical("۰9١2۱۲3٤۵6٧"), "09121234567");
    }

    #[test]
    fn ignores_separators() {
        assert_eq!(canonical("0912 123 4567"), "09121234567");
        assert_eq!(canonical("0912-123-4567"), "09121234567");
        assert_eq!(canonical("0912.123.4567"), "09121234567");
        assert_eq!(canonical("(0912) 123 4567"), "09121234567");
        assert_eq!(canonical("+98 (912) 123-45-67"), "09121234567");
        assert_eq!(canonical("\u{200e}+98\u{a0}912\u{200c}123\u{200f}4567"), "09121234567");
        assert_eq!(canonical("\u{feff}\u{2067}۰۹۱۲\u{2013}۱۲۳\u{2069}۴۵۶۷\t\n"), "09121234567");
        assert_eq!(canonical("  +989121234567  "), "09121234567");
    }

    #[test]
    fn canonical_is_a_fixed_point() {
        let n = MobileNumber::parse("+98 912 123 4567").unwrap();
        assert_eq!(MobileNumber::parse(n.as_str()).unwrap(), n);
        assert_eq!(MobileNumber::parse(&n.international()).unwrap(), n);
    }

    #[test]
    fn accessors_and_conversions() {
        let n: MobileNumber = "9121234567".parse().unwrap();
        assert_eq!(n.as_str(), "09121234567");
        assert_eq!(n.as_ref(), "09121234567");
        assert_eq!(n.to_string(), "09121234567");
        assert_eq!(n.international(), "+989121234567");
        assert_eq!(format!("{n:?}"), r#"MobileNumber("09121234567")"#);
        assert_eq!(MobileNumber::try_from("09121234567").unwrap(), n);
        assert_eq!(MobileNumber::try_from(String::from("09121234567")).unwrap(), n);
        assert_eq!(String::from(n.clone()), "09121234567");

        let mut sorted =
            vec![MobileNumber::parse("09351234567").unwrap(), n.clone(), MobileNumber::parse("+989121234567").unwrap()];
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 2);
        assert_eq!(sorted[0], n);
        let set: HashSet<_> =
            ["09121234567", "+989121234567", "۹۱۲۱۲۳۴۵۶۷"].iter().map(|s| MobileNumber::parse(s).unwrap()).collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(reason(""), InvalidNumberReason::Empty);
        assert_eq!(reason("   "), InvalidNumberReason::Empty);
        assert_eq!(reason("\u{200c}-()"), InvalidNumberReason::Empty);
        assert_eq!(reason("+"), InvalidNumberReason::Empty);
        assert_eq!(MobileNumber::parse("").unwrap_err().to_string(), r#"invalid mobile number "": contains no digits"#);
    }

    #[test]
    fn rejects_invalid_characters_with_position() {
        assert_eq!(reason("0912-abc"), InvalidNumberReason::InvalidCharacter { character: 'a', position: 6 });
        assert_eq!(
            MobileNumber::parse("0912-abc").unwrap_err().to_string(),
            r#"invalid mobile number "0912-abc": contains 'a' at character 6"#
        );
        // Positions count characters, not bytes.
        assert_eq!(reason("۰۹۱۲x"), InvalidNumberReason::InvalidCharacter { character: 'x', position: 5 });
        // `+` only before the first digit, and only once.
        assert_eq!(reason("0+9121234567"), InvalidNumberReason::InvalidCharacter { character: '+', position: 2 });
        assert_eq!(reason("++989121234567"), InvalidNumberReason::InvalidCharacter { character: '+', position: 2 });
        // Not treated as a separator.
        assert_eq!(reason("0912/1234567"), InvalidNumberReason::InvalidCharacter { character: '/', position: 5 });
        // Other digit-like characters are not digits.
        assert_eq!(
            reason("０９１２１２３４５６７"),
            InvalidNumberReason::InvalidCharacter { character: '０', position: 1 }
        );
    }

    #[test]
    fn invalid_character_message_escapes_invisible_characters() {
        let message = MobileNumber::parse("0912\u{7}").unwrap_err().to_string();
        assert_eq!(message, r#"invalid mobile number "0912\u{7}": contains '\u{7}' at character 5"#);
    }

    #[test]
    fn rejects_wrong_length() {
        let wrong = |digits, expected| InvalidNumberReason::WrongLength { digits, expected };
        assert_eq!(reason("0912123456"), wrong(10, 11));
        assert_eq!(reason("091212345678"), wrong(12, 11));
        assert_eq!(reason("912123456"), wrong(9, 10));
        assert_eq!(reason("+98912123456"), wrong(11, 12));
        assert_eq!(reason("+9891212345678"), wrong(13, 12));
        assert_eq!(reason("0098912123456"), wrong(13, 14));
        assert_eq!(reason("98912345678"), wrong(11, 12));
        assert_eq!(reason("+98"), wrong(2, 12));
        assert_eq!(reason("+980"), wrong(3, 13));
        assert_eq!(reason("+9"), wrong(1, 12));
        assert_eq!(reason("00"), wrong(2, 14));
        assert_eq!(reason("0"), wrong(1, 11));
        assert_eq!(reason("9"), wrong(1, 10));
        // Past the digits kept on the stack: every one still counted.
        assert_eq!(reason(&format!("0912{}", "1".repeat(40))), wrong(44, 11));
        assert_eq!(reason(&format!("+98 912 {}", "۱".repeat(30))), wrong(35, 12));
        assert_eq!(
            MobileNumber::parse("0912").unwrap_err().to_string(),
            r#"invalid mobile number "0912": has 4 digits, expected 11"#
        );
        assert_eq!(
            MobileNumber::parse("9").unwrap_err().to_string(),
            r#"invalid mobile number "9": has 1 digit, expected 10"#
        );
    }

    #[test]
    fn rejects_non_mobile_numbers() {
        // Tehran landline.
        assert_eq!(reason("021 1234 5678"), InvalidNumberReason::NotMobile);
        assert_eq!(reason("+98 21 1234 5678"), InvalidNumberReason::NotMobile);
        assert_eq!(reason("12345"), InvalidNumberReason::NotMobile);
        // Foreign numbers.
        assert_eq!(reason("+44 7700 900123"), InvalidNumberReason::NotMobile);
        assert_eq!(reason("0044 7700 900123"), InvalidNumberReason::NotMobile);
        assert_eq!(reason("+1"), InvalidNumberReason::NotMobile);
        let message = MobileNumber::parse("02112345678").unwrap_err().to_string();
        assert!(
            message.starts_with(r#"invalid mobile number "02112345678": not an Iranian mobile number"#),
            "{message}"
        );
    }

    #[test]
    fn ten_digit_numbers_starting_with_98_are_national() {
        // `98xxxxxxxx` with ten digits is the national form of 098xxxxxxxx,
        // not a truncated country-code form.
        assert_eq!(canonical("9891234567"), "09891234567");
    }

    #[test]
    fn normalize_all_keeps_order_and_duplicates() {
        let all = normalize_all(["09121234567", "+98 935 123 4567", "9121234567"]).unwrap();
        let all: Vec<&str> = all.iter().map(MobileNumber::as_str).collect();
        assert_eq!(all, ["09121234567", "09351234567", "09121234567"]);

        let owned: Vec<String> = vec!["۰۹۱۲۱۲۳۴۵۶۷".into()];
        assert_eq!(normalize_all(&owned).unwrap().len(), 1);
        assert_eq!(normalize_all(Vec::<String>::new()).unwrap(), vec![]);
    }

    #[test]
    fn normalize_all_reports_first_invalid_index() {
        let err = normalize_all(["09121234567", "09121234567", "09121234567", "0912-abc", ""]).unwrap_err();
        assert_eq!(err.index(), 3);
        assert_eq!(err.error().input(), "0912-abc");
        assert_eq!(err.to_string(), r#"recipient #3: invalid mobile number "0912-abc": contains 'a' at character 6"#);
        assert!(std::error::Error::source(&err).is_none());
        assert_eq!(err.into_error().input(), "0912-abc");
    }

    #[test]
    fn normalize_digits_only_maps_digits_and_strips_separators() {
        assert_eq!(normalize_digits("50001333337375"), "50001333337375");
        assert_eq!(normalize_digits("۳۰۰۰۱۲۳۴"), "30001234");
        assert_eq!(normalize_digits("٣٠٠٠ ١٢٣٤"), "30001234");
        assert_eq!(normalize_digits("\u{200f}۱۰۰۰-۲۰۰۰\u{200e}"), "10002000");
        // No reshaping of prefixes, and other characters are kept.
        assert_eq!(normalize_digits("+98 912"), "+98912");
        assert_eq!(normalize_digits("0098"), "0098");
        assert_eq!(normalize_digits("sender/۱"), "sender/1");
        assert_eq!(normalize_digits(""), "");
    }

    const SEPARATORS: &[char] = &[' ', '-', '.', '(', ')', '\u{a0}', '\u{200c}', '\u{200e}', '\u{200f}', '\t'];

    fn to_script(d: char, script: u8) -> char {
        let offset = u32::from(d) - u32::from('0');
        let base = match script {
            0 => u32::from('0'),
            1 => 0x06F0,
            _ => 0x0660,
        };
        char::from_u32(base + offset).unwrap()
    }

    /// Renders `digits` (ASCII) with per-digit scripts and separators
    /// sprinkled in before each character.
    fn render(digits: &str, scripts: &[u8], seps: &[Option<usize>]) -> String {
        let mut out = String::new();
        for (i, d) in digits.chars().enumerate() {
            if let Some(Some(s)) = seps.get(i) {
                out.push(SEPARATORS[s % SEPARATORS.len()]);
            }
            let script = scripts.get(i).copied().unwrap_or(0);
            out.push(if d.is_ascii_digit() { to_script(d, script) } else { d });
        }
        out
    }

    proptest! {
        #[test]
        fn every_form_and_script_normalises_to_the_same_number(
            subscriber in "9[0-9]{9}",
            form in 0usize..8,
            scripts in proptest::collection::vec(0u8..3, 16),
            seps in proptest::collection::vec(proptest::option::weighted(0.3, 0usize..64), 16),
            leading in proptest::option::of(0usize..64),
            trailing in proptest::option::of(0usize..64),
        ) {
            let written = match form {
                0 => format!("0{subscriber}"),
                1 => subscriber.clone(),
                2 => format!("98{subscriber}"),
                3 => format!("+98{subscriber}"),
                4 => format!("0098{subscriber}"),
                5 => format!("+980{subscriber}"),
                6 => format!("980{subscriber}"),
                _ => format!("00980{subscriber}"),
            };
            let mut input = String::new();
            if let Some(s) = leading {
                input.push(SEPARATORS[s % SEPARATORS.len()]);
            }
            input.push_str(&render(&written, &scripts, &seps));
            if let Some(s) = trailing {
                input.push(SEPARATORS[s % SEPARATORS.len()]);
            }
            let parsed = MobileNumber::parse(&input);
            prop_assert!(parsed.is_ok(), "{:?} rejected: {:?}", input, parsed);
            let parsed = parsed.unwrap();
            prop_assert_eq!(parsed.as_str(), format!("0{subscriber}"));
            prop_assert_eq!(parsed.international(), format!("+98{subscriber}"));
        }

        #[test]
        fn arbitrary_strings_never_panic(input in any::<String>()) {
            check_result(&input)?;
        }

        #[test]
        fn number_like_strings_never_panic(
            input in "[+0-9۰-۹٠-٩ ()\\-.\u{200c}\u{200e}a/]{0,24}"
        ) {
            check_result(&input)?;
        }

        #[test]
        fn normalize_digits_is_idempotent_and_clean(input in any::<String>()) {
            let once = normalize_digits(&input);
            prop_assert_eq!(normalize_digits(&once), once.clone());
            prop_assert!(once.chars().all(|c| !is_separator(c)));
            prop_assert!(once.chars().all(|c| ascii_digit(c).is_none() || c.is_ascii_digit()));
        }
    }

    /// Checks the invariants of whatever `parse` returns for `input`.
    fn check_result(input: &str) -> Result<(), TestCaseError> {
        match MobileNumber::parse(input) {
            Ok(n) => {
                let s = n.as_str();
                prop_assert_eq!(s.len(), 11);
                prop_assert!(s.starts_with("09"));
                prop_assert!(s.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(&MobileNumber::parse(s).unwrap(), &n);
                prop_assert_eq!(&MobileNumber::parse(&n.international()).unwrap(), &n);
            }
            Err(e) => {
                prop_assert_eq!(e.input(), input);
                if let InvalidNumberReason::InvalidCharacter { character, position } = *e.reason() {
                    prop_assert!(position >= 1);
                    prop_assert_eq!(input.chars().nth(position - 1), Some(character));
                }
                prop_assert!(!e.to_string().is_empty());
            }
        }
        Ok(())
    }
}
