//! Golden fixtures, one construct each:
//! - `fixtures/<case>/input.wsdl` (+ `annotations.toml`) generates `fixtures/<case>/expected/`;
//! - `fixtures/errors/<case>.wsdl` (+ `<case>.toml`) fails with `fixtures/errors/<case>.txt`;
//! - `fixtures/<case>/model.txt` snapshots the resolved model of a few cases, and
//!   `fixtures/<case>/plan.txt` the plan of a few others;
//! - the sibling WSDLs (`fixtures/siblings/`) generate `tests/fixtures/generator/siblings/`,
//!   which the root crate's integration tests compile and exercise.
//!
//! `UPDATE_EXPECT=1 cargo test -p xtask` rewrites the golden files.

use super::support::{
    assert_no_problems, check_golden_dir, check_golden_file, fixtures_dir, generate, generate_options, input,
    repo_files, FIXTURES,
};
use crate::annotations::Annotations;
use crate::pipeline;
use crate::regen::repo_root;

/// Cases whose resolved model is snapshot too.
const MODEL_SNAPSHOTS: &[&str] = &["arrays", "extension"];
/// Cases whose plan is snapshot too.
const PLAN_SNAPSHOTS: &[&str] = &["arrays", "credentials"];
/// Where the siblings' generated code goes, relative to the repository root.
const SIBLINGS_OUT: &str = "tests/fixtures/generator/siblings";
/// Directories of `fixtures/` that are not generation cases.
const NOT_CASES: &[&str] = &["errors", "siblings"];

/// `relative` if that file exists (a fixture's optional annotations).
fn if_exists(relative: String) -> Option<String> {
    repo_root().join(&relative).is_file().then_some(relative)
}

fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures can be listed")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("input.wsdl").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !NOT_CASES.contains(&name.as_str()))
        .collect();
    cases.sort();
    cases
}

#[test]
fn fixtures_generate_their_expected_output() {
    let cases = cases();
    assert!(cases.len() >= 9, "fixture cases went missing: {cases:?}");
    let mut problems = Vec::new();
    for case in cases {
        let inputs = [input(&format!("{FIXTURES}/{case}/input.wsdl"))];
        match generate(&inputs, if_exists(format!("{FIXTURES}/{case}/annotations.toml")).as_deref()) {
            Ok(files) => problems.extend(check_golden_dir(&fixtures_dir().join(&case).join("expected"), &files)),
            Err(error) => problems.push(format!("{case}: {error:#}")),
        }
    }
    assert_no_problems(problems);
}

#[test]
fn error_fixtures_fail_with_their_expected_message() {
    let dir = fixtures_dir().join("errors");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("error fixtures can be listed")
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_string_lossy().strip_suffix(".wsdl").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "error fixtures went missing: {names:?}");
    let mut problems = Vec::new();
    for name in names {
        let inputs = [input(&format!("{FIXTURES}/errors/{name}.wsdl"))];
        match generate(&inputs, if_exists(format!("{FIXTURES}/errors/{name}.toml")).as_deref()) {
            Ok(_) => problems.push(format!("{name}: generation succeeded, but an error was expected")),
            Err(error) => problems.extend(check_golden_file(&dir.join(format!("{name}.txt")), &format!("{error:#}\n"))),
        }
    }
    assert_no_problems(problems);
}

#[test]
fn model_snapshots() {
    let mut problems = Vec::new();
    for case in MODEL_SNAPSHOTS {
        let input = input(&format!("{FIXTURES}/{case}/input.wsdl"));
        let model =
            pipeline::model(&input, repo_files(), crate::model::Dangling::Refuse).expect("the fixture resolves").model;
        problems.extend(check_golden_file(&fixtures_dir().join(case).join("model.txt"), &format!("{model:#?}\n")));
    }
    assert_no_problems(problems);
}

#[test]
fn plan_snapshots() {
    let mut problems = Vec::new();
    for case in PLAN_SNAPSHOTS {
        let inputs = [input(&format!("{FIXTURES}/{case}/input.wsdl"))];
        let annotations = if_exists(format!("{FIXTURES}/{case}/annotations.toml"));
        let loaded = annotations
            .as_deref()
            .map(|source| Annotations::load(&repo_root().join(source)).expect("the annotations load"));
        let options = generate_options(loaded.as_ref().zip(annotations.as_deref()));
        let plan = pipeline::plan(&inputs, &options).expect("the fixture binds");
        problems.extend(check_golden_file(&fixtures_dir().join(case).join("plan.txt"), &plan.to_string()));
    }
    assert_no_problems(problems);
}

#[test]
fn sibling_wsdls_generate_their_expected_output() {
    let inputs = [
        input(&format!("{FIXTURES}/siblings/send_2019.wsdl")),
        input(&format!("{FIXTURES}/siblings/receive_2022.wsdl")),
    ];
    let files = generate(&inputs, None).expect("the sibling WSDLs generate");
    assert_no_problems(check_golden_dir(&repo_root().join(SIBLINGS_OUT), &files).into_iter().collect());
}

/// The HTTP bindings, the soapenc `StringArray`, the top-level `double` element and an
/// unused type with `<s:choice>` are all in the `bindings` fixture, and none of them matters.
#[test]
fn unreachable_constructs_are_skipped_silently() {
    let inputs = [input(&format!("{FIXTURES}/bindings/input.wsdl"))];
    let files = generate(&inputs, None).expect("unreachable constructs are no error");
    let module = files.get("multi.rs").expect("the service module");
    for absent in ["StringArray", "Unused", "HttpGet", "\"double\""] {
        assert!(!module.contains(absent), "{absent} leaked into the output");
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    let inputs = [input(&format!("{FIXTURES}/names/input.wsdl")), input(&format!("{FIXTURES}/credentials/input.wsdl"))];
    let annotations = format!("{FIXTURES}/credentials/annotations.toml");
    let first = generate(&inputs, Some(&annotations)).expect("generates");
    for _ in 0..3 {
        assert_eq!(generate(&inputs, Some(&annotations)).expect("generates"), first);
    }
}

#[test]
fn every_generated_file_starts_with_the_header() {
    for case in cases() {
        let inputs = [input(&format!("{FIXTURES}/{case}/input.wsdl"))];
        let files =
            generate(&inputs, if_exists(format!("{FIXTURES}/{case}/annotations.toml")).as_deref()).expect("generates");
        for (name, text) in files {
            assert!(text.starts_with("//! @generated by `cargo xtask generate` from "), "{case}/{name}");
            assert!(!text.contains(&*repo_root().to_string_lossy()), "{case}/{name} holds an absolute path");
        }
    }
}

/// WSDL text must never become a doctest or a bare CR in a doc comment: every
/// generated fence is `text`, and no doc line starts indented code or breaks.
#[test]
fn generated_docs_hold_no_doctests() {
    for case in cases() {
        let inputs = [input(&format!("{FIXTURES}/{case}/input.wsdl"))];
        let files =
            generate(&inputs, if_exists(format!("{FIXTURES}/{case}/annotations.toml")).as_deref()).expect("generates");
        for (name, text) in files {
            let mut in_fence = false;
            for line in text.lines() {
                let Some(doc) = line.trim_start().strip_prefix("///").or_else(|| line.trim_start().strip_prefix("//!"))
                else {
                    continue;
                };
                let doc = doc.strip_prefix(' ').unwrap_or(doc);
                let at = format!("{case}/{name}: {line:?}");
                assert!(!doc.contains('\r') && !doc.starts_with(char::is_whitespace), "{at}");
                // CommonMark: a backtick fence's info string holds no backtick (else it is a code span).
                let fence =
                    doc.starts_with("~~~") || (doc.starts_with("```") && !doc.trim_start_matches('`').contains('`'));
                if fence {
                    assert!(doc == if in_fence { "```" } else { "```text" }, "{at}");
                    in_fence = !in_fence;
                } else if !in_fence {
                    let marker = doc.trim_start_matches(|c: char| c.is_ascii_digit() || "-*+.)".contains(c));
                    assert!(!marker.starts_with("  "), "{at}");
                }
            }
            assert!(!in_fence, "{case}/{name}: unclosed fence");
        }
    }
}

/// A document with nothing to generate is no error, but it is not silent either.
#[test]
fn a_document_without_soap_operations_warns() {
    let text = r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" xmlns:tns="urn:t" targetNamespace="urn:t">
  <wsdl:portType name="P" />
  <wsdl:binding name="B" type="tns:P"><http:binding verb="GET" /></wsdl:binding>
  <wsdl:service name="OnlyHttp">
    <wsdl:port name="B" binding="tns:B"><http:address location="http://example.com/x" /></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"#;
    let inputs = [crate::pipeline::Input { source: "only_http.wsdl".to_owned(), text: text.to_owned() }];
    let generated = pipeline::generate(&inputs, &generate_options(None)).expect("nothing to generate is no error");
    assert_eq!(
        generated.warnings,
        [
            "only_http.wsdl:5:3: service \"OnlyHttp\" has no SOAP 1.1 or SOAP 1.2 port; nothing is generated for it",
            "only_http.wsdl: no SOAP operation to generate",
        ]
    );
    assert_eq!(generated.files.keys().collect::<Vec<_>>(), ["mod.rs"]);
}

/// Ports that are not generated say so: HTTP GET/POST ports, and a second port of a SOAP binding already taken.
#[test]
fn skipped_ports_warn() {
    let path = "tests/fixtures/several_services/input.wsdl";
    let text = std::fs::read_to_string(path).expect("the fixture");
    let inputs = [crate::pipeline::Input { source: path.to_owned(), text }];
    let generated = pipeline::generate(&inputs, &generate_options(None)).expect("generates");
    assert_eq!(
        generated.warnings,
        [
            "tests/fixtures/several_services/input.wsdl:80:5: port \"WeatherSoapBackup\" of service \"Weather\" is a second SOAP 1.1 port with the binding of port \"WeatherSoap\"; its address \"http://backup.example.net:8080/weather/v1/\" is another place to call the same operations (give it to the client as a base URL); nothing is generated for it",
            "tests/fixtures/several_services/input.wsdl:86:5: port \"WeatherHttpGet\" of service \"Weather\" is an HTTP GET/POST port; nothing is generated for it",
            "tests/fixtures/several_services/input.wsdl:89:5: port \"WeatherHttpPost\" of service \"Weather\" is an HTTP GET/POST port; nothing is generated for it",
        ]
    );
}

/// An operation whose message names an element no schema declares is left
/// out with a warning by `generate` (the others are generated, as zeep loads
/// such a document lazily); `regen`'s strict resolution refuses it.
#[test]
fn operations_with_dangling_parts_are_left_out_with_a_warning() {
    let path = "tests/corpus/node-soap-builtin-types.wsdl";
    let text = std::fs::read_to_string(path).expect("the corpus document");
    let inputs = [crate::pipeline::Input { source: path.to_owned(), text }];
    let generated = pipeline::generate(&inputs, &generate_options(None)).expect("generates");
    let dangling = "tests/corpus/node-soap-builtin-types.wsdl:81:5: unresolvable element \"tns:normalizedStringElement\" ({http://www.BuiltinTypes.com/}normalizedStringElement)";
    assert_eq!(
        generated.warnings,
        [
            format!("{dangling}; operation \"IntOperation\" of service \"Service\" is left out (nothing is generated for it)"),
            format!("{dangling}; operation \"Operation\" of service \"Service\" is left out (nothing is generated for it)"),
        ]
    );
    let service = &generated.files["service.rs"];
    assert!(service.contains("pub struct StringOperationRequest"), "the sound operation is generated");
    assert!(!service.contains("IntOperationRequest"), "the dangling one is not");

    let refused = pipeline::model(&inputs[0], repo_files(), crate::model::Dangling::Refuse).map(|_| ());
    let refused = refused.map_err(|errors| errors.to_string());
    assert!(refused.as_ref().is_err_and(|errors| errors.contains(dangling)), "{refused:?}");
}
