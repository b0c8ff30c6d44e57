//! Per operation: the request (fields and credential slots) and the response
//! (fields and status binding), checked against the annotations.

use super::fields::{self, element_name, type_display};
use super::STATUS_MODULE;
use crate::annotations::{Credentials, OperationAnnotation, StatusField};
use crate::diag::Problem;
use crate::model::{Builtin, Field, Operation, Shape, TypeRef};
use crate::names::ServiceNames;
use crate::plan::{
    self, code, Child, Credential, CredentialPlacement, CredentialSlot, Doc, Request, Response, StatusBinding,
};

pub(super) fn operation(
    operation: &Operation,
    names: &ServiceNames,
    annotation: Option<&OperationAnnotation>,
    credentials: Option<&Credentials>,
) -> Result<plan::Operation, Problem> {
    let missing =
        || Problem::new(operation.pos, format!("internal error: operation \"{}\" has no type names", operation.name));
    let request = names.requests.get(&operation.name).ok_or_else(missing)?;
    let response = names.responses.get(&operation.name).ok_or_else(missing)?;
    Ok(plan::Operation {
        name: operation.name.clone(),
        soap11_action: operation.soap11_action.clone(),
        soap12_action: operation.soap12_action.clone(),
        retry_safe: annotation.is_some_and(|a| a.retry_safe),
        request: bind_request(operation, request, names, annotation, credentials)?,
        response: bind_response(operation, response, names, annotation)?,
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
) -> Result<Vec<Child>, Problem> {
    let plain: Vec<&Field> =
        operation.request.fields.iter().filter(|field| credential_of(field, credentials).is_none()).collect();
    let mut plain_fields = fields::fields(&plain, names)?.into_iter();
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
    Ok(children)
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
) -> Result<Request, Problem> {
    let children = request_children(operation, names, credentials)?;
    let credential_elements: Vec<String> = children
        .iter()
        .filter_map(|child| match child {
            Child::Credential(slot) => Some(code(&slot.element.local)),
            Child::Field(_) => None,
        })
        .collect();
    let element = &operation.request.element;
    let mut doc = Doc::new()
        .line(format!("Request of the {} operation.", code(&operation.name)))
        .prose(annotation.and_then(|a| a.doc.as_deref()))
        .prose(annotation.and_then(|a| a.doc_fa.as_deref()))
        .prose(operation.doc.as_deref())
        .line(format!(
            "{}; request element {} in namespace {}.",
            actions_line(operation),
            code(&element.local),
            code(&element.namespace)
        ));
    let credentials = if credential_elements.is_empty() {
        CredentialPlacement::None
    } else {
        doc = doc.line(format!(
            "The runtime adds the credentials ({}) where the WSDL declares them.",
            credential_elements.join(", ")
        ));
        CredentialPlacement::Body
    };
    Ok(Request { ident: ident.to_owned(), doc, element: element_name(element, names), children, credentials })
}

fn bind_response(
    operation: &Operation,
    ident: &str,
    names: &ServiceNames,
    annotation: Option<&OperationAnnotation>,
) -> Result<Response, Problem> {
    let model_fields: Vec<&Field> = operation.response.fields.iter().collect();
    let mut fields = fields::fields(&model_fields, names)?;
    let status = annotation
        .and_then(|a| a.status.as_ref())
        .map(|annotated| status_binding(operation, ident, annotated, &model_fields, &mut fields))
        .transpose()?;
    let element = &operation.response.element;
    let doc = Doc::new().line(format!(
        "Response of the {} operation: element {} in namespace {}.",
        code(&operation.name),
        code(&element.local),
        code(&element.namespace)
    ));
    Ok(Response { ident: ident.to_owned(), doc, element: element_name(element, names), fields, status })
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
