//! WSDL 1.1 text → raw structs that mirror the document, with positions.
//!
//! QNames are resolved against the namespace declarations in scope (that
//! needs the XML tree, which does not outlive this module), but nothing is
//! looked up or judged. XML Schema constructs the generator does not support
//! are recorded as [`Problem`]s on the declaration that holds them: they only
//! become errors when `model` reaches that declaration from an operation, so
//! unused parts of a WSDL never stop generation.

mod wsdl;
mod xsd;

pub use wsdl::{Binding, BindingOperation, Definitions, Message, Port, PortOperation, PortType, Protocol, Service};
pub use xsd::{ComplexContent, ComplexTypeDecl, ElementDecl, InlineType, MaxOccurs, Schema, SimpleTypeDecl};

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

/// Parses a WSDL 1.1 document.
pub fn parse(text: &str) -> Result<Definitions, Problem> {
    let document = roxmltree::Document::parse(text).map_err(|error| {
        let at = error.pos();
        Problem::new(Pos { line: at.row, column: at.col }, format!("not well-formed XML: {error}"))
    })?;
    wsdl::definitions(document.root_element())
}

/// Where `node` starts.
fn pos(node: Node<'_, '_>) -> Pos {
    let at = node.document().text_pos_at(node.range().start);
    Pos { line: at.row, column: at.col }
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

/// Resolves a QName-valued attribute of `node`.
fn qname(node: Node<'_, '_>, text: &str) -> QNameRef {
    let (prefix, local) = match text.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, text),
    };
    let namespace = match prefix {
        Some(prefix) => node.lookup_namespace_uri(Some(prefix)).map(str::to_owned),
        None => Some(node.lookup_namespace_uri(None).unwrap_or("").to_owned()),
    };
    QNameRef { text: text.to_owned(), namespace, local: local.to_owned() }
}

fn qname_attr(node: Node<'_, '_>, name: &str) -> Option<QNameRef> {
    node.attribute(name).map(|text| qname(node, text.trim()))
}

/// An attribute the WSDL structure cannot do without.
fn required<'a>(node: Node<'a, '_>, name: &str) -> Result<&'a str, Problem> {
    node.attribute(name).ok_or_else(|| Problem::new(pos(node), format!("<{}> has no `{name}` attribute", tag(node))))
}

fn required_qname(node: Node<'_, '_>, name: &str) -> Result<QNameRef, Problem> {
    required(node, name).map(|text| qname(node, text.trim()))
}

/// Text of a documentation element, one trimmed line per source line.
fn documentation_text(node: Node<'_, '_>) -> Option<String> {
    let text: String = node.descendants().filter(Node::is_text).filter_map(|n| n.text()).collect();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let joined = lines.join("\n");
    let trimmed = joined.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}
