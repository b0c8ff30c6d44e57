//! Strict mode (`regen`): the annotations and the WSDLs match one to one.

use std::collections::BTreeSet;

use anyhow::{bail, Result};

use super::Document;
use crate::annotations::AnnotationsFile;

/// Every service and operation has its table, and every table its service or operation.
pub fn check_coverage(documents: &[Document<'_>], file: &AnnotationsFile<'_>) -> Result<()> {
    let AnnotationsFile { annotations, source } = file;
    let mut services = BTreeSet::new();
    let mut operations = BTreeSet::new();
    for document in documents {
        for service in &document.model.services {
            if !annotations.services.contains_key(&service.name) {
                bail!(
                    "{source}: service {:?} of {} has no [services.{}] table",
                    service.name,
                    document.source,
                    service.name
                );
            }
            services.insert(service.name.as_str());
            for operation in &service.operations {
                if !annotations.operations.contains_key(&operation.name) {
                    bail!(
                        "{source}: operation {:?} of {} has no [operations.{}] table",
                        operation.name,
                        document.source,
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
