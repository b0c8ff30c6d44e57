//! `generated/mod.rs`: one `pub mod` per service module, and `status`.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::Doc;
use crate::names;

/// The index of `modules` (sorted here), plus `pub mod status;` when `has_status`.
pub fn index_file(modules: &[String], has_status: bool) -> TokenStream {
    let mut all: Vec<&str> = modules.iter().map(String::as_str).collect();
    if has_status {
        all.push("status");
    }
    all.sort_unstable();
    let modules = all.into_iter().map(names::ident);
    let doc = Doc::new().line("Typed request and response types of the SOAP services, one module per service.").inner();
    quote! {
        #doc
        #(pub mod #modules;)*
    }
}
