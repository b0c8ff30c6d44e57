//! XML Schema attributes: `xs:attribute`, `xs:attributeGroup` (declarations
//! and references) inside complex types and at the top level of a schema.

use roxmltree::Node;

use super::xsd::{annotation_doc, simple_type, xsd_children, SimpleTypeDecl};
use super::{qname, qname_attr, tag, QNameRef, Source, WSDL_NS};
use crate::diag::{Pos, Problem};

/// `xs:attribute`: declared here, or a reference to a global one.
#[derive(Debug)]
pub struct AttributeDecl {
    pub name: String,
    /// `ref`: the global attribute this one stands for.
    pub reference: Option<QNameRef>,
    pub type_name: Option<QNameRef>,
    pub inline: Option<SimpleTypeDecl>,
    /// `use="required"`.
    pub required: bool,
    /// `use="prohibited"`: a restriction takes away an attribute of its base.
    pub prohibited: bool,
    pub default: Option<String>,
    pub fixed: Option<String>,
    /// An explicit `form`: `Some(true)` for `qualified`.
    pub form_qualified: Option<bool>,
    /// `wsdl:arrayType` (on `<attribute ref="soapenc:arrayType">` of a
    /// `soapenc:Array` restriction): the item type and the brackets after it (`[]`, `[][]`, `[,]`).
    pub array_type: Option<(QNameRef, String)>,
    pub doc: Option<String>,
    pub pos: Pos,
    pub problems: Vec<Problem>,
}

/// A named `xs:attributeGroup`.
#[derive(Debug)]
pub struct AttributeGroupDecl {
    pub name: String,
    pub attributes: Attributes,
    /// Reported where the group is used.
    pub problems: Vec<Problem>,
}

/// The attributes of a complex type, an extension or a group, in document order.
#[derive(Debug, Default)]
pub struct Attributes {
    pub declared: Vec<AttributeDecl>,
    /// `<xs:attributeGroup ref="…">`.
    pub groups: Vec<(QNameRef, Pos)>,
    /// `xs:anyAttribute`: attributes of other names are kept, with its position.
    pub any: Option<Pos>,
}

/// Reads `node` into `attributes` when it is about attributes; false when it is not.
pub(super) fn attribute_child(
    src: &Source<'_>,
    node: Node<'_, '_>,
    attributes: &mut Attributes,
    label: &str,
    problems: &mut Vec<Problem>,
) -> bool {
    match node.tag_name().name() {
        "attribute" => attributes.declared.push(attribute(src, node)),
        "attributeGroup" => match qname_attr(src, node, "ref") {
            Some(reference) => attributes.groups.push((reference, src.pos(node))),
            None => problems.push(Problem::new(src.pos(node), format!("<{}> without a ref in {label}", tag(node)))),
        },
        "anyAttribute" => attributes.any = Some(src.pos(node)),
        _ => return false,
    }
    true
}

pub(super) fn attribute(src: &Source<'_>, node: Node<'_, '_>) -> AttributeDecl {
    let reference = qname_attr(src, node, "ref");
    let name = match &reference {
        Some(reference) => reference.local.clone(),
        None => node.attribute("name").unwrap_or("").to_owned(),
    };
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(Problem::new(src.pos(node), format!("<{}> without a name", tag(node))));
    }
    let (required, prohibited) = match node.attribute("use").map(str::trim) {
        None | Some("optional") => (false, false),
        Some("required") => (true, false),
        Some("prohibited") => (false, true),
        Some(other) => {
            problems.push(Problem::new(src.pos(node), format!("invalid use=\"{other}\" in attribute \"{name}\"")));
            (false, false)
        }
    };
    let form_qualified = node.attribute("form").map(|form| form.trim() == "qualified");
    let label = format!("the type of attribute \"{name}\"");
    let mut inline = None;
    for child in xsd_children(node) {
        match child.tag_name().name() {
            "simpleType" => inline = Some(simple_type(src, child, &label)),
            "annotation" => {}
            _ => problems
                .push(Problem::new(src.pos(child), format!("unsupported <{}> in attribute \"{name}\"", tag(child)))),
        }
    }
    AttributeDecl {
        name,
        reference,
        type_name: qname_attr(src, node, "type"),
        inline,
        required,
        prohibited,
        default: node.attribute("default").map(str::to_owned),
        fixed: node.attribute("fixed").map(str::to_owned),
        form_qualified,
        array_type: node.attribute((WSDL_NS, "arrayType")).map(|value| {
            let value = value.trim();
            let (item, brackets) = value.split_at(value.find('[').unwrap_or(value.len()));
            (qname(src, node, item), brackets.chars().filter(|c| !c.is_whitespace()).collect())
        }),
        doc: annotation_doc(node),
        pos: src.pos(node),
        problems,
    }
}

pub(super) fn attribute_group(src: &Source<'_>, node: Node<'_, '_>) -> AttributeGroupDecl {
    let mut problems = Vec::new();
    let name = node.attribute("name").unwrap_or("").to_owned();
    let label = format!("attributeGroup \"{name}\"");
    let mut attributes = Attributes::default();
    for child in xsd_children(node) {
        if !attribute_child(src, child, &mut attributes, &label, &mut problems)
            && child.tag_name().name() != "annotation"
        {
            problems.push(Problem::new(src.pos(child), format!("unsupported <{}> in {label}", tag(child))));
        }
    }
    AttributeGroupDecl { name, attributes, problems }
}
