//! `send-bulk --store`: one CSV file is one campaign of a job store, sent by a
//! worker in the process; reruns resume it, or refuse another send.

use std::collections::BTreeMap;
use std::path::Path;

use payamak_emulator::{Account, Emulator, RunningEmulator};

use crate::campaign::{emulator_reset, stores};
use crate::send_bulk::{assert_received, emulator_at};
use crate::support::{against, emulator, emulator_with, numbers, payamak, run, sent_counts, write_csv, Run, TempDir};

const TEXT: &str = "حراج امروز";

fn bulk(emulator: &RunningEmulator, home: &TempDir, store: &str, csv: &Path, extra: &[&str]) -> Run {
    let mut command = against(emulator, home);
    command.args(["--json", "send-bulk", "--store", store, "--from", "5000123456", "--text", TEXT, "--csv"]);
    run(command.arg(csv).args(extra))
}

/// `send-bulk` against the panel at `url` (the demo account).
fn bulk_at(url: &str, home: &TempDir, store: &str, csv: &Path, text: &str, from: &str, extra: &[&str]) -> Run {
    let mut command = payamak(home);
    command.args(["--json", "--endpoint", url, "--user", "demo", "--password", "demo"]);
    command.args(["send-bulk", "--store", store, "--from", from, "--text", text, "--csv"]);
    run(command.arg(csv).args(extra))
}

#[test]
fn with_a_store_everyone_is_sent_once_and_a_rerun_sends_nothing() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-full");
    let all = numbers(250);
    for (index, store) in stores(&home).into_iter().enumerate() {
        // A file of its own per store: one file's send is one store's (see the mark's test).
        let csv = home.join(&format!("customers-{index}.csv"));
        write_csv(&csv, &all);
        let first = bulk(&emulator, &home, &store, &csv, &[]);
        let json = first.expect_code(0).json();
        assert_eq!((json["recipients"].as_u64(), json["batches"].as_u64()), (Some(250), Some(3)), "{json}");
        assert_eq!((json["accepted"].as_u64(), json["refused"].as_u64()), (Some(250), Some(0)), "{json}");
        assert_eq!((json["unknown"].as_u64(), json["not_attempted"].as_u64()), (Some(0), Some(0)), "{json}");
        assert_eq!(json["resumed"], false);
        assert!(json.get("journal").is_none(), "{json}");
        assert!(json["campaign"].is_i64(), "{json}");
        assert!(json["batch_results"]
            .as_array()
            .is_some_and(|batches| batches.iter().all(|batch| batch["status"] == "sent" && batch["this_run"] == true)));
        assert!(!home.join(&format!("customers-{index}.csv.journal")).exists(), "no journal is written");
        assert_received(&emulator, &all, |_| 1);
        let sizes: BTreeMap<u64, usize> =
            emulator.account_snapshot("demo").unwrap().sent.iter().fold(BTreeMap::new(), |mut sizes, sent| {
                *sizes.entry(sent.batch).or_default() += 1;
                sizes
            });
        let mut sizes: Vec<usize> = sizes.into_values().collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [50, 100, 100]);
        let calls = emulator.send_calls();
        assert!(calls.repeated.is_empty(), "{:?}", calls.repeated);

        // The same command again: the same campaign, nothing sent.
        let again = bulk(&emulator, &home, &store, &csv, &[]);
        let again = again.expect_code(0).json();
        assert_eq!((again["resumed"].clone(), again["campaign"].clone()), (true.into(), json["campaign"].clone()));
        assert_eq!(again["accepted"], 250);
        assert_eq!(again["batch_results"][0]["this_run"], false);
        assert_eq!(emulator.send_calls().calls, calls.calls, "no SendSms call on a rerun");

        let human = run(against(&emulator, &home)
            .args(["send-bulk", "--store", &store, "--from", "5000123456", "--text", TEXT, "--csv"])
            .arg(&csv));
        human.expect_code(0);
        assert!(human.stdout.contains("accepted") && human.stdout.contains("250"), "{}", human.stdout);
        assert!(human.stdout.contains("campaign"), "{}", human.stdout);
        assert_received(&emulator, &all, |_| 1);
        emulator_reset(&emulator);
    }
}

#[test]
fn with_a_store_another_send_of_the_same_file_is_refused_and_sends_nothing() {
    let home = TempDir::new("bulk-store-mismatch");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    // The panel is down: both batches fail, definitely not sent, and a rerun would send them.
    let url = format!("http://127.0.0.1:{}/post/", crate::support::closed_port());
    let down = bulk_at(&url, &home, &store, &csv, TEXT, "5000123456", &[]);
    let json = down.expect_code(3).json();
    assert_eq!(json["not_attempted"], 150, "{json}");
    let emulator = emulator_at(&url);

    let other_text = bulk_at(&url, &home, &store, &csv, "another text", "5000123456", &[]);
    other_text.expect_code(2);
    assert!(other_text.stderr.contains("belongs to another send"), "{}", other_text.stderr);
    assert!(other_text.stderr.contains("the text differs"), "{}", other_text.stderr);
    let other_sender = bulk_at(&url, &home, &store, &csv, TEXT, "3000987654", &[]);
    other_sender.expect_code(2);
    assert!(other_sender.stderr.contains("the sender differs (5000123456 in the store"), "{}", other_sender.stderr);
    let flash = bulk_at(&url, &home, &store, &csv, TEXT, "5000123456", &["--flash"]);
    flash.expect_code(2);
    assert!(flash.stderr.contains("--flash differs"), "{}", flash.stderr);
    let other_user = run(payamak(&home)
        .args(["--endpoint", &url, "--user", "someone", "--password", "pw"])
        .args(["send-bulk", "--store", &store, "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv));
    other_user.expect_code(2);
    assert!(other_user.stderr.contains(r#"the user name differs ("demo" in the store"#), "{}", other_user.stderr);

    // The file edited: one more number, then the same count in another order.
    write_csv(&csv, &numbers(151));
    let edited = bulk_at(&url, &home, &store, &csv, TEXT, "5000123456", &[]);
    edited.expect_code(2);
    assert!(edited.stderr.contains("the recipients differ (150 in the store, 151 now"), "{}", edited.stderr);
    let mut reordered = all.clone();
    reordered.swap(0, 149);
    write_csv(&csv, &reordered);
    let reordered_run = bulk_at(&url, &home, &store, &csv, TEXT, "5000123456", &[]);
    reordered_run.expect_code(2);
    assert!(reordered_run.stderr.contains("the recipients differ"), "{}", reordered_run.stderr);
    assert!(sent_counts(&emulator, "demo").is_empty(), "nothing sent by a refused run");

    // The file as it was: the failed batches go, once.
    write_csv(&csv, &all);
    let resumed = bulk_at(&url, &home, &store, &csv, TEXT, "5000123456", &[]);
    let json = resumed.expect_code(0).json();
    assert_eq!((json["resumed"].clone(), json["accepted"].clone()), (true.into(), 150.into()), "{json}");
    assert!(resumed.stderr.contains("sending them again"), "{}", resumed.stderr);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn with_a_store_an_unknown_batch_is_not_resent_unless_asked() {
    let home = TempDir::new("bulk-store-unknown");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    // Batch 1's answer is lost (unknown); batch 2 finds nobody listening (failed, not sent).
    let hang_up = crate::support::hang_up_server(1);
    let lost = bulk_at(&hang_up, &home, &store, &csv, TEXT, "5000123456", &["--concurrency", "1"]);
    let json = lost.expect_code(4).json();
    assert_eq!((json["unknown"].as_u64(), json["not_attempted"].as_u64()), (Some(100), Some(50)), "{json}");
    assert_eq!(json["batch_results"][0]["status"], "unknown", "{json}");
    assert_eq!(json["batch_results"][0]["error"]["kind"], "outcome_unknown", "{json}");
    assert!(lost.stderr.contains("--resend-unknown"), "{}", lost.stderr);

    // The panel answers now: batch 2 goes, batch 1 does not, on this run or the next.
    let emulator = emulator_at(&hang_up);
    for _ in 0..2 {
        let resumed = bulk_at(&hang_up, &home, &store, &csv, TEXT, "5000123456", &[]);
        let json = resumed.expect_code(4).json();
        assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(50), Some(100)), "{json}");
        assert_received(&emulator, &all, |index| usize::from(index >= 100));
    }

    // A person's decision: batch 1 again.
    let forced = bulk_at(&hang_up, &home, &store, &csv, TEXT, "5000123456", &["--resend-unknown"]);
    let json = forced.expect_code(0).json();
    assert_eq!(json["accepted"], 150, "{json}");
    assert!(forced.stderr.contains("may get the message twice"), "{}", forced.stderr);
    assert_received(&emulator, &all, |_| 1);
    assert!(emulator.send_calls().repeated.is_empty());
}

#[test]
fn with_a_store_a_refused_account_pauses_the_run_and_ends_it() {
    // Credit for 150 messages: batch 1 goes, batch 2 is refused (code 2) and waits, as batch 3 does.
    let emulator =
        emulator_with(Emulator::builder().account(Account::new("demo", "demo").credit(150.0).sender("5000123456")));
    let home = TempDir::new("bulk-store-refused");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let first = bulk(&emulator, &home, &store, &csv, &["--concurrency", "1"]);
    let json = first.expect_code(1).json();
    assert_eq!((json["accepted"].as_u64(), json["not_attempted"].as_u64()), (Some(100), Some(150)), "{json}");
    assert_eq!(json["batch_results"][1]["status"], "not_attempted", "{json}");
    assert_eq!(json["batch_results"][1]["error"]["code"], 2, "{json}");
    assert!(first.stderr.contains("insufficient credit"), "{}", first.stderr);
    assert!(first.stderr.contains("run the same command again"), "{}", first.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));
}

#[test]
fn a_store_does_not_go_with_a_journal_nor_over_one() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-journal");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let both = bulk(&emulator, &home, &store, &csv, &["--journal", "x.journal"]);
    both.expect_code(2);
    assert!(both.stderr.contains("cannot be used with"), "{}", both.stderr);

    // A journal's send of the file, half done: not started afresh in a store.
    let mut journaled = against(&emulator, &home);
    journaled.args(["--json", "send-bulk", "--concurrency", "1", "--write-ahead", "0", "--from", "5000123456"]);
    journaled.args(["--text", TEXT, "--csv"]).arg(&csv).arg("--journal").arg(home.join("list.csv.journal"));
    journaled.env("PAYAMAK_TEST_CRASH", "outcome:1");
    run(&mut journaled).expect_code(86);
    let over = bulk(&emulator, &home, &store, &csv, &[]);
    over.expect_code(2);
    assert!(over.stderr.contains("finish it without --store"), "{}", over.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    let help = run(payamak(&home).args(["send-bulk", "--help"]));
    assert!(help.expect_code(0).stdout.contains("--store <URL>"), "{}", help.stdout);
}

#[test]
fn a_file_sent_through_a_store_is_refused_without_it_and_with_another() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-mark");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    bulk(&emulator, &home, &store, &csv, &[]).expect_code(0);
    let mark = std::fs::read_to_string(home.join("list.csv.store")).expect("the file is marked");
    assert!(mark.contains("sends.db") && mark.contains("\"campaign\""), "{mark}");
    let calls = emulator.send_calls().calls;

    // With a journal: it would not know what the store sent.
    let mut journaled = against(&emulator, &home);
    journaled.args(["send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"]).arg(&csv);
    let with_journal = run(journaled.arg("--journal").arg(home.join("list.csv.journal")));
    with_journal.expect_code(2);
    assert!(
        with_journal.stderr.contains("runs in the job store sqlite:") && with_journal.stderr.contains("--store"),
        "{}",
        with_journal.stderr
    );
    assert!(!home.join("list.csv.journal").exists(), "no journal started");

    // Naming no store: the store the mark names, which sent everything.
    let mut unnamed = against(&emulator, &home);
    unnamed.args(["--json", "send-bulk", "--from", "5000123456", "--text", TEXT, "--csv"]).arg(&csv);
    let resumed = run(&mut unnamed).expect_code(0).json();
    assert_eq!((resumed["resumed"].clone(), resumed["accepted"].clone()), (true.into(), 150.into()), "{resumed}");
    assert!(resumed["store"].as_str().is_some_and(|store| store.ends_with("sends.db")), "{resumed}");
    assert!(!home.join("list.csv.sqlite").exists(), "no store of its own");
    assert_eq!(emulator.send_calls().calls, calls, "nothing sent again");

    // Another store: it would start the file afresh.
    let other = format!("sqlite:{}", home.join("other.db").display());
    let elsewhere = bulk(&emulator, &home, &other, &csv, &[]);
    elsewhere.expect_code(2);
    assert!(elsewhere.stderr.contains("not sqlite:"), "{}", elsewhere.stderr);
    assert_eq!(emulator.send_calls().calls, calls, "nothing sent again");
    assert_received(&emulator, &all, |_| 1);

    // The same store, spelt another way, is the same store.
    let relative = run(against(&emulator, &home)
        .current_dir(home.path())
        .args(["--json", "send-bulk", "--store", "sqlite:./sends.db", "--from", "5000123456", "--text", TEXT])
        .args(["--csv", "list.csv"]));
    relative.expect_code(0);
    assert_eq!(emulator.send_calls().calls, calls, "a rerun sends nothing");
}

#[test]
fn with_a_store_a_run_killed_while_a_batch_is_on_its_way_never_sends_it_twice() {
    // Every SendSms takes 1.5 s: time to kill the process while its first batch is on its way.
    let emulator = emulator_with(Emulator::builder().without_demo().account(
        Account::new("demo", "demo").credit(1e9).sender("5000123456").latency(std::time::Duration::from_millis(1500)),
    ));
    let home = TempDir::new("bulk-store-killed");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let mut command = against(&emulator, &home);
    command.args(["--json", "send-bulk", "--store", &store, "--concurrency", "1", "--from", "5000123456"]);
    command.args(["--text", TEXT, "--csv"]).arg(&csv);
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    let started = std::time::Instant::now();
    // The panel has carried out batch 1; its answer is still on the way back.
    while emulator.send_calls().calls == 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no SendSms call came");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("killed");
    child.wait().expect("reaped");

    // Batch 1 may have been sent: it is not sent again; batch 2 goes.
    let rerun = bulk(&emulator, &home, &store, &csv, &[]);
    let json = rerun.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(50), Some(100)), "{json}");
    assert_eq!(json["batch_results"][0]["this_run"], false, "{json}");
    assert_received(&emulator, &all, |_| 1);
    assert!(emulator.send_calls().repeated.is_empty(), "{:?}", emulator.send_calls().repeated);
}

#[test]
fn with_a_store_a_crash_after_an_attempt_is_recorded_leaves_that_batch_unknown_and_unsent() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-crash-attempt");
    let store = format!("sqlite:{}", home.join("sends.db").display());
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    // The second batch's attempt is in the store; the process ends before its request leaves.
    let mut crashing = against(&emulator, &home);
    crashing.args(["--json", "send-bulk", "--store", &store, "--concurrency", "1", "--from", "5000123456"]);
    crashing.args(["--text", TEXT, "--csv"]).arg(&csv).env("PAYAMAK_TEST_CRASH", "attempt:2");
    run(&mut crashing).expect_code(86);
    assert_received(&emulator, &all, |index| usize::from(index < 100));

    // The store cannot know the request never left: the batch is unknown, never sent on its own.
    for _ in 0..2 {
        let rerun = bulk(&emulator, &home, &store, &csv, &[]);
        let json = rerun.expect_code(4).json();
        assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(150), Some(100)), "{json}");
        assert_eq!(json["batch_results"][1]["status"], "unknown", "{json}");
        assert_received(&emulator, &all, |index| usize::from(!(100..200).contains(&index)));
    }
    assert!(emulator.send_calls().repeated.is_empty(), "{:?}", emulator.send_calls().repeated);
}

/// `send-bulk` naming neither a store nor a journal, one batch at a time.
fn bulk_default(emulator: &RunningEmulator, home: &TempDir, csv: &Path, extra: &[&str]) -> Run {
    let mut command = against(emulator, home);
    command.args(["--json", "send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"]);
    run(command.arg(csv).args(extra))
}

/// The SQLite store `send-bulk` keeps next to `csv` by default, with its WAL files.
fn default_store_files(csv: &Path) -> Vec<std::path::PathBuf> {
    ["sqlite", "sqlite-wal", "sqlite-shm"]
        .iter()
        .map(|suffix| {
            let mut path = csv.as_os_str().to_owned();
            path.push(format!(".{suffix}"));
            path.into()
        })
        .collect()
}

/// Copies the default store of `csv` to `to` (a directory), or back from it.
fn copy_store(csv: &Path, to: &Path, back: bool) {
    for path in default_store_files(csv) {
        let kept = to.join(path.file_name().unwrap());
        let (from, into) = if back { (kept, path) } else { (path, kept) };
        let _ = std::fs::remove_file(&into);
        if from.exists() {
            std::fs::copy(&from, &into).unwrap();
        }
    }
}

#[test]
fn by_default_send_bulk_sends_through_an_sqlite_store_next_to_the_file() {
    let emulator = emulator();
    let home = TempDir::new("bulk-default-store");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let first = bulk_default(&emulator, &home, &csv, &[]).expect_code(0).json();
    assert_eq!((first["accepted"].as_u64(), first["batches"].as_u64()), (Some(250), Some(3)), "{first}");
    let store = first["store"].as_str().unwrap_or_default().to_owned();
    assert!(store.starts_with("sqlite:") && store.ends_with("list.csv.sqlite"), "{first}");
    assert!(home.join("list.csv.sqlite").exists() && home.join("list.csv.store").exists());
    assert!(!home.join("list.csv.journal").exists(), "no journal");
    assert_received(&emulator, &all, |_| 1);
    let calls = emulator.send_calls().calls;
    let again = bulk_default(&emulator, &home, &csv, &[]).expect_code(0).json();
    assert_eq!((again["resumed"].clone(), again["campaign"].clone()), (true.into(), first["campaign"].clone()));
    assert_eq!(emulator.send_calls().calls, calls, "nothing sent again");
}

#[test]
fn a_file_with_a_journal_from_an_earlier_run_is_finished_by_its_journal() {
    let emulator = emulator();
    let home = TempDir::new("bulk-default-journal");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let mut journaled = against(&emulator, &home);
    journaled.args(["--json", "send-bulk", "--concurrency", "1", "--write-ahead", "0", "--from", "5000123456"]);
    journaled.args(["--text", TEXT, "--csv"]).arg(&csv).arg("--journal").arg(home.join("list.csv.journal"));
    run(journaled.env("PAYAMAK_TEST_CRASH", "outcome:1")).expect_code(86);

    let finished = bulk_default(&emulator, &home, &csv, &[]).expect_code(0).json();
    assert!(finished["journal"].as_str().is_some_and(|path| path.ends_with("list.csv.journal")), "{finished}");
    assert_eq!(finished["accepted"], 250);
    assert!(!home.join("list.csv.sqlite").exists(), "no store started beside the journal");
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn with_a_store_a_refusal_of_the_account_pauses_it_and_leaves_the_rest_pending() {
    let emulator =
        emulator_with(Emulator::builder().account(Account::new("demo", "demo").credit(150.0).sender("5000123456")));
    let home = TempDir::new("bulk-store-refused");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let first = bulk_default(&emulator, &home, &csv, &[]);
    let json = first.expect_code(1).json();
    assert_eq!((json["accepted"].as_u64(), json["not_attempted"].as_u64()), (Some(100), Some(150)), "{json}");
    assert_eq!(json["batch_results"][1]["error"]["code"], 2, "{json}");
    assert!(first.stderr.contains("insufficient credit") && first.stderr.contains("paused"), "{}", first.stderr);
    assert_received(&emulator, &all, |index| usize::from(index < 100));
}

/// `send-bulk` of `csv`, one batch at a time, against a panel nothing listens for (its URL).
fn against_a_dead_panel(home: &TempDir, csv: &Path) -> (String, Run) {
    let dead = format!("http://127.0.0.1:{}/post/", crate::support::closed_port());
    let mut command = payamak(home);
    command.args(["--json", "--endpoint", &dead, "--user", "demo", "--password", "demo"]);
    command.args(["send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"]);
    let failed = run(command.arg(csv));
    (dead, failed)
}

#[test]
fn with_a_store_a_batch_that_never_reached_the_panel_stops_the_run_and_goes_next_time() {
    let home = TempDir::new("bulk-store-unreachable");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let (dead, failed) = against_a_dead_panel(&home, &csv);
    let json = failed.expect_code(3).json();
    assert_eq!(json["batch_results"][0]["status"], "failed", "{json}");
    assert_eq!(json["batch_results"][0]["error"]["kind"], "transport", "{json}");
    assert_eq!(json["batch_results"][1]["status"], "not_attempted", "the run stopped: {json}");
    assert!(failed.stderr.contains("stopping"), "{}", failed.stderr);

    // The panel comes back at the same address.
    let emulator = emulator_at(&dead);
    let resumed = bulk_default(&emulator, &home, &csv, &[]);
    assert_eq!(resumed.expect_code(0).json()["accepted"], 250);
    assert!(resumed.stderr.contains("sending them again"), "{}", resumed.stderr);
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn with_a_store_a_lost_answer_makes_the_batch_unknown_and_stops_the_run() {
    let home = TempDir::new("bulk-store-lost-answer");
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let hang_up = crate::support::hang_up_server(1);
    let mut command = payamak(&home);
    command.args(["--json", "--endpoint", &hang_up, "--user", "demo", "--password", "demo"]);
    command.args(["send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"]);
    let lost = run(command.arg(&csv));
    let json = lost.expect_code(4).json();
    assert_eq!((json["unknown"].as_u64(), json["not_attempted"].as_u64()), (Some(100), Some(50)), "{json}");
    assert_eq!(json["batch_results"][0]["error"]["kind"], "outcome_unknown");

    // The next run, against the same panel (now answering), sends batch 2 only.
    let emulator = emulator_at(&hang_up);
    let resumed = bulk_default(&emulator, &home, &csv, &[]);
    let json = resumed.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(50), Some(100)), "{json}");
    assert_received(&emulator, &all, |index| usize::from(index >= 100));
}

#[test]
fn a_store_put_back_from_an_older_copy_is_reconciled_with_the_panel() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-older-copy");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    // The first batch's attempt is recorded, then a crash: nothing was sent yet.
    let crashed = run(against(&emulator, &home)
        .args(["send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv)
        .env("PAYAMAK_TEST_CRASH", "attempt:1"));
    crashed.expect_code(86);
    let older = home.join("older");
    std::fs::create_dir_all(&older).unwrap();
    copy_store(&csv, &older, false);
    // The next run sends batches 2 and 3 (batch 1 is unknown).
    let json = bulk_default(&emulator, &home, &csv, &[]).expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(150), Some(100)), "{json}");
    let calls = emulator.send_calls().calls;

    // The older copy says batches 2 and 3 were never started; the panel says they were sent.
    copy_store(&csv, &older, true);
    let rerun = bulk_default(&emulator, &home, &csv, &[]);
    let json = rerun.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(0), Some(250)), "{json}");
    assert!(rerun.stderr.contains("batch 2 (100 recipients): the panel's sent messages show 100"), "{}", rerun.stderr);
    assert_eq!(emulator.send_calls().calls, calls, "nothing sent again");
    assert_received(&emulator, &all, |index| usize::from(index >= 100));
}

#[test]
fn a_lost_store_is_reconciled_with_the_panel() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-lost");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    bulk_default(&emulator, &home, &csv, &[]).expect_code(0);
    let calls = emulator.send_calls().calls;
    for path in default_store_files(&csv) {
        let _ = std::fs::remove_file(path);
    }
    // The file's mark is still there: the new store's campaign is checked against the panel.
    let rerun = bulk_default(&emulator, &home, &csv, &[]);
    let json = rerun.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(0), Some(250)), "{json}");
    assert_eq!(emulator.send_calls().calls, calls, "nothing sent again");
    assert_received(&emulator, &all, |_| 1);
}

#[test]
fn a_damaged_store_is_refused_and_nothing_is_sent() {
    let emulator = emulator();
    let home = TempDir::new("bulk-store-damaged");
    let all = numbers(150);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    bulk_default(&emulator, &home, &csv, &[]).expect_code(0);
    let calls = emulator.send_calls().calls;
    let files = default_store_files(&csv);
    for path in &files[1..] {
        let _ = std::fs::remove_file(path);
    }
    std::fs::write(&files[0], vec![0x5a; 8192]).unwrap();
    let rerun = bulk_default(&emulator, &home, &csv, &[]);
    rerun.expect_code(2);
    assert!(rerun.stderr.contains("list.csv.sqlite"), "{}", rerun.stderr);
    assert_eq!(emulator.send_calls().calls, calls, "nothing sent");
}

/// `text` sent to `numbers` by something other than the file's send.
fn sent_elsewhere(emulator: &RunningEmulator, home: &TempDir, numbers: &[String]) {
    let mut command = against(emulator, home);
    command.args(["send", "--from", "5000123456", "--text", TEXT, "--to", &numbers.join(",")]);
    run(&mut command).expect_code(0);
}

#[test]
fn a_rerun_after_a_run_that_ended_trusts_the_store_and_one_after_a_crash_checks_the_panel() {
    // A run that ended (the panel unreachable: batch 1 failed, the rest pending).
    let home = TempDir::new("bulk-store-ended");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let (dead, failed) = against_a_dead_panel(&home, &csv);
    failed.expect_code(3);
    let mark = std::fs::read_to_string(home.join("list.csv.store")).unwrap();
    assert!(mark.contains("\"ended\": \""), "{mark}");
    // The same text reaches batch 3's numbers some other way; the store is whole, so the
    // rerun does not read the panel's sent messages (a large outbox could not be read) and sends it.
    let panel = emulator_at(&dead);
    sent_elsewhere(&panel, &home, &all[200..]);
    let rerun = bulk_default(&panel, &home, &csv, &[]);
    assert_eq!(rerun.expect_code(0).json()["accepted"], 250);
    assert_received(&panel, &all, |index| 1 + usize::from(index >= 200));

    // A run that crashed (batch 1 sent, batch 2's attempt recorded): the next one checks the panel.
    let home = TempDir::new("bulk-store-crashed");
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let emulator = emulator();
    let crashed = run(against(&emulator, &home)
        .args(["send-bulk", "--concurrency", "1", "--from", "5000123456", "--text", TEXT, "--csv"])
        .arg(&csv)
        .env("PAYAMAK_TEST_CRASH", "attempt:2"));
    crashed.expect_code(86);
    let mark = std::fs::read_to_string(home.join("list.csv.store")).unwrap();
    assert!(mark.contains("\"ended\": null"), "{mark}");
    sent_elsewhere(&emulator, &home, &all[200..]);
    let rerun = bulk_default(&emulator, &home, &csv, &[]);
    let json = rerun.expect_code(4).json();
    assert_eq!((json["accepted"].as_u64(), json["unknown"].as_u64()), (Some(100), Some(150)), "{json}");
    assert!(rerun.stderr.contains("batch 3 (50 recipients): the panel's sent messages show 50"), "{}", rerun.stderr);
    assert_received(&emulator, &all, |index| usize::from(!(100..200).contains(&index)));
}

#[cfg(unix)]
#[test]
fn a_file_path_that_is_not_utf8_is_refused_with_a_store() {
    use std::os::unix::ffi::OsStrExt as _;
    let emulator = emulator();
    let home = TempDir::new("bulk-store-not-utf8");
    let csv = home.join("list.csv").with_file_name(std::ffi::OsStr::from_bytes(b"list-\xff.csv"));
    write_csv(&csv, &numbers(3));
    let refused = bulk_default(&emulator, &home, &csv, &[]);
    refused.expect_code(2);
    assert!(refused.stderr.contains("valid UTF-8"), "{}", refused.stderr);
    assert_eq!(emulator.send_calls().calls, 0, "nothing sent");
}

#[test]
fn a_worker_over_the_store_leaves_a_files_batches_to_send_bulk_unless_named() {
    // A run that stopped with batches left (the panel unreachable: batch 1 failed).
    let home = TempDir::new("bulk-store-worker");
    let all = numbers(250);
    let csv = home.join("list.csv");
    write_csv(&csv, &all);
    let (dead, failed) = against_a_dead_panel(&home, &csv);
    failed.expect_code(3);
    let emulator = emulator_at(&dead);
    let store = format!("sqlite:{}", home.join("list.csv.sqlite").display());
    let worker = |extra: &[&str]| {
        let mut command = against(&emulator, &home);
        command.args(["--json", "worker", "--store", &store, "--until-idle", "--no-deliveries"]);
        run(command.args(extra))
    };
    // A worker over the same store does not send them: send-bulk checks the panel first when it must.
    let json = worker(&[]).expect_code(0).json();
    assert_eq!(json["sent"], 0, "{json}");
    assert_eq!(emulator.send_calls().calls, 0);
    // Named, it does.
    let account = format!("send-bulk:{}", std::fs::canonicalize(&csv).unwrap().display());
    let json = worker(&["--account", &account]).expect_code(0).json();
    assert_eq!(json["sent"], 2, "the two pending batches (the failed one waits for a rerun): {json}");
}
