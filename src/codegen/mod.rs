//! The runtime surface that generated code uses. Not a public API.
//!
//! Generated code reaches everything it needs through this module (as
//! `::payamak::codegen::…`), so it compiles both inside this crate and in any
//! crate that depends on `payamak`, and never names an HTTP or XML library.
//! The envelope functions at the end serve tests and benchmarks of generated code.

pub use crate::auth::{CredentialPlacement, ReceivedCredentials};
pub use crate::error::Error;
pub use crate::operation::{BodyStyle, ElementName, OperationMeta, ServiceMeta, XmlRequest};
pub use crate::soap::SoapFault;
pub use crate::status::StatusCode;
/// XML attributes of generated types.
pub use crate::xml::{read_attribute, read_other_attributes, AnyAttribute, AttributeField, AttributeValue, XsList};
pub use crate::xml::{
    ArrayField, ArrayItem, ArraySlot, Credential, DecodeError, ElementField, Nillable, PanelDateTime, Repeated, Slot,
    XmlContent, XmlCursor, XmlElement, XmlStart, XmlWriter,
};
/// `xs:choice` enums.
pub use crate::xml::{ChoiceField, ChoiceSlot, XmlChoice};
/// Values of XML Schema built-in types that generated fields hold.
pub use crate::xml::{Decimal, HexBinary, InvalidValue, QName, XsDate, XsDuration, XsTime};
/// SOAP 1.1 encoding (rpc/encoded): `soapenc:Array` fields.
pub use crate::xml::{EncodedArrayField, EncodedArraySlot};
/// XML kept as XML (`xs:any`, `xs:anyType`, a .NET DataSet's schema and diffgram).
pub use crate::xml::{RawField, RawSlot, RawXml};

#[cfg(feature = "serde")]
pub use serde;

pub use crate::soap::{decode_request, decode_response, encode_response, EnvelopeError};

pub mod fuzz;

use crate::auth::{self, Credentials, Shown};
use crate::error::InputError;

/// Reads the text of a simple-typed element (for generated enumerations).
pub fn read_text<'a>(element: XmlElement<'a, '_>) -> Result<std::borrow::Cow<'a, str>, DecodeError> {
    element.text()
}

/// Reads the text of a simple-typed element just opened by `cursor` (for generated enumerations).
pub fn read_text_stream<'input>(
    cursor: &mut XmlCursor<'input>,
    element: XmlStart,
) -> Result<std::borrow::Cow<'input, str>, DecodeError> {
    cursor.read_text(element)
}

/// The fault in a response envelope, if its payload is one.
pub fn read_fault(text: &str) -> Result<Option<crate::soap::SoapFault>, DecodeError> {
    crate::soap::Envelope::parse(text)?.fault()
}

/// A request's envelope as the client sends it; `None` writes the credential elements empty.
pub fn encode_request<R: XmlRequest>(
    request: &R,
    version: crate::SoapVersion,
    credentials: Option<&Credentials>,
) -> Result<String, InputError> {
    let encoded = crate::soap::encode_request(request, version)?;
    auth::fill(encoded, credentials.unwrap_or(&Credentials::new("", "")), Shown::Sent)
}

/// A request's wrapper element alone, without an envelope; `None` writes the
/// credential elements empty.
pub fn encode_wrapper<R: XmlRequest>(request: &R, credentials: Option<&Credentials>) -> Result<String, InputError> {
    let mut w = XmlWriter::with_capacity(512);
    w.start(R::OPERATION.namespace, R::OPERATION.request_element);
    request.write_body(&mut w);
    auth::fill(w.finish_with_slots()?, credentials.unwrap_or(&Credentials::new("", "")), Shown::Sent)
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

/// Reads the root element of `xml` as a `T`, in one streaming pass (see
/// [`XmlContent::read_stream`]); a document that is not well-formed is refused
/// as such wherever the fault is.
pub fn decode_content<T: XmlContent>(xml: &str) -> Result<T, DecodeError> {
    let mut cursor = XmlCursor::new(xml)?;
    let root = cursor.root();
    let value = T::read_stream(&mut cursor, root);
    if value.is_err() && cursor.failed() {
        return value;
    }
    cursor.finish()?;
    value
}

/// [`decode_content`] through the element index and [`XmlContent::read_content`].
pub fn decode_content_indexed<T: XmlContent>(xml: &str) -> Result<T, DecodeError> {
    let document = crate::xml::XmlDocument::parse(xml)?;
    T::read_content(document.root())
}
