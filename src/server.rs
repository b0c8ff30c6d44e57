//! The services seen from the server's side: read a request envelope, answer it.
//!
//! For emulators and test doubles of the panel (the `payamak-emulator` crate is
//! built on this). Requests and answers go through the same generated types and
//! envelope code as the client's, so the two sides cannot disagree on the wire.
//!
//! ```
//! use payamak::send::{GetCreditRequest, GetCreditResponse};
//! use payamak::server::{encode_response, RequestEnvelope};
//!
//! let text = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
//!     <GetCredit xmlns="http://tempuri.org/"><username>demo</username><password>demo</password></GetCredit>
//!     </soap:Body></soap:Envelope>"#;
//! let envelope = RequestEnvelope::parse(text)?;
//! let payload = envelope.payload()?;
//! assert_eq!((payload.namespace(), payload.local_name()), ("http://tempuri.org/", "GetCredit"));
//! let decoded = envelope.decode::<GetCreditRequest>()?;
//! assert_eq!(decoded.credentials.username.as_deref(), Some("demo"));
//! let answer = encode_response::<GetCreditRequest>(&GetCreditResponse { get_credit_result: 12.5, ..Default::default() }, decoded.version)?;
//! assert!(answer.contains("<GetCreditResult>12.5</GetCreditResult>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

pub use crate::auth::ReceivedCredentials;
use crate::operation::XmlRequest;
pub use crate::soap::{encode_fault, encode_response, DecodedRequest};
use crate::soap::{Envelope, SoapVersion};
pub use crate::xml::is_xml_char;
use crate::xml::DecodeError;

/// A parsed request envelope (SOAP 1.1 or 1.2), not yet decoded as an operation.
pub struct RequestEnvelope<'input> {
    envelope: Envelope<'input>,
}

impl fmt::Debug for RequestEnvelope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestEnvelope").field("version", &self.envelope.version()).finish_non_exhaustive()
    }
}

impl<'input> RequestEnvelope<'input> {
    /// Parses `text` as a SOAP 1.1 or 1.2 envelope (within the runtime's structural limits).
    pub fn parse(text: &'input str) -> Result<Self, DecodeError> {
        Envelope::parse(text).map(|envelope| RequestEnvelope { envelope })
    }

    /// [`RequestEnvelope::parse`] of a request body the server allowed
    /// `byte_limit` bytes: the tree built for it is bounded by that limit (at
    /// most one element, attribute or text node per 16 bytes of it), so that
    /// decoding costs at most a small multiple of the limit.
    pub fn parse_within(text: &'input str, byte_limit: usize) -> Result<Self, DecodeError> {
        Envelope::parse_within(text, byte_limit).map(|envelope| RequestEnvelope { envelope })
    }

    /// The envelope's SOAP version: answer in the same one.
    pub fn version(&self) -> SoapVersion {
        self.envelope.version()
    }

    /// The name of the element inside `Body`, to route on.
    pub fn payload(&self) -> Result<PayloadName<'_>, DecodeError> {
        let payload = self.envelope.payload()?;
        Ok(PayloadName { namespace: payload.namespace(), local_name: payload.local_name() })
    }

    /// Decodes the payload as a request of `R`'s operation, with the credentials it carried.
    pub fn decode<R: XmlRequest>(&self) -> Result<DecodedRequest<R>, DecodeError> {
        self.envelope.decode_request::<R>()
    }
}

/// The namespace and local name of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadName<'a> {
    namespace: &'a str,
    local_name: &'a str,
}

impl<'a> PayloadName<'a> {
    /// The namespace URI (empty for none).
    pub fn namespace(&self) -> &'a str {
        self.namespace
    }

    /// The local name.
    pub fn local_name(&self) -> &'a str {
        self.local_name
    }
}

/// `{namespace}local`.
impl fmt::Display for PayloadName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.namespace, self.local_name)
    }
}
