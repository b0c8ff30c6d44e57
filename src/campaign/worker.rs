//! A worker: takes an account's token, claims a batch, records its attempt,
//! sends it, records its outcome; several batches on their way at once.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{Days, TimeZone as _};
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::{self, FuturesUnordered, StreamExt as _};

use super::rate::{ms, now_ms, Millis};
use super::state::{BatchState, Transition};
use super::store::{
    transition_of, AccountState, BatchMove, DeliveryPoll, DeliveryUpdate, Lease, Store, StoreError, Token,
};
use crate::bulk::BatchOutcome;
use crate::error::{Error, ResponseErrorKind};
use crate::sms::Sms;
use crate::status_codes::UpdateDeliveryStatus;
use crate::Client;

/// How a worker follows the delivery statuses of sent batches.
///
/// Every accepted recId of a sent batch is recorded with the batch's outcome;
/// a batch is read on a schedule counted from its send until all its recIds
/// are final: one `UpdateDelivery` for the whole batch (never sooner than the
/// panel's minimum interval; its "too soon", code 100, waits for it), then a
/// `GetDelivery` per recId not final yet. Delivery reads take no SendSms
/// token: they run beside the sends, never in their slots, at most
/// [`reads_in_flight`](Self::reads_in_flight) at once per worker.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// When to read a sent batch, counted from its send; after the last, a
    /// batch is no longer followed. Default: 1 min, 5 min, 15 min, 1 h, 6 h,
    /// 24 h, 48 h and 72 h.
    pub schedule: Vec<Duration>,
    /// The panel's minimum interval between two `UpdateDelivery` calls for one batch. Default 10 s.
    pub min_update_interval: Duration,
    /// How often the worker looks for batches due. Default 1 s.
    pub poll_every: Duration,
    /// Batches claimed at once. Default 10.
    pub batches_per_claim: usize,
    /// `GetDelivery` calls on their way at once. Default 4.
    pub reads_in_flight: usize,
    /// How long a claimed batch is held before another worker may read it. Default 60 s.
    pub lease: Duration,
    /// With [`WorkerOptions::until_idle`]: once nothing is left to send, a
    /// read due sooner than this is waited for; a later one is left to the
    /// next worker. Default 0: only reads due now.
    pub wait_for_due: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            schedule: [60, 300, 900, 3_600, 21_600, 86_400, 172_800, 259_200]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            min_update_interval: Duration::from_secs(10),
            poll_every: Duration::from_secs(1),
            batches_per_claim: 10,
            reads_in_flight: 4,
            lease: Duration::from_secs(60),
            wait_for_due: Duration::ZERO,
        }
    }
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its name in the store's leases: unique per worker (host, process, a random part).
    pub owner: String,
    /// Batches on their way at once.
    pub concurrency: usize,
    /// How long a claim holds before the reaper may give it to another worker
    /// (only if it was not attempted).
    pub lease: Duration,
    /// How long an attempt may go without an outcome before the reaper calls it unknown.
    pub unknown_after: Duration,
    /// How often this worker runs the reaper.
    pub reap_every: Duration,
    /// How long to wait when there is nothing to claim.
    pub idle_poll: Duration,
    /// Stop when nothing is left to claim (instead of waiting for new work).
    pub until_idle: bool,
    /// How long an account refused as a whole (credentials, credit, inactive…) is paused.
    pub account_pause: Duration,
    /// With [`until_idle`](Self::until_idle), a pause that ends sooner than
    /// this (throttling) is waited out; a longer one (no credit, the daily
    /// limit) ends the run with its batches pending.
    pub wait_out_pauses: Duration,
    /// Only these accounts (all when empty).
    pub accounts: Vec<String>,
    /// Accounts whose sent batches' delivery statuses this worker reads, but
    /// whose batches it never claims: their sends belong to a command of their
    /// own (the CLI's `send-bulk`, which checks the panel first when its store
    /// may not be the whole record).
    pub follow_only: Vec<String>,
    /// For an account whose campaigns leave a [reserve](super::Rate::reserve):
    /// while its campaigns wait for a token, how often the worker asks the
    /// store again, so that a single send enqueued meanwhile goes at once
    /// instead of after the campaigns' next token.
    pub single_send_poll: Duration,
    /// Following the delivery statuses of sent batches; `None` leaves that to other workers.
    pub deliveries: Option<DeliveryOptions>,
    /// How long a batch's outcome may wait for the worker's next claim, to be
    /// recorded in the claim's transaction (group commit: one disk sync for
    /// both). It waits only when a token is due within this long; otherwise,
    /// or after it, the waiting outcomes are recorded together on their own.
    /// Zero by default: each outcome is recorded as soon as it is known (those
    /// that finished together in one transaction). An outcome is reported (to the observer and in the report) only
    /// once recorded; until then its batch is attempting, and a crash leaves
    /// it to the reaper as unknown, never to be sent again on its own.
    pub outcome_window: Duration,
    /// Claim nothing more once a batch this worker sent failed, ended
    /// unknown or had its outcome go unrecorded (the batches on their way
    /// finish; a store that fails to record outcomes stops every worker
    /// this way), as a bulk journal's run
    /// stops: for one send run by hand, where the next batches would most
    /// likely meet the same trouble. Off by default: a worker goes on.
    pub stop_at_first_failure: bool,
    /// **Breaks the guarantee; for the chaos test's control run only**: the
    /// reaper also re-queues attempts, as generic job queues do.
    #[doc(hidden)]
    pub unsafe_reaper: bool,
}

impl WorkerOptions {
    /// Defaults for a worker named `owner`.
    pub fn new(owner: impl Into<String>) -> Self {
        WorkerOptions {
            owner: owner.into(),
            concurrency: crate::bulk::DEFAULT_CONCURRENCY,
            lease: Duration::from_secs(30),
            unknown_after: Duration::from_secs(120),
            reap_every: Duration::from_secs(1),
            idle_poll: Duration::from_millis(200),
            until_idle: false,
            account_pause: Duration::from_secs(600),
            wait_out_pauses: Duration::from_secs(60),
            accounts: Vec::new(),
            follow_only: Vec::new(),
            single_send_poll: Duration::from_millis(10),
            deliveries: Some(DeliveryOptions::default()),
            // Group commit measured no gain (see docs/campaigns.md), and an
            // outcome that waits is lost to a crash meanwhile: off by default.
            outcome_window: Duration::ZERO,
            stop_at_first_failure: false,
            unsafe_reaper: false,
        }
    }
}

/// What a worker did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkerReport {
    /// Batches it sent that the panel answered.
    pub sent: u64,
    /// Batches it found definitely not sent.
    pub failed: u64,
    /// Batches whose outcome it could not learn.
    pub unknown: u64,
    /// Batches refused as a whole account: back to pending, the account paused.
    pub deferred: u64,
    /// Claims it lost before attempting them (lease expired): it sent nothing for them.
    /// (A worker now claims and records the attempt in one store call, so it
    /// loses none this way; the count stays for the report's shape.)
    pub lost: u64,
    /// Outcomes it could not record (the store failed): the reaper will call those batches unknown.
    pub unrecorded: u64,
    /// Whether it stopped claiming because the store failed to record outcomes
    /// (their batches counted in `unrecorded`; those not claimed stay pending).
    pub stopped_unrecorded: bool,
    /// Accounts paused, and why.
    pub paused: BTreeMap<String, String>,
    /// Sent batches whose delivery statuses it read.
    pub delivery_polls: u64,
    /// Delivery statuses it read (`GetDelivery` calls answered).
    pub delivery_reads: u64,
}

/// What became of a batch a worker held.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// The attempt was refused (the lease was lost): nothing was sent.
    Lost,
    /// Sent (or tried), and the outcome recorded as `state`.
    Recorded(BatchState, BatchOutcome),
    /// Sent (or tried), but the outcome could not be recorded.
    Unrecorded(BatchOutcome, String),
}

/// Follows a worker: progress bars.
pub trait WorkerObserver: Send {
    /// After each batch the worker held.
    fn batch(&mut self, lease: &Lease, handled: &Handled) {
        let _ = (lease, handled);
    }

    /// Asked before each claim: once it says `false`, the worker claims
    /// nothing more, records the batches on their way and stops (say, on a Ctrl-C).
    fn keep_claiming(&mut self) -> bool {
        true
    }

    /// A batch's attempt is recorded (durable), and its request is about to be sent.
    fn attempted(&mut self, lease: &Lease) {
        let _ = lease;
    }
}

/// An observer that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl WorkerObserver for Quiet {}

/// A worker over a store, with a client per account (resolved by the caller
/// from the account's credentials reference).
#[derive(Debug)]
pub struct Worker<'a, S> {
    store: &'a S,
    clients: &'a HashMap<String, Client>,
    options: WorkerOptions,
}

/// Why an account is paused after an answer, and until when; `None` when the answer is about the batch alone.
pub fn account_refusal(error: &Error, pause: Duration) -> Option<(Millis, String)> {
    let now = now_ms();
    let pause_ms = super::rate::ms(pause);
    match error {
        Error::Rejected(rejected) => match rejected.code {
            3 => Some((tehran_midnight_after(now), format!("{} (code 3): until Tehran midnight", rejected.english))),
            0 | 2 | 4 | 9 | 10 | 12 => {
                Some((now.saturating_add(pause_ms), format!("{} (code {})", rejected.english, rejected.code)))
            }
            _ => None,
        },
        Error::Response(response) => match &response.kind {
            // The panel throttles: nothing was done, come back after Retry-After.
            ResponseErrorKind::HttpStatus { status: 503 | 429, retry_after: Some(after), .. }
                if !matches!(error, Error::OutcomeUnknown(_)) =>
            {
                let seconds = after.trim().parse::<u64>().unwrap_or(1).clamp(1, 3600);
                Some((now.saturating_add(i64::try_from(seconds * 1000).unwrap_or(i64::MAX)), "throttled".to_owned()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A deferred batch goes back to pending with its outcome: a claim that found
/// its account empty before no longer says so.
fn forget_empty(empty_until: &mut HashMap<String, Instant>, moves: &[BatchMove]) {
    for step in moves {
        empty_until.remove(&step.lease.account);
    }
}

/// Midnight in Tehran after `now` (ms since the epoch), when daily limits reset.
fn tehran_midnight_after(now: Millis) -> Millis {
    let tz = chrono_tz::Asia::Tehran;
    let fallback = now.saturating_add(86_400_000);
    let Some(utc) = chrono::DateTime::from_timestamp_millis(now) else { return fallback };
    let local = utc.with_timezone(&tz).date_naive();
    local
        .checked_add_days(Days::new(1))
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map_or(fallback, |midnight| midnight.timestamp_millis())
}

impl<'a, S: Store> Worker<'a, S> {
    /// A worker over `store`, sending with `clients` (by account name).
    pub fn new(store: &'a S, clients: &'a HashMap<String, Client>, options: WorkerOptions) -> Self {
        Worker { store, clients, options }
    }

    /// Runs until there is nothing left to claim (with
    /// [`WorkerOptions::until_idle`]; and no delivery read due, see
    /// [`DeliveryOptions::wait_for_due`]) or forever. A store error stops it;
    /// the batches on their way finish first. Outcomes the store fails to
    /// record (an error, not an outcome refused because the reaper already
    /// called its batch unknown) stop it claiming: the batches on their way finish, and the run
    /// ends with them counted [unrecorded](WorkerReport::unrecorded), left
    /// attempting (the reaper calls them unknown). Every batch sent while the
    /// store cannot record outcomes would end unknown, each a decision for a
    /// person; pending, they wait safely for a worker over a working store.
    /// Delivery statuses are read beside the sends (see [`DeliveryOptions`]).
    pub async fn run(&self, observer: &mut impl WorkerObserver) -> Result<WorkerReport, StoreError> {
        let Some(deliveries) = &self.options.deliveries else { return self.run_sends(observer).await };
        let sends_over = AtomicBool::new(false);
        let sends = async {
            let report = self.run_sends(observer).await;
            sends_over.store(true, Ordering::SeqCst);
            report
        };
        let (report, (polls, reads)) =
            futures_util::future::join(sends, self.run_deliveries(deliveries, &sends_over)).await;
        let mut report = report?;
        report.delivery_polls = polls;
        report.delivery_reads = reads;
        Ok(report)
    }

    /// The delivery lane: claims due batches and reads them, until the sends
    /// are over and nothing is due soon. Returns the batches polled and the statuses read.
    async fn run_deliveries(&self, options: &DeliveryOptions, sends_over: &AtomicBool) -> (u64, u64) {
        let first = options.schedule.first().copied().unwrap_or(Duration::ZERO);
        let mut accounts: Vec<&String> = self
            .clients
            .keys()
            .filter(|name| self.options.accounts.is_empty() || self.options.accounts.contains(*name))
            .collect();
        accounts.sort();
        let (mut polls, mut reads) = (0, 0);
        loop {
            let mut claimed = false;
            for account in &accounts {
                match self.store.claim_deliveries(account, first, options.batches_per_claim, options.lease).await {
                    Ok(due) => {
                        for poll in due {
                            claimed = true;
                            polls += 1;
                            reads += self.poll_deliveries(options, poll).await;
                        }
                    }
                    // This store does not follow deliveries: nothing to do.
                    Err(StoreError::Unsupported(_)) => return (polls, reads),
                    Err(error) => tracing::warn!(%account, %error, "cannot claim deliveries to read"),
                }
            }
            if claimed {
                continue;
            }
            if sends_over.load(Ordering::SeqCst) {
                if !self.options.until_idle {
                    // The sends stopped on an error.
                    return (polls, reads);
                }
                let soon = now_ms().saturating_add(ms(options.wait_for_due));
                let mut due_soon = false;
                for account in &accounts {
                    match self.store.next_delivery_poll(Some(account), first).await {
                        Ok(Some(at)) if at <= soon => due_soon = true,
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%account, %error, "cannot read the next delivery poll"),
                    }
                }
                if !due_soon {
                    return (polls, reads);
                }
            }
            tokio::time::sleep(options.poll_every).await;
        }
    }

    /// Reads one claimed batch: `UpdateDelivery` once (if the panel's minimum
    /// interval allows), then `GetDelivery` for each recId not final, and
    /// records what it found with the next poll's time. Returns the statuses read.
    async fn poll_deliveries(&self, options: &DeliveryOptions, poll: DeliveryPoll) -> u64 {
        let Some(client) = self.clients.get(&poll.account) else { return 0 };
        let interval = ms(options.min_update_interval);
        let mut update = DeliveryUpdate::default();
        if let Some(at) = poll.updated_at.filter(|at| at.saturating_add(interval) > now_ms()) {
            // Too soon for the panel: come back when it allows.
            update.next_poll_at = Some(at.saturating_add(interval));
            self.record_deliveries(&poll, &update).await;
            return 0;
        }
        let mut open: Vec<i64> = poll.open.iter().map(|(rec_id, _)| *rec_id).collect();
        // One recId stands for the whole batch; one the panel does not know gives way to the next.
        while let Some(&representative) = open.first() {
            match client.update_delivery(representative).await {
                Ok(UpdateDeliveryStatus::Updated) => {
                    update.updated_at = Some(now_ms());
                    break;
                }
                Ok(UpdateDeliveryStatus::InvalidRecId) => {
                    update.invalid.push(representative);
                    open.remove(0);
                }
                // Too soon (100), or a code this crate does not know: wait a whole interval
                // (recIds found invalid on the way are recorded as such).
                Ok(_) => {
                    update.next_poll_at = Some(now_ms().saturating_add(interval));
                    self.record_deliveries(&poll, &update).await;
                    return 0;
                }
                Err(error) => {
                    // Left to its lease: read again when it ends.
                    tracing::warn!(campaign = %poll.campaign, batch = poll.batch, %error, "UpdateDelivery failed");
                    return 0;
                }
            }
        }
        let results: Vec<(i64, Result<_, Error>)> = stream::iter(open.iter().copied())
            .map(|rec_id| async move { (rec_id, client.delivery(rec_id).await) })
            .buffered(options.reads_in_flight.max(1))
            .collect()
            .await;
        let mut still_open = 0;
        for (rec_id, result) in results {
            match result {
                Ok(status) => {
                    still_open += usize::from(!status.is_final());
                    update.statuses.push((rec_id, status));
                }
                Err(error) => {
                    still_open += 1;
                    tracing::warn!(campaign = %poll.campaign, batch = poll.batch, %error, "GetDelivery failed");
                }
            }
        }
        let reads = update.statuses.len() as u64;
        update.counted = true;
        let next = usize::try_from(poll.polls).unwrap_or(usize::MAX).saturating_add(1);
        update.next_poll_at = match options.schedule.get(next) {
            Some(offset) if still_open > 0 => {
                Some(poll.sent_at.saturating_add(ms(*offset)).max(now_ms().saturating_add(interval)))
            }
            // All final, or the schedule is over.
            _ => None,
        };
        self.record_deliveries(&poll, &update).await;
        reads
    }

    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) {
        if let Err(error) = self.store.record_deliveries(poll, update).await {
            tracing::warn!(campaign = %poll.campaign, batch = poll.batch, %error, "cannot record delivery statuses");
        }
    }

    /// The send lane: [`run`](Self::run) without delivery reads.
    async fn run_sends(&self, observer: &mut impl WorkerObserver) -> Result<WorkerReport, StoreError> {
        let mut report = WorkerReport::default();
        let mut in_flight = FuturesUnordered::new();
        let mut last_reap: Option<Instant> = None;
        let mut empty_until: HashMap<String, Instant> = HashMap::new();
        // When the store said an account's next token is free: not asked again before
        // (each answer is a write transaction; the store still decides when the time comes).
        let mut token_at: HashMap<String, Instant> = HashMap::new();
        let mut accounts: Vec<AccountState> = Vec::new();
        let mut accounts_read: Option<Instant> = None;
        let mut rotation = 0usize;
        let mut failure = None;
        // Batches sent whose outcomes are not recorded yet, and since when the first of them waits.
        let mut finished: Vec<BatchMove> = Vec::new();
        let mut finished_since: Option<Instant> = None;
        // The store failed to record outcomes, or a batch failed, ended unknown or had its outcome
        // refused (reaped meanwhile) and the options say to stop claiming then.
        let stop = self.options.stop_at_first_failure;
        let mut halted = false;
        loop {
            let stopping = halted || !observer.keep_claiming();
            // Once stopping, the store is asked for nothing but the outcomes of the batches on their way.
            if failure.is_none() && !stopping && last_reap.is_none_or(|at| at.elapsed() >= self.options.reap_every) {
                last_reap = Some(Instant::now());
                if let Err(error) = self.reap().await {
                    failure = Some(error);
                }
            }
            // The accounts are read again at most every `idle_poll` (a new account or
            // a lifted pause shows within it; tokens and pauses are checked at every claim).
            if failure.is_none() && !stopping && accounts_read.is_none_or(|at| at.elapsed() >= self.options.idle_poll) {
                match self.accounts().await {
                    Ok(read) => {
                        accounts = read;
                        accounts_read = Some(Instant::now());
                    }
                    Err(error) => failure = Some(error),
                }
            }
            if failure.is_some() {
                accounts.clear();
            }
            let mut wait = self.options.idle_poll;
            let mut waiting_for_tokens = false;
            // Fill the free slots, one batch per account in turn (token first, then claim).
            'fill: while failure.is_none() && !stopping && in_flight.len() < self.options.concurrency.max(1) {
                let mut claimed_any = false;
                for offset in 0..accounts.len() {
                    // An outcome just went unrecorded: claim nothing more (one claimed with it is sent).
                    if in_flight.len() >= self.options.concurrency.max(1) || halted {
                        break 'fill;
                    }
                    let Some(account) = accounts.get((rotation + offset) % accounts.len()) else { continue };
                    let name = &account.account.name;
                    if empty_until.get(name).is_some_and(|until| *until > Instant::now()) {
                        continue;
                    }
                    if let Some(at) = token_at.get(name) {
                        let left = at.saturating_duration_since(Instant::now());
                        if !left.is_zero() {
                            waiting_for_tokens = true;
                            wait = wait.min(left);
                            continue;
                        }
                        token_at.remove(name);
                    }
                    // The accounts are those this worker has a client for: it sends what it claims at
                    // once, so the claim and its attempt are one call (one transaction where the store can),
                    // and the outcomes that came in meanwhile are recorded in it (group commit).
                    let answer = if finished.is_empty() {
                        self.store.take_token_claim_and_attempt(name, &self.options.owner, self.options.lease).await
                    } else {
                        let moves = std::mem::take(&mut finished);
                        finished_since = None;
                        forget_empty(&mut empty_until, &moves);
                        match self
                            .store
                            .advance_many_then_claim(&moves, name, &self.options.owner, self.options.lease)
                            .await
                        {
                            Ok((moved, claimed)) => {
                                halted |= self.recorded(moves, Ok(moved), &mut report, observer) && stop;
                                claimed
                            }
                            Err(error) => {
                                // Nothing recorded, nothing claimed: the outcomes are lost as when
                                // `advance_many` fails (left to the reaper as unknown), and the worker
                                // stops claiming.
                                self.recorded(moves, Err(error.to_string()), &mut report, observer);
                                halted = true;
                                report.stopped_unrecorded = true;
                                break 'fill;
                            }
                        }
                    };
                    let (token, claimed) = match answer {
                        Ok(answer) => answer,
                        Err(error) => {
                            failure = Some(error);
                            break 'fill;
                        }
                    };
                    match token {
                        Token::Granted => {}
                        Token::Wait(after) => {
                            let after = self.ask_again_after(account, after);
                            token_at.insert(name.clone(), Instant::now() + after);
                            waiting_for_tokens = true;
                            wait = wait.min(after);
                            continue;
                        }
                        Token::Paused(_, reason) => {
                            report.paused.insert(name.clone(), reason);
                            continue;
                        }
                    }
                    report.paused.remove(name);
                    match claimed {
                        Some(lease) => {
                            // The store said when the next token is free: not asked again before.
                            if let Some(next) = lease.next_token.filter(|next| !next.is_zero()) {
                                let after = self.ask_again_after(account, next);
                                token_at.insert(name.clone(), Instant::now() + after);
                                waiting_for_tokens = true;
                                wait = wait.min(after);
                            }
                            claimed_any = true;
                            observer.attempted(&lease);
                            in_flight.push(self.handle(lease));
                        }
                        None => {
                            empty_until.insert(name.clone(), Instant::now() + self.options.idle_poll);
                        }
                    }
                }
                rotation = rotation.wrapping_add(1);
                if !claimed_any {
                    break;
                }
            }
            // Outcomes wait for a claim only when one is coming within the window (a token due soon);
            // those that found none in time, or that nothing more will come with, go alone.
            let window_over =
                finished_since.is_some_and(|since: Instant| since.elapsed() >= self.options.outcome_window);
            let claim_soon = waiting_for_tokens && wait <= self.options.outcome_window;
            if !finished.is_empty() && (window_over || !claim_soon || in_flight.is_empty() || failure.is_some()) {
                let moves = std::mem::take(&mut finished);
                finished_since = None;
                forget_empty(&mut empty_until, &moves);
                let moved = self.store.advance_many(&moves).await.map_err(|error| error.to_string());
                let store_failed = moved.is_err();
                halted |= (self.recorded(moves, moved, &mut report, observer) && stop) || store_failed;
                report.stopped_unrecorded |= store_failed;
            }
            if let Some(since) = finished_since {
                wait = wait.min(self.options.outcome_window.saturating_sub(since.elapsed()));
            }
            if in_flight.is_empty() {
                if let Some(error) = failure {
                    return Err(error);
                }
                if stopping || halted {
                    return Ok(report);
                }
                if self.options.until_idle && !waiting_for_tokens && self.idle(&empty_until).await? {
                    return Ok(report);
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            // Wait for a batch to finish, for a token to be free, or for the outcomes' window to end.
            let next = if waiting_for_tokens || finished_since.is_some() {
                let sleep = std::pin::pin!(tokio::time::sleep(wait));
                match futures_util::future::select(in_flight.next(), sleep).await {
                    futures_util::future::Either::Left((done, _)) => done,
                    futures_util::future::Either::Right(((), _)) => None,
                }
            } else {
                in_flight.next().await
            };
            if let Some(done) = next {
                halted |= stop && matches!(done.transition, Transition::Failed | Transition::OutcomeUnknown);
                // Recorded with the next claim, or alone when the window ends: reported once recorded.
                finished.push(done);
                finished_since.get_or_insert_with(Instant::now);
            }
        }
    }

    /// When to ask the store again for `account`'s token, which it said is free after `after`.
    fn ask_again_after(&self, account: &AccountState, after: Duration) -> Duration {
        let after = after.max(Duration::from_millis(1));
        if account.account.rate.is_some_and(|rate| rate.reserve > 0) {
            // The campaigns wait, a single send would not: ask again soon.
            return after.min(self.options.single_send_poll.max(Duration::from_millis(1)));
        }
        after
    }

    /// Counts and reports the batches whose outcomes the store was asked to record.
    /// Reports the moves' outcomes: whether any of them could not be recorded.
    fn recorded(
        &self,
        moves: Vec<BatchMove>,
        moved: Result<Vec<bool>, String>,
        report: &mut WorkerReport,
        observer: &mut impl WorkerObserver,
    ) -> bool {
        let mut unrecorded = false;
        for (index, step) in moves.into_iter().enumerate() {
            let outcome = step.outcome.unwrap_or_else(|| BatchOutcome::Unknown {
                error: crate::bulk::ErrorRecord {
                    kind: "outcome_unknown".to_owned(),
                    code: None,
                    message: "no outcome".to_owned(),
                },
            });
            let handled = match &moved {
                Ok(moved) if moved.get(index) == Some(&true) => Handled::Recorded(step.transition.to(), outcome),
                // Another transition won (it cannot for an attempt we hold, but say so rather than claim success).
                Ok(_) => Handled::Unrecorded(outcome, "the store refused the outcome".to_owned()),
                Err(error) => Handled::Unrecorded(outcome, error.clone()),
            };
            unrecorded |= matches!(handled, Handled::Unrecorded(..));
            self.count(report, &step.lease, &handled);
            observer.batch(&step.lease, &handled);
        }
        unrecorded
    }

    /// Whether nothing is left this worker could claim: no pending or claimed
    /// batch, or only those of paused accounts and of accounts it does not
    /// serve (a claim for each of its own, in `found_empty`, just found nothing).
    async fn idle(&self, found_empty: &HashMap<String, Instant>) -> Result<bool, StoreError> {
        let counts = self.store.counts(None).await?;
        if counts.batches(BatchState::Claimed) > 0 {
            return Ok(false);
        }
        if counts.batches(BatchState::Pending) == 0 {
            return Ok(true);
        }
        // Pending batches left: idle only if no account that has them can be served soon.
        let accounts = self.accounts().await?;
        let soon = now_ms().saturating_add(super::rate::ms(self.options.wait_out_pauses));
        let now = Instant::now();
        for account in &accounts {
            let paused = account.paused.as_ref().is_some_and(|(until, _)| *until > soon);
            // A claim for it found nothing a moment ago: the pending batches are another account's.
            let empty = found_empty.get(&account.account.name).is_some_and(|until| *until > now);
            if !paused && !empty {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn accounts(&self) -> Result<Vec<AccountState>, StoreError> {
        let accounts = self.store.accounts().await?;
        Ok(accounts
            .into_iter()
            .filter(|state| self.clients.contains_key(&state.account.name))
            .filter(|state| self.options.accounts.is_empty() || self.options.accounts.contains(&state.account.name))
            .filter(|state| !self.options.follow_only.contains(&state.account.name))
            .collect())
    }

    async fn reap(&self) -> Result<(), StoreError> {
        if self.options.unsafe_reaper {
            self.store.requeue_stale_attempts_unsafely(self.options.lease).await?;
        }
        self.store.reap(self.options.unknown_after).await?;
        Ok(())
    }

    fn count(&self, report: &mut WorkerReport, lease: &Lease, handled: &Handled) {
        match handled {
            Handled::Lost => report.lost += 1,
            Handled::Unrecorded(..) => report.unrecorded += 1,
            Handled::Recorded(BatchState::Sent, _) => report.sent += 1,
            Handled::Recorded(BatchState::Failed, _) => report.failed += 1,
            Handled::Recorded(BatchState::Pending, outcome) => {
                report.deferred += 1;
                if let BatchOutcome::Failed { error } = outcome {
                    report.paused.insert(lease.account.clone(), error.message.clone());
                }
            }
            Handled::Recorded(..) => report.unknown += 1,
        }
    }

    /// Sends one batch whose attempt is recorded (durable before the first
    /// byte of the request leaves; a claim whose attempt was refused never
    /// gets here), and says how to record its outcome: the worker records it
    /// with its next claim, or alone (see [`WorkerOptions::outcome_window`]).
    async fn handle(&self, lease: Lease) -> BatchMove {
        let Some(client) = self.clients.get(&lease.account) else {
            // Not reached (only accounts with a client are claimed for); nothing was sent.
            let outcome = BatchOutcome::Failed {
                error: crate::bulk::ErrorRecord {
                    kind: "input".to_owned(),
                    code: None,
                    message: format!("no client for account {:?} in this worker; not sent", lease.account),
                },
            };
            return BatchMove { lease, transition: Transition::Failed, outcome: Some(outcome) };
        };
        let sms =
            Sms::new(&lease.from, lease.text.clone()).to_numbers(lease.numbers.iter().cloned()).flash(lease.flash);
        let result = client.send(&sms).await;
        let outcome = BatchOutcome::of(&result);
        let refusal = result.as_ref().err().and_then(|error| account_refusal(error, self.options.account_pause));
        let transition = match &refusal {
            Some(_) => Transition::Deferred,
            None => transition_of(&outcome),
        };
        if let Some((until, reason)) = &refusal {
            if let Err(error) = self.store.pause(&lease.account, *until, reason).await {
                tracing::warn!(account = %lease.account, %error, "cannot pause the account");
            }
        }
        BatchMove { lease, transition, outcome: Some(outcome) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_limit_waits_for_tehran_midnight() {
        // 2026-11-30 20:00 UTC is 23:30 in Tehran (UTC+3:30): midnight is 30 minutes later.
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).single().map(|t| t.timestamp_millis());
        let now = now.unwrap_or_default();
        assert_eq!(tehran_midnight_after(now) - now, 30 * 60 * 1000);
    }
}
