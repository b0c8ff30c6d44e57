//! Reading a CSV file of recipients as a stream, for imports into a job store:
//! memory stays flat however long the file is. The encoding, the delimiter and
//! the numbers column are decided from the file's start, as [`super::read`]
//! decides them from the whole file; repeated numbers are left to the store.

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
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

/// A row of the file as a pass that drops repeated numbers sees it.
enum Met {
    /// A valid number, met for the first time.
    New(MobileNumber),
    /// A valid number met before, on this line.
    Repeat(u64, MobileNumber),
    /// A row whose number is invalid.
    Invalid(InvalidRow),
}

/// Reads `path` as a stream, handing each data row to `visit`; the notes on how it was read.
fn walk(path: &Path, options: CsvOptions<'_>, mut visit: impl FnMut(Met)) -> anyhow::Result<Vec<String>> {
    let stream = open(path, options)?;
    let notes = stream.notes.clone();
    let mut seen = SeenNumbers::default();
    for row in stream {
        let (line, row) = row.with_context(|| format!("cannot read the CSV file {}", path.display()))?;
        visit(match row {
            StreamRow::Number(number) if seen.insert(&number) => Met::New(number),
            StreamRow::Number(number) => Met::Repeat(line, number),
            StreamRow::Invalid(row) => Met::Invalid(row),
        });
    }
    Ok(notes)
}

/// Reads the whole file as a stream into recipients: repeated numbers dropped
/// (and listed) here, invalid ones listed. Only the numbers and those lists are
/// kept, never the file's text or rows.
pub fn collect(path: &Path, options: CsvOptions<'_>) -> anyhow::Result<super::CsvRecipients> {
    let mut result = super::CsvRecipients::default();
    result.notes = walk(path, options, |met| match met {
        Met::New(number) => result.numbers.push(number),
        Met::Repeat(line, number) => result.duplicates.push(super::DuplicateRow { line, number: number.into_string() }),
        Met::Invalid(row) => result.invalid.push(row),
    })?;
    Ok(result)
}

/// What one pass over a file finds, holding only the first rows of each kind:
/// its memory does not grow with the file (but for one integer per number, to
/// tell repeats).
#[derive(Debug, Default)]
pub struct Scan {
    /// What was assumed to read the file, for the user.
    pub notes: Vec<String>,
    /// Valid numbers, each counted once, and their fingerprint in file order.
    pub unique: usize,
    pub fingerprint: String,
    /// The first of them, in file order.
    pub first: Vec<MobileNumber>,
    /// The first rows whose number is invalid, and how many there are in all.
    pub invalid: Vec<InvalidRow>,
    pub invalid_total: usize,
    /// The first rows repeating a number met before, and how many there are in all.
    pub duplicates: Vec<super::DuplicateRow>,
    pub duplicates_total: usize,
}

/// Reads the whole file, keeping the first `kept` rows of each kind (see [`Scan`]).
pub fn scan(path: &Path, options: CsvOptions<'_>, kept: usize) -> anyhow::Result<Scan> {
    let mut scan = Scan::default();
    let mut fingerprint = payamak::bulk::RecipientsFingerprint::default();
    scan.notes = walk(path, options, |met| match met {
        Met::New(number) => {
            scan.unique += 1;
            fingerprint.push(number.as_str());
            if scan.first.len() < kept {
                scan.first.push(number);
            }
        }
        Met::Repeat(line, number) => {
            scan.duplicates_total += 1;
            if scan.duplicates.len() < kept {
                scan.duplicates.push(super::DuplicateRow { line, number: number.into_string() });
            }
        }
        Met::Invalid(row) => {
            scan.invalid_total += 1;
            if scan.invalid.len() < kept {
                scan.invalid.push(row);
            }
        }
    })?;
    scan.fingerprint = fingerprint.finish();
    Ok(scan)
}

/// The valid numbers of the file, the first occurrence of each, in file order, as a stream.
pub fn unique_numbers(
    path: &Path,
    options: CsvOptions<'_>,
) -> anyhow::Result<impl Iterator<Item = anyhow::Result<MobileNumber>>> {
    let stream = open(path, options)?;
    let mut seen = SeenNumbers::default();
    let path = path.to_owned();
    Ok(stream.filter_map(move |row| match row {
        Ok((_, StreamRow::Number(number))) => seen.insert(&number).then_some(Ok(number)),
        Ok((_, StreamRow::Invalid(_))) => None,
        Err(error) => Some(Err(error.context(format!("cannot read the CSV file {}", path.display())))),
    }))
}

/// The numbers met so far, as a compressed bitmap of their last nine digits
/// (a canonical number is `09` and nine digits): a few bytes a number, so
/// that reading a file of millions stays within a few megabytes.
#[derive(Default)]
struct SeenNumbers {
    canonical: roaring::RoaringBitmap,
    others: HashSet<MobileNumber>,
}

impl SeenNumbers {
    /// Adds `number`: true when it was not met before.
    fn insert(&mut self, number: &MobileNumber) -> bool {
        match canonical_key(number.as_str()) {
            Some(key) => self.canonical.insert(key),
            None => self.others.insert(number.clone()),
        }
    }
}

/// The nine digits after `09`, as one integer (below 10⁹, so a `u32`), or
/// `None` for a number not in that form.
fn canonical_key(number: &str) -> Option<u32> {
    let digits = number.strip_prefix("09").filter(|digits| digits.len() == 9)?;
    digits.bytes().try_fold(0u32, |key, byte| byte.is_ascii_digit().then(|| key * 10 + u32::from(byte - b'0')))
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

    #[test]
    fn a_scan_and_the_unique_numbers_find_what_collecting_finds_holding_only_the_first_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        let mut text = String::from("name,number\n");
        for n in 0..30 {
            // Every third number repeats the one before; every fifth row is invalid.
            let number = if n % 3 == 2 { n - 1 } else { n };
            let cell = if n % 5 == 4 { "0912".to_owned() } else { format!("0912{number:07}") };
            text.push_str(&format!("c{n},{cell}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        let whole = collect(&path, CsvOptions::default()).unwrap();
        let scan = scan(&path, CsvOptions::default(), 4).unwrap();
        assert_eq!(scan.unique, whole.numbers.len());
        assert_eq!(scan.first, whole.numbers[..4]);
        assert_eq!((scan.invalid_total, scan.duplicates_total), (whole.invalid.len(), whole.duplicates.len()));
        assert!(scan.invalid_total > 4 && scan.duplicates_total > 4, "{scan:?}");
        let lines = |rows: &[InvalidRow]| rows.iter().map(|row| row.line).collect::<Vec<_>>();
        assert_eq!(lines(&scan.invalid), lines(&whole.invalid[..4]));
        let repeats = |rows: &[super::super::DuplicateRow]| rows.iter().map(|row| row.line).collect::<Vec<_>>();
        assert_eq!(repeats(&scan.duplicates), repeats(&whole.duplicates[..4]));
        let streamed: Vec<MobileNumber> =
            unique_numbers(&path, CsvOptions::default()).unwrap().collect::<anyhow::Result<_>>().unwrap();
        assert_eq!(streamed, whole.numbers);
    }

    #[test]
    fn numbers_are_told_apart_by_their_nine_digits_after_09() {
        assert_eq!(canonical_key("09121234567"), Some(121_234_567));
        assert_eq!(canonical_key("09999999999"), Some(999_999_999));
        assert_eq!(canonical_key("9121234567"), None);
        assert_eq!(canonical_key("0912123456"), None);
        assert_eq!(canonical_key("0912123456x"), None);
        let mut seen = SeenNumbers::default();
        assert!(seen.insert(&MobileNumber::parse("09121234567").unwrap()));
        assert!(!seen.insert(&MobileNumber::parse("+98 912 123 4567").unwrap()));
        assert!(seen.insert(&MobileNumber::parse("09121234568").unwrap()));
        assert!(seen.insert(&MobileNumber::parse("09021234567").unwrap()));
    }

    fn rows(text: &[u8], options: CsvOptions<'_>) -> (Vec<(u64, String)>, Vec<u64>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
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
