//! The XML Schema layer: the subset ASMX emits, everything else recorded as a problem.

use roxmltree::Node;

use super::attributes::{attribute, attribute_child, attribute_group, AttributeDecl, AttributeGroupDecl, Attributes};
use super::{documentation_text, elements, qname_attr, tag, Import, ImportKind, QNameRef, Source, XSD_NS};
use crate::diag::{Pos, Problem};

/// `xs:schema`.
#[derive(Debug)]
pub struct Schema {
    pub target_namespace: String,
    /// `elementFormDefault="qualified"`.
    pub qualified: bool,
    /// `attributeFormDefault="qualified"`.
    pub attributes_qualified: bool,
    pub elements: Vec<ElementDecl>,
    pub complex_types: Vec<ComplexTypeDecl>,
    pub simple_types: Vec<SimpleTypeDecl>,
    /// Global attributes and attribute groups, for references.
    pub attributes: Vec<AttributeDecl>,
    pub attribute_groups: Vec<AttributeGroupDecl>,
    /// Named model groups, for references.
    pub groups: Vec<GroupDecl>,
    /// `xsd:import`s and `xsd:include`s with a `schemaLocation`.
    pub imports: Vec<Import>,
    /// `xsd:redefine` and `xsd:override`: errors if `load` follows this schema's imports.
    pub problems: Vec<Problem>,
}

/// `xs:element`, top-level or inside a sequence; also `xs:any` (a wildcard)
/// and `<xs:element ref="…">` (the referenced element, with these occurrences).
#[derive(Debug)]
pub struct ElementDecl {
    pub name: String,
    /// `ref`: the global element this one stands for.
    pub reference: Option<QNameRef>,
    /// `xs:any`: any element.
    pub wildcard: bool,
    /// `xs:choice`: one of these alternatives (this declaration gives the occurrences).
    pub choice: Option<Vec<ElementDecl>>,
    /// `<xs:group ref="…">`: the named model group, in place.
    pub group: Option<QNameRef>,
    pub type_name: Option<QNameRef>,
    pub inline: Option<InlineType>,
    pub min_occurs: u64,
    pub max_occurs: MaxOccurs,
    pub nillable: bool,
    /// `default` or `fixed`: what an empty element stands for.
    pub default: Option<String>,
    /// An explicit `form` attribute: `Some(true)` for `qualified`.
    pub form_qualified: Option<bool>,
    pub doc: Option<String>,
    pub pos: Pos,
    pub problems: Vec<Problem>,
}

/// `maxOccurs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxOccurs {
    Bounded(u64),
    Unbounded,
}

/// An anonymous type declared inside an element.
#[derive(Debug)]
pub enum InlineType {
    Complex(Box<ComplexTypeDecl>),
    Simple(Box<SimpleTypeDecl>),
}

/// `xs:complexType`.
#[derive(Debug)]
pub struct ComplexTypeDecl {
    pub name: Option<String>,
    pub content: ComplexContent,
    /// Its own attributes (an extension's included), base attributes not.
    pub attributes: Attributes,
    pub doc: Option<String>,
    pub pos: Pos,
    pub problems: Vec<Problem>,
}

/// What a complex type holds, as far as the generator supports it.
#[derive(Debug)]
pub enum ComplexContent {
    Empty,
    Sequence(Vec<ElementDecl>),
    /// `complexContent/extension`: the base's fields, then these.
    Extension {
        base: QNameRef,
        fields: Vec<ElementDecl>,
    },
    /// `simpleContent`: a value of the base's simple type (or of the simple
    /// content of a base complex type), and attributes.
    Simple {
        base: QNameRef,
    },
    /// `complexContent/restriction`: these fields instead of the base's, its attributes kept.
    Restriction {
        base: QNameRef,
        fields: Vec<ElementDecl>,
    },
}

/// A named model group (`<xs:group name="…">`): its particles; a choice group
/// is one choice particle.
#[derive(Debug)]
pub struct GroupDecl {
    pub name: String,
    pub particles: Vec<ElementDecl>,
    pub problems: Vec<Problem>,
}

/// `xs:simpleType` with a `restriction`.
#[derive(Debug)]
pub struct SimpleTypeDecl {
    pub name: Option<String>,
    pub base: Option<QNameRef>,
    /// `xs:list`: the item type, named or anonymous.
    pub list: Option<ListItem>,
    /// `xs:union`: its values are kept as text.
    pub union: bool,
    pub enumerations: Vec<String>,
    pub doc: Option<String>,
    pub pos: Pos,
    pub problems: Vec<Problem>,
}

/// The items of an `xs:list`.
#[derive(Debug)]
pub enum ListItem {
    Named(QNameRef),
    Inline(Box<SimpleTypeDecl>),
}

pub(super) fn xsd_children<'a, 'input>(node: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    elements(node).filter(|child| child.tag_name().namespace() == Some(XSD_NS))
}

pub(super) fn annotation_doc(node: Node<'_, '_>) -> Option<String> {
    let annotation = xsd_children(node).find(|child| child.tag_name().name() == "annotation")?;
    let docs: Vec<String> = xsd_children(annotation)
        .filter(|child| child.tag_name().name() == "documentation")
        .filter_map(documentation_text)
        .collect();
    (!docs.is_empty()).then(|| docs.join("\n"))
}

/// A schema with no target namespace and no declarations.
pub(super) fn empty_schema() -> Schema {
    Schema {
        target_namespace: String::new(),
        qualified: false,
        attributes_qualified: false,
        elements: Vec::new(),
        complex_types: Vec::new(),
        simple_types: Vec::new(),
        attributes: Vec::new(),
        attribute_groups: Vec::new(),
        groups: Vec::new(),
        imports: Vec::new(),
        problems: Vec::new(),
    }
}

pub(super) fn schema(src: &Source<'_>, node: Node<'_, '_>) -> Schema {
    let mut schema = Schema {
        // A chameleon schema takes the namespace of the schema including it.
        target_namespace: node.attribute("targetNamespace").or(src.chameleon).unwrap_or("").to_owned(),
        qualified: node.attribute("elementFormDefault") == Some("qualified"),
        attributes_qualified: node.attribute("attributeFormDefault") == Some("qualified"),
        ..empty_schema()
    };
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "element" => schema.elements.push(element(src, child)),
            "complexType" => {
                let label = format!("complexType \"{}\"", child.attribute("name").unwrap_or(""));
                schema.complex_types.push(complex_type(src, child, &label));
            }
            "simpleType" => {
                let label = format!("simpleType \"{}\"", child.attribute("name").unwrap_or(""));
                schema.simple_types.push(simple_type(src, child, &label));
            }
            "attribute" => schema.attributes.push(attribute(src, child)),
            "attributeGroup" => schema.attribute_groups.push(attribute_group(src, child)),
            "group" => schema.groups.push(group(src, child)),
            // Without a `schemaLocation`, an import only says a namespace is used: its
            // declarations are those of the other schemas of the WSDL.
            kind @ ("import" | "include") => schema.imports.extend(child.attribute("schemaLocation").map(|location| {
                let include = kind == "include";
                Import {
                    kind: if include { ImportKind::Include } else { ImportKind::Schema },
                    location: location.trim().to_owned(),
                    namespace: if include {
                        Some(schema.target_namespace.clone())
                    } else {
                        child.attribute("namespace").map(str::to_owned)
                    },
                    pos: src.pos(child),
                }
            })),
            "redefine" | "override" => schema.problems.push(unsupported(src, child, "a schema")),
            // `annotation`, `notation`; groups only matter where they are used, and every use is reported there.
            _ => {}
        }
    }
    schema
}

/// An element declaration, an element reference or a wildcard (`xs:any`).
fn element(src: &Source<'_>, node: Node<'_, '_>) -> ElementDecl {
    let reference = qname_attr(src, node, "ref");
    let wildcard = node.tag_name().name() == "any";
    let is_choice = node.tag_name().name() == "choice";
    let is_group = node.tag_name().name() == "group";
    let name = match (&reference, wildcard, is_choice) {
        (Some(reference), _, _) => reference.local.as_str(),
        (None, true, _) => "any",
        (None, false, true) => "choice",
        (None, false, false) => node.attribute("name").unwrap_or(""),
    };
    let mut problems = Vec::new();
    let mut invalid = |attribute: &str, value: &str| {
        problems.push(Problem::new(src.pos(node), format!("invalid {attribute}=\"{value}\" in element \"{name}\"")));
    };
    let min_occurs = match node.attribute("minOccurs") {
        None => 1,
        Some(text) => text.trim().parse().unwrap_or_else(|_| {
            invalid("minOccurs", text);
            1
        }),
    };
    let max_occurs = match node.attribute("maxOccurs").map(str::trim) {
        None => MaxOccurs::Bounded(1),
        Some("unbounded") => MaxOccurs::Unbounded,
        Some(text) => MaxOccurs::Bounded(text.parse().unwrap_or_else(|_| {
            invalid("maxOccurs", text);
            1
        })),
    };
    let nillable = match node.attribute("nillable").map(str::trim) {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(text) => {
            invalid("nillable", text);
            false
        }
    };
    let form_qualified = match node.attribute("form").map(str::trim) {
        None => None,
        Some("qualified") => Some(true),
        Some("unqualified") => Some(false),
        Some(text) => {
            invalid("form", text);
            None
        }
    };
    if name.is_empty() {
        problems.push(Problem::new(src.pos(node), format!("<{}> without a name", tag(node))));
    }
    // Read without them, the data would silently miss the substitutes.
    for (attribute, what) in [("substitutionGroup", "substitution groups")] {
        if let Some(value) = node.attribute(attribute) {
            problems.push(Problem::new(
                src.pos(node),
                format!("unsupported {attribute}=\"{value}\" ({what}) in element \"{name}\""),
            ));
        }
    }
    if matches!(node.attribute("abstract").map(str::trim), Some("true" | "1")) {
        problems
            .push(Problem::new(src.pos(node), format!("unsupported abstract element (abstract=\"true\") \"{name}\"")));
    }
    let label = format!("the type of element \"{name}\"");
    let mut inline = None;
    let choice = is_choice.then(|| particles(src, node, "a choice", &mut problems));
    for child in xsd_children(node).filter(|_| !is_choice && !is_group) {
        match child.tag_name().name() {
            "complexType" => inline = Some(InlineType::Complex(Box::new(complex_type(src, child, &label)))),
            "simpleType" => inline = Some(InlineType::Simple(Box::new(simple_type(src, child, &label)))),
            "annotation" => {}
            // Identity constraints do not change the shape of the data.
            "key" | "keyref" | "unique" => {}
            _ => problems.push(unsupported(src, child, &format!("element \"{name}\""))),
        }
    }
    ElementDecl {
        name: name.to_owned(),
        reference,
        wildcard,
        choice,
        group: if is_group { qname_attr(src, node, "ref") } else { None },
        type_name: qname_attr(src, node, "type"),
        inline,
        min_occurs,
        max_occurs,
        nillable,
        default: node.attribute("fixed").or(node.attribute("default")).map(str::to_owned),
        form_qualified,
        doc: annotation_doc(node),
        pos: src.pos(node),
        problems,
    }
}

fn unsupported(src: &Source<'_>, node: Node<'_, '_>, label: &str) -> Problem {
    Problem::new(src.pos(node), format!("unsupported <{}> in {label}", tag(node)))
}

fn complex_type(src: &Source<'_>, node: Node<'_, '_>, label: &str) -> ComplexTypeDecl {
    let mut problems = Vec::new();
    let mixed = matches!(node.attribute("mixed"), Some("true" | "1"));
    // Only derived types could appear in its place, and derivation by `xsi:type` is not supported.
    if matches!(node.attribute("abstract").map(str::trim), Some("true" | "1")) {
        problems.push(Problem::new(src.pos(node), format!("unsupported abstract type (abstract=\"true\") in {label}")));
    }
    let mut content = ComplexContent::Empty;
    let mut attributes = Attributes::default();
    for child in xsd_children(node) {
        if attribute_child(src, child, &mut attributes, label, &mut problems) {
            continue;
        }
        match child.tag_name().name() {
            "annotation" => {}
            "sequence" => content = ComplexContent::Sequence(sequence(src, child, label, &mut problems)),
            // The children of `all` come in any order, and are read in any order anyway.
            "all" => content = ComplexContent::Sequence(particles(src, child, label, &mut problems)),
            "choice" => content = ComplexContent::Sequence(vec![element(src, child)]),
            "complexContent" => {
                if let Some(extension) = complex_content(src, child, label, &mut attributes, &mut problems) {
                    content = extension;
                }
            }
            "simpleContent" => {
                if let Some(simple) = simple_content(src, child, label, &mut attributes, &mut problems) {
                    content = simple;
                }
            }
            _ => problems.push(unsupported(src, child, label)),
        }
    }
    let text_only = match &content {
        ComplexContent::Empty => true,
        ComplexContent::Sequence(particles) => particles.is_empty(),
        _ => false,
    };
    if mixed && text_only {
        // Text and no child element: a string value, with the attributes.
        let base =
            QNameRef { text: "xs:string".to_owned(), namespace: Some(XSD_NS.to_owned()), local: "string".to_owned() };
        content = ComplexContent::Simple { base };
    } else if mixed {
        problems.push(Problem::new(
            src.pos(node),
            format!("unsupported mixed content (mixed=\"true\", text between child elements) in {label}"),
        ));
    }
    ComplexTypeDecl {
        name: node.attribute("name").map(str::to_owned),
        content,
        attributes,
        doc: annotation_doc(node),
        pos: src.pos(node),
        problems,
    }
}

/// `complexContent`: an `extension` or a `restriction` of a complex base.
fn complex_content(
    src: &Source<'_>,
    node: Node<'_, '_>,
    label: &str,
    attributes: &mut Attributes,
    problems: &mut Vec<Problem>,
) -> Option<ComplexContent> {
    if matches!(node.attribute("mixed"), Some("true" | "1")) {
        problems.push(Problem::new(src.pos(node), format!("unsupported mixed content (mixed=\"true\") in {label}")));
    }
    let mut content = None;
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "annotation" => {}
            derivation @ ("extension" | "restriction") => {
                let Some(base) = qname_attr(src, child, "base") else {
                    problems.push(Problem::new(src.pos(child), format!("<{}> without a base in {label}", tag(child))));
                    continue;
                };
                let mut fields = Vec::new();
                for grandchild in xsd_children(child) {
                    if attribute_child(src, grandchild, attributes, label, problems) {
                        continue;
                    }
                    match grandchild.tag_name().name() {
                        "annotation" => {}
                        "sequence" => fields = sequence(src, grandchild, label, problems),
                        "all" => fields = particles(src, grandchild, label, problems),
                        "choice" | "group" => fields = vec![element(src, grandchild)],
                        _ => problems.push(unsupported(src, grandchild, label)),
                    }
                }
                content = Some(if derivation == "extension" {
                    ComplexContent::Extension { base, fields }
                } else {
                    ComplexContent::Restriction { base, fields }
                });
            }
            _ => problems.push(unsupported(src, child, label)),
        }
    }
    content
}

/// `simpleContent`: an `extension` or `restriction` of a simple base, with attributes.
fn simple_content(
    src: &Source<'_>,
    node: Node<'_, '_>,
    label: &str,
    attributes: &mut Attributes,
    problems: &mut Vec<Problem>,
) -> Option<ComplexContent> {
    let mut content = None;
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "annotation" => {}
            "extension" | "restriction" => {
                let Some(base) = qname_attr(src, child, "base") else {
                    problems.push(Problem::new(src.pos(child), format!("<{}> without a base in {label}", tag(child))));
                    continue;
                };
                for grandchild in xsd_children(child) {
                    if attribute_child(src, grandchild, attributes, label, problems) {
                        continue;
                    }
                    match grandchild.tag_name().name() {
                        // Facets narrow the value, not its Rust type.
                        "annotation" | "enumeration" | "pattern" | "length" | "minLength" | "maxLength"
                        | "minInclusive" | "maxInclusive" | "minExclusive" | "maxExclusive" | "totalDigits"
                        | "fractionDigits" | "whiteSpace" => {}
                        _ => problems.push(unsupported(src, grandchild, label)),
                    }
                }
                content = Some(ComplexContent::Simple { base });
            }
            _ => problems.push(unsupported(src, child, label)),
        }
    }
    content
}

fn sequence(src: &Source<'_>, node: Node<'_, '_>, label: &str, problems: &mut Vec<Problem>) -> Vec<ElementDecl> {
    for attribute in ["minOccurs", "maxOccurs"] {
        if let Some(value) = node.attribute(attribute).filter(|value| value.trim() != "1") {
            problems.push(Problem::new(
                src.pos(node),
                format!("unsupported <{} {attribute}=\"{value}\"> (a repeated sequence) in {label}", tag(node)),
            ));
        }
    }
    particles(src, node, label, problems)
}

fn group(src: &Source<'_>, node: Node<'_, '_>) -> GroupDecl {
    let name = node.attribute("name").unwrap_or("").to_owned();
    let label = format!("group \"{name}\"");
    let mut problems = Vec::new();
    let mut particles_found = Vec::new();
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "annotation" => {}
            "sequence" => particles_found = sequence(src, child, &label, &mut problems),
            "all" => particles_found = particles(src, child, &label, &mut problems),
            "choice" => particles_found = vec![element(src, child)],
            _ => problems.push(unsupported(src, child, &label)),
        }
    }
    GroupDecl { name, particles: particles_found, problems }
}

/// The elements, wildcards and choices of a sequence, `all` or choice; a
/// nested sequence that occurs once is flattened into it.
fn particles(src: &Source<'_>, node: Node<'_, '_>, label: &str, problems: &mut Vec<Problem>) -> Vec<ElementDecl> {
    let mut fields = Vec::new();
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "annotation" => {}
            "element" | "any" | "choice" | "group" => fields.push(element(src, child)),
            "sequence" => fields.extend(sequence(src, child, label, problems)),
            _ => problems.push(unsupported(src, child, label)),
        }
    }
    fields
}

pub(super) fn simple_type(src: &Source<'_>, node: Node<'_, '_>, label: &str) -> SimpleTypeDecl {
    let mut decl = SimpleTypeDecl {
        name: node.attribute("name").map(str::to_owned),
        base: None,
        list: None,
        union: false,
        enumerations: Vec::new(),
        doc: annotation_doc(node),
        pos: src.pos(node),
        problems: Vec::new(),
    };
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "annotation" => {}
            "restriction" => {
                decl.base = qname_attr(src, child, "base");
                for facet in xsd_children(child) {
                    match facet.tag_name().name() {
                        "enumeration" => {
                            let value = facet.attribute("value").unwrap_or("").to_owned();
                            if !decl.enumerations.contains(&value) {
                                decl.enumerations.push(value);
                            }
                        }
                        "simpleType" => decl.problems.push(Problem::new(
                            src.pos(facet),
                            format!("unsupported anonymous base <{}> in {label}", tag(facet)),
                        )),
                        // Other facets (pattern, length, bounds) narrow the values, not the Rust type.
                        _ => {}
                    }
                }
                if decl.base.is_none() && decl.problems.is_empty() {
                    decl.problems
                        .push(Problem::new(src.pos(child), format!("<{}> without a base in {label}", tag(child))));
                }
            }
            "list" => {
                decl.list = match qname_attr(src, child, "itemType") {
                    Some(item) => Some(ListItem::Named(item)),
                    None => xsd_children(child)
                        .find(|item| item.tag_name().name() == "simpleType")
                        .map(|item| ListItem::Inline(Box::new(simple_type(src, item, label)))),
                };
                if decl.list.is_none() {
                    decl.problems.push(Problem::new(
                        src.pos(child),
                        format!("<{}> without an item type in {label}", tag(child)),
                    ));
                }
            }
            "union" => decl.union = true,
            _ => decl.problems.push(unsupported(src, child, label)),
        }
    }
    if decl.base.is_none() && decl.list.is_none() && !decl.union && decl.problems.is_empty() {
        decl.problems.push(Problem::new(decl.pos, format!("{label} has no <restriction>, <list> or <union>")));
    }
    decl
}
