//! What the generated code says about each service and operation.

use crate::auth::{CredentialPlacement, ReceivedCredentials};
use crate::xml::{DecodeError, XmlContent, XmlElement, XmlWriter};

/// A SOAP service (one `.asmx` endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceMeta {
    /// The `wsdl:service` name, e.g. `Send`.
    pub name: &'static str,
    /// The endpoint's file name, appended to a base URL, e.g. `send.asmx`.
    pub endpoint: &'static str,
    /// The address the WSDL declares.
    pub default_address: &'static str,
    /// The WSDL file the code was generated from.
    pub source: &'static str,
}

/// One operation of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMeta {
    /// The service the operation belongs to.
    pub service: &'static ServiceMeta,
    /// The operation name, e.g. `SendSms`.
    pub name: &'static str,
    /// The SOAPAction of the SOAP 1.1 binding, if the WSDL has one.
    pub soap11_action: Option<&'static str>,
    /// The action of the SOAP 1.2 binding, if the WSDL has one.
    pub soap12_action: Option<&'static str>,
    /// Namespace of the request and response wrapper elements.
    pub namespace: &'static str,
    /// Local name of the request wrapper element.
    pub request_element: &'static str,
    /// Local name of the response wrapper element.
    pub response_element: &'static str,
    /// Where the request carries the account's credentials.
    pub credentials: CredentialPlacement,
    /// Whether repeating the call cannot change the outcome (so it may be retried).
    pub retry_safe: bool,
}

/// How an operation's messages sit in the SOAP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyStyle {
    /// document/literal wrapped: the element `{namespace}request_element`
    /// (`response_element`) holds the fields.
    Wrapped,
    /// document/literal bare: the fields (one element per message part) are
    /// the children of `Body` itself.
    Bare,
    /// rpc/literal: the element `{namespace}request_element` (the operation's
    /// name) holds one accessor per part; a response's wrapper is read
    /// whatever its name, as WSDL 1.1 leaves it open.
    Rpc,
}

/// The namespace and local name of an element.
pub type ElementName = (&'static str, &'static str);

/// A generated request type: the wrapper element's content without credentials.
///
/// Every item with a default describes a document/literal wrapped,
/// request-response operation without SOAP headers; generated code overrides
/// what differs.
pub trait XmlRequest: Sized {
    /// The matching response type.
    type Response: XmlContent;
    /// The operation's metadata.
    const OPERATION: &'static OperationMeta;
    /// How the messages sit in the SOAP body.
    const BODY: BodyStyle = BodyStyle::Wrapped;
    /// The SOAP header elements the request may carry, besides a credentials header.
    const REQUEST_HEADERS: &'static [ElementName] = &[];
    /// The SOAP header elements the response may carry: every other header
    /// marked `mustUnderstand` makes the response undecodable.
    const RESPONSE_HEADERS: &'static [ElementName] = &[];
    /// Writes the wrapper's children, marking where the WSDL declares credential elements.
    fn write_body(&self, w: &mut XmlWriter);
    /// Reads the wrapper's children; credentials go to `credentials`.
    fn read_body(element: XmlElement<'_, '_>, credentials: &mut ReceivedCredentials) -> Result<Self, DecodeError>;
    /// Writes the request's own SOAP header elements (inside `Header`).
    fn write_headers(&self, _w: &mut XmlWriter) {}
    /// Reads the request's own SOAP header elements from `Header` (server side).
    fn read_headers(&mut self, _header: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        Ok(())
    }
    /// Writes the response's SOAP header elements (server side).
    fn write_response_headers(_response: &Self::Response, _w: &mut XmlWriter) {}
    /// Reads the response's SOAP header elements from `Header` into `response`.
    fn read_response_headers(_response: &mut Self::Response, _header: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        Ok(())
    }
    /// For a one-way operation (no output message): what a request the server
    /// accepted without a reply envelope (HTTP 200 or 202, empty body) stands for.
    /// `None` for request-response operations.
    fn no_reply() -> Option<Self::Response> {
        None
    }
}
