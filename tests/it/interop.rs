//! Interoperability with an independent SOAP stack (Python's zeep).
//!
//! These tests need a Python with zeep: `cargo xtask test` creates one and
//! passes it as `PAYAMAK_PYTHON`. Without it they are skipped with a note,
//! except under CI, where a missing interpreter is a failure.

use std::path::PathBuf;
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python to run zeep with, or `None` (after a note) when not configured.
pub fn python() -> Option<PathBuf> {
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

#[test]
fn zeep_loads_both_wsdls_with_every_operation() {
    let Some(python) = python() else { return };
    let root = repo_root();
    let output = Command::new(python)
        .arg(root.join("tests/interop/check_wsdl.py"))
        .arg(&root)
        .output()
        .expect("run check_wsdl.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "check_wsdl.py failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");
}
