//! How Rust values map to element content, and how fields map to elements.
//!
//! Generated code is declarative: for each field it names the element and
//! calls one of [`XmlWriter::field`], [`XmlWriter::array`] or
//! [`XmlWriter::repeated`]; the field's Rust type (`T`, `Option<T>`,
//! `Nillable<T>`, `Vec<T>`, …) decides cardinality and `xsi:nil` handling.

use base64::Engine as _;

use super::error::{DecodeError, DecodeErrorKind};
use super::nillable::Nillable;
use super::writer::XmlWriter;
use super::{XmlCursor, XmlDocument, XmlElement, XmlStart};

/// A type that is the content of one element: text for simple types, child
/// elements for complex types.
pub trait XmlContent: Sized {
    /// Writes the content (not the element's own tags).
    fn write_content(&self, w: &mut XmlWriter);
    /// Reads the content of `element`.
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError>;
    /// Reads the content of `element`, just opened by `cursor`, and reads past
    /// its end. By default the element is read into a document of its own and
    /// that is read with [`XmlContent::read_content`]; generated code and the
    /// built-in types read the events as they come.
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        cursor.buffered(element, Self::read_content)
    }
    /// Whether the value is its element's text alone (numbers, strings…), so
    /// that [`XmlContent::from_leaf_text`] reads it: a list of them is then read
    /// leaf by leaf, without the events in between.
    const FROM_TEXT: bool = false;
    /// The value written as `text` (entities replaced) in `element`, for a type
    /// that is [`FROM_TEXT`](XmlContent::FROM_TEXT); any other refuses it.
    fn from_leaf_text(cursor: &XmlCursor<'_>, element: XmlStart, text: &str) -> Result<Self, DecodeError> {
        let _ = text;
        Err(not_from_text(cursor, element))
    }
    /// Writes the element `name` in `ns` holding this content: its start tag,
    /// [`XmlContent::write_content`] and its end tag (text writes it in one
    /// step). An override writes exactly what these would: it goes through
    /// [`XmlWriter::start`] whenever that has more to write (a type to declare,
    /// a namespace), as [`XmlWriter::text_element`] does.
    fn write_element_of(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        w.start(ns, name);
        self.write_content(w);
        w.end();
    }
}

/// How a field maps to at most one element: `T` (required), `Option<T>`
/// (`minOccurs="0"`), `Nillable<T>` (`nillable="true"`), `Option<Nillable<T>>` (both).
pub trait ElementField: Sized {
    /// Writes the element named `name`, or nothing when the value is absent.
    fn write_element(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str);
    /// Reads the value from a present element.
    fn read_element(element: XmlElement<'_, '_>) -> Result<Self, DecodeError>;
    /// Reads the value from a present element, just opened by `cursor`.
    fn read_element_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError>;
    /// The value when the element is absent, or `None` when it is required.
    fn absent() -> Option<Self>;
}

/// An item of an array: `T`, or `Option<T>` when items are nillable (`None` = nil).
pub trait ArrayItem: Sized {
    /// Writes one item element.
    fn write_item(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str);
    /// Reads one item element.
    fn read_item(element: XmlElement<'_, '_>) -> Result<Self, DecodeError>;
    /// Reads one item element, just opened by `cursor`.
    fn read_item_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError>;
    /// Whether an item written `<name>text</name>` is read from its text alone
    /// ([`ArrayItem::item_from_text`]).
    const FROM_TEXT: bool = false;
    /// The item written as `text` (entities replaced) in the leaf `element`,
    /// for an item that is [`FROM_TEXT`](ArrayItem::FROM_TEXT).
    fn item_from_text(cursor: &XmlCursor<'_>, element: XmlStart, text: &str) -> Result<Self, DecodeError> {
        let _ = text;
        Err(not_from_text(cursor, element))
    }
}

/// What a type that is not read from its text alone answers when asked to be.
fn not_from_text(cursor: &XmlCursor<'_>, element: XmlStart) -> DecodeError {
    cursor.error(element, DecodeErrorKind::Malformed("this element is not read from its text alone".into()))
}

/// How a field maps to an `ArrayOfX` wrapper element holding repeated items:
/// `Vec<E>`, `Option<Vec<E>>`, `Nillable<Vec<E>>` or `Option<Nillable<Vec<E>>>`.
pub trait ArrayField: Sized {
    /// Writes the wrapper element and its items.
    fn write_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_ns: &'static str,
        item: &'static str,
    );
    /// Reads the wrapper element's items; other children are ignored.
    fn read_array(element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<Self, DecodeError>;
    /// Reads the items of the wrapper `element`, just opened by `cursor`; other children are skipped.
    fn read_array_stream(
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        item_ns: &str,
        item: &str,
    ) -> Result<Self, DecodeError>;
    /// The value when the wrapper element is absent, or `None` when it is required.
    fn absent() -> Option<Self>;
}

fn write_value<T: XmlContent>(value: &T, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
    value.write_element_of(w, ns, name);
}

fn write_nil(w: &mut XmlWriter, ns: &'static str, name: &'static str) {
    w.start(ns, name);
    w.nil();
    w.end();
}

fn read_not_nil<T: XmlContent>(element: XmlElement<'_, '_>) -> Result<T, DecodeError> {
    let element = element.dereference()?;
    if element.is_nil() {
        return Err(element.error(DecodeErrorKind::UnexpectedNil));
    }
    T::read_content(element)
}

fn read_nillable<T: XmlContent>(element: XmlElement<'_, '_>) -> Result<Nillable<T>, DecodeError> {
    let element = element.dereference()?;
    if element.is_nil() {
        Ok(Nillable::Nil)
    } else {
        T::read_content(element).map(Nillable::Value)
    }
}

fn stream_not_nil<T: XmlContent>(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<T, DecodeError> {
    if cursor.is_nil(element) {
        return Err(cursor.error(element, DecodeErrorKind::UnexpectedNil));
    }
    T::read_stream(cursor, element)
}

fn stream_nillable<T: XmlContent>(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Nillable<T>, DecodeError> {
    if cursor.is_nil(element) {
        cursor.skip(element)?;
        Ok(Nillable::Nil)
    } else {
        T::read_stream(cursor, element).map(Nillable::Value)
    }
}

impl<T: XmlContent> ElementField for T {
    fn write_element(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        write_value(self, w, ns, name);
    }
    fn read_element(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        read_not_nil(element)
    }
    fn read_element_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_not_nil(cursor, element)
    }
    fn absent() -> Option<Self> {
        None
    }
}

impl<T: XmlContent> ElementField for Option<T> {
    fn write_element(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        if let Some(value) = self {
            write_value(value, w, ns, name);
        }
    }
    fn read_element(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        read_not_nil(element).map(Some)
    }
    fn read_element_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_not_nil(cursor, element).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: XmlContent> ElementField for Nillable<T> {
    fn write_element(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        match self {
            Nillable::Nil => write_nil(w, ns, name),
            Nillable::Value(value) => write_value(value, w, ns, name),
        }
    }
    fn read_element(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        read_nillable(element)
    }
    fn read_element_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_nillable(cursor, element)
    }
    fn absent() -> Option<Self> {
        None
    }
}

impl<T: XmlContent> ElementField for Option<Nillable<T>> {
    fn write_element(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        if let Some(value) = self {
            value.write_element(w, ns, name);
        }
    }
    fn read_element(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        read_nillable(element).map(Some)
    }
    fn read_element_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_nillable(cursor, element).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: XmlContent> ArrayItem for T {
    fn write_item(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        write_value(self, w, ns, name);
    }
    fn read_item(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        read_not_nil(element)
    }
    fn read_item_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_not_nil(cursor, element)
    }
    const FROM_TEXT: bool = T::FROM_TEXT;
    fn item_from_text(cursor: &XmlCursor<'_>, element: XmlStart, text: &str) -> Result<Self, DecodeError> {
        T::from_leaf_text(cursor, element, text)
    }
}

impl<T: XmlContent> ArrayItem for Option<T> {
    fn write_item(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        match self {
            Some(value) => write_value(value, w, ns, name),
            None => write_nil(w, ns, name),
        }
    }
    fn read_item(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        read_nillable(element).map(Nillable::into_option)
    }
    fn read_item_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_nillable(cursor, element).map(Nillable::into_option)
    }
    // A leaf read from its text has no attributes: it is not nil.
    const FROM_TEXT: bool = T::FROM_TEXT;
    fn item_from_text(cursor: &XmlCursor<'_>, element: XmlStart, text: &str) -> Result<Self, DecodeError> {
        T::from_leaf_text(cursor, element, text).map(Some)
    }
}

fn write_items<E: ArrayItem>(
    items: &[E],
    w: &mut XmlWriter,
    ns: &'static str,
    name: &'static str,
    item_ns: &'static str,
    item: &'static str,
) {
    w.start(ns, name);
    for value in items {
        value.write_item(w, item_ns, item);
    }
    w.end();
}

fn read_items<E: ArrayItem>(element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<Vec<E>, DecodeError> {
    let mut items = Vec::new();
    for child in element.children() {
        if child.is(item_ns, item) {
            items.push(E::read_item(child)?);
        }
    }
    Ok(items)
}

fn stream_items<E: ArrayItem>(
    cursor: &mut XmlCursor<'_>,
    element: XmlStart,
    item_ns: &str,
    item: &str,
) -> Result<Vec<E>, DecodeError> {
    let mut items = Vec::new();
    // The item just read, which the next one is most often written like.
    let mut last: Option<XmlStart> = None;
    loop {
        // Read whole, its text with it: no events, no element left open.
        let leaf = if E::FROM_TEXT { last.and_then(|last| cursor.next_leaf_like(last)) } else { None };
        let (child, value) = match leaf {
            Some((child, text)) => (child, E::item_from_text(cursor, child, &text?)?),
            None => {
                let child = match last.and_then(|last| cursor.next_like(last)) {
                    Some(child) => child,
                    None => match cursor.next_child(element)? {
                        Some(child) if cursor.is(child, item_ns, item) => child,
                        Some(child) => {
                            cursor.skip(child)?;
                            last = None;
                            continue;
                        }
                        None => break,
                    },
                };
                (child, E::read_item_stream(cursor, child)?)
            }
        };
        cursor.reserve_item(&mut items);
        items.push(value);
        last = Some(child);
    }
    Ok(items)
}

impl<E: ArrayItem> ArrayField for Vec<E> {
    fn write_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_ns: &'static str,
        item: &'static str,
    ) {
        write_items(self, w, ns, name, item_ns, item);
    }
    fn read_array(element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<Self, DecodeError> {
        if element.is_nil() {
            return Err(element.error(DecodeErrorKind::UnexpectedNil));
        }
        read_items(element, item_ns, item)
    }
    fn read_array_stream(
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        item_ns: &str,
        item: &str,
    ) -> Result<Self, DecodeError> {
        if cursor.is_nil(element) {
            return Err(cursor.error(element, DecodeErrorKind::UnexpectedNil));
        }
        stream_items(cursor, element, item_ns, item)
    }
    fn absent() -> Option<Self> {
        None
    }
}

impl<E: ArrayItem> ArrayField for Option<Vec<E>> {
    fn write_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_ns: &'static str,
        item: &'static str,
    ) {
        if let Some(items) = self {
            write_items(items, w, ns, name, item_ns, item);
        }
    }
    fn read_array(element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<Self, DecodeError> {
        Vec::<E>::read_array(element, item_ns, item).map(Some)
    }
    fn read_array_stream(
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        item_ns: &str,
        item: &str,
    ) -> Result<Self, DecodeError> {
        Vec::<E>::read_array_stream(cursor, element, item_ns, item).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<E: ArrayItem> ArrayField for Nillable<Vec<E>> {
    fn write_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_ns: &'static str,
        item: &'static str,
    ) {
        match self {
            Nillable::Nil => write_nil(w, ns, name),
            Nillable::Value(items) => write_items(items, w, ns, name, item_ns, item),
        }
    }
    fn read_array(element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<Self, DecodeError> {
        if element.is_nil() {
            Ok(Nillable::Nil)
        } else {
            read_items(element, item_ns, item).map(Nillable::Value)
        }
    }
    fn read_array_stream(
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        item_ns: &str,
        item: &str,
    ) -> Result<Self, DecodeError> {
        if cursor.is_nil(element) {
            cursor.skip(element)?;
            Ok(Nillable::Nil)
        } else {
            stream_items(cursor, element, item_ns, item).map(Nillable::Value)
        }
    }
    fn absent() -> Option<Self> {
        None
    }
}

impl<E: ArrayItem> ArrayField for Option<Nillable<Vec<E>>> {
    fn write_array(
        &self,
        w: &mut XmlWriter,
        ns: &'static str,
        name: &'static str,
        item_ns: &'static str,
        item: &'static str,
    ) {
        if let Some(value) = self {
            value.write_array(w, ns, name, item_ns, item);
        }
    }
    fn read_array(element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<Self, DecodeError> {
        Nillable::<Vec<E>>::read_array(element, item_ns, item).map(Some)
    }
    fn read_array_stream(
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        item_ns: &str,
        item: &str,
    ) -> Result<Self, DecodeError> {
        Nillable::<Vec<E>>::read_array_stream(cursor, element, item_ns, item).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl XmlWriter {
    /// Writes a field that maps to at most one element.
    pub fn field<F: ElementField>(&mut self, ns: &'static str, name: &'static str, value: &F) {
        value.write_element(self, ns, name);
    }

    /// Writes a field that maps to an `ArrayOfX` wrapper element.
    pub fn array<F: ArrayField>(
        &mut self,
        ns: &'static str,
        name: &'static str,
        item_ns: &'static str,
        item: &'static str,
        value: &F,
    ) {
        value.write_array(self, ns, name, item_ns, item);
    }

    /// Writes a field that maps to a directly repeated element (`maxOccurs` > 1).
    pub fn repeated<E: ArrayItem>(&mut self, ns: &'static str, name: &'static str, items: &[E]) {
        for value in items {
            value.write_item(self, ns, name);
        }
    }
}

/// Stores a single-occurrence value; a second occurrence is an error on `element`.
pub(crate) fn store_once<T>(
    slot: &mut Option<T>,
    element: XmlElement<'_, '_>,
    read: impl FnOnce() -> Result<T, DecodeError>,
) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(element.error(DecodeErrorKind::DuplicateElement(element.local_name().to_owned())));
    }
    *slot = Some(read()?);
    Ok(())
}

/// The value read, or the absent value; a missing required element is an error on `parent`.
fn value_or_absent<T>(
    value: Option<T>,
    absent: Option<T>,
    parent: XmlElement<'_, '_>,
    name: &str,
) -> Result<T, DecodeError> {
    match value {
        Some(value) => Ok(value),
        None => absent.ok_or_else(|| parent.missing(name)),
    }
}

fn duplicate(cursor: &XmlCursor<'_>, element: XmlStart) -> DecodeError {
    cursor.error(element, DecodeErrorKind::DuplicateElement(cursor.local_name(element).to_owned()))
}

fn stream_value_or_absent<T>(
    value: Option<T>,
    absent: Option<T>,
    cursor: &XmlCursor<'_>,
    parent: XmlStart,
    name: &str,
) -> Result<T, DecodeError> {
    match value {
        Some(value) => Ok(value),
        None => absent.ok_or_else(|| cursor.missing(parent, name)),
    }
}

/// Reads the text of `element`, just opened by `cursor`, as a value `parse` accepts.
pub(crate) fn stream_parsed<T>(
    cursor: &mut XmlCursor<'_>,
    element: XmlStart,
    expected: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, DecodeError> {
    let text = cursor.read_text(element)?;
    parse(&text).ok_or_else(|| cursor.invalid_value(element, expected, &text))
}

/// Collects the element of an [`ElementField`] while a parent is read.
pub struct Slot<F> {
    value: Option<F>,
}

impl<F: ElementField> Slot<F> {
    /// An empty slot.
    pub fn new() -> Self {
        Slot { value: None }
    }

    /// Reads the field from `element`; a second occurrence is an error.
    pub fn read(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        store_once(&mut self.value, element, || F::read_element(element))
    }

    /// The value read, or the absent value; a missing required element is an error on `parent`.
    pub fn finish(self, parent: XmlElement<'_, '_>, name: &str) -> Result<F, DecodeError> {
        value_or_absent(self.value, F::absent(), parent, name)
    }

    /// Reads the field from `element`, just opened by `cursor`; a second occurrence is an error.
    pub fn read_stream(&mut self, cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<(), DecodeError> {
        if self.value.is_some() {
            return Err(duplicate(cursor, element));
        }
        self.value = Some(F::read_element_stream(cursor, element)?);
        Ok(())
    }

    /// The value read, or the absent value; a missing required element is an error on `parent`.
    pub fn finish_stream(self, cursor: &XmlCursor<'_>, parent: XmlStart, name: &str) -> Result<F, DecodeError> {
        stream_value_or_absent(self.value, F::absent(), cursor, parent, name)
    }

    /// [`Slot::read_defaulted`] of `element`, just opened by `cursor`.
    pub fn read_defaulted_stream(
        &mut self,
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        default: &str,
    ) -> Result<(), DecodeError> {
        cursor.buffered(element, |element| self.read_defaulted(element, default))
    }

    /// Reads the field from `element`; an empty element stands for `default`
    /// (an element's `default` or `fixed` value in the schema).
    pub fn read_defaulted(&mut self, element: XmlElement<'_, '_>, default: &str) -> Result<(), DecodeError> {
        let element = element.dereference()?;
        let empty = element.first_child().is_none() && !element.is_nil() && element.text()?.is_empty();
        if !empty {
            return self.read(element);
        }
        let markup = format!("<default>{}</default>", super::escape_text(default));
        let document = XmlDocument::parse(&markup)?;
        store_once(&mut self.value, element, || F::read_element(document.root()))
    }
}

impl<F: ElementField> Default for Slot<F> {
    fn default() -> Self {
        Self::new()
    }
}

/// Collects the wrapper element of an [`ArrayField`] while a parent is read.
pub struct ArraySlot<F> {
    value: Option<F>,
}

impl<F: ArrayField> ArraySlot<F> {
    /// An empty slot.
    pub fn new() -> Self {
        ArraySlot { value: None }
    }

    /// Reads the array from its wrapper `element`; a second wrapper is an error.
    pub fn read(&mut self, element: XmlElement<'_, '_>, item_ns: &str, item: &str) -> Result<(), DecodeError> {
        store_once(&mut self.value, element, || F::read_array(element.dereference()?, item_ns, item))
    }

    /// Reads the array from its wrapper `element`, just opened by `cursor`; a second wrapper is an error.
    pub fn read_stream(
        &mut self,
        cursor: &mut XmlCursor<'_>,
        element: XmlStart,
        item_ns: &str,
        item: &str,
    ) -> Result<(), DecodeError> {
        if self.value.is_some() {
            return Err(duplicate(cursor, element));
        }
        self.value = Some(F::read_array_stream(cursor, element, item_ns, item)?);
        Ok(())
    }

    /// The array read, or the absent value; a missing required wrapper is an error on `parent`.
    pub fn finish_stream(self, cursor: &XmlCursor<'_>, parent: XmlStart, name: &str) -> Result<F, DecodeError> {
        stream_value_or_absent(self.value, F::absent(), cursor, parent, name)
    }

    /// The array read, or the absent value; a missing required wrapper is an error on `parent`.
    pub fn finish(self, parent: XmlElement<'_, '_>, name: &str) -> Result<F, DecodeError> {
        value_or_absent(self.value, F::absent(), parent, name)
    }
}

impl<F: ArrayField> Default for ArraySlot<F> {
    fn default() -> Self {
        Self::new()
    }
}

/// Collects the occurrences of a directly repeated element while a parent is read.
pub struct Repeated<E> {
    items: Vec<E>,
}

impl<E: ArrayItem> Repeated<E> {
    /// No items yet.
    pub fn new() -> Self {
        Repeated { items: Vec::new() }
    }

    /// Reads one occurrence.
    pub fn read(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        self.items.push(E::read_item(element)?);
        Ok(())
    }

    /// Reads one occurrence, just opened by `cursor`.
    pub fn read_stream(&mut self, cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<(), DecodeError> {
        let value = E::read_item_stream(cursor, element)?;
        cursor.reserve_item(&mut self.items);
        self.items.push(value);
        Ok(())
    }

    /// The items read, in document order.
    pub fn finish(self) -> Vec<E> {
        self.items
    }
}

impl<E: ArrayItem> Default for Repeated<E> {
    fn default() -> Self {
        Self::new()
    }
}

// Scalars. XML Schema's whitespace facet is `collapse` for every type below
// except `string`, so their text is trimmed before parsing.

impl XmlContent for String {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text(self);
    }
    fn write_element_of(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        w.text_element(ns, name, self);
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        element.text().map(|text| text.into_owned())
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        cursor.read_text(element).map(|text| text.into_owned())
    }
    const FROM_TEXT: bool = true;
    fn from_leaf_text(_: &XmlCursor<'_>, _: XmlStart, text: &str) -> Result<Self, DecodeError> {
        Ok(text.to_owned())
    }
}

macro_rules! integer_content {
    ($($ty:ty => $xsd:literal),* $(,)?) => {$(
        impl XmlContent for $ty {
            fn write_content(&self, w: &mut XmlWriter) {
                w.text_display(self);
            }
            fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
                let text = element.text()?;
                text.trim().parse().map_err(|_| element.invalid_value($xsd, &text))
            }
            fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
                let text = cursor.read_text(element)?;
                Self::from_leaf_text(cursor, element, &text)
            }
            const FROM_TEXT: bool = true;
            fn from_leaf_text(cursor: &XmlCursor<'_>, element: XmlStart, text: &str) -> Result<Self, DecodeError> {
                trimmed(text).parse().map_err(|_| cursor.invalid_value(element, $xsd, text))
            }
        }
    )*};
}

/// `text.trim()`, skipped when neither end can be white space (most numbers).
fn trimmed(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

integer_content!(i8 => "xs:byte", i16 => "xs:short", i32 => "xs:int", i64 => "xs:long", u8 => "xs:unsignedByte", u16 => "xs:unsignedShort", u32 => "xs:unsignedInt", u64 => "xs:unsignedLong", i128 => "xs:integer", u128 => "xs:nonNegativeInteger");

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

impl XmlContent for bool {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text_plain(if *self { "true" } else { "false" });
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        parse_bool(&text).ok_or_else(|| element.invalid_value("xs:boolean", &text))
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_parsed(cursor, element, "xs:boolean", parse_bool)
    }
}

/// An `xs:float` or `xs:double`.
fn parse_float<F: std::str::FromStr + From<f32>>(text: &str) -> Option<F> {
    match text.trim() {
        "INF" | "+INF" => Some(F::from(f32::INFINITY)),
        "-INF" => Some(F::from(f32::NEG_INFINITY)),
        "NaN" => Some(F::from(f32::NAN)),
        // Rust also accepts "inf", "infinity" and "nan", which XML Schema does not.
        other if other.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') => None,
        other => other.parse().ok(),
    }
}

macro_rules! float_content {
    ($($ty:ty => $xsd:literal),* $(,)?) => {$(
        impl XmlContent for $ty {
            fn write_content(&self, w: &mut XmlWriter) {
                if self.is_nan() {
                    w.text_plain("NaN");
                } else if self.is_infinite() {
                    w.text_plain(if *self > 0.0 { "INF" } else { "-INF" });
                } else {
                    w.text_display(self);
                }
            }
            fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
                let text = element.text()?;
                parse_float(&text).ok_or_else(|| element.invalid_value($xsd, &text))
            }
            fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
                stream_parsed(cursor, element, $xsd, parse_float)
            }
        }
    )*};
}

float_content!(f32 => "xs:float", f64 => "xs:double");

/// `xs:base64Binary` text, which may be broken by white space (into lines, for one).
pub(crate) fn parse_base64(text: &str) -> Option<Vec<u8>> {
    let engine = &base64::engine::general_purpose::STANDARD;
    if !text.bytes().any(|b| b.is_ascii_whitespace()) {
        return engine.decode(text).ok();
    }
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    engine.decode(compact).ok()
}

/// `xs:base64Binary`.
impl XmlContent for Vec<u8> {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text_plain(&base64::engine::general_purpose::STANDARD.encode(self));
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        parse_base64(&text).ok_or_else(|| element.invalid_value("xs:base64Binary", &text))
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        stream_parsed(cursor, element, "xs:base64Binary", parse_base64)
    }
}

/// A field that closes a cycle of types holding each other: the box is invisible on the wire.
impl<T: XmlContent> XmlContent for Box<T> {
    fn write_content(&self, w: &mut XmlWriter) {
        T::write_content(self, w);
    }
    fn write_element_of(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        T::write_element_of(self, w, ns, name);
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        T::read_content(element).map(Box::new)
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        T::read_stream(cursor, element).map(Box::new)
    }
}

/// An element with no content (an empty complex type).
impl XmlContent for () {
    fn write_content(&self, _: &mut XmlWriter) {}
    fn read_content(_: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        Ok(())
    }
    fn read_stream(cursor: &mut XmlCursor<'_>, element: XmlStart) -> Result<Self, DecodeError> {
        cursor.skip(element)
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_base64, ArrayField};
    use crate::xml::{XmlCursor, XmlDocument};

    /// The items of the root list `xml`, read as a stream and from the tree.
    fn items<E: super::ArrayItem + PartialEq + std::fmt::Debug>(xml: &str) -> Result<Vec<E>, String> {
        let mut cursor = XmlCursor::new(xml).map_err(|error| error.to_string())?;
        let root = cursor.root();
        let streamed =
            Vec::<E>::read_array_stream(&mut cursor, root, "urn:i", "long").map_err(|error| error.to_string());
        let streamed = streamed.and_then(|items| cursor.finish().map(|()| items).map_err(|error| error.to_string()));
        let document = XmlDocument::parse(xml).map_err(|error| error.to_string())?;
        let tree = Vec::<E>::read_array(document.root(), "urn:i", "long").map_err(|error| error.to_string());
        assert_eq!(streamed, tree, "{xml}");
        streamed
    }

    #[test]
    fn list_items_written_alike_or_not_are_read_as_the_tree_reads_them() {
        let list = |body: &str| format!(r#"<list xmlns="urn:i" xmlns:p="urn:i" xmlns:q="urn:other">{body}</list>"#);
        let read = |body: &str| items::<i64>(&list(body));
        assert_eq!(read("<long>1</long><long>22</long><long>333</long>"), Ok(vec![1, 22, 333]));
        // Another prefix of the same namespace, then back; white space between; an empty tag; a comment.
        assert_eq!(
            read("<long>1</long><p:long>2</p:long><long>3</long> <long>4</long><long>5</long>"),
            Ok(vec![1, 2, 3, 4, 5])
        );
        assert_eq!(read("<p:long>1</p:long><p:long>2</p:long><!-- c --><p:long>3</p:long>"), Ok(vec![1, 2, 3]));
        // Another element between items is skipped; one of another namespace and the same name too.
        assert_eq!(
            read("<long>1</long><other>x</other><long>2</long><q:long>9</q:long><long>3</long>"),
            Ok(vec![1, 2, 3])
        );
        // A prefix bound again on one item: its own namespace.
        assert_eq!(
            read(r#"<p:long>1</p:long><p:long xmlns:p="urn:other">9</p:long><p:long>2</p:long>"#),
            Ok(vec![1, 2])
        );
        // Attributes, entities, CDATA and bad values are read, or refused, as the tree does.
        assert_eq!(
            read(r#"<long>1</long><long a="b">2</long><long>&#51;</long><long><![CDATA[4]]></long>"#),
            Ok(vec![1, 2, 3, 4])
        );
        assert!(read("<long>1</long><long>x</long>").is_err());
        assert!(read("<long>1</long><long></long>").is_err());
        assert!(read("<long>1</long><long><b/></long>").is_err());
        // Nillable items: a nil one among them.
        let xsi = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;
        let nillable =
            format!(r#"<list xmlns="urn:i" {xsi}><long>1</long><long xsi:nil="true"/><long>3</long></list>"#);
        assert_eq!(items::<Option<i64>>(&nillable), Ok(vec![Some(1), None, Some(3)]));
        let strings = r#"<list xmlns="urn:i"><long>a</long><long></long><long>c&amp;d</long><long/></list>"#;
        assert_eq!(items::<String>(strings), Ok(vec!["a".into(), String::new(), "c&d".into(), String::new()]));
    }

    #[test]
    fn base64_is_read_whole_or_broken_by_white_space() {
        assert_eq!(parse_base64("AQID/w=="), Some(vec![1, 2, 3, 255]));
        assert_eq!(parse_base64(" AQ\r\nID\t/w==\n"), Some(vec![1, 2, 3, 255]));
        assert_eq!(parse_base64(""), Some(Vec::new()));
        assert_eq!(parse_base64("AQID/w="), None, "cut short");
        assert_eq!(parse_base64("AQ ID/w=!"), None, "not base64");
    }
}
