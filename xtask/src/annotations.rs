//! `wsdl/annotations.toml`: what a WSDL cannot say (credentials, docs, status codes).
//!
//! Operations are annotated per service (`[services.Send.operations.GetCredit]`):
//! services of the platform share operation names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;

use crate::names::{self, UNKNOWN_VARIANT};

/// An annotations file and the path it is known by (as given, used in messages and docs).
pub struct AnnotationsFile<'a> {
    pub annotations: &'a Annotations,
    pub source: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    /// Element names the runtime fills in; removed from request types.
    pub credentials: Option<Credentials>,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceAnnotation>,
    #[serde(default)]
    pub status: BTreeMap<String, StatusTable>,
    /// The old top-level `[operations.*]` tables, read only to say where they went.
    #[serde(default, rename = "operations")]
    unscoped_operations: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The SOAP header element holding `username` and `password`, for
    /// services that take the credentials in a header (ASP.NET `[SoapHeader]`).
    pub header: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAnnotation {
    /// The WSDL file, relative to the annotations file.
    pub wsdl: String,
    /// The generated module, `generated/<module>.rs`.
    pub module: String,
    pub doc: String,
    pub doc_fa: Option<String>,
    /// `[services.<Service>.operations.<Operation>]`, by the WSDL's operation name.
    #[serde(default)]
    pub operations: BTreeMap<String, OperationAnnotation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationAnnotation {
    #[serde(default)]
    pub retry_safe: bool,
    pub doc: Option<String>,
    pub doc_fa: Option<String>,
    pub status: Option<StatusField>,
}

/// `status = { field = ..., enum = ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusField {
    pub field: String,
    #[serde(rename = "enum")]
    pub enum_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusTable {
    pub doc: String,
    pub doc_fa: Option<String>,
    pub codes: Vec<StatusCode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCode {
    pub code: i32,
    pub variant: String,
    pub en: String,
    pub fa: String,
    pub success: bool,
    #[serde(rename = "final")]
    pub is_final: Option<bool>,
}

impl StatusTable {
    /// True when the codes carry `final` (then all of them do).
    pub fn has_final(&self) -> bool {
        self.codes.iter().any(|code| code.is_final.is_some())
    }
}

impl Annotations {
    /// Reads and checks the file.
    pub fn load(path: &Path) -> Result<Annotations> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Annotations> {
        let annotations: Annotations = toml::from_str(text)?;
        annotations.check()?;
        Ok(annotations)
    }

    /// The checks that need no WSDL.
    fn check(&self) -> Result<()> {
        if let Some(name) = self.unscoped_operations.keys().next() {
            bail!("[operations.{name}]: operations are annotated per service now, as [services.<Service>.operations.{name}]");
        }
        let mut modules = BTreeSet::new();
        for (name, service) in &self.services {
            if !names::is_plain_ident(&service.module) || service.module != names::snake(&service.module, "") {
                bail!("[services.{name}]: module {:?} is not a snake_case identifier", service.module);
            }
            if service.module == "mod" || (service.module == "status" && !self.status.is_empty()) {
                bail!("[services.{name}]: module name {:?} is taken by the generated index", service.module);
            }
            if !modules.insert(&service.module) {
                bail!("[services.{name}]: module {:?} is used twice", service.module);
            }
        }
        for (name, table) in &self.status {
            if !names::is_plain_ident(name) || *name != names::upper_camel(name, "") {
                bail!("[status.{name}]: the name is not an UpperCamelCase identifier");
            }
            if table.codes.is_empty() {
                bail!("[status.{name}]: no codes");
            }
            let mut variants = BTreeSet::new();
            let mut codes = BTreeSet::new();
            for code in &table.codes {
                let variant = &code.variant;
                if !names::is_plain_ident(variant) || *variant != names::upper_camel(variant, "") {
                    bail!("[status.{name}]: variant {variant:?} is not an UpperCamelCase identifier");
                }
                if variant == UNKNOWN_VARIANT {
                    bail!("[status.{name}]: variant `{UNKNOWN_VARIANT}` is reserved for codes not in the table");
                }
                if !variants.insert(variant) {
                    bail!("[status.{name}]: variant {variant} is used twice");
                }
                if !codes.insert(code.code) {
                    bail!("[status.{name}]: code {} is listed twice", code.code);
                }
                if code.is_final.is_some() != table.has_final() {
                    bail!("[status.{name}]: either every code carries `final` or none does (code {})", code.code);
                }
            }
        }
        for (service_name, service) in &self.services {
            for (name, operation) in &service.operations {
                let Some(status) = &operation.status else { continue };
                if !self.status.contains_key(&status.enum_name) {
                    bail!(
                        "[services.{service_name}.operations.{name}]: status enum {:?} has no [status.{}] table",
                        status.enum_name,
                        status.enum_name
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "[services.Send]\nwsdl = \"send.wsdl\"\nmodule = \"send\"\ndoc = \"Sends.\"\n";

    #[test]
    fn operations_are_read_per_service() {
        let text = format!("{SERVICE}\n[services.Send.operations.GetCredit]\nretry_safe = true\n");
        let annotations = Annotations::parse(&text).expect("valid annotations");
        let service = annotations.services.get("Send").expect("the service");
        assert!(service.operations.get("GetCredit").is_some_and(|operation| operation.retry_safe));
    }

    #[test]
    fn unscoped_operation_tables_say_where_they_went() {
        let error = Annotations::parse("[operations.GetCredit]\nretry_safe = true\n").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "[operations.GetCredit]: operations are annotated per service now, as \
             [services.<Service>.operations.GetCredit]"
        );
    }

    #[test]
    fn a_status_enum_without_its_table_names_the_service_and_operation() {
        let text = format!(
            "{SERVICE}\n[services.Send.operations.SendSms]\nstatus = {{ field = \"SendSmsResult\", enum = \"Missing\" }}\n"
        );
        let error = Annotations::parse(&text).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "[services.Send.operations.SendSms]: status enum \"Missing\" has no [status.Missing] table"
        );
    }
}
