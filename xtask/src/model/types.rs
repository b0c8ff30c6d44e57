//! Schema types walk from the operations: fields, `ArrayOfX` detection,
//! simple-type restrictions, enumerations and extensions.

use std::collections::{BTreeMap, BTreeSet};

use super::index::{lookup, qname, Index};
use super::{
    Builtin, Field, NamedType, QName, Shape, TypeKind, TypeRef, CHOICE_NS, MS_TYPES_NS, SOAP_ENCODING_NS, WILDCARD_NS,
};
use crate::diag::{Pos, Problem};
use crate::parse::{
    ComplexContent, ComplexTypeDecl, ElementDecl, InlineType, ListItem, MaxOccurs, QNameRef, Schema, SimpleTypeDecl,
    XSD_NS,
};

/// Deep `simpleType` restriction chains (and group references) are almost certainly circular.
const MAX_RESTRICTION_DEPTH: usize = 32;

/// What a type reference turned out to be.
#[derive(Clone)]
pub(super) enum Resolved<'d> {
    Builtin(Builtin),
    /// An enumeration: the simple type that holds the values.
    Enum(QName),
    Complex(&'d ComplexTypeDecl, &'d Schema),
    /// `xs:anyType`: kept as XML.
    Raw,
    /// `xs:list` of a built-in type or an enumeration.
    List(Box<Resolved<'d>>),
}

/// What a walk from the operations found: named types in the order they were
/// first reached, and every problem on the way.
#[derive(Default)]
pub(super) struct Walk<'d> {
    order: Vec<QName>,
    seen: BTreeSet<QName>,
    /// Anonymous complex types reached, by the name they are given (see [`anonymous_name`]).
    anonymous: BTreeMap<QName, (&'d ComplexTypeDecl, &'d Schema)>,
    /// Anonymous enumerations reached, likewise.
    anonymous_enums: BTreeMap<QName, &'d SimpleTypeDecl>,
    /// Choices reached, with their alternatives, likewise.
    choices: BTreeMap<QName, Vec<Field>>,
    pub(super) problems: Vec<Problem>,
    /// Operations no client can call (notification, solicit-response), with their positions.
    pub(super) skipped_operations: Vec<(String, Pos)>,
    /// Leave out operations whose message parts name undeclared elements (see [`super::Dangling`]).
    pub(super) skip_dangling: bool,
    /// The operations left out so, with the problem.
    pub(super) dangling_operations: Vec<(String, Problem)>,
}

/// The name an anonymous type is hoisted under: the path of the element that
/// declares it (`Parent/element`, `Parent/element/inner`; `/element` for a
/// global element). No declared type has a `/` in its name, so it cannot clash.
pub(super) fn anonymous_name(schema: &Schema, path: &str, element: &str) -> QName {
    QName::new(&schema.target_namespace, &format!("{path}/{element}"))
}

impl<'d> Walk<'d> {
    pub(super) fn add(&mut self, name: &QName) {
        if self.seen.insert(name.clone()) {
            self.order.push(name.clone());
        }
    }

    /// Hoists an anonymous enumeration under `name`.
    pub(super) fn anonymous_enum(&mut self, name: &QName, simple: &'d SimpleTypeDecl) {
        self.anonymous_enums.insert(name.clone(), simple);
    }

    /// Records a problem; the walk goes on with the next declaration.
    pub(super) fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// The value of `result`, or `None` after recording its problem.
    pub(super) fn catch<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|problem| self.report(problem)).ok()
    }

    /// Fails with the first problem the parser recorded on a declaration, after recording the others.
    pub(super) fn declared(&mut self, problems: &[Problem]) -> Result<(), Problem> {
        let Some((first, others)) = problems.split_first() else { return Ok(()) };
        self.problems.extend(others.iter().cloned());
        Err(first.clone())
    }
}

/// The namespace of a local element declared in `schema`.
fn element_name(decl: &ElementDecl, schema: &Schema) -> QName {
    let qualified = decl.form_qualified.unwrap_or(schema.qualified);
    QName::new(if qualified { &schema.target_namespace } else { "" }, &decl.name)
}

/// The item element when `complex` is an `ArrayOfX`: a sequence of exactly
/// one element with `maxOccurs="unbounded"`.
fn array_item(complex: &ComplexTypeDecl) -> Option<&ElementDecl> {
    match &complex.content {
        ComplexContent::Sequence(items) if complex.problems.is_empty() => match items.as_slice() {
            [item] if item.max_occurs == MaxOccurs::Unbounded => Some(item),
            _ => None,
        },
        _ => None,
    }
}

impl<'d> Index<'d> {
    /// The fields of a complex type, base fields first.
    /// `path` names the type for the anonymous types inside it.
    pub(super) fn fields(
        &self,
        complex: &'d ComplexTypeDecl,
        schema: &'d Schema,
        path: &str,
        label: &str,
        walk: &mut Walk<'d>,
        extending: &mut Vec<QName>,
    ) -> Result<Vec<Field>, Problem> {
        // Every problem of the type, and then those of its fields, are reported.
        walk.problems.extend(complex.problems.iter().cloned());
        let mut fields = Vec::new();
        let own = match &complex.content {
            ComplexContent::Empty => &[][..],
            ComplexContent::Sequence(decls) => decls.as_slice(),
            ComplexContent::Simple { base } => {
                fields = self.simple_content(base, complex, label, walk, extending)?;
                &[][..]
            }
            ComplexContent::Restriction { base, fields: decls } => {
                fields = self.restricted_base_attributes(base, complex, label, walk, extending)?;
                decls.as_slice()
            }
            ComplexContent::Extension { base, fields: decls } => {
                fields = self.base_fields(base, complex, label, walk, extending)?;
                decls.as_slice()
            }
        };
        self.particles(own, schema, path, walk, &mut 0, &mut fields, 0);
        let mut prohibited = Vec::new();
        let attributes = self.attribute_fields(&complex.attributes, schema, path, walk, &mut prohibited, 0);
        fields.retain(|field| field.shape.is_element() || !prohibited.contains(&field.element));
        fields.extend(attributes);
        let mut seen = BTreeSet::new();
        for field in &fields {
            // Elements, attributes and the text are named apart.
            let kind = match field.shape {
                Shape::Attribute { .. } => 1,
                Shape::Value => 2,
                Shape::OtherAttributes => 3,
                _ => 0,
            };
            let elements = match &field.shape {
                Shape::Choice { elements, .. } => elements.iter().collect(),
                _ => vec![&field.element],
            };
            if let Some(element) = elements.into_iter().find(|element| !seen.insert((kind, *element))) {
                return Err(Problem::new(
                    field.pos,
                    format!("element \"{}\" appears more than once in {label}", element.local),
                ));
            }
        }
        Ok(fields)
    }

    /// The fields of `decls`, with model groups (`<xs:group ref>`) in place;
    /// `choices` counts the choices met, which name their enums.
    #[allow(clippy::too_many_arguments)]
    fn particles(
        &self,
        decls: &'d [ElementDecl],
        schema: &'d Schema,
        path: &str,
        walk: &mut Walk<'d>,
        choices: &mut usize,
        fields: &mut Vec<Field>,
        depth: usize,
    ) {
        for decl in decls {
            let field = match (&decl.choice, &decl.group) {
                (Some(alternatives), _) => {
                    *choices += 1;
                    let name = if *choices == 1 { "choice".to_owned() } else { format!("choice{choices}") };
                    self.choice_field(decl, alternatives, schema, path, &name, walk)
                }
                (None, Some(reference)) => {
                    let group = self.group(decl, reference, depth);
                    let Some((group, group_schema)) = walk.catch(group) else { continue };
                    walk.problems.extend(group.problems.iter().cloned());
                    match group.particles.as_slice() {
                        // A choice group takes the reference's occurrences.
                        [ElementDecl { choice: Some(alternatives), .. }] => {
                            *choices += 1;
                            let name = if *choices == 1 { "choice".to_owned() } else { format!("choice{choices}") };
                            self.choice_field(decl, alternatives, group_schema, path, &name, walk)
                        }
                        particles => {
                            self.particles(particles, group_schema, path, walk, choices, fields, depth + 1);
                            continue;
                        }
                    }
                }
                (None, None) => self.field(decl, schema, path, walk),
            };
            fields.extend(walk.catch(field));
        }
    }

    /// The model group a reference names; a sequence group must occur once.
    fn group(
        &self,
        decl: &ElementDecl,
        reference: &QNameRef,
        depth: usize,
    ) -> Result<(&'d crate::parse::GroupDecl, &'d Schema), Problem> {
        if depth > MAX_RESTRICTION_DEPTH {
            return Err(Problem::new(decl.pos, format!("circular group \"{}\"", reference.text)));
        }
        let &(group, schema) = lookup(&self.groups, reference, "group", decl.pos)?;
        let is_choice = matches!(group.particles.as_slice(), [ElementDecl { choice: Some(_), .. }]);
        if !is_choice && (decl.min_occurs != 1 || decl.max_occurs != MaxOccurs::Bounded(1)) {
            return Err(Problem::new(
                decl.pos,
                format!("unsupported repeated or optional <group ref=\"{}\"> of a sequence", reference.text),
            ));
        }
        Ok((group, schema))
    }

    /// The attributes a `complexContent` restriction keeps from its base.
    fn restricted_base_attributes(
        &self,
        base: &QNameRef,
        complex: &'d ComplexTypeDecl,
        label: &str,
        walk: &mut Walk<'d>,
        extending: &mut Vec<QName>,
    ) -> Result<Vec<Field>, Problem> {
        let base_name = qname(base, complex.pos)?;
        if base_name == QName::new(SOAP_ENCODING_NS, "Array") {
            return Err(Problem::new(
                complex.pos,
                format!("unsupported SOAP-encoded array (a restriction of soapenc:Array) as {label}: an encoded array is a field or part of its own, not repeated, extended or a choice"),
            ));
        }
        if base_name == QName::new(XSD_NS, "anyType") {
            return Ok(Vec::new());
        }
        let fields = self.base_fields(base, complex, label, walk, extending)?;
        Ok(fields.into_iter().filter(|field| matches!(field.shape, Shape::Attribute { .. })).collect())
    }

    /// The fields of the complex type `complex` derives from.
    fn base_fields(
        &self,
        base: &QNameRef,
        complex: &'d ComplexTypeDecl,
        label: &str,
        walk: &mut Walk<'d>,
        extending: &mut Vec<QName>,
    ) -> Result<Vec<Field>, Problem> {
        let base_name = qname(base, complex.pos)?;
        if extending.contains(&base_name) {
            return Err(Problem::new(complex.pos, format!("circular derivation in {label}")));
        }
        let Some(&[(base_complex, base_schema)]) = self.complex_types.get(&base_name).map(Vec::as_slice) else {
            return Err(Problem::new(
                complex.pos,
                format!("the base \"{}\" of {label} is not a complexType defined once in this WSDL", base.text),
            ));
        };
        extending.push(base_name.clone());
        let base_label = format!("complexType \"{}\"", base_name.local);
        let fields = self.fields(base_complex, base_schema, &base_name.local, &base_label, walk, extending);
        extending.pop();
        fields
    }

    /// An `xs:choice`: a field holding the choice's enum, hoisted as `path/name`.
    fn choice_field(
        &self,
        decl: &'d ElementDecl,
        alternatives: &'d [ElementDecl],
        schema: &'d Schema,
        path: &str,
        name: &str,
        walk: &mut Walk<'d>,
    ) -> Result<Field, Problem> {
        walk.declared(&decl.problems)?;
        let enum_name = anonymous_name(schema, path, name);
        let mut variants = Vec::new();
        let mut emptiable = false;
        for alternative in alternatives {
            if alternative.choice.is_some() || alternative.wildcard {
                let what = if alternative.wildcard { "xs:any" } else { "a nested choice" };
                walk.report(Problem::new(alternative.pos, format!("unsupported {what} inside a choice")));
                continue;
            }
            emptiable |= alternative.min_occurs == 0;
            let field = self.field(alternative, schema, &enum_name.local, walk);
            let Some(mut field) = walk.catch(field) else { continue };
            // The choice, not the alternative, is optional.
            field.shape = match field.shape {
                Shape::Single { nillable, .. } => Shape::Single { optional: false, nillable },
                Shape::Array { nillable, item_element, item_type_name, item_nillable, .. } => {
                    Shape::Array { optional: false, nillable, item_element, item_type_name, item_nillable }
                }
                Shape::Raw { repeated, .. } => Shape::Raw { optional: false, repeated, wildcard: false },
                other => other,
            };
            variants.push(field);
        }
        let repeated = match decl.max_occurs {
            MaxOccurs::Unbounded => true,
            MaxOccurs::Bounded(max) => max > 1,
        };
        let elements = variants.iter().map(|variant| variant.element.clone()).collect();
        walk.choices.insert(enum_name.clone(), variants);
        walk.add(&enum_name);
        Ok(Field {
            element: QName::new(CHOICE_NS, name),
            type_name: enum_name.clone(),
            shape: Shape::Choice { optional: decl.min_occurs == 0 || emptiable, repeated, elements },
            item: TypeRef::Named(enum_name),
            boxed: false,
            default: None,
            doc: decl.doc.clone(),
            pos: decl.pos,
        })
    }

    /// The fields of `simpleContent` on `base`: the value (and the base's attributes, for a complex base).
    fn simple_content(
        &self,
        base: &QNameRef,
        complex: &'d ComplexTypeDecl,
        label: &str,
        walk: &mut Walk<'d>,
        extending: &mut Vec<QName>,
    ) -> Result<Vec<Field>, Problem> {
        let base_name = qname(base, complex.pos)?;
        if let Some(&[(base_complex, _)]) = self.complex_types.get(&base_name).map(Vec::as_slice) {
            if !matches!(base_complex.content, ComplexContent::Simple { .. }) {
                return Err(Problem::new(
                    complex.pos,
                    format!("the simpleContent of {label} derives from \"{}\", which has no simple content", base.text),
                ));
            }
            return self.base_fields(base, complex, label, walk, extending);
        }
        let item = match self.named(&base_name, base, label, complex.pos, 0, walk)? {
            Resolved::Complex(..) | Resolved::Raw => {
                return Err(Problem::new(complex.pos, format!("the simpleContent of {label} has no simple base")))
            }
            simple => self.value(&base_name, simple, walk),
        };
        let value = Field {
            element: QName::new("", "value"),
            type_name: base_name,
            shape: Shape::Value,
            item,
            boxed: false,
            default: None,
            doc: None,
            pos: complex.pos,
        };
        Ok(vec![value])
    }

    pub(super) fn field(
        &self,
        decl: &'d ElementDecl,
        schema: &'d Schema,
        path: &str,
        walk: &mut Walk<'d>,
    ) -> Result<Field, Problem> {
        walk.declared(&decl.problems)?;
        let repeated = match decl.max_occurs {
            MaxOccurs::Unbounded => true,
            MaxOccurs::Bounded(0) => {
                return Err(Problem::new(
                    decl.pos,
                    format!("unsupported maxOccurs=\"0\" in element \"{}\"", decl.name),
                ));
            }
            MaxOccurs::Bounded(max) => max > 1,
        };
        let raw = |element: QName, type_name: QName, wildcard: bool| Field {
            element,
            type_name,
            shape: Shape::Raw { optional: decl.min_occurs == 0, repeated, wildcard },
            item: TypeRef::Raw,
            boxed: false,
            default: None,
            doc: decl.doc.clone(),
            pos: decl.pos,
        };
        if decl.wildcard {
            return Ok(raw(QName::new(WILDCARD_NS, "any"), QName::new(XSD_NS, "any"), true));
        }
        // A reference stands for a global element (its name, type and nillability) with its own occurrences.
        let (target, target_schema, path, element) = match &decl.reference {
            Some(reference) => {
                let name = qname(reference, decl.pos)?;
                if name == QName::new(XSD_NS, "schema") {
                    // A .NET DataSet's inline schema: a whole schema document.
                    return Ok(raw(name.clone(), name, false));
                }
                let &(global, global_schema) = lookup(&self.elements, reference, "element", decl.pos)?;
                walk.declared(&global.problems)?;
                (global, global_schema, "", QName::new(&global_schema.target_namespace, &global.name))
            }
            None => (decl, schema, path, element_name(decl, schema)),
        };
        let nillable = target.nillable;
        let (type_name, resolved) = self.element_type(target, target_schema, path, walk)?;
        let simple = matches!(resolved, Resolved::Builtin(_) | Resolved::Enum(_) | Resolved::List(_));
        if let Resolved::Raw = resolved {
            return Ok(raw(element, type_name, false));
        }
        let encoded_array = match resolved {
            Resolved::Complex(complex, complex_schema) if !repeated => {
                self.encoded_array_item(complex, complex_schema, &type_name, walk)?
            }
            _ => None,
        };
        if let Some((item_type_name, item_resolved)) = encoded_array {
            let item = self.value(&item_type_name, item_resolved, walk);
            let shape = Shape::EncodedArray { optional: decl.min_occurs == 0, nillable, item_type_name };
            return Ok(Field {
                element,
                type_name,
                shape,
                item,
                boxed: false,
                default: None,
                doc: decl.doc.clone(),
                pos: decl.pos,
            });
        }
        let array = match resolved {
            Resolved::Complex(complex, complex_schema) if !repeated => {
                array_item(complex).map(|item| (item, complex_schema))
            }
            _ => None,
        };
        let (shape, item) = if repeated {
            (Shape::Repeated { item_nillable: nillable }, self.value(&type_name, resolved, walk))
        } else if let Some((item_decl, complex_schema)) = array {
            walk.declared(&item_decl.problems)?;
            let (item_type_name, item_resolved) =
                self.element_type(item_decl, complex_schema, &type_name.local, walk)?;
            let item = self.value(&item_type_name, item_resolved, walk);
            let shape = Shape::Array {
                optional: decl.min_occurs == 0,
                nillable,
                item_element: element_name(item_decl, complex_schema),
                item_type_name,
                item_nillable: item_decl.nillable,
            };
            (shape, item)
        } else {
            let shape = Shape::Single { optional: decl.min_occurs == 0, nillable };
            (shape, self.value(&type_name, resolved, walk))
        };
        // A default applies to the text of a simple-typed element.
        let default = target.default.clone().filter(|_| simple && matches!(shape, Shape::Single { .. }));
        Ok(Field { element, type_name, shape, item, boxed: false, default, doc: decl.doc.clone(), pos: decl.pos })
    }

    /// The item type of `complex` when it is a SOAP-encoded array (a
    /// restriction of `soapenc:Array`): from `wsdl:arrayType` on its
    /// `soapenc:arrayType` attribute, else from its one repeated element.
    /// Arrays of several dimensions, of arrays, and of `xs:anyType` are refused.
    fn encoded_array_item(
        &self,
        complex: &'d ComplexTypeDecl,
        schema: &'d Schema,
        name: &QName,
        walk: &mut Walk<'d>,
    ) -> Result<Option<(QName, Resolved<'d>)>, Problem> {
        let ComplexContent::Restriction { base, fields } = &complex.content else { return Ok(None) };
        if qname(base, complex.pos)? != QName::new(SOAP_ENCODING_NS, "Array") {
            return Ok(None);
        }
        let label = format!("SOAP-encoded array \"{}\"", name.local);
        let declared = complex
            .attributes
            .declared
            .iter()
            .find_map(|attribute| attribute.array_type.as_ref().map(|array_type| (attribute, array_type)));
        let (item_type_name, resolved) = match (declared, fields.as_slice()) {
            (Some((attribute, (item, brackets))), _) => {
                let rank = brackets.strip_prefix('[').and_then(|rest| rest.strip_suffix(']'));
                if rank.is_none_or(|size| !size.chars().all(|c| c.is_ascii_digit())) {
                    return Err(Problem::new(
                        attribute.pos,
                        format!("unsupported wsdl:arrayType=\"{}{brackets}\" of {label}: only arrays of one dimension, of items that are not arrays, are supported", item.text),
                    ));
                }
                let item_name = qname(item, attribute.pos)?;
                let resolved = self.named(&item_name, item, &label, attribute.pos, 0, walk)?;
                (item_name, resolved)
            }
            (None, [item]) if item.max_occurs != MaxOccurs::Bounded(1) && item.choice.is_none() && item.group.is_none() && !item.wildcard => {
                walk.declared(&item.problems)?;
                self.element_type(item, schema, &name.local, walk)?
            }
            _ => {
                return Err(Problem::new(
                    complex.pos,
                    format!("{label} names no item type: no wsdl:arrayType on its soapenc:arrayType attribute, nor one repeated element"),
                ))
            }
        };
        match &resolved {
            Resolved::Raw => Err(Problem::new(
                complex.pos,
                format!("unsupported {label} of xs:anyType items: an item type is needed"),
            )),
            Resolved::Complex(item, _) if matches!(&item.content, ComplexContent::Restriction { base, .. } if qname(base, item.pos).is_ok_and(|base| base == QName::new(SOAP_ENCODING_NS, "Array"))) => {
                Err(Problem::new(
                    complex.pos,
                    format!("unsupported {label} of arrays: only arrays of one dimension are supported"),
                ))
            }
            _ => Ok(Some((item_type_name, resolved))),
        }
    }

    pub(super) fn value(&self, name: &QName, resolved: Resolved<'d>, walk: &mut Walk<'d>) -> TypeRef {
        match resolved {
            Resolved::Builtin(builtin) => TypeRef::Builtin(builtin),
            Resolved::Raw => TypeRef::Raw,
            Resolved::List(item) => TypeRef::List(Box::new(self.value(name, *item, walk))),
            Resolved::Enum(values) => {
                walk.add(&values);
                TypeRef::Named(values)
            }
            Resolved::Complex(..) => {
                walk.add(name);
                TypeRef::Named(name.clone())
            }
        }
    }

    /// The declared type of an element: its name (for documentation) and what it is.
    fn element_type(
        &self,
        decl: &'d ElementDecl,
        schema: &'d Schema,
        path: &str,
        walk: &mut Walk<'d>,
    ) -> Result<(QName, Resolved<'d>), Problem> {
        let what = format!("element \"{}\"", decl.name);
        match (&decl.type_name, &decl.inline) {
            (Some(type_name), None) => {
                let name = qname(type_name, decl.pos)?;
                let resolved = self.named(&name, type_name, &what, decl.pos, 0, walk)?;
                Ok((name, resolved))
            }
            (None, Some(InlineType::Complex(complex))) => {
                // Hoisted as a type of its own, named after where it is declared.
                let name = anonymous_name(schema, path, &decl.name);
                walk.anonymous.insert(name.clone(), (complex, schema));
                Ok((name, Resolved::Complex(complex, schema)))
            }
            (None, Some(InlineType::Simple(simple))) => {
                walk.declared(&simple.problems)?;
                if !simple.enumerations.is_empty() {
                    let name = anonymous_name(schema, path, &decl.name);
                    walk.anonymous_enums.insert(name.clone(), simple);
                    return Ok((name.clone(), Resolved::Enum(name)));
                }
                let Some(base) = &simple.base else {
                    return Err(Problem::new(simple.pos, format!("no base in {what}")));
                };
                let name = qname(base, simple.pos)?;
                let resolved = self.named(&name, base, &what, simple.pos, 1, walk)?;
                Ok((name, resolved))
            }
            // No type is `xs:anyType`.
            (None, None) => Ok((QName::new(XSD_NS, "anyType"), Resolved::Raw)),
            (Some(_), Some(_)) => {
                Err(Problem::new(decl.pos, format!("{what} has both a type attribute and an inline type")))
            }
        }
    }

    /// What the type named `name` is; simple restrictions without enumerations become their base.
    pub(super) fn named(
        &self,
        name: &QName,
        written: &QNameRef,
        what: &str,
        at: Pos,
        depth: usize,
        walk: &mut Walk<'d>,
    ) -> Result<Resolved<'d>, Problem> {
        if depth > MAX_RESTRICTION_DEPTH {
            return Err(Problem::new(at, format!("circular simpleType restriction of \"{}\"", written.text)));
        }
        if name.namespace == XSD_NS && name.local == "anyType" {
            return Ok(Resolved::Raw);
        }
        if name.namespace == XSD_NS {
            return Builtin::from_local(&name.local).map(Resolved::Builtin).ok_or_else(|| {
                Problem::new(at, format!("unsupported XML Schema type \"{}\" of {what}", written.text))
            });
        }
        if name.namespace == SOAP_ENCODING_NS {
            // SOAP encoding's simple types are XML Schema's, with `id` and `href` for references.
            let local = if name.local == "base64" { "base64Binary" } else { name.local.as_str() };
            return Builtin::from_local(local).map(Resolved::Builtin).ok_or_else(|| {
                Problem::new(at, format!("unsupported SOAP encoding type \"{}\" of {what}", written.text))
            });
        }
        if name.namespace == MS_TYPES_NS && name.local == "char" {
            return Ok(Resolved::Builtin(Builtin::Char));
        }
        if self.complex_types.contains_key(name) {
            let &(complex, schema) = lookup(&self.complex_types, written, "complexType", at)?;
            return Ok(Resolved::Complex(complex, schema));
        }
        if !self.simple_types.contains_key(name) {
            return Err(Problem::new(at, format!("unresolvable type \"{}\" ({name:?}) of {what}", written.text)));
        }
        let simple = *lookup(&self.simple_types, written, "simpleType", at)?;
        walk.declared(&simple.problems)?;
        if simple.union {
            // A value of any member type: kept as the text it is.
            return Ok(Resolved::Builtin(Builtin::String));
        }
        if let Some(item) = &simple.list {
            let item = match item {
                ListItem::Named(item) => {
                    let item_name = qname(item, simple.pos)?;
                    self.named(&item_name, item, what, simple.pos, depth + 1, walk)?
                }
                ListItem::Inline(inline) => {
                    walk.declared(&inline.problems)?;
                    let Some(base) = inline.base.as_ref().filter(|_| inline.enumerations.is_empty()) else {
                        return Err(Problem::new(
                            inline.pos,
                            format!("unsupported anonymous item type of the list in {what}"),
                        ));
                    };
                    let base_name = qname(base, inline.pos)?;
                    self.named(&base_name, base, what, inline.pos, depth + 1, walk)?
                }
            };
            return match item {
                Resolved::Builtin(_) | Resolved::Enum(_) => Ok(Resolved::List(Box::new(item))),
                _ => Err(Problem::new(
                    simple.pos,
                    format!("the items of list \"{}\" are not of a simple type", name.local),
                )),
            };
        }
        if !simple.enumerations.is_empty() {
            return Ok(Resolved::Enum(name.clone()));
        }
        let Some(base) = &simple.base else { return Err(Problem::new(simple.pos, "simpleType without a base")) };
        let base_name = qname(base, simple.pos)?;
        match self.named(&base_name, base, what, simple.pos, depth + 1, walk)? {
            Resolved::Complex(..) | Resolved::Raw | Resolved::List(_) => Err(Problem::new(
                simple.pos,
                format!("simpleType \"{}\" restricts complex type \"{}\"", name.local, base.text),
            )),
            // A restriction of an enumeration without values of its own is that enumeration.
            resolved @ (Resolved::Builtin(_) | Resolved::Enum(_)) => Ok(resolved),
        }
    }

    /// Resolves every named type reached so far, and those they reach in turn.
    pub(super) fn named_types(&self, walk: &mut Walk<'d>) -> Vec<NamedType> {
        let mut types = Vec::new();
        let mut next = 0;
        while let Some(name) = walk.order.get(next).cloned() {
            next += 1;
            let named = self.named_type(name, walk);
            types.extend(walk.catch(named).flatten());
        }
        types
    }

    fn named_type(&self, name: QName, walk: &mut Walk<'d>) -> Result<Option<NamedType>, Problem> {
        if let Some(alternatives) = walk.choices.remove(&name) {
            let pos = alternatives.first().map(|field| field.pos).unwrap_or_default();
            let kind = TypeKind::Choice { alternatives };
            return Ok(Some(NamedType { name, doc: None, kind, pos }));
        }
        let complex = match self.complex_types.get(&name).map(Vec::as_slice) {
            Some(&[found]) => Some(found),
            _ => walk.anonymous.get(&name).copied(),
        };
        if let Some((complex, schema)) = complex {
            let label = if walk.anonymous.contains_key(&name) {
                format!("the anonymous type of element \"{}\"", name.local.rsplit('/').next().unwrap_or(""))
            } else {
                format!("complexType \"{}\"", name.local)
            };
            let fields = self.fields(complex, schema, &name.local, &label, walk, &mut vec![name.clone()])?;
            let base = match &complex.content {
                ComplexContent::Extension { base, .. } => Some(qname(base, complex.pos)?),
                _ => None,
            };
            let kind = TypeKind::Struct { base, fields };
            return Ok(Some(NamedType { name, doc: complex.doc.clone(), kind, pos: complex.pos }));
        }
        let simple = match self.simple_types.get(&name).map(Vec::as_slice) {
            Some(&[found]) => found,
            _ => match walk.anonymous_enums.get(&name) {
                Some(found) => found,
                None => return Ok(None),
            },
        };
        let base = match &simple.base {
            Some(base) => qname(base, simple.pos)?,
            None => QName::new(XSD_NS, "string"),
        };
        let kind = TypeKind::Enum { base, values: simple.enumerations.clone() };
        Ok(Some(NamedType { name, doc: simple.doc.clone(), kind, pos: simple.pos }))
    }
}
