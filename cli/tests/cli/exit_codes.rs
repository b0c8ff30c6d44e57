//! Exit codes and error reports: 1 refused, 2 usage/input, 3 transport; never the password.

use payamak_emulator::{Account, Emulator};

use crate::support::{against, closed_port, emulator, emulator_with, payamak, run, TempDir};

#[test]
fn a_wrong_password_is_a_refusal() {
    let emulator = emulator();
    let home = TempDir::new("wrong-password");
    let result = run(payamak(&home).args([
        "--endpoint",
        &emulator.base_url(),
        "--user",
        "demo",
        "--password",
        "not-the-password",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        "x",
    ]));
    result.expect_code(1);
    assert!(result.stderr.starts_with("error: "), "{}", result.stderr);
    assert!(result.stderr.contains("wrong user name or password"), "{}", result.stderr);
    assert!(!result.stderr.contains("not-the-password") && !result.stdout.contains("not-the-password"));
    assert!(emulator.account_snapshot("demo").unwrap().sent.is_empty());

    let json = run(payamak(&home).args([
        "--json",
        "--endpoint",
        &emulator.base_url(),
        "--user",
        "demo",
        "--password",
        "nope",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        "x",
    ]));
    let json = json.expect_code(1).json();
    assert_eq!(json["error"]["kind"], "rejected");
    assert_eq!(json["error"]["code"], 0);
    assert_eq!(json["error"]["persian"], "نام کاربری و رمز اشتباه");
}

#[test]
fn other_refusals_are_1_too() {
    let emulator = emulator();
    let home = TempDir::new("refusals");
    let sender = run(against(&emulator, &home).args(["send", "--from", "1111", "--to", "09121234567", "--text", "x"]));
    sender.expect_code(1);
    assert!(sender.stderr.contains("sender (virtual) number not allowed"), "{}", sender.stderr);
    let filtered =
        run(against(&emulator, &home).args(["send", "--from", "5000123456", "--to", "09121234567", "--text", "قمار"]));
    filtered.expect_code(1);
}

#[test]
fn bad_input_is_2_and_sends_nothing() {
    let emulator = emulator();
    let home = TempDir::new("bad-input");
    let bad_number = run(against(&emulator, &home).args([
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--to",
        "0912-abc",
        "--text",
        "x",
    ]));
    bad_number.expect_code(2);
    assert!(bad_number.stderr.contains(r#"invalid mobile number "0912-abc""#), "{}", bad_number.stderr);

    let no_text =
        run(against(&emulator, &home).args(["send", "--from", "5000123456", "--to", "09121234567", "--text", ""]));
    no_text.expect_code(2);
    let bad_udh = run(against(&emulator, &home).args([
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        "x",
        "--udh",
        "zz",
    ]));
    bad_udh.expect_code(2);
    let unknown_flag = run(against(&emulator, &home).args(["send", "--frm", "5000123456"]));
    unknown_flag.expect_code(2);
    let missing_csv =
        run(against(&emulator, &home).args(["send-bulk", "--from", "5000123456", "--csv", "nope.csv", "--text", "x"]));
    missing_csv.expect_code(2);
    assert!(missing_csv.stderr.contains("nope.csv"), "{}", missing_csv.stderr);
    let too_many: Vec<String> = crate::support::numbers(101);
    let many =
        run(against(&emulator, &home).args(["send", "--from", "5000123456", "--text", "x", "--to"]).args(&too_many));
    many.expect_code(2);
    assert!(many.stderr.contains("send-bulk"), "{}", many.stderr);
    let bad_url = run(payamak(&home).args(["--endpoint", "ftp://x/", "--user", "a", "--password", "b", "credit"]));
    bad_url.expect_code(2);

    assert!(emulator.account_snapshot("demo").unwrap().sent.is_empty());
}

#[test]
fn an_unreachable_endpoint_is_3() {
    let home = TempDir::new("unreachable");
    let url = format!("http://127.0.0.1:{}/post/", closed_port());
    let credit = run(payamak(&home).args(["--endpoint", &url, "--user", "demo", "--password", "demo", "credit"]));
    credit.expect_code(3);
    assert!(credit.stderr.contains("could not connect"), "{}", credit.stderr);
    let send = run(payamak(&home).args([
        "--json",
        "--endpoint",
        &url,
        "--user",
        "demo",
        "--password",
        "demo",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        "x",
    ]));
    assert_eq!(send.expect_code(3).json()["error"]["kind"], "transport");
}

#[test]
fn the_password_never_shows_even_in_trace_logs() {
    let secret = "s3cr3t-Pa55-word";
    let emulator = emulator_with(Emulator::builder().account(Account::new("alice", secret).credit(5.0).sender("5000")));
    let home = TempDir::new("trace");
    for args in [&["credit"][..], &["send", "--from", "5000", "--to", "09121234567", "--text", "x"][..]] {
        let result = run(payamak(&home)
            .args(["-vv", "--endpoint", &emulator.base_url(), "--user", "alice", "--password", secret])
            .args(args));
        result.expect_code(0);
        assert!(
            result.stderr.contains("payamak.call") || result.stderr.contains("TRACE"),
            "tracing is on: {}",
            result.stderr
        );
        assert!(!result.stderr.contains(secret) && !result.stdout.contains(secret), "{}", result.stderr);
    }
}

#[test]
fn a_lost_answer_to_a_send_is_4_and_not_retried() {
    let home = TempDir::new("outcome-unknown");
    let url = crate::support::hang_up_server(5);
    let result = run(payamak(&home).args([
        "--json",
        "--endpoint",
        &url,
        "--user",
        "demo",
        "--password",
        "demo",
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        "x",
    ]));
    let json = result.expect_code(4).json();
    assert_eq!(json["error"]["kind"], "outcome_unknown");
    assert!(result.stderr.contains("outcome unknown"), "{}", result.stderr);
}

/// `send` to two recipients against a server that answers `SendSms` with `payload`.
fn send_answered_with(payload: &str) -> crate::support::Run {
    let home = TempDir::new("send-answer");
    let url = crate::support::answering_server(payload);
    run(payamak(&home).args(["--json", "--endpoint", &url, "--user", "u", "--password", "p"]).args([
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--to",
        "09127654321",
        "--text",
        "x",
    ]))
}

#[test]
fn only_a_definite_refusal_exits_1() {
    // Success without recIds, or with recId 0: sent, only not trackable.
    for payload in [
        r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>1</SendSmsResult></SendSmsResponse>"#,
        r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>6</SendSmsResult><recId><long>0</long><long>0</long></recId></SendSmsResponse>"#,
    ] {
        let result = send_answered_with(payload);
        let json = result.expect_code(0).json();
        assert_eq!((json["accepted"].as_u64(), json["refused"].as_u64()), (Some(2), Some(0)), "{json}");
        assert!(result.stderr.contains("cannot be tracked"), "{}", result.stderr);
    }
    // A code this payamak does not know: it may have been sent.
    let unknown = send_answered_with(
        r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>42</SendSmsResult><recId><long>5</long><long>6</long></recId></SendSmsResponse>"#,
    );
    let json = unknown.expect_code(4).json();
    assert_eq!((json["unconfirmed"].as_u64(), json["refused"].as_u64()), (Some(2), Some(0)), "{json}");
    // A status byte that refuses one recipient: a definite refusal.
    let refused = send_answered_with(
        r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>1</SendSmsResult><recId><long>5</long><long>0</long></recId><status>AAE=</status></SendSmsResponse>"#,
    );
    let json = refused.expect_code(1).json();
    assert_eq!((json["accepted"].as_u64(), json["refused"].as_u64()), (Some(1), Some(1)), "{json}");
}
