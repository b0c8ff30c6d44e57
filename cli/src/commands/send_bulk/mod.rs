//! `payamak send-bulk`: one text to every number of a CSV file, in journaled batches of 100.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::{Error, Sms};

use super::{Context, TextJson};
use crate::args::SendBulkArgs;
use crate::csv_input::{self, CsvRecipients};
use crate::failure::{CliResult, Exit, Failure};
use crate::input;
use crate::journal::{self, BatchResult, BatchState, ErrorRecord, Journal, SentRecipient};
use crate::output::Output;
use crate::session::Session;

mod summary;
mod test_hooks;

use summary::{print_summary, summarize};

/// Runs `send-bulk`.
pub async fn run(args: SendBulkArgs, context: &Context) -> CliResult {
    let output = &context.output;
    if context.settings.endpoints.is_empty() && args.journal.is_none() {
        // Its journal would say every batch was sent; resumed later against the
        // real panel, that run would send nothing.
        return Err(Failure::usage(
            "no endpoint configured: send-bulk would only send to the built-in emulator. Set --endpoint, \
             PAYAMAK_ENDPOINT or endpoint in the config file for a real panel; to try send-bulk against the \
             built-in emulator, give a journal of its own with --journal FILE",
        ));
    }
    let text = input::text(args.text.as_deref())?;
    if args.from.trim().is_empty() {
        return Err(Failure::usage("--from is empty"));
    }
    let recipients = csv_input::read(&args.csv, args.column.as_deref())?;
    report_rows(output, &recipients, args.strict)?;
    if recipients.numbers.is_empty() {
        return Err(Failure::usage(format!("no valid recipient numbers in {}", args.csv.display())));
    }
    let sms = Sms::new(&args.from, text).to_numbers(recipients.numbers.iter().cloned()).flash(args.flash);
    let batches: Vec<Sms> = sms.batches(MAX_RECIPIENTS_PER_CALL).collect();
    // Connecting makes no request; it settles which panel and user the journal is for.
    let session = context.connect().await?;
    let mut journal = open_journal(&args, &sms, &batches, &session, output)?;
    let text_info = TextJson::of(sms.text());
    if !output.json {
        output.print(text_info.describe());
    }

    let to_send = plan(&journal, &batches, args.resend_unknown, output);
    let progress = if to_send.is_empty() {
        Progress::default()
    } else {
        send_batches(&session.client, &mut journal, &batches, &to_send, output).await
    };

    let summary = summarize(&journal, &batches, &progress.sent, &recipients, text_info, progress.interrupted);
    print_summary(output, &summary);
    if let Some(failure) = &progress.journal_error {
        // After the summary, so that what this run sent is on record somewhere.
        eprintln!("error: {}", failure.message());
    }
    Ok(summary.exit_code(progress.stopped_by))
}

/// Opens (or resumes) the journal for this send, after checking it belongs to it.
fn open_journal(
    args: &SendBulkArgs,
    sms: &Sms,
    batches: &[Sms],
    session: &Session,
    output: &Output,
) -> Result<Journal, Failure> {
    let path = args.journal.clone().unwrap_or_else(|| {
        let mut path = args.csv.clone().into_os_string();
        path.push(".journal");
        PathBuf::from(path)
    });
    let header = journal::Header {
        version: journal::VERSION,
        endpoints: session.endpoints.clone(),
        username: session.username.clone(),
        from: sms.sender().to_owned(),
        text: sms.text().to_owned(),
        flash: sms.is_flash(),
        recipients: sms.recipients().len(),
        recipients_fnv1a: journal::fingerprint(sms.recipients().iter().map(|number| number.as_str())),
        batch_size: MAX_RECIPIENTS_PER_CALL,
        csv: args.csv.display().to_string(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let journal = Journal::open(&path, header)?;
    check_attempted_numbers(&journal, batches)?;
    if journal.dropped_partial_line {
        output.note("the journal's last line was cut short by an earlier crash and was dropped");
    }
    if journal.resumed {
        let done = journal.batches.values().filter(|state| matches!(state, BatchState::Done(_))).count();
        output.note(format!(
            "resuming from the journal {} ({done} of {} batches have an outcome)",
            journal.path().display(),
            batches.len()
        ));
    }
    Ok(journal)
}

/// The batches this run sends: those never started, those an earlier run
/// definitely did not send, and (only with `--resend-unknown`) those with an
/// unknown outcome.
fn plan(journal: &Journal, batches: &[Sms], resend_unknown: bool, output: &Output) -> Vec<usize> {
    let mut to_send = Vec::new();
    for (index, batch) in batches.iter().enumerate() {
        match journal.batches.get(&index) {
            None => to_send.push(index),
            Some(BatchState::Done(BatchResult::Sent { .. })) => {}
            Some(BatchState::Done(BatchResult::Failed { error })) => {
                output.note(format!(
                    "batch {} ({} recipients) was not sent by an earlier run ({}); sending it again",
                    index + 1,
                    batch.recipients().len(),
                    error.message
                ));
                to_send.push(index);
            }
            Some(BatchState::Attempted | BatchState::Done(BatchResult::Unknown { .. })) => {
                if resend_unknown {
                    output.warn(format!(
                        "batch {} ({} recipients) has an unknown outcome; sending it again as --resend-unknown asks \
                         (its recipients may get the message twice)",
                        index + 1,
                        batch.recipients().len()
                    ));
                    to_send.push(index);
                }
            }
        }
    }
    to_send
}

/// What the sending part of a run did.
#[derive(Debug, Default)]
struct Progress {
    /// Per batch: whether this run started it.
    sent: Vec<bool>,
    /// The exit code of the error that stopped the run early.
    stopped_by: Option<Exit>,
    /// Whether Ctrl-C stopped the run.
    interrupted: bool,
    /// The journal write that failed and stopped the run, if one did.
    journal_error: Option<Failure>,
}

/// Sends the batches `to_send`, one after the other, journaling each before and after.
///
/// The first batch that fails stops the run, as does a journal write that
/// fails (exit 3, or 4 if a batch's outcome could not be written); Ctrl-C
/// stops it after the batch in flight.
async fn send_batches(
    client: &payamak::Client,
    journal: &mut Journal,
    batches: &[Sms],
    to_send: &[usize],
    output: &Output,
) -> Progress {
    let total = batches.iter().map(|batch| batch.recipients().len()).sum();
    let bar = progress_bar(output, total, journal, batches, to_send);
    let interrupt = watch_ctrl_c(bar.clone());
    let hooks = test_hooks::Hooks::from_env();
    let mut progress = Progress { sent: vec![false; batches.len()], ..Progress::default() };
    for (position, &index) in to_send.iter().enumerate() {
        let batch = &batches[index];
        bar.set_message(format!("batch {}/{}", index + 1, batches.len()));
        hooks.before_batch().await;
        if interrupt.load(Ordering::SeqCst) {
            progress.interrupted = true;
            break;
        }
        let numbers = batch.recipients().iter().map(|number| number.as_str().to_owned()).collect();
        if let Err(error) = hooks.attempt_write(position).and_then(|()| journal.record_attempt(index, numbers)) {
            let context = format!("batch {} was not sent: its attempt could not be written to the journal", index + 1);
            progress.journal_error = Some(Failure::with_exit(Exit::Transport, error.context(context)));
            progress.stopped_by = Some(Exit::Transport);
            break;
        }
        hooks.after_attempt(position);
        progress.sent[index] = true;
        let result = client.send(batch).await;
        hooks.after_send(position);
        let (record, failure) = batch_result(result);
        if let Err(error) = hooks.outcome_write(position).and_then(|()| journal.record_outcome(index, record)) {
            let context = format!(
                "batch {} was sent but its outcome could not be written to the journal; a new run will treat it as \
                 unknown",
                index + 1
            );
            progress.journal_error = Some(Failure::with_exit(Exit::Unknown, error.context(context)));
            progress.stopped_by = Some(Exit::Unknown);
            break;
        }
        hooks.after_outcome(position);
        bar.inc(batch.recipients().len() as u64);
        if let Some((exit, error)) = failure {
            bar.suspend(|| {
                eprintln!("error: batch {}: {}", index + 1, Failure::from(error).message());
                eprintln!("stopping: the batches after it were not sent");
            });
            progress.stopped_by = Some(exit);
            break;
        }
    }
    bar.finish_and_clear();
    progress
}

/// What to journal for a batch's send, and the error that stops the run, if any.
fn batch_result(result: Result<payamak::SendReport, Error>) -> (BatchResult, Option<(Exit, Error)>) {
    match result {
        Ok(report) => {
            let recipients = report
                .recipients
                .iter()
                .map(|recipient| SentRecipient {
                    number: recipient.number.as_str().to_owned(),
                    rec_id: recipient.rec_id,
                    status: recipient.status.map(|status| status.code()),
                    accepted: recipient.is_accepted(),
                })
                .collect();
            (BatchResult::Sent { recipients }, None)
        }
        Err(error) => {
            let record = error_record(&error);
            let exit = Exit::of(&error);
            let result = if exit == Exit::Unknown {
                BatchResult::Unknown { error: record }
            } else {
                BatchResult::Failed { error: record }
            };
            (result, Some((exit, error)))
        }
    }
}

/// Warns about invalid and repeated numbers; with `strict`, invalid ones are fatal.
fn report_rows(output: &Output, recipients: &CsvRecipients, strict: bool) -> Result<(), Failure> {
    const SHOWN: usize = 20;
    if strict && !recipients.invalid.is_empty() {
        let lines: Vec<String> = recipients
            .invalid
            .iter()
            .take(SHOWN)
            .map(|row| format!("line {}: {:?} {}", row.line, row.input, row.reason))
            .collect();
        let more = recipients.invalid.len().saturating_sub(SHOWN);
        let more = if more > 0 { format!("; and {more} more") } else { String::new() };
        return Err(Failure::usage(format!(
            "{} invalid number(s), nothing sent (--strict): {}{more}",
            recipients.invalid.len(),
            lines.join("; ")
        )));
    }
    for row in recipients.invalid.iter().take(SHOWN) {
        output.warn(format!("line {}: invalid mobile number {:?} ({}); skipped", row.line, row.input, row.reason));
    }
    if recipients.invalid.len() > SHOWN {
        output.warn(format!("... and {} more invalid numbers, skipped", recipients.invalid.len() - SHOWN));
    }
    if !recipients.duplicates.is_empty() {
        let lines: Vec<String> = recipients.duplicates.iter().take(SHOWN).map(|row| row.line.to_string()).collect();
        let more = if recipients.duplicates.len() > SHOWN { ", ..." } else { "" };
        output.note(format!(
            "{} repeated number(s) sent to once (lines {}{more})",
            recipients.duplicates.len(),
            lines.join(", ")
        ));
    }
    Ok(())
}

/// Refuses a journal whose attempted batches were sent to other numbers than this run's batches.
fn check_attempted_numbers(journal: &Journal, batches: &[Sms]) -> Result<(), Failure> {
    for (&index, numbers) in &journal.attempted_numbers {
        let matches = batches.get(index).is_some_and(|batch| {
            batch.recipients().len() == numbers.len()
                && batch.recipients().iter().zip(numbers).all(|(number, written)| number.as_str() == written)
        });
        if !matches {
            return Err(Failure::usage(format!(
                "the journal {} records batch {} with other recipients than this CSV gives; it belongs to another send",
                journal.path().display(),
                index + 1
            )));
        }
    }
    Ok(())
}

fn error_record(error: &Error) -> ErrorRecord {
    let failure = Failure::with_exit(Exit::of(error), anyhow::anyhow!("{error}"));
    let code = match error {
        Error::Rejected(rejected) => Some(rejected.code),
        _ => None,
    };
    let kind = match error {
        Error::Rejected(_) => "rejected",
        Error::Input(_) => "input",
        Error::Transport(_) => "transport",
        Error::Response(_) => "response",
        Error::OutcomeUnknown(_) => "outcome_unknown",
        _ => "other",
    };
    ErrorRecord { kind: kind.to_owned(), code, message: failure.message() }
}

fn progress_bar(output: &Output, total: usize, journal: &Journal, batches: &[Sms], to_send: &[usize]) -> ProgressBar {
    let target =
        if output.json || !output.stderr_tty { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
    let progress = ProgressBar::with_draw_target(Some(total as u64), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} recipients, {msg} [{elapsed_precise}]") {
        progress.set_style(style);
    }
    let handled: usize = batches
        .iter()
        .enumerate()
        .filter(|(index, _)| !to_send.contains(index) && journal.batches.contains_key(index))
        .map(|(_, batch)| batch.recipients().len())
        .sum();
    progress.set_position(handled as u64);
    progress
}

/// The first Ctrl-C lets the current batch finish; the second stops at once.
fn watch_ctrl_c(progress: ProgressBar) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        set.store(true, Ordering::SeqCst);
        progress.suspend(|| {
            eprintln!(
                "interrupted: finishing the current batch, then stopping (Ctrl-C again stops at once, \
                 leaving that batch's outcome unknown)"
            );
        });
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(Exit::Interrupted as i32);
        }
    });
    flag
}
