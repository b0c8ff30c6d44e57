//! `send-bulk --store` when a commit of the store fails (a full disk, an I/O
//! error; `PAYAMAK_TEST_STORE_FAIL`): a batch whose attempt could not be
//! recorded is not sent, and a sent batch whose outcome could not be recorded
//! is unknown, never sent again unless `--resend-unknown` asks.

use std::path::Path;

use payamak_emulator::RunningEmulator;

use crate::send_bulk::assert_received;
use crate::support::{against, emulator, numbers, run, write_csv, Run, TempDir};

const TEXT: &str = "حراج امروز";

/// `send-bulk --store sqlite:…` of `csv`, one batch at a time, with the store's commit `fail` failing.
fn bulk(emulator: &RunningEmulator, home: &TempDir, csv: &Path, extra: &[&str], fail: Option<&str>) -> Run {
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let mut command = against(emulator, home);
    command.args(["--json", "send-bulk", "--store", &store, "--concurrency", "1", "--from", "5000123456"]);
    command.args(["--text", TEXT, "--csv"]).arg(csv).args(extra);
    if let Some(point) = fail {
        command.env("PAYAMAK_TEST_STORE_FAIL", point);
    }
    run(&mut command)
}

/// No recipient got two messages, and no SendSms call was repeated.
fn assert_no_double(emulator: &RunningEmulator) {
    let calls = emulator.send_calls();
    assert!(calls.repeated.is_empty(), "{:?}", calls.repeated);
}

#[test]
fn with_a_store_a_batch_whose_attempt_cannot_be_committed_is_not_sent() {
    // The 1st attempt is a claim on its own; the 2nd goes with batch 1's outcome, which is recorded.
    for nth in [1, 2] {
        let emulator = emulator();
        let home = TempDir::new(&format!("bulk-store-fail-attempt-{nth}"));
        let all = numbers(250);
        let csv = home.join("list.csv");
        write_csv(&csv, &all);
        let point = format!("attempt:{nth}");
        let failed = bulk(&emulator, &home, &csv, &[], Some(&point));
        // Definitely not sent (3), not unknown (4): nothing was left attempting.
        failed.expect_code(3);
        assert!(failed.stderr.contains("the job store"), "{}", failed.stderr);
        assert!(failed.stderr.contains("No space left on device"), "{}", failed.stderr);
        let json = failed.json();
        assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(nth as u64 * 100 - 100), Some(0)));
        assert!(
            failed.stderr.contains("the job store sqlite:") && failed.stderr.contains("sends.db"),
            "{}",
            failed.stderr
        );
        let before = (nth - 1) * 100;
        assert_received(&emulator, &all, |index| usize::from(index < before));

        // Without the failure: the batches left go, each once; the first run's are not sent again.
        let rerun = bulk(&emulator, &home, &csv, &[], None);
        let json = rerun.expect_code(0).json();
        assert_eq!((json["resumed"].clone(), json["accepted"].clone()), (true.into(), 250.into()), "{json}");
        assert_eq!((json["unknown"].as_u64(), json["not_attempted"].as_u64()), (Some(0), Some(0)), "{json}");
        assert_received(&emulator, &all, |_| 1);
        assert_no_double(&emulator);
    }
}

#[test]
fn with_a_store_a_sent_batch_whose_outcome_cannot_be_committed_is_unknown_and_not_sent_again() {
    // Batch 1's outcome goes with batch 2's claim; batch 3's with a claim that finds nothing.
    for nth in [1, 3] {
        let emulator = emulator();
        let home = TempDir::new(&format!("bulk-store-fail-outcome-{nth}"));
        let store = format!("sqlite:{}", home.join("sends.db").display());
        let all = numbers(250);
        let csv = home.join("list.csv");
        write_csv(&csv, &all);
        let lost = (nth - 1) * 100..(nth * 100).min(250);
        let recipients = lost.len() as u64;
        let point = format!("outcome:{nth}");
        let failed = bulk(&emulator, &home, &csv, &[], Some(&point));
        let json = failed.expect_code(4).json();
        assert_eq!(json["unknown"].as_u64(), Some(recipients), "{json}");
        // The run stops there: the batches before it were sent, those after it not started.
        let before = (nth as u64 - 1) * 100;
        assert_eq!(json["accepted"].as_u64(), Some(before), "{json}");
        assert_eq!(json["not_attempted"].as_u64(), Some(250 - before - recipients), "{json}");
        assert_eq!(json["batch_results"][nth - 1]["status"], "unknown", "{json}");
        let message = format!("batch {nth}: its outcome could not be recorded");
        assert!(failed.stderr.contains(&message), "{}", failed.stderr);
        assert!(failed.stderr.contains("the job store") && failed.stderr.contains("stopping"), "{}", failed.stderr);
        // It was sent, once.
        assert_received(&emulator, &all, |index| usize::from(index < lost.end));

        // Reruns do not send it again.
        for _ in 0..2 {
            let rerun = bulk(&emulator, &home, &csv, &[], None);
            let json = rerun.expect_code(4).json();
            assert_eq!(
                (json["accepted"].as_u64(), json["unknown"].as_u64()),
                (Some(250 - recipients), Some(recipients))
            );
            assert_received(&emulator, &all, |_| 1);
        }
        assert_no_double(&emulator);

        // Once the reaper calls it unknown, a person may ask for it again: its recipients get two.
        let reaper = run(against(&emulator, &home)
            .args(["--json", "worker", "--store", &store, "--until-idle", "--no-deliveries"])
            .args(["--unknown-after", "0.001"]));
        reaper.expect_code(0);
        assert_received(&emulator, &all, |_| 1);
        let forced = bulk(&emulator, &home, &csv, &["--resend-unknown"], None);
        let json = forced.expect_code(0).json();
        assert_eq!(json["accepted"], 250, "{json}");
        assert!(forced.stderr.contains("may get the message twice"), "{}", forced.stderr);
        assert_received(&emulator, &all, |index| 1 + usize::from(lost.contains(&index)));
    }
}

#[test]
fn a_worker_whose_store_stays_full_exits_4_when_a_sent_batch_is_unrecorded_and_3_when_none_went() {
    let (unrecorded, full) = ("its outcome could not be recorded", "No space left on device");
    for (point, code, sent, says) in [("outcome:1+", 4, 100, unrecorded), ("attempt:1+", 3, 0, full)] {
        let emulator = emulator();
        let home = TempDir::new("worker-store-full");
        let store = format!("sqlite:{}", home.join("sends.db").display());
        let all = numbers(250);
        let csv = home.join("list.csv");
        write_csv(&csv, &all);
        crate::campaign::create(&emulator, &home, &store, &csv, &[]).expect_code(0);
        let mut command = against(&emulator, &home);
        command.args(["worker", "--store", &store, "--until-idle", "--no-deliveries", "--workers", "1"]);
        let worker = run(command.env("PAYAMAK_TEST_STORE_FAIL", point));
        worker.expect_code(code);
        assert!(worker.stderr.contains(says), "{point}: {}", worker.stderr);
        // Batch 1 went (its outcome unrecorded), and nothing after it.
        assert_received(&emulator, &all, |index| usize::from(index < sent));
    }
}

#[test]
fn a_worker_stops_claiming_once_an_outcome_goes_unrecorded_and_a_later_run_sends_the_rest() {
    let emulator = emulator();
    let home = TempDir::new("worker-outcome-lost");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    crate::campaign::create(&emulator, &home, &store, &csv, &[]).expect_code(0);
    let worker = |fail: Option<&str>| {
        let mut command = against(&emulator, &home);
        command.args(["worker", "--store", &store, "--until-idle", "--no-deliveries", "--workers", "1"]);
        if let Some(point) = fail {
            command.env("PAYAMAK_TEST_STORE_FAIL", point);
        }
        run(&mut command)
    };
    // Only the first outcome fails to commit: the store works again at once, but the worker stops.
    let first = worker(Some("outcome:1"));
    first.expect_code(4);
    assert!(first.stderr.contains("stopped claiming"), "{}", first.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));
    worker(None).expect_code(0);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn a_batch_the_panel_shows_was_received_is_not_resent_even_when_asked() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-resend-found");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    // Batch 2 is sent and its outcome not recorded; the run stops there.
    bulk(&emulator, &home, &csv, &[], Some("outcome:2")).expect_code(4);
    assert_received(&emulator, &all, |index| usize::from(index < 200));
    // A worker's reaper calls it unknown; then, as a crash would, the mark says the run did not end.
    let reaper = run(against(&emulator, &home)
        .args(["--json", "worker", "--store", &store, "--until-idle", "--no-deliveries"])
        .args(["--unknown-after", "0.001"]));
    reaper.expect_code(0);
    let mark_path = home.join("list.csv.store");
    let mark = std::fs::read_to_string(&mark_path).unwrap();
    let mut mark: serde_json::Value = serde_json::from_str(&mark).unwrap();
    mark["ended"] = serde_json::Value::Null;
    std::fs::write(&mark_path, mark.to_string()).unwrap();

    // A person asks for the unknown batch again; the panel shows its recipients got it.
    let rerun = bulk(&emulator, &home, &csv, &["--resend-unknown"], None);
    let json = rerun.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(150), Some(100)), "{json}");
    assert!(rerun.stderr.contains("already received this text"), "{}", rerun.stderr);
    assert_received(&emulator, &all, |_| 1);
}
