//! SOAP 1.1 and 1.2 envelopes around generated request and response types.

mod envelope;
mod fault;

pub use envelope::{
    decode_request, decode_response, encode_fault, encode_response, DecodedRequest, Envelope, EnvelopeError,
};
pub(crate) use envelope::{encode_request, read_response};
pub use fault::{FaultCode, SoapFault};

/// The SOAP version a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SoapVersion {
    /// SOAP 1.1 (`text/xml`, `SOAPAction` header): the default, as every panel client uses it.
    #[default]
    V11,
    /// SOAP 1.2 (`application/soap+xml` with an `action` parameter).
    V12,
}

impl SoapVersion {
    /// The envelope namespace.
    pub const fn envelope_namespace(self) -> &'static str {
        match self {
            SoapVersion::V11 => "http://schemas.xmlsoap.org/soap/envelope/",
            SoapVersion::V12 => "http://www.w3.org/2003/05/soap-envelope",
        }
    }

    /// The prefix ASP.NET uses for the envelope namespace.
    pub(crate) const fn prefix(self) -> &'static str {
        match self {
            SoapVersion::V11 => "soap",
            SoapVersion::V12 => "soap12",
        }
    }

    /// The version whose envelope namespace is `namespace`.
    pub fn from_envelope_namespace(namespace: &str) -> Option<Self> {
        [SoapVersion::V11, SoapVersion::V12].into_iter().find(|version| version.envelope_namespace() == namespace)
    }

    /// The `Content-Type` of a request carrying `action`.
    pub fn content_type(self, action: &str) -> String {
        match self {
            SoapVersion::V11 => "text/xml; charset=utf-8".to_owned(),
            SoapVersion::V12 => format!("application/soap+xml; charset=utf-8; action=\"{action}\""),
        }
    }

    /// The `Content-Type` of a response.
    pub const fn response_content_type(self) -> &'static str {
        match self {
            SoapVersion::V11 => "text/xml; charset=utf-8",
            SoapVersion::V12 => "application/soap+xml; charset=utf-8",
        }
    }

    /// The operation's action in this version, if its WSDL has a binding for it.
    pub fn action(self, operation: &crate::operation::OperationMeta) -> Option<&'static str> {
        match self {
            SoapVersion::V11 => operation.soap11_action,
            SoapVersion::V12 => operation.soap12_action,
        }
    }
}

impl std::fmt::Display for SoapVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SoapVersion::V11 => "SOAP 1.1",
            SoapVersion::V12 => "SOAP 1.2",
        })
    }
}
