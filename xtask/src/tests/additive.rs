//! An additive change to the WSDLs regenerates into code that the whole workspace
//! (runtime, emulator, CLI, tests, benchmarks) still compiles against.
//!
//! A copy of the repository gets an optional element in a request and in a
//! response, a new enumeration value, a new operation and a new service; its
//! `generated/` is regenerated, and every target of the copy is checked. The copy has a
//! target directory of its own: cargo names a workspace's artifacts by their path
//! relative to the workspace, so the copy's would replace this repository's.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::regen::{self, repo_root};

/// A service the provider might add: one operation, ASMX style.
const EXTRA_WSDL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="http://tempuri.org/" xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" targetNamespace="http://tempuri.org/" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="http://tempuri.org/">
      <s:element name="Ping">
        <s:complexType>
          <s:sequence>
            <s:element minOccurs="0" maxOccurs="1" name="username" type="s:string" />
            <s:element minOccurs="0" maxOccurs="1" name="password" type="s:string" />
          </s:sequence>
        </s:complexType>
      </s:element>
      <s:element name="PingResponse">
        <s:complexType>
          <s:sequence>
            <s:element minOccurs="1" maxOccurs="1" name="PingResult" type="s:int" />
          </s:sequence>
        </s:complexType>
      </s:element>
    </s:schema>
  </wsdl:types>
  <wsdl:message name="PingSoapIn"><wsdl:part name="parameters" element="tns:Ping" /></wsdl:message>
  <wsdl:message name="PingSoapOut"><wsdl:part name="parameters" element="tns:PingResponse" /></wsdl:message>
  <wsdl:portType name="ExtraSoap">
    <wsdl:operation name="Ping">
      <wsdl:input message="tns:PingSoapIn" />
      <wsdl:output message="tns:PingSoapOut" />
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="ExtraSoap" type="tns:ExtraSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="Ping">
      <soap:operation soapAction="http://tempuri.org/Ping" style="document" />
      <wsdl:input><soap:body use="literal" /></wsdl:input>
      <wsdl:output><soap:body use="literal" /></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="Extra">
    <wsdl:port name="ExtraSoap" binding="tns:ExtraSoap">
      <soap:address location="http://87.107.121.52/post/Extra.asmx" />
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"#;

/// The schema elements, messages, port type and binding entries of a new `Send` operation.
const GET_VERSION_ELEMENTS: &str = r#"<s:element name="GetVersion">
        <s:complexType>
          <s:sequence>
            <s:element minOccurs="0" maxOccurs="1" name="username" type="s:string" />
            <s:element minOccurs="0" maxOccurs="1" name="password" type="s:string" />
          </s:sequence>
        </s:complexType>
      </s:element>
      <s:element name="GetVersionResponse">
        <s:complexType>
          <s:sequence>
            <s:element minOccurs="0" maxOccurs="1" name="GetVersionResult" type="s:string" />
          </s:sequence>
        </s:complexType>
      </s:element>
      <s:element name="GetCreditResponse">"#;
const GET_VERSION_MESSAGES: &str = r#"<wsdl:message name="GetVersionSoapIn">
    <wsdl:part name="parameters" element="tns:GetVersion" />
  </wsdl:message>
  <wsdl:message name="GetVersionSoapOut">
    <wsdl:part name="parameters" element="tns:GetVersionResponse" />
  </wsdl:message>
  <wsdl:portType name="SendSoap">
    <wsdl:operation name="GetVersion">
      <wsdl:input message="tns:GetVersionSoapIn" />
      <wsdl:output message="tns:GetVersionSoapOut" />
    </wsdl:operation>"#;

fn binding_operation(version: &str) -> String {
    format!(
        r#"<{version}:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="GetVersion">
      <{version}:operation soapAction="http://tempuri.org/GetVersion" style="document" />
      <wsdl:input><{version}:body use="literal" /></wsdl:input>
      <wsdl:output><{version}:body use="literal" /></wsdl:output>
    </wsdl:operation>"#
    )
}

/// Replaces the one occurrence of `needle` in `text` (the test is wrong if there is not exactly one).
fn replace_once(text: &str, needle: &str, replacement: &str) -> String {
    assert_eq!(text.matches(needle).count(), 1, "{needle:?} must occur exactly once");
    text.replacen(needle, replacement, 1)
}

fn edit(path: &Path, change: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    std::fs::write(path, change(&text)).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

/// A fresh copy of the repository's files (tracked, and new ones not ignored).
fn copy_repository(root: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&listed.stderr));
    for file in listed.stdout.split(|&byte| byte == 0).filter(|name| !name.is_empty()) {
        let file = PathBuf::from(String::from_utf8_lossy(file).into_owned());
        let (from, into) = (root.join(&file), to.join(&file));
        if !from.exists() {
            continue; // deleted in the working tree
        }
        std::fs::create_dir_all(into.parent().expect("a parent")).expect("a directory");
        std::fs::copy(&from, &into).unwrap_or_else(|error| panic!("{}: {error}", from.display()));
    }
}

#[test]
fn additive_wsdl_changes_keep_the_workspace_building() {
    let root = repo_root();
    let copy = root.join("target").join("tmp").join("additive-change");
    let target = root.join("target").join("additive-change");
    copy_repository(&root, &copy);

    let send = copy.join("wsdl/send.wsdl");
    edit(&send, |text| {
        // An optional element in a request and in a response.
        let text = replace_once(
            text,
            r#"<s:element minOccurs="0" maxOccurs="1" name="udh" type="s:string" />"#,
            r#"<s:element minOccurs="0" maxOccurs="1" name="udh" type="s:string" />
            <s:element minOccurs="0" maxOccurs="1" name="priority" type="s:int" />"#,
        );
        let text = replace_once(
            &text,
            r#"<s:element minOccurs="1" maxOccurs="1" name="GetCreditResult" type="s:double" />"#,
            r#"<s:element minOccurs="1" maxOccurs="1" name="GetCreditResult" type="s:double" />
            <s:element minOccurs="0" maxOccurs="1" name="Currency" type="s:string" />"#,
        );
        // A new enumeration value.
        let text = replace_once(
            &text,
            r#"<s:enumeration value="Custom" />"#,
            r#"<s:enumeration value="Custom" />
          <s:enumeration value="Quarterly" />"#,
        );
        // A new operation.
        let text = replace_once(&text, r#"<s:element name="GetCreditResponse">"#, GET_VERSION_ELEMENTS);
        let text = replace_once(&text, r#"<wsdl:portType name="SendSoap">"#, GET_VERSION_MESSAGES);
        let text = replace_once(
            &text,
            r#"<soap:binding transport="http://schemas.xmlsoap.org/soap/http" />"#,
            &binding_operation("soap"),
        );
        replace_once(
            &text,
            r#"<soap12:binding transport="http://schemas.xmlsoap.org/soap/http" />"#,
            &binding_operation("soap12"),
        )
    });
    // A new service.
    std::fs::write(copy.join("wsdl/extra.wsdl"), EXTRA_WSDL).expect("the new WSDL");
    edit(&copy.join(regen::ANNOTATIONS), |text| {
        format!(
            "{text}\n[services.Send.operations.GetVersion]\nretry_safe = true\ndoc = \"The service's version.\"\n\n\
             [services.Extra]\nwsdl = \"extra.wsdl\"\nmodule = \"extra\"\ndoc = \"A service added later.\"\n\n\
             [services.Extra.operations.Ping]\nretry_safe = true\ndoc = \"Answers.\"\n"
        )
    });

    regen::regen(&copy, false).expect("the changed WSDLs regenerate");
    let generated = std::fs::read_to_string(copy.join("generated/send.rs")).expect("send.rs");
    for added in ["pub priority:", "pub currency:", "Quarterly", "pub struct GetVersionRequest"] {
        assert!(generated.contains(added), "{added} is not in the regenerated send.rs");
    }
    assert!(copy.join("generated/extra.rs").exists(), "the new service has its module");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let result = Command::new(cargo)
        .args(["check", "--workspace", "--all-targets", "--all-features", "--offline", "--quiet"])
        .current_dir(&copy)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success() && !stderr.contains("warning"),
        "the workspace does not build cleanly after an additive WSDL change, in {}:\n{stderr}",
        copy.display(),
    );
}
