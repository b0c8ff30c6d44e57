//! Sending one text to any number of recipients, in calls of at most 100.

use crate::error::{Error, InputError};
use crate::recipient::MobileNumber;
use crate::sms::{RecipientReport, SendReport, Sms, MAX_RECIPIENTS_PER_CALL};
use crate::status::StatusCode;
use crate::status_codes::RecipientStatus;
use crate::Client;

/// What happened to one recipient of a bulk send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum BulkOutcome {
    /// The panel took the message and assigned `rec_id`.
    Accepted {
        /// The tracking id.
        rec_id: i64,
    },
    /// The call succeeded but the panel did not take this recipient.
    Refused {
        /// The per-recipient status byte, if any.
        status: Option<RecipientStatus>,
    },
    /// The call answered without confirming this recipient: an unknown result
    /// code, or no recId or status for it. The message may have been sent.
    Unconfirmed,
    /// The recipient's batch failed: see [`BulkReport::failure`]. If that
    /// error is [`Error::OutcomeUnknown`], the message may have been sent.
    BatchFailed,
    /// Not attempted, because an earlier batch failed.
    NotAttempted,
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

/// The result of [`Client::send_bulk`].
#[derive(Debug)]
pub struct BulkReport {
    /// Every recipient, in the order given.
    pub recipients: Vec<BulkRecipient>,
    /// The number of batches the send was split into.
    pub batches: usize,
    /// The batch that failed and why; later batches were not attempted.
    pub failure: Option<(usize, Error)>,
}

impl BulkReport {
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
        let mut batches = vec![Vec::new(); self.batches];
        for recipient in &self.recipients {
            if let (BulkOutcome::Accepted { rec_id }, Some(batch)) =
                (&recipient.outcome, batches.get_mut(recipient.batch))
            {
                batch.push(*rec_id);
            }
        }
        batches.retain(|batch| !batch.is_empty());
        batches
    }
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

/// What one SendSms answer says about one of its recipients.
fn outcome(sent: &SendReport, recipient: &RecipientReport) -> BulkOutcome {
    match (recipient.rec_id, recipient.status) {
        (_, Some(status)) if status.is_known() && !status.is_success() => BulkOutcome::Refused { status: Some(status) },
        (Some(rec_id), _) if sent.status.is_success() && recipient.is_accepted() => BulkOutcome::Accepted { rec_id },
        _ => BulkOutcome::Unconfirmed,
    }
}

impl Client {
    /// Sends `sms` to all its recipients, in calls of at most 100 (the panel's limit).
    ///
    /// Batches go one after the other; the first batch that fails stops the
    /// send, so nothing already accepted is ever sent again, and the report
    /// says for every recipient whether it was accepted and with which recId.
    pub async fn send_bulk(&self, sms: &Sms) -> Result<BulkReport, Error> {
        self.send_bulk_with_progress(sms, |_| {}).await
    }

    /// [`Client::send_bulk`], calling `on_batch` after each batch (e.g. for a progress bar).
    pub async fn send_bulk_with_progress(
        &self,
        sms: &Sms,
        mut on_batch: impl FnMut(BatchProgress<'_>),
    ) -> Result<BulkReport, Error> {
        if sms.recipients().is_empty() {
            return Err(InputError::NoRecipients.into());
        }
        let batches = sms.recipients().len().div_ceil(MAX_RECIPIENTS_PER_CALL);
        let mut report = BulkReport { recipients: Vec::with_capacity(sms.recipients().len()), batches, failure: None };
        for (batch, part) in sms.batches(MAX_RECIPIENTS_PER_CALL).enumerate() {
            if report.failure.is_some() {
                report.recipients.extend(part.recipients().iter().map(|number| BulkRecipient {
                    number: number.clone(),
                    batch,
                    outcome: BulkOutcome::NotAttempted,
                }));
                continue;
            }
            match self.send(&part).await {
                Ok(sent) => {
                    report.recipients.extend(sent.recipients.iter().map(|recipient| BulkRecipient {
                        number: recipient.number.clone(),
                        batch,
                        outcome: outcome(&sent, recipient),
                    }));
                    on_batch(BatchProgress { batch, batches, result: Ok(&sent) });
                }
                Err(error) => {
                    report.recipients.extend(part.recipients().iter().map(|number| BulkRecipient {
                        number: number.clone(),
                        batch,
                        outcome: BulkOutcome::BatchFailed,
                    }));
                    on_batch(BatchProgress { batch, batches, result: Err(&error) });
                    report.failure = Some((batch, error));
                }
            }
        }
        Ok(report)
    }
}
