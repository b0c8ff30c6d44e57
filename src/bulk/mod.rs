//! Sending one text to any number of recipients, in calls of at most 100, so
//! that nobody gets it twice.
//!
//! Every bulk send goes through one loop, [`BulkJob::run`]. For each batch it
//! records the attempt in a [`Journal`] (durably, before any byte of the batch
//! leaves), sends the batch, and records the outcome; up to
//! [`DEFAULT_CONCURRENCY`] batches are on their way at once, and their records
//! are group-committed. A batch that fails stops the run from starting more. Run again over the same journal, a job resumes: batches that
//! were sent are not sent again, batches that definitely were not are, and a
//! batch whose outcome is unknown (an attempt without an outcome, or an answer
//! that was lost) is never sent again unless the job is told to
//! ([`BulkJob::resend_unknown`]).
//!
//! [`Client::send_bulk`] runs a job over a [`MemoryJournal`]. For a send that
//! must survive a crash, run it over a [`JsonLinesJournal`] (feature `journal`),
//! as the `payamak send-bulk` command does:
//!
//! ```no_run
//! # #[cfg(feature = "journal")]
//! # async fn demo(client: payamak::Client, sms: payamak::Sms) -> Result<(), Box<dyn std::error::Error>> {
//! use payamak::bulk::{BulkJob, JobHeader, JsonLinesJournal, NoObserver};
//! use payamak::sms::MAX_RECIPIENTS_PER_CALL;
//!
//! let endpoints = client.base_urls().map(str::to_owned).collect();
//! let header = JobHeader::new(&sms, MAX_RECIPIENTS_PER_CALL, endpoints, client.username());
//! let mut journal = JsonLinesJournal::open("campaign.journal", header)?;
//! let report = BulkJob::new(&client, &sms)?.run(&mut journal, &mut NoObserver).await?;
//! println!("{} of {} accepted", report.accepted().count(), report.recipients.len());
//! # Ok(()) }
//! ```

mod journal;
#[cfg(feature = "journal")]
mod json_lines;
mod reconcile;
mod record;
mod report;

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use futures_util::stream::{FuturesUnordered, StreamExt as _};
use futures_util::FutureExt as _;

pub use journal::{Entry, Journal, JournalError, MemoryJournal, UnsyncedLog};
#[cfg(feature = "json-lines-store")]
pub(crate) use json_lines::sync_directory_of;
#[cfg(feature = "journal")]
#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
pub use json_lines::{JournalContents, JsonLinesJournal};
pub use reconcile::Reconciliation;
pub(crate) use reconcile::{found_on_the_panel, received_on_the_panel};
pub use record::{
    BatchOutcome, BatchRecord, ErrorRecord, JobHeader, RecipientsFingerprint, SentRecipient, JOURNAL_VERSION,
};
use report::Unjournaled;
pub use report::{BatchStatus, BatchSummary, BulkOutcome, BulkRecipient, BulkReport, JournalFailure};

use crate::error::{Error, InputError};
use crate::sms::{SendReport, Sms, MAX_RECIPIENTS_PER_CALL};
use crate::Client;

/// How many batches a [`BulkJob`] sends at once unless told otherwise: enough
/// to hide a round trip to the panel, few enough to be kind to it.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A bulk send: one text, its recipients in batches of at most 100, and the client to send them with.
#[derive(Debug)]
pub struct BulkJob<'a> {
    client: &'a Client,
    batches: Vec<Sms>,
    concurrency: usize,
    /// Unless set, twice the concurrency.
    write_ahead: Option<usize>,
    resend_unknown: bool,
    reconciliation: Option<Reconciliation>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The journal belongs to another send, or could not be written.
    #[error(transparent)]
    Journal(JournalError),
    /// The panel's sent messages could not be read to check what the journal
    /// may have lost; nothing was sent.
    #[error("cannot check the panel's sent messages before sending (nothing was sent)")]
    Reconciliation(#[source] Error),
}

/// Which batches a run sends, and what it says about them first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The batches to send, in order.
    pub to_send: Vec<usize>,
    /// Batches an earlier run started that this run sends again.
    pub notes: Vec<PlanNote>,
}

/// A batch an earlier run started that a run sends again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanNote {
    /// An earlier run definitely did not send it.
    ResendingFailed {
        /// The 0-based batch.
        batch: usize,
        /// Its recipients.
        recipients: usize,
        /// Why it was not sent.
        error: ErrorRecord,
    },
    /// An earlier run's request for it was redirected, and the job was told to
    /// resend batches that need a decision.
    ResendingRedirected {
        /// The 0-based batch.
        batch: usize,
        /// Its recipients.
        recipients: usize,
        /// The redirect.
        error: ErrorRecord,
    },
    /// Its outcome is unknown, and the job was told to resend such batches:
    /// its recipients may get the message twice.
    ResendingUnknown {
        /// The 0-based batch.
        batch: usize,
        /// Its recipients.
        recipients: usize,
    },
    /// The journal says it was not sent, but the panel's sent messages show
    /// `found` of its recipients received this text: it is recorded as
    /// unknown and not sent (see [`BulkJob::reconcile_with_panel`]).
    FoundOnThePanel {
        /// The 0-based batch.
        batch: usize,
        /// Its recipients.
        recipients: usize,
        /// How many of them the panel shows received the text.
        found: usize,
    },
}

impl PlanNote {
    /// The 0-based batch the note is about.
    pub fn batch(&self) -> usize {
        match self {
            PlanNote::ResendingFailed { batch, .. }
            | PlanNote::ResendingRedirected { batch, .. }
            | PlanNote::ResendingUnknown { batch, .. }
            | PlanNote::FoundOnThePanel { batch, .. } => *batch,
        }
    }
}

/// Whether a run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Send the batch.
    Continue,
    /// Stop before the batch; the report says the run was interrupted.
    Stop,
}

/// Progress of a bulk send, reported after each batch.
#[derive(Debug)]
pub struct BatchProgress<'a> {
    /// The 0-based index of the batch just finished.
    pub batch: usize,
    /// The number of batches.
    pub batches: usize,
    /// Its result.
    pub result: Result<&'a SendReport, &'a Error>,
}

/// Follows (and may pace or stop) a run: progress bars, pauses between
/// batches, cancellation. Every method has a default that does nothing.
pub trait BulkObserver: Send {
    /// Called once, before anything is sent.
    fn planned(&mut self, plan: &Plan) {
        let _ = plan;
    }

    /// Called before batch `batch` (of `recipients` recipients) is journaled and sent.
    ///
    /// With attempts written ahead ([`BulkJob::write_ahead`]) a batch is
    /// journaled after this and leaves later, once a place frees. While this
    /// makes the run wait, no batch leaves (answers are still taken in), and
    /// a batch it made wait is journaled at once, without waiting for more
    /// batches to be picked; batches still leave in order.
    fn before_batch(&mut self, batch: usize, recipients: usize) -> impl Future<Output = Flow> + Send {
        let _ = (batch, recipients);
        std::future::ready(Flow::Continue)
    }

    /// Called just before a batch written ahead ([`BulkJob::write_ahead`])
    /// leaves, which may be a while after [`before_batch`](Self::before_batch)
    /// for it: [`Flow::Stop`] keeps it and the batches after it from leaving
    /// and stops the run, as from `before_batch`.
    fn before_leaving(&mut self, batch: usize) -> Flow {
        let _ = batch;
        Flow::Continue
    }

    /// Called after each batch sent, once its outcome was journaled (or could not be).
    fn after_batch(&mut self, progress: BatchProgress<'_>) {
        let _ = progress;
    }
}

/// An observer that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl BulkObserver for NoObserver {}

/// Calls a function after each batch.
struct AfterEachBatch<F>(F);

impl<F: FnMut(BatchProgress<'_>) + Send> BulkObserver for AfterEachBatch<F> {
    fn after_batch(&mut self, progress: BatchProgress<'_>) {
        (self.0)(progress);
    }
}

impl<'a> BulkJob<'a> {
    /// A job sending `sms` to all its recipients with `client`, in batches of
    /// [`MAX_RECIPIENTS_PER_CALL`].
    pub fn new(client: &'a Client, sms: &Sms) -> Result<Self, InputError> {
        if sms.recipients().is_empty() {
            return Err(InputError::NoRecipients);
        }
        let batches = sms.batches(MAX_RECIPIENTS_PER_CALL).collect();
        Ok(BulkJob {
            client,
            batches,
            concurrency: DEFAULT_CONCURRENCY,
            write_ahead: None,
            resend_unknown: false,
            reconciliation: None,
        })
    }

    /// How many batches may be on their way to the panel at once (at least 1;
    /// [`DEFAULT_CONCURRENCY`] unless set). With 1, a batch is sent only after
    /// the one before it was answered.
    #[must_use]
    pub fn concurrency(mut self, batches: usize) -> Self {
        self.concurrency = batches.max(1);
        self
    }

    /// How many batches' attempts may be recorded ahead of their turn, with a
    /// journal that notes departures ([`Journal::unsynced_log`], as
    /// `JsonLinesJournal` does on Linux); twice the concurrency unless set.
    ///
    /// A batch written ahead leaves the moment a place frees, so the run does
    /// not wait for a disk sync between one batch's answer and the next one's
    /// request; each still leaves only after its attempt is on disk. If the
    /// process dies, the batches written ahead that had not left are known not
    /// to have, and a new run sends them. If the machine goes down, they are
    /// unknown, like the batches on their way: up to this many more batches
    /// needing a person's decision. With 0, each attempt is recorded just
    /// before its batch leaves.
    #[must_use]
    pub fn write_ahead(mut self, batches: usize) -> Self {
        self.write_ahead = Some(batches);
        self
    }

    /// Before sending, looks every batch it would send up in the panel's sent
    /// messages (those within `with`), and records as unknown, instead of
    /// sending, any batch with a recipient that already received this text.
    ///
    /// For a journal that may not be the complete record of its run: any
    /// resumed one (it may have been cut short or replaced by an older copy)
    /// and one found damaged (`JsonLinesJournal::reconciliation` says which).
    /// The same text sent to the same numbers within the window by something
    /// else is taken for this job's; such batches need a person's decision.
    #[must_use]
    pub fn reconcile_with_panel(mut self, with: Reconciliation) -> Self {
        self.reconciliation = Some(with);
        self
    }

    /// Also sends the batches that need a person's decision: those whose
    /// outcome is unknown (their recipients may get the message twice; for
    /// when the panel's sent list shows they were not sent), and those an
    /// earlier run found redirected (the base URL was wrong). Without it they
    /// are left as they are, so that a run never posts them again unasked.
    #[must_use]
    pub fn resend_unknown(mut self, resend: bool) -> Self {
        self.resend_unknown = resend;
        self
    }

    /// The batches, in order.
    pub fn batches(&self) -> &[Sms] {
        &self.batches
    }

    /// Refuses a journal whose batches were sent to other numbers than this job's.
    pub fn check(&self, journal: &(impl Journal + ?Sized)) -> Result<(), JournalError> {
        for (&batch, record) in journal.batches() {
            let same = self.batches.get(batch).is_some_and(|sms| {
                sms.recipients().len() == record.numbers.len()
                    && sms.recipients().iter().zip(&record.numbers).all(|(number, written)| number.as_str() == written)
            });
            if !same {
                return Err(JournalError::OtherRecipients { batch });
            }
        }
        Ok(())
    }

    /// The batches a run over `journal` sends: those never started, those an
    /// earlier run definitely did not send, and (only when told to) those
    /// whose outcome is unknown or that were redirected.
    pub fn plan(&self, journal: &(impl Journal + ?Sized)) -> Plan {
        let records = journal.batches();
        let mut plan = Plan { to_send: Vec::new(), notes: Vec::new() };
        for (batch, sms) in self.batches.iter().enumerate() {
            let recipients = sms.recipients().len();
            match records.get(&batch).map(|record| &record.outcome) {
                None => plan.to_send.push(batch),
                Some(Some(BatchOutcome::Sent { .. })) => {}
                Some(Some(BatchOutcome::Failed { error })) if error.is_redirect() => {
                    if self.resend_unknown {
                        plan.notes.push(PlanNote::ResendingRedirected { batch, recipients, error: error.clone() });
                        plan.to_send.push(batch);
                    }
                }
                Some(Some(BatchOutcome::Failed { error })) => {
                    plan.notes.push(PlanNote::ResendingFailed { batch, recipients, error: error.clone() });
                    plan.to_send.push(batch);
                }
                Some(None | Some(BatchOutcome::Unknown { .. })) => {
                    if self.resend_unknown {
                        plan.notes.push(PlanNote::ResendingUnknown { batch, recipients });
                        plan.to_send.push(batch);
                    }
                }
            }
        }
        plan
    }

    /// Where every batch and recipient stands according to `journal`, without sending anything.
    pub fn report(&self, journal: &(impl Journal + ?Sized)) -> BulkReport {
        BulkReport::new(&self.batches, journal.batches(), &[], &BTreeMap::new())
    }

    /// Sends the batches [`plan`](Self::plan) picks (less those the panel
    /// shows were sent, when told to [reconcile](Self::reconcile_with_panel)),
    /// up to [`concurrency`](Self::concurrency) at a time, recording each in
    /// `journal` before and after it is sent.
    ///
    /// Journal records are group-committed: the outcomes of the batches that
    /// finished and the attempts of the batches about to start are written
    /// together, and only then do those batches' bytes leave. A batch that
    /// fails, a journal write that fails, or `observer` saying so stops the
    /// run from starting more batches; those already sent finish and are
    /// recorded, and the report says what stopped it. Fails before sending
    /// anything if the journal belongs to another send, or if the panel's
    /// sent messages could not be read to reconcile.
    pub async fn run<J, O>(&self, journal: &mut J, observer: &mut O) -> Result<BulkReport, RunError>
    where
        J: Journal + Send + ?Sized,
        O: BulkObserver,
    {
        self.check(journal).map_err(RunError::Journal)?;
        let mut plan = self.plan(journal);
        if let Some(with) = self.reconciliation {
            self.reconcile(with, journal, &mut plan).await?;
        }
        observer.planned(&plan);
        let mut run = Run::new(self.batches.len());
        let mut queue = plan.to_send.iter().copied().filter(|&index| index < self.batches.len());
        let mut in_flight = FuturesUnordered::new();
        let mut finished: Vec<Finished> = Vec::new();
        let ahead = self.write_ahead.unwrap_or(2 * self.concurrency);
        let log = journal.unsynced_log().filter(|_| ahead > 0);
        let ahead = if log.is_some() { ahead } else { 0 };
        let mut ready = Ready::new(log, self.concurrency, ahead);
        let send = |index: usize| {
            let batch = self.batches.get(index)?;
            Some(async move { Finished::new(index, self.client.send(batch).await) })
        };
        loop {
            // Batches written ahead take the places that freed.
            let mut sending =
                Sending { in_flight: &mut in_flight, ready: &mut ready, send: &send, observer: Some(&mut *observer) };
            sending.start(&mut run, &mut finished);
            // Pick the batches to start; the ones on their way go on meanwhile.
            let mut starting = Vec::new();
            while !run.stopped(&finished) && in_flight.len() + ready.len() + starting.len() < ready.capacity() {
                let Some(index) = queue.next() else { break };
                let recipients = self.batches.get(index).map_or(0, |batch| batch.recipients().len());
                let mut before = std::pin::pin!(observer.before_batch(index, recipients));
                let (flow, paced) = match before.as_mut().now_or_never() {
                    Some(flow) => (flow, false),
                    None => {
                        // The observer makes the run wait: outcomes do not wait with it.
                        let mut sending = Sending::<_, _, O> {
                            in_flight: &mut in_flight,
                            ready: &mut ready,
                            send: &send,
                            observer: None,
                        };
                        self.record_group(journal, &mut run, &mut finished, &[], &mut sending).await;
                        (progress_while(before, &mut in_flight, &mut finished).await, true)
                    }
                };
                if flow == Flow::Stop {
                    run.interrupted = true;
                    break;
                }
                starting.push(Waiting { index, before: journal.batches().get(&index).cloned() });
                if paced && ready.writes_ahead() {
                    // A batch the observer paced leaves as soon as it can, not after a group of others.
                    break;
                }
            }
            // One write for the outcomes that came in and the attempts about to go out;
            // batches written before go out as places free meanwhile.
            let mut sending =
                Sending { in_flight: &mut in_flight, ready: &mut ready, send: &send, observer: Some(&mut *observer) };
            if self.record_group(journal, &mut run, &mut finished, &starting, &mut sending).await {
                sending.ready.waiting.extend(starting);
            }
            sending.start(&mut run, &mut finished);
            // Answers that came in during the write wait for the next one.
            for Finished { index, result, .. } in finished.extract_if(.., |done| done.recorded) {
                observer.after_batch(BatchProgress {
                    batch: index,
                    batches: self.batches.len(),
                    result: result.as_ref(),
                });
                if let Err(error) = result {
                    run.failure.get_or_insert((index, error));
                }
            }
            // Wait for a batch to finish (unless some did already), then take every other one that has too.
            if finished.is_empty() {
                let Some(done) = in_flight.next().await else { break };
                finished.push(done);
            }
            while let Some(Some(done)) = in_flight.next().now_or_never() {
                finished.push(done);
            }
        }
        self.withdraw(journal, &mut run, ready.waiting, ready.unsent).await;
        let mut report = BulkReport::new(&self.batches, journal.batches(), &run.sent_this_run, &run.unjournaled);
        report.failure = run.failure;
        report.journal_failure = run.journal_failure;
        report.interrupted = run.interrupted;
        Ok(report)
    }

    /// Records that the batches written ahead in `waiting`, and those in
    /// `unsent` (whose group's write failed), did not leave, so that their
    /// records are what they were before this run.
    async fn withdraw<J>(&self, journal: &mut J, run: &mut Run, waiting: VecDeque<Waiting>, unsent: Vec<Waiting>)
    where
        J: Journal + ?Sized,
    {
        if waiting.is_empty() && unsent.is_empty() {
            return;
        }
        if let Some(failure) = run.journal_failure.as_mut().filter(|_| run.failure.is_none() && !run.interrupted) {
            // They did not leave because the journal could not be written.
            failure.not_sent.extend(waiting.iter().map(|waiting| waiting.index));
        }
        let waiting: Vec<Waiting> = waiting.into_iter().chain(unsent).collect();
        let entries: Vec<Entry<'_>> = waiting.iter().map(|waiting| Entry::Withdrawn { batch: waiting.index }).collect();
        if let Err(error) = journal.record(&entries).await {
            run.journal_failure.get_or_insert_with(|| JournalFailure::new(error));
        }
        // Whatever the journal kept of their attempts, this run knows they did not leave.
        for Waiting { index, before } in waiting {
            run.unjournaled.insert(index, Unjournaled::NotSent(before));
        }
    }

    /// Records the outcomes of `finished` not recorded yet and the attempts of
    /// `starting` in one journal write, while the sends on their way go on
    /// (their answers join `finished`, and batches written ahead take the
    /// places they free): whether the attempts were recorded (and those
    /// batches may be sent). Nothing to record is a success.
    async fn record_group<J, S, F, O>(
        &self,
        journal: &mut J,
        run: &mut Run,
        finished: &mut Vec<Finished>,
        starting: &[Waiting],
        sending: &mut Sending<'_, S, F, O>,
    ) -> bool
    where
        J: Journal + ?Sized,
        S: Future<Output = Finished>,
        F: Fn(usize) -> Option<S>,
        O: BulkObserver,
    {
        // An answer the group takes is in the file before any batch leaves
        // during the group's write (which goes on off this thread).
        if let Err(error) = sending.ready.note_answers(finished) {
            run.journal_failure.get_or_insert_with(|| JournalFailure::new(error));
        }
        let outcomes: Vec<(usize, BatchOutcome)> = finished
            .iter_mut()
            .filter_map(|done| {
                let new = !std::mem::replace(&mut done.recorded, true);
                new.then(|| done.outcome.take().map(|outcome| (done.index, outcome))).flatten()
            })
            .collect();
        if outcomes.is_empty() && starting.is_empty() {
            return true;
        }
        let mut entries = Vec::with_capacity(outcomes.len() + starting.len());
        entries.extend(outcomes.iter().map(|(batch, outcome)| Entry::Outcome { batch: *batch, outcome }));
        let ahead = sending.ready.writes_ahead();
        entries.extend(starting.iter().filter_map(|&Waiting { index: batch, .. }| {
            let numbers = self.batches.get(batch)?.recipients();
            Some(if ahead { Entry::AttemptAhead { batch, numbers } } else { Entry::Attempt { batch, numbers } })
        }));
        match sending.progress_while(journal.record(&entries), run, finished).await {
            Ok(()) => true,
            Err(error) => {
                // No batch leaves any more. The attempts are dropped (those batches are
                // not sent); the outcomes of batches already sent get one more try on their own.
                run.journal_failure.get_or_insert_with(|| JournalFailure::new(error));
                if !outcomes.is_empty() && !starting.is_empty() {
                    entries.truncate(outcomes.len());
                    let _ = sending.progress_while(journal.record(&entries), run, finished).await;
                }
                run.journal_failed(outcomes, starting, journal.batches());
                if sending.ready.writes_ahead() {
                    sending.ready.unsent.extend_from_slice(starting);
                }
                false
            }
        }
    }
}

/// Where a run's batches go out: the sends on their way, the batches
/// recorded and waiting for a place, how to send one, and the observer to ask
/// before a batch written ahead leaves (none: none leaves).
struct Sending<'s, S, F, O> {
    in_flight: &'s mut FuturesUnordered<S>,
    ready: &'s mut Ready,
    send: &'s F,
    observer: Option<&'s mut O>,
}

impl<S, F, O> Sending<'_, S, F, O>
where
    S: Future<Output = Finished>,
    F: Fn(usize) -> Option<S>,
    O: BulkObserver,
{
    /// Sends waiting batches into the free places: whether any left.
    fn start(&mut self, run: &mut Run, finished: &mut [Finished]) -> bool {
        let Some(observer) = self.observer.as_deref_mut() else { return false };
        self.ready.start(self.in_flight, run, finished, self.send, observer)
    }

    /// Awaits `future` while polling the sends on their way, collecting those
    /// that finish, and sending waiting batches in the places they free.
    async fn progress_while<T: Future>(&mut self, future: T, run: &mut Run, finished: &mut Vec<Finished>) -> T::Output {
        let Sending { in_flight, ready, send, observer } = self;
        progress_while_refilling(future, in_flight, finished, |in_flight, finished| match observer.as_deref_mut() {
            Some(observer) => ready.start(in_flight, run, finished, *send, observer),
            None => false,
        })
        .await
    }
}

/// The batches whose attempts are recorded and that wait for a place among
/// those on their way. With a journal that keeps an unsynced log, up to
/// [`BulkJob::write_ahead`] more are written ahead: each leaves the moment a
/// place frees, its attempt synced while the others were answered.
struct Ready {
    waiting: VecDeque<Waiting>,
    /// Batches written ahead in a group whose write failed: not sent, and
    /// withdrawn at the end (the journal may hold their attempts).
    unsent: Vec<Waiting>,
    log: Option<Arc<dyn UnsyncedLog>>,
    concurrency: usize,
    ahead: usize,
}

/// A batch picked to start, and its journal record before this run's attempt.
#[derive(Clone)]
struct Waiting {
    index: usize,
    before: Option<BatchRecord>,
}

impl Ready {
    fn new(log: Option<Arc<dyn UnsyncedLog>>, concurrency: usize, ahead: usize) -> Self {
        Ready { waiting: VecDeque::new(), unsent: Vec::new(), log, concurrency, ahead }
    }

    fn len(&self) -> usize {
        self.waiting.len()
    }

    fn writes_ahead(&self) -> bool {
        self.log.is_some()
    }

    /// Notes in the log (if any) the answers in `finished` not noted nor recorded yet.
    fn note_answers(&self, finished: &mut [Finished]) -> Result<(), JournalError> {
        let Some(log) = &self.log else { return Ok(()) };
        for done in finished.iter_mut().filter(|done| !done.noted && !done.recorded) {
            if let Some(outcome) = &done.outcome {
                log.answered(done.index, outcome)?;
            }
            done.noted = true;
        }
        Ok(())
    }

    /// How many batches may be on their way or waiting at once.
    fn capacity(&self) -> usize {
        self.concurrency + self.ahead
    }

    /// Sends waiting batches while there are free places: whether any left.
    ///
    /// A batch recorded just before its turn leaves as soon as it is
    /// recorded, as it always has. A batch written ahead leaves only while the
    /// run goes on and `observer` agrees, once every answer that came in is
    /// noted in the log (so that a crash of the process leaves at most
    /// `concurrency` batches sent with no answer in the journal) and so is its
    /// departure.
    fn start<S>(
        &mut self,
        in_flight: &mut FuturesUnordered<S>,
        run: &mut Run,
        finished: &mut [Finished],
        send: &impl Fn(usize) -> Option<S>,
        observer: &mut impl BulkObserver,
    ) -> bool {
        let mut started = false;
        while in_flight.len() < self.concurrency {
            let Some(&Waiting { index, .. }) = self.waiting.front() else { break };
            if let Some(log) = &self.log {
                if run.stopped(finished) {
                    break;
                }
                if observer.before_leaving(index) == Flow::Stop {
                    run.interrupted = true;
                    break;
                }
                if let Err(error) = self.note_answers(finished).and_then(|()| log.leaving(index)) {
                    // It stays waiting, and is withdrawn when the run ends.
                    run.journal_failure.get_or_insert_with(|| JournalFailure::new(error));
                    break;
                }
            }
            self.waiting.pop_front();
            let Some(future) = send(index) else { continue };
            if let Some(sent) = run.sent_this_run.get_mut(index) {
                *sent = true;
            }
            in_flight.push(future);
            started = true;
        }
        started
    }
}

/// A batch whose answer came in.
struct Finished {
    index: usize,
    result: Result<SendReport, Error>,
    /// What the journal records of it (taken when it is recorded).
    outcome: Option<BatchOutcome>,
    /// Whether its outcome went to the unsynced log.
    noted: bool,
    /// Whether its outcome went to the journal (or failed to).
    recorded: bool,
}

impl Finished {
    fn new(index: usize, result: Result<SendReport, Error>) -> Self {
        let outcome = Some(BatchOutcome::of(&result));
        Finished { index, result, outcome, noted: false, recorded: false }
    }
}

/// Awaits `future` while polling the sends on their way, collecting those that
/// finish: an observer that paces the run must not hold up answers (a send not
/// polled could time out with its answer waiting).
async fn progress_while<F, S, T>(future: F, in_flight: &mut FuturesUnordered<S>, finished: &mut Vec<T>) -> F::Output
where
    F: Future,
    S: Future<Output = T>,
{
    progress_while_refilling(future, in_flight, finished, |_, _| false).await
}

/// [`progress_while`], calling `refill` after each round of answers: when it
/// starts sends, they are polled at once (to be woken when they progress).
async fn progress_while_refilling<F, S, T>(
    future: F,
    in_flight: &mut FuturesUnordered<S>,
    finished: &mut Vec<T>,
    mut refill: impl FnMut(&mut FuturesUnordered<S>, &mut [T]) -> bool,
) -> F::Output
where
    F: Future,
    S: Future<Output = T>,
{
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        loop {
            while let Poll::Ready(Some(done)) = in_flight.poll_next_unpin(cx) {
                finished.push(done);
            }
            if !refill(in_flight, finished) {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// What a run has seen so far.
struct Run {
    sent_this_run: Vec<bool>,
    unjournaled: BTreeMap<usize, Unjournaled>,
    failure: Option<(usize, Error)>,
    journal_failure: Option<JournalFailure>,
    interrupted: bool,
}

impl Run {
    fn new(batches: usize) -> Self {
        Run {
            sent_this_run: vec![false; batches],
            unjournaled: BTreeMap::new(),
            failure: None,
            journal_failure: None,
            interrupted: false,
        }
    }

    /// Whether no more batches start: the observer stopped the run, a journal
    /// write failed, or a batch failed (in this run, or among those just `finished`).
    fn stopped(&self, finished: &[Finished]) -> bool {
        self.interrupted
            || self.failure.is_some()
            || self.journal_failure.is_some()
            || finished.iter().any(|done| done.result.is_err())
    }

    /// A group write failed (its error is in `journal_failure`): none of
    /// `starting` is sent, and the outcomes the journal does not have
    /// (`records`, after the write) are kept for the report.
    fn journal_failed(
        &mut self,
        outcomes: Vec<(usize, BatchOutcome)>,
        starting: &[Waiting],
        records: &BTreeMap<usize, BatchRecord>,
    ) {
        let Some(failure) = self.journal_failure.as_mut() else { return };
        for (index, outcome) in outcomes {
            // A store that records a group one by one may have written some of it.
            if records.get(&index).is_some_and(|record| record.outcome.as_ref() == Some(&outcome)) {
                continue;
            }
            failure.outcomes_not_written.push(index);
            self.unjournaled.insert(index, Unjournaled::Outcome(outcome));
        }
        failure.not_sent.extend(starting.iter().map(|waiting| waiting.index));
        // A batch an earlier run started keeps the status its journal gave it.
        for waiting in starting {
            self.unjournaled.insert(waiting.index, Unjournaled::NotSent(waiting.before.clone()));
        }
    }
}

impl Client {
    /// Sends `sms` to all its recipients, in calls of at most 100 (the panel's limit).
    ///
    /// Up to [`DEFAULT_CONCURRENCY`] batches are on their way at once; a batch
    /// that fails stops the send from starting more (those on their way
    /// finish). Nothing is ever sent twice, and the report says for every
    /// recipient whether it was accepted and with which recId.
    /// Nothing is kept past the call: for a send that survives a crash, run a
    /// [`BulkJob`] over a durable journal.
    pub async fn send_bulk(&self, sms: &Sms) -> Result<BulkReport, Error> {
        self.send_bulk_with_progress(sms, |_| {}).await
    }

    /// [`Client::send_bulk`], calling `on_batch` after each batch (e.g. for a progress bar).
    pub async fn send_bulk_with_progress(
        &self,
        sms: &Sms,
        on_batch: impl FnMut(BatchProgress<'_>) + Send,
    ) -> Result<BulkReport, Error> {
        let job = BulkJob::new(self, sms)?;
        let mut journal = MemoryJournal::new();
        // A memory journal cannot fail a write, nor hold another send's batches.
        job.run(&mut journal, &mut AfterEachBatch(on_batch))
            .await
            .map_err(|error| InputError::Invalid(format!("the bulk send's journal: {error}")).into())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_sends_on_their_way_progress_while_the_observer_waits() {
        let answered = Arc::new(AtomicBool::new(false));
        let mut in_flight = FuturesUnordered::new();
        let flag = answered.clone();
        in_flight.push(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            flag.store(true, Ordering::SeqCst);
            7
        });
        // An observer that paces the run until the send on its way was answered.
        let pacing = async {
            while !answered.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Flow::Continue
        };
        let mut finished = Vec::new();
        let flow = tokio::time::timeout(Duration::from_secs(5), progress_while(pacing, &mut in_flight, &mut finished));
        assert_eq!(flow.await.ok(), Some(Flow::Continue), "the send was not polled while the observer waited");
        assert_eq!(finished, [7]);
        assert!(in_flight.is_empty());
    }

    #[test]
    fn a_batch_started_while_a_write_is_awaited_is_sent_at_once() {
        let not_sent = || Err(InputError::NoRecipients.into());
        let send = |index: usize| Some(std::future::ready(Finished::new(index, not_sent())));
        let mut in_flight = FuturesUnordered::new();
        in_flight.push(std::future::ready(Finished::new(0, not_sent())));
        let mut ready = Ready::new(None, 1, 0);
        ready.waiting.push_back(Waiting { index: 1, before: None });
        let (mut run, mut finished) = (Run::new(2), Vec::new());
        let mut sending =
            Sending { in_flight: &mut in_flight, ready: &mut ready, send: &send, observer: Some(&mut NoObserver) };
        // A write that never ends: batch 0's answer frees the place batch 1 takes, and batch 1 is polled (and answered) too.
        let write = sending.progress_while(std::future::pending::<()>(), &mut run, &mut finished).now_or_never();
        assert!(write.is_none());
        assert_eq!(finished.iter().map(|done| done.index).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(run.sent_this_run, [false, true]);
    }
}
