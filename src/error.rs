//! The error type of every client call.
//!
//! Three layers, kept apart so callers can react correctly:
//! - [`Error::Transport`]: could not talk to the panel (connect, timeout, I/O);
//! - [`Error::Response`]: the panel answered, but not with a usable reply
//!   (HTTP status, SOAP fault, a body that does not decode);
//! - [`Error::Rejected`]: the panel answered and said no (a result code such as
//!   wrong credentials).
//!
//! Plus [`Error::Input`] for requests refused before sending, and
//! [`Error::OutcomeUnknown`] for a send whose request may have reached the
//! panel without an answer: it is never retried, because SendSms is not idempotent.
//! No variant ever holds the password.

use std::fmt;

use crate::recipient::InvalidRecipient;
pub use crate::soap::{FaultCode, SoapFault};
pub use crate::xml::{DecodeError, DecodeErrorKind, EncodeError, InvalidDateTime};

/// The error of a client call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Could not talk to the panel.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The panel answered, but not with a usable reply.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The panel answered and refused the request.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// The request was not sent: something in it is invalid.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A send may have reached the panel but its outcome is unknown; it was not retried.
    #[error(transparent)]
    OutcomeUnknown(#[from] OutcomeUnknown),
}

impl Error {
    /// True when trying the same call again (after a pause) may succeed:
    /// connection failures, timeouts, HTTP 429/502/503/504 and SOAP server
    /// faults. The client only retries operations that are safe to repeat;
    /// for SendSms and ScheduleSms these failures surface as
    /// [`Error::OutcomeUnknown`], which is never retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(error) => error.is_retryable(),
            Error::Response(error) => error.is_retryable(),
            Error::Rejected(_) | Error::Input(_) | Error::OutcomeUnknown(_) => false,
        }
    }

    /// The SOAP fault the server answered with, also behind
    /// [`Error::OutcomeUnknown`]; `None` for every other error.
    pub fn fault(&self) -> Option<&SoapFault> {
        match self {
            Error::Response(error) => error.fault(),
            Error::OutcomeUnknown(error) => error.cause.fault(),
            _ => None,
        }
    }

    /// The declared fault (`wsdl:fault`) the server answered with, as the
    /// operation's generated `…Fault` enum: `None` when the error is no fault,
    /// or its detail is none of the declared ones (or does not decode; see
    /// [`SoapFault::declared`] for the reason).
    pub fn declared_fault<F: crate::xml::XmlChoice>(&self) -> Option<F> {
        self.fault().and_then(|fault| fault.declared().ok().flatten())
    }

    /// The operation the error belongs to, when it belongs to one.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Transport(error) => Some(error.operation),
            Error::Response(error) => Some(error.operation),
            Error::Rejected(error) => Some(error.operation),
            Error::OutcomeUnknown(error) => Some(error.operation),
            Error::Input(_) => None,
        }
    }
}

/// What went wrong while talking to the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (DNS, refused, TLS handshake, connect timeout): the request was not sent.
    Connect,
    /// The request timeout ran out after the connection was made.
    Timeout,
    /// The connection failed after it was made (reset, closed early).
    Io,
    /// The base URL or request could not be built.
    Request,
}

/// Could not talk to the panel.
#[derive(Debug)]
pub struct TransportError {
    /// The operation being called.
    pub operation: &'static str,
    /// The endpoint URL.
    pub endpoint: String,
    /// What went wrong.
    pub kind: TransportErrorKind,
    /// Whether request bytes may have reached the server.
    pub request_may_have_been_sent: bool,
    pub(crate) source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    fn is_retryable(&self) -> bool {
        !matches!(self.kind, TransportErrorKind::Request)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => "could not connect to",
            TransportErrorKind::Timeout => "timed out talking to",
            TransportErrorKind::Io => "connection failed with",
            TransportErrorKind::Request => "could not build the request for",
        };
        write!(f, "{}: {what} {}: {}", self.operation, self.endpoint, SourceChain(&*self.source))
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Formats an error and its sources on one line.
struct SourceChain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for SourceChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

/// The panel answered, but not with a usable reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseError {
    /// The operation being called.
    pub operation: &'static str,
    /// The endpoint URL.
    pub endpoint: String,
    /// What was wrong with the reply.
    pub kind: ResponseErrorKind,
}

/// What was wrong with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseErrorKind {
    /// An HTTP status other than success, without a SOAP fault in the body.
    HttpStatus {
        /// The status code.
        status: u16,
        /// The `Retry-After` header, if any.
        retry_after: Option<String>,
        /// The start of the body, for diagnosis.
        body_excerpt: String,
    },
    /// A SOAP fault (1.1 or 1.2).
    Fault(Box<SoapFault>),
    /// The body is not a SOAP envelope of the expected response.
    Undecodable(DecodeError),
    /// The body is not XML at all (e.g. an HTML error page).
    UnexpectedContentType {
        /// The `Content-Type` received.
        content_type: String,
        /// The start of the body, for diagnosis.
        body_excerpt: String,
    },
    /// A redirect, which the client does not follow: the request was not processed there.
    Redirected {
        /// The status code (3xx).
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },
    /// The body exceeded the client's size limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl ResponseError {
    fn is_retryable(&self) -> bool {
        match &self.kind {
            ResponseErrorKind::HttpStatus { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            ResponseErrorKind::Fault(fault) => fault.code == crate::soap::FaultCode::Receiver,
            _ => false,
        }
    }

    /// True when the reply shows that this server never ran the operation, so
    /// that another base URL may serve it: IIS answers 404 for a path it does
    /// not serve, 405 for a verb it refuses, and 503 with `Retry-After` when
    /// the application is stopped or recycling.
    pub fn not_processed_here(&self) -> bool {
        matches!(
            &self.kind,
            ResponseErrorKind::HttpStatus { status: 404 | 405, .. }
                | ResponseErrorKind::HttpStatus { status: 503, retry_after: Some(_), .. }
        )
    }

    /// True when the reply shows that the operation was not carried out: it
    /// was not processed here, the request was redirected (not followed), or
    /// the server could not read it (a `Client`/`Sender`, version-mismatch or
    /// must-understand fault, which ASP.NET sends before the method runs).
    pub fn not_carried_out(&self) -> bool {
        self.not_processed_here()
            || match &self.kind {
                ResponseErrorKind::Redirected { .. } => true,
                ResponseErrorKind::Fault(fault) => {
                    matches!(fault.code, FaultCode::Sender | FaultCode::VersionMismatch | FaultCode::MustUnderstand)
                }
                _ => false,
            }
    }

    /// The fault, if the panel answered with one.
    pub fn fault(&self) -> Option<&SoapFault> {
        match &self.kind {
            ResponseErrorKind::Fault(fault) => Some(fault),
            _ => None,
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.operation)?;
        match &self.kind {
            ResponseErrorKind::HttpStatus { status, body_excerpt, .. } => {
                write!(f, "{} answered HTTP {status}: {body_excerpt:?}", self.endpoint)?;
                if *status == 404 {
                    f.write_str(
                        "; is the base URL the panel's `…/post/` prefix (e.g. https://panel.example.com/post/), \
                         to which `send.asmx` and `IncomingMessages.asmx` are appended?",
                    )?;
                }
                Ok(())
            }
            ResponseErrorKind::Fault(fault) => write!(f, "{} answered with a {fault}", self.endpoint),
            ResponseErrorKind::Undecodable(error) => {
                write!(f, "could not decode the reply of {}: {error}", self.endpoint)
            }
            ResponseErrorKind::UnexpectedContentType { content_type, body_excerpt } => {
                write!(f, "{} answered with {content_type:?}, not a SOAP envelope: {body_excerpt:?}", self.endpoint)
            }
            ResponseErrorKind::Redirected { status, location } => write!(
                f,
                "{} answered HTTP {status}, a redirect to {}; redirects are not followed (they could carry the \
                 request and the password elsewhere): use the new address as the base URL",
                self.endpoint,
                location.as_deref().unwrap_or("an unnamed location")
            ),
            ResponseErrorKind::TooLarge { limit } => {
                write!(f, "the reply of {} is larger than the {limit}-byte limit", self.endpoint)
            }
        }
    }
}

impl std::error::Error for ResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ResponseErrorKind::Undecodable(error) => Some(error),
            _ => None,
        }
    }
}

/// The panel refused the request with a result code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: the panel refused: {english} (code {code})")]
pub struct Rejected {
    /// The operation called.
    pub operation: &'static str,
    /// The result code.
    pub code: i32,
    /// Its meaning in English.
    pub english: &'static str,
    /// Its meaning in Persian.
    pub persian: &'static str,
}

impl Rejected {
    pub(crate) fn new<S: crate::status::StatusCode>(operation: &'static str, status: S) -> Self {
        Rejected { operation, code: status.code(), english: status.english(), persian: status.persian() }
    }
}

/// A request refused before it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A recipient number is invalid.
    #[error(transparent)]
    Recipient(#[from] InvalidRecipient),
    /// A value cannot be carried by XML 1.0.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// More recipients than one call takes.
    #[error("{count} recipients in one call; the panel takes at most {limit} (use send_bulk)")]
    TooManyRecipients {
        /// Recipients given.
        count: usize,
        /// The per-call limit.
        limit: usize,
    },
    /// A send without recipients.
    #[error("no recipients")]
    NoRecipients,
    /// The SOAP version has no binding for the operation in the WSDL.
    #[error("{operation} has no {version} binding")]
    UnsupportedVersion {
        /// The operation.
        operation: &'static str,
        /// The version asked for.
        version: crate::soap::SoapVersion,
    },
    /// Any other invalid argument.
    #[error("{0}")]
    Invalid(String),
}

/// A call that is not safe to repeat whose request may have reached the panel,
/// without a usable answer.
///
/// The call may or may not have taken effect (for SendSms: the SMS may or may
/// not have been sent). It was not retried, since that could repeat it. Check
/// the panel (e.g. the sent-messages list) before trying again.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: outcome unknown, the call may or may not have taken effect (a send may or may not have been sent); not retried, to avoid repeating it: {cause}")]
pub struct OutcomeUnknown {
    /// The operation called.
    pub operation: &'static str,
    /// What happened after the request may have been sent.
    #[source]
    pub cause: Box<Error>,
}
