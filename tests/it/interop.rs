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

/// Corpus documents that zeep loads with SOAP operations but the generator
/// refuses, and why; the test fails when one of them starts generating, so
/// the list only shrinks.
const CORPUS_GAPS: &[(&str, &str)] = &[];

/// Every corpus document that zeep loads with at least one SOAP operation
/// generates (`xtask/tests/corpus/results.txt`), except the listed gaps.
#[test]
fn corpus_documents_zeep_loads_generate() {
    let Some(python) = python() else { return };
    let root = repo_root();
    let corpus = root.join("xtask/tests/corpus");
    let output = Command::new(python)
        .arg(root.join("tests/interop/check_corpus.py"))
        .arg(&corpus)
        .output()
        .expect("run check_corpus.py");
    assert!(output.status.success(), "check_corpus.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let zeep: serde_json::Value = serde_json::from_slice(&output.stdout).expect("check_corpus.py prints JSON");
    let results = std::fs::read_to_string(corpus.join("results.txt")).expect("the corpus results");
    let generates = |name: &str| results.lines().any(|line| line == format!("{name}: generates"));
    let zeep = zeep.as_object().expect("an object per document");
    assert!(zeep.len() >= 10, "{zeep:?}");
    let mut problems = Vec::new();
    for (name, verdict) in zeep {
        let operations = verdict["operations"].as_u64().unwrap_or(0);
        let gap = CORPUS_GAPS.iter().find(|(gap, _)| gap == name);
        match (operations > 0, generates(name), gap) {
            (true, false, None) => {
                problems.push(format!("{name}: zeep loads it ({verdict}), the generator refuses it"))
            }
            (_, true, Some((_, why))) => problems.push(format!("{name} generates now: remove its gap ({why})")),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
