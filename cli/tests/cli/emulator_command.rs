//! `payamak emulator`: serves until Ctrl-C and says how to reach it.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use crate::support::{payamak, run, TempDir};

#[test]
fn the_emulator_command_serves_until_ctrl_c() {
    let home = TempDir::new("emulator-command");
    let accounts = home.join("accounts.toml");
    std::fs::write(
        &accounts,
        "[[accounts]]\nusername = \"shop\"\npassword = \"shop-secret\"\ncredit = 50.0\nsenders = [\"50001234\"]\n",
    )
    .unwrap();
    let mut child = payamak(&home)
        .args(["--json", "emulator", "--listen", "127.0.0.1:0", "--accounts"])
        .arg(&accounts)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The JSON document comes first, before serving.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut document = String::new();
    let info: serde_json::Value = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the emulator printed its address");
        document.push_str(&line);
        if let Ok(value) = serde_json::from_str(&document) {
            break value;
        }
    };
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
