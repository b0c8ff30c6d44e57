//! The PostgreSQL store: any number of workers on any number of machines.
//!
//! Claims take the first pending batch with `FOR UPDATE SKIP LOCKED`, so
//! workers never wait for each other's rows; every other move is one
//! compare-and-set `UPDATE`. Times are the server's clock, so the machines'
//! clocks need not agree. Recipients are streamed in with `COPY`, and
//! repeated numbers are dropped and batches planned on the server when the
//! import ends.
//!
//! An application enqueues a single send in its own transaction with
//! [`enqueue_single_in`].

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt as _;
use tokio::sync::Mutex;
/// The tokio-postgres this store is built with: the application's client
/// given to [`enqueue_single_in`] must be of this version.
pub use tokio_postgres;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient, NoTls, Row};

use super::outcome_row;
use super::rate::{gcra, ms, Millis, Rate};
use super::state::{BatchState, Transition};
use super::store::{
    tracked_rec_ids, Account, AccountState, BatchMove, BatchRow, CampaignId, CampaignInfo, CampaignPhase, CampaignSpec,
    Counts, Created, DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Reaped, Store, StoreError,
    StoreResult, Token, CAMPAIGN_PRIORITY, SINGLE_SEND_PRIORITY,
};
use crate::bulk::BatchOutcome;
use crate::recipient::MobileNumber;
use crate::status_codes::DeliveryStatus;

/// The schema's version, kept in `payamak_store`; `SCHEMA` creates version 1's tables.
const SCHEMA_VERSION: i32 = 4;

/// The changes from each older version to the next: `MIGRATIONS[v - 1]` takes version v to v + 1.
const MIGRATIONS: [&str; 3] = [
    // 2: the reserve campaigns leave for single sends.
    "ALTER TABLE account ADD COLUMN IF NOT EXISTS reserve bigint NOT NULL DEFAULT 0;",
    // 3: delivery tracking: a sent batch's schedule on its row, its recIds in `delivery`.
    "ALTER TABLE batch ADD COLUMN IF NOT EXISTS poll_at bigint;
     ALTER TABLE batch ADD COLUMN IF NOT EXISTS polls integer NOT NULL DEFAULT 0;
     ALTER TABLE batch ADD COLUMN IF NOT EXISTS updated_at bigint;
     CREATE INDEX IF NOT EXISTS batch_poll ON batch (account, poll_at) WHERE poll_at IS NOT NULL;
     CREATE TABLE IF NOT EXISTS delivery (
         campaign bigint NOT NULL,
         batch bigint NOT NULL,
         rec_id bigint NOT NULL,
         account text NOT NULL,
         status integer,
         final boolean NOT NULL DEFAULT false,
         PRIMARY KEY (campaign, batch, rec_id)
     );",
    // 4: a sent batch's outcome may be kept compact (`outcome_row`), its numbers read from
    // `recipient`; the rows written before stay JSON and are read as they are. No table
    // changes: the version keeps an older payamak, which reads JSON only, from this store.
    "-- compact outcomes",
];

/// The server's clock, in ms since the epoch.
const NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS payamak_store (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS account (
    name text PRIMARY KEY,
    username text NOT NULL,
    endpoints text NOT NULL,
    credentials text NOT NULL,
    emission_ms bigint,
    burst bigint,
    tat bigint NOT NULL DEFAULT 0,
    paused_until bigint,
    pause_reason text
);
CREATE TABLE IF NOT EXISTS campaign (
    id bigserial PRIMARY KEY,
    account text NOT NULL REFERENCES account (name),
    sender text NOT NULL,
    body text NOT NULL,
    flash boolean NOT NULL,
    priority integer NOT NULL,
    idempotency_key text,
    source text NOT NULL,
    phase text NOT NULL,
    staged bigint NOT NULL DEFAULT 0,
    recipients bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    UNIQUE (account, idempotency_key)
);
CREATE TABLE IF NOT EXISTS staging (campaign bigint NOT NULL, ord bigint NOT NULL, msisdn text NOT NULL);
CREATE INDEX IF NOT EXISTS staging_campaign ON staging (campaign);
CREATE TABLE IF NOT EXISTS recipient (
    campaign bigint NOT NULL,
    seq bigint NOT NULL,
    msisdn text NOT NULL,
    PRIMARY KEY (campaign, seq)
);
CREATE TABLE IF NOT EXISTS batch (
    campaign bigint NOT NULL,
    no bigint NOT NULL,
    account text NOT NULL,
    priority integer NOT NULL,
    first_seq bigint NOT NULL,
    count bigint NOT NULL,
    state text NOT NULL,
    lease_owner text,
    lease_until bigint,
    attempt_at bigint,
    outcome text,
    PRIMARY KEY (campaign, no)
);
CREATE INDEX IF NOT EXISTS batch_pending ON batch (account, priority, campaign, no) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS batch_active ON batch (state) WHERE state IN ('claimed', 'attempting');
";

/// A job store in a PostgreSQL database.
///
/// Single statements (tokens, claims, moves, reads) share one connection,
/// pipelined: none waits for a lock another future holds, so a worker polling
/// some futures and not others cannot deadlock on the store. The import's
/// transactions run on a second connection, groups of moves
/// ([`Store::advance_many`]) on a third, and single sends
/// ([`Store::enqueue_single`]) on a fourth, so that an OTP never waits behind
/// a long import; each is opened when first needed.
#[derive(Clone)]
pub struct PostgresStore {
    client: Arc<Client>,
    import: Arc<Mutex<Option<Client>>>,
    moves: Arc<Mutex<Option<Client>>>,
    singles: Arc<Mutex<Option<Client>>>,
    config: Arc<tokio_postgres::Config>,
    schema: Option<String>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold a password: it is not kept.
        f.write_str("PostgresStore")
    }
}

fn db(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |error| StoreError::backend(context, error)
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn parse_number(text: &str) -> StoreResult<MobileNumber> {
    MobileNumber::parse(text).map_err(|_| StoreError::Damaged(format!("a recipient {text:?} is not a number")))
}

fn campaign_of(id: CampaignId, row: &Row) -> StoreResult<CampaignInfo> {
    let phase: String = row.try_get("phase").map_err(db("read a campaign"))?;
    let phase = match phase.as_str() {
        "importing" => CampaignPhase::Importing,
        "ready" => CampaignPhase::Ready,
        other => return Err(StoreError::Damaged(format!("campaign {id} in the unknown phase {other:?}"))),
    };
    let get = |error| StoreError::backend("read a campaign", error);
    Ok(CampaignInfo {
        id,
        spec: CampaignSpec {
            account: row.try_get("account").map_err(get)?,
            from: row.try_get("sender").map_err(get)?,
            text: row.try_get("body").map_err(get)?,
            flash: row.try_get("flash").map_err(get)?,
            priority: row.try_get("priority").map_err(get)?,
            idempotency_key: row.try_get("idempotency_key").map_err(get)?,
            source: row.try_get("source").map_err(get)?,
        },
        phase,
        recipients: count(row.try_get("recipients").map_err(get)?),
        duplicates: count(row.try_get("duplicates").map_err(get)?),
        created_at: row.try_get("created_at").map_err(get)?,
    })
}

impl PostgresStore {
    /// Connects to the database `config` names (`postgres://…`, `postgresql://…`
    /// or a libpq `key=value` string; no TLS: a Unix socket or a trusted
    /// network), creating the store's tables if needed.
    pub async fn connect(config: &str) -> StoreResult<Self> {
        PostgresStore::connect_in(config, None).await
    }

    /// [`connect`](Self::connect), with the store's tables in `schema` (created if needed).
    pub async fn connect_in(config: &str, schema: Option<&str>) -> StoreResult<Self> {
        // The error of a string that does not parse may quote it: say only that it does not.
        let config = tokio_postgres::Config::from_str(config)
            .map_err(|_| StoreError::Damaged("the PostgreSQL connection string cannot be read".to_owned()))?;
        if let Some(schema) = schema {
            if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || schema.is_empty() {
                return Err(StoreError::Damaged(format!("{schema:?} is not a plain schema name")));
            }
        }
        let schema = schema.map(str::to_owned);
        let mut client = open(&config, schema.as_deref(), true).await?;
        let tx = client.transaction().await.map_err(db("create the schema"))?;
        // Workers starting together create the tables once.
        tx.execute("SELECT pg_advisory_xact_lock(7305943)", &[]).await.map_err(db("create the schema"))?;
        tx.batch_execute(SCHEMA).await.map_err(db("create the schema"))?;
        let versions = tx.query("SELECT version FROM payamak_store", &[]).await.map_err(db("read the schema"))?;
        // `SCHEMA` is version 1's tables; the migrations bring any store, new or old, to this version.
        let mut version: i32 = match versions.first() {
            None => {
                tx.execute("INSERT INTO payamak_store (version) VALUES (1)", &[])
                    .await
                    .map_err(db("create the schema"))?;
                1
            }
            Some(row) => row.try_get(0).map_err(db("read the schema"))?,
        };
        if !(1..=SCHEMA_VERSION).contains(&version) {
            return Err(StoreError::Damaged(format!(
                "the database has job store schema version {version}; this payamak reads version {SCHEMA_VERSION}"
            )));
        }
        // Under the advisory lock: a store is brought up to date once.
        while version < SCHEMA_VERSION {
            let step = usize::try_from(version - 1).ok().and_then(|index| MIGRATIONS.get(index));
            let Some(step) = step else {
                return Err(StoreError::Damaged(format!("no way from job store schema version {version}")));
            };
            tx.batch_execute(step).await.map_err(db("update the schema"))?;
            version += 1;
            tx.execute("UPDATE payamak_store SET version = $1", &[&version]).await.map_err(db("update the schema"))?;
        }
        tx.commit().await.map_err(db("create the schema"))?;
        Ok(PostgresStore {
            client: Arc::new(client),
            import: Arc::new(Mutex::new(None)),
            moves: Arc::new(Mutex::new(None)),
            singles: Arc::new(Mutex::new(None)),
            config: Arc::new(config),
            schema,
        })
    }

    /// The import's connection, opened on first use; held while a transaction runs on it.
    async fn import_connection(&self) -> StoreResult<tokio::sync::MutexGuard<'_, Option<Client>>> {
        self.dedicated(&self.import, None).await
    }

    /// The connection in `slot`, opened on first use (and `setup` run on it)
    /// and again once it has closed.
    async fn dedicated<'a>(
        &self,
        slot: &'a Mutex<Option<Client>>,
        setup: Option<&str>,
    ) -> StoreResult<tokio::sync::MutexGuard<'a, Option<Client>>> {
        let mut guard = slot.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            let client = open(&self.config, self.schema.as_deref(), false).await?;
            if let Some(setup) = setup {
                client.batch_execute(setup).await.map_err(db("set up a connection"))?;
            }
            *guard = Some(client);
        }
        Ok(guard)
    }
}

/// [`Store::advance`] on `client`: the shared connection, or a transaction's.
async fn advance_on<C: GenericClient + Sync>(
    client: &C,
    lease: &Lease,
    transition: Transition,
    outcome: Option<&BatchOutcome>,
) -> StoreResult<bool> {
    let outcome_of = outcome;
    let outcome = outcome.map(|outcome| outcome_row::encode(outcome, &lease.numbers)).transpose()?;
    let set = format!(
        "UPDATE batch SET state = $1::text, outcome = coalesce($2::text, outcome), \
         attempt_at = CASE WHEN $1::text = 'attempting' THEN {NOW} ELSE attempt_at END, \
         lease_owner = CASE WHEN $1::text = 'pending' THEN NULL ELSE lease_owner END"
    );
    let mut filter = format!("WHERE campaign = $3 AND no = $4 AND state IN {}", transition.from_sql());
    if transition.needs_owner() {
        filter.push_str(" AND lease_owner = $5");
    }
    if transition.needs_live_lease() {
        filter.push_str(&format!(" AND lease_until > {NOW}"));
    }
    let sql = format!("{set} {filter}");
    let to = transition.to().as_str();
    let batch = signed(lease.batch);
    let rec_ids = tracked_rec_ids(outcome_of);
    if transition.to() == BatchState::Sent && transition.needs_owner() && !rec_ids.is_empty() {
        // The outcome and the recIds to follow, in one statement.
        let sql = format!(
            "WITH u AS ({set}, poll_at = {NOW}, polls = 0 {filter} RETURNING campaign, no, account), \
             i AS (INSERT INTO delivery (campaign, batch, rec_id, account) \
             SELECT u.campaign, u.no, r, u.account FROM u, unnest($6::bigint[]) AS r ON CONFLICT DO NOTHING) \
             SELECT count(*) FROM u"
        );
        let row = client
            .query_one(&sql, &[&to, &outcome, &lease.campaign.0, &batch, &lease.owner, &rec_ids])
            .await
            .map_err(db("record a sent batch"))?;
        let changed: i64 = row.try_get(0).map_err(db("record a sent batch"))?;
        return Ok(changed == 1);
    }
    let changed = if transition.needs_owner() {
        client.execute(&sql, &[&to, &outcome, &lease.campaign.0, &batch, &lease.owner]).await
    } else {
        client.execute(&sql, &[&to, &outcome, &lease.campaign.0, &batch]).await
    }
    .map_err(db("move a batch"))?;
    Ok(changed == 1)
}

/// A single send on `client` (a transaction's): the campaign of `spec`, ready,
/// with the one recipient `number` and its batch; with an idempotency key
/// already known, the campaign it names, nothing added. What
/// [`PostgresStore::enqueue_single`](Store::enqueue_single) and [`enqueue_single_in`] both run.
async fn enqueue_on<C: GenericClient + Sync>(
    client: &C,
    spec: &CampaignSpec,
    number: &MobileNumber,
) -> StoreResult<Created> {
    let context = "enqueue a single send";
    let known =
        client.query_opt("SELECT 1 FROM account WHERE name = $1", &[&spec.account]).await.map_err(db(context))?;
    if known.is_none() {
        return Err(StoreError::NoSuchAccount(spec.account.clone()));
    }
    let inserted = client
        .query_opt(
            &format!(
                "INSERT INTO campaign (account, sender, body, flash, priority, idempotency_key, source, phase, \
                 recipients, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'ready', 1, {NOW}) \
                 ON CONFLICT (account, idempotency_key) DO NOTHING RETURNING id"
            ),
            &[&spec.account, &spec.from, &spec.text, &spec.flash, &spec.priority, &spec.idempotency_key, &spec.source],
        )
        .await
        .map_err(db(context))?;
    let Some(row) = inserted else {
        let row = client
            .query_one(
                "SELECT id FROM campaign WHERE account = $1 AND idempotency_key = $2",
                &[&spec.account, &spec.idempotency_key],
            )
            .await
            .map_err(db(context))?;
        return Ok(Created { id: CampaignId(row.try_get(0).map_err(db(context))?), existed: true });
    };
    let id: i64 = row.try_get(0).map_err(db(context))?;
    client
        .execute("INSERT INTO recipient (campaign, seq, msisdn) VALUES ($1, 0, $2)", &[&id, &number.as_str()])
        .await
        .map_err(db(context))?;
    client
        .execute(
            "INSERT INTO batch (campaign, no, account, priority, first_seq, count, state) \
             VALUES ($1, 0, $2, $3, 0, 1, 'pending')",
            &[&id, &spec.account, &spec.priority],
        )
        .await
        .map_err(db(context))?;
    Ok(Created { id: CampaignId(id), existed: false })
}

/// The savepoint [`enqueue_single_in`] writes under.
const SAVEPOINT: &str = "payamak_enqueue_single";

/// Enqueues a single send (an OTP, a notification) in the application's
/// transaction on its own connection to the store's database: what
/// [`Store::enqueue_single`] does, committed or rolled back with the
/// application's rows. Say a login attempt's row and its code: both are
/// kept, or neither, and no worker sees the code before the commit.
///
/// `client` is the application's [`Transaction`](tokio_postgres::Transaction)
/// (or a client on which it ran `BEGIN`): a client with no transaction open
/// is refused ([`StoreError::NoTransaction`]), as the send's rows would then
/// be committed one by one.
///
/// It writes under a savepoint: when it fails, even with an SQL error (which
/// otherwise aborts a PostgreSQL transaction), none of its rows stay and the
/// application's transaction is usable as it was.
///
/// # The store and the connection
///
/// - The store's tables must be on the connection's `search_path`: for a store
///   opened with [`PostgresStore::connect_in`]`(…, Some(schema))`, the
///   application's connection runs `SET search_path TO schema, public` (its
///   own tables named so that they do not meet the store's). The tables are
///   made and updated by [`PostgresStore::connect`], with the account put
///   (`Store::put_account`): a database without them, or with another schema
///   version, is refused ([`StoreError::Damaged`]), never created or migrated here.
/// - Under `READ COMMITTED` (PostgreSQL's default) a second transaction
///   enqueueing the same key waits for the first, then finds its send
///   (`existed`); under `REPEATABLE READ` or `SERIALIZABLE` it fails with a
///   serialization error, and the application retries its transaction as for any.
/// - Workers do not wait for the open transaction: the rows are invisible to
///   claims until the commit, and the account's row is only read.
/// - Use this crate's [`tokio_postgres`] (re-exported here): the client is of its version.
///
/// # Errors
///
/// [`StoreError::NoSuchAccount`] for an account the store does not have,
/// [`StoreError::Damaged`] for a database that is not a payamak job store of
/// this schema version (the transaction is usable after both),
/// [`StoreError::NoTransaction`] without a transaction,
/// [`StoreError::Backend`] when the database fails.
///
/// # Example
///
/// ```no_run
/// use payamak::campaign::postgres::{enqueue_single_in, tokio_postgres};
/// use payamak::campaign::CampaignSpec;
/// use payamak::recipient::MobileNumber;
///
/// # async fn login(user_id: i64, code: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let (mut client, connection) =
///     tokio_postgres::connect("host=/run/postgresql dbname=app", tokio_postgres::NoTls).await?;
/// tokio::spawn(connection);
///
/// let tx = client.transaction().await?;
/// tx.execute("INSERT INTO login_attempt (user_id, code) VALUES ($1, $2)", &[&user_id, &code]).await?;
/// let otp = CampaignSpec::single_send("main", "5000123456", format!("Your code: {code}"), format!("login-{user_id}"));
/// enqueue_single_in(&tx, &otp, &MobileNumber::parse("09121234567")?).await?;
/// tx.commit().await?; // the attempt and its code together: a worker may send it now
/// # Ok(())
/// # }
/// ```
pub async fn enqueue_single_in<C: GenericClient + Sync>(
    client: &C,
    spec: &CampaignSpec,
    number: &MobileNumber,
) -> StoreResult<Created> {
    let context = "enqueue a single send in the application's transaction";
    // The savepoint is also the check that a transaction is open: PostgreSQL refuses one outside.
    if let Err(error) = client.batch_execute(&format!("SAVEPOINT {SAVEPOINT}")).await {
        if error.code() == Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION) {
            return Err(StoreError::NoTransaction("enqueue_single_in"));
        }
        return Err(StoreError::backend(context, error));
    }
    let enqueued = match check_store(client).await {
        Ok(()) => enqueue_on(client, spec, number).await,
        Err(error) => Err(error),
    };
    match enqueued {
        Ok(created) => {
            client.batch_execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}")).await.map_err(db(context))?;
            Ok(created)
        }
        Err(error) => {
            // What failed is the error to report, whether or not the connection can still roll back.
            let _ = client
                .batch_execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"))
                .await;
            Err(error)
        }
    }
}

/// Refuses a database (on the client's `search_path`) that is not a payamak
/// job store of [`SCHEMA_VERSION`]; only [`PostgresStore::connect`] creates or updates one.
async fn check_store<C: GenericClient + Sync>(client: &C) -> StoreResult<()> {
    let versions = match client.query("SELECT version FROM payamak_store", &[]).await {
        Ok(rows) => rows,
        Err(error) if error.code() == Some(&SqlState::UNDEFINED_TABLE) => {
            return Err(StoreError::Damaged(
                "no payamak job store on the connection's search_path (no table payamak_store)".to_owned(),
            ))
        }
        Err(error) => return Err(StoreError::backend("read the schema", error)),
    };
    let version: Option<i32> = versions.first().map(|row| row.try_get(0)).transpose().map_err(db("read the schema"))?;
    match version {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(version) if version < SCHEMA_VERSION => Err(StoreError::Damaged(format!(
            "the database has job store schema version {version}; this payamak writes version {SCHEMA_VERSION} \
             (PostgresStore::connect brings it up to date)"
        ))),
        Some(version) => Err(StoreError::Damaged(format!(
            "the database has job store schema version {version}; this payamak writes version {SCHEMA_VERSION}"
        ))),
        None => {
            Err(StoreError::Damaged("the job store's schema version is missing (payamak_store is empty)".to_owned()))
        }
    }
}

/// A connection, its search path set to `schema` (created first when `create`).
async fn open(config: &tokio_postgres::Config, schema: Option<&str>, create: bool) -> StoreResult<Client> {
    let (client, connection) = config.connect(NoTls).await.map_err(db("connect to PostgreSQL"))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "the PostgreSQL connection ended");
        }
    });
    if let Some(schema) = schema {
        let create = if create { format!("CREATE SCHEMA IF NOT EXISTS {schema}; ") } else { String::new() };
        client.batch_execute(&format!("{create}SET search_path TO {schema}")).await.map_err(db("choose the schema"))?;
    }
    Ok(client)
}

async fn numbers_of(client: &Client, campaign: i64, first: i64, size: i64) -> StoreResult<Vec<MobileNumber>> {
    let rows = client
        .query(
            "SELECT msisdn FROM recipient WHERE campaign = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
            &[&campaign, &first, &(first + size)],
        )
        .await
        .map_err(db("read a batch's recipients"))?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get(0).map_err(db("read a recipient"))?;
            parse_number(&text)
        })
        .collect()
}

/// How long until the account's next token is free after the grant `row` took
/// (a claim's row, from its 5th column: the new tat, the rate's columns, the time, the priority).
fn next_token(row: &Row) -> StoreResult<Option<Duration>> {
    let get = |error| StoreError::backend("take a token and claim a batch", error);
    let (tat, emission, burst, reserve): (i64, Option<i64>, Option<i64>, i64) = (
        row.try_get(4).map_err(get)?,
        row.try_get(5).map_err(get)?,
        row.try_get(6).map_err(get)?,
        row.try_get(7).map_err(get)?,
    );
    let (now, priority): (i64, i32) = (row.try_get(8).map_err(get)?, row.try_get(9).map_err(get)?);
    let Some(rate) = Rate::from_columns(emission, burst, reserve) else { return Ok(Some(Duration::ZERO)) };
    Ok(Some(gcra(tat, now, rate.for_priority(priority)).err().unwrap_or(Duration::ZERO)))
}

async fn campaign_row(client: &Client, id: CampaignId) -> StoreResult<Option<CampaignInfo>> {
    let row = client
        .query_opt(
            "SELECT account, sender, body, flash, priority, idempotency_key, source, phase, recipients, duplicates, \
             created_at FROM campaign WHERE id = $1",
            &[&id.0],
        )
        .await
        .map_err(db("read a campaign"))?;
    row.map(|row| campaign_of(id, &row)).transpose()
}

impl PostgresStore {
    /// The lease of a batch just claimed (`row`: campaign, no, first_seq, count).
    async fn lease_of(&self, row: &Row, account: &str, owner: &str) -> StoreResult<Lease> {
        let client = &*self.client;
        let get = |error| StoreError::backend("claim a batch", error);
        let (campaign, batch, first, size): (i64, i64, i64, i64) = (
            row.try_get(0).map_err(get)?,
            row.try_get(1).map_err(get)?,
            row.try_get(2).map_err(get)?,
            row.try_get(3).map_err(get)?,
        );
        let info = campaign_row(client, CampaignId(campaign))
            .await?
            .ok_or_else(|| StoreError::Damaged(format!("batch {batch} of a campaign {campaign} that is missing")))?;
        let numbers = numbers_of(client, campaign, first, size).await?;
        Ok(Lease {
            campaign: CampaignId(campaign),
            batch: count(batch),
            owner: owner.to_owned(),
            account: account.to_owned(),
            from: info.spec.from,
            text: info.spec.text,
            flash: info.spec.flash,
            numbers,
            next_token: None,
        })
    }

    /// Why no token was given for a batch of `priority` (`None`: a single send's
    /// rule): read after the fact, it only says how long to wait. A token free
    /// by now (a race with the clock, or batches other claimers held) is "try again at once".
    async fn why_not(&self, account: &str, priority: Option<i32>) -> StoreResult<Token> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT emission_ms, burst, tat, paused_until, pause_reason, {NOW}, reserve FROM account \
                     WHERE name = $1"
                ),
                &[&account],
            )
            .await
            .map_err(db("take a token"))?;
        let Some(row) = row else { return Err(StoreError::NoSuchAccount(account.to_owned())) };
        let get = |error| StoreError::backend("take a token", error);
        let (emission, burst): (Option<i64>, Option<i64>) =
            (row.try_get(0).map_err(get)?, row.try_get(1).map_err(get)?);
        let tat: i64 = row.try_get(2).map_err(get)?;
        let paused: Option<i64> = row.try_get(3).map_err(get)?;
        let reason: Option<String> = row.try_get(4).map_err(get)?;
        let now: i64 = row.try_get(5).map_err(get)?;
        let reserve: i64 = row.try_get(6).map_err(get)?;
        if let Some(until) = paused.filter(|until| *until > now) {
            return Ok(Token::Paused(until, reason.unwrap_or_default()));
        }
        let rate = Rate::from_columns(emission, burst, reserve)
            .map(|rate| rate.for_priority(priority.unwrap_or(SINGLE_SEND_PRIORITY)));
        match rate.map(|rate| gcra(tat, now, rate)) {
            Some(Err(wait)) => Ok(Token::Wait(wait)),
            _ => Ok(Token::Wait(Duration::from_millis(1))),
        }
    }
}

impl Store for PostgresStore {
    async fn put_account(&self, account: &Account) -> StoreResult<()> {
        let endpoints = serde_json::to_string(&account.endpoints)
            .map_err(|error| StoreError::Damaged(format!("endpoints: {error}")))?;
        let emission = account.rate.map(|rate| ms(rate.emission));
        let burst = account.rate.map(|rate| i64::from(rate.burst));
        let reserve = account.rate.map_or(0, |rate| i64::from(rate.reserve));
        let client = &*self.client;
        client
            .execute(
                "INSERT INTO account (name, username, endpoints, credentials, emission_ms, burst, reserve) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET username = $2, \
                 endpoints = $3, credentials = $4, emission_ms = $5, burst = $6, reserve = $7",
                &[&account.name, &account.username, &endpoints, &account.credentials, &emission, &burst, &reserve],
            )
            .await
            .map_err(db("add an account"))?;
        Ok(())
    }

    async fn accounts(&self) -> StoreResult<Vec<AccountState>> {
        let client = &*self.client;
        let rows = client
            .query(
                "SELECT name, username, endpoints, credentials, emission_ms, burst, paused_until, pause_reason, \
                 reserve FROM account ORDER BY name",
                &[],
            )
            .await
            .map_err(db("read the accounts"))?;
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            let get = |error| StoreError::backend("read an account", error);
            let name: String = row.try_get(0).map_err(get)?;
            let endpoints: String = row.try_get(2).map_err(get)?;
            let endpoints: Vec<String> = serde_json::from_str(&endpoints)
                .map_err(|error| StoreError::Damaged(format!("the endpoints of account {name:?}: {error}")))?;
            let until: Option<i64> = row.try_get(6).map_err(get)?;
            let reason: Option<String> = row.try_get(7).map_err(get)?;
            accounts.push(AccountState {
                account: Account {
                    username: row.try_get(1).map_err(get)?,
                    endpoints,
                    credentials: row.try_get(3).map_err(get)?,
                    rate: Rate::from_columns(
                        row.try_get(4).map_err(get)?,
                        row.try_get(5).map_err(get)?,
                        row.try_get(8).map_err(get)?,
                    ),
                    name,
                },
                paused: until.map(|until| (until, reason.unwrap_or_default())),
            });
        }
        Ok(accounts)
    }

    async fn pause(&self, account: &str, until: Millis, reason: &str) -> StoreResult<()> {
        let client = &*self.client;
        let changed = client
            .execute(
                "UPDATE account SET paused_until = greatest(coalesce(paused_until, 0), $2), pause_reason = $3 \
                 WHERE name = $1",
                &[&account, &until, &reason],
            )
            .await
            .map_err(db("pause an account"))?;
        if changed == 0 {
            return Err(StoreError::NoSuchAccount(account.to_owned()));
        }
        Ok(())
    }

    async fn take_token(&self, account: &str) -> StoreResult<Token> {
        // GCRA in one statement: the row is locked only while it changes.
        let taken = self
            .client
            .query_opt(
                &format!(
                    "WITH now AS (SELECT {NOW} AS ms) UPDATE account SET tat = CASE WHEN emission_ms IS NULL THEN tat \
                     ELSE greatest(tat, now.ms) + emission_ms END FROM now WHERE name = $1 \
                     AND (paused_until IS NULL OR paused_until <= now.ms) \
                     AND (emission_ms IS NULL OR greatest(tat, now.ms) - emission_ms * (greatest(burst, 1) - 1) <= now.ms) \
                     RETURNING 1"
                ),
                &[&account],
            )
            .await
            .map_err(db("take a token"))?;
        if taken.is_some() {
            return Ok(Token::Granted);
        }
        // Not granted: why (read after the fact; it only says how long to wait).
        self.why_not(account, None).await
    }

    async fn create_campaign(&self, spec: &CampaignSpec) -> StoreResult<Created> {
        let client = &*self.client;
        let known = client
            .query_opt("SELECT 1 FROM account WHERE name = $1", &[&spec.account])
            .await
            .map_err(db("create a campaign"))?;
        if known.is_none() {
            return Err(StoreError::NoSuchAccount(spec.account.clone()));
        }
        let inserted = client
            .query_opt(
                &format!(
                    "INSERT INTO campaign (account, sender, body, flash, priority, idempotency_key, source, phase, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'importing', {NOW}) \
                     ON CONFLICT (account, idempotency_key) DO NOTHING RETURNING id"
                ),
                &[
                    &spec.account,
                    &spec.from,
                    &spec.text,
                    &spec.flash,
                    &spec.priority,
                    &spec.idempotency_key,
                    &spec.source,
                ],
            )
            .await
            .map_err(db("create a campaign"))?;
        if let Some(row) = inserted {
            return Ok(Created { id: CampaignId(row.try_get(0).map_err(db("create a campaign"))?), existed: false });
        }
        let row = client
            .query_one(
                "SELECT id FROM campaign WHERE account = $1 AND idempotency_key = $2",
                &[&spec.account, &spec.idempotency_key],
            )
            .await
            .map_err(db("find a campaign by its key"))?;
        Ok(Created { id: CampaignId(row.try_get(0).map_err(db("find a campaign by its key"))?), existed: true })
    }

    async fn add_recipients(&self, campaign: CampaignId, numbers: &[MobileNumber]) -> StoreResult<()> {
        let mut guard = self.import_connection().await?;
        let Some(client) = guard.as_mut() else {
            return Err(StoreError::Unsupported("an import without a connection"));
        };
        let tx = client.transaction().await.map_err(db("add recipients"))?;
        let row = tx
            .query_opt("SELECT phase, staged FROM campaign WHERE id = $1 FOR UPDATE", &[&campaign.0])
            .await
            .map_err(db("add recipients"))?
            .ok_or(StoreError::NoSuchCampaign(campaign))?;
        let phase: String = row.try_get(0).map_err(db("add recipients"))?;
        if phase != "importing" {
            return Err(StoreError::Phase { campaign, reason: "its import is over; no recipient can be added" });
        }
        let staged: i64 = row.try_get(1).map_err(db("add recipients"))?;
        // COPY, text format: numbers are digits only, nothing to escape.
        let mut text = String::with_capacity(numbers.len() * 32);
        for (offset, number) in numbers.iter().enumerate() {
            use std::fmt::Write as _;
            let _ = writeln!(text, "{}\t{}\t{}", campaign.0, staged + offset as i64, number.as_str());
        }
        let sink = tx
            .copy_in::<_, bytes::Bytes>("COPY staging (campaign, ord, msisdn) FROM STDIN")
            .await
            .map_err(db("add recipients"))?;
        let mut sink = std::pin::pin!(sink);
        sink.send(bytes::Bytes::from(text)).await.map_err(db("add recipients"))?;
        sink.as_mut().finish().await.map_err(db("add recipients"))?;
        tx.execute("UPDATE campaign SET staged = staged + $1 WHERE id = $2", &[&(numbers.len() as i64), &campaign.0])
            .await
            .map_err(db("add recipients"))?;
        tx.commit().await.map_err(db("add recipients"))?;
        Ok(())
    }

    async fn seal(&self, campaign: CampaignId, batch_size: u64) -> StoreResult<Imported> {
        let size = signed(batch_size.max(1));
        let mut guard = self.import_connection().await?;
        let Some(client) = guard.as_mut() else {
            return Err(StoreError::Unsupported("an import without a connection"));
        };
        let tx = client.transaction().await.map_err(db("plan the batches"))?;
        let row = tx
            .query_opt(
                "SELECT phase, staged, recipients, duplicates, account, priority FROM campaign WHERE id = $1 FOR UPDATE",
                &[&campaign.0],
            )
            .await
            .map_err(db("plan the batches"))?
            .ok_or(StoreError::NoSuchCampaign(campaign))?;
        let get = |error| StoreError::backend("plan the batches", error);
        let phase: String = row.try_get(0).map_err(get)?;
        if phase == "ready" {
            let batches = tx
                .query_one("SELECT count(*) FROM batch WHERE campaign = $1", &[&campaign.0])
                .await
                .map_err(db("plan the batches"))?;
            return Ok(Imported {
                recipients: count(row.try_get(2).map_err(get)?),
                duplicates: count(row.try_get(3).map_err(get)?),
                batches: count(batches.try_get(0).map_err(get)?),
            });
        }
        let staged: i64 = row.try_get(1).map_err(get)?;
        let account: String = row.try_get(4).map_err(get)?;
        let priority: i32 = row.try_get(5).map_err(get)?;
        // The first occurrence of each number, in file order.
        let recipients = tx
            .execute(
                "INSERT INTO recipient (campaign, seq, msisdn) \
                 SELECT $1::bigint, row_number() OVER (ORDER BY first) - 1, msisdn \
                 FROM (SELECT msisdn, min(ord) AS first FROM staging WHERE campaign = $1::bigint GROUP BY msisdn) \
                 AS unique_numbers",
                &[&campaign.0],
            )
            .await
            .map_err(db("plan the batches"))?;
        let recipients = i64::try_from(recipients).unwrap_or(i64::MAX);
        tx.execute("DELETE FROM staging WHERE campaign = $1", &[&campaign.0]).await.map_err(db("plan the batches"))?;
        let batches = tx
            .execute(
                "INSERT INTO batch (campaign, no, account, priority, first_seq, count, state) \
                 SELECT $1::bigint, g, $2::text, $3::integer, g * $4::bigint, \
                 least($4::bigint, $5::bigint - g * $4::bigint), 'pending' \
                 FROM generate_series(0::bigint, ($5::bigint + $4::bigint - 1) / $4::bigint - 1) AS g",
                &[&campaign.0, &account, &priority, &size, &recipients],
            )
            .await
            .map_err(db("plan the batches"))?;
        tx.execute(
            "UPDATE campaign SET phase = 'ready', recipients = $2, duplicates = $3 WHERE id = $1",
            &[&campaign.0, &recipients, &(staged - recipients)],
        )
        .await
        .map_err(db("plan the batches"))?;
        tx.commit().await.map_err(db("plan the batches"))?;
        Ok(Imported { recipients: count(recipients), duplicates: count(staged - recipients), batches })
    }

    async fn campaign(&self, campaign: CampaignId) -> StoreResult<Option<CampaignInfo>> {
        let client = &*self.client;
        campaign_row(client, campaign).await
    }

    async fn claim(&self, account: &str, owner: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        let lease_ms = ms(lease);
        let client = &*self.client;
        let row = client
            .query_opt(
                &format!(
                    "WITH c AS (SELECT campaign, no FROM batch WHERE account = $1 AND state IN {from} \
                     ORDER BY priority, campaign, no FOR UPDATE SKIP LOCKED LIMIT 1) \
                     UPDATE batch AS b SET state = '{to}', lease_owner = $2, lease_until = {NOW} + $3 \
                     FROM c WHERE b.campaign = c.campaign AND b.no = c.no \
                     RETURNING b.campaign, b.no, b.first_seq, b.count",
                    from = Transition::Claim.from_sql(),
                    to = Transition::Claim.to().as_str()
                ),
                &[&account, &owner, &lease_ms],
            )
            .await
            .map_err(db("claim a batch"))?;
        let Some(row) = row else { return Ok(None) };
        self.lease_of(&row, account, owner).await.map(Some)
    }

    async fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        // One statement: the first pending batch (skipping those other claimers hold), the
        // token by its rule (a campaign leaves the reserve), and the claim only with the token.
        let lease_ms = ms(lease);
        let row = self
            .client
            .query_opt(
                &format!(
                    "WITH now AS (SELECT {NOW} AS ms), \
                     c AS (SELECT campaign, no, priority FROM batch WHERE account = $1 AND state IN {from} \
                     ORDER BY priority, campaign, no FOR UPDATE SKIP LOCKED LIMIT 1), \
                     t AS (UPDATE account SET tat = CASE WHEN emission_ms IS NULL THEN tat \
                     ELSE greatest(tat, now.ms) + emission_ms END FROM now, c WHERE name = $1 \
                     AND (paused_until IS NULL OR paused_until <= now.ms) \
                     AND (emission_ms IS NULL OR greatest(tat, now.ms) - emission_ms * (CASE WHEN c.priority >= $4 \
                     THEN greatest(greatest(burst, 1) - reserve, 1) ELSE greatest(burst, 1) END - 1) <= now.ms) \
                     RETURNING tat, emission_ms, burst, reserve) \
                     UPDATE batch AS b SET state = '{to}', lease_owner = $2, lease_until = (SELECT ms FROM now) + $3 \
                     FROM c, t WHERE b.campaign = c.campaign AND b.no = c.no \
                     RETURNING b.campaign, b.no, b.first_seq, b.count, t.tat, t.emission_ms, t.burst, t.reserve, \
                     (SELECT ms FROM now), c.priority",
                    from = Transition::Claim.from_sql(),
                    to = Transition::Claim.to().as_str()
                ),
                &[&account, &owner, &lease_ms, &CAMPAIGN_PRIORITY],
            )
            .await
            .map_err(db("take a token and claim a batch"))?;
        if let Some(row) = row {
            let lease = self.lease_of(&row, account, owner).await?;
            return Ok((Token::Granted, Some(Lease { next_token: next_token(&row)?, ..lease })));
        }
        // Nothing claimed: no token for the first pending batch, or nothing pending.
        let pending = self
            .client
            .query_opt(
                "SELECT priority FROM batch WHERE account = $1 AND state = 'pending' ORDER BY priority LIMIT 1",
                &[&account],
            )
            .await
            .map_err(db("take a token and claim a batch"))?;
        match pending {
            Some(row) => {
                let priority: i32 = row.try_get(0).map_err(db("take a token and claim a batch"))?;
                Ok((self.why_not(account, Some(priority)).await?, None))
            }
            None => match self.why_not(account, None).await? {
                // The bucket has a token: nothing to claim with it (kept).
                Token::Wait(wait) if wait <= Duration::from_millis(1) => Ok((Token::Granted, None)),
                token => Ok((token, None)),
            },
        }
    }

    async fn enqueue_single(&self, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
        let mut guard = self.dedicated(&self.singles, None).await?;
        let Some(client) = guard.as_mut() else {
            return Err(StoreError::Unsupported("a single send without a connection"));
        };
        let tx = client.transaction().await.map_err(db("enqueue a single send"))?;
        let created = enqueue_on(&tx, spec, number).await?;
        tx.commit().await.map_err(db("enqueue a single send"))?;
        Ok(created)
    }

    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> StoreResult<bool> {
        advance_on(&*self.client, lease, transition, outcome).await
    }

    /// The moves in one transaction: all of them are recorded, or none.
    async fn advance_many(&self, moves: &[BatchMove]) -> StoreResult<Vec<bool>> {
        if let [one] = moves {
            return Ok(vec![self.advance(&one.lease, one.transition, one.outcome.as_ref()).await?]);
        }
        if moves.is_empty() {
            return Ok(Vec::new());
        }
        // A process stopped inside the transaction holds its rows' locks, and
        // would stall any other worker's statement that waits for them: the
        // server ends such a transaction (none of its moves recorded) after a while.
        let mut connection =
            self.dedicated(&self.moves, Some("SET idle_in_transaction_session_timeout = '10s'")).await?;
        let client = connection.as_mut().ok_or_else(|| StoreError::Damaged("no connection for the moves".into()))?;
        let tx = client.transaction().await.map_err(db("record outcomes"))?;
        let mut moved = Vec::with_capacity(moves.len());
        for step in moves {
            moved.push(advance_on(&tx, &step.lease, step.transition, step.outcome.as_ref()).await?);
        }
        tx.commit().await.map_err(db("record outcomes"))?;
        Ok(moved)
    }

    async fn reap(&self, unknown_after: Duration) -> StoreResult<Reaped> {
        let client = &*self.client;
        let requeued = client
            .execute(
                &format!(
                    "UPDATE batch SET state = '{}', lease_owner = NULL WHERE state IN {} AND lease_until <= {NOW}",
                    Transition::LeaseExpired.to().as_str(),
                    Transition::LeaseExpired.from_sql()
                ),
                &[],
            )
            .await
            .map_err(db("reap"))?;
        let unknown = client
            .execute(
                &format!(
                    "UPDATE batch SET state = '{}' WHERE state IN {} AND attempt_at <= {NOW} - $1",
                    Transition::Stale.to().as_str(),
                    Transition::Stale.from_sql()
                ),
                &[&ms(unknown_after)],
            )
            .await
            .map_err(db("reap"))?;
        Ok(Reaped { requeued, unknown })
    }

    async fn counts(&self, campaign: Option<CampaignId>) -> StoreResult<Counts> {
        let client = &*self.client;
        let rows = client
            .query(
                "SELECT state, count(*)::bigint, coalesce(sum(count), 0)::bigint FROM batch \
                 WHERE $1::bigint IS NULL OR campaign = $1 GROUP BY state",
                &[&campaign.map(|id| id.0)],
            )
            .await
            .map_err(db("count batches"))?;
        let mut counts = Counts::default();
        for row in rows {
            let get = |error| StoreError::backend("count batches", error);
            let state: String = row.try_get(0).map_err(get)?;
            let state = BatchState::parse(&state)
                .ok_or_else(|| StoreError::Damaged(format!("a batch in the unknown state {state:?}")))?;
            counts.add(state, count(row.try_get(1).map_err(get)?), count(row.try_get(2).map_err(get)?));
        }
        Ok(counts)
    }

    async fn batches(&self, campaign: CampaignId, from: u64, limit: u64) -> StoreResult<Vec<BatchRow>> {
        let client = &*self.client;
        let rows = client
            .query(
                "SELECT no, count, state, outcome, first_seq FROM batch WHERE campaign = $1 AND no >= $2 \
                 ORDER BY no LIMIT $3",
                &[&campaign.0, &signed(from), &signed(limit)],
            )
            .await
            .map_err(db("read batches"))?;
        let mut batches = Vec::with_capacity(rows.len());
        for row in rows {
            let get = |error| StoreError::backend("read batches", error);
            let state: String = row.try_get(2).map_err(get)?;
            let outcome: Option<String> = row.try_get(3).map_err(get)?;
            let size: i64 = row.try_get(1).map_err(get)?;
            let outcome = match outcome {
                // A compact outcome's numbers are the batch's recipients.
                Some(text) if outcome_row::needs_numbers(&text) => {
                    let numbers = numbers_of(client, campaign.0, row.try_get(4).map_err(get)?, size).await?;
                    Some(outcome_row::decode(&text, &numbers)?)
                }
                Some(text) => Some(outcome_row::decode(&text, &[])?),
                None => None,
            };
            batches.push(BatchRow {
                batch: count(row.try_get(0).map_err(get)?),
                recipients: count(size),
                state: BatchState::parse(&state)
                    .ok_or_else(|| StoreError::Damaged(format!("a batch in the unknown state {state:?}")))?,
                outcome,
            });
        }
        Ok(batches)
    }

    async fn batch_numbers(&self, campaign: CampaignId, batch: u64) -> StoreResult<Vec<MobileNumber>> {
        let client = &*self.client;
        let row = client
            .query_opt(
                "SELECT first_seq, count FROM batch WHERE campaign = $1 AND no = $2",
                &[&campaign.0, &signed(batch)],
            )
            .await
            .map_err(db("read a batch"))?;
        match row {
            Some(row) => {
                let get = |error| StoreError::backend("read a batch", error);
                numbers_of(client, campaign.0, row.try_get(0).map_err(get)?, row.try_get(1).map_err(get)?).await
            }
            None => Ok(Vec::new()),
        }
    }

    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> StoreResult<u64> {
        if !matches!(transition, Transition::OperatorResend | Transition::Retry) {
            return Err(StoreError::Unsupported("this transition for a whole campaign"));
        }
        let client = &*self.client;
        client
            .execute(
                &format!(
                    "UPDATE batch SET state = '{}', lease_owner = NULL WHERE campaign = $1 AND state IN {}",
                    transition.to().as_str(),
                    transition.from_sql()
                ),
                &[&campaign.0],
            )
            .await
            .map_err(db("requeue batches"))
    }

    async fn reconcile(&self, campaign: CampaignId, batch: u64, outcome: &BatchOutcome) -> StoreResult<bool> {
        let (transition, to) = Transition::of_reconciliation(outcome);
        // Kept whole: what reconciliation found need not be the batch's numbers in order.
        let json = outcome_row::json(outcome)?;
        let rec_ids = if to == BatchState::Sent { tracked_rec_ids(Some(outcome)) } else { Vec::new() };
        let row = self
            .client
            .query_one(
                &format!(
                    "WITH u AS (UPDATE batch SET state = $1, outcome = $2, \
                     poll_at = CASE WHEN cardinality($5::bigint[]) > 0 THEN {NOW} ELSE poll_at END, \
                     polls = CASE WHEN cardinality($5::bigint[]) > 0 THEN 0 ELSE polls END \
                     WHERE campaign = $3 AND no = $4 AND state IN {} RETURNING campaign, no, account), \
                     i AS (INSERT INTO delivery (campaign, batch, rec_id, account) \
                     SELECT u.campaign, u.no, r, u.account FROM u, unnest($5::bigint[]) AS r ON CONFLICT DO NOTHING) \
                     SELECT count(*) FROM u",
                    transition.from_sql()
                ),
                &[&to.as_str(), &json, &campaign.0, &signed(batch), &rec_ids],
            )
            .await
            .map_err(db("reconcile a batch"))?;
        let changed: i64 = row.try_get(0).map_err(db("reconcile a batch"))?;
        Ok(changed == 1)
    }

    async fn claim_deliveries(
        &self,
        account: &str,
        first_after: Duration,
        limit: usize,
        lease: Duration,
    ) -> StoreResult<Vec<DeliveryPoll>> {
        let context = "claim deliveries to read";
        let client = &*self.client;
        let rows = client
            .query(
                &format!(
                    "WITH now AS (SELECT {NOW} AS ms), \
                     c AS (SELECT campaign, no FROM batch, now WHERE account = $1 AND poll_at IS NOT NULL \
                     AND poll_at <= now.ms AND (polls > 0 OR attempt_at <= now.ms - $2) \
                     ORDER BY poll_at LIMIT $3 FOR UPDATE OF batch SKIP LOCKED) \
                     UPDATE batch AS b SET poll_at = (SELECT ms FROM now) + $4 FROM c \
                     WHERE b.campaign = c.campaign AND b.no = c.no \
                     RETURNING b.campaign, b.no, b.polls, coalesce(b.attempt_at, 0), b.updated_at"
                ),
                &[&account, &ms(first_after), &i64::try_from(limit).unwrap_or(i64::MAX), &ms(lease)],
            )
            .await
            .map_err(db(context))?;
        let mut polls = Vec::with_capacity(rows.len());
        for row in rows {
            let get = |error| StoreError::backend(context, error);
            let (campaign, batch): (i64, i64) = (row.try_get(0).map_err(get)?, row.try_get(1).map_err(get)?);
            let count_of_polls: i32 = row.try_get(2).map_err(get)?;
            let open = client
                .query(
                    "SELECT rec_id, status FROM delivery WHERE campaign = $1 AND batch = $2 AND NOT final \
                     ORDER BY rec_id",
                    &[&campaign, &batch],
                )
                .await
                .map_err(db(context))?;
            let open = open
                .iter()
                .map(|row| {
                    let status: Option<i32> = row.try_get(1).map_err(get)?;
                    Ok((row.try_get::<_, i64>(0).map_err(get)?, status.map(DeliveryStatus::from_code)))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            polls.push(DeliveryPoll {
                campaign: CampaignId(campaign),
                batch: count(batch),
                account: account.to_owned(),
                polls: u32::try_from(count_of_polls).unwrap_or(0),
                sent_at: row.try_get(3).map_err(get)?,
                updated_at: row.try_get(4).map_err(get)?,
                open,
            });
        }
        Ok(polls)
    }

    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) -> StoreResult<()> {
        let context = "record delivery statuses";
        let (mut rec_ids, mut codes, mut finals) = (Vec::new(), Vec::new(), Vec::new());
        for (rec_id, status) in &update.statuses {
            rec_ids.push(*rec_id);
            codes.push(Some(status.code()));
            finals.push(status.is_final());
        }
        for rec_id in &update.invalid {
            rec_ids.push(*rec_id);
            codes.push(None);
            finals.push(true);
        }
        let batch = signed(poll.batch);
        // One statement: the statuses and the batch's schedule together.
        self.client
            .execute(
                "WITH s AS (UPDATE delivery AS d SET status = coalesce(v.code, d.status), final = v.settled \
                 FROM unnest($3::bigint[], $4::integer[], $5::boolean[]) AS v (rec_id, code, settled) \
                 WHERE d.campaign = $1 AND d.batch = $2 AND d.rec_id = v.rec_id RETURNING 1) \
                 UPDATE batch SET polls = polls + $6, updated_at = coalesce($7, updated_at), poll_at = $8 \
                 WHERE campaign = $1 AND no = $2",
                &[
                    &poll.campaign.0,
                    &batch,
                    &rec_ids,
                    &codes,
                    &finals,
                    &i32::from(update.counted),
                    &update.updated_at,
                    &update.next_poll_at,
                ],
            )
            .await
            .map_err(db(context))?;
        Ok(())
    }

    async fn delivery_counts(&self, campaign: CampaignId) -> StoreResult<DeliveryCounts> {
        let context = "count deliveries";
        let client = &*self.client;
        let rows = client
            .query(
                "SELECT status, final, count(*)::bigint FROM delivery WHERE campaign = $1 GROUP BY status, final",
                &[&campaign.0],
            )
            .await
            .map_err(db(context))?;
        let mut counts = DeliveryCounts::default();
        for row in rows {
            let get = |error| StoreError::backend(context, error);
            let status: Option<i32> = row.try_get(0).map_err(get)?;
            let settled: bool = row.try_get(1).map_err(get)?;
            counts.add(status, settled, count(row.try_get(2).map_err(get)?));
        }
        let following = client
            .query_one("SELECT count(*)::bigint FROM batch WHERE campaign = $1 AND poll_at IS NOT NULL", &[&campaign.0])
            .await
            .map_err(db(context))?;
        counts.following = count(following.try_get(0).map_err(db(context))?);
        Ok(counts)
    }

    async fn next_delivery_poll(&self, account: Option<&str>, first_after: Duration) -> StoreResult<Option<Millis>> {
        let row = self
            .client
            .query_one(
                "SELECT min(CASE WHEN polls = 0 THEN greatest(poll_at, coalesce(attempt_at, 0) + $2) ELSE poll_at END) \
                 FROM batch WHERE poll_at IS NOT NULL AND ($1::text IS NULL OR account = $1)",
                &[&account, &ms(first_after)],
            )
            .await
            .map_err(db("find the next delivery poll"))?;
        row.try_get(0).map_err(db("find the next delivery poll"))
    }

    async fn requeue_stale_attempts_unsafely(&self, older_than: Duration) -> StoreResult<u64> {
        let client = &*self.client;
        client
            .execute(
                &format!(
                    "UPDATE batch SET state = 'pending', lease_owner = NULL \
                     WHERE state IN ('attempting', 'unknown') AND attempt_at <= {NOW} - $1"
                ),
                &[&ms(older_than)],
            )
            .await
            .map_err(db("requeue attempts (unsafe)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::test_support::{
        account, assert_claimed_once, assert_nothing_enqueued, assert_refused_store, number, otp, sent_to,
        two_attempting_batches,
    };

    /// The test server (`PAYAMAK_TEST_PG`, from `eval "$(.ci/postgres start)"`); a notice without one.
    fn server() -> Option<String> {
        let config = std::env::var("PAYAMAK_TEST_PG").ok().filter(|config| !config.is_empty());
        if config.is_none() {
            eprintln!("notice: skipping a PostgreSQL test: PAYAMAK_TEST_PG is not set");
        }
        config
    }

    /// A store with account `a` in a fresh schema, and the application's own
    /// connection to it (the schema on its search path), with its table `login`.
    async fn store_and_app(config: &str, name: &str) -> (PostgresStore, Client, String) {
        let schema = format!("app_{name}_{}", std::process::id());
        let store = PostgresStore::connect_in(config, Some(&schema)).await.expect("a store");
        store.client.batch_execute("DROP TABLE IF EXISTS login").await.expect("a fresh table");
        store.put_account(&account("a")).await.expect("an account");
        let app = open(&store.config, Some(&schema), false).await.expect("the application's connection");
        app.batch_execute("CREATE TABLE login (user_id bigint NOT NULL)").await.expect("the application's table");
        (store, app, schema)
    }

    /// The begin of the application's transaction: its own row first.
    async fn begin(app: &mut Client) -> tokio_postgres::Transaction<'_> {
        let tx = app.transaction().await.expect("a transaction");
        tx.execute("INSERT INTO login (user_id) VALUES (7)", &[]).await.expect("the application's row");
        tx
    }

    /// The rows of the application's table.
    async fn logins(app: &Client) -> i64 {
        app.query_one("SELECT count(*) FROM login", &[]).await.expect("a count").get(0)
    }

    async fn drop_schema(store: &PostgresStore, schema: &str) {
        store.client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("clean up");
    }

    #[tokio::test]
    async fn a_single_send_does_not_wait_behind_an_import() {
        let Some(config) = server() else { return };
        let (store, _app, schema) = store_and_app(&config, "behind_import").await;
        // An import holds its connection (a long COPY or a seal of a million recipients).
        let import = store.import_connection().await.expect("the import's connection");
        let enqueued = tokio::time::timeout(Duration::from_secs(10), store.enqueue_single(&otp("otp-1"), &number(1)))
            .await
            .expect("the single send did not wait for the import")
            .expect("enqueued");
        drop(import);
        assert_claimed_once(&store, enqueued.id, &number(1)).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn a_send_enqueued_in_a_transaction_rolled_back_is_not_there() {
        let Some(config) = server() else { return };
        let (store, mut app, schema) = store_and_app(&config, "rollback").await;
        let tx = begin(&mut app).await;
        let created = enqueue_single_in(&tx, &otp("login-7"), &number(1)).await.expect("enqueued");
        assert!(!created.existed);
        tx.rollback().await.expect("rolled back");
        assert_nothing_enqueued(&store).await;
        assert_eq!(logins(&app).await, 0);
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn a_send_enqueued_in_a_transaction_committed_is_claimed() {
        let Some(config) = server() else { return };
        let (store, mut app, schema) = store_and_app(&config, "commit").await;
        let tx = begin(&mut app).await;
        let created = enqueue_single_in(&tx, &otp("login-7"), &number(1)).await.expect("enqueued");
        tx.commit().await.expect("committed");
        assert_eq!(logins(&app).await, 1);
        let info = store.campaign(created.id).await.expect("a read").expect("the campaign");
        assert_eq!((info.phase, info.recipients, info.spec), (CampaignPhase::Ready, 1, otp("login-7")));
        assert_claimed_once(&store, created.id, &number(1)).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn the_same_key_twice_is_one_send() {
        let Some(config) = server() else { return };
        let (store, mut app, schema) = store_and_app(&config, "idempotent").await;
        let tx = begin(&mut app).await;
        let first = enqueue_single_in(&tx, &otp("login-7"), &number(1)).await.expect("enqueued");
        // The application retrying in its transaction: the same send, nothing added.
        let again = enqueue_single_in(&tx, &otp("login-7"), &number(2)).await.expect("found");
        assert_eq!((again.id, again.existed), (first.id, true));
        tx.commit().await.expect("committed");
        // And in a later transaction, or through the store.
        let tx = begin(&mut app).await;
        let later = enqueue_single_in(&tx, &otp("login-7"), &number(3)).await.expect("found");
        tx.commit().await.expect("committed");
        assert_eq!((later.id, later.existed), (first.id, true));
        let through_store = store.enqueue_single(&otp("login-7"), &number(4)).await.expect("found");
        assert_eq!((through_store.id, through_store.existed), (first.id, true));
        let counts = store.counts(None).await.expect("counts");
        assert_eq!((counts.total(), counts.recipients(BatchState::Pending)), (1, 1), "one batch of one");
        assert_claimed_once(&store, first.id, &number(1)).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn an_unknown_account_is_refused_and_the_transaction_goes_on() {
        let Some(config) = server() else { return };
        let (store, mut app, schema) = store_and_app(&config, "account").await;
        let tx = begin(&mut app).await;
        let other = CampaignSpec { account: "nobody".to_owned(), ..otp("login-7") };
        let refused = enqueue_single_in(&tx, &other, &number(1)).await;
        assert!(matches!(&refused, Err(StoreError::NoSuchAccount(name)) if name == "nobody"), "{refused:?}");
        tx.execute("INSERT INTO login (user_id) VALUES (8)", &[]).await.expect("the transaction is usable");
        tx.commit().await.expect("committed");
        assert_eq!(logins(&app).await, 2);
        assert_nothing_enqueued(&store).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn a_database_without_a_store_is_refused_and_the_transaction_goes_on() {
        let Some(config) = server() else { return };
        let schema = format!("app_none_{}", std::process::id());
        let config = tokio_postgres::Config::from_str(&config).expect("a config");
        let mut app = open(&config, Some(&schema), true).await.expect("the application's connection");
        app.batch_execute("DROP TABLE IF EXISTS login; CREATE TABLE login (user_id bigint NOT NULL)")
            .await
            .expect("the application's table");
        let tx = begin(&mut app).await;
        let refused = enqueue_single_in(&tx, &otp("login-7"), &number(1)).await;
        assert_refused_store(refused, "no payamak job store");
        tx.commit().await.expect("the transaction is usable");
        assert_eq!(logins(&app).await, 1);
        let tables: i64 = app
            .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = $1", &[&schema])
            .await
            .expect("a count")
            .get(0);
        assert_eq!(tables, 1, "no store created in it");
        app.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("clean up");
    }

    #[tokio::test]
    async fn a_store_of_another_version_is_refused_not_migrated() {
        let Some(config) = server() else { return };
        let (store, mut app, schema) = store_and_app(&config, "version").await;
        for (version, why) in
            [(3, "version 3; this payamak writes version 4 (PostgresStore::connect"), (5, "version 5")]
        {
            app.execute("UPDATE payamak_store SET version = $1", &[&version]).await.expect("another version");
            let tx = begin(&mut app).await;
            assert_refused_store(enqueue_single_in(&tx, &otp("login-7"), &number(1)).await, why);
            tx.commit().await.expect("the transaction is usable");
            let kept: i32 = app.query_one("SELECT version FROM payamak_store", &[]).await.expect("a version").get(0);
            assert_eq!(kept, version, "not migrated");
        }
        assert_nothing_enqueued(&store).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn a_client_without_a_transaction_is_refused() {
        let Some(config) = server() else { return };
        let (store, app, schema) = store_and_app(&config, "autocommit").await;
        let refused = enqueue_single_in(&app, &otp("login-7"), &number(1)).await;
        assert!(matches!(refused, Err(StoreError::NoTransaction(_))), "{refused:?}");
        assert_nothing_enqueued(&store).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn a_send_that_fails_half_way_leaves_none_of_its_rows() {
        let Some(config) = server() else { return };
        let (store, mut app, schema) = store_and_app(&config, "half_way").await;
        // The batch's row cannot be written: the campaign and its recipient are already.
        app.batch_execute(
            "CREATE FUNCTION no_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'full'; END $$; \
             CREATE TRIGGER no_batch BEFORE INSERT ON batch FOR EACH ROW EXECUTE FUNCTION no_batch()",
        )
        .await
        .expect("a trigger");
        let tx = begin(&mut app).await;
        let failed = enqueue_single_in(&tx, &otp("login-7"), &number(1)).await;
        assert!(matches!(failed, Err(StoreError::Backend { .. })), "{failed:?}");
        tx.execute("INSERT INTO login (user_id) VALUES (8)", &[]).await.expect("the transaction is usable");
        tx.commit().await.expect("committed");
        assert_eq!(logins(&app).await, 2, "the application's rows are kept");
        let campaigns: i64 = app.query_one("SELECT count(*) FROM campaign", &[]).await.expect("a count").get(0);
        assert_eq!(campaigns, 0, "none of the send's rows");
        assert_nothing_enqueued(&store).await;
        drop_schema(&store, &schema).await;
    }

    #[tokio::test]
    async fn outcomes_kept_whole_before_version_4_are_read_and_new_ones_are_compact() {
        let Some(config) = server() else { return };
        let schema = format!("upgrade_{}", std::process::id());
        let store = PostgresStore::connect_in(&config, Some(&schema)).await.expect("a new store");
        let (id, numbers, leases) = two_attempting_batches(&store, 150).await;
        // Batch 0 sent by an older payamak: its outcome whole, in JSON; the store at version 3.
        let old = sent_to(&numbers[..100], 7_000);
        let json = outcome_row::json(&old).expect("json");
        store
            .client
            .execute("UPDATE batch SET state = 'sent', outcome = $1 WHERE campaign = $2 AND no = 0", &[&json, &id.0])
            .await
            .expect("an old row");
        store.client.execute("UPDATE payamak_store SET version = 3", &[]).await.expect("downgrade");
        drop(store);
        let store = PostgresStore::connect_in(&config, Some(&schema)).await.expect("the old store opens");
        let new = sent_to(&numbers[100..], 9_000);
        assert!(store.advance(&leases[1], Transition::Sent, Some(&new)).await.expect("recorded"));
        let rows = store.batches(id, 0, 2).await.expect("batches");
        assert_eq!((rows[0].outcome.as_ref(), rows[1].outcome.as_ref()), (Some(&old), Some(&new)));
        assert_eq!(store.delivery_counts(id).await.expect("counts").tracked, 50);
        let version: i32 =
            store.client.query_one("SELECT version FROM payamak_store", &[]).await.expect("version").get(0);
        let kept: String =
            store.client.query_one("SELECT outcome FROM batch WHERE no = 1", &[]).await.expect("a row").get(0);
        assert_eq!((version, kept.as_str()), (SCHEMA_VERSION, "r1|50:9000:1::1"));
        store.client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("clean up");
    }

    #[tokio::test]
    async fn a_group_of_moves_that_fails_records_none_of_them() {
        let Some(config) = server() else { return };
        let schema = format!("group_{}", std::process::id());
        let store = PostgresStore::connect_in(&config, Some(&schema)).await.expect("a new store");
        let (id, _, leases) = two_attempting_batches(&store, 200).await;
        let sent = |lease: &Lease, first| BatchMove {
            lease: lease.clone(),
            transition: Transition::Sent,
            outcome: Some(sent_to(&lease.numbers, first)),
        };
        // The server refuses the second move (a NUL in text): the first, already
        // made in the transaction, must not stay recorded.
        let broken = Lease { owner: "w\0".to_owned(), ..leases[1].clone() };
        let error = store.advance_many(&[sent(&leases[0], 100), sent(&broken, 200)]).await;
        assert!(error.is_err(), "{error:?}");
        let states: Vec<BatchState> =
            store.batches(id, 0, 2).await.expect("rows").iter().map(|row| row.state).collect();
        assert_eq!(states, [BatchState::Attempting, BatchState::Attempting]);
        assert_eq!(store.delivery_counts(id).await.expect("counts").tracked, 0);
        // The same group without the broken move goes through whole.
        let moved = store.advance_many(&[sent(&leases[0], 100), sent(&leases[1], 200)]).await.expect("recorded");
        assert_eq!(moved, [true, true]);
        let states: Vec<BatchState> =
            store.batches(id, 0, 2).await.expect("rows").iter().map(|row| row.state).collect();
        assert_eq!(states, [BatchState::Sent, BatchState::Sent]);
        // A transaction left open (its process stopped) is ended by the server.
        let moves = store.moves.lock().await;
        let timeout: String = moves
            .as_ref()
            .expect("the moves' connection")
            .query_one("SHOW idle_in_transaction_session_timeout", &[])
            .await
            .expect("a setting")
            .get(0);
        assert_eq!(timeout, "10s");
        drop(moves);
        store.client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("clean up");
    }
}
