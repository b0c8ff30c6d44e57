//! Errors of the XML layer: a value that cannot be written, a document that cannot be read.

use std::fmt;

/// A value could not be written as XML 1.0.
///
/// XML 1.0 cannot carry most C0 control characters (U+0000–U+001F other than
/// tab, line feed and carriage return) nor U+FFFE/U+FFFF, not even as character
/// references. Such text is refused rather than silently altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode <{element}>: character {} at character {position} is not allowed in XML 1.0", Escaped(*.character))]
pub struct EncodeError {
    /// Local name of the element whose text was refused.
    pub element: String,
    /// The offending character.
    pub character: char,
    /// Its 0-based position, in characters, in the element's text.
    pub position: usize,
}

struct Escaped(char);

impl fmt::Display for Escaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", self.0 as u32)
    }
}

/// A document, or part of one, could not be decoded into the expected type.
///
/// Names the element and its position in the input (1-based line and column).
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Details>);

// Boxed: every step of decoding returns a `Result` of it, and the success is
// the common case, so the error is kept to one pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    kind: DecodeErrorKind,
    element: String,
    line: u32,
    column: u32,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.0.kind)
            .field("element", &self.0.element)
            .field("line", &self.0.line)
            .field("column", &self.0.column)
            .finish()
    }
}

/// What was wrong in a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input is not well-formed XML.
    Malformed(String),
    /// A required child element is missing.
    MissingElement(String),
    /// An element that may occur once occurs again.
    DuplicateElement(String),
    /// The element's text is not a valid value of its type.
    InvalidValue {
        /// The XML Schema type expected.
        expected: &'static str,
        /// The text found (shortened when long).
        found: String,
    },
    /// The element is `xsi:nil="true"` but its declaration is not nillable.
    UnexpectedNil,
    /// An element with simple content has a child element.
    UnexpectedChild(String),
    /// The document exceeds a structural limit (nesting depth, attributes per
    /// element, namespace declarations) that no SOAP reply comes near.
    LimitExceeded(String),
    /// A different element was found where one was expected.
    UnexpectedElement {
        /// `{namespace}local` of the element expected.
        expected: String,
        /// `{namespace}local` of the element found.
        found: String,
    },
    /// A SOAP header block marked `mustUnderstand` that the operation does not declare.
    NotUnderstood(String),
    /// A SOAP-encoded multi-reference accessor (`href="#id"`) that names no
    /// element, names one twice, leaves the document or goes round in a cycle.
    BadReference(String),
}

impl DecodeError {
    /// Applies `edit` to every text the error holds (they may quote the input).
    pub(crate) fn edit_texts(&mut self, mut edit: impl FnMut(&mut String)) {
        edit(&mut self.0.element);
        match &mut self.0.kind {
            DecodeErrorKind::Malformed(text)
            | DecodeErrorKind::MissingElement(text)
            | DecodeErrorKind::DuplicateElement(text)
            | DecodeErrorKind::UnexpectedChild(text)
            | DecodeErrorKind::LimitExceeded(text)
            | DecodeErrorKind::NotUnderstood(text)
            | DecodeErrorKind::BadReference(text) => edit(text),
            DecodeErrorKind::InvalidValue { found, .. } => edit(found),
            DecodeErrorKind::UnexpectedElement { expected, found } => {
                edit(expected);
                edit(found);
            }
            DecodeErrorKind::UnexpectedNil => {}
        }
    }

    pub(crate) fn new(kind: DecodeErrorKind, element: impl Into<String>, line: u32, column: u32) -> Self {
        DecodeError(Box::new(Details { kind, element: element.into(), line, column }))
    }

    /// Input that is not XML at all.
    pub fn malformed(reason: impl Into<String>) -> Self {
        DecodeError::new(DecodeErrorKind::Malformed(reason.into()), "", 1, 1)
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// Local name of the element where the problem was found.
    pub fn element(&self) -> &str {
        &self.0.element
    }

    /// 1-based line of that element in the input.
    pub fn line(&self) -> u32 {
        self.0.line
    }

    /// 1-based column of that element in the input.
    pub fn column(&self) -> u32 {
        self.0.column
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            DecodeErrorKind::Malformed(reason) => write!(f, "malformed XML: {reason}")?,
            DecodeErrorKind::MissingElement(name) => {
                write!(f, "required element <{name}> is missing in <{}>", self.0.element)?
            }
            DecodeErrorKind::DuplicateElement(name) => {
                write!(f, "element <{name}> occurs more than once in <{}>", self.0.element)?
            }
            DecodeErrorKind::InvalidValue { expected, found } => {
                write!(f, "<{}> holds {found:?}, which is not a valid {expected}", self.0.element)?
            }
            DecodeErrorKind::UnexpectedNil => write!(f, "<{}> is nil but is not nillable", self.0.element)?,
            DecodeErrorKind::UnexpectedChild(name) => {
                write!(f, "<{}> should hold text but has a child element <{name}>", self.0.element)?
            }
            DecodeErrorKind::LimitExceeded(limit) => write!(f, "refused: {limit}")?,
            DecodeErrorKind::UnexpectedElement { expected, found } => {
                write!(f, "expected element {expected} but found {found}")?
            }
            DecodeErrorKind::NotUnderstood(name) => {
                write!(f, "the SOAP header {name} is marked mustUnderstand, and the operation does not declare it")?
            }
            DecodeErrorKind::BadReference(reason) => write!(f, "<{}>: {reason}", self.0.element)?,
        }
        write!(f, " (line {}, column {})", self.0.line, self.0.column)
    }
}

impl std::error::Error for DecodeError {}
