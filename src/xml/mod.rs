//! The XML layer: how generated types are written to and read from SOAP bodies.
//!
//! Elements are matched on namespace URI and local name, never on prefixes;
//! unknown elements are ignored; text that XML 1.0 cannot carry is refused
//! with an [`EncodeError`] instead of being altered.

mod attributes;
mod builtins;
mod choice;
mod content;
mod cursor;
mod datetime;
mod document;
mod encoding;
mod error;
mod nillable;
mod raw;
mod reader;
mod writer;

pub use attributes::{read_attribute, read_other_attributes, AnyAttribute, AttributeField, AttributeValue, XsList};
pub use builtins::{Decimal, HexBinary, InvalidValue, QName, XsDate, XsDuration, XsTime};
pub use choice::{ChoiceField, ChoiceSlot, XmlChoice};
pub(crate) use content::store_once;
pub use content::{ArrayField, ArrayItem, ArraySlot, ElementField, Repeated, Slot, XmlContent};
pub use cursor::{XmlCursor, XmlStart};
pub use datetime::{InvalidDateTime, PanelDateTime};
pub use document::XmlDocument;
pub(crate) use document::DEFAULT_BYTE_LIMIT;
pub use encoding::{EncodedArrayField, EncodedArraySlot, SOAP_ENCODING_NAMESPACE};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use nillable::Nillable;
pub use raw::{RawField, RawSlot, RawXml};
pub use reader::XmlElement;
pub(crate) use writer::{escape_text, CredentialSlot, Encoded};
pub use writer::{is_xml_char, Credential, XmlWriter, XSI_NAMESPACE};
