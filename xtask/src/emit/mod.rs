//! Plan → Rust tokens: plain rendering that cannot fail; every decision is
//! in the plan (see `bind`).
//!
//! Generated code reaches the runtime only through `::payamak::codegen`, and
//! names every standard type by its full path, so WSDL names such as
//! `Result`, `Option` or `String` cannot shadow anything it uses.

mod choice;
mod content;
mod docs;
mod index;
mod operations;
mod service;
mod status;
mod types;

pub use index::index_file;
pub use service::service_file;
pub use status::status_file;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::names;
use crate::plan::Namespace;

/// The identifier for a name of the plan (raw for keywords: `r#type`).
fn ident(name: &str) -> Ident {
    if names::is_raw_keyword(name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// A namespace constant, or the URI as a literal.
fn namespace(namespace: &Namespace) -> TokenStream {
    match namespace {
        Namespace::Constant(name) => {
            let constant = ident(name);
            quote!(#constant)
        }
        Namespace::Literal(uri) => quote!(#uri),
    }
}

/// Lints that the input can trigger in otherwise clean generated code:
/// `single_match` (a one-element struct is read with a one-arm match, like
/// all others) and `enum_variant_names` (variant names come from the input).
fn allowed_lints(single_match: bool) -> TokenStream {
    if single_match {
        quote! { #![allow(clippy::single_match, clippy::enum_variant_names)] }
    } else {
        quote! { #![allow(clippy::enum_variant_names)] }
    }
}

/// The derives of every generated struct (no `Eq`: fields may be floats).
fn struct_derives() -> TokenStream {
    quote! { #[derive(Debug, Clone, PartialEq, Default)] }
}

/// Serde support, active when the crate using the code enables its `serde` feature.
fn serde_derives() -> TokenStream {
    quote! {
        #[cfg_attr(
            feature = "serde",
            derive(::payamak::codegen::serde::Serialize, ::payamak::codegen::serde::Deserialize),
            serde(crate = "::payamak::codegen::serde")
        )]
    }
}
