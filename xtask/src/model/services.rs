//! Services and their SOAP operations: bindings, port types, messages and wrapper elements.

use std::collections::{BTreeMap, BTreeSet};

use super::index::{lookup, qname, Index};
use super::recursion::box_recursive_fields;
use super::types::Walk;
use super::{Operation, QName, Service, Wrapper};
use crate::diag::Problem;
use crate::parse::{self, Binding, BindingOperation, InlineType, PortOperation, PortType, Protocol, QNameRef};

/// A SOAP operation gathered from the bindings, before its messages are resolved.
struct Draft<'d> {
    abstract_operation: &'d PortOperation,
    soap11_action: Option<String>,
    soap12_action: Option<String>,
}

impl<'d> Index<'d> {
    /// The service, or `None` when it has no SOAP port (not an error: nothing to generate).
    pub(super) fn service(&self, service: &parse::Service, walk: &mut Walk<'d>) -> Option<Service> {
        let mut soap11 = None;
        let mut soap12 = None;
        for port in &service.ports {
            let Some(binding) = walk.catch(lookup(&self.bindings, &port.binding, "binding", port.pos)).copied() else {
                continue;
            };
            let (slot, version) = match binding.protocol {
                Protocol::Soap11 => (&mut soap11, "SOAP 1.1"),
                Protocol::Soap12 => (&mut soap12, "SOAP 1.2"),
                // HTTP GET/POST bindings carry no SOAP operations.
                Protocol::Http | Protocol::Other => continue,
            };
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
                let checked = check_binding_operation(binding, operation).and(abstract_operation(port_type, operation));
                let Some(abstract_operation) = walk.catch(checked) else { continue };
                let draft = drafts.entry(&operation.name).or_insert_with(|| Draft {
                    abstract_operation,
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
            pos: service.pos,
        })
    }

    fn operation(&self, draft: Draft<'_>, walk: &mut Walk<'d>) -> Result<Operation, Problem> {
        let abstract_operation = draft.abstract_operation;
        let name = &abstract_operation.name;
        if let Some(&at) = abstract_operation.faults.first() {
            return Err(Problem::new(
                at,
                format!("unsupported <wsdl:fault> in operation \"{name}\": declared faults are not supported (the runtime reads SOAP faults)"),
            ));
        }
        let (Some(input), Some(output), false) =
            (&abstract_operation.input, &abstract_operation.output, abstract_operation.output_first)
        else {
            return Err(Problem::new(
                abstract_operation.pos,
                format!("operation \"{name}\" is not request-response (one-way and notification operations are not supported)"),
            ));
        };
        let request = self.wrapper(input, abstract_operation, walk)?;
        let response = self.wrapper(output, abstract_operation, walk)?;
        if request.element.namespace != response.element.namespace {
            return Err(Problem::new(
                abstract_operation.pos,
                format!("the request and response elements of operation \"{name}\" are in different namespaces"),
            ));
        }
        Ok(Operation {
            name: name.clone(),
            doc: abstract_operation.doc.clone(),
            soap11_action: draft.soap11_action,
            soap12_action: draft.soap12_action,
            request,
            response,
            pos: abstract_operation.pos,
        })
    }

    /// The single part of a document/literal wrapped message, as an element and its children.
    fn wrapper(&self, message: &QNameRef, operation: &PortOperation, walk: &mut Walk<'d>) -> Result<Wrapper, Problem> {
        let message = *lookup(&self.messages, message, "message", operation.pos)?;
        let [part] = message.parts.as_slice() else {
            return Err(Problem::new(
                message.pos,
                format!(
                    "message \"{}\" of operation \"{}\" has {} parts; only single-part (document/literal wrapped) messages are supported",
                    message.name,
                    operation.name,
                    message.parts.len()
                ),
            ));
        };
        let Some(element) = &part.element else {
            let type_name = part.type_name.as_ref().map_or("", |type_name| type_name.text.as_str());
            return Err(Problem::new(
                part.pos,
                format!(
                    "part \"{}\" of message \"{}\" has type=\"{type_name}\" instead of an element (rpc style); only document/literal wrapped is supported",
                    part.name, message.name
                ),
            ));
        };
        let &(decl, schema) = lookup(&self.elements, element, "element", part.pos)?;
        walk.declared(&decl.problems)?;
        let not_wrapped = || {
            Problem::new(
                decl.pos,
                format!(
                    "element \"{}\" of operation \"{}\" is not of a complex type; only document/literal wrapped operations are supported",
                    decl.name, operation.name
                ),
            )
        };
        let label = format!("the type of element \"{}\"", decl.name);
        let fields = match (&decl.inline, &decl.type_name) {
            (Some(InlineType::Complex(complex)), None) => {
                self.fields(complex, schema, &decl.name, &label, walk, &mut Vec::new())?
            }
            (None, Some(type_name)) => {
                let name = qname(type_name, decl.pos)?;
                let Some(&[(complex, complex_schema)]) = self.complex_types.get(&name).map(Vec::as_slice) else {
                    return Err(not_wrapped());
                };
                let label = format!("complexType \"{}\"", name.local);
                self.fields(complex, complex_schema, &name.local, &label, walk, &mut vec![name.clone()])?
            }
            _ => return Err(not_wrapped()),
        };
        if let Some(field) = fields.iter().find(|field| !field.shape.is_element()) {
            return Err(Problem::new(
                field.pos,
                format!(
                    "unsupported attributes or text on element \"{}\" of operation \"{}\": only child elements are supported there",
                    decl.name, operation.name
                ),
            ));
        }
        Ok(Wrapper { element: QName::new(&schema.target_namespace, &decl.name), fields })
    }
}

/// Style and use of a SOAP binding operation: document/literal, no headers.
/// A message reference by what it names, not how it is spelled: two prefixes for
/// one namespace are the same message (an undeclared prefix compares as written).
fn resolved(reference: &Option<QNameRef>) -> Option<(Option<&str>, &str)> {
    reference.as_ref().map(|reference| match &reference.namespace {
        Some(namespace) => (Some(namespace.as_str()), reference.local.as_str()),
        None => (None, reference.text.as_str()),
    })
}

fn check_binding_operation(binding: &Binding, operation: &BindingOperation) -> Result<(), Problem> {
    let context = format!("operation \"{}\" of binding \"{}\"", operation.name, binding.name);
    let style = operation.style.as_deref().or(binding.style.as_deref()).unwrap_or("document");
    if style != "document" {
        return Err(Problem::new(
            operation.pos,
            format!("unsupported style=\"{style}\" in {context}: only document/literal is supported"),
        ));
    }
    for message in [&operation.input, &operation.output].into_iter().flatten() {
        if let Some((body_use, at)) = &message.body_use {
            if body_use != "literal" {
                return Err(Problem::new(
                    *at,
                    format!("unsupported use=\"{body_use}\" in {context}: only document/literal is supported"),
                ));
            }
        }
        if let Some(&at) = message.headers.first() {
            return Err(Problem::new(
                at,
                format!("unsupported SOAP header in {context}: SOAP headers are not supported"),
            ));
        }
    }
    Ok(())
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
