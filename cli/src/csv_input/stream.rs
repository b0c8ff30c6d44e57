//! Reading a CSV file of recipients as a stream, for imports into a job store:
//! memory stays flat however long the file is. The encoding, the delimiter and
//! the numbers column are decided from the file's start, as [`super::read`]
//! decides them from the whole file; repeated numbers are left to the store.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

use anyhow::Context as _;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1256};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use payamak::recipient::MobileNumber;

use super::{choose_column, decode, shown, CsvOptions, InvalidRow, Row};

/// How much of the file's start decides its encoding, delimiter and numbers column.
const PREFIX: usize = 64 * 1024;

/// One data row of the stream.
#[derive(Debug)]
pub enum StreamRow {
    /// A valid number (possibly a repeat of an earlier one).
    Number(MobileNumber),
    /// A row whose number is invalid.
    Invalid(InvalidRow),
}

/// The data rows of a CSV file, one at a time.
pub struct CsvStream {
    records: csv::StringRecordsIntoIter<CountingReader<DecodeReaderBytes<File, Vec<u8>>>>,
    lines: Rc<RefCell<LineIndex>>,
    column: usize,
    skip_header: bool,
    /// What was assumed to read the file, for the user.
    pub notes: Vec<String>,
}

/// Opens `path` as a stream of recipients.
pub fn open(path: &Path, options: CsvOptions<'_>) -> anyhow::Result<CsvStream> {
    let context = || format!("cannot read the CSV file {}", path.display());
    let mut file = File::open(path).with_context(|| format!("cannot open the CSV file {}", path.display()))?;
    let mut prefix = Vec::with_capacity(PREFIX);
    (&mut file).take(PREFIX as u64).read_to_end(&mut prefix).with_context(context)?;
    let whole = prefix.len() < PREFIX;
    let mut notes = Vec::new();
    let encoding = choose_encoding(&prefix, whole, options.encoding, &mut notes);
    check_prefix(&prefix, whole, encoding, options.encoding.is_some()).with_context(context)?;
    // The start of the file as text, up to its last complete line.
    let (text, _, _) = encoding.decode(&prefix);
    let text = if whole { &text[..] } else { text.rfind('\n').map_or(&text[..], |at| &text[..at]) };
    let text = text.trim_start_matches('\u{feff}');
    let delimiter = match options.delimiter {
        Some(delimiter) => delimiter,
        None => {
            let delimiter = decode::sniff_delimiter(text);
            if delimiter != b',' {
                notes.push(format!("fields are separated by {} (give --delimiter to choose)", shown(delimiter)));
            }
            delimiter
        }
    };
    let sample: Vec<Row> = super::rows(text, delimiter).with_context(context)?;
    let (column, skip_header) = match sample.first() {
        None => (0, false),
        Some(first) => {
            let (at, is_header) = choose_column(options.column, &sample).with_context(context)?;
            if options.column.is_none() && at != 0 {
                let name =
                    first.cells.get(at).filter(|_| is_header).map(|name| format!(" ({name:?})")).unwrap_or_default();
                notes.push(format!("numbers taken from column {}{name} (give --column to choose)", at + 1));
            }
            (at, is_header)
        }
    };
    let file = File::open(path).with_context(|| format!("cannot open the CSV file {}", path.display()))?;
    let decoded = DecodeReaderBytesBuilder::new().encoding(Some(encoding)).strip_bom(true).build(file);
    let lines = Rc::new(RefCell::new(LineIndex::default()));
    let reader = CountingReader { inner: decoded, lines: lines.clone() };
    let records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .buffer_capacity(64 * 1024)
        .from_reader(reader)
        .into_records();
    Ok(CsvStream { records, lines, column, skip_header, notes })
}

/// The encoding: forced, else by byte-order mark, else UTF-8 when the start is
/// UTF-8, else Windows-1256 (Excel's CSV on a Persian Windows).
fn choose_encoding(
    prefix: &[u8],
    whole: bool,
    forced: Option<&'static Encoding>,
    notes: &mut Vec<String>,
) -> &'static Encoding {
    if let Some(encoding) = forced {
        return encoding;
    }
    if let Some((encoding, _)) = Encoding::for_bom(prefix) {
        if encoding != UTF_8 {
            notes.push(format!("read as {} (it starts with a byte-order mark)", encoding.name()));
        }
        return encoding;
    }
    let utf8 = match std::str::from_utf8(prefix) {
        Ok(_) => true,
        // Cut inside a character at the end of the prefix: still UTF-8.
        Err(error) => !whole && error.error_len().is_none(),
    };
    if utf8 {
        return UTF_8;
    }
    notes.push(
        "it is not UTF-8: read as windows-1256, as Excel saves CSV on a Persian Windows (give --encoding if that \
         is wrong)"
            .to_owned(),
    );
    WINDOWS_1256
}

/// Refuses a file whose start is not valid in the encoding `--encoding` or its
/// byte-order mark names, as the whole-file reader does: a wrong encoding is an
/// error, not text full of replacement characters. (Further on, a malformed byte
/// in a number makes that row invalid, and so reported.)
fn check_prefix(prefix: &[u8], whole: bool, encoding: &'static Encoding, forced: bool) -> anyhow::Result<()> {
    let has_bom = Encoding::for_bom(prefix).is_some();
    if !forced && !has_bom {
        // Guessed: UTF-8 only when the start is UTF-8, and every byte is Windows-1256.
        return Ok(());
    }
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let mut text = String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(prefix.len()).unwrap_or(0));
    let (result, _) = decoder.decode_to_string_without_replacement(prefix, &mut text, whole);
    if let encoding_rs::DecoderResult::Malformed(_, _) = result {
        if forced {
            anyhow::bail!("it is not valid {} (as --encoding says); give another --encoding", encoding.name());
        }
        anyhow::bail!("it starts with a {} byte-order mark but is not valid {}", encoding.name(), encoding.name());
    }
    Ok(())
}

/// Reads the whole file as a stream into recipients: repeated numbers dropped
/// (and listed) here, invalid ones listed. Only the numbers and those lists are
/// kept, never the file's text or rows.
pub fn collect(path: &Path, options: CsvOptions<'_>) -> anyhow::Result<super::CsvRecipients> {
    let stream = open(path, options)?;
    let mut result = super::CsvRecipients { notes: stream.notes.clone(), ..Default::default() };
    let mut seen = std::collections::HashSet::new();
    for row in stream {
        let (line, row) = row.with_context(|| format!("cannot read the CSV file {}", path.display()))?;
        match row {
            StreamRow::Number(number) => {
                if seen.insert(number.clone()) {
                    result.numbers.push(number);
                } else {
                    result.duplicates.push(super::DuplicateRow { line, number: number.into_string() });
                }
            }
            StreamRow::Invalid(row) => result.invalid.push(row),
        }
    }
    Ok(result)
}

impl Iterator for CsvStream {
    type Item = anyhow::Result<(u64, StreamRow)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.records.next()? {
                Ok(record) => record,
                Err(error) => return Some(Err(anyhow::Error::new(error).context("the CSV file cannot be read"))),
            };
            let line = record.position().map_or(0, |position| self.lines.borrow_mut().line_at(position.byte()));
            let cells: Vec<&str> = record.iter().map(|cell| cell.trim_start_matches('\u{feff}')).collect();
            if cells.iter().all(|cell| cell.is_empty()) {
                continue;
            }
            if std::mem::take(&mut self.skip_header) {
                continue;
            }
            let cell = cells.get(self.column).copied().unwrap_or_default();
            let row = match MobileNumber::parse(cell) {
                Ok(number) => StreamRow::Number(number),
                Err(error) => StreamRow::Invalid(InvalidRow {
                    line,
                    input: cell.chars().take(100).collect(),
                    reason: error.reason().to_string(),
                }),
            };
            return Some(Ok((line, row)));
        }
    }
}

/// Where the newlines are in the text read so far, for the records the csv
/// reader has not handed out yet: a bounded window, not the whole file.
#[derive(Debug, Default)]
struct LineIndex {
    /// Bytes read.
    read: u64,
    /// Offsets of line breaks (`\n`: true, `\r`: false) not yet passed by a record, in order.
    pending: VecDeque<(u64, bool)>,
    /// Newlines passed.
    passed: u64,
}

impl LineIndex {
    fn saw(&mut self, bytes: &[u8]) {
        for (at, &byte) in bytes.iter().enumerate() {
            if byte == b'\n' || byte == b'\r' {
                self.pending.push_back((self.read + at as u64, byte == b'\n'));
            }
        }
        self.read += bytes.len() as u64;
    }

    /// The 1-based line of a record starting at `byte` (blank lines before it are skipped, as the csv crate does).
    fn line_at(&mut self, mut byte: u64) -> u64 {
        while let Some(&(at, newline)) = self.pending.front() {
            // Line breaks before the record, and those it starts with (blank lines the reader skipped).
            if at > byte {
                break;
            }
            if at == byte {
                byte += 1;
            }
            self.pending.pop_front();
            self.passed += u64::from(newline);
        }
        self.passed + 1
    }
}

/// Counts newlines as the csv reader pulls text through.
struct CountingReader<R> {
    inner: R,
    lines: Rc<RefCell<LineIndex>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.lines.borrow_mut().saw(&buffer[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8], options: CsvOptions<'_>) -> (Vec<(u64, String)>, Vec<u64>, Vec<String>) {
        let dir = std::env::temp_dir().join(format!("payamak-csv-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{:x}.csv", text.len() * 31 + text.first().copied().unwrap_or(0) as usize));
        std::fs::write(&path, text).unwrap();
        let stream = open(&path, options).unwrap();
        let notes = stream.notes.clone();
        let (mut valid, mut invalid) = (Vec::new(), Vec::new());
        for row in stream {
            match row.unwrap() {
                (line, StreamRow::Number(number)) => valid.push((line, number.into_string())),
                (line, StreamRow::Invalid(_)) => invalid.push(line),
            }
        }
        (valid, invalid, notes)
    }

    #[test]
    fn the_stream_reads_what_the_whole_file_reader_reads() {
        let text = "number\n09121234567\n0912\n\n+98 912 123 4567\n02112345678\n";
        let (valid, invalid, _) = rows(text.as_bytes(), CsvOptions::default());
        assert_eq!(valid, [(2, "09121234567".to_owned()), (5, "09121234567".to_owned())], "repeats are the store's");
        assert_eq!(invalid, [3, 6]);
        let whole = super::super::from_bytes(text.as_bytes(), CsvOptions::default()).unwrap();
        assert_eq!(whole.invalid.iter().map(|row| row.line).collect::<Vec<_>>(), invalid);
    }

    #[test]
    fn collecting_the_stream_gives_what_the_whole_file_reader_gives() {
        let text = "name,number\nA,09121234567\nB,0912\n\nC,+98 912 123 4567\nD,09351234567\nE,02112345678\n";
        let dir = std::env::temp_dir().join(format!("payamak-csv-collect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("list.csv");
        std::fs::write(&path, text).unwrap();
        let streamed = collect(&path, CsvOptions::default()).unwrap();
        let whole = super::super::from_bytes(text.as_bytes(), CsvOptions::default()).unwrap();
        let numbers =
            |r: &super::super::CsvRecipients| r.numbers.iter().map(|n| n.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(numbers(&streamed), numbers(&whole));
        let lines = |rows: &[InvalidRow]| rows.iter().map(|row| row.line).collect::<Vec<_>>();
        assert_eq!(lines(&streamed.invalid), lines(&whole.invalid));
        let repeats = |r: &super::super::CsvRecipients| {
            r.duplicates.iter().map(|d| (d.line, d.number.clone())).collect::<Vec<_>>()
        };
        assert_eq!(repeats(&streamed), repeats(&whole));
        // A forced encoding the file is not in is an error, as it is for the whole-file reader.
        let (bytes, _, _) = WINDOWS_1256.encode("شماره;نام\n09121234567;علي\n");
        std::fs::write(&path, &bytes).unwrap();
        let forced = CsvOptions { encoding: Some(UTF_8), ..CsvOptions::default() };
        let error = format!("{:#}", collect(&path, forced).unwrap_err());
        assert!(error.contains("not valid UTF-8"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn line_numbers_count_blank_lines_and_crlf_across_large_files() {
        let mut text = String::from("name;mobile\r\n");
        for index in 0..20_000 {
            text.push_str(&format!("\"x\ny\";0912{index:07}\r\n"));
            if index % 7 == 0 {
                text.push_str("\r\n");
            }
        }
        text.push_str("z;bad\r\n");
        let (valid, invalid, notes) = rows(text.as_bytes(), CsvOptions::default());
        assert_eq!(valid.len(), 20_000);
        assert_eq!(valid[0], (2, "09120000000".to_owned()));
        // Two lines a row, plus a blank line after every seventh row.
        assert_eq!(valid[8].0, 2 + 8 * 2 + 2);
        assert_eq!(invalid, [1 + 20_000 * 2 + 20_000_u64.div_ceil(7) + 1]);
        assert!(notes.iter().any(|note| note.contains("';'")), "{notes:?}");
    }

    #[test]
    fn windows_1256_and_utf16_files_are_decoded_as_they_stream() {
        let (bytes, _, _) = WINDOWS_1256.encode("شماره;نام\n09121234567;علي\n");
        let (valid, _, notes) = rows(&bytes, CsvOptions::default());
        assert_eq!(valid, [(2, "09121234567".to_owned())]);
        assert!(notes.iter().any(|note| note.contains("windows-1256")), "{notes:?}");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("موبایل\t09121234567\n09351234567\n".encode_utf16().flat_map(u16::to_le_bytes));
        let (valid, _, _) = rows(&utf16, CsvOptions::default());
        assert_eq!(valid, [(2, "09351234567".to_owned())], "the first row is a header");
    }
}
