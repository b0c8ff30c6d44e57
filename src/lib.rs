//! A typed Rust client for the SOAP web service of the "payamak panel" SMS platform.
//!
//! The panel (an ASP.NET ASMX service) exposes `post/send.asmx` (credit, send,
//! schedule, delivery) and `post/IncomingMessages.asmx` (inbox and outbox lists,
//! the account's numbers, read flags). This crate gives you:
//!
//! - [`Client`] (async) and [`blocking::Client`] with one typed method per
//!   operation, credentials injected, SOAP 1.1 or 1.2, timeouts, failover
//!   across base URLs and retries that never send an SMS twice;
//! - typed results: status enums with the guide's English and Persian text
//!   ([`status_codes`]), a recId per recipient, Tehran-time dates ([`PanelDateTime`]);
//! - helpers the guide implies: [`Client::send_bulk`] (any number of
//!   recipients, 100 per call), [`recipient`] number normalisation (Persian and
//!   Arabic-Indic digits too), the [`sms_parts`] counter and a
//!   [`delivery::DeliveryTracker`];
//! - the raw generated request/response types ([`send`], [`incoming_messages`])
//!   for anything else, callable with [`Client::call`];
//! - [`server`]: the same codec from the other side, for emulators and test
//!   doubles of the panel (the `payamak-emulator` crate is built on it).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use payamak::{Client, Sms};
//!
//! let client = Client::builder()
//!     .base_url("https://panel.example.com/post/")
//!     .credentials("user", "password")
//!     .build()?;
//! let sms = Sms::new("5000123456", "سلام!").to(["09121234567"])?;
//! let report = client.send(&sms).await?;
//! println!("recIds: {:?}", report.rec_ids());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Generated code names this crate as `::payamak`, inside and outside it.
extern crate self as payamak;

pub mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
pub mod bulk;
pub mod campaign;
pub mod client;
#[doc(hidden)]
pub mod codegen;
pub mod delivery;
pub mod error;
mod operation;
pub mod recipient;
pub mod server;
pub mod sms;
pub mod sms_parts;
mod soap;
pub mod status;
pub mod transport;
pub mod wsdl;
mod xml;

#[path = "../generated/mod.rs"]
#[rustfmt::skip]
mod generated;

pub use auth::Credentials;
pub use client::api::{Folder, Message, PeriodType};
pub use client::{Client, ClientBuilder, RetryPolicy};
pub use error::Error;
pub use generated::status as status_codes;
// Every service module (`send`, `incoming_messages`, and any a regenerated WSDL adds);
// the generated `status` module is `status_codes`, since `status` holds the trait.
pub use generated::*;
pub use operation::{BodyStyle, OperationMeta, ServiceMeta, XmlRequest};
pub use sms::{RecipientOutcome, SendReport, Sms};
pub use soap::SoapVersion;
pub use xml::{Nillable, PanelDateTime};

/// The reqwest version the default transport uses, for [`ClientBuilder::http_client`].
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "blocking"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
