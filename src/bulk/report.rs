//! Where a bulk send stands: per recipient and per batch.

use std::collections::BTreeMap;

use super::journal::JournalError;
use super::record::{BatchOutcome, BatchRecord, ErrorRecord, SentRecipient};
use crate::error::Error;
use crate::recipient::MobileNumber;
use crate::sms::Sms;
use crate::status::StatusCode;
use crate::status_codes::RecipientStatus;

/// What happened to one recipient of a bulk send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum BulkOutcome {
    /// The panel took the message; without a recId its delivery cannot be tracked.
    Accepted {
        /// The tracking id, if the panel returned one.
        rec_id: Option<i64>,
    },
    /// The call succeeded but the panel did not take this recipient.
    Refused {
        /// The per-recipient status byte, if any.
        status: Option<RecipientStatus>,
    },
    /// The call answered without confirming this recipient: an unknown result
    /// code, or no recId or status for it. The message may have been sent.
    Unconfirmed,
    /// The recipient's batch was definitely not sent (refused as a whole, or
    /// the panel was not reached); running the job again sends it.
    NotSent,
    /// The recipient's batch may or may not have been sent; it is never sent
    /// again on its own. Check the panel's sent messages first.
    Unknown,
    /// Not attempted, because an earlier batch failed or the run stopped.
    NotAttempted,
}

impl SentRecipient {
    /// What the panel's answer says about this recipient.
    pub fn outcome(&self) -> BulkOutcome {
        let status = self.status.map(RecipientStatus::from_code);
        match status {
            Some(status) if status.is_known() && !status.is_success() => BulkOutcome::Refused { status: Some(status) },
            _ if self.accepted => BulkOutcome::Accepted { rec_id: self.rec_id },
            _ => BulkOutcome::Unconfirmed,
        }
    }
}

/// One recipient of a bulk send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BulkRecipient {
    /// The recipient.
    pub number: MobileNumber,
    /// The 0-based index of the batch it was in.
    pub batch: usize,
    /// What happened.
    pub outcome: BulkOutcome,
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum BatchStatus {
    /// The call succeeded (recipients may still be refused one by one).
    Sent,
    /// The panel refused the whole batch with a result code; running the job again sends it.
    Refused,
    /// Not sent (the panel was not reached, or the input was refused); running the job again sends it.
    Failed,
    /// Not sent: the panel redirected the request, which was not followed (the
    /// base URL is wrong). Not sent again unless the job is told to.
    Redirected,
    /// May or may not have been sent; not sent again unless the job is told to resend unknown batches.
    Unknown,
    /// Never started.
    NotAttempted,
}

/// One batch of a bulk send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BatchSummary {
    /// The 0-based index of the batch.
    pub index: usize,
    /// Its recipients.
    pub recipients: usize,
    /// Where it stands.
    pub status: BatchStatus,
    /// Recipients the panel took.
    pub accepted: usize,
    /// Of those, the ones without a recId: sent, but their delivery cannot be tracked.
    pub untracked: usize,
    /// Recipients the panel refused (all of them when it refused the batch).
    pub refused: usize,
    /// Recipients the panel's answer did not confirm either way.
    pub unconfirmed: usize,
    /// Whether this run sent (or tried) it, rather than an earlier one.
    pub this_run: bool,
    /// Why it failed or is unknown, when known.
    pub error: Option<ErrorRecord>,
}

impl BatchSummary {
    fn new(index: usize, recipients: usize, record: Option<&BatchRecord>, this_run: bool) -> Self {
        Self::of(index, recipients, record.map(|record| record.outcome.as_ref()), this_run)
    }

    /// Batch `index` of `recipients` recipients, from what is recorded of it:
    /// `attempt` is `None` when it was never attempted, `Some(None)` when it
    /// was attempted without an outcome (unknown), `Some(Some(outcome))` otherwise.
    pub fn of(index: usize, recipients: usize, attempt: Option<Option<&BatchOutcome>>, this_run: bool) -> Self {
        let mut summary = BatchSummary {
            index,
            recipients,
            status: BatchStatus::NotAttempted,
            accepted: 0,
            untracked: 0,
            refused: 0,
            unconfirmed: 0,
            this_run,
            error: None,
        };
        match attempt {
            None => {}
            Some(None) => summary.status = BatchStatus::Unknown,
            Some(Some(BatchOutcome::Unknown { error })) => {
                summary.status = BatchStatus::Unknown;
                summary.error = Some(error.clone());
            }
            Some(Some(BatchOutcome::Failed { error })) => {
                summary.status = if error.is_rejection() {
                    BatchStatus::Refused
                } else if error.is_redirect() {
                    BatchStatus::Redirected
                } else {
                    BatchStatus::Failed
                };
                if error.is_rejection() {
                    summary.refused = recipients;
                }
                summary.error = Some(error.clone());
            }
            Some(Some(BatchOutcome::Sent { recipients })) => {
                summary.status = BatchStatus::Sent;
                for recipient in recipients {
                    match recipient.outcome() {
                        BulkOutcome::Accepted { rec_id } => {
                            summary.accepted += 1;
                            summary.untracked += usize::from(rec_id.is_none());
                        }
                        BulkOutcome::Refused { .. } => summary.refused += 1,
                        _ => summary.unconfirmed += 1,
                    }
                }
            }
        }
        summary
    }
}

/// A journal write that failed and stopped the run.
#[derive(Debug)]
pub struct JournalFailure {
    /// Batches this run sent whose outcome could not be written. This report
    /// has their outcome; a new run over the journal treats them as unknown
    /// and does not send them again (unless the journal kept the answer its
    /// unsynced log noted, which it then reads back).
    pub outcomes_not_written: Vec<usize>,
    /// Batches that were not sent because the journal could not be written
    /// (their attempt, or the departure of a batch written ahead).
    pub not_sent: Vec<usize>,
    /// What went wrong (the first failed write).
    pub error: JournalError,
}

impl JournalFailure {
    pub(super) fn new(error: JournalError) -> Self {
        JournalFailure { outcomes_not_written: Vec::new(), not_sent: Vec::new(), error }
    }

    /// Whether a batch was sent whose outcome the journal does not have.
    pub fn sent(&self) -> bool {
        !self.outcomes_not_written.is_empty()
    }
}

/// What this run knows of a batch that its journal does not record.
#[derive(Debug)]
pub(super) enum Unjournaled {
    /// Sent, with this outcome, which could not be written.
    Outcome(BatchOutcome),
    /// Not sent by this run (its attempt could not be written, or it was
    /// written ahead and withdrawn; the journal may hold part of it): its
    /// record before this run.
    NotSent(Option<BatchRecord>),
}

/// The result of a bulk send: every recipient and batch, as the journal has them.
#[derive(Debug)]
pub struct BulkReport {
    /// Every recipient, in the order given.
    pub recipients: Vec<BulkRecipient>,
    /// Every batch, in order.
    pub batches: Vec<BatchSummary>,
    /// The batch whose send failed in this run and why; later batches were not attempted.
    pub failure: Option<(usize, Error)>,
    /// The journal write that failed and stopped the run, if one did.
    pub journal_failure: Option<JournalFailure>,
    /// Whether the run was stopped before its end (by the observer).
    pub interrupted: bool,
}

impl BulkReport {
    /// The report of `batches` as `records` have them, corrected by what this
    /// run knows and could not journal.
    pub(super) fn new(
        batches: &[Sms],
        records: &BTreeMap<usize, BatchRecord>,
        sent_this_run: &[bool],
        unjournaled: &BTreeMap<usize, Unjournaled>,
    ) -> Self {
        let total = batches.iter().map(|batch| batch.recipients().len()).sum();
        let mut report = BulkReport {
            recipients: Vec::with_capacity(total),
            batches: Vec::with_capacity(batches.len()),
            failure: None,
            journal_failure: None,
            interrupted: false,
        };
        for (index, batch) in batches.iter().enumerate() {
            let corrected;
            let record = match unjournaled.get(&index) {
                None => records.get(&index),
                Some(Unjournaled::NotSent(before)) => before.as_ref(),
                Some(Unjournaled::Outcome(outcome)) => {
                    let numbers = batch.recipients().iter().map(|number| number.as_str().to_owned()).collect();
                    corrected = BatchRecord { numbers, outcome: Some(outcome.clone()) };
                    Some(&corrected)
                }
            };
            let this_run = sent_this_run.get(index).copied().unwrap_or(false);
            report.batches.push(BatchSummary::new(index, batch.recipients().len(), record, this_run));
            let sent = match record.and_then(|record| record.outcome.as_ref()) {
                Some(BatchOutcome::Sent { recipients }) => Some(recipients),
                _ => None,
            };
            for (position, number) in batch.recipients().iter().enumerate() {
                let outcome = match (record, sent) {
                    (_, Some(recipients)) => {
                        recipients.get(position).map_or(BulkOutcome::Unconfirmed, SentRecipient::outcome)
                    }
                    (None, _) => BulkOutcome::NotAttempted,
                    (Some(BatchRecord { outcome: Some(BatchOutcome::Failed { .. }), .. }), _) => BulkOutcome::NotSent,
                    (Some(_), _) => BulkOutcome::Unknown,
                };
                report.recipients.push(BulkRecipient { number: number.clone(), batch: index, outcome });
            }
        }
        report
    }

    /// The recipients the panel accepted.
    pub fn accepted(&self) -> impl Iterator<Item = &BulkRecipient> {
        self.recipients.iter().filter(|recipient| matches!(recipient.outcome, BulkOutcome::Accepted { .. }))
    }

    /// True when every recipient was accepted.
    pub fn is_complete(&self) -> bool {
        self.failure.is_none() && self.accepted().count() == self.recipients.len()
    }

    /// The accepted recIds, one list per SendSms call: what a
    /// [`crate::delivery::DeliveryTracker`] takes, since the panel refreshes
    /// deliveries a whole call at a time.
    pub fn rec_id_batches(&self) -> Vec<Vec<i64>> {
        let mut batches = vec![Vec::new(); self.batches.len()];
        for recipient in &self.recipients {
            if let (BulkOutcome::Accepted { rec_id: Some(rec_id) }, Some(batch)) =
                (&recipient.outcome, batches.get_mut(recipient.batch))
            {
                batch.push(*rec_id);
            }
        }
        batches.retain(|batch| !batch.is_empty());
        batches
    }
}
