//! Model + annotations + naming rules → the plan.
//!
//! Every Rust-level decision is made here: module, type, field and constant
//! names, Rust types, credentials, status bindings, endpoints and doc text.
//! What does not fit is a [`Problem`] at a position of the WSDL, so `emit`
//! only renders and cannot fail.

mod coverage;
mod fields;
mod operation;
mod service;
mod status;
mod types;

pub use coverage::check_coverage;

use crate::annotations::{AnnotationsFile, ServiceAnnotation};
use crate::diag::{Problem, SourceError};
use crate::model::{Model, Service};
use crate::names::{self, Scope};
use crate::plan::{Index, Plan};

/// A resolved WSDL and the path it is known by.
pub struct Document<'a> {
    pub source: &'a str,
    /// Its documents, the WSDL and what it imports: positions index them.
    pub files: &'a [String],
    pub model: &'a Model,
}

/// The module name of `status.rs`, which service modules must not take.
const STATUS_MODULE: &str = "status";

/// The plan of every file: one module per service of `documents`, the status enums and the index.
pub fn bind(documents: &[Document<'_>], annotations: Option<&AnnotationsFile<'_>>) -> Result<Plan, SourceError> {
    let status = annotations.and_then(status::status_module);
    let credentials = annotations.and_then(|file| file.annotations.credentials.as_ref());
    let mut scope = Scope::snake().reserve(if status.is_some() { &["mod", STATUS_MODULE] } else { &["mod"] });
    let mut services = Vec::new();
    for document in documents {
        for service in &document.model.services {
            let annotation = annotations.and_then(|file| file.annotations.services.get(&service.name));
            let bound = module_name(service, annotation, &mut scope).and_then(|module| {
                let context = service::Context { source: document.source, annotation, credentials };
                service::service_module(service, module, &context)
            });
            services.push(bound.map_err(|problem| problem.in_file(document.files))?);
        }
    }
    let mut modules: Vec<String> = services.iter().map(|service| service.module.clone()).collect();
    modules.extend(status.is_some().then(|| STATUS_MODULE.to_owned()));
    modules.sort();
    Ok(Plan { services, status, index: Index { modules } })
}

/// The annotated module name, or one made from the service name.
fn module_name(
    service: &Service,
    annotation: Option<&ServiceAnnotation>,
    scope: &mut Scope,
) -> Result<String, Problem> {
    let wanted = match annotation {
        Some(annotation) => annotation.module.clone(),
        None => names::snake(&service.name, "service"),
    };
    let module = scope.claim(&wanted);
    if annotation.is_some() && module != wanted {
        return Err(Problem::new(
            service.pos,
            format!("module {wanted:?} of service {:?} is already taken", service.name),
        ));
    }
    Ok(module)
}
