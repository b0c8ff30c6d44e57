//! One service module: namespace constants, `SERVICE`, `OPERATIONS`, the
//! operations' request and response types, and the named types they use.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::{inner, outer};
use super::{allowed_lints, ident, operations, types};
use crate::plan::ServiceModule;

/// The tokens of `generated/<module>.rs`.
pub fn service_file(module: &ServiceModule) -> TokenStream {
    let module_doc = inner(&module.doc);
    let lints = allowed_lints(true);
    let constants = module.namespaces.iter().map(|constant| {
        let doc = outer(&constant.doc);
        let name = ident(&constant.name);
        let uri = &constant.uri;
        quote! {
            #doc
            const #name: &str = #uri;
        }
    });
    let meta = &module.meta;
    let service_doc = outer(&meta.doc);
    let (name, endpoint, address, source) = (&meta.name, &meta.endpoint, &meta.default_address, &meta.source);
    let operation_refs = module.operations.iter().map(|operation| {
        let request = ident(&operation.request.ident);
        quote!(<#request as ::payamak::codegen::XmlRequest>::OPERATION)
    });
    let operation_items = module.operations.iter().map(operations::operation);
    let type_items = module.types.iter().map(types::named_type);
    quote! {
        #module_doc
        #lints

        #(#constants)*

        #service_doc
        pub const SERVICE: ::payamak::codegen::ServiceMeta = ::payamak::codegen::ServiceMeta {
            name: #name,
            endpoint: #endpoint,
            default_address: #address,
            source: #source,
        };

        /// Every operation of the service, sorted by name.
        pub const OPERATIONS: &[&::payamak::codegen::OperationMeta] = &[#(#operation_refs),*];

        #(#operation_items)*
        #(#type_items)*
    }
}
