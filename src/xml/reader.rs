//! Read access to a parsed document, by namespace URI and local name only.

use std::borrow::Cow;

use super::document::{lookup, Element, XmlDocument, NONE};
use super::error::{DecodeError, DecodeErrorKind};
use super::writer::XSI_NAMESPACE;

/// One element of a parsed document.
#[derive(Clone, Copy)]
pub struct XmlElement<'a, 'input> {
    document: &'a XmlDocument<'input>,
    index: u32,
}

impl<'a, 'input: 'a> XmlElement<'a, 'input> {
    pub(super) fn new(document: &'a XmlDocument<'input>, index: u32) -> Self {
        XmlElement { document, index }
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
        let document = self.document;
        let first = if self.element().has_children { self.index + 1 } else { NONE };
        std::iter::successors(Some(first).filter(|&index| index != NONE), move |&index| {
            let next = document.elements.get(index as usize)?.next_sibling;
            (next != NONE).then_some(next)
        })
        .map(move |index| XmlElement { document, index })
    }

    /// The first child element, if any.
    pub fn first_child(&self) -> Option<XmlElement<'a, 'input>> {
        self.children().next()
    }

    /// The value of an attribute in `namespace` (`""` for none).
    pub fn attributes_raw(&self) -> impl Iterator<Item = (u32, &'a str, &'a str)> + 'a {
        let document = self.document;
        let element = self.element();
        let first = element.first_attribute as usize;
        let attributes = document.attributes.get(first..first + usize::from(element.attribute_count)).unwrap_or(&[]);
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
        let uri = lookup(self.document, self.element().scope, prefix.as_bytes())?;
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
        if !content.contains('<') {
            // Plain text, the usual case: unescaped straight from the input.
            return match quick_xml::escape::unescape(content) {
                Ok(text) => Ok(text),
                Err(error) => Err(self.error(DecodeErrorKind::Malformed(error.to_string()))),
            };
        }
        // Text split by comments, processing instructions or CDATA sections.
        let mut reader = quick_xml::Reader::from_str(content);
        let mut text = String::new();
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Text(piece)) => match piece.unescape() {
                    Ok(piece) => text.push_str(&piece),
                    Err(error) => return Err(self.error(DecodeErrorKind::Malformed(error.to_string()))),
                },
                Ok(quick_xml::events::Event::CData(piece)) => {
                    text.push_str(std::str::from_utf8(&piece).unwrap_or_default());
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
        let end = if element.empty {
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
        let own_scope = element.scope;
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
