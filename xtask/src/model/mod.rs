//! The resolved model: what the emitter needs, and nothing of XML or Rust.
//!
//! Every QName is resolved to (namespace, local name); services, operations
//! and types are sorted by name; fields keep document order. Only what the
//! SOAP operations reach is here.

mod attributes;
mod index;
mod recursion;
mod services;
mod types;

use std::fmt;

use crate::diag::{Pos, Problem};
use crate::parse::Definitions;

/// Resolves every service of `definitions`: only what the SOAP operations
/// reach, and unsupported constructs there are errors, all of them reported
/// (sorted by position, each once).
pub fn resolve(definitions: &Definitions, dangling: Dangling) -> Result<Model, Vec<Problem>> {
    let index = index::Index::new(definitions);
    let mut services = Vec::new();
    let mut problems = Vec::new();
    for service in &definitions.services {
        let mut walk = types::Walk::default();
        walk.skip_dangling = dangling == Dangling::Skip;
        services.extend(index.service(service, &mut walk));
        problems.append(&mut walk.problems);
    }
    if !problems.is_empty() && dangling == Dangling::Skip {
        // Refused all the same: every problem, those of the operations left out too.
        return resolve(definitions, Dangling::Refuse);
    }
    if !problems.is_empty() {
        problems.sort();
        problems.dedup();
        return Err(problems);
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    let skipped = definitions
        .services
        .iter()
        .filter(|service| !services.iter().any(|resolved| resolved.name == service.name))
        .map(|service| (service.name.clone(), service.pos))
        .collect();
    Ok(Model { services, skipped })
}

/// What becomes of an operation whose message names an element no schema
/// declares (a document that loads lazily elsewhere, as in zeep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dangling {
    /// The document is refused, with every problem (`regen`: the panel's WSDLs are ours to fix).
    Refuse,
    /// The operation is left out with a warning; the others are generated (`generate`).
    Skip,
}

/// A namespace-qualified name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QName {
    pub namespace: String,
    pub local: String,
}

impl QName {
    pub fn new(namespace: &str, local: &str) -> Self {
        QName { namespace: namespace.to_owned(), local: local.to_owned() }
    }

    /// True for names in the XML Schema namespace (`xs:string`, …).
    pub fn is_xml_schema(&self) -> bool {
        self.namespace == crate::parse::XSD_NS
    }
}

impl fmt::Debug for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.namespace, self.local)
    }
}

/// One WSDL document.
#[derive(Debug)]
pub struct Model {
    pub services: Vec<Service>,
    /// Services without a SOAP 1.1 or 1.2 port (HTTP only, say), by name, with their position.
    pub skipped: Vec<(String, Pos)>,
}

/// A `wsdl:service` with its SOAP operations and the types they use.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub doc: Option<String>,
    /// `soap:address` of the SOAP 1.1 port.
    pub soap11_address: Option<String>,
    /// `soap12:address` of the SOAP 1.2 port.
    pub soap12_address: Option<String>,
    pub operations: Vec<Operation>,
    /// Named types reachable from the operations.
    pub types: Vec<NamedType>,
    /// Operations sent by the server on its own (notification, solicit-response): skipped.
    pub skipped_operations: Vec<(String, Pos)>,
    /// Ports skipped (HTTP GET/POST, a second port of a SOAP binding already taken): name, why, where.
    pub skipped_ports: Vec<(String, String, Pos)>,
    /// Operations left out (with [`Dangling::Skip`]) because a message part names an
    /// element no schema declares: name, and the problem.
    pub dangling_operations: Vec<(String, Problem)>,
    pub pos: Pos,
}

/// A SOAP operation: document (wrapped or bare) or rpc, request-response or one-way.
#[derive(Debug)]
pub struct Operation {
    pub name: String,
    pub doc: Option<String>,
    /// `None` when the SOAP 1.1 binding lacks the operation.
    pub soap11_action: Option<String>,
    /// `None` when the SOAP 1.2 binding lacks the operation.
    pub soap12_action: Option<String>,
    /// How the messages sit in the SOAP body.
    pub layout: Layout,
    pub request: Wrapper,
    /// `None` for a one-way operation (no output).
    pub response: Option<Wrapper>,
    /// Parts carried in the SOAP header (`soap:header`) of the request and of the response.
    pub input_headers: Vec<Field>,
    pub output_headers: Vec<Field>,
    /// Declared faults (`wsdl:fault`), in document order.
    pub faults: Vec<Fault>,
    /// The operation in the port type.
    pub pos: Pos,
}

/// How an operation's messages sit in the SOAP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// document/literal wrapped: the single part's element holds the fields.
    Wrapped,
    /// document/literal bare: each part is an element of the body itself.
    Bare,
    /// rpc/literal: an element named after the operation holds one accessor per part.
    Rpc,
    /// rpc/encoded (SOAP 1.1 encoding): laid out as rpc, the accessors typed with `xsi:type`.
    RpcEncoded,
}

/// The body of a request or response: the element around the fields and the fields.
#[derive(Debug)]
pub struct Wrapper {
    /// The wrapper element; for a bare message, the element of its first part
    /// (or the operation's name without parts), which only names it.
    pub element: QName,
    pub fields: Vec<Field>,
}

/// A `wsdl:fault` of an operation: its name and the element of its detail.
#[derive(Debug)]
pub struct Fault {
    pub name: String,
    pub field: Field,
}

/// A named type a field refers to.
#[derive(Debug)]
pub struct NamedType {
    pub name: QName,
    pub doc: Option<String>,
    pub kind: TypeKind,
    pub pos: Pos,
}

#[derive(Debug)]
pub enum TypeKind {
    /// A sequence of elements; an extension's base fields come first.
    Struct { base: Option<QName>, fields: Vec<Field> },
    /// A restriction with enumerations, on a simple type.
    Enum { base: QName, values: Vec<String> },
    /// An `xs:choice`: one variant per alternative (each a single element, or a repeated one).
    Choice { alternatives: Vec<Field> },
}

/// A child element of a complex type.
#[derive(Debug)]
pub struct Field {
    pub element: QName,
    /// The declared type, as named in the schema (for documentation).
    pub type_name: QName,
    pub shape: Shape,
    /// The Rust-relevant type: of the value, or of each item for arrays.
    pub item: TypeRef,
    /// Held in a box: the field closes a cycle of types holding each other by value.
    pub boxed: bool,
    /// What an empty element stands for (`default` or `fixed` of a simple-typed element).
    pub default: Option<String>,
    pub doc: Option<String>,
    pub pos: Pos,
}

/// How a field maps to elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// At most one element.
    Single { optional: bool, nillable: bool },
    /// An `ArrayOfX` wrapper element holding repeated item elements.
    Array { optional: bool, nillable: bool, item_element: QName, item_type_name: QName, item_nillable: bool },
    /// A `soapenc:Array` accessor (SOAP 1.1 encoding) holding an item element
    /// per value, whatever their names; `item_type_name` is the items' type.
    EncodedArray { optional: bool, nillable: bool, item_type_name: QName },
    /// The element itself repeats (`maxOccurs` > 1).
    Repeated { item_nillable: bool },
    /// Whole elements kept as XML: `xs:any` (`wildcard`, any element the
    /// other fields do not take), an `xs:anyType` element or a DataSet's schema.
    Raw { optional: bool, repeated: bool, wildcard: bool },
    /// An XML attribute (`element` is its name); `default` or `fixed` is the
    /// value an absent one stands for.
    Attribute { required: bool, default: Option<String>, fixed: bool },
    /// The text of an element with simple content (`simpleContent`).
    Value,
    /// An `xs:choice`: `item` is its enum, `elements` the alternatives' elements.
    Choice { optional: bool, repeated: bool, elements: Vec<QName> },
    /// `xs:anyAttribute`: the attributes no other field takes.
    OtherAttributes,
}

impl Shape {
    /// True for fields that are child elements (not attributes or the text).
    pub fn is_element(&self) -> bool {
        !matches!(self, Shape::Attribute { .. } | Shape::Value | Shape::OtherAttributes)
    }
}

/// The type of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Builtin(Builtin),
    /// A struct or enum among [`Service::types`].
    Named(QName),
    /// XML kept as XML (see [`Shape::Raw`]).
    Raw,
    /// `xs:list`: whitespace-separated items of a simple type.
    List(Box<TypeRef>),
}

/// The namespace of the name of an `xs:any` field, which no element has.
pub const WILDCARD_NS: &str = "#any";

/// The namespace of the name of an `xs:choice` field, likewise.
pub const CHOICE_NS: &str = "#choice";

/// The namespace of `xml:lang` and the other `xml:` attributes.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// SOAP 1.1 encoding: `soapenc:Array`, and simple types named like XML Schema's.
pub const SOAP_ENCODING_NS: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// ASP.NET's schema of extra simple types (`char`, `guid`).
pub const MS_TYPES_NS: &str = "http://microsoft.com/wsdl/types/";

/// The XML Schema built-in types the generator maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    String,
    Boolean,
    Byte,
    Short,
    Int,
    Long,
    UnsignedByte,
    UnsignedShort,
    UnsignedInt,
    UnsignedLong,
    Float,
    Double,
    DateTime,
    Base64Binary,
    Decimal,
    /// `integer` and its unbounded kinds that admit negatives.
    Integer,
    /// `nonNegativeInteger` and `positiveInteger`.
    NonNegativeInteger,
    Date,
    Time,
    Duration,
    HexBinary,
    QName,
    /// ASP.NET's `char` (`http://microsoft.com/wsdl/types/`): a character code.
    Char,
}

impl Builtin {
    /// The built-in type with this local name in the XML Schema namespace.
    pub fn from_local(local: &str) -> Option<Builtin> {
        Some(match local {
            "string" => Builtin::String,
            "boolean" => Builtin::Boolean,
            "byte" => Builtin::Byte,
            "short" => Builtin::Short,
            "int" => Builtin::Int,
            "long" => Builtin::Long,
            "unsignedByte" => Builtin::UnsignedByte,
            "unsignedShort" => Builtin::UnsignedShort,
            "unsignedInt" => Builtin::UnsignedInt,
            "unsignedLong" => Builtin::UnsignedLong,
            "float" => Builtin::Float,
            "double" => Builtin::Double,
            "dateTime" => Builtin::DateTime,
            "base64Binary" => Builtin::Base64Binary,
            "decimal" => Builtin::Decimal,
            "integer" | "nonPositiveInteger" | "negativeInteger" => Builtin::Integer,
            "nonNegativeInteger" | "positiveInteger" => Builtin::NonNegativeInteger,
            "date" => Builtin::Date,
            "time" => Builtin::Time,
            "duration" => Builtin::Duration,
            "hexBinary" => Builtin::HexBinary,
            "QName" => Builtin::QName,
            // Text types whose facets narrow a string (lists of tokens are kept as written).
            "anyURI" | "normalizedString" | "token" | "language" | "Name" | "NCName" | "NMTOKEN" | "NMTOKENS"
            | "ID" | "IDREF" | "IDREFS" | "ENTITY" | "ENTITIES" | "NOTATION" | "gYear" | "gYearMonth" | "gMonth"
            | "gMonthDay" | "gDay" | "anySimpleType" => Builtin::String,
            _ => return None,
        })
    }
}
