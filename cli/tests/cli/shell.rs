//! A CLI that fits a shell: completions, a man page, --quiet, global options where they
//! mean something, every exit code documented.

use crate::support::{against, emulator, payamak, run, TempDir};

#[test]
fn completions_for_every_shell() {
    let home = TempDir::new("completions");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let result = run(payamak(&home).args(["completions", shell]));
        result.expect_code(0);
        assert!(result.stdout.contains("send-bulk") && result.stdout.contains("payamak"), "{shell}");
    }
    run(payamak(&home).args(["completions", "tcsh"])).expect_code(2);
}

#[test]
fn a_man_page_on_stdout_or_one_per_command() {
    let home = TempDir::new("man");
    let page = run(payamak(&home).arg("man"));
    page.expect_code(0);
    assert!(page.stdout.contains(".TH payamak 1"), "{}", page.stdout);
    assert!(page.stdout.contains("EXIT CODES") && page.stdout.contains("130"), "{}", page.stdout);
    let dir = home.join("man1");
    run(payamak(&home).arg("man").arg("--out-dir").arg(&dir)).expect_code(0);
    for name in ["payamak.1", "payamak-send.1", "payamak-send-bulk.1", "payamak-emulator.1"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(text.contains(".TH"), "{name}");
    }
}

#[test]
fn quiet_drops_the_notes_but_not_the_result() {
    let emulator = emulator();
    let home = TempDir::new("quiet");
    let args = ["send", "--from", "5000123456", "--to", "09121234567,09121234567", "--text", "x"];
    let chatty = run(against(&emulator, &home).args(args));
    assert!(chatty.expect_code(0).stderr.contains("note:"), "{}", chatty.stderr);
    assert!(chatty.stdout.contains("SMS part per recipient"));
    let quiet = run(against(&emulator, &home).arg("-q").args(args));
    assert_eq!(quiet.expect_code(0).stderr, "");
    assert!(
        !quiet.stdout.contains("SMS part per recipient") && quiet.stdout.contains("09121234567"),
        "{}",
        quiet.stdout
    );
}

#[test]
fn global_options_have_their_heading_and_are_hidden_where_meaningless() {
    let home = TempDir::new("help-headings");
    let send = run(payamak(&home).args(["send", "--help"]));
    let (commands, globals) =
        send.expect_code(0).stdout.split_once("Global options:").expect("a Global options heading");
    assert!(commands.contains("--dry-run") && !commands.contains("--endpoint"), "{commands}");
    assert!(globals.contains("--endpoint") && globals.contains("--calendar"), "{globals}");

    let emulator = run(payamak(&home).args(["emulator", "--help"]));
    let help = &emulator.expect_code(0).stdout;
    for hidden in ["--endpoint", "--password", "--soap12", "--timeout", "--calendar", "--config"] {
        assert!(!help.lines().any(|line| line.trim_start().starts_with(hidden)), "emulator --help shows {hidden}");
    }
    assert!(help.contains("--json") && help.contains("--quiet"), "{help}");
    let completions = run(payamak(&home).args(["completions", "--help"]));
    assert!(!completions.expect_code(0).stdout.contains("--json"));

    // The emulator starts even with a config file that could not be read: it reads none.
    let broken = home.join("broken.toml");
    std::fs::write(&broken, "usernme = 'typo'").unwrap();
    run(payamak(&home).arg("--config").arg(&broken).args(["completions", "bash"])).expect_code(0);
}

#[test]
fn every_exit_code_is_in_help() {
    let home = TempDir::new("help-exit-codes");
    let help = run(payamak(&home).arg("--help"));
    let text = &help.expect_code(0).stdout;
    let codes = text.split_once("EXIT CODES").expect("an EXIT CODES section").1;
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130 "] {
        assert!(codes.lines().any(|line| line.trim_start().starts_with(code)), "exit code {code}: {codes}");
    }
}

#[test]
fn a_closed_stderr_is_no_panic() {
    let home = TempDir::new("closed-stderr");
    // The built-in emulator's note goes to a stderr whose reader is gone.
    let mut child = payamak(&home)
        .args(["--json", "credit"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("10000"));
}
