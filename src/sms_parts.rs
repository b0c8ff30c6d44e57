//! SMS part counting, so callers can show the cost of a message before
//! sending it.
//!
//! A message is sent in the GSM 03.38 7-bit default alphabet when every
//! character belongs to it (or to its extension table), and in UCS-2
//! otherwise, which is always the case for Persian text:
//!
//! | encoding | single message | per part when concatenated | unit |
//! | -------- | -------------- | -------------------------- | ---- |
//! | [`Gsm7`](Encoding::Gsm7) | 160 | 153 | septet; `^ { } \ [ ~ ] \| €` and form feed take 2 |
//! | [`Ucs2`](Encoding::Ucs2) | 70 | 67 | UTF-16 code unit; characters outside the BMP (most emoji) take 2 |
//!
//! A concatenated part never splits a GSM escape sequence or a UTF-16
//! surrogate pair, so a two-unit character that does not fit at the end of a
//! part moves whole to the next one. Parts are therefore counted by filling
//! them greedily, which can give one more part than `units / per_part`
//! rounded up.
//!
//! Empty text counts as one part: the panel charges for it like any other
//! message.
//!
//! No upper bound on the number of parts is enforced here; the panel and the
//! network limit how long a message may be.
//!
//! ```
//! use payamak::sms_parts::{count, Encoding};
//!
//! let sms = count("سلام، وقت بخیر");
//! assert_eq!(sms.encoding(), Encoding::Ucs2);
//! assert_eq!(sms.parts(), 1);
//! assert_eq!(sms.remaining_in_part(), 70 - 14);
//!
//! let sms = count(&"Hello! ".repeat(30)); // 210 septets
//! assert_eq!(sms.encoding(), Encoding::Gsm7);
//! assert_eq!(sms.parts(), 2);
//! assert_eq!(sms.per_part(), 153);
//! ```

use std::fmt;

/// How a message's text is encoded on the air.
///
/// ```
/// use payamak::sms_parts::Encoding;
///
/// assert_eq!(Encoding::detect("Hi {name}"), Encoding::Gsm7);
/// assert_eq!(Encoding::detect("سلام"), Encoding::Ucs2);
/// assert_eq!(Encoding::Ucs2.single_part_limit(), 70);
/// assert_eq!(Encoding::Gsm7.to_string(), "GSM-7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Encoding {
    /// The GSM 03.38 7-bit default alphabet with its extension table; units
    /// are septets.
    Gsm7,
    /// UCS-2 (UTF-16 in practice); units are UTF-16 code units.
    Ucs2,
}

impl Encoding {
    /// The encoding a message with this text is sent in: [`Gsm7`] when every
    /// character is in the GSM 03.38 default alphabet or its extension table,
    /// [`Ucs2`] otherwise. Empty text is [`Gsm7`].
    ///
    /// [`Gsm7`]: Encoding::Gsm7
    /// [`Ucs2`]: Encoding::Ucs2
    ///
    /// ```
    /// use payamak::sms_parts::Encoding;
    ///
    /// assert_eq!(Encoding::detect("Price: 10€ [VAT incl.]"), Encoding::Gsm7);
    /// assert_eq!(Encoding::detect("naïve"), Encoding::Ucs2); // ï is not GSM-7
    /// assert_eq!(Encoding::detect("ok 👍"), Encoding::Ucs2);
    /// ```
    #[must_use]
    pub fn detect(text: &str) -> Self {
        if text.chars().all(|c| gsm7_septets(c).is_some()) {
            Self::Gsm7
        } else {
            Self::Ucs2
        }
    }

    /// Units that fit in a message sent as a single SMS: 160 septets for
    /// GSM-7, 70 code units for UCS-2.
    ///
    /// ```
    /// use payamak::sms_parts::Encoding;
    ///
    /// assert_eq!(Encoding::Gsm7.single_part_limit(), 160);
    /// ```
    #[must_use]
    pub const fn single_part_limit(self) -> u32 {
        match self {
            Self::Gsm7 => 160,
            Self::Ucs2 => 70,
        }
    }

    /// Units that fit in each part of a concatenated (multi-part) message:
    /// 153 septets for GSM-7, 67 code units for UCS-2 (the rest of each part
    /// holds the concatenation header).
    ///
    /// ```
    /// use payamak::sms_parts::Encoding;
    ///
    /// assert_eq!(Encoding::Ucs2.concatenated_part_limit(), 67);
    /// ```
    #[must_use]
    pub const fn concatenated_part_limit(self) -> u32 {
        match self {
            Self::Gsm7 => 153,
            Self::Ucs2 => 67,
        }
    }
}

impl fmt::Display for Encoding {
    /// Writes `GSM-7` or `UCS-2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        })
    }
}

/// How many SMS parts a text takes, and how full the last one is.
///
/// Returned by [`count`]. `Display` gives a short human-readable summary.
///
/// ```
/// use payamak::sms_parts::{count, Encoding};
///
/// let sms = count(&"ب".repeat(100));
/// assert_eq!(sms.encoding(), Encoding::Ucs2);
/// assert_eq!(sms.units(), 100);
/// assert_eq!(sms.parts(), 2);
/// assert_eq!(sms.per_part(), 67);
/// assert_eq!(sms.remaining_in_part(), 67 * 2 - 100);
/// assert!(sms.is_concatenated());
/// assert_eq!(sms.to_string(), "2 parts, 100 UCS-2 units, 34 left in the last part");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SmsParts {
    encoding: Encoding,
    parts: u32,
    units: u32,
    per_part: u32,
    remaining_in_part: u32,
}

impl SmsParts {
    /// The encoding the text is sent in.
    #[must_use]
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Number of SMS parts the text is sent (and charged) as; at least 1.
    #[must_use]
    pub fn parts(&self) -> u32 {
        self.parts
    }

    /// Length of the text in the encoding's units: septets for GSM-7 (where
    /// extension-table characters count 2), UTF-16 code units for UCS-2
    /// (where characters outside the BMP, such as most emoji, count 2).
    #[must_use]
    pub fn units(&self) -> u32 {
        self.units
    }

    /// Capacity of each part in units: the
    /// [single-part limit](Encoding::single_part_limit) when the text fits in
    /// one SMS, the [concatenated-part limit](Encoding::concatenated_part_limit)
    /// otherwise.
    #[must_use]
    pub fn per_part(&self) -> u32 {
        self.per_part
    }

    /// Units still free in the last part before another part is needed.
    ///
    /// A two-unit character (GSM-7 escape sequence or UTF-16 surrogate pair)
    /// needs 2 free units, so with 1 remaining it would start a new part.
    /// When the text is a single SMS, appending text past this amount makes
    /// it concatenated, and the per-part capacity then drops (so a 161st
    /// septet yields 2 parts, not 1 part and a bit).
    #[must_use]
    pub fn remaining_in_part(&self) -> u32 {
        self.remaining_in_part
    }

    /// Whether the text is sent as a concatenated (multi-part) message.
    #[must_use]
    pub fn is_concatenated(&self) -> bool {
        self.parts > 1
    }
}

impl fmt::Display for SmsParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.parts == 1 { "" } else { "s" };
        write!(
            f,
            "{} part{plural}, {} {} units, {} left in the last part",
            self.parts, self.units, self.encoding, self.remaining_in_part
        )
    }
}

/// Counts the SMS parts `text` takes; see the [module documentation](self)
/// for the rules.
///
/// Empty text is one part (the panel charges one SMS for it) with the full
/// GSM-7 single-part capacity remaining.
///
/// ```
/// use payamak::sms_parts::{count, Encoding};
///
/// let empty = count("");
/// assert_eq!((empty.parts(), empty.units(), empty.remaining_in_part()), (1, 0, 160));
///
/// // 160 septets fit in one SMS, 161 need two parts of up to 153.
/// assert_eq!(count(&"a".repeat(160)).parts(), 1);
/// assert_eq!(count(&"a".repeat(161)).parts(), 2);
///
/// // '€' is an escape sequence: 2 septets that cannot be split across parts.
/// let sms = count(&format!("{}€{}", "a".repeat(152), "a".repeat(152)));
/// assert_eq!(sms.units(), 306);
/// assert_eq!(sms.parts(), 3); // not 306 / 153 = 2
/// ```
#[must_use]
pub fn count(text: &str) -> SmsParts {
    let mut gsm = Filler::new(Encoding::Gsm7);
    for c in text.chars() {
        match gsm7_septets(c) {
            Some(septets) => gsm.push(septets),
            None => return count_ucs2(text),
        }
    }
    gsm.finish()
}

fn count_ucs2(text: &str) -> SmsParts {
    let mut ucs2 = Filler::new(Encoding::Ucs2);
    for c in text.chars() {
        // `len_utf16` is 1 or 2.
        ucs2.push(if c.len_utf16() == 1 { 1 } else { 2 });
    }
    ucs2.finish()
}

/// Greedy part filler: tracks total units and, in case the text turns out to
/// need concatenation, how concatenated parts fill up.
struct Filler {
    encoding: Encoding,
    capacity: u32,
    units: u32,
    parts: u32,
    used_in_last: u32,
}

impl Filler {
    fn new(encoding: Encoding) -> Self {
        Self { encoding, capacity: encoding.concatenated_part_limit(), units: 0, parts: 1, used_in_last: 0 }
    }

    /// Adds one character taking `cost` (1 or 2) units; it never straddles
    /// two parts.
    fn push(&mut self, cost: u32) {
        self.units = self.units.saturating_add(cost);
        if self.used_in_last + cost > self.capacity {
            self.parts = self.parts.saturating_add(1);
            self.used_in_last = cost;
        } else {
            self.used_in_last += cost;
        }
    }

    fn finish(self) -> SmsParts {
        let single = self.encoding.single_part_limit();
        if self.units <= single {
            SmsParts {
                encoding: self.encoding,
                parts: 1,
                units: self.units,
                per_part: single,
                remaining_in_part: single - self.units,
            }
        } else {
            SmsParts {
                encoding: self.encoding,
                parts: self.parts,
                units: self.units,
                per_part: self.capacity,
                remaining_in_part: self.capacity - self.used_in_last,
            }
        }
    }
}

/// Septets `c` takes in the GSM 03.38 default alphabet (1) or via its
/// extension table (2, escape included), or `None` if it has no GSM-7
/// encoding.
fn gsm7_septets(c: char) -> Option<u32> {
    match c {
        // Default alphabet, in table order (0x1B, the escape, has no
        // character of its own).
        '@'
        | '£'
        | '$'
        | '¥'
        | 'è'
        | 'é'
        | 'ù'
        | 'ì'
        | 'ò'
        | 'Ç'
        | '\n'
        | 'Ø'
        | 'ø'
        | '\r'
        | 'Å'
        | 'å'
        | 'Δ'
        | '_'
        | 'Φ'
        | 'Γ'
        | 'Λ'
        | 'Ω'
        | 'Π'
        | 'Ψ'
        | 'Σ'
        | 'Θ'
        | 'Ξ'
        | 'Æ'
        | 'æ'
        | 'ß'
        | 'É'
        | ' '
        | '!'
        | '"'
        | '#'
        | '¤'
        | '%'
        | '&'
        | '\''
        | '('
        | ')'
        | '*'
        | '+'
        | ','
        | '-'
        | '.'
        | '/'
        | '0'..='9'
        | ':'
        | ';'
        | '<'
        | '='
        | '>'
        | '?'
        | '¡'
        | 'A'..='Z'
        | 'Ä'
        | 'Ö'
        | 'Ñ'
        | 'Ü'
        | '§'
        | '¿'
        | 'a'..='z'
        | 'ä'
        | 'ö'
        | 'ñ'
        | 'ü'
        | 'à' => Some(1),
        // Extension table.
        '\u{000C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The GSM 03.38 default alphabet in table order, without the escape.
    const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                              ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

    fn parts(text: &str) -> u32 {
        count(text).parts()
    }

    #[test]
    fn alphabet_tables() {
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        let mut seen: Vec<char> = GSM7_BASIC.chars().chain(GSM7_EXTENSION.chars()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 127 + 10, "tables must not overlap");
        for c in GSM7_BASIC.chars() {
            assert_eq!(gsm7_septets(c), Some(1), "{c:?}");
        }
        for c in GSM7_EXTENSION.chars() {
            assert_eq!(gsm7_septets(c), Some(2), "{c:?}");
        }
        for c in ['`', 'ç', 'ï', 'á', '\t', 'ـ', 'س', '۱', '\u{200c}', '\u{1b}', '😀'] {
            assert_eq!(gsm7_septets(c), None, "{c:?}");
        }
        let sms = count(GSM7_BASIC);
        assert_eq!((sms.encoding(), sms.units()), (Encoding::Gsm7, 127));
        let sms = count(GSM7_EXTENSION);
        assert_eq!((sms.encoding(), sms.units()), (Encoding::Gsm7, 20));
    }

    #[test]
    fn empty_text_is_one_part() {
        let sms = count("");
        assert_eq!(
            sms,
            SmsParts { encoding: Encoding::Gsm7, parts: 1, units: 0, per_part: 160, remaining_in_part: 160 }
        );
        assert!(!sms.is_concatenated());
    }

    #[test]
    fn gsm7_boundaries() {
        let a = |n: usize| "a".repeat(n);
        let sms = count(&a(160));
        assert_eq!((sms.parts(), sms.per_part(), sms.remaining_in_part()), (1, 160, 0));
        let sms = count(&a(161));
        assert_eq!((sms.parts(), sms.per_part(), sms.remaining_in_part()), (2, 153, 145));
        let sms = count(&a(306));
        assert_eq!((sms.parts(), sms.remaining_in_part()), (2, 0));
        let sms = count(&a(307));
        assert_eq!((sms.parts(), sms.remaining_in_part()), (3, 152));
        assert_eq!(parts(&a(459)), 3);
        assert_eq!(parts(&a(460)), 4);
    }

    #[test]
    fn gsm7_extension_characters_count_two() {
        let sms = count("{x}");
        assert_eq!((sms.encoding(), sms.units()), (Encoding::Gsm7, 5));
        // 158 + 2 = 160 still fits one SMS; 159 + 2 does not.
        assert_eq!(parts(&format!("{}€", "a".repeat(158))), 1);
        let sms = count(&format!("{}€", "a".repeat(159)));
        assert_eq!((sms.units(), sms.parts()), (161, 2));
        assert_eq!(parts(&"€".repeat(80)), 1);
        assert_eq!(parts(&"€".repeat(81)), 2);
    }

    #[test]
    fn gsm7_escape_sequence_is_not_split_across_parts() {
        // '€' at septets 153-154 would straddle the first part's end: it moves
        // whole to part 2.
        let sms = count(&format!("{}€{}", "a".repeat(152), "a".repeat(8)));
        assert_eq!((sms.units(), sms.parts()), (162, 2));
        assert_eq!(sms.remaining_in_part(), 153 - 10);
        // 306 septets would fit two parts of 153 if the escape could be split.
        let sms = count(&format!("{}€{}", "a".repeat(152), "a".repeat(152)));
        assert_eq!((sms.units(), sms.parts(), sms.remaining_in_part()), (306, 3, 152));
        // Ending exactly at the boundary is fine.
        let sms = count(&format!("{}€", "a".repeat(151)));
        assert_eq!((sms.units(), sms.parts()), (153, 1));
        let sms = count(&format!("{}€{}", "a".repeat(151), "a".repeat(153)));
        assert_eq!((sms.units(), sms.parts(), sms.remaining_in_part()), (306, 2, 0));
        // Only escapes: 76 per part (152 septets), never 76.5.
        assert_eq!(parts(&"|".repeat(152)), 2);
        assert_eq!(parts(&"|".repeat(153)), 3);
    }

    #[test]
    fn persian_boundaries() {
        let s = |n: usize| "س".repeat(n);
        let sms = count(&s(70));
        assert_eq!(
            (sms.encoding(), sms.units(), sms.parts(), sms.per_part(), sms.remaining_in_part()),
            (Encoding::Ucs2, 70, 1, 70, 0)
        );
        let sms = count(&s(71));
        assert_eq!((sms.parts(), sms.per_part(), sms.remaining_in_part()), (2, 67, 63));
        assert_eq!(parts(&s(134)), 2);
        assert_eq!(parts(&s(135)), 3);
        assert_eq!(parts(&s(201)), 3);
        assert_eq!(parts(&s(202)), 4);
    }

    #[test]
    fn persian_sentence_with_zwnj() {
        // ZWNJ (U+200C) is one code unit like every Persian letter.
        let text = "می‌خواهم";
        let sms = count(text);
        assert_eq!((sms.encoding(), sms.units(), sms.parts()), (Encoding::Ucs2, 8, 1));
    }

    #[test]
    fn one_non_gsm_character_switches_everything_to_ucs2() {
        let sms = count(&format!("{}س", "a".repeat(69)));
        assert_eq!((sms.encoding(), sms.units(), sms.parts()), (Encoding::Ucs2, 70, 1));
        let sms = count(&format!("{}€س", "a".repeat(68)));
        // '€' is a single UTF-16 unit.
        assert_eq!((sms.encoding(), sms.units(), sms.parts()), (Encoding::Ucs2, 70, 1));
        assert_eq!(parts(&format!("{}`", "a".repeat(100))), 2);
    }

    #[test]
    fn emoji_count_two_units_and_are_not_split() {
        let sms = count("😀");
        assert_eq!((sms.encoding(), sms.units(), sms.parts()), (Encoding::Ucs2, 2, 1));
        // 68 + 2 = 70 fits one SMS; 69 + 2 does not.
        assert_eq!(parts(&format!("{}😀", "س".repeat(68))), 1);
        // Part 1 holds 67 letters, part 2 the last 2 letters and the emoji.
        let sms = count(&format!("{}😀", "س".repeat(69)));
        assert_eq!((sms.units(), sms.parts(), sms.remaining_in_part()), (71, 2, 67 - 4));
        // The emoji would straddle units 67-68: it moves to part 2.
        let sms = count(&format!("{}😀{}", "س".repeat(66), "س".repeat(3)));
        assert_eq!((sms.units(), sms.parts(), sms.remaining_in_part()), (71, 2, 62));
        let sms = count(&format!("{}😀{}", "س".repeat(66), "س".repeat(66)));
        assert_eq!((sms.units(), sms.parts(), sms.remaining_in_part()), (134, 3, 66));
        let sms = count(&format!("{}😀{}", "س".repeat(65), "س".repeat(67)));
        assert_eq!((sms.units(), sms.parts(), sms.remaining_in_part()), (134, 2, 0));
        // Emoji only: 33 per part (66 units).
        assert_eq!(parts(&"😀".repeat(35)), 1);
        assert_eq!(parts(&"😀".repeat(66)), 2);
        assert_eq!(parts(&"😀".repeat(67)), 3);
    }

    #[test]
    fn display() {
        assert_eq!(count("hi").to_string(), "1 part, 2 GSM-7 units, 158 left in the last part");
        assert_eq!(Encoding::Ucs2.to_string(), "UCS-2");
    }

    /// Reference splitter: cuts `text` into parts explicitly, never splitting
    /// a character, so the invariants can be checked part by part.
    fn split(text: &str) -> (Encoding, Vec<String>) {
        let encoding = Encoding::detect(text);
        let cost = |c: char| match encoding {
            Encoding::Gsm7 => gsm7_septets(c).unwrap(),
            Encoding::Ucs2 => u32::try_from(c.len_utf16()).unwrap(),
        };
        let total: u32 = text.chars().map(cost).sum();
        if total <= encoding.single_part_limit() {
            return (encoding, vec![text.to_owned()]);
        }
        let mut parts = vec![String::new()];
        let mut used = 0;
        for c in text.chars() {
            if used + cost(c) > encoding.concatenated_part_limit() {
                parts.push(String::new());
                used = 0;
            }
            used += cost(c);
            parts.last_mut().unwrap().push(c);
        }
        (encoding, parts)
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            4 => proptest::sample::select(GSM7_BASIC.chars().collect::<Vec<_>>()),
            2 => proptest::sample::select(GSM7_EXTENSION.chars().collect::<Vec<_>>()),
            1 => proptest::sample::select(vec!['س', 'ل', 'ا', 'م', '\u{200c}', '۱', 'ç', '`']),
            1 => proptest::sample::select(vec!['😀', '👍', '𝄞', '🇮']),
        ];
        prop_oneof![
            // Mostly GSM-7, to exercise long GSM texts.
            proptest::collection::vec(
                proptest::sample::select(GSM7_BASIC.chars().chain(GSM7_EXTENSION.chars()).collect::<Vec<_>>()),
                0..500,
            )
            .prop_map(|v| v.into_iter().collect::<String>()),
            proptest::collection::vec(chars, 0..400).prop_map(|v| v.into_iter().collect::<String>()),
            any::<String>(),
        ]
    }

    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![
            proptest::sample::select(GSM7_BASIC.chars().chain(GSM7_EXTENSION.chars()).collect::<Vec<_>>()),
            proptest::sample::select(vec!['س', '😀', 'ç']),
            any::<char>(),
        ]
    }

    proptest! {
        #[test]
        fn parts_never_decrease_when_appending(text in text_strategy(), c in any_char()) {
            let before = count(&text);
            let mut longer = text.clone();
            longer.push(c);
            let after = count(&longer);
            prop_assert!(
                after.parts() >= before.parts(),
                "appending {:?}: {} -> {}", c, before, after
            );
        }

        #[test]
        fn single_part_iff_within_single_limit(text in text_strategy()) {
            let sms = count(&text);
            let single = sms.encoding().single_part_limit();
            prop_assert_eq!(sms.parts() == 1, sms.units() <= single);
        }

        #[test]
        fn matches_reference_split(text in text_strategy()) {
            let sms = count(&text);
            let (encoding, pieces) = split(&text);
            prop_assert_eq!(sms.encoding(), encoding);
            prop_assert_eq!(sms.parts() as usize, pieces.len());
            prop_assert_eq!(pieces.concat(), text.clone());

            let units = |s: &str| -> u32 {
                match encoding {
                    Encoding::Gsm7 => s.chars().map(|c| gsm7_septets(c).unwrap()).sum(),
                    Encoding::Ucs2 => u32::try_from(s.encode_utf16().count()).unwrap(),
                }
            };
            prop_assert_eq!(sms.units(), units(&text));
            for piece in &pieces {
                prop_assert!(units(piece) <= sms.per_part());
            }
            let last = pieces.last().map_or(0, |p| units(p));
            prop_assert_eq!(sms.remaining_in_part(), sms.per_part() - last);
            // Greedy never wastes more than one unit per full part.
            let per_part = sms.per_part();
            prop_assert!(sms.parts() >= sms.units().div_ceil(per_part).max(1));
            prop_assert!(sms.parts() <= sms.units().div_ceil(per_part - 1).max(1));
        }
    }
}
