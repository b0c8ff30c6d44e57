//! The journal of a `send-bulk` run: JSON lines, synced to disk before and after each batch.
//!
//! ```text
//! {"type":"header","version":2,"endpoints":["https://panel/post/"],"username":"me","from":"5000123456",...}
//! {"type":"attempt","batch":0,"numbers":["09120000000",...],"at":"..."}
//! {"type":"outcome","batch":0,"at":"...","result":{"status":"sent","recipients":[...]}}
//! ```
//!
//! An `attempt` is written and synced before a batch is sent; its `outcome`
//! after. A batch with an attempt and no outcome may or may not have been
//! sent. A last line cut short by a crash is dropped when the journal is
//! opened again (it was never synced, so what it described did not finish).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use serde::{Deserialize, Serialize};

/// The journal format's version (2 added the panel and user name).
pub const VERSION: u32 = 2;

/// How every header line starts: a file holding a prefix of it and no newline
/// is a header cut short by a crash.
const HEADER_START: &[u8] = br#"{"type":"header","#;

/// What a journal was written for; a run may only resume a journal with the same header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The format version.
    pub version: u32,
    /// The panel's base URLs, normalised, in failover order; empty for the built-in emulator.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// The user name the batches were sent with.
    #[serde(default)]
    pub username: String,
    /// The sender number.
    pub from: String,
    /// The text.
    pub text: String,
    /// Flash SMS.
    pub flash: bool,
    /// The number of recipients (after dropping invalid numbers and duplicates).
    pub recipients: usize,
    /// FNV-1a (64 bit, hex) of the recipients in order, one per line.
    pub recipients_fnv1a: String,
    /// Recipients per batch.
    pub batch_size: usize,
    /// The CSV file, for people reading the journal (not compared).
    pub csv: String,
    /// When the journal was started, UTC (not compared).
    pub created_at: String,
}

impl Header {
    /// The differences that make `self` (the journal's) unusable for `current` (this run's).
    fn differences(&self, current: &Header) -> Vec<String> {
        let mut differences = Vec::new();
        if self.version != current.version {
            differences
                .push(format!("journal format version {} (this payamak writes {})", self.version, current.version));
            // An older format does not say which panel it was written against: nothing else is comparable.
            return differences;
        }
        if self.endpoints != current.endpoints {
            differences.push(format!(
                "the panel differs ({} in the journal, {} now)",
                describe_endpoints(&self.endpoints),
                describe_endpoints(&current.endpoints)
            ));
        }
        if self.username != current.username {
            differences.push(format!(
                "the user name differs ({:?} in the journal, {:?} now)",
                self.username, current.username
            ));
        }
        if self.from != current.from {
            differences.push(format!("the sender differs ({} in the journal, {} now)", self.from, current.from));
        }
        if self.text != current.text {
            differences.push("the text differs".to_owned());
        }
        if self.flash != current.flash {
            differences.push("--flash differs".to_owned());
        }
        if self.recipients != current.recipients || self.recipients_fnv1a != current.recipients_fnv1a {
            differences.push(format!(
                "the CSV's recipients differ ({} in the journal, {} now, or in another order)",
                self.recipients, current.recipients
            ));
        }
        if self.batch_size != current.batch_size {
            differences.push(format!(
                "the batch size differs ({} in the journal, {} now)",
                self.batch_size, current.batch_size
            ));
        }
        differences
    }
}

/// The panel a header's endpoints stand for, for people.
fn describe_endpoints(endpoints: &[String]) -> String {
    if endpoints.is_empty() {
        "the built-in emulator".to_owned()
    } else {
        endpoints.join(", ")
    }
}

/// FNV-1a, 64 bit, of the numbers one per line: detects a changed recipient list.
pub fn fingerprint<'a>(numbers: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for number in numbers {
        for byte in number.bytes().chain(std::iter::once(b'\n')) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    Header(Header),
    Attempt { batch: usize, numbers: Vec<String>, at: String },
    Outcome { batch: usize, at: String, result: BatchResult },
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BatchResult {
    /// The panel answered the call with success; per-recipient results.
    Sent {
        /// One per recipient, in order.
        recipients: Vec<SentRecipient>,
    },
    /// The batch was definitely not sent: the panel refused it as a whole, or
    /// the request never reached it. A later run sends it again.
    Failed {
        /// Why.
        error: ErrorRecord,
    },
    /// The request may have reached the panel without an answer.
    Unknown {
        /// Why.
        error: ErrorRecord,
    },
}

/// One recipient of a sent batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRecipient {
    /// The number.
    pub number: String,
    /// Its recId, if the panel assigned one.
    pub rec_id: Option<i64>,
    /// The per-recipient status byte, if the panel returned one.
    pub status: Option<i32>,
    /// Whether the panel took the message for this number.
    pub accepted: bool,
}

/// An error as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// `rejected`, `transport`, `response`, `input` or `outcome_unknown`.
    pub kind: String,
    /// The panel's result code, for `rejected`.
    pub code: Option<i32>,
    /// The message.
    pub message: String,
}

/// Where a batch stands according to the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchState {
    /// Started, no outcome: may or may not have been sent.
    Attempted,
    /// Finished with this result.
    Done(BatchResult),
}

/// An open, locked journal.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Each batch's state, by index; batches never started are absent.
    pub batches: BTreeMap<usize, BatchState>,
    /// The numbers each attempted batch was sent to, by index.
    pub attempted_numbers: BTreeMap<usize, Vec<String>>,
    /// Whether the journal existed (a resumed run).
    pub resumed: bool,
    /// Set when a line cut short by a crash was dropped.
    pub dropped_partial_line: bool,
}

impl Journal {
    /// Opens the journal at `path` for a run described by `header`, creating it if needed.
    ///
    /// Fails if another process holds it, or it was written for another run.
    pub fn open(path: &Path, header: Header) -> anyhow::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        lock(&file).map_err(|error| match error.kind() {
            std::io::ErrorKind::WouldBlock => anyhow!(
                "the journal {} is in use by another payamak process (is a send-bulk still running?)",
                path.display()
            ),
            _ => anyhow!(error).context(format!("cannot lock the journal {}", path.display())),
        })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).with_context(|| format!("cannot read the journal {}", path.display()))?;
        let mut journal = Journal {
            file,
            path: path.to_owned(),
            batches: BTreeMap::new(),
            attempted_numbers: BTreeMap::new(),
            resumed: false,
            dropped_partial_line: false,
        };
        let complete = bytes.iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
        journal.dropped_partial_line = complete < bytes.len();
        if complete == 0 {
            // New, or a header cut short by a crash (nothing can have been sent
            // before the header was complete): start afresh. Anything else
            // without a newline is not ours to overwrite.
            if !is_cut_short_header(&bytes) {
                bail!(
                    "{} exists and is not a payamak journal (it has no complete line, and is not a header cut \
                     short by a crash); refusing to overwrite it. Give another file with --journal FILE",
                    path.display()
                );
            }
            let write = |journal: &mut Journal| -> anyhow::Result<()> {
                journal.file.set_len(0)?;
                journal.file.seek(SeekFrom::Start(0))?;
                Ok(())
            };
            write(&mut journal).with_context(|| format!("cannot write the journal {}", path.display()))?;
            journal.append(&Record::Header(header))?;
            sync_parent_dir(path)?;
            return Ok(journal);
        }
        // An earlier run may have died before making the journal's directory entry durable.
        sync_parent_dir(path)?;
        journal.resumed = true;
        journal.load(&bytes[..complete], &header)?;
        if journal.dropped_partial_line {
            journal.file.set_len(complete as u64)?;
        }
        journal.file.seek(SeekFrom::End(0))?;
        Ok(journal)
    }

    fn load(&mut self, bytes: &[u8], current: &Header) -> anyhow::Result<()> {
        let path = self.path.display().to_string();
        let text = std::str::from_utf8(bytes).with_context(|| format!("the journal {path} is not UTF-8"))?;
        for (index, line) in text.lines().enumerate() {
            let record: Record = serde_json::from_str(line)
                .with_context(|| format!("the journal {path} is damaged at line {}", index + 1))?;
            match (index, record) {
                (0, Record::Header(written)) => {
                    let differences = written.differences(current);
                    if !differences.is_empty() {
                        bail!(
                            "the journal {path} belongs to another send and cannot be resumed by this one: {}. \
                             Resuming it could send someone the message twice. Run the original command to finish \
                             that send, or give a new journal with --journal FILE to start a new send",
                            differences.join("; ")
                        );
                    }
                }
                (0, _) => bail!("the journal {path} does not start with a header line; is it a payamak journal?"),
                (_, Record::Header(_)) => bail!("the journal {path} is damaged: a second header at line {}", index + 1),
                (_, Record::Attempt { batch, numbers, .. }) => {
                    self.batches.insert(batch, BatchState::Attempted);
                    self.attempted_numbers.insert(batch, numbers);
                }
                (_, Record::Outcome { batch, result, .. }) => {
                    if !self.batches.contains_key(&batch) {
                        bail!("the journal {path} is damaged: an outcome without an attempt at line {}", index + 1);
                    }
                    self.batches.insert(batch, BatchState::Done(result));
                }
            }
        }
        Ok(())
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records, and syncs to disk, that `batch` is about to be sent to `numbers`.
    pub fn record_attempt(&mut self, batch: usize, numbers: Vec<String>) -> anyhow::Result<()> {
        self.append(&Record::Attempt { batch, numbers: numbers.clone(), at: now() })?;
        self.batches.insert(batch, BatchState::Attempted);
        self.attempted_numbers.insert(batch, numbers);
        Ok(())
    }

    /// Records, and syncs to disk, what became of `batch`.
    pub fn record_outcome(&mut self, batch: usize, result: BatchResult) -> anyhow::Result<()> {
        self.append(&Record::Outcome { batch, at: now(), result: result.clone() })?;
        self.batches.insert(batch, BatchState::Done(result));
        Ok(())
    }

    fn append(&mut self, record: &Record) -> anyhow::Result<()> {
        let mut line =
            serde_json::to_vec(record).map_err(|error| anyhow!("cannot encode a journal record: {error}"))?;
        line.push(b'\n');
        let path = self.path.display();
        self.file.write_all(&line).with_context(|| format!("cannot write the journal {path}"))?;
        self.file.sync_data().with_context(|| format!("cannot sync the journal {path} to disk"))?;
        Ok(())
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether `bytes` (a file's whole content, with no newline) are empty or the start of a header line.
fn is_cut_short_header(bytes: &[u8]) -> bool {
    if bytes.len() <= HEADER_START.len() {
        HEADER_START.starts_with(bytes)
    } else {
        bytes.starts_with(HEADER_START)
    }
}

/// Makes the journal's directory entry durable: a journal that could vanish in
/// a crash would let a later run send everything again.
fn sync_parent_dir(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent).and_then(|dir| dir.sync_all()).with_context(|| {
            format!(
                "cannot sync the directory {} of the journal to disk (nothing was sent); give a journal in \
                 another directory with --journal FILE",
                parent.display()
            )
        })?;
    }
    // Windows cannot open a directory as a file to sync it; NTFS journals its metadata.
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// An exclusive lock on the journal (advisory on Unix), held until the file is closed.
fn lock(file: &File) -> std::io::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::ErrorKind::WouldBlock.into()),
        Err(std::fs::TryLockError::Error(error)) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Header {
        Header {
            version: VERSION,
            endpoints: vec!["https://panel.example/post/".into()],
            username: "me".into(),
            from: "5000123456".into(),
            text: text.into(),
            flash: false,
            recipients: 2,
            recipients_fnv1a: fingerprint(["09120000000", "09120000001"]),
            batch_size: 100,
            csv: "x.csv".into(),
            created_at: now(),
        }
    }

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("payamak-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[test]
    fn a_journal_resumes_with_each_batch_state() {
        let path = temp_path("resume");
        {
            let mut journal = Journal::open(&path, header("hi")).unwrap();
            assert!(!journal.resumed);
            journal.record_attempt(0, vec!["09120000000".into()]).unwrap();
            let sent = SentRecipient { number: "09120000000".into(), rec_id: Some(7), status: Some(0), accepted: true };
            journal.record_outcome(0, BatchResult::Sent { recipients: vec![sent] }).unwrap();
            journal.record_attempt(1, vec!["09120000001".into()]).unwrap();
        }
        let journal = Journal::open(&path, header("hi")).unwrap();
        assert!(journal.resumed);
        assert!(matches!(journal.batches[&0], BatchState::Done(BatchResult::Sent { .. })));
        assert_eq!(journal.batches[&1], BatchState::Attempted);
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn another_text_is_refused_and_a_cut_line_is_dropped() {
        let path = temp_path("refuse");
        drop(Journal::open(&path, header("hi")).unwrap());
        let error = Journal::open(&path, header("other")).unwrap_err().to_string();
        assert!(error.contains("the text differs"), "{error}");

        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"type":"attempt","batch":0,"numb"#).unwrap();
        let journal = Journal::open(&path, header("hi")).unwrap();
        assert!(journal.dropped_partial_line);
        assert!(journal.batches.is_empty());
        drop(journal);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_journal_in_use_is_refused() {
        let path = temp_path("locked");
        let first = Journal::open(&path, header("hi")).unwrap();
        let error = format!("{:#}", Journal::open(&path, header("hi")).unwrap_err());
        assert!(error.contains("in use"), "{error}");
        drop(first);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn another_panel_or_user_is_refused_naming_both() {
        let path = temp_path("panel");
        drop(Journal::open(&path, Header { endpoints: Vec::new(), ..header("hi") }).unwrap());
        let error = Journal::open(&path, header("hi")).unwrap_err().to_string();
        assert!(
            error.contains("the panel differs (the built-in emulator in the journal, https://panel.example/post/ now)"),
            "{error}"
        );
        assert!(error.contains("--journal FILE"), "{error}");
        std::fs::remove_file(&path).unwrap();

        drop(Journal::open(&path, header("hi")).unwrap());
        let error = Journal::open(&path, Header { username: "you".into(), ..header("hi") }).unwrap_err().to_string();
        assert!(error.contains(r#"the user name differs ("me" in the journal, "you" now)"#), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_version_1_journal_is_refused() {
        let path = temp_path("v1");
        let mut old = serde_json::to_value(Record::Header(header("hi"))).unwrap();
        old["version"] = 1.into();
        old.as_object_mut().unwrap().remove("endpoints");
        old.as_object_mut().unwrap().remove("username");
        std::fs::write(&path, format!("{old}\n")).unwrap();
        let error = Journal::open(&path, header("hi")).unwrap_err().to_string();
        assert!(error.contains("journal format version 1"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn only_an_empty_file_or_a_cut_short_header_is_started_afresh() {
        let path = temp_path("cut-header");
        let line = serde_json::to_vec(&Record::Header(header("old"))).unwrap();
        assert!(line.starts_with(HEADER_START), "{}", String::from_utf8_lossy(&line));
        for cut in [0, 1, 5, HEADER_START.len(), line.len() / 2, line.len()] {
            std::fs::write(&path, &line[..cut]).unwrap();
            let journal = Journal::open(&path, header("hi")).unwrap();
            assert!(!journal.resumed, "cut at {cut}");
            drop(journal);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(r#""text":"hi""#) && text.ends_with("}\n"), "{text}");
        }
        for other in ["name,mobile", "{\"type\":\"attempt\"", "x"] {
            std::fs::write(&path, other).unwrap();
            let error = Journal::open(&path, header("hi")).unwrap_err().to_string();
            assert!(error.contains("is not a payamak journal") && error.contains(&*path.to_string_lossy()), "{error}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), other, "left as it was");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_that_cannot_be_synced_is_an_error() {
        let error = sync_parent_dir(Path::new("/nonexistent-payamak-dir/x.journal")).unwrap_err();
        assert!(format!("{error:#}").contains("cannot sync the directory"), "{error:#}");
        sync_parent_dir(Path::new("x.journal")).unwrap();
    }

    #[test]
    fn the_fingerprint_depends_on_order() {
        assert_ne!(fingerprint(["a", "b"]), fingerprint(["b", "a"]));
        assert_ne!(fingerprint(["ab"]), fingerprint(["a", "b"]));
    }
}
