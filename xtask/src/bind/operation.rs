//! Per operation: the request (fields and credential slots) and the response
//! (fields and status binding), checked against the annotations.

use super::fields::{self, element_name, type_display};
use super::STATUS_MODULE;
use crate::annotations::{Credentials, OperationAnnotation, StatusField};
use crate::diag::Problem;
use crate::model::{Builtin, Field, Layout, NamedType, Operation, QName, Shape, TypeKind, TypeRef};
use crate::names::{self, ServiceNames};
use crate::plan::{
    self, code, BodyStyle, Child, Credential, CredentialPlacement, CredentialSlot, Doc, Headers, Request, Response,
    StatusBinding,
};

/// What binding an operation needs besides the operation.
pub(super) struct OperationContext<'a> {
    pub names: &'a ServiceNames,
    pub annotation: Option<&'a OperationAnnotation>,
    pub credentials: Option<&'a Credentials>,
    /// The service's named types (to recognise a credentials header).
    pub types: &'a [NamedType],
}

/// An operation and the items it adds to the module (header structs, the fault enum).
pub(super) struct BoundOperation {
    pub operation: plan::Operation,
    pub types: Vec<plan::NamedType>,
}

pub(super) fn operation(operation: &Operation, context: &OperationContext<'_>) -> Result<BoundOperation, Problem> {
    let names = context.names;
    let missing =
        || Problem::new(operation.pos, format!("internal error: operation \"{}\" has no type names", operation.name));
    let request_ident = names.requests.get(&operation.name).ok_or_else(missing)?;
    let response_ident = names.responses.get(&operation.name).ok_or_else(missing)?;
    let mut types = Vec::new();
    let header_credentials = credentials_header(operation, context);
    let input_headers: Vec<&Field> = operation
        .input_headers
        .iter()
        .filter(|field| header_credentials.as_ref().is_none_or(|(holder, _, _)| &field.element != holder))
        .collect();
    let request_headers = headers_struct(
        &input_headers,
        names.request_headers.get(&operation.name),
        format!("The SOAP header elements of the {} request.", code(&operation.name)),
        names,
        &mut types,
    )?;
    let mut request =
        bind_request(operation, request_ident, names, context.annotation, context.credentials, request_headers)?;
    if let Some((holder, username, password)) = header_credentials {
        request.doc = request.doc.line(format!(
            "The runtime writes the credentials in the SOAP header {} ({}, {}).",
            code(&holder.local),
            code(&username),
            code(&password)
        ));
        request.credentials =
            CredentialPlacement::Header { element: fields::element_name(&holder, names), username, password };
    }
    let response = match &operation.response {
        Some(_) => {
            let output_headers: Vec<&Field> = operation.output_headers.iter().collect();
            let response_headers = headers_struct(
                &output_headers,
                names.response_headers.get(&operation.name),
                format!("The SOAP header elements of the {} response.", code(&operation.name)),
                names,
                &mut types,
            )?;
            Some(bind_response(operation, response_ident, names, context.annotation, response_headers)?)
        }
        None => None,
    };
    if let Some(fault_ident) = names.faults.get(&operation.name) {
        let alternatives: Vec<&Field> = operation.faults.iter().map(|fault| &fault.field).collect();
        let mut variants = fields::fields(&alternatives, names)?;
        let fault_names: Vec<String> = operation.faults.iter().map(|fault| fault.name.clone()).collect();
        for ((variant, ident), fault) in
            variants.iter_mut().zip(names::variant_names(&fault_names)).zip(&operation.faults)
        {
            variant.ident = ident;
            variant.doc = Doc::new().line(format!(
                "The fault {}: its detail {}.",
                code(&fault.name),
                code(&fault.field.element.local)
            ));
        }
        let doc = Doc::new()
            .line(format!(
                "The faults the {} operation declares, read from a SOAP fault's detail.",
                code(&operation.name)
            ))
            .line(format!("Get it from a call's error with [`{fault_ident}::from_error`]."));
        types.push(plan::NamedType::Choice(plan::ChoiceEnum {
            ident: fault_ident.clone(),
            doc,
            variants,
            fault: true,
        }));
    }
    let body = match operation.layout {
        Layout::Wrapped => BodyStyle::Wrapped,
        Layout::Bare => BodyStyle::Bare,
        Layout::Rpc => BodyStyle::Rpc,
    };
    let operation = plan::Operation {
        name: operation.name.clone(),
        soap11_action: operation.soap11_action.clone(),
        soap12_action: operation.soap12_action.clone(),
        retry_safe: context.annotation.is_some_and(|a| a.retry_safe),
        body,
        request,
        response,
    };
    Ok(BoundOperation { operation, types })
}

/// The struct of a message's header elements, added to `types`, and the field that holds it.
fn headers_struct(
    headers: &[&Field],
    ident: Option<&String>,
    summary: String,
    names: &ServiceNames,
    types: &mut Vec<plan::NamedType>,
) -> Result<Option<Headers>, Problem> {
    let Some(ident) = ident.filter(|_| !headers.is_empty()) else { return Ok(None) };
    let fields = fields::fields(headers, names)?;
    let elements = headers.iter().map(|field| fields::element_name(&field.element, names)).collect();
    let doc = Doc::new().line(summary).line("Each is optional: absent elements are not written, or were not sent.");
    types.push(plan::NamedType::Struct(plan::Struct { ident: ident.clone(), doc, fields }));
    Ok(Some(Headers {
        field: String::new(),
        doc: Doc::new().line(format!("The SOAP header elements (see [`{ident}`]).")),
        ty: ident.clone(),
        elements,
    }))
}

/// The input header that carries the credentials, with its user name and
/// password children: the annotated header element, or else the ASP.NET
/// `[SoapHeader]` shape (two string children such as `UserName` and `Password`,
/// in the header's namespace).
fn credentials_header(operation: &Operation, context: &OperationContext<'_>) -> Option<(QName, String, String)> {
    let annotated = context.credentials;
    operation.input_headers.iter().find_map(|header| {
        let TypeRef::Named(type_name) = &header.item else { return None };
        let named = context.types.iter().find(|named| &named.name == type_name)?;
        let TypeKind::Struct { fields, .. } = &named.kind else { return None };
        // ASP.NET gives header types an `anyAttribute`, which the runtime need not fill.
        let elements: Vec<&Field> = fields.iter().filter(|field| field.shape.is_element()).collect();
        let [first, second] = elements.as_slice() else { return None };
        let (first, second) = (*first, *second);
        let is_string = |field: &Field| {
            matches!(field.item, TypeRef::Builtin(Builtin::String))
                && matches!(field.shape, Shape::Single { .. })
                && field.element.namespace == header.element.namespace
        };
        if !is_string(first) || !is_string(second) {
            return None;
        }
        let found = |wanted: &dyn Fn(&str) -> bool| {
            [first, second]
                .into_iter()
                .find(|field| wanted(&field.element.local))
                .map(|field| field.element.local.clone())
        };
        let (username, password) = match annotated {
            Some(credentials) => {
                if credentials.header.as_deref().is_some_and(|holder| holder != header.element.local) {
                    return None;
                }
                (found(&|local| local == credentials.username)?, found(&|local| local == credentials.password)?)
            }
            None => {
                let lower = |local: &str| local.to_ascii_lowercase();
                let user = |local: &str| matches!(lower(local).as_str(), "username" | "user" | "login" | "user_name");
                let pass = |local: &str| matches!(lower(local).as_str(), "password" | "pass" | "pwd" | "passwd");
                (found(&user)?, found(&pass)?)
            }
        };
        Some((header.element.clone(), username, password))
    })
}

/// Which credential an element carries, by its local name.
fn credential_of(field: &Field, credentials: Option<&Credentials>) -> Option<Credential> {
    let credentials = credentials?;
    let local = field.element.local.as_str();
    if local == credentials.username {
        Some(Credential::Username)
    } else if local == credentials.password {
        Some(Credential::Password)
    } else {
        None
    }
}

/// Fields and credential slots in document order; only the fields share a naming scope.
fn request_children(
    operation: &Operation,
    names: &ServiceNames,
    credentials: Option<&Credentials>,
    headers: Option<Headers>,
) -> Result<(Vec<Child>, Option<Headers>), Problem> {
    let plain: Vec<&Field> =
        operation.request.fields.iter().filter(|field| credential_of(field, credentials).is_none()).collect();
    let (planned, headers) = fields_and_headers(&plain, names, headers)?;
    let mut plain_fields = planned.into_iter();
    let mut children = Vec::new();
    for field in &operation.request.fields {
        match credential_of(field, credentials) {
            Some(credential) => {
                let is_string = matches!(field.item, TypeRef::Builtin(Builtin::String));
                if !is_string || !matches!(field.shape, Shape::Single { .. }) {
                    return Err(Problem::new(
                        field.pos,
                        format!(
                            "credential element \"{}\" of operation \"{}\" must be a single xs:string, not {}",
                            field.element.local,
                            operation.name,
                            type_display(&field.type_name)
                        ),
                    ));
                }
                let element = element_name(&field.element, names);
                children.push(Child::Credential(CredentialSlot { element, credential }));
            }
            None => children.extend(plain_fields.next().map(Child::Field)),
        }
    }
    Ok((children, headers))
}

/// The fields of a message, and its headers field named after them (`headers`, unless a field took it).
fn fields_and_headers(
    fields: &[&Field],
    names: &ServiceNames,
    headers: Option<Headers>,
) -> Result<(Vec<plan::Field>, Option<Headers>), Problem> {
    let planned = fields::fields(fields, names)?;
    let headers = headers.map(|mut headers| {
        let mut taken: Vec<&str> = fields.iter().map(|field| field.element.local.as_str()).collect();
        taken.push("headers");
        headers.field = names::field_names(taken).fields.pop().unwrap_or_else(|| "headers".to_owned());
        headers
    });
    Ok((planned, headers))
}

fn actions_line(operation: &Operation) -> String {
    let name = code(&operation.name);
    match (&operation.soap11_action, &operation.soap12_action) {
        (Some(soap11), Some(soap12)) if soap11 == soap12 => format!("SOAP operation {name} (action {})", code(soap11)),
        (Some(soap11), Some(soap12)) => {
            format!("SOAP operation {name} (SOAP 1.1 action {}, SOAP 1.2 action {})", code(soap11), code(soap12))
        }
        (Some(soap11), None) => format!("SOAP operation {name} (SOAP 1.1 only, action {})", code(soap11)),
        (None, Some(soap12)) => format!("SOAP operation {name} (SOAP 1.2 only, action {})", code(soap12)),
        (None, None) => format!("SOAP operation {name}"),
    }
}

fn bind_request(
    operation: &Operation,
    ident: &str,
    names: &ServiceNames,
    annotation: Option<&OperationAnnotation>,
    credentials: Option<&Credentials>,
    headers: Option<Headers>,
) -> Result<Request, Problem> {
    let (children, headers) = request_children(operation, names, credentials, headers)?;
    let credential_elements: Vec<String> = children
        .iter()
        .filter_map(|child| match child {
            Child::Credential(slot) => Some(code(&slot.element.local)),
            Child::Field(_) => None,
        })
        .collect();
    let element = &operation.request.element;
    let doc = Doc::new()
        .line(format!("Request of the {} operation.", code(&operation.name)))
        .prose(annotation.and_then(|a| a.doc.as_deref()))
        .prose(annotation.and_then(|a| a.doc_fa.as_deref()))
        .prose(operation.doc.as_deref())
        .line(match operation.layout {
            Layout::Wrapped => format!(
                "{}; request element {} in namespace {}.",
                actions_line(operation),
                code(&element.local),
                code(&element.namespace)
            ),
            Layout::Bare => format!(
                "{}; its fields are the elements of the SOAP body (document/literal bare).",
                actions_line(operation)
            ),
            Layout::Rpc => format!(
                "{}; rpc style: wrapper element {} in namespace {}, one element per part.",
                actions_line(operation),
                code(&element.local),
                code(&element.namespace)
            ),
        });
    let doc = if operation.response.is_none() {
        doc.line("One-way: the server sends no response; a call is done once the server accepted the request.")
    } else {
        doc
    };
    let mut doc = doc;
    let credentials = if credential_elements.is_empty() {
        CredentialPlacement::None
    } else {
        doc = doc.line(format!(
            "The runtime adds the credentials ({}) where the WSDL declares them.",
            credential_elements.join(", ")
        ));
        CredentialPlacement::Body
    };
    Ok(Request { ident: ident.to_owned(), doc, element: element_name(element, names), children, credentials, headers })
}

fn bind_response(
    operation: &Operation,
    ident: &str,
    names: &ServiceNames,
    annotation: Option<&OperationAnnotation>,
    headers: Option<Headers>,
) -> Result<Response, Problem> {
    let missing =
        || Problem::new(operation.pos, format!("internal error: operation \"{}\" has no response", operation.name));
    let model_response = operation.response.as_ref().ok_or_else(missing)?;
    let model_fields: Vec<&Field> = model_response.fields.iter().collect();
    let (mut fields, headers) = fields_and_headers(&model_fields, names, headers)?;
    let status = annotation
        .and_then(|a| a.status.as_ref())
        .map(|annotated| status_binding(operation, ident, annotated, &model_fields, &mut fields))
        .transpose()?;
    let element = &model_response.element;
    let doc = match operation.layout {
        Layout::Bare => Doc::new().line(format!(
            "Response of the {} operation: the elements of the SOAP body (document/literal bare).",
            code(&operation.name)
        )),
        _ => Doc::new().line(format!(
            "Response of the {} operation: element {} in namespace {}.",
            code(&operation.name),
            code(&element.local),
            code(&element.namespace)
        )),
    };
    Ok(Response { ident: ident.to_owned(), doc, element: element_name(element, names), fields, status, headers })
}

/// `result_status()` for the annotated field, which must be a required `xs:int`; its doc points there.
fn status_binding(
    operation: &Operation,
    response: &str,
    annotated: &StatusField,
    model_fields: &[&Field],
    fields: &mut [plan::Field],
) -> Result<StatusBinding, Problem> {
    let found = model_fields.iter().zip(fields).find(|(field, _)| field.element.local == annotated.field);
    let Some((field, planned)) = found else {
        return Err(Problem::new(
            operation.pos,
            format!(
                "the annotations map status field \"{}\" of operation \"{}\", but the response has no such element",
                annotated.field, operation.name
            ),
        ));
    };
    let is_int = matches!(field.item, TypeRef::Builtin(Builtin::Int));
    let is_required = matches!(field.shape, Shape::Single { optional: false, nillable: false });
    if !is_int || !is_required {
        return Err(Problem::new(
            field.pos,
            format!(
                "status field \"{}\" of operation \"{}\" must be a required, non-nillable xs:int",
                annotated.field, operation.name
            ),
        ));
    }
    planned.doc = fields::doc(field, Some(&format!("Read it as a status with [`{response}::result_status`].")));
    Ok(StatusBinding {
        field: planned.ident.clone(),
        module: STATUS_MODULE.to_owned(),
        status_enum: annotated.enum_name.clone(),
        doc: Doc::new().line(format!(
            "{} as a [`super::{STATUS_MODULE}::{}`].",
            code(&annotated.field),
            annotated.enum_name
        )),
    })
}
