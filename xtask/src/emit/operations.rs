//! Per operation: `{Op}Request` (an `XmlRequest`) and `{Op}Response`.

use proc_macro2::TokenStream;
use quote::quote;

use super::content::{content_impl, read_body, request_members, write_statements, writer_param};
use super::docs::outer;
use super::types::field_declarations;
use super::{ident, namespace, serde_derives, struct_derives};
use crate::plan::{Child, CredentialPlacement, Operation, Response};

/// The request and response types of `operation`.
pub(super) fn operation(operation: &Operation) -> TokenStream {
    let request = request_type(operation);
    let response = response_type(&operation.response);
    quote!(#request #response)
}

fn option_literal(value: Option<&String>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn placement(credentials: &CredentialPlacement) -> TokenStream {
    match credentials {
        CredentialPlacement::None => quote!(::payamak::codegen::CredentialPlacement::None),
        CredentialPlacement::Body => quote!(::payamak::codegen::CredentialPlacement::Body),
    }
}

fn request_type(operation: &Operation) -> TokenStream {
    let request = &operation.request;
    let name = ident(&request.ident);
    let response = ident(&operation.response.ident);
    let doc = outer(&request.doc);
    let fields = request.children.iter().filter_map(|child| match child {
        Child::Field(field) => Some(field),
        Child::Credential(_) => None,
    });
    let declarations = field_declarations(fields);
    let members = request_members(&request.children);
    let writes = write_statements(&members);
    let writer = writer_param(&members);
    let read = read_body(&members);
    let element_param = if read.uses_element { quote!(element) } else { quote!(_element) };
    let credentials_param = if read.uses_credentials { quote!(credentials) } else { quote!(_credentials) };
    let statements = read.statements;
    let derives = struct_derives();
    let serde = serde_derives();
    let operation_name = &operation.name;
    let soap11 = option_literal(operation.soap11_action.as_ref());
    let soap12 = option_literal(operation.soap12_action.as_ref());
    let namespace = namespace(&request.element.namespace);
    let request_element = &request.element.local;
    let response_element = &operation.response.element.local;
    let retry_safe = operation.retry_safe;
    let credentials = placement(&request.credentials);
    quote! {
        #doc
        #derives
        #serde
        pub struct #name { #declarations }

        impl ::payamak::codegen::XmlRequest for #name {
            type Response = #response;
            const OPERATION: &'static ::payamak::codegen::OperationMeta = &::payamak::codegen::OperationMeta {
                service: &SERVICE,
                name: #operation_name,
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
    }
}

fn response_type(response: &Response) -> TokenStream {
    let name = ident(&response.ident);
    let doc = outer(&response.doc);
    let status_impl = response.status.as_ref().map(|status| {
        let doc = outer(&status.doc);
        let field = ident(&status.field);
        let module = ident(&status.module);
        let status_enum = ident(&status.status_enum);
        quote! {
            impl #name {
                #doc
                pub const fn result_status(&self) -> super::#module::#status_enum {
                    super::#module::#status_enum::from_code(self.#field)
                }
            }
        }
    });
    let declarations = field_declarations(&response.fields);
    let content = content_impl(&name, &response.fields);
    let derives = struct_derives();
    let serde = serde_derives();
    quote! {
        #doc
        #derives
        #serde
        pub struct #name { #declarations }
        #status_impl
        #content
    }
}
