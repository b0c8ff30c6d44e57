//! Request envelopes of every operation, in SOAP 1.1 and 1.2: checked against
//! golden files, and against the envelopes Python's zeep builds from the same
//! WSDL for the same call (`tests/fixtures/envelopes/calls.json`), compared as
//! canonical XML.

use std::path::{Path, PathBuf};

use payamak::codegen::{decode_request, encode_request};
use payamak::incoming_messages as im;
use payamak::send;
use payamak::Credentials;
use payamak::SoapVersion;
use payamak::XmlRequest;

use crate::interop::{python, repo_root};

/// A sample call: the request and the credentials it is sent with.
struct Sample<R> {
    request: R,
    username: &'static str,
    password: &'static str,
}

fn sample<R>(request: R) -> Sample<R> {
    Sample { request, username: "demo", password: "demo" }
}

fn list_request(from: &str) -> Option<String> {
    Some(from.to_owned())
}

/// Something done with every operation's sample.
trait Visit {
    fn visit<R: XmlRequest + PartialEq + std::fmt::Debug>(&mut self, operation: &str, sample: Sample<R>);
}

/// Visits each operation's sample; the samples are the calls in calls.json.
fn for_each_sample(v: &mut impl Visit) {
    {
        v.visit(
            "GetCredit",
            Sample { request: send::GetCreditRequest::default(), username: "demo", password: "p&ss<word>" },
        );
        v.visit("GetInboxCount", sample(send::GetInboxCountRequest { is_read: true, ..Default::default() }));
        v.visit(
            "SendSms",
            sample(send::SendSmsRequest {
                to: Some(vec![Some("09121234567".into()), Some("09127654321".into())]),
                from: Some("5000123456".into()),
                text: Some("سلام دنیا! <b> & \"quotes\"\nline two".into()),
                isflash: false,
                udh: Some(String::new()),
                rec_id: Some(vec![0]),
                status: Some(vec![0]),
                ..Default::default()
            }),
        );
        v.visit("GetDelivery", sample(send::GetDeliveryRequest { rec_id: 1_000_000_001, ..Default::default() }));
        v.visit("UpdateDelivery", sample(send::UpdateDeliveryRequest { rec_id: i64::MAX, ..Default::default() }));
        v.visit(
            "ScheduleSms",
            sample(send::ScheduleSmsRequest {
                to: Some(vec![Some("09121234567".into())]),
                from: Some("5000123456".into()),
                text: Some("یادآوری".into()),
                isflash: true,
                schedule_date_time: "2024-01-31T14:30:00".parse().expect("date"),
                period: send::PeriodType::Weekly,
                ..Default::default()
            }),
        );
        v.visit(
            "GetNewMessagesList",
            sample(im::GetNewMessagesListRequest { from: list_request("5000123456"), ..Default::default() }),
        );
        v.visit(
            "GetReceiveSMSIsNotReadList",
            sample(im::GetReceiveSMSIsNotReadListRequest { from: list_request(""), ..Default::default() }),
        );
        v.visit(
            "GetReceiveSMSIsReadList",
            sample(im::GetReceiveSMSIsReadListRequest { from: list_request("3000987654"), ..Default::default() }),
        );
        v.visit(
            "GetSentSMSIsNotReadList",
            sample(im::GetSentSMSIsNotReadListRequest { from: list_request(""), ..Default::default() }),
        );
        v.visit(
            "GetSentSMSIsReadList",
            sample(im::GetSentSMSIsReadListRequest { from: list_request(""), ..Default::default() }),
        );
        v.visit("GetUserNumbersList", sample(im::GetUserNumbersListRequest::default()));
        v.visit(
            "UpdateMessagesIsRead",
            sample(im::UpdateMessagesIsReadRequest { msg_ids: Some("1,2,3".into()), ..Default::default() }),
        );
        v.visit(
            "UpdateMessagesIsNotRead",
            sample(im::UpdateMessagesIsNotReadRequest { msg_ids: Some("42".into()), ..Default::default() }),
        );
    }
}

const VERSIONS: [(SoapVersion, &str); 2] = [(SoapVersion::V11, "soap11"), (SoapVersion::V12, "soap12")];

fn encode<R: XmlRequest>(sample: &Sample<R>, version: SoapVersion) -> String {
    let credentials = Credentials::new(sample.username, sample.password);
    encode_request(&sample.request, version, Some(&credentials)).expect("encode")
}

fn golden_path(operation: &str, version: &str) -> PathBuf {
    repo_root().join("tests/fixtures/envelopes").join(format!("{operation}.{version}.xml"))
}

#[test]
fn request_envelopes_match_the_golden_files() {
    struct Golden;
    impl Visit for Golden {
        fn visit<R: XmlRequest + PartialEq + std::fmt::Debug>(&mut self, operation: &str, sample: Sample<R>) {
            assert_eq!(R::OPERATION.name, operation);
            for (version, tag) in VERSIONS {
                let actual = encode(&sample, version);
                let path = golden_path(operation, tag);
                if std::env::var_os("UPDATE_EXPECT").is_some() {
                    std::fs::write(&path, format!("{actual}\n")).expect("write golden");
                    continue;
                }
                let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
                    panic!("{}: {error} (run with UPDATE_EXPECT=1 to create it)", path.display())
                });
                assert_eq!(actual, expected.trim_end(), "{} differs (UPDATE_EXPECT=1 rewrites it)", path.display());
            }
        }
    }
    for_each_sample(&mut Golden);
}

#[test]
fn request_envelopes_decode_back_to_the_same_request() {
    struct RoundTrip;
    impl Visit for RoundTrip {
        fn visit<R: XmlRequest + PartialEq + std::fmt::Debug>(&mut self, operation: &str, sample: Sample<R>) {
            for (version, _) in VERSIONS {
                let decoded = decode_request::<R>(&encode(&sample, version)).expect(operation);
                assert_eq!(decoded.version, version);
                assert_eq!(decoded.request, sample.request, "{operation}");
                if R::OPERATION.credentials.takes_credentials() {
                    assert_eq!(decoded.credentials.username.as_deref(), Some(sample.username));
                    assert_eq!(decoded.credentials.password.as_deref(), Some(sample.password));
                } else {
                    assert_eq!(decoded.credentials, Default::default());
                }
            }
        }
    }
    for_each_sample(&mut RoundTrip);
}

/// The envelopes zeep builds, by (operation, version).
fn zeep_envelopes(python: &Path) -> Vec<(String, String, String)> {
    let root = repo_root();
    let output = std::process::Command::new(python)
        .arg(root.join("tests/interop/envelopes.py"))
        .arg(&root)
        .arg(root.join("tests/fixtures/envelopes/calls.json"))
        .output()
        .expect("run envelopes.py");
    assert!(output.status.success(), "envelopes.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let calls: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("JSON from envelopes.py");
    calls
        .into_iter()
        .map(|call| {
            let field = |name: &str| call[name].as_str().expect("string field").to_owned();
            (field("operation"), field("version"), field("envelope"))
        })
        .collect()
}

#[test]
fn request_envelopes_match_what_zeep_builds() {
    struct AgainstZeep {
        zeep: Vec<(String, String, String)>,
        checked: usize,
    }
    impl Visit for AgainstZeep {
        fn visit<R: XmlRequest + PartialEq + std::fmt::Debug>(&mut self, operation: &str, sample: Sample<R>) {
            for (version, tag) in [(SoapVersion::V11, "1.1"), (SoapVersion::V12, "1.2")] {
                let (_, _, theirs) = self
                    .zeep
                    .iter()
                    .find(|(op, v, _)| op == operation && v == tag)
                    .unwrap_or_else(|| panic!("zeep built no {operation} SOAP {tag} envelope"));
                let decoded = decode_request::<R>(theirs).unwrap_or_else(|error| panic!("{operation} {tag}: {error}"));
                assert_eq!(
                    decoded.request, sample.request,
                    "{operation} {tag}: zeep's request differs from the sample"
                );
                assert_eq!(canonical(&encode(&sample, version)), canonical(theirs), "{operation} SOAP {tag}");
                self.checked += 1;
            }
        }
    }
    let Some(python) = python() else { return };
    let mut visitor = AgainstZeep { zeep: zeep_envelopes(&python), checked: 0 };
    assert_eq!(visitor.zeep.len(), 28, "14 operations × 2 SOAP versions");
    for_each_sample(&mut visitor);
    assert_eq!(visitor.checked, 28);
}

/// A canonical text of an XML document: names as `{namespace}local`, attributes
/// sorted (namespace declarations dropped), whitespace-only text between
/// elements dropped, other text kept exactly.
pub fn canonical(xml: &str) -> String {
    fn walk(node: roxmltree::Node<'_, '_>, out: &mut String) {
        let name = node.tag_name();
        out.push_str(&format!("<{{{}}}{}", name.namespace().unwrap_or(""), name.name()));
        let mut attributes: Vec<String> = node
            .attributes()
            .map(|a| format!(" {{{}}}{}={:?}", a.namespace().unwrap_or(""), a.name(), a.value()))
            .collect();
        attributes.sort();
        out.push_str(&attributes.concat());
        out.push('>');
        let has_elements = node.children().any(|child| child.is_element());
        for child in node.children() {
            if child.is_element() {
                walk(child, out);
            } else if let Some(text) = child.text().filter(|_| child.is_text()) {
                if !(has_elements && text.trim().is_empty()) {
                    out.push_str(&format!("{text:?}"));
                }
            }
        }
        out.push_str("</>");
    }
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|error| panic!("not XML: {error}\n{xml}"));
    let mut out = String::new();
    walk(document.root_element(), &mut out);
    out
}
