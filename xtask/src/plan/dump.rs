//! The plan as readable text, shaped like the Rust it becomes: the
//! `plan.txt` snapshots of the golden tests.

use std::fmt::{self, Write as _};

use super::{
    BodyStyle, Child, Codec, CredentialPlacement, Doc, ElementName, Field, Headers, NamedType, Namespace, Operation,
    Paragraph, Plan, RustType, Scalar, ServiceModule, StatusModule,
};

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Out::default();
        for service in &self.services {
            service_module(&mut out, service);
            out.blank();
        }
        if let Some(status) = &self.status {
            status_module(&mut out, status);
            out.blank();
        }
        out.line(0, format!("mod.rs: {}", self.index.modules.join(", ")));
        f.write_str(&out.text)
    }
}

/// Indented lines.
#[derive(Default)]
struct Out {
    text: String,
}

impl Out {
    fn line(&mut self, depth: usize, text: impl fmt::Display) {
        let _ = writeln!(self.text, "{:indent$}{text}", "", indent = depth * 4);
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    /// `///` lines (`//!` when `inner`), a blank `///` between paragraphs.
    fn doc(&mut self, depth: usize, doc: &Doc, marker: &str) {
        for (index, paragraph) in doc.paragraphs.iter().enumerate() {
            if index > 0 {
                self.line(depth, marker);
            }
            let text = match paragraph {
                Paragraph::Line(text) | Paragraph::Prose(text) => text,
            };
            for line in text.lines() {
                self.line(depth, format!("{marker} {line}"));
            }
        }
    }
}

fn service_module(out: &mut Out, service: &ServiceModule) {
    out.line(0, format!("mod {}", service.module));
    out.doc(1, &service.doc, "//!");
    for constant in &service.namespaces {
        out.doc(1, &constant.doc, "///");
        out.line(1, format!("const {} = {:?}", constant.name, constant.uri));
    }
    let meta = &service.meta;
    out.doc(1, &meta.doc, "///");
    out.line(
        1,
        format!(
            "SERVICE {}: endpoint {:?}, default address {:?}, source {:?}",
            meta.name, meta.endpoint, meta.default_address, meta.source
        ),
    );
    for operation in &service.operations {
        out.blank();
        operation_items(out, operation);
    }
    for named in &service.types {
        out.blank();
        named_type(out, named);
    }
}

fn operation_items(out: &mut Out, operation: &Operation) {
    let retry = if operation.retry_safe { "retry-safe" } else { "not retry-safe" };
    let action = |version: &str, action: &Option<String>| match action {
        Some(action) => format!("SOAP {version} action {action:?}"),
        None => format!("no SOAP {version}"),
    };
    out.line(
        1,
        format!(
            "operation {}: {retry}, {}, {}",
            operation.name,
            action("1.1", &operation.soap11_action),
            action("1.2", &operation.soap12_action)
        ),
    );
    if operation.body != BodyStyle::Wrapped {
        out.line(2, format!("body {:?}", operation.body));
    }
    let request = &operation.request;
    let credentials = match &request.credentials {
        CredentialPlacement::None => "no credentials".to_owned(),
        CredentialPlacement::Body => "credentials in the body".to_owned(),
        CredentialPlacement::Header { element: holder, username, password } => {
            format!("credentials in header {} ({username}, {password})", element(holder))
        }
    };
    out.doc(2, &request.doc, "///");
    out.line(2, format!("struct {} for {}, {credentials}", request.ident, element(&request.element)));
    headers(out, request.headers.as_ref());
    for child in &request.children {
        match child {
            Child::Field(plan) => field(out, 3, plan),
            Child::Credential(slot) => {
                out.line(3, format!("credential {:?} ← {}", slot.credential, element(&slot.element)));
            }
        }
    }
    let Some(response) = &operation.response else {
        out.line(2, "one-way: no response");
        return;
    };
    out.doc(2, &response.doc, "///");
    out.line(2, format!("struct {} for {}", response.ident, element(&response.element)));
    headers(out, response.headers.as_ref());
    response.fields.iter().for_each(|plan| field(out, 3, plan));
    if let Some(status) = &response.status {
        out.doc(3, &status.doc, "///");
        out.line(
            3,
            format!("result_status() = {}::{}::from_code(self.{})", status.module, status.status_enum, status.field),
        );
    }
}

fn headers(out: &mut Out, headers: Option<&Headers>) {
    if let Some(headers) = headers {
        let elements: Vec<String> = headers.elements.iter().map(element).collect();
        out.doc(3, &headers.doc, "///");
        out.line(3, format!("{}: {} ← SOAP header {}", headers.field, headers.ty, elements.join(", ")));
    }
}

fn named_type(out: &mut Out, named: &NamedType) {
    match named {
        NamedType::Struct(plan) => {
            out.doc(1, &plan.doc, "///");
            out.line(1, format!("struct {}", plan.ident));
            plan.fields.iter().for_each(|plan| field(out, 2, plan));
        }
        NamedType::Choice(plan) => {
            out.doc(1, &plan.doc, "///");
            out.line(1, format!("enum {} ({})", plan.ident, if plan.fault { "declared faults" } else { "choice" }));
            plan.variants.iter().for_each(|plan| field(out, 2, plan));
        }
        NamedType::Enum(plan) => {
            out.doc(1, &plan.doc, "///");
            out.line(1, format!("enum {}, other values in {}", plan.ident, plan.unknown));
            for variant in &plan.variants {
                out.doc(2, &variant.doc, "///");
                out.line(2, format!("{} = {:?}", variant.ident, variant.value));
            }
        }
    }
}

fn status_module(out: &mut Out, status: &StatusModule) {
    out.line(0, "mod status");
    for plan in &status.enums {
        out.doc(1, &plan.doc, "///");
        let finality = if plan.has_final { ", with is_final()" } else { "" };
        out.line(1, format!("enum {}{finality}", plan.ident));
        for variant in &plan.variants {
            out.doc(2, &variant.doc, "///");
            let success = if variant.success { "success" } else { "failure" };
            let is_final = match (plan.has_final, variant.is_final) {
                (false, _) => "",
                (true, true) => ", final",
                (true, false) => ", not final",
            };
            out.line(
                2,
                format!(
                    "{} = {}: {success}{is_final}, {:?} / {:?}",
                    variant.ident, variant.code, variant.english, variant.persian
                ),
            );
        }
    }
}

fn field(out: &mut Out, depth: usize, field: &Field) {
    out.doc(depth, &field.doc, "///");
    let wire = match &field.codec {
        Codec::Single => element(&field.element),
        Codec::Array { item } => format!("array {} of {}", element(&field.element), element(item)),
        Codec::Repeated => format!("repeated {}", element(&field.element)),
        Codec::Raw { element: Some(name) } => format!("raw {}", element(name)),
        Codec::Raw { element: None } => "raw, any other element".to_owned(),
        Codec::Attribute => format!("attribute {}", element(&field.element)),
        Codec::Value => "text".to_owned(),
        Codec::OtherAttributes { .. } => "other attributes".to_owned(),
        Codec::Choice { elements } => {
            format!("choice of {}", elements.iter().map(element).collect::<Vec<_>>().join(" | "))
        }
    };
    let mut local = if field.local == field.ident { String::new() } else { format!(" (read into {})", field.local) };
    if let Some(default) = &field.default {
        local.push_str(&format!(", empty means {default:?}"));
    }
    out.line(depth, format!("{}: {} ← {wire}{local}", field.ident, rust_type(&field.ty)));
}

/// `NS_TEMPURI:local`, or `"urn:x":local` for a namespace without a constant.
fn element(element: &ElementName) -> String {
    match &element.namespace {
        Namespace::Constant(name) => format!("{name}:{}", element.local),
        Namespace::Literal(uri) => format!("{uri:?}:{}", element.local),
    }
}

fn rust_type(ty: &RustType) -> String {
    match ty {
        RustType::Scalar(scalar) => scalar_name(*scalar).to_owned(),
        RustType::Named(name) => name.clone(),
        RustType::Option(inner) => format!("Option<{}>", rust_type(inner)),
        RustType::Nillable(inner) => format!("Nillable<{}>", rust_type(inner)),
        RustType::Boxed(inner) => format!("Box<{}>", rust_type(inner)),
        RustType::List(item) => format!("XsList<{}>", rust_type(item)),
        RustType::Vec(item) => format!("Vec<{}>", rust_type(item)),
    }
}

fn scalar_name(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "String",
        Scalar::Bool => "bool",
        Scalar::I8 => "i8",
        Scalar::I16 => "i16",
        Scalar::I32 => "i32",
        Scalar::I64 => "i64",
        Scalar::U8 => "u8",
        Scalar::U16 => "u16",
        Scalar::U32 => "u32",
        Scalar::U64 => "u64",
        Scalar::F32 => "f32",
        Scalar::F64 => "f64",
        Scalar::PanelDateTime => "PanelDateTime",
        Scalar::Bytes => "Vec<u8>",
        Scalar::RawXml => "RawXml",
        Scalar::AnyAttribute => "AnyAttribute",
        Scalar::Decimal => "Decimal",
        Scalar::I128 => "i128",
        Scalar::U128 => "u128",
        Scalar::Date => "XsDate",
        Scalar::Time => "XsTime",
        Scalar::Duration => "XsDuration",
        Scalar::HexBinary => "HexBinary",
        Scalar::QName => "QName",
        Scalar::Char => "char",
    }
}
