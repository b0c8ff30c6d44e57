//! `xs:choice`: a generated enum with one variant per alternative, held by a
//! field as `E` (exactly one), `Option<E>` (at most one) or `Vec<E>` (a
//! repeated choice).

use super::error::{DecodeError, DecodeErrorKind};
use super::reader::XmlElement;
use super::writer::XmlWriter;

/// A choice enum: how its variants are written and read.
pub trait XmlChoice: Sized {
    /// Writes the elements of the chosen alternative.
    fn write_choice(&self, w: &mut XmlWriter);
    /// Reads `child`, an element of one of the alternatives, into `items`: a
    /// repeated alternative continues the last item when that item is the
    /// same alternative; any other element starts a new item.
    fn read_choice(items: &mut Vec<Self>, child: XmlElement<'_, '_>) -> Result<(), DecodeError>;
}

/// A choice that closes a cycle of recursive types: the box is invisible on the wire.
impl<E: XmlChoice> XmlChoice for Box<E> {
    fn write_choice(&self, w: &mut XmlWriter) {
        E::write_choice(self, w);
    }
    fn read_choice(items: &mut Vec<Self>, child: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        let mut unboxed: Vec<E> = items.drain(..).map(|item| *item).collect();
        E::read_choice(&mut unboxed, child)?;
        items.extend(unboxed.into_iter().map(Box::new));
        Ok(())
    }
}

/// How a field holds a choice: `E`, `Option<E>` or `Vec<E>`.
pub trait ChoiceField: Sized {
    /// The choice enum.
    type Choice: XmlChoice;
    /// Writes every chosen alternative.
    fn write_choices(&self, w: &mut XmlWriter);
    /// The field from the items read; a wrong count is an error on `parent`.
    fn from_items(items: Vec<Self::Choice>, parent: XmlElement<'_, '_>, name: &str) -> Result<Self, DecodeError>;
}

impl<E: XmlChoice> ChoiceField for E {
    type Choice = E;
    fn write_choices(&self, w: &mut XmlWriter) {
        self.write_choice(w);
    }
    fn from_items(items: Vec<E>, parent: XmlElement<'_, '_>, name: &str) -> Result<Self, DecodeError> {
        let count = items.len();
        match items.into_iter().next() {
            Some(item) if count == 1 => Ok(item),
            Some(_) => Err(parent.error(DecodeErrorKind::DuplicateElement(name.to_owned()))),
            None => Err(parent.missing(name)),
        }
    }
}

impl<E: XmlChoice> ChoiceField for Option<E> {
    type Choice = E;
    fn write_choices(&self, w: &mut XmlWriter) {
        if let Some(choice) = self {
            choice.write_choice(w);
        }
    }
    fn from_items(items: Vec<E>, parent: XmlElement<'_, '_>, name: &str) -> Result<Self, DecodeError> {
        if items.len() > 1 {
            return Err(parent.error(DecodeErrorKind::DuplicateElement(name.to_owned())));
        }
        Ok(items.into_iter().next())
    }
}

impl<E: XmlChoice> ChoiceField for Vec<E> {
    type Choice = E;
    fn write_choices(&self, w: &mut XmlWriter) {
        self.iter().for_each(|choice| choice.write_choice(w));
    }
    fn from_items(items: Vec<E>, _: XmlElement<'_, '_>, _: &str) -> Result<Self, DecodeError> {
        Ok(items)
    }
}

/// Collects the elements of a [`ChoiceField`] while a parent is read.
pub struct ChoiceSlot<F: ChoiceField> {
    items: Vec<F::Choice>,
}

impl<F: ChoiceField> ChoiceSlot<F> {
    /// Nothing read yet.
    pub fn new() -> Self {
        ChoiceSlot { items: Vec::new() }
    }

    /// Reads an element of one of the alternatives.
    pub fn read(&mut self, element: XmlElement<'_, '_>) -> Result<(), DecodeError> {
        F::Choice::read_choice(&mut self.items, element)
    }

    /// The field; `name` (the choice's first alternative) names it in errors on `parent`.
    pub fn finish(self, parent: XmlElement<'_, '_>, name: &str) -> Result<F, DecodeError> {
        F::from_items(self.items, parent, name)
    }
}

impl<F: ChoiceField> Default for ChoiceSlot<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// Writes a choice field: the elements of each chosen alternative.
    pub fn choice_field<F: ChoiceField>(&mut self, value: &F) {
        value.write_choices(self);
    }
}
