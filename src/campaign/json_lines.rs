//! The job store in a file of JSON lines.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::FutureExt as _;
use serde::{Deserialize, Serialize};

use super::memory::MemoryStore;
use super::rate::{now_ms, Millis};
use super::state::Transition;
use super::store::{
    Account, AccountState, BatchMove, BatchRow, CampaignId, CampaignInfo, CampaignSpec, Counts, Created,
    DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Reaped, Store, StoreError, StoreResult, Token,
};
use crate::bulk::BatchOutcome;
use crate::recipient::MobileNumber;
use crate::status_codes::DeliveryStatus;

/// The first line of every store file.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

const FORMAT: &str = "payamak-job-store";
/// 2: a reconciliation may move a pending batch to unknown
/// ([`Transition::FoundOnThePanel`]), which a reader of version 1 would
/// replay as nothing, leaving the batch to be sent. A file of version 1 is
/// read, and its header made version 2 on open.
const VERSION: u32 = 2;
const OLDEST_VERSION: u32 = 1;

/// A call that may change the store, with what it was given.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
enum Call {
    PutAccount { account: Account },
    Pause { account: String, until: Millis, reason: String },
    TakeToken { account: String },
    CreateCampaign { spec: CampaignSpec },
    AddRecipients { campaign: CampaignId, numbers: Vec<MobileNumber> },
    Seal { campaign: CampaignId, batch_size: u64 },
    EnqueueSingle { spec: CampaignSpec, number: MobileNumber },
    Claim { account: String, owner: String, lease: Duration },
    TakeTokenAndClaim { account: String, owner: String, lease: Duration },
    TakeTokenClaimAndAttempt { account: String, owner: String, lease: Duration },
    Advance { lease: Lease, transition: Transition, outcome: Option<BatchOutcome> },
    AdvanceMany { moves: Vec<BatchMove> },
    AdvanceManyThenClaim { moves: Vec<BatchMove>, account: String, owner: String, lease: Duration },
    Reap { unknown_after: Duration },
    Requeue { campaign: CampaignId, transition: Transition },
    Reconcile { campaign: CampaignId, batch: u64, outcome: BatchOutcome },
    ClaimDeliveries { account: String, first_after: Duration, limit: usize, lease: Duration },
    RecordDeliveries { poll: PollLine, update: UpdateLine },
    RequeueStaleAttemptsUnsafely { older_than: Duration },
}

/// A line of the log: a call and the time it was made at.
#[derive(Debug, Serialize, Deserialize)]
struct Line<C> {
    at: Millis,
    made: C,
}

/// A [`DeliveryPoll`], its statuses as the panel's codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PollLine {
    campaign: CampaignId,
    batch: u64,
    account: String,
    polls: u32,
    sent_at: Millis,
    updated_at: Option<Millis>,
    open: Vec<(i64, Option<i32>)>,
}

/// A [`DeliveryUpdate`], its statuses as the panel's codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UpdateLine {
    statuses: Vec<(i64, i32)>,
    invalid: Vec<i64>,
    counted: bool,
    updated_at: Option<Millis>,
    next_poll_at: Option<Millis>,
}

impl From<&DeliveryPoll> for PollLine {
    fn from(poll: &DeliveryPoll) -> Self {
        PollLine {
            campaign: poll.campaign,
            batch: poll.batch,
            account: poll.account.clone(),
            polls: poll.polls,
            sent_at: poll.sent_at,
            updated_at: poll.updated_at,
            open: poll.open.iter().map(|(rec_id, status)| (*rec_id, status.map(DeliveryStatus::code))).collect(),
        }
    }
}

impl From<&PollLine> for DeliveryPoll {
    fn from(line: &PollLine) -> Self {
        DeliveryPoll {
            campaign: line.campaign,
            batch: line.batch,
            account: line.account.clone(),
            polls: line.polls,
            sent_at: line.sent_at,
            updated_at: line.updated_at,
            open: line.open.iter().map(|(rec_id, code)| (*rec_id, code.map(DeliveryStatus::from_code))).collect(),
        }
    }
}

impl From<&DeliveryUpdate> for UpdateLine {
    fn from(update: &DeliveryUpdate) -> Self {
        UpdateLine {
            statuses: update.statuses.iter().map(|(rec_id, status)| (*rec_id, status.code())).collect(),
            invalid: update.invalid.clone(),
            counted: update.counted,
            updated_at: update.updated_at,
            next_poll_at: update.next_poll_at,
        }
    }
}

impl From<&UpdateLine> for DeliveryUpdate {
    fn from(line: &UpdateLine) -> Self {
        DeliveryUpdate {
            statuses: line.statuses.iter().map(|(rec_id, code)| (*rec_id, DeliveryStatus::from_code(*code))).collect(),
            invalid: line.invalid.clone(),
            counted: line.counted,
            updated_at: line.updated_at,
            next_poll_at: line.next_poll_at,
        }
    }
}

/// What a call gave back.
enum Done {
    Nothing,
    Token(Token),
    Created(Created),
    Imported(Imported),
    Claimed(Option<Lease>),
    TokenAndClaim(Token, Option<Lease>),
    Moved(bool),
    MovedMany(Vec<bool>),
    MovedThenClaimed(Vec<bool>, StoreResult<(Token, Option<Lease>)>),
    Reaped(Reaped),
    Count(u64),
    Polls(Vec<DeliveryPoll>),
}

impl Done {
    /// Whether the call may have changed the store; when in doubt, yes. (A
    /// refused move, a claim that found nothing, a token not granted, a key
    /// found: the memory store changes nothing for these. A token and a claim
    /// together take the token only when there is a batch to claim with it,
    /// so that a worker polling an idle account writes nothing.)
    fn changed(&self) -> bool {
        match self {
            Done::Nothing | Done::Imported(_) => true,
            Done::Token(token) => *token == Token::Granted,
            Done::Created(created) => !created.existed,
            Done::Claimed(lease) | Done::TokenAndClaim(_, lease) => lease.is_some(),
            Done::Moved(moved) => *moved,
            Done::MovedMany(moved) => moved.contains(&true),
            Done::MovedThenClaimed(moved, claimed) => {
                moved.contains(&true) || claimed.as_ref().map_or(true, |(_, lease)| lease.is_some())
            }
            Done::Reaped(reaped) => reaped.requeued + reaped.unknown > 0,
            Done::Count(moved) => *moved > 0,
            Done::Polls(polls) => !polls.is_empty(),
        }
    }
}

/// Makes `call` on `memory`. The memory store answers at once; a refusal
/// (`Err`) changes nothing in it.
fn apply(memory: &MemoryStore, call: &Call) -> StoreResult<Done> {
    let made = async {
        Ok(match call {
            Call::PutAccount { account } => {
                memory.put_account(account).await?;
                Done::Nothing
            }
            Call::Pause { account, until, reason } => {
                memory.pause(account, *until, reason).await?;
                Done::Nothing
            }
            Call::TakeToken { account } => Done::Token(memory.take_token(account).await?),
            Call::CreateCampaign { spec } => Done::Created(memory.create_campaign(spec).await?),
            Call::AddRecipients { campaign, numbers } => {
                memory.add_recipients(*campaign, numbers).await?;
                Done::Nothing
            }
            Call::Seal { campaign, batch_size } => Done::Imported(memory.seal(*campaign, *batch_size).await?),
            Call::EnqueueSingle { spec, number } => Done::Created(memory.enqueue_single(spec, number).await?),
            Call::Claim { account, owner, lease } => Done::Claimed(memory.claim(account, owner, *lease).await?),
            Call::TakeTokenAndClaim { account, owner, lease } => {
                let (token, lease) = memory.take_token_and_claim(account, owner, *lease).await?;
                Done::TokenAndClaim(token, lease)
            }
            Call::TakeTokenClaimAndAttempt { account, owner, lease } => {
                let (token, lease) = memory.take_token_claim_and_attempt(account, owner, *lease).await?;
                Done::TokenAndClaim(token, lease)
            }
            Call::Advance { lease, transition, outcome } => {
                Done::Moved(memory.advance(lease, *transition, outcome.as_ref()).await?)
            }
            Call::AdvanceMany { moves } => Done::MovedMany(memory.advance_many(moves).await?),
            Call::AdvanceManyThenClaim { moves, account, owner, lease } => {
                let (moved, claimed) = memory.advance_many_then_claim(moves, account, owner, *lease).await?;
                Done::MovedThenClaimed(moved, claimed)
            }
            Call::Reap { unknown_after } => Done::Reaped(memory.reap(*unknown_after).await?),
            Call::Requeue { campaign, transition } => Done::Count(memory.requeue(*campaign, *transition).await?),
            Call::Reconcile { campaign, batch, outcome } => {
                Done::Moved(memory.reconcile(*campaign, *batch, outcome).await?)
            }
            Call::ClaimDeliveries { account, first_after, limit, lease } => {
                Done::Polls(memory.claim_deliveries(account, *first_after, *limit, *lease).await?)
            }
            Call::RecordDeliveries { poll, update } => {
                memory.record_deliveries(&poll.into(), &update.into()).await?;
                Done::Nothing
            }
            Call::RequeueStaleAttemptsUnsafely { older_than } => {
                Done::Count(memory.requeue_stale_attempts_unsafely(*older_than).await?)
            }
        })
    };
    made.now_or_never().unwrap_or(Err(StoreError::Unsupported("a memory store call that waits")))
}

/// `call` on `memory`, as if made at `at`.
fn apply_at(memory: &MemoryStore, at: Millis, call: &Call) -> StoreResult<Done> {
    memory.pin_now(Some(at));
    let done = apply(memory, call);
    memory.pin_now(None);
    done
}

/// A job store in one file of JSON lines: for small runs on one machine, with
/// nothing but a file (no database).
///
/// The file is a log of the calls that changed the store, each with the time
/// it was made at. Opening it replays them into a [`MemoryStore`] that gives
/// each call the time it was first made at, so the state comes back as it
/// was. A call returns once its line is on disk (written and synced; calls
/// made meanwhile share the sync): an attempt is durable before its batch's
/// request leaves. A call that changed nothing (a claim that found no batch,
/// a token not granted) writes nothing.
///
/// Damage is never taken for success: a last line cut short (never synced, so
/// its call never returned) is dropped and cut off the file; any other line
/// that cannot be read or replayed makes [`JsonLinesStore::open`] fail, naming
/// it. After a failed write or sync every call fails, since what the store
/// holds in memory may then be ahead of the file. One process at a time: the
/// file is locked while open. The whole log is read on open and the whole
/// state held in memory, so this store is for runs of thousands of
/// recipients, not millions (use `SqliteStore` or `PostgresStore`).
///
/// ```
/// # async fn demo() -> Result<(), payamak::campaign::StoreError> {
/// use payamak::campaign::{Account, JsonLinesStore, Store};
///
/// # let dir = tempfile::tempdir().expect("a temp dir");
/// # let path = dir.path().join("jobs.jsonl");
/// let store = JsonLinesStore::open(&path)?;
/// let account = Account {
///     name: "main".into(),
///     username: "me".into(),
///     endpoints: vec!["https://panel.example.com/post/".into()],
///     credentials: "env:PAYAMAK_PASSWORD".into(),
///     rate: None,
/// };
/// store.put_account(&account).await?;
/// drop(store);
/// // Opened again, it has what it had.
/// assert_eq!(JsonLinesStore::open(&path)?.accounts().await?.len(), 1);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct JsonLinesStore {
    memory: MemoryStore,
    log: Arc<Log>,
}

#[derive(Debug)]
struct Log {
    path: PathBuf,
    /// The file, and where its end is; held while a call is made and its line written.
    writer: Mutex<Writer>,
    /// How far the file is synced, and a handle of the file to sync it with; held while syncing.
    synced: Mutex<(u64, File)>,
    /// A write or sync failed: the memory state may be ahead of the file.
    failed: AtomicBool,
}

#[derive(Debug)]
struct Writer {
    file: File,
    end: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under these locks is whole before anything can panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl JsonLinesStore {
    /// Opens the store at `path`, creating it if the file does not exist (or
    /// is empty), and replays it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Damaged`] for a file that is not a job store of this
    /// version, or a line (named) that cannot be read or replayed;
    /// [`StoreError::Backend`] when the file cannot be opened, read or
    /// written, or another process has it open.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_owned();
        let io = |action: &str| {
            let path = path.display().to_string();
            let action = action.to_owned();
            move |error: std::io::Error| StoreError::backend(format!("cannot {action} {path}"), error)
        };
        // Not in append mode: the header of an older version is rewritten in place through this
        // handle (on Windows the lock keeps any other handle from writing); every write is made at
        // the end, which the writer keeps, under its mutex.
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io("open"))?;
        file.try_lock().map_err(|error| match error {
            std::fs::TryLockError::WouldBlock => StoreError::backend(
                format!("{} is in use by another process", path.display()),
                std::io::Error::from(std::io::ErrorKind::WouldBlock),
            ),
            std::fs::TryLockError::Error(error) => io("lock")(error),
        })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io("read"))?;
        let memory = MemoryStore::new();
        let header = header_line()?;
        let end = if bytes.is_empty() || (header.starts_with(&bytes) && !bytes.ends_with(b"\n")) {
            // New, or its header was cut short before anything else was written.
            file.set_len(0).map_err(io("write"))?;
            file.seek(std::io::SeekFrom::Start(0))
                .and_then(|_| file.write_all(&header))
                .and_then(|()| file.sync_data())
                .map_err(io("write"))?;
            crate::bulk::sync_directory_of(&path).map_err(|(directory, error)| {
                StoreError::backend(format!("cannot sync the directory {}", directory.display()), error)
            })?;
            header.len()
        } else {
            let (whole, version) = replay(&path, &bytes, &memory)?;
            if whole < bytes.len() {
                // A last line cut short: its call never returned.
                file.set_len(whole as u64).and_then(|()| file.sync_data()).map_err(io("cut the last line of"))?;
            }
            if version != VERSION {
                // Before anything is written in this version: a reader of the old one must refuse the file.
                let old_header = bytes.iter().position(|&b| b == b'\n').map_or(0, |at| at + 1);
                if old_header != header.len() {
                    return Err(StoreError::Damaged(format!(
                        "{}, line 1: a header of another length than this version's",
                        path.display()
                    )));
                }
                file.seek(std::io::SeekFrom::Start(0))
                    .and_then(|_| file.write_all(&header))
                    .and_then(|()| file.sync_data())
                    .map_err(io("write the header of"))?;
            }
            whole
        };
        let end = end as u64;
        file.seek(std::io::SeekFrom::Start(end)).map_err(io("open"))?;
        let syncing = file.try_clone().map_err(io("open"))?;
        Ok(JsonLinesStore {
            memory,
            log: Arc::new(Log {
                path,
                writer: Mutex::new(Writer { file, end }),
                synced: Mutex::new((end, syncing)),
                failed: AtomicBool::new(false),
            }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.log.path
    }

    /// Makes `call`, writes its line if it changed the store, and returns once the line is on disk.
    async fn make(&self, call: Call) -> StoreResult<Done> {
        let (done, end) = {
            let mut writer = lock(&self.log.writer);
            self.log.check()?;
            let at = now_ms();
            let done = apply_at(&self.memory, at, &call)?;
            if !done.changed() {
                return Ok(done);
            }
            // From here the memory holds the change: a failure leaves it ahead of the file.
            let written =
                serde_json::to_vec(&Line { at, made: &call }).map_err(std::io::Error::other).and_then(|mut line| {
                    line.push(b'\n');
                    writer.file.write_all(&line).map(|()| line.len() as u64)
                });
            match written {
                Ok(length) => writer.end += length,
                Err(error) => return Err(self.log.fail("write", error)),
            }
            (done, writer.end)
        };
        let log = Arc::clone(&self.log);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(move || log.sync_to(end))
                .await
                .map_err(|error| self.log.fail("sync", std::io::Error::other(error)))??,
            Err(_) => log.sync_to(end)?,
        }
        Ok(done)
    }

    /// A call that reads: refused once a write failed, as the memory may be ahead of the file.
    fn reading(&self) -> StoreResult<&MemoryStore> {
        self.log.check()?;
        Ok(&self.memory)
    }
}

impl Log {
    fn check(&self) -> StoreResult<()> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(StoreError::Damaged(format!(
                "a write to {} failed earlier; open it again to go on from what it holds",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn fail(&self, action: &str, error: std::io::Error) -> StoreError {
        self.failed.store(true, Ordering::SeqCst);
        StoreError::backend(format!("cannot {action} {}", self.path.display()), error)
    }

    /// Syncs the file at least up to `end`, with every line written before the sync.
    fn sync_to(&self, end: u64) -> StoreResult<()> {
        let mut synced = lock(&self.synced);
        self.check()?;
        if synced.0 >= end {
            return Ok(());
        }
        // Every line written so far goes with this sync.
        let target = lock(&self.writer).end;
        match synced.1.sync_data() {
            Ok(()) => {
                synced.0 = target;
                Ok(())
            }
            Err(error) => Err(self.fail("sync", error)),
        }
    }
}

fn header_line() -> StoreResult<Vec<u8>> {
    let mut line = serde_json::to_vec(&Header { format: FORMAT.to_owned(), version: VERSION })
        .map_err(|error| StoreError::backend("cannot write a header", error))?;
    line.push(b'\n');
    Ok(line)
}

/// Replays the log `bytes` of `path` into `memory`: the length of its whole
/// lines, and the version its header names.
fn replay(path: &Path, bytes: &[u8], memory: &MemoryStore) -> StoreResult<(usize, u32)> {
    let damaged = |line: usize, what: String| StoreError::Damaged(format!("{}, line {line}: {what}", path.display()));
    let mut offset = 0;
    let mut number = 0;
    let mut version = VERSION;
    while let Some(length) = bytes[offset..].iter().position(|&b| b == b'\n') {
        number += 1;
        let text = &bytes[offset..offset + length];
        if number == 1 {
            match serde_json::from_slice::<Header>(text) {
                Ok(header) if header.format == FORMAT && (OLDEST_VERSION..=VERSION).contains(&header.version) => {
                    version = header.version;
                }
                Ok(header) if header.format == FORMAT => {
                    return Err(damaged(
                        number,
                        format!("a job store of version {} (this payamak reads {VERSION})", header.version),
                    ));
                }
                _ => return Err(damaged(number, "not a payamak job store".to_owned())),
            }
        } else {
            let line: Line<Call> =
                serde_json::from_slice(text).map_err(|error| damaged(number, format!("unreadable: {error}")))?;
            apply_at(memory, line.at, &line.made)
                .map_err(|error| damaged(number, format!("cannot be replayed: {error}")))?;
        }
        offset += length + 1;
    }
    if number == 0 {
        return Err(damaged(1, "not a payamak job store".to_owned()));
    }
    Ok((offset, version))
}

/// The answer of `done`, when it is of the kind `pick` takes.
fn answer<T>(done: Done, pick: impl FnOnce(Done) -> Option<T>) -> StoreResult<T> {
    pick(done).ok_or(StoreError::Unsupported("an answer of another kind"))
}

/// The value of `done` when it is the `$kind` answer (one value).
macro_rules! answer {
    ($done:expr, $kind:path) => {
        answer($done, |done| if let $kind(value) = done { Some(value) } else { None })
    };
}

impl Store for JsonLinesStore {
    async fn put_account(&self, account: &Account) -> StoreResult<()> {
        self.make(Call::PutAccount { account: account.clone() }).await.map(drop)
    }

    async fn accounts(&self) -> StoreResult<Vec<AccountState>> {
        self.reading()?.accounts().await
    }

    async fn pause(&self, account: &str, until: Millis, reason: &str) -> StoreResult<()> {
        let call = Call::Pause { account: account.to_owned(), until, reason: reason.to_owned() };
        self.make(call).await.map(drop)
    }

    async fn take_token(&self, account: &str) -> StoreResult<Token> {
        let done = self.make(Call::TakeToken { account: account.to_owned() }).await?;
        answer!(done, Done::Token)
    }

    async fn create_campaign(&self, spec: &CampaignSpec) -> StoreResult<Created> {
        let done = self.make(Call::CreateCampaign { spec: spec.clone() }).await?;
        answer!(done, Done::Created)
    }

    async fn add_recipients(&self, campaign: CampaignId, numbers: &[MobileNumber]) -> StoreResult<()> {
        self.make(Call::AddRecipients { campaign, numbers: numbers.to_vec() }).await.map(drop)
    }

    async fn seal(&self, campaign: CampaignId, batch_size: u64) -> StoreResult<Imported> {
        let done = self.make(Call::Seal { campaign, batch_size }).await?;
        answer!(done, Done::Imported)
    }

    async fn campaign(&self, campaign: CampaignId) -> StoreResult<Option<CampaignInfo>> {
        self.reading()?.campaign(campaign).await
    }

    async fn enqueue_single(&self, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
        let done = self.make(Call::EnqueueSingle { spec: spec.clone(), number: number.clone() }).await?;
        answer!(done, Done::Created)
    }

    async fn claim(&self, account: &str, owner: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        let done = self.make(Call::Claim { account: account.to_owned(), owner: owner.to_owned(), lease }).await?;
        answer!(done, Done::Claimed)
    }

    async fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        let call = Call::TakeTokenAndClaim { account: account.to_owned(), owner: owner.to_owned(), lease };
        answer(self.make(call).await?, token_and_claim)
    }

    async fn take_token_claim_and_attempt(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        let call = Call::TakeTokenClaimAndAttempt { account: account.to_owned(), owner: owner.to_owned(), lease };
        answer(self.make(call).await?, token_and_claim)
    }

    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> StoreResult<bool> {
        let call = Call::Advance { lease: lease.clone(), transition, outcome: outcome.cloned() };
        answer!(self.make(call).await?, Done::Moved)
    }

    async fn advance_many(&self, moves: &[BatchMove]) -> StoreResult<Vec<bool>> {
        let done = self.make(Call::AdvanceMany { moves: moves.to_vec() }).await?;
        answer!(done, Done::MovedMany)
    }

    async fn advance_many_then_claim(
        &self,
        moves: &[BatchMove],
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Vec<bool>, StoreResult<(Token, Option<Lease>)>)> {
        let call = Call::AdvanceManyThenClaim {
            moves: moves.to_vec(),
            account: account.to_owned(),
            owner: owner.to_owned(),
            lease,
        };
        answer(self.make(call).await?, |done| match done {
            Done::MovedThenClaimed(moved, claimed) => Some((moved, claimed)),
            _ => None,
        })
    }

    async fn reap(&self, unknown_after: Duration) -> StoreResult<Reaped> {
        let done = self.make(Call::Reap { unknown_after }).await?;
        answer!(done, Done::Reaped)
    }

    async fn counts(&self, campaign: Option<CampaignId>) -> StoreResult<Counts> {
        self.reading()?.counts(campaign).await
    }

    async fn batches(&self, campaign: CampaignId, from: u64, limit: u64) -> StoreResult<Vec<BatchRow>> {
        self.reading()?.batches(campaign, from, limit).await
    }

    async fn batch_numbers(&self, campaign: CampaignId, batch: u64) -> StoreResult<Vec<MobileNumber>> {
        self.reading()?.batch_numbers(campaign, batch).await
    }

    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> StoreResult<u64> {
        let done = self.make(Call::Requeue { campaign, transition }).await?;
        answer!(done, Done::Count)
    }

    async fn reconcile(&self, campaign: CampaignId, batch: u64, outcome: &BatchOutcome) -> StoreResult<bool> {
        let done = self.make(Call::Reconcile { campaign, batch, outcome: outcome.clone() }).await?;
        answer!(done, Done::Moved)
    }

    async fn claim_deliveries(
        &self,
        account: &str,
        first_after: Duration,
        limit: usize,
        lease: Duration,
    ) -> StoreResult<Vec<DeliveryPoll>> {
        let call = Call::ClaimDeliveries { account: account.to_owned(), first_after, limit, lease };
        answer!(self.make(call).await?, Done::Polls)
    }

    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) -> StoreResult<()> {
        self.make(Call::RecordDeliveries { poll: poll.into(), update: update.into() }).await.map(drop)
    }

    async fn delivery_counts(&self, campaign: CampaignId) -> StoreResult<DeliveryCounts> {
        self.reading()?.delivery_counts(campaign).await
    }

    async fn next_delivery_poll(&self, account: Option<&str>, first_after: Duration) -> StoreResult<Option<Millis>> {
        self.reading()?.next_delivery_poll(account, first_after).await
    }

    async fn requeue_stale_attempts_unsafely(&self, older_than: Duration) -> StoreResult<u64> {
        let done = self.make(Call::RequeueStaleAttemptsUnsafely { older_than }).await?;
        answer!(done, Done::Count)
    }
}

fn token_and_claim(done: Done) -> Option<(Token, Option<Lease>)> {
    match done {
        Done::TokenAndClaim(token, lease) => Some((token, lease)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::test_support::{
        account, assert_claimed_once, assert_nothing_enqueued, assert_refused_store, number, otp, sent_to,
        two_attempting_batches,
    };
    use crate::campaign::BatchState;
    use std::sync::atomic::AtomicUsize;

    /// A path no other test has used, in a directory of this run's own (a
    /// process id is reused across runs; an earlier run's file must not be found).
    fn path() -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        static DIR: std::sync::LazyLock<tempfile::TempDir> =
            std::sync::LazyLock::new(|| tempfile::tempdir().expect("a temp dir"));
        DIR.path().join(format!("store-{}.jsonl", NEXT.fetch_add(1, Ordering::SeqCst)))
    }

    /// Everything the store says about campaign `id`, to compare two openings.
    async fn everything(store: &JsonLinesStore, id: CampaignId) -> String {
        let counts = store.counts(Some(id)).await.expect("counts");
        let batches = store.batches(id, 0, 100).await.expect("batches");
        let deliveries = store.delivery_counts(id).await.expect("deliveries");
        let info = store.campaign(id).await.expect("a campaign");
        let accounts = store.accounts().await.expect("accounts");
        let numbers = store.batch_numbers(id, 2).await.expect("numbers");
        format!("{counts:?}\n{batches:?}\n{deliveries:?}\n{info:?}\n{accounts:?}\n{numbers:?}")
    }

    #[tokio::test]
    async fn a_store_opened_again_has_what_it_had() {
        let path = path();
        let store = JsonLinesStore::open(&path).expect("a new store");
        let (id, numbers, leases) = two_attempting_batches(&store, 250).await;
        assert!(store.advance(&leases[0], Transition::Sent, Some(&sent_to(&numbers[..100], 1000))).await.unwrap());
        store.pause("a", 4_000_000_000_000, "no credit").await.expect("a pause");
        let before = everything(&store, id).await;
        drop(store);
        let store = JsonLinesStore::open(&path).expect("opened again");
        assert_eq!(everything(&store, id).await, before);
        // The attempt is still the lease's: its outcome can still be recorded, once.
        let outcome = sent_to(&numbers[100..200], 2000);
        assert!(store.advance(&leases[1], Transition::Sent, Some(&outcome)).await.unwrap());
        assert!(!store.advance(&leases[1], Transition::Sent, Some(&outcome)).await.unwrap());
    }

    #[tokio::test]
    async fn a_replayed_call_sees_the_time_it_was_made_at() {
        let path = path();
        let store = JsonLinesStore::open(&path).expect("a new store");
        let (id, ..) = two_attempting_batches(&store, 300).await;
        let lease = store.claim("a", "w", Duration::from_millis(300)).await.unwrap().expect("the third batch");
        drop(store);
        std::thread::sleep(Duration::from_millis(400));
        // Replayed at its own time, the claim's lease ran out 100 ms ago; at the
        // time of the replay it would have 300 ms left.
        let store = JsonLinesStore::open(&path).expect("opened again");
        assert_eq!(store.reap(Duration::from_secs(3600)).await.unwrap(), Reaped { requeued: 1, unknown: 0 });
        let batch = store.batches(id, lease.batch, 1).await.unwrap();
        assert_eq!(batch[0].state, BatchState::Pending);
    }

    #[tokio::test]
    async fn calls_that_change_nothing_write_nothing() {
        let path = path();
        let store = JsonLinesStore::open(&path).expect("a new store");
        store.put_account(&account("a")).await.unwrap();
        let length = std::fs::metadata(&path).unwrap().len();
        for _ in 0..5 {
            assert!(store.claim("a", "w", Duration::from_secs(60)).await.unwrap().is_none());
            // A worker's poll of an idle account: a token free, nothing to claim with it.
            let (token, lease) = store.take_token_claim_and_attempt("a", "w", Duration::from_secs(60)).await.unwrap();
            assert_eq!((token, lease), (Token::Granted, None));
            assert!(store.take_token_and_claim("a", "w", Duration::from_secs(60)).await.unwrap().1.is_none());
            assert_eq!(store.reap(Duration::from_secs(60)).await.unwrap(), Reaped::default());
            assert!(store.claim_deliveries("a", Duration::ZERO, 10, Duration::from_secs(60)).await.unwrap().is_empty());
        }
        assert_eq!(std::fs::metadata(&path).unwrap().len(), length);
        // A key found again adds nothing either.
        let created = store.enqueue_single(&otp("k"), &number(1)).await.unwrap();
        let length = std::fs::metadata(&path).unwrap().len();
        assert!(store.enqueue_single(&otp("k"), &number(2)).await.unwrap().existed);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), length);
        assert_claimed_once(&store, created.id, &number(1)).await;
    }

    #[tokio::test]
    async fn a_last_line_cut_short_is_dropped() {
        let path = path();
        let store = JsonLinesStore::open(&path).expect("a new store");
        let created = store.enqueue_single(&otp("k"), &number(1)).await.err();
        assert!(matches!(created, Some(StoreError::NoSuchAccount(_))), "{created:?}");
        store.put_account(&account("a")).await.unwrap();
        let whole = std::fs::read(&path).unwrap();
        drop(store);
        // A crash in the middle of writing a line: its call never returned.
        let mut cut = whole.clone();
        cut.extend_from_slice(br#"{"at":1,"made":{"call":"enqueue_single","spec":{"acc"#);
        std::fs::write(&path, &cut).unwrap();
        let store = JsonLinesStore::open(&path).expect("opened");
        assert_eq!(std::fs::read(&path).unwrap(), whole, "cut back to its whole lines");
        assert_nothing_enqueued(&store).await;
        assert_eq!(store.accounts().await.unwrap().len(), 1);
    }

    #[test]
    fn a_damaged_line_is_refused_naming_it() {
        let path = path();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = JsonLinesStore::open(&path).expect("a new store");
            two_attempting_batches(&store, 150).await;
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[3] = r#"{"at":1,"made":{"call":"seal","campaign":1"#;
        let damaged = lines.join("\n") + "\n";
        std::fs::write(&path, &damaged).unwrap();
        assert_refused_store(JsonLinesStore::open(&path), "line 4: unreadable");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), damaged, "left as it was");
        // A line that reads but cannot be replayed: recipients for a campaign never created.
        lines[3] = r#"{"at":1,"made":{"call":"add_recipients","campaign":9,"numbers":["09120000001"]}}"#;
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        assert_refused_store(JsonLinesStore::open(&path), "line 4: cannot be replayed");
    }

    #[tokio::test]
    async fn a_store_of_version_1_is_read_and_its_header_made_version_2() {
        let path = path();
        {
            let store = JsonLinesStore::open(&path).unwrap();
            store.put_account(&account("a")).await.unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        let v2 = b"{\"format\":\"payamak-job-store\",\"version\":2}\n";
        let v1 = b"{\"format\":\"payamak-job-store\",\"version\":1}\n";
        assert!(bytes.starts_with(v2), "{}", String::from_utf8_lossy(&bytes));
        std::fs::write(&path, [&v1[..], &bytes[v2.len()..]].concat()).unwrap();
        let store = JsonLinesStore::open(&path).unwrap();
        assert_eq!(store.accounts().await.unwrap().len(), 1, "what version 1 recorded is read");
        drop(store);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the header now says version 2");
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused_untouched() {
        let path = path();
        std::fs::write(&path, "notes\n").unwrap();
        assert_refused_store(JsonLinesStore::open(&path), "not a payamak job store");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "notes\n");
        std::fs::write(&path, "{\"format\":\"payamak-job-store\",\"version\":3}\n").unwrap();
        assert_refused_store(JsonLinesStore::open(&path), "version 3 (this payamak reads 2)");
        // A header cut short before anything else was written starts afresh.
        let header = header_line().unwrap();
        std::fs::write(&path, &header[..10]).unwrap();
        JsonLinesStore::open(&path).expect("a new store");
        assert_eq!(std::fs::read(&path).unwrap(), header);
    }

    #[test]
    fn calls_with_extreme_values_replay_without_a_panic() {
        let path = path();
        let header = String::from_utf8(header_line().unwrap()).unwrap();
        let max = u64::MAX;
        let lines = [
            format!(
                r#"{{"at":{},"made":{{"call":"put_account","account":{{"name":"a","username":"u","endpoints":[],"credentials":"s","rate":{{"emission":{{"secs":{max},"nanos":0}},"burst":0,"reserve":7}}}}}}}}"#,
                i64::MIN
            ),
            format!(r#"{{"at":{},"made":{{"call":"take_token","account":"a"}}}}"#, i64::MIN),
            format!(r#"{{"at":{},"made":{{"call":"take_token","account":"a"}}}}"#, i64::MAX),
            format!(r#"{{"at":{},"made":{{"call":"reap","unknown_after":{{"secs":{max},"nanos":0}}}}}}"#, i64::MIN),
            format!(
                r#"{{"at":{},"made":{{"call":"claim_deliveries","account":"a","first_after":{{"secs":{max},"nanos":0}},"limit":{max},"lease":{{"secs":{max},"nanos":0}}}}}}"#,
                i64::MIN
            ),
            format!(
                r#"{{"at":{},"made":{{"call":"requeue_stale_attempts_unsafely","older_than":{{"secs":{max},"nanos":0}}}}}}"#,
                i64::MIN
            ),
            format!(r#"{{"at":{},"made":{{"call":"seal","campaign":1,"batch_size":0}}}}"#, i64::MAX),
        ];
        std::fs::write(&path, header + &lines.join("\n") + "\n").unwrap();
        // Each replays, or is refused as damage: never a panic.
        match JsonLinesStore::open(&path) {
            Ok(_) => {}
            Err(StoreError::Damaged(message)) => assert!(message.contains("line"), "{message}"),
            Err(other) => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_bytes_after_the_header_open_or_are_refused(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            lines in proptest::collection::vec("[a-z_{}\":,0-9\\[\\]-]{0,60}", 0..6),
        ) {
            let path = path();
            let mut bytes = header_line().unwrap();
            for line in &lines {
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(&tail);
            std::fs::write(&path, &bytes).unwrap();
            match JsonLinesStore::open(&path) {
                Ok(_) | Err(StoreError::Damaged(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
            std::fs::remove_file(&path).ok();
        }
    }

    #[test]
    fn one_process_at_a_time() {
        let path = path();
        let store = JsonLinesStore::open(&path).expect("a new store");
        let error = JsonLinesStore::open(&path).expect_err("in use").to_string();
        assert!(error.contains("in use by another process"), "{error}");
        drop(store);
        JsonLinesStore::open(&path).expect("free again");
    }

    #[tokio::test]
    async fn after_a_failed_write_every_call_fails() {
        let store = JsonLinesStore::open(path()).expect("a new store");
        store.put_account(&account("a")).await.unwrap();
        store.log.fail("write", std::io::Error::other("disk full"));
        assert!(matches!(store.put_account(&account("b")).await, Err(StoreError::Damaged(_))));
        assert!(matches!(store.accounts().await, Err(StoreError::Damaged(_))), "nor read what may not be on disk");
    }
}
