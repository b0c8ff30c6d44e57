//! The WSDL 1.1 layer: messages, port types, bindings and services.

use roxmltree::Node;

use super::xsd::{self, ElementDecl, MaxOccurs, Schema};
use super::{
    documentation_text, elements, is, qname_attr, required, required_qname, Import, ImportKind, QNameRef, Source,
};
use super::{HTTP_NS, SOAP11_NS, SOAP12_NS, WSDL_NS, XSD_NS};
use crate::diag::{Pos, Problem};

/// `wsdl:definitions`; after `load`, with everything its imports define.
#[derive(Debug)]
pub struct Definitions {
    /// The target namespace of the document given (imported definitions carry their own).
    pub target_namespace: String,
    /// The `wsdl:import`s of this document (not its schemas').
    pub imports: Vec<Import>,
    pub schemas: Vec<Schema>,
    pub messages: Vec<Message>,
    pub port_types: Vec<PortType>,
    pub bindings: Vec<Binding>,
    pub services: Vec<Service>,
    /// An empty schema (no target namespace): where the accessors of
    /// `type` parts ([`Part::accessor`]) are declared.
    pub no_schema: Schema,
}

/// `wsdl:message`.
#[derive(Debug)]
pub struct Message {
    pub name: String,
    /// The target namespace of the definitions holding it.
    pub namespace: String,
    pub parts: Vec<Part>,
    pub pos: Pos,
}

/// `wsdl:part`: refers to an `element` (document style) or a `type` (rpc style).
#[derive(Debug)]
pub struct Part {
    pub name: String,
    pub element: Option<QNameRef>,
    pub type_name: Option<QNameRef>,
    /// For a `type` part: the element that carries it (rpc style), an
    /// unqualified element named after the part.
    pub accessor: Option<ElementDecl>,
    pub pos: Pos,
}

/// `wsdl:portType`.
#[derive(Debug)]
pub struct PortType {
    pub name: String,
    pub namespace: String,
    pub operations: Vec<PortOperation>,
}

/// `wsdl:operation` of a port type.
#[derive(Debug)]
pub struct PortOperation {
    pub name: String,
    pub doc: Option<String>,
    pub input: Option<QNameRef>,
    pub output: Option<QNameRef>,
    /// True when `output` comes before `input` (notification, solicit-response).
    pub output_first: bool,
    pub faults: Vec<PortFault>,
    pub pos: Pos,
}

/// `wsdl:fault` of a port type operation.
#[derive(Debug)]
pub struct PortFault {
    pub name: String,
    pub message: QNameRef,
    pub pos: Pos,
}

/// The protocol a binding or address is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Soap11,
    Soap12,
    Http,
    Other,
}

/// `wsdl:binding`.
#[derive(Debug)]
pub struct Binding {
    pub name: String,
    pub namespace: String,
    pub port_type: QNameRef,
    pub protocol: Protocol,
    /// `style` of `soap:binding`.
    pub style: Option<String>,
    pub operations: Vec<BindingOperation>,
    pub pos: Pos,
}

/// `wsdl:operation` of a binding.
#[derive(Debug)]
pub struct BindingOperation {
    pub name: String,
    /// `soapAction` of `soap:operation` / `soap12:operation`.
    pub action: Option<String>,
    /// `style` of `soap:operation`.
    pub style: Option<String>,
    pub input: Option<BindingMessage>,
    pub output: Option<BindingMessage>,
    /// `wsdl:fault` children: the fault's name and the `use` of its `soap:fault`.
    pub faults: Vec<(String, Option<String>, Pos)>,
    pub pos: Pos,
}

/// `wsdl:input` / `wsdl:output` of a binding operation.
#[derive(Debug)]
pub struct BindingMessage {
    /// `use` of the SOAP body, with the position of `soap:body`.
    pub body_use: Option<(String, Pos)>,
    /// `encodingStyle` of the SOAP body: URIs separated by spaces.
    pub encoding_style: Option<String>,
    /// `namespace` of the SOAP body (the wrapper's namespace in rpc style).
    pub body_namespace: Option<String>,
    /// `parts` of the SOAP body: the parts it holds, when not all of them.
    pub body_parts: Option<Vec<String>>,
    pub headers: Vec<BindingHeader>,
}

/// `soap:header`: a part of a message, carried in the SOAP header.
#[derive(Debug)]
pub struct BindingHeader {
    pub message: QNameRef,
    pub part: String,
    pub header_use: String,
    pub pos: Pos,
}

/// `wsdl:service`.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub doc: Option<String>,
    pub ports: Vec<Port>,
    pub pos: Pos,
}

/// `wsdl:port`.
#[derive(Debug)]
pub struct Port {
    pub name: String,
    pub binding: QNameRef,
    /// `location` of `soap:address`, `soap12:address` or `http:address`.
    pub address: Option<String>,
    pub pos: Pos,
}

pub(super) fn definitions(src: &Source<'_>, root: Node<'_, '_>) -> Result<Definitions, Problem> {
    if !is(root, WSDL_NS, "definitions") {
        let found = root.tag_name();
        return Err(Problem::new(
            src.pos(root),
            format!(
                "not a WSDL 1.1 document: the root element is {{{}}}{}, not {{{WSDL_NS}}}definitions",
                found.namespace().unwrap_or(""),
                found.name()
            ),
        ));
    }
    let mut definitions = empty_definitions(root.attribute("targetNamespace").unwrap_or(""));
    let namespace = definitions.target_namespace.clone();
    for child in elements(root).filter(|node| node.tag_name().namespace() == Some(WSDL_NS)) {
        match child.tag_name().name() {
            "types" => {
                let schemas = elements(child).filter(|node| is(*node, XSD_NS, "schema"));
                definitions.schemas.extend(schemas.map(|schema| xsd::schema(src, schema)));
            }
            "message" => definitions.messages.push(message(src, child, &namespace)?),
            "portType" => definitions.port_types.push(port_type(src, child, &namespace)?),
            "binding" => definitions.bindings.push(binding(src, child, &namespace)?),
            "service" => definitions.services.push(service(src, child)?),
            // Without a location, an import only says a namespace is used.
            "import" => definitions.imports.extend(child.attribute("location").map(|location| Import {
                kind: ImportKind::Wsdl,
                location: location.trim().to_owned(),
                namespace: child.attribute("namespace").map(str::to_owned),
                pos: src.pos(child),
            })),
            // `documentation` adds nothing the generator uses.
            _ => {}
        }
    }
    Ok(definitions)
}

/// Definitions with nothing in them yet.
pub(super) fn empty_definitions(target_namespace: &str) -> Definitions {
    Definitions {
        target_namespace: target_namespace.to_owned(),
        imports: Vec::new(),
        schemas: Vec::new(),
        messages: Vec::new(),
        port_types: Vec::new(),
        bindings: Vec::new(),
        services: Vec::new(),
        no_schema: xsd::empty_schema(),
    }
}

fn message(src: &Source<'_>, node: Node<'_, '_>, namespace: &str) -> Result<Message, Problem> {
    let mut parts = Vec::new();
    for part in elements(node).filter(|n| is(*n, WSDL_NS, "part")) {
        let name = required(src, part, "name")?.to_owned();
        let type_name = qname_attr(src, part, "type");
        let accessor = type_name.clone().map(|type_name| ElementDecl {
            name: name.clone(),
            reference: None,
            wildcard: false,
            choice: None,
            group: None,
            type_name: Some(type_name),
            inline: None,
            min_occurs: 1,
            max_occurs: MaxOccurs::Bounded(1),
            nillable: false,
            default: None,
            form_qualified: Some(false),
            doc: None,
            pos: src.pos(part),
            problems: Vec::new(),
        });
        parts.push(Part { name, element: qname_attr(src, part, "element"), type_name, accessor, pos: src.pos(part) });
    }
    Ok(Message {
        name: required(src, node, "name")?.to_owned(),
        namespace: namespace.to_owned(),
        parts,
        pos: src.pos(node),
    })
}

fn port_type(src: &Source<'_>, node: Node<'_, '_>, namespace: &str) -> Result<PortType, Problem> {
    let mut operations = Vec::new();
    for operation in elements(node).filter(|n| is(*n, WSDL_NS, "operation")) {
        let mut parsed = PortOperation {
            name: required(src, operation, "name")?.to_owned(),
            doc: None,
            input: None,
            output: None,
            output_first: false,
            faults: Vec::new(),
            pos: src.pos(operation),
        };
        for child in elements(operation).filter(|n| n.tag_name().namespace() == Some(WSDL_NS)) {
            match child.tag_name().name() {
                "documentation" => parsed.doc = documentation_text(child),
                "input" => parsed.input = Some(message_ref(src, child)?),
                "output" => {
                    parsed.output_first = parsed.input.is_none();
                    parsed.output = Some(message_ref(src, child)?);
                }
                "fault" => parsed.faults.push(PortFault {
                    name: child.attribute("name").unwrap_or("").to_owned(),
                    message: message_ref(src, child)?,
                    pos: src.pos(child),
                }),
                _ => {}
            }
        }
        operations.push(parsed);
    }
    Ok(PortType { name: required(src, node, "name")?.to_owned(), namespace: namespace.to_owned(), operations })
}

fn message_ref(src: &Source<'_>, node: Node<'_, '_>) -> Result<QNameRef, Problem> {
    required_qname(src, node, "message")
}

/// The protocol an extensibility element belongs to, from its namespace.
fn protocol_of(node: Node<'_, '_>) -> Protocol {
    match node.tag_name().namespace() {
        Some(SOAP11_NS) => Protocol::Soap11,
        Some(SOAP12_NS) => Protocol::Soap12,
        Some(HTTP_NS) => Protocol::Http,
        _ => Protocol::Other,
    }
}

fn is_soap(node: Node<'_, '_>, local: &str) -> bool {
    is(node, SOAP11_NS, local) || is(node, SOAP12_NS, local)
}

fn binding(src: &Source<'_>, node: Node<'_, '_>, namespace: &str) -> Result<Binding, Problem> {
    let mut parsed = Binding {
        name: required(src, node, "name")?.to_owned(),
        namespace: namespace.to_owned(),
        port_type: required_qname(src, node, "type")?,
        protocol: Protocol::Other,
        style: None,
        operations: Vec::new(),
        pos: src.pos(node),
    };
    for child in elements(node) {
        if child.tag_name().name() == "binding" && child.tag_name().namespace() != Some(WSDL_NS) {
            parsed.protocol = protocol_of(child);
            parsed.style = child.attribute("style").map(str::to_owned);
        } else if is(child, WSDL_NS, "operation") {
            parsed.operations.push(binding_operation(src, child)?);
        }
    }
    Ok(parsed)
}

fn binding_operation(src: &Source<'_>, node: Node<'_, '_>) -> Result<BindingOperation, Problem> {
    let mut parsed = BindingOperation {
        name: required(src, node, "name")?.to_owned(),
        action: None,
        style: None,
        input: None,
        output: None,
        faults: Vec::new(),
        pos: src.pos(node),
    };
    for child in elements(node) {
        if is_soap(child, "operation") {
            parsed.action = child.attribute("soapAction").map(str::to_owned);
            parsed.style = child.attribute("style").map(str::to_owned);
        } else if is(child, WSDL_NS, "input") {
            parsed.input = Some(binding_message(src, child)?);
        } else if is(child, WSDL_NS, "output") {
            parsed.output = Some(binding_message(src, child)?);
        } else if is(child, WSDL_NS, "fault") {
            let fault_use = elements(child)
                .find(|n| is_soap(*n, "fault"))
                .map(|n| n.attribute("use").unwrap_or("literal").to_owned());
            parsed.faults.push((child.attribute("name").unwrap_or("").to_owned(), fault_use, src.pos(child)));
        }
    }
    Ok(parsed)
}

fn binding_message(src: &Source<'_>, node: Node<'_, '_>) -> Result<BindingMessage, Problem> {
    let mut parsed = BindingMessage {
        body_use: None,
        encoding_style: None,
        body_namespace: None,
        body_parts: None,
        headers: Vec::new(),
    };
    for child in elements(node) {
        if is_soap(child, "body") {
            let body_use = child.attribute("use").unwrap_or("literal").to_owned();
            parsed.body_use = Some((body_use, src.pos(child)));
            parsed.body_namespace = child.attribute("namespace").map(str::to_owned);
            parsed.encoding_style = child.attribute("encodingStyle").map(str::to_owned);
            parsed.body_parts =
                child.attribute("parts").map(|parts| parts.split_whitespace().map(str::to_owned).collect());
        } else if is_soap(child, "header") {
            parsed.headers.push(BindingHeader {
                message: required_qname(src, child, "message")?,
                part: required(src, child, "part")?.to_owned(),
                header_use: child.attribute("use").unwrap_or("literal").to_owned(),
                pos: src.pos(child),
            });
        }
    }
    Ok(parsed)
}

fn service(src: &Source<'_>, node: Node<'_, '_>) -> Result<Service, Problem> {
    let mut parsed =
        Service { name: required(src, node, "name")?.to_owned(), doc: None, ports: Vec::new(), pos: src.pos(node) };
    for child in elements(node) {
        if is(child, WSDL_NS, "documentation") {
            parsed.doc = documentation_text(child);
        } else if is(child, WSDL_NS, "port") {
            let address = elements(child)
                .find(|n| n.tag_name().name() == "address")
                .map(|address| address.attribute("location").unwrap_or("").to_owned());
            parsed.ports.push(Port {
                name: required(src, child, "name")?.to_owned(),
                binding: required_qname(src, child, "binding")?,
                address,
                pos: src.pos(child),
            });
        }
    }
    Ok(parsed)
}
