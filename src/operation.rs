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

/// A generated request type: the wrapper element's content without credentials.
pub trait XmlRequest: Sized {
    /// The matching response type.
    type Response: XmlContent;
    /// The operation's metadata.
    const OPERATION: &'static OperationMeta;
    /// Writes the wrapper's children, marking where the WSDL declares credential elements.
    fn write_body(&self, w: &mut XmlWriter);
    /// Reads the wrapper's children; credentials go to `credentials`.
    fn read_body(element: XmlElement<'_, '_>, credentials: &mut ReceivedCredentials) -> Result<Self, DecodeError>;
}
