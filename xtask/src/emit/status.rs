//! `generated/status.rs`: one enum per `[status.*]` table of the annotations.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::docs::{code, Doc};
use super::{allowed_lints, serde_derives};
use crate::annotations::{StatusCode, StatusTable};
use crate::names;

/// The tokens of `generated/status.rs` for `tables` (sorted by name).
pub fn status_file<'a>(tables: impl IntoIterator<Item = (&'a String, &'a StatusTable)>, source: &str) -> TokenStream {
    let doc = Doc::new().line("Result codes of the panel, as enums.").inner();
    let lints = allowed_lints(false);
    let enums = tables.into_iter().map(|(name, table)| status_enum(name, table, source));
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

fn status_enum(name: &str, table: &StatusTable, source: &str) -> TokenStream {
    let ident = names::ident(name);
    let doc = Doc::new()
        .prose(Some(&table.doc))
        .prose(table.doc_fa.as_deref())
        .line(format!("Generated from `[status.{name}]` in {}.", code(source)))
        .outer();
    let variants: Vec<_> = table.codes.iter().map(|code| names::ident(&code.variant)).collect();
    let variant_docs = table.codes.iter().map(|row| {
        Doc::new().line(format!("{}: {}.", code(&row.code.to_string()), row.en)).prose(Some(&row.fa)).outer()
    });
    let codes: Vec<_> = table.codes.iter().map(|row| code_literal(row.code)).collect();
    let english = table.codes.iter().map(|row| &row.en);
    let persian = table.codes.iter().map(|row| &row.fa);
    let matching = |select: fn(&StatusCode) -> bool| {
        let selected: Vec<_> =
            table.codes.iter().zip(&variants).filter(|(row, _)| select(row)).map(|(_, v)| v).collect();
        if selected.is_empty() {
            quote!(false)
        } else {
            quote!(::core::matches!(self, #(Self::#selected)|*))
        }
    };
    let is_success = matching(|row| row.success);
    let is_final = table.has_final().then(|| {
        let is_final = matching(|row| row.is_final == Some(true));
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
        pub enum #ident {
            #( #variant_docs #variants, )*
            /// A code not in the table.
            Unknown(i32),
        }

        impl #ident {
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

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    Self::Unknown(code) => ::core::write!(f, "unknown code {code}"),
                    known => ::core::write!(f, "{} ({})", known.english(), known.code()),
                }
            }
        }

        impl ::payamak::codegen::StatusCode for #ident {
            fn code(self) -> i32 {
                #ident::code(self)
            }
            fn from_code(code: i32) -> Self {
                #ident::from_code(code)
            }
            fn is_success(self) -> bool {
                #ident::is_success(self)
            }
            fn is_known(self) -> bool {
                !::core::matches!(self, Self::Unknown(_))
            }
            fn english(self) -> &'static str {
                #ident::english(self)
            }
            fn persian(self) -> &'static str {
                #ident::persian(self)
            }
        }
    }
}
