//! `generated/mod.rs`: one `pub mod` per module of the index.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::inner;
use super::ident;
use crate::plan::{Doc, Index};

pub fn index_file(index: &Index) -> TokenStream {
    let modules = index.modules.iter().map(|module| ident(module));
    let doc = inner(&Doc::new().line("Typed request and response types of the SOAP services, one module per service."));
    quote! {
        #doc
        #(pub mod #modules;)*
    }
}
