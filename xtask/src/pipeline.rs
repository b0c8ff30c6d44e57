//! The one code path from WSDL text (and optional annotations) to the text
//! of every generated file: parse → model → bind → emit → output.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::annotations::AnnotationsFile;
use crate::bind::{self, Document};
use crate::diag::{Problem, SourceErrors};
use crate::emit;
use crate::model::{self, Model};
use crate::output;
use crate::parse;
use crate::plan::Plan;

/// A WSDL document and the path it is known by (as given, used in messages and headers).
pub struct Input {
    pub source: String,
    pub text: String,
}

pub struct Options<'a> {
    pub annotations: Option<AnnotationsFile<'a>>,
    /// The command named in the `@generated` header.
    pub command: &'a str,
    /// Require the annotations and the WSDLs to match one to one (`regen`).
    pub strict: bool,
}

/// Every generated file, and what the user should know about the inputs.
pub struct Generated {
    /// File name → content (service modules, `status.rs`, `mod.rs`).
    pub files: BTreeMap<String, String>,
    /// Inputs that generate nothing, one line each.
    pub warnings: Vec<String>,
}

/// Parses and resolves one WSDL; every problem found names `input.source`.
pub fn model(input: &Input) -> Result<Model, SourceErrors> {
    let definitions = parse::parse(&input.text).map_err(|problem| problem.in_file(&input.source))?;
    model::resolve(&definitions).map_err(|problems| SourceErrors::in_file(&input.source, problems))
}

/// The models of `inputs`, or the problems of all of them.
fn models(inputs: &[Input]) -> Result<Vec<Model>, SourceErrors> {
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        match model(input) {
            Ok(model) => models.push(model),
            Err(SourceErrors(mut found)) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(models)
    } else {
        Err(SourceErrors(errors))
    }
}

/// A line for each input that yields no SOAP operation, and for each service skipped.
fn warnings(inputs: &[Input], models: &[Model]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (input, model) in inputs.iter().zip(models) {
        for (name, pos) in &model.skipped {
            let message = format!("service \"{name}\" has no SOAP 1.1 or SOAP 1.2 port; nothing is generated for it");
            warnings.push(Problem::new(*pos, message).in_file(&input.source).to_string());
        }
        for service in &model.services {
            for (name, pos) in &service.skipped_operations {
                let message = format!(
                    "operation \"{name}\" of service \"{}\" is sent by the server on its own (notification or solicit-response); nothing is generated for it",
                    service.name
                );
                warnings.push(Problem::new(*pos, message).in_file(&input.source).to_string());
            }
        }
        if model.services.iter().all(|service| service.operations.is_empty()) {
            warnings.push(format!("{}: no SOAP operation to generate", input.source));
        }
    }
    warnings
}

/// The plan of every generated file (the snapshots of the tests).
#[cfg(test)]
pub fn plan(inputs: &[Input], options: &Options<'_>) -> Result<Plan> {
    let models = models(inputs)?;
    plan_of(inputs, &models, options)
}

fn plan_of(inputs: &[Input], models: &[Model], options: &Options<'_>) -> Result<Plan> {
    let documents: Vec<Document<'_>> =
        inputs.iter().zip(models).map(|(input, model)| Document { source: &input.source, model }).collect();
    if options.strict {
        let Some(annotations) = &options.annotations else {
            bail!("internal error: strict generation needs annotations");
        };
        bind::check_coverage(&documents, annotations)?;
    }
    Ok(bind::bind(&documents, options.annotations.as_ref())?)
}

/// Every generated file (service modules, `status.rs`, `mod.rs`) and the warnings.
pub fn generate(inputs: &[Input], options: &Options<'_>) -> Result<Generated> {
    let models = models(inputs)?;
    let warnings = warnings(inputs, &models);
    let plan = plan_of(inputs, &models, options)?;
    let annotations_source = options.annotations.as_ref().map(|file| file.source);
    let mut files = BTreeMap::new();
    for service in &plan.services {
        let mut sources = vec![service.meta.source.as_str()];
        sources.extend(annotations_source);
        let text = output::render(emit::service_file(service), options.command, &sources)?;
        files.insert(format!("{}.rs", service.module), text);
    }
    if let Some(status) = &plan.status {
        let sources: Vec<&str> = annotations_source.into_iter().collect();
        files.insert("status.rs".to_owned(), output::render(emit::status_file(status), options.command, &sources)?);
    }
    let mut sources: Vec<&str> = inputs.iter().map(|input| input.source.as_str()).collect();
    sources.extend(annotations_source);
    files.insert("mod.rs".to_owned(), output::render(emit::index_file(&plan.index), options.command, &sources)?);
    Ok(Generated { files, warnings })
}
