//! The WSDL documents the generated modules were made from, as published.
//!
//! An emulator serves them at `…asmx?WSDL`; a tool can compare them with what a
//! live panel publishes now.

use crate::operation::ServiceMeta;

/// Every document, keyed by the path the generated code records in [`ServiceMeta::source`].
const DOCUMENTS: &[(&str, &str)] = &[
    ("wsdl/incoming_messages.wsdl", include_str!("../wsdl/incoming_messages.wsdl")),
    ("wsdl/send.wsdl", include_str!("../wsdl/send.wsdl")),
];

/// The WSDL document `service` was generated from, if it is one of this crate's.
pub fn document(service: &ServiceMeta) -> Option<&'static str> {
    DOCUMENTS.iter().find(|(source, _)| *source == service.source).map(|&(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_service_has_its_document() {
        for service in [&crate::send::SERVICE, &crate::incoming_messages::SERVICE] {
            let text = document(service).unwrap_or_else(|| panic!("no document for {}", service.source));
            let needle = format!("<wsdl:service name=\"{}\">", service.name);
            assert!(text.contains(&needle), "{} does not define {}", service.source, service.name);
        }
    }
}
