//! Typed client for the SOAP web service of the "payamak panel" SMS platform.

// Generated code names this crate as `::payamak`, inside and outside it.
extern crate self as payamak;

#[doc(hidden)]
pub mod codegen;
pub mod operation;
pub mod status;
pub mod xml;

pub use xml::PanelDateTime;

#[path = "../generated/mod.rs"]
#[rustfmt::skip]
mod generated;

pub use generated::{send, status as status_codes};
pub mod recipient;
pub mod sms_parts;
pub mod soap;
pub mod error;

pub use error::Error;
pub mod client;

pub use client::{Client, ClientBuilder, Credentials, RetryPolicy};
pub use soap::SoapVersion;
