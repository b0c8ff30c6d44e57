//! The repository's own output: up to date, deterministic, and a check that
//! fails readably when a WSDL changes.

use super::support::{copy_files, TempDir};
use crate::regen::{self, generated_files, repo_root, ANNOTATIONS, GENERATED};

const HINT: &str = "run `cargo xtask regen` and commit the result";

/// A copy of `wsdl/` and `generated/` to edit.
fn scratch_repo() -> TempDir {
    let scratch = TempDir::new("regen");
    copy_files(&repo_root().join("wsdl"), &scratch.path().join("wsdl"));
    copy_files(&repo_root().join(GENERATED), &scratch.path().join(GENERATED));
    scratch
}

/// Replaces the first `anchor` in `relative` with `replacement`.
fn edit(root: &std::path::Path, relative: &str, anchor: &str, replacement: &str) {
    let path = root.join(relative);
    let text = std::fs::read_to_string(&path).expect("file can be read");
    assert!(text.contains(anchor), "{relative} has no {anchor:?}");
    std::fs::write(&path, text.replacen(anchor, replacement, 1)).expect("file can be written");
}

#[test]
fn generated_dir_is_up_to_date() {
    if let Err(error) = regen::regen(&repo_root(), true) {
        panic!("{error:#}");
    }
}

#[test]
fn regenerating_gives_identical_bytes() {
    let first = generated_files(&repo_root()).expect("generates");
    assert_eq!(generated_files(&repo_root()).expect("generates"), first);
}

#[test]
fn a_new_element_makes_the_check_fail_readably() {
    let scratch = scratch_repo();
    regen::regen(scratch.path(), true).expect("the copy starts up to date");
    edit(
        scratch.path(),
        "wsdl/send.wsdl",
        r#"<s:element minOccurs="1" maxOccurs="1" name="GetCreditResult" type="s:double" />"#,
        r#"<s:element minOccurs="1" maxOccurs="1" name="GetCreditResult" type="s:double" />
            <s:element minOccurs="0" maxOccurs="1" name="currency" type="s:string" />"#,
    );
    let message = format!("{:#}", regen::regen(scratch.path(), true).expect_err("the check fails"));
    assert!(message.contains("generated/send.rs differs:"), "{message}");
    assert!(message.contains("+    pub currency: ::core::option::Option<::std::string::String>,"), "{message}");
    assert!(message.ends_with(HINT), "{message}");
    assert!(!message.contains("incoming_messages.rs"), "{message}");

    regen::regen(scratch.path(), false).expect("regen writes");
    regen::regen(scratch.path(), true).expect("and then the check passes");
}

#[test]
fn a_new_operation_makes_the_check_fail_readably() {
    let scratch = scratch_repo();
    let root = scratch.path();
    let soap = |prefix: &str| {
        format!(
            r#"<{prefix}:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="GetVersion">
      <{prefix}:operation soapAction="http://tempuri.org/GetVersion" style="document" />
      <wsdl:input><{prefix}:body use="literal" /></wsdl:input>
      <wsdl:output><{prefix}:body use="literal" /></wsdl:output>
    </wsdl:operation>"#
        )
    };
    edit(
        root,
        "wsdl/send.wsdl",
        r#"<s:element name="double" type="s:double" />"#,
        r#"<s:element name="GetVersion"><s:complexType /></s:element>
      <s:element name="GetVersionResponse">
        <s:complexType>
          <s:sequence>
            <s:element minOccurs="1" maxOccurs="1" name="GetVersionResult" type="s:int" />
          </s:sequence>
        </s:complexType>
      </s:element>
      <s:element name="double" type="s:double" />"#,
    );
    edit(
        root,
        "wsdl/send.wsdl",
        r#"<wsdl:message name="GetCreditHttpGetIn">"#,
        r#"<wsdl:message name="GetVersionSoapIn"><wsdl:part name="parameters" element="tns:GetVersion" /></wsdl:message>
  <wsdl:message name="GetVersionSoapOut"><wsdl:part name="parameters" element="tns:GetVersionResponse" /></wsdl:message>
  <wsdl:message name="GetCreditHttpGetIn">"#,
    );
    edit(
        root,
        "wsdl/send.wsdl",
        r#"<wsdl:portType name="SendSoap">"#,
        r#"<wsdl:portType name="SendSoap">
    <wsdl:operation name="GetVersion">
      <wsdl:input message="tns:GetVersionSoapIn" />
      <wsdl:output message="tns:GetVersionSoapOut" />
    </wsdl:operation>"#,
    );
    edit(root, "wsdl/send.wsdl", r#"<soap:binding transport="http://schemas.xmlsoap.org/soap/http" />"#, &soap("soap"));
    edit(
        root,
        "wsdl/send.wsdl",
        r#"<soap12:binding transport="http://schemas.xmlsoap.org/soap/http" />"#,
        &soap("soap12"),
    );

    // Without its table in the annotations, the operation is named as the problem.
    let message = format!("{:#}", regen::regen(root, true).expect_err("the check fails"));
    assert!(
        message.contains(
            r#"operation "GetVersion" of service "Send" has no [services.Send.operations.GetVersion] table in wsdl/annotations.toml"#
        ),
        "{message}"
    );

    edit(
        root,
        ANNOTATIONS,
        "[services.Send.operations.GetCredit]",
        "[services.Send.operations.GetVersion]\nretry_safe = true\n\n[services.Send.operations.GetCredit]",
    );
    let message = format!("{:#}", regen::regen(root, true).expect_err("the check fails"));
    assert!(message.contains("generated/send.rs differs:"), "{message}");
    assert!(message.contains("+    <GetVersionRequest as ::payamak::codegen::XmlRequest>::OPERATION,"), "{message}");
    assert!(message.contains("+/// Request of the `GetVersion` operation."), "{message}");
    assert!(message.ends_with(HINT), "{message}");
}

/// Operation tables belong to one service: a table under the wrong service is stale, even when
/// another service has an operation of that name.
#[test]
fn an_operation_table_under_the_wrong_service_is_named() {
    let scratch = scratch_repo();
    edit(
        scratch.path(),
        ANNOTATIONS,
        "[services.Send.operations.GetCredit]",
        "[services.IncomingMessages.operations.GetCredit]\n\n[services.Send.operations.GetCredit]",
    );
    let message = format!("{:#}", regen::regen(scratch.path(), true).expect_err("the check fails"));
    assert_eq!(
        message,
        "wsdl/annotations.toml: [services.IncomingMessages.operations.GetCredit] names no operation of service \
         \"IncomingMessages\" in wsdl/incoming_messages.wsdl"
    );
}

#[test]
fn orphans_are_reported_then_deleted() {
    let scratch = scratch_repo();
    let orphan = scratch.path().join(GENERATED).join("old_service.rs");
    std::fs::write(&orphan, "//! gone\n").expect("orphan can be written");
    let message = format!("{:#}", regen::regen(scratch.path(), true).expect_err("the check fails"));
    assert!(message.contains("generated/old_service.rs is an orphan"), "{message}");
    assert!(orphan.exists(), "the check never writes");
    regen::regen(scratch.path(), false).expect("regen writes");
    assert!(!orphan.exists(), "regen deletes orphans");
}

#[test]
fn a_missing_file_is_reported() {
    let scratch = scratch_repo();
    std::fs::remove_file(scratch.path().join(GENERATED).join("status.rs")).expect("file can be deleted");
    let message = format!("{:#}", regen::regen(scratch.path(), true).expect_err("the check fails"));
    assert!(message.contains("generated/status.rs is missing"), "{message}");
}
