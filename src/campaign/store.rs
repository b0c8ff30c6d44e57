//! The job store: the trait every store implements, and what it holds.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::rate::{Millis, Rate};
use super::state::{BatchState, Transition};
use crate::bulk::BatchOutcome;
use crate::recipient::MobileNumber;
use crate::status_codes::DeliveryStatus;

/// A campaign's id in its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct CampaignId(pub i64);

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A panel account campaigns are sent with. The store keeps a *reference* to
/// its credentials (say `env:PAYAMAK_PASSWORD`), never a password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct Account {
    /// The account's name in the store (campaigns name it).
    pub name: String,
    /// The panel user name.
    pub username: String,
    /// The panel's base URLs, in failover order.
    pub endpoints: Vec<String>,
    /// Where the worker finds the password: never the password itself.
    pub credentials: String,
    /// How fast SendSms may be called for it; `None` for no limit.
    pub rate: Option<Rate>,
}

/// An account as the store has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// The account.
    pub account: Account,
    /// Until when no worker sends with it, and why.
    pub paused: Option<(Millis, String)>,
}

/// Whether a worker may call the panel for an account now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A call may go: the token is taken.
    Granted,
    /// The next token is free after this long.
    Wait(Duration),
    /// The account is paused until then (ms since the epoch), for this reason.
    Paused(Millis, String),
}

/// A new campaign: one text from one sender of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct CampaignSpec {
    /// The account's name in the store.
    pub account: String,
    /// The sender number.
    pub from: String,
    /// The text.
    pub text: String,
    /// Flash SMS.
    pub flash: bool,
    /// Lower goes first: single sends (OTPs) use 0, campaigns [`CAMPAIGN_PRIORITY`].
    pub priority: i32,
    /// With a key, creating the same campaign again (per account) returns the existing one.
    pub idempotency_key: Option<String>,
    /// Where the recipients came from, for people.
    pub source: String,
}

/// The priority of campaigns; single sends go before them.
pub const CAMPAIGN_PRIORITY: i32 = 100;

/// The priority of single sends (OTPs, notifications): claimed before any
/// campaign batch, and free to take the tokens campaigns leave in reserve.
pub const SINGLE_SEND_PRIORITY: i32 = 0;

impl CampaignSpec {
    /// A single send (an OTP, a notification) of `text` from `from` with
    /// `account`, at [`SINGLE_SEND_PRIORITY`], made once per `idempotency_key`:
    /// what [`Store::enqueue_single`] takes.
    pub fn single_send(
        account: impl Into<String>,
        from: impl Into<String>,
        text: impl Into<String>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        CampaignSpec {
            account: account.into(),
            from: from.into(),
            text: text.into(),
            flash: false,
            priority: SINGLE_SEND_PRIORITY,
            idempotency_key: Some(idempotency_key.into()),
            source: "single send".to_owned(),
        }
    }
}

/// A campaign created, or found by its idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    /// Its id.
    pub id: CampaignId,
    /// Whether it existed (its key was known): nothing was created.
    pub existed: bool,
}

/// Where a campaign stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum CampaignPhase {
    /// Its recipients are being added; no batch exists yet.
    Importing,
    /// Its batches are planned: workers send them.
    Ready,
}

/// A campaign as the store has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignInfo {
    /// Its id.
    pub id: CampaignId,
    /// What it sends, and with which account.
    pub spec: CampaignSpec,
    /// Importing or ready.
    pub phase: CampaignPhase,
    /// Its recipients (after duplicates were dropped).
    pub recipients: u64,
    /// Repeated numbers dropped at import.
    pub duplicates: u64,
    /// When it was created (ms since the epoch).
    pub created_at: Millis,
}

/// What an import planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Recipients, repeated numbers dropped.
    pub recipients: u64,
    /// Repeated numbers dropped.
    pub duplicates: u64,
    /// Batches planned.
    pub batches: u64,
}

/// A batch a worker holds: what it sends, if its attempt is recorded in time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct Lease {
    /// The campaign.
    pub campaign: CampaignId,
    /// The 0-based batch of the campaign.
    pub batch: u64,
    /// The worker holding it.
    pub owner: String,
    /// The account to send it with.
    pub account: String,
    /// The sender.
    pub from: String,
    /// The text.
    pub text: String,
    /// Flash SMS.
    pub flash: bool,
    /// Its recipients, in order.
    pub numbers: Vec<MobileNumber>,
    /// When the store granted the token this batch was claimed with: how long
    /// until the account's next token is free for a batch of the same priority
    /// (zero: one is free now). `None` when the store did not say (a claim
    /// without a token, or a store that does not tell). A hint that spares a
    /// worker asking in vain: the store still decides when it asks.
    pub next_token: Option<Duration>,
}

/// One batch as the store has it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRow {
    /// The 0-based batch.
    pub batch: u64,
    /// Its recipients.
    pub recipients: u64,
    /// Where it stands.
    pub state: BatchState,
    /// The last outcome recorded (a deferred batch keeps why it was deferred).
    pub outcome: Option<BatchOutcome>,
}

/// How many batches (and their recipients) are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Per state: batches and recipients.
    pub states: BTreeMap<BatchState, (u64, u64)>,
}

impl Counts {
    /// The batches in `state`.
    pub fn batches(&self, state: BatchState) -> u64 {
        self.states.get(&state).map_or(0, |counts| counts.0)
    }

    /// The recipients of the batches in `state`.
    pub fn recipients(&self, state: BatchState) -> u64 {
        self.states.get(&state).map_or(0, |counts| counts.1)
    }

    /// Batches a worker may still move: pending, claimed or attempting.
    pub fn outstanding(&self) -> u64 {
        [BatchState::Pending, BatchState::Claimed, BatchState::Attempting].into_iter().map(|s| self.batches(s)).sum()
    }

    /// Every batch.
    pub fn total(&self) -> u64 {
        self.states.values().map(|counts| counts.0).sum()
    }

    pub(crate) fn add(&mut self, state: BatchState, batches: u64, recipients: u64) {
        let entry = self.states.entry(state).or_default();
        entry.0 += batches;
        entry.1 += recipients;
    }
}

/// What a reaper pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Claims whose lease expired before their attempt, back to pending.
    pub requeued: u64,
    /// Attempts with no outcome in time, now unknown.
    pub unknown: u64,
}

/// One move of [`Store::advance_many`]: a leased batch, the transition, and the outcome recorded with it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct BatchMove {
    /// The batch, as its worker holds it.
    pub lease: Lease,
    /// The move (one that [`needs_owner`](Transition::needs_owner)).
    pub transition: Transition,
    /// The outcome recorded with it.
    pub outcome: Option<BatchOutcome>,
}

/// A sent batch whose delivery statuses are due to be read, held by the
/// worker that claimed it for a while (another may read it after that).
///
/// A batch's recIds are followed together: the panel refreshes its copy of
/// their statuses with one `UpdateDelivery` per batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPoll {
    /// The campaign.
    pub campaign: CampaignId,
    /// The 0-based batch.
    pub batch: u64,
    /// The account it was sent with.
    pub account: String,
    /// Reads counted so far (the place in the schedule).
    pub polls: u32,
    /// When it was sent (its attempt; ms since the epoch): the schedule counts from here.
    pub sent_at: Millis,
    /// When the panel last took an `UpdateDelivery` for it.
    pub updated_at: Option<Millis>,
    /// Its recIds without a final status yet, with the last status read (`None`: none read yet).
    pub open: Vec<(i64, Option<DeliveryStatus>)>,
}

/// What one poll of a batch found, for [`Store::record_deliveries`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryUpdate {
    /// Statuses read: (recId, status); a [final](DeliveryStatus::is_final) one ends that recId's following.
    pub statuses: Vec<(i64, DeliveryStatus)>,
    /// RecIds the panel does not know (`UpdateDelivery` code 0): no longer followed.
    pub invalid: Vec<i64>,
    /// Whether the poll counts as a step of the schedule (not when it only waited for the panel's minimum interval).
    pub counted: bool,
    /// When the panel took an `UpdateDelivery`, if it did.
    pub updated_at: Option<Millis>,
    /// When to read again; `None` stops following the batch.
    pub next_poll_at: Option<Millis>,
}

/// The delivery statuses of a campaign's sent recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// RecIds followed (those the panel accepted in sent batches).
    pub tracked: u64,
    /// Of them, no status read yet.
    pub unread: u64,
    /// Of them, unknown to the panel (`UpdateDelivery` code 0).
    pub invalid: u64,
    /// Of them, per status code last read.
    pub by_status: BTreeMap<i32, u64>,
    /// Sent batches still followed (a poll is scheduled).
    pub following: u64,
}

impl DeliveryCounts {
    /// Counts `rows` recIds whose last status read is `status` (none yet, or, when
    /// `settled`, found invalid).
    pub(crate) fn add(&mut self, status: Option<i32>, settled: bool, rows: u64) {
        self.tracked += rows;
        match status {
            Some(code) => *self.by_status.entry(code).or_default() += rows,
            None if settled => self.invalid += rows,
            None => self.unread += rows,
        }
    }

    /// RecIds whose status is final (or found invalid): no longer followed.
    pub fn settled(&self) -> u64 {
        self.invalid
            + self
                .by_status
                .iter()
                .filter(|(code, _)| DeliveryStatus::from_code(**code).is_final())
                .map(|(_, count)| count)
                .sum::<u64>()
    }
}

/// The recIds of a sent outcome that delivery tracking follows: those the
/// panel accepted, each once.
pub(crate) fn tracked_rec_ids(outcome: Option<&BatchOutcome>) -> Vec<i64> {
    let Some(BatchOutcome::Sent { recipients }) = outcome else { return Vec::new() };
    let mut rec_ids: Vec<i64> =
        recipients.iter().filter(|recipient| recipient.accepted).filter_map(|recipient| recipient.rec_id).collect();
    rec_ids.sort_unstable();
    rec_ids.dedup();
    rec_ids
}

/// Why a store could not do something. Never holds a password or a
/// connection string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("the job store: {context}")]
    Backend {
        /// What was being done.
        context: String,
        /// The database's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A row that cannot be read: the store is damaged or was written by something else.
    #[error("the job store is damaged: {0}")]
    Damaged(String),
    /// No campaign with this id.
    #[error("no campaign {0} in the job store")]
    NoSuchCampaign(CampaignId),
    /// No account with this name.
    #[error("no account {0:?} in the job store")]
    NoSuchAccount(String),
    /// The operation does not fit the campaign's phase.
    #[error("campaign {campaign}: {reason}")]
    Phase {
        /// The campaign.
        campaign: CampaignId,
        /// What is wrong.
        reason: &'static str,
    },
    /// The store does not offer this operation.
    #[error("this job store does not support {0}")]
    Unsupported(&'static str),
    /// A function that writes in the application's transaction was given a
    /// connection with none open: its writes would not be atomic with the application's.
    #[error("{0} needs a transaction open on the application's connection; none is")]
    NoTransaction(&'static str),
}

impl StoreError {
    /// A database error, with what was being done.
    pub fn backend(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend { context: context.into(), source: Box::new(source) }
    }
}

/// What a store returns.
pub type StoreResult<T> = Result<T, StoreError>;

/// A durable job store for campaigns: accounts with their token buckets and
/// pauses, campaigns, their recipients and their batches, each batch moving
/// through the one state machine of [`super::state`].
///
/// A store's promise: when a method that changes a batch returns `Ok(true)`,
/// the change survives a crash (for the durable stores, a power loss), and it
/// was made only if the batch was in one of the transition's
/// [`from`](Transition::from) states (and, where [`Transition::needs_owner`],
/// held by the lease's owner; for the attempt, with the lease still running).
/// `Ok(false)` means nothing changed. Every store passes the same conformance
/// suite (`tests/it/store_conformance.rs`).
///
/// A [`Worker`](super::Worker) polls its batches on their way and its next
/// claim from one task, so a store's futures must not wait for one another
/// (a fair async lock held across calls would deadlock it): each call either
/// finishes on its own or waits only for the database.
pub trait Store: Send + Sync {
    /// Adds an account, or updates its user name, endpoints, credentials
    /// reference and rate (its bucket and pause are kept).
    fn put_account(&self, account: &Account) -> impl Future<Output = StoreResult<()>> + Send;

    /// Every account, by name.
    fn accounts(&self) -> impl Future<Output = StoreResult<Vec<AccountState>>> + Send;

    /// Pauses an account until `until` (ms since the epoch): no token is given for it before.
    fn pause(&self, account: &str, until: Millis, reason: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes a token of the account's bucket, if one is free and the account is
    /// not paused: the whole bucket, as a single send may use it (a campaign's
    /// token is taken with its claim, [`take_token_and_claim`](Store::take_token_and_claim),
    /// which leaves the [reserve](super::Rate::reserve)).
    fn take_token(&self, account: &str) -> impl Future<Output = StoreResult<Token>> + Send;

    /// Creates a campaign in the importing phase, or finds the one with the same idempotency key.
    fn create_campaign(&self, spec: &CampaignSpec) -> impl Future<Output = StoreResult<Created>> + Send;

    /// Adds recipients, in order, to an importing campaign; a number it has already is dropped.
    fn add_recipients(
        &self,
        campaign: CampaignId,
        numbers: &[MobileNumber],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Ends the import: plans the batches of `batch_size` recipients, and makes them claimable.
    fn seal(&self, campaign: CampaignId, batch_size: u64) -> impl Future<Output = StoreResult<Imported>> + Send;

    /// A campaign.
    fn campaign(&self, campaign: CampaignId) -> impl Future<Output = StoreResult<Option<CampaignInfo>>> + Send;

    /// Enqueues a single send: a campaign of `spec` (say [`CampaignSpec::single_send`])
    /// with the one recipient `number`, ready to claim. With an idempotency key,
    /// enqueueing again returns the existing one (`existed`) and adds nothing.
    /// The durable stores do it in one transaction; by default the calls are
    /// made in turn, and a call repeated after a failure half-way finishes the
    /// campaign its key names. An application that writes rows of its own
    /// with the send enqueues it in its own transaction instead:
    /// `sqlite::enqueue_single_in`, `postgres::enqueue_single_in`.
    fn enqueue_single(
        &self,
        spec: &CampaignSpec,
        number: &MobileNumber,
    ) -> impl Future<Output = StoreResult<Created>> + Send {
        async move {
            let created = self.create_campaign(spec).await?;
            let phase = self.campaign(created.id).await?.map(|info| info.phase);
            if phase != Some(CampaignPhase::Importing) {
                return Ok(created);
            }
            self.add_recipients(created.id, std::slice::from_ref(number)).await?;
            self.seal(created.id, 1).await?;
            Ok(created)
        }
    }

    /// Claims the first pending batch of the account (lowest priority first,
    /// then oldest campaign, then batch order) for `owner`, under a lease of `lease`.
    fn claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = StoreResult<Option<Lease>>> + Send;

    /// [`take_token`](Store::take_token), then, when a token is granted,
    /// [`claim`](Store::claim) for the same account: what a worker does for
    /// each batch. A store may do both in one transaction (one disk sync
    /// instead of two), and then keeps the token when there is nothing to
    /// claim; by default the two calls are made in turn.
    ///
    /// The four stores do it in one step, and take the token by the rule of
    /// the batch they would claim: a campaign's batch leaves the account's
    /// [reserve](super::Rate::reserve) in the bucket (and gets
    /// [`Token::Wait`] when only the reserve is left), a single send may take
    /// any token. The default, two calls, takes any token.
    fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = StoreResult<(Token, Option<Lease>)>> + Send {
        async move {
            let token = self.take_token(account).await?;
            if token != Token::Granted {
                return Ok((token, None));
            }
            let lease = self.claim(account, owner, lease).await?;
            Ok((token, lease))
        }
    }

    /// [`take_token_and_claim`](Store::take_token_and_claim), then the
    /// claimed batch's attempt ([`Transition::Attempt`]) at once: for a worker
    /// that sends a batch as soon as it holds it. The lease returned is
    /// attempting, committed: its request may be sent. A store may do all of it
    /// in one transaction (one disk sync instead of two); by default the calls
    /// are made in turn, and a claim whose attempt is refused gives `None`.
    fn take_token_claim_and_attempt(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = StoreResult<(Token, Option<Lease>)>> + Send {
        async move {
            let (token, claimed) = self.take_token_and_claim(account, owner, lease).await?;
            let Some(lease) = claimed else { return Ok((token, None)) };
            let attempted = self.advance(&lease, Transition::Attempt, None).await?;
            Ok((token, attempted.then_some(lease)))
        }
    }

    /// Moves the leased batch by `transition` (one that [`needs_owner`](Transition::needs_owner)),
    /// recording `outcome` with it when given. `Ok(false)` when the machine or
    /// the lease does not allow it: for [`Transition::Attempt`], the caller must then send nothing.
    /// The lease is the one the store gave: a sent outcome for its numbers, in
    /// order, may be kept without them, and read back with the batch's.
    fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// [`advance`](Store::advance) for each of `moves`, in order: `Ok` gives
    /// each move's answer, and then every change that was made is durable. A
    /// store may make them in one transaction (one disk sync for all: group
    /// commit); by default the calls are made in turn.
    fn advance_many(&self, moves: &[BatchMove]) -> impl Future<Output = StoreResult<Vec<bool>>> + Send {
        async move {
            let mut moved = Vec::with_capacity(moves.len());
            for step in moves {
                moved.push(self.advance(&step.lease, step.transition, step.outcome.as_ref()).await?);
            }
            Ok(moved)
        }
    }

    /// [`advance_many`](Store::advance_many), then
    /// [`take_token_claim_and_attempt`](Store::take_token_claim_and_attempt):
    /// a worker's finished batches recorded with its next claim. The outer
    /// `Err` means no move was recorded; the inner one, that the moves were
    /// recorded and the claim failed. A store may do it all in one
    /// transaction; by default the calls are made in turn.
    #[allow(clippy::type_complexity)]
    fn advance_many_then_claim(
        &self,
        moves: &[BatchMove],
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = StoreResult<(Vec<bool>, StoreResult<(Token, Option<Lease>)>)>> + Send {
        async move {
            let moved = self.advance_many(moves).await?;
            let claimed = self.take_token_claim_and_attempt(account, owner, lease).await;
            Ok((moved, claimed))
        }
    }

    /// The reaper: claims whose lease expired go back to pending; attempts
    /// older than `unknown_after` without an outcome become unknown.
    fn reap(&self, unknown_after: Duration) -> impl Future<Output = StoreResult<Reaped>> + Send;

    /// Batches and recipients per state of a campaign (of all campaigns with `None`).
    fn counts(&self, campaign: Option<CampaignId>) -> impl Future<Output = StoreResult<Counts>> + Send;

    /// Up to `limit` batches of a campaign from batch `from` on, in order.
    fn batches(
        &self,
        campaign: CampaignId,
        from: u64,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Vec<BatchRow>>> + Send;

    /// The recipients of one batch, in order.
    fn batch_numbers(
        &self,
        campaign: CampaignId,
        batch: u64,
    ) -> impl Future<Output = StoreResult<Vec<MobileNumber>>> + Send;

    /// Moves every batch of a campaign in a state `transition` starts from, by a
    /// transition a person or a rerun asks for: [`Transition::OperatorResend`]
    /// (unknown batches; their recipients may get the message twice) or
    /// [`Transition::Retry`] (failed batches, which definitely were not sent).
    /// Returns how many moved.
    fn requeue(&self, campaign: CampaignId, transition: Transition) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Records what reconciliation found: for an unknown batch, `Sent` (found
    /// on the panel) or `Failed` (proved absent); for a pending one, `Unknown`
    /// (the panel shows recipients of it already received its text, so the
    /// store is not the whole record: [`Transition::FoundOnThePanel`]).
    /// `Ok(false)` when the batch is in no state that finding moves.
    fn reconcile(
        &self,
        campaign: CampaignId,
        batch: u64,
        outcome: &BatchOutcome,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Claims up to `limit` sent batches of `account` whose delivery statuses
    /// are due: a batch is due `first_after` its send for its first read, and
    /// at the time its last poll set afterwards. Each is held for `lease`
    /// (not offered again before, unless recorded). Batches whose answer
    /// gave no accepted recId are never followed. Oldest due first.
    ///
    /// A store records a sent batch's recIds for following in the same
    /// transaction as its `sent` outcome ([`advance`](Store::advance),
    /// [`reconcile`](Store::reconcile)).
    fn claim_deliveries(
        &self,
        account: &str,
        first_after: Duration,
        limit: usize,
        lease: Duration,
    ) -> impl Future<Output = StoreResult<Vec<DeliveryPoll>>> + Send {
        let _ = (account, first_after, limit, lease);
        std::future::ready(Err(StoreError::Unsupported("delivery tracking")))
    }

    /// Records what a poll of a claimed batch found, and when to read it again.
    fn record_deliveries(
        &self,
        poll: &DeliveryPoll,
        update: &DeliveryUpdate,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = (poll, update);
        std::future::ready(Err(StoreError::Unsupported("delivery tracking")))
    }

    /// The delivery statuses of a campaign's sent recipients.
    fn delivery_counts(&self, campaign: CampaignId) -> impl Future<Output = StoreResult<DeliveryCounts>> + Send {
        let _ = campaign;
        std::future::ready(Err(StoreError::Unsupported("delivery tracking")))
    }

    /// When the next delivery poll of any followed batch (of `account`, or of
    /// all with `None`) is due, the first read counted `first_after` its send; `None` when none is followed.
    fn next_delivery_poll(
        &self,
        account: Option<&str>,
        first_after: Duration,
    ) -> impl Future<Output = StoreResult<Option<Millis>>> + Send {
        let _ = (account, first_after);
        std::future::ready(Err(StoreError::Unsupported("delivery tracking")))
    }

    /// **Breaks the guarantee; for the chaos test's control run only.** Re-queues
    /// attempts older than `older_than`, as generic job queues do: the control
    /// run must see double sends, proving the test can.
    #[doc(hidden)]
    fn requeue_stale_attempts_unsafely(&self, older_than: Duration) -> impl Future<Output = StoreResult<u64>> + Send {
        let _ = older_than;
        std::future::ready(Err(StoreError::Unsupported("the unsafe reaper")))
    }
}

/// The transition that records `outcome` for a batch being attempted.
pub fn transition_of(outcome: &BatchOutcome) -> Transition {
    match outcome {
        BatchOutcome::Sent { .. } => Transition::Sent,
        BatchOutcome::Failed { .. } => Transition::Failed,
        BatchOutcome::Unknown { .. } => Transition::OutcomeUnknown,
    }
}

/// The batches of `recipients` recipients in batches of `batch_size`: (first 0-based recipient, count).
pub(crate) fn plan(recipients: u64, batch_size: u64) -> impl Iterator<Item = (u64, u64, u64)> {
    let size = batch_size.max(1);
    (0..recipients.div_ceil(size)).map(move |batch| {
        let first = batch * size;
        (batch, first, size.min(recipients - first))
    })
}
