//! The one bulk loop (`BulkJob::run`) over an in-memory panel: resuming, unknown
//! outcomes, refusals, journal failures and observers, with every message counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use payamak::bulk::{
    BatchOutcome, BatchProgress, BatchRecord, BatchStatus, BulkJob, BulkObserver, BulkOutcome, Flow, Journal,
    JournalError, MemoryJournal, NoObserver, Plan, PlanNote, RunError,
};
use payamak::recipient::MobileNumber;
use payamak::send::{SendSmsRequest, SendSmsResponse};
use payamak::server::{encode_response, RequestEnvelope};
use payamak::transport::{HttpResponse, MemoryTransport, PostError};
use payamak::{Client, Error, RetryPolicy, Sms, SoapVersion};

/// What the panel does with the n-th SendSms call it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    /// Success (1), with neither recIds nor status bytes.
    AcceptWithoutRecIds,
    /// Answers with this result code (2: insufficient credit).
    Refuse(i32),
    /// Reads the request, then closes the connection without an answer.
    Drop,
    /// Answers 302 to another host (the base URL is wrong).
    Redirect,
}

/// A panel in memory that counts the messages each number received.
#[derive(Clone, Default)]
struct Panel {
    script: Arc<Mutex<Vec<Answer>>>,
    received: Arc<Mutex<HashMap<String, usize>>>,
    calls: Arc<Mutex<usize>>,
}

impl Panel {
    /// Answers the coming calls with `script`, then accepts.
    fn script(&self, answers: &[Answer]) {
        *self.script.lock().unwrap() = answers.iter().rev().copied().collect();
    }

    fn client(&self) -> Client {
        let panel = self.clone();
        crate::support::memory_client(move |body| panel.answer(body))
    }

    fn answer(&self, body: &[u8]) -> Result<HttpResponse, PostError> {
        let text = std::str::from_utf8(body).map_err(PostError::request)?;
        let request = RequestEnvelope::parse(text).unwrap().decode::<SendSmsRequest>().unwrap().request;
        let numbers: Vec<String> = request.to.unwrap_or_default().into_iter().flatten().collect();
        let answer = self.script.lock().unwrap().pop().unwrap_or(Answer::Accept);
        *self.calls.lock().unwrap() += 1;
        if answer == Answer::Redirect {
            return Ok(HttpResponse::new(302, "").header("Location", "https://new-panel.test/post/send.asmx"));
        }
        let response = match answer {
            Answer::Refuse(code) => SendSmsResponse { send_sms_result: code, ..Default::default() },
            Answer::AcceptWithoutRecIds => {
                let mut received = self.received.lock().unwrap();
                for number in &numbers {
                    *received.entry(number.clone()).or_default() += 1;
                }
                SendSmsResponse { send_sms_result: 1, ..Default::default() }
            }
            Answer::Accept | Answer::Drop | Answer::Redirect => {
                let mut received = self.received.lock().unwrap();
                for number in &numbers {
                    *received.entry(number.clone()).or_default() += 1;
                }
                let rec_ids = (0..numbers.len()).map(|i| 1000 + i as i64).collect();
                SendSmsResponse {
                    send_sms_result: 1,
                    rec_id: Some(rec_ids),
                    status: Some(vec![0; numbers.len()]),
                    ..Default::default()
                }
            }
        };
        if answer == Answer::Drop {
            return Err(PostError::io(true, std::io::Error::other("closed after reading the request")));
        }
        let body = encode_response::<SendSmsRequest>(&response, SoapVersion::V11).unwrap();
        Ok(HttpResponse::new(200, body).header("Content-Type", "text/xml; charset=utf-8"))
    }

    fn received(&self, number: &str) -> usize {
        self.received.lock().unwrap().get(number).copied().unwrap_or(0)
    }

    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

/// A job that sends one batch at a time, so that the panel's script meets the batches in order.
fn sequential<'a>(client: &'a Client, sms: &Sms) -> BulkJob<'a> {
    BulkJob::new(client, sms).unwrap().concurrency(1)
}

fn sms(recipients: usize) -> Sms {
    let numbers: Vec<String> = (0..recipients).map(|i| format!("0912{i:07}")).collect();
    Sms::new("5000123456", "سلام").to(&numbers).unwrap()
}

fn statuses(report: &payamak::bulk::BulkReport) -> Vec<BatchStatus> {
    report.batches.iter().map(|batch| batch.status).collect()
}

#[tokio::test]
async fn a_resumed_job_sends_only_what_was_not_sent_and_never_an_unknown_batch() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(450);
    let mut journal = MemoryJournal::new();

    // Batch 2's answer is lost after the panel read it: the run stops there.
    panel.script(&[Answer::Accept, Answer::Drop]);
    let first = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    use BatchStatus::*;
    assert_eq!(statuses(&first), [Sent, Unknown, NotAttempted, NotAttempted, NotAttempted]);
    assert!(matches!(first.failure, Some((1, Error::OutcomeUnknown(_)))), "{:?}", first.failure);
    assert!(first.recipients[100..200].iter().all(|r| r.outcome == BulkOutcome::Unknown));

    // Resuming sends batches 3 to 5, and not batch 2.
    let second = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert_eq!(statuses(&second), [Sent, Unknown, Sent, Sent, Sent]);
    assert_eq!(panel.calls(), 5);
    assert!(second.batches[2].this_run && !second.batches[0].this_run);
    for (index, number) in sms.recipients().iter().enumerate() {
        assert_eq!(panel.received(number.as_str()), 1, "recipient #{index}");
    }

    // Only when told to is the unknown batch sent again (its recipients get it twice).
    let plan = sequential(&client, &sms).resend_unknown(true).plan(&journal);
    assert_eq!(plan.to_send, [1]);
    assert_eq!(plan.notes, [PlanNote::ResendingUnknown { batch: 1, recipients: 100 }]);
    let third = sequential(&client, &sms).resend_unknown(true).run(&mut journal, &mut NoObserver).await;
    assert!(third.unwrap().is_complete());
    assert_eq!(panel.received(sms.recipients()[150].as_str()), 2);
    assert_eq!(panel.received(sms.recipients()[250].as_str()), 1);
}

#[tokio::test]
async fn a_refused_batch_is_definitely_unsent_and_the_next_run_sends_it() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(250);
    let mut journal = MemoryJournal::new();
    panel.script(&[Answer::Accept, Answer::Refuse(2)]);
    let first = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert_eq!(statuses(&first), [BatchStatus::Sent, BatchStatus::Refused, BatchStatus::NotAttempted]);
    assert_eq!((first.batches[1].refused, first.batches[1].error.as_ref().unwrap().code), (100, Some(2)));
    assert!(first.recipients[100..200].iter().all(|r| r.outcome == BulkOutcome::NotSent));

    let job = sequential(&client, &sms);
    let plan = job.plan(&journal);
    assert_eq!(plan.to_send, [1, 2]);
    assert!(matches!(&plan.notes[..], [PlanNote::ResendingFailed { batch: 1, recipients: 100, .. }]));
    let second = job.run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(second.is_complete());
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
}

/// A journal whose writes fail at one batch.
struct Failing {
    inner: MemoryJournal,
    attempt_fails_at: Option<usize>,
    outcome_fails_at: Option<usize>,
}

impl Journal for Failing {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.inner.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        if self.attempt_fails_at == Some(batch) {
            return Err(JournalError::Other("disk full".into()));
        }
        self.inner.record_attempt(batch, numbers)
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        if self.outcome_fails_at == Some(batch) {
            return Err(JournalError::Other("disk full".into()));
        }
        self.inner.record_outcome(batch, outcome)
    }
}

#[tokio::test]
async fn a_batch_whose_attempt_cannot_be_journaled_is_not_sent() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(250);
    let mut journal = Failing { inner: MemoryJournal::new(), attempt_fails_at: Some(1), outcome_fails_at: None };
    let report = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    let failure = report.journal_failure.as_ref().unwrap();
    assert_eq!((&failure.outcomes_not_written[..], &failure.not_sent[..], failure.sent()), (&[][..], &[1][..], false));
    assert_eq!(panel.calls(), 1, "only batch 1 reached the panel");
    assert_eq!(statuses(&report), [BatchStatus::Sent, BatchStatus::NotAttempted, BatchStatus::NotAttempted]);
}

#[tokio::test]
async fn a_sent_batch_whose_outcome_cannot_be_journaled_is_reported_sent_then_unknown_and_never_resent() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(250);
    let mut journal = Failing { inner: MemoryJournal::new(), attempt_fails_at: None, outcome_fails_at: Some(0) };
    let report = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    let failure = report.journal_failure.as_ref().unwrap();
    // Batch 2's attempt was in the same group commit as batch 1's outcome: it was not sent.
    assert_eq!((&failure.outcomes_not_written[..], &failure.not_sent[..], failure.sent()), (&[0][..], &[1][..], true));
    assert_eq!(panel.calls(), 1);
    // This run knows batch 1 was sent, and says so; only the journal lacks it.
    assert_eq!(statuses(&report), [BatchStatus::Sent, BatchStatus::NotAttempted, BatchStatus::NotAttempted]);
    assert!(report.batches[0].this_run);
    assert!(report.recipients[..100].iter().all(|r| matches!(r.outcome, BulkOutcome::Accepted { rec_id: Some(_) })));

    journal.outcome_fails_at = None;
    let resumed = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert_eq!(statuses(&resumed), [BatchStatus::Unknown, BatchStatus::Sent, BatchStatus::Sent]);
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
}

/// Stops before the batch `stop_at`, and records what it saw.
#[derive(Default)]
struct Stopping {
    stop_at: usize,
    planned: Option<Plan>,
    started: Vec<usize>,
    finished: Vec<usize>,
}

impl BulkObserver for Stopping {
    fn planned(&mut self, plan: &Plan) {
        self.planned = Some(plan.clone());
    }

    async fn before_batch(&mut self, batch: usize, _recipients: usize) -> Flow {
        self.started.push(batch);
        if batch == self.stop_at {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    fn after_batch(&mut self, progress: BatchProgress<'_>) {
        assert!(progress.result.is_ok());
        self.finished.push(progress.batch);
    }
}

#[tokio::test]
async fn an_observer_sees_every_batch_and_can_stop_the_run() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(350);
    let mut observer = Stopping { stop_at: 2, ..Stopping::default() };
    let report = sequential(&client, &sms).run(&mut MemoryJournal::new(), &mut observer).await.unwrap();
    assert!(report.interrupted);
    assert_eq!(observer.planned.unwrap().to_send, [0, 1, 2, 3]);
    assert_eq!((observer.started, observer.finished), (vec![0, 1, 2], vec![0, 1]));
    assert_eq!(panel.calls(), 2);
    assert_eq!(statuses(&report)[2..], [BatchStatus::NotAttempted, BatchStatus::NotAttempted]);
}

#[tokio::test]
async fn a_journal_of_other_recipients_is_refused_before_anything_is_sent() {
    let panel = Panel::default();
    let client = panel.client();
    let mut journal = MemoryJournal::new();
    sequential(&client, &sms(150)).run(&mut journal, &mut NoObserver).await.unwrap();
    let other: Vec<String> = (0..150).map(|i| format!("0935{i:07}")).collect();
    let other = Sms::new("5000123456", "سلام").to(&other).unwrap();
    let error = sequential(&client, &other).run(&mut journal, &mut NoObserver).await.unwrap_err();
    assert!(matches!(error, RunError::Journal(JournalError::OtherRecipients { batch: 0 })), "{error}");
    assert_eq!(panel.calls(), 2);
}

#[tokio::test]
async fn an_unconfirmed_answer_is_neither_accepted_nor_refused() {
    let reply = SendSmsResponse {
        send_sms_result: 42,
        rec_id: Some(vec![9, 10]),
        status: Some(vec![0, 0]),
        ..Default::default()
    };
    let body = encode_response::<SendSmsRequest>(&reply, SoapVersion::V11).unwrap();
    let client = Client::builder()
        .base_url("http://panel.test/post/")
        .credentials("demo", "demo")
        .transport(MemoryTransport::new(move |_| Ok(HttpResponse::new(200, body.clone()))))
        .build()
        .unwrap();
    let report = client.send_bulk(&sms(2)).await.unwrap();
    assert!(report.recipients.iter().all(|r| r.outcome == BulkOutcome::Unconfirmed), "{report:?}");
    assert_eq!((report.batches[0].unconfirmed, report.batches[0].refused), (2, 0));
}

#[tokio::test]
async fn a_json_lines_journal_resumes_across_processes() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(250);
    let path = std::env::temp_dir().join(format!("payamak-bulk-it-{}.journal", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let header = || payamak::bulk::JobHeader::new(&sms, 100, vec!["http://panel.test/post/".into()], "demo");
    {
        let mut journal = payamak::bulk::JsonLinesJournal::open(&path, header()).unwrap();
        let mut observer = Stopping { stop_at: 1, ..Stopping::default() };
        sequential(&client, &sms).run(&mut journal, &mut observer).await.unwrap();
    }
    let mut journal = payamak::bulk::JsonLinesJournal::open(&path, header()).unwrap();
    assert!(journal.resumed());
    let report = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(report.is_complete());
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
    drop(journal);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_success_without_rec_ids_is_an_accepted_batch_that_cannot_be_tracked() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(150);
    panel.script(&[Answer::AcceptWithoutRecIds]);
    let mut journal = MemoryJournal::new();
    let report = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(report.is_complete(), "{:?}", report.batches);
    assert_eq!((report.batches[0].accepted, report.batches[0].untracked), (100, 100));
    assert_eq!((report.batches[1].accepted, report.batches[1].untracked), (50, 0));
    assert_eq!(report.recipients[0].outcome, BulkOutcome::Accepted { rec_id: None });
    assert_eq!(report.rec_id_batches().iter().map(Vec::len).collect::<Vec<_>>(), [50]);
    // Nothing is sent again.
    let resumed = sequential(&client, &sms).plan(&journal);
    assert!(resumed.to_send.is_empty());
}

#[tokio::test]
async fn a_redirected_batch_is_reported_and_not_posted_again_unasked() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(250);
    let mut journal = MemoryJournal::new();
    panel.script(&[Answer::Accept, Answer::Redirect]);
    let first = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert_eq!(statuses(&first), [BatchStatus::Sent, BatchStatus::Redirected, BatchStatus::NotAttempted]);
    let error = first.batches[1].error.as_ref().unwrap();
    assert!(error.is_redirect() && error.message.contains("new-panel.test"), "{error:?}");
    assert_eq!(panel.calls(), 2);

    // A resume sends batch 3, and does not post batch 2 again.
    let second = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert_eq!(statuses(&second), [BatchStatus::Sent, BatchStatus::Redirected, BatchStatus::Sent]);
    assert_eq!(panel.calls(), 3);
    // Only when told to.
    let job = sequential(&client, &sms).resend_unknown(true);
    assert!(matches!(&job.plan(&journal).notes[..], [PlanNote::ResendingRedirected { batch: 1, .. }]));
    let third = job.run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(third.is_complete());
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
}

#[tokio::test]
async fn a_job_that_lost_its_journal_finds_its_sends_on_the_panel() {
    use payamak::bulk::Reconciliation;
    use payamak_emulator::{Emulator, IN_PROCESS_BASE_URL};

    let emulator = Emulator::builder().build().handle();
    let client = Client::builder()
        .base_url(IN_PROCESS_BASE_URL)
        .credentials("demo", "demo")
        .transport(emulator.transport())
        .build()
        .unwrap();
    let sms = Sms::new("5000123456", "یادآوری جلسه").to(["09121111111", "09122222222"]).unwrap();
    let first = sequential(&client, &sms).run(&mut MemoryJournal::new(), &mut NoObserver).await.unwrap();
    assert!(first.is_complete());

    // A run with a journal that lost everything: the panel shows the batch was sent.
    let job = sequential(&client, &sms).reconcile_with_panel(Reconciliation::AllTime);
    let mut journal = MemoryJournal::new();
    let mut observer = Stopping { stop_at: usize::MAX, ..Stopping::default() };
    let second = job.run(&mut journal, &mut observer).await.unwrap();
    assert_eq!(statuses(&second), [BatchStatus::Unknown]);
    let plan = observer.planned.unwrap();
    assert!(plan.to_send.is_empty());
    assert!(matches!(&plan.notes[..], [PlanNote::FoundOnThePanel { batch: 0, recipients: 2, found: 2 }]));
    assert_eq!(emulator.account_snapshot("demo").unwrap().sent.len(), 2, "nothing was sent twice");
    // Only sends since the job began count: an older identical send is not this job's.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let job = sequential(&client, &sms).reconcile_with_panel(Reconciliation::Since(later));
    assert_eq!(job.run(&mut MemoryJournal::new(), &mut NoObserver).await.unwrap().accepted().count(), 2);
}

/// The panel behind a network that takes `delay` per call, except for batches
/// with `fast` in them; counts the calls on their way at once.
#[derive(Debug)]
struct Slow {
    panel: Panel,
    delay: std::time::Duration,
    refuse_fast: Option<&'static str>,
    in_flight: std::sync::atomic::AtomicUsize,
    most_in_flight: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Panel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Panel")
    }
}

impl Slow {
    fn new(panel: &Panel, delay_ms: u64) -> Arc<Self> {
        Arc::new(Slow {
            panel: panel.clone(),
            delay: std::time::Duration::from_millis(delay_ms),
            refuse_fast: None,
            in_flight: Default::default(),
            most_in_flight: Default::default(),
        })
    }

    fn client(self: &Arc<Self>) -> Client {
        Client::builder()
            .base_url("http://panel.test/post/")
            .credentials("demo", "demo")
            .retry_policy(RetryPolicy::none())
            .transport(self.clone())
            .build()
            .unwrap()
    }

    fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl payamak::transport::Transport for Slow {
    fn post<'a>(
        &'a self,
        request: payamak::transport::HttpRequest<'a>,
    ) -> payamak::transport::BoxFuture<'a, Result<HttpResponse, PostError>> {
        use std::sync::atomic::Ordering::SeqCst;
        Box::pin(async move {
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.most_in_flight.fetch_max(now, SeqCst);
            let body = String::from_utf8_lossy(request.body).into_owned();
            let refused = self.refuse_fast.is_some_and(|number| body.contains(number));
            if !refused {
                tokio::time::sleep(self.delay).await;
            }
            self.in_flight.fetch_sub(1, SeqCst);
            if refused {
                let reply = SendSmsResponse { send_sms_result: 2, ..Default::default() };
                let body = encode_response::<SendSmsRequest>(&reply, SoapVersion::V11).unwrap();
                return Ok(HttpResponse::new(200, body).header("Content-Type", "text/xml; charset=utf-8"));
            }
            self.panel.answer(request.body)
        })
    }
}

#[tokio::test]
async fn batches_go_out_up_to_the_concurrency_at_once_and_each_exactly_once() {
    let panel = Panel::default();
    let slow = Slow::new(&panel, 20);
    let client = slow.client();
    let sms = sms(1000);
    let mut journal = MemoryJournal::new();
    let report = BulkJob::new(&client, &sms).unwrap().concurrency(3).run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(report.is_complete());
    assert_eq!(slow.most_in_flight(), 3);
    assert_eq!(panel.calls(), 10);
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
    assert!(journal.batches().values().all(|record| matches!(record.outcome, Some(BatchOutcome::Sent { .. }))));
    assert!(report.batches.iter().all(|batch| batch.this_run && batch.accepted == 100));
}

#[tokio::test]
async fn a_failed_batch_stops_new_ones_while_those_on_their_way_finish() {
    let panel = Panel::default();
    let slow = Arc::new(Slow { refuse_fast: Some("09120000150"), ..Arc::into_inner(Slow::new(&panel, 50)).unwrap() });
    let client = slow.client();
    let sms = sms(1000);
    let job = BulkJob::new(&client, &sms).unwrap().concurrency(3);
    let report = job.run(&mut MemoryJournal::new(), &mut NoObserver).await.unwrap();
    use BatchStatus::*;
    // Batch 2 is refused at once; batches 1 and 3 were already on their way.
    assert_eq!(statuses(&report)[..4], [Sent, Refused, Sent, NotAttempted]);
    assert!(statuses(&report)[3..].iter().all(|status| *status == NotAttempted));
    assert!(matches!(report.failure, Some((1, Error::Rejected(_)))), "{:?}", report.failure);
    assert_eq!(panel.calls(), 2);
}

/// Counts the group writes of a memory journal.
#[derive(Default)]
struct Counting {
    inner: MemoryJournal,
    writes: usize,
}

impl Journal for Counting {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.inner.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        self.writes += 1;
        self.inner.record_attempt(batch, numbers)
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        self.writes += 1;
        self.inner.record_outcome(batch, outcome)
    }

    async fn record(&mut self, entries: &[payamak::bulk::Entry<'_>]) -> Result<(), JournalError> {
        self.writes += 1;
        self.inner.record(entries).await
    }
}

#[tokio::test]
async fn a_batch_outcome_and_the_next_attempt_share_one_journal_write() {
    let panel = Panel::default();
    let client = panel.client();
    let sms = sms(1000);
    let mut journal = Counting::default();
    let report = sequential(&client, &sms).run(&mut journal, &mut NoObserver).await.unwrap();
    assert!(report.is_complete());
    // The first attempt, nine outcome-and-next-attempt pairs, and the last outcome.
    assert_eq!(journal.writes, 11, "one durable write per batch, not two");

    let slow = Slow::new(&panel, 20);
    let client = slow.client();
    let mut journal = Counting::default();
    let job = BulkJob::new(&client, &sms).unwrap().concurrency(4);
    assert!(job.run(&mut journal, &mut NoObserver).await.unwrap().is_complete());
    assert!(journal.writes <= 11, "{} writes", journal.writes);
}

/// The groups a [`Held`] journal was given: which batches' attempts and
/// outcomes each holds, and whether the test let it complete.
#[derive(Debug, Clone, Default)]
struct Holds(Arc<Mutex<Vec<HeldGroup>>>);

#[derive(Debug)]
struct HeldGroup {
    attempts: Vec<usize>,
    outcomes: Vec<usize>,
    release: Option<tokio::sync::oneshot::Sender<()>>,
    recorded: bool,
}

impl Holds {
    fn given(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn group(&self, group: usize) -> (Vec<usize>, Vec<usize>) {
        let groups = self.0.lock().unwrap();
        (groups[group].attempts.clone(), groups[group].outcomes.clone())
    }

    /// Lets `group` complete.
    fn release(&self, group: usize) {
        let mut groups = self.0.lock().unwrap();
        groups[group].recorded = true;
        let _ = groups[group].release.take().unwrap().send(());
    }

    /// Whether a group holding `batch`'s attempt (or outcome) completed.
    fn recorded(&self, batch: usize, outcome: bool) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|group| group.recorded && if outcome { &group.outcomes } else { &group.attempts }.contains(&batch))
    }
}

/// A memory journal whose group writes complete only when the test releases them.
#[derive(Default)]
struct Held {
    inner: MemoryJournal,
    holds: Holds,
}

impl Journal for Held {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        self.inner.batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        self.inner.record_attempt(batch, numbers)
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        self.inner.record_outcome(batch, outcome)
    }

    async fn record(&mut self, entries: &[payamak::bulk::Entry<'_>]) -> Result<(), JournalError> {
        use payamak::bulk::Entry;
        let (release, released) = tokio::sync::oneshot::channel();
        let mut group =
            HeldGroup { attempts: Vec::new(), outcomes: Vec::new(), release: Some(release), recorded: false };
        for entry in entries {
            match *entry {
                Entry::Attempt { batch, .. } | Entry::AttemptAhead { batch, .. } => group.attempts.push(batch),
                Entry::Outcome { batch, .. } => group.outcomes.push(batch),
                _ => {}
            }
        }
        self.holds.0.lock().unwrap().push(group);
        released.await.map_err(|_| JournalError::Other("never released".into()))?;
        self.inner.record(entries).await
    }
}

/// The panel behind a network that answers batch 1 after 100 ms and the others
/// at once, and fails the test if a batch arrives before its attempt was recorded.
#[derive(Debug)]
struct Checked(Panel, Holds);

impl payamak::transport::Transport for Checked {
    fn post<'a>(
        &'a self,
        request: payamak::transport::HttpRequest<'a>,
    ) -> payamak::transport::BoxFuture<'a, Result<HttpResponse, PostError>> {
        Box::pin(async move {
            let body = String::from_utf8_lossy(request.body);
            let at = body.find("0912").unwrap();
            let batch = body[at + 4..at + 11].parse::<usize>().unwrap() / 100;
            assert!(self.1.recorded(batch, false), "batch {batch} left before its attempt was recorded");
            if batch == 1 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            self.0.answer(request.body)
        })
    }
}

/// Fails the test if a batch is reported before its outcome was recorded.
struct Reported(Holds, Vec<usize>);

impl BulkObserver for Reported {
    fn after_batch(&mut self, progress: BatchProgress<'_>) {
        assert!(self.0.recorded(progress.batch, true), "batch {} reported before its outcome", progress.batch);
        self.1.push(progress.batch);
    }
}

/// Waits until the journal was given group `group` (or the run ended).
async fn wait_for_group(holds: &Holds, done: &std::sync::atomic::AtomicBool, group: usize) {
    for _ in 0..5000 {
        if holds.given() > group || done.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("no group {group}");
}

#[tokio::test]
async fn a_batch_leaves_only_once_its_attempt_is_recorded_and_is_reported_only_once_its_outcome_is() {
    let (panel, holds) = (Panel::default(), Holds::default());
    let client = Client::builder()
        .base_url("http://panel.test/post/")
        .credentials("demo", "demo")
        .retry_policy(RetryPolicy::none())
        .transport(Arc::new(Checked(panel.clone(), holds.clone())))
        .build()
        .unwrap();
    let sms = sms(500);
    let mut journal = Held { holds: holds.clone(), ..Held::default() };
    let mut observer = Reported(holds.clone(), Vec::new());
    let job = BulkJob::new(&client, &sms).unwrap().concurrency(2);
    let done = std::sync::atomic::AtomicBool::new(false);
    let run = async {
        let report = job.run(&mut journal, &mut observer).await.unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        report
    };
    let drive = async {
        wait_for_group(&holds, &done, 0).await;
        assert_eq!((holds.group(0), panel.calls()), (((vec![0, 1]), vec![]), 0));
        holds.release(0);
        // Batch 0 is answered at once: its outcome goes with batch 2's attempt,
        // and neither moves until that group is recorded.
        wait_for_group(&holds, &done, 1).await;
        assert_eq!(holds.group(1), (vec![2], vec![0]));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert_eq!(panel.calls(), 1, "batch 1 is on its way, and batch 2 waits for its attempt");
        let mut group = 1;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            if holds.given() > group {
                holds.release(group);
                group += 1;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    let (report, ()) = tokio::join!(run, drive);
    assert!(report.is_complete());
    assert!(sms.recipients().iter().all(|number| panel.received(number.as_str()) == 1));
    observer.1.sort_unstable();
    assert_eq!(observer.1, [0, 1, 2, 3, 4]);
}

/// Runs whose attempts are written ahead of their turn.
mod ahead;
