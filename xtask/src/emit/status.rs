//! `generated/status.rs`: one enum per status table of the plan.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::docs::{inner, outer};
use super::{allowed_lints, ident, serde_derives};
use crate::plan::{Doc, StatusEnum, StatusModule, StatusVariant};

/// The tokens of `generated/status.rs`.
pub fn status_file(module: &StatusModule) -> TokenStream {
    let doc = inner(&Doc::new().line("Result codes of the panel, as enums."));
    let lints = allowed_lints(false);
    let enums = module.enums.iter().map(status_enum);
    quote! {
        #doc
        #lints
        #(#enums)*
    }
}

/// `code` as a pattern or expression (negative codes need a minus sign token).
fn code_literal(code: i32) -> TokenStream {
    let magnitude = Literal::u32_unsuffixed(code.unsigned_abs());
    if code < 0 {
        quote!(-#magnitude)
    } else {
        quote!(#magnitude)
    }
}

fn status_enum(plan: &StatusEnum) -> TokenStream {
    let name = ident(&plan.ident);
    let doc = outer(&plan.doc);
    let variants: Vec<_> = plan.variants.iter().map(|variant| ident(&variant.ident)).collect();
    let variant_docs = plan.variants.iter().map(|variant| outer(&variant.doc));
    let codes: Vec<_> = plan.variants.iter().map(|variant| code_literal(variant.code)).collect();
    let english = plan.variants.iter().map(|variant| &variant.english);
    let persian = plan.variants.iter().map(|variant| &variant.persian);
    let matching = |select: fn(&StatusVariant) -> bool| {
        let selected: Vec<_> =
            plan.variants.iter().zip(&variants).filter(|(variant, _)| select(variant)).map(|(_, v)| v).collect();
        if selected.is_empty() {
            quote!(false)
        } else {
            quote!(::core::matches!(self, #(Self::#selected)|*))
        }
    };
    let is_success = matching(|variant| variant.success);
    let is_final = plan.has_final.then(|| {
        let is_final = matching(|variant| variant.is_final);
        quote! {
            /// True when the status can no longer change; unknown codes are not final.
            pub const fn is_final(self) -> bool {
                #is_final
            }
        }
    });
    let serde = serde_derives();
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #serde
        #[non_exhaustive]
        pub enum #name {
            #( #variant_docs #variants, )*
            /// A code not in the table.
            Unknown(i32),
        }

        impl #name {
            /// The status for `code`; codes not in the table are kept as `Unknown(code)`.
            pub const fn from_code(code: i32) -> Self {
                match code {
                    #( #codes => Self::#variants, )*
                    other => Self::Unknown(other),
                }
            }
            /// The code as the panel sends it.
            pub const fn code(self) -> i32 {
                match self {
                    #( Self::#variants => #codes, )*
                    Self::Unknown(code) => code,
                }
            }
            /// True when the code means the request did what was asked.
            pub const fn is_success(self) -> bool {
                #is_success
            }
            #is_final
            /// The meaning in English.
            pub const fn english(self) -> &'static str {
                match self {
                    #( Self::#variants => #english, )*
                    Self::Unknown(_) => "unknown code",
                }
            }
            /// The meaning in Persian.
            pub const fn persian(self) -> &'static str {
                match self {
                    #( Self::#variants => #persian, )*
                    Self::Unknown(_) => "کد ناشناخته",
                }
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    Self::Unknown(code) => ::core::write!(f, "unknown code {code}"),
                    known => ::core::write!(f, "{} ({})", known.english(), known.code()),
                }
            }
        }

        impl ::payamak::codegen::StatusCode for #name {
            fn code(self) -> i32 {
                #name::code(self)
            }
            fn from_code(code: i32) -> Self {
                #name::from_code(code)
            }
            fn is_success(self) -> bool {
                #name::is_success(self)
            }
            fn is_known(self) -> bool {
                !::core::matches!(self, Self::Unknown(_))
            }
            fn english(self) -> &'static str {
                #name::english(self)
            }
            fn persian(self) -> &'static str {
                #name::persian(self)
            }
        }
    }
}
