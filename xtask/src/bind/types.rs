//! The WSDL's named types: structs and enumerations.

use std::collections::BTreeSet;

use super::fields::{self, type_display};
use crate::diag::Problem;
use crate::model::{Field, NamedType, QName, TypeKind};
use crate::names::{self, ServiceNames};
use crate::plan::{self, code, Doc, Enum, Struct, Variant};

/// `attribute_types`: the types some attribute holds.
pub(super) fn named_type(
    named: &NamedType,
    names: &ServiceNames,
    attribute_types: &BTreeSet<QName>,
) -> Result<plan::NamedType, Problem> {
    let ident = fields::type_name(&named.name, names, named.pos)?;
    let local = code(&named.name.local);
    let namespace = code(&named.name.namespace);
    // Hoisted anonymous types are named by the path of their element (`Parent/element`).
    let what = |kind: &str| match named.name.local.rsplit_once('/') {
        Some((_, element)) => {
            format!("The anonymous {kind} type of element {} (at {local}, namespace {namespace})", code(element))
        }
        None => {
            format!("{} type {local} (namespace {namespace})", if kind == "complex" { "Complex" } else { "Simple" })
        }
    };
    Ok(match &named.kind {
        TypeKind::Struct { base, fields } => {
            let base_note = base
                .as_ref()
                .map(|base| format!("Extends {}: the fields of the base type come first.", code(&base.local)));
            let doc = Doc::new()
                .line(format!("{}.", what("complex")))
                .prose(base_note.as_deref())
                .prose(named.doc.as_deref());
            let fields: Vec<&Field> = fields.iter().collect();
            plan::NamedType::Struct(Struct { ident, doc, fields: fields::fields(&fields, names)? })
        }
        TypeKind::Choice { alternatives } => {
            let doc = Doc::new().line(format!("{}: one of its alternatives.", what("choice")));
            let alternatives: Vec<&Field> = alternatives.iter().collect();
            let mut variants = fields::fields(&alternatives, names)?;
            let locals: Vec<String> = alternatives.iter().map(|field| field.element.local.clone()).collect();
            for (variant, ident) in variants.iter_mut().zip(names::variant_names(&locals)) {
                variant.ident = ident;
            }
            plan::NamedType::Choice(plan::ChoiceEnum { ident, doc, variants, fault: false })
        }
        TypeKind::Enum { base, values } => {
            let doc = Doc::new()
                .line(format!("{}: an enumeration of {} values.", what("simple"), code(&type_display(base))))
                .prose(named.doc.as_deref())
                .line(format!("Values the WSDL does not list are kept in {}.", code(names::UNKNOWN_VARIANT)));
            let variants = names::variant_names(values)
                .into_iter()
                .zip(values)
                .map(|(ident, value)| {
                    let text =
                        if value.is_empty() { "The empty value.".to_owned() } else { format!("{}.", code(value)) };
                    Variant { ident, value: value.clone(), doc: Doc::new().line(text) }
                })
                .collect();
            let attribute_value = attribute_types.contains(&named.name);
            plan::NamedType::Enum(Enum {
                ident,
                attribute_value,
                doc,
                variants,
                unknown: names::UNKNOWN_VARIANT.to_owned(),
            })
        }
    })
}
