//! Single sends (OTPs) enqueued while a campaign runs on the same account:
//! they are claimed before the campaign's batches and, with a reserve in the
//! account's bucket, take a token at once.
//!
//! `scale_otp_latency` is a measurement, not part of the default suite (Linux;
//! run it on a release build):
//!
//! ```sh
//! cargo test --release -p payamak-cli --all-features --test cli scale_otp_latency -- --ignored --nocapture
//! ```
//!
//! It imports a campaign of `PAYAMAK_SCALE_OTP_RECIPIENTS` (1,000,000) into an
//! SQLite store (PostgreSQL with `PAYAMAK_SCALE_STORE=postgres`), runs the
//! library's worker against an emulator paced at `PAYAMAK_SCALE_RATE_A` (20)
//! calls a second with `PAYAMAK_SCALE_LATENCY_MS` (200) ms a call, and enqueues
//! `PAYAMAK_SCALE_OTPS` (200) single sends, one every `PAYAMAK_SCALE_OTP_EVERY_MS`
//! (150) ms plus a varying part of a token interval, with `Store::enqueue_single`.
//! The store's bucket has a burst of 2 (the panel's 3). The latency of each is the time from
//! just before its enqueue call to the moment its SendSms request leaves the
//! worker (a transport that watches the requests), in token intervals (one
//! emission of the account's rate). With the reserve (`PAYAMAK_SCALE_OTP_RESERVES`,
//! default `1,0`: with one reserved token, then without) the p99 must be
//! within two intervals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use payamak::campaign::{
    Account as StoreAccount, BatchState, CampaignId, CampaignSpec, Quiet, Rate, SqliteStore, Store, Worker,
    WorkerOptions, CAMPAIGN_PRIORITY,
};
use payamak::recipient::MobileNumber;
use payamak::transport::{BoxFuture, HttpRequest, HttpResponse, PostError, ReqwestTransport, Transport};
use payamak_emulator::{Account, Emulator, RunningEmulator};

use crate::support::{emulator_with, TempDir};

const SENDER: &str = "5000123456";

/// When the SendSms request of each marked single send left, and how many campaign calls left before it.
#[derive(Debug, Clone, Default)]
struct Watched {
    otps: Arc<Mutex<HashMap<u64, (Instant, u64)>>>,
    campaign_calls: Arc<AtomicU64>,
}

/// A transport that notes the SendSms requests as they leave.
#[derive(Debug)]
struct Watching {
    inner: ReqwestTransport,
    watched: Watched,
}

/// The single send a request carries (its text holds `otp-N-`), if any.
fn otp_of(body: &[u8]) -> Option<u64> {
    let at = body.windows(4).position(|window| window == b"otp-")?;
    let digits: Vec<u8> = body[at + 4..].iter().copied().take_while(u8::is_ascii_digit).collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

impl Transport for Watching {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        let now = Instant::now();
        let sends = request.headers.iter().any(|(_, value)| value.contains("SendSms"))
            || request.body.windows(7).any(|window| window == b"SendSms");
        if sends {
            match otp_of(request.body) {
                Some(otp) => {
                    let before = self.watched.campaign_calls.load(Ordering::SeqCst);
                    let mut otps = self.watched.otps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    otps.entry(otp).or_insert((now, before));
                }
                None => {
                    self.watched.campaign_calls.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        self.inner.post(request)
    }
}

/// An emulator with one account, `alpha`, whose calls take `latency`; paced
/// at `rate` with a burst of 3 (one more than the store's bucket: the jitter
/// between the store's grant and the call's arrival; a throttled call pauses
/// the account for a second), or not paced by the panel with `None`.
fn panel(rate: Option<f64>, latency: Duration) -> RunningEmulator {
    let account = Account::new("alpha", "pa").credit(1e12).sender(SENDER).latency(latency);
    let account = match rate {
        Some(rate) => account.send_rate(rate, 3),
        None => account,
    };
    emulator_with(Emulator::builder().without_demo().account(account))
}

/// How one run went.
struct OtpRun {
    /// Per single send: from its enqueue to its request, and the campaign calls made before it.
    sent: Vec<(Duration, u64)>,
    /// Single sends never sent.
    missing: Vec<u64>,
    /// The account's token interval.
    emission: Duration,
    /// Campaign batches the worker sent.
    campaign_calls: u64,
}

/// The settings of one run.
struct Plan {
    recipients: usize,
    rate: f64,
    burst: u32,
    reserve: u32,
    otps: u64,
    /// When the first single send is enqueued, and the time between two.
    start: Duration,
    every: Duration,
    /// Stop the worker this long after the last single send (`None`: run until idle).
    stop_after: Option<Duration>,
}

/// Imports the campaign, runs a worker, enqueues the single sends meanwhile.
fn run_otps<S: Store + Clone + 'static>(store: S, emulator: &RunningEmulator, plan: &Plan) -> OtpRun {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let watched = Watched::default();
    let transport = Watching {
        inner: ReqwestTransport::new(Duration::from_secs(5), "payamak-test").expect("a transport"),
        watched: watched.clone(),
    };
    let client = payamak::Client::builder()
        .base_urls(vec![emulator.base_url()])
        .credentials("alpha", "pa")
        .transport(transport)
        .build()
        .expect("a client");
    let clients: HashMap<String, payamak::Client> = [("alpha".to_owned(), client)].into();
    let rate = Rate::per_second(plan.rate, plan.burst).with_reserve(plan.reserve);
    let enqueued: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    runtime.block_on(async {
        let account = StoreAccount {
            name: "alpha".to_owned(),
            username: "alpha".to_owned(),
            endpoints: vec![emulator.base_url()],
            credentials: "settings".to_owned(),
            rate: Some(rate),
        };
        store.put_account(&account).await.expect("put the account");
        let spec = CampaignSpec {
            account: "alpha".to_owned(),
            from: SENDER.to_owned(),
            text: "campaign".to_owned(),
            flash: false,
            priority: CAMPAIGN_PRIORITY,
            idempotency_key: None,
            source: "otp test".to_owned(),
        };
        let id: CampaignId = store.create_campaign(&spec).await.expect("a campaign").id;
        let mut chunk = Vec::with_capacity(5_000);
        for n in 1..=plan.recipients {
            chunk.push(MobileNumber::parse(&format!("0912{n:07}")).expect("a valid number"));
            if chunk.len() == 5_000 {
                store.add_recipients(id, &chunk).await.expect("add recipients");
                chunk.clear();
            }
        }
        store.add_recipients(id, &chunk).await.expect("add recipients");
        store.seal(id, 100).await.expect("seal");

        // The application: single sends at moments spread over the token cycle.
        let (otps, start, every, emission) = (plan.otps, plan.start, plan.every, rate.emission);
        let (app_store, app_enqueued) = (store.clone(), enqueued.clone());
        let application = tokio::spawn(async move {
            tokio::time::sleep(start).await;
            for otp in 0..otps {
                let number = MobileNumber::parse(&format!("0935{otp:07}")).expect("a valid number");
                let spec =
                    CampaignSpec::single_send("alpha", SENDER, format!("code {otp} otp-{otp}-"), format!("k{otp}"));
                let before = Instant::now();
                app_store.enqueue_single(&spec, &number).await.expect("enqueue a single send");
                app_enqueued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(otp, before);
                let phase = emission.mul_f64((otp % 7) as f64 / 7.0);
                tokio::time::sleep(every + phase).await;
            }
        });
        let mut options = WorkerOptions::new("otp-test");
        options.concurrency = 8;
        options.idle_poll = Duration::from_millis(100);
        options.until_idle = plan.stop_after.is_none();
        let worker = Worker::new(&store, &clients, options);
        match plan.stop_after {
            None => {
                worker.run(&mut Quiet).await.expect("the worker runs");
            }
            Some(after) => {
                let total = plan.start + (plan.every + emission) * u32::try_from(plan.otps).unwrap_or(u32::MAX) + after;
                let _ = tokio::time::timeout(total, worker.run(&mut Quiet)).await;
            }
        }
        application.await.expect("the application's task");
        let counts = store.counts(Some(id)).await.expect("counts");
        assert_eq!(counts.batches(BatchState::Failed), 0, "{counts:?}");
    });
    let enqueued = enqueued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let otps = watched.otps.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let mut sent = Vec::new();
    let mut missing = Vec::new();
    for otp in 0..plan.otps {
        match (enqueued.get(&otp), otps.get(&otp)) {
            (Some(enqueued), Some((left, before))) => sent.push((left.saturating_duration_since(*enqueued), *before)),
            _ => missing.push(otp),
        }
    }
    OtpRun { sent, missing, emission: rate.emission, campaign_calls: watched.campaign_calls.load(Ordering::SeqCst) }
}

#[test]
fn an_otp_enqueued_during_a_campaign_jumps_the_queue() {
    // Paced by the store alone: a shared machine's jitter cannot make the panel throttle here.
    let emulator = panel(None, Duration::from_millis(100));
    let home = TempDir::new("otp-jumps");
    let store = SqliteStore::open(home.join("otp.db")).expect("the store opens");
    // 40 batches at 20 a second: two seconds of campaign; the single send comes after half a second.
    let plan = Plan {
        recipients: 4_000,
        rate: 20.0,
        burst: 2,
        reserve: 1,
        otps: 1,
        start: Duration::from_millis(500),
        every: Duration::ZERO,
        stop_after: None,
    };
    let run = run_otps(store, &emulator, &plan);
    assert!(run.missing.is_empty(), "the single send was not sent");
    let (latency, before) = run.sent[0];
    eprintln!(
        "the single send left {:.0} ms ({:.1} token intervals) after its enqueue, after {before} of the campaign's 40 \
         calls",
        latency.as_secs_f64() * 1e3,
        latency.as_secs_f64() / run.emission.as_secs_f64()
    );
    assert_eq!(run.campaign_calls, 40, "the whole campaign was sent");
    assert!(before < 30, "it waited behind the campaign: {before} campaign calls before it");
    assert!(latency < Duration::from_millis(750), "it took {latency:?}");
    let calls = emulator.send_calls();
    assert!(calls.repeated.is_empty(), "{:?}", calls.repeated);
    assert_eq!(calls.throttled.values().sum::<u64>(), 0, "the panel throttled: {:?}", calls.throttled);
}

/// The value at quantile `q` of sorted `values`.
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let index = ((values.len() as f64 - 1.0) * q).ceil() as usize;
    values[index.min(values.len() - 1)]
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "a measurement: run on a release build with --ignored --nocapture (see docs/campaigns.md)"]
fn scale_otp_latency() {
    let rate = env_f64("PAYAMAK_SCALE_RATE_A", 20.0);
    let latency = Duration::from_millis(env_f64("PAYAMAK_SCALE_LATENCY_MS", 200.0) as u64);
    let recipients = env_f64("PAYAMAK_SCALE_OTP_RECIPIENTS", 1_000_000.0) as usize;
    let otps = env_f64("PAYAMAK_SCALE_OTPS", 200.0) as u64;
    let every = Duration::from_millis(env_f64("PAYAMAK_SCALE_OTP_EVERY_MS", 150.0) as u64);
    let reserves: Vec<u32> = std::env::var("PAYAMAK_SCALE_OTP_RESERVES")
        .ok()
        .map(|list| list.split(',').filter_map(|value| value.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 0]);
    let mut failures = Vec::new();
    for reserve in reserves {
        let emulator = panel(Some(rate), latency);
        let home = TempDir::new(&format!("scale-otp-{reserve}"));
        let plan = Plan {
            recipients,
            rate,
            // The bucket of the throughput test: a burst of 2 within the panel's 3.
            burst: 2,
            reserve,
            otps,
            start: Duration::from_secs(2),
            every,
            stop_after: Some(Duration::from_secs(2)),
        };
        let store_kind;
        let run = match std::env::var("PAYAMAK_SCALE_STORE").as_deref() {
            #[cfg(feature = "postgres")]
            Ok("postgres") => {
                let Some(config) = std::env::var("PAYAMAK_TEST_PG").ok().filter(|config| !config.is_empty()) else {
                    eprintln!("notice: PAYAMAK_TEST_PG is not set; skipped");
                    return;
                };
                store_kind = "PostgreSQL";
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                let schema = format!("otp{}_{reserve}", std::process::id());
                let store = runtime
                    .block_on(payamak::campaign::PostgresStore::connect_in(&config, Some(&schema)))
                    .expect("connect to PAYAMAK_TEST_PG");
                // Its connections are tasks of that runtime: a thread keeps driving them.
                std::thread::spawn(move || runtime.block_on(std::future::pending::<()>()));
                run_otps(store, &emulator, &plan)
            }
            _ => {
                store_kind = "SQLite";
                run_otps(SqliteStore::open(home.join("otp.db")).expect("the store opens"), &emulator, &plan)
            }
        };
        let mut intervals: Vec<f64> =
            run.sent.iter().map(|(latency, _)| latency.as_secs_f64() / run.emission.as_secs_f64()).collect();
        intervals.sort_by(f64::total_cmp);
        let (p50, p99, max) = (quantile(&intervals, 0.5), quantile(&intervals, 0.99), quantile(&intervals, 1.0));
        let calls = emulator.send_calls();
        eprintln!(
            "scale_otp_latency ({store_kind}, {recipients} recipients, {rate}/s, latency {} ms, burst {}, reserve \
             {reserve}): {} single sends, {} missing; enqueue to request p50 {p50:.2}, p99 {p99:.2}, max {max:.2} \
             token intervals ({:.0} ms each: p99 {:.0} ms); {} campaign calls meanwhile; {} throttled",
            latency.as_millis(),
            plan.burst,
            run.sent.len(),
            run.missing.len(),
            run.emission.as_secs_f64() * 1e3,
            p99 * run.emission.as_secs_f64() * 1e3,
            run.campaign_calls,
            calls.throttled.values().sum::<u64>(),
        );
        assert!(calls.repeated.is_empty(), "{:?}", calls.repeated);
        if !run.missing.is_empty() {
            failures.push(format!("reserve {reserve}: {} single sends never sent", run.missing.len()));
        }
        if reserve > 0 && p99 > 2.0 {
            failures.push(format!("reserve {reserve}: p99 {p99:.2} token intervals (bar 2)"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
