//! Read access to a parsed document, by namespace URI and local name only.

use std::borrow::Cow;

use super::document::{lookup, Element, XmlDocument, MAX_DEPTH, NONE};
use super::error::{DecodeError, DecodeErrorKind};
use super::writer::XSI_NAMESPACE;

/// XML's line-end normalization (XML 1.0 §2.11): `\r\n` and a lone `\r` are
/// `\n` (a carriage return written as `&#13;` stays, being unescaped after).
pub(super) fn normalize_line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        text
    }
}

/// How many `href` accessors may point at one another before the element
/// that holds a value (SOAP 1.1 §5.4.1 has one: accessor to value).
const MAX_REFERENCE_CHAIN: usize = 8;
/// Following references may visit at most this many times the document's
/// elements: values shared by several accessors are read once per accessor,
/// and this bounds what sharing can multiply.
const REFERENCE_BUDGET_FACTOR: usize = 4;

/// One element of a parsed document.
#[derive(Clone, Copy)]
pub struct XmlElement<'a, 'input> {
    document: &'a XmlDocument<'input>,
    index: u32,
    /// Elements between the root and this one, counting the accessors whose
    /// references led here: bounds decoding however references nest.
    depth: u32,
    /// Inside a SOAP-encoded body: `href` accessors stand for the element they name.
    encoded: bool,
}

impl<'a, 'input: 'a> XmlElement<'a, 'input> {
    pub(super) fn new(document: &'a XmlDocument<'input>, index: u32) -> Self {
        XmlElement { document, index, depth: 0, encoded: false }
    }

    fn element(&self) -> &'a Element {
        // Elements are only made from indexes of their document.
        &self.document.elements[self.index as usize]
    }

    fn input(&self, start: u32, len: u32) -> &'a str {
        let start = start as usize;
        self.document.text.get(start..start + len as usize).unwrap_or("")
    }

    /// The namespace URI, or `""` for none.
    pub fn namespace(&self) -> &'a str {
        self.document.uris.get(self.element().namespace as usize).map_or("", |uri| uri)
    }

    /// The local name.
    pub fn local_name(&self) -> &'a str {
        let element = self.element();
        let skip = if element.prefix_len == 0 { 0 } else { u32::from(element.prefix_len) + 1 };
        self.input(element.start + 1 + skip, u32::from(element.name_len) - skip)
    }

    /// True when this is `{namespace}local`.
    pub fn is(&self, namespace: &str, local: &str) -> bool {
        self.local_name() == local && self.namespace() == namespace
    }

    /// `{namespace}local`, for messages.
    pub fn expanded_name(&self) -> String {
        format!("{{{}}}{}", self.namespace(), self.local_name())
    }

    /// Child elements, in document order.
    pub fn children(&self) -> impl Iterator<Item = XmlElement<'a, 'input>> + 'a {
        let XmlElement { document, depth, encoded, .. } = *self;
        let first = if self.element().has_children() { self.index + 1 } else { NONE };
        std::iter::successors(Some(first).filter(|&index| index != NONE), move |&index| {
            let next = document.elements.get(index as usize)?.next_sibling;
            (next != NONE).then_some(next)
        })
        .map(move |index| XmlElement { document, index, depth: depth + 1, encoded })
    }

    /// The elements of this one's subtree, itself first (they are contiguous in the index).
    fn subtree(&self) -> &'a [Element] {
        let elements = &self.document.elements[self.index as usize..];
        let end = self.element().start as usize + self.raw_markup().len();
        let count = elements.iter().take_while(|element| (element.start as usize) < end).count();
        &elements[..count]
    }

    /// This element and what it holds, read as SOAP-encoded data (SOAP 1.1
    /// §5): an accessor with `href="#id"` stands for the element whose `id` it
    /// names (see [`XmlElement::dereference`]).
    pub(crate) fn encoded(self) -> Self {
        XmlElement { encoded: true, ..self }
    }

    /// True for a body entry marked `soapenc:root="0"`: a value serialised on
    /// its own, which accessors reach by reference, not the message.
    pub(crate) fn is_independent_value(&self) -> bool {
        const SOAP_ENCODING: &str = "http://schemas.xmlsoap.org/soap/encoding/";
        matches!(self.attribute(SOAP_ENCODING, "root").map(str::trim), Some("0" | "false"))
    }

    /// In SOAP-encoded data, the element holding this accessor's value: the
    /// one whose `id` its `href="#id"` names (SOAP 1.1 §5.4.1, usually a
    /// `multiRef` sibling of the rpc wrapper), else the element itself.
    ///
    /// A reference that names no element or one twice, leaves the document,
    /// chains more than a few accessors, or (directly or through nested values)
    /// goes round in a cycle is an error, as is sharing that would make
    /// decoding visit more than a few times the document's elements.
    pub fn dereference(self) -> Result<Self, DecodeError> {
        if !self.encoded {
            return Ok(self);
        }
        let mut current = self;
        for _ in 0..=MAX_REFERENCE_CHAIN {
            let Some(href) = current.attribute("", "href") else { return Ok(current) };
            let Some(id) = href.trim().strip_prefix('#') else {
                return Err(current.bad_reference(format!("href={href:?} is not a reference within the message")));
            };
            if current.depth as usize > MAX_DEPTH {
                return Err(current.bad_reference(format!(
                    "href={href:?} leads more than {MAX_DEPTH} elements deep (a cycle of references?)"
                )));
            }
            let target = self.find_id(id).map_err(|reason| current.bad_reference(reason))?;
            let target = XmlElement { index: target, ..current };
            self.spend(&target).map_err(|limit| current.error(DecodeErrorKind::LimitExceeded(limit)))?;
            current = target;
        }
        Err(current.bad_reference(format!("more than {MAX_REFERENCE_CHAIN} references in a chain")))
    }

    fn bad_reference(&self, reason: String) -> DecodeError {
        self.error(DecodeErrorKind::BadReference(reason))
    }

    /// The index of the one element whose `id` is `id`.
    fn find_id(&self, id: &str) -> Result<u32, String> {
        let document = self.document;
        let id_of = |index: u32| XmlElement::new(document, index).attribute("", "id");
        let ids = document.references.ids.get_or_init(|| {
            let mut ids: Vec<u32> = (0..document.elements.len())
                .filter_map(|index| u32::try_from(index).ok())
                .filter(|&index| id_of(index).is_some())
                .collect();
            ids.sort_by(|&a, &b| id_of(a).cmp(&id_of(b)));
            ids
        });
        let first = ids.partition_point(|&index| id_of(index) < Some(id));
        let mut matching = ids[first..].iter().take_while(|&&index| id_of(index) == Some(id));
        match (matching.next(), matching.next()) {
            (Some(&found), None) => Ok(found),
            (None, _) => Err(format!("href=\"#{id}\" names no element of the message")),
            (Some(_), Some(_)) => Err(format!("href=\"#{id}\" names an id that several elements have")),
        }
    }

    /// Charges the elements of `target` to the budget of references.
    fn spend(&self, target: &XmlElement<'a, 'input>) -> Result<(), String> {
        let references = &self.document.references;
        let budget = match references.budget.get() {
            Some(budget) => budget,
            None => self.document.elements.len().saturating_mul(REFERENCE_BUDGET_FACTOR),
        };
        let cost = target.subtree().len();
        let Some(left) = budget.checked_sub(cost) else {
            return Err(format!(
                "references would have decoding visit more than {REFERENCE_BUDGET_FACTOR} times the message's nodes"
            ));
        };
        references.budget.set(Some(left));
        Ok(())
    }

    /// The first child element, if any.
    pub fn first_child(&self) -> Option<XmlElement<'a, 'input>> {
        self.children().next()
    }

    /// The attributes as (namespace URI index, local name, value).
    fn attributes_raw(&self) -> impl Iterator<Item = (u32, &'a str, &'a str)> + 'a {
        let document = self.document;
        let element = self.element();
        let attributes = if element.has_attributes() {
            let index = self.index;
            let first = document.attributes.partition_point(|attribute| attribute.element < index);
            let rest = document.attributes.get(first..).unwrap_or(&[]);
            &rest[..rest.partition_point(|attribute| attribute.element == index)]
        } else {
            &[]
        };
        attributes.iter().map(move |attribute| {
            let text = document.text;
            let slice = |start: u32, len: u32| text.get(start as usize..(start + len) as usize).unwrap_or("");
            let value = if attribute.unescaped {
                document.values.get(attribute.value as usize).map_or("", |value| value)
            } else {
                slice(attribute.value, attribute.value_len)
            };
            (attribute.namespace, slice(attribute.local_start, attribute.local_len), value)
        })
    }

    /// The value of an attribute in `namespace` (`""` for none).
    pub fn attribute(&self, namespace: &str, local: &str) -> Option<&'a str> {
        let uris = &self.document.uris;
        self.attributes_raw()
            .find(|&(uri, name, _)| name == local && uris.get(uri as usize).is_some_and(|uri| uri == namespace))
            .map(|(_, _, value)| value)
    }

    /// The attributes, as (namespace URI or `""`, local name, value); namespace declarations are not attributes.
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
        let uris = &self.document.uris;
        self.attributes_raw().map(move |(uri, name, value)| (uris.get(uri as usize).map_or("", |uri| uri), name, value))
    }

    /// The namespace bound to `prefix` (`""` for the default namespace) at this element.
    pub fn lookup_namespace(&self, prefix: &str) -> Option<&'a str> {
        if prefix == "xml" {
            return self.document.uris.get(1).map(|uri| &**uri);
        }
        let uri = lookup(self.document, u32::from(self.element().scope), prefix.as_bytes())?;
        self.document.uris.get(uri as usize).map(|uri| &**uri).filter(|uri| !uri.is_empty())
    }

    /// True when the element carries `xsi:nil="true"` (or `"1"`).
    pub fn is_nil(&self) -> bool {
        matches!(self.attribute(XSI_NAMESPACE, "nil").map(str::trim), Some("true" | "1"))
    }

    /// The element's text (all text and CDATA joined). An element child is an error.
    pub fn text(&self) -> Result<Cow<'a, str>, DecodeError> {
        if let Some(child) = self.first_child() {
            return Err(self.error(DecodeErrorKind::UnexpectedChild(child.local_name().to_owned())));
        }
        let element = self.element();
        let content = self.input(element.content_start, element.content_end - element.content_start);
        if memchr::memchr3(b'<', b'&', b'\r', content.as_bytes()).is_none() {
            // Nothing to unescape or normalize: the text as it is in the input.
            return Ok(Cow::Borrowed(content));
        }
        if !content.contains('<') {
            // Plain text, the usual case: unescaped straight from the input.
            let text = match normalize_line_ends(Cow::Borrowed(content)) {
                Cow::Borrowed(content) => quick_xml::escape::unescape(content),
                Cow::Owned(content) => quick_xml::escape::unescape(&content).map(|text| Cow::Owned(text.into_owned())),
            };
            return text.map_err(|error| self.error(DecodeErrorKind::Malformed(error.to_string())));
        }
        // Text split by comments, processing instructions or CDATA sections.
        let mut reader = quick_xml::Reader::from_str(content);
        let mut text = String::new();
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Text(piece)) => {
                    let piece = std::str::from_utf8(&piece).unwrap_or_default();
                    match quick_xml::escape::unescape(&normalize_line_ends(Cow::Borrowed(piece))) {
                        Ok(piece) => text.push_str(&piece),
                        Err(error) => return Err(self.error(DecodeErrorKind::Malformed(error.to_string()))),
                    }
                }
                Ok(quick_xml::events::Event::CData(piece)) => {
                    let piece = std::str::from_utf8(&piece).unwrap_or_default();
                    text.push_str(&normalize_line_ends(Cow::Borrowed(piece)));
                }
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(error) => return Err(self.error(DecodeErrorKind::Malformed(error.to_string()))),
            }
        }
        Ok(Cow::Owned(text))
    }

    /// The raw markup of this element, as it appears in the input.
    pub fn raw_markup(&self) -> &'input str {
        let element = self.element();
        let text = self.document.text;
        let content_end = element.content_end as usize;
        let end = if element.is_empty_tag() {
            content_end
        } else {
            // After the end tag's `>`.
            text.get(content_end..).and_then(|rest| rest.find('>')).map_or(text.len(), |at| content_end + at + 1)
        };
        text.get(element.start as usize..end).unwrap_or("")
    }

    /// This element's markup as a standalone element: the inherited
    /// namespace declarations it may use are added to its start tag (and
    /// `xmlns=""` when no default namespace is in scope), so it means the same
    /// anywhere. A prefix counts as used when `prefix:` occurs in the markup,
    /// so prefixes inside values (`xsi:type="q:T"`) keep their declaration too,
    /// and the default namespace when an element name has no prefix.
    pub fn standalone_markup(&self) -> String {
        let raw = self.raw_markup();
        let element = self.element();
        let document = self.document;
        let end = element.start as usize + raw.len();
        let unprefixed = document.elements[self.index as usize..]
            .iter()
            .take_while(|descendant| (descendant.start as usize) < end)
            .any(|descendant| descendant.prefix_len == 0);
        // The declarations in scope, innermost first; the element's own are in its markup.
        let own_scope = u32::from(element.scope);
        let parent_scope = {
            let mut scope = own_scope;
            while let Some(declaration) = document.declarations.get(scope as usize) {
                if declaration.prefix_start < element.start {
                    break;
                }
                scope = declaration.parent;
            }
            scope
        };
        let mut own = Vec::new();
        let mut scope = own_scope;
        while scope != parent_scope {
            let Some(declaration) = document.declarations.get(scope as usize) else { break };
            own.push(self.input(declaration.prefix_start, declaration.prefix_len));
            scope = declaration.parent;
        }
        // Innermost first, each prefix once (the innermost binding wins); written outermost first.
        let mut in_scope: Vec<(&str, &str)> = Vec::new();
        let mut scope = parent_scope;
        while let Some(declaration) = document.declarations.get(scope as usize) {
            scope = declaration.parent;
            let prefix = self.input(declaration.prefix_start, declaration.prefix_len);
            if !in_scope.iter().any(|&(seen, _)| seen == prefix) {
                in_scope.push((prefix, document.uris.get(declaration.uri as usize).map_or("", |uri| uri)));
            }
        }
        let mut declarations = String::new();
        let mut default_in_scope = false;
        for &(prefix, uri) in in_scope.iter().rev() {
            if prefix.is_empty() {
                default_in_scope = !uri.is_empty();
            }
            let used = if prefix.is_empty() { unprefixed } else { raw.contains(&format!("{prefix}:")) };
            if !used || uri.is_empty() || own.contains(&prefix) {
                continue;
            }
            let uri = quick_xml::escape::escape(uri);
            if prefix.is_empty() {
                declarations.push_str(&format!(" xmlns=\"{uri}\""));
            } else {
                declarations.push_str(&format!(" xmlns:{prefix}=\"{uri}\""));
            }
        }
        if !default_in_scope && unprefixed && !own.contains(&"") {
            declarations.insert_str(0, " xmlns=\"\"");
        }
        let name_end = raw.find(|c: char| c.is_whitespace() || c == '/' || c == '>').unwrap_or(raw.len());
        format!("{}{declarations}{}", &raw[..name_end], &raw[name_end..])
    }

    /// 1-based line and column of the element's start tag.
    pub fn position(&self) -> (u32, u32) {
        self.document.position_of(self.element().start)
    }

    /// An error located at this element.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        let (line, column) = self.position();
        DecodeError::new(kind, self.local_name(), line, column)
    }

    /// An error saying this element's text is not a valid `expected`.
    pub fn invalid_value(&self, expected: &'static str, found: &str) -> DecodeError {
        const SHOWN: usize = 64;
        let found = match found.char_indices().nth(SHOWN) {
            Some((end, _)) => format!("{}…", &found[..end]),
            None => found.to_owned(),
        };
        self.error(DecodeErrorKind::InvalidValue { expected, found })
    }

    /// An error saying the required child `name` is missing.
    pub fn missing(&self, name: &str) -> DecodeError {
        self.error(DecodeErrorKind::MissingElement(name.to_owned()))
    }
}

impl std::fmt::Debug for XmlElement<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "XmlElement({})", self.expanded_name())
    }
}
