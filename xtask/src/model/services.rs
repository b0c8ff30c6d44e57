//! Services and their SOAP operations: bindings, port types, messages and wrapper elements.

use std::collections::{BTreeMap, BTreeSet};

use super::index::{lookup, qname, Index};
use super::recursion::box_recursive_fields;
use super::types::Walk;
use super::{Fault, Field, Layout, Operation, QName, Service, Shape, Wrapper, SOAP_ENCODING_NS};
use crate::diag::Problem;
use crate::parse::{
    self, Binding, BindingMessage, BindingOperation, InlineType, Message, Part, PortOperation, PortType, Protocol,
    QNameRef,
};

/// A SOAP operation gathered from the bindings, before its messages are resolved.
struct Draft<'d> {
    abstract_operation: &'d PortOperation,
    /// The operation in the first binding that has it: style, body and headers.
    binding_operation: &'d BindingOperation,
    /// The style of that binding operation (its own, else its binding's, else document).
    rpc: bool,
    /// Its body is SOAP-encoded (`use="encoded"`, rpc style).
    encoded: bool,
    soap11_action: Option<String>,
    soap12_action: Option<String>,
}

impl<'d> Index<'d> {
    /// The service, or `None` when it has no SOAP port (not an error: nothing to generate).
    pub(super) fn service(&self, service: &parse::Service, walk: &mut Walk<'d>) -> Option<Service> {
        let mut soap11: Option<(&parse::Port, &Binding)> = None;
        let mut soap12: Option<(&parse::Port, &Binding)> = None;
        let mut skipped_ports = Vec::new();
        for port in &service.ports {
            let Some(binding) = walk.catch(lookup(&self.bindings, &port.binding, "binding", port.pos)).copied() else {
                continue;
            };
            let (slot, version) = match binding.protocol {
                Protocol::Soap11 => (&mut soap11, "SOAP 1.1"),
                Protocol::Soap12 => (&mut soap12, "SOAP 1.2"),
                // HTTP GET/POST bindings carry no SOAP operations.
                Protocol::Http | Protocol::Other => {
                    let what = if binding.protocol == Protocol::Http { "an HTTP GET/POST" } else { "a non-SOAP" };
                    skipped_ports.push((port.name.clone(), format!("is {what} port"), port.pos));
                    continue;
                }
            };
            if let Some((first, _)) = slot.as_ref().filter(|(_, first)| std::ptr::eq(*first, binding)) {
                let address = port.address.as_deref().unwrap_or("");
                let reason = format!(
                    "is a second {version} port with the binding of port \"{}\"; its address \"{address}\" is another place to call the same operations (give it to the client as a base URL)",
                    first.name
                );
                skipped_ports.push((port.name.clone(), reason, port.pos));
                continue;
            }
            if slot.is_some() {
                walk.report(Problem::new(
                    port.pos,
                    format!(
                        "port \"{}\" is a second {version} port of service \"{}\"; one per SOAP version is supported",
                        port.name, service.name
                    ),
                ));
                continue;
            }
            *slot = Some((port, binding));
        }
        if soap11.is_none() && soap12.is_none() {
            return None;
        }

        let mut drafts: BTreeMap<&str, Draft<'_>> = BTreeMap::new();
        for (is_soap11, binding) in [(true, soap11.map(|(_, b)| b)), (false, soap12.map(|(_, b)| b))] {
            let Some(binding) = binding else { continue };
            let port_type = lookup(&self.port_types, &binding.port_type, "portType", binding.pos);
            let Some(&port_type) = walk.catch(port_type) else { continue };
            let mut seen = BTreeSet::new();
            for operation in &binding.operations {
                if !seen.insert(operation.name.as_str()) {
                    walk.report(Problem::new(
                        operation.pos,
                        format!(
                            "operation \"{}\" appears twice in binding \"{}\" (overloading is not supported)",
                            operation.name, binding.name
                        ),
                    ));
                    continue;
                }
                let checked = check_binding_operation(binding, operation).and_then(|rpc| {
                    abstract_operation(port_type, operation).map(|abstract_operation| (rpc, abstract_operation))
                });
                let Some(((rpc, encoded), abstract_operation)) = walk.catch(checked) else { continue };
                if abstract_operation.output_first || abstract_operation.input.is_none() {
                    // Sent by the server on its own: nothing a client calls.
                    walk.skipped_operations.push((abstract_operation.name.clone(), abstract_operation.pos));
                    continue;
                }
                let draft = drafts.entry(&operation.name).or_insert_with(|| Draft {
                    abstract_operation,
                    binding_operation: operation,
                    rpc,
                    encoded,
                    soap11_action: None,
                    soap12_action: None,
                });
                let same_messages = resolved(&draft.abstract_operation.input) == resolved(&abstract_operation.input)
                    && resolved(&draft.abstract_operation.output) == resolved(&abstract_operation.output);
                if !same_messages {
                    walk.report(Problem::new(
                        operation.pos,
                        format!(
                            "operation \"{}\" has different messages in the SOAP 1.1 and SOAP 1.2 bindings",
                            operation.name
                        ),
                    ));
                    continue;
                }
                // An operation present in a binding always has an action; absent means empty.
                let action = Some(operation.action.clone().unwrap_or_default());
                if is_soap11 {
                    draft.soap11_action = action;
                } else {
                    draft.soap12_action = action;
                }
            }
        }

        let mut operations = Vec::new();
        for draft in drafts.into_values() {
            if walk.skip_dangling {
                if let Some(problem) = self.dangling_part(&draft) {
                    walk.dangling_operations.push((draft.abstract_operation.name.clone(), problem));
                    continue;
                }
            }
            let operation = self.operation(draft, walk);
            operations.extend(walk.catch(operation));
        }
        let mut types = self.named_types(walk);
        box_recursive_fields(&mut types);
        types.sort_by(|a, b| (&a.name.local, &a.name.namespace).cmp(&(&b.name.local, &b.name.namespace)));
        let address = |port: Option<(&parse::Port, &Binding)>| port.and_then(|(port, _)| port.address.clone());
        Some(Service {
            name: service.name.clone(),
            doc: service.doc.clone(),
            soap11_address: address(soap11),
            soap12_address: address(soap12),
            operations,
            types,
            skipped_operations: std::mem::take(&mut walk.skipped_operations),
            skipped_ports,
            dangling_operations: std::mem::take(&mut walk.dangling_operations),
            pos: service.pos,
        })
    }

    /// The problem of the first part of the operation's messages (input,
    /// output, faults) that names an element no schema declares.
    fn dangling_part(&self, draft: &Draft<'d>) -> Option<Problem> {
        let operation = draft.abstract_operation;
        let faults = operation.faults.iter().map(|fault| &fault.message);
        let messages = operation.input.iter().chain(&operation.output).chain(faults);
        for reference in messages {
            let Ok(message) = lookup(&self.messages, reference, "message", operation.pos) else { continue };
            for part in &message.parts {
                if let Some(element) = &part.element {
                    if let Err(problem) = lookup(&self.elements, element, "element", part.pos) {
                        return Some(problem);
                    }
                }
            }
        }
        None
    }

    fn operation(&self, draft: Draft<'d>, walk: &mut Walk<'d>) -> Result<Operation, Problem> {
        let abstract_operation = draft.abstract_operation;
        let name = &abstract_operation.name;
        let binding = draft.binding_operation;
        let Some(input) = &abstract_operation.input else {
            return Err(Problem::new(abstract_operation.pos, format!("operation \"{name}\" has no input")));
        };
        let no_body = BindingMessage {
            body_use: None,
            encoding_style: None,
            body_namespace: None,
            body_parts: None,
            headers: Vec::new(),
        };
        let input_binding = binding.input.as_ref().unwrap_or(&no_body);
        let output_binding = binding.output.as_ref().unwrap_or(&no_body);
        let (layout, request) = self.body(input, input_binding, &draft, name.clone(), walk)?;
        let response = match &abstract_operation.output {
            Some(output) => {
                let (response_layout, response) =
                    self.body(output, output_binding, &draft, format!("{name}Response"), walk)?;
                if response_layout != layout && !(fields_only(layout) && fields_only(response_layout)) {
                    return Err(Problem::new(
                        abstract_operation.pos,
                        format!("the request of operation \"{name}\" is {layout:?} and its response {response_layout:?}; both must be wrapped or both bare"),
                    ));
                }
                if response.element.namespace != request.element.namespace && layout != Layout::Bare {
                    return Err(Problem::new(
                        abstract_operation.pos,
                        format!(
                            "the request and response elements of operation \"{name}\" are in different namespaces"
                        ),
                    ));
                }
                Some(response)
            }
            None => None,
        };
        let input_headers = self.headers(input_binding, abstract_operation, walk)?;
        let output_headers = self.headers(output_binding, abstract_operation, walk)?;
        let mut faults = Vec::new();
        for fault in &abstract_operation.faults {
            let message = *lookup(&self.messages, &fault.message, "message", fault.pos)?;
            let [part] = message.parts.as_slice() else {
                return Err(Problem::new(
                    message.pos,
                    format!(
                        "fault message \"{}\" of operation \"{name}\" has {} parts; a fault's detail is one part",
                        message.name,
                        message.parts.len()
                    ),
                ));
            };
            faults.push(Fault { name: fault.name.clone(), field: self.part_field(part, message, walk)? });
        }
        Ok(Operation {
            name: name.clone(),
            doc: abstract_operation.doc.clone(),
            soap11_action: draft.soap11_action,
            soap12_action: draft.soap12_action,
            layout,
            request,
            response,
            input_headers,
            output_headers,
            faults,
            pos: abstract_operation.pos,
        })
    }

    /// The body of `message` as bound by `binding` (its parts less those in headers).
    fn body(
        &self,
        reference: &QNameRef,
        binding: &BindingMessage,
        draft: &Draft<'d>,
        rpc_wrapper: String,
        walk: &mut Walk<'d>,
    ) -> Result<(Layout, Wrapper), Problem> {
        let operation = draft.abstract_operation;
        let message = *lookup(&self.messages, reference, "message", operation.pos)?;
        let message_name = qname(reference, operation.pos)?;
        let in_header = |part: &Part| {
            binding.headers.iter().any(|header| {
                header.part == part.name && qname(&header.message, header.pos).is_ok_and(|name| name == message_name)
            })
        };
        let parts: Vec<&'d Part> = message
            .parts
            .iter()
            .filter(|part| !in_header(part))
            .filter(|part| binding.body_parts.as_ref().is_none_or(|names| names.contains(&part.name)))
            .collect();
        if draft.rpc {
            let namespace = binding.body_namespace.clone().unwrap_or_default();
            let mut fields = Vec::new();
            for part in parts {
                fields.push(self.part_field(part, message, walk)?);
            }
            check_unique(&fields, message, operation)?;
            let layout = if draft.encoded { Layout::RpcEncoded } else { Layout::Rpc };
            return Ok((layout, Wrapper { element: QName::new(&namespace, &rpc_wrapper), fields }));
        }
        if let [part] = parts.as_slice() {
            if let Some(wrapped) = self.wrapped(part, message, operation, walk)? {
                return Ok((Layout::Wrapped, wrapped));
            }
        }
        let mut fields = Vec::new();
        for part in &parts {
            if part.element.is_none() {
                let type_name = part.type_name.as_ref().map_or("", |type_name| type_name.text.as_str());
                return Err(Problem::new(
                    part.pos,
                    format!(
                        "part \"{}\" of message \"{}\" has type=\"{type_name}\" instead of an element; document style needs elements (rpc style takes types)",
                        part.name, message.name
                    ),
                ));
            }
            fields.push(self.part_field(part, message, walk)?);
        }
        check_unique(&fields, message, operation)?;
        let element = fields
            .first()
            .map_or_else(|| QName::new(self.target_namespace, &operation.name), |field| field.element.clone());
        Ok((Layout::Bare, Wrapper { element, fields }))
    }

    /// The header parts of a binding message, as optional fields.
    fn headers(
        &self,
        binding: &BindingMessage,
        operation: &PortOperation,
        walk: &mut Walk<'d>,
    ) -> Result<Vec<Field>, Problem> {
        let mut fields: Vec<Field> = Vec::new();
        for header in &binding.headers {
            if header.header_use != "literal" {
                return Err(Problem::new(
                    header.pos,
                    format!("unsupported use=\"{}\" of a SOAP header in operation \"{}\": only literal headers are supported", header.header_use, operation.name),
                ));
            }
            let message = *lookup(&self.messages, &header.message, "message", header.pos)?;
            let Some(part) = message.parts.iter().find(|part| part.name == header.part) else {
                return Err(Problem::new(
                    header.pos,
                    format!("message \"{}\" has no part \"{}\" for the SOAP header", message.name, header.part),
                ));
            };
            let mut field = self.part_field(part, message, walk)?;
            // A server may leave a header out, and a client need not send one it has no value for.
            field.shape = match field.shape {
                Shape::Single { nillable, .. } => Shape::Single { optional: true, nillable },
                Shape::Array { nillable, item_element, item_type_name, item_nillable, .. } => {
                    Shape::Array { optional: true, nillable, item_element, item_type_name, item_nillable }
                }
                Shape::EncodedArray { nillable, item_type_name, .. } => {
                    Shape::EncodedArray { optional: true, nillable, item_type_name }
                }
                Shape::Raw { repeated, wildcard, .. } => Shape::Raw { optional: true, repeated, wildcard },
                other => other,
            };
            if fields.iter().any(|other| other.element == field.element) {
                return Err(Problem::new(
                    header.pos,
                    format!(
                        "header element \"{}\" appears twice in operation \"{}\"",
                        field.element.local, operation.name
                    ),
                ));
            }
            fields.push(field);
        }
        Ok(fields)
    }

    /// A part as a field: its element (global, qualified by its schema) or,
    /// for a `type` part, an unqualified accessor named after the part.
    fn part_field(&self, part: &'d Part, message: &Message, walk: &mut Walk<'d>) -> Result<Field, Problem> {
        match (&part.element, &part.accessor) {
            (Some(element), None) => {
                let &(decl, schema) = lookup(&self.elements, element, "element", part.pos)?;
                let mut field = self.field(decl, schema, "", walk)?;
                if field.shape.is_element() && !matches!(field.shape, Shape::Raw { wildcard: true, .. }) {
                    // A global element is always qualified by its schema's namespace.
                    field.element = QName::new(&schema.target_namespace, &decl.name);
                }
                Ok(field)
            }
            (None, Some(accessor)) => self.field(accessor, self.no_schema, "", walk),
            _ => Err(Problem::new(
                part.pos,
                format!("part \"{}\" of message \"{}\" needs either an element or a type", part.name, message.name),
            )),
        }
    }

    /// The single part of a document/literal wrapped message, as an element
    /// and its children; `None` when its element is not of a complex type
    /// (a bare message).
    fn wrapped(
        &self,
        part: &'d Part,
        message: &Message,
        operation: &PortOperation,
        walk: &mut Walk<'d>,
    ) -> Result<Option<Wrapper>, Problem> {
        let Some(element) = &part.element else { return Ok(None) };
        let &(decl, schema) = lookup(&self.elements, element, "element", part.pos)?;
        walk.declared(&decl.problems)?;
        let label = format!("the type of element \"{}\"", decl.name);
        let fields = match (&decl.inline, &decl.type_name) {
            (Some(InlineType::Complex(complex)), None) => {
                self.fields(complex, schema, &decl.name, &label, walk, &mut Vec::new())?
            }
            (None, Some(type_name)) => {
                let name = qname(type_name, decl.pos)?;
                let Some(&[(complex, complex_schema)]) = self.complex_types.get(&name).map(Vec::as_slice) else {
                    return Ok(None);
                };
                if matches!(complex.content, parse::ComplexContent::Simple { .. }) {
                    return Ok(None);
                }
                let label = format!("complexType \"{}\"", name.local);
                self.fields(complex, complex_schema, &name.local, &label, walk, &mut vec![name.clone()])?
            }
            _ => return Ok(None),
        };
        if let Some(field) = fields.iter().find(|field| !field.shape.is_element()) {
            return Err(Problem::new(
                field.pos,
                format!(
                    "unsupported attributes or text on element \"{}\" of message \"{}\" of operation \"{}\": only child elements are supported there",
                    decl.name, message.name, operation.name
                ),
            ));
        }
        Ok(Some(Wrapper { element: QName::new(&schema.target_namespace, &decl.name), fields }))
    }
}

/// Layouts whose response can differ: a one-part bare message of a complex
/// type reads as wrapped, and the same operation's other message may be bare.
fn fields_only(layout: Layout) -> bool {
    matches!(layout, Layout::Wrapped | Layout::Bare)
}

/// The parts of a bare or rpc message are told apart by their elements.
fn check_unique(fields: &[Field], message: &Message, operation: &PortOperation) -> Result<(), Problem> {
    for (index, field) in fields.iter().enumerate() {
        if fields[..index].iter().any(|other| other.element == field.element) {
            return Err(Problem::new(
                field.pos,
                format!(
                    "element \"{}\" appears twice in message \"{}\" of operation \"{}\"",
                    field.element.local, message.name, operation.name
                ),
            ));
        }
    }
    Ok(())
}

/// A message reference by what it names, not how it is spelled: two prefixes for
/// one namespace are the same message (an undeclared prefix compares as written).
fn resolved(reference: &Option<QNameRef>) -> Option<(Option<&str>, &str)> {
    reference.as_ref().map(|reference| match &reference.namespace {
        Some(namespace) => (Some(namespace.as_str()), reference.local.as_str()),
        None => (None, reference.text.as_str()),
    })
}

/// Style and use of a SOAP binding operation: document or rpc, literal or
/// (rpc, SOAP 1.1) encoded; whether it is rpc, and whether it is encoded.
fn check_binding_operation(binding: &Binding, operation: &BindingOperation) -> Result<(bool, bool), Problem> {
    let context = format!("operation \"{}\" of binding \"{}\"", operation.name, binding.name);
    let style = operation.style.as_deref().or(binding.style.as_deref()).unwrap_or("document");
    if style != "document" && style != "rpc" {
        return Err(Problem::new(
            operation.pos,
            format!("unsupported style=\"{style}\" in {context}: only document and rpc are supported"),
        ));
    }
    let mut uses = Vec::new();
    for message in [&operation.input, &operation.output].into_iter().flatten() {
        let Some((body_use, at)) = &message.body_use else { continue };
        match body_use.as_str() {
            "literal" => {}
            "encoded" if style != "rpc" => {
                return Err(Problem::new(
                    *at,
                    format!("unsupported use=\"encoded\" in document style in {context}: only rpc style is encoded"),
                ));
            }
            "encoded" if binding.protocol != Protocol::Soap11 => {
                return Err(Problem::new(
                    *at,
                    format!(
                        "unsupported use=\"encoded\" in the SOAP 1.2 {context}: only SOAP 1.1 encoding is supported"
                    ),
                ));
            }
            "encoded" => {
                let styles = message.encoding_style.as_deref().unwrap_or(SOAP_ENCODING_NS);
                if !styles.split_whitespace().any(|uri| uri == SOAP_ENCODING_NS) {
                    return Err(Problem::new(
                        *at,
                        format!("unsupported encodingStyle=\"{styles}\" in {context}: only SOAP 1.1 encoding ({SOAP_ENCODING_NS}) is supported"),
                    ));
                }
            }
            _ => {
                return Err(Problem::new(
                    *at,
                    format!("unsupported use=\"{body_use}\" in {context}: only literal and encoded are supported"),
                ));
            }
        }
        uses.push((body_use.as_str(), *at));
    }
    let encoded = uses.iter().any(|(body_use, _)| *body_use == "encoded");
    if let Some((_, at)) = uses.iter().find(|(body_use, _)| encoded && *body_use != "encoded") {
        return Err(Problem::new(
            *at,
            format!(
                "the input and output of {context} differ in use (one literal, one encoded); both must be the same"
            ),
        ));
    }
    for (name, fault_use, at) in &operation.faults {
        if fault_use.as_deref().is_some_and(|fault_use| fault_use != "literal") {
            return Err(Problem::new(
                *at,
                format!("unsupported encoded fault \"{name}\" in {context}: only literal faults are supported"),
            ));
        }
    }
    Ok((style == "rpc", encoded))
}

fn abstract_operation<'d>(port_type: &'d PortType, operation: &BindingOperation) -> Result<&'d PortOperation, Problem> {
    let mut matching = port_type.operations.iter().filter(|candidate| candidate.name == operation.name);
    match (matching.next(), matching.next()) {
        (Some(found), None) => Ok(found),
        (None, _) => Err(Problem::new(
            operation.pos,
            format!("operation \"{}\" is not in portType \"{}\"", operation.name, port_type.name),
        )),
        (Some(_), Some(_)) => Err(Problem::new(
            operation.pos,
            format!(
                "operation \"{}\" appears twice in portType \"{}\" (overloading is not supported)",
                operation.name, port_type.name
            ),
        )),
    }
}
