//! Cost and safety before sending: `--dry-run`, `--max-parts`, repeated `--to` numbers.

use crate::support::{against, emulator, numbers, payamak, run, write_csv, TempDir};

#[test]
fn a_dry_run_shows_recipients_parts_and_cost_and_sends_nothing() {
    let emulator = emulator();
    let home = TempDir::new("dry-run");
    let text = "سلام ".repeat(20); // 100 characters: 2 UCS-2 parts
    let result = run(against(&emulator, &home).args([
        "--json",
        "send",
        "--dry-run",
        "--from",
        "5000123456",
        "--to",
        "09121234567,09351234567",
        "--text",
        &text,
    ]));
    let json = result.expect_code(0).json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["recipients"], serde_json::json!(["09121234567", "09351234567"]));
    assert_eq!((json["text"]["parts"].as_u64(), json["total_parts"].as_u64()), (Some(2), Some(4)));
    let human = run(against(&emulator, &home).args([
        "send",
        "--dry-run",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        &text,
    ]));
    assert!(human.expect_code(0).stdout.contains("1 recipient(s) × 2 part(s) = 2 SMS parts"), "{}", human.stdout);
    assert!(emulator.account_snapshot("demo").unwrap().sent.is_empty());

    // send-bulk: no journal is written either, and the built-in emulator needs none.
    let csv = home.join("list.csv");
    write_csv(&csv, &numbers(250));
    let bulk = run(payamak(&home)
        .args(["--json", "send-bulk", "--dry-run", "--from", "5000123456", "--text", "hi", "--csv"])
        .arg(&csv));
    let json = bulk.expect_code(0).json();
    assert_eq!((json["recipients"].as_array().unwrap().len(), json["batches"].as_u64()), (250, Some(3)));
    assert_eq!(json["total_parts"], 250);
    assert!(!home.join("list.csv.journal").exists(), "a dry run writes no journal");
    assert!(!bulk.stderr.contains("built-in emulator"), "a dry run connects to nothing: {}", bulk.stderr);
}

#[test]
fn a_bulk_dry_run_lists_each_number_once_in_file_order_and_opens_no_store() {
    let home = TempDir::new("bulk-dry-run");
    let csv = home.join("list.csv");
    let all = numbers(45);
    // Every number twice (the repeat right after it), and an invalid row after every tenth.
    let mut rows = Vec::new();
    for (index, number) in all.iter().enumerate() {
        rows.extend([number.clone(), number.clone()]);
        if index % 10 == 9 {
            rows.push("0912".to_owned());
        }
    }
    write_csv(&csv, &rows);
    let dry_run = |global: &[&str], extra: &[&str]| {
        let command = ["send-bulk", "--dry-run", "--from", "5000123456", "--text", "hi", "--csv"];
        run(payamak(&home).args(global).args(command).arg(&csv).args(extra))
    };
    let json = dry_run(&["--json"], &[]);
    let document = json.expect_code(0).json();
    assert_eq!(document["recipients"], serde_json::json!(all));
    assert_eq!((document["batches"].as_u64(), document["total_parts"].as_u64()), (Some(1), Some(45)));
    assert!(json.stderr.contains("45 repeated number(s)"), "{}", json.stderr);
    assert!(json.stderr.contains("invalid mobile number"), "{}", json.stderr);
    let human = dry_run(&[], &[]);
    let stdout = &human.expect_code(0).stdout;
    assert!(stdout.contains(&format!("  {}\n", all[19])) && !stdout.contains(&all[20]), "{stdout}");
    assert!(stdout.contains("... and 25 more") && stdout.contains("45 recipient(s) × 1 part(s)"), "{stdout}");
    let strict = dry_run(&[], &["--strict"]);
    assert!(strict.expect_code(2).stderr.contains("4 invalid number(s)"), "{}", strict.stderr);
    let files: Vec<_> = std::fs::read_dir(home.join("")).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert!(!files.iter().any(|name| name.to_string_lossy().starts_with("list.csv.")), "{files:?}");
}

#[test]
fn a_runaway_text_is_refused_unless_max_parts_allows_it() {
    let emulator = emulator();
    let home = TempDir::new("max-parts");
    let long = "ب".repeat(67 * 6); // 6 UCS-2 parts
    let send = |extra: &[&str]| {
        run(against(&emulator, &home)
            .args(["send", "--from", "5000123456", "--to", "09121234567", "--text", &long])
            .args(extra))
    };
    let refused = send(&[]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("takes 6 SMS parts per recipient") && refused.stderr.contains("--max-parts 6"),
        "{}",
        refused.stderr
    );
    assert!(emulator.account_snapshot("demo").unwrap().sent.is_empty());
    send(&["--max-parts", "6"]).expect_code(0);

    let csv = home.join("list.csv");
    write_csv(&csv, &numbers(3));
    let bulk =
        run(against(&emulator, &home).args(["send-bulk", "--from", "5000123456", "--text", &long, "--csv"]).arg(&csv));
    bulk.expect_code(2);
    assert!(!home.join("list.csv.journal").exists(), "refused before the journal");
}

#[test]
fn a_number_given_twice_is_sent_to_once_with_a_note() {
    let emulator = emulator();
    let home = TempDir::new("duplicate-to");
    let result = run(against(&emulator, &home).args([
        "--json",
        "send",
        "--from",
        "5000123456",
        "--to",
        "0912 123 4567",
        "--to",
        "+989121234567,09351234567",
        "--text",
        "x",
    ]));
    let json = result.expect_code(0).json();
    assert_eq!(json["recipients"].as_array().unwrap().len(), 2);
    assert!(
        result.stderr.contains("note: --to 09121234567 was given 2 times; it is sent to once"),
        "{}",
        result.stderr
    );
    assert_eq!(crate::support::sent_counts(&emulator, "demo").get("09121234567"), Some(&1));
}
