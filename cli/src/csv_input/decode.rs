//! Turns the bytes of a "CSV" file, as Excel and other tools save them, into text and
//! a delimiter: UTF-8, UTF-16 with a byte-order mark ("Unicode text"), or Windows-1256
//! (Excel's CSV on a Persian Windows); `,`, `;` or tab between fields.

use encoding_rs::Encoding;

/// The delimiters tried when none is given, in order of preference on a tie.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// How many non-empty lines the delimiter is guessed from.
const SNIFFED_LINES: usize = 20;

/// Decoded text, and what was assumed to decode it.
#[cfg(test)]
#[derive(Debug)]
pub struct Decoded {
    /// The text, without a byte-order mark.
    pub text: String,
    /// A note for the user when the encoding was guessed as something other than UTF-8.
    pub note: Option<String>,
}

/// Decodes `bytes`: with `forced` if given (a byte-order mark still wins, as in browsers),
/// else by byte-order mark, else as UTF-8 if it is valid UTF-8, else as Windows-1256.
#[cfg(test)]
pub fn decode(bytes: &[u8], forced: Option<&'static Encoding>) -> anyhow::Result<Decoded> {
    use anyhow::bail;
    use encoding_rs::{UTF_8, WINDOWS_1256};
    if let Some(encoding) = forced {
        let (text, used, had_errors) = encoding.decode(bytes);
        if had_errors {
            bail!("it is not valid {} (as --encoding says); give another --encoding", used.name());
        }
        return Ok(Decoded { text: text.into_owned(), note: None });
    }
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        let (text, used, had_errors) = encoding.decode(bytes);
        if had_errors {
            bail!("it starts with a {} byte-order mark but is not valid {}", used.name(), used.name());
        }
        let note = (used != UTF_8).then(|| format!("read as {} (it starts with a byte-order mark)", used.name()));
        return Ok(Decoded { text: text.into_owned(), note });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded { text: text.to_owned(), note: None });
    }
    let (text, _, _) = WINDOWS_1256.decode(bytes);
    Ok(Decoded {
        text: text.into_owned(),
        note: Some(
            "it is not UTF-8: read as windows-1256, as Excel saves CSV on a Persian Windows \
             (give --encoding if that is wrong)"
                .to_owned(),
        ),
    })
}

/// Reads `--encoding`: any label of the Encoding Standard (utf-8, utf-16le, windows-1256, …).
pub fn encoding(label: &str) -> Result<&'static Encoding, String> {
    Encoding::for_label(label.trim().as_bytes())
        .ok_or_else(|| format!("unknown encoding {label:?} (e.g. utf-8, utf-16le, utf-16be, windows-1256)"))
}

/// Reads `--delimiter`: one ASCII character, or `tab`.
pub fn delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ => match text.as_bytes() {
            [byte] if byte.is_ascii() && !byte.is_ascii_alphanumeric() && *byte != b'"' => Ok(*byte),
            _ => Err(format!("{text:?} is not a delimiter: give one character such as , or ; or the word tab")),
        },
    }
}

/// The delimiter of `text`: the one of `,` `;` tab found on the most of its first lines,
/// outside quotes (`,` when none is).
pub fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).take(SNIFFED_LINES).collect();
    let lines_with = |delimiter: u8| lines.iter().filter(|line| count_outside_quotes(line, delimiter) > 0).count();
    let mut best = (b',', 0);
    for delimiter in DELIMITERS {
        let found = lines_with(delimiter);
        if found > best.1 {
            best = (delimiter, found);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    line.bytes()
        .filter(|&byte| {
            if byte == b'"' {
                quoted = !quoted;
            }
            byte == delimiter && !quoted
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{UTF_8, WINDOWS_1256};

    #[test]
    fn byte_order_marks_utf8_and_windows_1256_are_told_apart() {
        let mut unicode_text = vec![0xFF, 0xFE];
        unicode_text.extend("موبایل\t09121234567".encode_utf16().flat_map(u16::to_le_bytes));
        let decoded = decode(&unicode_text, None).unwrap();
        assert_eq!(decoded.text, "موبایل\t09121234567");
        assert!(decoded.note.unwrap().contains("UTF-16LE"));

        // Windows-1256 has the Arabic yeh, not the Persian one.
        let (windows, _, _) = WINDOWS_1256.encode("شماره;نام\n09121234567;علي");
        let decoded = decode(&windows, None).unwrap();
        assert_eq!(decoded.text, "شماره;نام\n09121234567;علي");
        assert!(decoded.note.unwrap().contains("windows-1256"));

        let plain = decode("\u{feff}mobile\n".as_bytes(), None).unwrap();
        assert_eq!((plain.text.as_str(), plain.note), ("mobile\n", None));
        assert!(decode(&windows, Some(UTF_8)).is_err(), "a forced encoding that does not fit is an error");
    }

    #[test]
    fn the_delimiter_is_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter("name;mobile\n\"Ali, Reza\";0912\n"), b';');
        assert_eq!(sniff_delimiter("name\tmobile\nAli\t0912\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",0912\n\"c;d\",0913\n"), b',');
        assert_eq!(sniff_delimiter("09121234567\n09351234567\n"), b',');
    }

    #[test]
    fn options_are_read_with_clear_errors() {
        assert_eq!(delimiter("tab"), Ok(b'\t'));
        assert_eq!(delimiter(";"), Ok(b';'));
        assert!(delimiter("ab").unwrap_err().contains("is not a delimiter"));
        assert_eq!(encoding("windows-1256").unwrap(), WINDOWS_1256);
        assert_eq!(encoding("cp1256").unwrap(), WINDOWS_1256);
        assert!(encoding("klingon").unwrap_err().contains("unknown encoding"));
    }
}
