//! One service module: names, namespace constants, `SERVICE` and the endpoint.

use std::collections::BTreeSet;

use super::{operation, types};
use crate::annotations::{Credentials, ServiceAnnotation};
use crate::diag::Problem;
use crate::model::{Field, QName, Service, Shape, TypeKind, TypeRef};
use crate::names::ServiceNames;
use crate::plan::{code, Doc, NamespaceConst, ServiceMeta, ServiceModule};

/// What a service is bound with, besides the service itself.
pub(super) struct Context<'a> {
    /// The WSDL path, as given (recorded in `SERVICE.source`).
    pub source: &'a str,
    pub annotation: Option<&'a ServiceAnnotation>,
    /// The element names of the credentials, when annotated.
    pub credentials: Option<&'a Credentials>,
}

pub(super) fn service_module(
    service: &Service,
    module: String,
    context: &Context<'_>,
) -> Result<ServiceModule, Problem> {
    let namespaces = used_namespaces(service);
    let names = ServiceNames::new(service, namespaces.iter().map(String::as_str));
    let (address, endpoint) = address_and_endpoint(service)?;
    let annotation = context.annotation;
    let doc = Doc::new()
        .line(format!("Service {} (endpoint {}).", code(&service.name), code(&endpoint)))
        .prose(annotation.map(|a| a.doc.as_str()))
        .prose(annotation.and_then(|a| a.doc_fa.as_deref()))
        .prose(service.doc.as_deref())
        .line("One `…Request` and `…Response` type per SOAP operation, and the types they use.");
    let namespaces = names
        .namespaces
        .iter()
        .map(|(uri, name)| NamespaceConst {
            name: name.clone(),
            uri: uri.clone(),
            doc: Doc::new().line(format!("Namespace {}.", code(uri))),
        })
        .collect();
    let meta = ServiceMeta {
        name: service.name.clone(),
        endpoint,
        default_address: address,
        source: context.source.to_owned(),
        doc: Doc::new()
            .line(format!("The {} service: where it is and which WSDL it was generated from.", code(&service.name))),
    };
    let mut operations = Vec::new();
    let mut operation_types = Vec::new();
    for model_operation in &service.operations {
        let annotation = annotation.and_then(|service| service.operations.get(&model_operation.name));
        let operation_context = operation::OperationContext {
            names: &names,
            annotation,
            credentials: context.credentials,
            types: &service.types,
        };
        let bound = operation::operation(model_operation, &operation_context)?;
        operations.push(bound.operation);
        operation_types.extend(bound.types);
    }
    let attribute_types: BTreeSet<QName> = service
        .types
        .iter()
        .filter_map(|named| match &named.kind {
            TypeKind::Struct { fields, .. } => Some(fields),
            TypeKind::Enum { .. } | TypeKind::Choice { .. } => None,
        })
        .flatten()
        .filter_map(|field| match (&field.shape, &field.item) {
            (Shape::Attribute { .. }, TypeRef::Named(name)) => Some(name.clone()),
            _ => None,
        })
        .chain(list_items(service))
        .collect();
    let mut named_types = operation_types;
    for named in &service.types {
        named_types.push(types::named_type(named, &names, &attribute_types)?);
    }
    Ok(ServiceModule { module, doc, namespaces, meta, operations, types: named_types })
}

/// Enumerations that are items of a list (written as attribute text is).
fn list_items(service: &Service) -> Vec<QName> {
    let mut fields: Vec<&Field> = service.operations.iter().flat_map(operation_fields).collect();
    for named in &service.types {
        match &named.kind {
            TypeKind::Struct { fields: own, .. } | TypeKind::Choice { alternatives: own } => fields.extend(own),
            TypeKind::Enum { .. } => {}
        }
    }
    fields
        .into_iter()
        .filter_map(|field| match &field.item {
            TypeRef::List(item) => match item.as_ref() {
                TypeRef::Named(name) => Some(name.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
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

/// Every field of an operation: its messages', headers' and declared faults'.
fn operation_fields(operation: &crate::model::Operation) -> impl Iterator<Item = &Field> {
    operation
        .request
        .fields
        .iter()
        .chain(operation.response.iter().flat_map(|response| &response.fields))
        .chain(&operation.input_headers)
        .chain(&operation.output_headers)
        .chain(operation.faults.iter().map(|fault| &fault.field))
}

/// Namespaces of the elements the module writes or reads (the empty one needs no constant).
fn used_namespaces(service: &Service) -> BTreeSet<String> {
    let mut namespaces = BTreeSet::new();
    let mut add_fields = |fields: &[Field]| {
        for field in fields {
            if matches!(
                field.shape,
                Shape::Raw { wildcard: true, .. } | Shape::Value | Shape::Choice { .. } | Shape::OtherAttributes
            ) {
                continue;
            }
            namespaces.insert(field.element.namespace.clone());
            if let Shape::Array { item_element, .. } = &field.shape {
                namespaces.insert(item_element.namespace.clone());
            }
        }
    };
    for operation in &service.operations {
        for field in operation_fields(operation) {
            add_fields(std::slice::from_ref(field));
        }
    }
    for named in &service.types {
        match &named.kind {
            TypeKind::Struct { fields, .. } => add_fields(fields),
            TypeKind::Choice { alternatives } => add_fields(alternatives),
            TypeKind::Enum { .. } => {}
        }
    }
    for operation in &service.operations {
        namespaces.insert(operation.request.element.namespace.clone());
    }
    namespaces.remove("");
    namespaces
}
