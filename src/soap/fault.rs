//! SOAP faults, in the shape common to SOAP 1.1 and 1.2.

use std::fmt;

use super::SoapVersion;
use crate::xml::{DecodeError, XmlChoice, XmlDocument, XmlElement};

/// The class of a fault, per its (top-level) code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultCode {
    /// The request was wrong (`soap:Client` in 1.1, `soap:Sender` in 1.2).
    Sender,
    /// The server failed (`soap:Server` / `soap:Receiver`).
    Receiver,
    /// The envelope's version was not understood.
    VersionMismatch,
    /// A mandatory header was not understood.
    MustUnderstand,
    /// Another code, as `{namespace}local` or the raw text when it could not be resolved.
    Other(String),
}

impl fmt::Display for FaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultCode::Sender => f.write_str("Sender"),
            FaultCode::Receiver => f.write_str("Receiver"),
            FaultCode::VersionMismatch => f.write_str("VersionMismatch"),
            FaultCode::MustUnderstand => f.write_str("MustUnderstand"),
            FaultCode::Other(code) => f.write_str(code),
        }
    }
}

/// A SOAP fault: what an ASP.NET service sends (with HTTP 500) for a request it
/// cannot process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// The envelope version the fault came in.
    pub version: SoapVersion,
    /// The fault's class.
    pub code: FaultCode,
    /// The code as written (`soap:Client`), and any 1.2 subcodes, outermost first.
    pub raw_codes: Vec<String>,
    /// The human-readable reason (1.1 `faultstring`, 1.2 the first `Reason/Text`).
    pub reason: String,
    /// The 1.1 `faultactor` or 1.2 `Role`, if any.
    pub actor: Option<String>,
    /// The 1.2 `Node`, if any.
    pub node: Option<String>,
    /// The `detail`/`Detail` element as standalone XML (with the namespace
    /// declarations it uses from the envelope), if any; a declared fault's
    /// typed detail is read from it with [`SoapFault::declared`].
    pub detail: Option<String>,
}

impl SoapFault {
    /// A fault to send: `code` with `reason`.
    pub fn new(version: SoapVersion, code: FaultCode, reason: impl Into<String>) -> Self {
        SoapFault { version, code, raw_codes: Vec::new(), reason: reason.into(), actor: None, node: None, detail: None }
    }

    /// The declared fault (`wsdl:fault`) the detail holds, read as `F` (a
    /// generated `…Fault` enum of the operation's declared faults): `None`
    /// when there is no detail or it holds none of them, an error when it
    /// holds one that does not decode.
    pub fn declared<F: XmlChoice>(&self) -> Result<Option<F>, DecodeError> {
        let Some(detail) = &self.detail else { return Ok(None) };
        let document = XmlDocument::parse(detail)?;
        let mut items = Vec::new();
        for child in document.root().children() {
            F::read_choice(&mut items, child)?;
            if !items.is_empty() {
                break;
            }
        }
        Ok(items.into_iter().next())
    }

    /// Reads a `Fault` element of `version`.
    pub(crate) fn read(version: SoapVersion, fault: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let envelope_ns = version.envelope_namespace();
        let mut result = SoapFault::new(version, FaultCode::Other(String::new()), "");
        match version {
            SoapVersion::V11 => {
                // The 1.1 fault's children are unqualified.
                for child in fault.children() {
                    match child.local_name() {
                        "faultcode" => {
                            let text = child.text()?.trim().to_owned();
                            result.code = classify(version, resolve_qname(child, &text));
                            result.raw_codes = vec![text];
                        }
                        "faultstring" => result.reason = child.text()?.into_owned(),
                        "faultactor" => result.actor = Some(child.text()?.into_owned()),
                        "detail" => result.detail = Some(child.standalone_markup()),
                        _ => {}
                    }
                }
            }
            SoapVersion::V12 => {
                for child in fault.children().filter(|child| child.namespace() == envelope_ns) {
                    match child.local_name() {
                        "Code" => {
                            let mut code = Some(child);
                            while let Some(level) = code {
                                let value = level.children().find(|c| c.is(envelope_ns, "Value"));
                                if let Some(value) = value {
                                    let text = value.text()?.trim().to_owned();
                                    if result.raw_codes.is_empty() {
                                        result.code = classify(version, resolve_qname(value, &text));
                                    }
                                    result.raw_codes.push(text);
                                }
                                code = level.children().find(|c| c.is(envelope_ns, "Subcode"));
                            }
                        }
                        "Reason" => {
                            if let Some(text) = child.children().find(|c| c.is(envelope_ns, "Text")) {
                                result.reason = text.text()?.into_owned();
                            }
                        }
                        "Node" => result.node = Some(child.text()?.into_owned()),
                        "Role" => result.actor = Some(child.text()?.into_owned()),
                        "Detail" => result.detail = Some(child.standalone_markup()),
                        _ => {}
                    }
                }
            }
        }
        Ok(result)
    }
}

/// Resolves `prefix:local` against the namespaces in scope at `element`.
fn resolve_qname(element: XmlElement<'_, '_>, text: &str) -> (Option<String>, String) {
    match text.split_once(':') {
        Some((prefix, local)) => (element.lookup_namespace(prefix).map(str::to_owned), local.to_owned()),
        None => (element.lookup_namespace("").map(str::to_owned), text.to_owned()),
    }
}

fn classify(version: SoapVersion, (namespace, local): (Option<String>, String)) -> FaultCode {
    // Some servers write the code without a declared prefix; judge those by the local name.
    let in_envelope_ns = namespace.as_deref().is_none_or(|ns| ns == version.envelope_namespace());
    // SOAP 1.1 refines codes with dots: `Client.Authentication` is still a Client fault.
    let class = match version {
        SoapVersion::V11 => local.split('.').next().unwrap_or(""),
        SoapVersion::V12 => local.as_str(),
    };
    match (in_envelope_ns, class) {
        (true, "Client" | "Sender") => FaultCode::Sender,
        (true, "Server" | "Receiver") => FaultCode::Receiver,
        (true, "VersionMismatch") => FaultCode::VersionMismatch,
        (true, "MustUnderstand") => FaultCode::MustUnderstand,
        _ => FaultCode::Other(match namespace {
            Some(ns) => format!("{{{ns}}}{local}"),
            None => local,
        }),
    }
}

impl fmt::Display for SoapFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fault {}: {}", self.version, self.code, self.reason.trim())
    }
}
