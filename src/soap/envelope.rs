//! Encoding and decoding whole envelopes, for clients and for servers.

use super::fault::{FaultCode, SoapFault};
use super::SoapVersion;
use crate::auth::{self, CredentialPlacement, ReceivedCredentials};
use crate::operation::{BodyStyle, ElementName, XmlRequest};
use crate::xml::{
    DecodeError, DecodeErrorKind, EncodeError, Encoded, XmlContent, XmlCursor, XmlDocument, XmlElement, XmlStart,
    XmlWriter, SOAP_ENCODING_NAMESPACE, XSI_NAMESPACE,
};

const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";

/// Why a response envelope did not yield the response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The server answered with a SOAP fault.
    #[error("{0}")]
    Fault(Box<SoapFault>),
    /// The envelope or its payload could not be decoded.
    #[error("{0}")]
    Decode(DecodeError),
}

impl From<DecodeError> for EnvelopeError {
    fn from(error: DecodeError) -> Self {
        EnvelopeError::Decode(error)
    }
}

/// Opens the envelope, writes the `Header` when there is one (credentials,
/// then `headers`), and opens the `Body`.
fn start_envelope(
    w: &mut XmlWriter,
    version: SoapVersion,
    credentials: CredentialPlacement,
    headers: Option<&dyn Fn(&mut XmlWriter)>,
) {
    let prefix = version.prefix();
    w.declaration();
    w.start_prefixed(
        prefix,
        "Envelope",
        &[("xsi", XSI_NAMESPACE), ("xsd", XSD_NAMESPACE), (prefix, version.envelope_namespace())],
    );
    if auth::needs_header(credentials) || headers.is_some() {
        w.start_prefixed(prefix, "Header", &[]);
        auth::write_header(w, credentials);
        if let Some(headers) = headers {
            headers(w);
        }
        w.end();
    }
    w.start_prefixed(prefix, "Body", &[]);
}

/// The rpc wrapper's prefix: its accessors are unqualified, so the default namespace stays empty.
const RPC_PREFIX: &str = "m";

/// Opens the element around the fields of `style`, if it has one.
fn start_wrapper(
    w: &mut XmlWriter,
    version: SoapVersion,
    style: BodyStyle,
    namespace: &'static str,
    element: &'static str,
) {
    match style {
        BodyStyle::Rpc | BodyStyle::RpcEncoded if namespace.is_empty() => w.start("", element),
        BodyStyle::Rpc | BodyStyle::RpcEncoded => w.start_prefixed(RPC_PREFIX, element, &[(RPC_PREFIX, namespace)]),
        BodyStyle::Bare => {}
        _ => w.start(namespace, element),
    }
    if style == BodyStyle::RpcEncoded {
        let attribute = match version {
            SoapVersion::V11 => "soap:encodingStyle",
            SoapVersion::V12 => "soap12:encodingStyle",
        };
        debug_assert!(attribute.starts_with(version.prefix()));
        w.attribute(attribute, SOAP_ENCODING_NAMESPACE);
    }
}

/// The rpc wrapper among the entries of `body`: the first that is not an
/// independent value (`soapenc:root="0"`, a `multiRef` that accessors refer to).
fn rpc_wrapper<'a, 'input>(body: XmlElement<'a, 'input>) -> Result<XmlElement<'a, 'input>, DecodeError> {
    body.children().find(|entry| !entry.is_independent_value()).ok_or_else(|| body.missing("the payload element"))
}

/// Writes the envelope of a request, its credential elements left for [`auth::fill`].
pub(crate) fn encode_request<R: XmlRequest>(request: &R, version: SoapVersion) -> Result<Encoded, EncodeError> {
    let mut w = XmlWriter::with_capacity(1024);
    let operation = R::OPERATION;
    let headers = |w: &mut XmlWriter| request.write_headers(w);
    let headers: Option<&dyn Fn(&mut XmlWriter)> = (!R::REQUEST_HEADERS.is_empty()).then_some(&headers);
    start_envelope(&mut w, version, operation.credentials, headers);
    start_wrapper(&mut w, version, R::BODY, operation.namespace, operation.request_element);
    request.write_body(&mut w);
    w.finish_with_slots()
}

/// Writes the envelope of a response (server side).
pub fn encode_response<R: XmlRequest>(response: &R::Response, version: SoapVersion) -> Result<String, EncodeError> {
    let mut w = XmlWriter::with_capacity(1024);
    let headers = |w: &mut XmlWriter| R::write_response_headers(response, w);
    let headers: Option<&dyn Fn(&mut XmlWriter)> = (!R::RESPONSE_HEADERS.is_empty()).then_some(&headers);
    start_envelope(&mut w, version, CredentialPlacement::None, headers);
    let operation = R::OPERATION;
    start_wrapper(&mut w, version, R::BODY, operation.namespace, operation.response_element);
    response.write_content(&mut w);
    w.finish()
}

/// Writes the envelope of a fault (server side), as ASP.NET does.
pub fn encode_fault(fault: &SoapFault) -> Result<String, EncodeError> {
    let version = fault.version;
    let prefix = version.prefix();
    let mut w = XmlWriter::with_capacity(512);
    start_envelope(&mut w, version, CredentialPlacement::None, None);
    w.start_prefixed(prefix, "Fault", &[]);
    match version {
        SoapVersion::V11 => {
            w.start("", "faultcode");
            w.text(&format!("{prefix}:{}", code_local_name(version, &fault.code)));
            w.end();
            w.start("", "faultstring");
            w.text(&fault.reason);
            w.end();
            if let Some(actor) = &fault.actor {
                w.start("", "faultactor");
                w.text(actor);
                w.end();
            }
            w.start("", "detail");
            w.end();
        }
        SoapVersion::V12 => {
            w.start_prefixed(prefix, "Code", &[]);
            w.start_prefixed(prefix, "Value", &[]);
            w.text(&format!("{prefix}:{}", code_local_name(version, &fault.code)));
            w.end();
            w.end();
            w.start_prefixed(prefix, "Reason", &[]);
            w.start_prefixed(prefix, "Text", &[]);
            w.attribute("xml:lang", "en");
            w.text(&fault.reason);
            w.end();
            w.end();
            w.start_prefixed(prefix, "Detail", &[]);
            w.end();
        }
    }
    w.finish()
}

fn code_local_name(version: SoapVersion, code: &FaultCode) -> &str {
    match (version, code) {
        (SoapVersion::V11, FaultCode::Sender) => "Client",
        (SoapVersion::V11, FaultCode::Receiver) => "Server",
        (SoapVersion::V12, FaultCode::Sender) => "Sender",
        (SoapVersion::V12, FaultCode::Receiver) => "Receiver",
        (_, FaultCode::VersionMismatch) => "VersionMismatch",
        (_, FaultCode::MustUnderstand) => "MustUnderstand",
        (SoapVersion::V11, FaultCode::Other(_)) => "Server",
        (SoapVersion::V12, FaultCode::Other(_)) => "Receiver",
    }
}

/// A parsed envelope, with its version known and its payload reachable.
pub struct Envelope<'input> {
    document: XmlDocument<'input>,
    version: SoapVersion,
}

impl<'input> Envelope<'input> {
    /// Parses `text` and checks that it is a SOAP 1.1 or 1.2 envelope.
    pub fn parse(text: &'input str) -> Result<Self, DecodeError> {
        Self::parse_within(text, crate::xml::DEFAULT_BYTE_LIMIT)
    }

    /// [`Envelope::parse`] of `text` from a source allowed `byte_limit` bytes,
    /// which bounds the tree built (see `XmlDocument::parse_within`).
    pub fn parse_within(text: &'input str, byte_limit: usize) -> Result<Self, DecodeError> {
        let document = XmlDocument::parse_within(text, byte_limit)?;
        let root = document.root();
        let version = SoapVersion::from_envelope_namespace(root.namespace())
            .filter(|_| root.local_name() == "Envelope")
            .ok_or_else(|| {
                root.error(DecodeErrorKind::UnexpectedElement {
                    expected: "a SOAP 1.1 or 1.2 Envelope".to_owned(),
                    found: root.expanded_name(),
                })
            })?;
        Ok(Envelope { document, version })
    }

    /// The envelope's SOAP version.
    pub fn version(&self) -> SoapVersion {
        self.version
    }

    /// The `Body` element.
    fn body(&self) -> Result<XmlElement<'_, 'input>, DecodeError> {
        let root = self.document.root();
        let namespace = self.version.envelope_namespace();
        root.children().find(|child| child.is(namespace, "Body")).ok_or_else(|| root.missing("Body"))
    }

    /// The first element inside `Body`.
    pub fn payload(&self) -> Result<XmlElement<'_, 'input>, DecodeError> {
        let body = self.body()?;
        body.first_child().ok_or_else(|| body.missing("the payload element"))
    }

    /// The `Header` element, if the envelope has one.
    fn header(&self) -> Option<XmlElement<'_, 'input>> {
        let namespace = self.version.envelope_namespace();
        self.document.root().children().find(|child| child.is(namespace, "Header"))
    }

    /// The fault in the body, if the payload is one.
    pub fn fault(&self) -> Result<Option<SoapFault>, DecodeError> {
        let Some(payload) = self.body()?.first_child() else { return Ok(None) };
        if payload.is(self.version.envelope_namespace(), "Fault") {
            SoapFault::read(self.version, payload).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Decodes the payload as the response of `R`'s operation; a fault is reported as such.
    pub fn decode_response<R: XmlRequest>(&self) -> Result<R::Response, EnvelopeError> {
        if let Some(fault) = self.fault()? {
            return Err(EnvelopeError::Fault(Box::new(fault)));
        }
        let operation = R::OPERATION;
        self.check_must_understand(R::RESPONSE_HEADERS, CredentialPlacement::None)?;
        let body = self.body()?;
        let mut response = match (R::no_reply(), body.first_child()) {
            // A one-way operation's server may still answer with an empty body.
            (Some(accepted), None) => return Ok(accepted),
            _ => match R::BODY {
                BodyStyle::Bare => R::Response::read_content(body)?,
                BodyStyle::Rpc => R::Response::read_content(self.payload()?)?,
                BodyStyle::RpcEncoded => R::Response::read_content(rpc_wrapper(body)?.encoded())?,
                _ => R::Response::read_content(self.expect_payload(operation.namespace, operation.response_element)?)?,
            },
        };
        if let Some(header) = self.header() {
            R::read_response_headers(&mut response, header)?;
        }
        Ok(response)
    }

    /// Decodes the payload as a request of `R` (server side).
    pub fn decode_request<R: XmlRequest>(&self) -> Result<DecodedRequest<R>, DecodeError> {
        let operation = R::OPERATION;
        self.check_must_understand(R::REQUEST_HEADERS, operation.credentials)?;
        let payload = match R::BODY {
            BodyStyle::Bare => self.body()?,
            BodyStyle::RpcEncoded => {
                let payload = rpc_wrapper(self.body()?)?;
                expect_element(payload, operation.namespace, operation.request_element)?.encoded()
            }
            _ => self.expect_payload(operation.namespace, operation.request_element)?,
        };
        let mut credentials = ReceivedCredentials::default();
        credentials.read_header(self.header(), operation.credentials)?;
        let mut request = R::read_body(payload, &mut credentials)?;
        if let Some(header) = self.header() {
            request.read_headers(header)?;
        }
        Ok(DecodedRequest { version: self.version, request, credentials })
    }

    /// Refuses a header block marked `mustUnderstand` that is meant for this
    /// node (no actor or role, or the next one, or the ultimate receiver) and
    /// is none of `understood` (nor the credentials header).
    fn check_must_understand(
        &self,
        understood: &[ElementName],
        credentials: CredentialPlacement,
    ) -> Result<(), DecodeError> {
        check_must_understand(self.version, self.header(), understood, credentials)
    }

    fn expect_payload(&self, namespace: &str, name: &str) -> Result<XmlElement<'_, 'input>, DecodeError> {
        expect_element(self.payload()?, namespace, name)
    }
}

/// Refuses a header block marked `mustUnderstand` that is meant for this
/// node (no actor or role, or the next one, or the ultimate receiver) and
/// is none of `understood` (nor the credentials header).
fn check_must_understand(
    version: SoapVersion,
    header: Option<XmlElement<'_, '_>>,
    understood: &[ElementName],
    credentials: CredentialPlacement,
) -> Result<(), DecodeError> {
    let Some(header) = header else { return Ok(()) };
    let envelope_ns = version.envelope_namespace();
    for block in header.children() {
        let must = matches!(block.attribute(envelope_ns, "mustUnderstand").map(str::trim), Some("1" | "true"));
        let target = match version {
            SoapVersion::V11 => block.attribute(envelope_ns, "actor"),
            SoapVersion::V12 => block.attribute(envelope_ns, "role"),
        };
        let for_us = target.is_none_or(|target| FOR_EVERY_NODE.contains(&target.trim()));
        let is_credentials = matches!(credentials, CredentialPlacement::Header { namespace, element, .. } if block.is(namespace, element));
        let known = understood.iter().any(|&(namespace, local)| block.is(namespace, local));
        if must && for_us && !known && !is_credentials {
            return Err(block.error(DecodeErrorKind::NotUnderstood(block.expanded_name())));
        }
    }
    Ok(())
}

/// Decodes a response envelope of `R`'s operation in one pass over `text`,
/// from a source allowed `byte_limit` bytes: the typed response is read from
/// the events as they come (see [`XmlContent::read_stream`]); the `Header`
/// and a `Fault` are read into small documents of their own.
///
/// The outer error is what [`Envelope::parse_within`] refuses: a document
/// that is not well-formed, breaks a structural limit anywhere (even after
/// the payload) or is not a SOAP envelope. The inner result is what
/// [`Envelope::decode_response`] gives, with the same precedence of errors.
///
/// rpc/encoded replies are read through the element index instead: their
/// multi-reference accessors (`href="#id"`) point anywhere in the body.
pub(crate) fn read_response<R: XmlRequest>(
    text: &str,
    byte_limit: usize,
) -> Result<Result<R::Response, EnvelopeError>, DecodeError> {
    if R::BODY == BodyStyle::RpcEncoded {
        return Envelope::parse_within(text, byte_limit).map(|envelope| envelope.decode_response::<R>());
    }
    let mut cursor = XmlCursor::new_within(text, byte_limit)?;
    let root = cursor.root();
    let version =
        SoapVersion::from_envelope_namespace(cursor.namespace(root)).filter(|_| cursor.local_name(root) == "Envelope");
    let Some(version) = version else {
        let error = cursor.error(
            root,
            DecodeErrorKind::UnexpectedElement {
                expected: "a SOAP 1.1 or 1.2 Envelope".to_owned(),
                found: cursor.expanded_name(root),
            },
        );
        cursor.finish()?;
        return Err(error);
    };
    let decoded = read_envelope::<R>(&mut cursor, root, version);
    match decoded {
        Err(EnvelopeError::Decode(error)) if cursor.failed() => Err(error),
        decoded => {
            cursor.finish()?;
            Ok(decoded)
        }
    }
}

/// What the `Body` held.
enum BodyContent<T> {
    Fault(Result<SoapFault, DecodeError>),
    /// Nothing, for a one-way operation.
    Empty,
    Payload(Result<T, DecodeError>),
}

fn read_envelope<R: XmlRequest>(
    cursor: &mut XmlCursor<'_>,
    root: XmlStart,
    version: SoapVersion,
) -> Result<R::Response, EnvelopeError> {
    let envelope_ns = version.envelope_namespace();
    let mut header = None;
    let mut body = None;
    while let Some(child) = cursor.next_child(root)? {
        if header.is_none() && cursor.is(child, envelope_ns, "Header") {
            header = Some(cursor.buffer(child)?);
        } else if body.is_none() && cursor.is(child, envelope_ns, "Body") {
            body = Some(read_body::<R>(cursor, child, version)?);
        } else {
            cursor.skip(child)?;
        }
    }
    // The precedence of `Envelope::decode_response`.
    let body = body.ok_or_else(|| cursor.missing(root, "Body"))?;
    let payload = match body {
        BodyContent::Fault(fault) => return Err(EnvelopeError::Fault(Box::new(fault?))),
        BodyContent::Empty => None,
        BodyContent::Payload(payload) => Some(payload),
    };
    let header = header.as_ref().map(XmlDocument::root);
    check_must_understand(version, header, R::RESPONSE_HEADERS, CredentialPlacement::None)?;
    let mut response = match (payload, R::no_reply()) {
        (Some(payload), _) => payload?,
        (None, Some(accepted)) => return Ok(accepted),
        (None, None) => return Err(cursor.missing(root, "the payload element").into()),
    };
    if let Some(header) = header {
        R::read_response_headers(&mut response, header)?;
    }
    Ok(response)
}

/// Reads the `Body` element; an error is the document's (the cursor failed),
/// what the body's content could not be decoded to is in the content.
fn read_body<R: XmlRequest>(
    cursor: &mut XmlCursor<'_>,
    body: XmlStart,
    version: SoapVersion,
) -> Result<BodyContent<R::Response>, DecodeError> {
    let first = cursor.next_child(body)?;
    if let Some(first) = first.filter(|&first| cursor.is(first, version.envelope_namespace(), "Fault")) {
        let fault = cursor.buffered(first, |fault| SoapFault::read(version, fault));
        return settle(cursor, body, fault).map(BodyContent::Fault);
    }
    let operation = R::OPERATION;
    let payload = match (first, R::BODY) {
        (None, _) if R::no_reply().is_some() => return Ok(BodyContent::Empty),
        (first, BodyStyle::Bare) => {
            if let Some(first) = first {
                cursor.put_back(first);
            }
            R::Response::read_stream(cursor, body)
        }
        (None, _) => Err(cursor.missing(body, "the payload element")),
        (Some(payload), BodyStyle::Rpc) => R::Response::read_stream(cursor, payload),
        (Some(payload), _) if cursor.is(payload, operation.namespace, operation.response_element) => {
            R::Response::read_stream(cursor, payload)
        }
        (Some(payload), _) => Err(cursor.error(
            payload,
            DecodeErrorKind::UnexpectedElement {
                expected: format!("{{{}}}{}", operation.namespace, operation.response_element),
                found: cursor.expanded_name(payload),
            },
        )),
    };
    settle(cursor, body, payload).map(BodyContent::Payload)
}

/// `result`, read from inside `body`, once the cursor is past `body`'s end;
/// an error of the document itself is returned as such.
fn settle<T>(
    cursor: &mut XmlCursor<'_>,
    body: XmlStart,
    result: Result<T, DecodeError>,
) -> Result<Result<T, DecodeError>, DecodeError> {
    match result {
        Err(error) if cursor.failed() => Err(error),
        result => {
            cursor.skip(body)?;
            Ok(result)
        }
    }
}

fn expect_element<'a, 'input>(
    payload: XmlElement<'a, 'input>,
    namespace: &str,
    name: &str,
) -> Result<XmlElement<'a, 'input>, DecodeError> {
    if payload.is(namespace, name) {
        Ok(payload)
    } else {
        Err(payload.error(DecodeErrorKind::UnexpectedElement {
            expected: format!("{{{namespace}}}{name}"),
            found: payload.expanded_name(),
        }))
    }
}

/// The actor (1.1) and roles (1.2) that mean every receiver, this one included.
const FOR_EVERY_NODE: &[&str] = &[
    "http://schemas.xmlsoap.org/soap/actor/next",
    "http://www.w3.org/2003/05/soap-envelope/role/next",
    "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver",
];

/// A request decoded by a server.
#[derive(Debug, Clone)]
pub struct DecodedRequest<R> {
    /// The envelope's version: answer in the same one.
    pub version: SoapVersion,
    /// The request.
    pub request: R,
    /// The credentials it carried.
    pub credentials: ReceivedCredentials,
}

/// Decodes a response envelope of `R`'s operation.
pub fn decode_response<R: XmlRequest>(text: &str) -> Result<R::Response, EnvelopeError> {
    read_response::<R>(text, crate::xml::DEFAULT_BYTE_LIMIT)?
}

/// Decodes a request envelope of `R`'s operation (server side).
pub fn decode_request<R: XmlRequest>(text: &str) -> Result<DecodedRequest<R>, DecodeError> {
    Envelope::parse(text)?.decode_request::<R>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{fill, Credentials, Shown};
    use crate::operation::{OperationMeta, ServiceMeta};

    /// An operation of an ASP.NET `[SoapHeader]` service: credentials in `AuthHeader`.
    #[derive(Debug, Clone, PartialEq, Default)]
    struct Ping {
        text: Option<String>,
    }

    const SERVICE: ServiceMeta =
        ServiceMeta { name: "Auth", endpoint: "auth.asmx", default_address: "http://h/auth.asmx", source: "auth.wsdl" };

    impl XmlRequest for Ping {
        type Response = ();
        const OPERATION: &'static OperationMeta = &OperationMeta {
            service: &SERVICE,
            name: "Ping",
            soap11_action: Some("urn:auth/Ping"),
            soap12_action: None,
            namespace: "urn:auth",
            request_element: "Ping",
            response_element: "PingResponse",
            credentials: CredentialPlacement::Header {
                namespace: "urn:auth",
                element: "AuthHeader",
                username: "UserName",
                password: "Password",
            },
            retry_safe: true,
        };
        fn write_body(&self, w: &mut XmlWriter) {
            w.field("urn:auth", "text", &self.text);
        }
        fn read_body(element: XmlElement<'_, '_>, _: &mut ReceivedCredentials) -> Result<Self, DecodeError> {
            let mut text = crate::xml::Slot::new();
            for child in element.children() {
                if child.is("urn:auth", "text") {
                    text.read(child)?;
                }
            }
            Ok(Ping { text: text.finish(element, "text")? })
        }
    }

    #[test]
    fn header_credentials_travel_in_the_soap_header_both_ways() {
        for version in [SoapVersion::V11, SoapVersion::V12] {
            let request = Ping { text: Some("hi".into()) };
            let encoded = encode_request(&request, version).expect("encodes");
            let text = fill(encoded, &Credentials::new("ali", "p&ss"), Shown::Sent).expect("filled");
            let prefix = version.prefix();
            let header = format!(
                "<{prefix}:Header><AuthHeader xmlns=\"urn:auth\"><UserName>ali</UserName>\
                 <Password>p&amp;ss</Password></AuthHeader></{prefix}:Header><{prefix}:Body>"
            );
            assert!(text.contains(&header), "{text}");
            let decoded = decode_request::<Ping>(&text).expect("decodes");
            assert_eq!(decoded.request, request);
            assert_eq!(decoded.credentials.username.as_deref(), Some("ali"));
            assert_eq!(decoded.credentials.password.as_deref(), Some("p&ss"));
        }
    }

    #[test]
    fn a_repeated_credentials_header_is_refused() {
        let text = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header>\
                    <AuthHeader xmlns=\"urn:auth\"><UserName>a</UserName></AuthHeader>\
                    <AuthHeader xmlns=\"urn:auth\"><UserName>b</UserName></AuthHeader>\
                    </s:Header><s:Body><Ping xmlns=\"urn:auth\" /></s:Body></s:Envelope>";
        let error = decode_request::<Ping>(text).unwrap_err();
        assert!(error.to_string().contains("AuthHeader"), "{error}");
    }
}
