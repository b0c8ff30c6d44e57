//! Interoperability with an independent SOAP stack: Python's zeep drives every
//! operation of the emulator through its `?WSDL`.
//!
//! It needs a Python with zeep: `cargo xtask test` creates one and passes it as
//! `PAYAMAK_PYTHON`. Without it the test is skipped with a note, except under CI,
//! where a missing interpreter is a failure.

use std::path::PathBuf;
use std::process::Command;

/// The repository's shared interoperability scripts.
fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop")
}

/// The Python to run zeep with, or `None` (after a note) when not configured.
fn python() -> Option<PathBuf> {
    match std::env::var_os("PAYAMAK_PYTHON") {
        Some(python) => Some(PathBuf::from(python)),
        None if std::env::var_os("CI").is_some() => {
            panic!("PAYAMAK_PYTHON is not set: run the suite with `cargo xtask test`")
        }
        None => {
            eprintln!("note: zeep interop test skipped; `cargo xtask test` runs it");
            None
        }
    }
}

use payamak_emulator::{Account, Emulator, IncomingSms};

#[test]
fn zeep_drives_every_operation_of_the_emulator() {
    let Some(python) = python() else { return };
    let account = |name: &str| Account::new(name, "zeep").credit(1000.0).price_per_part(1.0).sender("5000123456");
    let emulator = Emulator::builder()
        .without_demo()
        .account(account("zeep11"))
        .account(account("zeep12"))
        .start_blocking()
        .expect("emulator");
    for user in ["zeep11", "zeep12"] {
        emulator.handle().inject_incoming(IncomingSms::new(user, "09351112233", "سلام از زیپ")).expect("inject");
    }
    let output = Command::new(python)
        .arg(interop_dir().join("drive_emulator.py"))
        .arg(emulator.base_url())
        .output()
        .expect("run drive_emulator.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "drive_emulator.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");
}
