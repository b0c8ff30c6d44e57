//! The emulator as a command (`payamak emulator`): it serves until Ctrl-C and says how to
//! reach it.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use crate::support::{http, payamak, run, spawn_emulator, TempDir};

#[test]
fn the_emulator_command_serves_until_ctrl_c() {
    let home = TempDir::new("emulator-command");
    let accounts = home.join("accounts.toml");
    std::fs::write(
        &accounts,
        "[[accounts]]\nusername = \"shop\"\npassword = \"shop-secret\"\ncredit = 50.0\nsenders = [\"50001234\"]\n",
    )
    .unwrap();
    // The JSON document comes first, before serving.
    let (mut child, info) =
        spawn_emulator(&home, &["--listen", "127.0.0.1:0", "--accounts", accounts.to_str().unwrap()]);
    let document = info.to_string();
    let base_url = info["base_url"].as_str().unwrap().to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/post/"), "{base_url}");
    let usernames: Vec<&str> =
        info["accounts"].as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert!(usernames.contains(&"demo") && usernames.contains(&"shop"), "{usernames:?}");
    assert!(!document.contains("shop-secret"), "passwords are not printed");

    let credit = run(payamak(&home).args([
        "--json",
        "--endpoint",
        &base_url,
        "--user",
        "shop",
        "--password",
        "shop-secret",
        "credit",
    ]));
    assert_eq!(credit.expect_code(0).json()["credit"], 50.0);

    // Ctrl-C stops it cleanly.
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_emulator_command_prints_the_demo_account() {
    let home = TempDir::new("emulator-text");
    let mut child = payamak(&home)
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    while !text.contains("Ctrl-C") {
        assert!(stdout.read_line(&mut text).unwrap() > 0, "{text}");
    }
    assert!(text.contains("base URL: http://127.0.0.1:"), "{text}");
    assert!(text.contains("user demo, password demo"), "{text}");
    assert!(text.contains("5000123456, 3000987654"), "{text}");
    assert!(text.contains("admin API") && text.contains("/admin/reset"), "{text}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_busy_address_is_a_clear_error() {
    let home = TempDir::new("emulator-busy");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let result = run(payamak(&home).args(["emulator", "--listen", &address]));
    result.expect_code(2);
    assert!(result.stderr.contains("cannot listen on"), "{}", result.stderr);
}

#[test]
fn the_admin_api_is_printed_takes_only_json_and_can_be_reset() {
    let home = TempDir::new("emulator-admin");
    let (mut child, info) = spawn_emulator(&home, &["--listen", "127.0.0.1:0"]);
    assert_eq!(info["admin"]["enabled"], true);
    let endpoints = info["admin"]["endpoints"].as_array().unwrap();
    let url_of = |path: &str| {
        endpoints.iter().find(|endpoint| endpoint["url"].as_str().unwrap().ends_with(path)).unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (inbox, reset) = (url_of("/admin/inbox"), url_of("/admin/reset"));
    let message = r#"{"username": "demo", "from": "09121234567", "body": "سلام"}"#;

    // A form or text/plain post, as a web page could send to another origin, is refused.
    assert_eq!(http("POST", &inbox, Some("text/plain"), message).0, 415);
    assert_eq!(http("POST", &inbox, Some("application/x-www-form-urlencoded"), message).0, 415);
    assert_eq!(http("POST", &inbox, Some("application/json"), message).0, 200);
    let base_url = info["base_url"].as_str().unwrap();
    let count = || {
        let result = run(payamak(&home).args([
            "--json",
            "--endpoint",
            base_url,
            "--user",
            "demo",
            "--password",
            "demo",
            "inbox-count",
        ]));
        result.expect_code(0).json()["count"].clone()
    };
    assert_eq!(count(), 1);
    assert_eq!(http("POST", &reset, Some("text/plain"), "{}").0, 415);
    let (status, body) = http("POST", &reset, Some("application/json"), "{}");
    assert_eq!((status, body.as_str()), (200, r#"{"accounts":["demo"]}"#));
    assert_eq!(count(), 0);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn no_admin_turns_the_admin_api_off() {
    let home = TempDir::new("emulator-no-admin");
    let (mut child, info) = spawn_emulator(&home, &["--listen", "127.0.0.1:0", "--no-admin"]);
    assert_eq!(info["admin"], serde_json::json!({ "enabled": false, "endpoints": [] }));
    let origin = info["base_url"].as_str().unwrap().trim_end_matches("/post/").to_owned();
    assert_eq!(http("GET", &format!("{origin}/admin/accounts"), None, "").0, 404);
    assert_eq!(http("POST", &format!("{origin}/admin/reset"), Some("application/json"), "{}").0, 404);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_non_loopback_address_is_warned_about_and_help_lists_the_admin_api() {
    let home = TempDir::new("emulator-exposed");
    let (mut child, line, _stderr) =
        crate::support::spawn_until_stderr_line(payamak(&home).args(["emulator", "--listen", "0.0.0.0:0"]));
    assert!(line.starts_with("warning: listening on 0.0.0.0:"), "{line}");
    assert!(line.contains("other machines can reach") && line.contains("--no-admin"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut loopback, _) = spawn_emulator(&home, &["--listen", "127.0.0.1:0"]);
    loopback.kill().unwrap();
    let mut quiet = String::new();
    std::io::Read::read_to_string(&mut loopback.stderr.take().unwrap(), &mut quiet).unwrap();
    assert!(!quiet.contains("warning"), "no warning on loopback: {quiet}");
    loopback.wait().unwrap();

    let help = run(payamak(&home).args(["emulator", "--help"]));
    for needle in
        ["POST /admin/inbox", "GET /admin/accounts/{username}", "POST /admin/reset", "--no-admin", "application/json"]
    {
        assert!(help.expect_code(0).stdout.contains(needle), "{needle}: {}", help.stdout);
    }
}
