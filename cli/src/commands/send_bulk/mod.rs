//! Sends one text to every number of a CSV file, in journaled batches of 100:
//! `payamak send-bulk`.
//!
//! The batches go through the library's one bulk loop (`payamak::bulk::BulkJob`)
//! over a durable JSON-lines journal; this command reads the CSV, opens the
//! journal, shows progress and prints where every batch stands.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payamak::bulk::{
    BatchProgress, BulkJob, BulkObserver, BulkReport, Flow, JobHeader, Journal as _, JsonLinesJournal, Plan, PlanNote,
    RunError,
};
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::Sms;

use super::{check_parts, Context, DryRunJson, StreamedNumbers, TextJson};

/// The start of the job-store account (and idempotency key) of a file's send:
/// `send-bulk:<the CSV's canonical path>`.
pub const ACCOUNT_PREFIX: &str = "send-bulk:";

/// How many recipients a dry run lists in its table (`--json` lists them all).
const DRY_RUN_SHOWN: usize = 20;
use crate::args::SendBulkArgs;
use crate::csv_input::{self, DuplicateRow, InvalidRow};
use crate::failure::{describe, CliResult, Exit, Failure};
use crate::input;
use crate::output::Output;
use crate::session::Session;
use crate::store::StoreUrl;

mod marker;
mod store;
mod summary;
mod test_hooks;

use summary::{print_summary, summarize};

/// Runs `send-bulk`.
pub async fn run(args: SendBulkArgs, context: &Context) -> CliResult {
    let output = &context.output;
    if context.settings.endpoints.is_empty() && args.journal.is_none() && args.store.is_none() && !args.safety.dry_run {
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
    if args.safety.dry_run {
        return dry_run(&args, text, output);
    }
    if let Some(url) = store_of(&args)? {
        return store::run(&args, &url, text, context).await;
    }
    let mut recipients = csv_input::stream::collect(&args.recipients.csv, args.recipients.options())?;
    for note in &recipients.notes {
        output.note(format!("{}: {note}", args.recipients.csv.display()));
    }
    let rows = Rows {
        invalid: &recipients.invalid,
        invalid_total: recipients.invalid.len(),
        duplicates: &recipients.duplicates,
        duplicates_total: recipients.duplicates.len(),
    };
    report_rows(output, &rows, args.recipients.strict)?;
    if recipients.numbers.is_empty() {
        return Err(Failure::usage(format!("no valid recipient numbers in {}", args.recipients.csv.display())));
    }
    // The numbers move into the send: a million of them are held once.
    let sms = Sms::new(&args.from, text).to_numbers(std::mem::take(&mut recipients.numbers)).flash(args.flash);
    check_parts(&TextJson::of(sms.text()), args.safety.max_parts)?;
    marker::refuse_without_store(&args.recipients.csv)?;
    // Connecting makes no request; it settles which panel and user the journal is for.
    let session = context.connect().await?;
    let journal = open_journal(&args, &sms, &session, output)?;
    let mut job =
        BulkJob::new(&session.client, &sms)?.resend_unknown(args.resend_unknown).concurrency(args.concurrency);
    if let Some(batches) = args.write_ahead {
        job = job.write_ahead(batches);
    }
    // A journal that existed may not be the complete record of its run: check the panel before sending.
    if let Some(with) = journal.reconciliation() {
        job = job.reconcile_with_panel(with);
    }
    let text_info = TextJson::of(sms.text());
    if !output.json {
        output.info(text_info.describe());
    }
    let hooks = test_hooks::Hooks::from_env();
    let mut journal = hooks.journal(journal);
    let resumed = journal.inner().resumed();
    let path = journal.inner().path().to_owned();
    let mut observer = Observer::new(output, &job, &journal, hooks);
    let report = job.run(&mut journal, &mut observer).await.map_err(|error| match error {
        RunError::Journal(error) => Failure::usage(format!("the journal {}: {error}", path.display())),
        // Reading the panel's sent messages failed: its exit code is the client error's.
        other => Failure::from(anyhow::Error::new(other)),
    })?;
    observer.bar.finish_and_clear();

    let summary = summarize(&path, resumed, &report, &sms, &recipients, text_info);
    let pending = BulkJob::new(&session.client, &sms)?.plan(&journal).to_send.len();
    print_summary(output, &summary, pending);
    if let Some(failure) = &report.journal_failure {
        // After the summary, so that what this run sent is on record somewhere.
        let error = describe(&failure.error);
        for batch in &failure.outcomes_not_written {
            crate::stderr_line!(
                "error: batch {} was sent (see above) but its outcome could not be written to the journal; a new \
                 run will not send it again unless the journal shows it definitely was not: {error}",
                batch + 1
            );
        }
        for batch in &failure.not_sent {
            crate::stderr_line!("error: batch {} was not sent: the journal could not be written: {error}", batch + 1);
        }
        if failure.outcomes_not_written.is_empty() && failure.not_sent.is_empty() {
            crate::stderr_line!("error: the journal could not be written: {error}");
        }
    }
    Ok(summary.exit_code(stopped_by(&report)))
}

/// The job store a run sends through, or `None` for a journal: `--store`;
/// else, without `--journal`, the SQLite file the file's mark names, or
/// `<csv>.sqlite` unless the file has a journal from an earlier run (which
/// that run's send finishes).
fn store_of(args: &SendBulkArgs) -> Result<Option<StoreUrl>, Failure> {
    if args.store.is_some() || args.journal.is_some() {
        return Ok(args.store.clone());
    }
    let csv = &args.recipients.csv;
    if let Some(url) = marker::marked_store(csv)? {
        return Ok(Some(url));
    }
    if journal_path(args).exists() {
        return Ok(None);
    }
    Ok(Some(StoreUrl::Sqlite(with_suffix(csv, ".sqlite"))))
}

/// `path` with `suffix` after its name: `list.csv` and `.journal` give `list.csv.journal`.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut path = path.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

/// The journal of a run without a store: `--journal`, or `<csv>.journal`.
fn journal_path(args: &SendBulkArgs) -> PathBuf {
    args.journal.clone().unwrap_or_else(|| with_suffix(&args.recipients.csv, ".journal"))
}

/// The exit code of what stopped the run early, if anything did.
fn stopped_by(report: &BulkReport) -> Option<Exit> {
    match (&report.journal_failure, &report.failure) {
        (Some(failure), _) => Some(if failure.sent() { Exit::Unknown } else { Exit::Transport }),
        (None, Some((_, error))) => Some(Exit::of(error)),
        (None, None) => None,
    }
}

/// Opens (or resumes) the journal for this send, after checking it belongs to it.
fn open_journal(
    args: &SendBulkArgs,
    sms: &Sms,
    session: &Session,
    output: &Output,
) -> Result<JsonLinesJournal, Failure> {
    let path = journal_path(args);
    let header = JobHeader::new(sms, MAX_RECIPIENTS_PER_CALL, session.endpoints.clone(), session.username.clone())
        .source(args.recipients.csv.display().to_string());
    let journal = JsonLinesJournal::open(&path, header).map_err(Failure::usage)?;
    if journal.dropped_partial_line() {
        output.note("the journal's last line was cut short by an earlier crash and was dropped");
    }
    if journal.dropped_after_zeros() {
        output.warn(format!(
            "the journal {} had zero bytes before its last line (the machine went down before they were written): \
             the lines after them were dropped and kept in {}.dropped; the panel's sent messages are checked before \
             anything is sent",
            journal.path().display(),
            journal.path().display()
        ));
    }
    if journal.restarted() {
        output.warn(format!(
            "the journal {} had no complete header (emptied, or cut short): what it recorded is lost; the panel's \
             sent messages are checked before anything is sent",
            journal.path().display()
        ));
    }
    let (never_started, recorded_before): (Vec<usize>, Vec<usize>) =
        journal.withdrawn_on_open().iter().partition(|batch| !journal.batches().contains_key(batch));
    if let Some(batches) = describe_batches(&never_started) {
        output.note(format!(
            "{batches} had been written ahead by a run that stopped before sending them: they never left, and are \
             taken as never started"
        ));
    }
    if let Some(batches) = describe_batches(&recorded_before) {
        output.note(format!(
            "{batches} had been written ahead by a run that stopped before sending them: that run did not send \
             them, and what the journal recorded of them before stands"
        ));
    }
    if journal.resumed() {
        let done = journal.batches().values().filter(|record| record.outcome.is_some()).count();
        let batches = sms.recipients().len().div_ceil(MAX_RECIPIENTS_PER_CALL);
        output.note(format!(
            "resuming from the journal {} ({done} of {batches} batches have an outcome)",
            journal.path().display()
        ));
    }
    Ok(journal)
}

/// "batch 3" or "batches 3, 4 and 5" (1-based), for 0-based `batches`; `None` for none.
fn describe_batches(batches: &[usize]) -> Option<String> {
    let numbers: Vec<String> = batches.iter().map(|batch| (batch + 1).to_string()).collect();
    match numbers.as_slice() {
        [] => None,
        [one] => Some(format!("batch {one}")),
        [rest @ .., last] => Some(format!("batches {} and {last}", rest.join(", "))),
    }
}

/// Shows a run's progress, and stops it on Ctrl-C.
struct Observer<'a> {
    output: &'a Output,
    batches: usize,
    bar: ProgressBar,
    interrupt: Arc<AtomicBool>,
    hooks: test_hooks::Hooks,
}

impl<'a> Observer<'a> {
    fn new(
        output: &'a Output,
        job: &BulkJob<'_>,
        journal: &impl payamak::bulk::Journal,
        hooks: test_hooks::Hooks,
    ) -> Self {
        let bar = progress_bar(output, job, journal);
        let interrupt = watch_ctrl_c(bar.clone());
        Observer { output, batches: job.batches().len(), bar, interrupt, hooks }
    }
}

impl Observer<'_> {
    /// Stop once Ctrl-C was pressed.
    fn flow(&self) -> Flow {
        if self.interrupt.load(Ordering::SeqCst) {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

impl BulkObserver for Observer<'_> {
    fn planned(&mut self, plan: &Plan) {
        for note in &plan.notes {
            match note {
                PlanNote::ResendingFailed { batch, recipients, error } => self.output.note(format!(
                    "batch {} ({recipients} recipients) was not sent by an earlier run ({}); sending it again",
                    batch + 1,
                    error.message
                )),
                PlanNote::ResendingRedirected { batch, recipients, error } => self.output.warn(format!(
                    "batch {} ({recipients} recipients) was redirected in an earlier run ({}); sending it again as \
                     --resend-unknown asks",
                    batch + 1,
                    error.message
                )),
                PlanNote::FoundOnThePanel { batch, recipients, found } => self.output.warn(format!(
                    "batch {} ({recipients} recipients) is not in the journal as sent, but the panel's sent messages \
                     show {found} of its recipients received this text: not sending it again (its outcome is \
                     recorded as unknown)",
                    batch + 1
                )),
                PlanNote::ResendingUnknown { batch, recipients } => self.output.warn(format!(
                    "batch {} ({recipients} recipients) has an unknown outcome; sending it again as --resend-unknown \
                     asks (its recipients may get the message twice)",
                    batch + 1
                )),
                _ => {}
            }
        }
    }

    async fn before_batch(&mut self, batch: usize, _recipients: usize) -> Flow {
        self.bar.set_message(format!("batch {}/{}", batch + 1, self.batches));
        self.hooks.before_batch().await;
        self.flow()
    }

    fn before_leaving(&mut self, _batch: usize) -> Flow {
        self.flow()
    }

    fn after_batch(&mut self, progress: BatchProgress<'_>) {
        match progress.result {
            Ok(report) => self.bar.inc(report.recipients.len() as u64),
            Err(error) => self.bar.suspend(|| {
                crate::stderr_line!("error: batch {}: {}", progress.batch + 1, describe(error));
                crate::stderr_line!("stopping: the batches after it were not sent");
            }),
        }
    }
}

/// How many rows of each kind `report_rows` lists.
const ROWS_SHOWN: usize = 20;

/// The rows a file's recipients leave out: the first of each kind (at least
/// [`ROWS_SHOWN`] when there are as many), and how many in all.
struct Rows<'a> {
    invalid: &'a [InvalidRow],
    invalid_total: usize,
    duplicates: &'a [DuplicateRow],
    duplicates_total: usize,
}

/// Refuses the run under `--strict` (`strict`) when a row is invalid; else
/// warns of the invalid rows and notes the repeated numbers.
fn report_rows(output: &Output, rows: &Rows<'_>, strict: bool) -> Result<(), Failure> {
    refuse_invalid_rows(rows, strict)?;
    warn_invalid_rows(output, rows);
    if rows.duplicates_total > 0 {
        let lines: Vec<String> = rows.duplicates.iter().take(ROWS_SHOWN).map(|row| row.line.to_string()).collect();
        let more = if rows.duplicates_total > ROWS_SHOWN { ", ..." } else { "" };
        output.note(format!(
            "{} repeated number(s) sent to once (lines {}{more})",
            rows.duplicates_total,
            lines.join(", ")
        ));
    }
    Ok(())
}

/// `--strict` (`strict`) refuses a file with an invalid row, listing the first.
fn refuse_invalid_rows(rows: &Rows<'_>, strict: bool) -> Result<(), Failure> {
    if !strict || rows.invalid_total == 0 {
        return Ok(());
    }
    let lines: Vec<String> = rows
        .invalid
        .iter()
        .take(ROWS_SHOWN)
        .map(|row| format!("line {}: {:?} {}", row.line, row.input, row.reason))
        .collect();
    let more = rows.invalid_total.saturating_sub(lines.len());
    let more = if more > 0 { format!("; and {more} more") } else { String::new() };
    Err(Failure::usage(format!(
        "{} invalid number(s), nothing sent (--strict): {}{more}",
        rows.invalid_total,
        lines.join("; ")
    )))
}

/// Warns of the first invalid rows, skipped, and of how many more there are.
fn warn_invalid_rows(output: &Output, rows: &Rows<'_>) {
    for row in rows.invalid.iter().take(ROWS_SHOWN) {
        output.warn(format!("line {}: invalid mobile number {:?} ({}); skipped", row.line, row.input, row.reason));
    }
    if rows.invalid_total > ROWS_SHOWN {
        output.warn(format!("... and {} more invalid numbers, skipped", rows.invalid_total - ROWS_SHOWN));
    }
}

/// `--dry-run`: what the send would do, read from the file as a stream. The
/// numbers are not held: one pass counts them (and refuses the run as a send
/// would), and `--json` reads the file again to list them as it writes them.
fn dry_run(args: &SendBulkArgs, text: String, output: &Output) -> CliResult {
    let csv = &args.recipients.csv;
    let scan = csv_input::stream::scan(csv, args.recipients.options(), ROWS_SHOWN.max(DRY_RUN_SHOWN))?;
    for note in &scan.notes {
        output.note(format!("{}: {note}", csv.display()));
    }
    let rows = Rows {
        invalid: &scan.invalid,
        invalid_total: scan.invalid_total,
        duplicates: &scan.duplicates,
        duplicates_total: scan.duplicates_total,
    };
    report_rows(output, &rows, args.recipients.strict)?;
    if scan.unique == 0 {
        return Err(Failure::usage(format!("no valid recipient numbers in {}", csv.display())));
    }
    // The send's own checks of the sender and the text, on its first recipients.
    let sms = Sms::new(&args.from, text).to_numbers(scan.first.iter().cloned()).flash(args.flash);
    let text_info = TextJson::of(sms.text());
    check_parts(&text_info, args.safety.max_parts)?;
    // Nothing is sent, and no journal or store is opened or written.
    if !output.json {
        DryRunJson::new(sms.sender(), text_info, scan.unique, &scan.first, ()).print_table(output, DRY_RUN_SHOWN);
        return Ok(Exit::Ok);
    }
    let numbers = csv_input::stream::unique_numbers(csv, args.recipients.options())?;
    let recipients = StreamedNumbers::new(numbers, scan.unique, scan.fingerprint.clone(), csv.display().to_string());
    let dry_run = DryRunJson::new(sms.sender(), text_info, scan.unique, &scan.first, recipients);
    output.try_print_json(&dry_run).map_err(|error| match error.is_io() {
        true => Failure::usage(format!("cannot write JSON: {error}")),
        false => Failure::usage(error.to_string()),
    })?;
    Ok(Exit::Ok)
}

fn progress_bar(output: &Output, job: &BulkJob<'_>, journal: &impl payamak::bulk::Journal) -> ProgressBar {
    let target = if output.json || output.quiet || !output.stderr_tty {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let total: usize = job.batches().iter().map(|batch| batch.recipients().len()).sum();
    let progress = ProgressBar::with_draw_target(Some(total as u64), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} recipients, {msg} [{elapsed_precise}]") {
        progress.set_style(style);
    }
    let to_send = job.plan(journal).to_send;
    let handled: usize = job
        .batches()
        .iter()
        .enumerate()
        .filter(|(index, _)| !to_send.contains(index) && journal.batches().contains_key(index))
        .map(|(_, batch)| batch.recipients().len())
        .sum();
    progress.set_position(handled as u64);
    progress
}

/// The first Ctrl-C lets the batches on their way finish; the second stops at once.
fn watch_ctrl_c(progress: ProgressBar) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        set.store(true, Ordering::SeqCst);
        progress.suspend(|| {
            crate::stderr_line!(
                "interrupted: finishing the batches on their way, then stopping (Ctrl-C again stops at once, \
                 leaving their outcome unknown)"
            );
        });
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(Exit::Interrupted as i32);
        }
    });
    flag
}
