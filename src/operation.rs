//! What the generated code says about each service and operation.

use crate::xml::{Credential, DecodeError, XmlContent, XmlElement, XmlWriter};

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
    /// Whether the request carries the account's credentials.
    pub takes_credentials: bool,
    /// Whether repeating the call cannot change the outcome (so it may be retried).
    pub retry_safe: bool,
}

/// Credentials found in a decoded request (server side).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReceivedCredentials {
    /// The user name element's text, if present.
    pub username: Option<String>,
    /// The password element's text, if present.
    pub password: Option<String>,
}

impl ReceivedCredentials {
    /// Reads the credential `which` from `element`.
    pub fn read(&mut self, which: Credential, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        let slot = match which {
            Credential::Username => &mut self.username,
            Credential::Password => &mut self.password,
        };
        crate::xml::store_once(slot, element, || String::read_content(element))
    }
}

impl std::fmt::Debug for ReceivedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedCredentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A generated request type: the wrapper element's content without credentials.
pub trait XmlRequest: Sized {
    /// The matching response type.
    type Response: XmlContent;
    /// The operation's metadata.
    const OPERATION: &'static OperationMeta;
    /// Writes the wrapper's children, credentials included where the WSDL declares them.
    fn write_body(&self, w: &mut XmlWriter<'_>);
    /// Reads the wrapper's children; credentials go to `credentials`.
    fn read_body(element: XmlElement<'_, '_>, credentials: &mut ReceivedCredentials) -> Result<Self, DecodeError>;
}
