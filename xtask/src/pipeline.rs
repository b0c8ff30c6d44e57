//! The one code path from WSDL text (and optional annotations) to the text
//! of every generated file: parse → model → emit → output.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};

use crate::annotations::Annotations;
use crate::diag::SourceError;
use crate::emit::{self, ServiceInput};
use crate::model::{self, Model};
use crate::names::{self, Scope};
use crate::output;
use crate::parse;

/// A WSDL document and the path it is known by (as given, used in messages and headers).
pub struct Input {
    pub source: String,
    pub text: String,
}

/// The annotations file and the path it is known by.
pub struct AnnotationsInput<'a> {
    pub annotations: &'a Annotations,
    pub source: &'a str,
}

pub struct Options<'a> {
    pub annotations: Option<AnnotationsInput<'a>>,
    /// The command named in the `@generated` header.
    pub command: &'a str,
    /// Require the annotations and the WSDLs to match one to one (`regen`).
    pub strict: bool,
}

/// Parses and resolves one WSDL; problems name `input.source`.
pub fn model(input: &Input) -> Result<Model, SourceError> {
    let definitions = parse::parse(&input.text).map_err(|problem| problem.in_file(&input.source))?;
    model::resolve(&definitions).map_err(|problem| problem.in_file(&input.source))
}

/// File name → content of every generated file (service modules, `status.rs`, `mod.rs`).
pub fn generate(inputs: &[Input], options: &Options<'_>) -> Result<BTreeMap<String, String>> {
    let models = inputs.iter().map(model).collect::<Result<Vec<_>, _>>()?;
    let annotations = options.annotations.as_ref().map(|a| a.annotations);
    let has_status = annotations.is_some_and(|a| !a.status.is_empty());
    if options.strict {
        check_annotations_match(inputs, &models, options)?;
    }

    let mut files = BTreeMap::new();
    let mut modules = Vec::new();
    let mut scope = Scope::snake().reserve(if has_status { &["mod", "status"] } else { &["mod"] });
    for (input, model) in inputs.iter().zip(&models) {
        for service in &model.services {
            let annotation = annotations.and_then(|a| a.services.get(&service.name));
            let wanted = match annotation {
                Some(annotation) => annotation.module.clone(),
                None => names::snake(&service.name, "service"),
            };
            let module = scope.claim(&wanted);
            if annotation.is_some() && module != wanted {
                bail!("module {wanted:?} of service {:?} is already taken", service.name);
            }
            let service_input = ServiceInput { service, source: &input.source, annotation, annotations };
            let tokens = emit::service_file(&service_input).map_err(|problem| problem.in_file(&input.source))?;
            let mut sources = vec![input.source.as_str()];
            sources.extend(options.annotations.as_ref().map(|a| a.source));
            files.insert(format!("{module}.rs"), output::render(tokens, options.command, &sources)?);
            modules.push(module);
        }
    }
    if let Some(AnnotationsInput { annotations, source }) = &options.annotations {
        if has_status {
            let tokens = emit::status_file(&annotations.status, source);
            files.insert("status.rs".to_owned(), output::render(tokens, options.command, &[source])?);
        }
    }
    let mut sources: Vec<&str> = inputs.iter().map(|input| input.source.as_str()).collect();
    sources.extend(options.annotations.as_ref().map(|a| a.source));
    let index = emit::index_file(&modules, has_status);
    files.insert("mod.rs".to_owned(), output::render(index, options.command, &sources)?);
    Ok(files)
}

/// Every service and operation has its table, and every table its service or operation.
fn check_annotations_match(inputs: &[Input], models: &[Model], options: &Options<'_>) -> Result<()> {
    let Some(AnnotationsInput { annotations, source }) = &options.annotations else {
        bail!("internal error: strict generation needs annotations");
    };
    let mut services = BTreeSet::new();
    let mut operations = BTreeSet::new();
    for (input, model) in inputs.iter().zip(models) {
        for service in &model.services {
            if !annotations.services.contains_key(&service.name) {
                bail!(
                    "{source}: service {:?} of {} has no [services.{}] table",
                    service.name,
                    input.source,
                    service.name
                );
            }
            services.insert(service.name.as_str());
            for operation in &service.operations {
                if !annotations.operations.contains_key(&operation.name) {
                    bail!(
                        "{source}: operation {:?} of {} has no [operations.{}] table",
                        operation.name,
                        input.source,
                        operation.name
                    );
                }
                operations.insert(operation.name.as_str());
            }
        }
    }
    if let Some(stale) = annotations.services.keys().find(|name| !services.contains(name.as_str())) {
        bail!("{source}: [services.{stale}] names no service of the WSDLs");
    }
    if let Some(stale) = annotations.operations.keys().find(|name| !operations.contains(name.as_str())) {
        bail!("{source}: [operations.{stale}] names no operation of the WSDLs");
    }
    Ok(())
}
