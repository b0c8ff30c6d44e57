//! What `generate` writes compiles in a crate that only depends on `payamak`:
//! the two sibling WSDLs, the `doc_hazards` and `shared_operations` fixtures and
//! every corpus document that generates, built together (one compile) with
//! `-D warnings` and `#![deny(missing_docs)]`, and none of their doc comments is
//! a doctest.

use std::process::Command;

use super::corpus;
use super::support::{generate, input, FIXTURES};
use crate::load::NoImports;
use crate::output;
use crate::pipeline::{self, Input, Options};
use crate::regen::repo_root;

const MANIFEST: &str = r#"[package]
name = "generated-code-check"
version = "0.0.0"
edition = "2021"
publish = false

# Not a member of the payamak workspace.
[workspace]

[dependencies]
payamak = { path = "REPO", features = ["serde"] }

# Generated code derives serde behind the using crate's own `serde` feature.
[features]
default = ["serde"]
serde = []
"#;

const LIB: &str = r#"//! Generated code, compiled outside the payamak crate.
#![deny(missing_docs)]

/// The sibling WSDLs' services.
#[rustfmt::skip]
pub mod generated;

/// Documentation full of code-block lookalikes.
#[rustfmt::skip]
pub mod doc_hazards;

/// Two services with an operation of the same name.
#[rustfmt::skip]
pub mod shared_operations;

/// The real-world WSDLs of `xtask/tests/corpus/` that generate.
#[rustfmt::skip]
pub mod corpus;
"#;

#[test]
fn generated_code_compiles_in_another_crate() {
    let root = repo_root();
    let target = root.join("target");
    // Inside `target/` so it is ignored and cleaned with everything else.
    let krate = target.join("tmp").join("generated-code-check");
    std::fs::create_dir_all(krate.join("src")).expect("crate directory");
    let manifest = MANIFEST.replace("REPO", &root.display().to_string().replace('\\', "/"));
    std::fs::write(krate.join("Cargo.toml"), manifest).expect("manifest");
    std::fs::write(krate.join("src/lib.rs"), LIB).expect("lib.rs");
    // The workspace's lock file pins the same versions, so compiled dependencies are reused.
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).expect("lock file");

    let inputs: Vec<Input> = ["send_2019.wsdl", "receive_2022.wsdl"]
        .iter()
        .map(|file| {
            let source = format!("{FIXTURES}/siblings/{file}");
            let text = std::fs::read_to_string(root.join(&source)).expect("sibling WSDL");
            Input { source, text }
        })
        .collect();
    let options = Options { annotations: None, command: "cargo xtask generate", strict: false, read: &NoImports };
    let files = pipeline::generate(&inputs, &options).expect("the siblings generate").files;
    output::write(&krate.join("src/generated"), &files, true).expect("generated files");
    let source = format!("{FIXTURES}/doc_hazards/input.wsdl");
    let text = std::fs::read_to_string(root.join(&source)).expect("doc_hazards WSDL");
    let files = pipeline::generate(&[Input { source, text }], &options).expect("doc_hazards generates").files;
    output::write(&krate.join("src/doc_hazards"), &files, true).expect("generated files");
    let fixture = format!("{FIXTURES}/shared_operations");
    let files = generate(&[input(&format!("{fixture}/input.wsdl"))], Some(&format!("{fixture}/annotations.toml")))
        .expect("shared_operations generates");
    output::write(&krate.join("src/shared_operations"), &files, true).expect("generated files");
    write_corpus(&krate.join("src/corpus"));

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let result = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("cargo runs");
    assert!(
        result.status.success(),
        "the generated code does not build in {}:\n{}",
        krate.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    // Doctests would run WSDL text as code: there must be none (rustdoc also
    // rejects a bare CR in a doc comment).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let result = Command::new(cargo)
        .args(["test", "--doc", "--offline"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success() && stdout.contains("running 0 tests"),
        "the generated docs hold doctests in {}:\n{stdout}\n{}",
        krate.display(),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// `corpus/mod.rs` and one module per corpus document that generates.
fn write_corpus(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    let mut index = String::from("//! The corpus documents that generate, one module each.\n");
    for (document, outcome) in corpus::outcomes() {
        let Ok(files) = outcome else { continue };
        let module = corpus::module_name(&document);
        output::write(&dir.join(&module), &files, true).expect("generated files");
        index.push_str(&format!("\n/// `{document}`.\n#[rustfmt::skip]\npub mod {module};\n"));
    }
    std::fs::write(dir.join("mod.rs"), index).expect("corpus/mod.rs");
}
