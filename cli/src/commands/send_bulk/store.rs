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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payamak::bulk::{BatchOutcome, BatchSummary, JobHeader, RecipientsFingerprint, Reconciliation};
use payamak::campaign::{
    reconcile_with_panel, Account, BatchRow, BatchState, CampaignId, CampaignInfo, CampaignPhase, CampaignSpec,
    Created, Handled, Lease, ReconcileError, Store, Transition, Worker, WorkerObserver, WorkerOptions, WorkerReport,
    CAMPAIGN_PRIORITY,
};
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::Sms;

use super::marker::{self, Mark};
use super::summary::{print_summary, SummaryJson};
use super::test_hooks;
use super::watch_ctrl_c;
use super::Rows;
use crate::args::SendBulkArgs;
use crate::commands::{campaign, check_parts, worker, Context, TextJson};
use crate::csv_input::stream::{self, StreamRow};
use crate::csv_input::InvalidRow;
use crate::failure::{CliResult, Exit, Failure};
use crate::output::Output;
use crate::store::{AnyStore, StoreUrl};

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
                if scan.invalid.len() < super::ROWS_SHOWN {
                    scan.invalid.push(row);
                }
            }
        }
    }
    Ok(scan)
}

/// Refuses a run that would send where it must not: to the built-in emulator,
/// or past a journal or another store that holds this file's send.
fn refuse_unsafe_start(context: &Context, csv: &Path, url: &StoreUrl) -> Result<(), Failure> {
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
    marker::refuse_another_store(csv, url)
}

/// The file's canonical path, and the name of the send's account (and
/// campaign key) it gives: `send-bulk:<path>`.
fn send_key(csv: &Path) -> Result<(PathBuf, String), Failure> {
    let canonical = std::fs::canonicalize(csv)
        .map_err(|error| Failure::usage(format!("cannot open the CSV file {}: {error}", csv.display())))?;
    // The send is keyed by the path, and the mark names the store by its path: both must be exact.
    let Some(path) = canonical.to_str() else {
        return Err(Failure::usage(format!(
            "{}: send-bulk through a store needs a file path that is valid UTF-8 (the send is keyed by it); \
             rename the file, or use --journal FILE",
            csv.display()
        )));
    };
    let name = format!("{}{path}", super::ACCOUNT_PREFIX);
    Ok((canonical, name))
}

/// The file's campaign in `store`, made now or found from an earlier run, and
/// the first run's header when it was found: refused when the campaign of
/// that key is not this send (another panel, user, text or file content).
async fn open_campaign(
    store: &AnyStore,
    url: &StoreUrl,
    csv: &Path,
    spec: &CampaignSpec,
    account: &Account,
    header: &JobHeader,
) -> Result<(Created, CampaignInfo, Option<JobHeader>), Failure> {
    let name = &spec.account;
    let known = store.accounts().await.map_err(Failure::usage)?.iter().any(|state| &state.account.name == name);
    if !known {
        store.put_account(account).await.map_err(Failure::usage)?;
    }
    let created = store.create_campaign(spec).await.map_err(Failure::usage)?;
    let id = created.id;
    let info = store
        .campaign(id)
        .await
        .map_err(Failure::usage)?
        .ok_or_else(|| Failure::usage(format!("campaign {id} is not in {}", url.describe())))?;
    if !created.existed {
        return Ok((created, info, None));
    }
    let first: JobHeader = serde_json::from_str(&info.spec.source).map_err(|_| {
        Failure::usage(format!(
            "campaign {id} of {} has the key {name:?} but was not made by send-bulk; nothing sent",
            url.describe()
        ))
    })?;
    let differences = first.differences_in(header, "the store");
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
    store.put_account(account).await.map_err(Failure::usage)?;
    Ok((created, info, Some(first)))
}

/// Runs `send-bulk --store`.
pub async fn run(args: &SendBulkArgs, url: &StoreUrl, text: String, context: &Context) -> CliResult {
    let output = &context.output;
    let csv = &args.recipients.csv;
    refuse_unsafe_start(context, csv, url)?;
    let (canonical, name) = send_key(csv)?;
    let scan = scan(args)?;
    let invalid_rows = Rows {
        invalid: &scan.invalid,
        invalid_total: usize::try_from(scan.invalid_rows).unwrap_or(usize::MAX),
        duplicates: &[],
        duplicates_total: 0,
    };
    super::refuse_invalid_rows(&invalid_rows, args.recipients.strict)?;
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
    let spec = CampaignSpec {
        account: name.clone(),
        from,
        text,
        flash: args.flash,
        priority: CAMPAIGN_PRIORITY,
        idempotency_key: Some(name.clone()),
        source: identity,
    };
    // The first run's header, for a campaign made before.
    let (created, info, kept) = open_campaign(&store, url, csv, &spec, &account, &header).await?;
    let id = created.id;
    // The file was marked by an earlier run, but the store has no campaign of it
    // (the store was lost or emptied) or another one: what was sent is not in it.
    let mark = marker::read(csv)?;
    let lost = mark.as_ref().is_some_and(|mark| !created.existed || mark.campaign != id.0);
    // When the file's send began: the first run's, kept by the mark across a lost store.
    let began = match &mark {
        Some(mark) if lost => mark.began.clone(),
        Some(Mark { began: Some(began), .. }) => Some(began.clone()),
        _ => Some(kept.map_or(header.created_at, |kept| kept.created_at)),
    };
    let resumed = created.existed && info.phase == CampaignPhase::Ready;
    for note in &scan.notes {
        output.note(format!("{}: {note}", csv.display()));
    }
    if resumed {
        super::warn_invalid_rows(output, &invalid_rows);
    } else {
        // A new campaign, or one whose import stopped half-way (its repeats are dropped again).
        let mut csv_args = args.recipients.clone();
        csv_args.strict = false;
        campaign::import(&store, id, &csv_args, output).await?;
    }
    if !output.json {
        output.info(text_info.describe());
    }
    // Everything that may refuse the run comes before the mark and the requeues below (the
    // campaign and its import, above, send nothing and are found again by the next run).
    let states = store.accounts().await.map_err(Failure::usage)?;
    let ours: Vec<_> = states.into_iter().filter(|state| state.account.name == name).collect();
    let clients = worker::clients(&ours, context)?;
    if clients.is_empty() {
        return Err(Failure::usage(format!("no password for the user {:?}: nothing sent", session.username)));
    }
    // Whether the store may hold less than the file's send did: then the panel's
    // sent messages are checked before anything is sent.
    let digest_now = match &mark {
        Some(Mark { ended: Some(_), .. }) if !lost => Some(states_digest(&store, id).await?),
        _ => None,
    };
    let window = check_window(mark.as_ref(), lost, began.as_deref(), digest_now.as_deref());
    // Before this run changes the store: a run without this store must not start
    // the file afresh, and the next run must know whether this one ended.
    marker::write(csv, url, &Mark { store: String::new(), campaign: id.0, began: began.clone(), ended: None })
        .map_err(|error| {
            Failure::usage(format!("cannot write {}: {error}; nothing sent", marker::path_for(csv).display()))
        })?;
    if resumed {
        requeue_failed(&store, id, args.resend_unknown, output).await?;
        if args.resend_unknown {
            requeue_unknown(&store, id, output).await?;
        }
    }
    // After the requeues: a batch the panel shows was received is not sent, even one a person asked for.
    if let Some(window) = window {
        reconcile(&store, &session.client, id, window, output).await?;
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
        handled: 0,
        maybe_sent: 0,
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
            // No summary: a batch of this run may have been sent, and the store cannot say.
            let Some(error) = store_failure else {
                let exit = if observer.attempts > 0 { Exit::Unknown } else { Exit::Transport };
                let cannot = failure.error.context(format!(
                    "cannot read the job store {} for the summary; run the same command again to see where the \
                     batches stand",
                    url.describe()
                ));
                return Err(Failure::with_exit(exit, cannot));
            };
            return Err(Failure::with_exit(observer.store_failure_exit(), anyhow::anyhow!(store_failed(&error))));
        }
    };
    let pending = ended.pending + ended.failed;
    print_summary(output, &summary, usize::try_from(pending).unwrap_or(usize::MAX));
    if store_failure.is_none() {
        // The run ended with the store whole: the next one checks the panel only if the store then differs.
        let mark = Mark { store: String::new(), campaign: id.0, began, ended: Some(ended.digest.clone()) };
        if let Err(error) = marker::write(csv, url, &mark) {
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
        let exit = observer.store_failure_exit();
        stopped = Some(stopped.map_or(exit, |worst| worst.worst(exit)));
    }
    Ok(summary.exit_code(stopped))
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
             text since the send began, though the store does not (it may not be the whole record of the send): \
             not sending it (its outcome is unknown)",
            batch.batch + 1,
            batch.recipients,
            batch.found
        ));
    }
    Ok(())
}

/// Before a rerun's sends: failed batches (definitely not sent) go again,
/// unless one was redirected and `--resend-unknown` does not ask.
async fn requeue_failed(
    store: &AnyStore,
    id: CampaignId,
    resend_unknown: bool,
    output: &Output,
) -> Result<(), Failure> {
    let (mut failed, mut redirected) = (0u64, 0u64);
    each_batch(store, id, |row| {
        if row.state == BatchState::Failed {
            failed += 1;
            if let Some(BatchOutcome::Failed { error }) = &row.outcome {
                redirected += u64::from(error.is_redirect());
            }
        }
    })
    .await?;
    if failed > 0 && redirected > 0 && !resend_unknown {
        output.warn(format!(
            "{failed} batch(es) were not sent by an earlier run, {redirected} of them redirected by the panel (the \
             base URL is wrong): not sending them again unless --resend-unknown asks"
        ));
    } else if failed > 0 {
        let moved = store.requeue(id, Transition::Retry).await.map_err(Failure::usage)?;
        output.note(format!("{moved} batch(es) were not sent by an earlier run; sending them again"));
    }
    Ok(())
}

/// `--resend-unknown`: the unknown batches go again.
async fn requeue_unknown(store: &AnyStore, id: CampaignId, output: &Output) -> Result<(), Failure> {
    let moved = store.requeue(id, Transition::OperatorResend).await.map_err(Failure::usage)?;
    if moved > 0 {
        output.warn(format!(
            "{moved} batch(es) have an unknown outcome; sending them again as --resend-unknown asks (their \
             recipients may get the message twice)"
        ));
    }
    Ok(())
}

/// Whether, and since when, the panel's sent messages must be read before a
/// run of a file whose mark is `mark` sends anything: `lost` when the store
/// has no campaign of the mark (or another), `digest_now` where the store's
/// batches stand now (when the mark says the last run ended).
fn check_window(
    mark: Option<&Mark>,
    lost: bool,
    began: Option<&str>,
    digest_now: Option<&str>,
) -> Option<Reconciliation> {
    match mark {
        // The mark comes before the first send: without it nothing of the file was sent.
        None => None,
        Some(_) if lost => Some(since(began)),
        // The last run did not end (a crash): an older copy may have been put back since.
        Some(Mark { ended: None, .. }) => Some(since(began)),
        // The store's batches stand otherwise than the last run left them: an older copy, or another tool.
        Some(Mark { ended: Some(ended), .. }) => (digest_now != Some(ended.as_str())).then(|| since(began)),
    }
}

/// The reconciliation window of a send that began at `began` (RFC 3339), or any time.
fn since(began: Option<&str>) -> Reconciliation {
    began
        .and_then(|began| chrono::DateTime::parse_from_rfc3339(began).ok())
        .map_or(Reconciliation::AllTime, |at| Reconciliation::Since(at.to_utc()))
}

/// A digest of where every batch of the campaign stands (FNV-1a over the
/// batch numbers and states, read a page at a time): a store put back from an
/// older copy differs from the one the last run left.
async fn states_digest(store: &AnyStore, id: CampaignId) -> Result<String, Failure> {
    let mut digest = StatesDigest::default();
    each_batch(store, id, |row| digest.push(row.batch, row.state)).await?;
    Ok(digest.finish())
}

/// Calls `each` with every batch row of the campaign, in order, a page at a time.
async fn each_batch(store: &AnyStore, id: CampaignId, mut each: impl FnMut(&BatchRow)) -> Result<(), Failure> {
    let mut from = 0;
    loop {
        let page = store.batches(id, from, PAGE).await.map_err(Failure::usage)?;
        let Some(last) = page.last() else { break };
        from = last.batch + 1;
        page.iter().for_each(&mut each);
    }
    Ok(())
}

/// FNV-1a, 64 bits, over `<batch>:<state>;` for each batch in order.
struct StatesDigest(u64);

impl Default for StatesDigest {
    fn default() -> Self {
        StatesDigest(0xcbf2_9ce4_8422_2325)
    }
}

impl StatesDigest {
    /// Adds a batch by what matters for sending it again: pending or claimed
    /// (may be sent), attempting or unknown (never sent again on its own: a
    /// reaper that moves one to the other changes nothing that counts), sent,
    /// failed.
    fn push(&mut self, batch: u64, state: BatchState) {
        let class = match state {
            BatchState::Pending | BatchState::Claimed => "pending",
            BatchState::Attempting | BatchState::Unknown => "unknown",
            BatchState::Sent => "sent",
            _ => "failed",
        };
        for byte in format!("{batch}:{class};").bytes() {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
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
    /// Where every batch stands ([`states_digest`]).
    digest: String,
}

/// Adds every batch of the campaign, from the store's rows, to `summary`.
async fn summarize(
    store: &AnyStore,
    id: CampaignId,
    this_run: &BTreeSet<u64>,
    summary: &mut SummaryJson,
) -> Result<Ended, Failure> {
    let mut ended = Ended::default();
    let mut digest = StatesDigest::default();
    each_batch(store, id, |row| {
        digest.push(row.batch, row.state);
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
    })
    .await?;
    ended.digest = digest.finish();
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
    /// A batch failed, ended unknown or went unrecorded: the run said it stops.
    stopped: bool,
    /// Batches handed back, and those of them that may have been sent with no
    /// outcome known (unknown, or their outcome not recorded).
    handled: usize,
    maybe_sent: usize,
    /// The CLI tests' crash points, and the attempts recorded so far.
    hooks: test_hooks::Hooks,
    attempts: usize,
}

impl Observer {
    /// The exit code when the store failed under the worker: 4 when a batch of
    /// this run may have been sent with its outcome not known (unknown,
    /// unrecorded, or attempted and never handed back), else 3.
    fn store_failure_exit(&self) -> Exit {
        if self.maybe_sent > 0 || self.attempts > self.handled {
            Exit::Unknown
        } else {
            Exit::Transport
        }
    }
}

impl WorkerObserver for Observer {
    fn batch(&mut self, lease: &Lease, handled: &Handled) {
        if lease.campaign == self.campaign {
            self.this_run.insert(lease.batch);
        }
        let batch = lease.batch + 1;
        self.handled += 1;
        if matches!(handled, Handled::Unrecorded(..) | Handled::Recorded(BatchState::Unknown, _)) {
            self.maybe_sent += 1;
        }
        let ended_badly = match handled {
            Handled::Unrecorded(_, error) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(campaign: i64, ended: Option<&str>) -> Mark {
        Mark {
            store: "sqlite:/x/list.csv.sqlite".to_owned(),
            campaign,
            began: Some("2026-12-01T10:00:00.000Z".to_owned()),
            ended: ended.map(str::to_owned),
        }
    }

    fn began() -> Option<Reconciliation> {
        Some(since(Some("2026-12-01T10:00:00.000Z")))
    }

    #[test]
    fn the_panel_is_read_unless_the_store_stands_as_the_last_run_that_ended_left_it() {
        let began_at = Some("2026-12-01T10:00:00.000Z");
        assert_eq!(check_window(None, false, began_at, None), None, "no mark: nothing was sent");
        let ended = mark(1, Some("00ff"));
        assert_eq!(check_window(Some(&ended), false, began_at, Some("00ff")), None);
        assert_eq!(check_window(Some(&ended), false, began_at, Some("0100")), began(), "an older copy");
        assert_eq!(check_window(Some(&mark(1, None)), false, began_at, None), began(), "a crash");
        assert_eq!(check_window(Some(&ended), true, began_at, None), began(), "a lost store");
        assert_eq!(check_window(Some(&ended), true, None, None), Some(Reconciliation::AllTime));
    }

    #[test]
    fn a_lost_store_whose_check_was_cut_short_is_still_checked_from_the_first_run() {
        // The store was lost after the first run; a second run made the campaign again
        // (the same id, in a fresh store) and stopped before its check finished, leaving
        // the mark as the first run wrote it. The third run still checks since the first.
        let first = mark(1, Some("00ff"));
        let fresh_store = StatesDigest::default().finish();
        assert_eq!(check_window(Some(&first), false, first.began.as_deref(), Some(&fresh_store)), began());
    }

    #[test]
    fn the_digest_tells_batch_states_apart_however_they_are_counted() {
        // The same counts per state, other batches in them: a send lost to an older copy.
        let digest = |states: &[BatchState]| {
            let mut digest = StatesDigest::default();
            for (batch, &state) in states.iter().enumerate() {
                digest.push(batch as u64, state);
            }
            digest.finish()
        };
        let backup = digest(&[BatchState::Sent, BatchState::Unknown, BatchState::Pending]);
        let latest = digest(&[BatchState::Sent, BatchState::Pending, BatchState::Unknown]);
        assert_ne!(backup, latest);
        assert_eq!(backup, digest(&[BatchState::Sent, BatchState::Unknown, BatchState::Pending]));
        // A reaper calling an attempt unknown, or a claim given back, changes nothing that counts.
        assert_eq!(backup, digest(&[BatchState::Sent, BatchState::Attempting, BatchState::Claimed]));
        assert_ne!(backup, digest(&[BatchState::Sent, BatchState::Failed, BatchState::Pending]));
    }
}
