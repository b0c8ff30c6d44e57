//! `send-bulk --store URL`: the CSV streamed into one campaign of a job store,
//! then sent by a worker in this process until nothing is left to claim.
//!
//! One CSV file (by its canonical path) is one campaign: its account and its
//! idempotency key are both `send-bulk:<path>`, so a rerun finds it whatever
//! else changed. What the send is (panel, user, sender, text, flash,
//! recipients by count and fingerprint, batch size) is kept as a journal
//! header in the campaign's `source`, and compared field by field on a rerun:
//! a key made of those fields would instead start a second campaign when the
//! file is edited, sending everyone again.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payamak::bulk::{BatchOutcome, BatchSummary, JobHeader, RecipientsFingerprint, Reconciliation};
use payamak::campaign::{
    reconcile_with_panel, BatchState, CampaignId, CampaignPhase, CampaignSpec, Counts, Handled, Lease, ReconcileError,
    Store, Transition, Worker, WorkerObserver, WorkerOptions, WorkerReport, CAMPAIGN_PRIORITY,
};
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::Sms;

use super::summary::{print_summary, SummaryJson};
use super::watch_ctrl_c;
use super::{marker, test_hooks};
use crate::args::SendBulkArgs;
use crate::commands::{campaign, check_parts, worker, Context, TextJson};
use crate::csv_input::stream::{self, StreamRow};
use crate::csv_input::InvalidRow;
use crate::failure::{CliResult, Exit, Failure};
use crate::output::Output;
use crate::store::{AnyStore, StoreUrl};

/// How many invalid rows are shown (all are counted).
const SHOWN: usize = 20;

/// Batch rows read from the store at a time.
const PAGE: u64 = 100;

/// What a first pass over the CSV found, holding no number.
struct Scan {
    fingerprint: RecipientsFingerprint,
    invalid: Vec<InvalidRow>,
    invalid_rows: u64,
    notes: Vec<String>,
}

/// Reads the CSV once, as the import will: the valid numbers' count and fingerprint, the first invalid rows.
fn scan(args: &SendBulkArgs) -> Result<Scan, Failure> {
    let csv = &args.recipients;
    let rows = stream::open(&csv.csv, csv.options()).map_err(|error| Failure::with_exit(Exit::Usage, error))?;
    let mut scan = Scan {
        fingerprint: RecipientsFingerprint::default(),
        invalid: Vec::new(),
        invalid_rows: 0,
        notes: rows.notes.clone(),
    };
    for row in rows {
        match row.map_err(|error| Failure::with_exit(Exit::Usage, error))? {
            (_, StreamRow::Number(number)) => scan.fingerprint.push(number.as_str()),
            (_, StreamRow::Invalid(row)) => {
                scan.invalid_rows += 1;
                if scan.invalid.len() < SHOWN {
                    scan.invalid.push(row);
                }
            }
        }
    }
    Ok(scan)
}

/// Runs `send-bulk --store`.
pub async fn run(args: &SendBulkArgs, url: &StoreUrl, text: String, context: &Context) -> CliResult {
    let output = &context.output;
    let csv = &args.recipients.csv;
    if context.settings.endpoints.is_empty() {
        // A store's campaign is for a panel: one sent to the built-in emulator would pass for sent.
        return Err(Failure::usage(
            "no endpoint configured: send-bulk --store sends to a panel. Set --endpoint, PAYAMAK_ENDPOINT or \
             endpoint in the config file",
        ));
    }
    // A journal's run must be finished (or refused) by the journal, never started afresh in a store.
    let journal = super::with_suffix(csv, ".journal");
    if journal.exists() {
        return Err(Failure::usage(format!(
            "{} holds a send-bulk of this file: finish it without --store (what it recorded is not in the store, \
             and its batches would be sent again); nothing sent",
            journal.display()
        )));
    }
    marker::refuse_another_store(csv, url)?;
    let canonical = std::fs::canonicalize(csv)
        .map_err(|error| Failure::usage(format!("cannot open the CSV file {}: {error}", csv.display())))?;
    let name = format!("send-bulk:{}", canonical.display());
    let scan = scan(args)?;
    if args.recipients.strict && scan.invalid_rows > 0 {
        let lines: Vec<String> =
            scan.invalid.iter().map(|row| format!("line {}: {:?} {}", row.line, row.input, row.reason)).collect();
        let more = scan.invalid_rows.saturating_sub(scan.invalid.len() as u64);
        let more = if more > 0 { format!("; and {more} more") } else { String::new() };
        return Err(Failure::usage(format!(
            "{} invalid number(s), nothing sent (--strict): {}{more}",
            scan.invalid_rows,
            lines.join("; ")
        )));
    }
    if scan.fingerprint.count() == 0 {
        return Err(Failure::usage(format!("no valid recipient numbers in {}", csv.display())));
    }
    let from = args.from.trim().to_owned();
    let text_info = TextJson::of(&text);
    check_parts(&text_info, args.safety.max_parts)?;
    // Connecting makes no request; it settles which panel and user the send is for.
    let session = context.connect().await?;
    let mut header = JobHeader::new(
        &Sms::new(&from, text.clone()).flash(args.flash),
        MAX_RECIPIENTS_PER_CALL,
        session.endpoints.clone(),
        session.username.clone(),
    )
    .source(canonical.display().to_string());
    header.recipients = scan.fingerprint.count();
    header.recipients_fnv1a = scan.fingerprint.finish();
    let identity = serde_json::to_string(&header).map_err(Failure::usage)?;
    let account = campaign::account_of(context, Some(&name), None, None, 1, 0)?;

    let store = url.open().await?;
    let known = store.accounts().await.map_err(Failure::usage)?.iter().any(|state| state.account.name == name);
    if !known {
        store.put_account(&account).await.map_err(Failure::usage)?;
    }
    let spec = CampaignSpec {
        account: name.clone(),
        from,
        text,
        flash: args.flash,
        priority: CAMPAIGN_PRIORITY,
        idempotency_key: Some(name.clone()),
        source: identity,
    };
    let created = store.create_campaign(&spec).await.map_err(Failure::usage)?;
    let id = created.id;
    let info = store
        .campaign(id)
        .await
        .map_err(Failure::usage)?
        .ok_or_else(|| Failure::usage(format!("campaign {id} is not in {}", url.describe())))?;
    if created.existed {
        let kept: JobHeader = serde_json::from_str(&info.spec.source).map_err(|_| {
            Failure::usage(format!(
                "campaign {id} of {} has the key {name:?} but was not made by send-bulk; nothing sent",
                url.describe()
            ))
        })?;
        let differences = kept.differences_in(&header, "the store");
        if !differences.is_empty() {
            return Err(Failure::usage(format!(
                "campaign {id} of {} belongs to another send of {}: {}; nothing sent (the file's send is one \
                 campaign: to send this one, copy the file under another name)",
                url.describe(),
                csv.display(),
                differences.join("; ")
            )));
        }
        // The same panel and user: the credentials reference is this run's.
        store.put_account(&account).await.map_err(Failure::usage)?;
    }
    // The file was marked by an earlier run, but the store has no campaign of it
    // (the store was lost or emptied) or another one: what was sent is not in it.
    let mark = marker::read(csv)?;
    let lost = mark.as_ref().is_some_and(|mark| !created.existed || mark.campaign != id.0);
    // The store may hold less than the last run left (an older copy put back),
    // or the last run did not end (a crash: a copy may have been put back since).
    let behind = created.existed && !lost && {
        let attempted = attempted(&store, id).await?;
        mark.as_ref().and_then(|mark| mark.ended).is_none_or(|ended| attempted < ended)
    };
    // Before anything is sent: a run without this store must not start the file
    // afresh, and the next run must know whether this one ended.
    marker::write(csv, url, id.0, None).map_err(|error| {
        Failure::usage(format!("cannot write {}: {error}; nothing sent", marker::path_for(csv).display()))
    })?;
    let resumed = created.existed && info.phase == CampaignPhase::Ready;
    for note in &scan.notes {
        output.note(format!("{}: {note}", csv.display()));
    }
    if resumed {
        for row in &scan.invalid {
            output.warn(format!("line {}: invalid mobile number {:?} ({}); skipped", row.line, row.input, row.reason));
        }
        if scan.invalid_rows > SHOWN as u64 {
            output.warn(format!("... and {} more invalid numbers, skipped", scan.invalid_rows - SHOWN as u64));
        }
    } else {
        // A new campaign, or one whose import stopped half-way (its repeats are dropped again).
        let mut csv_args = args.recipients.clone();
        csv_args.strict = false;
        campaign::import(&store, id, &csv_args, output).await?;
    }
    if !output.json {
        output.info(text_info.describe());
    }
    if resumed {
        requeue(&store, id, args.resend_unknown, output).await?;
    }
    // What the store holds may not be the whole record: the panel's sent messages are checked first.
    let window = if lost {
        Some(Reconciliation::AllTime)
    } else if behind {
        let started = chrono::DateTime::parse_from_rfc3339(&header_created_at(&info.spec.source));
        Some(started.map_or(Reconciliation::AllTime, |at| Reconciliation::Since(at.to_utc())))
    } else {
        None
    };
    if let Some(window) = window {
        reconcile(&store, &session.client, id, window, output).await?;
    }

    let states = store.accounts().await.map_err(Failure::usage)?;
    let ours: Vec<_> = states.into_iter().filter(|state| state.account.name == name).collect();
    let clients = worker::clients(&ours, context)?;
    if clients.is_empty() {
        return Err(Failure::usage(format!("no password for the user {:?}: nothing sent", session.username)));
    }
    let info = store.campaign(id).await.map_err(Failure::usage)?.unwrap_or(info);
    let counts = store.counts(Some(id)).await.map_err(Failure::usage)?;
    let handled_before = info.recipients.saturating_sub(counts.recipients(BatchState::Pending));
    let bar = progress_bar(output, info.recipients, handled_before);
    let interrupt = watch_ctrl_c(bar.clone());
    let mut observer = Observer {
        campaign: id,
        bar: bar.clone(),
        interrupt,
        this_run: BTreeSet::new(),
        stopped: false,
        unrecorded: 0,
        hooks: test_hooks::Hooks::from_env(),
        attempts: 0,
    };
    let worked = Worker::new(&store, &clients, worker_options(args, &name)).run(&mut observer).await;
    bar.finish_and_clear();
    // The store failed under the worker: what it recorded is still summarized when it can be read.
    let (report, store_failure) = match worked {
        Ok(report) => (report, None),
        Err(error) => (WorkerReport::default(), Some(error)),
    };
    let store_failed = |error: &payamak::campaign::StoreError| {
        format!(
            "the job store {} failed: {}; the batches not sent stay for the next run",
            url.describe(),
            crate::failure::describe(error)
        )
    };

    let interrupted = observer.interrupt.load(Ordering::SeqCst);
    let mut summary = SummaryJson::new(
        resumed,
        &spec.from,
        text_info,
        usize::try_from(info.recipients).unwrap_or(usize::MAX),
        usize::try_from(counts.total()).unwrap_or(usize::MAX),
    );
    summary.store = Some(url.describe());
    summary.campaign = Some(id.0);
    summary.interrupted = interrupted;
    summary.invalid = scan.invalid;
    summary.invalid_rows = Some(scan.invalid_rows);
    summary.repeated_numbers = Some(info.duplicates);
    let ended = match summarize(&store, id, &observer.this_run, &mut summary).await {
        Ok(ended) => ended,
        Err(failure) => {
            let Some(error) = store_failure else { return Err(failure) };
            // No summary: a batch on its way when the store failed may have been sent.
            let exit = if observer.unsettled() { Exit::Unknown } else { Exit::Transport };
            return Err(Failure::with_exit(exit, anyhow::anyhow!(store_failed(&error))));
        }
    };
    let pending = ended.pending + ended.failed;
    print_summary(output, &summary, usize::try_from(pending).unwrap_or(usize::MAX));
    if store_failure.is_none() {
        // The run ended with the store whole: the next one need not check the panel unless it holds less.
        let written = match store.counts(Some(id)).await {
            Ok(counts) => marker::write(csv, url, id.0, Some(attempted_of(&counts))).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = written {
            output.warn(format!(
                "cannot record the end of this run in {}: {error}; the next run checks the panel's sent messages \
                 before it sends",
                marker::path_for(csv).display()
            ));
        }
    }
    let mut stopped = stopped_by(&ended, &report, output);
    if let Some(error) = &store_failure {
        crate::stderr_line!("error: {}", store_failed(error));
        let exit = if observer.unsettled() { Exit::Unknown } else { Exit::Transport };
        stopped = Some(stopped.map_or(exit, |worst| worst.worst(exit)));
    }
    Ok(summary.exit_code(stopped))
}

/// The campaign's batches the store holds as attempted or past it.
async fn attempted(store: &AnyStore, id: CampaignId) -> Result<u64, Failure> {
    Ok(attempted_of(&store.counts(Some(id)).await.map_err(Failure::usage)?))
}

/// The batches of `counts` attempted or past it.
fn attempted_of(counts: &Counts) -> u64 {
    counts.total().saturating_sub(counts.batches(BatchState::Pending) + counts.batches(BatchState::Claimed))
}

/// When the send of a campaign's `source` (its first run's journal header) began.
fn header_created_at(source: &str) -> String {
    serde_json::from_str::<JobHeader>(source).map(|header| header.created_at).unwrap_or_default()
}

/// Moves the pending batches the panel shows were sent (within `window`) to
/// unknown, and says which; sends nothing when the panel cannot be read.
async fn reconcile(
    store: &AnyStore,
    client: &payamak::Client,
    id: CampaignId,
    window: Reconciliation,
    output: &Output,
) -> Result<(), Failure> {
    let found = reconcile_with_panel(store, client, id, window).await.map_err(|error| match error {
        ReconcileError::Panel(error) => Failure::from(anyhow::Error::new(error).context(
            "cannot check the panel's sent messages before sending (the store may not be the whole record of the \
             send); nothing sent",
        )),
        other => Failure::usage(other),
    })?;
    for batch in found {
        output.warn(format!(
            "batch {} ({} recipients): the panel's sent messages show {} of its recipients already received this \
             text (was the store put back from an older copy, or lost?): not sending it (its outcome is unknown)",
            batch.batch + 1,
            batch.recipients,
            batch.found
        ));
    }
    Ok(())
}

/// Before a rerun's sends: failed batches (definitely not sent) go again, and
/// unknown ones when `--resend-unknown` asks.
async fn requeue(store: &AnyStore, id: CampaignId, resend_unknown: bool, output: &Output) -> Result<(), Failure> {
    let (mut failed, mut redirected) = (0u64, 0u64);
    let mut from = 0;
    loop {
        let page = store.batches(id, from, PAGE).await.map_err(Failure::usage)?;
        let Some(last) = page.last() else { break };
        from = last.batch + 1;
        for row in page.iter().filter(|row| row.state == BatchState::Failed) {
            failed += 1;
            if let Some(BatchOutcome::Failed { error }) = &row.outcome {
                redirected += u64::from(error.is_redirect());
            }
        }
    }
    if failed > 0 && redirected > 0 && !resend_unknown {
        output.warn(format!(
            "{failed} batch(es) were not sent by an earlier run, {redirected} of them redirected by the panel (the \
             base URL is wrong): not sending them again unless --resend-unknown asks"
        ));
    } else if failed > 0 {
        let moved = store.requeue(id, Transition::Retry).await.map_err(Failure::usage)?;
        output.note(format!("{moved} batch(es) were not sent by an earlier run; sending them again"));
    }
    if resend_unknown {
        let moved = store.requeue(id, Transition::OperatorResend).await.map_err(Failure::usage)?;
        if moved > 0 {
            output.warn(format!(
                "{moved} batch(es) have an unknown outcome; sending them again as --resend-unknown asks (their \
                 recipients may get the message twice)"
            ));
        }
    }
    Ok(())
}

/// A worker for this campaign's account alone, until nothing is left to claim.
fn worker_options(args: &SendBulkArgs, account: &str) -> WorkerOptions {
    let mut options = WorkerOptions::new(worker::owner_name());
    options.concurrency = args.concurrency;
    options.until_idle = true;
    // As a journal's run does: the batches after a failed or unknown one are not started.
    options.stop_at_first_failure = true;
    options.accounts = vec![account.to_owned()];
    options.lease = Duration::from_secs(10);
    options.reap_every = Duration::from_secs(5);
    options.idle_poll = Duration::from_millis(100);
    // Delivery statuses are left to `payamak worker` over the same store.
    options.deliveries = None;
    options
}

/// Batches per state at the end of the run.
#[derive(Debug, Default)]
struct Ended {
    pending: u64,
    failed: u64,
    /// The worst exit code of the failed batches' errors.
    failed_exit: Option<Exit>,
}

/// Adds every batch of the campaign, from the store's rows, to `summary`.
async fn summarize(
    store: &AnyStore,
    id: CampaignId,
    this_run: &BTreeSet<u64>,
    summary: &mut SummaryJson,
) -> Result<Ended, Failure> {
    let mut ended = Ended::default();
    let mut from = 0;
    loop {
        let page = store.batches(id, from, PAGE).await.map_err(Failure::usage)?;
        let Some(last) = page.last() else { break };
        from = last.batch + 1;
        for row in &page {
            let attempt = match row.state {
                BatchState::Pending | BatchState::Claimed => None,
                BatchState::Attempting => Some(None),
                _ => Some(row.outcome.as_ref()),
            };
            let index = usize::try_from(row.batch).unwrap_or(usize::MAX);
            let recipients = usize::try_from(row.recipients).unwrap_or(usize::MAX);
            let mut batch = BatchSummary::of(index, recipients, attempt, this_run.contains(&row.batch));
            match (row.state, &row.outcome) {
                (BatchState::Pending, Some(BatchOutcome::Failed { error })) => {
                    // Deferred: the account was refused as a whole.
                    batch.error = Some(error.clone());
                    ended.pending += 1;
                }
                (BatchState::Pending | BatchState::Claimed, _) => ended.pending += 1,
                (BatchState::Failed, Some(BatchOutcome::Failed { error })) => {
                    ended.failed += 1;
                    let exit = if error.is_rejection() { Exit::Refused } else { Exit::Transport };
                    ended.failed_exit = Some(ended.failed_exit.map_or(exit, |worst| worst.worst(exit)));
                }
                (BatchState::Failed, _) => {
                    ended.failed += 1;
                    ended.failed_exit =
                        Some(ended.failed_exit.map_or(Exit::Transport, |worst| worst.worst(Exit::Transport)));
                }
                _ => {}
            }
            summary.add(&batch);
        }
    }
    Ok(ended)
}

/// The exit code of what kept batches from being sent, if anything did.
fn stopped_by(ended: &Ended, report: &WorkerReport, output: &Output) -> Option<Exit> {
    let mut exit = ended.failed_exit;
    for (account, reason) in &report.paused {
        output.warn(format!("the panel refused the account ({account}) as a whole: {reason}; it is paused"));
    }
    if ended.pending > 0 && !report.paused.is_empty() {
        // Its batches wait for the pause to end: run the same command again then.
        exit = Some(exit.map_or(Exit::Refused, |worst| worst.worst(Exit::Refused)));
    }
    if report.unrecorded > 0 {
        exit = Some(Exit::Unknown);
    }
    exit
}

fn progress_bar(output: &Output, total: u64, handled: u64) -> ProgressBar {
    let target = if output.json || output.quiet || !output.stderr_tty {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} recipients [{elapsed_precise}]") {
        bar.set_style(style);
    }
    bar.set_position(handled);
    bar
}

/// Counts the batches on the progress bar, and stops claiming on Ctrl-C.
struct Observer {
    campaign: CampaignId,
    bar: ProgressBar,
    interrupt: Arc<AtomicBool>,
    this_run: BTreeSet<u64>,
    /// A batch failed or ended unknown, and the run said it stops.
    stopped: bool,
    /// Batches sent whose outcomes could not be recorded.
    unrecorded: u64,
    /// The CLI tests' crash points, and the attempts recorded so far.
    hooks: test_hooks::Hooks,
    attempts: usize,
}

impl Observer {
    /// Whether a batch of this run may have been sent with no outcome recorded:
    /// one unrecorded, or one attempted and never handed back.
    fn unsettled(&self) -> bool {
        self.unrecorded > 0 || self.attempts > self.this_run.len()
    }
}

impl WorkerObserver for Observer {
    fn batch(&mut self, lease: &Lease, handled: &Handled) {
        if lease.campaign == self.campaign {
            self.this_run.insert(lease.batch);
        }
        let batch = lease.batch + 1;
        let ended_badly = match handled {
            Handled::Unrecorded(_, error) => {
                self.unrecorded += 1;
                self.bar.suspend(|| {
                    crate::stderr_line!(
                        "error: batch {batch}: its outcome could not be recorded ({error}); it will be counted \
                         unknown and not sent again"
                    );
                });
                true
            }
            Handled::Recorded(BatchState::Failed | BatchState::Unknown, outcome) => {
                if let BatchOutcome::Failed { error } | BatchOutcome::Unknown { error } = outcome {
                    self.bar.suspend(|| crate::stderr_line!("error: batch {batch}: {}", error.message));
                }
                true
            }
            _ => false,
        };
        if ended_badly && !self.stopped {
            // The worker claims nothing more (`stop_at_first_failure`).
            self.stopped = true;
            self.bar.suspend(|| {
                crate::stderr_line!("stopping: no more batches are started; those not sent stay for the next run")
            });
        }
        self.bar.inc(lease.numbers.len() as u64);
    }

    fn keep_claiming(&mut self) -> bool {
        !self.interrupt.load(Ordering::SeqCst)
    }

    fn attempted(&mut self, _lease: &Lease) {
        self.attempts += 1;
        self.hooks.attempted(self.attempts);
    }
}
