//! The one code path from WSDL text (and optional annotations) to the text
//! of every generated file: parse → model → bind → emit → output.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::annotations::AnnotationsFile;
use crate::bind::{self, Document};
use crate::diag::SourceError;
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

/// Parses and resolves one WSDL; problems name `input.source`.
pub fn model(input: &Input) -> Result<Model, SourceError> {
    let definitions = parse::parse(&input.text).map_err(|problem| problem.in_file(&input.source))?;
    model::resolve(&definitions).map_err(|problem| problem.in_file(&input.source))
}

/// The plan of every generated file.
pub fn plan(inputs: &[Input], options: &Options<'_>) -> Result<Plan> {
    let models = inputs.iter().map(model).collect::<Result<Vec<_>, _>>()?;
    let documents: Vec<Document<'_>> =
        inputs.iter().zip(&models).map(|(input, model)| Document { source: &input.source, model }).collect();
    if options.strict {
        let Some(annotations) = &options.annotations else {
            bail!("internal error: strict generation needs annotations");
        };
        bind::check_coverage(&documents, annotations)?;
    }
    Ok(bind::bind(&documents, options.annotations.as_ref())?)
}

/// File name → content of every generated file (service modules, `status.rs`, `mod.rs`).
pub fn generate(inputs: &[Input], options: &Options<'_>) -> Result<BTreeMap<String, String>> {
    let plan = plan(inputs, options)?;
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
    Ok(files)
}
