//! The durable journal: JSON lines, written and synced to disk in groups.
//!
//! ```text
//! {"type":"header","version":2,"endpoints":["https://panel/post/"],"username":"me","from":"5000123456",...}
//! {"type":"attempt","batch":0,"numbers":["09120000000",...],"at":"..."}
//! {"type":"outcome","batch":0,"at":"...","result":{"status":"sent","recipients":[...]}}
//! ```
//!
//! The format is documented in `docs/journal.md`. A batch's `attempt` is on
//! disk (written and `fdatasync`ed) before its request leaves, and its
//! `outcome` is written after its answer; the records of batches on their way
//! at once are written together, with one sync per group (group commit). A
//! last line cut short by a crash is dropped when the journal is opened again
//! (it was never synced, so what it described did not finish).

mod file;
mod records;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use self::file::{JournalFile, JournalLog, NotDurable};
use self::records::{current_boot, Line, Records};
use super::journal::{Entry, Journal, JournalError, UnsyncedLog};
use super::reconcile::Reconciliation;
use super::record::{now, BatchOutcome, BatchRecord, JobHeader};
use crate::recipient::MobileNumber;

/// How every header line starts: a file holding a prefix of it and no newline
/// is a header cut short by a crash.
const HEADER_START: &[u8] = br#"{"type":"header","#;

/// A journal in a file of JSON lines, locked while open, synced at every record.
#[derive(Debug)]
pub struct JsonLinesJournal {
    /// Shared with the blocking thread that writes and syncs a group, and with the unsynced log.
    file: Arc<JournalFile>,
    path: PathBuf,
    /// The header in the file: the job's, as its first run wrote it.
    header: JobHeader,
    records: Records,
    opened: Opened,
    dropped_partial_line: bool,
    /// Whether lines after zero bytes were dropped (and kept in `<journal>.dropped`).
    dropped_after_zeros: bool,
    /// Batches written ahead by a run that died before they left, withdrawn when the journal was opened.
    withdrawn_on_open: Vec<usize>,
}

/// What the file held when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opened {
    /// Nothing: it did not exist.
    New,
    /// A journal, resumed.
    Resumed,
    /// A file with no complete header (emptied, or its header cut short), started afresh.
    Restarted,
}

impl JsonLinesJournal {
    /// Opens the journal at `path` for the job `header` describes, creating it if needed.
    ///
    /// Fails if another process holds it, if it is not a journal, or if it
    /// was written for another job (panel, account, text or recipients).
    pub fn open(path: impl AsRef<Path>, header: JobHeader) -> Result<Self, JournalError> {
        let path = path.as_ref();
        let io = |action: &'static str| move |source| JournalError::Io { path: path.to_owned(), action, source };
        let existed = path.exists();
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io("open"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(JournalError::InUse { path: path.to_owned() }),
            Err(std::fs::TryLockError::Error(error)) => return Err(io("lock")(error)),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("read"))?;
        let Extent { complete, lines_end, written, gap } = extent(&bytes);
        // What follows zeros is kept beside the journal before it is cut off (synced with the directory below).
        let dropped = &bytes[complete..written];
        let mut journal = JsonLinesJournal {
            file: Arc::new(JournalFile::new(file, path)),
            path: path.to_owned(),
            header: header.clone(),
            records: Records::default(),
            opened: Opened::New,
            dropped_partial_line: complete < lines_end,
            dropped_after_zeros: gap,
            withdrawn_on_open: Vec::new(),
        };
        if complete == 0 {
            // New, or a header cut short (by a crash while it was written, or by
            // damage): start afresh. An existing file is reconciled with the
            // panel (see `reconciliation`), since what it held is lost. Anything
            // else without a newline is not ours to overwrite.
            if !is_cut_short_header(&bytes[..lines_end]) {
                return Err(JournalError::NotAJournal { path: path.to_owned() });
            }
            if gap {
                keep_dropped(path, dropped)?;
            }
            journal.file.file().set_len(0).map_err(io("write"))?;
            journal.file.file().seek(SeekFrom::Start(0)).map_err(io("write"))?;
            journal.append(&Line::Header(header))?;
            sync_parent_dir(path)?;
            journal.opened = if existed { Opened::Restarted } else { Opened::New };
            return Ok(journal);
        }
        journal.opened = Opened::Resumed;
        journal.load(&bytes[..complete], &header)?;
        if gap {
            keep_dropped(path, dropped)?;
        }
        // An earlier run may have died before making the journal's directory entry durable.
        sync_parent_dir(path)?;
        if complete < bytes.len() {
            journal.file.file().set_len(complete as u64).map_err(io("write"))?;
        }
        journal.file.file().seek(SeekFrom::Start(complete as u64)).map_err(io("write"))?;
        // Zeros before the last line: written pages were lost, and with them
        // maybe `leaving` lines: no batch written ahead is taken for unsent.
        journal.withdraw_what_never_left(if gap { None } else { current_boot() })?;
        Ok(journal)
    }

    fn load(&mut self, bytes: &[u8], current: &JobHeader) -> Result<(), JournalError> {
        let (header, records) = parse(&self.path, bytes)?;
        let differences = header.differences(current);
        if !differences.is_empty() {
            return Err(JournalError::AnotherSend { path: self.path.clone(), differences });
        }
        self.header = header;
        self.records = records;
        Ok(())
    }

    /// Writes down, durably, that the batches an earlier run on this boot
    /// wrote ahead and died before sending never left: after a crash of the
    /// machine, the file alone could no longer show it.
    fn withdraw_what_never_left(&mut self, boot: Option<&str>) -> Result<(), JournalError> {
        self.withdrawn_on_open = self.records.settle(boot);
        if self.withdrawn_on_open.is_empty() {
            return Ok(());
        }
        let lines: Vec<Line> = self.withdrawn_on_open.iter().map(|&batch| Line::Withdrawn { batch }).collect();
        Ok(self.file.append_durably(&encode(&self.path, &lines)?)?)
    }

    /// Reads the journal at `path` without opening it for a run: no lock is
    /// taken and nothing is written. A last line cut short is left out.
    pub fn read(path: impl AsRef<Path>) -> Result<JournalContents, JournalError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| JournalError::Io { path: path.to_owned(), action: "read", source })?;
        let Extent { complete, gap, .. } = extent(&bytes);
        if complete == 0 {
            return Err(JournalError::NotAJournal { path: path.to_owned() });
        }
        let (header, mut records) = parse(path, &bytes[..complete])?;
        records.settle(if gap { None } else { current_boot() });
        Ok(JournalContents { header, batches: records.into_batches() })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the journal existed and was resumed.
    pub fn resumed(&self) -> bool {
        self.opened == Opened::Resumed
    }

    /// Whether the file existed without a complete header (emptied, or its
    /// header cut short) and was started afresh: what it held is lost.
    pub fn restarted(&self) -> bool {
        self.opened == Opened::Restarted
    }

    /// The job's header, as the journal's first run wrote it.
    pub fn header(&self) -> &JobHeader {
        &self.header
    }

    /// How a run over this journal should check the panel before sending (see
    /// [`BulkJob::reconcile_with_panel`](super::BulkJob::reconcile_with_panel)):
    /// a resumed journal may have been cut short or replaced by an older copy,
    /// so its run looks up the panel's sent messages since the job began; a
    /// restarted one lost even that, so all of them. `None` for a new journal.
    pub fn reconciliation(&self) -> Option<Reconciliation> {
        match self.opened {
            Opened::New => None,
            Opened::Restarted => Some(Reconciliation::AllTime),
            Opened::Resumed => Some(
                chrono::DateTime::parse_from_rfc3339(&self.header.created_at)
                    .map_or(Reconciliation::AllTime, |start| Reconciliation::Since(start.to_utc())),
            ),
        }
    }

    /// Whether a last line cut short by an earlier crash was dropped.
    pub fn dropped_partial_line(&self) -> bool {
        self.dropped_partial_line
    }

    /// Whether the file had zero bytes before its last line, as a crash of
    /// the machine leaves when pages written after the last sync were lost:
    /// the lines from the zeros on were dropped (they were never synced), and
    /// kept in `<journal>.dropped`. A run over it checks the panel first, as
    /// over any resumed journal.
    pub fn dropped_after_zeros(&self) -> bool {
        self.dropped_after_zeros
    }

    /// The batches an earlier run on this boot of the machine wrote ahead of
    /// their turn and died before sending: they never left, and a run sends
    /// them like batches never started.
    pub fn withdrawn_on_open(&self) -> &[usize] {
        &self.withdrawn_on_open
    }

    fn append(&mut self, line: &Line) -> Result<(), JournalError> {
        Ok(self.file.append_durably(&encode(&self.path, [line])?)?)
    }

    /// The lines of `entries`: an outcome needs an attempt, in the journal or
    /// before it in the group; a withdrawal is written for a batch waiting to
    /// leave, and left out for any other (whose record stays as it is).
    fn lines_of(&self, entries: &[Entry<'_>]) -> Result<Vec<Line>, JournalError> {
        let at = now();
        let mut attempted = std::collections::HashSet::new();
        let mut lines = Vec::with_capacity(entries.len());
        for entry in entries {
            let line = match *entry {
                Entry::Attempt { batch, numbers } | Entry::AttemptAhead { batch, numbers } => {
                    attempted.insert(batch);
                    let numbers = numbers.iter().map(|number| number.as_str().to_owned()).collect();
                    let ahead = matches!(entry, Entry::AttemptAhead { .. });
                    let boot = current_boot().filter(|_| ahead).map(str::to_owned);
                    Line::Attempt { batch, numbers, at: at.clone(), boot }
                }
                Entry::Outcome { batch, outcome } => {
                    if !self.records.knows(batch) && !attempted.contains(&batch) {
                        return Err(JournalError::OutcomeWithoutAttempt { batch });
                    }
                    Line::Outcome { batch, at: at.clone(), result: outcome.clone() }
                }
                Entry::Withdrawn { batch } if self.records.is_ahead(batch) && !attempted.contains(&batch) => {
                    Line::Withdrawn { batch }
                }
                Entry::Withdrawn { .. } => continue,
            };
            lines.push(line);
        }
        Ok(lines)
    }

    /// Which of `lines` to write: all but the outcomes the unsynced log already appended.
    fn to_write(&self, lines: &[Line]) -> Vec<bool> {
        lines
            .iter()
            .map(|line| !matches!(line, Line::Outcome { batch, .. } if self.file.take_answered(*batch)))
            .collect()
    }

    /// Takes a group's `lines` into what the journal holds once `written`. If
    /// the write failed but its lines stay in the file, its attempts written
    /// ahead are taken in, so that the run withdraws them.
    fn take(&mut self, lines: Vec<Line>, written: Result<(), NotDurable>) -> Result<(), JournalError> {
        match written {
            Ok(()) => {
                self.apply(lines);
                Ok(())
            }
            Err(NotDurable { error, kept }) => {
                if kept {
                    let ahead = lines.into_iter().filter(|line| matches!(line, Line::Attempt { boot: Some(_), .. }));
                    self.apply(ahead.collect());
                }
                Err(error)
            }
        }
    }

    /// Takes written `lines` into what the journal holds.
    fn apply(&mut self, lines: Vec<Line>) {
        for line in lines {
            // `lines_of` let through only lines that follow the journal's.
            let _ = self.records.apply(line);
        }
    }

    /// Writes the group's lines with one write and one disk sync (a group commit).
    fn record_now(&mut self, entries: &[Entry<'_>]) -> Result<(), JournalError> {
        let lines = self.lines_of(entries)?;
        let to_write = self.to_write(&lines);
        let written = self.file.append_durably(&encode_group(&self.path, &lines, &to_write)?);
        self.take(lines, written)
    }
}

/// `lines`, each ending with a newline.
fn encode<'a, L: serde::Serialize + 'a>(
    path: &Path,
    lines: impl IntoIterator<Item = &'a L>,
) -> Result<Vec<u8>, JournalError> {
    let mut bytes = Vec::new();
    for line in lines {
        encode_into(path, &mut bytes, line)?;
    }
    Ok(bytes)
}

/// The `lines` marked in `to_write`, each ending with a newline.
fn encode_group(path: &Path, lines: &[Line], to_write: &[bool]) -> Result<Vec<u8>, JournalError> {
    encode(path, lines.iter().zip(to_write).filter(|(_, &write)| write).map(|(line, _)| line))
}

/// Appends `line` and its newline to `bytes`.
fn encode_into(path: &Path, bytes: &mut Vec<u8>, line: &impl serde::Serialize) -> Result<(), JournalError> {
    serde_json::to_writer(&mut *bytes, line).map_err(|error| JournalError::Io {
        path: path.to_owned(),
        action: "write",
        source: std::io::Error::other(error),
    })?;
    bytes.push(b'\n');
    Ok(())
}

impl Journal for JsonLinesJournal {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.records.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        self.record_now(&[Entry::Attempt { batch, numbers }])
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        self.record_now(&[Entry::Outcome { batch, outcome }])
    }

    /// Writes the group's lines with one write and one disk sync (a group
    /// commit), on Tokio's blocking pool when there is a runtime, so that the
    /// run's sends go on meanwhile.
    async fn record(&mut self, entries: &[Entry<'_>]) -> Result<(), JournalError> {
        let lines = self.lines_of(entries)?;
        let to_write = self.to_write(&lines);
        let write = {
            let (file, path) = (Arc::clone(&self.file), self.path.clone());
            move || {
                let bytes = encode_group(&path, &lines, &to_write).map_err(|error| NotDurable { error, kept: false });
                let written = bytes.and_then(|bytes| file.append_durably(&bytes));
                (lines, written)
            }
        };
        // Encoded and synced off the run's thread, so that its sends go on meanwhile.
        let (lines, written) = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(write).await.map_err(|error| JournalError::Io {
                path: self.path.clone(),
                action: "write",
                source: std::io::Error::other(error),
            })?,
            Err(_) => write(),
        };
        self.take(lines, written)
    }

    /// The unsynced log, when this boot of the machine is known (Linux):
    /// attempts written ahead are then told apart after a crash of the process.
    fn unsynced_log(&self) -> Option<Arc<dyn UnsyncedLog>> {
        current_boot()?;
        Some(Arc::new(JournalLog(Arc::clone(&self.file))))
    }
}

/// What a journal file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalContents {
    /// The job it was written for.
    pub header: JobHeader,
    /// What it records of each batch, by index.
    pub batches: BTreeMap<usize, BatchRecord>,
}

/// The header and records of a journal's complete lines (batches written ahead not settled yet).
fn parse(path: &Path, bytes: &[u8]) -> Result<(JobHeader, Records), JournalError> {
    let damaged = |line: usize, reason: String| JournalError::Damaged { path: path.to_owned(), line, reason };
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = 1 + bytes[..error.valid_up_to()].iter().filter(|&&byte| byte == b'\n').count();
        damaged(line, "it is not UTF-8".to_owned())
    })?;
    let mut lines = text.lines().enumerate().map(|(index, line)| {
        let number = index + 1;
        serde_json::from_str::<Line>(line)
            .map(|line| (number, line))
            .map_err(|error| damaged(number, error.to_string()))
    });
    let header = match lines.next().transpose()? {
        Some((_, Line::Header(header))) => header,
        Some(_) => return Err(damaged(1, "it does not start with a header line".to_owned())),
        None => return Err(damaged(1, "it has no header".to_owned())),
    };
    let mut records = Records::default();
    for line in lines {
        let (number, line) = line?;
        records.apply(line).map_err(|reason| damaged(number, reason.to_owned()))?;
    }
    Ok((header, records))
}

/// Where a journal file's lines end.
struct Extent {
    /// The end of its complete lines.
    complete: usize,
    /// The end of its lines, a last one cut short included.
    lines_end: usize,
    /// The end of what is not zeros.
    written: usize,
    /// Whether there are zeros before `written`: pages lost in a crash of the
    /// machine (whatever follows was never synced). JSON text has no zero byte.
    gap: bool,
}

/// The extent of a journal file's `bytes`: its lines end at the first zero
/// byte (a writer keeps zeros ahead of its last line).
fn extent(bytes: &[u8]) -> Extent {
    let written = bytes.iter().rposition(|&byte| byte != 0).map_or(0, |at| at + 1);
    let lines_end = bytes[..written].iter().position(|&byte| byte == 0).unwrap_or(written);
    let complete = bytes[..lines_end].iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
    Extent { complete, lines_end, written, gap: lines_end < written }
}

/// Appends `dropped` (what followed zeros in the journal at `path`) to `<path>.dropped`, synced.
fn keep_dropped(path: &Path, dropped: &[u8]) -> Result<(), JournalError> {
    let mut kept = path.as_os_str().to_owned();
    kept.push(".dropped");
    let kept = PathBuf::from(kept);
    let io = |source| JournalError::Io { path: kept.clone(), action: "write", source };
    let mut file = OpenOptions::new().create(true).append(true).open(&kept).map_err(io)?;
    file.write_all(dropped).and_then(|()| file.sync_data()).map_err(io)
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
fn sync_parent_dir(path: &Path) -> Result<(), JournalError> {
    sync_directory_of(path).map_err(|(directory, source)| JournalError::Directory { directory, source })
}

/// Syncs the directory `path` is in, so that a file just created there survives a crash.
pub(crate) fn sync_directory_of(path: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent).and_then(|dir| dir.sync_all()).map_err(|source| (parent.to_owned(), source))?;
    }
    // Windows cannot open a directory as a file to sync it; NTFS journals its metadata.
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM_AHEAD_FOR_TESTS: u64 = file::ROOM_AHEAD;
    use crate::bulk::{ErrorRecord, SentRecipient};
    use crate::sms::Sms;

    fn header(text: &str) -> JobHeader {
        let sms = Sms::new("5000123456", text).to(["09120000000", "09120000001"]).expect("numbers");
        JobHeader::new(&sms, 100, vec!["https://panel.example/post/".into()], "me").source("x.csv")
    }

    fn number(text: &str) -> MobileNumber {
        MobileNumber::parse(text).expect("number")
    }

    fn temp_path(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("payamak-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn a_journal_resumes_with_each_batch_state() {
        let path = temp_path("resume");
        {
            let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            assert!(!journal.resumed());
            journal.record_attempt(0, &[number("09120000000")]).unwrap();
            let sent = SentRecipient { number: "09120000000".into(), rec_id: Some(7), status: Some(0), accepted: true };
            journal.record_outcome(0, &BatchOutcome::Sent { recipients: vec![sent] }).unwrap();
            journal.record_attempt(1, &[number("09120000001")]).unwrap();
        }
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert!(journal.resumed());
        assert!(matches!(journal.batches()[&0].outcome, Some(BatchOutcome::Sent { .. })));
        assert_eq!(journal.batches()[&1], BatchRecord { numbers: vec!["09120000001".into()], outcome: None });
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn a_group_is_written_in_order_and_an_outcome_needs_an_attempt() {
        let path = temp_path("group");
        let (first, second) = ([number("09120000000")], [number("09120000001")]);
        let failed = BatchOutcome::Failed {
            error: ErrorRecord { kind: "transport".into(), code: None, message: "refused".into() },
        };
        {
            let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            journal.record(&[Entry::Attempt { batch: 0, numbers: &first }]).await.unwrap();
            let group = [
                Entry::Outcome { batch: 0, outcome: &failed },
                Entry::Attempt { batch: 1, numbers: &second },
                Entry::Outcome { batch: 1, outcome: &failed },
            ];
            journal.record(&group).await.unwrap();
            let orphan = journal
                .record(&[Entry::Attempt { batch: 2, numbers: &first }, Entry::Outcome { batch: 3, outcome: &failed }])
                .await;
            assert!(matches!(orphan, Err(JournalError::OutcomeWithoutAttempt { batch: 3 })));
            assert!(!journal.batches().contains_key(&2), "nothing of a refused group is kept");
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 5, "the header and four records, the refused group not written:\n{text}");
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert_eq!(journal.batches()[&0].outcome, Some(failed.clone()));
        assert_eq!(journal.batches()[&1].outcome, Some(failed));
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn another_text_is_refused_and_a_cut_line_is_dropped() {
        let path = temp_path("refuse");
        drop(JsonLinesJournal::open(&path, header("hi")).unwrap());
        let error = JsonLinesJournal::open(&path, header("other")).unwrap_err().to_string();
        assert!(error.contains("the text differs") && error.contains("belongs to another send"), "{error}");

        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"type":"attempt","batch":0,"numb"#).unwrap();
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert!(journal.dropped_partial_line());
        assert!(journal.batches().is_empty());
        drop(journal);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_journal_in_use_is_refused() {
        let path = temp_path("locked");
        let first = JsonLinesJournal::open(&path, header("hi")).unwrap();
        let error = JsonLinesJournal::open(&path, header("hi")).unwrap_err();
        assert!(matches!(error, JournalError::InUse { .. }), "{error}");
        assert!(error.to_string().contains("in use"), "{error}");
        drop(first);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn another_panel_or_user_is_refused_naming_both() {
        let path = temp_path("panel");
        drop(JsonLinesJournal::open(&path, JobHeader { endpoints: Vec::new(), ..header("hi") }).unwrap());
        let error = JsonLinesJournal::open(&path, header("hi")).unwrap_err().to_string();
        assert!(
            error.contains("the panel differs (the built-in emulator in the journal, https://panel.example/post/ now)"),
            "{error}"
        );
        assert!(error.contains("--journal FILE"), "{error}");
        std::fs::remove_file(&path).unwrap();

        drop(JsonLinesJournal::open(&path, header("hi")).unwrap());
        let error = JsonLinesJournal::open(&path, JobHeader { username: "you".into(), ..header("hi") })
            .unwrap_err()
            .to_string();
        assert!(error.contains(r#"the user name differs ("me" in the journal, "you" now)"#), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_version_1_journal_is_refused() {
        let path = temp_path("v1");
        let mut old = serde_json::to_value(Line::Header(header("hi"))).unwrap();
        old["version"] = 1.into();
        old.as_object_mut().unwrap().remove("endpoints");
        old.as_object_mut().unwrap().remove("username");
        std::fs::write(&path, format!("{old}\n")).unwrap();
        let error = JsonLinesJournal::open(&path, header("hi")).unwrap_err().to_string();
        assert!(error.contains("journal format version 1"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn only_an_empty_file_or_a_cut_short_header_is_started_afresh() {
        let path = temp_path("cut-header");
        let line = serde_json::to_vec(&Line::Header(header("old"))).unwrap();
        assert!(line.starts_with(HEADER_START), "{}", String::from_utf8_lossy(&line));
        for cut in [0, 1, 5, HEADER_START.len(), line.len() / 2, line.len()] {
            std::fs::write(&path, &line[..cut]).unwrap();
            let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            assert!(!journal.resumed(), "cut at {cut}");
            drop(journal);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(r#""text":"hi""#) && text.ends_with("}\n"), "{text}");
        }
        for other in ["name,mobile", "{\"type\":\"attempt\"", "x"] {
            std::fs::write(&path, other).unwrap();
            let error = JsonLinesJournal::open(&path, header("hi")).unwrap_err().to_string();
            assert!(error.contains("is not a payamak journal") && error.contains(&*path.to_string_lossy()), "{error}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), other, "left as it was");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn damage_is_named_by_line() {
        let path = temp_path("damaged");
        let header_line = serde_json::to_string(&Line::Header(header("hi"))).unwrap();
        let outcome = Line::Outcome {
            batch: 3,
            at: now(),
            result: BatchOutcome::Failed {
                error: ErrorRecord { kind: "input".into(), code: None, message: "x".into() },
            },
        };
        for (text, line, reason) in [
            (format!("{header_line}\nnot json\n"), 2, "expected"),
            (format!("{header_line}\n{header_line}\n"), 2, "a second header"),
            (format!("{header_line}\n{}\n", serde_json::to_string(&outcome).unwrap()), 2, "without an attempt"),
            ("{\"type\":\"attempt\",\"batch\":0,\"numbers\":[],\"at\":\"\"}\n".to_owned(), 1, "header"),
        ] {
            std::fs::write(&path, &text).unwrap();
            let error = JsonLinesJournal::open(&path, header("hi")).unwrap_err();
            let JournalError::Damaged { line: at, reason: why, .. } = &error else { panic!("{error:?}") };
            assert_eq!(*at, line, "{text}");
            assert!(why.contains(reason), "{error}");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_zeros_kept_ahead_are_not_lines_and_a_clean_close_leaves_none() {
        let path = temp_path("zeros");
        {
            let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            journal.record_attempt(0, &[number("09120000000")]).unwrap();
            let length = std::fs::metadata(&path).unwrap().len();
            assert!(length > ROOM_AHEAD_FOR_TESTS / 2, "a durable write leaves room ahead ({length} bytes)");
            let read = JsonLinesJournal::read(&path).unwrap();
            assert_eq!(read.batches.keys().copied().collect::<Vec<_>>(), [0], "a reader skips the zeros");
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n") && !text.contains('\0'), "closed, the file is whole lines");

        // A crash leaves the zeros, after whole lines or a line cut short.
        for (tail, cut) in [(&b""[..], false), (&br#"{"type":"attempt","bat"#[..], true)] {
            let mut file = OpenOptions::new().append(true).open(&path).unwrap();
            file.write_all(tail).unwrap();
            file.write_all(&[0; 4096]).unwrap();
            drop(file);
            let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            assert!(journal.resumed());
            assert_eq!(journal.dropped_partial_line(), cut);
            assert_eq!(journal.batches().keys().copied().collect::<Vec<_>>(), [0]);
            drop(journal);
            assert!(!std::fs::read(&path).unwrap().contains(&0));
        }

        // Nothing but zeros: the header never made it; started afresh.
        std::fs::write(&path, [0; 4096]).unwrap();
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert!(journal.restarted() && journal.batches().is_empty());
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn lines_after_zeros_are_dropped_and_kept_and_nothing_written_ahead_is_withdrawn() {
        let path = temp_path("gap");
        let numbers = [number("09120000000")];
        {
            let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            let ahead = [0, 1].map(|batch| Entry::AttemptAhead { batch, numbers: &numbers });
            journal.record(&ahead).await.unwrap();
        }
        // A crash of the machine lost a page, and kept the one after it.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[0; 512]).unwrap();
        file.write_all(b"{\"type\":\"leaving\",\"batch\":1}\n").unwrap();
        file.write_all(&[0; 512]).unwrap();
        drop(file);

        let read = JsonLinesJournal::read(&path).unwrap();
        assert_eq!(read.batches.keys().copied().collect::<Vec<_>>(), [0, 1], "both unknown, neither withdrawn");
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert!(journal.dropped_after_zeros() && !journal.dropped_partial_line());
        assert!(journal.withdrawn_on_open().is_empty());
        assert!(journal.batches().values().all(|record| record.outcome.is_none()));
        assert_eq!(journal.reconciliation().map(|_| ()), Some(()), "the panel is checked before sending");
        drop(journal);
        let mut kept = path.clone().into_os_string();
        kept.push(".dropped");
        let line = b"{\"type\":\"leaving\",\"batch\":1}\n";
        assert_eq!(std::fs::read(&kept).unwrap(), [&[0; 512][..], line].concat(), "what was dropped, as it was");
        assert!(!std::fs::read(&path).unwrap().contains(&0));
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(&kept).unwrap();
    }

    /// Makes the journal's next disk sync fail, after running `meanwhile`.
    fn fail_next_sync(journal: &JsonLinesJournal, meanwhile: impl FnOnce(&JournalFile) + Send + 'static) {
        let hook: file::SyncHook = Box::new(move |file| {
            meanwhile(file);
            Err(std::io::Error::other("I/O error (test)"))
        });
        *journal.file.sync_instead.lock().unwrap() = Some(hook);
    }

    #[tokio::test]
    async fn a_group_whose_sync_fails_is_cut_off_unless_a_departure_followed_it() {
        let path = temp_path("sync-fails");
        let numbers = [number("09120000000")];
        let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        journal.record(&[Entry::AttemptAhead { batch: 0, numbers: &numbers }]).await.unwrap();
        let lines = || String::from_utf8(std::fs::read(&path).unwrap()).unwrap().trim_end_matches('\0').to_owned();
        let before = lines();

        fail_next_sync(&journal, |_| {});
        let failed = journal.record(&[Entry::AttemptAhead { batch: 1, numbers: &numbers }]).await;
        assert!(matches!(failed, Err(JournalError::Io { action: "sync", .. })), "{failed:?}");
        assert!(!journal.batches().contains_key(&1));
        assert_eq!(lines(), before, "the group is cut off the file");

        // Batch 0 leaves while batch 2's group is being synced: its departure stays.
        let log = journal.unsynced_log().unwrap();
        fail_next_sync(&journal, move |_| log.leaving(0).unwrap());
        let failed = journal.record(&[Entry::AttemptAhead { batch: 2, numbers: &numbers }]).await;
        assert!(failed.is_err());
        let text = lines();
        assert!(text.ends_with("{\"type\":\"leaving\",\"batch\":0}\n"), "{text}");
        assert!(text.contains("\"batch\":2"), "kept, as a cut would take the departure with it: {text}");
        drop(journal);
        let reopened = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert_eq!(reopened.withdrawn_on_open(), [2], "batch 2 never left; batch 0 may have");
        assert_eq!(reopened.batches().keys().copied().collect::<Vec<_>>(), [0]);
        drop(reopened);

        // The run that wrote a group kept so withdraws its batches, as it does those waiting.
        let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        let log = journal.unsynced_log().unwrap();
        fail_next_sync(&journal, move |_| log.leaving(0).unwrap());
        assert!(journal.record(&[Entry::AttemptAhead { batch: 3, numbers: &numbers }]).await.is_err());
        assert!(journal.batches().contains_key(&3), "its attempt is in the file, to be withdrawn");
        journal.record(&[Entry::Withdrawn { batch: 3 }]).await.unwrap();
        assert!(!journal.batches().contains_key(&3));
        assert!(lines().ends_with("{\"type\":\"withdrawn\",\"batch\":3}\n"), "{}", lines());
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn attempts_written_ahead_that_never_left_are_withdrawn_on_the_same_boot_only() {
        let path = temp_path("ahead");
        let numbers = [number("09120000000")];
        {
            let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            let ahead = [0, 1].map(|batch| Entry::AttemptAhead { batch, numbers: &numbers });
            journal.record(&ahead).await.unwrap();
            journal.unsynced_log().expect("Linux says which boot this is").leaving(0).unwrap();
            // The process dies here: batch 0 may have left, batch 1 did not.
        }
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        let other_boot = r#"{"type":"attempt","batch":2,"numbers":["09120000001"],"at":"","boot":"00000000-0000-0000-0000-000000000000"}"#;
        writeln!(file, "{other_boot}").unwrap();

        let read = JsonLinesJournal::read(&path).unwrap();
        assert_eq!(read.batches.keys().copied().collect::<Vec<_>>(), [0, 2], "batch 2's machine went down: unknown");
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert_eq!(journal.withdrawn_on_open(), [1]);
        assert_eq!(journal.batches().keys().copied().collect::<Vec<_>>(), [0, 2]);
        assert!(journal.batches().values().all(|record| record.outcome.is_none()));
        drop(journal);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("{\"type\":\"withdrawn\",\"batch\":1}\n"));
        let again = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert!(again.withdrawn_on_open().is_empty(), "the withdrawal is on record");
        drop(again);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn an_answer_noted_in_the_log_is_synced_with_the_next_group_not_written_twice() {
        let path = temp_path("answered");
        let numbers = [number("09120000000")];
        let failed = BatchOutcome::Failed {
            error: ErrorRecord { kind: "transport".into(), code: None, message: "refused".into() },
        };
        {
            let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
            journal.record(&[Entry::AttemptAhead { batch: 0, numbers: &numbers }]).await.unwrap();
            let log = journal.unsynced_log().unwrap();
            log.leaving(0).unwrap();
            log.answered(0, &failed).unwrap();
            journal.record(&[Entry::Outcome { batch: 0, outcome: &failed }]).await.unwrap();
            assert_eq!(journal.batches()[&0].outcome, Some(failed.clone()));
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(r#""type":"outcome""#).count(), 1, "{text}");
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert_eq!(journal.batches()[&0].outcome, Some(failed));
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_journal_can_be_read_without_being_opened_for_a_run() {
        let path = temp_path("read");
        let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        journal.record_attempt(0, &[number("09120000000")]).unwrap();
        // Read while the run holds it: no lock is needed.
        let contents = JsonLinesJournal::read(&path).unwrap();
        assert_eq!(contents.header.text, "hi");
        assert_eq!(contents.batches[&0].outcome, None);
        drop(journal);
        std::fs::write(&path, "").unwrap();
        assert!(matches!(JsonLinesJournal::read(&path), Err(JournalError::NotAJournal { .. })));
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_that_cannot_be_synced_is_an_error() {
        let error = sync_parent_dir(Path::new("/nonexistent-payamak-dir/x.journal")).unwrap_err();
        assert!(error.to_string().contains("cannot sync the directory"), "{error}");
        sync_parent_dir(Path::new("x.journal")).unwrap();
    }
}
