//! Recipients from a CSV file.
//!
//! The numbers are in one column: the one `--column` names (a header name, or
//! a 1-based index), else the first column whose header is a known name
//! ([`NUMBER_HEADERS`]), else the first column. The first row is a header when
//! it holds a known name, or when its number cell has no digit at all (e.g.
//! `name,phone`); otherwise it is data. Invalid numbers and duplicates are
//! reported with their line numbers.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context as _};
use payamak::recipient::MobileNumber;
use serde::Serialize;

/// Header names that mark the numbers column (compared case-insensitively).
pub const NUMBER_HEADERS: &[&str] = &["number", "mobile", "to", "phone", "شماره", "موبایل"];

/// The recipients of a CSV file.
#[derive(Debug, Default)]
pub struct CsvRecipients {
    /// Valid numbers, first occurrence of each, in file order.
    pub numbers: Vec<MobileNumber>,
    /// Rows whose number is invalid.
    pub invalid: Vec<InvalidRow>,
    /// Rows repeating a number seen before.
    pub duplicates: Vec<DuplicateRow>,
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

/// Which column holds the numbers.
enum Column {
    Index(usize),
    Name(String),
    Auto,
}

/// Reads `path`; `column` is `--column`.
pub fn read(path: &Path, column: Option<&str>) -> anyhow::Result<CsvRecipients> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open the CSV file {}", path.display()))?;
    read_from(file, column).with_context(|| format!("cannot read the CSV file {}", path.display()))
}

/// Reads CSV text from `reader`.
pub fn read_from(mut reader: impl std::io::Read, column: Option<&str>) -> anyhow::Result<CsvRecipients> {
    // Line numbers are counted here: the csv crate does not count blank lines.
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let mut lines = LineCounter { bytes: &bytes, offset: 0, line: 1 };
    let column = match column.map(str::trim) {
        None => Column::Auto,
        Some(text) => match text.parse::<usize>() {
            Ok(0) => bail!("--column counts from 1"),
            Ok(index) => Column::Index(index - 1),
            Err(_) => Column::Name(text.to_lowercase()),
        },
    };
    let mut rows =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(bytes.as_slice());
    let mut result = CsvRecipients::default();
    let mut seen = HashSet::new();
    let mut index = None;
    for record in rows.records() {
        let record = record?;
        let line = record.position().map_or(0, |position| lines.line_at(position.byte()));
        let cells: Vec<&str> = record.iter().map(|cell| cell.trim_start_matches('\u{feff}')).collect();
        if cells.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        let at = match index {
            Some(at) => at,
            None => {
                let (at, is_header) = choose_column(&column, &cells)?;
                index = Some(at);
                if is_header {
                    continue;
                }
                at
            }
        };
        let cell = cells.get(at).copied().unwrap_or_default();
        match MobileNumber::parse(cell) {
            Ok(number) => {
                if seen.insert(number.clone()) {
                    result.numbers.push(number);
                } else {
                    result.duplicates.push(DuplicateRow { line, number: number.into_string() });
                }
            }
            Err(error) => {
                result.invalid.push(InvalidRow { line, input: cell.to_owned(), reason: error.reason().to_string() })
            }
        }
    }
    Ok(result)
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

/// Picks the numbers column from the first row; says whether that row is a header.
fn choose_column(column: &Column, first: &[&str]) -> anyhow::Result<(usize, bool)> {
    let lower: Vec<String> = first.iter().map(|cell| cell.to_lowercase()).collect();
    let looks_like_header = |at: usize| {
        !first.get(at).is_some_and(|cell| cell.chars().any(char::is_numeric))
            || lower.iter().any(|cell| NUMBER_HEADERS.contains(&cell.as_str()))
    };
    match column {
        Column::Name(name) => match lower.iter().position(|cell| cell == name) {
            Some(at) => Ok((at, true)),
            None => bail!("the first row has no column named {name:?} (it has: {})", first.join(", ")),
        },
        Column::Index(at) => Ok((*at, looks_like_header(*at))),
        Column::Auto => match lower.iter().position(|cell| NUMBER_HEADERS.contains(&cell.as_str())) {
            Some(at) => Ok((at, true)),
            None => Ok((0, looks_like_header(0))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(result: &CsvRecipients) -> Vec<&str> {
        result.numbers.iter().map(MobileNumber::as_str).collect()
    }

    #[test]
    fn a_named_column_is_found_in_the_header() {
        let result = read_from("name,Mobile\nAli,0912 123 4567\nSara,+989351234567\n".as_bytes(), None).unwrap();
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
    }

    #[test]
    fn without_a_header_the_first_column_is_used() {
        let result = read_from("09121234567,Ali\n۰۹۳۵۱۲۳۴۵۶۷,Sara\n".as_bytes(), None).unwrap();
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
    }

    #[test]
    fn an_unknown_header_without_digits_is_skipped() {
        let result = read_from("\u{feff}recipient\n09121234567\n".as_bytes(), None).unwrap();
        assert_eq!(numbers(&result), ["09121234567"]);
        assert!(result.invalid.is_empty());
    }

    #[test]
    fn invalid_numbers_and_duplicates_carry_their_line() {
        let text = "number\n09121234567\n0912\n\n+98 912 123 4567\n02112345678\n";
        let result = read_from(text.as_bytes(), None).unwrap();
        assert_eq!(numbers(&result), ["09121234567"]);
        let lines: Vec<u64> = result.invalid.iter().map(|row| row.line).collect();
        assert_eq!(lines, [3, 6]);
        assert_eq!(result.duplicates[0].line, 5);
    }

    #[test]
    fn line_numbers_count_blank_lines_and_crlf() {
        let text = "09121234567\r\n\r\n\r\nbad\r\n\"09351234567\"\r\n\n0912\n";
        let result = read_from(text.as_bytes(), None).unwrap();
        let lines: Vec<u64> = result.invalid.iter().map(|row| row.line).collect();
        assert_eq!(lines, [4, 7]);
        assert_eq!(numbers(&result), ["09121234567", "09351234567"]);
    }

    #[test]
    fn a_column_may_be_chosen_by_name_or_index() {
        let text = "id,cell\n1,09121234567\n";
        assert_eq!(numbers(&read_from(text.as_bytes(), Some("CELL")).unwrap()), ["09121234567"]);
        assert_eq!(numbers(&read_from(text.as_bytes(), Some("2")).unwrap()), ["09121234567"]);
        assert!(read_from(text.as_bytes(), Some("phone")).is_err());
        assert!(read_from(text.as_bytes(), Some("0")).is_err());
    }
}
