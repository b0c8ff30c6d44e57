//! A bulk send against the emulator, beside the same SendSms calls made bare.
//!
//! `cargo bench --bench bulk [-- RECIPIENTS]` (default 10,000) sends one text to
//! that many recipients, in batches of 100, over loopback HTTP:
//! - baseline: the SendSms calls alone, four at a time, no journal;
//! - `BulkJob` over a durable `JsonLinesJournal` (each attempt synced before its
//!   batch leaves), at concurrency 4 (the default) and 1.
//!
//! Each row is its time as a ratio to the baseline measured in the same run,
//! against a fresh emulator each.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt as _};
use payamak::bulk::{BulkJob, JobHeader, JsonLinesJournal, NoObserver};
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::{Client, Sms};
use payamak_emulator::{Account, Emulator, RunningEmulator};

const CONCURRENCY: usize = payamak::bulk::DEFAULT_CONCURRENCY;
/// Each measurement is the median of this many runs, interleaved.
const RUNS: usize = 21;

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .without_demo()
        .account(Account::new("bulk", "bulk").credit(1e12).sender("5000123456"))
        .start()
        .await
        .expect("the emulator starts")
}

fn client(emulator: &RunningEmulator) -> Client {
    Client::builder().base_url(emulator.base_url()).credentials("bulk", "bulk").build().expect("client")
}

fn sms(recipients: usize) -> Sms {
    let numbers: Vec<String> = (0..recipients).map(|i| format!("0912{i:07}")).collect();
    Sms::new("5000123456", "حراج امروز").to(&numbers).expect("numbers")
}

/// The SendSms calls of the bulk send, `CONCURRENCY` at a time, without a journal.
async fn bare_calls(sms: &Sms) -> Duration {
    let emulator = emulator().await;
    let client = client(&emulator);
    let batches: Vec<Sms> = sms.batches(MAX_RECIPIENTS_PER_CALL).collect();
    let started = Instant::now();
    let sent: Vec<_> =
        stream::iter(&batches).map(|batch| client.send(batch)).buffer_unordered(CONCURRENCY).collect().await;
    let elapsed = started.elapsed();
    assert!(sent.iter().all(Result::is_ok), "every call is accepted");
    emulator.shutdown().await;
    elapsed
}

/// The bulk send through `BulkJob` over a fresh durable journal, opening it included.
async fn bulk_job(sms: &Sms, concurrency: usize, journal_dir: &std::path::Path) -> Duration {
    let emulator = emulator().await;
    let client = client(&emulator);
    let path = journal_dir.join(format!("bulk-{concurrency}.journal"));
    let _ = std::fs::remove_file(&path);
    let header = JobHeader::new(sms, MAX_RECIPIENTS_PER_CALL, vec![emulator.base_url()], "bulk");
    let started = Instant::now();
    let mut journal = JsonLinesJournal::open(&path, header).expect("journal");
    let job = BulkJob::new(&client, sms).expect("job").concurrency(concurrency);
    let report = job.run(&mut journal, &mut NoObserver).await.expect("run");
    let elapsed = started.elapsed();
    assert!(report.is_complete(), "every recipient is accepted");
    drop(journal);
    let _ = std::fs::remove_file(&path);
    emulator.shutdown().await;
    elapsed
}

fn main() {
    let recipients = std::env::args().skip(1).find_map(|arg| arg.parse::<usize>().ok()).unwrap_or(10_000);
    let sms = sms(recipients);
    // The journal goes where a user's would: a real directory, not tmpfs.
    let journal_dir = std::env::current_dir().expect("current directory").join("target");
    let _ = std::fs::create_dir_all(&journal_dir);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let _warm_up = bare_calls(&sms).await;
        let (mut baseline, mut concurrent, mut sequential) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            baseline.push(bare_calls(&sms).await);
            concurrent.push(bulk_job(&sms, CONCURRENCY, &journal_dir).await);
            sequential.push(bulk_job(&sms, 1, &journal_dir).await);
        }
        let baseline = median(baseline);
        println!(
            "bulk send of {recipients} recipients ({} SendSms calls) against the emulator, median of {RUNS} runs",
            recipients.div_ceil(MAX_RECIPIENTS_PER_CALL)
        );
        let row = |name: &str, time: Duration| {
            let ratio = time.as_secs_f64() / baseline.as_secs_f64();
            println!("{name:>44}: {:>8.1} ms ({ratio:.2}× the baseline)", time.as_secs_f64() * 1e3);
        };
        row(&format!("baseline: the calls alone, {CONCURRENCY} at a time"), baseline);
        row(&format!("BulkJob + JsonLinesJournal, concurrency {CONCURRENCY}"), median(concurrent));
        row("BulkJob + JsonLinesJournal, concurrency 1", median(sequential));
    });
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
