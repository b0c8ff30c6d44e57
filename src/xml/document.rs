//! A parsed document: one pass of quick-xml events over the input builds a
//! compact index of its elements (namespaces resolved, structural limits
//! checked as it goes); names, text and values stay in the input and are
//! read from it on demand (see [`super::reader`]).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};

use super::error::{DecodeError, DecodeErrorKind};

/// Limits applied to untrusted input while it is read. Real replies are a few
/// levels deep with a handful of attributes.
pub(super) const MAX_DEPTH: usize = 128;
pub(super) const MAX_ATTRIBUTES_PER_ELEMENT: usize = 64;
pub(super) const MAX_NAMESPACE_DECLARATIONS: usize = 256;

/// How many bytes of the byte limit each element, attribute or text node may
/// take. The index costs at most 32 bytes an element and 16 an attribute (text
/// costs nothing: it is read from the input), and the typed values at most
/// about as much again, so decoding a reply costs a small multiple of the
/// limit whatever its shape.
pub(super) const BYTES_PER_NODE: usize = 16;
/// The byte limit assumed when none is given (the client's default reply limit).
pub(crate) const DEFAULT_BYTE_LIMIT: usize = 32 * 1024 * 1024;
/// The smallest node budget, so that a tight byte limit still reads small documents.
pub(super) const MIN_NODES: usize = 4096;

/// `"xml"`, bound without a declaration.
pub(super) const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";
/// `"xmlns"`, reserved.
pub(super) const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// No element, attribute or declaration: the end of a chain.
pub(super) const NONE: u32 = u32::MAX;

/// One element: offsets into the input, and links to what it is related to;
/// 24 bytes, since a reply may hold a million of them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Element {
    /// Offset of the `<` of the start tag.
    pub start: u32,
    /// Offset just after the start tag's `>`.
    pub content_start: u32,
    /// Offset of the end tag's `<` (`content_start` for an empty element).
    pub content_end: u32,
    /// The next sibling element (`NONE`: the last one). Children follow their
    /// parent directly, so the first child, if any, is the next element.
    pub next_sibling: u32,
    /// Index of the namespace URI in `XmlDocument::uris` (0: no namespace).
    pub namespace: u16,
    /// The innermost namespace declaration in scope (`NO_SCOPE`: none).
    pub scope: u16,
    /// Length of the qualified name, and of its prefix (0 for none).
    pub name_len: u16,
    pub prefix_len: u8,
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Element>() == 24);

/// `Element::scope` when no declaration is in scope.
const NO_SCOPE: u16 = u16::MAX;

const HAS_CHILDREN: u8 = 1;
/// Written as an empty-element tag (`<a/>`).
const EMPTY: u8 = 2;
const HAS_ATTRIBUTES: u8 = 4;

impl Element {
    pub fn has_children(&self) -> bool {
        self.flags & HAS_CHILDREN != 0
    }

    /// Written as an empty-element tag (`<a/>`).
    pub fn is_empty_tag(&self) -> bool {
        self.flags & EMPTY != 0
    }

    pub fn has_attributes(&self) -> bool {
        self.flags & HAS_ATTRIBUTES != 0
    }
}

/// One attribute (namespace declarations are not attributes).
#[derive(Debug, Clone, Copy)]
pub(super) struct Attribute {
    /// The element it is on (attributes are kept in document order).
    pub element: u32,
    /// Index of the namespace URI in `XmlDocument::uris` (0: none).
    pub namespace: u32,
    pub local_start: u32,
    pub local_len: u32,
    /// The value: an offset into the input when it holds no reference, else
    /// (with `unescaped`) an index into `XmlDocument::values`.
    pub value: u32,
    pub value_len: u32,
    pub unescaped: bool,
}

/// One namespace declaration in scope.
#[derive(Debug, Clone, Copy)]
pub(super) struct Declaration {
    /// The prefix's offset and length in the input (length 0: the default namespace).
    pub prefix_start: u32,
    pub prefix_len: u32,
    /// Index into `XmlDocument::uris`.
    pub uri: u32,
    /// The declaration in scope around this one's element (`NONE`: none).
    pub parent: u32,
}

/// A parsed XML document.
pub struct XmlDocument<'input> {
    pub(super) text: &'input str,
    pub(super) elements: Vec<Element>,
    pub(super) attributes: Vec<Attribute>,
    pub(super) declarations: Vec<Declaration>,
    /// Namespace URIs; 0 is "no namespace", 1 the `xml` namespace.
    pub(super) uris: Vec<Cow<'input, str>>,
    /// Attribute values that held character or entity references, unescaped.
    pub(super) values: Vec<Box<str>>,
    /// For SOAP-encoded multi-reference values.
    pub(super) references: References,
}

/// The `id`s of a document, indexed the first time an `href` is followed, and
/// what following references may still cost.
#[derive(Default)]
pub(super) struct References {
    /// The elements with an `id` attribute, sorted by it.
    pub ids: std::cell::OnceCell<Vec<u32>>,
    /// Elements that following references may still visit (set at the first one).
    pub budget: std::cell::Cell<Option<usize>>,
}

impl<'input> XmlDocument<'input> {
    /// Parses `text` (see [`XmlDocument::parse_within`]) within the default byte limit.
    pub fn parse(text: &'input str) -> Result<Self, DecodeError> {
        Self::parse_within(text, DEFAULT_BYTE_LIMIT)
    }

    /// Parses `text`, which came from a source allowed `byte_limit` bytes: its
    /// elements, attributes and text nodes are bounded by that limit (see
    /// `BYTES_PER_NODE`). DTDs are refused: SOAP 1.1 and 1.2 forbid them, and
    /// they are the usual vehicle for entity-expansion attacks.
    pub fn parse_within(text: &'input str, byte_limit: usize) -> Result<Self, DecodeError> {
        let max_nodes = (byte_limit / BYTES_PER_NODE).max(MIN_NODES);
        if u32::try_from(text.len()).is_err() {
            return Err(DecodeError::new(
                DecodeErrorKind::LimitExceeded("a document of 4 GiB or more".into()),
                "",
                1,
                1,
            ));
        }
        Builder::new(text, text, max_nodes).run()
    }

    /// The element of `text` from offset `start` to `end` (its start tag's
    /// `<` to just after its end), read as a document of its own in the scope
    /// of the declarations it inherits (outermost first). Offsets and
    /// positions stay those of `text`.
    pub(super) fn parse_fragment(
        text: &'input str,
        start: u32,
        end: u32,
        inherited: Vec<InheritedDeclaration<'input>>,
        max_nodes: usize,
    ) -> Result<Self, DecodeError> {
        let fragment = text.get(start as usize..end as usize).unwrap_or("");
        let mut builder = Builder::new(text, fragment, max_nodes);
        for declaration in inherited {
            let uri = u32::try_from(builder.document.uris.len()).unwrap_or(NONE);
            builder.document.uris.push(declaration.uri);
            builder.document.declarations.push(Declaration {
                prefix_start: declaration.prefix_start,
                prefix_len: declaration.prefix_len,
                uri,
                parent: builder.initial_scope,
            });
            builder.initial_scope = u32::try_from(builder.document.declarations.len() - 1).unwrap_or(NONE);
        }
        builder.run_at(start)
    }

    /// The document element.
    pub fn root(&self) -> super::XmlElement<'_, 'input> {
        super::XmlElement::new(self, 0)
    }

    /// 1-based line and column (in characters) of a byte offset of the input.
    pub(super) fn position_of(&self, offset: u32) -> (u32, u32) {
        position_in(self.text, offset as usize)
    }
}

pub(super) fn position_in(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.as_bytes().get(..offset).unwrap_or_default();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = text.get(line_start..offset).map_or(offset - line_start, |line| line.chars().count()) + 1;
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (clamp(line), clamp(column))
}

/// The state of the one pass.
struct Builder<'input> {
    text: &'input str,
    reader: quick_xml::Reader<&'input [u8]>,
    document: XmlDocument<'input>,
    /// The open elements, innermost last.
    open: Vec<u32>,
    /// The last child seen of each open element (`NONE`: none yet), parallel to `open`.
    last_child: Vec<u32>,
    max_nodes: usize,
    nodes: usize,
    root_closed: bool,
    /// The declarations in scope around the document element (`NONE`: none).
    initial_scope: u32,
}

/// A namespace declaration a fragment inherits from the elements around it.
pub(super) struct InheritedDeclaration<'input> {
    /// The prefix's offset and length in the input (length 0: the default namespace).
    pub prefix_start: u32,
    pub prefix_len: u32,
    pub uri: Cow<'input, str>,
}

impl<'input> Builder<'input> {
    /// A pass over `input`, which is `text` or a part of it.
    fn new(text: &'input str, input: &'input str, max_nodes: usize) -> Self {
        let mut reader = quick_xml::Reader::from_str(input);
        reader.config_mut().check_end_names = true;
        // Start and empty-element tags, counted at memchr speed: the index is
        // allocated once, at its final size, and never beyond the node budget.
        let tags = memchr::memchr_iter(b'<', input.as_bytes())
            .filter(|&at| !matches!(input.as_bytes().get(at + 1), Some(b'/' | b'!' | b'?')))
            .count();
        let guess = tags.min(max_nodes);
        Builder {
            text,
            reader,
            document: XmlDocument {
                text,
                elements: Vec::with_capacity(guess),
                attributes: Vec::new(),
                declarations: Vec::new(),
                uris: vec![Cow::Borrowed(""), Cow::Borrowed(XML_NAMESPACE)],
                values: Vec::new(),
                references: References::default(),
            },
            open: Vec::new(),
            last_child: Vec::new(),
            max_nodes,
            nodes: 0,
            root_closed: false,
            initial_scope: NONE,
        }
    }

    fn offset(&self) -> u32 {
        // The input is shorter than 4 GiB (checked before the pass).
        u32::try_from(self.reader.buffer_position()).unwrap_or(u32::MAX)
    }

    fn run(mut self) -> Result<XmlDocument<'input>, DecodeError> {
        if let Some(rest) = self.text.strip_prefix('\u{feff}') {
            self.reader = quick_xml::Reader::from_str(rest);
            self.reader.config_mut().check_end_names = true;
            // Offsets stay those of the full input.
            return self.run_at('\u{feff}'.len_utf8() as u32);
        }
        self.run_at(0)
    }

    fn run_at(mut self, base: u32) -> Result<XmlDocument<'input>, DecodeError> {
        loop {
            let before = base + self.offset();
            let event = self.reader.read_event().map_err(|error| {
                let at = base + u32::try_from(self.reader.error_position()).unwrap_or(u32::MAX);
                self.malformed(at, error.to_string())
            })?;
            let after = base + self.offset();
            match event {
                Event::Start(start) => self.open_element(&start, before, after, false)?,
                Event::Empty(start) => self.open_element(&start, before, after, true)?,
                Event::End(_) => self.close_element(before),
                Event::Text(text) => {
                    if self.open.is_empty() {
                        if !text.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                            return Err(self.malformed(before, "text outside the document element".into()));
                        }
                    } else {
                        self.count_node(before)?;
                    }
                }
                Event::CData(_) => {
                    if self.open.is_empty() {
                        return Err(self.malformed(before, "CDATA outside the document element".into()));
                    }
                    self.count_node(before)?;
                }
                Event::Comment(_) | Event::PI(_) => self.count_node(before)?,
                Event::Decl(_) => {
                    if before != base || !self.document.elements.is_empty() {
                        return Err(self.malformed(before, "an XML declaration that is not at the start".into()));
                    }
                }
                Event::DocType(_) => return Err(self.malformed(before, "a DTD (SOAP forbids them)".into())),
                Event::Eof => break,
            }
        }
        if !self.open.is_empty() {
            let at = base + self.offset();
            return Err(self.malformed(at, "the document ends inside an element".into()));
        }
        if self.document.elements.is_empty() {
            return Err(self.malformed(0, "no document element".into()));
        }
        Ok(self.document)
    }

    fn malformed(&self, offset: u32, reason: String) -> DecodeError {
        let (line, column) = position_in(self.text, offset as usize);
        DecodeError::new(DecodeErrorKind::Malformed(reason), "", line, column)
    }

    fn refuse(&self, offset: u32, limit: String) -> DecodeError {
        let (line, column) = position_in(self.text, offset as usize);
        DecodeError::new(DecodeErrorKind::LimitExceeded(limit), "", line, column)
    }

    fn count_node(&mut self, at: u32) -> Result<(), DecodeError> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(self.refuse(at, self.too_many()));
        }
        Ok(())
    }

    fn too_many(&self) -> String {
        format!(
            "more than {} elements, attributes and text nodes (a reply that dense would not decode within memory bounds)",
            self.max_nodes
        )
    }

    /// The offset of `part` (a slice of the input) in the input.
    fn offset_of(&self, part: &[u8]) -> u32 {
        let offset = (part.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        u32::try_from(offset).unwrap_or(u32::MAX)
    }

    fn open_element(
        &mut self,
        start: &BytesStart<'_>,
        before: u32,
        after: u32,
        empty: bool,
    ) -> Result<(), DecodeError> {
        if self.root_closed {
            return Err(self.malformed(before, "a second document element".into()));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(self.refuse(before, format!("elements nested more than {MAX_DEPTH} deep")));
        }
        let index = u32::try_from(self.document.elements.len()).unwrap_or(NONE);
        let parent_scope = self.open.last().map_or(self.initial_scope, |&parent| u32::from(self.element(parent).scope));
        let qname = start.name().into_inner();
        let (Ok(name_len), Ok(prefix_len)) =
            (u16::try_from(qname.len()), u8::try_from(qname.iter().position(|&b| b == b':').unwrap_or(0)))
        else {
            return Err(
                self.refuse(before, "an element name longer than 65,535 bytes, or a prefix longer than 255".into())
            );
        };

        // Declarations first: they apply to the element's own name and attributes.
        let mut scope = parent_scope;
        let mut attribute_total = 0usize;
        // Most elements of a reply have no attributes at all.
        let has_attributes = start.attributes_raw().iter().any(|b| !b.is_ascii_whitespace());
        for attribute in start.attributes().take(if has_attributes { usize::MAX } else { 0 }) {
            let attribute = attribute.map_err(|error| self.malformed(before, error.to_string()))?;
            attribute_total += 1;
            let key = attribute.key.into_inner();
            let prefix = match key {
                b"xmlns" => &key[..0],
                _ => match key.strip_prefix(b"xmlns:") {
                    Some(prefix) => prefix,
                    None => continue,
                },
            };
            if self.document.declarations.len() >= MAX_NAMESPACE_DECLARATIONS {
                return Err(
                    self.refuse(before, format!("more than {MAX_NAMESPACE_DECLARATIONS} namespace declarations"))
                );
            }
            let uri = self.unescape(&attribute.value, before)?;
            if !prefix.is_empty() && uri.is_empty() {
                return Err(self.malformed(before, "a namespace prefix bound to no namespace".into()));
            }
            if uri == XMLNS_NAMESPACE || (uri == XML_NAMESPACE) != (prefix == b"xml") || prefix == b"xmlns" {
                return Err(self.malformed(before, "a reserved namespace prefix or URI misused".into()));
            }
            let uri_index = u32::try_from(self.document.uris.len()).unwrap_or(NONE);
            self.document.uris.push(uri);
            let prefix_start = self.offset_of(prefix);
            let declaration =
                Declaration { prefix_start, prefix_len: prefix.len() as u32, uri: uri_index, parent: scope };
            scope = u32::try_from(self.document.declarations.len()).unwrap_or(NONE);
            self.document.declarations.push(declaration);
        }
        if attribute_total > MAX_ATTRIBUTES_PER_ELEMENT {
            return Err(
                self.refuse(before, format!("an element has more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes"))
            );
        }
        self.nodes += 1 + attribute_total;
        if self.nodes > self.max_nodes {
            return Err(self.refuse(before, self.too_many()));
        }

        let prefix = &qname[..usize::from(prefix_len)];
        let namespace = self.resolve(scope, prefix, true).ok_or_else(|| self.unbound(before, prefix))?;
        let attributes_before = self.document.attributes.len();
        for attribute in start.attributes().flatten().take(if has_attributes { usize::MAX } else { 0 }) {
            let key = attribute.key.into_inner();
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                continue;
            }
            let (prefix, local) = match key.iter().position(|&b| b == b':') {
                Some(colon) => (&key[..colon], &key[colon + 1..]),
                None => (&key[..0], key),
            };
            let namespace = self.resolve(scope, prefix, false).ok_or_else(|| self.unbound(before, prefix))?;
            let (value, value_len, unescaped) = match &attribute.value {
                Cow::Borrowed(raw) if !needs_normalizing(raw) => (self.offset_of(raw), raw.len() as u32, false),
                raw => {
                    let value = self.unescape(raw, before)?;
                    let index = u32::try_from(self.document.values.len()).unwrap_or(NONE);
                    self.document.values.push(value.into_owned().into_boxed_str());
                    (index, 0, true)
                }
            };
            let local_start = self.offset_of(local);
            self.document.attributes.push(Attribute {
                element: index,
                namespace,
                local_start,
                local_len: local.len() as u32,
                value,
                value_len,
                unescaped,
            });
        }

        let mut flags = if empty { EMPTY } else { 0 };
        if self.document.attributes.len() > attributes_before {
            flags |= HAS_ATTRIBUTES;
        }
        // At most 2 + MAX_NAMESPACE_DECLARATIONS URIs and MAX_NAMESPACE_DECLARATIONS declarations.
        let element = Element {
            start: before,
            content_start: after,
            content_end: after,
            next_sibling: NONE,
            namespace: u16::try_from(namespace).unwrap_or(0),
            scope: u16::try_from(scope).unwrap_or(NO_SCOPE),
            name_len,
            prefix_len,
            flags,
        };
        if let (Some(&parent), Some(last)) = (self.open.last(), self.last_child.last_mut()) {
            match *last {
                NONE => self.document.elements[parent as usize].flags |= HAS_CHILDREN,
                previous => self.document.elements[previous as usize].next_sibling = index,
            }
            *last = index;
        }
        self.document.elements.push(element);
        if empty {
            if self.open.is_empty() {
                self.root_closed = true;
            }
        } else {
            self.open.push(index);
            self.last_child.push(NONE);
        }
        Ok(())
    }

    fn close_element(&mut self, before: u32) {
        // quick-xml has checked that the end tag matches an open element.
        if let Some(index) = self.open.pop() {
            self.last_child.pop();
            self.document.elements[index as usize].content_end = before;
        }
        if self.open.is_empty() {
            self.root_closed = true;
        }
    }

    fn element(&self, index: u32) -> &Element {
        &self.document.elements[index as usize]
    }

    /// The index of the URI bound to `prefix` in `scope` (an unprefixed
    /// attribute has no namespace; an unprefixed element the default one).
    fn resolve(&self, scope: u32, prefix: &[u8], default_applies: bool) -> Option<u32> {
        if prefix.is_empty() && !default_applies {
            return Some(0);
        }
        if prefix == b"xml" {
            return Some(1);
        }
        let found = lookup(&self.document, scope, prefix);
        match found {
            Some(uri) => Some(uri),
            None if prefix.is_empty() => Some(0),
            None => None,
        }
    }

    fn unbound(&self, at: u32, prefix: &[u8]) -> DecodeError {
        self.malformed(at, format!("the namespace prefix \"{}\" is not declared", String::from_utf8_lossy(prefix)))
    }

    fn unescape(&self, raw: &[u8], at: u32) -> Result<Cow<'input, str>, DecodeError> {
        // Values are slices of the input (quick-xml reads it in place).
        let start = self.offset_of(raw) as usize;
        let value = match self.text.get(start..start + raw.len()) {
            Some(value) if value.as_ptr() == raw.as_ptr() => Some(Cow::Borrowed(value)),
            _ => std::str::from_utf8(raw).ok().map(|value| Cow::Owned(value.to_owned())),
        };
        let value = value.ok_or_else(|| self.malformed(at, "an attribute value that is not UTF-8".into()))?;
        if !needs_normalizing(raw) {
            return Ok(value);
        }
        // Attribute-value normalization (XML 1.0 §3.3.3): a literal line end
        // or tab is a space; one written as a character reference stays.
        let value = value.replace("\r\n", " ").replace(['\r', '\n', '\t'], " ");
        quick_xml::escape::unescape(&value)
            .map(|unescaped| Cow::Owned(unescaped.into_owned()))
            .map_err(|error| self.malformed(at, error.to_string()))
    }
}

/// True when an attribute value holds a reference, a line end or a tab: it is
/// not its own value as written.
pub(super) fn needs_normalizing(raw: &[u8]) -> bool {
    raw.iter().any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
}

/// The URI index bound to `prefix` in the declarations chain from `scope`.
pub(super) fn lookup(document: &XmlDocument<'_>, mut scope: u32, prefix: &[u8]) -> Option<u32> {
    while let Some(declaration) = document.declarations.get(scope as usize) {
        let start = declaration.prefix_start as usize;
        let declared = document.text.as_bytes().get(start..start + declaration.prefix_len as usize);
        if declared == Some(prefix) {
            // An undeclared default namespace (`xmlns=""`) is no namespace.
            return Some(declaration.uri);
        }
        scope = declaration.parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn malformed(text: &str) -> (String, u32, u32) {
        match XmlDocument::parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(error) => match error.kind() {
                DecodeErrorKind::Malformed(reason) => (reason.clone(), error.line(), error.column()),
                other => panic!("{text}: {other:?}"),
            },
        }
    }

    #[test]
    fn names_namespaces_and_children_are_indexed() {
        let text = r#"<?xml version="1.0"?>
<s:Envelope xmlns:s="urn:s" xmlns="urn:d"><s:Body><a x="1" s:y="2"/><b>t</b><c xmlns=""><d/></c></s:Body></s:Envelope>"#;
        let document = XmlDocument::parse(text).expect("parses");
        let root = document.root();
        assert_eq!((root.namespace(), root.local_name()), ("urn:s", "Envelope"));
        let body = root.first_child().expect("body");
        let names: Vec<_> = body.children().map(|child| child.expanded_name()).collect();
        assert_eq!(names, ["{urn:d}a", "{urn:d}b", "{}c"]);
        let a = body.first_child().expect("a");
        assert_eq!(a.attribute("", "x"), Some("1"));
        assert_eq!(a.attribute("urn:s", "y"), Some("2"));
        assert_eq!(a.attribute("", "y"), None);
        assert_eq!(a.raw_markup(), r#"<a x="1" s:y="2"/>"#);
        let c = body.children().nth(2).expect("c");
        assert_eq!(c.first_child().map(|d| d.expanded_name()), Some("{}d".to_owned()));
        assert_eq!(c.raw_markup(), r#"<c xmlns=""><d/></c>"#);
        assert_eq!(c.lookup_namespace(""), None);
        assert_eq!(c.lookup_namespace("s"), Some("urn:s"));
        assert_eq!(body.children().nth(1).map(|b| b.text().map(|text| text.into_owned())), Some(Ok("t".to_owned())));
        assert_eq!(a.position(), (2, 51));
    }

    #[test]
    fn text_joins_references_cdata_and_pieces_around_comments() {
        let document =
            XmlDocument::parse("<a><b>x &amp; &#1587;</b><c>1<!-- no -->2<![CDATA[<3>]]></c><d/><e></e></a>")
                .expect("parses");
        let texts: Vec<_> =
            document.root().children().map(|child| child.text().map(|text| text.into_owned())).collect();
        assert_eq!(texts, [Ok("x & س".to_owned()), Ok("12<3>".to_owned()), Ok(String::new()), Ok(String::new())]);
        let bad = XmlDocument::parse("<a>&bogus;</a>").expect("references are read on demand");
        assert!(matches!(bad.root().text().map_err(|error| error.kind().clone()), Err(DecodeErrorKind::Malformed(_))));
        let nested = XmlDocument::parse("<a><b/></a>").expect("parses");
        assert!(matches!(
            nested.root().text().map_err(|error| error.kind().clone()),
            Err(DecodeErrorKind::UnexpectedChild(name)) if name == "b"
        ));
    }

    #[test]
    fn attribute_values_with_references_are_unescaped() {
        let document = XmlDocument::parse(r#"<a v="1 &lt; 2" xmlns:p="urn:&amp;" p:w="&#x41;"/>"#).expect("parses");
        let root = document.root();
        assert_eq!(root.attribute("", "v"), Some("1 < 2"));
        assert_eq!(root.attribute("urn:&", "w"), Some("A"));
        assert_eq!(root.attributes().count(), 2, "declarations are not attributes");
    }

    #[test]
    fn malformed_documents_are_refused_with_their_position() {
        for (text, expected) in [
            ("", "no document element"),
            ("<a>", "ends inside"),
            ("<a></b>", "expected"),
            ("<a/><b/>", "second document element"),
            ("x<a/>", "outside"),
            ("<a/>x", "outside"),
            ("<p:a/>", "\"p\" is not declared"),
            ("<a p:x='1'/>", "\"p\" is not declared"),
            ("<a x='1' x='2'/>", "uplicat"),
            ("<!DOCTYPE a><a/>", "DTD"),
            ("<a xmlns:p=''/>", "no namespace"),
            ("<a xmlns:xml='urn:x'/>", "reserved"),
            ("<a/><?xml version='1.0'?>", "declaration"),
        ] {
            let (reason, _, _) = malformed(text);
            assert!(reason.contains(expected), "{text}: {reason}");
        }
        assert_eq!(malformed("<a>\n  <b></c>\n</a>").1, 2);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let document = XmlDocument::parse("\u{feff}<?xml version='1.0'?><a>x</a>").expect("parses");
        assert_eq!(document.root().text().map(|text| text.into_owned()), Ok("x".to_owned()));
        assert_eq!(document.root().raw_markup(), "<a>x</a>");
    }

    #[test]
    fn structural_limits_are_refused_before_memory_is_spent() {
        let refused = |text: &str, limit: usize| match XmlDocument::parse_within(text, limit) {
            Err(error) => matches!(error.kind(), DecodeErrorKind::LimitExceeded(_)),
            Ok(_) => false,
        };
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(refused(&deep, DEFAULT_BYTE_LIMIT));
        let wide = format!(
            "<a {}/>",
            (0..=MAX_ATTRIBUTES_PER_ELEMENT).map(|i| format!("a{i}=''")).collect::<Vec<_>>().join(" ")
        );
        assert!(refused(&wide, DEFAULT_BYTE_LIMIT));
        let dense = format!("<a>{}</a>", "<b/>".repeat(MIN_NODES * 2));
        assert!(refused(&dense, 1024));
        assert!(!refused(&dense, DEFAULT_BYTE_LIMIT));
        let declarations = format!(
            "<a>{}</a>",
            (0..=MAX_NAMESPACE_DECLARATIONS).map(|i| format!("<b xmlns:p{i}='urn:x'/>")).collect::<String>()
        );
        assert!(refused(&declarations, DEFAULT_BYTE_LIMIT));
    }
}

/// The index against roxmltree, the tree parser it replaced: every document
/// roxmltree reads is read to the same elements, names, attributes and text.
#[cfg(test)]
pub(super) mod differential {
    use proptest::prelude::*;

    use super::XmlDocument;
    use crate::xml::XmlElement;

    /// A small random document: prefixes from a few, declared or not,
    /// attributes, references, CDATA and comments.
    pub(in crate::xml) fn element(depth: u32) -> BoxedStrategy<String> {
        let name = prop_oneof![Just("a"), Just("b"), Just("p:a"), Just("q:b"), Just("p:c")];
        let declaration = prop_oneof![
            Just(""),
            Just(r#" xmlns="urn:d""#),
            Just(r#" xmlns="""#),
            Just(r#" xmlns:p="urn:p""#),
            Just(r#" xmlns:q="urn:q&amp;""#),
            Just(r#" xmlns:p="urn:other""#),
        ];
        let attribute = prop_oneof![
            Just(""),
            Just(r#" x="1""#),
            Just(r#" p:x="&lt;2&gt;""#),
            Just(r#" y='3' q:y="&#x41;""#),
            Just(" z=\"a\r\nb\tc&#10;\"")
        ];
        let text = prop_oneof![
            Just(""),
            Just("t"),
            Just(" x &amp; y "),
            Just("&#1587;"),
            Just("<![CDATA[<c>]]>"),
            Just("1<!-- c -->2"),
            Just("&bad;"),
            Just("a\r\nb\rc\n&#13;"),
            Just("<![CDATA[x\r\ny]]>\t"),
        ];
        let leaf = (name.clone(), declaration.clone(), attribute.clone(), text)
            .prop_map(|(name, declaration, attribute, text)| format!("<{name}{declaration}{attribute}>{text}</{name}>"))
            .boxed();
        if depth == 0 {
            return leaf;
        }
        let parent = (name, declaration, attribute, proptest::collection::vec(element(depth - 1), 0..4)).prop_map(
            |(name, declaration, attribute, children)| {
                if children.is_empty() {
                    format!("<{name}{declaration}{attribute}/>")
                } else {
                    format!("<{name}{declaration}{attribute}>{}</{name}>", children.concat())
                }
            },
        );
        prop_oneof![leaf, parent].boxed()
    }

    fn same(ours: XmlElement<'_, '_>, theirs: roxmltree::Node<'_, '_>) -> Result<(), String> {
        let name = (theirs.tag_name().namespace().unwrap_or(""), theirs.tag_name().name());
        if (ours.namespace(), ours.local_name()) != name {
            return Err(format!("{} against {name:?}", ours.expanded_name()));
        }
        let mut attributes: Vec<_> = ours.attributes().collect();
        let mut expected: Vec<_> =
            theirs.attributes().map(|a| (a.namespace().unwrap_or(""), a.name(), a.value())).collect();
        attributes.sort();
        expected.sort();
        if attributes != expected {
            return Err(format!("attributes {attributes:?} against {expected:?}"));
        }
        let children: Vec<_> = theirs.children().filter(|node| node.is_element()).collect();
        if ours.children().count() != children.len() {
            return Err(format!("{} children against {}", ours.children().count(), children.len()));
        }
        if children.is_empty() {
            let text: String = theirs.children().filter_map(|node| node.text().filter(|_| node.is_text())).collect();
            if ours.text().ok().as_deref() != Some(text.as_str()) {
                return Err(format!("text {:?} against {text:?}", ours.text()));
            }
        }
        if ours.raw_markup() != &theirs.document().input_text()[theirs.range()] {
            return Err(format!("markup {:?}", ours.raw_markup()));
        }
        for (ours, theirs) in ours.children().zip(children) {
            same(ours, theirs)?;
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn documents_roxmltree_reads_are_read_alike(root in element(3), mangle in proptest::option::of((0usize..400, 0u8..128))) {
            let mut text = format!("<?xml version=\"1.0\"?>\n{root}");
            if let Some((at, byte)) = mangle {
                let at = at % text.len();
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) && byte.is_ascii() {
                    text.replace_range(at..at + 1, &char::from(byte).to_string());
                }
            }
            let theirs = roxmltree::Document::parse(&text);
            let ours = XmlDocument::parse(&text);
            if let Ok(theirs) = theirs {
                let ours = ours.map_err(|error| TestCaseError::fail(format!("{text}: refused: {error}")))?;
                same(ours.root(), theirs.root_element()).map_err(|why| TestCaseError::fail(format!("{text}: {why}")))?;
            }
        }
    }
}
