//! `status.rs`: one enum per `[status.*]` table of the annotations.

use crate::annotations::{AnnotationsFile, StatusTable};
use crate::plan::{code, Doc, StatusEnum, StatusModule, StatusVariant};

/// The status enums, sorted by name; `None` without tables.
pub(super) fn status_module(file: &AnnotationsFile<'_>) -> Option<StatusModule> {
    let tables = &file.annotations.status;
    (!tables.is_empty()).then(|| StatusModule {
        enums: tables.iter().map(|(name, table)| status_enum(name, table, file.source)).collect(),
    })
}

fn status_enum(name: &str, table: &StatusTable, source: &str) -> StatusEnum {
    let doc = Doc::new()
        .prose(Some(&table.doc))
        .prose(table.doc_fa.as_deref())
        .line(format!("Generated from `[status.{name}]` in {}.", code(source)));
    let variants = table
        .codes
        .iter()
        .map(|row| StatusVariant {
            ident: row.variant.clone(),
            code: row.code,
            english: row.en.clone(),
            persian: row.fa.clone(),
            success: row.success,
            is_final: row.is_final == Some(true),
            doc: Doc::new().line(format!("{}: {}.", code(&row.code.to_string()), row.en)).prose(Some(&row.fa)),
        })
        .collect();
    StatusEnum { ident: name.to_owned(), doc, variants, has_final: table.has_final() }
}
