//! Struct fields: their names, Rust types, codecs, element names and docs.

use crate::diag::{Pos, Problem};
use crate::model::{Builtin, Field, QName, Shape, TypeRef, SOAP_ENCODING_NS};
use crate::names::{self, ServiceNames};
use crate::plan::{self, code, Codec, Doc, ElementName, Namespace, RustType, Scalar};

/// The fields of one struct, named together, in document order.
pub(super) fn fields(fields: &[&Field], names: &ServiceNames) -> Result<Vec<plan::Field>, Problem> {
    let field_names = names::field_names(fields.iter().map(|field| field.element.local.as_str()));
    let mut planned = Vec::new();
    for ((field, ident), local) in fields.iter().zip(field_names.fields).zip(field_names.locals) {
        let codec = match &field.shape {
            Shape::Single { .. } => Codec::Single,
            Shape::Array { item_element, .. } => Codec::Array { item: element_name(item_element, names) },
            Shape::EncodedArray { item_type_name, .. } => {
                Codec::EncodedArray { item_type: element_name(&xsi_type_name(item_type_name), names) }
            }
            Shape::Repeated { .. } => Codec::Repeated,
            Shape::Raw { wildcard: true, .. } => Codec::Raw { element: None },
            Shape::Raw { wildcard: false, .. } => Codec::Raw { element: Some(element_name(&field.element, names)) },
            Shape::Attribute { .. } => Codec::Attribute,
            Shape::Value => Codec::Value,
            Shape::Choice { elements, .. } => {
                Codec::Choice { elements: elements.iter().map(|element| element_name(element, names)).collect() }
            }
            Shape::OtherAttributes => Codec::OtherAttributes {
                declared: fields
                    .iter()
                    .filter(|other| matches!(other.shape, Shape::Attribute { .. }))
                    .map(|other| element_name(&other.element, names))
                    .collect(),
            },
        };
        planned.push(plan::Field {
            ident,
            local,
            ty: rust_type(field, names)?,
            element: element_name(&field.element, names),
            codec,
            default: field.default.clone(),
            doc: doc(field, None),
        });
    }
    Ok(planned)
}

/// The accessors of a SOAP-encoded message carry their type (`xsi:type`):
/// single values become [`Codec::Typed`]; `planned` are `fields`, bound.
pub(super) fn type_accessors(planned: &mut [plan::Field], fields: &[&Field], names: &ServiceNames) {
    for (planned, field) in planned.iter_mut().zip(fields) {
        // Anonymous types have no name to give.
        if matches!(planned.codec, Codec::Single) && !field.type_name.local.contains('/') {
            planned.codec = Codec::Typed { xsi_type: element_name(&xsi_type_name(&field.type_name), names) };
        }
    }
}

/// The name `xsi:type` gives a type: SOAP encoding's simple types as their XML Schema twins.
pub(super) fn xsi_type_name(name: &QName) -> QName {
    if name.namespace == SOAP_ENCODING_NS && Builtin::from_local(&name.local).is_some() {
        QName::new(crate::parse::XSD_NS, &name.local)
    } else {
        name.clone()
    }
}

/// An element as the module spells it: its namespace constant, or the URI.
pub(super) fn element_name(element: &QName, names: &ServiceNames) -> ElementName {
    let namespace = match names.namespaces.get(&element.namespace) {
        Some(constant) => Namespace::Constant(constant.clone()),
        None => Namespace::Literal(element.namespace.clone()),
    };
    ElementName { namespace, local: element.local.clone() }
}

/// The Rust name of a named type of the service.
pub(super) fn type_name(name: &QName, names: &ServiceNames, at: Pos) -> Result<String, Problem> {
    names
        .types
        .get(name)
        .cloned()
        .ok_or_else(|| Problem::new(at, format!("internal error: type {name:?} has no Rust name")))
}

fn scalar(builtin: Builtin) -> Scalar {
    match builtin {
        Builtin::String => Scalar::String,
        Builtin::Boolean => Scalar::Bool,
        Builtin::Byte => Scalar::I8,
        Builtin::Short => Scalar::I16,
        Builtin::Int => Scalar::I32,
        Builtin::Long => Scalar::I64,
        Builtin::UnsignedByte => Scalar::U8,
        Builtin::UnsignedShort => Scalar::U16,
        Builtin::UnsignedInt => Scalar::U32,
        Builtin::UnsignedLong => Scalar::U64,
        Builtin::Float => Scalar::F32,
        Builtin::Double => Scalar::F64,
        Builtin::DateTime => Scalar::PanelDateTime,
        Builtin::Base64Binary => Scalar::Bytes,
        Builtin::Decimal => Scalar::Decimal,
        Builtin::Integer => Scalar::I128,
        Builtin::NonNegativeInteger => Scalar::U128,
        Builtin::Date => Scalar::Date,
        Builtin::Time => Scalar::Time,
        Builtin::Duration => Scalar::Duration,
        Builtin::HexBinary => Scalar::HexBinary,
        Builtin::QName => Scalar::QName,
        Builtin::Char => Scalar::Char,
    }
}

/// The Rust type of a value.
fn value_type(item: &TypeRef, names: &ServiceNames, at: Pos) -> Result<RustType, Problem> {
    Ok(match item {
        TypeRef::Builtin(builtin) => RustType::Scalar(scalar(*builtin)),
        TypeRef::Named(name) => RustType::Named(type_name(name, names, at)?),
        TypeRef::Raw => RustType::Scalar(Scalar::RawXml),
        TypeRef::List(item) => RustType::List(Box::new(value_type(item, names, at)?)),
    })
}

/// The Rust type of a field: cardinality and nil handling around the value type.
fn rust_type(field: &Field, names: &ServiceNames) -> Result<RustType, Problem> {
    let value = value_type(&field.item, names, field.pos)?;
    let value = if field.boxed { RustType::Boxed(Box::new(value)) } else { value };
    let option_if = |wrap: bool, inner: RustType| if wrap { RustType::Option(Box::new(inner)) } else { inner };
    let nillable_if = |wrap: bool, inner: RustType| if wrap { RustType::Nillable(Box::new(inner)) } else { inner };
    let items = |item_nillable: bool| RustType::Vec(Box::new(option_if(item_nillable, value.clone())));
    Ok(match &field.shape {
        Shape::Single { optional, nillable } => option_if(*optional, nillable_if(*nillable, value.clone())),
        Shape::Array { optional, nillable, item_nillable, .. } => {
            option_if(*optional, nillable_if(*nillable, items(*item_nillable)))
        }
        Shape::EncodedArray { optional, nillable, .. } => option_if(*optional, nillable_if(*nillable, items(false))),
        Shape::Repeated { item_nillable } => items(*item_nillable),
        Shape::Raw { repeated: true, .. } => RustType::Vec(Box::new(value)),
        Shape::Raw { optional, .. } => option_if(*optional, value),
        Shape::Attribute { required, .. } => option_if(!required, value),
        Shape::Value => value,
        Shape::OtherAttributes => RustType::Vec(Box::new(RustType::Scalar(Scalar::AnyAttribute))),
        Shape::Choice { repeated: true, .. } => RustType::Vec(Box::new(value)),
        Shape::Choice { optional, .. } => option_if(*optional, value),
    })
}

/// `xs:int` for built-ins, the local name for the WSDL's own types.
pub(super) fn type_display(name: &QName) -> String {
    if name.is_xml_schema() {
        format!("xs:{}", name.local)
    } else {
        name.local.clone()
    }
}

/// What the field is in the WSDL, then `note`, then the WSDL's own documentation.
pub(super) fn doc(field: &Field, note: Option<&str>) -> Doc {
    let flags = |optional: bool, nillable: bool| match (optional, nillable) {
        (true, true) => ", optional, nillable",
        (true, false) => ", optional",
        (false, true) => ", nillable",
        (false, false) => "",
    };
    let element = code(&field.element.local);
    let declared = code(&type_display(&field.type_name));
    let summary = match &field.shape {
        Shape::Single { optional, nillable } => format!("{element} ({declared}{}).", flags(*optional, *nillable)),
        Shape::Array { optional, nillable, item_element, item_type_name, item_nillable } => format!(
            "{element} ({declared}{}): an array of {} items ({}{}).",
            flags(*optional, *nillable),
            code(&item_element.local),
            code(&type_display(item_type_name)),
            flags(false, *item_nillable),
        ),
        Shape::EncodedArray { optional, nillable, item_type_name } => format!(
            "{element} ({declared}{}): a SOAP-encoded array (`soapenc:Array`) of {} items.",
            flags(*optional, *nillable),
            code(&type_display(item_type_name)),
        ),
        Shape::Repeated { item_nillable } => {
            format!("{element} ({declared}{}), repeated.", flags(false, *item_nillable))
        }
        Shape::Raw { wildcard: true, optional, repeated } => {
            let count = if *repeated { "any number of elements" } else { "an element" };
            format!(
                "Any element the other fields do not take (`xs:any`{}): {count}, kept as XML.",
                flags(*optional, false)
            )
        }
        Shape::Attribute { required, default, fixed } => {
            let presence = if *required { "required" } else { "optional" };
            let absent = match (default, fixed) {
                (Some(value), true) => format!(" Its value is fixed: {}.", code(value)),
                (Some(value), false) => format!(" Absent, it means {}.", code(value)),
                (None, _) => String::new(),
            };
            format!("Attribute {element} ({declared}, {presence}).{absent}")
        }
        Shape::OtherAttributes => "Attributes of other names (`xs:anyAttribute`), as read.".to_owned(),
        Shape::Value => format!("The element's text ({declared})."),
        Shape::Choice { optional, repeated, elements } => {
            let alternatives: Vec<String> = elements.iter().map(|element| code(&element.local)).collect();
            let count = match (optional, repeated) {
                (_, true) => "any number of times",
                (true, false) => "optional",
                (false, false) => "exactly one",
            };
            format!("A choice of {} ({count}).", alternatives.join(", "))
        }
        Shape::Raw { optional, repeated, .. } => {
            let repeated = if *repeated { ", repeated" } else { "" };
            format!("{element} ({declared}{}{repeated}): the whole element, kept as XML.", flags(*optional, false))
        }
    };
    let summary = match &field.default {
        Some(default) => format!("{summary} Empty, it means {}.", code(default)),
        None => summary,
    };
    let summary = match note {
        Some(note) => format!("{summary} {note}"),
        None => summary,
    };
    Doc::new().line(summary).prose(field.doc.as_deref())
}
