//! The store in memory: for tests, and for runs that need nothing to survive
//! the process. Clones share the same store, so several workers of one
//! process can run over it.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::rate::{gcra, ms, now_ms, Millis};
use super::state::{BatchState, Transition};
use super::store::{
    plan, tracked_rec_ids, Account, AccountState, BatchRow, CampaignId, CampaignInfo, CampaignPhase, CampaignSpec,
    Counts, Created, DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Reaped, Store, StoreError,
    StoreResult, Token, SINGLE_SEND_PRIORITY,
};
use crate::bulk::BatchOutcome;
use crate::recipient::MobileNumber;
use crate::status_codes::DeliveryStatus;

/// A store in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: BTreeMap<String, AccountRow>,
    campaigns: BTreeMap<CampaignId, CampaignRow>,
    batches: BTreeMap<(CampaignId, u64), BatchEntry>,
    /// RecIds of sent batches: (status code last read, final).
    deliveries: BTreeMap<(CampaignId, u64, i64), (Option<i32>, bool)>,
    next_campaign: i64,
    /// The time every call sees while set: a store that replays recorded calls
    /// (`JsonLinesStore`) makes each see the time it was first made at.
    pinned_now: Option<Millis>,
}

#[derive(Debug)]
struct AccountRow {
    account: Account,
    tat: Millis,
    paused: Option<(Millis, String)>,
}

#[derive(Debug)]
struct CampaignRow {
    info: CampaignInfo,
    numbers: Vec<MobileNumber>,
    seen: HashSet<String>,
}

#[derive(Debug)]
struct BatchEntry {
    first: u64,
    count: u64,
    state: BatchState,
    owner: Option<String>,
    lease_until: Millis,
    attempt_at: Millis,
    outcome: Option<BatchOutcome>,
    /// When its deliveries are next read (`None`: not followed).
    poll_at: Option<Millis>,
    polls: u32,
    updated_at: Option<Millis>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent rows: every change is one assignment.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Has every call see `now` as the time until it is unpinned (`None`).
    #[cfg(feature = "json-lines-store")]
    pub(crate) fn pin_now(&self, now: Option<Millis>) {
        self.lock().pinned_now = now;
    }
}

impl Inner {
    fn now(&self) -> Millis {
        self.pinned_now.unwrap_or_else(now_ms)
    }

    /// Follows the deliveries of a batch just sent with `outcome`.
    fn follow(&mut self, campaign: CampaignId, batch: u64, outcome: Option<&BatchOutcome>, now: Millis) {
        let rec_ids = tracked_rec_ids(outcome);
        if rec_ids.is_empty() {
            return;
        }
        for rec_id in rec_ids {
            self.deliveries.entry((campaign, batch, rec_id)).or_insert((None, false));
        }
        if let Some(entry) = self.batches.get_mut(&(campaign, batch)) {
            entry.poll_at = Some(now);
            entry.polls = 0;
        }
    }

    /// The priority of the batch a claim for `account` would take.
    fn first_pending_priority(&self, account: &str) -> Option<i32> {
        self.campaigns
            .values()
            .filter(|row| row.info.spec.account == account && row.info.phase == CampaignPhase::Ready)
            .filter(|row| {
                let id = row.info.id;
                self.batches.range((id, 0)..=(id, u64::MAX)).any(|(_, entry)| entry.state == BatchState::Pending)
            })
            .map(|row| row.info.spec.priority)
            .min()
    }

    /// The account's token for a batch of `priority` (`None`: a single send's rule), taken when granted and `take`.
    fn token(&mut self, account: &str, priority: Option<i32>, take: bool) -> StoreResult<Token> {
        let now = self.now();
        let row = self.accounts.get_mut(account).ok_or_else(|| StoreError::NoSuchAccount(account.to_owned()))?;
        if let Some((until, reason)) = &row.paused {
            if *until > now {
                return Ok(Token::Paused(*until, reason.clone()));
            }
        }
        let Some(rate) = row.account.rate else { return Ok(Token::Granted) };
        match gcra(row.tat, now, rate.for_priority(priority.unwrap_or(SINGLE_SEND_PRIORITY))) {
            Ok(tat) => {
                if take {
                    row.tat = tat;
                }
                Ok(Token::Granted)
            }
            Err(wait) => Ok(Token::Wait(wait)),
        }
    }

    /// How long until the account's next token is free for a batch of `priority`.
    fn next_token(&self, account: &str, priority: i32) -> Option<Duration> {
        let row = self.accounts.get(account)?;
        let Some(rate) = row.account.rate else { return Some(Duration::ZERO) };
        Some(gcra(row.tat, self.now(), rate.for_priority(priority)).err().unwrap_or(Duration::ZERO))
    }

    fn claim(&mut self, account: &str, owner: &str, lease: Duration) -> Option<Lease> {
        let now = self.now();
        let Inner { campaigns, batches, .. } = self;

        let mut order: Vec<&CampaignRow> = campaigns
            .values()
            .filter(|row| row.info.spec.account == account && row.info.phase == CampaignPhase::Ready)
            .collect();
        order.sort_by_key(|row| (row.info.spec.priority, row.info.id));
        for row in order {
            let id = row.info.id;
            let found =
                batches.range_mut((id, 0)..=(id, u64::MAX)).find(|(_, entry)| entry.state == BatchState::Pending);
            if let Some((&(_, batch), entry)) = found {
                entry.state = BatchState::Claimed;
                entry.owner = Some(owner.to_owned());
                entry.lease_until = now.saturating_add(ms(lease));
                let range = usize::try_from(entry.first).unwrap_or(usize::MAX)
                    ..usize::try_from(entry.first + entry.count).unwrap_or(usize::MAX);
                let numbers = row.numbers.get(range).map(<[MobileNumber]>::to_vec).unwrap_or_default();
                let spec = &row.info.spec;
                return Some(Lease {
                    campaign: id,
                    batch,
                    owner: owner.to_owned(),
                    account: spec.account.clone(),
                    from: spec.from.clone(),
                    text: spec.text.clone(),
                    flash: spec.flash,
                    numbers,
                    next_token: None,
                });
            }
        }
        None
    }
}

impl Store for MemoryStore {
    async fn put_account(&self, account: &Account) -> StoreResult<()> {
        let mut inner = self.lock();
        match inner.accounts.get_mut(&account.name) {
            Some(row) => row.account = account.clone(),
            None => {
                inner
                    .accounts
                    .insert(account.name.clone(), AccountRow { account: account.clone(), tat: 0, paused: None });
            }
        }
        Ok(())
    }

    async fn accounts(&self) -> StoreResult<Vec<AccountState>> {
        let inner = self.lock();
        Ok(inner
            .accounts
            .values()
            .map(|row| AccountState { account: row.account.clone(), paused: row.paused.clone() })
            .collect())
    }

    async fn pause(&self, account: &str, until: Millis, reason: &str) -> StoreResult<()> {
        let mut inner = self.lock();
        let row = inner.accounts.get_mut(account).ok_or_else(|| StoreError::NoSuchAccount(account.to_owned()))?;
        row.paused = Some((until, reason.to_owned()));
        Ok(())
    }

    async fn take_token(&self, account: &str) -> StoreResult<Token> {
        self.lock().token(account, None, true)
    }

    async fn create_campaign(&self, spec: &CampaignSpec) -> StoreResult<Created> {
        let mut inner = self.lock();
        if !inner.accounts.contains_key(&spec.account) {
            return Err(StoreError::NoSuchAccount(spec.account.clone()));
        }
        if let Some(key) = &spec.idempotency_key {
            let found = inner.campaigns.values().find(|row| {
                row.info.spec.account == spec.account && row.info.spec.idempotency_key.as_ref() == Some(key)
            });
            if let Some(row) = found {
                return Ok(Created { id: row.info.id, existed: true });
            }
        }
        inner.next_campaign += 1;
        let id = CampaignId(inner.next_campaign);
        let info = CampaignInfo {
            id,
            spec: spec.clone(),
            phase: CampaignPhase::Importing,
            recipients: 0,
            duplicates: 0,
            created_at: inner.now(),
        };
        inner.campaigns.insert(id, CampaignRow { info, numbers: Vec::new(), seen: HashSet::new() });
        Ok(Created { id, existed: false })
    }

    async fn add_recipients(&self, campaign: CampaignId, numbers: &[MobileNumber]) -> StoreResult<()> {
        let mut inner = self.lock();
        let row = inner.campaigns.get_mut(&campaign).ok_or(StoreError::NoSuchCampaign(campaign))?;
        if row.info.phase != CampaignPhase::Importing {
            return Err(StoreError::Phase { campaign, reason: "its import is over; no recipient can be added" });
        }
        for number in numbers {
            if row.seen.insert(number.as_str().to_owned()) {
                row.numbers.push(number.clone());
            } else {
                row.info.duplicates += 1;
            }
        }
        row.info.recipients = row.numbers.len() as u64;
        Ok(())
    }

    async fn seal(&self, campaign: CampaignId, batch_size: u64) -> StoreResult<Imported> {
        let mut inner = self.lock();
        let row = inner.campaigns.get_mut(&campaign).ok_or(StoreError::NoSuchCampaign(campaign))?;
        let recipients = row.numbers.len() as u64;
        let duplicates = row.info.duplicates;
        if row.info.phase == CampaignPhase::Ready {
            let batches = inner.batches.range((campaign, 0)..=(campaign, u64::MAX)).count() as u64;
            return Ok(Imported { recipients, duplicates, batches });
        }
        row.info.phase = CampaignPhase::Ready;
        row.seen = HashSet::new();
        let mut batches = 0;
        for (batch, first, count) in plan(recipients, batch_size) {
            let entry = BatchEntry {
                first,
                count,
                state: BatchState::Pending,
                owner: None,
                lease_until: 0,
                attempt_at: 0,
                outcome: None,
                poll_at: None,
                polls: 0,
                updated_at: None,
            };
            inner.batches.insert((campaign, batch), entry);
            batches += 1;
        }
        Ok(Imported { recipients, duplicates, batches })
    }

    async fn campaign(&self, campaign: CampaignId) -> StoreResult<Option<CampaignInfo>> {
        Ok(self.lock().campaigns.get(&campaign).map(|row| row.info.clone()))
    }

    async fn claim(&self, account: &str, owner: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        Ok(self.lock().claim(account, owner, lease))
    }

    async fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        let mut inner = self.lock();
        // The token by the rule of the batch a claim would take; kept when there is none.
        let Some(priority) = inner.first_pending_priority(account) else {
            let token = inner.token(account, None, false)?;
            return Ok((token, None));
        };
        let token = inner.token(account, Some(priority), true)?;
        if token != Token::Granted {
            return Ok((token, None));
        }
        let next_token = inner.next_token(account, priority);
        Ok((token, inner.claim(account, owner, lease).map(|claimed| Lease { next_token, ..claimed })))
    }

    async fn enqueue_single(&self, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
        let created = self.create_campaign(spec).await?;
        if created.existed {
            return Ok(created);
        }
        // Nobody else sees an importing campaign's batches: adding and sealing now is one step for claimers.
        self.add_recipients(created.id, std::slice::from_ref(number)).await?;
        self.seal(created.id, 1).await?;
        Ok(created)
    }

    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> StoreResult<bool> {
        let mut inner = self.lock();
        let now = inner.now();
        let Some(entry) = inner.batches.get_mut(&(lease.campaign, lease.batch)) else { return Ok(false) };
        let Some(next) = transition.apply(entry.state) else { return Ok(false) };
        if transition.needs_owner() && entry.owner.as_deref() != Some(lease.owner.as_str()) {
            return Ok(false);
        }
        if transition.needs_live_lease() && entry.lease_until <= now {
            return Ok(false);
        }
        entry.state = next;
        if transition == Transition::Attempt {
            entry.attempt_at = now;
        }
        if next == BatchState::Pending {
            entry.owner = None;
        }
        if let Some(outcome) = outcome {
            entry.outcome = Some(outcome.clone());
        }
        if next == BatchState::Sent {
            inner.follow(lease.campaign, lease.batch, outcome, now);
        }
        Ok(true)
    }

    async fn reap(&self, unknown_after: Duration) -> StoreResult<Reaped> {
        let mut inner = self.lock();
        let now = inner.now();
        let mut reaped = Reaped::default();
        for entry in inner.batches.values_mut() {
            if entry.state == BatchState::Claimed && entry.lease_until <= now {
                entry.state = BatchState::Pending;
                entry.owner = None;
                reaped.requeued += 1;
            } else if entry.state == BatchState::Attempting && entry.attempt_at <= now.saturating_sub(ms(unknown_after))
            {
                entry.state = BatchState::Unknown;
                reaped.unknown += 1;
            }
        }
        Ok(reaped)
    }

    async fn counts(&self, campaign: Option<CampaignId>) -> StoreResult<Counts> {
        let inner = self.lock();
        let mut counts = Counts::default();
        for ((id, _), entry) in &inner.batches {
            if campaign.is_none_or(|wanted| wanted == *id) {
                counts.add(entry.state, 1, entry.count);
            }
        }
        Ok(counts)
    }

    async fn batches(&self, campaign: CampaignId, from: u64, limit: u64) -> StoreResult<Vec<BatchRow>> {
        let inner = self.lock();
        Ok(inner
            .batches
            .range((campaign, from)..=(campaign, u64::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(&(_, batch), entry)| BatchRow {
                batch,
                recipients: entry.count,
                state: entry.state,
                outcome: entry.outcome.clone(),
            })
            .collect())
    }

    async fn batch_numbers(&self, campaign: CampaignId, batch: u64) -> StoreResult<Vec<MobileNumber>> {
        let inner = self.lock();
        let (Some(row), Some(entry)) = (inner.campaigns.get(&campaign), inner.batches.get(&(campaign, batch))) else {
            return Ok(Vec::new());
        };
        let first = usize::try_from(entry.first).unwrap_or(usize::MAX);
        let count = usize::try_from(entry.count).unwrap_or(0);
        Ok(row.numbers.iter().skip(first).take(count).cloned().collect())
    }

    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> StoreResult<u64> {
        if !matches!(transition, Transition::OperatorResend | Transition::Retry) {
            return Err(StoreError::Unsupported("this transition for a whole campaign"));
        }
        let mut inner = self.lock();
        let mut moved = 0;
        for (_, entry) in inner.batches.range_mut((campaign, 0)..=(campaign, u64::MAX)) {
            if let Some(next) = transition.apply(entry.state) {
                entry.state = next;
                entry.owner = None;
                moved += 1;
            }
        }
        Ok(moved)
    }

    async fn reconcile(&self, campaign: CampaignId, batch: u64, outcome: &BatchOutcome) -> StoreResult<bool> {
        let mut inner = self.lock();
        let now = inner.now();
        let Some(entry) = inner.batches.get_mut(&(campaign, batch)) else { return Ok(false) };
        let (transition, next) = Transition::of_reconciliation(outcome);
        if !transition.from().contains(&entry.state) {
            return Ok(false);
        }
        entry.state = next;
        entry.outcome = Some(outcome.clone());
        if next == BatchState::Sent {
            inner.follow(campaign, batch, Some(outcome), now);
        }
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        account: &str,
        first_after: Duration,
        limit: usize,
        lease: Duration,
    ) -> StoreResult<Vec<DeliveryPoll>> {
        let mut inner = self.lock();
        let now = inner.now();
        let first_cutoff = now.saturating_sub(ms(first_after));
        let Inner { campaigns, batches, deliveries, .. } = &mut *inner;
        let mut due: Vec<(Millis, CampaignId, u64)> = batches
            .iter()
            .filter(|((id, _), _)| campaigns.get(id).is_some_and(|row| row.info.spec.account == account))
            .filter_map(|(&(id, batch), entry)| {
                let poll_at = entry.poll_at?;
                (poll_at <= now && (entry.polls > 0 || entry.attempt_at <= first_cutoff))
                    .then_some((poll_at, id, batch))
            })
            .collect();
        due.sort_unstable();
        due.truncate(limit);
        let mut polls = Vec::with_capacity(due.len());
        for (_, id, batch) in due {
            let Some(entry) = batches.get_mut(&(id, batch)) else { continue };
            entry.poll_at = Some(now.saturating_add(ms(lease)));
            let open = deliveries
                .range((id, batch, i64::MIN)..=(id, batch, i64::MAX))
                .filter(|(_, (_, settled))| !settled)
                .map(|(&(_, _, rec_id), (status, _))| (rec_id, status.map(DeliveryStatus::from_code)))
                .collect();
            polls.push(DeliveryPoll {
                campaign: id,
                batch,
                account: account.to_owned(),
                polls: entry.polls,
                sent_at: entry.attempt_at,
                updated_at: entry.updated_at,
                open,
            });
        }
        Ok(polls)
    }

    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) -> StoreResult<()> {
        let mut inner = self.lock();
        let (id, batch) = (poll.campaign, poll.batch);
        for (rec_id, status) in &update.statuses {
            if let Some(row) = inner.deliveries.get_mut(&(id, batch, *rec_id)) {
                *row = (Some(status.code()), status.is_final());
            }
        }
        for rec_id in &update.invalid {
            if let Some(row) = inner.deliveries.get_mut(&(id, batch, *rec_id)) {
                row.1 = true;
            }
        }
        if let Some(entry) = inner.batches.get_mut(&(id, batch)) {
            entry.polls += u32::from(update.counted);
            entry.updated_at = update.updated_at.or(entry.updated_at);
            entry.poll_at = update.next_poll_at;
        }
        Ok(())
    }

    async fn delivery_counts(&self, campaign: CampaignId) -> StoreResult<DeliveryCounts> {
        let inner = self.lock();
        let mut counts = DeliveryCounts::default();
        for (status, settled) in
            inner.deliveries.range((campaign, 0, i64::MIN)..=(campaign, u64::MAX, i64::MAX)).map(|(_, row)| row)
        {
            counts.add(*status, *settled, 1);
        }
        counts.following = inner
            .batches
            .range((campaign, 0)..=(campaign, u64::MAX))
            .filter(|(_, entry)| entry.poll_at.is_some())
            .count() as u64;
        Ok(counts)
    }

    async fn next_delivery_poll(&self, account: Option<&str>, first_after: Duration) -> StoreResult<Option<Millis>> {
        let inner = self.lock();
        Ok(inner
            .batches
            .iter()
            .filter(|((id, _), _)| {
                account
                    .is_none_or(|account| inner.campaigns.get(id).is_some_and(|row| row.info.spec.account == account))
            })
            .filter_map(|(_, entry)| {
                let poll_at = entry.poll_at?;
                Some(if entry.polls == 0 {
                    poll_at.max(entry.attempt_at.saturating_add(ms(first_after)))
                } else {
                    poll_at
                })
            })
            .min())
    }

    async fn requeue_stale_attempts_unsafely(&self, older_than: Duration) -> StoreResult<u64> {
        let mut inner = self.lock();
        let cutoff = inner.now().saturating_sub(ms(older_than));
        let mut moved = 0;
        for entry in inner.batches.values_mut() {
            if matches!(entry.state, BatchState::Attempting | BatchState::Unknown) && entry.attempt_at <= cutoff {
                entry.state = BatchState::Pending;
                entry.owner = None;
                moved += 1;
            }
        }
        Ok(moved)
    }
}
