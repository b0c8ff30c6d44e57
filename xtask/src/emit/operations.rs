//! Per operation: `{Op}Request` (an `XmlRequest`) and `{Op}Response`.

use proc_macro2::TokenStream;
use quote::quote;

use super::content::{
    content_impl_of, field_members, read_body, request_members, write_statements, writer_param, Member,
};
use super::docs::outer;
use super::types::field_declarations;
use super::{ident, namespace, serde_derives, struct_derives};
use crate::plan::{BodyStyle, Child, CredentialPlacement, ElementName, Headers, Operation, Response};

/// The request and response types of `operation`.
pub(super) fn operation(operation: &Operation) -> TokenStream {
    let request = request_type(operation);
    let rpc = operation.body == BodyStyle::Rpc;
    let response = operation.response.as_ref().map(|response| response_type(response, rpc));
    quote!(#request #response)
}

/// `pub headers: OpRequestHeaders,`
fn headers_declaration(headers: Option<&Headers>) -> TokenStream {
    let Some(headers) = headers else { return quote!() };
    let doc = outer(&headers.doc);
    let name = ident(&headers.field);
    let ty = ident(&headers.ty);
    quote! { #doc pub #name: #ty, }
}

/// `&[(NS, "local"), …]`
fn element_list(elements: &[ElementName]) -> TokenStream {
    let elements = elements.iter().map(|element| {
        let ns = namespace(&element.namespace);
        let local = &element.local;
        quote!((#ns, #local))
    });
    quote!(&[#(#elements),*])
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
        CredentialPlacement::Header { element, username, password } => {
            let ns = namespace(&element.namespace);
            let local = &element.local;
            quote! {
                ::payamak::codegen::CredentialPlacement::Header {
                    namespace: #ns,
                    element: #local,
                    username: #username,
                    password: #password,
                }
            }
        }
    }
}

fn request_type(operation: &Operation) -> TokenStream {
    let request = &operation.request;
    let name = ident(&request.ident);
    let response_ident = operation.response.as_ref().map(|response| ident(&response.ident));
    let doc = outer(&request.doc);
    let fields = request.children.iter().filter_map(|child| match child {
        Child::Field(field) => Some(field),
        Child::Credential(_) => None,
    });
    let declarations = field_declarations(fields);
    let header_declaration = headers_declaration(request.headers.as_ref());
    let members = request_members(&request.children, request.headers.as_ref());
    let writes = write_statements(&members);
    let writer = writer_param(&members);
    let read = read_body(&members, operation.body == BodyStyle::Rpc);
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
    let response_element = operation.response.as_ref().map_or("", |response| response.element.local.as_str());
    let retry_safe = operation.retry_safe;
    let credentials = placement(&request.credentials);
    let response = match response_ident {
        Some(response) => quote!(#response),
        None => quote!(()),
    };
    let body = match operation.body {
        BodyStyle::Wrapped => quote!(),
        BodyStyle::Bare => quote!(
            const BODY: ::payamak::codegen::BodyStyle = ::payamak::codegen::BodyStyle::Bare;
        ),
        BodyStyle::Rpc => quote!(
            const BODY: ::payamak::codegen::BodyStyle = ::payamak::codegen::BodyStyle::Rpc;
        ),
    };
    let request_headers = request.headers.as_ref().map(|headers| {
        let elements = element_list(&headers.elements);
        let field = ident(&headers.field);
        quote! {
            const REQUEST_HEADERS: &'static [::payamak::codegen::ElementName] = #elements;
            fn write_headers(&self, w: &mut ::payamak::codegen::XmlWriter) {
                ::payamak::codegen::XmlContent::write_content(&self.#field, w);
            }
            fn read_headers(
                &mut self,
                header: ::payamak::codegen::XmlElement<'_, '_>,
            ) -> ::core::result::Result<(), ::payamak::codegen::DecodeError> {
                self.#field = ::payamak::codegen::XmlContent::read_content(header)?;
                ::core::result::Result::Ok(())
            }
        }
    });
    let response_headers = operation.response.as_ref().and_then(|response| response.headers.as_ref()).map(|headers| {
        let elements = element_list(&headers.elements);
        let field = ident(&headers.field);
        quote! {
            const RESPONSE_HEADERS: &'static [::payamak::codegen::ElementName] = #elements;
            fn write_response_headers(response: &Self::Response, w: &mut ::payamak::codegen::XmlWriter) {
                ::payamak::codegen::XmlContent::write_content(&response.#field, w);
            }
            fn read_response_headers(
                response: &mut Self::Response,
                header: ::payamak::codegen::XmlElement<'_, '_>,
            ) -> ::core::result::Result<(), ::payamak::codegen::DecodeError> {
                response.#field = ::payamak::codegen::XmlContent::read_content(header)?;
                ::core::result::Result::Ok(())
            }
        }
    });
    let no_reply = operation.response.is_none().then(|| {
        quote! {
            fn no_reply() -> ::core::option::Option<()> {
                ::core::option::Option::Some(())
            }
        }
    });
    quote! {
        #doc
        #derives
        #serde
        pub struct #name { #declarations #header_declaration }

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
            #body
            #request_headers
            #response_headers
            fn write_body(&self, #writer: &mut ::payamak::codegen::XmlWriter) {
                #writes
            }
            fn read_body(
                #element_param: ::payamak::codegen::XmlElement<'_, '_>,
                #credentials_param: &mut ::payamak::codegen::ReceivedCredentials,
            ) -> ::core::result::Result<Self, ::payamak::codegen::DecodeError> {
                #statements
            }
            #no_reply
        }
    }
}

fn response_type(response: &Response, rpc: bool) -> TokenStream {
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
    let header_declaration = headers_declaration(response.headers.as_ref());
    let mut members = field_members(&response.fields);
    members.extend(response.headers.as_ref().map(Member::Headers));
    let content = content_impl_of(&name, &members, rpc);
    let derives = struct_derives();
    let serde = serde_derives();
    quote! {
        #doc
        #derives
        #serde
        pub struct #name { #declarations #header_declaration }
        #status_impl
        #content
    }
}
