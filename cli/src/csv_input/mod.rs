//! Recipients from the CSV files people have: Excel's on a Persian Windows
//! (Windows-1256), "Unicode text" (UTF-16), `;` or tab between fields, Persian headers.
//!
//! The numbers are in one column: the one `--column` names (a header name, or a
//! 1-based index), else the first column whose header is a known name
//! ([`NUMBER_HEADERS`], Persian ones too), else the column where most of the first
//! rows are mobile numbers. When no column looks like numbers, the error lists the
//! columns and says which `--column` to pass. The first row is a header when it holds
//! a known name, or when its number cell is not a mobile number (e.g. `name,phone`).
//! Invalid numbers and duplicates are reported with their line numbers.

mod decode;
pub mod stream;

use anyhow::bail;
use payamak::recipient::MobileNumber;
use serde::Serialize;

pub use decode::{delimiter, encoding};

/// Header names that mark the numbers column, compared after [`normalize_header`].
pub const NUMBER_HEADERS: &[&str] = &[
    "number",
    "mobile",
    "mobilenumber",
    "to",
    "phone",
    "phonenumber",
    "cell",
    "cellphone",
    "msisdn",
    "tel",
    "شماره",
    "موبایل",
    "شمارهموبایل",
    "شمارههمراه",
    "همراه",
    "تلفنهمراه",
    "تلفن",
    "گیرنده",
];

/// How many data rows are looked at to find the numbers column.
const SAMPLED_ROWS: usize = 20;

/// How to read the file: `--column`, `--delimiter`, `--encoding`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CsvOptions<'a> {
    /// A header name, or a 1-based index.
    pub column: Option<&'a str>,
    /// The field delimiter; sniffed when `None`.
    pub delimiter: Option<u8>,
    /// The encoding; guessed when `None`.
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

/// The recipients of a CSV file.
#[derive(Debug, Default)]
pub struct CsvRecipients {
    /// Valid numbers, first occurrence of each, in file order.
    pub numbers: Vec<MobileNumber>,
    /// Rows whose number is invalid.
    pub invalid: Vec<InvalidRow>,
    /// Rows repeating a number seen before.
    pub duplicates: Vec<DuplicateRow>,
    /// What was assumed to read the file (encoding, delimiter, column), for the user.
    pub notes: Vec<String>,
}

/// A row whose number is invalid.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidRow {
    /// The 1-based line number.
    pub line: u64,
    /// The cell, as written.
    pub input: String,
    /// Why it is invalid.
    pub reason: String,
}

/// A row repeating a number.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateRow {
    /// The 1-based line number.
    pub line: u64,
    /// The number, normalised.
    pub number: String,
}

/// A non-blank row, with its 1-based line number.
struct Row {
    // Read by the whole-file reader of the tests; the stream counts lines itself.
    #[cfg_attr(not(test), allow(dead_code))]
    line: u64,
    cells: Vec<String>,
}

/// Reads CSV bytes whole: the reference the streaming reader ([`stream`], which
/// `send-bulk` and `campaign create` use) is tested against.
#[cfg(test)]
pub fn from_bytes(bytes: &[u8], options: CsvOptions<'_>) -> anyhow::Result<CsvRecipients> {
    use std::collections::HashSet;
    let decoded = decode::decode(bytes, options.encoding)?;
    let mut result = CsvRecipients::default();
    result.notes.extend(decoded.note);
    let delimiter = match options.delimiter {
        Some(delimiter) => delimiter,
        None => {
            let delimiter = decode::sniff_delimiter(&decoded.text);
            if delimiter != b',' {
                result.notes.push(format!("fields are separated by {} (give --delimiter to choose)", shown(delimiter)));
            }
            delimiter
        }
    };
    let rows = rows(&decoded.text, delimiter)?;
    let Some(first) = rows.first() else { return Ok(result) };
    let (at, is_header) = choose_column(options.column, &rows)?;
    if options.column.is_none() && at != 0 {
        let name = first.cells.get(at).filter(|_| is_header).map(|name| format!(" ({name:?})")).unwrap_or_default();
        result.notes.push(format!("numbers taken from column {}{name} (give --column to choose)", at + 1));
    }
    let mut seen = HashSet::new();
    for row in rows.iter().skip(usize::from(is_header)) {
        let cell = row.cells.get(at).map(String::as_str).unwrap_or_default();
        match MobileNumber::parse(cell) {
            Ok(number) => {
                if seen.insert(number.clone()) {
                    result.numbers.push(number);
                } else {
                    result.duplicates.push(DuplicateRow { line: row.line, number: number.into_string() });
                }
            }
            Err(error) => result.invalid.push(InvalidRow {
                line: row.line,
                input: cell.to_owned(),
                reason: error.reason().to_string(),
            }),
        }
    }
    Ok(result)
}

/// The non-blank rows of `text`, trimmed.
fn rows(text: &str, delimiter: u8) -> anyhow::Result<Vec<Row>> {
    // Line numbers are counted here: the csv crate does not count blank lines.
    let mut lines = LineCounter { bytes: text.as_bytes(), offset: 0, line: 1 };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |position| lines.line_at(position.byte()));
        let cells: Vec<String> = record.iter().map(|cell| cell.trim_start_matches('\u{feff}').to_owned()).collect();
        if cells.iter().any(|cell| !cell.is_empty()) {
            rows.push(Row { line, cells });
        }
    }
    Ok(rows)
}

fn shown(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tabs".to_owned(),
        other => format!("{:?}", char::from(other)),
    }
}
/// Turns byte offsets (increasing) into 1-based line numbers.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The line of the record read from `byte` on (blank lines before it are skipped, as the csv crate does).
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut target = usize::try_from(byte).unwrap_or(usize::MAX).min(self.bytes.len());
        while matches!(self.bytes.get(target), Some(b'\n' | b'\r')) {
            target += 1;
        }
        if target > self.offset {
            self.line += self.bytes[self.offset..target].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = target;
        }
        self.line
    }
}

/// A header name as compared with [`NUMBER_HEADERS`]: lower case, Arabic yeh and kaf as
/// their Persian forms (Arabic keyboards and Windows-1256 files use them), without spaces,
/// zero-width non-joiners, `_` or `-`.
fn normalize_header(cell: &str) -> String {
    cell.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'ي' | 'ى' => Some('ی'),
            'ك' => Some('ک'),
            ' ' | '\u{200c}' | '_' | '-' => None,
            other => Some(other),
        })
        .collect()
}

/// Picks the numbers column; says whether the first row is a header.
fn choose_column(column: Option<&str>, rows: &[Row]) -> anyhow::Result<(usize, bool)> {
    let first = &rows[0].cells;
    let names: Vec<String> = first.iter().map(|cell| normalize_header(cell)).collect();
    let known = names.iter().position(|name| NUMBER_HEADERS.contains(&name.as_str()));
    let is_number = |cell: Option<&String>| cell.is_some_and(|cell| MobileNumber::parse(cell).is_ok());
    match column.map(str::trim) {
        Some(text) => match text.parse::<usize>() {
            Ok(0) => bail!("--column counts from 1"),
            Ok(index) => {
                let at = index - 1;
                Ok((at, known.is_some() || !first.get(at).is_some_and(|cell| cell.chars().any(char::is_numeric))))
            }
            Err(_) => match names.iter().position(|name| *name == normalize_header(text)) {
                Some(at) => Ok((at, true)),
                None => bail!("the first row has no column named {text:?} (it has: {})", first.join(", ")),
            },
        },
        None => {
            if let Some(at) = known {
                return Ok((at, true));
            }
            // The column where most sampled rows hold a mobile number (the first on a tie).
            let width = rows.iter().take(SAMPLED_ROWS + 1).map(|row| row.cells.len()).max().unwrap_or(0);
            let score =
                |at: usize| rows.iter().take(SAMPLED_ROWS + 1).filter(|row| is_number(row.cells.get(at))).count();
            let best = (0..width)
                .map(|at| (at, score(at)))
                .fold((0, 0), |best, next| if next.1 > best.1 { next } else { best });
            if best.1 == 0 {
                bail!("{}", no_numbers_column(first));
            }
            Ok((best.0, !is_number(first.get(best.0))))
        }
    }
}

/// The error for a file where no column looks like mobile numbers: its columns, and the
/// `--column` to pass.
fn no_numbers_column(first: &[String]) -> String {
    let columns: Vec<String> =
        first.iter().enumerate().map(|(index, cell)| format!("{} {cell:?}", index + 1)).collect();
    format!(
        "no column holds mobile numbers (numbers such as 09121234567 in its first rows); the first row's columns \
         are: {}. Pass --column with the header or the 1-based index of the numbers column, e.g. --column {}",
        columns.join(", "),
        first.iter().position(|cell| !cell.is_empty()).map_or(1, |at| at + 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str) -> CsvOptions<'_> {
        CsvOptions { column: Some(name), ..CsvOptions::default() }
    }

    fn numbers(result: &CsvRecipients) -> Vec<&str> {
        result.numbers.iter().map(MobileNumber::as_str).collect()
    }

    #[test]
    fn a_named_column_is_found_in_the_header() {
        let result =
            from_bytes("name,Mobile\nAli,0912 123 4567\nSara,+989351234567\n".as_bytes(), CsvOptions::default())
                .unwrap();
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
    }

    #[test]
    fn without_a_header_the_first_column_is_used() {
        let result = from_bytes("09121234567,Ali\n۰۹۳۵۱۲۳۴۵۶۷,Sara\n".as_bytes(), CsvOptions::default()).unwrap();
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
    }

    #[test]
    fn an_unknown_header_without_digits_is_skipped() {
        let result = from_bytes("\u{feff}recipient\n09121234567\n".as_bytes(), CsvOptions::default()).unwrap();
        assert_eq!(numbers(&result), ["09121234567"]);
        assert!(result.invalid.is_empty());
    }

    #[test]
    fn invalid_numbers_and_duplicates_carry_their_line() {
        let text = "number\n09121234567\n0912\n\n+98 912 123 4567\n02112345678\n";
        let result = from_bytes(text.as_bytes(), CsvOptions::default()).unwrap();
        assert_eq!(numbers(&result), ["09121234567"]);
        let lines: Vec<u64> = result.invalid.iter().map(|row| row.line).collect();
        assert_eq!(lines, [3, 6]);
        assert_eq!(result.duplicates[0].line, 5);
    }

    #[test]
    fn line_numbers_count_blank_lines_and_crlf() {
        let text = "09121234567\r\n\r\n\r\nbad\r\n\"09351234567\"\r\n\n0912\n";
        let result = from_bytes(text.as_bytes(), CsvOptions::default()).unwrap();
        let lines: Vec<u64> = result.invalid.iter().map(|row| row.line).collect();
        assert_eq!(lines, [4, 7]);
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
    }

    #[test]
    fn a_column_may_be_chosen_by_name_or_index() {
        let text = "id,cell\n1,09121234567\n";
        assert_eq!(numbers(&from_bytes(text.as_bytes(), column("CELL")).unwrap()), ["09121234567"]);
        assert_eq!(numbers(&from_bytes(text.as_bytes(), column("2")).unwrap()), ["09121234567"]);
        assert!(from_bytes(text.as_bytes(), column("phone")).is_err());
        assert!(from_bytes(text.as_bytes(), column("0")).is_err());
    }

    #[test]
    fn persian_headers_in_arabic_letters_and_semicolons_are_read() {
        let text = "نام;شماره موبايل\nعلی;0912 123 4567\n";
        let result = from_bytes(text.as_bytes(), CsvOptions::default()).unwrap();
        assert_eq!(numbers(&result), ["09121234567"]);
        assert!(result.notes.iter().any(|note| note.contains("separated by ';'")), "{:?}", result.notes);
    }

    #[test]
    fn without_a_known_header_the_column_of_numbers_is_found() {
        let text = "name,city,tel\nAli,Tehran,09121234567\nSara,Shiraz,09351234567\n";
        let result = from_bytes(text.as_bytes(), CsvOptions::default()).unwrap();
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
        assert!(result.notes.iter().any(|note| note.contains("column 3 (\"tel\")")), "{:?}", result.notes);
    }

    #[test]
    fn when_no_column_looks_like_numbers_the_error_says_which_column_to_pass() {
        let error = from_bytes("name,city\nAli,Tehran\n".as_bytes(), CsvOptions::default()).unwrap_err().to_string();
        assert!(error.contains(r#"1 "name", 2 "city""#) && error.contains("--column"), "{error}");
    }
}
