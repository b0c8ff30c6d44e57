//! Services of one run that share an operation name (`GetInboxCount` in the
//! `shared_operations` fixture) each keep their own annotations, and strict
//! mode checks the tables service by service.

use anyhow::Result;

use super::support::{generate, input, repo_files, FIXTURES};
use crate::annotations::{Annotations, AnnotationsFile};
use crate::pipeline::{self, Options};
use crate::regen::repo_root;

const SEND_DOC: &str = "Counts the messages of the sending service's inbox: a read, safe to retry.";
const RECEIVE_DOC: &str =
    "Counts the messages of the receiving service's inbox and marks them fetched: not safe to retry.";

fn wsdl() -> String {
    format!("{FIXTURES}/shared_operations/input.wsdl")
}

fn annotations_path() -> String {
    format!("{FIXTURES}/shared_operations/annotations.toml")
}

/// The fixture's annotations with `edit` applied to their text.
fn edited_annotations(edit: impl FnOnce(String) -> String) -> String {
    let path = repo_root().join(annotations_path());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    edit(text)
}

/// `pipeline::plan` as `regen` runs it: strict, on annotations given as text.
fn strict_plan(annotations: &str) -> Result<()> {
    let annotations = Annotations::parse(annotations)?;
    let source = annotations_path();
    let options = Options {
        annotations: Some(AnnotationsFile { annotations: &annotations, source: &source }),
        command: "cargo xtask regen",
        strict: true,
        read: repo_files(),
    };
    pipeline::plan(&[input(&wsdl())], &options).map(drop)
}

#[test]
fn same_named_operations_keep_their_own_annotations() {
    let files = generate(&[input(&wsdl())], Some(&annotations_path())).expect("the fixture generates");
    let module = |name: &str| files.get(name).unwrap_or_else(|| panic!("{name} is generated")).as_str();
    let (send, receive) = (module("send.rs"), module("receive.rs"));
    assert!(send.contains(SEND_DOC) && !send.contains(RECEIVE_DOC), "{send}");
    assert!(send.contains("retry_safe: true,") && !send.contains("retry_safe: false,"), "{send}");
    assert!(receive.contains(RECEIVE_DOC) && !receive.contains(SEND_DOC), "{receive}");
    assert!(receive.contains("retry_safe: false,") && !receive.contains("retry_safe: true,"), "{receive}");
}

#[test]
fn strict_mode_accepts_one_table_per_service_and_operation() {
    strict_plan(&edited_annotations(|text| text)).expect("the annotations match the WSDL");
}

#[test]
fn strict_mode_names_the_service_whose_operation_has_no_table() {
    let annotations = edited_annotations(|text| {
        let table = "[services.Receive.operations.GetInboxCount]\n";
        assert!(text.contains(table));
        text.replace(table, "[services.Receive.operations.Unrelated]\n")
    });
    let message = format!("{:#}", strict_plan(&annotations).expect_err("the check fails"));
    let expected = format!(
        "operation \"GetInboxCount\" of service \"Receive\" has no [services.Receive.operations.GetInboxCount] \
         table in {}",
        annotations_path()
    );
    assert!(message.starts_with(&format!("{}:", wsdl())) && message.ends_with(&expected), "{message}");
}

#[test]
fn strict_mode_names_a_table_of_no_service() {
    let annotations = edited_annotations(|text| {
        text + "\n[services.Other]\nwsdl = \"input.wsdl\"\nmodule = \"other\"\ndoc = \"None.\"\n"
    });
    let message = format!("{:#}", strict_plan(&annotations).expect_err("the check fails"));
    assert_eq!(message, format!("{}: [services.Other] names no service of the WSDLs", annotations_path()));
}
