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
//! at once are written together, with one sync per group (group commit), and
//! a group can be handed over while the one before it is being synced (see
//! `group_commit`). A last line cut short by a crash is dropped when the
//! journal is opened again (it was never synced, so what it described did not
//! finish).

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::group_commit::{self, Group, Writer};
use super::journal::{Entry, Journal, JournalError, Pending};
use super::reconcile::Reconciliation;
use super::record::{now, BatchOutcome, BatchRecord, JobHeader};
use crate::recipient::MobileNumber;

/// How every header line starts: a file holding a prefix of it and no newline
/// is a header cut short by a crash.
const HEADER_START: &[u8] = br#"{"type":"header","#;

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Header(JobHeader),
    Attempt { batch: usize, numbers: Vec<String>, at: String },
    Outcome { batch: usize, at: String, result: BatchOutcome },
}

/// A journal in a file of JSON lines, locked while open, synced at every record.
#[derive(Debug)]
pub struct JsonLinesJournal {
    /// Shared with the blocking thread that writes and syncs groups.
    writer: Arc<Writer>,
    path: PathBuf,
    /// The header in the file: the job's, as its first run wrote it.
    header: JobHeader,
    batches: BTreeMap<usize, BatchRecord>,
    opened: Opened,
    dropped_partial_line: bool,
    /// The groups submitted whose lines are not in `batches` yet, in order.
    unsettled: VecDeque<(Group, Vec<Line>)>,
}

impl Drop for JsonLinesJournal {
    fn drop(&mut self) {
        self.writer.close();
    }
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
        let complete = bytes.iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
        let mut journal = JsonLinesJournal {
            writer: Arc::new(Writer::new(file, path.to_owned())),
            path: path.to_owned(),
            header: header.clone(),
            batches: BTreeMap::new(),
            opened: Opened::New,
            dropped_partial_line: complete < bytes.len(),
            unsettled: VecDeque::new(),
        };
        let writer = Arc::clone(&journal.writer);
        let file = writer.file();
        if complete == 0 {
            // New, or a header cut short (by a crash while it was written, or by
            // damage): start afresh. An existing file is reconciled with the
            // panel (see `reconciliation`), since what it held is lost. Anything
            // else without a newline is not ours to overwrite.
            if !is_cut_short_header(&bytes) {
                return Err(JournalError::NotAJournal { path: path.to_owned() });
            }
            file.set_len(0).map_err(io("write"))?;
            (&*file).seek(SeekFrom::Start(0)).map_err(io("write"))?;
            let line = encode(path, &[Line::Header(header)])?;
            group_commit::write_now(file, path, &line)?;
            sync_parent_dir(path)?;
            journal.opened = if existed { Opened::Restarted } else { Opened::New };
            return Ok(journal);
        }
        // An earlier run may have died before making the journal's directory entry durable.
        sync_parent_dir(path)?;
        journal.opened = Opened::Resumed;
        journal.load(&bytes[..complete], &header)?;
        if journal.dropped_partial_line {
            file.set_len(complete as u64).map_err(io("write"))?;
        }
        (&*file).seek(SeekFrom::End(0)).map_err(io("write"))?;
        Ok(journal)
    }

    fn load(&mut self, bytes: &[u8], current: &JobHeader) -> Result<(), JournalError> {
        let contents = parse(&self.path, bytes)?;
        let differences = contents.header.differences(current);
        if !differences.is_empty() {
            return Err(JournalError::AnotherSend { path: self.path.clone(), differences });
        }
        self.header = contents.header;
        self.batches = contents.batches;
        Ok(())
    }

    /// Reads the journal at `path` without opening it for a run: no lock is
    /// taken and nothing is written. A last line cut short is left out.
    pub fn read(path: impl AsRef<Path>) -> Result<JournalContents, JournalError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| JournalError::Io { path: path.to_owned(), action: "read", source })?;
        let complete = bytes.iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
        if complete == 0 {
            return Err(JournalError::NotAJournal { path: path.to_owned() });
        }
        parse(path, &bytes[..complete])
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

    /// The lines of `entries`; an outcome needs an attempt: in the journal, in a
    /// group submitted before, or before it in the group.
    fn lines_of(&self, entries: &[Entry<'_>]) -> Result<Vec<Line>, JournalError> {
        let at = now();
        let mut attempted = std::collections::HashSet::new();
        entries
            .iter()
            .map(|entry| match *entry {
                Entry::Attempt { batch, numbers } => {
                    attempted.insert(batch);
                    let numbers = numbers.iter().map(|number| number.as_str().to_owned()).collect();
                    Ok(Line::Attempt { batch, numbers, at: at.clone() })
                }
                Entry::Outcome { batch, outcome } => {
                    if !self.batches.contains_key(&batch) && !attempted.contains(&batch) && !self.submitted(batch) {
                        return Err(JournalError::OutcomeWithoutAttempt { batch });
                    }
                    Ok(Line::Outcome { batch, at: at.clone(), result: outcome.clone() })
                }
            })
            .collect()
    }

    /// Whether a group submitted and not settled holds an attempt of `batch`.
    fn submitted(&self, batch: usize) -> bool {
        self.unsettled
            .iter()
            .flat_map(|(_, lines)| lines)
            .any(|line| matches!(line, Line::Attempt { batch: b, .. } if *b == batch))
    }

    /// Hands the lines of `entries` to the writer as the next group, writing
    /// them off this thread when `spawn` and there is a runtime.
    fn submit_group(&mut self, entries: &[Entry<'_>], spawn: bool) -> Result<Group, JournalError> {
        let lines = self.lines_of(entries)?;
        let bytes = encode(&self.path, &lines)?;
        let group = self.writer.submit(bytes, spawn);
        self.unsettled.push_back((group, lines));
        Ok(group)
    }

    /// Writes the group's lines with one write and one disk sync (a group
    /// commit), after the groups submitted before, waiting on this thread.
    fn record_now(&mut self, entries: &[Entry<'_>]) -> Result<(), JournalError> {
        let group = self.submit_group(entries, false)?;
        let written = self.writer.wait(group);
        self.settle();
        written
    }
}

/// Takes written `lines` into `batches`.
fn apply(batches: &mut BTreeMap<usize, BatchRecord>, lines: Vec<Line>) {
    for line in lines {
        match line {
            Line::Attempt { batch, numbers, .. } => {
                batches.insert(batch, BatchRecord { numbers, outcome: None });
            }
            Line::Outcome { batch, result, .. } => {
                if let Some(record) = batches.get_mut(&batch) {
                    record.outcome = Some(result);
                }
            }
            Line::Header(_) => {}
        }
    }
}

/// `lines`, each ending with a newline.
fn encode(path: &Path, lines: &[Line]) -> Result<Vec<u8>, JournalError> {
    let mut bytes = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut bytes, line).map_err(|error| JournalError::Io {
            path: path.to_owned(),
            action: "write",
            source: std::io::Error::other(error),
        })?;
        bytes.push(b'\n');
    }
    Ok(bytes)
}

impl Journal for JsonLinesJournal {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        &self.batches
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        self.record_now(&[Entry::Attempt { batch, numbers }])
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        self.record_now(&[Entry::Outcome { batch, outcome }])
    }

    /// Writes the group's lines with one write and one disk sync (a group
    /// commit), after the groups submitted before, on Tokio's blocking pool
    /// when there is a runtime, so that the run's sends go on meanwhile.
    async fn record(&mut self, entries: &[Entry<'_>]) -> Result<(), JournalError> {
        let group = self.submit_group(entries, true)?;
        let written = self.writer.durable(group).await;
        self.settle();
        written
    }

    /// Queues the group's lines for the writer, which writes every group
    /// waiting with one write and one disk sync, on Tokio's blocking pool when
    /// there is a runtime: a group handed over during a sync is written right
    /// after it, without waiting for the run to see that sync end.
    fn submit(&mut self, entries: &[Entry<'_>]) -> Option<Pending> {
        Some(match self.submit_group(entries, true) {
            Ok(group) => Pending::new(self.writer.durable(group)),
            Err(error) => Pending::ready(Err(error)),
        })
    }

    fn settle(&mut self) {
        let batches = &mut self.batches;
        self.writer.settle(&mut self.unsettled, |lines| apply(batches, lines));
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

/// The header and batches of a journal's complete lines.
fn parse(path: &Path, bytes: &[u8]) -> Result<JournalContents, JournalError> {
    let damaged = |line: usize, reason: String| JournalError::Damaged { path: path.to_owned(), line, reason };
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = 1 + bytes[..error.valid_up_to()].iter().filter(|&&byte| byte == b'\n').count();
        damaged(line, "it is not UTF-8".to_owned())
    })?;
    let mut header = None;
    let mut batches: BTreeMap<usize, BatchRecord> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line: Line = serde_json::from_str(line).map_err(|error| damaged(number, error.to_string()))?;
        match (index, line) {
            (0, Line::Header(written)) => header = Some(written),
            (0, _) => return Err(damaged(1, "it does not start with a header line".to_owned())),
            (_, Line::Header(_)) => return Err(damaged(number, "a second header".to_owned())),
            (_, Line::Attempt { batch, numbers, .. }) => {
                batches.insert(batch, BatchRecord { numbers, outcome: None });
            }
            (_, Line::Outcome { batch, result, .. }) => match batches.get_mut(&batch) {
                Some(record) => record.outcome = Some(result),
                None => return Err(damaged(number, "an outcome without an attempt".to_owned())),
            },
        }
    }
    let header = header.ok_or_else(|| damaged(1, "it has no header".to_owned()))?;
    Ok(JournalContents { header, batches })
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
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| JournalError::Directory { directory: parent.to_owned(), source })?;
    }
    // Windows cannot open a directory as a file to sync it; NTFS journals its metadata.
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use futures_util::FutureExt as _;

    use super::*;
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

    /// Holds the writer up at its next sync until `release` sends what the sync returns.
    fn hold_syncs(
        journal: &JsonLinesJournal,
    ) -> (std::sync::mpsc::Receiver<()>, std::sync::mpsc::Sender<std::io::Result<()>>) {
        let (reached, at_sync) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<std::io::Result<()>>();
        journal.writer.before_sync(move || {
            let _ = reached.send(());
            released.recv().unwrap_or(Ok(()))
        });
        (at_sync, release)
    }

    /// Each line's type and batch.
    fn lines(path: &Path) -> Vec<(String, Option<u64>)> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .map(|line| {
                let line: serde_json::Value = serde_json::from_str(line).unwrap();
                (line["type"].as_str().unwrap().to_owned(), line["batch"].as_u64())
            })
            .collect()
    }

    fn line(kind: &str, batch: u64) -> (String, Option<u64>) {
        (kind.to_owned(), Some(batch))
    }

    #[tokio::test]
    async fn groups_handed_over_during_a_sync_are_written_together_after_it_in_order() {
        let path = temp_path("pipelined");
        let (first, second) = ([number("09120000000")], [number("09120000001")]);
        let sent = BatchOutcome::Failed {
            error: ErrorRecord { kind: "transport".into(), code: None, message: "refused".into() },
        };
        let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        let (at_sync, release) = hold_syncs(&journal);
        let one = journal.submit(&[Entry::Attempt { batch: 0, numbers: &first }]).unwrap();
        at_sync.recv().unwrap();
        // Batch 0's attempt is being synced: the next groups may build on it, and wait.
        let two = journal
            .submit(&[Entry::Outcome { batch: 0, outcome: &sent }, Entry::Attempt { batch: 1, numbers: &second }])
            .unwrap();
        let three = journal.submit(&[Entry::Outcome { batch: 1, outcome: &sent }]).unwrap();
        let mut pending = [one, two, three];
        assert!(pending.iter_mut().all(|group| group.now_or_never().is_none()), "nothing is durable before its sync");
        journal.settle();
        assert!(journal.batches().is_empty(), "a group joins the journal's batches only once durable");

        release.send(Ok(())).unwrap();
        at_sync.recv().unwrap();
        // The second and third groups came in during the first sync: one write, one sync.
        release.send(Ok(())).unwrap();
        let [one, two, three] = pending;
        one.await.unwrap();
        two.await.unwrap();
        three.await.unwrap();
        assert!(at_sync.try_recv().is_err(), "two syncs for three groups");
        journal.settle();
        assert_eq!(journal.batches()[&0].outcome, Some(sent.clone()));
        assert_eq!(journal.batches()[&1].outcome, Some(sent.clone()));
        drop(journal);
        let written = [line("attempt", 0), line("outcome", 0), line("attempt", 1), line("outcome", 1)];
        assert_eq!(lines(&path)[1..], written);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn a_failed_sync_fails_every_group_after_it_and_cuts_off_only_its_own_lines() {
        let path = temp_path("failed-sync");
        let (first, second, third) = ([number("09120000000")], [number("09120000001")], [number("09120000002")]);
        let sent = BatchOutcome::Failed {
            error: ErrorRecord { kind: "transport".into(), code: None, message: "refused".into() },
        };
        let mut journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        journal.record(&[Entry::Attempt { batch: 0, numbers: &first }]).await.unwrap();
        let (at_sync, release) = hold_syncs(&journal);
        let failing = journal
            .submit(&[Entry::Outcome { batch: 0, outcome: &sent }, Entry::Attempt { batch: 1, numbers: &second }])
            .unwrap();
        at_sync.recv().unwrap();
        // Queued during the sync that will fail: it holds an outcome whose attempt is in the failing group.
        let after = journal.submit(&[Entry::Outcome { batch: 1, outcome: &sent }]).unwrap();
        release.send(Err(std::io::Error::other("I/O error (test)"))).unwrap();
        let error = failing.await.unwrap_err();
        assert!(error.to_string().contains("cannot sync the journal"), "{error}");
        assert!(after.await.is_err(), "a group after a failed one is never reported durable");
        // Until the run has seen the failure, the journal takes nothing more.
        let refused = journal.submit(&[Entry::Attempt { batch: 2, numbers: &third }]).unwrap();
        assert!(refused.await.is_err());
        assert_eq!(lines(&path).len(), 2, "the failed group's lines were cut off, the later ones never written");

        journal.settle();
        assert_eq!(journal.batches()[&0].outcome, None);
        assert!(!journal.batches().contains_key(&1) && !journal.batches().contains_key(&2));
        // The run saw it: batch 0's outcome gets another try (its sync not held up).
        drop((at_sync, release));
        journal.record(&[Entry::Outcome { batch: 0, outcome: &sent }]).await.unwrap();
        drop(journal);
        assert_eq!(lines(&path)[1..], [line("attempt", 0), line("outcome", 0)]);
        let journal = JsonLinesJournal::open(&path, header("hi")).unwrap();
        assert_eq!(journal.batches().len(), 1);
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
