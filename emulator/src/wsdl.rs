//! `GET …asmx?WSDL`: the WSDL documents the generated code was made from, with the
//! service addresses pointing at the emulator.

use payamak::ServiceMeta;

/// The WSDL of `service`, with the `location` of every `*:address` element set to
/// `endpoint` (as ASMX does: it echoes the URL the WSDL was asked for). `None` for a
/// service the library has no document of.
pub(crate) fn document(service: &ServiceMeta, endpoint: &str) -> Option<String> {
    let source = payamak::wsdl::document(service)?;
    Some(rewrite_addresses(source, &quick_xml::escape::escape(endpoint)))
}

/// True for a query string that asks for the WSDL (`?WSDL`, `?wsdl`, `?Wsdl=`…).
pub(crate) fn is_wsdl_query(query: Option<&str>) -> bool {
    query.is_some_and(|query| {
        query.split('&').any(|pair| pair.split('=').next().is_some_and(|key| key.eq_ignore_ascii_case("wsdl")))
    })
}

/// Replaces the value of the `location` attribute of each `<prefix:address …>` tag.
fn rewrite_addresses(source: &str, location: &str) -> String {
    let mut out = String::with_capacity(source.len() + 256);
    let mut rest = source;
    while let Some(start) = rest.find('<') {
        let (before, tag_and_after) = rest.split_at(start);
        out.push_str(before);
        let end = tag_and_after.find('>').map_or(tag_and_after.len(), |end| end + 1);
        let (tag, after) = tag_and_after.split_at(end);
        out.push_str(&rewrite_tag(tag, location));
        rest = after;
    }
    out.push_str(rest);
    out
}

fn rewrite_tag(tag: &str, location: &str) -> String {
    let name =
        tag.trim_start_matches('<').split(|c: char| c.is_whitespace() || c == '/' || c == '>').next().unwrap_or("");
    let local = name.rsplit(':').next().unwrap_or(name);
    if local != "address" {
        return tag.to_owned();
    }
    for quote in ['"', '\''] {
        let needle = format!("location={quote}");
        if let Some(at) = tag.find(&needle) {
            let value_start = at + needle.len();
            if let Some(length) = tag[value_start..].find(quote) {
                return format!("{}{}{}", &tag[..value_start], location, &tag[value_start + length..]);
            }
        }
    }
    tag.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::SERVICES;
    use payamak::{incoming_messages, send};

    fn wsdl_of(service: &ServiceMeta, endpoint: &str) -> String {
        document(service, endpoint).expect("the service's WSDL")
    }

    #[test]
    fn every_service_has_its_document() {
        for service in SERVICES {
            assert!(document(service.meta, "http://h/").is_some(), "{}", service.meta.name);
        }
    }

    #[test]
    fn rewrites_every_address_and_nothing_else() {
        let wsdl = wsdl_of(&send::SERVICE, "http://127.0.0.1:9/post/send.asmx");
        assert!(!wsdl.contains("87.107.121.52"));
        assert_eq!(wsdl.matches(r#"location="http://127.0.0.1:9/post/send.asmx""#).count(), 4);
        assert!(wsdl.contains(r#"<http:operation location="/GetCredit" />"#));
        let wsdl = wsdl_of(&incoming_messages::SERVICE, "http://h/post/IncomingMessages.asmx?a=1&b=\"");
        assert!(wsdl.contains(r#"location="http://h/post/IncomingMessages.asmx?a=1&amp;b=&quot;""#));
        let wsdl = wsdl_of(&send::SERVICE, "http://h/'<>");
        assert!(wsdl.contains(r#"location="http://h/&apos;&lt;&gt;""#));
        assert!(roxmltree::Document::parse(&wsdl).is_ok());
    }

    #[test]
    fn recognises_wsdl_queries() {
        assert!(is_wsdl_query(Some("WSDL")));
        assert!(is_wsdl_query(Some("wsdl")));
        assert!(is_wsdl_query(Some("x=1&Wsdl=")));
        assert!(!is_wsdl_query(Some("disco")));
        assert!(!is_wsdl_query(None));
    }
}
