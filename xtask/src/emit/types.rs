//! Struct and enum declarations: fields, their Rust types, and the
//! `XmlContent` code of the WSDL's named types.

use proc_macro2::TokenStream;
use quote::quote;

use super::content::content_impl;
use super::docs::outer;
use super::{ident, serde_derives, struct_derives};
use crate::plan::{Enum, Field, NamedType, RustType, Scalar, Struct};

fn scalar(scalar: Scalar) -> TokenStream {
    match scalar {
        Scalar::String => quote!(::std::string::String),
        Scalar::Bool => quote!(bool),
        Scalar::I8 => quote!(i8),
        Scalar::I16 => quote!(i16),
        Scalar::I32 => quote!(i32),
        Scalar::I64 => quote!(i64),
        Scalar::U8 => quote!(u8),
        Scalar::U16 => quote!(u16),
        Scalar::U32 => quote!(u32),
        Scalar::U64 => quote!(u64),
        Scalar::F32 => quote!(f32),
        Scalar::F64 => quote!(f64),
        Scalar::PanelDateTime => quote!(::payamak::codegen::PanelDateTime),
        Scalar::Bytes => quote!(::std::vec::Vec<u8>),
        Scalar::RawXml => quote!(::payamak::codegen::RawXml),
        Scalar::AnyAttribute => quote!(::payamak::codegen::AnyAttribute),
        Scalar::Decimal => quote!(::payamak::codegen::Decimal),
        Scalar::I128 => quote!(i128),
        Scalar::U128 => quote!(u128),
        Scalar::Date => quote!(::payamak::codegen::XsDate),
        Scalar::Time => quote!(::payamak::codegen::XsTime),
        Scalar::Duration => quote!(::payamak::codegen::XsDuration),
        Scalar::HexBinary => quote!(::payamak::codegen::HexBinary),
        Scalar::QName => quote!(::payamak::codegen::QName),
        Scalar::Char => quote!(char),
    }
}

pub(super) fn rust_type(ty: &RustType) -> TokenStream {
    match ty {
        RustType::Scalar(value) => scalar(*value),
        RustType::Named(name) => {
            let name = ident(name);
            quote!(#name)
        }
        RustType::Option(inner) => {
            let inner = rust_type(inner);
            quote!(::core::option::Option<#inner>)
        }
        RustType::Nillable(inner) => {
            let inner = rust_type(inner);
            quote!(::payamak::codegen::Nillable<#inner>)
        }
        RustType::Boxed(inner) => {
            let inner = rust_type(inner);
            quote!(::std::boxed::Box<#inner>)
        }
        RustType::List(item) => {
            let item = rust_type(item);
            quote!(::payamak::codegen::XsList<#item>)
        }
        RustType::Vec(item) => {
            let item = rust_type(item);
            quote!(::std::vec::Vec<#item>)
        }
    }
}

/// `pub name: Type,` for each field.
pub(super) fn field_declarations<'a>(fields: impl IntoIterator<Item = &'a Field>) -> TokenStream {
    let declarations = fields.into_iter().map(|field| {
        let doc = outer(&field.doc);
        let name = ident(&field.ident);
        let ty = rust_type(&field.ty);
        quote! { #doc pub #name: #ty, }
    });
    quote!(#(#declarations)*)
}

/// A named type of the WSDL: a struct or an enumeration.
pub(super) fn named_type(named: &NamedType) -> TokenStream {
    match named {
        NamedType::Struct(plan) => struct_item(plan),
        NamedType::Enum(plan) => enumeration(plan),
        NamedType::Choice(plan) => super::choice::choice_enum(plan),
    }
}

fn struct_item(plan: &Struct) -> TokenStream {
    let name = ident(&plan.ident);
    let doc = outer(&plan.doc);
    let declarations = field_declarations(&plan.fields);
    let derives = struct_derives();
    let serde = serde_derives();
    let content = content_impl(&name, &plan.fields);
    quote! {
        #doc
        #derives
        #serde
        pub struct #name { #declarations }
        #content
    }
}

fn enumeration(plan: &Enum) -> TokenStream {
    let name = ident(&plan.ident);
    let doc = outer(&plan.doc);
    let variants: Vec<_> = plan.variants.iter().map(|variant| ident(&variant.ident)).collect();
    let values: Vec<&String> = plan.variants.iter().map(|variant| &variant.value).collect();
    let variant_docs = plan.variants.iter().map(|variant| outer(&variant.doc));
    let defaults = (0..variants.len()).map(|index| if index == 0 { quote!(#[default]) } else { quote!() });
    let unknown = ident(&plan.unknown);
    let serde = serde_derives();
    let type_name = format!("the enumeration {}", plan.ident);
    let attribute_value = plan.attribute_value.then(|| {
        quote! {
            impl ::payamak::codegen::AttributeValue for #name {
                const TYPE_NAME: &'static str = #type_name;
                fn to_text(&self) -> ::std::borrow::Cow<'_, str> {
                    ::std::borrow::Cow::Borrowed(self.as_str())
                }
                fn from_text(text: &str) -> ::core::option::Option<Self> {
                    // The exact text first (a listed value may hold whitespace), then trimmed.
                    ::core::option::Option::Some(match Self::from(text) {
                        Self::#unknown(_) => Self::from(text.trim()),
                        known => known,
                    })
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        #serde
        #[non_exhaustive]
        pub enum #name {
            #( #variant_docs #defaults #variants, )*
            /// A value not in the WSDL's enumeration, kept as sent.
            #unknown(::std::string::String),
        }

        impl #name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::#unknown(value) => value,
                }
            }
        }

        impl ::core::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::#unknown(::std::string::String::from(other)),
                }
            }
        }

        #attribute_value

        impl ::payamak::codegen::XmlContent for #name {
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
            fn read_stream(
                cursor: &mut ::payamak::codegen::XmlCursor<'_>,
                element: ::payamak::codegen::XmlStart,
            ) -> ::core::result::Result<Self, ::payamak::codegen::DecodeError> {
                ::payamak::codegen::read_text_stream(cursor, element).map(|text| match Self::from(&*text) {
                    Self::#unknown(_) => Self::from(text.trim()),
                    known => known,
                })
            }
        }
    }
}
