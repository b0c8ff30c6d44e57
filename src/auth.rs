//! Credentials: what they are, where a request carries them, and how they stay out of sight.
//!
//! Where an operation takes the account's credentials is generated metadata
//! ([`OperationMeta::credentials`](crate::OperationMeta::credentials)): as elements of
//! the request body (the panel's way), in a SOAP header element (ASP.NET
//! `[SoapHeader]` services), or not at all. This module is the one place that acts
//! on it. Requests are encoded with empty credential slots; the values are filled
//! in last, escaped, from a [`CredentialSource`], so the XML writer never holds a
//! password and a trace of a request shows `***` in its place.

use std::borrow::Cow;
use std::fmt;

use crate::error::InputError;
pub use crate::xml::Credential;
use crate::xml::{
    escape_text, is_xml_char, CredentialSlot, DecodeError, DecodeErrorKind, Encoded, XmlContent, XmlElement, XmlWriter,
};

/// A panel user name and password.
///
/// `Debug` shows the user name and `***` for the password; there is no
/// `Display`. The password is only read when a request is written.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials for the account `username`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials { username: username.into(), password: password.into() }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password, for the client to keep it out of what servers echo back.
    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// Refuses credentials that XML 1.0 cannot carry, without saying which character.
    pub(crate) fn check(&self) -> Result<(), InputError> {
        for (what, value) in [("user name", &self.username), ("password", &self.password)] {
            if !value.chars().all(is_xml_char) {
                return Err(InputError::Invalid(format!("the {what} contains a character that XML 1.0 cannot carry")));
            }
        }
        Ok(())
    }

    fn value(&self, which: Credential, shown: Shown) -> &str {
        match (which, shown) {
            (Credential::Username, _) => &self.username,
            (Credential::Password, Shown::Redacted) => REDACTED,
            (Credential::Password, Shown::Sent) => &self.password,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &REDACTED).finish()
    }
}

/// What a password is shown as.
const REDACTED: &str = "***";

/// Supplies the credentials for each request: the seam for passwords that are
/// rotated, or read from a secret store, while the client runs.
///
/// [`Credentials`] is the plain implementation. `Debug` must not show the password.
pub trait CredentialSource: fmt::Debug + Send + Sync + 'static {
    /// The credentials for the request about to be written.
    fn credentials(&self) -> Cow<'_, Credentials>;
}

impl CredentialSource for Credentials {
    fn credentials(&self) -> Cow<'_, Credentials> {
        Cow::Borrowed(self)
    }
}

/// Where an operation's request carries the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialPlacement {
    /// Nowhere: the operation takes no credentials.
    None,
    /// As elements of the request's wrapper, where the WSDL declares them
    /// (the generated code marks their places).
    Body,
    /// As the two children of a SOAP header element.
    Header {
        /// The header element's namespace.
        namespace: &'static str,
        /// The header element's local name (e.g. `AuthHeader`).
        element: &'static str,
        /// The local name of the child holding the user name.
        username: &'static str,
        /// The local name of the child holding the password.
        password: &'static str,
    },
}

impl CredentialPlacement {
    /// True when the request carries credentials somewhere.
    pub fn takes_credentials(self) -> bool {
        !matches!(self, CredentialPlacement::None)
    }
}

/// Whether credentials are written for the wire or for a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// The real values.
    Sent,
    /// The password as `***`.
    Redacted,
}

/// Writes the SOAP header element that carries the credentials, when `placement` puts them there.
pub(crate) fn write_header(w: &mut XmlWriter, placement: CredentialPlacement) {
    if let CredentialPlacement::Header { namespace, element, username, password } = placement {
        w.start(namespace, element);
        w.credential(namespace, username, Credential::Username);
        w.credential(namespace, password, Credential::Password);
        w.end();
    }
}

/// True when a request of `placement` needs a SOAP header.
pub(crate) fn needs_header(placement: CredentialPlacement) -> bool {
    matches!(placement, CredentialPlacement::Header { .. })
}

/// The encoded request with its credential slots filled (escaped) from `credentials`.
pub(crate) fn fill(encoded: Encoded, credentials: &Credentials, shown: Shown) -> Result<String, InputError> {
    let Encoded { mut text, slots } = encoded;
    credentials.check()?;
    // From the last slot to the first, so earlier offsets stay valid.
    for CredentialSlot { at, which } in slots.into_iter().rev() {
        text.insert_str(at, &escape_text(credentials.value(which, shown)));
    }
    Ok(text)
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

    /// Reads the credentials from a request's `Header` element, when `placement` puts them there.
    pub(crate) fn read_header(
        &mut self,
        header: Option<XmlElement<'_, '_>>,
        placement: CredentialPlacement,
    ) -> Result<(), DecodeError> {
        let CredentialPlacement::Header { namespace, element, username, password } = placement else {
            return Ok(());
        };
        let Some(header) = header else { return Ok(()) };
        let mut found = header.children().filter(|child| child.is(namespace, element));
        let Some(holder) = found.next() else { return Ok(()) };
        if let Some(again) = found.next() {
            return Err(again.error(DecodeErrorKind::DuplicateElement(element.to_owned())));
        }
        for child in holder.children() {
            if child.is(namespace, username) {
                self.read(Credential::Username, child)?;
            } else if child.is(namespace, password) {
                self.read(Credential::Password, child)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ReceivedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedCredentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_body() -> Encoded {
        let mut w = XmlWriter::with_capacity(64);
        w.start("urn:x", "Op");
        w.credential("urn:x", "username", Credential::Username);
        w.credential("urn:x", "password", Credential::Password);
        w.start("urn:x", "text");
        w.text("hi");
        w.end();
        w.finish_with_slots().expect("encodes")
    }

    #[test]
    fn debug_never_shows_the_password() {
        let credentials = Credentials::new("demo", "s3cr3t-パスワード");
        let shown = format!("{credentials:?} {credentials:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("demo"));
        let received = ReceivedCredentials { username: Some("demo".into()), password: Some("s3cr3t".into()) };
        assert!(!format!("{received:?}").contains("s3cr3t"));
    }

    #[test]
    fn slots_are_filled_in_place_and_escaped() {
        let credentials = Credentials::new("a&b", "p<w>\r");
        let text = fill(encoded_body(), &credentials, Shown::Sent).expect("filled");
        assert_eq!(
            text,
            "<Op xmlns=\"urn:x\"><username>a&amp;b</username><password>p&lt;w&gt;&#13;</password><text>hi</text></Op>"
        );
        let logged = fill(encoded_body(), &credentials, Shown::Redacted).expect("filled");
        assert!(logged.contains("<password>***</password>") && !logged.contains("p&lt;w"), "{logged}");
    }

    #[test]
    fn the_writer_never_sees_the_password() {
        let encoded = encoded_body();
        assert_eq!(encoded.text, "<Op xmlns=\"urn:x\"><username></username><password></password><text>hi</text></Op>");
        assert_eq!(encoded.slots.len(), 2);
    }

    #[test]
    fn credentials_xml_cannot_carry_are_refused_without_showing_them() {
        let error = fill(encoded_body(), &Credentials::new("u", "pass\u{1}word"), Shown::Sent).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("the password contains a character"), "{shown}");
        assert!(!shown.contains("pass") || !shown.contains("word\""), "{shown}");
        assert!(!shown.contains("U+0001"), "{shown}");
    }

    #[test]
    fn header_credentials_are_written_in_their_own_element() {
        let placement = CredentialPlacement::Header {
            namespace: "urn:auth",
            element: "AuthHeader",
            username: "UserName",
            password: "Password",
        };
        let mut w = XmlWriter::with_capacity(64);
        w.start_prefixed("soap", "Header", &[]);
        write_header(&mut w, placement);
        let text =
            fill(w.finish_with_slots().expect("encodes"), &Credentials::new("u", "p"), Shown::Sent).expect("filled");
        assert_eq!(
            text,
            "<soap:Header><AuthHeader xmlns=\"urn:auth\"><UserName>u</UserName><Password>p</Password></AuthHeader></soap:Header>"
        );
    }
}
