//! Declarations of a WSDL by QName, and the lookups every resolution step uses.

use std::collections::BTreeMap;

use super::QName;
use crate::diag::{Pos, Problem};
use crate::parse::{
    AttributeDecl, AttributeGroupDecl, Binding, ComplexTypeDecl, Definitions, ElementDecl, GroupDecl, Message,
    PortType, QNameRef, Schema, SimpleTypeDecl,
};

/// Declarations by name. Names defined twice are only an error when used.
pub(super) struct Index<'d> {
    pub elements: BTreeMap<QName, Vec<(&'d ElementDecl, &'d Schema)>>,
    pub complex_types: BTreeMap<QName, Vec<(&'d ComplexTypeDecl, &'d Schema)>>,
    pub simple_types: BTreeMap<QName, Vec<&'d SimpleTypeDecl>>,
    pub attributes: BTreeMap<QName, Vec<(&'d AttributeDecl, &'d Schema)>>,
    pub attribute_groups: BTreeMap<QName, Vec<(&'d AttributeGroupDecl, &'d Schema)>>,
    pub groups: BTreeMap<QName, Vec<(&'d GroupDecl, &'d Schema)>>,
    pub messages: BTreeMap<QName, Vec<&'d Message>>,
    pub port_types: BTreeMap<QName, Vec<&'d PortType>>,
    pub bindings: BTreeMap<QName, Vec<&'d Binding>>,
    /// The WSDL's target namespace.
    pub target_namespace: &'d str,
    /// Where the accessors of `type` parts are declared.
    pub no_schema: &'d Schema,
}

/// The QName `reference` names; an undeclared prefix is an error.
pub(super) fn qname(reference: &QNameRef, at: Pos) -> Result<QName, Problem> {
    match &reference.namespace {
        Some(namespace) => Ok(QName::new(namespace, &reference.local)),
        None => {
            let prefix = reference.text.split(':').next().unwrap_or("");
            Err(Problem::new(
                at,
                format!("unresolvable QName \"{}\": prefix \"{prefix}\" is not declared", reference.text),
            ))
        }
    }
}

/// The one declaration of `map` that `reference` names.
pub(super) fn lookup<'m, T>(
    map: &'m BTreeMap<QName, Vec<T>>,
    reference: &QNameRef,
    what: &str,
    at: Pos,
) -> Result<&'m T, Problem> {
    let name = qname(reference, at)?;
    match map.get(&name).map(Vec::as_slice) {
        Some([one]) => Ok(one),
        Some([_, ..]) => Err(Problem::new(at, format!("{what} \"{}\" is defined more than once", reference.text))),
        _ => Err(Problem::new(at, format!("unresolvable {what} \"{}\" ({name:?})", reference.text))),
    }
}

impl<'d> Index<'d> {
    pub fn new(definitions: &'d Definitions) -> Self {
        let mut index = Index {
            elements: BTreeMap::new(),
            complex_types: BTreeMap::new(),
            simple_types: BTreeMap::new(),
            attributes: BTreeMap::new(),
            attribute_groups: BTreeMap::new(),
            groups: BTreeMap::new(),
            messages: BTreeMap::new(),
            port_types: BTreeMap::new(),
            bindings: BTreeMap::new(),
            target_namespace: &definitions.target_namespace,
            no_schema: &definitions.no_schema,
        };
        for schema in &definitions.schemas {
            let name = |local: &str| QName::new(&schema.target_namespace, local);
            for element in &schema.elements {
                index.elements.entry(name(&element.name)).or_default().push((element, schema));
            }
            for complex in &schema.complex_types {
                if let Some(local) = &complex.name {
                    index.complex_types.entry(name(local)).or_default().push((complex, schema));
                }
            }
            for attribute in &schema.attributes {
                index.attributes.entry(name(&attribute.name)).or_default().push((attribute, schema));
            }
            for group in &schema.groups {
                index.groups.entry(name(&group.name)).or_default().push((group, schema));
            }
            for group in &schema.attribute_groups {
                index.attribute_groups.entry(name(&group.name)).or_default().push((group, schema));
            }
            for simple in &schema.simple_types {
                if let Some(local) = &simple.name {
                    index.simple_types.entry(name(local)).or_default().push(simple);
                }
            }
        }
        // Each in the target namespace of the definitions holding it (an imported WSDL's own).
        for message in &definitions.messages {
            index.messages.entry(QName::new(&message.namespace, &message.name)).or_default().push(message);
        }
        for port_type in &definitions.port_types {
            index.port_types.entry(QName::new(&port_type.namespace, &port_type.name)).or_default().push(port_type);
        }
        for binding in &definitions.bindings {
            index.bindings.entry(QName::new(&binding.namespace, &binding.name)).or_default().push(binding);
        }
        index
    }
}
