//! The one code path from WSDL text (and optional annotations) to the text
//! of every generated file: load (parse each document) → model → bind → emit → output.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::annotations::AnnotationsFile;
use crate::bind::{self, Document};
use crate::diag::{Problem, SourceErrors};
use crate::emit;
use crate::load::{self, Read};
use crate::model::{self, Dangling, Model};
use crate::output;
use crate::plan::Plan;

/// A WSDL document and the path it is known by (as given, used in messages and
/// headers; the documents it imports are found relative to it).
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
    /// Where the documents the inputs import are read from.
    pub read: &'a dyn Read,
}

/// Every generated file, and what the user should know about the inputs.
pub struct Generated {
    /// File name → content (service modules, `status.rs`, `mod.rs`).
    pub files: BTreeMap<String, String>,
    /// Inputs that generate nothing, one line each.
    pub warnings: Vec<String>,
}

/// The resolved model of one input, and its documents (see [`load::Loaded::documents`]).
pub struct Resolved {
    pub model: Model,
    pub documents: Vec<String>,
}

/// Loads, parses and resolves one WSDL and what it imports; every problem
/// found names the document where it is.
pub fn model(input: &Input, read: &dyn Read, dangling: Dangling) -> Result<Resolved, SourceErrors> {
    let loaded = load::load(&input.source, &input.text, read)?;
    let model = model::resolve(&loaded.definitions, dangling)
        .map_err(|problems| SourceErrors::in_file(&loaded.documents, problems))?;
    Ok(Resolved { model, documents: loaded.documents })
}

/// The models of `inputs`, or the problems of all of them.
fn models(inputs: &[Input], options: &Options<'_>) -> Result<Vec<Resolved>, SourceErrors> {
    // `regen` refuses what `generate` leaves out: the panel's WSDLs are ours to fix.
    let dangling = if options.strict { Dangling::Refuse } else { Dangling::Skip };
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        match model(input, options.read, dangling) {
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
fn warnings(inputs: &[Input], models: &[Resolved]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (input, Resolved { model, documents }) in inputs.iter().zip(models) {
        for (name, pos) in &model.skipped {
            let message = format!("service \"{name}\" has no SOAP 1.1 or SOAP 1.2 port; nothing is generated for it");
            warnings.push(Problem::new(*pos, message).in_file(documents).to_string());
        }
        for service in &model.services {
            for (name, why, pos) in &service.skipped_ports {
                let message =
                    format!("port \"{name}\" of service \"{}\" {why}; nothing is generated for it", service.name);
                warnings.push(Problem::new(*pos, message).in_file(documents).to_string());
            }
            for (name, pos) in &service.skipped_operations {
                let message = format!(
                    "operation \"{name}\" of service \"{}\" is sent by the server on its own (notification or solicit-response); nothing is generated for it",
                    service.name
                );
                warnings.push(Problem::new(*pos, message).in_file(documents).to_string());
            }
            for (name, problem) in &service.dangling_operations {
                let message = format!(
                    "{}; operation \"{name}\" of service \"{}\" is left out (nothing is generated for it)",
                    problem.message, service.name
                );
                warnings.push(Problem::new(problem.pos, message).in_file(documents).to_string());
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
    let models = models(inputs, options)?;
    plan_of(inputs, &models, options)
}

fn plan_of(inputs: &[Input], models: &[Resolved], options: &Options<'_>) -> Result<Plan> {
    let documents: Vec<Document<'_>> = inputs
        .iter()
        .zip(models)
        .map(|(input, resolved)| Document { source: &input.source, files: &resolved.documents, model: &resolved.model })
        .collect();
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
    let models = models(inputs, options)?;
    let warnings = warnings(inputs, &models);
    let plan = plan_of(inputs, &models, options)?;
    let annotations_source = options.annotations.as_ref().map(|file| file.source);
    let mut files = BTreeMap::new();
    for service in &plan.services {
        let mut sources = documents_of(inputs, &models, &service.meta.source);
        sources.extend(annotations_source);
        let text = output::render(emit::service_file(service), options.command, &sources)?;
        files.insert(format!("{}.rs", service.module), text);
    }
    if let Some(status) = &plan.status {
        let sources: Vec<&str> = annotations_source.into_iter().collect();
        files.insert("status.rs".to_owned(), output::render(emit::status_file(status), options.command, &sources)?);
    }
    let mut sources: Vec<&str> =
        models.iter().flat_map(|resolved| resolved.documents.iter().map(String::as_str)).collect();
    sources.extend(annotations_source);
    files.insert("mod.rs".to_owned(), output::render(emit::index_file(&plan.index), options.command, &sources)?);
    Ok(Generated { files, warnings })
}

/// The documents of the input known as `source`, for headers: the input, then what it imports.
fn documents_of<'a>(inputs: &[Input], models: &'a [Resolved], source: &'a str) -> Vec<&'a str> {
    let resolved = inputs.iter().zip(models).find(|(input, _)| input.source == source);
    resolved.map_or_else(|| vec![source], |(_, resolved)| resolved.documents.iter().map(String::as_str).collect())
}
