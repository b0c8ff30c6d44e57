//! Where settings come from: flags, environment, config file, or the built-in emulator.

use crate::support::{closed_port, emulator, payamak, run, TempDir};

const NOTE: &str = "note: no endpoint configured; using a built-in emulator";

#[test]
fn with_nothing_configured_a_built_in_emulator_is_used() {
    let home = TempDir::new("built-in");
    let result = run(payamak(&home).args(["send", "--from", "5000123456", "--to", "09121234567", "--text", "سلام"]));
    result.expect_code(0);
    assert!(result.stderr.contains(NOTE), "{}", result.stderr);
    assert!(result.stderr.contains("(demo account)"), "{}", result.stderr);
    assert!(result.stdout.contains("09121234567"), "{}", result.stdout);

    let json = run(payamak(&home).args(["--json", "credit"]));
    assert_eq!(json.expect_code(0).json()["credit"], 10000.0, "stdout stays one JSON document");
    assert!(json.stderr.contains(NOTE));

    // With credentials, the built-in emulator gets an account with them.
    let own = run(payamak(&home).args(["--user", "me", "--password", "pw", "--json", "numbers"]));
    assert_eq!(own.expect_code(0).json()["numbers"], serde_json::json!(["5000123456", "3000987654"]));
    assert!(own.stderr.contains(r#"account "me""#), "{}", own.stderr);
}

#[test]
fn an_endpoint_without_credentials_is_a_usage_error() {
    let emulator = emulator();
    let home = TempDir::new("no-credentials");
    let result = run(payamak(&home).args(["--endpoint", &emulator.base_url(), "credit"]));
    result.expect_code(2);
    assert!(result.stderr.contains("no credentials"), "{}", result.stderr);
    // --user without a password, and stdin not a terminal: no prompt, a clear error.
    let result = run(payamak(&home).args(["--endpoint", &emulator.base_url(), "--user", "demo", "credit"]));
    result.expect_code(2);
    assert!(result.stderr.contains("no password"), "{}", result.stderr);
}

#[test]
fn the_environment_is_read_with_failover_order() {
    let emulator = emulator();
    let home = TempDir::new("env");
    let dead = format!("http://127.0.0.1:{}/post/", closed_port());
    let result = run(payamak(&home)
        .env("PAYAMAK_ENDPOINT", format!("{dead},{}", emulator.base_url()))
        .env("PAYAMAK_USERNAME", "demo")
        .env("PAYAMAK_PASSWORD", "demo")
        .args(["--json", "credit"]));
    assert_eq!(result.expect_code(0).json()["credit"], 10000.0);
    assert!(!result.stderr.contains("note:"), "{}", result.stderr);

    // A flag beats the environment.
    let result = run(payamak(&home)
        .env("PAYAMAK_ENDPOINT", emulator.base_url())
        .env("PAYAMAK_USERNAME", "demo")
        .env("PAYAMAK_PASSWORD", "wrong")
        .args(["--password", "demo", "send", "--from", "5000123456", "--to", "09121234567", "--text", "x"]));
    result.expect_code(0);
}

#[test]
fn the_config_file_is_read_explicitly_and_from_the_default_place() {
    let emulator = emulator();
    let home = TempDir::new("config");
    let config =
        format!("endpoints = [\"{}\"]\nusername = \"demo\"\npassword = \"demo\"\nsoap12 = true\n", emulator.base_url());

    let explicit = home.join("explicit.toml");
    std::fs::write(&explicit, &config).unwrap();
    let result = run(payamak(&home).arg("--config").arg(&explicit).args(["--json", "credit"]));
    assert_eq!(result.expect_code(0).json()["credit"], 10000.0);

    std::fs::create_dir_all(home.join("config/payamak")).unwrap();
    std::fs::write(home.join("config/payamak/config.toml"), &config).unwrap();
    let result = run(payamak(&home).args(["--json", "numbers"]));
    assert_eq!(result.expect_code(0).json()["numbers"][0], "5000123456");
    #[cfg(unix)]
    assert!(result.stderr.contains("chmod 600"), "a readable file with a password is warned about: {}", result.stderr);

    // The environment beats the file; the file's password only goes with the file's user.
    let result = run(payamak(&home).env("PAYAMAK_PASSWORD", "wrong").args([
        "send",
        "--from",
        "5000123456",
        "--to",
        "09121234567",
        "--text",
        "x",
    ]));
    result.expect_code(1);
    let result = run(payamak(&home).args(["--user", "someone-else", "credit"]));
    result.expect_code(2);
    assert!(result.stderr.contains("no password"), "{}", result.stderr);

    let broken = home.join("broken.toml");
    std::fs::write(&broken, "usernme = 'typo'").unwrap();
    let result = run(payamak(&home).arg("--config").arg(&broken).arg("credit"));
    result.expect_code(2);
    assert!(result.stderr.contains("broken.toml"), "{}", result.stderr);
    let missing = run(payamak(&home).args(["--config", "missing.toml", "credit"]));
    missing.expect_code(2);
}

#[test]
fn config_and_accounts_file_errors_never_show_the_password() {
    let home = TempDir::new("secret-errors");
    for (name, text, password) in [
        ("numeric.toml", "username = \"demo\"\npassword = 98765432\n", "98765432"),
        ("unterminated.toml", "username = \"demo\"\npassword = \"S3cret!pw\n", "S3cret!pw"),
    ] {
        let config = home.join(name);
        std::fs::write(&config, text).unwrap();
        let result = run(payamak(&home).arg("--config").arg(&config).args(["--json", "credit"]));
        result.expect_code(2);
        assert!(result.stderr.contains(name) && result.stderr.contains("line 2"), "{}", result.stderr);
        assert!(!result.stderr.contains(password), "{}", result.stderr);
        assert!(!result.stdout.contains(password), "{}", result.stdout);

        let accounts = home.join(&format!("accounts-{name}"));
        std::fs::write(&accounts, format!("[[accounts]]\n{text}")).unwrap();
        let result = run(payamak(&home).args(["emulator", "--listen", "127.0.0.1:0", "--accounts"]).arg(&accounts));
        result.expect_code(2);
        assert!(
            result.stderr.contains("invalid accounts file") && result.stderr.contains("line 3"),
            "{}",
            result.stderr
        );
        assert!(!result.stderr.contains(password), "{}", result.stderr);
    }
}

#[test]
fn an_endpoint_setting_naming_no_url_is_a_usage_error() {
    let home = TempDir::new("empty-endpoint");
    let config = home.join("payamak.toml");
    std::fs::write(&config, "endpoint = 'http://127.0.0.1:1/post/'\n").unwrap();

    let flag = run(payamak(&home).arg("--config").arg(&config).args(["--endpoint", "", "credit"]));
    flag.expect_code(2);
    assert!(flag.stderr.contains("--endpoint is empty"), "{}", flag.stderr);
    assert!(!flag.stderr.contains(NOTE), "the built-in emulator is not used: {}", flag.stderr);

    let env = run(payamak(&home).arg("--config").arg(&config).env("PAYAMAK_ENDPOINT", ",").arg("credit"));
    env.expect_code(2);
    assert!(env.stderr.contains("PAYAMAK_ENDPOINT names no URL"), "{}", env.stderr);
}

#[test]
fn soap11_overrides_the_config_file_and_conflicts_with_soap12() {
    let emulator = emulator();
    let home = TempDir::new("soap11");
    let config = home.join("payamak.toml");
    std::fs::write(
        &config,
        format!("endpoint = '{}'\nusername = 'demo'\npassword = 'demo'\nsoap12 = true\n", emulator.base_url()),
    )
    .unwrap();
    let from_file = run(payamak(&home).arg("--config").arg(&config).args(["-vv", "credit"]));
    from_file.expect_code(0);
    assert!(from_file.stderr.contains("soap_version: V12"), "{}", from_file.stderr);
    let result = run(payamak(&home).arg("--config").arg(&config).args(["--soap11", "-vv", "credit"]));
    result.expect_code(0);
    assert!(result.stderr.contains("soap_version: V11"), "{}", result.stderr);

    let both = run(payamak(&home).args(["--soap11", "--soap12", "credit"]));
    both.expect_code(2);
    assert!(both.stderr.contains("cannot be used with"), "{}", both.stderr);
}

#[test]
fn a_password_inside_an_endpoint_url_is_refused_and_never_shown() {
    let home = TempDir::new("url-password");
    let secret = "Url-S3cret-pw";
    let url = format!("https://demo:{secret}@panel.example/post/");
    let config = home.join("payamak.toml");
    std::fs::write(&config, format!("endpoint = '{url}'\nusername = 'demo'\npassword = 'demo'\n")).unwrap();
    let runs = [
        run(payamak(&home).args(["-vv", "--json", "--endpoint", &url, "--user", "demo", "--password", "x", "credit"])),
        run(payamak(&home).env("PAYAMAK_ENDPOINT", &url).args(["-vv", "--user", "demo", "--password", "x", "credit"])),
        run(payamak(&home).arg("--config").arg(&config).args(["-vv", "--json", "check"])),
    ];
    for result in &runs {
        result.expect_code(2);
        assert!(result.stderr.contains("holds a user name or password"), "{}", result.stderr);
        assert!(!result.stderr.contains(secret) && !result.stdout.contains(secret), "{result:?}");
    }
    assert_eq!(runs[0].json()["error"]["kind"], "usage");
}
