//! The code that writes a struct's children and reads them back.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{ident, namespace};
use crate::plan::{Child, Codec, Credential, CredentialSlot, Field, Headers};

/// A child element, as the write and read code sees it.
#[derive(Clone, Copy)]
pub(super) enum Member<'a> {
    Field(&'a Field),
    Credential(&'a CredentialSlot),
    /// The field holding the SOAP header elements: not in the body, read and
    /// written apart (`read_headers`, `write_headers`).
    Headers(&'a Headers),
}

/// The members of a request: its fields and credential slots, and its headers.
pub(super) fn request_members<'a>(children: &'a [Child], headers: Option<&'a Headers>) -> Vec<Member<'a>> {
    children
        .iter()
        .map(|child| match child {
            Child::Field(field) => Member::Field(field),
            Child::Credential(slot) => Member::Credential(slot),
        })
        .chain(headers.map(Member::Headers))
        .collect()
}

/// The members of a struct that has only fields.
pub(super) fn field_members(fields: &[Field]) -> Vec<Member<'_>> {
    fields.iter().map(Member::Field).collect()
}

fn credential_path(credential: Credential) -> TokenStream {
    match credential {
        Credential::Username => quote!(::payamak::codegen::Credential::Username),
        Credential::Password => quote!(::payamak::codegen::Credential::Password),
    }
}

/// `w` when the writer is used, `_w` when there is nothing to write.
pub(super) fn writer_param(members: &[Member<'_>]) -> TokenStream {
    if members.iter().all(|member| matches!(member, Member::Headers(_))) {
        quote!(_w)
    } else {
        quote!(w)
    }
}

/// The statements that write the members: attributes first (they belong to
/// the start tag), then the text or the child elements in document order.
pub(super) fn write_statements(members: &[Member<'_>]) -> TokenStream {
    let is_attribute = |member: &&Member<'_>| matches!(member, Member::Field(field) if matches!(field.codec, Codec::Attribute | Codec::OtherAttributes { .. }));
    let ordered = members.iter().filter(is_attribute).chain(members.iter().filter(|member| !is_attribute(member)));
    let statements = ordered.map(|member| match member {
        Member::Field(field) => {
            let name = ident(&field.ident);
            let ns = namespace(&field.element.namespace);
            let element = &field.element.local;
            match &field.codec {
                Codec::Single => quote! { w.field(#ns, #element, &self.#name); },
                Codec::Typed { xsi_type } => {
                    let type_ns = namespace(&xsi_type.namespace);
                    let type_local = &xsi_type.local;
                    quote! { w.typed_field(#ns, #element, #type_ns, #type_local, &self.#name); }
                }
                Codec::EncodedArray { item_type } => {
                    let type_ns = namespace(&item_type.namespace);
                    let type_local = &item_type.local;
                    quote! { w.encoded_array(#ns, #element, #type_ns, #type_local, &self.#name); }
                }
                Codec::Array { item } => {
                    let item_ns = namespace(&item.namespace);
                    let item = &item.local;
                    quote! { w.array(#ns, #element, #item_ns, #item, &self.#name); }
                }
                Codec::Repeated => quote! { w.repeated(#ns, #element, &self.#name); },
                Codec::Raw { .. } => quote! { w.raw_field(&self.#name); },
                Codec::Attribute => quote! { w.attribute_field(#ns, #element, &self.#name); },
                Codec::Value => quote! { ::payamak::codegen::XmlContent::write_content(&self.#name, w); },
                Codec::Choice { .. } => quote! { w.choice_field(&self.#name); },
                Codec::OtherAttributes { .. } => quote! { w.other_attributes(&self.#name); },
            }
        }
        Member::Credential(slot) => {
            let ns = namespace(&slot.element.namespace);
            let local = &slot.element.local;
            let which = credential_path(slot.credential);
            quote! { w.credential(#ns, #local, #which); }
        }
        Member::Headers(_) => quote!(),
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
///
/// With `any_namespace` (the accessors of an rpc message), child elements are
/// matched on their local name alone: WS-I has them unqualified, and Axis or
/// node-soap qualify them.
pub(super) fn read_body(members: &[Member<'_>], any_namespace: bool) -> ReadBody {
    let mut slots = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    // `xs:any` takes the children no other field takes.
    let mut other = None;
    for member in members {
        match member {
            Member::Field(field) => {
                let (name, local) = (ident(&field.ident), ident(&field.local));
                let ns = if any_namespace { quote!(_) } else { namespace(&field.element.namespace) };
                let element = &field.element.local;
                match &field.codec {
                    Codec::EncodedArray { .. } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::EncodedArraySlot::new(); });
                        arms.push(quote! { (#ns, #element) => #local.read(child)?, });
                        inits.push(quote! { #name: #local.finish(element, #element)? });
                    }
                    Codec::Single | Codec::Typed { .. } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::Slot::new(); });
                        match &field.default {
                            Some(default) => {
                                arms.push(quote! { (#ns, #element) => #local.read_defaulted(child, #default)?, })
                            }
                            None => arms.push(quote! { (#ns, #element) => #local.read(child)?, }),
                        }
                        inits.push(quote! { #name: #local.finish(element, #element)? });
                    }
                    Codec::Array { item } => {
                        let item_ns = namespace(&item.namespace);
                        let item = &item.local;
                        slots.push(quote! { let mut #local = ::payamak::codegen::ArraySlot::new(); });
                        arms.push(quote! { (#ns, #element) => #local.read(child, #item_ns, #item)?, });
                        inits.push(quote! { #name: #local.finish(element, #element)? });
                    }
                    Codec::Repeated => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::Repeated::new(); });
                        arms.push(quote! { (#ns, #element) => #local.read(child)?, });
                        inits.push(quote! { #name: #local.finish() });
                    }
                    Codec::Raw { element: raw } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::RawSlot::new(); });
                        match raw {
                            Some(raw) => {
                                let (raw_ns, raw_local) = (namespace(&raw.namespace), &raw.local);
                                arms.push(quote! { (#raw_ns, #raw_local) => #local.read(child)?, });
                            }
                            None => other = Some(quote! { #local.read(child)? }),
                        }
                        inits.push(quote! { #name: #local.finish(element, #element)? });
                    }
                    Codec::Attribute => {
                        let ns = namespace(&field.element.namespace);
                        inits.push(quote! { #name: ::payamak::codegen::read_attribute(element, #ns, #element)? });
                    }
                    Codec::Value => {
                        inits.push(quote! { #name: ::payamak::codegen::XmlContent::read_content(element)? });
                    }
                    Codec::OtherAttributes { declared } => {
                        let declared = declared.iter().map(|attribute| {
                            let (attribute_ns, attribute) = (namespace(&attribute.namespace), &attribute.local);
                            quote! { (#attribute_ns, #attribute) }
                        });
                        inits.push(
                            quote! { #name: ::payamak::codegen::read_other_attributes(element, &[#(#declared),*]) },
                        );
                    }
                    Codec::Choice { elements } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::ChoiceSlot::new(); });
                        let patterns = elements.iter().map(|alternative| {
                            let (alternative_ns, alternative) = (namespace(&alternative.namespace), &alternative.local);
                            quote! { (#alternative_ns, #alternative) }
                        });
                        arms.push(quote! { #(#patterns)|* => #local.read(child)?, });
                        let first = elements.first().map_or("", |first| first.local.as_str());
                        inits.push(quote! { #name: #local.finish(element, #first)? });
                    }
                }
            }
            Member::Credential(slot) => {
                let ns = namespace(&slot.element.namespace);
                let local = &slot.element.local;
                let which = credential_path(slot.credential);
                arms.push(quote! { (#ns, #local) => credentials.read(#which, child)?, });
            }
            Member::Headers(headers) => {
                let name = ident(&headers.field);
                inits.push(quote! { #name: ::core::default::Default::default() });
            }
        }
    }
    let uses_credentials = members.iter().any(|member| matches!(member, Member::Credential(_)));
    let read_loop = match (arms.is_empty(), other) {
        (true, None) => quote!(),
        (true, Some(other)) => quote! {
            for child in element.children() {
                #other;
            }
        },
        (false, other) => {
            let other = other.unwrap_or_else(|| quote!({}));
            quote! {
                for child in element.children() {
                    match (child.namespace(), child.local_name()) {
                        #(#arms)*
                        _ => #other,
                    }
                }
            }
        }
    };
    let uses_element = !arms.is_empty() || members.iter().any(|member| !matches!(member, Member::Headers(_)));
    ReadBody {
        statements: quote! {
            #(#slots)*
            #read_loop
            ::core::result::Result::Ok(Self { #(#inits),* })
        },
        uses_element,
        uses_credentials,
    }
}

/// The `read_stream` function of a struct of `members`, which reads the
/// children as the cursor meets them; `None` when a member is read from the
/// element as a whole (attributes, choices, raw XML, SOAP-encoded arrays):
/// the runtime's default then reads the element into a document first.
fn read_stream_fn(members: &[Member<'_>], any_namespace: bool) -> Option<TokenStream> {
    let mut slots = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    for member in members {
        match member {
            Member::Field(field) => {
                let (name, local) = (ident(&field.ident), ident(&field.local));
                let element = &field.element.local;
                // The local name first: it tells most children apart without comparing namespaces.
                let ns = if any_namespace {
                    quote!(#element)
                } else {
                    let ns = namespace(&field.element.namespace);
                    quote!(#element if cursor.in_namespace(child, #ns))
                };
                match &field.codec {
                    Codec::Single | Codec::Typed { .. } => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::Slot::new(); });
                        match &field.default {
                            Some(default) => {
                                arms.push(quote! { #ns => #local.read_defaulted_stream(cursor, child, #default)?, })
                            }
                            None => arms.push(quote! { #ns => #local.read_stream(cursor, child)?, }),
                        }
                        inits.push(quote! { #name: #local.finish_stream(cursor, element, #element)? });
                    }
                    Codec::Array { item } => {
                        let item_ns = namespace(&item.namespace);
                        let item = &item.local;
                        slots.push(quote! { let mut #local = ::payamak::codegen::ArraySlot::new(); });
                        arms.push(quote! { #ns => #local.read_stream(cursor, child, #item_ns, #item)?, });
                        inits.push(quote! { #name: #local.finish_stream(cursor, element, #element)? });
                    }
                    Codec::Repeated => {
                        slots.push(quote! { let mut #local = ::payamak::codegen::Repeated::new(); });
                        arms.push(quote! { #ns => #local.read_stream(cursor, child)?, });
                        inits.push(quote! { #name: #local.finish() });
                    }
                    _ => return None,
                }
            }
            Member::Credential(_) => return None,
            Member::Headers(headers) => {
                let name = ident(&headers.field);
                inits.push(quote! { #name: ::core::default::Default::default() });
            }
        }
    }
    let read_loop = if arms.is_empty() {
        quote! { cursor.skip(element)?; }
    } else {
        quote! {
            while let ::core::option::Option::Some(child) = cursor.next_child(element)? {
                match cursor.local_name(child) {
                    #(#arms)*
                    _ => cursor.skip(child)?,
                }
            }
        }
    };
    Some(quote! {
        fn read_stream(
            cursor: &mut ::payamak::codegen::XmlCursor<'_>,
            element: ::payamak::codegen::XmlStart,
        ) -> ::core::result::Result<Self, ::payamak::codegen::DecodeError> {
            #(#slots)*
            #read_loop
            ::core::result::Result::Ok(Self { #(#inits),* })
        }
    })
}

/// The `XmlContent` implementation of a struct of `fields`.
pub(super) fn content_impl(ident: &Ident, fields: &[Field]) -> TokenStream {
    content_impl_of(ident, &field_members(fields), false)
}

/// The `XmlContent` implementation of a struct of `members`.
pub(super) fn content_impl_of(ident: &Ident, members: &[Member<'_>], any_namespace: bool) -> TokenStream {
    let members = members.to_vec();
    let writes = write_statements(&members);
    let writer = writer_param(&members);
    let read = read_body(&members, any_namespace);
    let element = if read.uses_element { quote!(element) } else { quote!(_element) };
    let statements = read.statements;
    let read_stream = read_stream_fn(&members, any_namespace);
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
            #read_stream
        }
    }
}
