//! SOAP 1.1 encoding (section 5), as rpc/encoded services use it: accessors
//! typed with `xsi:type`, and `soapenc:Array` values.
//!
//! Reading accepts a value whatever `xsi:type` it carries, and an accessor
//! that refers to its value (`href="#id"`) is read from the element it names
//! ([`XmlElement::dereference`], applied wherever a value is read).

use super::content::{store_once, ArrayItem, ElementField};
use super::error::{DecodeError, DecodeErrorKind};
use super::nillable::Nillable;
use super::reader::XmlElement;
use super::writer::XmlWriter;

/// The SOAP 1.1 encoding namespace: `soapenc:Array`, `soapenc:arrayType`, `encodingStyle`'s value.
pub const SOAP_ENCODING_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// How a field maps to a `soapenc:Array` accessor: `Vec<E>`, `Option<Vec<E>>`,
/// `Nillable<Vec<E>>` or `Option<Nillable<Vec<E>>>`.
pub trait EncodedArrayField: Sized {
    /// Writes the accessor, typed `soapenc:Array` with its `arrayType`, and one `item` per value.
    fn write_encoded_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_type_ns: &'static str,
        item_type: &'static str,
    );
    /// Reads the items of a present accessor (already dereferenced).
    fn read_encoded_array(element: XmlElement<'_, '_>) -> Result<Self, DecodeError>;
    /// The value when the accessor is absent, or `None` when it is required.
    fn absent() -> Option<Self>;
}

fn write_items<E: ArrayItem>(
    items: &[E],
    w: &mut XmlWriter,
    ns: &'static str,
    name: &'static str,
    item_type_ns: &'static str,
    item_type: &'static str,
) {
    w.start(ns, name);
    w.xsi_type(SOAP_ENCODING_NAMESPACE, "Array");
    let item_type = w.qname_value(item_type_ns, item_type);
    w.attribute_in(SOAP_ENCODING_NAMESPACE, "arrayType", &format!("{item_type}[{}]", items.len()));
    for item in items {
        item.write_item(w, "", "item");
    }
    w.end();
}

/// Every child element is an item, whatever its name (SOAP 1.1 §5.4.2);
/// partially transmitted and sparse arrays are refused.
fn read_items<E: ArrayItem>(element: XmlElement<'_, '_>) -> Result<Vec<E>, DecodeError> {
    if let Some(offset) = element.attribute(SOAP_ENCODING_NAMESPACE, "offset") {
        return Err(element.invalid_value("SOAP-encoded array without soapenc:offset", offset));
    }
    let mut items = Vec::new();
    for child in element.children() {
        if let Some(position) = child.attribute(SOAP_ENCODING_NAMESPACE, "position") {
            return Err(child.invalid_value("item of an array without soapenc:position", position));
        }
        items.push(E::read_item(child)?);
    }
    Ok(items)
}

impl<E: ArrayItem> EncodedArrayField for Vec<E> {
    fn write_encoded_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_type_ns: &'static str,
        item_type: &'static str,
    ) {
        write_items(self, w, ns, name, item_type_ns, item_type);
    }
    fn read_encoded_array(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        if element.is_nil() {
            return Err(element.error(DecodeErrorKind::UnexpectedNil));
        }
        read_items(element)
    }
    fn absent() -> Option<Self> {
        None
    }
}

impl<E: ArrayItem> EncodedArrayField for Option<Vec<E>> {
    fn write_encoded_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_type_ns: &'static str,
        item_type: &'static str,
    ) {
        if let Some(items) = self {
            write_items(items, w, ns, name, item_type_ns, item_type);
        }
    }
    fn read_encoded_array(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        Vec::read_encoded_array(element).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<E: ArrayItem> EncodedArrayField for Nillable<Vec<E>> {
    fn write_encoded_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_type_ns: &'static str,
        item_type: &'static str,
    ) {
        match self {
            Nillable::Nil => {
                w.start(ns, name);
                w.nil();
                w.end();
            }
            Nillable::Value(items) => write_items(items, w, ns, name, item_type_ns, item_type),
        }
    }
    fn read_encoded_array(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        if element.is_nil() {
            Ok(Nillable::Nil)
        } else {
            read_items(element).map(Nillable::Value)
        }
    }
    fn absent() -> Option<Self> {
        None
    }
}

impl<E: ArrayItem> EncodedArrayField for Option<Nillable<Vec<E>>> {
    fn write_encoded_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_type_ns: &'static str,
        item_type: &'static str,
    ) {
        if let Some(value) = self {
            value.write_encoded_array(w, ns, name, item_type_ns, item_type);
        }
    }
    fn read_encoded_array(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        Nillable::read_encoded_array(element).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl XmlWriter {
    /// Writes a field like [`XmlWriter::field`], its element typed
    /// `xsi:type="{type_ns}type_local"` (an accessor of a SOAP-encoded message).
    pub fn typed_field<F: ElementField>(
        &mut self,
        ns: &'static str,
        name: &'static str,
        type_ns: &'static str,
        type_local: &'static str,
        value: &F,
    ) {
        self.pending_type = Some((type_ns, type_local));
        value.write_element(self, ns, name);
        self.pending_type = None;
    }

    /// Writes a field that maps to a `soapenc:Array` accessor of items of
    /// type `{item_type_ns}item_type`.
    pub fn encoded_array<F: EncodedArrayField>(
        &mut self,
        ns: &'static str,
        name: &'static str,
        item_type_ns: &'static str,
        item_type: &'static str,
        value: &F,
    ) {
        value.write_encoded_array(self, ns, name, item_type_ns, item_type);
    }
}

/// Collects a `soapenc:Array` accessor while a parent is read.
pub struct EncodedArraySlot<F> {
    value: Option<F>,
}

impl<F: EncodedArrayField> EncodedArraySlot<F> {
    /// An empty slot.
    pub fn new() -> Self {
        EncodedArraySlot { value: None }
    }

    /// Reads the array from its accessor `element` (or the value it refers to); a second accessor is an error.
    pub fn read(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        store_once(&mut self.value, element, || F::read_encoded_array(element.dereference()?))
    }

    /// The array read, or the absent value; a missing required accessor is an error on `parent`.
    pub fn finish(self, parent: XmlElement<'_, '_>, name: &str) -> Result<F, DecodeError> {
        match self.value {
            Some(value) => Ok(value),
            None => F::absent().ok_or_else(|| parent.missing(name)),
        }
    }
}

impl<F: EncodedArrayField> Default for EncodedArraySlot<F> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Slot, XmlContent, XmlDocument};

    /// A type that holds itself, as recursive encoded structs do.
    #[derive(Debug, Default, PartialEq)]
    struct Node {
        name: String,
        left: Option<Box<Node>>,
        right: Option<Box<Node>>,
    }

    impl XmlContent for Node {
        fn write_content(&self, w: &mut XmlWriter) {
            w.field("", "name", &self.name);
            w.field("", "left", &self.left);
            w.field("", "right", &self.right);
        }
        fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
            let (mut name, mut left, mut right) = (Slot::new(), Slot::new(), Slot::new());
            for child in element.children() {
                match child.local_name() {
                    "name" => name.read(child)?,
                    "left" => left.read(child)?,
                    "right" => right.read(child)?,
                    _ => {}
                }
            }
            Ok(Node {
                name: name.finish(element, "name")?,
                left: left.finish(element, "left")?,
                right: right.finish(element, "right")?,
            })
        }
    }

    fn read(xml: &str) -> Result<Node, DecodeError> {
        let document = XmlDocument::parse(xml)?;
        let mut node = Slot::<Node>::new();
        let root = document.root().encoded();
        let accessor = root.children().next().expect("an accessor");
        node.read(accessor)?;
        node.finish(root, "node")
    }

    #[test]
    fn nested_references_build_the_value() {
        let node = read(
            r##"<r><node href="#1"/><v id="2"><name>b</name></v><v id="1"><name>a</name><left href="#2"/><right href="#2"/></v></r>"##,
        )
        .expect("reads");
        let b = || Some(Box::new(Node { name: "b".into(), ..Node::default() }));
        assert_eq!(node, Node { name: "a".into(), left: b(), right: b() });
    }

    #[test]
    fn a_value_that_holds_itself_is_an_error_not_an_overflow() {
        let cycle = r##"<node href="#1"/><v id="1"><name>a</name><left href="#1"/></v>"##;
        // In a small message, the budget of references runs out first…
        let error = read(&format!("<r>{cycle}</r>")).unwrap_err();
        assert!(matches!(error.kind(), DecodeErrorKind::LimitExceeded(_)), "{error}");
        // …in a large one, the depth limit.
        let error = read(&format!("<r>{cycle}{}</r>", "<pad/>".repeat(2000))).unwrap_err();
        assert!(matches!(error.kind(), DecodeErrorKind::BadReference(_)), "{error}");
        assert!(error.to_string().contains("elements deep"), "{error}");
    }

    #[test]
    fn sharing_that_multiplies_the_work_is_refused() {
        // Each level refers twice to the next: 2^40 visits if followed naively.
        let levels = 40;
        let mut xml = String::from(r##"<r><node href="#l0"/>"##);
        for level in 0..levels {
            let next = level + 1;
            xml.push_str(&format!(
                r##"<v id="l{level}"><name>{level}</name><left href="#l{next}"/><right href="#l{next}"/></v>"##
            ));
        }
        xml.push_str(&format!(r#"<v id="l{levels}"><name>end</name></v></r>"#));
        let started = std::time::Instant::now();
        let error = read(&xml).unwrap_err();
        assert!(matches!(error.kind(), DecodeErrorKind::LimitExceeded(_)), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn outside_encoded_data_href_is_an_ordinary_attribute() {
        let document =
            XmlDocument::parse(r##"<r><node href="#1"><name>x</name></node><v id="1"/></r>"##).expect("parses");
        let accessor = document.root().children().next().expect("an accessor");
        let node = Node::read_content(accessor.dereference().expect("no reference followed")).expect("reads");
        assert_eq!(node.name, "x");
    }

    #[test]
    fn encoded_arrays_write_their_type_and_length() {
        let mut w = XmlWriter::with_capacity(64);
        w.encoded_array("", "values", crate::xml::writer::XSD_NAMESPACE, "int", &vec![1, 2]);
        w.encoded_array("", "none", "", "int", &None::<Vec<i32>>);
        let text = w.finish().expect("writes");
        assert_eq!(
            text,
            "<values xmlns:a1=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:type=\"a1:Array\" xmlns:a2=\"http://www.w3.org/2001/XMLSchema\" a1:arrayType=\"a2:int[2]\"><item>1</item><item>2</item></values>"
        );
    }
}
