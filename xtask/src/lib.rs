//! The WSDL → Rust generator and the project's automation, as a library for
//! `cargo xtask` (`src/main.rs`) and for the generator's fuzz target.
//!
//! The generator is a pipeline of modules with one concern each:
//! `load` (the documents an input imports) → `parse` (XML → raw structs) → `model` (resolved, sorted) → `bind` (every
//! Rust-level decision, as a `plan`) → `emit` (Rust tokens) → `output`
//! (formatting, header, files). `names` holds the naming rules,
//! `annotations` reads `wsdl/annotations.toml`, and `pipeline` is the
//! single code path that `regen` and `generate` share.

pub mod annotations;
pub mod bench;
mod bind;
mod diag;
mod emit;
pub mod fetch;
pub mod load;
mod model;
mod names;
pub mod output;
mod parse;
pub mod pipeline;
mod plan;
pub mod regen;
pub mod test_suite;

#[cfg(test)]
mod tests;

/// Runs the whole pipeline on `bytes` as one WSDL document, without annotations:
/// it must generate or report problems, never panic (the `generator` fuzz target).
/// Whether it generated.
pub fn fuzz_generate(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else { return false };
    let input = pipeline::Input { source: "fuzz.wsdl".to_owned(), text: text.to_owned() };
    let options = pipeline::Options { annotations: None, command: "fuzz", strict: false, read: &load::NoImports };
    pipeline::generate(std::slice::from_ref(&input), &options).is_ok()
}
