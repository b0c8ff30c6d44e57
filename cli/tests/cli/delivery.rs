//! Following deliveries as the panel works (`delivery --watch`): one UpdateDelivery per
//! send, invalid recIds shown, its own exit code when it gives up; `send --watch` and
//! `delivery --watch --journal`.

use payamak_emulator::{Emulator, ManualClock, RunningEmulator};

use crate::support::{against, emulator_with, fast_deliveries, numbers, run, write_csv, Run, TempDir};

/// How many UpdateDelivery calls a `-v` run made.
fn update_delivery_calls(run: &Run) -> usize {
    run.stderr.lines().filter(|line| line.contains("operation=\"UpdateDelivery\"")).count()
}

fn send_json(emulator: &RunningEmulator, home: &TempDir, to: &[String], extra: &[&str]) -> Run {
    run(against(emulator, home)
        .args(["--json", "-v", "send", "--from", "5000123456", "--text", "x"])
        .args(extra)
        .arg("--to")
        .arg(to.join(",")))
}

#[test]
fn send_watch_follows_one_send_as_one_batch() {
    let emulator = emulator_with(Emulator::builder().delivery_timing(fast_deliveries()));
    let home = TempDir::new("send-watch");
    let result = send_json(&emulator, &home, &numbers(10), &["--watch", "--interval", "1"]);
    let json = result.expect_code(0).json();
    assert_eq!(json["accepted"], 10);
    let watch = &json["watch"];
    assert_eq!((watch["complete"].as_bool(), watch["gave_up"].as_bool()), (Some(true), Some(false)));
    let deliveries = watch["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 10);
    assert!(deliveries.iter().all(|delivery| delivery["status"]["code"] == 1), "{deliveries:?}");
    // One refresh when the watch starts, one once the interval has passed: for the whole send.
    let calls = update_delivery_calls(&result);
    assert!((1..=3).contains(&calls), "{calls} UpdateDelivery calls:\n{}", result.stderr);
    assert!(!result.stderr.contains('\u{1b}'), "no colour codes on a stderr that is not a terminal");
}

#[test]
fn rec_ids_joined_by_commas_are_one_batch_and_invalid_ones_are_shown() {
    let emulator = emulator_with(Emulator::builder().delivery_timing(fast_deliveries()));
    let home = TempDir::new("delivery-batches");
    let sent = send_json(&emulator, &home, &numbers(10), &[]).expect_code(0).json();
    let rec_ids: Vec<String> =
        sent["recipients"].as_array().unwrap().iter().map(|r| r["rec_id"].as_i64().unwrap().to_string()).collect();

    let watched = run(against(&emulator, &home).args([
        "--json",
        "-v",
        "delivery",
        "--watch",
        "--interval",
        "1",
        &rec_ids.join(","),
        "42",
    ]));
    let json = watched.expect_code(1).json();
    assert_eq!(json["invalid"], serde_json::json!([42]));
    assert_eq!((json["complete"].as_bool(), json["gave_up"].as_bool()), (Some(false), Some(false)));
    let deliveries = json["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 11);
    assert!(deliveries[..10].iter().all(|delivery| delivery["status"]["code"] == 1 && delivery["invalid"] == false));
    assert_eq!(deliveries[10], serde_json::json!({ "rec_id": 42, "invalid": true, "status": null, "final": true }));
    assert!(watched.stderr.contains("not valid: 42"), "{}", watched.stderr);
    let calls = update_delivery_calls(&watched);
    assert!(calls <= 4, "{calls} UpdateDelivery calls for one send and one invalid recId:\n{}", watched.stderr);

    let table = run(against(&emulator, &home).args(["delivery", "--watch", "--interval", "1", "42"]));
    assert!(table.expect_code(1).stdout.contains("not a valid recId"), "{}", table.stdout);
}

#[test]
fn a_watch_that_gives_up_exits_with_5() {
    // The manual clock never moves: the deliveries never become final.
    let clock = ManualClock::starting_at("2024-03-20T09:00:00".parse::<payamak::PanelDateTime>().unwrap());
    let emulator = emulator_with(Emulator::builder().clock(&clock));
    let home = TempDir::new("give-up");
    let sent = send_json(&emulator, &home, &numbers(1), &[]).expect_code(0).json();
    let rec_id = sent["recipients"][0]["rec_id"].to_string();
    let result = run(against(&emulator, &home).args([
        "--json",
        "delivery",
        "--watch",
        "--interval",
        "1",
        "--give-up-after",
        "1",
        &rec_id,
    ]));
    let json = result.expect_code(5).json();
    assert_eq!((json["gave_up"].as_bool(), json["complete"].as_bool()), (Some(true), Some(false)));
    assert_eq!(json["deliveries"][0]["final"], false);
    assert!(result.stderr.contains("gave up after 1 s"), "{}", result.stderr);

    // send --watch keeps the send's exit code: a sent message is never reported as failed.
    let watched = send_json(&emulator, &home, &numbers(1), &["--watch", "--interval", "1", "--give-up-after", "1"]);
    assert_eq!(watched.expect_code(0).json()["watch"]["gave_up"], true);
}

#[test]
fn delivery_watch_journal_follows_a_bulk_run() {
    let emulator = emulator_with(Emulator::builder().delivery_timing(fast_deliveries()));
    let home = TempDir::new("watch-journal");
    let csv = home.join("list.csv");
    write_csv(&csv, &numbers(150));
    let journal = home.join("list.journal");
    run(against(&emulator, &home)
        .args(["--json", "send-bulk", "--from", "5000123456", "--text", "x", "--csv"])
        .arg(&csv)
        .arg("--journal")
        .arg(&journal))
    .expect_code(0);

    let result = run(against(&emulator, &home)
        .args(["--json", "-v", "delivery", "--watch", "--interval", "1", "--journal"])
        .arg(&journal));
    let json = result.expect_code(0).json();
    let deliveries = json["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 150);
    assert!(deliveries.iter().all(|delivery| delivery["status"]["code"] == 1));
    let calls = update_delivery_calls(&result);
    assert!(calls <= 6, "{calls} UpdateDelivery calls for two batches:\n{}", result.stderr);

    // Without --watch: the statuses the panel holds now.
    let now = run(against(&emulator, &home).args(["--json", "delivery", "--journal"]).arg(&journal));
    assert_eq!(now.expect_code(0).json()["deliveries"].as_array().unwrap().len(), 150);

    // A journal written against another panel is refused: its recIds mean nothing here.
    let other = emulator_with(Emulator::builder());
    let refused = run(against(&other, &home).args(["delivery", "--journal"]).arg(&journal));
    refused.expect_code(2);
    assert!(refused.stderr.contains("was written against"), "{}", refused.stderr);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_watch_with_what_it_has_and_130() {
    let clock = ManualClock::starting_at("2024-03-20T09:00:00".parse::<payamak::PanelDateTime>().unwrap());
    let emulator = emulator_with(Emulator::builder().clock(&clock));
    let home = TempDir::new("watch-ctrl-c");
    let sent = send_json(&emulator, &home, &numbers(1), &[]).expect_code(0).json();
    let rec_id = sent["recipients"][0]["rec_id"].to_string();
    // The first status line on stderr: the watch is running.
    let (child, line, _stderr) = crate::support::spawn_until_stderr_line(against(&emulator, &home).args([
        "--json",
        "delivery",
        "--watch",
        "--interval",
        "1",
        &rec_id,
    ]));
    assert!(line.contains(&rec_id), "{line}");
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (json["interrupted"].as_bool(), json["deliveries"][0]["status"]["code"].as_i64()),
        (Some(true), Some(0))
    );
}
