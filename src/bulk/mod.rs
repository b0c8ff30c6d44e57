//! Sending one text to any number of recipients, in calls of at most 100, so
//! that nobody gets it twice.
//!
//! Every bulk send goes through one loop, [`BulkJob::run`]. For each batch it
//! records the attempt in a [`Journal`] (durably, before any byte of the batch
//! leaves), sends the batch, and records the outcome; the first batch that fails
//! stops the run. Run again over the same journal, a job resumes: batches that
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

use std::future::Future;

pub use journal::{Journal, JournalError, MemoryJournal};
#[cfg(feature = "journal")]
#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
pub use json_lines::{JournalContents, JsonLinesJournal};
pub use reconcile::Reconciliation;
pub use record::{BatchOutcome, BatchRecord, ErrorRecord, JobHeader, SentRecipient, JOURNAL_VERSION};
pub use report::{BatchStatus, BatchSummary, BulkOutcome, BulkRecipient, BulkReport, JournalFailure};

use crate::error::{Error, InputError};
use crate::sms::{SendReport, Sms, MAX_RECIPIENTS_PER_CALL};
use crate::Client;

/// A bulk send: one text, its recipients in batches of at most 100, and the client to send them with.
#[derive(Debug)]
pub struct BulkJob<'a> {
    client: &'a Client,
    batches: Vec<Sms>,
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
    fn before_batch(&mut self, batch: usize, recipients: usize) -> impl Future<Output = Flow> + Send {
        let _ = (batch, recipients);
        std::future::ready(Flow::Continue)
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
        Ok(BulkJob { client, batches, resend_unknown: false, reconciliation: None })
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
        BulkReport::new(&self.batches, journal.batches(), &[])
    }

    /// Sends the batches [`plan`](Self::plan) picks (less those the panel
    /// shows were sent, when told to [reconcile](Self::reconcile_with_panel)),
    /// one after the other, recording each in `journal` before and after it is sent.
    ///
    /// Stops at the first batch that fails, at a journal write that fails,
    /// or when `observer` says so; the report says which. Fails before
    /// sending anything if the journal belongs to another send, or if the
    /// panel's sent messages could not be read to reconcile.
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
        let mut sent_this_run = vec![false; self.batches.len()];
        let mut failure = None;
        let mut journal_failure = None;
        let mut interrupted = false;
        for &index in &plan.to_send {
            let Some(batch) = self.batches.get(index) else { continue };
            if observer.before_batch(index, batch.recipients().len()).await == Flow::Stop {
                interrupted = true;
                break;
            }
            if let Err(error) = journal.record_attempt(index, batch.recipients()) {
                journal_failure = Some(JournalFailure { batch: index, sent: false, error });
                break;
            }
            sent_this_run[index] = true;
            let result = self.client.send(batch).await;
            let recorded = journal.record_outcome(index, &BatchOutcome::of(&result));
            observer.after_batch(BatchProgress { batch: index, batches: self.batches.len(), result: result.as_ref() });
            if let Err(error) = recorded {
                journal_failure = Some(JournalFailure { batch: index, sent: true, error });
            }
            if let Err(error) = result {
                failure = Some((index, error));
            }
            if failure.is_some() || journal_failure.is_some() {
                break;
            }
        }
        let mut report = BulkReport::new(&self.batches, journal.batches(), &sent_this_run);
        report.failure = failure;
        report.journal_failure = journal_failure;
        report.interrupted = interrupted;
        Ok(report)
    }
}

impl Client {
    /// Sends `sms` to all its recipients, in calls of at most 100 (the panel's limit).
    ///
    /// Batches go one after the other; the first batch that fails stops the
    /// send, so nothing already accepted is ever sent again, and the report
    /// says for every recipient whether it was accepted and with which recId.
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
