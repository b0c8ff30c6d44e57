//! The end of a `send-bulk` run: where every batch stands, as a table or JSON.

use std::path::Path;

use payamak::bulk::{BatchStatus, BatchSummary, BulkReport, ErrorRecord};
use payamak::Sms;
use serde::Serialize;

use crate::commands::TextJson;
use crate::csv_input::{CsvRecipients, DuplicateRow, InvalidRow};
use crate::failure::Exit;
use crate::output::Output;

/// One batch in the summary.
#[derive(Debug, Serialize)]
pub struct BatchJson {
    batch: usize,
    recipients: usize,
    #[serde(serialize_with = "status_name")]
    status: BatchStatus,
    accepted: usize,
    /// Accepted recipients without a recId: sent, but their delivery cannot be tracked.
    untracked: usize,
    refused: usize,
    /// Recipients the panel's answer confirmed neither way (they may have been sent).
    unconfirmed: usize,
    /// Sent (or tried) by this run, rather than found in the journal.
    this_run: bool,
    error: Option<ErrorJson>,
}

/// A batch's error, as the journal keeps it.
#[derive(Debug, Serialize)]
struct ErrorJson {
    kind: String,
    code: Option<i32>,
    message: String,
}

impl From<&ErrorRecord> for ErrorJson {
    fn from(record: &ErrorRecord) -> Self {
        ErrorJson { kind: record.kind.clone(), code: record.code, message: record.message.clone() }
    }
}

fn status_name<S: serde::Serializer>(status: &BatchStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match status {
        BatchStatus::Sent => "sent",
        BatchStatus::Refused => "refused",
        BatchStatus::Failed => "failed",
        BatchStatus::Unknown => "unknown",
        BatchStatus::Redirected => "redirected",
        BatchStatus::NotAttempted => "not_attempted",
        _ => "other",
    })
}

/// The summary of a run (its JSON document with `--json`).
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    /// The journal (without `--store`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) journal: Option<String>,
    /// The job store (with `--store`), for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) store: Option<String>,
    /// The campaign in the job store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) campaign: Option<i64>,
    resumed: bool,
    from: String,
    text: TextJson,
    recipients: usize,
    batches: usize,
    accepted: usize,
    refused: usize,
    /// Recipients that may or may not have been sent: in a batch whose outcome
    /// is unknown, or not confirmed by the panel's answer.
    unknown: usize,
    not_attempted: usize,
    pub(super) interrupted: bool,
    /// The invalid rows (with `--store`, the first ones: see `invalid_rows`).
    pub(super) invalid: Vec<InvalidRow>,
    /// With `--store`, how many rows are invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) invalid_rows: Option<u64>,
    /// The repeated rows (none listed with `--store`: see `repeated_numbers`).
    pub(super) duplicates: Vec<DuplicateRow>,
    /// With `--store`, how many repeated numbers the store dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) repeated_numbers: Option<u64>,
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

impl SummaryJson {
    /// A summary of `recipients` recipients from `from`, with no batch yet.
    pub fn new(resumed: bool, from: &str, text: TextJson, recipients: usize, batches: usize) -> Self {
        SummaryJson {
            journal: None,
            store: None,
            campaign: None,
            resumed,
            from: from.to_owned(),
            text,
            recipients,
            batches,
            accepted: 0,
            refused: 0,
            unknown: 0,
            not_attempted: 0,
            interrupted: false,
            invalid: Vec::new(),
            invalid_rows: None,
            duplicates: Vec::new(),
            repeated_numbers: None,
            batch_results: Vec::with_capacity(batches),
        }
    }

    /// Counts one batch, in order.
    pub fn add(&mut self, batch: &BatchSummary) {
        self.accepted += batch.accepted;
        self.refused += batch.refused;
        self.unknown += batch.unconfirmed;
        match batch.status {
            BatchStatus::Unknown => self.unknown += batch.recipients,
            BatchStatus::NotAttempted | BatchStatus::Failed | BatchStatus::Redirected => {
                self.not_attempted += batch.recipients
            }
            _ => {}
        }
        self.batch_results.push(BatchJson {
            batch: batch.index + 1,
            recipients: batch.recipients,
            status: batch.status,
            accepted: batch.accepted,
            untracked: batch.untracked,
            refused: batch.refused,
            unconfirmed: batch.unconfirmed,
            this_run: batch.this_run,
            error: batch.error.as_ref().map(ErrorJson::from),
        });
    }
}

/// Where every batch stands according to the journal, after this run.
pub fn summarize(
    journal: &Path,
    resumed: bool,
    report: &BulkReport,
    sms: &Sms,
    recipients: &CsvRecipients,
    text: TextJson,
) -> SummaryJson {
    let mut summary = SummaryJson::new(resumed, sms.sender(), text, sms.recipients().len(), report.batches.len());
    summary.journal = Some(journal.display().to_string());
    summary.interrupted = report.interrupted;
    summary.invalid = recipients.invalid.clone();
    summary.duplicates = recipients.duplicates.clone();
    for batch in &report.batches {
        summary.add(batch);
    }
    summary
}

/// `pending`: how many batches running the same command again would send.
pub fn print_summary(output: &Output, summary: &SummaryJson, pending: usize) {
    for batch in &summary.batch_results {
        let when = if batch.this_run { "in this run" } else { "by an earlier run" };
        if batch.status == BatchStatus::Unknown {
            output.warn(format!(
                "batch {} ({} recipients) was started {when} but its outcome is unknown: it may or may not have been \
                 sent, and it was not sent again",
                batch.batch, batch.recipients
            ));
        }
        if batch.untracked > 0 {
            output.warn(format!(
                "batch {}: the panel returned no recId for {} accepted recipient(s): they were sent, but their \
                 delivery cannot be tracked",
                batch.batch, batch.untracked
            ));
        }
        if batch.status != BatchStatus::Unknown && batch.unconfirmed > 0 {
            output.warn(format!(
                "batch {} was sent {when}, but the panel's answer did not confirm {} of its recipients (an unknown \
                 result code, or no recId): they may have been sent, and are not sent again",
                batch.batch, batch.unconfirmed
            ));
        }
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
        if let Some(journal) = &summary.journal {
            output.print(format!("journal: {journal}"));
        }
        if let (Some(store), Some(campaign)) = (&summary.store, summary.campaign) {
            output.print(format!("store: {store}, campaign {campaign}"));
        }
    }
    if summary.batch_results.iter().any(|batch| batch.status == BatchStatus::Unknown) {
        output.note(
            "check the panel's sent messages (payamak inbox --sent-unread) for the unknown batches; to send them \
             anyway, run the same command with --resend-unknown (their recipients may get the message twice)",
        );
    }
    for batch in summary.batch_results.iter().filter(|batch| batch.status == BatchStatus::Redirected) {
        let message = batch.error.as_ref().map_or("", |error| error.message.as_str());
        output.warn(format!(
            "batch {} was redirected and not sent ({message}); it is not sent again unless --resend-unknown asks",
            batch.batch
        ));
    }
    if pending > 0 {
        output.note(format!("run the same command again to send the {pending} batch(es) that were not sent"));
    }
}
