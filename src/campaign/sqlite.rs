//! The SQLite store: one file, any number of processes on one machine.
//!
//! WAL journal, `synchronous=FULL` (an attempt survives a power loss, not only
//! a `kill -9`), writers serialized by `BEGIN IMMEDIATE`, a busy timeout for
//! the others. A file that is not a database, or a database that is not a
//! payamak job store, is an error: never a fresh start.
//!
//! An application that keeps its own tables in the store's file enqueues a
//! single send in its own transaction with [`enqueue_single_in`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension as _, TransactionBehavior};

/// The rusqlite this store is built with: the application's connection given
/// to [`enqueue_single_in`] must be of this version.
pub use rusqlite;

use super::outcome_row;
use super::rate::{gcra, ms, now_ms, Millis, Rate};
use super::state::{BatchState, Transition};
use super::store::{
    plan, tracked_rec_ids, Account, AccountState, BatchMove, BatchRow, CampaignId, CampaignInfo, CampaignPhase,
    CampaignSpec, Counts, Created, DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Reaped, Store,
    StoreError, StoreResult, Token, SINGLE_SEND_PRIORITY,
};
use crate::bulk::BatchOutcome;
use crate::recipient::MobileNumber;
use crate::status_codes::DeliveryStatus;

/// `PRAGMA application_id` of a payamak job store ("PYMK").
const APPLICATION_ID: i32 = 0x5059_4d4b;
/// `PRAGMA user_version`: the schema's version.
const SCHEMA_VERSION: i32 = 4;

/// The changes from each older version to the next: `MIGRATIONS[v - 1]` takes version v to v + 1.
const MIGRATIONS: [&str; 3] = [
    // 2: the reserve campaigns leave for single sends.
    "ALTER TABLE account ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0;",
    // 3: delivery tracking.
    "ALTER TABLE batch ADD COLUMN poll_at INTEGER;
     ALTER TABLE batch ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE batch ADD COLUMN updated_at INTEGER;
     CREATE INDEX batch_poll ON batch (account, poll_at) WHERE poll_at IS NOT NULL;
     CREATE TABLE delivery (
         campaign INTEGER NOT NULL,
         batch INTEGER NOT NULL,
         rec_id INTEGER NOT NULL,
         account TEXT NOT NULL,
         status INTEGER,
         final INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (campaign, batch, rec_id)
     ) WITHOUT ROWID;",
    // 4: a sent batch's outcome may be kept compact (`outcome_row`), its numbers read from
    // `recipient`; the rows written before stay JSON and are read as they are. No table
    // changes: the version keeps an older payamak, which reads JSON only, from this store.
    "-- compact outcomes",
];

const SCHEMA: &str = "
CREATE TABLE account (
    name TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    credentials TEXT NOT NULL,
    emission_ms INTEGER,
    burst INTEGER,
    reserve INTEGER NOT NULL DEFAULT 0,
    tat INTEGER NOT NULL DEFAULT 0,
    paused_until INTEGER,
    pause_reason TEXT
);
CREATE TABLE campaign (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(name),
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    flash INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    idempotency_key TEXT,
    source TEXT NOT NULL,
    phase TEXT NOT NULL,
    recipients INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (account, idempotency_key)
);
CREATE TABLE recipient (
    campaign INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    msisdn TEXT NOT NULL,
    PRIMARY KEY (campaign, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX recipient_number ON recipient (campaign, msisdn);
CREATE TABLE batch (
    campaign INTEGER NOT NULL,
    no INTEGER NOT NULL,
    account TEXT NOT NULL,
    priority INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    count INTEGER NOT NULL,
    state TEXT NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    attempt_at INTEGER,
    outcome TEXT,
    poll_at INTEGER,
    polls INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER,
    PRIMARY KEY (campaign, no)
) WITHOUT ROWID;
CREATE INDEX batch_pending ON batch (account, priority, campaign, no) WHERE state = 'pending';
CREATE INDEX batch_active ON batch (state, lease_until) WHERE state IN ('claimed', 'attempting');
CREATE INDEX batch_poll ON batch (account, poll_at) WHERE poll_at IS NOT NULL;
CREATE TABLE delivery (
    campaign INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    rec_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    status INTEGER,
    final INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, batch, rec_id)
) WITHOUT ROWID;
";

/// A job store in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
}

/// An error inside a store call: the database's, or the store's own.
enum Fail {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Fail {
    fn from(error: rusqlite::Error) -> Self {
        Fail::Sql(error)
    }
}

impl From<StoreError> for Fail {
    fn from(error: StoreError) -> Self {
        Fail::Store(error)
    }
}

type Sql<T> = Result<T, Fail>;

impl SqliteStore {
    /// Opens the store at `path`, creating it (and its schema) if the file does not exist.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_owned();
        let context = || format!("cannot open {}", path.display());
        let connection = Connection::open(&path).map_err(|error| StoreError::backend(context(), error))?;
        let setup = || -> Sql<()> {
            connection.busy_timeout(Duration::from_secs(30))?;
            connection.set_prepared_statement_cache_capacity(64);
            // Reading the header is where a file that is not a database fails.
            let application: i32 = connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "FULL")?;
            connection.pragma_update(None, "foreign_keys", "ON")?;
            let version: i32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            let tables: i64 = connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
            if application == 0 && version == 0 && tables == 0 {
                let mut connection_tx = Connection::unchecked_transaction(&connection)?;
                connection_tx.set_drop_behavior(rusqlite::DropBehavior::Rollback);
                connection_tx.execute_batch(SCHEMA)?;
                connection_tx.pragma_update(None, "application_id", APPLICATION_ID)?;
                connection_tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                connection_tx.commit()?;
            } else if application != APPLICATION_ID {
                return Err(not_a_store(&path.display().to_string()).into());
            } else if !(1..=SCHEMA_VERSION).contains(&version) {
                return Err(StoreError::Damaged(format!(
                    "{} has job store schema version {version}; this payamak reads version {SCHEMA_VERSION}",
                    path.display()
                ))
                .into());
            } else if version < SCHEMA_VERSION {
                migrate(&connection)?;
            }
            Ok(())
        };
        match setup() {
            Ok(()) => {}
            Err(Fail::Sql(error)) => return Err(StoreError::backend(context(), error)),
            Err(Fail::Store(error)) => return Err(error),
        }
        Ok(SqliteStore { connection: Arc::new(Mutex::new(connection)), path })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one transaction on the blocking pool (`IMMEDIATE`: it writes).
    async fn write<T, F>(&self, context: &'static str, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Sql<T> + Send + 'static,
    {
        self.run(context, TransactionBehavior::Immediate, work).await
    }

    /// Runs `work` in one read transaction on the blocking pool.
    async fn read<T, F>(&self, context: &'static str, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Sql<T> + Send + 'static,
    {
        self.run(context, TransactionBehavior::Deferred, work).await
    }

    async fn run<T, F>(&self, context: &'static str, behavior: TransactionBehavior, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Sql<T> + Send + 'static,
    {
        let connection = self.connection.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let transaction = connection.transaction_with_behavior(behavior)?;
            let value = work(&transaction)?;
            transaction.commit()?;
            Ok(value)
        })
        .await;
        match joined {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Fail::Sql(error))) => Err(StoreError::backend(context, error)),
            Ok(Err(Fail::Store(error))) => Err(error),
            Err(join) => Err(StoreError::backend(context, join)),
        }
    }
}

/// Runs one statement, prepared once per connection (the hot paths run the same few statements again and again).
fn exec(tx: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// Reads one row with a statement prepared once per connection.
fn row<T>(
    tx: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    tx.prepare_cached(sql)?.query_row(params, read)
}

/// Brings an older store up to [`SCHEMA_VERSION`], in one transaction (another
/// process opening it at the same time waits, then finds it done).
fn migrate(connection: &Connection) -> Sql<()> {
    // Under the write lock: read the version again.
    let tx = rusqlite::Transaction::new_unchecked(connection, TransactionBehavior::Immediate)?;
    let mut version: i32 = row(&tx, "PRAGMA user_version", [], |row| row.get(0))?;
    while version < SCHEMA_VERSION {
        let step = usize::try_from(version - 1).ok().and_then(|index| MIGRATIONS.get(index));
        let Some(step) = step else {
            return Err(StoreError::Damaged(format!("no way from job store schema version {version}")).into());
        };
        tx.execute_batch(step)?;
        version += 1;
        tx.pragma_update(None, "user_version", version)?;
    }
    tx.commit()?;
    Ok(())
}

/// The account's token, in `tx`, for a batch of `priority` (`None`: a single
/// send's rule, the whole bucket): taken (its bucket moved on) when granted and
/// `take`. With a token taken, also how long until the next one is free by the same rule.
fn token_in(
    tx: &rusqlite::Transaction<'_>,
    account: &str,
    priority: Option<i32>,
    take: bool,
) -> Sql<(Token, Option<Duration>)> {
    let row = row(
        tx,
        "SELECT emission_ms, burst, reserve, tat, paused_until, pause_reason FROM account WHERE name = ?",
        [&account],
        |row| {
            Ok((
                row.get::<_, Option<i64>>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        },
    )
    .optional()?;
    let Some((emission, burst, reserve, tat, paused_until, reason)) = row else {
        return Err(StoreError::NoSuchAccount(account.to_owned()).into());
    };
    let now = now_ms();
    if let Some(until) = paused_until.filter(|until| *until > now) {
        return Ok((Token::Paused(until, reason.unwrap_or_default()), None));
    }
    let Some(rate) = Rate::from_columns(emission, burst, reserve) else {
        return Ok((Token::Granted, Some(Duration::ZERO)));
    };
    let rate = rate.for_priority(priority.unwrap_or(SINGLE_SEND_PRIORITY));
    match gcra(tat, now, rate) {
        Ok(tat) if take => {
            exec(tx, "UPDATE account SET tat = ? WHERE name = ?", params![tat, account])?;
            Ok((Token::Granted, Some(gcra(tat, now, rate).err().unwrap_or(Duration::ZERO))))
        }
        Ok(_) => Ok((Token::Granted, None)),
        Err(wait) => Ok((Token::Wait(wait), None)),
    }
}

/// A pending batch, as a claim finds it.
#[derive(Clone, Copy)]
struct Pending {
    campaign: i64,
    batch: i64,
    /// Its first recipient's `seq`.
    first: i64,
    size: i64,
    priority: i32,
}

/// The batch a claim of `account` takes: the first pending (lowest priority,
/// then oldest campaign, then batch order).
fn first_pending(tx: &rusqlite::Transaction<'_>, account: &str) -> Sql<Option<Pending>> {
    Ok(row(
        tx,
        "SELECT campaign, no, first_seq, count, priority FROM batch WHERE account = ? AND state = 'pending' \
             ORDER BY priority, campaign, no LIMIT 1",
        [account],
        |row| {
            Ok(Pending {
                campaign: row.get(0)?,
                batch: row.get(1)?,
                first: row.get(2)?,
                size: row.get(3)?,
                priority: row.get(4)?,
            })
        },
    )
    .optional()?)
}

/// The account's token, taken only when it has a pending batch (a worker that
/// finds nothing to claim keeps the token for the next one) and by that
/// batch's rule (a campaign leaves the reserve), and with it a claim, in `tx`.
fn token_and_claim_in(
    tx: &rusqlite::Transaction<'_>,
    account: String,
    owner: String,
    lease: Duration,
) -> Sql<(Token, Option<Lease>)> {
    let pending = first_pending(tx, &account)?;
    let (token, next) = token_in(tx, &account, pending.map(|found| found.priority), pending.is_some())?;
    let Some(found) = pending.filter(|_| token == Token::Granted) else { return Ok((token, None)) };
    let claimed = claim_found(tx, account, owner, lease, found)?;
    Ok((token, claimed.map(|claimed| Lease { next_token: next, ..claimed })))
}

fn claim_in(tx: &rusqlite::Transaction<'_>, account: String, owner: String, lease: Duration) -> Sql<Option<Lease>> {
    let Some(found) = first_pending(tx, &account)? else { return Ok(None) };
    claim_found(tx, account, owner, lease, found)
}

/// Claims `found`, a batch [`first_pending`] read in `tx`.
fn claim_found(
    tx: &rusqlite::Transaction<'_>,
    account: String,
    owner: String,
    lease: Duration,
    found: Pending,
) -> Sql<Option<Lease>> {
    let Pending { campaign, batch, first, size, .. } = found;
    let until = now_ms().saturating_add(ms(lease));
    let changed = exec(
        tx,
        &format!(
            "UPDATE batch SET state = '{}', lease_owner = ?, lease_until = ? \
             WHERE campaign = ? AND no = ? AND state IN {}",
            Transition::Claim.to().as_str(),
            Transition::Claim.from_sql()
        ),
        params![owner, until, campaign, batch],
    )?;
    if changed != 1 {
        return Ok(None);
    }
    let info = campaign_info(tx, CampaignId(campaign))?
        .ok_or_else(|| StoreError::Damaged(format!("batch {batch} of a campaign {campaign} that is missing")))?;
    let numbers = numbers_of(tx, campaign, first, size)?;
    Ok(Some(Lease {
        campaign: CampaignId(campaign),
        batch: count(batch),
        owner,
        account,
        from: info.spec.from,
        text: info.spec.text,
        flash: info.spec.flash,
        numbers,
        next_token: None,
    }))
}

/// The token, the claim and its attempt, in `tx`.
fn claim_and_attempt_in(
    tx: &rusqlite::Transaction<'_>,
    account: String,
    owner: String,
    lease: Duration,
) -> Sql<(Token, Option<Lease>)> {
    let (token, claimed) = token_and_claim_in(tx, account, owner, lease)?;
    let Some(claimed) = claimed else { return Ok((token, None)) };
    if !advance_in(tx, &PreparedMove::bare(&claimed, Transition::Attempt))? {
        // Only a lease shorter than a millisecond ends before its attempt: give the batch back.
        advance_in(tx, &PreparedMove::bare(&claimed, Transition::Release))?;
        return Ok((token, None));
    }
    Ok((token, Some(claimed)))
}

/// A move as [`advance_in`] takes it.
struct PreparedMove {
    campaign: i64,
    batch: i64,
    owner: String,
    transition: Transition,
    /// The outcome as the row keeps it (see [`outcome_row`]).
    outcome: Option<String>,
    /// The recIds to follow, if it is sent.
    rec_ids: Vec<i64>,
}

impl PreparedMove {
    /// `transition` of the batch `lease` holds, recording `outcome`.
    fn new(lease: &Lease, transition: Transition, outcome: Option<&BatchOutcome>) -> StoreResult<Self> {
        Ok(PreparedMove {
            outcome: outcome.map(|outcome| outcome_row::encode(outcome, &lease.numbers)).transpose()?,
            rec_ids: tracked_rec_ids(outcome),
            ..PreparedMove::bare(lease, transition)
        })
    }

    /// `transition` of the batch `lease` holds, with no outcome.
    fn bare(lease: &Lease, transition: Transition) -> Self {
        PreparedMove {
            campaign: lease.campaign.0,
            batch: signed(lease.batch),
            owner: lease.owner.clone(),
            transition,
            outcome: None,
            rec_ids: Vec::new(),
        }
    }
}

fn prepare_moves(moves: &[BatchMove]) -> StoreResult<Vec<PreparedMove>> {
    moves.iter().map(|step| PreparedMove::new(&step.lease, step.transition, step.outcome.as_ref())).collect()
}

fn advance_many_in(tx: &rusqlite::Transaction<'_>, moves: &[PreparedMove]) -> Sql<Vec<bool>> {
    moves.iter().map(|step| advance_in(tx, step)).collect()
}

/// Moves a batch by `step`, in `tx`, if the machine (and the lease of its owner) allows it.
fn advance_in(tx: &rusqlite::Transaction<'_>, step: &PreparedMove) -> Sql<bool> {
    let PreparedMove { campaign, batch, ref owner, transition, ref outcome, ref rec_ids } = *step;
    let now = now_ms();
    // A sent batch with recIds to follow starts its delivery schedule in the same write of its row,
    // which gives the account its delivery rows are kept under.
    let follow = transition.to() == BatchState::Sent && !rec_ids.is_empty();
    let mut sql = format!(
        "UPDATE batch SET state = ?1, outcome = coalesce(?2, outcome), \
         attempt_at = CASE WHEN ?1 = 'attempting' THEN ?3 ELSE attempt_at END, \
         lease_owner = CASE WHEN ?1 = 'pending' THEN NULL ELSE lease_owner END{} \
         WHERE campaign = ?4 AND no = ?5 AND state IN {}",
        if follow { ", poll_at = ?3, polls = 0" } else { "" },
        transition.from_sql()
    );
    if transition.needs_owner() {
        sql.push_str(" AND lease_owner = ?6");
    }
    if transition.needs_live_lease() {
        sql.push_str(" AND lease_until > ?3");
    }
    let to = transition.to().as_str();
    if follow {
        sql.push_str(" RETURNING account");
        let account: Option<String> = if transition.needs_owner() {
            row(tx, &sql, params![to, outcome, now, campaign, batch, owner], |row| row.get(0))
        } else {
            row(tx, &sql, params![to, outcome, now, campaign, batch], |row| row.get(0))
        }
        .optional()?;
        let Some(account) = account else { return Ok(false) };
        insert_deliveries(tx, campaign, batch, &account, rec_ids)?;
        return Ok(true);
    }
    let changed = if transition.needs_owner() {
        exec(tx, &sql, params![to, outcome, now, campaign, batch, owner])?
    } else {
        exec(tx, &sql, params![to, outcome, now, campaign, batch])?
    };
    Ok(changed == 1)
}

/// The `delivery` rows of a batch's accepted `rec_ids`, in `tx`.
fn insert_deliveries(
    tx: &rusqlite::Transaction<'_>,
    campaign: i64,
    batch: i64,
    account: &str,
    rec_ids: &[i64],
) -> Sql<()> {
    // One statement for the batch's recIds (at most 100: one statement per batch size, kept prepared).
    for chunk in rec_ids.chunks(100) {
        let values = vec!["(?1, ?2, ?3, ?)"; chunk.len()].join(", ");
        let sql = format!("INSERT OR IGNORE INTO delivery (campaign, batch, account, rec_id) VALUES {values}");
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&campaign, &batch, &account];
        values.extend(chunk.iter().map(|rec_id| rec_id as &dyn rusqlite::ToSql));
        exec(tx, &sql, values.as_slice())?;
    }
    Ok(())
}

fn parse_state(name: &str) -> Sql<BatchState> {
    BatchState::parse(name).ok_or_else(|| StoreError::Damaged(format!("a batch in the unknown state {name:?}")).into())
}

/// The outcome a row keeps (`text`), for batch `batch` of `campaign`: its first recipient and its size.
fn parse_outcome(
    tx: &rusqlite::Transaction<'_>,
    campaign: i64,
    batch: (i64, i64),
    text: Option<String>,
) -> Sql<Option<BatchOutcome>> {
    let Some(text) = text else { return Ok(None) };
    let numbers =
        if outcome_row::needs_numbers(&text) { numbers_of(tx, campaign, batch.0, batch.1)? } else { Vec::new() };
    Ok(Some(outcome_row::decode(&text, &numbers)?))
}

fn parse_number(text: &str) -> Sql<MobileNumber> {
    MobileNumber::parse(text).map_err(|_| StoreError::Damaged(format!("a recipient {text:?} is not a number")).into())
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn campaign_info(tx: &Connection, id: CampaignId) -> Sql<Option<CampaignInfo>> {
    let row = row(
        tx,
        "SELECT account, sender, body, flash, priority, idempotency_key, source, phase, recipients, duplicates, \
             created_at FROM campaign WHERE id = ?",
        [id.0],
        |row| {
            Ok((
                CampaignSpec {
                    account: row.get(0)?,
                    from: row.get(1)?,
                    text: row.get(2)?,
                    flash: row.get(3)?,
                    priority: row.get(4)?,
                    idempotency_key: row.get(5)?,
                    source: row.get(6)?,
                },
                row.get::<_, String>(7)?,
                row.get::<_, i64>(8)?,
                row.get::<_, i64>(9)?,
                row.get::<_, i64>(10)?,
            ))
        },
    )
    .optional()?;
    let Some((spec, phase, recipients, duplicates, created_at)) = row else { return Ok(None) };
    let phase = match phase.as_str() {
        "importing" => CampaignPhase::Importing,
        "ready" => CampaignPhase::Ready,
        other => return Err(StoreError::Damaged(format!("campaign {id} in the unknown phase {other:?}")).into()),
    };
    Ok(Some(CampaignInfo { id, spec, phase, recipients: count(recipients), duplicates: count(duplicates), created_at }))
}

fn numbers_of(tx: &rusqlite::Transaction<'_>, campaign: i64, first: i64, count: i64) -> Sql<Vec<MobileNumber>> {
    let mut statement =
        tx.prepare_cached("SELECT msisdn FROM recipient WHERE campaign = ? AND seq >= ? AND seq < ? ORDER BY seq")?;
    let rows = statement.query_map(params![campaign, first, first + count], |row| row.get::<_, String>(0))?;
    let mut numbers = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for text in rows {
        numbers.push(parse_number(&text?)?);
    }
    Ok(numbers)
}

fn create_in(tx: &Connection, spec: CampaignSpec) -> Sql<Created> {
    let known: Option<i64> =
        row(tx, "SELECT 1 FROM account WHERE name = ?", [&spec.account], |row| row.get(0)).optional()?;
    if known.is_none() {
        return Err(StoreError::NoSuchAccount(spec.account).into());
    }
    if let Some(key) = &spec.idempotency_key {
        let found: Option<i64> = row(
            tx,
            "SELECT id FROM campaign WHERE account = ? AND idempotency_key = ?",
            params![spec.account, key],
            |row| row.get(0),
        )
        .optional()?;
        if let Some(id) = found {
            return Ok(Created { id: CampaignId(id), existed: true });
        }
    }
    exec(
        tx,
        "INSERT INTO campaign (account, sender, body, flash, priority, idempotency_key, source, phase, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'importing', ?)",
        params![
            spec.account,
            spec.from,
            spec.text,
            spec.flash,
            spec.priority,
            spec.idempotency_key,
            spec.source,
            now_ms()
        ],
    )?;
    Ok(Created { id: CampaignId(tx.last_insert_rowid()), existed: false })
}

fn add_in(tx: &Connection, campaign: CampaignId, numbers: &[String]) -> Sql<()> {
    let info = campaign_info(tx, campaign)?.ok_or(StoreError::NoSuchCampaign(campaign))?;
    if info.phase != CampaignPhase::Importing {
        return Err(StoreError::Phase { campaign, reason: "its import is over; no recipient can be added" }.into());
    }
    let mut seq = signed(info.recipients);
    let mut duplicates = signed(info.duplicates);
    {
        let mut insert =
            tx.prepare_cached("INSERT OR IGNORE INTO recipient (campaign, seq, msisdn) VALUES (?, ?, ?)")?;
        for number in numbers {
            if insert.execute(params![campaign.0, seq, number])? == 1 {
                seq += 1;
            } else {
                duplicates += 1;
            }
        }
    }
    exec(tx, "UPDATE campaign SET recipients = ?, duplicates = ? WHERE id = ?", params![seq, duplicates, campaign.0])?;
    Ok(())
}

fn seal_in(tx: &Connection, campaign: CampaignId, batch_size: u64) -> Sql<Imported> {
    let info = campaign_info(tx, campaign)?.ok_or(StoreError::NoSuchCampaign(campaign))?;
    if info.phase == CampaignPhase::Ready {
        let batches: i64 = row(tx, "SELECT count(*) FROM batch WHERE campaign = ?", [campaign.0], |row| row.get(0))?;
        return Ok(Imported { recipients: info.recipients, duplicates: info.duplicates, batches: count(batches) });
    }
    let mut batches = 0;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO batch (campaign, no, account, priority, first_seq, count, state) \
                 VALUES (?, ?, ?, ?, ?, ?, 'pending')",
        )?;
        for (batch, first, size) in plan(info.recipients, batch_size) {
            insert.execute(params![
                campaign.0,
                signed(batch),
                info.spec.account,
                info.spec.priority,
                signed(first),
                signed(size)
            ])?;
            batches += 1;
        }
    }
    exec(tx, "UPDATE campaign SET phase = 'ready' WHERE id = ?", [campaign.0])?;
    Ok(Imported { recipients: info.recipients, duplicates: info.duplicates, batches })
}

/// A single send in `tx`: the campaign of `spec` with the one recipient
/// `number`, ready to claim; with an idempotency key already known, the
/// campaign it names (finished, if it was left importing), nothing added.
/// What [`SqliteStore::enqueue_single`](Store::enqueue_single) and [`enqueue_single_in`] both run.
fn enqueue_in(tx: &Connection, spec: CampaignSpec, number: String) -> Sql<Created> {
    let created = create_in(tx, spec)?;
    // A key found is the send made before (or a campaign another import is
    // filling under that key): it is left as it is.
    if !created.existed {
        add_in(tx, created.id, &[number])?;
        seal_in(tx, created.id, 1)?;
    }
    Ok(created)
}

/// The savepoint [`enqueue_single_in`] writes under.
const SAVEPOINT: &str = "payamak_enqueue_single";

/// Enqueues a single send (an OTP, a notification) in the application's
/// transaction on its own connection to the store's file: what
/// [`Store::enqueue_single`] does, committed or rolled back with the
/// application's rows. Say a login attempt's row and its code: both are
/// kept, or neither, and no worker sees the code before the commit.
///
/// `connection` is the application's connection with its transaction open: a
/// [`Transaction`](rusqlite::Transaction) or a
/// [`Savepoint`](rusqlite::Savepoint) (both pass as `&Connection`), or one from
/// [`Connection::unchecked_transaction`] or an SQL `BEGIN`. A plain
/// `&Connection` is taken rather than a `&Transaction` so that all of these
/// work; a connection with no transaction open is refused
/// ([`StoreError::NoTransaction`]), as the send's rows would then be committed
/// on their own.
///
/// It writes under a savepoint: when it fails, none of its rows stay in the
/// transaction, and the application's rows are as they were (the transaction
/// may go on, or be committed without the send).
///
/// # The store and the connection
///
/// - The store's file must be the connection's main database, made by
///   [`SqliteStore::open`] (which creates and updates the schema), with the
///   account put (`Store::put_account`). A database that is not a payamak job
///   store, or a store of another schema version, is refused
///   ([`StoreError::Damaged`]): nothing is created or migrated inside the
///   application's transaction. The application's tables live in the same file
///   (their names other than `account`, `campaign`, `recipient`, `batch` and
///   `delivery`): an `ATTACH`ed file is not committed atomically with the main
///   one in WAL mode.
/// - WAL is set by [`SqliteStore::open`] and kept in the file. `synchronous`
///   and `foreign_keys` are the connection's own: set `synchronous=FULL` (the
///   store's choice; the default of the SQLite bundled here) for the commit to
///   survive a power loss. `foreign_keys` is not needed: the account is
///   checked here before anything is written (and the pragma cannot be changed
///   inside a transaction).
/// - Set a busy timeout (workers write to the file all the time), begin the
///   transaction `IMMEDIATE` (a deferred one that read first cannot write
///   once a worker committed meanwhile: `SQLITE_BUSY`), and keep it short: the
///   workers wait for its commit to write.
/// - Use this crate's [`rusqlite`] (re-exported here): the connection is of its version.
///
/// # Errors
///
/// [`StoreError::NoSuchAccount`] for an account the store does not have (the
/// transaction is usable), [`StoreError::Damaged`] for a database that is not
/// a payamak job store of this schema version, [`StoreError::NoTransaction`]
/// without a transaction, [`StoreError::Backend`] when SQLite fails.
///
/// # Example
///
/// ```
/// use std::time::Duration;
///
/// use payamak::campaign::sqlite::{enqueue_single_in, rusqlite};
/// use payamak::campaign::{Account, CampaignSpec, SqliteStore, Store as _};
/// use payamak::recipient::MobileNumber;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("jobs.db");
/// // Once, at deployment: the store and its account.
/// let store = SqliteStore::open(&path)?;
/// let account = Account {
///     name: "main".into(),
///     username: "user".into(),
///     endpoints: vec!["https://panel.example".into()],
///     credentials: "env:PAYAMAK_PASSWORD".into(),
///     rate: None,
/// };
/// store.put_account(&account).await?;
///
/// // The application's connection to the same file.
/// let mut connection = rusqlite::Connection::open(&path)?;
/// connection.busy_timeout(Duration::from_secs(30))?;
/// connection.pragma_update(None, "synchronous", "FULL")?;
/// connection.execute("CREATE TABLE IF NOT EXISTS login_attempt (user_id INTEGER, code TEXT)", [])?;
///
/// let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
/// tx.execute("INSERT INTO login_attempt (user_id, code) VALUES (?1, ?2)", (7, "4711"))?;
/// let otp = CampaignSpec::single_send("main", "5000123456", "Your code: 4711", "login-7-1");
/// let created = enqueue_single_in(&tx, &otp, &MobileNumber::parse("09121234567")?)?;
/// tx.commit()?; // the attempt and its code together: a worker may send it now
/// # assert!(!created.existed);
/// # Ok(())
/// # }
/// ```
pub fn enqueue_single_in(connection: &Connection, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
    if connection.is_autocommit() {
        return Err(StoreError::NoTransaction("enqueue_single_in"));
    }
    let enqueue = || -> Sql<Created> {
        check_store(connection)?;
        connection.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))?;
        match enqueue_in(connection, spec.clone(), number.as_str().to_owned()) {
            Ok(created) => {
                connection.execute_batch(&format!("RELEASE {SAVEPOINT}"))?;
                Ok(created)
            }
            Err(error) => {
                // What failed is the error to report; a savepoint SQLite already rolled back cannot be.
                let _ = connection.execute_batch(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"));
                Err(error)
            }
        }
    };
    enqueue().map_err(|fail| match fail {
        Fail::Sql(error) => StoreError::backend("enqueue a single send in the application's transaction", error),
        Fail::Store(error) => error,
    })
}

/// Refuses a connection whose main database is not a payamak job store of
/// [`SCHEMA_VERSION`]: what the application's transaction writes to must be
/// one already (only [`SqliteStore::open`] creates or updates the schema).
fn check_store(connection: &Connection) -> Sql<()> {
    let application: i32 = row(connection, "PRAGMA application_id", [], |row| row.get(0))?;
    let version: i32 = row(connection, "PRAGMA user_version", [], |row| row.get(0))?;
    let name = match connection.path() {
        Some(path) if !path.is_empty() => path.to_owned(),
        _ => "the connection's database".to_owned(),
    };
    if application != APPLICATION_ID {
        return Err(not_a_store(&name).into());
    }
    if version < SCHEMA_VERSION {
        return Err(StoreError::Damaged(format!(
            "{name} has job store schema version {version}; this payamak writes version {SCHEMA_VERSION} \
             (SqliteStore::open brings it up to date)"
        ))
        .into());
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::Damaged(format!(
            "{name} has job store schema version {version}; this payamak writes version {SCHEMA_VERSION}"
        ))
        .into());
    }
    Ok(())
}

/// The error of a database that is not a payamak job store.
fn not_a_store(name: &str) -> StoreError {
    StoreError::Damaged(format!("{name} is an SQLite database but not a payamak job store; refusing to use it"))
}

impl Store for SqliteStore {
    async fn put_account(&self, account: &Account) -> StoreResult<()> {
        let account = account.clone();
        self.write("add an account", move |tx| {
            let endpoints = serde_json::to_string(&account.endpoints)
                .map_err(|error| StoreError::Damaged(format!("endpoints: {error}")))?;
            let emission = account.rate.map(|rate| ms(rate.emission));
            let burst = account.rate.map(|rate| i64::from(rate.burst));
            let reserve = account.rate.map_or(0, |rate| i64::from(rate.reserve));
            exec(
                tx,
                "INSERT INTO account (name, username, endpoints, credentials, emission_ms, burst, reserve) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (name) DO UPDATE SET username = ?2, endpoints = ?3, credentials = ?4, \
                 emission_ms = ?5, burst = ?6, reserve = ?7",
                params![account.name, account.username, endpoints, account.credentials, emission, burst, reserve],
            )?;
            Ok(())
        })
        .await
    }

    async fn accounts(&self) -> StoreResult<Vec<AccountState>> {
        self.read("read the accounts", |tx| {
            let mut statement = tx.prepare_cached(
                "SELECT name, username, endpoints, credentials, emission_ms, burst, paused_until, pause_reason, \
                 reserve FROM account ORDER BY name",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    (row.get::<_, String>(0)?, row.get::<_, String>(1)?),
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    (row.get::<_, Option<i64>>(4)?, row.get::<_, Option<i64>>(5)?, row.get::<_, i64>(8)?),
                    row.get::<_, Option<i64>>(6)?,
                    row.get::<_, Option<String>>(7)?,
                ))
            })?;
            let mut accounts = Vec::new();
            for row in rows {
                let ((name, username), endpoints, credentials, (emission, burst, reserve), until, reason) = row?;
                let endpoints: Vec<String> = serde_json::from_str(&endpoints)
                    .map_err(|error| StoreError::Damaged(format!("the endpoints of account {name:?}: {error}")))?;
                let paused = until.map(|until| (until, reason.unwrap_or_default()));
                let rate = Rate::from_columns(emission, burst, reserve);
                accounts
                    .push(AccountState { account: Account { name, username, endpoints, credentials, rate }, paused });
            }
            Ok(accounts)
        })
        .await
    }

    async fn pause(&self, account: &str, until: Millis, reason: &str) -> StoreResult<()> {
        let (account, reason) = (account.to_owned(), reason.to_owned());
        self.write("pause an account", move |tx| {
            let changed = exec(
                tx,
                "UPDATE account SET paused_until = max(coalesce(paused_until, 0), ?2), pause_reason = ?3 WHERE name = ?1",
                params![account, until, reason],
            )?;
            if changed == 0 {
                return Err(StoreError::NoSuchAccount(account).into());
            }
            Ok(())
        })
        .await
    }

    async fn take_token(&self, account: &str) -> StoreResult<Token> {
        let account = account.to_owned();
        self.write("take a token", move |tx| Ok(token_in(tx, &account, None, true)?.0)).await
    }

    async fn create_campaign(&self, spec: &CampaignSpec) -> StoreResult<Created> {
        let spec = spec.clone();
        self.write("create a campaign", move |tx| create_in(tx, spec)).await
    }

    async fn enqueue_single(&self, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
        let (spec, number) = (spec.clone(), number.as_str().to_owned());
        self.write("enqueue a single send", move |tx| enqueue_in(tx, spec, number)).await
    }

    async fn add_recipients(&self, campaign: CampaignId, numbers: &[MobileNumber]) -> StoreResult<()> {
        let numbers: Vec<String> = numbers.iter().map(|number| number.as_str().to_owned()).collect();
        self.write("add recipients", move |tx| add_in(tx, campaign, &numbers)).await
    }

    async fn seal(&self, campaign: CampaignId, batch_size: u64) -> StoreResult<Imported> {
        self.write("plan the batches", move |tx| seal_in(tx, campaign, batch_size)).await
    }

    async fn campaign(&self, campaign: CampaignId) -> StoreResult<Option<CampaignInfo>> {
        self.read("read a campaign", move |tx| campaign_info(tx, campaign)).await
    }

    async fn claim(&self, account: &str, owner: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        let (account, owner) = (account.to_owned(), owner.to_owned());
        self.write("claim a batch", move |tx| claim_in(tx, account, owner, lease)).await
    }

    async fn take_token_claim_and_attempt(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        let (account, owner) = (account.to_owned(), owner.to_owned());
        self.write("take a token, claim a batch and record its attempt", move |tx| {
            claim_and_attempt_in(tx, account, owner, lease)
        })
        .await
    }

    async fn advance_many(&self, moves: &[BatchMove]) -> StoreResult<Vec<bool>> {
        let moves = prepare_moves(moves)?;
        // One transaction, one sync for all of them.
        self.write("record outcomes", move |tx| advance_many_in(tx, &moves)).await
    }

    async fn advance_many_then_claim(
        &self,
        moves: &[BatchMove],
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Vec<bool>, StoreResult<(Token, Option<Lease>)>)> {
        let moves = prepare_moves(moves)?;
        let (account, owner) = (account.to_owned(), owner.to_owned());
        self.write("record outcomes, take a token, claim a batch and record its attempt", move |tx| {
            let moved = advance_many_in(tx, &moves)?;
            // The outcomes stay recorded whatever becomes of the claim.
            tx.execute_batch("SAVEPOINT claim")?;
            match claim_and_attempt_in(tx, account, owner, lease) {
                Ok(claimed) => {
                    tx.execute_batch("RELEASE claim")?;
                    Ok((moved, Ok(claimed)))
                }
                Err(Fail::Store(error)) => {
                    tx.execute_batch("ROLLBACK TO claim; RELEASE claim")?;
                    Ok((moved, Err(error)))
                }
                Err(Fail::Sql(error)) => Err(Fail::Sql(error)),
            }
        })
        .await
    }

    async fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        let (account, owner) = (account.to_owned(), owner.to_owned());
        // One transaction, one sync.
        self.write("take a token and claim a batch", move |tx| token_and_claim_in(tx, account, owner, lease)).await
    }

    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> StoreResult<bool> {
        let step = PreparedMove::new(lease, transition, outcome)?;
        self.write("move a batch", move |tx| advance_in(tx, &step)).await
    }

    async fn reap(&self, unknown_after: Duration) -> StoreResult<Reaped> {
        self.write("reap", move |tx| {
            let now = now_ms();
            let requeued = exec(
                tx,
                &format!(
                    "UPDATE batch SET state = '{}', lease_owner = NULL WHERE state IN {} AND lease_until <= ?",
                    Transition::LeaseExpired.to().as_str(),
                    Transition::LeaseExpired.from_sql()
                ),
                [now],
            )?;
            let unknown = exec(
                tx,
                &format!(
                    "UPDATE batch SET state = '{}' WHERE state IN {} AND attempt_at <= ?",
                    Transition::Stale.to().as_str(),
                    Transition::Stale.from_sql()
                ),
                [now - ms(unknown_after)],
            )?;
            Ok(Reaped { requeued: requeued as u64, unknown: unknown as u64 })
        })
        .await
    }

    async fn counts(&self, campaign: Option<CampaignId>) -> StoreResult<Counts> {
        self.read("count batches", move |tx| {
            let mut statement = tx.prepare_cached(
                "SELECT state, count(*), sum(count) FROM batch WHERE ?1 IS NULL OR campaign = ?1 GROUP BY state",
            )?;
            let rows = statement.query_map([campaign.map(|id| id.0)], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, Option<i64>>(2)?))
            })?;
            let mut counts = Counts::default();
            for row in rows {
                let (state, batches, recipients) = row?;
                counts.add(parse_state(&state)?, count(batches), count(recipients.unwrap_or(0)));
            }
            Ok(counts)
        })
        .await
    }

    async fn batches(&self, campaign: CampaignId, from: u64, limit: u64) -> StoreResult<Vec<BatchRow>> {
        self.read("read batches", move |tx| {
            let mut statement = tx.prepare_cached(
                "SELECT no, count, state, outcome, first_seq FROM batch WHERE campaign = ? AND no >= ? \
                 ORDER BY no LIMIT ?",
            )?;
            let rows = statement.query_map(params![campaign.0, signed(from), signed(limit)], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?, row.get(3)?, row.get(4)?))
            })?;
            let mut batches = Vec::new();
            for row in rows {
                let (batch, recipients, state, outcome, first) = row?;
                batches.push(BatchRow {
                    batch: count(batch),
                    recipients: count(recipients),
                    state: parse_state(&state)?,
                    outcome: parse_outcome(tx, campaign.0, (first, recipients), outcome)?,
                });
            }
            Ok(batches)
        })
        .await
    }

    async fn batch_numbers(&self, campaign: CampaignId, batch: u64) -> StoreResult<Vec<MobileNumber>> {
        self.read("read a batch's recipients", move |tx| {
            let found = row(
                tx,
                "SELECT first_seq, count FROM batch WHERE campaign = ? AND no = ?",
                params![campaign.0, signed(batch)],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )
            .optional()?;
            match found {
                Some((first, size)) => numbers_of(tx, campaign.0, first, size),
                None => Ok(Vec::new()),
            }
        })
        .await
    }

    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> StoreResult<u64> {
        if !matches!(transition, Transition::OperatorResend | Transition::Retry) {
            return Err(StoreError::Unsupported("this transition for a whole campaign"));
        }
        self.write("requeue batches", move |tx| {
            let changed = exec(
                tx,
                &format!(
                    "UPDATE batch SET state = '{}', lease_owner = NULL WHERE campaign = ? AND state IN {}",
                    transition.to().as_str(),
                    transition.from_sql()
                ),
                [campaign.0],
            )?;
            Ok(changed as u64)
        })
        .await
    }

    async fn reconcile(&self, campaign: CampaignId, batch: u64, outcome: &BatchOutcome) -> StoreResult<bool> {
        let (transition, to) = Transition::of_reconciliation(outcome);
        // Kept whole: what reconciliation found need not be the batch's numbers in order.
        let json = outcome_row::json(outcome)?;
        let rec_ids = if to == BatchState::Sent { tracked_rec_ids(Some(outcome)) } else { Vec::new() };
        self.write("reconcile a batch", move |tx| {
            let follow = !rec_ids.is_empty();
            let account: Option<String> = row(
                tx,
                &format!(
                    "UPDATE batch SET state = ?1, outcome = ?2, poll_at = CASE WHEN ?5 THEN ?6 ELSE poll_at END, \
                     polls = CASE WHEN ?5 THEN 0 ELSE polls END \
                     WHERE campaign = ?3 AND no = ?4 AND state IN {} RETURNING account",
                    transition.from_sql()
                ),
                params![to.as_str(), json, campaign.0, signed(batch), follow, now_ms()],
                |row| row.get(0),
            )
            .optional()?;
            let Some(account) = account else { return Ok(false) };
            if follow {
                insert_deliveries(tx, campaign.0, signed(batch), &account, &rec_ids)?;
            }
            Ok(true)
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        account: &str,
        first_after: Duration,
        limit: usize,
        lease: Duration,
    ) -> StoreResult<Vec<DeliveryPoll>> {
        let account = account.to_owned();
        self.write("claim deliveries to read", move |tx| {
            let now = now_ms();
            let due: Vec<(i64, i64, i64, i64, Option<i64>)> = {
                let mut statement = tx.prepare_cached(
                    "SELECT campaign, no, polls, attempt_at, updated_at FROM batch \
                     WHERE account = ?1 AND poll_at IS NOT NULL AND poll_at <= ?2 AND (polls > 0 OR attempt_at <= ?3) \
                     ORDER BY poll_at LIMIT ?4",
                )?;
                let rows = statement.query_map(
                    params![account, now, now - ms(first_after), i64::try_from(limit).unwrap_or(i64::MAX)],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, Option<i64>>(3)?, row.get(4)?)),
                )?;
                let mut due = Vec::new();
                for row in rows {
                    let (campaign, batch, polls, attempt_at, updated_at) = row?;
                    due.push((campaign, batch, polls, attempt_at.unwrap_or(0), updated_at));
                }
                due
            };
            let mut polls = Vec::with_capacity(due.len());
            for (campaign, batch, count_of_polls, sent_at, updated_at) in due {
                exec(
                tx,
                    "UPDATE batch SET poll_at = ? WHERE campaign = ? AND no = ?",
                    params![now.saturating_add(ms(lease)), campaign, batch],
                )?;
                let mut statement = tx.prepare_cached(
                    "SELECT rec_id, status FROM delivery WHERE campaign = ? AND batch = ? AND final = 0 ORDER BY rec_id",
                )?;
                let rows = statement.query_map(params![campaign, batch], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i32>>(1)?))
                })?;
                let mut open = Vec::new();
                for row in rows {
                    let (rec_id, status) = row?;
                    open.push((rec_id, status.map(DeliveryStatus::from_code)));
                }
                polls.push(DeliveryPoll {
                    campaign: CampaignId(campaign),
                    batch: count(batch),
                    account: account.clone(),
                    polls: u32::try_from(count_of_polls).unwrap_or(0),
                    sent_at,
                    updated_at,
                    open,
                });
            }
            Ok(polls)
        })
        .await
    }

    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) -> StoreResult<()> {
        let (campaign, batch, update) = (poll.campaign.0, signed(poll.batch), update.clone());
        self.write("record delivery statuses", move |tx| {
            {
                let mut status = tx.prepare_cached(
                    "UPDATE delivery SET status = ?, final = ? WHERE campaign = ? AND batch = ? AND rec_id = ?",
                )?;
                for (rec_id, read) in &update.statuses {
                    status.execute(params![read.code(), read.is_final(), campaign, batch, rec_id])?;
                }
                let mut invalid =
                    tx.prepare_cached("UPDATE delivery SET final = 1 WHERE campaign = ? AND batch = ? AND rec_id = ?")?;
                for rec_id in &update.invalid {
                    invalid.execute(params![campaign, batch, rec_id])?;
                }
            }
            exec(
                tx,
                "UPDATE batch SET polls = polls + ?, updated_at = coalesce(?, updated_at), poll_at = ? \
                 WHERE campaign = ? AND no = ?",
                params![i64::from(update.counted), update.updated_at, update.next_poll_at, campaign, batch],
            )?;
            Ok(())
        })
        .await
    }

    async fn delivery_counts(&self, campaign: CampaignId) -> StoreResult<DeliveryCounts> {
        self.read("count deliveries", move |tx| {
            let mut counts = DeliveryCounts::default();
            let mut statement = tx.prepare_cached(
                "SELECT status, final, count(*) FROM delivery WHERE campaign = ? GROUP BY status, final",
            )?;
            let rows = statement.query_map([campaign.0], |row| {
                Ok((row.get::<_, Option<i32>>(0)?, row.get::<_, bool>(1)?, row.get::<_, i64>(2)?))
            })?;
            for row in rows {
                let (status, settled, rows) = row?;
                counts.add(status, settled, count(rows));
            }
            counts.following = count(row(
                tx,
                "SELECT count(*) FROM batch WHERE campaign = ? AND poll_at IS NOT NULL",
                [campaign.0],
                |row| row.get(0),
            )?);
            Ok(counts)
        })
        .await
    }

    async fn next_delivery_poll(&self, account: Option<&str>, first_after: Duration) -> StoreResult<Option<Millis>> {
        let account = account.map(str::to_owned);
        self.read("find the next delivery poll", move |tx| {
            Ok(row(
                tx,
                "SELECT min(CASE WHEN polls = 0 THEN max(poll_at, coalesce(attempt_at, 0) + ?2) ELSE poll_at END) \
                 FROM batch WHERE poll_at IS NOT NULL AND (?1 IS NULL OR account = ?1)",
                params![account, ms(first_after)],
                |row| row.get::<_, Option<i64>>(0),
            )?)
        })
        .await
    }

    async fn requeue_stale_attempts_unsafely(&self, older_than: Duration) -> StoreResult<u64> {
        self.write("requeue attempts (unsafe)", move |tx| {
            let changed = exec(
                tx,
                "UPDATE batch SET state = 'pending', lease_owner = NULL \
                 WHERE state IN ('attempting', 'unknown') AND attempt_at <= ?",
                [now_ms() - ms(older_than)],
            )?;
            Ok(changed as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::test_support::{
        account, assert_claimed_once, assert_nothing_enqueued, assert_refused_store, number, otp, sent_to,
        two_attempting_batches,
    };

    /// A fresh directory for a test's files.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("payamak-sqlite-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir
    }

    /// A store with account `a` in a fresh file, and the application's own
    /// connection to it, with its table `login` (rows of the application's).
    async fn store_and_app(name: &str) -> (SqliteStore, Connection, PathBuf) {
        let dir = temp_dir(name);
        let store = SqliteStore::open(dir.join("jobs.db")).expect("a store");
        store.put_account(&account("a")).await.expect("an account");
        let app = Connection::open(store.path()).expect("the application's connection");
        app.busy_timeout(Duration::from_secs(30)).expect("a busy timeout");
        app.execute_batch("CREATE TABLE login (user_id INTEGER NOT NULL)").expect("the application's table");
        (store, app, dir)
    }

    /// The rows of the application's table.
    fn logins(app: &Connection) -> i64 {
        app.query_row("SELECT count(*) FROM login", [], |row| row.get(0)).expect("a count")
    }

    /// The begin of the application's transaction: its own row first.
    fn begin(app: &mut Connection) -> rusqlite::Transaction<'_> {
        let tx = app.transaction_with_behavior(TransactionBehavior::Immediate).expect("a transaction");
        tx.execute("INSERT INTO login (user_id) VALUES (7)", []).expect("the application's row");
        tx
    }

    #[tokio::test]
    async fn a_send_enqueued_in_a_transaction_rolled_back_is_not_there() {
        let (store, mut app, dir) = store_and_app("rollback").await;
        let tx = begin(&mut app);
        let created = enqueue_single_in(&tx, &otp("login-7"), &number(1)).expect("enqueued");
        assert!(!created.existed);
        tx.rollback().expect("rolled back");
        assert_nothing_enqueued(&store).await;
        assert_eq!(logins(&app), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_send_enqueued_in_a_transaction_committed_is_claimed() {
        let (store, mut app, dir) = store_and_app("commit").await;
        let tx = begin(&mut app);
        let created = enqueue_single_in(&tx, &otp("login-7"), &number(1)).expect("enqueued");
        tx.commit().expect("committed");
        assert_eq!(logins(&app), 1);
        let info = store.campaign(created.id).await.expect("a read").expect("the campaign");
        assert_eq!((info.phase, info.recipients, info.spec), (CampaignPhase::Ready, 1, otp("login-7")));
        assert_claimed_once(&store, created.id, &number(1)).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_same_key_twice_is_one_send() {
        let (store, mut app, dir) = store_and_app("idempotent").await;
        let tx = begin(&mut app);
        let first = enqueue_single_in(&tx, &otp("login-7"), &number(1)).expect("enqueued");
        // The application retrying in its transaction: the same send, nothing added.
        let again = enqueue_single_in(&tx, &otp("login-7"), &number(2)).expect("found");
        assert_eq!((again.id, again.existed), (first.id, true));
        tx.commit().expect("committed");
        // And in a later transaction, or through the store.
        let tx = begin(&mut app);
        let later = enqueue_single_in(&tx, &otp("login-7"), &number(3)).expect("found");
        tx.commit().expect("committed");
        assert_eq!((later.id, later.existed), (first.id, true));
        let through_store = store.enqueue_single(&otp("login-7"), &number(4)).await.expect("found");
        assert_eq!((through_store.id, through_store.existed), (first.id, true));
        let counts = store.counts(None).await.expect("counts");
        assert_eq!((counts.total(), counts.recipients(BatchState::Pending)), (1, 1), "one batch of one");
        assert_claimed_once(&store, first.id, &number(1)).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_unknown_account_is_refused_and_the_transaction_goes_on() {
        let (store, mut app, dir) = store_and_app("account").await;
        let tx = begin(&mut app);
        let other = CampaignSpec { account: "nobody".to_owned(), ..otp("login-7") };
        let refused = enqueue_single_in(&tx, &other, &number(1));
        assert!(matches!(&refused, Err(StoreError::NoSuchAccount(name)) if name == "nobody"), "{refused:?}");
        tx.execute("INSERT INTO login (user_id) VALUES (8)", []).expect("the transaction is usable");
        tx.commit().expect("committed");
        assert_eq!(logins(&app), 2);
        assert_nothing_enqueued(&store).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_database_that_is_not_a_store_is_refused_and_left_as_it_was() {
        let dir = temp_dir("not-a-store");
        let mut app = Connection::open(dir.join("app.db")).expect("the application's database");
        app.execute_batch("CREATE TABLE login (user_id INTEGER NOT NULL)").expect("the application's table");
        let tx = begin(&mut app);
        assert_refused_store(enqueue_single_in(&tx, &otp("login-7"), &number(1)), "not a payamak job store");
        tx.commit().expect("the transaction is usable");
        let (application, tables): (i32, i64) = (
            app.query_row("PRAGMA application_id", [], |row| row.get(0)).expect("the id"),
            app.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0)).expect("tables"),
        );
        assert_eq!((application, tables, logins(&app)), (0, 1, 1), "no store created in it");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_store_of_another_version_is_refused_not_migrated() {
        let (store, mut app, dir) = store_and_app("version").await;
        for (version, why) in [(3, "version 3; this payamak writes version 4 (SqliteStore::open"), (5, "version 5")] {
            app.pragma_update(None, "user_version", version).expect("another version");
            let tx = begin(&mut app);
            assert_refused_store(enqueue_single_in(&tx, &otp("login-7"), &number(1)), why);
            tx.commit().expect("the transaction is usable");
            let kept: i32 = app.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("the version");
            assert_eq!(kept, version, "not migrated");
        }
        app.pragma_update(None, "user_version", SCHEMA_VERSION).expect("this version");
        assert_nothing_enqueued(&store).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_connection_without_a_transaction_is_refused() {
        let (store, app, dir) = store_and_app("autocommit").await;
        let refused = enqueue_single_in(&app, &otp("login-7"), &number(1));
        assert!(matches!(refused, Err(StoreError::NoTransaction(_))), "{refused:?}");
        assert_nothing_enqueued(&store).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_send_that_fails_half_way_leaves_none_of_its_rows() {
        let (store, mut app, dir) = store_and_app("half-way").await;
        // The batch's row cannot be written: the campaign and its recipient are already.
        app.execute_batch(
            "CREATE TEMP TRIGGER no_batch BEFORE INSERT ON main.batch BEGIN SELECT RAISE(ABORT, 'full'); END",
        )
        .expect("a trigger");
        let tx = begin(&mut app);
        let failed = enqueue_single_in(&tx, &otp("login-7"), &number(1));
        assert!(matches!(failed, Err(StoreError::Backend { .. })), "{failed:?}");
        tx.commit().expect("the transaction is usable");
        assert_eq!(logins(&app), 1, "the application's row is kept");
        let campaigns: i64 = app.query_row("SELECT count(*) FROM campaign", [], |row| row.get(0)).expect("a count");
        assert_eq!(campaigns, 0, "none of the send's rows");
        assert_nothing_enqueued(&store).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_savepoint_rolled_back_takes_the_send_with_it() {
        let (store, mut app, dir) = store_and_app("savepoint").await;
        let mut tx = begin(&mut app);
        let savepoint = tx.savepoint().expect("a savepoint");
        enqueue_single_in(&savepoint, &otp("login-7"), &number(1)).expect("enqueued in the savepoint");
        drop(savepoint);
        tx.commit().expect("committed");
        assert_eq!(logins(&app), 1);
        assert_nothing_enqueued(&store).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_store_of_version_1_is_brought_up_to_date() {
        let dir = std::env::temp_dir().join(format!("payamak-sqlite-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let path = dir.join("v1.db");
        let _ = std::fs::remove_file(&path);
        drop(SqliteStore::open(&path).expect("a new store"));
        // Back to version 1's schema, as an older payamak left it.
        let connection = Connection::open(&path).expect("open");
        connection
            .execute_batch(
                "DROP INDEX batch_poll; DROP TABLE delivery; ALTER TABLE batch DROP COLUMN poll_at; \
                 ALTER TABLE batch DROP COLUMN polls; ALTER TABLE batch DROP COLUMN updated_at; \
                 ALTER TABLE account DROP COLUMN reserve; PRAGMA user_version = 1;",
            )
            .expect("downgrade");
        drop(connection);
        let store = SqliteStore::open(&path).expect("the old store opens");
        let account = Account {
            name: "a".to_owned(),
            username: "u".to_owned(),
            endpoints: Vec::new(),
            credentials: "settings".to_owned(),
            rate: Some(Rate::per_second(5.0, 3).with_reserve(1)),
        };
        store.put_account(&account).await.expect("an account with a reserve");
        assert_eq!(store.accounts().await.expect("accounts")[0].account.rate, account.rate);
        let id = store.create_campaign(&CampaignSpec::single_send("a", "1", "x", "k")).await.expect("campaign").id;
        assert_eq!(store.delivery_counts(id).await.expect("counts"), DeliveryCounts::default());
        let connection = Connection::open(&path).expect("open");
        let version: i32 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn outcomes_kept_whole_before_version_4_are_read_and_new_ones_are_compact() {
        let dir = std::env::temp_dir().join(format!("payamak-sqlite-outcomes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let path = dir.join("v3.db");
        let _ = std::fs::remove_file(&path);
        let store = SqliteStore::open(&path).expect("a new store");
        let (id, numbers, leases) = two_attempting_batches(&store, 150).await;
        drop(store);
        // Batch 0 sent by an older payamak: its outcome whole, in JSON; the store at version 3.
        let old = sent_to(&numbers[..100], 7_000);
        let json = outcome_row::json(&old).expect("json");
        let connection = Connection::open(&path).expect("open");
        connection
            .execute(
                "UPDATE batch SET state = 'sent', outcome = ?1 WHERE campaign = ?2 AND no = 0",
                params![json, id.0],
            )
            .expect("an old row");
        connection.execute_batch("PRAGMA user_version = 3").expect("downgrade");
        drop(connection);
        let store = SqliteStore::open(&path).expect("the old store opens");
        let new = sent_to(&numbers[100..], 9_000);
        assert!(store.advance(&leases[1], Transition::Sent, Some(&new)).await.expect("recorded"));
        let rows = store.batches(id, 0, 2).await.expect("batches");
        assert_eq!((rows[0].outcome.as_ref(), rows[1].outcome.as_ref()), (Some(&old), Some(&new)));
        assert_eq!(store.delivery_counts(id).await.expect("counts").tracked, 50);
        drop(store);
        let connection = Connection::open(&path).expect("open");
        let (version, kept): (i32, String) = (
            connection.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("version"),
            connection.query_row("SELECT outcome FROM batch WHERE no = 1", [], |row| row.get(0)).expect("a row"),
        );
        assert_eq!((version, kept.as_str()), (SCHEMA_VERSION, "r1|50:9000:1::1"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
