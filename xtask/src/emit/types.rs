//! Structs, enums and the `XmlContent` code that writes and reads them.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::docs::{code, Doc};
use super::{serde_derives, struct_derives};
use crate::diag::{Pos, Problem};
use crate::model::{Builtin, Field, NamedType, QName, Shape, TypeKind, TypeRef};
use crate::names::{self, ServiceNames};

/// Which credential a request element carries.
#[derive(Clone, Copy)]
pub(super) enum Credential {
    Username,
    Password,
}

/// One child element of a generated struct, in document order.
pub(super) enum Child<'a> {
    Field {
        field: &'a Field,
        name: Ident,
        /// The variable that collects the field while reading.
        local: Ident,
        /// Added to the field's documentation.
        note: Option<String>,
    },
    /// A credential element: written and read by the runtime, not a field.
    Credential { element: &'a QName, which: Credential },
}

/// Children for `fields`, all of them fields.
pub(super) fn field_children<'a>(fields: &[&'a Field]) -> Vec<Child<'a>> {
    let names = names::field_names(fields.iter().map(|field| field.element.local.as_str()));
    fields
        .iter()
        .zip(names.fields.iter().zip(&names.locals))
        .map(|(field, (name, local))| Child::Field {
            field,
            name: names::ident(name),
            local: names::ident(local),
            note: None,
        })
        .collect()
}

/// `"…"` or the namespace constant.
pub(super) fn namespace(uri: &str, names: &ServiceNames) -> TokenStream {
    match names.namespaces.get(uri) {
        Some(constant) => {
            let constant = names::ident(constant);
            quote!(#constant)
        }
        None => quote!(#uri),
    }
}

pub(super) fn type_ident(name: &QName, names: &ServiceNames) -> Result<Ident, Problem> {
    names
        .types
        .get(name)
        .map(|rust| names::ident(rust))
        .ok_or_else(|| Problem::new(Pos::default(), format!("internal error: type {name:?} has no Rust name")))
}

fn value_type(item: &TypeRef, names: &ServiceNames) -> Result<TokenStream, Problem> {
    Ok(match item {
        TypeRef::Builtin(builtin) => match builtin {
            Builtin::String => quote!(::std::string::String),
            Builtin::Boolean => quote!(bool),
            Builtin::Byte => quote!(i8),
            Builtin::Short => quote!(i16),
            Builtin::Int => quote!(i32),
            Builtin::Long => quote!(i64),
            Builtin::UnsignedByte => quote!(u8),
            Builtin::UnsignedShort => quote!(u16),
            Builtin::UnsignedInt => quote!(u32),
            Builtin::UnsignedLong => quote!(u64),
            Builtin::Float => quote!(f32),
            Builtin::Double => quote!(f64),
            Builtin::DateTime => quote!(::payamak::codegen::PanelDateTime),
            Builtin::Base64Binary => quote!(::std::vec::Vec<u8>),
        },
        TypeRef::Named(name) => {
            let ident = type_ident(name, names)?;
            quote!(#ident)
        }
    })
}

/// The Rust type of a field: cardinality and nil handling around the value type.
fn field_type(field: &Field, names: &ServiceNames) -> Result<TokenStream, Problem> {
    let value = value_type(&field.item, names)?;
    let option = |inner: TokenStream| quote!(::core::option::Option<#inner>);
    let nillable = |inner: TokenStream| quote!(::payamak::codegen::Nillable<#inner>);
    let vec = |item: TokenStream| quote!(::std::vec::Vec<#item>);
    let item = |nil: bool| if nil { option(value.clone()) } else { value.clone() };
    Ok(match &field.shape {
        Shape::Single { optional, nillable: nil } => {
            let base = if *nil { nillable(value.clone()) } else { value.clone() };
            if *optional {
                option(base)
            } else {
                base
            }
        }
        Shape::Array { optional, nillable: nil, item_nillable, .. } => {
            let items = vec(item(*item_nillable));
            let base = if *nil { nillable(items) } else { items };
            if *optional {
                option(base)
            } else {
                base
            }
        }
        Shape::Repeated { item_nillable } => vec(item(*item_nillable)),
    })
}

/// `xs:int` for built-ins, the local name for the WSDL's own types.
pub(super) fn type_display(name: &QName) -> String {
    if name.is_xml_schema() {
        format!("xs:{}", name.local)
    } else {
        name.local.clone()
    }
}

fn field_doc(field: &Field, note: Option<&str>) -> Doc {
    let flags = |optional: bool, nillable: bool| match (optional, nillable) {
        (true, true) => ", optional, nillable",
        (true, false) => ", optional",
        (false, true) => ", nillable",
        (false, false) => "",
    };
    let element = code(&field.element.local);
    let declared = code(&type_display(&field.type_name));
    let summary = match &field.shape {
        Shape::Single { optional, nillable } => format!("{element} ({declared}{}).", flags(*optional, *nillable)),
        Shape::Array { optional, nillable, item_element, item_type_name, item_nillable } => format!(
            "{element} ({declared}{}): an array of {} items ({}{}).",
            flags(*optional, *nillable),
            code(&item_element.local),
            code(&type_display(item_type_name)),
            flags(false, *item_nillable),
        ),
        Shape::Repeated { item_nillable } => {
            format!("{element} ({declared}{}), repeated.", flags(false, *item_nillable))
        }
    };
    let summary = match note {
        Some(note) => format!("{summary} {note}"),
        None => summary,
    };
    Doc::new().line(summary).prose(field.doc.as_deref())
}

/// `pub name: Type,` for each field child.
pub(super) fn field_declarations(children: &[Child<'_>], names: &ServiceNames) -> Result<TokenStream, Problem> {
    let mut declarations = Vec::new();
    for child in children {
        if let Child::Field { field, name, note, .. } = child {
            let doc = field_doc(field, note.as_deref()).outer();
            let ty = field_type(field, names)?;
            declarations.push(quote! { #doc pub #name: #ty, });
        }
    }
    Ok(quote!(#(#declarations)*))
}

fn credential_path(which: Credential) -> TokenStream {
    match which {
        Credential::Username => quote!(::payamak::codegen::Credential::Username),
        Credential::Password => quote!(::payamak::codegen::Credential::Password),
    }
}

/// The statements that write the children, in document order.
pub(super) fn write_statements(children: &[Child<'_>], names: &ServiceNames) -> TokenStream {
    let statements = children.iter().map(|child| match child {
        Child::Field { field, name, .. } => {
            let ns = namespace(&field.element.namespace, names);
            let element = &field.element.local;
            match &field.shape {
                Shape::Single { .. } => quote! { w.field(#ns, #element, &self.#name); },
                Shape::Array { item_element, .. } => {
                    let item_ns = namespace(&item_element.namespace, names);
                    let item = &item_element.local;
                    quote! { w.array(#ns, #element, #item_ns, #item, &self.#name); }
                }
                Shape::Repeated { .. } => quote! { w.repeated(#ns, #element, &self.#name); },
            }
        }
        Child::Credential { element, which } => {
            let ns = namespace(&element.namespace, names);
            let local = &element.local;
            let which = credential_path(*which);
            quote! { w.credential(#ns, #local, #which); }
        }
    });
    quote!(#(#statements)*)
}

/// The body of a read function and which of its parameters it uses.
pub(super) struct ReadBody {
    pub statements: TokenStream,
    pub uses_element: bool,
    pub uses_credentials: bool,
}

/// Reads the children of `element` into `Self`; credentials go to `credentials`.
pub(super) fn read_body(children: &[Child<'_>], names: &ServiceNames) -> ReadBody {
    let mut slots = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    for child in children {
        match child {
            Child::Field { field, name, local, .. } => {
                let ns = namespace(&field.element.namespace, names);
                let element = &field.element.local;
                match &field.shape {
                    Shape::Single { .. } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::Slot::new(); });
                        arms.push(quote! { (#ns, #element) => #local.read(child)?, });
                        inits.push(quote! { #name: #local.finish(element, #element)? });
                    }
                    Shape::Array { item_element, .. } => {
                        let item_ns = namespace(&item_element.namespace, names);
                        let item = &item_element.local;
                        slots.push(quote! { let mut #local = ::payamak::codegen::ArraySlot::new(); });
                        arms.push(quote! { (#ns, #element) => #local.read(child, #item_ns, #item)?, });
                        inits.push(quote! { #name: #local.finish(element, #element)? });
                    }
                    Shape::Repeated { .. } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::Repeated::new(); });
                        arms.push(quote! { (#ns, #element) => #local.read(child)?, });
                        inits.push(quote! { #name: #local.finish() });
                    }
                }
            }
            Child::Credential { element, which } => {
                let ns = namespace(&element.namespace, names);
                let local = &element.local;
                let which = credential_path(*which);
                arms.push(quote! { (#ns, #local) => credentials.read(#which, child)?, });
            }
        }
    }
    let uses_credentials = children.iter().any(|child| matches!(child, Child::Credential { .. }));
    let read_loop = if arms.is_empty() {
        quote!()
    } else {
        quote! {
            for child in element.children() {
                match (child.namespace(), child.local_name()) {
                    #(#arms)*
                    _ => {}
                }
            }
        }
    };
    ReadBody {
        statements: quote! {
            #(#slots)*
            #read_loop
            ::core::result::Result::Ok(Self { #(#inits),* })
        },
        uses_element: !arms.is_empty(),
        uses_credentials,
    }
}

/// The `XmlContent` implementation of a struct.
pub(super) fn content_impl(ident: &Ident, children: &[Child<'_>], names: &ServiceNames) -> TokenStream {
    let writes = write_statements(children, names);
    let writer = if children.is_empty() { quote!(_w) } else { quote!(w) };
    let read = read_body(children, names);
    let element = if read.uses_element { quote!(element) } else { quote!(_element) };
    let statements = read.statements;
    quote! {
        impl ::payamak::codegen::XmlContent for #ident {
            fn write_content(&self, #writer: &mut ::payamak::codegen::XmlWriter) {
                #writes
            }
            fn read_content(
                #element: ::payamak::codegen::XmlElement<'_, '_>,
            ) -> ::core::result::Result<Self, ::payamak::codegen::DecodeError> {
                #statements
            }
        }
    }
}

/// A named type of the WSDL: a struct or an enumeration.
pub(super) fn named_type(named: &NamedType, names: &ServiceNames) -> Result<TokenStream, Problem> {
    let ident = type_ident(&named.name, names)?;
    match &named.kind {
        TypeKind::Struct { base, fields } => {
            let base_note = base
                .as_ref()
                .map(|base| format!("Extends {}: the fields of the base type come first.", code(&base.local)));
            let doc = Doc::new()
                .line(format!("Complex type {} (namespace {}).", code(&named.name.local), code(&named.name.namespace)))
                .prose(base_note.as_deref())
                .prose(named.doc.as_deref())
                .outer();
            let fields: Vec<&Field> = fields.iter().collect();
            let children = field_children(&fields);
            let declarations = field_declarations(&children, names)?;
            let derives = struct_derives();
            let serde = serde_derives();
            let content = content_impl(&ident, &children, names);
            Ok(quote! {
                #doc
                #derives
                #serde
                pub struct #ident { #declarations }
                #content
            })
        }
        TypeKind::Enum { base, values } => Ok(enumeration(&ident, named, base, values)),
    }
}

fn enumeration(ident: &Ident, named: &NamedType, base: &QName, values: &[String]) -> TokenStream {
    let doc = Doc::new()
        .line(format!(
            "Simple type {} (namespace {}): an enumeration of {} values.",
            code(&named.name.local),
            code(&named.name.namespace),
            code(&type_display(base))
        ))
        .prose(named.doc.as_deref())
        .line(format!("Values the WSDL does not list are kept in {}.", code(names::UNKNOWN_VARIANT)))
        .outer();
    let variants: Vec<Ident> = names::variant_names(values).iter().map(|name| names::ident(name)).collect();
    let variant_docs = values.iter().map(|value| {
        let text = if value.is_empty() { "The empty value.".to_owned() } else { format!("{}.", code(value)) };
        Doc::new().line(text).outer()
    });
    let defaults = (0..variants.len()).map(|index| if index == 0 { quote!(#[default]) } else { quote!() });
    let unknown = names::ident(names::UNKNOWN_VARIANT);
    let serde = serde_derives();
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        #serde
        pub enum #ident {
            #( #variant_docs #defaults #variants, )*
            /// A value not in the WSDL's enumeration, kept as sent.
            #unknown(::std::string::String),
        }

        impl #ident {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::#unknown(value) => value,
                }
            }
        }

        impl ::core::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::#unknown(::std::string::String::from(other)),
                }
            }
        }

        impl ::payamak::codegen::XmlContent for #ident {
            fn write_content(&self, w: &mut ::payamak::codegen::XmlWriter) {
                w.text(self.as_str());
            }
            fn read_content(
                element: ::payamak::codegen::XmlElement<'_, '_>,
            ) -> ::core::result::Result<Self, ::payamak::codegen::DecodeError> {
                // The exact text first (a listed value may hold whitespace), then trimmed.
                ::payamak::codegen::read_text(element).map(|text| match Self::from(&*text) {
                    Self::#unknown(_) => Self::from(text.trim()),
                    known => known,
                })
            }
        }
    }
}
