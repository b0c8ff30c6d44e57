//! Bulk sends with a journal (`send-bulk --journal`): batches, the journal, and
//! resuming after a crash without sending anyone twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use payamak_emulator::RunningEmulator;

use crate::support::{against, emulator, numbers, run, sent_counts, write_csv, Run, TempDir};

pub const TEXT: &str = "حراج امروز";
pub const CRASH_EXIT_CODE: i32 = 86;

/// A `send-bulk` run one batch at a time, each attempt written just before
/// its batch leaves, so that crash points and scripted failures meet the
/// batches in order (`concurrent_*` and `written_ahead_*` tests do not).
fn bulk(emulator: &RunningEmulator, home: &TempDir, csv: &Path, extra: &[&str], crash: Option<&str>) -> Run {
    bulk_with(emulator, home, csv, &[&["--concurrency", "1", "--write-ahead", "0"], extra].concat(), crash)
}

/// A `send-bulk` run with a journal: `<csv>.journal` unless `extra` names one.
pub fn bulk_with(emulator: &RunningEmulator, home: &TempDir, csv: &Path, extra: &[&str], crash: Option<&str>) -> Run {
    let mut command = against(emulator, home);
    command.args(["--json", "send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"]).arg(csv).args(extra);
    if !extra.contains(&"--journal") {
        command.arg("--journal").arg(journal_of(csv));
    }
    if let Some(crash) = crash {
        command.env("PAYAMAK_TEST_CRASH", crash);
    }
    run(&mut command)
}

/// Every number of `all` received exactly `expected(number)` messages, and nobody else any.
#[track_caller]
pub fn assert_received(emulator: &RunningEmulator, all: &[String], expected: impl Fn(usize) -> usize) {
    let counts = sent_counts(emulator, "demo");
    for (index, number) in all.iter().enumerate() {
        let got = counts.get(number).copied().unwrap_or(0);
        assert_eq!(got, expected(index), "{number} (recipient #{index}) received {got} messages");
    }
    assert!(counts.keys().all(|number| all.contains(number)), "only the CSV's numbers were sent to");
}

/// The journal a run of `csv` is given: `<csv>.journal`.
pub fn journal_of(csv: &Path) -> std::path::PathBuf {
    let mut journal = csv.as_os_str().to_owned();
    journal.push(".journal");
    journal.into()
}

pub fn journal_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        // After a crash the file ends with the zeros its writer kept ahead.
        .trim_end_matches('\0')
        .lines()
        .map(|line| serde_json::from_str(line).expect("each journal line is JSON"))
        .collect()
}

#[test]
fn a_full_run_sends_everyone_once_in_batches_of_100() {
    let emulator = emulator();
    let home = TempDir::new("bulk-full");
    let all = numbers(250);
    let csv = home.join("customers.csv");
    write_csv(&csv, &all);

    let result = bulk(&emulator, &home, &csv, &[], None);
    let json = result.expect_code(0).json();
    assert_eq!(json["recipients"], 250);
    assert_eq!(json["batches"], 3);
    assert_eq!(json["accepted"], 250);
    assert_eq!(json["refused"], 0);
    assert_eq!(json["unknown"], 0);
    assert_eq!(json["not_attempted"], 0);
    assert_eq!(json["resumed"], false);
    assert_received(&emulator, &all, |_| 1);
    let batches: BTreeMap<u64, usize> =
        emulator.account_snapshot("demo").unwrap().sent.iter().fold(BTreeMap::new(), |mut sizes, sent| {
            *sizes.entry(sent.batch).or_default() += 1;
            sizes
        });
    assert_eq!(batches.values().copied().collect::<Vec<_>>(), [100, 100, 50]);

    // The journal: a header, then an attempt and an outcome per batch.
    let journal = journal_lines(&home.join("customers.csv.journal"));
    let kinds: Vec<&str> = journal.iter().map(|line| line["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["header", "attempt", "outcome", "attempt", "outcome", "attempt", "outcome"]);
    assert_eq!(journal[2]["result"]["recipients"][0]["number"], all[0]);

    // Running it again sends nothing.
    let again = bulk(&emulator, &home, &csv, &[], None);
    let again = again.expect_code(0).json();
    assert_eq!(again["resumed"], true);
    assert_eq!(again["accepted"], 250);
    assert_received(&emulator, &all, |_| 1);

    // The human summary.
    let human =
        run(against(&emulator, &home).args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"]).arg(&csv));
    human.expect_code(0);
    assert!(human.stdout.contains("accepted") && human.stdout.contains("250"), "{}", human.stdout);
}

#[test]
fn killed_after_a_journaled_batch_it_resumes_with_the_rest() {
    let emulator = emulator();
    let home = TempDir::new("bulk-outcome");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    let crashed = bulk(&emulator, &home, &csv, &[], Some("outcome:1"));
    crashed.expect_code(CRASH_EXIT_CODE);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    let resumed = bulk(&emulator, &home, &csv, &[], None);
    let json = resumed.expect_code(0).json();
    assert_eq!(json["resumed"], true);
    assert_eq!(json["accepted"], 250);
    assert_eq!(json["batch_results"][0]["this_run"], false);
    assert_eq!(json["batch_results"][1]["this_run"], true);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn killed_after_the_attempt_was_journaled_the_batch_is_unknown_until_forced() {
    let emulator = emulator();
    let home = TempDir::new("bulk-attempt");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // Batch 2's attempt is on disk, but it was never sent.
    bulk(&emulator, &home, &csv, &[], Some("attempt:2")).expect_code(CRASH_EXIT_CODE);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    // Resuming does not send it: its outcome is unknown. Batch 3 is sent.
    let resumed = bulk(&emulator, &home, &csv, &[], None);
    let json = resumed.expect_code(4).json();
    assert_eq!(json["accepted"], 150);
    assert_eq!(json["unknown"], 100);
    assert_eq!(json["not_attempted"], 0);
    assert_eq!(json["batch_results"][1]["status"], "unknown");
    assert!(resumed.stderr.contains("--resend-unknown"), "{}", resumed.stderr);
    assert_received(&emulator, &all, |index| usize::from(!(100..200).contains(&index)));

    // Still not, on another run.
    bulk(&emulator, &home, &csv, &[], None).expect_code(4);
    assert_received(&emulator, &all, |index| usize::from(!(100..200).contains(&index)));

    // Having checked the panel (nothing went out), the user forces it.
    let forced = bulk(&emulator, &home, &csv, &["--resend-unknown"], None);
    let json = forced.expect_code(0).json();
    assert_eq!(json["accepted"], 250);
    assert_eq!(json["unknown"], 0);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn a_batch_sent_but_not_journaled_is_never_sent_again() {
    let emulator = emulator();
    let home = TempDir::new("bulk-send");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // Batch 2 reached the panel; the process died before journaling its outcome.
    bulk(&emulator, &home, &csv, &[], Some("send:2")).expect_code(CRASH_EXIT_CODE);
    assert_received(&emulator, &all, |index| usize::from(index < 200));

    for _ in 0..2 {
        let resumed = bulk(&emulator, &home, &csv, &[], None);
        let json = resumed.expect_code(4).json();
        assert_eq!(json["accepted"], 150);
        assert_eq!(json["unknown"], 100);
        assert_eq!(json["batch_results"][1]["status"], "unknown");
        assert_eq!(json["batch_results"][2]["status"], "sent");
        // Nobody got two messages: batch 2's recipients got exactly the one from the crashed run.
        assert_received(&emulator, &all, |_| 1);
    }
}

#[test]
fn concurrent_batches_reach_everyone_once_each_attempt_journaled_before_its_outcome() {
    let emulator = emulator();
    let home = TempDir::new("bulk-concurrent");
    let all = numbers(1000);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let json = bulk_with(&emulator, &home, &csv, &["--concurrency", "4"], None).expect_code(0).json();
    assert_eq!((json["accepted"].as_u64(), json["batches"].as_u64()), (Some(1000), Some(10)));
    assert_received(&emulator, &all, |_| 1);
    let journal = journal_lines(&home.join("list.csv.journal"));
    let line_of = |kind: &str, batch: u64| {
        journal.iter().position(|line| line["type"] == kind && line["batch"] == batch).expect("a line per batch")
    };
    for batch in 0..10 {
        assert!(line_of("attempt", batch) < line_of("outcome", batch), "batch {batch}");
    }
}

#[test]
fn killed_with_batches_on_their_way_nobody_gets_two_messages() {
    let emulator = emulator();
    let home = TempDir::new("bulk-concurrent-kill");
    let all = numbers(1000);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // The third answer came in; the process dies before journaling it. Up to three more were on their way.
    let parallel = ["--concurrency", "4"];
    bulk_with(&emulator, &home, &csv, &parallel, Some("send:3")).expect_code(CRASH_EXIT_CODE);
    assert!(sent_counts(&emulator, "demo").values().all(|&count| count == 1));

    let resumed = bulk_with(&emulator, &home, &csv, &parallel, None);
    let json = resumed.expect_code(4).json();
    let (accepted, unknown) = (json["accepted"].as_u64().unwrap(), json["unknown"].as_u64().unwrap());
    assert_eq!(accepted + unknown, 1000, "{json}");
    assert!((100..=400).contains(&unknown), "the batches on their way at the crash are unknown: {json}");
    let counts = sent_counts(&emulator, "demo");
    assert!(counts.values().all(|&count| count == 1), "nobody received two messages");
    assert!(counts.len() as u64 >= accepted);
}

#[test]
fn a_real_kill_in_the_middle_never_causes_a_second_message() {
    let emulator = emulator();
    let home = TempDir::new("bulk-kill");
    let all = numbers(250);
    let csv = home.join("list.csv");
    let journal = home.join("list.csv.journal");
    write_csv(&csv, &all);

    let mut child = against(&emulator, &home)
        .args(["--json", "send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv))
        .env("PAYAMAK_TEST_BATCH_DELAY_MS", "300")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let outcomes = std::fs::read_to_string(&journal).map_or(0, |text| text.matches(r#""type":"outcome""#).count());
        if outcomes >= 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the first batch never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let resumed = bulk(&emulator, &home, &csv, &[], None);
    let json = resumed.json();
    let (accepted, unknown) = (json["accepted"].as_u64().unwrap(), json["unknown"].as_u64().unwrap());
    assert_eq!(accepted + unknown, 250, "{json}");
    assert_eq!(resumed.code, Some(if unknown == 0 { 0 } else { 4 }));
    let counts = sent_counts(&emulator, "demo");
    assert!(counts.values().all(|&count| count == 1), "nobody received two messages");
    assert!(counts.len() as u64 >= accepted);
}

#[test]
fn ctrl_c_finishes_the_current_batch_and_stops() {
    let emulator = emulator();
    let home = TempDir::new("bulk-ctrl-c");
    let all = numbers(250);
    let csv = home.join("list.csv");
    let journal = home.join("list.csv.journal");
    write_csv(&csv, &all);

    let child = against(&emulator, &home)
        .args(["--json", "send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv))
        .env("PAYAMAK_TEST_BATCH_DELAY_MS", "500")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |text| text.matches(r#""type":"outcome""#).count()) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the first batch never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["unknown"], 0, "the batch in flight was finished and journaled");
    assert_eq!(json["accepted"].as_u64().unwrap() + json["not_attempted"].as_u64().unwrap(), 250);
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));

    let resumed = bulk(&emulator, &home, &csv, &[], None);
    assert_eq!(resumed.expect_code(0).json()["accepted"], 250);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn a_journal_of_another_send_is_refused() {
    let emulator = emulator();
    let home = TempDir::new("bulk-mismatch");
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    bulk(&emulator, &home, &csv, &[], Some("outcome:1")).expect_code(CRASH_EXIT_CODE);

    let other_text = run(against(&emulator, &home)
        .args(["send-bulk", "--from", "5000123456", "--text", "another text", "--csv"])
        .arg(&csv));
    other_text.expect_code(2);
    assert!(other_text.stderr.contains("belongs to another send"), "{}", other_text.stderr);
    assert!(other_text.stderr.contains("the text differs"), "{}", other_text.stderr);

    let other_sender =
        run(against(&emulator, &home).args(["send-bulk", "--from", "3000987654", "--text", TEXT, "--csv"]).arg(&csv));
    other_sender.expect_code(2);
    assert!(other_sender.stderr.contains("the sender differs"), "{}", other_sender.stderr);

    write_csv(&csv, &numbers(151));
    let other_csv = bulk(&emulator, &home, &csv, &[], None);
    other_csv.expect_code(2);
    assert!(other_csv.stderr.contains("recipients differ"), "{}", other_csv.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    // A separate journal starts a separate send.
    let fresh = bulk(&emulator, &home, &csv, &["--journal", "other.journal"], None);
    assert_eq!(fresh.expect_code(0).json()["journal"], "other.journal");
}

#[test]
fn invalid_numbers_are_skipped_with_their_line_or_fatal_with_strict() {
    let emulator = emulator();
    let home = TempDir::new("bulk-invalid");
    let csv = home.join("list.csv");
    std::fs::write(&csv, "09121234567\n0912\n+98 935 123 4567\n09121234567\nhello\n").unwrap();

    let strict = bulk(&emulator, &home, &csv, &["--strict"], None);
    strict.expect_code(2);
    assert!(strict.stderr.contains("line 2") && strict.stderr.contains("line 5"), "{}", strict.stderr);
    assert!(emulator.account_snapshot("demo").unwrap().sent.is_empty());

    let lenient = bulk(&emulator, &home, &csv, &[], None);
    let json = lenient.expect_code(0).json();
    assert_eq!(json["recipients"], 2);
    assert_eq!(json["accepted"], 2);
    let lines: Vec<u64> = json["invalid"].as_array().unwrap().iter().map(|row| row["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 5]);
    assert_eq!(json["duplicates"][0]["line"], 4);
    assert!(lenient.stderr.contains("line 2: invalid mobile number \"0912\""), "{}", lenient.stderr);
    assert_eq!(sent_counts(&emulator, "demo").len(), 2);
}

#[test]
fn a_refused_batch_stops_the_run() {
    use payamak_emulator::{Account, Emulator};

    // Credit for 150 messages: batch 1 goes, batch 2 is refused (code 2), batch 3 is not tried.
    let emulator = crate::support::emulator_with(
        Emulator::builder().account(Account::new("demo", "demo").credit(150.0).sender("5000123456")),
    );
    let home = TempDir::new("bulk-refused");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let mut command = against(&emulator, &home);
    command
        .args(["--json", "send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", "sale", "--csv"])
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv));
    let first = run(&mut command);
    let json = first.expect_code(1).json();
    assert_eq!(json["accepted"], 100);
    assert_eq!(json["refused"], 100);
    assert_eq!(json["not_attempted"], 50);
    assert_eq!(json["batch_results"][1]["status"], "refused");
    assert_eq!(json["batch_results"][1]["error"]["code"], 2);
    assert!(first.stderr.contains("insufficient credit"), "{}", first.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));
}

/// An emulator listening at `url`'s address, once whatever listened there has let it go.
pub fn emulator_at(url: &str) -> RunningEmulator {
    let address: std::net::SocketAddr = url.trim_start_matches("http://").trim_end_matches("/post/").parse().unwrap();
    let started = Instant::now();
    loop {
        match payamak_emulator::Emulator::builder().listen(address).start_blocking() {
            Ok(emulator) => return emulator,
            Err(_) if started.elapsed() < Duration::from_secs(10) => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => panic!("cannot listen on {address}: {error}"),
        }
    }
}

#[test]
fn a_batch_that_never_reached_the_panel_is_sent_by_the_next_run() {
    let home = TempDir::new("bulk-unreachable");
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let dead = format!("http://127.0.0.1:{}/post/", crate::support::closed_port());
    let failed = run(crate::support::payamak(&home)
        .args(["--json", "--endpoint", &dead, "--user", "demo", "--password", "demo"])
        .args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv)));
    let json = failed.expect_code(3).json();
    assert_eq!(json["not_attempted"], 150);
    assert_eq!(json["batch_results"][0]["status"], "failed");
    assert_eq!(json["batch_results"][0]["error"]["kind"], "transport");

    // The panel comes back at the same address.
    let emulator = emulator_at(&dead);
    let resumed = bulk(&emulator, &home, &csv, &[], None);
    assert_eq!(resumed.expect_code(0).json()["accepted"], 150);
    assert!(resumed.stderr.contains("sending it again"), "{}", resumed.stderr);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn a_lost_answer_makes_the_batch_unknown_and_stops_the_run() {
    let home = TempDir::new("bulk-lost-answer");
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let hang_up = crate::support::hang_up_server(1);
    let lost = run(crate::support::payamak(&home)
        .args(["--json", "--endpoint", &hang_up, "--user", "demo", "--password", "demo"])
        .args(["send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv)));
    let json = lost.expect_code(4).json();
    assert_eq!(json["unknown"], 100);
    assert_eq!(json["not_attempted"], 50);
    assert_eq!(json["batch_results"][0]["error"]["kind"], "outcome_unknown");

    // The next run, against the same panel (now answering), sends batch 2 only.
    let emulator = emulator_at(&hang_up);
    let resumed = bulk(&emulator, &home, &csv, &[], None);
    let json = resumed.expect_code(4).json();
    assert_eq!(json["accepted"], 50);
    assert_eq!(json["unknown"], 100);
    assert_received(&emulator, &all, |index| usize::from(index >= 100));
}

#[test]
fn without_an_endpoint_send_bulk_needs_an_explicit_journal() {
    let home = TempDir::new("bulk-built-in");
    let csv = home.join("list.csv");
    write_csv(&csv, &numbers(3));
    let bulk_built_in = |extra: &[&str]| {
        run(crate::support::payamak(&home)
            .args(["--json", "send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"])
            .arg(&csv)
            .args(extra))
    };
    let refused = bulk_built_in(&[]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("no endpoint configured") && refused.stderr.contains("--journal"),
        "{}",
        refused.stderr
    );
    assert!(!home.join("list.csv.journal").exists(), "no journal next to the CSV");

    let tried = bulk_built_in(&["--journal", "try.journal"]);
    assert_eq!(tried.expect_code(0).json()["accepted"], 3);
    assert!(!home.join("list.csv.journal").exists());
    assert_eq!(journal_lines(&home.join("try.journal"))[0]["endpoints"], serde_json::json!([]));

    // The real panel does not take that journal for its own: it would send nothing.
    let emulator = emulator();
    let real = bulk(&emulator, &home, &csv, &["--journal", "try.journal"], None);
    real.expect_code(2);
    let expected = format!("the panel differs (the built-in emulator in the journal, {} now)", emulator.base_url());
    assert!(real.stderr.contains(&expected), "{}", real.stderr);
    assert!(real.stderr.contains("--journal FILE"), "{}", real.stderr);
    assert!(sent_counts(&emulator, "demo").is_empty());

    let help = run(crate::support::payamak(&home).args(["send-bulk", "--help"]));
    assert!(help.expect_code(0).stdout.contains("unless --journal is"), "{}", help.stdout);
}

#[test]
fn a_journal_of_another_panel_or_user_is_refused() {
    let first = emulator();
    let home = TempDir::new("bulk-other-panel");
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    bulk(&first, &home, &csv, &[], None).expect_code(0);

    // The same panel, written another way, is the same panel.
    let same = run(crate::support::payamak(&home)
        .args(["--json", "--endpoint", first.base_url().trim_end_matches('/'), "--user", "demo", "--password", "demo"])
        .args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv));
    assert_eq!(same.expect_code(0).json()["resumed"], true);

    let second = emulator();
    let other_panel = bulk(&second, &home, &csv, &[], None);
    other_panel.expect_code(2);
    let expected = format!("the panel differs ({} in the journal, {} now)", first.base_url(), second.base_url());
    assert!(other_panel.stderr.contains(&expected), "{}", other_panel.stderr);
    assert!(sent_counts(&second, "demo").is_empty(), "nothing sent to the other panel");

    let other_user = run(crate::support::payamak(&home)
        .args(["--endpoint", &first.base_url(), "--user", "someone", "--password", "pw"])
        .args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv));
    other_user.expect_code(2);
    assert!(
        other_user.stderr.contains(r#"the user name differs ("demo" in the journal, "someone" now)"#),
        "{}",
        other_user.stderr
    );
    assert_received(&first, &all, |_| 1);
}

#[test]
fn a_file_that_is_not_a_journal_is_not_overwritten() {
    let emulator = emulator();
    let home = TempDir::new("bulk-not-journal");
    let csv = home.join("list.csv");
    write_csv(&csv, &numbers(3));
    let notes = home.join("notes.txt");
    std::fs::write(&notes, "do not lose me").unwrap();
    let result = bulk(&emulator, &home, &csv, &["--journal", "notes.txt"], None);
    result.expect_code(2);
    assert!(result.stderr.contains("notes.txt exists and is not a payamak journal"), "{}", result.stderr);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "do not lose me");
    assert!(sent_counts(&emulator, "demo").is_empty());
}

#[test]
fn a_journal_write_failure_stops_the_run_after_the_summary() {
    let emulator = emulator();
    let home = TempDir::new("bulk-journal-fail");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);

    // Batch 2's attempt cannot be written: it is not sent; batch 1 is in the summary.
    let one_at_a_time = ["--concurrency", "1", "--write-ahead", "0"];
    let mut command = against(&emulator, &home);
    command
        .args(["--json", "send-bulk", "--from", "5000123456", "--text", TEXT])
        .args(one_at_a_time)
        .arg("--csv")
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv));
    let failed = run(command.env("PAYAMAK_TEST_JOURNAL_FAIL", "attempt:2"));
    let json = failed.expect_code(3).json();
    assert_eq!(json["accepted"], 100);
    assert_eq!(json["not_attempted"], 150);
    assert!(failed.stderr.contains("batch 2 was not sent: the journal could not be written"), "{}", failed.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    // Batch 2's outcome cannot be written: unknown (4), and it is never sent twice.
    let mut command = against(&emulator, &home);
    command
        .args(["send-bulk", "--from", "5000123456", "--text", TEXT])
        .args(one_at_a_time)
        .arg("--csv")
        .arg(&csv)
        .arg("--journal")
        .arg(journal_of(&csv));
    let unknown = run(command.env("PAYAMAK_TEST_JOURNAL_FAIL", "outcome:1"));
    unknown.expect_code(4);
    assert!(unknown.stdout.contains("accepted"), "the summary is printed: {}", unknown.stdout);
    assert!(
        unknown.stderr.contains("batch 2 was sent (see above) but its outcome could not be written"),
        "{}",
        unknown.stderr
    );
    // Batch 3's attempt was in the same group write as batch 2's outcome: not sent.
    assert!(unknown.stderr.contains("batch 3 was not sent"), "{}", unknown.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 200));

    let resumed = bulk(&emulator, &home, &csv, &[], None);
    let json = resumed.expect_code(4).json();
    assert_eq!(json["accepted"], 150);
    assert_eq!(json["unknown"], 100);
    assert_received(&emulator, &all, |index| usize::from(index < 250));
}

/// A send of 250 (three batches) whose journal is then damaged by `damage`,
/// and the same command run again: it must not send anyone a second message.
/// Returns the second run, which must exit with `code` and report `unknown`
/// recipients whose batches it did not send.
fn resumed_after_damage(name: &str, damage: impl FnOnce(&Path, &[u8]), code: i32, unknown: u64) -> Run {
    let emulator = emulator();
    let home = TempDir::new(name);
    let all = numbers(250);
    let csv = home.join("list.csv");
    let journal = home.join("list.csv.journal");
    write_csv(&csv, &all);
    bulk(&emulator, &home, &csv, &[], None).expect_code(0);
    let complete = std::fs::read(&journal).unwrap();
    damage(&journal, &complete);
    let resumed = bulk(&emulator, &home, &csv, &[], None);
    let json = resumed.expect_code(code).json();
    assert_eq!(json["unknown"], unknown, "{json}");
    assert_received(&emulator, &all, |_| 1);
    resumed
}

/// The first `lines` complete lines of `journal`.
fn first_lines(journal: &[u8], lines: usize) -> &[u8] {
    let end = journal.iter().enumerate().filter(|(_, &byte)| byte == b'\n').nth(lines - 1).map_or(0, |(at, _)| at + 1);
    &journal[..end]
}

#[test]
fn a_journal_cut_between_lines_is_reconciled_with_the_panel() {
    // Header, batch 1's attempt and outcome: batches 2 and 3 look never started.
    let resumed = resumed_after_damage(
        "damage-cut",
        |path, complete| std::fs::write(path, first_lines(complete, 3)).unwrap(),
        4,
        150,
    );
    assert!(resumed.stderr.contains("the panel's sent messages show 100 of its recipients"), "{}", resumed.stderr);
}

#[test]
fn a_journal_cut_inside_a_line_is_reconciled_with_the_panel() {
    let resumed = resumed_after_damage(
        "damage-cut-line",
        |path, complete| {
            let kept = first_lines(complete, 4).len() - 30;
            std::fs::write(path, &complete[..kept]).unwrap()
        },
        4,
        150,
    );
    assert!(resumed.stderr.contains("cut short"), "{}", resumed.stderr);
}

#[test]
fn a_journal_cut_inside_its_header_is_reconciled_with_the_panel() {
    let resumed =
        resumed_after_damage("damage-header", |path, complete| std::fs::write(path, &complete[..20]).unwrap(), 4, 250);
    assert!(resumed.stderr.contains("had no complete header"), "{}", resumed.stderr);
}

#[test]
fn an_emptied_journal_is_reconciled_with_the_panel() {
    resumed_after_damage("damage-empty", |path, _| std::fs::write(path, b"").unwrap(), 4, 250);
}

#[test]
fn a_journal_replaced_by_an_older_copy_is_reconciled_with_the_panel() {
    let emulator = emulator();
    let home = TempDir::new("damage-older");
    let all = numbers(250);
    let csv = home.join("list.csv");
    let journal = home.join("list.csv.journal");
    write_csv(&csv, &all);
    bulk(&emulator, &home, &csv, &[], Some("outcome:1")).expect_code(CRASH_EXIT_CODE);
    let older = std::fs::read(&journal).unwrap();
    bulk(&emulator, &home, &csv, &[], None).expect_code(0);
    std::fs::write(&journal, older).unwrap();
    let resumed = bulk(&emulator, &home, &csv, &[], None);
    assert_eq!(resumed.expect_code(4).json()["unknown"], 150);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn a_resumed_journal_whose_panel_cannot_be_read_sends_nothing() {
    let emulator = emulator();
    let home = TempDir::new("damage-unreadable");
    let all = numbers(150);
    let csv = home.join("list.csv");
    let journal = home.join("list.csv.journal");
    write_csv(&csv, &all);
    bulk(&emulator, &home, &csv, &[], Some("outcome:1")).expect_code(CRASH_EXIT_CODE);
    // The same journal, resumed against a panel that hangs up on every request.
    let dead = crate::support::hang_up_server(8);
    let lines = journal_lines(&journal);
    let mut header = lines[0].clone();
    header["endpoints"] = serde_json::json!([dead]);
    let mut text = format!("{header}\n");
    for line in &lines[1..] {
        text.push_str(&format!("{line}\n"));
    }
    std::fs::write(&journal, text).unwrap();
    let run = run(crate::support::payamak(&home)
        .args(["--json", "--endpoint", &dead, "--user", "demo", "--password", "demo"])
        .args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv));
    run.expect_code(3);
    assert!(run.stderr.contains("cannot check the panel's sent messages"), "{}", run.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));
}

#[test]
fn the_csv_files_people_have_are_read() {
    let emulator = emulator();
    let home = TempDir::new("bulk-csv-kinds");
    let all = numbers(3);
    // Excel's CSV on a Persian Windows: Windows-1256, `;`, a Persian header (Arabic yeh).
    let windows = home.join("excel.csv");
    let text = format!("نام;شماره موبايل\r\nعلي;{}\r\nرضا;{}\r\n", all[0], all[1]);
    std::fs::write(&windows, encoding_rs::WINDOWS_1256.encode(&text).0).unwrap();
    // Excel's "Unicode text": UTF-16LE with a byte-order mark, tabs.
    let unicode = home.join("unicode.txt");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(format!("name\tموبایل\r\nSara\t{}\r\n", all[2]).encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&unicode, bytes).unwrap();

    for (csv, expected, notes) in [
        (&windows, &all[..2], &["windows-1256", "separated by ';'"][..]),
        (&unicode, &all[2..], &["UTF-16LE", "separated by tabs"][..]),
    ] {
        let journal = home.join(&format!("{}.journal", csv.file_name().unwrap().to_str().unwrap()));
        let result = bulk(&emulator, &home, csv, &["--journal", journal.to_str().unwrap()], None);
        let json = result.expect_code(0).json();
        assert_eq!(json["accepted"], expected.len(), "{}", result.stderr);
        for note in notes {
            assert!(result.stderr.contains(note), "{note}: {}", result.stderr);
        }
    }
    assert_received(&emulator, &all, |_| 1);

    // --delimiter and --encoding override the guesses.
    let forced = bulk(&emulator, &home, &windows, &["--delimiter", ",", "--encoding", "utf-8"], None);
    forced.expect_code(2);
    assert!(forced.stderr.contains("not valid UTF-8"), "{}", forced.stderr);
}

#[test]
fn a_csv_without_a_numbers_column_says_which_column_to_pass() {
    let emulator = emulator();
    let home = TempDir::new("bulk-no-numbers");
    let csv = home.join("people.csv");
    std::fs::write(&csv, "name,city,code\nAli,Tehran,A-1\nSara,Shiraz,B-2\n").unwrap();
    let result = bulk(&emulator, &home, &csv, &[], None);
    result.expect_code(2);
    assert!(result.stderr.contains(r#"1 "name", 2 "city", 3 "code""#), "{}", result.stderr);
    assert!(result.stderr.contains("Pass --column"), "{}", result.stderr);
    assert!(emulator.account_snapshot("demo").unwrap().sent.is_empty());
}
