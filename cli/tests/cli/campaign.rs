//! Campaigns in a job store (`campaign create|status`, `worker`): every store
//! the binary was built with, against the emulator.

use std::path::Path;
use std::process::Stdio;

use payamak_emulator::{Account, Emulator, RunningEmulator};

use crate::support::{against, emulator_with, numbers, run, sent_counts, write_csv, Run, TempDir};

const TEXT: &str = "حراج امروز";

/// The demo account without a daily limit.
pub fn panel(configure: impl FnOnce(Account) -> Account) -> RunningEmulator {
    emulator_with(Emulator::builder().account(configure(Account::demo().unlimited().credit(1e9))))
}

/// The stores to run against: an SQLite file, and PostgreSQL (a fresh schema)
/// when the binary has it and `PAYAMAK_TEST_PG` names a server.
pub fn stores(home: &TempDir) -> Vec<String> {
    let mut stores = vec![format!("sqlite:{}", home.join("campaigns.db").display())];
    if let Some(url) = postgres_store() {
        stores.push(url);
    }
    stores
}

#[cfg(feature = "postgres")]
pub fn postgres_store() -> Option<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let Some(config) = std::env::var("PAYAMAK_TEST_PG").ok().filter(|config| !config.is_empty()) else {
        eprintln!(
            "notice: skipping the PostgreSQL store: PAYAMAK_TEST_PG is not set (`eval \"$(.ci/postgres start)\"`)"
        );
        return None;
    };
    let schema = format!("cli{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime
        .block_on(payamak::campaign::PostgresStore::connect_in(&config, Some(&schema)))
        .expect("create the test schema");
    Some(format!("{config} options='-c search_path={schema}'"))
}

#[cfg(not(feature = "postgres"))]
pub fn postgres_store() -> Option<String> {
    eprintln!("notice: skipping the PostgreSQL store: built without the `postgres` feature");
    None
}

pub fn create(emulator: &RunningEmulator, home: &TempDir, store: &str, csv: &Path, extra: &[&str]) -> Run {
    let mut command = against(emulator, home);
    command.args(["--json", "campaign", "create", "--store", store, "--from", "5000123456", "--text", TEXT, "--csv"]);
    command.arg(csv).args(extra);
    run(&mut command)
}

fn status(emulator: &RunningEmulator, home: &TempDir, store: &str, id: i64) -> serde_json::Value {
    let mut command = against(emulator, home);
    command.args(["--json", "campaign", "status", "--store", store, &id.to_string()]);
    run(&mut command).expect_code(0).json()
}

#[test]
fn a_campaign_is_imported_then_sent_once_by_two_worker_processes() {
    let emulator = panel(|account| account);
    let home = TempDir::new("campaign-two-workers");
    let all = numbers(250);
    let csv = home.join("customers.csv");
    // Two repeats and an invalid row.
    let mut rows = all.clone();
    rows.extend([all[3].clone(), all[200].clone(), "0912".to_owned()]);
    write_csv(&csv, &rows);
    for store in stores(&home) {
        let created = create(&emulator, &home, &store, &csv, &[]);
        let json = created.expect_code(0).json();
        let id = json["campaign"].as_i64().expect("a campaign id");
        assert_eq!((json["recipients"].as_u64(), json["duplicates"].as_u64()), (Some(250), Some(2)), "{json}");
        assert_eq!((json["invalid"].as_u64(), json["batches"].as_u64()), (Some(1), Some(3)));
        let before = status(&emulator, &home, &store, id);
        assert_eq!(before["batches"]["pending"], 3, "{before}");

        let workers: Vec<_> = (0..2)
            .map(|_| {
                let mut command = against(&emulator, &home);
                command.args(["--json", "worker", "--store", &store, "--until-idle", "--workers", "2"]);
                command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("a worker")
            })
            .collect();
        let mut sent = 0;
        for worker in workers {
            let output = worker.wait_with_output().expect("the worker ends");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{stderr}");
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
            sent += report["sent"].as_u64().unwrap_or(0);
        }
        assert_eq!(sent, 3);
        let after = status(&emulator, &home, &store, id);
        assert_eq!((after["batches"]["sent"].as_u64(), after["accepted"].as_u64()), (Some(3), Some(250)), "{after}");
        assert_eq!(after["recipients_by_state"]["sent"], 250);
        let counts = sent_counts(&emulator, "demo");
        assert_eq!(counts.len(), 250);
        assert!(counts.values().all(|&count| count == 1), "{counts:?}");
        assert!(emulator.send_calls().repeated.is_empty());
        // The same key again: the same campaign, nothing imported twice.
        let again = create(&emulator, &home, &store, &csv, &["--idempotency-key", "k1"]).expect_code(0).json();
        let same = create(&emulator, &home, &store, &csv, &["--idempotency-key", "k1"]).expect_code(0).json();
        assert_eq!((same["campaign"].clone(), same["existed"].clone()), (again["campaign"].clone(), true.into()));
        run(against(&emulator, &home).args(["--json", "worker", "--store", &store, "--until-idle"])).expect_code(0);
        assert!(sent_counts(&emulator, "demo").values().all(|&count| count == 2), "the second campaign, once");
        emulator_reset(&emulator);
    }
}

pub fn emulator_reset(emulator: &RunningEmulator) {
    let (status, _) = crate::support::http(
        "POST",
        &format!("http://{}/admin/reset", emulator.local_addr()),
        Some("application/json"),
        "{}",
    );
    assert_eq!(status, 200);
}

#[test]
fn a_throttled_account_is_paused_and_its_batches_wait_instead_of_failing() {
    // The panel takes 4 calls a second; the store knows no limit, so the worker meets the throttling.
    let emulator = panel(|account| account.send_rate(4.0, 1));
    let home = TempDir::new("campaign-throttled");
    let csv = home.join("customers.csv");
    write_csv(&csv, &numbers(600));
    let store = format!("sqlite:{}", home.join("c.db").display());
    let id = create(&emulator, &home, &store, &csv, &[]).expect_code(0).json()["campaign"].as_i64().unwrap();
    let worker =
        run(against(&emulator, &home).args(["--json", "worker", "--store", &store, "--until-idle", "--workers", "3"]));
    let report = worker.expect_code(0).json();
    assert_eq!(report["sent"], 6, "{report}");
    assert!(report["deferred"].as_u64().unwrap_or(0) > 0, "the panel throttled some: {report}");
    assert_eq!(status(&emulator, &home, &store, id)["batches"]["sent"], 6);
    assert!(sent_counts(&emulator, "demo").values().all(|&count| count == 1));
    let calls = emulator.send_calls();
    assert!(calls.repeated.is_empty() && calls.throttled.get("demo").copied().unwrap_or(0) > 0, "{calls:?}");
}

#[test]
fn a_rate_in_the_store_keeps_workers_under_the_panel_limit() {
    let emulator = panel(|account| account.send_rate(20.0, 2));
    let home = TempDir::new("campaign-rate");
    let csv = home.join("customers.csv");
    write_csv(&csv, &numbers(1000));
    let store = format!("sqlite:{}", home.join("c.db").display());
    create(&emulator, &home, &store, &csv, &["--rate", "10", "--burst", "2"]).expect_code(0);
    let started = std::time::Instant::now();
    let report =
        run(against(&emulator, &home).args(["--json", "worker", "--store", &store, "--until-idle", "--workers", "4"]))
            .expect_code(0)
            .json();
    assert_eq!((report["sent"].as_u64(), report["deferred"].as_u64()), (Some(10), Some(0)), "{report}");
    // 10 calls at 10/s with a burst of 2: at least 0.8 s.
    assert!(started.elapsed() >= std::time::Duration::from_millis(750), "{:?}", started.elapsed());
    assert!(emulator.send_calls().throttled.is_empty());
}

#[test]
fn store_urls_are_checked_and_never_show_a_password() {
    let emulator = panel(|account| account);
    let home = TempDir::new("campaign-urls");
    let csv = home.join("c.csv");
    write_csv(&csv, &numbers(3));
    let bad = create(&emulator, &home, "campaigns.db", &csv, &[]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("sqlite:PATH"), "{}", bad.stderr);
    let closed = crate::support::closed_port();
    let url = format!("postgres://payamak:hunter2@127.0.0.1:{closed}/payamak");
    let refused = create(&emulator, &home, &url, &csv, &[]);
    assert_ne!(refused.code, Some(0));
    assert!(!format!("{}{}", refused.stdout, refused.stderr).contains("hunter2"), "{}", refused.stderr);
    // A file that is not a store is refused, and left as it was.
    std::fs::write(home.join("notes.db"), "notes, not a database\n".repeat(300)).unwrap();
    let store = format!("sqlite:{}", home.join("notes.db").display());
    let refused = create(&emulator, &home, &store, &csv, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(home.join("notes.db")).unwrap(), "notes, not a database\n".repeat(300));
    let unknown = run(against(&emulator, &home).args([
        "campaign",
        "status",
        "--store",
        &format!("sqlite:{}", home.join("n.db").display()),
        "7",
    ]));
    unknown.expect_code(2);
    assert!(unknown.stderr.contains("no campaign 7"), "{}", unknown.stderr);
}

#[test]
fn a_reserve_needs_a_rate_and_leaves_campaigns_part_of_the_burst() {
    let emulator = panel(|account| account);
    let home = TempDir::new("campaign-reserve");
    let csv = home.join("c.csv");
    write_csv(&csv, &numbers(3));
    let store = format!("sqlite:{}", home.join("c.db").display());
    let no_rate = create(&emulator, &home, &store, &csv, &["--reserve", "1"]);
    no_rate.expect_code(2);
    assert!(no_rate.stderr.contains("--reserve needs --rate"), "{}", no_rate.stderr);
    let whole = create(&emulator, &home, &store, &csv, &["--rate", "10", "--burst", "2", "--reserve", "2"]);
    whole.expect_code(2);
    assert!(whole.stderr.contains("less than --burst"), "{}", whole.stderr);
    create(&emulator, &home, &store, &csv, &["--rate", "10", "--burst", "3", "--reserve", "1"]).expect_code(0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let accounts = runtime.block_on(async {
        use payamak::campaign::Store as _;
        let store = payamak::campaign::SqliteStore::open(home.join("c.db")).expect("the store");
        store.accounts().await.expect("the accounts")
    });
    let rate = accounts[0].account.rate.expect("a rate");
    assert_eq!((rate.burst, rate.reserve), (3, 1));
}

#[test]
fn a_worker_follows_the_deliveries_of_what_it_sent_until_they_are_final() {
    let all = numbers(250);
    let timing = payamak_emulator::DeliveryTiming {
        reach_operator_after: std::time::Duration::from_millis(200),
        final_after: std::time::Duration::from_millis(600),
        update_interval: std::time::Duration::from_millis(300),
    };
    let emulator = emulator_with(
        Emulator::builder()
            .account(Account::demo().unlimited().credit(1e9))
            .delivery_timing(timing)
            .unreachable(&all[7]),
    );
    let home = TempDir::new("campaign-deliveries");
    let csv = home.join("customers.csv");
    write_csv(&csv, &all);
    for store in stores(&home) {
        let id = create(&emulator, &home, &store, &csv, &[]).expect_code(0).json()["campaign"].as_i64().expect("id");
        let mut worker = against(&emulator, &home);
        worker.args(["--json", "worker", "--store", &store, "--until-idle", "--delivery-schedule", "0.3,0.8,1.5,3,6"]);
        worker.args(["--delivery-interval", "0.3", "--delivery-wait", "10"]);
        let report = run(&mut worker).expect_code(0).json();
        assert_eq!(report["sent"].as_u64(), Some(3), "{report}");
        assert!(report["delivery_reads"].as_u64() >= Some(250), "{report}");
        let status = status(&emulator, &home, &store, id);
        let deliveries = &status["deliveries"];
        assert_eq!(deliveries["tracked"].as_u64(), Some(250), "{status}");
        assert_eq!(deliveries["settled"].as_u64(), Some(250), "{status}");
        assert_eq!(deliveries["following_batches"].as_u64(), Some(0), "{status}");
        let statuses: Vec<(i64, u64, bool)> = deliveries["statuses"]
            .as_array()
            .expect("statuses")
            .iter()
            .map(|row| {
                (row["code"].as_i64().unwrap_or(-1), row["recipients"].as_u64().unwrap_or(0), row["final"] == true)
            })
            .collect();
        assert_eq!(statuses, [(1, 249, true), (2, 1, true)], "{status}");
        // The text form lists them too; a worker told not to read leaves them.
        let mut text = against(&emulator, &home);
        text.args(["campaign", "status", "--store", &store, &id.to_string()]);
        let shown = run(&mut text);
        shown.expect_code(0);
        assert!(shown.stdout.contains("delivered to the handset"), "{}", shown.stdout);
        assert!(shown.stdout.contains("250 followed, 250 final"), "{}", shown.stdout);
    }
}

#[test]
fn a_worker_told_not_to_read_deliveries_leaves_them_for_another() {
    let emulator = emulator_with(Emulator::builder().account(Account::demo().unlimited().credit(1e9)));
    let home = TempDir::new("campaign-no-deliveries");
    let csv = home.join("customers.csv");
    write_csv(&csv, &numbers(120));
    let store = format!("sqlite:{}", home.join("c.db").display());
    let id = create(&emulator, &home, &store, &csv, &[]).expect_code(0).json()["campaign"].as_i64().expect("id");
    let mut worker = against(&emulator, &home);
    worker.args(["--json", "worker", "--store", &store, "--until-idle", "--no-deliveries"]);
    let report = run(&mut worker).expect_code(0).json();
    assert_eq!((report["sent"].as_u64(), report["delivery_polls"].as_u64()), (Some(2), Some(0)), "{report}");
    let status = status(&emulator, &home, &store, id);
    assert_eq!(status["deliveries"]["tracked"].as_u64(), Some(120), "{status}");
    assert_eq!(status["deliveries"]["unread"].as_u64(), Some(120), "{status}");
    assert_eq!(status["deliveries"]["following_batches"].as_u64(), Some(2), "{status}");
    let mut bad = against(&emulator, &home);
    bad.args(["worker", "--store", &store, "--until-idle", "--delivery-schedule", "5,1"]);
    let bad = run(&mut bad);
    bad.expect_code(2);
    assert!(bad.stderr.contains("increasing order"), "{}", bad.stderr);
}
