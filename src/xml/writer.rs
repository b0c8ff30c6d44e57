//! A small, allocation-conscious XML writer for SOAP envelopes.
//!
//! Element and namespace names come from generated code and are `'static`;
//! text is validated against XML 1.0 and escaped by `quick_xml`.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::error::EncodeError;

/// The XML Schema instance namespace (`xsi:nil`).
pub const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The XML Schema namespace (built-in types in `xsi:type` values).
pub const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";

/// The namespace of `xml:lang`, `xml:space`…, bound to `xml` everywhere.
pub const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// True when XML 1.0 can carry `c` (its `Char` production; Rust has no surrogates).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` escaped as element content. A parser turns a raw CR (or CR LF) into
/// LF, so CR is written as a reference, which survives.
pub(crate) fn escape_text(text: &str) -> Cow<'_, str> {
    let escaped = quick_xml::escape::partial_escape(text);
    if escaped.contains('\r') {
        Cow::Owned(escaped.replace('\r', "&#13;"))
    } else {
        escaped
    }
}

/// Which credential a request element carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    /// The panel user name.
    Username,
    /// The panel password.
    Password,
}

/// Where a credential's text goes in an encoded request: filled in by [`crate::auth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CredentialSlot {
    /// The byte offset of the credential element's (empty) content.
    pub(crate) at: usize,
    pub(crate) which: Credential,
}

/// Text written with its credential slots still empty.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub(crate) text: String,
    pub(crate) slots: Vec<CredentialSlot>,
}

/// Writes XML text into a `String`.
///
/// Writing never fails midway: the first value that cannot be carried by
/// XML 1.0 is remembered and reported by [`XmlWriter::finish`].
pub struct XmlWriter {
    out: String,
    /// One entry per open element: its prefix, local name and the default namespace in scope.
    open: Vec<OpenElement>,
    tag_pending: bool,
    xsi_declared: bool,
    /// The envelope binds `xsd` to the XML Schema namespace (for `xsi:type` values).
    xsd_declared: bool,
    /// The `xsi:type` of the next element opened (SOAP encoding's typed accessors).
    pub(super) pending_type: Option<(&'static str, &'static str)>,
    /// Credential elements written empty, to be filled by [`crate::auth`].
    slots: Vec<CredentialSlot>,
    /// Namespaces of the qualified attributes of the element just opened (prefix `a1`, `a2`, …).
    attribute_namespaces: Vec<String>,
    error: Option<EncodeError>,
}

impl XmlWriter {
    /// A writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        XmlWriter {
            out: String::with_capacity(capacity),
            open: Vec::with_capacity(8),
            tag_pending: false,
            xsi_declared: false,
            xsd_declared: false,
            pending_type: None,
            slots: Vec::new(),
            attribute_namespaces: Vec::new(),
            error: None,
        }
    }

    /// Writes the XML declaration.
    pub fn declaration(&mut self) {
        self.out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    }

    fn default_namespace(&self) -> &'static str {
        self.open.last().map_or("", |open| open.default_namespace)
    }

    fn close_pending_tag(&mut self) {
        if self.tag_pending {
            self.out.push('>');
            self.tag_pending = false;
        }
    }

    /// Opens `<name>` in namespace `ns`, declaring it as the default namespace when needed.
    pub fn start(&mut self, ns: &'static str, name: &'static str) {
        self.close_pending_tag();
        self.out.push('<');
        self.out.push_str(name);
        if !same_namespace(ns, self.default_namespace()) {
            self.push_attribute_raw("xmlns", ns);
        }
        self.open.push(OpenElement { prefix: "", name, default_namespace: ns });
        self.tag_pending = true;
        self.attribute_namespaces.clear();
        if let Some((type_ns, type_local)) = self.pending_type.take() {
            self.xsi_type(type_ns, type_local);
        }
    }

    /// Marks the element just opened `xsi:type="p:local"`, declaring what it needs.
    pub(crate) fn xsi_type(&mut self, ns: &str, local: &str) {
        let value = self.qname_value(ns, local);
        if !self.xsi_declared {
            self.push_attribute_raw("xmlns:xsi", XSI_NAMESPACE);
        }
        self.attribute_raw_value("xsi:type", &value);
    }

    /// A QName as an attribute value of the element just opened: `xsd:` when
    /// the envelope binds it, else a prefix declared there like those of
    /// qualified attributes (`a1`, `a2`, …).
    pub(crate) fn qname_value(&mut self, ns: &str, local: &str) -> String {
        match self.prefix_for(ns) {
            Some(prefix) => format!("{prefix}:{local}"),
            None => local.to_owned(),
        }
    }

    fn prefix_for(&mut self, ns: &str) -> Option<String> {
        if ns.is_empty() {
            return None;
        }
        if ns == XSD_NAMESPACE && self.xsd_declared {
            return Some("xsd".to_owned());
        }
        let index = match self.attribute_namespaces.iter().position(|declared| declared == ns) {
            Some(index) => index + 1,
            None => {
                self.attribute_namespaces.push(ns.to_owned());
                let index = self.attribute_namespaces.len();
                self.push_attribute_raw(&format!("xmlns:a{index}"), &quick_xml::escape::escape(ns));
                index
            }
        };
        Some(format!("a{index}"))
    }

    /// An attribute whose value the writer made (escaped all the same).
    fn attribute_raw_value(&mut self, name: &str, value: &str) {
        if let Some(escaped) = self.escape_attribute(value) {
            self.push_attribute_raw(name, &escaped);
        }
    }

    /// Opens `<prefix:name>` with the given namespace declarations (`(prefix, uri)`).
    ///
    /// Used for envelope elements; the default namespace in scope is unchanged.
    pub fn start_prefixed(
        &mut self,
        prefix: &'static str,
        name: &'static str,
        declarations: &[(&'static str, &'static str)],
    ) {
        self.close_pending_tag();
        let _ = write!(self.out, "<{prefix}:{name}");
        for &(declared, uri) in declarations {
            let _ = write!(self.out, " xmlns:{declared}=\"{uri}\"");
            if uri == XSI_NAMESPACE {
                self.xsi_declared = true;
            }
            if uri == XSD_NAMESPACE && declared == "xsd" {
                self.xsd_declared = true;
            }
        }
        let default_namespace = self.default_namespace();
        self.open.push(OpenElement { prefix, name, default_namespace });
        self.tag_pending = true;
    }

    /// Adds an attribute to the element just opened. The value is escaped.
    pub(crate) fn attribute(&mut self, name: &'static str, value: &str) {
        debug_assert!(self.tag_pending, "attribute written after content");
        if let Some(escaped) = self.escape_attribute(value) {
            self.push_attribute_raw(name, &escaped);
        }
    }

    /// `value` escaped as attribute text, or `None` (recorded) when XML 1.0 cannot carry it.
    fn escape_attribute<'v>(&mut self, value: &'v str) -> Option<Cow<'v, str>> {
        if !self.is_xml_text(value) {
            return None;
        }
        let escaped = quick_xml::escape::escape(value);
        // Attribute-value normalisation turns raw whitespace controls into spaces.
        Some(if escaped.contains(['\t', '\n', '\r']) {
            Cow::Owned(escaped.replace('\t', "&#9;").replace('\n', "&#10;").replace('\r', "&#13;"))
        } else {
            escaped
        })
    }

    /// Adds an attribute in namespace `ns` (`""` for none) to the element just
    /// opened, declaring a prefix for the namespace there (`xml:` needs none).
    pub(crate) fn attribute_in(&mut self, ns: &str, name: &str, value: &str) {
        debug_assert!(self.tag_pending, "attribute written after content");
        let Some(escaped) = self.escape_attribute(value) else { return };
        if ns.is_empty() {
            self.push_attribute_raw(name, &escaped);
        } else if ns == XML_NAMESPACE {
            self.push_attribute_raw(&format!("xml:{name}"), &escaped);
        } else if let Some(prefix) = self.prefix_for(ns) {
            self.push_attribute_raw(&format!("{prefix}:{name}"), &escaped);
        }
    }

    fn push_attribute_raw(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(value);
        self.out.push('"');
    }

    /// Marks the element just opened `xsi:nil="true"`.
    pub fn nil(&mut self) {
        if !self.xsi_declared {
            self.push_attribute_raw("xmlns:xsi", XSI_NAMESPACE);
        }
        self.push_attribute_raw("xsi:nil", "true");
    }

    /// Closes the innermost open element.
    pub fn end(&mut self) {
        let Some(open) = self.open.pop() else {
            debug_assert!(false, "end() without start()");
            return;
        };
        if self.tag_pending {
            self.out.push_str(" />");
            self.tag_pending = false;
        } else {
            self.out.push_str("</");
            if !open.prefix.is_empty() {
                self.out.push_str(open.prefix);
                self.out.push(':');
            }
            self.out.push_str(open.name);
            self.out.push('>');
        }
    }

    /// Writes text content, escaped. Text XML 1.0 cannot carry is refused (see [`XmlWriter::finish`]).
    pub fn text(&mut self, text: &str) {
        self.close_pending_tag();
        if is_plain_text(text) {
            self.out.push_str(text);
        } else if self.is_xml_text(text) {
            self.out.push_str(&escape_text(text));
        }
    }

    /// Writes the element `<name>text</name>`, as [`XmlWriter::start`],
    /// [`XmlWriter::text`] and [`XmlWriter::end`] would: in one step when the
    /// element is in the default namespace and the text plain (a list of
    /// numbers, most often), else through them.
    pub fn text_element(&mut self, ns: &'static str, name: &'static str, text: &str) {
        if self.pending_type.is_some() || !same_namespace(ns, self.default_namespace()) || !is_plain_text(text) {
            self.start(ns, name);
            self.text(text);
            self.end();
            return;
        }
        self.close_pending_tag();
        self.attribute_namespaces.clear();
        self.out.reserve(2 * name.len() + text.len() + 5);
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.out.push_str(text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Writes text known to need no escaping (numbers, booleans, base64, dates).
    pub fn text_plain(&mut self, text: &str) {
        debug_assert!(!text.contains(['<', '&', '>', '\r']));
        self.close_pending_tag();
        self.out.push_str(text);
    }

    /// Writes `value` with `Display` as text known to need no escaping.
    pub fn text_display(&mut self, value: impl std::fmt::Display) {
        self.close_pending_tag();
        let _ = write!(self.out, "{value}");
    }

    /// Writes an `xs:QName` value as the text of the element just opened,
    /// declaring a prefix for its namespace there unless it is the default one.
    pub fn qname_text(&mut self, namespace: &str, local: &str) {
        if namespace.is_empty() || namespace == self.default_namespace() || !self.tag_pending {
            debug_assert!(namespace.is_empty() || namespace == self.default_namespace() || self.tag_pending);
            self.text(local);
            return;
        }
        self.attribute("xmlns:q", namespace);
        self.close_pending_tag();
        self.out.push_str("q:");
        self.text(local);
    }

    /// Writes markup known to be one well-formed, standalone element ([`super::RawXml`]).
    pub(crate) fn raw(&mut self, markup: &str) {
        self.close_pending_tag();
        self.out.push_str(markup);
    }

    /// Writes a credential element at this position, its text left for [`crate::auth`] to fill in.
    pub fn credential(&mut self, ns: &'static str, name: &'static str, which: Credential) {
        self.start(ns, name);
        self.close_pending_tag();
        self.slots.push(CredentialSlot { at: self.out.len(), which });
        self.end();
    }

    /// True when XML 1.0 can carry `text`; otherwise records the first offending character.
    /// (Every character XML 1.0 refuses is a control below U+0020, or U+FFFE or
    /// U+FFFF, whose UTF-8 starts with 0xEF: text without those bytes passes.)
    fn is_xml_text(&mut self, text: &str) -> bool {
        match text.chars().enumerate().find(|&(_, c)| !is_xml_char(c)) {
            None => true,
            Some((position, character)) => {
                self.fail(character, position);
                false
            }
        }
    }

    fn fail(&mut self, character: char, position: usize) {
        if self.error.is_none() {
            let element = self.open.last().map_or("", |open| open.name);
            self.error = Some(EncodeError { element: element.to_owned(), character, position });
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The text written, or the first value that could not be written.
    ///
    /// Credential elements are left empty: requests are finished with
    /// [`XmlWriter::finish_with_slots`] and filled by [`crate::auth`].
    pub fn finish(self) -> Result<String, EncodeError> {
        self.finish_with_slots().map(|encoded| encoded.text)
    }

    /// The text written and where its credentials go, or the first value that could not be written.
    pub(crate) fn finish_with_slots(mut self) -> Result<Encoded, EncodeError> {
        while !self.open.is_empty() {
            self.end();
        }
        match self.error {
            Some(error) => Err(error),
            None => Ok(Encoded { text: self.out, slots: self.slots }),
        }
    }
}

struct OpenElement {
    prefix: &'static str,
    name: &'static str,
    default_namespace: &'static str,
}
/// Whether `text` is written as it is: one pass over the bytes settles most
/// text (numbers, names, Persian words), with nothing to escape and nothing
/// XML refuses (every character it refuses is a control below U+0020, or
/// U+FFFE or U+FFFF, whose UTF-8 starts with 0xEF).
fn is_plain_text(text: &str) -> bool {
    text.bytes().all(|byte| PLAIN_BYTES[usize::from(byte)])
}

/// The bytes [`is_plain_text`] lets through, as a table: one look-up a byte.
static PLAIN_BYTES: [bool; 256] = {
    let mut table = [true; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = false;
        byte += 1;
    }
    table[b'<' as usize] = false;
    table[b'>' as usize] = false;
    table[b'&' as usize] = false;
    table[0xEF] = false;
    table
};

/// Whether two namespaces are one: most often the same `&'static str` of the
/// generated code (one pointer comparison), else compared as text.
fn same_namespace(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

#[cfg(test)]
mod tests {
    use super::XmlWriter;

    /// The document `write` makes inside `<root xmlns="urn:a">`, or its error.
    fn written(write: impl Fn(&mut XmlWriter)) -> Result<String, String> {
        let mut w = XmlWriter::with_capacity(64);
        w.start("urn:a", "root");
        write(&mut w);
        w.finish().map_err(|error| error.to_string())
    }

    #[test]
    fn a_text_element_is_written_as_start_text_and_end_write_it() {
        let texts = ["", "09121234567", "سلام دنیا", "a < b & c > d", "tab\there", "bad\u{1}char", "\u{fffe}", "\r\n"];
        for ns in ["urn:a", "urn:b", ""] {
            for text in texts {
                let whole = written(|w| w.text_element(ns, "item", text));
                let parts = written(|w| {
                    w.start(ns, "item");
                    w.text(text);
                    w.end();
                });
                assert_eq!(whole, parts, "{ns:?} {text:?}");
            }
        }
        // Right after another element's attributes, and with a type to declare.
        let whole = written(|w| {
            w.start("urn:a", "list");
            w.attribute("n", "1");
            w.text_element("urn:a", "item", "x");
            w.pending_type = Some(("http://www.w3.org/2001/XMLSchema", "string"));
            w.text_element("urn:a", "item", "y");
        });
        let parts = written(|w| {
            w.start("urn:a", "list");
            w.attribute("n", "1");
            w.start("urn:a", "item");
            w.text("x");
            w.end();
            w.pending_type = Some(("http://www.w3.org/2001/XMLSchema", "string"));
            w.start("urn:a", "item");
            w.text("y");
            w.end();
        });
        assert_eq!(whole, parts);
        let xml = whole.unwrap_or_default();
        assert!(
            xml.contains(r#"<list n="1"><item>x</item>"#) && xml.contains(r#"xsi:type="a1:string">y</item>"#),
            "{xml}"
        );
    }
}
