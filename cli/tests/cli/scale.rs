//! Campaigns at scale, measured: not part of the default suite (every test
//! here is ignored). Run them on a release build, one at a time:
//!
//! ```sh
//! cargo test --release -p payamak-cli --all-features --test cli scale_memory -- --ignored --nocapture
//! cargo test --release -p payamak-cli --all-features --test cli scale_throughput -- --ignored --nocapture
//! cargo test --release -p payamak-cli --all-features --test cli scale_store_overhead -- --ignored --nocapture
//! ```
//!
//! - `scale_memory`: the real `payamak campaign create` (the importer) and
//!   `payamak worker` processes over a generated CSV of 100,000 and then
//!   1,000,000 recipients, against the emulator; their peak resident memory
//!   (`VmHWM`, which the binary reports on its way out; Linux) must stay
//!   within 64 MB and within 1.2× the figure at 100,000. `PAYAMAK_SCALE_SIZES` (default `100000,1000000`),
//!   `PAYAMAK_SCALE_STORE=postgres` (needs `PAYAMAK_TEST_PG`).
//! - `scale_throughput`: `payamak worker` against an emulator whose accounts
//!   have a rate limit and a latency; the SendSms rate the panel saw (its
//!   own clock, first to last call) must be ≥ 0.95 of the limit with one
//!   account, and ≥ 0.90 of each account's own limit with two busy ones.
//! - `scale_store_overhead`: the same with the library's worker in this
//!   process, over an SQLite store whose every call is timed: the time with a
//!   store call under way over the wall time must be ≤ 5%.
//!   `PAYAMAK_SCALE_OUTCOME_WINDOW_MS` sets the worker's outcome window (0, the
//!   default, records every outcome at once; 50 lets it wait for the next claim).

#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use payamak::bulk::BatchOutcome;
use payamak::campaign::{
    Account as StoreAccount, AccountState, BatchMove, BatchRow, BatchState, CampaignId, CampaignInfo, CampaignSpec,
    Counts, Created, DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Quiet, Rate, Reaped, SqliteStore,
    Store, StoreResult, Token, Transition, Worker, WorkerOptions, CAMPAIGN_PRIORITY,
};
use payamak::recipient::MobileNumber;
use payamak_emulator::{Account, Emulator, RunningEmulator};

use crate::support::{emulator_with, payamak, run, TempDir};

const MB: f64 = 1024.0 * 1024.0;

/// What a measured process did.
struct Measured {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident set, bytes.
    max_rss: u64,
    elapsed: Duration,
}

/// Runs `command` to its end; the binary reports its own peak resident memory
/// (`PAYAMAK_TEST_PEAK_MEMORY`: `VmHWM`). `wait4`'s `ru_maxrss` would not do: a
/// child spawned from this process carries this process's peak into it.
fn measured(command: &mut Command, home: &TempDir, name: &str) -> Measured {
    let (out, err, peak) =
        (home.join(&format!("{name}.out")), home.join(&format!("{name}.err")), home.join(&format!("{name}.peak")));
    command.stdin(Stdio::null()).env("PAYAMAK_TEST_PEAK_MEMORY", &peak);
    command.stdout(std::fs::File::create(&out).expect("stdout file"));
    command.stderr(std::fs::File::create(&err).expect("stderr file"));
    let started = Instant::now();
    let status = command.status().expect("the binary runs");
    let elapsed = started.elapsed();
    let peak = std::fs::read_to_string(&peak).unwrap_or_default();
    // "VmHWM:\t  13804 kB"
    let kilobytes: u64 = peak
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no peak memory reported: {peak:?}"));
    Measured {
        code: status.code(),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        max_rss: kilobytes * 1024,
        elapsed,
    }
}

/// Writes a CSV of `count` distinct numbers (with a header and a name column), streamed to disk.
fn write_big_csv(path: &Path, count: usize, offset: usize) {
    let file = std::fs::File::create(path).expect("create the CSV");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(b"name,mobile\n").expect("write the CSV");
    for n in offset + 1..=offset + count {
        writeln!(out, "customer {n},0912{n:07}").expect("write the CSV");
    }
    out.flush().expect("write the CSV");
}

fn sizes() -> Vec<usize> {
    std::env::var("PAYAMAK_SCALE_SIZES")
        .ok()
        .map(|sizes| sizes.split(',').filter_map(|size| size.trim().parse().ok()).collect())
        .filter(|sizes: &Vec<usize>| !sizes.is_empty())
        .unwrap_or_else(|| vec![100_000, 1_000_000])
}

fn store_for(home: &TempDir, name: &str) -> Option<String> {
    match std::env::var("PAYAMAK_SCALE_STORE").as_deref() {
        Ok("postgres") => crate::campaign::postgres_store(),
        _ => Some(format!("sqlite:{}", home.join(&format!("{name}.db")).display())),
    }
}

/// One size of `scale_memory`: the peaks of the importer, the worker, `send-bulk` and its dry run, bytes.
fn memory_at(recipients: usize) -> Option<(u64, u64, u64, u64)> {
    let emulator = emulator_with(Emulator::builder().account(Account::demo().unlimited().credit(1e12)));
    let home = TempDir::new(&format!("scale-memory-{recipients}"));
    let csv = home.join("customers.csv");
    write_big_csv(&csv, recipients, 0);
    let store = store_for(&home, "campaigns")?;
    let connect = |command: &mut Command| {
        command.args(["--endpoint", &emulator.base_url(), "--user", "demo", "--password", "demo", "--json"]);
    };
    let mut create = payamak(&home);
    connect(&mut create);
    create.args(["campaign", "create", "--store", &store, "--from", "5000123456", "--text", "حراج", "--csv"]).arg(&csv);
    let import = measured(&mut create, &home, "create");
    assert_eq!(import.code, Some(0), "{}", import.stderr);
    let created: serde_json::Value = serde_json::from_str(&import.stdout).expect("a JSON document");
    assert_eq!(created["recipients"].as_u64(), Some(recipients as u64), "{created}");
    let id = created["campaign"].as_i64().expect("an id");
    let mut worker = payamak(&home);
    connect(&mut worker);
    worker.args(["worker", "--store", &store, "--until-idle", "--workers", "4"]);
    let sent = measured(&mut worker, &home, "worker");
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    let batches = recipients.div_ceil(100) as u64;
    let report: serde_json::Value = serde_json::from_str(&sent.stdout).expect("a JSON report");
    assert_eq!(report["sent"].as_u64(), Some(batches), "{report}");
    let mut status = payamak(&home);
    status.args(["--json", "campaign", "status", "--store", &store, &id.to_string()]);
    let status = run(&mut status).expect_code(0).json();
    assert_eq!(status["recipients_by_state"]["sent"].as_u64(), Some(recipients as u64), "{status}");
    let calls = emulator.send_calls();
    assert_eq!((calls.calls, calls.batches), (batches, batches), "one call per batch");
    assert!(calls.repeated.is_empty(), "{:?}", calls.repeated);
    eprintln!(
        "scale_memory {recipients} recipients ({store_kind}): importer {:.1} MB peak in {:.1} s; worker {:.1} MB peak \
         in {:.1} s ({:.0} recipients/s); CSV {:.1} MB",
        import.max_rss as f64 / MB,
        import.elapsed.as_secs_f64(),
        sent.max_rss as f64 / MB,
        sent.elapsed.as_secs_f64(),
        recipients as f64 / sent.elapsed.as_secs_f64(),
        std::fs::metadata(&csv).map_or(0, |meta| meta.len()) as f64 / MB,
        store_kind = if store.starts_with("sqlite:") { "SQLite" } else { "PostgreSQL" },
    );
    // The same through `send-bulk`, in one process: import, worker and summary. On
    // SQLite, its default store (`bulk.csv.sqlite`); on PostgreSQL, `--store`.
    let bulk_csv = home.join("bulk.csv");
    write_big_csv(&bulk_csv, recipients, recipients);
    let send_bulk = || {
        let mut command = payamak(&home);
        connect(&mut command);
        command.args(["send-bulk", "--from", "5000123456", "--text", "حراج", "--csv"]).arg(&bulk_csv);
        if !store.starts_with("sqlite:") {
            command.args(["--store", &store]);
        }
        command
    };
    let bulk = measured(&mut send_bulk(), &home, "send-bulk");
    assert_eq!(bulk.code, Some(0), "{}", bulk.stderr);
    let summary: serde_json::Value = serde_json::from_str(&bulk.stdout).expect("a JSON summary");
    assert_eq!(summary["accepted"].as_u64(), Some(recipients as u64), "{}", bulk.stdout);
    assert!(emulator.send_calls().repeated.is_empty(), "{:?}", emulator.send_calls().repeated);
    eprintln!(
        "scale_memory {recipients} recipients: send-bulk {:.1} MB peak in {:.1} s",
        bulk.max_rss as f64 / MB,
        bulk.elapsed.as_secs_f64()
    );
    // Run again after it ended: nothing to send; the store's batches are checked against the mark's digest.
    let rerun = measured(&mut send_bulk(), &home, "send-bulk-again");
    assert_eq!(rerun.code, Some(0), "{}", rerun.stderr);
    assert_eq!(emulator.send_calls().calls, 2 * batches, "the rerun sends nothing");
    assert!(rerun.max_rss as f64 <= 64.0 * MB, "the rerun's digest of the store holds more than 64 MB");
    eprintln!(
        "scale_memory {recipients} recipients: send-bulk again after it ended {:.1} MB peak in {:.1} s",
        rerun.max_rss as f64 / MB,
        rerun.elapsed.as_secs_f64()
    );
    // Its dry run, listing every number with `--json`: no store, the file read as a stream.
    let mut dry_run = payamak(&home);
    dry_run
        .args(["--json", "send-bulk", "--dry-run", "--from", "5000123456", "--text", "حراج", "--csv"])
        .arg(&bulk_csv);
    let dry_run = measured(&mut dry_run, &home, "dry-run");
    assert_eq!(dry_run.code, Some(0), "{}", dry_run.stderr);
    let listed: serde_json::Value = serde_json::from_str(&dry_run.stdout).expect("a JSON document");
    assert_eq!(listed["recipients"].as_array().map(Vec::len), Some(recipients), "every number listed");
    eprintln!(
        "scale_memory {recipients} recipients: send-bulk --dry-run --json {:.1} MB peak in {:.1} s",
        dry_run.max_rss as f64 / MB,
        dry_run.elapsed.as_secs_f64()
    );
    Some((import.max_rss, sent.max_rss, bulk.max_rss, dry_run.max_rss))
}

#[test]
#[ignore = "a measurement: run on a release build with --ignored --nocapture (see docs/campaigns.md)"]
fn scale_memory() {
    let sizes = sizes();
    let mut figures = Vec::new();
    for &size in &sizes {
        let Some(peaks) = memory_at(size) else { return };
        figures.push((size, peaks));
    }
    let Some(&(base_size, (base_import, base_worker, base_bulk, base_dry_run))) = figures.first() else { return };
    for &(size, (import, worker, bulk, dry_run)) in &figures {
        eprintln!(
            "scale_memory: {size} recipients: importer {:.1} MB ({:.2}× its figure at {base_size}), worker {:.1} MB \
             ({:.2}×), send-bulk {:.1} MB ({:.2}×), its dry run {:.1} MB ({:.2}×)",
            import as f64 / MB,
            import as f64 / base_import as f64,
            worker as f64 / MB,
            worker as f64 / base_worker as f64,
            bulk as f64 / MB,
            bulk as f64 / base_bulk as f64,
            dry_run as f64 / MB,
            dry_run as f64 / base_dry_run as f64,
        );
        assert!([import, worker, bulk, dry_run].iter().all(|&peak| peak as f64 <= 64.0 * MB), "over 64 MB at {size}");
        assert!(import as f64 <= 1.2 * base_import as f64, "the importer's memory grows with the recipients");
        assert!(worker as f64 <= 1.2 * base_worker as f64, "the worker's memory grows with the recipients");
        assert!(bulk as f64 <= 1.2 * base_bulk as f64, "send-bulk's memory grows with the recipients");
        assert!(dry_run as f64 <= 1.2 * base_dry_run as f64, "the dry run's memory grows with the recipients");
    }
}

/// An emulator with two paced accounts. The panel takes a burst of
/// `PAYAMAK_SCALE_PANEL_BURST` calls (default 3: two emissions of tolerance for the
/// jitter between the store's grant and the call's arrival; the store's bucket
/// has a burst of 1). Each throttled call pauses the account for a whole second
/// (`Retry-After` counts seconds).
fn paced_panel(rates: [f64; 2], latency: Duration) -> RunningEmulator {
    let burst = env_f64("PAYAMAK_SCALE_PANEL_BURST", 3.0) as u32;
    emulator_with(
        Emulator::builder()
            .without_demo()
            .account(
                Account::new("alpha", "pa")
                    .credit(1e12)
                    .sender("5000123456")
                    .latency(latency)
                    .send_rate(rates[0], burst),
            )
            .account(
                Account::new("beta", "pb")
                    .credit(1e12)
                    .sender("3000987654")
                    .latency(latency)
                    .send_rate(rates[1], burst),
            ),
    )
}

/// The burst of the campaigns' buckets in the store (`PAYAMAK_SCALE_STORE_BURST`, default 2,
/// within the panel's 3). With 1 the bucket has no tolerance at all, and every
/// millisecond a worker asks late (timer resolution, the store's millisecond clock)
/// is lost for good: 0.945–0.96 of the limit in runs here.
fn store_burst() -> u32 {
    env_f64("PAYAMAK_SCALE_STORE_BURST", 2.0) as u32
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// The SendSms rate the panel saw for `username`: calls after the first over the time from the first to the last.
fn achieved(emulator: &RunningEmulator, username: &str) -> (u64, f64) {
    let calls = emulator.send_calls();
    let account = calls.per_account.get(username).cloned().unwrap_or_default();
    let rate = if account.first_to_last_micros == 0 {
        0.0
    } else {
        (account.calls.saturating_sub(1)) as f64 * 1e6 / account.first_to_last_micros as f64
    };
    (account.calls, rate)
}

/// `scale_throughput`'s campaigns: `calls[i]` batches on account i (none when 0), with the store's rate equal to the panel's.
fn paced_campaigns(emulator: &RunningEmulator, home: &TempDir, store: &str, rates: [f64; 2], calls: [usize; 2]) {
    let mut offset = 0;
    for (index, (username, from)) in [("alpha", "5000123456"), ("beta", "3000987654")].into_iter().enumerate() {
        if calls[index] == 0 {
            continue;
        }
        let csv = home.join(&format!("{username}.csv"));
        write_big_csv(&csv, calls[index] * 100, offset);
        offset += calls[index] * 100;
        let credentials = if index == 0 { "env:SCALE_PA" } else { "env:SCALE_PB" };
        let mut command = payamak(home);
        command.args(["--endpoint", &emulator.base_url(), "--user", username, "--json", "campaign", "create"]);
        command.args(["--store", store, "--from", from, "--text", "paced", "--credentials", credentials]);
        command.args(["--rate", &rates[index].to_string(), "--burst", &store_burst().to_string(), "--csv"]).arg(csv);
        run(&mut command).expect_code(0);
    }
}

#[test]
#[ignore = "a measurement: run on a release build with --ignored --nocapture (see docs/campaigns.md)"]
fn scale_throughput() {
    let rates = [env_f64("PAYAMAK_SCALE_RATE_A", 20.0), env_f64("PAYAMAK_SCALE_RATE_B", 10.0)];
    let latency = Duration::from_millis(env_f64("PAYAMAK_SCALE_LATENCY_MS", 200.0) as u64);
    let seconds = env_f64("PAYAMAK_SCALE_SECONDS", 15.0);
    let mut failures = Vec::new();
    for (label, accounts) in [("one account", 1usize), ("two busy accounts", 2)] {
        let emulator = paced_panel(rates, latency);
        let home = TempDir::new(&format!("scale-throughput-{accounts}"));
        let Some(store) = store_for(&home, "paced") else { return };
        let calls = [(rates[0] * seconds) as usize, if accounts == 2 { (rates[1] * seconds) as usize } else { 0 }];
        paced_campaigns(&emulator, &home, &store, rates, calls);
        let mut command = payamak(&home);
        command.args(["--endpoint", &emulator.base_url(), "--json", "worker", "--store", &store]);
        command.args(["--until-idle", "--workers", "8"]).env("SCALE_PA", "pa").env("SCALE_PB", "pb");
        let worker = measured(&mut command, &home, "worker");
        assert_eq!(worker.code, Some(0), "{}", worker.stderr);
        let sendcalls = emulator.send_calls();
        assert!(sendcalls.repeated.is_empty(), "{:?}", sendcalls.repeated);
        for (index, username) in ["alpha", "beta"].into_iter().enumerate().take(accounts) {
            let (made, rate) = achieved(&emulator, username);
            let ratio = rate / rates[index];
            let throttled = sendcalls.throttled.get(username).copied().unwrap_or(0);
            // The most calls the panel saw in any one second, against what the account allows in one.
            let in_one_second = sendcalls.per_account.get(username).map_or(0, |account| account.max_in_one_second);
            let allowed = rates[index].floor() as u64 + u64::from(store_burst());
            eprintln!(
                "scale_throughput ({label}): {username}: {made} calls at {rate:.2}/s against a limit of {}/s \
                 (latency {} ms): {ratio:.3} of the limit; {throttled} throttled; at most {in_one_second} \
                 calls in one second (rate plus burst: {allowed}); worker {:.1} s, {:.1} MB",
                rates[index],
                latency.as_millis(),
                worker.elapsed.as_secs_f64(),
                worker.max_rss as f64 / MB,
            );
            assert_eq!(made, calls[index] as u64, "every batch sent once");
            if in_one_second > allowed {
                failures.push(format!("{label}: {username} made {in_one_second} calls in one second (bar {allowed})"));
            }
            let bar = if accounts == 1 { 0.95 } else { 0.90 };
            if ratio < bar {
                failures.push(format!("{label}: {username} reached {ratio:.3} of its limit (bar {bar})"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// A store that adds up the time its calls take.
struct Timed<S> {
    inner: S,
    nanos: AtomicU64,
    calls: AtomicU64,
    /// Per method: calls and nanoseconds.
    by_method: std::sync::Mutex<std::collections::BTreeMap<&'static str, (u64, u64)>>,
    /// Calls under way, since when at least one is, and the time with at least one under way.
    busy: std::sync::Mutex<(usize, Option<Instant>, Duration)>,
}

impl<S> Timed<S> {
    fn busy(&self) -> std::sync::MutexGuard<'_, (usize, Option<Instant>, Duration)> {
        self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn enter(&self) -> Instant {
        let now = Instant::now();
        let mut busy = self.busy();
        busy.0 += 1;
        if busy.0 == 1 {
            busy.1 = Some(now);
        }
        now
    }

    fn add(&self, method: &'static str, started: Instant) {
        {
            let mut busy = self.busy();
            busy.0 -= 1;
            if busy.0 == 0 {
                if let Some(since) = busy.1.take() {
                    busy.2 += since.elapsed();
                }
            }
        }
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut by_method = self.by_method.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = by_method.entry(method).or_default();
        entry.0 += 1;
        entry.1 += nanos;
    }
}

/// Times one call of the inner store.
macro_rules! timed {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {{
        let started = $self.enter();
        let result = $self.inner.$method($($arg),*).await;
        $self.add(stringify!($method), started);
        result
    }};
}

impl<S: Store> Store for Timed<S> {
    async fn put_account(&self, account: &StoreAccount) -> StoreResult<()> {
        timed!(self, put_account(account))
    }
    async fn accounts(&self) -> StoreResult<Vec<AccountState>> {
        timed!(self, accounts())
    }
    async fn pause(&self, account: &str, until: i64, reason: &str) -> StoreResult<()> {
        timed!(self, pause(account, until, reason))
    }
    async fn take_token(&self, account: &str) -> StoreResult<Token> {
        timed!(self, take_token(account))
    }
    async fn create_campaign(&self, spec: &CampaignSpec) -> StoreResult<Created> {
        timed!(self, create_campaign(spec))
    }
    async fn add_recipients(&self, campaign: CampaignId, numbers: &[MobileNumber]) -> StoreResult<()> {
        timed!(self, add_recipients(campaign, numbers))
    }
    async fn seal(&self, campaign: CampaignId, batch_size: u64) -> StoreResult<Imported> {
        timed!(self, seal(campaign, batch_size))
    }
    async fn campaign(&self, campaign: CampaignId) -> StoreResult<Option<CampaignInfo>> {
        timed!(self, campaign(campaign))
    }
    async fn claim(&self, account: &str, owner: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        timed!(self, claim(account, owner, lease))
    }
    async fn take_token_and_claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        timed!(self, take_token_and_claim(account, owner, lease))
    }
    async fn take_token_claim_and_attempt(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Token, Option<Lease>)> {
        timed!(self, take_token_claim_and_attempt(account, owner, lease))
    }
    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> StoreResult<bool> {
        timed!(self, advance(lease, transition, outcome))
    }
    async fn reap(&self, unknown_after: Duration) -> StoreResult<Reaped> {
        timed!(self, reap(unknown_after))
    }
    async fn counts(&self, campaign: Option<CampaignId>) -> StoreResult<Counts> {
        timed!(self, counts(campaign))
    }
    async fn batches(&self, campaign: CampaignId, from: u64, limit: u64) -> StoreResult<Vec<BatchRow>> {
        timed!(self, batches(campaign, from, limit))
    }
    async fn batch_numbers(&self, campaign: CampaignId, batch: u64) -> StoreResult<Vec<MobileNumber>> {
        timed!(self, batch_numbers(campaign, batch))
    }
    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> StoreResult<u64> {
        timed!(self, requeue(campaign, transition))
    }
    async fn reconcile(&self, campaign: CampaignId, batch: u64, outcome: &BatchOutcome) -> StoreResult<bool> {
        timed!(self, reconcile(campaign, batch, outcome))
    }
    async fn enqueue_single(&self, spec: &CampaignSpec, number: &MobileNumber) -> StoreResult<Created> {
        timed!(self, enqueue_single(spec, number))
    }
    async fn advance_many(&self, moves: &[BatchMove]) -> StoreResult<Vec<bool>> {
        timed!(self, advance_many(moves))
    }
    async fn advance_many_then_claim(
        &self,
        moves: &[BatchMove],
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> StoreResult<(Vec<bool>, StoreResult<(Token, Option<Lease>)>)> {
        timed!(self, advance_many_then_claim(moves, account, owner, lease))
    }
    async fn claim_deliveries(
        &self,
        account: &str,
        first_after: Duration,
        limit: usize,
        lease: Duration,
    ) -> StoreResult<Vec<DeliveryPoll>> {
        timed!(self, claim_deliveries(account, first_after, limit, lease))
    }
    async fn record_deliveries(&self, poll: &DeliveryPoll, update: &DeliveryUpdate) -> StoreResult<()> {
        timed!(self, record_deliveries(poll, update))
    }
    async fn delivery_counts(&self, campaign: CampaignId) -> StoreResult<DeliveryCounts> {
        timed!(self, delivery_counts(campaign))
    }
    async fn next_delivery_poll(&self, account: Option<&str>, first_after: Duration) -> StoreResult<Option<i64>> {
        timed!(self, next_delivery_poll(account, first_after))
    }
}

#[test]
#[ignore = "a measurement: run on a release build with --ignored --nocapture (see docs/campaigns.md)"]
fn scale_store_overhead() {
    let rates = [env_f64("PAYAMAK_SCALE_RATE_A", 20.0), env_f64("PAYAMAK_SCALE_RATE_B", 10.0)];
    let latency = Duration::from_millis(env_f64("PAYAMAK_SCALE_LATENCY_MS", 200.0) as u64);
    let seconds = env_f64("PAYAMAK_SCALE_SECONDS", 15.0);
    let emulator = paced_panel(rates, latency);
    let home = TempDir::new("scale-overhead");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let store = Timed {
        inner: SqliteStore::open(home.join("overhead.db")).expect("the store opens"),
        nanos: AtomicU64::new(0),
        calls: AtomicU64::new(0),
        by_method: std::sync::Mutex::default(),
        busy: std::sync::Mutex::default(),
    };
    let calls = [(rates[0] * seconds) as usize, (rates[1] * seconds) as usize];
    let mut clients = HashMap::new();
    runtime.block_on(async {
        let mut offset = 0;
        for (index, (username, password, from)) in
            [("alpha", "pa", "5000123456"), ("beta", "pb", "3000987654")].into_iter().enumerate()
        {
            let account = StoreAccount {
                name: username.to_owned(),
                username: username.to_owned(),
                endpoints: vec![emulator.base_url()],
                credentials: "settings".to_owned(),
                rate: Some(Rate::per_second(rates[index], store_burst())),
            };
            store.inner.put_account(&account).await.expect("put the account");
            let spec = CampaignSpec {
                account: username.to_owned(),
                from: from.to_owned(),
                text: "paced".to_owned(),
                flash: false,
                priority: CAMPAIGN_PRIORITY,
                idempotency_key: None,
                source: "scale".to_owned(),
            };
            let id = store.inner.create_campaign(&spec).await.expect("a campaign").id;
            let numbers: Vec<MobileNumber> = (offset + 1..=offset + calls[index] * 100)
                .map(|n| MobileNumber::parse(&format!("0912{n:07}")).expect("a valid number"))
                .collect();
            offset += calls[index] * 100;
            store.inner.add_recipients(id, &numbers).await.expect("add recipients");
            store.inner.seal(id, 100).await.expect("seal");
            let client = payamak::Client::builder()
                .base_urls(vec![emulator.base_url()])
                .credentials(username, password)
                .build()
                .expect("a client");
            clients.insert(username.to_owned(), client);
        }
    });
    let mut options = WorkerOptions::new("scale");
    options.concurrency = 8;
    options.until_idle = true;
    options.idle_poll = Duration::from_millis(100);
    if let Ok(window) = std::env::var("PAYAMAK_SCALE_OUTCOME_WINDOW_MS") {
        options.outcome_window = Duration::from_millis(window.parse().expect("PAYAMAK_SCALE_OUTCOME_WINDOW_MS: ms"));
    }
    let started = Instant::now();
    let report = runtime.block_on(Worker::new(&store, &clients, options).run(&mut Quiet)).expect("the worker runs");
    let wall = started.elapsed();
    assert_eq!(report.sent, (calls[0] + calls[1]) as u64, "{report:?}");
    let summed = Duration::from_nanos(store.nanos.load(Ordering::Relaxed));
    let busy = store.busy().2;
    let share = busy.as_secs_f64() / wall.as_secs_f64();
    let counts = runtime.block_on(store.inner.counts(None)).expect("counts");
    assert_eq!(counts.batches(BatchState::Sent), (calls[0] + calls[1]) as u64);
    let (alpha, beta) = (achieved(&emulator, "alpha"), achieved(&emulator, "beta"));
    eprintln!(
        "scale_store_overhead: {} store calls; at least one under way for {:.3} s of {:.2} s wall: {:.2}% (their \
         times summed, overlapping ones counted twice: {:.3} s, {:.2}%); alpha {:.3} and beta {:.3} of their limits",
        store.calls.load(Ordering::Relaxed),
        busy.as_secs_f64(),
        wall.as_secs_f64(),
        share * 100.0,
        summed.as_secs_f64(),
        summed.as_secs_f64() / wall.as_secs_f64() * 100.0,
        alpha.1 / rates[0],
        beta.1 / rates[1],
    );
    for (method, (calls, nanos)) in store.by_method.lock().expect("the counts").iter() {
        eprintln!(
            "  {method}: {calls} calls, {:.3} s ({:.2}% of the wall time)",
            *nanos as f64 / 1e9,
            *nanos as f64 / 1e9 / wall.as_secs_f64() * 100.0
        );
    }
    assert!(share <= 0.05, "the store took {:.2}% of the wall time", share * 100.0);
}
