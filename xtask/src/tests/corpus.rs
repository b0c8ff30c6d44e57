//! Real-world WSDLs (`xtask/tests/corpus/`, sources and licences in its
//! `SOURCES.md`): each one either generates, or is refused with every problem
//! listed. `results.txt` records which (`UPDATE_EXPECT=1` rewrites it and the
//! `refused/` files); the compile check (`compile.rs`) builds everything that
//! generates, in one crate, and the root crate's interop tests hold the
//! results against what Python's zeep makes of each document.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::support::{assert_no_problems, check_golden_file, generate};
use crate::names;
use crate::pipeline::Input;
use crate::regen::repo_root;

/// The corpus, relative to the repository root.
pub const CORPUS: &str = "xtask/tests/corpus";

fn corpus_dir() -> PathBuf {
    repo_root().join(CORPUS)
}

/// The corpus documents' file names, sorted.
pub fn documents() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("the corpus can be listed")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wsdl"))
        .collect();
    names.sort();
    names
}

/// The Rust module a corpus document's code is compiled as.
pub fn module_name(document: &str) -> String {
    names::snake(document.trim_end_matches(".wsdl"), "document")
}

/// What `generate` makes of each document: its files, or the error text.
pub fn outcomes() -> BTreeMap<String, Result<BTreeMap<String, String>, String>> {
    documents()
        .into_iter()
        .map(|name| {
            let source = format!("{CORPUS}/{name}");
            let text = std::fs::read_to_string(repo_root().join(&source)).expect("a corpus document");
            let outcome = generate(&[Input { source, text }], None).map_err(|error| format!("{error:#}\n"));
            (name, outcome)
        })
        .collect()
}

#[test]
fn corpus_documents_generate_or_are_refused_with_every_problem() {
    let outcomes = outcomes();
    assert!(outcomes.len() >= 10, "corpus documents went missing: {:?}", outcomes.keys());
    let mut results = String::new();
    let mut problems = Vec::new();
    for (name, outcome) in &outcomes {
        let refused = corpus_dir().join("refused").join(name.replace(".wsdl", ".txt"));
        match outcome {
            Ok(_) => {
                results.push_str(&format!("{name}: generates\n"));
                if refused.exists() {
                    problems.push(format!("{} is stale: {name} generates now", refused.display()));
                }
            }
            Err(error) => {
                results.push_str(&format!("{name}: refused ({} problems)\n", error.lines().count()));
                problems.extend(check_golden_file(&refused, error));
            }
        }
    }
    problems.extend(check_golden_file(&corpus_dir().join("results.txt"), &results));
    assert_no_problems(problems);
}
