//! The end of a `send-bulk` run: where every batch stands, as a table or JSON.

use payamak::Sms;
use serde::Serialize;

use crate::commands::TextJson;
use crate::csv_input::{CsvRecipients, DuplicateRow, InvalidRow};
use crate::failure::Exit;
use crate::journal::{BatchResult, BatchState, ErrorRecord, Journal};
use crate::output::Output;

/// Where a batch ended up, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The call succeeded (recipients may still be refused one by one).
    Sent,
    /// The panel refused the whole batch; a new run sends it again.
    Refused,
    /// Not sent (the panel was not reached, or the input was refused); a new run sends it again.
    Failed,
    /// May or may not have been sent; not sent again without --resend-unknown.
    Unknown,
    /// Never started.
    NotAttempted,
}

/// One batch in the summary.
#[derive(Debug, Serialize)]
pub struct BatchJson {
    batch: usize,
    recipients: usize,
    status: Status,
    accepted: usize,
    refused: usize,
    /// Sent (or tried) by this run, rather than found in the journal.
    this_run: bool,
    error: Option<ErrorRecord>,
}

/// The summary of a run (its JSON document with `--json`).
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    journal: String,
    resumed: bool,
    from: String,
    text: TextJson,
    recipients: usize,
    batches: usize,
    accepted: usize,
    refused: usize,
    unknown: usize,
    not_attempted: usize,
    interrupted: bool,
    invalid: Vec<InvalidRow>,
    duplicates: Vec<DuplicateRow>,
    batch_results: Vec<BatchJson>,
}

impl SummaryJson {
    /// The run's exit code: `stopped_by` (the error that ended the run early),
    /// made worse by unknown outcomes, refusals, or an interruption.
    pub fn exit_code(&self, stopped_by: Option<Exit>) -> Exit {
        let mut exit = stopped_by.unwrap_or(Exit::Ok);
        if self.unknown > 0 {
            exit = exit.worst(Exit::Unknown);
        }
        if self.refused > 0 {
            exit = exit.worst(Exit::Refused);
        }
        if self.interrupted {
            exit = exit.worst(Exit::Interrupted);
        }
        exit
    }
}

/// Where every batch stands according to the journal.
pub fn summarize(
    journal: &Journal,
    batches: &[Sms],
    sent_this_run: &[bool],
    recipients: &CsvRecipients,
    text: TextJson,
    interrupted: bool,
) -> SummaryJson {
    let mut summary = SummaryJson {
        journal: journal.path().display().to_string(),
        resumed: journal.resumed,
        from: batches.first().map(|batch| batch.sender().to_owned()).unwrap_or_default(),
        text,
        recipients: recipients.numbers.len(),
        batches: batches.len(),
        accepted: 0,
        refused: 0,
        unknown: 0,
        not_attempted: 0,
        interrupted,
        invalid: recipients.invalid.clone(),
        duplicates: recipients.duplicates.clone(),
        batch_results: Vec::with_capacity(batches.len()),
    };
    for (index, batch) in batches.iter().enumerate() {
        let size = batch.recipients().len();
        let (status, accepted, refused, error) = match journal.batches.get(&index) {
            None => (Status::NotAttempted, 0, 0, None),
            Some(BatchState::Attempted) => (Status::Unknown, 0, 0, None),
            Some(BatchState::Done(BatchResult::Unknown { error })) => (Status::Unknown, 0, 0, Some(error.clone())),
            Some(BatchState::Done(BatchResult::Failed { error })) if error.kind == "rejected" => {
                (Status::Refused, 0, size, Some(error.clone()))
            }
            Some(BatchState::Done(BatchResult::Failed { error })) => (Status::Failed, 0, 0, Some(error.clone())),
            Some(BatchState::Done(BatchResult::Sent { recipients })) => {
                let accepted = recipients.iter().filter(|recipient| recipient.accepted).count();
                (Status::Sent, accepted, recipients.len() - accepted, None)
            }
        };
        summary.accepted += accepted;
        summary.refused += refused;
        match status {
            Status::Unknown => summary.unknown += size,
            Status::NotAttempted | Status::Failed => summary.not_attempted += size,
            Status::Sent | Status::Refused => {}
        }
        summary.batch_results.push(BatchJson {
            batch: index + 1,
            recipients: size,
            status,
            accepted,
            refused,
            this_run: sent_this_run.get(index).copied().unwrap_or(false),
            error,
        });
    }
    summary
}

pub fn print_summary(output: &Output, summary: &SummaryJson) {
    for batch in summary.batch_results.iter().filter(|batch| batch.status == Status::Unknown) {
        let when = if batch.this_run { "in this run" } else { "by an earlier run" };
        output.warn(format!(
            "batch {} ({} recipients) was started {when} but its outcome is unknown: it may or may not have been \
             sent, and it was not sent again",
            batch.batch, batch.recipients
        ));
    }
    if output.json {
        output.print_json(summary);
    } else {
        let mut table = output.table(["recipients", "count"]);
        table.add_row(["accepted".to_owned(), summary.accepted.to_string()]);
        table.add_row(["refused".to_owned(), summary.refused.to_string()]);
        table.add_row(["unknown".to_owned(), summary.unknown.to_string()]);
        table.add_row(["not attempted".to_owned(), summary.not_attempted.to_string()]);
        output.print_table(table);
        output.print(format!("journal: {}", summary.journal));
    }
    if summary.unknown > 0 {
        output.note(
            "check the panel's sent messages (payamak inbox --sent-unread) for the unknown batches; to send them \
             anyway, run the same command with --resend-unknown (their recipients may get the message twice)",
        );
    }
    if summary.not_attempted > 0 || summary.batch_results.iter().any(|batch| batch.status == Status::Refused) {
        output.note("run the same command again to send the batches that were not sent");
    }
}
