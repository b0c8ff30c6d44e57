//! Attributes of complex types: declared ones, references to global ones and
//! attribute groups, resolved to fields with [`Shape::Attribute`].

use super::index::{lookup, qname, Index};
use super::types::{anonymous_name, Resolved, Walk};
use super::{Builtin, Field, QName, Shape, TypeRef, XML_NS};
use crate::diag::Problem;
use crate::parse::{AttributeDecl, Attributes, Schema, XSD_NS};

/// Attribute groups nested deeper than this are almost certainly circular.
const MAX_GROUP_DEPTH: usize = 32;

impl<'d> Index<'d> {
    /// The attribute fields of `attributes` (groups expanded), in document order;
    /// `prohibited` collects the names a restriction takes away.
    pub(super) fn attribute_fields(
        &self,
        attributes: &'d Attributes,
        schema: &'d Schema,
        path: &str,
        walk: &mut Walk<'d>,
        prohibited: &mut Vec<QName>,
        depth: usize,
    ) -> Vec<Field> {
        let mut fields = Vec::new();
        if let Some(at) = attributes.any {
            fields.push(Field {
                element: QName::new("", "other_attributes"),
                type_name: QName::new(XSD_NS, "anyAttribute"),
                shape: Shape::OtherAttributes,
                item: TypeRef::Raw,
                boxed: false,
                default: None,
                doc: None,
                pos: at,
            });
        }
        for decl in &attributes.declared {
            match self.attribute_field(decl, schema, path, walk) {
                Ok(field) if decl.prohibited => prohibited.push(field.element),
                Ok(field) => fields.push(field),
                Err(problem) => walk.report(problem),
            }
        }
        for (reference, at) in &attributes.groups {
            if depth > MAX_GROUP_DEPTH {
                walk.report(Problem::new(*at, format!("circular attributeGroup \"{}\"", reference.text)));
                continue;
            }
            let group = lookup(&self.attribute_groups, reference, "attributeGroup", *at);
            let Some(&(group, group_schema)) = walk.catch(group) else { continue };
            walk.problems.extend(group.problems.iter().cloned());
            fields.extend(self.attribute_fields(&group.attributes, group_schema, path, walk, prohibited, depth + 1));
        }
        fields
    }

    fn attribute_field(
        &self,
        decl: &'d AttributeDecl,
        schema: &'d Schema,
        path: &str,
        walk: &mut Walk<'d>,
    ) -> Result<Field, Problem> {
        walk.declared(&decl.problems)?;
        let (target, name) = match &decl.reference {
            Some(reference) => {
                let name = qname(reference, decl.pos)?;
                if name.namespace == XML_NS {
                    // `xml:lang`, `xml:space`…: text, declared by XML itself.
                    return Ok(attribute(decl, name, QName::new(XSD_NS, "string"), TypeRef::Builtin(Builtin::String)));
                }
                let &(global, global_schema) = lookup(&self.attributes, reference, "attribute", decl.pos)?;
                walk.declared(&global.problems)?;
                (global, QName::new(&global_schema.target_namespace, &global.name))
            }
            None => {
                let qualified = decl.form_qualified.unwrap_or(schema.attributes_qualified);
                (decl, QName::new(if qualified { &schema.target_namespace } else { "" }, &decl.name))
            }
        };
        let what = format!("attribute \"{}\"", decl.name);
        let (type_name, resolved) = match (&target.type_name, &target.inline) {
            (Some(written), _) => {
                let type_name = qname(written, target.pos)?;
                let resolved = self.named(&type_name, written, &what, target.pos, 0, walk)?;
                (type_name, resolved)
            }
            (None, Some(simple)) if !simple.enumerations.is_empty() => {
                walk.declared(&simple.problems)?;
                let type_name = anonymous_name(schema, path, &format!("@{}", decl.name));
                walk.anonymous_enum(&type_name, simple);
                (type_name.clone(), Resolved::Enum(type_name))
            }
            (None, Some(simple)) => {
                walk.declared(&simple.problems)?;
                let Some(base) = &simple.base else {
                    return Err(Problem::new(simple.pos, format!("no base in {what}")));
                };
                let type_name = qname(base, simple.pos)?;
                let resolved = self.named(&type_name, base, &what, simple.pos, 1, walk)?;
                (type_name, resolved)
            }
            // No type is `xs:anySimpleType`: text.
            (None, None) => (QName::new(XSD_NS, "anySimpleType"), Resolved::Builtin(Builtin::String)),
        };
        let item = match resolved {
            Resolved::Builtin(Builtin::QName) => {
                return Err(Problem::new(
                    decl.pos,
                    format!("unsupported {what} of type xs:QName: its prefix cannot be declared on the attribute"),
                ))
            }
            Resolved::Complex(..) | Resolved::Raw => {
                return Err(Problem::new(decl.pos, format!("{what} has a complex type \"{}\"", type_name.local)))
            }
            simple => self.value(&type_name, simple, walk),
        };
        Ok(attribute(decl, name, type_name, item))
    }
}

/// The field of an attribute: the reference's `use`, the target's or the reference's default.
fn attribute(decl: &AttributeDecl, name: QName, type_name: QName, item: TypeRef) -> Field {
    let fixed = decl.fixed.is_some();
    let shape =
        Shape::Attribute { required: decl.required, default: decl.fixed.clone().or(decl.default.clone()), fixed };
    Field { element: name, type_name, shape, item, boxed: false, default: None, doc: decl.doc.clone(), pos: decl.pos }
}
