//! Every command against the emulator, in table and JSON form.

use payamak_emulator::{Emulator, IncomingSms, ManualClock, RunningEmulator};

use crate::support::{against, emulator, emulator_with, fast_deliveries, run, run_with_stdin, Run, TempDir};

#[test]
fn credit_in_text_and_json() {
    let emulator = emulator();
    let home = TempDir::new("credit");
    let text = run(against(&emulator, &home).arg("credit"));
    text.expect_code(0);
    assert_eq!(text.stdout.trim(), "credit: 10000");
    let json = run(against(&emulator, &home).args(["--json", "credit"]));
    assert_eq!(json.expect_code(0).json()["credit"], 10000.0);
}

#[test]
fn send_shows_parts_then_a_row_per_recipient() {
    let emulator = emulator();
    let home = TempDir::new("send");
    let result = run(against(&emulator, &home).args([
        "send",
        "--from",
        "5000123456",
        "--to",
        "0912 123 4567",
        "--to",
        "+989351234567",
        "--text",
        "سلام دنیا",
    ]));
    result.expect_code(0);
    assert!(result.stdout.contains("1 SMS part per recipient (UCS-2"), "{}", result.stdout);
    assert!(result.stdout.contains("09121234567") && result.stdout.contains("09351234567"), "{}", result.stdout);
    assert!(result.stdout.contains("ارسال شده"), "the Persian status is shown: {}", result.stdout);
    assert!(!result.stdout.contains('\u{1b}'), "no ANSI escapes when stdout is not a terminal");

    let snapshot = emulator.account_snapshot("demo").unwrap();
    assert_eq!(snapshot.sent.len(), 2);
    for sent in &snapshot.sent {
        assert!(result.stdout.contains(&sent.rec_id.to_string()), "recId {} shown", sent.rec_id);
        assert_eq!(sent.body, "سلام دنیا");
    }
}

#[test]
fn send_json_has_stable_fields() {
    let emulator = emulator();
    let home = TempDir::new("send-json");
    let result = run(against(&emulator, &home).args([
        "--json",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567,09351234567",
        "--text",
        "hello",
        "--flash",
    ]));
    let json = result.expect_code(0).json();
    assert_eq!(json["from"], "5000123456");
    assert_eq!(json["text"]["parts"], 1);
    assert_eq!(json["text"]["encoding"], "gsm7");
    assert_eq!(json["status"]["code"], 1);
    assert_eq!(json["status"]["success"], true);
    assert_eq!(json["accepted"], 2);
    assert_eq!(json["refused"], 0);
    let recipients = json["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 2);
    assert_eq!(recipients[1]["number"], "09351234567");
    assert!(recipients[0]["rec_id"].as_i64().unwrap() > 0);
    assert_eq!(recipients[0]["accepted"], true);
    assert_eq!(recipients[0]["status"]["code"], 0);
    assert!(emulator.account_snapshot("demo").unwrap().sent.iter().all(|sent| sent.flash));
}

#[test]
fn the_text_can_come_from_stdin() {
    let emulator = emulator();
    let home = TempDir::new("stdin");
    let dash = run_with_stdin(
        against(&emulator, &home).args(["send", "--from", "5000123456", "--to", "09121234567", "--text", "-"]),
        "سلام از stdin\n",
    );
    dash.expect_code(0);
    // No --text at all, with stdin a pipe.
    let implicit = run_with_stdin(
        against(&emulator, &home).args(["send", "--from", "5000123456", "--to", "09351234567"]),
        "line one\nline two\r\n\n",
    );
    implicit.expect_code(0);
    let bodies: Vec<String> =
        emulator.account_snapshot("demo").unwrap().sent.into_iter().map(|sent| sent.body).collect();
    assert_eq!(bodies, ["سلام از stdin", "line one\nline two"]);
}

fn schedule(emulator: &RunningEmulator, home: &TempDir, at: &str, extra: &[&str]) -> Run {
    run(against(emulator, home)
        .args(["schedule", "--from", "5000123456", "--to", "09121234567", "--text", "یادآوری", "--at", at])
        .args(extra))
}

#[test]
fn schedule_takes_gregorian_tehran_time_and_a_period() {
    let emulator = emulator();
    let home = TempDir::new("schedule");
    let result = schedule(&emulator, &home, "2099-01-31T14:30", &["--json", "--period", "weekly"]);
    let json = result.expect_code(0).json();
    assert_eq!(json["at"], "2099-01-31T14:30:00+03:30");
    assert_eq!(json["period"], "weekly");
    assert_eq!(json["status"]["code"], 1);
    assert!(result.stderr.contains("is Gregorian 2099-01-31 14:30 = Jalali 1477-11-12 14:30"), "{}", result.stderr);
    let schedules = emulator.account_snapshot("demo").unwrap().schedules;
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].period, "Weekly");
    assert_eq!(schedules[0].next_at.map(|at| at.to_string()).as_deref(), Some("2099-01-31T14:30:00"));

    let bad = schedule(&emulator, &home, "31/01/2099", &[]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("invalid time"), "{}", bad.stderr);
}

#[test]
fn schedule_reads_jalali_dates_and_echoes_both_calendars() {
    let emulator = emulator();
    let home = TempDir::new("schedule-jalali");
    for at in ["1480-01-01T10:00", "۱۴۸۰/۰۱/۰۱ ۱۰:۰۰"] {
        let result = schedule(&emulator, &home, at, &[]);
        result.expect_code(0);
        assert!(result.stderr.contains("is Jalali 1480-01-01 10:00 = Gregorian 2101-03-21 10:00"), "{}", result.stderr);
        assert!(
            result.stdout.contains("scheduled for Jalali 1480-01-01 10:00 (Gregorian 2101-03-21 10:00) Tehran time"),
            "{}",
            result.stdout
        );
    }
    let schedules = emulator.account_snapshot("demo").unwrap().schedules;
    let due: Vec<String> = schedules.iter().filter_map(|schedule| schedule.next_at.map(|at| at.to_string())).collect();
    assert_eq!(due, ["2101-03-21T10:00:00", "2101-03-21T10:00:00"]);
    let gregorian = schedule(&emulator, &home, "1480-01-01T10:00", &["--calendar", "gregorian"]);
    assert!(
        gregorian.expect_code(0).stdout.contains("scheduled for Gregorian 2101-03-21 10:00 (Jalali"),
        "{}",
        gregorian.stdout
    );
}

#[test]
fn schedule_refuses_a_past_time_unless_allowed() {
    let emulator = emulator();
    let home = TempDir::new("schedule-past");
    // The year 1405 read as Gregorian was "in the past" and scheduled anyway; as Jalali it is
    // the near future. A Jalali time really in the past is refused.
    let past = schedule(&emulator, &home, "1400-01-01T10:00", &["--json"]);
    past.expect_code(2);
    assert!(past.stderr.contains("is in the past") && past.stderr.contains("--allow-past"), "{}", past.stderr);
    assert!(past.stderr.contains("Jalali 1400-01-01 10:00 = Gregorian 2021-03-21 10:00"), "{}", past.stderr);
    assert_eq!(past.json()["error"]["kind"], "usage");
    let snapshot = emulator.account_snapshot("demo").unwrap();
    assert!(snapshot.schedules.is_empty() && snapshot.sent.is_empty(), "nothing was scheduled or sent");

    let allowed = schedule(&emulator, &home, "1400-01-01T10:00", &["--allow-past"]);
    allowed.expect_code(0);
    assert!(allowed.stderr.contains("warning: --at is in the past"), "{}", allowed.stderr);
}

#[test]
fn delivery_update_delivery_and_watch() {
    let emulator = emulator_with(Emulator::builder().delivery_timing(fast_deliveries()));
    let home = TempDir::new("delivery");
    let sent = run(against(&emulator, &home).args([
        "--json",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--to",
        "09351234567",
        "--text",
        "x",
    ]));
    let sent = sent.expect_code(0).json();
    let rec_ids: Vec<String> =
        sent["recipients"].as_array().unwrap().iter().map(|r| r["rec_id"].as_i64().unwrap().to_string()).collect();

    let now = run(against(&emulator, &home).args(["--json", "delivery"]).args(&rec_ids));
    let now = now.expect_code(0).json();
    assert_eq!(now["deliveries"][0]["rec_id"].to_string(), rec_ids[0]);
    assert_eq!(now["deliveries"][0]["status"]["code"], 0, "not refreshed yet: sent to the operator");
    assert_eq!(now["deliveries"][0]["final"], false);

    std::thread::sleep(std::time::Duration::from_millis(400));
    let update = run(against(&emulator, &home).args(["--json", "update-delivery", &rec_ids[0]]));
    assert_eq!(update.expect_code(0).json()["status"]["code"], 1);
    let updated = run(against(&emulator, &home).args(["delivery", &rec_ids[1]]));
    assert!(updated.expect_code(0).stdout.contains("رسیده به گوشی"), "{}", updated.stdout);

    let unknown = run(against(&emulator, &home).args(["update-delivery", "42"]));
    unknown.expect_code(1);

    // A fresh send, followed to the end.
    let sent = run(against(&emulator, &home).args([
        "--json",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09131234567",
        "--text",
        "y",
    ]));
    let rec_id = sent.expect_code(0).json()["recipients"][0]["rec_id"].as_i64().unwrap().to_string();
    let watched = run(against(&emulator, &home).args(["delivery", "--watch", "--interval", "1", &rec_id]));
    watched.expect_code(0);
    assert!(watched.stdout.contains("delivered to the handset"), "{}", watched.stdout);
    let watched_json =
        run(against(&emulator, &home).args(["--json", "delivery", "--watch", "--interval", "1", &rec_id]));
    let json = watched_json.expect_code(0).json();
    assert_eq!(json["complete"], true);
    assert_eq!(json["deliveries"][0]["status"]["code"], 1);
    assert_eq!(json["deliveries"][0]["final"], true);
}

#[test]
fn inbox_numbers_and_read_flags() {
    let emulator = emulator();
    let home = TempDir::new("inbox");
    let id =
        emulator.inject_incoming(IncomingSms::new("demo", "09121234567", "سلام، وقت بخیر").to("5000123456")).unwrap();
    emulator.inject_incoming(IncomingSms::new("demo", "09351234567", "second").to("3000987654")).unwrap();

    let count = run(against(&emulator, &home).args(["--json", "inbox-count"]));
    assert_eq!(count.expect_code(0).json()["count"], 2);

    let table = run(against(&emulator, &home).args(["inbox", "--unread", "--from", "5000123456"]));
    table.expect_code(0);
    assert!(table.stdout.contains("سلام، وقت بخیر"), "{}", table.stdout);
    assert!(!table.stdout.contains("second"), "--from filters by the virtual number");

    // By default the unread messages, which reading does not consume.
    for _ in 0..2 {
        let unread = run(against(&emulator, &home).args(["--json", "inbox"]));
        let unread = unread.expect_code(0).json();
        assert_eq!(unread["folder"], "unread");
        let messages = unread["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0]["msg_id"], id);
        assert_eq!(messages[0]["sender"], "09121234567");
        assert_eq!(messages[0]["body"], "سلام، وقت بخیر");
        assert_eq!(messages[0]["read"], false);
    }
    // --new consumes them, and says so.
    let new = run(against(&emulator, &home).args(["--json", "inbox", "--new"]));
    assert_eq!(new.expect_code(0).json()["messages"].as_array().unwrap().len(), 2);
    assert!(new.stderr.contains("--new took 2 message(s) off the panel's list of new messages"), "{}", new.stderr);
    let again = run(against(&emulator, &home).args(["--json", "inbox", "--new"]));
    assert_eq!(again.expect_code(0).json()["messages"].as_array().unwrap().len(), 0, "new messages are returned once");
    assert!(emulator.account_snapshot("demo").unwrap().inbox.iter().all(|message| !message.is_read));

    run(against(&emulator, &home).args(["mark-read", &id.to_string()])).expect_code(0);
    let read = run(against(&emulator, &home).args(["--json", "inbox-count", "--read"]));
    assert_eq!(read.expect_code(0).json()["count"], 1);
    let listed = run(against(&emulator, &home).args(["--json", "inbox", "--read"]));
    assert_eq!(listed.expect_code(0).json()["messages"][0]["msg_id"], id);
    run(against(&emulator, &home).args(["--json", "mark-unread", &id.to_string()])).expect_code(0);
    let read = run(against(&emulator, &home).args(["--json", "inbox-count", "--read"]));
    assert_eq!(read.expect_code(0).json()["count"], 0);

    let numbers = run(against(&emulator, &home).args(["--json", "numbers"]));
    assert_eq!(numbers.expect_code(0).json()["numbers"], serde_json::json!(["5000123456", "3000987654"]));

    // Sent messages show up in the sent lists.
    run(against(&emulator, &home).args(["send", "--from", "5000123456", "--to", "09121234567", "--text", "out"]))
        .expect_code(0);
    let sent = run(against(&emulator, &home).args(["--json", "inbox", "--sent-unread"]));
    let sent = sent.expect_code(0).json();
    assert_eq!(sent["messages"][0]["receiver"], "09121234567");
    assert_eq!(sent["messages"][0]["body"], "out");
}

#[test]
fn soap12_works_too() {
    let emulator = emulator();
    let home = TempDir::new("soap12");
    let result = run(against(&emulator, &home).args(["--soap12", "--json", "credit"]));
    assert_eq!(result.expect_code(0).json()["credit"], 10000.0);
}

#[test]
fn help_and_version() {
    let home = TempDir::new("help");
    let help = run(crate::support::payamak(&home).arg("--help"));
    help.expect_code(0);
    for needle in ["send-bulk", "PAYAMAK_ENDPOINT", "EXIT CODES", "built-in emulator"] {
        assert!(help.stdout.contains(needle), "--help mentions {needle}");
    }
    let bulk = run(crate::support::payamak(&home).args(["send-bulk", "--help"]));
    assert!(bulk.expect_code(0).stdout.contains("--resend-unknown"));
    run(crate::support::payamak(&home).arg("--version")).expect_code(0);
}

#[test]
fn tables_show_jalali_dates_and_json_gregorian_with_the_offset() {
    let clock = ManualClock::starting_at("2024-03-20T09:00:00".parse::<payamak::PanelDateTime>().unwrap());
    let emulator = emulator_with(Emulator::builder().clock(&clock));
    let home = TempDir::new("dates");
    emulator.inject_incoming(IncomingSms::new("demo", "09121234567", "نوروز مبارک")).unwrap();
    let table = run(against(&emulator, &home).arg("inbox"));
    assert!(table.expect_code(0).stdout.contains("date (Tehran, Jalali)"), "{}", table.stdout);
    assert!(table.stdout.contains("1403-01-01 09:00"), "{}", table.stdout);
    let gregorian = run(against(&emulator, &home).args(["--calendar", "gregorian", "inbox"]));
    assert!(gregorian.expect_code(0).stdout.contains("2024-03-20 09:00"), "{}", gregorian.stdout);
    let config = home.join("gregorian.toml");
    std::fs::write(&config, "calendar = 'gregorian'\n").unwrap();
    let from_file = run(against(&emulator, &home).arg("--config").arg(&config).arg("inbox"));
    assert!(from_file.expect_code(0).stdout.contains("2024-03-20 09:00"), "{}", from_file.stdout);
    let json = run(against(&emulator, &home).args(["--json", "inbox"]));
    assert_eq!(json.expect_code(0).json()["messages"][0]["date"], "2024-03-20T09:00:00+03:30");
}
