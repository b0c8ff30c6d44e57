//! A run over a journal that keeps an unsynced log writes attempts ahead of
//! their turn: each batch leaves only once its attempt is in the journal and
//! its departure noted, and a crash of the process at any moment leaves at
//! most `concurrency` batches sent with no answer in the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use payamak::bulk::{
    BatchOutcome, BatchRecord, BulkJob, BulkObserver, Entry, Flow, JobHeader, Journal, JournalError, JsonLinesJournal,
    NoObserver, UnsyncedLog,
};
use payamak::recipient::MobileNumber;
use payamak::transport::{HttpResponse, PostError};
use payamak::{Client, RetryPolicy};

use super::{sms, statuses, Panel};

/// The 0-based batch a SendSms body is for (its first number is `0912` and the recipient's index).
fn batch_of(body: &[u8]) -> usize {
    let body = String::from_utf8_lossy(body);
    let at = body.find("0912").expect("a number");
    body[at + 4..at + 11].parse::<usize>().expect("an index") / 100
}

/// The journal's lines of `kind`, by batch.
fn batches_with(lines: &[serde_json::Value], kind: &str) -> Vec<usize> {
    lines
        .iter()
        .filter(|line| line["type"] == kind)
        .filter_map(|line| line["batch"].as_u64())
        .map(|b| b as usize)
        .collect()
}

/// The journal's whole lines, as a crash of the process would leave them:
/// while a run writes it, the file ends with zeros kept ahead, and a line
/// being written may be cut short.
fn lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("the journal");
    let text = text.trim_end_matches('\0');
    let whole = text.rfind('\n').map_or("", |end| &text[..=end]);
    whole.lines().map(|line| serde_json::from_str(line).expect("a whole line")).collect()
}

/// The batches whose attempts the journal has synced.
type Synced = Arc<Mutex<BTreeSet<usize>>>;

/// The panel behind a network that answers each batch after a few
/// milliseconds (so that answers come in out of order), and that reads the
/// journal as each request arrives: as a crash of the process would leave it.
#[derive(Debug)]
struct Watching {
    panel: Panel,
    journal: PathBuf,
    concurrency: usize,
    synced: Synced,
}

impl payamak::transport::Transport for Watching {
    fn post<'a>(
        &'a self,
        request: payamak::transport::HttpRequest<'a>,
    ) -> payamak::transport::BoxFuture<'a, Result<HttpResponse, PostError>> {
        Box::pin(async move {
            let batch = batch_of(request.body);
            assert!(self.synced.lock().unwrap().contains(&batch), "batch {batch} left before its attempt was synced");
            let file = lines(&self.journal);
            assert!(batches_with(&file, "attempt").contains(&batch), "batch {batch} left before its attempt");
            assert!(batches_with(&file, "leaving").contains(&batch), "batch {batch} left before its departure");
            let answered = batches_with(&file, "outcome");
            let unanswered: Vec<usize> =
                batches_with(&file, "leaving").into_iter().filter(|left| !answered.contains(left)).collect();
            assert!(
                unanswered.len() <= self.concurrency,
                "batches {unanswered:?} have left with no answer in the journal (concurrency {})",
                self.concurrency
            );
            tokio::time::sleep(Duration::from_millis([3, 1, 5, 2][batch % 4])).await;
            self.panel.answer(request.body)
        })
    }
}

fn client(transport: Watching) -> Client {
    Client::builder()
        .base_url("http://panel.test/post/")
        .credentials("demo", "demo")
        .retry_policy(RetryPolicy::none())
        .transport(std::sync::Arc::new(transport))
        .build()
        .unwrap()
}

fn header(sms: &payamak::Sms) -> JobHeader {
    JobHeader::new(sms, 100, vec!["http://panel.test/post/".into()], "demo")
}

/// Pauses before every tenth batch (from the sixth) for a few milliseconds,
/// while batches written before it wait: answers come in meanwhile.
struct Pacing;

impl BulkObserver for Pacing {
    async fn before_batch(&mut self, batch: usize, _recipients: usize) -> Flow {
        if batch % 10 == 5 {
            tokio::time::sleep(Duration::from_millis(8)).await;
        }
        Flow::Continue
    }
}

/// A JSON-lines journal that tells which attempts it synced, on a disk
/// slower by `delay` a group (while the batches on their way go on).
struct Tracked {
    journal: JsonLinesJournal,
    delay: Duration,
    synced: Synced,
}

impl Journal for Tracked {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.journal.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        self.journal.record_attempt(batch, numbers)?;
        self.synced.lock().unwrap().insert(batch);
        Ok(())
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        self.journal.record_outcome(batch, outcome)
    }

    async fn record(&mut self, entries: &[Entry<'_>]) -> Result<(), JournalError> {
        tokio::time::sleep(self.delay).await;
        self.journal.record(entries).await?;
        for entry in entries {
            if let Entry::Attempt { batch, .. } | Entry::AttemptAhead { batch, .. } = *entry {
                self.synced.lock().unwrap().insert(batch);
            }
        }
        Ok(())
    }

    fn unsynced_log(&self) -> Option<Arc<dyn UnsyncedLog>> {
        self.journal.unsynced_log()
    }
}

#[tokio::test]
async fn each_batch_leaves_once_written_and_noted_with_at_most_the_concurrency_unanswered_in_the_file() {
    each_batch_leaves_once_written_and_noted(&mut NoObserver, Some(9), Duration::ZERO).await;
}

#[tokio::test]
async fn so_it_does_when_an_observer_paces_the_run_and_the_disk_is_slow() {
    each_batch_leaves_once_written_and_noted(&mut Pacing, None, Duration::from_millis(3)).await;
}

/// A run of 30 batches, 3 at a time, that the panel checks as they arrive;
/// `first_write`: how many attempts the first write holds.
async fn each_batch_leaves_once_written_and_noted(
    observer: &mut impl BulkObserver,
    first_write: Option<usize>,
    slower_disk: Duration,
) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ahead.journal");
    let panel = Panel::default();
    let sms = sms(3000);
    let concurrency = 3;
    let synced = Synced::default();
    let client = client(Watching { panel: panel.clone(), journal: path.clone(), concurrency, synced: synced.clone() });
    let journal = JsonLinesJournal::open(&path, header(&sms)).unwrap();
    assert!(journal.unsynced_log().is_some(), "Linux says which boot this is");
    let job = BulkJob::new(&client, &sms).unwrap().concurrency(concurrency);
    let mut tracked = Tracked { journal, delay: slower_disk, synced };
    let report = job.run(&mut tracked, observer).await.unwrap();
    assert!(report.is_complete(), "{:?}", report.failure);
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));

    let file = lines(&path);
    let first_departure = file.iter().position(|line| line["type"] == "leaving").unwrap();
    if let Some(first_write) = first_write {
        assert_eq!(batches_with(&file[..first_departure], "attempt").len(), first_write);
    }
    // At some point attempts were in the file for more batches than had left and could go out at once.
    let waiting = file.iter().scan(0_i64, |waiting, line| {
        *waiting += i64::from(line["type"] == "attempt") - i64::from(line["type"] == "leaving");
        Some(*waiting)
    });
    assert!(waiting.max() > Some(1), "attempts are written ahead");
    for kind in ["attempt", "leaving", "outcome"] {
        let mut batches = batches_with(&file, kind);
        batches.sort_unstable();
        assert_eq!(batches, (0..30).collect::<Vec<_>>(), "one {kind} line a batch");
    }
}

/// Stops the run just before batch `stop_at` leaves.
struct StopBeforeLeaving {
    stop_at: usize,
}

impl BulkObserver for StopBeforeLeaving {
    fn before_leaving(&mut self, batch: usize) -> Flow {
        if batch == self.stop_at {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

#[tokio::test]
async fn batches_written_ahead_that_an_observer_keeps_from_leaving_are_withdrawn() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("stopped.journal");
    let panel = Panel::default();
    let sms = sms(600);
    let synced = Synced::default();
    let client =
        client(Watching { panel: panel.clone(), journal: path.clone(), concurrency: 1, synced: synced.clone() });
    let tracked = |journal| Tracked { journal, delay: Duration::ZERO, synced: synced.clone() };
    {
        let mut journal = tracked(JsonLinesJournal::open(&path, header(&sms)).unwrap());
        let job = BulkJob::new(&client, &sms).unwrap().concurrency(1).write_ahead(3);
        let report = job.run(&mut journal, &mut StopBeforeLeaving { stop_at: 2 }).await.unwrap();
        assert!(report.interrupted && report.journal_failure.is_none());
        use payamak::bulk::BatchStatus::{NotAttempted, Sent};
        assert_eq!(statuses(&report), [Sent, Sent, NotAttempted, NotAttempted, NotAttempted, NotAttempted]);
        assert_eq!(
            journal.batches().keys().copied().collect::<Vec<_>>(),
            [0, 1],
            "the attempts of 2 to 4 are withdrawn"
        );
    }
    assert_eq!(batches_with(&lines(&path), "withdrawn"), [2, 3, 4]);
    assert_eq!(panel.calls(), 2);

    let journal = JsonLinesJournal::open(&path, header(&sms)).unwrap();
    assert!(journal.withdrawn_on_open().is_empty(), "nothing was left for the next run to withdraw");
    let mut journal = tracked(journal);
    let report = BulkJob::new(&client, &sms).unwrap().concurrency(1).run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(report.is_complete());
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
}
