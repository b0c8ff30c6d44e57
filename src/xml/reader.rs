//! Read access to a parsed document, by namespace URI and local name only.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};

use super::error::{DecodeError, DecodeErrorKind};
use super::writer::XSI_NAMESPACE;

/// Limits applied to untrusted input before it is parsed into a tree. Real
/// replies are a few levels deep with a handful of attributes; these bound the
/// parser's worst cases (its namespace and attribute bookkeeping is quadratic).
const MAX_DEPTH: usize = 128;
const MAX_ATTRIBUTES_PER_ELEMENT: usize = 64;
const MAX_NAMESPACE_DECLARATIONS: usize = 256;

/// How many bytes of the byte limit each element, attribute or text node may
/// take. The tree costs about 72 bytes a node and the typed values at most
/// about as much again, so decoding a reply costs at most about 8× the limit,
/// whatever its shape. The panel's message lists take 13–18 bytes a node: a
/// list reply over about three quarters of the limit may be refused as too
/// dense (raise the limit for such lists).
const BYTES_PER_NODE: usize = 16;
/// The byte limit assumed when none is given (the client's default reply limit).
pub(crate) const DEFAULT_BYTE_LIMIT: usize = 32 * 1024 * 1024;
/// The smallest node budget, so that a tight byte limit still reads small documents.
const MIN_NODES: usize = 4096;

/// How many `href` accessors may point at one another before the element
/// that holds a value (SOAP 1.1 §5.4.1 has one: accessor to value).
const MAX_REFERENCE_CHAIN: usize = 8;
/// Following references may visit at most this many times the document's
/// elements: values shared by several accessors are read once per accessor,
/// and this bounds what sharing can multiply.
const REFERENCE_BUDGET_FACTOR: usize = 4;

/// A parsed XML document.
pub struct XmlDocument<'input> {
    document: roxmltree::Document<'input>,
    references: References,
}

/// The `id`s of a document, indexed the first time an `href` is followed, and
/// what following references may still cost.
#[derive(Default)]
struct References {
    /// The elements with an `id` attribute, sorted by it.
    ids: OnceCell<Vec<roxmltree::NodeId>>,
    /// Elements that following references may still visit (set at the first one).
    budget: Cell<Option<usize>>,
}

impl<'input> XmlDocument<'input> {
    /// Parses `text` (see [`XmlDocument::parse_within`]) within the default byte limit.
    pub fn parse(text: &'input str) -> Result<Self, DecodeError> {
        Self::parse_within(text, DEFAULT_BYTE_LIMIT)
    }

    /// Parses `text`, which came from a source allowed `byte_limit` bytes: the
    /// tree's nodes are bounded by that limit (see `BYTES_PER_NODE`). DTDs are
    /// refused: SOAP 1.1 and 1.2 forbid them, and they are the usual vehicle
    /// for entity-expansion attacks.
    pub fn parse_within(text: &'input str, byte_limit: usize) -> Result<Self, DecodeError> {
        let max_nodes = (byte_limit / BYTES_PER_NODE).max(MIN_NODES);
        check_structure(text, max_nodes)?;
        let nodes_limit = u32::try_from(max_nodes).unwrap_or(u32::MAX);
        let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit };
        roxmltree::Document::parse_with_options(text, options)
            .map(|document| XmlDocument { document, references: References::default() })
            .map_err(|error| {
                let position = error.pos();
                DecodeError::new(DecodeErrorKind::Malformed(error.to_string()), "", position.row, position.col)
            })
    }

    /// The document element.
    pub fn root(&self) -> XmlElement<'_, 'input> {
        XmlElement { node: self.document.root_element(), references: &self.references, depth: 0, encoded: false }
    }
}

/// Refuses documents beyond the structural limits (and with more than
/// `max_nodes` elements, attributes and text nodes in all), in one streaming
/// pass. Well-formedness is left to the tree parser, which reports it better.
fn check_structure(text: &str, max_nodes: usize) -> Result<(), DecodeError> {
    use quick_xml::events::{BytesStart, Event};

    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut declarations = 0usize;
    let mut nodes = 0usize;
    let too_many = || {
        format!("more than {max_nodes} elements, attributes and text nodes (a reply that dense would not decode within memory bounds)")
    };
    let refuse = |reader: &quick_xml::Reader<&[u8]>, limit: String| {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX).min(text.len());
        let before = text.as_bytes().get(..offset).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1) + 1;
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Err(DecodeError::new(DecodeErrorKind::LimitExceeded(limit), "", clamp(line), clamp(column)))
    };
    let mut count = |element: &BytesStart<'_>, nodes: &mut usize| -> Option<String> {
        let mut attributes = 0;
        for attribute in element.attributes().with_checks(false).flatten() {
            attributes += 1;
            if attribute.key.as_ref().starts_with(b"xmlns") {
                declarations += 1;
            }
        }
        *nodes += 1 + attributes;
        if *nodes > max_nodes {
            Some(too_many())
        } else if attributes > MAX_ATTRIBUTES_PER_ELEMENT {
            Some(format!("an element has more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes"))
        } else if declarations > MAX_NAMESPACE_DECLARATIONS {
            Some(format!("more than {MAX_NAMESPACE_DECLARATIONS} namespace declarations"))
        } else {
            None
        }
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(element)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return refuse(&reader, format!("elements nested more than {MAX_DEPTH} deep"));
                }
                if let Some(limit) = count(&element, &mut nodes) {
                    return refuse(&reader, limit);
                }
            }
            Ok(Event::Empty(element)) => {
                if let Some(limit) = count(&element, &mut nodes) {
                    return refuse(&reader, limit);
                }
            }
            Ok(Event::Text(_) | Event::CData(_) | Event::Comment(_) | Event::PI(_)) => {
                nodes += 1;
                if nodes > max_nodes {
                    return refuse(&reader, too_many());
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// The prefixes an element's start tag declares (`""` for `xmlns`).
fn declared_prefixes(markup: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(markup);
    let (Ok(Event::Start(start)) | Ok(Event::Empty(start))) = reader.read_event() else { return Vec::new() };
    start
        .attributes()
        .with_checks(false)
        .flatten()
        .filter_map(|attribute| {
            let key = std::str::from_utf8(attribute.key.as_ref()).ok()?;
            match key.strip_prefix("xmlns") {
                Some("") => Some(String::new()),
                Some(rest) => rest.strip_prefix(':').map(str::to_owned),
                None => None,
            }
        })
        .collect()
}

/// One element of a parsed document.
#[derive(Clone, Copy)]
pub struct XmlElement<'a, 'input> {
    node: roxmltree::Node<'a, 'input>,
    references: &'a References,
    /// Elements between the root and this one, counting the accessors whose
    /// references led here: bounds decoding however references nest.
    depth: usize,
    /// Inside a SOAP-encoded body: `href` accessors stand for the element they name.
    encoded: bool,
}

impl<'a, 'input: 'a> XmlElement<'a, 'input> {
    /// The namespace URI, or `""` for none.
    pub fn namespace(&self) -> &'a str {
        self.node.tag_name().namespace().unwrap_or("")
    }

    /// The local name.
    pub fn local_name(&self) -> &'a str {
        self.node.tag_name().name()
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
        let XmlElement { references, depth, encoded, .. } = *self;
        self.node.children().filter(|node| node.is_element()).map(move |node| XmlElement {
            node,
            references,
            depth: depth + 1,
            encoded,
        })
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
            let Some(href) = current.node.attribute("href") else { return Ok(current) };
            let Some(id) = href.trim().strip_prefix('#') else {
                return Err(current.bad_reference(format!("href={href:?} is not a reference within the message")));
            };
            if current.depth > MAX_DEPTH {
                return Err(current.bad_reference(format!(
                    "href={href:?} leads more than {MAX_DEPTH} elements deep (a cycle of references?)"
                )));
            }
            let target = self.find_id(id).map_err(|reason| current.bad_reference(reason))?;
            self.spend(target).map_err(|limit| current.error(DecodeErrorKind::LimitExceeded(limit)))?;
            current = XmlElement { node: target, ..current };
        }
        Err(current.bad_reference(format!("more than {MAX_REFERENCE_CHAIN} references in a chain")))
    }

    fn bad_reference(&self, reason: String) -> DecodeError {
        self.error(DecodeErrorKind::BadReference(reason))
    }

    /// The one element whose `id` is `id`.
    fn find_id(&self, id: &str) -> Result<roxmltree::Node<'a, 'input>, String> {
        let document = self.node.document();
        let id_of = |node_id: &roxmltree::NodeId| document.get_node(*node_id).and_then(|node| node.attribute("id"));
        let ids = self.references.ids.get_or_init(|| {
            let mut ids: Vec<roxmltree::NodeId> = document
                .descendants()
                .filter(|node| node.is_element() && node.attribute("id").is_some())
                .map(|node| node.id())
                .collect();
            ids.sort_by(|a, b| id_of(a).cmp(&id_of(b)));
            ids
        });
        let first = ids.partition_point(|node_id| id_of(node_id) < Some(id));
        let mut matching = ids[first..].iter().take_while(|node_id| id_of(node_id) == Some(id));
        match (matching.next(), matching.next()) {
            (Some(found), None) => document.get_node(*found).ok_or_else(|| format!("no element has id {id:?}")),
            (None, _) => Err(format!("href=\"#{id}\" names no element of the message")),
            (Some(_), Some(_)) => Err(format!("href=\"#{id}\" names an id that several elements have")),
        }
    }

    /// Charges the elements of `target` to the budget of references.
    fn spend(&self, target: roxmltree::Node<'a, 'input>) -> Result<(), String> {
        let budget = match self.references.budget.get() {
            Some(budget) => budget,
            None => self.node.document().descendants().count().saturating_mul(REFERENCE_BUDGET_FACTOR),
        };
        let cost = target.descendants().take(budget.saturating_add(1)).count();
        let Some(left) = budget.checked_sub(cost) else {
            return Err(format!(
                "references would have decoding visit more than {REFERENCE_BUDGET_FACTOR} times the message's nodes"
            ));
        };
        self.references.budget.set(Some(left));
        Ok(())
    }

    /// The first child element, if any.
    pub fn first_child(&self) -> Option<XmlElement<'a, 'input>> {
        self.children().next()
    }

    /// The value of an attribute in `namespace` (`""` for none).
    pub fn attribute(&self, namespace: &str, local: &str) -> Option<&'a str> {
        if namespace.is_empty() {
            self.node.attribute(local)
        } else {
            self.node.attribute((namespace, local))
        }
    }

    /// The attributes, as (namespace URI or `""`, local name, value); namespace declarations are not attributes.
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
        self.node
            .attributes()
            .map(|attribute| (attribute.namespace().unwrap_or(""), attribute.name(), attribute.value()))
    }

    /// The namespace bound to `prefix` (`""` for the default namespace) at this element.
    pub fn lookup_namespace(&self, prefix: &str) -> Option<&'a str> {
        let prefix = if prefix.is_empty() { None } else { Some(prefix) };
        self.node.lookup_namespace_uri(prefix)
    }

    /// True when the element carries `xsi:nil="true"` (or `"1"`).
    pub fn is_nil(&self) -> bool {
        matches!(self.attribute(XSI_NAMESPACE, "nil").map(str::trim), Some("true" | "1"))
    }

    /// The element's text (all text children joined). An element child is an error.
    pub fn text(&self) -> Result<Cow<'a, str>, DecodeError> {
        let mut text: Option<Cow<'a, str>> = None;
        for child in self.node.children() {
            if child.is_element() {
                return Err(self.error(DecodeErrorKind::UnexpectedChild(child.tag_name().name().to_owned())));
            }
            if let Some(piece) = child.text().filter(|_| child.is_text()) {
                text = Some(match text {
                    None => Cow::Borrowed(piece),
                    Some(previous) => Cow::Owned(previous.into_owned() + piece),
                });
            }
        }
        Ok(text.unwrap_or(Cow::Borrowed("")))
    }

    /// The raw markup of this element, as it appears in the input.
    pub fn raw_markup(&self) -> &'input str {
        let range = self.node.range();
        self.node.document().input_text().get(range).unwrap_or("")
    }

    /// This element's markup as a standalone element: the inherited
    /// namespace declarations it may use are added to its start tag (and
    /// `xmlns=""` when no default namespace is in scope), so it means the same
    /// anywhere. A prefix counts as used when `prefix:` occurs in the markup,
    /// so prefixes inside values (`xsi:type="q:T"`) keep their declaration too,
    /// and the default namespace when an element name has no prefix.
    pub fn standalone_markup(&self) -> String {
        let raw = self.raw_markup();
        let own = declared_prefixes(raw);
        let unprefixed = self.node.descendants().filter(|node| node.is_element()).any(|node| {
            let start = node.document().input_text().get(node.range().start + 1..).unwrap_or("");
            let name = start.split(|c: char| c.is_whitespace() || c == '/' || c == '>').next().unwrap_or("");
            !name.contains(':')
        });
        let mut declarations = String::new();
        let mut default_in_scope = false;
        for namespace in self.node.namespaces() {
            let prefix = namespace.name().unwrap_or("");
            default_in_scope |= prefix.is_empty();
            let used = if prefix.is_empty() { unprefixed } else { raw.contains(&format!("{prefix}:")) };
            if !used || prefix == "xml" || own.iter().any(|declared| declared == prefix) {
                continue;
            }
            let uri = quick_xml::escape::escape(namespace.uri());
            if prefix.is_empty() {
                declarations.push_str(&format!(" xmlns=\"{uri}\""));
            } else {
                declarations.push_str(&format!(" xmlns:{prefix}=\"{uri}\""));
            }
        }
        if !default_in_scope && unprefixed && !own.iter().any(String::is_empty) {
            declarations.insert_str(0, " xmlns=\"\"");
        }
        let name_end = raw.find(|c: char| c.is_whitespace() || c == '/' || c == '>').unwrap_or(raw.len());
        format!("{}{declarations}{}", &raw[..name_end], &raw[name_end..])
    }

    /// 1-based line and column of the element's start tag.
    pub fn position(&self) -> (u32, u32) {
        let position = self.node.document().text_pos_at(self.node.range().start);
        (position.row, position.col)
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
