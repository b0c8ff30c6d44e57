//! WSDL 1.1 text → raw structs that mirror the document, with positions.
//!
//! QNames are resolved against the namespace declarations in scope (that
//! needs the XML tree, which does not outlive this module), but nothing is
//! looked up or judged. XML Schema constructs the generator does not support
//! are recorded as [`Problem`]s on the declaration that holds them: they only
//! become errors when `model` reaches that declaration from an operation, so
//! unused parts of a WSDL never stop generation.

mod attributes;
mod wsdl;
mod xsd;

pub use attributes::{AttributeDecl, AttributeGroupDecl, Attributes};
pub use wsdl::{
    Binding, BindingMessage, BindingOperation, Definitions, Message, Part, Port, PortOperation, PortType, Protocol,
    Service,
};
pub use xsd::{
    ComplexContent, ComplexTypeDecl, ElementDecl, GroupDecl, InlineType, ListItem, MaxOccurs, Schema, SimpleTypeDecl,
};

use roxmltree::Node;

use crate::diag::{Pos, Problem};

pub const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
pub const SOAP12_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";
pub const HTTP_NS: &str = "http://schemas.xmlsoap.org/wsdl/http/";
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// A QName as written in an attribute, with its prefix resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QNameRef {
    /// The attribute value as written, e.g. `tns:ArrayOfString`.
    pub text: String,
    /// The namespace URI (`""` for none), or `None` when the prefix is not declared.
    pub namespace: Option<String>,
    pub local: String,
}

/// What a document may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A WSDL 1.1 document (the input given).
    Wsdl,
    /// A WSDL 1.1 document or an XML Schema (`wsdl:import` names either).
    WsdlOrSchema,
    /// An XML Schema (`xsd:import`, `xsd:include`).
    Schema,
}

/// A reference to another document: `wsdl:import location`, `xsd:import
/// schemaLocation` or `xsd:include schemaLocation`, as written.
#[derive(Debug, Clone)]
pub struct Import {
    pub kind: ImportKind,
    /// The location as written (a path relative to the importing document, or a URL).
    pub location: String,
    /// `namespace` of an import; for an include, the including schema's target namespace.
    pub namespace: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `wsdl:import`: definitions (or a schema) of another namespace.
    Wsdl,
    /// `xsd:import`: a schema of another namespace.
    Schema,
    /// `xsd:include`: more of the same schema.
    Include,
}

impl ImportKind {
    /// The construct, as messages name it.
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Wsdl => "wsdl:import",
            ImportKind::Schema => "xsd:import",
            ImportKind::Include => "xsd:include",
        }
    }
}

/// Parses one document, the `doc`th of its input (positions carry that
/// index). A schema document gives definitions holding only that schema;
/// the documents it imports are in [`Definitions::imports`] and its schemas'
/// [`Schema::imports`], for `load` to read. With `chameleon`, a schema without
/// a target namespace takes that one, and so do the names it refers to in no namespace.
pub fn parse(text: &str, doc: u32, expect: Expect, chameleon: Option<&str>) -> Result<Definitions, Problem> {
    let document = roxmltree::Document::parse(text).map_err(|error| {
        let at = error.pos();
        Problem::new(Pos { doc, line: at.row, column: at.col }, format!("not well-formed XML: {error}"))
    })?;
    let root = document.root_element();
    let chameleon = chameleon.filter(|_| root.attribute("targetNamespace").is_none_or(str::is_empty));
    let src = Source::new(text, doc, chameleon);
    if expect != Expect::Wsdl && is(root, XSD_NS, "schema") {
        let schema = xsd::schema(&src, root);
        let mut definitions = wsdl::empty_definitions(&schema.target_namespace);
        definitions.schemas.push(schema);
        return Ok(definitions);
    }
    if expect == Expect::Schema {
        let found = root.tag_name();
        return Err(Problem::new(
            src.pos(root),
            format!(
                "not an XML Schema: the root element is {{{}}}{}, not {{{XSD_NS}}}schema",
                found.namespace().unwrap_or(""),
                found.name()
            ),
        ));
    }
    wsdl::definitions(&src, root)
}

/// Line and column of the nodes of one document, from indexes built in one
/// pass: a position costs a binary search and a scan of at most
/// [`CHECKPOINT_BYTES`], however long the document or its lines.
struct Source<'t> {
    text: &'t str,
    /// The document's index among those of its input.
    doc: u32,
    /// For a schema without a target namespace included into one with a
    /// namespace (a chameleon include): that namespace.
    chameleon: Option<&'t str>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// (byte offset, column) about every [`CHECKPOINT_BYTES`], at character boundaries.
    checkpoints: Vec<(usize, u32)>,
}

/// Distance between checkpoints: the most text one position lookup scans.
const CHECKPOINT_BYTES: usize = 4096;

impl<'t> Source<'t> {
    fn new(text: &'t str, doc: u32, chameleon: Option<&'t str>) -> Self {
        let mut line_starts = vec![0];
        let mut checkpoints = vec![(0, 1)];
        let mut column = 1u32;
        for (at, c) in text.char_indices() {
            if at >= checkpoints.last().map_or(0, |&(offset, _)| offset) + CHECKPOINT_BYTES {
                checkpoints.push((at, column));
            }
            if c == '\n' {
                line_starts.push(at + 1);
                column = 1;
            } else {
                column = column.saturating_add(1);
            }
        }
        Source { text, doc, chameleon, line_starts, checkpoints }
    }

    /// Where `node` starts.
    fn pos(&self, node: Node<'_, '_>) -> Pos {
        self.at(node.range().start)
    }

    /// The 1-based line and column (in characters, as roxmltree counts them) of byte `offset`.
    fn at(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        let checkpoint = self.checkpoints.partition_point(|&(at, _)| at <= offset);
        let (from, column) = match self.checkpoints.get(checkpoint.wrapping_sub(1)) {
            Some(&(at, column)) if at >= line_start => (at, column),
            _ => (line_start, 1),
        };
        let counted = self.text.get(from..offset).map_or(0, |between| between.chars().count());
        let column = column.saturating_add(u32::try_from(counted).unwrap_or(u32::MAX));
        Pos { doc: self.doc, line: u32::try_from(line).unwrap_or(u32::MAX), column }
    }
}

/// The element's name as written, prefix included (`s:choice`), for messages.
fn tag<'a>(node: Node<'a, '_>) -> &'a str {
    let input = node.document().input_text();
    let rest = input.get(node.range().start + 1..).unwrap_or("");
    rest.split(|c: char| c.is_whitespace() || c == '/' || c == '>').next().unwrap_or("")
}

fn is(node: Node<'_, '_>, namespace: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(namespace)
}

fn elements<'a, 'input>(node: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(Node::is_element)
}

/// Resolves a QName-valued attribute of `node`; in a chameleon schema, a name
/// in no namespace is in the including schema's.
fn qname(src: &Source<'_>, node: Node<'_, '_>, text: &str) -> QNameRef {
    let (prefix, local) = match text.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, text),
    };
    let namespace = match prefix {
        // Bound by XML itself, with no declaration.
        Some("xml") => Some("http://www.w3.org/XML/1998/namespace".to_owned()),
        Some(prefix) => node.lookup_namespace_uri(Some(prefix)).map(str::to_owned),
        None => Some(node.lookup_namespace_uri(None).unwrap_or("").to_owned()),
    };
    let namespace = match (namespace, src.chameleon) {
        (Some(namespace), Some(chameleon)) if namespace.is_empty() => Some(chameleon.to_owned()),
        (namespace, _) => namespace,
    };
    QNameRef { text: text.to_owned(), namespace, local: local.to_owned() }
}

fn qname_attr(src: &Source<'_>, node: Node<'_, '_>, name: &str) -> Option<QNameRef> {
    node.attribute(name).map(|text| qname(src, node, text.trim()))
}

/// An attribute the WSDL structure cannot do without.
fn required<'a>(src: &Source<'_>, node: Node<'a, '_>, name: &str) -> Result<&'a str, Problem> {
    node.attribute(name)
        .ok_or_else(|| Problem::new(src.pos(node), format!("<{}> has no `{name}` attribute", tag(node))))
}

fn required_qname(src: &Source<'_>, node: Node<'_, '_>, name: &str) -> Result<QNameRef, Problem> {
    required(src, node, name).map(|text| qname(src, node, text.trim()))
}

/// Text of a documentation element, one trimmed line per source line.
fn documentation_text(node: Node<'_, '_>) -> Option<String> {
    let text: String = node.descendants().filter(Node::is_text).filter_map(|n| n.text()).collect();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let joined = lines.join("\n");
    let trimmed = joined.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The indexes give the positions roxmltree computes by rescanning the text.
        #[test]
        fn positions_match_a_rescan(
            lines in prop::collection::vec("([a-z<> ]{0,50}|é|ش|\u{1F600}){0,300}", 1..5),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 1..20),
        ) {
            // Lines long enough to cross several checkpoints, with multi-byte characters.
            let document_text = lines.join("\n");
            let source = Source::new(&document_text, 0, None);
            let boundaries: Vec<usize> =
                document_text.char_indices().map(|(at, _)| at).chain([document_text.len()]).collect();
            for pick in picks {
                let offset = boundaries[pick.index(boundaries.len())];
                let before = &document_text[..offset];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
                prop_assert_eq!(source.at(offset), Pos { doc: 0, line: line as u32, column: column as u32 });
            }
        }
    }
}
