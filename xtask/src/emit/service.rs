//! One service module: namespace constants, `SERVICE`, `OPERATIONS`, the
//! operations' request and response types, and the named types they use.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::{code, Doc};
use super::{allowed_lints, operations, types};
use crate::annotations::{Annotations, ServiceAnnotation};
use crate::diag::Problem;
use crate::model::{Field, Service, Shape, TypeKind};
use crate::names::{self, ServiceNames};

/// What a service module is made from.
pub struct ServiceInput<'a> {
    pub service: &'a Service,
    /// The WSDL path, as given (recorded in `SERVICE.source`).
    pub source: &'a str,
    pub annotation: Option<&'a ServiceAnnotation>,
    pub annotations: Option<&'a Annotations>,
}

/// The tokens of `generated/<module>.rs`.
pub fn service_file(input: &ServiceInput<'_>) -> Result<TokenStream, Problem> {
    let service = input.service;
    let namespaces = used_namespaces(service);
    let names = ServiceNames::new(service, namespaces.iter().map(String::as_str));
    let (address, endpoint) = address_and_endpoint(service)?;

    let module_doc = Doc::new()
        .line(format!("Service {} (endpoint {}).", code(&service.name), code(&endpoint)))
        .prose(input.annotation.map(|a| a.doc.as_str()))
        .prose(input.annotation.and_then(|a| a.doc_fa.as_deref()))
        .prose(service.doc.as_deref())
        .line("One `…Request` and `…Response` type per SOAP operation, and the types they use.")
        .inner();
    let lints = allowed_lints(true);

    let constants = names.namespaces.iter().map(|(uri, constant)| {
        let constant = names::ident(constant);
        let doc = format!(" Namespace {}.", code(uri));
        quote! {
            #[doc = #doc]
            const #constant: &str = #uri;
        }
    });

    let service_doc =
        format!(" The {} service: where it is and which WSDL it was generated from.", code(&service.name));
    let name = &service.name;
    let source = input.source;
    let mut operation_refs = Vec::new();
    let mut operation_items = Vec::new();
    for operation in &service.operations {
        let request = names.requests.get(&operation.name).map(|request| names::ident(request));
        operation_refs.extend(request.map(|request| quote!(<#request as ::payamak::codegen::XmlRequest>::OPERATION)));
        operation_items.push(operations::operation(operation, &names, input.annotations)?);
    }
    let mut type_items = Vec::new();
    for named in &service.types {
        type_items.push(types::named_type(named, &names)?);
    }

    Ok(quote! {
        #module_doc
        #lints

        #(#constants)*

        #[doc = #service_doc]
        pub const SERVICE: ::payamak::codegen::ServiceMeta = ::payamak::codegen::ServiceMeta {
            name: #name,
            endpoint: #endpoint,
            default_address: #address,
            source: #source,
        };

        /// Every operation of the service, sorted by name.
        pub const OPERATIONS: &[&::payamak::codegen::OperationMeta] = &[#(#operation_refs),*];

        #(#operation_items)*
        #(#type_items)*
    })
}

/// The SOAP 1.1 address (else the SOAP 1.2 one) and its last path segment.
fn address_and_endpoint(service: &Service) -> Result<(String, String), Problem> {
    let Some(address) = service.soap11_address.as_ref().or(service.soap12_address.as_ref()) else {
        return Err(Problem::new(service.pos, format!("service \"{}\" has no SOAP address", service.name)));
    };
    let without_query = address.split(['?', '#']).next().unwrap_or("");
    let path = without_query
        .split_once("://")
        .map_or(without_query, |(_, rest)| rest.split_once('/').map_or("", |(_, path)| path));
    match path.rsplit('/').find(|segment| !segment.is_empty()) {
        Some(endpoint) => Ok((address.clone(), endpoint.to_owned())),
        None => Err(Problem::new(
            service.pos,
            format!("service \"{}\": address \"{address}\" has no path to take the endpoint from", service.name),
        )),
    }
}

/// Namespaces of the elements the module writes or reads (the empty one needs no constant).
fn used_namespaces(service: &Service) -> BTreeSet<String> {
    let mut namespaces = BTreeSet::new();
    let mut add_fields = |fields: &[Field]| {
        for field in fields {
            namespaces.insert(field.element.namespace.clone());
            if let Shape::Array { item_element, .. } = &field.shape {
                namespaces.insert(item_element.namespace.clone());
            }
        }
    };
    for operation in &service.operations {
        add_fields(&operation.request.fields);
        add_fields(&operation.response.fields);
    }
    for named in &service.types {
        if let TypeKind::Struct { fields, .. } = &named.kind {
            add_fields(fields);
        }
    }
    for operation in &service.operations {
        namespaces.insert(operation.request.element.namespace.clone());
    }
    namespaces.remove("");
    namespaces
}
