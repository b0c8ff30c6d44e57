//! XML kept as XML: what `xs:any` matches, an `xs:anyType` element, and the
//! inline schema of a .NET `DataSet`. Each value is one whole element, with
//! the namespace declarations it needs, so it can be written anywhere.

use std::fmt;

use super::error::{DecodeError, DecodeErrorKind};
use super::writer::XmlWriter;
use super::{XmlDocument, XmlElement};

/// One element, kept as markup: a standalone, well-formed element that
/// declares every namespace it uses (also the default one, `xmlns=""` if none,
/// when an element name in it has no prefix).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RawXml(String);

impl RawXml {
    /// Checks that `markup` is one well-formed element and keeps it, standalone:
    /// when an element name in it has no prefix and there is no default
    /// namespace declaration, it gets `xmlns=""`, so that element is in no
    /// namespace wherever it is written.
    pub fn new(markup: &str) -> Result<Self, DecodeError> {
        let document = XmlDocument::parse(markup)?;
        Ok(RawXml::read(document.root()))
    }

    /// The element read as it stands, made standalone.
    pub fn read(element: XmlElement<'_, '_>) -> Self {
        RawXml(element.standalone_markup())
    }

    /// The markup (empty for the default value).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The element's `{namespace}local` name, or `None` for the (empty) default value.
    pub fn name(&self) -> Option<String> {
        let document = XmlDocument::parse(&self.0).ok()?;
        Some(document.root().expanded_name())
    }
}

impl fmt::Debug for RawXml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawXml({:?})", self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RawXml {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let markup = String::deserialize(deserializer)?;
        if markup.is_empty() {
            return Ok(RawXml::default());
        }
        RawXml::new(&markup).map_err(serde::de::Error::custom)
    }
}

/// How a field maps to raw elements: `RawXml` (one, required),
/// `Option<RawXml>` (at most one) or `Vec<RawXml>` (any number).
pub trait RawField: Sized + Default {
    /// Writes the elements.
    fn write_raw(&self, w: &mut XmlWriter);
    /// Adds one element read.
    fn push(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError>;
    /// True when the field may hold no element.
    const OPTIONAL: bool;
}

impl RawField for RawXml {
    fn write_raw(&self, w: &mut XmlWriter) {
        w.raw(&self.0);
    }
    fn push(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        if !self.0.is_empty() {
            return Err(element.error(DecodeErrorKind::DuplicateElement(element.local_name().to_owned())));
        }
        *self = RawXml::read(element);
        Ok(())
    }
    const OPTIONAL: bool = false;
}

impl RawField for Option<RawXml> {
    fn write_raw(&self, w: &mut XmlWriter) {
        if let Some(raw) = self {
            raw.write_raw(w);
        }
    }
    fn push(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        if self.is_some() {
            return Err(element.error(DecodeErrorKind::DuplicateElement(element.local_name().to_owned())));
        }
        *self = Some(RawXml::read(element));
        Ok(())
    }
    const OPTIONAL: bool = true;
}

impl RawField for Vec<RawXml> {
    fn write_raw(&self, w: &mut XmlWriter) {
        self.iter().for_each(|raw| raw.write_raw(w));
    }
    fn push(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        self.push(RawXml::read(element));
        Ok(())
    }
    const OPTIONAL: bool = true;
}

/// Collects the elements of a [`RawField`] while a parent is read.
pub struct RawSlot<F> {
    value: F,
    seen: bool,
}

impl<F: RawField> RawSlot<F> {
    /// Nothing read yet.
    pub fn new() -> Self {
        RawSlot { value: F::default(), seen: false }
    }

    /// Keeps `element`.
    pub fn read(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        self.seen = true;
        self.value.push(element)
    }

    /// The elements read; a missing required one is an error on `parent` naming `name`.
    pub fn finish(self, parent: XmlElement<'_, '_>, name: &str) -> Result<F, DecodeError> {
        if self.seen || F::OPTIONAL {
            Ok(self.value)
        } else {
            Err(parent.missing(name))
        }
    }
}

impl<F: RawField> Default for RawSlot<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// Writes the raw elements of a field (`xs:any`, `xs:anyType`, a DataSet's schema).
    pub fn raw_field<F: RawField>(&mut self, value: &F) {
        value.write_raw(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_child(xml: &str, test: impl FnOnce(XmlElement<'_, '_>)) {
        let document = XmlDocument::parse(xml).expect("a document");
        test(document.root().first_child().expect("a child"));
    }

    #[test]
    fn read_elements_declare_what_they_inherit() {
        let xml = r#"<a xmlns="urn:a" xmlns:p="urn:p" xmlns:q="urn:q"><p:b q:x="1"><c/></p:b></a>"#;
        first_child(xml, |b| {
            let raw = RawXml::read(b);
            assert_eq!(raw.as_str(), r#"<p:b xmlns="urn:a" xmlns:p="urn:p" xmlns:q="urn:q" q:x="1"><c/></p:b>"#);
            // Read again from another document, it is the same.
            let again = XmlDocument::parse(raw.as_str()).map(|document| RawXml::read(document.root()));
            assert_eq!(again.as_ref(), Ok(&raw));
            assert_eq!(raw.name().as_deref(), Some("{urn:p}b"));
        });
        // No default namespace in scope: it is undeclared, so the element stays in none wherever it goes.
        first_child(r#"<a xmlns:unused="urn:u"><b xmlns:p="urn:p"><p:c/></b></a>"#, |b| {
            assert_eq!(RawXml::read(b).as_str(), r#"<b xmlns="" xmlns:p="urn:p"><p:c/></b>"#);
        });
        // Declarations of its own are not repeated.
        first_child(r#"<a xmlns="urn:a"><b xmlns="urn:b"/></a>"#, |b| {
            assert_eq!(RawXml::read(b).as_str(), r#"<b xmlns="urn:b"/>"#);
        });
    }

    #[test]
    fn written_raw_elements_read_back_the_same() {
        let raw = RawXml::new(r#"<x:item xmlns:x="urn:x" a="&amp;">text<y/></x:item>"#).expect("well-formed");
        let mut w = XmlWriter::with_capacity(128);
        w.start("urn:outer", "outer");
        w.raw_field(&vec![raw.clone(), raw.clone()]);
        w.end();
        let xml = w.finish().expect("written");
        let document = XmlDocument::parse(&xml).expect("well-formed");
        let mut slot = RawSlot::<Vec<RawXml>>::new();
        for child in document.root().children() {
            slot.read(child).expect("kept");
        }
        assert_eq!(slot.finish(document.root(), "any").expect("read"), [raw.clone(), raw]);
        assert!(RawXml::new("<a>").is_err() && RawXml::new("text").is_err());
    }
}
