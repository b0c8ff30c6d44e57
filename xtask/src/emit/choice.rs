//! `xs:choice` enums: a variant per alternative, and their `XmlChoice` code.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::outer;
use super::types::rust_type;
use super::{ident, namespace, serde_derives};
use crate::plan::{ChoiceEnum, Codec, Field};

/// Writes the alternative held in `value`.
fn write_variant(variant: &Field) -> TokenStream {
    let ns = namespace(&variant.element.namespace);
    let element = &variant.element.local;
    match &variant.codec {
        Codec::Array { item } => {
            let item_ns = namespace(&item.namespace);
            let item = &item.local;
            quote! { w.array(#ns, #element, #item_ns, #item, value) }
        }
        Codec::Repeated => quote! { w.repeated(#ns, #element, value) },
        Codec::Raw { .. } => quote! { w.raw_field(value) },
        _ => quote! { w.field(#ns, #element, value) },
    }
}

/// Reads `child` into `items`, as the alternative `variant`.
fn read_variant(variant: &Field) -> TokenStream {
    let name = ident(&variant.ident);
    match &variant.codec {
        Codec::Array { item } => {
            let item_ns = namespace(&item.namespace);
            let item = &item.local;
            quote! { items.push(Self::#name(::payamak::codegen::ArrayField::read_array(child, #item_ns, #item)?)) }
        }
        // Consecutive elements of a repeated alternative are one value.
        Codec::Repeated => quote! {{
            let value = ::payamak::codegen::ArrayItem::read_item(child)?;
            match items.last_mut() {
                ::core::option::Option::Some(Self::#name(values)) => values.push(value),
                _ => items.push(Self::#name(::std::vec![value])),
            }
        }},
        Codec::Raw { .. } => quote! { items.push(Self::#name(::payamak::codegen::RawXml::read(child))) },
        _ => quote! { items.push(Self::#name(::payamak::codegen::ElementField::read_element(child)?)) },
    }
}

pub(super) fn choice_enum(plan: &ChoiceEnum) -> TokenStream {
    let name = ident(&plan.ident);
    let doc = outer(&plan.doc);
    let serde = serde_derives();
    let variants = plan.variants.iter().map(|variant| {
        let doc = outer(&variant.doc);
        let variant_name = ident(&variant.ident);
        let ty = rust_type(&variant.ty);
        quote! { #doc #variant_name(#ty), }
    });
    let first = plan.variants.first().map(|variant| ident(&variant.ident));
    let default = first.map(|first| {
        quote! {
            impl ::core::default::Default for #name {
                fn default() -> Self {
                    Self::#first(::core::default::Default::default())
                }
            }
        }
    });
    let writes = plan.variants.iter().map(|variant| {
        let variant_name = ident(&variant.ident);
        let write = write_variant(variant);
        quote! { Self::#variant_name(value) => #write, }
    });
    let reads = plan.variants.iter().map(|variant| {
        let ns = namespace(&variant.element.namespace);
        let element = &variant.element.local;
        let read = read_variant(variant);
        quote! { (#ns, #element) => #read, }
    });
    let fault = plan.fault.then(|| {
        quote! {
            impl #name {
                /// The declared fault a call failed with: `None` when the error is
                /// no SOAP fault, or its detail is none of these (or does not decode).
                pub fn from_error(error: &::payamak::codegen::Error) -> ::core::option::Option<Self> {
                    error.declared_fault()
                }

                /// The declared fault in `fault`'s detail: `None` when it holds none of these.
                pub fn from_fault(
                    fault: &::payamak::codegen::SoapFault,
                ) -> ::core::result::Result<::core::option::Option<Self>, ::payamak::codegen::DecodeError> {
                    fault.declared()
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        #serde
        #[non_exhaustive]
        pub enum #name { #(#variants)* }

        #default
        #fault

        impl ::payamak::codegen::XmlChoice for #name {
            fn write_choice(&self, w: &mut ::payamak::codegen::XmlWriter) {
                match self { #(#writes)* }
            }
            fn read_choice(
                items: &mut ::std::vec::Vec<Self>,
                child: ::payamak::codegen::XmlElement<'_, '_>,
            ) -> ::core::result::Result<(), ::payamak::codegen::DecodeError> {
                match (child.namespace(), child.local_name()) {
                    #(#reads)*
                    _ => {}
                }
                ::core::result::Result::Ok(())
            }
        }
    }
}
