//! The runtime surface that generated code uses. Not a public API.
//!
//! Generated code reaches everything it needs through this module (as
//! `::payamak::codegen::…`), so it compiles both inside this crate and in any
//! crate that depends on `payamak`, and never names an HTTP or XML library.

pub use crate::operation::{OperationMeta, ReceivedCredentials, ServiceMeta, XmlRequest};
pub use crate::status::StatusCode;
pub use crate::xml::{
    ArraySlot, Credential, DecodeError, Nillable, PanelDateTime, Repeated, Slot, XmlContent, XmlElement, XmlWriter,
};

#[cfg(feature = "serde")]
pub use serde;

/// Reads the text of a simple-typed element (for generated enumerations).
pub fn read_text<'a>(element: XmlElement<'a, '_>) -> Result<std::borrow::Cow<'a, str>, DecodeError> {
    element.text()
}
