//! `send-bulk --journal` with attempts written ahead of their turn (the
//! default): each batch leaves the moment a place frees, and a crash of the
//! process still leaves no batch unknown that the journal can show never left.

use crate::send_bulk::{assert_received, bulk_with, journal_lines, journal_of, CRASH_EXIT_CODE, TEXT};
use crate::support::{against, emulator, numbers, run, sent_counts, write_csv, TempDir};

/// One batch on its way at a time, and the two after it written ahead.
const AHEAD: [&str; 4] = ["--concurrency", "1", "--write-ahead", "2"];

/// The 0-based batches of the journal's lines of `kind`, in file order.
fn batches_of(journal: &[serde_json::Value], kind: &str) -> Vec<u64> {
    journal.iter().filter(|line| line["type"] == kind).filter_map(|line| line["batch"].as_u64()).collect()
}

#[test]
fn each_batch_is_written_ahead_then_noted_leaving_then_answered() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ahead-full");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let json = bulk_with(&emulator, &home, &csv, &AHEAD, None).expect_code(0).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(250), Some(0)), "{json}");
    assert_received(&emulator, &all, |_| 1);

    let journal = journal_lines(&journal_of(&csv));
    let position = |kind: &str, batch: u64| {
        journal.iter().position(|line| line["type"] == kind && line["batch"] == batch).expect("a line per batch")
    };
    for batch in 0..3 {
        assert!(position("attempt", batch) < position("leaving", batch), "batch {batch}");
        assert!(position("leaving", batch) < position("outcome", batch), "batch {batch}");
        let attempt = &journal[position("attempt", batch)];
        assert!(attempt["boot"].as_str().is_some_and(|boot| boot.len() == 36), "{attempt}");
    }
    // All three attempts went in the first write, before the first batch left.
    assert_eq!(batches_of(&journal[..4], "attempt"), [0, 1, 2]);
    for kind in ["attempt", "leaving", "outcome"] {
        assert_eq!(batches_of(&journal, kind), [0, 1, 2], "one {kind} line a batch");
    }
    assert!(batches_of(&journal, "withdrawn").is_empty());
}

#[test]
fn killed_before_the_batches_written_ahead_left_the_next_run_sends_them_once() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ahead-attempt");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // The three attempts are on disk; none of the batches left.
    bulk_with(&emulator, &home, &csv, &AHEAD, Some("attempt:1")).expect_code(CRASH_EXIT_CODE);
    assert!(sent_counts(&emulator, "demo").is_empty());

    let resumed = bulk_with(&emulator, &home, &csv, &AHEAD, None);
    let json = resumed.expect_code(0).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(250), Some(0)), "{json}");
    assert!(
        resumed.stderr.contains(
            "batches 1, 2 and 3 had been written ahead by a run that stopped before sending them: they never left"
        ),
        "{}",
        resumed.stderr
    );
    assert_received(&emulator, &all, |_| 1);
    // The file says so itself, should the machine go down before the next run.
    assert_eq!(batches_of(&journal_lines(&journal_of(&csv)), "withdrawn"), [0, 1, 2]);
}

#[test]
fn killed_after_a_batch_was_noted_leaving_it_is_unknown_until_forced_and_the_next_one_is_sent() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ahead-leaving");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // Batch 1 was answered; batch 2 was noted leaving and died with the process; batch 3 was written ahead.
    bulk_with(&emulator, &home, &csv, &AHEAD, Some("leaving:2")).expect_code(CRASH_EXIT_CODE);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    let resumed = bulk_with(&emulator, &home, &csv, &AHEAD, None);
    let json = resumed.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(150), Some(100)), "{json}");
    assert_eq!(json["batch_results"][1]["status"], "unknown");
    assert!(resumed.stderr.contains("batch 3 had been written ahead"), "{}", resumed.stderr);
    assert_received(&emulator, &all, |index| usize::from(!(100..200).contains(&index)));

    // Having checked the panel, the user forces it.
    let forced = bulk_with(&emulator, &home, &csv, &[&AHEAD[..], &["--resend-unknown"]].concat(), None);
    assert_eq!(forced.expect_code(0).json()["accepted"], 250);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn killed_after_an_answer_was_noted_that_batch_is_known_to_be_sent() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ahead-answer");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // Batch 1's answer is in the file (not synced yet), and batch 2 was noted
    // leaving; the process dies as batch 1's outcome is about to be synced.
    bulk_with(&emulator, &home, &csv, &AHEAD, Some("send:1")).expect_code(CRASH_EXIT_CODE);

    let resumed = bulk_with(&emulator, &home, &csv, &AHEAD, None);
    let json = resumed.expect_code(4).json();
    assert_eq!(json["batch_results"][0]["status"], "sent", "{json}");
    assert_eq!(json["batch_results"][0]["this_run"], false, "{json}");
    assert_eq!(json["batch_results"][1]["status"], "unknown", "{json}");
    assert_eq!(json["batch_results"][2]["status"], "sent", "{json}");
    let counts = sent_counts(&emulator, "demo");
    for (index, number) in all.iter().enumerate() {
        let got = counts.get(number).copied().unwrap_or(0);
        match index {
            100..200 => assert!(got <= 1, "{number} got {got}"),
            _ => assert_eq!(got, 1, "{number}"),
        }
    }
}

#[test]
fn a_departure_that_cannot_be_noted_stops_the_run_and_the_next_run_sends_the_rest() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ahead-fail");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    let mut failing = against(&emulator, &home);
    failing.args(["--json", "send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"]).arg(&csv).args(AHEAD);
    failing.arg("--journal").arg(journal_of(&csv)).env("PAYAMAK_TEST_JOURNAL_FAIL", "leaving:2");
    let failed = run(&mut failing);
    let json = failed.expect_code(3).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(100), Some(0)), "{json}");
    assert_eq!(json["not_attempted"], 150, "batches 2 and 3 are as if never started: {json}");
    for batch in [2, 3] {
        let line = format!("batch {batch} was not sent: the journal could not be written");
        assert!(failed.stderr.contains(&line), "{}", failed.stderr);
    }
    assert_received(&emulator, &all, |index| usize::from(index < 100));
    assert_eq!(batches_of(&journal_lines(&journal_of(&csv)), "withdrawn"), [1, 2]);

    let resumed = bulk_with(&emulator, &home, &csv, &AHEAD, None);
    assert_eq!(resumed.expect_code(0).json()["accepted"], 250);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn write_ahead_goes_with_a_journal() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ahead-store");
    let csv = home.join("list.csv");
    write_csv(&csv, &numbers(10));
    let mut command = against(&emulator, &home);
    command.args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--write-ahead", "2", "--csv"]).arg(&csv);
    let refused = run(&mut command);
    refused.expect_code(2);
    assert!(refused.stderr.contains("--journal"), "{}", refused.stderr);
    assert!(sent_counts(&emulator, "demo").is_empty());
}
