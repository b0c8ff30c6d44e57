//! Strict mode (`regen`): the annotations and the WSDLs match one to one,
//! service by service.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use super::Document;
use crate::annotations::AnnotationsFile;
use crate::diag::Problem;

/// Every service and operation has its table, and every table its service or operation.
pub fn check_coverage(documents: &[Document<'_>], file: &AnnotationsFile<'_>) -> Result<()> {
    let AnnotationsFile { annotations, source } = file;
    // Service name → the WSDL it is in.
    let mut found: BTreeMap<&str, &str> = BTreeMap::new();
    for document in documents {
        let at = |pos, message: String| Problem::new(pos, message).in_file(document.files);
        for service in &document.model.services {
            let name = &service.name;
            if let Some(other) = found.insert(name, document.source) {
                let message = format!("service {name:?} is also in {other}; [services.{name}] cannot tell them apart");
                return Err(at(service.pos, message).into());
            }
            let Some(annotation) = annotations.services.get(name) else {
                return Err(
                    at(service.pos, format!("service {name:?} has no [services.{name}] table in {source}")).into()
                );
            };
            for operation in &service.operations {
                if !annotation.operations.contains_key(&operation.name) {
                    let message = format!(
                        "operation {:?} of service {name:?} has no [services.{name}.operations.{}] table in {source}",
                        operation.name, operation.name
                    );
                    return Err(at(operation.pos, message).into());
                }
            }
            let mut annotated = annotation.operations.keys();
            if let Some(stale) =
                annotated.find(|key| !service.operations.iter().any(|operation| operation.name == **key))
            {
                bail!(
                    "{source}: [services.{name}.operations.{stale}] names no operation of service {name:?} in {}",
                    document.source
                );
            }
        }
    }
    if let Some(stale) = annotations.services.keys().find(|name| !found.contains_key(name.as_str())) {
        bail!("{source}: [services.{stale}] names no service of the WSDLs");
    }
    Ok(())
}
