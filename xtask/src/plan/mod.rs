//! The plan: every Rust-level decision about the generated files, made by
//! `bind` and rendered by `emit`.
//!
//! Plain data, so that a decision can be read (see the `plan.txt` snapshots)
//! and tested without tokens: no XML, no `quote`, no `proc_macro2`.
//! Identifiers are held as written without `r#`; `emit` spells keywords raw.

mod doc;
mod dump;

pub use doc::{code, single_line, Doc, Paragraph};

/// Every file one run generates.
#[derive(Debug)]
pub struct Plan {
    /// One module per service, in the order of the inputs.
    pub services: Vec<ServiceModule>,
    /// `status.rs`, when the annotations have status tables.
    pub status: Option<StatusModule>,
    /// `mod.rs`.
    pub index: Index,
}

/// `mod.rs`: the modules it declares, sorted.
#[derive(Debug)]
pub struct Index {
    pub modules: Vec<String>,
}

/// `<module>.rs` for one service.
#[derive(Debug)]
pub struct ServiceModule {
    /// The module, and its file name without `.rs`.
    pub module: String,
    pub doc: Doc,
    pub namespaces: Vec<NamespaceConst>,
    pub meta: ServiceMeta,
    /// Sorted by operation name.
    pub operations: Vec<Operation>,
    pub types: Vec<NamedType>,
}

/// A constant holding a namespace URI.
#[derive(Debug)]
pub struct NamespaceConst {
    pub name: String,
    pub uri: String,
    pub doc: Doc,
}

/// The values of the module's `SERVICE` constant.
#[derive(Debug)]
pub struct ServiceMeta {
    /// The WSDL's service name.
    pub name: String,
    /// The last path segment of the address (`send.asmx`).
    pub endpoint: String,
    pub default_address: String,
    /// The WSDL path, as given.
    pub source: String,
    pub doc: Doc,
}

/// One SOAP operation: its `…Request` and `…Response` types and metadata.
#[derive(Debug)]
pub struct Operation {
    /// The WSDL's operation name.
    pub name: String,
    pub soap11_action: Option<String>,
    pub soap12_action: Option<String>,
    pub retry_safe: bool,
    /// How the messages sit in the body (`BodyStyle` of the runtime).
    pub body: BodyStyle,
    pub request: Request,
    /// `None` for a one-way operation.
    pub response: Option<Response>,
}

/// `BodyStyle` of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStyle {
    Wrapped,
    Bare,
    Rpc,
}

#[derive(Debug)]
pub struct Request {
    pub ident: String,
    pub doc: Doc,
    /// The wrapper element.
    pub element: ElementName,
    /// Fields and credential slots, in document order.
    pub children: Vec<Child>,
    pub credentials: CredentialPlacement,
    /// The request's SOAP header elements, as a field of their own struct.
    pub headers: Option<Headers>,
}

#[derive(Debug)]
pub struct Response {
    pub ident: String,
    pub doc: Doc,
    /// The wrapper element.
    pub element: ElementName,
    pub fields: Vec<Field>,
    pub status: Option<StatusBinding>,
    /// The response's SOAP header elements, as a field of their own struct.
    pub headers: Option<Headers>,
}

/// A request's or response's field holding its SOAP header elements.
#[derive(Debug)]
pub struct Headers {
    /// The field.
    pub field: String,
    pub doc: Doc,
    /// Its struct (among the module's types).
    pub ty: String,
    /// The header elements, for `mustUnderstand`.
    pub elements: Vec<ElementName>,
}

/// Where a request carries the credentials (`CredentialPlacement` of the runtime).
#[derive(Debug, Clone)]
pub enum CredentialPlacement {
    /// The request takes none.
    None,
    /// As the request's own elements: its [`Child::Credential`] slots.
    Body,
    /// As the two string children of a SOAP header element (ASP.NET `[SoapHeader]`).
    Header { element: ElementName, username: String, password: String },
}

/// A child element of a request wrapper.
#[derive(Debug)]
pub enum Child {
    Field(Field),
    /// Written and read by the runtime, not a field of the struct.
    Credential(CredentialSlot),
}

#[derive(Debug)]
pub struct CredentialSlot {
    pub element: ElementName,
    pub credential: Credential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Username,
    Password,
}

/// A struct field and the element it is written to and read from.
#[derive(Debug)]
pub struct Field {
    pub ident: String,
    /// The local variable that collects the field while reading.
    pub local: String,
    pub ty: RustType,
    pub element: ElementName,
    pub codec: Codec,
    /// What an empty element stands for (`default`/`fixed`), for `Codec::Single`.
    pub default: Option<String>,
    pub doc: Doc,
}

/// Which runtime codec writes and reads a field.
#[derive(Debug)]
pub enum Codec {
    /// At most one element (`Slot`).
    Single,
    /// A wrapper element holding `item` elements (`ArraySlot`).
    Array { item: ElementName },
    /// The element itself repeats (`Repeated`).
    Repeated,
    /// Whole elements kept as XML (`RawSlot`): those named `element`, or with
    /// `None` every element no other field takes (`xs:any`).
    Raw { element: Option<ElementName> },
    /// An XML attribute of the element (`read_attribute`, `attribute_field`).
    Attribute,
    /// The element's text (simple content), with `XmlContent` of the value.
    Value,
    /// A choice enum (`ChoiceSlot`); `elements` are its alternatives' elements.
    Choice { elements: Vec<ElementName> },
    /// `xs:anyAttribute`: the attributes other than `declared` (`read_other_attributes`).
    OtherAttributes { declared: Vec<ElementName> },
}

/// An element name as the generated code spells it.
#[derive(Debug, Clone)]
pub struct ElementName {
    pub namespace: Namespace,
    pub local: String,
}

/// A namespace URI as the generated code spells it.
#[derive(Debug, Clone)]
pub enum Namespace {
    /// One of the module's [`NamespaceConst`]s, by name.
    Constant(String),
    /// The URI as a string literal (the empty namespace).
    Literal(String),
}

/// The Rust type of a field.
#[derive(Debug, Clone)]
pub enum RustType {
    Scalar(Scalar),
    /// A struct or enum of the same module.
    Named(String),
    Option(Box<RustType>),
    Nillable(Box<RustType>),
    /// A field that closes a cycle of types holding each other.
    Boxed(Box<RustType>),
    /// `xs:list`: whitespace-separated items.
    List(Box<RustType>),
    Vec(Box<RustType>),
}

/// Types from the standard library and the runtime.
#[derive(Debug, Clone, Copy)]
pub enum Scalar {
    String,
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    PanelDateTime,
    Bytes,
    RawXml,
    AnyAttribute,
    Decimal,
    I128,
    U128,
    Date,
    Time,
    Duration,
    HexBinary,
    QName,
    Char,
}

/// `result_status()` on a response: a field read as a status enum.
#[derive(Debug)]
pub struct StatusBinding {
    /// The response field holding the code.
    pub field: String,
    /// The status module, a sibling of the service module.
    pub module: String,
    /// The enum in that module.
    pub status_enum: String,
    pub doc: Doc,
}

/// A named type of the WSDL.
#[derive(Debug)]
pub enum NamedType {
    Struct(Struct),
    Enum(Enum),
    Choice(ChoiceEnum),
}

/// An `xs:choice`: a variant per alternative, each written and read like a field.
/// Also the declared faults of an operation (`fault`): a variant per fault.
#[derive(Debug)]
pub struct ChoiceEnum {
    pub ident: String,
    pub doc: Doc,
    /// The alternatives; `ident` is the variant's name.
    pub variants: Vec<Field>,
    /// The enum of an operation's declared faults (read from a fault's detail).
    pub fault: bool,
}

#[derive(Debug)]
pub struct Struct {
    pub ident: String,
    pub doc: Doc,
    pub fields: Vec<Field>,
}

/// An enumeration with a catch-all variant for values it does not list.
#[derive(Debug)]
pub struct Enum {
    pub ident: String,
    /// Some attribute holds it: it is also an `AttributeValue`.
    pub attribute_value: bool,
    pub doc: Doc,
    pub variants: Vec<Variant>,
    /// The catch-all variant, holding the value as sent.
    pub unknown: String,
}

#[derive(Debug)]
pub struct Variant {
    pub ident: String,
    /// The value on the wire.
    pub value: String,
    pub doc: Doc,
}

/// `status.rs`: one enum per status table.
#[derive(Debug)]
pub struct StatusModule {
    pub enums: Vec<StatusEnum>,
}

#[derive(Debug)]
pub struct StatusEnum {
    pub ident: String,
    pub doc: Doc,
    pub variants: Vec<StatusVariant>,
    /// Whether the codes say if a status is final (`is_final()`).
    pub has_final: bool,
}

#[derive(Debug)]
pub struct StatusVariant {
    pub ident: String,
    pub code: i32,
    pub english: String,
    pub persian: String,
    pub success: bool,
    pub is_final: bool,
    pub doc: Doc,
}
