//! The job store a campaign command names with `--store URL`: `sqlite:PATH`,
//! or PostgreSQL as `postgres://…`, `postgresql://…` or a libpq `key=value` string.
//!
//! For the CLI's own tests (not a user feature; release builds ignore it),
//! `PAYAMAK_TEST_STORE_FAIL=<point>:<n>` makes one store call of the process
//! fail as a full disk would: it returns an error without reaching the store,
//! which that call leaves unchanged. `point` is what the call records:
//! - `attempt`: the n-th attempt (1-based) the process records: a claim and
//!   attempt (`take_token_claim_and_attempt`; it counts only while the store
//!   has a pending batch, as a claim finds none otherwise) or an
//!   [`Transition::Attempt`] move;
//! - `outcome`: the n-th outcome it records: a move by `Sent`, `Failed`,
//!   `OutcomeUnknown` or `Deferred` (`advance`, `advance_many`).
//!
//! `<point>:<n>+` fails that call and every later call that records an
//! attempt or an outcome (a disk that stays full).
//!
//! Records are counted in the order a call holds them, failed calls
//! included. `advance_many_then_claim` is taken as the trait's default makes
//! it, in turn: its moves (failing, when one of them is the point, the whole
//! call: nothing recorded, nothing claimed), then its claim and attempt
//! (failing, when it is the point, alone: the moves are recorded, and the
//! claim's error is the inner one).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use payamak::bulk::BatchOutcome;
use payamak::campaign::{
    Account, AccountState, BatchMove, BatchRow, BatchState, CampaignId, CampaignInfo, CampaignSpec, Counts, Created,
    DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Reaped, SqliteStore, Store, StoreError, StoreResult,
    Token, Transition,
};
use payamak::recipient::MobileNumber;

use crate::failure::Failure;

/// Where a store is.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (it may hold a password: never shown).
    Postgres(String),
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl StoreUrl {
    /// Reads `--store`.
    pub fn parse(text: &str) -> Result<StoreUrl, String> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file, e.g. sqlite:campaigns.db".to_owned());
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") || text.contains('=') {
            return Ok(StoreUrl::Postgres(text.to_owned()));
        }
        Err("a store is sqlite:PATH, postgres://… (or postgresql://…), or a libpq string such as \
             \"host=/run/postgresql dbname=payamak\""
            .to_owned())
    }

    /// The store for people: the file, or the database without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            StoreUrl::Postgres(_) => "a PostgreSQL database".to_owned(),
        }
    }

    /// Opens (creating if needed) the store.
    pub async fn open(&self) -> Result<AnyStore, Failure> {
        let backend = match self {
            StoreUrl::Sqlite(path) => SqliteStore::open(path).map(Backend::Sqlite).map_err(Failure::usage)?,
            StoreUrl::Postgres(config) => postgres(config).await?,
        };
        Ok(AnyStore { backend, fail: FailPoint::from_env().map(Arc::new) })
    }
}

#[cfg(feature = "postgres")]
async fn postgres(config: &str) -> Result<Backend, Failure> {
    payamak::campaign::PostgresStore::connect(config).await.map(Backend::Postgres).map_err(Failure::usage)
}

#[cfg(not(feature = "postgres"))]
async fn postgres(_config: &str) -> Result<Backend, Failure> {
    Err(Failure::usage("this payamak was built without PostgreSQL (the `postgres` feature)"))
}

/// One of the stores (with the tests' failure point, in debug builds).
#[derive(Debug, Clone)]
pub struct AnyStore {
    backend: Backend,
    fail: Option<Arc<FailPoint>>,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(payamak::campaign::PostgresStore),
}

/// Calls the same method on whichever store it is.
macro_rules! each {
    ($self:ident, $store:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($store) => $call.await,
            #[cfg(feature = "postgres")]
            Backend::Postgres($store) => $call.await,
        }
    };
}

/// `PAYAMAK_TEST_STORE_FAIL` (see the module's documentation), with the records counted so far.
#[derive(Debug)]
struct FailPoint {
    outcome: bool,
    nth: usize,
    /// `<n>+`: after the n-th, every call that records anything fails.
    from_then_on: bool,
    /// The point was reached with `from_then_on`.
    full: AtomicBool,
    attempts: AtomicUsize,
    outcomes: AtomicUsize,
}

impl FailPoint {
    fn from_env() -> Option<FailPoint> {
        if !cfg!(debug_assertions) {
            return None;
        }
        let value = std::env::var("PAYAMAK_TEST_STORE_FAIL").ok()?;
        let (point, nth) = value.split_once(':')?;
        let outcome = match point {
            "attempt" => false,
            "outcome" => true,
            _ => return None,
        };
        let (nth, from_then_on) = nth.strip_suffix('+').map_or((nth, false), |nth| (nth, true));
        Some(FailPoint {
            outcome,
            nth: nth.parse().ok()?,
            from_then_on,
            full: AtomicBool::new(false),
            attempts: AtomicUsize::new(0),
            outcomes: AtomicUsize::new(0),
        })
    }

    /// Counts `attempts` and `outcomes` a call records: the error it gets if one of them is the point.
    fn count(&self, attempts: usize, outcomes: usize) -> StoreResult<()> {
        let (counter, records, point) =
            if self.outcome { (&self.outcomes, outcomes, "outcome") } else { (&self.attempts, attempts, "attempt") };
        let full = self.full.load(Ordering::SeqCst) && attempts + outcomes > 0;
        let before = counter.fetch_add(records, Ordering::SeqCst);
        if full || (before < self.nth && before + records >= self.nth) {
            self.full.store(self.from_then_on, Ordering::SeqCst);
            let source = std::io::Error::other(format!("No space left on device (test: {point} {})", self.nth));
            return Err(StoreError::backend(format!("recording {point} {} of this process", self.nth), source));
        }
        Ok(())
    }

    /// The attempts and outcomes `moves` record.
    fn moves(moves: &[BatchMove]) -> (usize, usize) {
        moves.iter().fold((0, 0), |(attempts, outcomes), step| {
            let (attempt, outcome) = Self::records(step.transition);
            (attempts + attempt, outcomes + outcome)
        })
    }

    /// The attempt and outcome a move by `transition` records.
    fn records(transition: Transition) -> (usize, usize) {
        match transition {
            Transition::Attempt => (1, 0),
            Transition::Sent | Transition::Failed | Transition::OutcomeUnknown | Transition::Deferred => (0, 1),
            _ => (0, 0),
        }
    }
}

impl AnyStore {
    /// Counts the attempt a claim would record (none when nothing is pending): the error it gets at the point.
    async fn claim_fails(&self) -> StoreResult<()> {
        let Some(fail) = &self.fail else { return Ok(()) };
        let pending = each!(self, store => store.counts(None))?.batches(BatchState::Pending);
        fail.count(usize::from(pending > 0), 0)
    }

    /// Counts what `moves` record: the error they get at the point.
    fn moves_fail(&self, moves: &[BatchMove]) -> StoreResult<()> {
        let Some(fail) = &self.fail else { return Ok(()) };
        let (attempts, outcomes) = FailPoint::moves(moves);
        fail.count(attempts, outcomes)
    }
}

impl Store for AnyStore {
    async fn put_account(&self, account: &Account) -> StoreResult<()> {
        each!(self, store => store.put_account(account))
    }
    async fn accounts(&self) -> StoreResult<Vec<AccountState>> {
        each!(self, store => store.accounts())
    }
    async fn pause(&self, account: &str, until: i64, reason: &str) -> StoreResult<()> {
        each!(self, store => store.pause(account, until, reason))
    }
    async fn take_token(&self, account: &str) -> StoreResult<Token> {
        each!(self, store => store.take_token(account))
    }
    async fn create_campaign(&self, spec: &CampaignSpec) -> StoreResult<Created> {
        each!(self, store => store.create_campaign(spec))
    }
    async fn add_recipients(&self, campaign: CampaignId, numbers: &[MobileNumber]) -> StoreResult<()> {
        each!(self, store => store.add_recipients(campaign, numbers))
    }
    async fn seal(&self, campaign: CampaignId, batch_size: u64) -> StoreResult<Imported> {
        each!(self, store => store.seal(campaign, batch_size))
    }
    async fn campaign(&self, campaign: CampaignId) -> StoreResult<Option<CampaignInfo>> {
        each!(self, store => store.campaign(campaign))
    }
    async fn claim(&self, account: &str, owner: &str, lease: std::time::Duration) -> StoreResult<Option<Lease>> {
        each!(self, store => store.claim(account, owner, lease))
    }
    async fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        each!(self, store => store.take_token_and_claim(account, owner, lease))
    }
    async fn take_token_claim_and_attempt(
        &self,
        account: &str,
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        self.claim_fails().await?;
        each!(self, store => store.take_token_claim_and_attempt(account, owner, lease))
    }
    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> StoreResult<bool> {
        if let Some(fail) = &self.fail {
            let (attempts, outcomes) = FailPoint::records(transition);
            fail.count(attempts, outcomes)?;
        }
        each!(self, store => store.advance(lease, transition, outcome))
    }
    async fn reap(&self, unknown_after: std::time::Duration) -> StoreResult<Reaped> {
        each!(self, store => store.reap(unknown_after))
    }
    async fn counts(&self, campaign: Option<CampaignId>) -> StoreResult<Counts> {
        each!(self, store => store.counts(campaign))
    }
    async fn batches(&self, campaign: CampaignId, from: u64, limit: u64) -> StoreResult<Vec<BatchRow>> {
        each!(self, store => store.batches(campaign, from, limit))
    }
    async fn batch_numbers(&self, campaign: CampaignId, batch: u64) -> StoreResult<Vec<MobileNumber>> {
        each!(self, store => store.batch_numbers(campaign, batch))
    }
    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> StoreResult<u64> {
        each!(self, store => store.requeue(campaign, transition))
    }
    async fn reconcile(&self, campaign: CampaignId, batch: u64, outcome: &BatchOutcome) -> StoreResult<bool> {
        each!(self, store => store.reconcile(campaign, batch, outcome))
    }
    async fn enqueue_single(&self, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
        each!(self, store => store.enqueue_single(spec, number))
    }
    async fn advance_many(&self, moves: &[BatchMove]) -> StoreResult<Vec<bool>> {
        self.moves_fail(moves)?;
        each!(self, store => store.advance_many(moves))
    }
    async fn advance_many_then_claim(
        &self,
        moves: &[BatchMove],
        account: &str,
        owner: &str,
        lease: std::time::Duration,
    ) -> StoreResult<(Vec<bool>, StoreResult<(Token, Option<Lease>)>)> {
        if self.fail.is_some() {
            // In turn, as the module's documentation says.
            self.moves_fail(moves)?;
            if let Err(error) = self.claim_fails().await {
                let moved = each!(self, store => store.advance_many(moves))?;
                return Ok((moved, Err(error)));
            }
        }
        each!(self, store => store.advance_many_then_claim(moves, account, owner, lease))
    }
    async fn claim_deliveries(
        &self,
        account: &str,
        first_after: std::time::Duration,
        limit: usize,
        lease: std::time::Duration,
    ) -> StoreResult<Vec<DeliveryPoll>> {
        each!(self, store => store.claim_deliveries(account, first_after, limit, lease))
    }
    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) -> StoreResult<()> {
        each!(self, store => store.record_deliveries(poll, update))
    }
    async fn delivery_counts(&self, campaign: CampaignId) -> StoreResult<DeliveryCounts> {
        each!(self, store => store.delivery_counts(campaign))
    }
    async fn next_delivery_poll(
        &self,
        account: Option<&str>,
        first_after: std::time::Duration,
    ) -> StoreResult<Option<i64>> {
        each!(self, store => store.next_delivery_poll(account, first_after))
    }
    async fn requeue_stale_attempts_unsafely(&self, older_than: std::time::Duration) -> StoreResult<u64> {
        each!(self, store => store.requeue_stale_attempts_unsafely(older_than))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_read_and_never_shown_with_a_password() {
        assert_eq!(StoreUrl::parse("sqlite:c.db"), Ok(StoreUrl::Sqlite("c.db".into())));
        assert_eq!(StoreUrl::parse("sqlite:///tmp/c.db"), Ok(StoreUrl::Sqlite("/tmp/c.db".into())));
        assert!(StoreUrl::parse("sqlite:").is_err());
        assert!(StoreUrl::parse("c.db").unwrap_err().contains("sqlite:PATH"));
        for url in ["postgres://u:hunter2@db/payamak", "postgresql://u:hunter2@db/p", "host=/tmp password=hunter2"] {
            let store = StoreUrl::parse(url).unwrap();
            assert!(matches!(store, StoreUrl::Postgres(_)));
            assert!(!format!("{store:?} {}", store.describe()).contains("hunter2"));
        }
    }
}
