//! Wrong credentials are never a silent success: `payamak check`, and the check that
//! follows a read the panel answered with zero or nothing.

use payamak_emulator::{Account, Emulator};

use crate::support::{against, emulator, emulator_with, payamak, run, TempDir};

fn with_password(
    emulator: &payamak_emulator::RunningEmulator,
    home: &TempDir,
    password: &str,
) -> std::process::Command {
    let mut command = payamak(home);
    command.args(["--endpoint", &emulator.base_url(), "--user", "demo", "--password", password]);
    command
}

#[test]
fn check_says_whether_the_panel_accepts_the_credentials() {
    let emulator = emulator();
    let home = TempDir::new("check");
    let accepted = run(against(&emulator, &home).arg("check"));
    assert!(accepted.expect_code(0).stdout.contains("accepts"), "{}", accepted.stdout);
    let json = run(against(&emulator, &home).args(["--json", "check"]));
    assert_eq!(json.expect_code(0).json(), serde_json::json!({ "username": "demo", "accepted": true }));

    let refused = run(with_password(&emulator, &home, "wrong-pw").arg("check"));
    refused.expect_code(1);
    assert!(refused.stderr.contains("does not accept the user name and password"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("wrong-pw"), "{}", refused.stderr);
    let json = run(with_password(&emulator, &home, "wrong-pw").args(["--json", "check"]));
    let error = json.expect_code(1).json();
    assert_eq!((error["error"]["kind"].as_str(), error["error"]["code"].as_i64()), (Some("rejected"), Some(0)));
}

#[test]
fn reads_answered_with_nothing_fail_when_the_credentials_are_wrong() {
    let emulator = emulator();
    let home = TempDir::new("empty-reads");
    for command in [&["credit"][..], &["inbox"], &["inbox", "--sent-read"], &["inbox-count"], &["numbers"]] {
        let result = run(with_password(&emulator, &home, "wrong-pw").args(command));
        result.expect_code(1);
        assert!(result.stderr.contains("does not accept the user name and password"), "{command:?}: {}", result.stderr);
        assert!(result.stdout.is_empty(), "{command:?}: nothing that looks like a result: {}", result.stdout);
        let json = run(with_password(&emulator, &home, "wrong-pw").arg("--json").args(command));
        assert_eq!(json.expect_code(1).json()["error"]["code"], 0, "{command:?}");
    }
}

#[test]
fn an_account_that_really_has_nothing_reads_as_empty_with_exit_0() {
    let emulator = emulator_with(Emulator::builder().account(Account::new("empty", "pw")));
    let home = TempDir::new("really-empty");
    let as_empty = |args: &[&str]| {
        run(payamak(&home)
            .args(["--json", "--endpoint", &emulator.base_url(), "--user", "empty", "--password", "pw"])
            .args(args))
    };
    assert_eq!(as_empty(&["credit"]).expect_code(0).json()["credit"], 0.0);
    assert_eq!(as_empty(&["inbox-count"]).expect_code(0).json()["count"], 0);
    assert_eq!(as_empty(&["numbers"]).expect_code(0).json()["numbers"], serde_json::json!([]));
    assert_eq!(as_empty(&["inbox"]).expect_code(0).json()["messages"], serde_json::json!([]));
}

/// A panel whose GetCredit answers 0 and which has no UpdateMessagesIsNotRead.
fn panel_without_the_check(request: &str) -> (u16, String) {
    let envelope = |body: &str| {
        format!(
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{body}</soap:Body></soap:Envelope>"#
        )
    };
    if request.contains("GetCredit") {
        (
            200,
            envelope(
                r#"<GetCreditResponse xmlns="http://tempuri.org/"><GetCreditResult>0</GetCreditResult></GetCreditResponse>"#,
            ),
        )
    } else {
        (500, envelope("<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server did not recognize the value of HTTP Header SOAPAction.</faultstring></soap:Fault>"))
    }
}

#[test]
fn a_check_that_cannot_tell_is_a_warning_after_a_read_and_an_error_on_its_own() {
    let home = TempDir::new("check-cannot-tell");
    let url = crate::support::canned_server(4, panel_without_the_check);
    let credit = run(payamak(&home).args(["--json", "--endpoint", &url, "--user", "u", "--password", "p", "credit"]));
    assert_eq!(credit.expect_code(0).json()["credit"], 0.0);
    assert!(credit.stderr.contains("the credentials check could not tell"), "{}", credit.stderr);
    let check = run(payamak(&home).args(["--endpoint", &url, "--user", "u", "--password", "p", "check"]));
    check.expect_code(3);
    assert!(check.stderr.contains("cannot check the user name and password"), "{}", check.stderr);
}
