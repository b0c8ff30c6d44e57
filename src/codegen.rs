//! The runtime surface that generated code uses. Not a public API.
//!
//! Generated code reaches everything it needs through this module (as
//! `::payamak::codegen::…`), so it compiles both inside this crate and in any
//! crate that depends on `payamak`, and never names an HTTP or XML library.
//! The envelope functions at the end serve tests and benchmarks of generated code.

pub use crate::operation::{OperationMeta, ReceivedCredentials, ServiceMeta, XmlRequest};
pub use crate::status::StatusCode;
pub use crate::xml::{
    ArrayField, ArrayItem, ArraySlot, Credential, DecodeError, ElementField, Nillable, PanelDateTime, Repeated, Slot,
    XmlContent, XmlElement, XmlWriter,
};

#[cfg(feature = "serde")]
pub use serde;

pub use crate::soap::{decode_request, decode_response, encode_request, encode_response, EnvelopeError};
pub use crate::xml::CredentialValues;

/// Reads the text of a simple-typed element (for generated enumerations).
pub fn read_text<'a>(element: XmlElement<'a, '_>) -> Result<std::borrow::Cow<'a, str>, DecodeError> {
    element.text()
}

/// The fault in a response envelope, if its payload is one.
pub fn read_fault(text: &str) -> Result<Option<crate::soap::SoapFault>, DecodeError> {
    crate::soap::Envelope::parse(text)?.fault()
}

/// A request's wrapper element alone, without an envelope; credentials are
/// written where the operation declares them when given.
pub fn encode_wrapper<R: XmlRequest>(
    request: &R,
    credentials: Option<CredentialValues<'_>>,
) -> Result<String, crate::xml::EncodeError> {
    let mut w = XmlWriter::with_capacity(512);
    if let Some(credentials) = credentials {
        w = w.with_credentials(credentials);
    }
    w.start(R::OPERATION.namespace, R::OPERATION.request_element);
    request.write_body(&mut w);
    w.finish()
}

/// Reads a request's wrapper element alone (the root of `xml`), and the credentials it carried.
pub fn decode_wrapper<R: XmlRequest>(xml: &str) -> Result<(R, ReceivedCredentials), DecodeError> {
    let document = crate::xml::XmlDocument::parse(xml)?;
    let root = document.root();
    let operation = R::OPERATION;
    if !root.is(operation.namespace, operation.request_element) {
        return Err(root.error(crate::xml::DecodeErrorKind::UnexpectedElement {
            expected: format!("{{{}}}{}", operation.namespace, operation.request_element),
            found: root.expanded_name(),
        }));
    }
    let mut credentials = ReceivedCredentials::default();
    let request = R::read_body(root, &mut credentials)?;
    Ok((request, credentials))
}

/// Reads the root element of `xml` as a `T`.
pub fn decode_content<T: XmlContent>(xml: &str) -> Result<T, DecodeError> {
    let document = crate::xml::XmlDocument::parse(xml)?;
    T::read_content(document.root())
}
