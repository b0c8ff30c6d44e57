//! A streaming reader: one pass of quick-xml events over the input, read by
//! generated code element by element (see [`XmlContent::read_stream`]), with
//! namespaces resolved and the structural limits checked as it goes, exactly
//! as [`XmlDocument`] checks them. Nothing is kept of an element once it is
//! read: a reply costs its typed values, not an index or a tree.
//!
//! [`XmlContent::read_stream`]: super::XmlContent::read_stream

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};

use super::document::{
    needs_normalizing, position_in, InheritedDeclaration, XmlDocument, BYTES_PER_NODE, MAX_ATTRIBUTES_PER_ELEMENT,
    MAX_DEPTH, MAX_NAMESPACE_DECLARATIONS, MIN_NODES, XMLNS_NAMESPACE, XML_NAMESPACE,
};
use super::error::{DecodeError, DecodeErrorKind};
use super::reader::normalize_line_ends;
use super::writer::XSI_NAMESPACE;
use super::XmlElement;

/// An element the cursor has opened: where it is in the input and what its
/// name resolved to. Valid while the element is open (its attributes are
/// resolved in the namespace scope of the moment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlStart {
    /// Offset of the `<` of the start tag.
    at: u32,
    /// Offset just after the start tag's `>`.
    tag_end: u32,
    /// Length of the qualified name, and of its prefix (0 for none).
    name_len: u32,
    prefix_len: u32,
    /// Index of the namespace URI in `XmlCursor::uris`.
    namespace: u32,
    /// How many elements are open with this one (the root is 1).
    depth: u32,
    /// How many namespace bindings are in scope at this element (its own included).
    scope: u32,
    has_attributes: bool,
    empty: bool,
}

/// One namespace declaration in scope.
#[derive(Debug, Clone, Copy)]
struct Binding {
    /// The prefix's offset and length in the input (length 0: the default namespace).
    prefix_start: u32,
    prefix_len: u32,
    /// Index into `XmlCursor::uris`.
    uri: u32,
}

/// One open element.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// `bindings.len()` before the element's own declarations.
    bindings_before: u32,
    /// Written as `<a/>`: closed by the cursor, with no end-tag event.
    empty: bool,
    tag_end: u32,
}

/// What the cursor has read ahead of the events it has returned.
#[derive(Debug, Clone, Copy)]
enum Pending<'input> {
    Nothing,
    /// The end of an element written as `<a/>`.
    EmptyEnd,
    /// The text of an element read whole (see `XmlCursor::leaf_ahead`), then its end.
    LeafText(&'input [u8], u32),
    /// The end tag of such an element, ending at the offset.
    LeafEnd(u32),
}

/// What one step of the cursor met.
enum Step<'input> {
    Open(XmlStart),
    Close,
    /// A text node (raw, as in the input) or a CDATA section (`true`).
    Text(&'input [u8], bool),
    Eof,
}

/// The streaming reader over one document.
pub struct XmlCursor<'input> {
    text: &'input str,
    reader: quick_xml::Reader<&'input [u8]>,
    /// Offset of the reader's input in `text` (past a byte order mark).
    base: u32,
    /// Namespace URIs; 0 is "no namespace", 1 the `xml` namespace. Grows with
    /// each declaration (at most `MAX_NAMESPACE_DECLARATIONS`).
    uris: Vec<Cow<'input, str>>,
    bindings: Vec<Binding>,
    /// The default namespace's URI index for all of `bindings`, once looked up
    /// (cleared when they change): the leaves of a list all ask for it.
    default_uri: Option<u32>,
    open: Vec<Open>,
    /// Events already read from the input and not yet returned.
    pending: Pending<'input>,
    /// The reader's last event was a text: it has read the `<` of the markup after it.
    after_text: bool,
    /// A child put back (see [`XmlCursor::put_back`]).
    put_back: Option<XmlStart>,
    /// Offset just after the last element closed.
    last_end: u32,
    declarations: usize,
    max_nodes: usize,
    nodes: usize,
    root: Option<XmlStart>,
    root_closed: bool,
    /// The input broke a rule of XML or a structural limit: the cursor cannot go on.
    failed: bool,
}

impl<'input> XmlCursor<'input> {
    /// Opens `text` (see [`XmlCursor::new_within`]) within the default byte limit.
    pub fn new(text: &'input str) -> Result<Self, DecodeError> {
        Self::new_within(text, super::DEFAULT_BYTE_LIMIT)
    }

    /// Opens `text`, which came from a source allowed `byte_limit` bytes, and
    /// reads up to its document element (see [`XmlCursor::root`]). The limits
    /// are those of [`XmlDocument::parse_within`].
    pub fn new_within(text: &'input str, byte_limit: usize) -> Result<Self, DecodeError> {
        if u32::try_from(text.len()).is_err() {
            return Err(DecodeError::new(
                DecodeErrorKind::LimitExceeded("a document of 4 GiB or more".into()),
                "",
                1,
                1,
            ));
        }
        let (rest, base) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (rest, '\u{feff}'.len_utf8() as u32),
            None => (text, 0),
        };
        let mut reader = quick_xml::Reader::from_str(rest);
        reader.config_mut().check_end_names = true;
        let mut cursor = XmlCursor {
            text,
            reader,
            base,
            uris: vec![Cow::Borrowed(""), Cow::Borrowed(XML_NAMESPACE)],
            bindings: Vec::new(),
            default_uri: None,
            open: Vec::with_capacity(16),
            pending: Pending::Nothing,
            after_text: false,
            put_back: None,
            last_end: 0,
            declarations: 0,
            max_nodes: (byte_limit / BYTES_PER_NODE).max(MIN_NODES),
            nodes: 0,
            root: None,
            root_closed: false,
            failed: false,
        };
        match cursor.step()? {
            Step::Open(root) => {
                cursor.root = Some(root);
                Ok(cursor)
            }
            _ => {
                // Text and CDATA outside the root are refused by `step`.
                cursor.failed = true;
                Err(cursor.malformed(0, "no document element".into()))
            }
        }
    }

    /// The document element.
    pub fn root(&self) -> XmlStart {
        // Set by `new_within`, which fails without one.
        self.root.unwrap_or(XmlStart {
            at: 0,
            tag_end: 0,
            name_len: 0,
            prefix_len: 0,
            namespace: 0,
            depth: 1,
            scope: 0,
            has_attributes: false,
            empty: true,
        })
    }

    /// True once the input broke a rule of XML or a structural limit: the
    /// error returned then is the document's, not a value's.
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn offset(&self) -> u32 {
        // The input is shorter than 4 GiB (checked at the start).
        self.base + u32::try_from(self.reader.buffer_position()).unwrap_or(u32::MAX)
    }

    fn input(&self, start: u32, len: u32) -> &'input str {
        let start = start as usize;
        self.text.get(start..start + len as usize).unwrap_or("")
    }

    fn step(&mut self) -> Result<Step<'input>, DecodeError> {
        let step = self.step_inner();
        if step.is_err() {
            self.failed = true;
        }
        step
    }

    fn step_inner(&mut self) -> Result<Step<'input>, DecodeError> {
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Nothing => {}
            Pending::EmptyEnd => {
                self.close();
                return Ok(Step::Close);
            }
            Pending::LeafText(text, end) => {
                self.pending = Pending::LeafEnd(end);
                return Ok(Step::Text(text, false));
            }
            Pending::LeafEnd(end) => {
                self.close();
                self.last_end = end;
                return Ok(Step::Close);
            }
        }
        loop {
            let before = self.offset();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let at = self.base + u32::try_from(self.reader.error_position()).unwrap_or(u32::MAX);
                    return Err(self.malformed(at, error.to_string()));
                }
            };
            let after = self.offset();
            self.after_text = matches!(event, Event::Text(_));
            match event {
                Event::Start(start) => return self.open_element(&start, before, after, false).map(Step::Open),
                Event::Empty(start) => {
                    let start = self.open_element(&start, before, after, true)?;
                    self.pending = Pending::EmptyEnd;
                    return Ok(Step::Open(start));
                }
                Event::End(_) => {
                    self.close();
                    self.last_end = after;
                    return Ok(Step::Close);
                }
                Event::Text(text) => {
                    if self.open.is_empty() {
                        if !text.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                            return Err(self.malformed(before, "text outside the document element".into()));
                        }
                    } else {
                        self.count_node(before)?;
                        if let Cow::Borrowed(raw) = text.into_inner() {
                            return Ok(Step::Text(raw, false));
                        }
                    }
                }
                Event::CData(text) => {
                    if self.open.is_empty() {
                        return Err(self.malformed(before, "CDATA outside the document element".into()));
                    }
                    self.count_node(before)?;
                    if let Cow::Borrowed(raw) = text.into_inner() {
                        return Ok(Step::Text(raw, true));
                    }
                }
                Event::Comment(_) | Event::PI(_) => self.count_node(before)?,
                Event::Decl(_) => {
                    if before != self.base || self.root.is_some() {
                        return Err(self.malformed(before, "an XML declaration that is not at the start".into()));
                    }
                }
                Event::DocType(_) => return Err(self.malformed(before, "a DTD (SOAP forbids them)".into())),
                Event::Eof => {
                    if !self.open.is_empty() {
                        let at = self.offset();
                        return Err(self.malformed(at, "the document ends inside an element".into()));
                    }
                    return Ok(Step::Eof);
                }
            }
        }
    }

    fn close(&mut self) {
        // quick-xml has checked that the end tag matches an open element.
        if let Some(open) = self.open.pop() {
            if self.bindings.len() != open.bindings_before as usize {
                self.bindings.truncate(open.bindings_before as usize);
                self.default_uri = None;
            }
            if open.empty {
                self.last_end = open.tag_end;
            }
        }
        if self.open.is_empty() {
            self.root_closed = true;
        }
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

    /// `part`, a slice of the input, as the input's text.
    fn str_of(&self, part: &[u8]) -> &'input str {
        let start = self.offset_of(part) as usize;
        self.text.get(start..start + part.len()).unwrap_or_default()
    }

    /// The offset of `part` (a slice of the input) in the input.
    fn offset_of(&self, part: &[u8]) -> u32 {
        let offset = (part.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        u32::try_from(offset).unwrap_or(u32::MAX)
    }

    /// The same checks, in the same order, as `XmlDocument`'s pass.
    fn open_element(
        &mut self,
        start: &BytesStart<'_>,
        before: u32,
        after: u32,
        empty: bool,
    ) -> Result<XmlStart, DecodeError> {
        if self.root_closed {
            return Err(self.malformed(before, "a second document element".into()));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(self.refuse(before, format!("elements nested more than {MAX_DEPTH} deep")));
        }
        let qname = start.name().into_inner();
        let prefix_len = qname.iter().position(|&b| b == b':').unwrap_or(0);
        if u16::try_from(qname.len()).is_err() || u8::try_from(prefix_len).is_err() {
            return Err(
                self.refuse(before, "an element name longer than 65,535 bytes, or a prefix longer than 255".into())
            );
        }
        let bindings_before = self.bindings.len();
        // Most elements of a reply have no attributes at all.
        let has_attributes = start.attributes_raw().iter().any(|b| !b.is_ascii_whitespace());
        let mut attribute_total = 0usize;
        // Attributes other than namespace declarations: the envelope's usually has none.
        let mut plain_attributes = false;
        if has_attributes {
            // Declarations first: they apply to the element's own name and attributes.
            for attribute in start.attributes() {
                let attribute = attribute.map_err(|error| self.malformed(before, error.to_string()))?;
                attribute_total += 1;
                let key = attribute.key.into_inner();
                let prefix = match key {
                    b"xmlns" => &key[..0],
                    _ => match key.strip_prefix(b"xmlns:") {
                        Some(prefix) => prefix,
                        None => {
                            plain_attributes = true;
                            continue;
                        }
                    },
                };
                if self.declarations >= MAX_NAMESPACE_DECLARATIONS {
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
                self.declarations += 1;
                let uri_index = self.uris.len() as u32;
                self.uris.push(uri);
                let prefix_start = self.offset_of(prefix);
                self.bindings.push(Binding { prefix_start, prefix_len: prefix.len() as u32, uri: uri_index });
                self.default_uri = None;
            }
            if attribute_total > MAX_ATTRIBUTES_PER_ELEMENT {
                return Err(
                    self.refuse(before, format!("an element has more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes"))
                );
            }
        }
        self.nodes += 1 + attribute_total;
        if self.nodes > self.max_nodes {
            return Err(self.refuse(before, self.too_many()));
        }
        let prefix = &qname[..prefix_len];
        let namespace = self.resolve(self.bindings.len(), prefix, true).ok_or_else(|| self.unbound(before, prefix))?;
        if plain_attributes {
            for attribute in start.attributes().flatten() {
                let key = attribute.key.into_inner();
                if key == b"xmlns" || key.starts_with(b"xmlns:") {
                    continue;
                }
                let prefix = match key.iter().position(|&b| b == b':') {
                    Some(colon) => &key[..colon],
                    None => &key[..0],
                };
                self.resolve(self.bindings.len(), prefix, false).ok_or_else(|| self.unbound(before, prefix))?;
                if needs_normalizing(&attribute.value) {
                    self.unescape(&attribute.value, before)?;
                }
            }
        }
        self.open.push(Open { bindings_before: bindings_before as u32, empty, tag_end: after });
        let element = XmlStart {
            at: before,
            tag_end: after,
            name_len: qname.len() as u32,
            prefix_len: prefix_len as u32,
            namespace,
            depth: self.open.len() as u32,
            scope: self.bindings.len() as u32,
            has_attributes,
            empty,
        };
        if self.root.is_none() {
            self.root = Some(element);
        }
        Ok(element)
    }

    /// The next child, when it is written `<name>text</name>` (no attributes,
    /// no markup in the text): read whole, rather than as three events, since
    /// most elements of a reply are such leaves. It is then returned as the
    /// reader would have: opened, its text, its end. Whatever else comes, and
    /// a leaf the reader would refuse or count past the limit, is left to the reader.
    fn leaf_ahead(&mut self) -> Option<XmlStart> {
        if self.after_text
            || !matches!(self.pending, Pending::Nothing)
            || self.open.len() >= MAX_DEPTH
            || self.nodes + 2 > self.max_nodes
        {
            return None;
        }
        let text: &'input str = self.text;
        let at = self.offset();
        let rest = text.as_bytes().get(at as usize..)?.strip_prefix(b"<")?;
        let name_len = rest.iter().position(|&b| !is_plain_name_byte(b))?;
        if name_len == 0 || name_len > usize::from(u8::MAX) || rest.get(name_len) != Some(&b'>') {
            return None;
        }
        let (qname, content) = (&rest[..name_len], &rest[name_len + 1..]);
        let text_len = text_before_end_tag(content, qname)?;
        let prefix_len = qname.iter().position(|&b| b == b':').unwrap_or(0);
        let namespace = match (prefix_len, self.default_uri) {
            (0, Some(uri)) => uri,
            (0, None) => {
                let uri = self.resolve(self.bindings.len(), b"", true)?;
                self.default_uri = Some(uri);
                uri
            }
            _ => self.resolve(self.bindings.len(), &qname[..prefix_len], true)?,
        };
        Some(self.take_leaf(at, name_len, prefix_len as u32, namespace, &content[..text_len]))
    }

    /// The next child after `previous`, a child just read to its end, when it
    /// is written as that one was, `<name>text</name>` with the same name (so in
    /// the same namespace), as most items of a list are: checked against
    /// `previous`'s name and read whole, skipping what [`XmlCursor::leaf_ahead`]
    /// works out. Anything else is left to [`XmlCursor::next_child`].
    pub(crate) fn next_like(&mut self, previous: XmlStart) -> Option<XmlStart> {
        let (at, name_len, text) = self.leaf_like(previous)?;
        Some(self.take_leaf(at, name_len, previous.prefix_len, previous.namespace, text))
    }

    /// [`XmlCursor::next_like`], read past its end at once: the leaf and its
    /// text (entities replaced, line ends normalized), nothing left open.
    pub(crate) fn next_leaf_like(
        &mut self,
        previous: XmlStart,
    ) -> Option<(XmlStart, Result<Cow<'input, str>, DecodeError>)> {
        let (at, name_len, text) = self.leaf_like(previous)?;
        let length = 1 + name_len + 1 + text.len() + name_len + 3;
        self.reader.stream().consume(length);
        self.nodes += 1 + usize::from(!text.is_empty());
        self.last_end = at + length as u32;
        let element = XmlStart { at, tag_end: at + name_len as u32 + 2, ..previous };
        let text = if text.is_empty() { Ok(Cow::Borrowed("")) } else { self.one_text(element, text) };
        Some((element, text))
    }

    /// Where the leaf [`XmlCursor::next_like`] reads starts, its name's length and its raw text.
    fn leaf_like(&self, previous: XmlStart) -> Option<(u32, usize, &'input [u8])> {
        if previous.has_attributes
            || previous.empty
            || self.put_back.is_some()
            || self.after_text
            || !matches!(self.pending, Pending::Nothing)
            || self.open.len() + 1 != previous.depth as usize
            || self.bindings.len() != previous.scope as usize
            || self.nodes + 2 > self.max_nodes
        {
            return None;
        }
        let text: &'input str = self.text;
        let bytes = text.as_bytes();
        let name_len = previous.name_len as usize;
        let qname = bytes.get(previous.at as usize + 1..previous.at as usize + 1 + name_len)?;
        // A name ending in `/` would make `<name>` an empty-element tag: left to the reader.
        if qname.last() == Some(&b'/') {
            return None;
        }
        let at = self.offset();
        let rest = bytes.get(at as usize..)?;
        let (start_tag, content) = rest.split_at_checked(name_len + 2)?;
        let (open, name, close) = (start_tag[0], &start_tag[1..name_len + 1], start_tag[name_len + 1]);
        if open != b'<' || close != b'>' || !same_name(name, qname) {
            return None;
        }
        let text_len = text_before_end_tag(content, qname)?;
        Some((at, name_len, &content[..text_len]))
    }

    /// Reads past the leaf at `at`, checked to be `<qname>text</qname>` with a
    /// name `name_len` long in `namespace`, and returns it as opened; its text
    /// and end come next, as the reader would give them.
    fn take_leaf(&mut self, at: u32, name_len: usize, prefix_len: u32, namespace: u32, text: &'input [u8]) -> XmlStart {
        let length = 1 + name_len + 1 + text.len() + name_len + 3;
        self.reader.stream().consume(length);
        let (tag_end, end) = (at + name_len as u32 + 2, at + length as u32);
        self.nodes += 1 + usize::from(!text.is_empty());
        self.open.push(Open { bindings_before: self.bindings.len() as u32, empty: false, tag_end });
        self.pending = match text.len() {
            0 => Pending::LeafEnd(end),
            _ => Pending::LeafText(text, end),
        };
        XmlStart {
            at,
            tag_end,
            name_len: name_len as u32,
            prefix_len,
            namespace,
            depth: self.open.len() as u32,
            scope: self.bindings.len() as u32,
            has_attributes: false,
            empty: false,
        }
    }

    /// The index of the URI bound to `prefix` in the first `scope` bindings
    /// (an unprefixed attribute has no namespace; an unprefixed element the default one).
    fn resolve(&self, scope: usize, prefix: &[u8], default_applies: bool) -> Option<u32> {
        if prefix.is_empty() && !default_applies {
            return Some(0);
        }
        if prefix == b"xml" {
            return Some(1);
        }
        let bytes = self.text.as_bytes();
        let found = self.bindings.get(..scope).unwrap_or_default().iter().rev().find(|binding| {
            binding.prefix_len as usize == prefix.len() && {
                let start = binding.prefix_start as usize;
                bytes.get(start..start + prefix.len()) == Some(prefix)
            }
        });
        match found {
            Some(binding) => Some(binding.uri),
            None if prefix.is_empty() => Some(0),
            None => None,
        }
    }

    fn unbound(&self, at: u32, prefix: &[u8]) -> DecodeError {
        self.malformed(at, format!("the namespace prefix \"{}\" is not declared", String::from_utf8_lossy(prefix)))
    }

    /// An attribute value, unescaped and normalized as `XmlDocument` does.
    fn unescape(&self, raw: &[u8], at: u32) -> Result<Cow<'input, str>, DecodeError> {
        let start = self.offset_of(raw) as usize;
        let value = match self.text.get(start..start + raw.len()) {
            Some(value) if value.as_ptr() == raw.as_ptr() => Some(Cow::Borrowed(value)),
            _ => std::str::from_utf8(raw).ok().map(|value| Cow::Owned(value.to_owned())),
        };
        let value = value.ok_or_else(|| self.malformed(at, "an attribute value that is not UTF-8".into()))?;
        if !needs_normalizing(raw) {
            return Ok(value);
        }
        let value = value.replace("\r\n", " ").replace(['\r', '\n', '\t'], " ");
        quick_xml::escape::unescape(&value)
            .map(|unescaped| Cow::Owned(unescaped.into_owned()))
            .map_err(|error| self.malformed(at, error.to_string()))
    }

    // What generated code calls.

    /// The namespace URI of `element` (`""` for none).
    pub fn namespace(&self, element: XmlStart) -> &str {
        self.uris.get(element.namespace as usize).map_or("", |uri| uri)
    }

    /// The local name of `element`.
    pub fn local_name(&self, element: XmlStart) -> &'input str {
        let skip = if element.prefix_len == 0 { 0 } else { element.prefix_len + 1 };
        self.input(element.at + 1 + skip, element.name_len - skip)
    }

    /// The namespace URI and local name of `element`, to match on.
    pub fn name(&self, element: XmlStart) -> (&str, &'input str) {
        (self.namespace(element), self.local_name(element))
    }

    /// True when `element` is in `namespace` (`""` for none).
    pub fn in_namespace(&self, element: XmlStart, namespace: &str) -> bool {
        self.namespace(element) == namespace
    }

    /// True when `element` is `{namespace}local`.
    pub fn is(&self, element: XmlStart, namespace: &str, local: &str) -> bool {
        self.local_name(element) == local && self.namespace(element) == namespace
    }

    /// `{namespace}local`, for messages.
    pub fn expanded_name(&self, element: XmlStart) -> String {
        format!("{{{}}}{}", self.namespace(element), self.local_name(element))
    }

    /// The next child element of `parent`, or `None` once `parent` has ended
    /// (its end tag is read). What is left of a child returned before is skipped.
    pub fn next_child(&mut self, parent: XmlStart) -> Result<Option<XmlStart>, DecodeError> {
        let depth = parent.depth as usize;
        if let Some(child) = self.put_back.take() {
            if child.depth as usize == depth + 1 && self.open.len() == depth + 1 {
                return Ok(Some(child));
            }
        }
        while self.open.len() > depth {
            if let Step::Eof = self.step()? {
                return Ok(None);
            }
        }
        if self.open.len() < depth {
            return Ok(None);
        }
        loop {
            if let Some(leaf) = self.leaf_ahead() {
                return Ok(Some(leaf));
            }
            match self.step()? {
                Step::Open(child) => return Ok(Some(child)),
                Step::Close | Step::Eof => return Ok(None),
                Step::Text(..) => {}
            }
        }
    }

    /// Has the next [`XmlCursor::next_child`] return `child` again (a child
    /// just returned and not read from): a parent read as a whole after its
    /// first child was looked at.
    pub fn put_back(&mut self, child: XmlStart) {
        self.put_back = Some(child);
    }

    /// Reads past the end of `element`, checking what it holds.
    pub fn skip(&mut self, element: XmlStart) -> Result<(), DecodeError> {
        self.put_back = None;
        let depth = element.depth as usize;
        while self.open.len() >= depth {
            if let Step::Eof = self.step()? {
                break;
            }
        }
        Ok(())
    }

    /// Reads the rest of the document, checking it.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        while !matches!(self.step()?, Step::Eof) {}
        Ok(())
    }

    /// The text of `element` (all text and CDATA joined, references
    /// unescaped, line ends normalized), reading past its end. An element
    /// child is an error.
    pub fn read_text(&mut self, element: XmlStart) -> Result<Cow<'input, str>, DecodeError> {
        if let Some(child) = self.put_back.take() {
            let name = self.local_name(child).to_owned();
            return Err(self.error(element, DecodeErrorKind::UnexpectedChild(name)));
        }
        if self.open.len() == element.depth as usize {
            // A leaf read whole: its text is known, and so is its end.
            let leaf = match self.pending {
                Pending::LeafText(piece, end) => Some((Some(piece), end)),
                Pending::LeafEnd(end) => Some((None, end)),
                Pending::Nothing | Pending::EmptyEnd => None,
            };
            if let Some((piece, end)) = leaf {
                self.pending = Pending::Nothing;
                self.close();
                self.last_end = end;
                return piece.map_or(Ok(Cow::Borrowed("")), |piece| self.one_text(element, piece));
            }
        }
        let mut first = self.leading_text(element)?.map(|piece| (piece, false));
        let mut more: Vec<(&'input [u8], bool)> = Vec::new();
        loop {
            match self.step()? {
                Step::Text(piece, cdata) => match first {
                    None => first = Some((piece, cdata)),
                    Some(_) => more.push((piece, cdata)),
                },
                Step::Close => break,
                Step::Open(child) => {
                    let name = self.local_name(child).to_owned();
                    return Err(self.error(element, DecodeErrorKind::UnexpectedChild(name)));
                }
                Step::Eof => return Ok(Cow::Borrowed("")),
            }
        }
        let Some((piece, cdata)) = first else { return Ok(Cow::Borrowed("")) };
        if more.is_empty() && !cdata {
            return self.one_text(element, piece);
        }
        let mut text = String::new();
        for (piece, cdata) in std::iter::once((piece, cdata)).chain(more) {
            let piece = self.str_of(piece);
            if cdata {
                text.push_str(&normalize_line_ends(Cow::Borrowed(piece)));
            } else {
                match quick_xml::escape::unescape(&normalize_line_ends(Cow::Borrowed(piece))) {
                    Ok(piece) => text.push_str(&piece),
                    Err(error) => return Err(self.error(element, DecodeErrorKind::Malformed(error.to_string()))),
                }
            }
        }
        Ok(Cow::Owned(text))
    }

    /// The text of `element` when it is one text node, `piece` (raw, as in the input).
    fn one_text(&self, element: XmlStart, piece: &'input [u8]) -> Result<Cow<'input, str>, DecodeError> {
        let content = self.str_of(piece);
        // Most texts of a reply are short (a number, a code): a plain loop beats memchr's set-up there.
        let plain = if piece.len() <= 32 {
            !piece.iter().any(|&byte| byte == b'&' || byte == b'\r')
        } else {
            memchr::memchr2(b'&', b'\r', piece).is_none()
        };
        if plain {
            return Ok(Cow::Borrowed(content));
        }
        let text = match normalize_line_ends(Cow::Borrowed(content)) {
            Cow::Borrowed(content) => quick_xml::escape::unescape(content),
            Cow::Owned(content) => quick_xml::escape::unescape(&content).map(|text| Cow::Owned(text.into_owned())),
        };
        text.map_err(|error| self.error(element, DecodeErrorKind::Malformed(error.to_string())))
    }

    /// The text right after the start tag of `element`, just opened, up to
    /// the next markup: read past directly rather than as an event, since most
    /// elements of a reply are one text and their end tag. The reader meets
    /// the markup next, as it would have after that text.
    fn leading_text(&mut self, element: XmlStart) -> Result<Option<&'input [u8]>, DecodeError> {
        if element.empty
            || self.after_text
            || !matches!(self.pending, Pending::Nothing)
            || self.open.len() != element.depth as usize
            || self.offset() != element.tag_end
        {
            return Ok(None);
        }
        let rest = self.text.as_bytes().get(element.tag_end as usize..).unwrap_or_default();
        // Text up to the end of the input is left to the reader, which refuses it.
        let Some(len) = memchr::memchr(b'<', rest).filter(|&len| len > 0) else { return Ok(None) };
        if let Err(error) = self.count_node(element.tag_end) {
            self.failed = true;
            return Err(error);
        }
        self.reader.stream().consume(len);
        Ok(rest.get(..len))
    }

    /// The value of an attribute of `element` in `namespace` (`""` for none).
    /// `element` must still be open.
    pub fn attribute(&self, element: XmlStart, namespace: &str, local: &str) -> Option<Cow<'input, str>> {
        if !element.has_attributes {
            return None;
        }
        let close = if element.empty { 2 } else { 1 };
        let tag = self.input(element.at + 1, element.tag_end.saturating_sub(close).saturating_sub(element.at + 1));
        let start = BytesStart::from_content(tag, element.name_len as usize);
        for attribute in start.attributes().flatten() {
            let key = attribute.key.into_inner();
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                continue;
            }
            let (prefix, name) = match key.iter().position(|&b| b == b':') {
                Some(colon) => (&key[..colon], &key[colon + 1..]),
                None => (&key[..0], key),
            };
            if name != local.as_bytes() {
                continue;
            }
            let uri = self.resolve(element.scope as usize, prefix, false);
            if uri.and_then(|uri| self.uris.get(uri as usize)).is_some_and(|uri| uri == namespace) {
                return self.unescape(&attribute.value, element.at).ok();
            }
        }
        None
    }

    /// True when `element` carries `xsi:nil="true"` (or `"1"`).
    pub fn is_nil(&self, element: XmlStart) -> bool {
        element.has_attributes
            && matches!(self.attribute(element, XSI_NAMESPACE, "nil").as_deref().map(str::trim), Some("true" | "1"))
    }

    /// Reads `element` (not yet read from) into a document of its own, and
    /// reads that with `read`: for what the generated code reads as a whole
    /// (attributes, choices, raw XML…). Reads past the element's end.
    pub fn buffered<T>(
        &mut self,
        element: XmlStart,
        read: impl FnOnce(XmlElement<'_, 'input>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let document = self.buffer(element)?;
        read(document.root())
    }

    /// Reads `element` (not yet read from) into a document of its own, and
    /// reads past its end.
    pub fn buffer(&mut self, element: XmlStart) -> Result<XmlDocument<'input>, DecodeError> {
        self.skip(element)?;
        let end = self.last_end;
        let inherited: Vec<InheritedDeclaration<'input>> = self
            .bindings
            .iter()
            .map(|binding| InheritedDeclaration {
                prefix_start: binding.prefix_start,
                prefix_len: binding.prefix_len,
                uri: self.uris.get(binding.uri as usize).cloned().unwrap_or_default(),
            })
            .collect();
        XmlDocument::parse_fragment(self.text, element.at, end, inherited, self.max_nodes)
    }

    /// How many more elements, attributes and text nodes the document may
    /// hold before it is refused.
    pub fn nodes_left(&self) -> usize {
        self.max_nodes.saturating_sub(self.nodes)
    }

    /// Makes room in `items` for one more, growing it by no more than the
    /// elements that may still come: a list that will be refused does not
    /// first double past what the input can hold.
    pub(crate) fn reserve_item<E>(&self, items: &mut Vec<E>) {
        if items.len() == items.capacity() {
            items.reserve_exact(items.len().clamp(4, self.nodes_left().max(4)));
        }
    }

    /// 1-based line and column of `element`'s start tag.
    pub fn position(&self, element: XmlStart) -> (u32, u32) {
        position_in(self.text, element.at as usize)
    }

    /// An error located at `element`.
    pub fn error(&self, element: XmlStart, kind: DecodeErrorKind) -> DecodeError {
        let (line, column) = self.position(element);
        DecodeError::new(kind, self.local_name(element), line, column)
    }

    /// An error saying `element`'s text is not a valid `expected`.
    pub fn invalid_value(&self, element: XmlStart, expected: &'static str, found: &str) -> DecodeError {
        const SHOWN: usize = 64;
        let found = match found.char_indices().nth(SHOWN) {
            Some((end, _)) => format!("{}…", &found[..end]),
            None => found.to_owned(),
        };
        self.error(element, DecodeErrorKind::InvalidValue { expected, found })
    }

    /// An error saying the required child `name` of `parent` is missing.
    pub fn missing(&self, parent: XmlStart, name: &str) -> DecodeError {
        self.error(parent, DecodeErrorKind::MissingElement(name.to_owned()))
    }
}

/// A byte of a name the reader takes as it is (ASCII letters, digits, `_`, `-`, `.`, `:`).
/// Whether two names of a few bytes are the same: compared in place (a call
/// to `memcmp` costs more than the comparison).
fn same_name(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The length of the text `content` starts with, when markup follows it and
/// that markup is `</qname>`: the rest of a leaf `<qname>text</qname>`.
fn text_before_end_tag(content: &[u8], qname: &[u8]) -> Option<usize> {
    let text_len = find_markup(content)?;
    let end_tag = content.get(text_len..text_len + qname.len() + 3)?;
    let name_len = qname.len();
    (end_tag[1] == b'/' && end_tag[name_len + 2] == b'>' && same_name(&end_tag[2..name_len + 2], qname))
        .then_some(text_len)
}

/// Where the first `<` of `content` is: looked for byte by byte in a short
/// text (a number, a code), as `memchr`'s set-up costs more there.
fn find_markup(content: &[u8]) -> Option<usize> {
    let head = content.get(..24).unwrap_or(content);
    match head.iter().position(|&byte| byte == b'<') {
        Some(at) => Some(at),
        None if head.len() == content.len() => None,
        None => memchr::memchr(b'<', &content[head.len()..]).map(|at| head.len() + at),
    }
}

fn is_plain_name_byte(byte: u8) -> bool {
    PLAIN_NAME_BYTES[usize::from(byte)]
}

/// ASCII letters and digits, `_`, `-`, `.` and `:`: one lookup a byte.
const PLAIN_NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
        byte += 1;
    }
    table
};

impl std::fmt::Debug for XmlCursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "XmlCursor(depth {})", self.open.len())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::xml::DEFAULT_BYTE_LIMIT;

    /// Reads the whole of `text` with the cursor, touching nothing.
    fn drain(text: &str, limit: usize) -> Result<(), DecodeError> {
        XmlCursor::new_within(text, limit)?.finish()
    }

    /// Reads the whole of `text` element by element, as generated code does.
    fn walk(text: &str, limit: usize) -> Result<(), DecodeError> {
        fn children(cursor: &mut XmlCursor<'_>, parent: XmlStart) -> Result<(), DecodeError> {
            while let Some(child) = cursor.next_child(parent)? {
                children(cursor, child)?;
            }
            Ok(())
        }
        let mut cursor = XmlCursor::new_within(text, limit)?;
        let root = cursor.root();
        children(&mut cursor, root)?;
        cursor.finish()
    }

    /// The cursor refuses what the index refuses, with the same error, whether
    /// it is read event by event or element by element.
    fn alike(text: &str, limit: usize) -> Result<(), String> {
        let theirs = XmlDocument::parse_within(text, limit).err();
        for ours in [drain(text, limit).err(), walk(text, limit).err()] {
            if ours != theirs {
                return Err(format!("{text:?}: cursor {ours:?}, index {theirs:?}"));
            }
        }
        Ok(())
    }

    #[test]
    fn malformed_documents_and_limits_are_refused_as_the_index_refuses_them() {
        let mut texts: Vec<(String, usize)> = [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "x<a/>",
            "<a/>x",
            "<p:a/>",
            "<a p:x='1'/>",
            "<a x='1' x='2'/>",
            "<!DOCTYPE a><a/>",
            "<a xmlns:p=''/>",
            "<a xmlns:xml='urn:x'/>",
            "<a/><?xml version='1.0'?>",
            "<a>\n  <b></c>\n</a>",
            "<a x='&bogus;'/>",
            "<a><![CDATA[x]]></a><![CDATA[y]]>",
            "\u{feff}<?xml version='1.0'?><a>x</a>",
            "<?xml version='1.0'?><!-- c --><a/><!-- d --> <?pi x?>",
            "<r><a>x</b></r>",
            "<r><a>x</a ></r>",
            "<r><a>x</a></r>x",
            "<r><p:a>x</p:a></r>",
            "<r xmlns:p='urn:p'><p:a>x</p:a><a></a><a>&bogus;</a></r>",
            "<r><a>x</a><a>y</a",
            "<r><a>x</r></a>",
            "<r> <a>x</a>\n<a>x<!-- c --></a></r>",
            "<r><a>x]]>y</a><a>\u{1}</a><a>&lt;&#1587;&bogus</a><نام>x</نام></r>",
            "<r xmlns:a='urn:a'><a:b:c>x</a:b:c><b:c>x</b:c></r>",
        ]
        .iter()
        .map(|text| ((*text).to_owned(), DEFAULT_BYTE_LIMIT))
        .collect();
        texts.push(("<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1), DEFAULT_BYTE_LIMIT));
        texts.push(("<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH), DEFAULT_BYTE_LIMIT));
        let wide = (0..=MAX_ATTRIBUTES_PER_ELEMENT).map(|i| format!("a{i}=''")).collect::<Vec<_>>().join(" ");
        texts.push((format!("<a {wide}/>"), DEFAULT_BYTE_LIMIT));
        let dense = format!("<a>{}</a>", "<b/>".repeat(MIN_NODES * 2));
        texts.push((dense.clone(), 1024));
        texts.push((dense, DEFAULT_BYTE_LIMIT));
        // Leaves up to the node limit and one past it, with and without text.
        for leaves in [MIN_NODES / 2 - 1, MIN_NODES / 2, MIN_NODES / 2 + 1, MIN_NODES - 1, MIN_NODES] {
            texts.push((format!("<a>{}</a>", "<b>t</b>".repeat(leaves)), 1024));
            texts.push((format!("<a>{}</a>", "<b></b>".repeat(leaves)), 1024));
        }
        texts.push(("<a>".repeat(MAX_DEPTH - 1) + "<b>t</b>" + &"</a>".repeat(MAX_DEPTH - 1), DEFAULT_BYTE_LIMIT));
        texts.push(("<a>".repeat(MAX_DEPTH) + "<b>t</b>" + &"</a>".repeat(MAX_DEPTH), DEFAULT_BYTE_LIMIT));
        let declarations =
            (0..=MAX_NAMESPACE_DECLARATIONS).map(|i| format!("<b xmlns:p{i}='urn:x'/>")).collect::<String>();
        texts.push((format!("<a>{declarations}</a>"), DEFAULT_BYTE_LIMIT));
        for (text, limit) in texts {
            alike(&text, limit).unwrap_or_else(|why| panic!("{why}"));
        }
    }

    #[test]
    fn text_attributes_and_names_are_read_in_one_pass() {
        let text = "<s:E xmlns:s='urn:s' xmlns='urn:d' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'>\
            <a x='1 &lt; 2' s:y='\t2'>x &amp; &#1587;</a><b>1<!-- no -->2<![CDATA[<3>]]></b><c xsi:nil='true'/>\
            <d xmlns=''><e>t</e></d><f>&bogus;</f><g><h/></g></s:E>";
        let mut cursor = XmlCursor::new(text).expect("opens");
        let root = cursor.root();
        assert_eq!(cursor.name(root), ("urn:s", "E"));
        let a = cursor.next_child(root).expect("reads").expect("a");
        assert_eq!(cursor.name(a), ("urn:d", "a"));
        assert_eq!(cursor.attribute(a, "", "x").as_deref(), Some("1 < 2"));
        assert_eq!(cursor.attribute(a, "urn:s", "y").as_deref(), Some(" 2"));
        assert_eq!(cursor.attribute(a, "", "y"), None);
        assert_eq!(cursor.read_text(a).expect("text"), "x & س");
        let b = cursor.next_child(root).expect("reads").expect("b");
        assert_eq!(cursor.read_text(b).expect("text"), "12<3>");
        let c = cursor.next_child(root).expect("reads").expect("c");
        assert!(cursor.is_nil(c));
        assert_eq!(cursor.read_text(c).expect("text"), "");
        let d = cursor.next_child(root).expect("reads").expect("d");
        let e = cursor.next_child(d).expect("reads").expect("e");
        assert_eq!(cursor.name(e), ("", "e"));
        assert_eq!(cursor.next_child(d).expect("reads"), None, "the rest of e is skipped");
        let f = cursor.next_child(root).expect("reads").expect("f");
        let bogus = cursor.read_text(f).expect_err("an unknown entity");
        assert!(matches!(bogus.kind(), DecodeErrorKind::Malformed(_)));
        assert!(!cursor.failed(), "a value's error, not the document's");
        let g = cursor.next_child(root).expect("reads").expect("g");
        let nested = cursor.read_text(g).expect_err("a child");
        assert_eq!(nested.kind(), &DecodeErrorKind::UnexpectedChild("h".into()));
        cursor.skip(g).expect("skips");
        assert_eq!(cursor.next_child(root).expect("reads"), None);
        cursor.finish().expect("ends");
    }

    #[test]
    fn an_element_read_into_a_document_keeps_its_namespaces_and_positions() {
        let text = "<r xmlns:p='urn:p'>\n<p:a p:x='1'><p:b>t</p:b></p:a><c/></r>";
        let mut cursor = XmlCursor::new(text).expect("opens");
        let root = cursor.root();
        let a = cursor.next_child(root).expect("reads").expect("a");
        let (name, x, markup, position) = cursor
            .buffered(a, |a| {
                Ok((a.expanded_name(), a.attribute("urn:p", "x").map(str::to_owned), a.raw_markup(), a.position()))
            })
            .expect("buffered");
        assert_eq!(
            (name.as_str(), x.as_deref(), markup, position),
            ("{urn:p}a", Some("1"), "<p:a p:x='1'><p:b>t</p:b></p:a>", (2, 1))
        );
        let c = cursor.next_child(root).expect("reads").expect("c");
        assert_eq!(cursor.name(c), ("", "c"));
        let empty = cursor.buffered(c, |c| Ok(c.raw_markup())).expect("buffered");
        assert_eq!(empty, "<c/>");
        assert_eq!(cursor.next_child(root).expect("reads"), None);
    }

    /// Reads `ours` as `theirs`, element by element.
    fn same(cursor: &mut XmlCursor<'_>, ours: XmlStart, theirs: roxmltree::Node<'_, '_>) -> Result<(), String> {
        let name = (theirs.tag_name().namespace().unwrap_or(""), theirs.tag_name().name());
        if cursor.name(ours) != name {
            return Err(format!("{} against {name:?}", cursor.expanded_name(ours)));
        }
        for attribute in theirs.attributes() {
            let value = cursor.attribute(ours, attribute.namespace().unwrap_or(""), attribute.name());
            if value.as_deref() != Some(attribute.value()) {
                return Err(format!("attribute {}: {value:?} against {:?}", attribute.name(), attribute.value()));
            }
        }
        let children: Vec<_> = theirs.children().filter(|node| node.is_element()).collect();
        if children.is_empty() {
            let text: String = theirs.children().filter_map(|node| node.text().filter(|_| node.is_text())).collect();
            let ours = cursor.read_text(ours).map_err(|error| format!("text: {error}"))?;
            if ours != text {
                return Err(format!("text {ours:?} against {text:?}"));
            }
            return Ok(());
        }
        for theirs in children {
            let child = cursor.next_child(ours).map_err(|error| error.to_string())?.ok_or("a child missing")?;
            same(cursor, child, theirs)?;
        }
        match cursor.next_child(ours).map_err(|error| error.to_string())? {
            None => Ok(()),
            Some(extra) => Err(format!("an extra child {}", cursor.expanded_name(extra))),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// What roxmltree reads, the cursor reads alike; and it refuses what
        /// the index refuses, with the same error.
        #[test]
        fn documents_roxmltree_reads_are_streamed_alike(
            root in crate::xml::document::differential::element(3),
            mangle in proptest::option::of((0usize..400, 0u8..128)),
        ) {
            let mut text = format!("<?xml version=\"1.0\"?>\n{root}");
            if let Some((at, byte)) = mangle {
                let at = at % text.len();
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) && byte.is_ascii() {
                    text.replace_range(at..at + 1, &char::from(byte).to_string());
                }
            }
            alike(&text, DEFAULT_BYTE_LIMIT).map_err(TestCaseError::fail)?;
            if let Ok(theirs) = roxmltree::Document::parse(&text) {
                let mut cursor = XmlCursor::new(&text).map_err(|error| TestCaseError::fail(format!("{text}: refused: {error}")))?;
                let root = cursor.root();
                same(&mut cursor, root, theirs.root_element()).map_err(|why| TestCaseError::fail(format!("{text}: {why}")))?;
                cursor.finish().map_err(|error| TestCaseError::fail(format!("{text}: {error}")))?;
            }
        }
    }
}
