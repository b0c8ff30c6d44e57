//! Per operation: `{Op}Request` (an `XmlRequest`) and `{Op}Response`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::docs::{code, Doc};
use super::types::{self, Child, Credential};
use super::{serde_derives, struct_derives};
use crate::annotations::{Annotations, OperationAnnotation};
use crate::diag::Problem;
use crate::model::{Builtin, Field, Operation, Shape, TypeRef};
use crate::names::{self, ServiceNames};

/// The request and response types of `operation`.
pub(super) fn operation(
    operation: &Operation,
    names: &ServiceNames,
    annotations: Option<&Annotations>,
) -> Result<TokenStream, Problem> {
    let annotation = annotations.and_then(|all| all.operations.get(&operation.name));
    let missing =
        || Problem::new(operation.pos, format!("internal error: operation \"{}\" has no type names", operation.name));
    let request = names::ident(names.requests.get(&operation.name).ok_or_else(missing)?);
    let response = names::ident(names.responses.get(&operation.name).ok_or_else(missing)?);
    let request_tokens = request_type(operation, &request, &response, names, annotations, annotation)?;
    let response_tokens = response_type(operation, &response, names, annotation)?;
    Ok(quote!(#request_tokens #response_tokens))
}

/// Which request elements are credentials, checked to be single strings.
fn request_children<'a>(
    operation: &'a Operation,
    annotations: Option<&Annotations>,
) -> Result<Vec<Child<'a>>, Problem> {
    let credentials = annotations.and_then(|all| all.credentials.as_ref());
    let credential_of = |field: &Field| {
        let local = field.element.local.as_str();
        let credentials = credentials?;
        if local == credentials.username {
            Some(Credential::Username)
        } else if local == credentials.password {
            Some(Credential::Password)
        } else {
            None
        }
    };
    let plain: Vec<&Field> = operation.request.fields.iter().filter(|field| credential_of(field).is_none()).collect();
    let mut plain_children = types::field_children(&plain).into_iter();
    let mut children = Vec::new();
    for field in &operation.request.fields {
        match credential_of(field) {
            Some(which) => {
                let is_string = matches!(field.item, TypeRef::Builtin(Builtin::String));
                if !is_string || !matches!(field.shape, Shape::Single { .. }) {
                    return Err(Problem::new(
                        field.pos,
                        format!(
                            "credential element \"{}\" of operation \"{}\" must be a single xs:string, not {}",
                            field.element.local,
                            operation.name,
                            types::type_display(&field.type_name)
                        ),
                    ));
                }
                children.push(Child::Credential { element: &field.element, which });
            }
            None => children.extend(plain_children.next()),
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

fn option_literal(value: Option<&String>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn request_type(
    operation: &Operation,
    ident: &Ident,
    response: &Ident,
    names: &ServiceNames,
    annotations: Option<&Annotations>,
    annotation: Option<&OperationAnnotation>,
) -> Result<TokenStream, Problem> {
    let children = request_children(operation, annotations)?;
    let credential_elements: Vec<String> = children
        .iter()
        .filter_map(|child| match child {
            Child::Credential { element, .. } => Some(code(&element.local)),
            Child::Field { .. } => None,
        })
        .collect();
    let takes_credentials = !credential_elements.is_empty();
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
    if takes_credentials {
        doc = doc.line(format!(
            "The runtime adds the credentials ({}) where the WSDL declares them.",
            credential_elements.join(", ")
        ));
    }
    let doc = doc.outer();
    let declarations = types::field_declarations(&children, names)?;
    let writes = types::write_statements(&children, names);
    let writer = if children.is_empty() { quote!(_w) } else { quote!(w) };
    let read = types::read_body(&children, names);
    let element_param = if read.uses_element { quote!(element) } else { quote!(_element) };
    let credentials_param = if read.uses_credentials { quote!(credentials) } else { quote!(_credentials) };
    let statements = read.statements;
    let derives = struct_derives();
    let serde = serde_derives();
    let name = &operation.name;
    let soap11 = option_literal(operation.soap11_action.as_ref());
    let soap12 = option_literal(operation.soap12_action.as_ref());
    let namespace = types::namespace(&element.namespace, names);
    let request_element = &element.local;
    let response_element = &operation.response.element.local;
    let retry_safe = annotation.is_some_and(|a| a.retry_safe);
    let credentials = if takes_credentials {
        quote!(::payamak::codegen::CredentialPlacement::Body)
    } else {
        quote!(::payamak::codegen::CredentialPlacement::None)
    };
    Ok(quote! {
        #doc
        #derives
        #serde
        pub struct #ident { #declarations }

        impl ::payamak::codegen::XmlRequest for #ident {
            type Response = #response;
            const OPERATION: &'static ::payamak::codegen::OperationMeta = &::payamak::codegen::OperationMeta {
                service: &SERVICE,
                name: #name,
                soap11_action: #soap11,
                soap12_action: #soap12,
                namespace: #namespace,
                request_element: #request_element,
                response_element: #response_element,
                credentials: #credentials,
                retry_safe: #retry_safe,
            };
            fn write_body(&self, #writer: &mut ::payamak::codegen::XmlWriter) {
                #writes
            }
            fn read_body(
                #element_param: ::payamak::codegen::XmlElement<'_, '_>,
                #credentials_param: &mut ::payamak::codegen::ReceivedCredentials,
            ) -> ::core::result::Result<Self, ::payamak::codegen::DecodeError> {
                #statements
            }
        }
    })
}

fn response_type(
    operation: &Operation,
    ident: &Ident,
    names: &ServiceNames,
    annotation: Option<&OperationAnnotation>,
) -> Result<TokenStream, Problem> {
    let fields: Vec<&Field> = operation.response.fields.iter().collect();
    let mut children = types::field_children(&fields);
    let mut status_impl = quote!();
    if let Some(status) = annotation.and_then(|a| a.status.as_ref()) {
        let found = children.iter_mut().find_map(|child| match child {
            Child::Field { field, name, note, .. } if field.element.local == status.field => {
                Some((*field, name.clone(), note))
            }
            _ => None,
        });
        let Some((field, name, note)) = found else {
            return Err(Problem::new(
                operation.pos,
                format!(
                    "the annotations map status field \"{}\" of operation \"{}\", but the response has no such element",
                    status.field, operation.name
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
                    status.field, operation.name
                ),
            ));
        }
        *note = Some(format!("Read it as a status with [`{ident}::result_status`]."));
        let status_enum = names::ident(&status.enum_name);
        let doc = format!(" {} as a [`super::status::{}`].", code(&status.field), status.enum_name);
        status_impl = quote! {
            impl #ident {
                #[doc = #doc]
                pub const fn result_status(&self) -> super::status::#status_enum {
                    super::status::#status_enum::from_code(self.#name)
                }
            }
        };
    }
    let element = &operation.response.element;
    let doc = Doc::new()
        .line(format!(
            "Response of the {} operation: element {} in namespace {}.",
            code(&operation.name),
            code(&element.local),
            code(&element.namespace)
        ))
        .outer();
    let declarations = types::field_declarations(&children, names)?;
    let content = types::content_impl(ident, &children, names);
    let derives = struct_derives();
    let serde = serde_derives();
    Ok(quote! {
        #doc
        #derives
        #serde
        pub struct #ident { #declarations }
        #status_impl
        #content
    })
}
