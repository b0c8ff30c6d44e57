//! Every Rust identifier the generator emits is made here.
//!
//! Rules, in order:
//! 1. ASCII letters and digits are kept; other ASCII characters separate
//!    words; a non-ASCII character becomes the word `uXXXX` (its code point).
//! 2. Words are joined with heck: `snake_case` for fields and modules,
//!    `UpperCamelCase` for types and variants, `SHOUTY_SNAKE` for constants.
//!    A type or variant name that already is UpperCamelCase-compatible (ASCII
//!    letters and digits, starting uppercase, not all capitals) is kept as
//!    written, so `GetReceiveSMSIsNotReadList` stays greppable.
//! 3. An empty result takes a fallback word; one starting with a digit gets
//!    the fallback as a prefix (`1` → `V1`).
//! 4. Keywords become raw identifiers (`r#type`), except `self`, `super`,
//!    `crate` and `Self`, which cannot be raw and get a trailing `_`.
//! 5. Names that collide after conversion (`MsgID` and `msgId`) are made
//!    unique in document order: the first keeps the name, later ones get
//!    `_2`, `_3`, … (snake) or `2`, `3`, … (camel).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

use crate::model::{QName, Service};

/// Keywords (strict, reserved and edition-dependent) that `r#` makes usable.
const RAW_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move",
    "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const PATH_KEYWORDS: &[&str] = &["self", "super", "crate", "Self"];

/// Variant name of the catch-all of generated enumerations.
pub const UNKNOWN_VARIANT: &str = "Unknown";

/// Parameter and loop-variable names used inside generated read functions.
const READ_LOCALS: &[&str] = &["element", "child", "credentials"];

fn words(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for c in source.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c.is_ascii() {
            out.push('_');
        } else {
            let _ = write!(out, "_u{:04x}_", u32::from(c));
        }
    }
    out
}

fn finish(converted: String, fallback: &str, separator: &str) -> String {
    let name = if converted.is_empty() {
        fallback.to_owned()
    } else if converted.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{fallback}{separator}{converted}")
    } else {
        converted
    };
    if PATH_KEYWORDS.contains(&name.as_str()) {
        name + "_"
    } else {
        name
    }
}

/// `snake_case` for `source`.
pub fn snake(source: &str, fallback: &str) -> String {
    finish(words(source).to_snake_case(), fallback, "_")
}

/// `UpperCamelCase` for `source`; names that already fit are kept as written.
pub fn upper_camel(source: &str, fallback: &str) -> String {
    let fits = source.starts_with(|c: char| c.is_ascii_uppercase())
        && source.chars().all(|c| c.is_ascii_alphanumeric())
        // All capitals (`SMS`) would trip clippy's `upper_case_acronyms`.
        && source.chars().any(|c| c.is_ascii_lowercase());
    let converted = if fits { source.to_owned() } else { words(source).to_upper_camel_case() };
    finish(converted, fallback, "")
}

/// True when a name made by this module is spelled as a raw identifier (`r#type`).
pub fn is_raw_keyword(name: &str) -> bool {
    RAW_KEYWORDS.contains(&name)
}

/// True when `name` can be used as a plain identifier (checks names from the annotations).
pub fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts_well
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
        && !RAW_KEYWORDS.contains(&name)
        && !PATH_KEYWORDS.contains(&name)
}

/// Names already used in one Rust namespace, with the suffix rule for new ones.
pub struct Scope {
    taken: BTreeSet<String>,
    separator: &'static str,
}

impl Scope {
    /// A scope of `snake_case` names (suffix `_2`).
    pub fn snake() -> Self {
        Scope { taken: BTreeSet::new(), separator: "_" }
    }

    /// A scope of `UpperCamelCase` names (suffix `2`).
    pub fn camel() -> Self {
        Scope { taken: BTreeSet::new(), separator: "" }
    }

    pub fn reserve(mut self, names: &[&str]) -> Self {
        self.taken.extend(names.iter().map(|name| (*name).to_owned()));
        self
    }

    /// `candidate`, or the first free `candidate` + suffix.
    pub fn claim(&mut self, candidate: &str) -> String {
        let mut name = candidate.to_owned();
        let mut counter = 2;
        while self.taken.contains(&name) {
            name = format!("{candidate}{}{counter}", self.separator);
            counter += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// Names of the fields of one struct, and of the local variables that read them.
pub struct FieldNames {
    pub fields: Vec<String>,
    /// Unlike the fields, these must not shadow the read function's own variables.
    pub locals: Vec<String>,
}

/// Field names for elements named `elements`, in document order.
pub fn field_names<'a>(elements: impl IntoIterator<Item = &'a str>) -> FieldNames {
    let mut fields_scope = Scope::snake();
    let fields: Vec<String> =
        elements.into_iter().map(|element| fields_scope.claim(&snake(element, "field"))).collect();
    let mut locals_scope =
        Scope::snake().reserve(READ_LOCALS).reserve(&fields.iter().map(String::as_str).collect::<Vec<_>>());
    let locals = fields
        .iter()
        .map(|field| if READ_LOCALS.contains(&field.as_str()) { locals_scope.claim(field) } else { field.clone() })
        .collect();
    FieldNames { fields, locals }
}

/// Variant names for the values of an enumeration, in document order.
pub fn variant_names(values: &[String]) -> Vec<String> {
    let mut scope = Scope::camel().reserve(&[UNKNOWN_VARIANT]);
    values
        .iter()
        .map(|value| if value.is_empty() { scope.claim("Empty") } else { scope.claim(&upper_camel(value, "V")) })
        .collect()
}

/// The constant holding namespace `uri`: `http://tempuri.org/` → `NS_TEMPURI`.
pub fn namespace_const(uri: &str) -> String {
    let rest = ["http://", "https://", "urn:"].iter().find_map(|scheme| uri.strip_prefix(scheme)).unwrap_or(uri);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    // The top-level domain says nothing: `tempuri.org` → `tempuri`.
    let host = match host.rsplit_once('.') {
        Some((name, tld)) if !name.is_empty() && tld.chars().all(|c| c.is_ascii_alphabetic()) => name,
        _ => host,
    };
    let shouty = words(&format!("{host}/{path}")).to_shouty_snake_case();
    if shouty.is_empty() {
        "NS".to_owned()
    } else {
        format!("NS_{shouty}")
    }
}

/// Names of the items of one service module.
pub struct ServiceNames {
    /// Named types by QName.
    pub types: BTreeMap<QName, String>,
    /// `{Op}Request` by operation name.
    pub requests: BTreeMap<String, String>,
    /// `{Op}Response` by operation name.
    pub responses: BTreeMap<String, String>,
    /// `{Op}RequestHeaders`, `{Op}ResponseHeaders` and `{Op}Fault`, by operation
    /// name, for the operations that have SOAP headers or declared faults.
    pub request_headers: BTreeMap<String, String>,
    pub response_headers: BTreeMap<String, String>,
    pub faults: BTreeMap<String, String>,
    /// Namespace constants by URI.
    pub namespaces: BTreeMap<String, String>,
}

impl ServiceNames {
    /// Operation types claim their names first, then named types, each in document order.
    pub fn new<'a>(service: &Service, namespaces: impl IntoIterator<Item = &'a str>) -> Self {
        let mut scope = Scope::camel();
        let mut operations: Vec<_> = service.operations.iter().collect();
        operations.sort_by_key(|operation| operation.pos);
        let mut requests = BTreeMap::new();
        let mut responses = BTreeMap::new();
        let (mut request_headers, mut response_headers, mut faults) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for operation in &operations {
            let base = upper_camel(&operation.name, "Operation");
            requests.insert(operation.name.clone(), scope.claim(&format!("{base}Request")));
            responses.insert(operation.name.clone(), scope.claim(&format!("{base}Response")));
        }
        for operation in operations {
            let base = upper_camel(&operation.name, "Operation");
            let name = || operation.name.clone();
            if !operation.input_headers.is_empty() {
                request_headers.insert(name(), scope.claim(&format!("{base}RequestHeaders")));
            }
            if !operation.output_headers.is_empty() {
                response_headers.insert(name(), scope.claim(&format!("{base}ResponseHeaders")));
            }
            if !operation.faults.is_empty() {
                faults.insert(name(), scope.claim(&format!("{base}Fault")));
            }
        }
        // Declared types claim their names before hoisted anonymous ones (`Parent/element`).
        let mut types: Vec<_> = service.types.iter().collect();
        types.sort_by_key(|named| (named.name.local.contains('/'), named.pos));
        let types = types
            .into_iter()
            .map(|named| (named.name.clone(), scope.claim(&upper_camel(&named.name.local, "Type"))))
            .collect();
        let mut constants = Scope::snake().reserve(&["SERVICE", "OPERATIONS"]);
        let namespaces =
            namespaces.into_iter().map(|uri| (uri.to_owned(), constants.claim(&namespace_const(uri)))).collect();
        ServiceNames { types, requests, responses, request_headers, response_headers, faults, namespaces }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_fields() {
        assert_eq!(snake("MsgID", "field"), "msg_id");
        assert_eq!(snake("GetReceiveSMSIsNotReadListResult", "field"), "get_receive_sms_is_not_read_list_result");
        assert_eq!(snake("type", "field"), "type");
        assert_eq!(snake("self", "field"), "self_");
        assert_eq!(snake("a-b.c", "field"), "a_b_c");
        assert_eq!(snake("1st", "field"), "field_1st");
        assert_eq!(snake("__", "field"), "field");
        assert_eq!(snake("é", "field"), "u00e9");
        assert!(is_raw_keyword("type") && !is_raw_keyword("self_"));
    }

    #[test]
    fn camel_case_types_and_variants() {
        assert_eq!(upper_camel("getMessages", "Type"), "GetMessages");
        assert_eq!(upper_camel("Self", "Type"), "Self_");
        assert_eq!(upper_camel("GetReceiveSMSIsNotReadList", "Type"), "GetReceiveSMSIsNotReadList");
        assert_eq!(upper_camel("SMS", "Type"), "Sms");
        assert_eq!(upper_camel("my_type", "Type"), "MyType");
        assert_eq!(
            variant_names(&["".into(), "1".into(), "a-b".into(), "Unknown".into(), "x".into(), "X".into()]),
            ["Empty", "V1", "AB", "Unknown2", "X", "X2"]
        );
    }

    #[test]
    fn colliding_fields_are_suffixed_in_order() {
        let names = field_names(["MsgID", "msgId", "element", "element_2", "self"]);
        assert_eq!(names.fields, ["msg_id", "msg_id_2", "element", "element_2", "self_"]);
        assert_eq!(names.locals, ["msg_id", "msg_id_2", "element_3", "element_2", "self_"]);
    }

    #[test]
    fn namespace_constants() {
        assert_eq!(namespace_const("http://tempuri.org/"), "NS_TEMPURI");
        assert_eq!(namespace_const("http://tempuri.org/AbstractTypes"), "NS_TEMPURI_ABSTRACT_TYPES");
        assert_eq!(namespace_const("http://microsoft.com/wsdl/types/"), "NS_MICROSOFT_WSDL_TYPES");
        assert_eq!(namespace_const("urn:example:other"), "NS_EXAMPLE_OTHER");
    }

    #[test]
    fn plain_identifiers() {
        assert!(is_plain_ident("send"));
        assert!(!is_plain_ident("type"));
        assert!(!is_plain_ident("self"));
        assert!(!is_plain_ident("1a"));
        assert!(!is_plain_ident("a-b"));
    }
}
