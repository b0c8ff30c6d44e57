//! Checking the panel before sending what a journal says was never sent.
//!
//! A journal that is not the complete record of its run (cut short, emptied,
//! replaced by an older copy) says batches were never started that were sent.
//! The panel's sent lists (`GetSentSMSIsNotReadList` and
//! `GetSentSMSIsReadList` of `IncomingMessages.asmx`) are an independent
//! record: before a resumed run sends anything, every batch it would send is
//! looked up there, and a batch any of whose recipients already received this
//! text (from this sender, since the job began) is not sent but recorded as
//! unknown.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::journal::Journal;
use super::record::{BatchOutcome, ErrorRecord};
use super::{BulkJob, Plan, PlanNote};
use crate::client::api::Folder;
use crate::recipient::{normalize_digits, MobileNumber};

/// How far before the job's start a sent message still counts as the job's:
/// the panel's clock and this machine's may disagree.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

/// Which of the panel's sent messages may belong to the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciliation {
    /// Those sent since this time (the job's start, per its journal).
    Since(DateTime<Utc>),
    /// All of them: the journal lost even when the job began.
    AllTime,
}

impl BulkJob<'_> {
    /// Takes every batch out of `plan` whose recipients the panel's sent lists
    /// show already received this text, recording it in `journal` as unknown.
    pub(super) async fn reconcile<J>(
        &self,
        with: Reconciliation,
        journal: &mut J,
        plan: &mut Plan,
    ) -> Result<(), super::RunError>
    where
        J: Journal + Send + ?Sized,
    {
        let Some(first) = self.batches.first() else { return Ok(()) };
        if plan.to_send.is_empty() {
            return Ok(());
        }
        let received = received_on_the_panel(self.client, first.sender(), first.text(), with)
            .await
            .map_err(super::RunError::Reconciliation)?;
        let mut kept = Vec::with_capacity(plan.to_send.len());
        for &index in &plan.to_send {
            let Some(batch) = self.batches.get(index) else { continue };
            let found = batch.recipients().iter().filter(|number| received.contains(number.as_str())).count();
            if found == 0 {
                kept.push(index);
                continue;
            }
            let error = found_on_the_panel(
                found,
                batch.recipients().len(),
                "it was not sent again (the journal did not record it: was it cut short, emptied or replaced?)",
            );
            journal.record_attempt(index, batch.recipients()).map_err(super::RunError::Journal)?;
            journal
                .record_outcome(index, &BatchOutcome::Unknown { error: error.clone() })
                .map_err(super::RunError::Journal)?;
            plan.notes.retain(|note| note.batch() != index);
            plan.notes.push(PlanNote::FoundOnThePanel { batch: index, recipients: batch.recipients().len(), found });
        }
        plan.to_send = kept;
        Ok(())
    }
}

/// Why a batch `found` of whose `recipients` the panel's sent lists show
/// already received its text is not sent: `what_then` says what became of it.
pub(crate) fn found_on_the_panel(found: usize, recipients: usize, what_then: &str) -> ErrorRecord {
    ErrorRecord {
        kind: "reconciled".to_owned(),
        code: None,
        message: format!(
            "the panel's sent messages show that {found} of its {recipients} recipients already received this \
             text; {what_then}"
        ),
    }
}

/// The numbers the panel's sent lists show `text` was sent to from `sender`
/// within `with`: what a job's record may have lost.
pub(crate) async fn received_on_the_panel(
    client: &crate::Client,
    sender: &str,
    text: &str,
    with: Reconciliation,
) -> Result<HashSet<String>, crate::Error> {
    let wanted = comparable(text);
    let sender = normalize_digits(sender);
    let mut received = HashSet::new();
    for folder in [Folder::SentUnread, Folder::SentRead] {
        let rows = client.messages(folder, Some(&sender)).await?;
        for row in rows {
            let in_window = match with {
                Reconciliation::Since(start) => row.send_date.to_utc() >= start - CLOCK_SKEW,
                Reconciliation::AllTime => true,
            };
            let same_sender = row.sender.as_deref().is_none_or(|from| normalize_digits(from) == sender);
            let same_text = row.body.as_deref().is_some_and(|body| comparable(body) == wanted);
            if in_window && same_sender && same_text {
                if let Some(number) = row.receiver.as_deref().and_then(|to| MobileNumber::parse(to).ok()) {
                    received.insert(number.into_string());
                }
            }
        }
    }
    Ok(received)
}

/// Text as compared with the panel's copy: line ends and surrounding space may differ.
fn comparable(text: &str) -> String {
    text.replace("\r\n", "\n").trim().to_owned()
}
