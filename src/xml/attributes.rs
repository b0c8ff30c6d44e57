//! XML attributes of generated types: simple values written as attribute
//! text, required (`T`) or optional (`Option<T>`).

use std::borrow::Cow;
use std::str::FromStr;

use base64::Engine as _;

use super::builtins::{Decimal, HexBinary, XsDate, XsDuration, XsTime};
use super::content::XmlContent;
use super::datetime::PanelDateTime;
use super::error::{DecodeError, DecodeErrorKind};
use super::reader::XmlElement;
use super::writer::{XmlWriter, XSI_NAMESPACE};

/// A simple value that can be an attribute's text.
pub trait AttributeValue: Sized {
    /// The XML Schema type, for messages.
    const TYPE_NAME: &'static str;
    /// The value's text, unescaped.
    fn to_text(&self) -> Cow<'_, str>;
    /// The value of `text`, or `None` when it is not one.
    fn from_text(text: &str) -> Option<Self>;
}

impl AttributeValue for String {
    const TYPE_NAME: &'static str = "xs:string";
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn from_text(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

impl AttributeValue for bool {
    const TYPE_NAME: &'static str = "xs:boolean";
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
    fn from_text(text: &str) -> Option<Self> {
        match text.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
}

macro_rules! parsed_attribute {
    ($($ty:ty => $xsd:literal),* $(,)?) => {$(
        impl AttributeValue for $ty {
            const TYPE_NAME: &'static str = $xsd;
            fn to_text(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
            fn from_text(text: &str) -> Option<Self> {
                <$ty>::from_str(text.trim()).ok()
            }
        }
    )*};
}

parsed_attribute!(
    i8 => "xs:byte", i16 => "xs:short", i32 => "xs:int", i64 => "xs:long", i128 => "xs:integer",
    u8 => "xs:unsignedByte", u16 => "xs:unsignedShort", u32 => "xs:unsignedInt", u64 => "xs:unsignedLong",
    u128 => "xs:nonNegativeInteger", XsDate => "xs:date", XsTime => "xs:time", XsDuration => "xs:duration",
    HexBinary => "xs:hexBinary", PanelDateTime => "xs:dateTime",
);

/// `xs:base64Binary`.
impl AttributeValue for Vec<u8> {
    const TYPE_NAME: &'static str = "xs:base64Binary";
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Owned(base64::engine::general_purpose::STANDARD.encode(self))
    }
    fn from_text(text: &str) -> Option<Self> {
        super::content::parse_base64(text)
    }
}

/// ASP.NET's `char`: the character's code.
impl AttributeValue for char {
    const TYPE_NAME: &'static str = "char";
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Owned(u32::from(*self).to_string())
    }
    fn from_text(text: &str) -> Option<Self> {
        text.trim().parse::<u32>().ok().and_then(char::from_u32)
    }
}

impl AttributeValue for Decimal {
    const TYPE_NAME: &'static str = "xs:decimal";
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
    fn from_text(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix('+').unwrap_or(trimmed);
        (!trimmed.is_empty() && !trimmed.contains(['e', 'E', '_'])).then(|| Decimal::from_str_exact(trimmed).ok())?
    }
}

macro_rules! float_attribute {
    ($($ty:ty => $xsd:literal),*) => {$(
        impl AttributeValue for $ty {
            const TYPE_NAME: &'static str = $xsd;
            fn to_text(&self) -> Cow<'_, str> {
                if self.is_nan() {
                    Cow::Borrowed("NaN")
                } else if self.is_infinite() {
                    Cow::Borrowed(if *self > 0.0 { "INF" } else { "-INF" })
                } else {
                    Cow::Owned(self.to_string())
                }
            }
            fn from_text(text: &str) -> Option<Self> {
                match text.trim() {
                    "INF" | "+INF" => Some(<$ty>::INFINITY),
                    "-INF" => Some(<$ty>::NEG_INFINITY),
                    "NaN" => Some(<$ty>::NAN),
                    // Rust also accepts "inf" and "nan", which XML Schema does not.
                    other if other.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') => None,
                    other => other.parse().ok(),
                }
            }
        }
    )*};
}

float_attribute!(f32 => "xs:float", f64 => "xs:double");

/// `xs:list`: items of a simple type, separated by whitespace on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct XsList<T>(pub Vec<T>);

impl<T: AttributeValue> AttributeValue for XsList<T> {
    const TYPE_NAME: &'static str = "a list";
    fn to_text(&self) -> Cow<'_, str> {
        let items: Vec<Cow<'_, str>> = self.0.iter().map(AttributeValue::to_text).collect();
        Cow::Owned(items.join(" "))
    }
    fn from_text(text: &str) -> Option<Self> {
        text.split_ascii_whitespace().map(T::from_text).collect::<Option<Vec<T>>>().map(XsList)
    }
}

impl<T: AttributeValue> XmlContent for XsList<T> {
    fn write_content(&self, w: &mut XmlWriter) {
        w.text(&self.to_text());
    }
    fn read_content(element: XmlElement<'_, '_>) -> Result<Self, DecodeError> {
        let text = element.text()?;
        Self::from_text(&text).ok_or_else(|| element.invalid_value(T::TYPE_NAME, &text))
    }
}

/// An attribute kept as it was read (`xs:anyAttribute`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AnyAttribute {
    /// The namespace URI (`""` for none).
    pub namespace: String,
    /// The local name.
    pub name: String,
    /// The value, unescaped.
    pub value: String,
}

/// The attributes of `element` that none of `declared` (namespace, name) names,
/// `xsi:` attributes (`nil`, `type`) aside.
pub fn read_other_attributes(element: XmlElement<'_, '_>, declared: &[(&str, &str)]) -> Vec<AnyAttribute> {
    element
        .attributes()
        .filter(|&(namespace, name, _)| namespace != XSI_NAMESPACE && !declared.contains(&(namespace, name)))
        .map(|(namespace, name, value)| AnyAttribute {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
        })
        .collect()
}

/// How a field maps to an attribute: `T` (`use="required"`) or `Option<T>`.
pub trait AttributeField: Sized {
    /// Writes the attribute on the element just opened, or nothing when absent.
    fn write_attribute(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str);
    /// Reads the attribute of `element`; a missing required one is an error.
    fn read_attribute(element: XmlElement<'_, '_>, ns: &str, name: &str) -> Result<Self, DecodeError>;
}

fn parse<T: AttributeValue>(element: XmlElement<'_, '_>, name: &str, text: &str) -> Result<T, DecodeError> {
    T::from_text(text).ok_or_else(|| {
        let found = format!("{name}={text:?}");
        element.error(DecodeErrorKind::InvalidValue { expected: T::TYPE_NAME, found })
    })
}

impl<T: AttributeValue> AttributeField for T {
    fn write_attribute(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        w.attribute_in(ns, name, &self.to_text());
    }
    fn read_attribute(element: XmlElement<'_, '_>, ns: &str, name: &str) -> Result<Self, DecodeError> {
        match element.attribute(ns, name) {
            Some(text) => parse(element, name, text),
            None => Err(element.error(DecodeErrorKind::MissingElement(format!("@{name}")))),
        }
    }
}

impl<T: AttributeValue> AttributeField for Option<T> {
    fn write_attribute(&self, w: &mut XmlWriter, ns: &'static str, name: &'static str) {
        if let Some(value) = self {
            value.write_attribute(w, ns, name);
        }
    }
    fn read_attribute(element: XmlElement<'_, '_>, ns: &str, name: &str) -> Result<Self, DecodeError> {
        element.attribute(ns, name).map(|text| parse(element, name, text)).transpose()
    }
}

impl XmlWriter {
    /// Writes attributes kept as read (`xs:anyAttribute`) on the element just opened.
    pub fn other_attributes(&mut self, attributes: &[AnyAttribute]) {
        for attribute in attributes {
            self.attribute_in(&attribute.namespace, &attribute.name, &attribute.value);
        }
    }

    /// Writes an attribute field on the element just opened (before its content).
    pub fn attribute_field<F: AttributeField>(&mut self, ns: &'static str, name: &'static str, value: &F) {
        value.write_attribute(self, ns, name);
    }
}

/// Reads an attribute field of `element` (`ns` is `""` for an unqualified attribute).
pub fn read_attribute<F: AttributeField>(element: XmlElement<'_, '_>, ns: &str, name: &str) -> Result<F, DecodeError> {
    F::read_attribute(element, ns, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::XmlDocument;

    #[test]
    fn other_attributes_are_kept() {
        let xml = r#"<e xmlns:x="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="1" x:extra="a&amp;b" plain="p" xsi:nil="false"/>"#;
        let document = XmlDocument::parse(xml).expect("well-formed");
        let others = read_other_attributes(document.root(), &[("", "id")]);
        let extra = AnyAttribute { namespace: "urn:x".into(), name: "extra".into(), value: "a&b".into() };
        let plain = AnyAttribute { namespace: String::new(), name: "plain".into(), value: "p".into() };
        assert_eq!(others, [extra.clone(), plain.clone()]);
        let mut w = XmlWriter::with_capacity(64);
        w.start("", "e");
        w.other_attributes(&others);
        w.end();
        let written = w.finish().expect("written");
        let document = XmlDocument::parse(&written).expect("well-formed");
        assert_eq!(read_other_attributes(document.root(), &[]), [extra, plain]);
    }

    #[test]
    fn lists_are_items_separated_by_whitespace() {
        let list = XsList(vec![1_i32, -2, 3]);
        assert_eq!(list.to_text(), "1 -2 3");
        assert_eq!(XsList::<i32>::from_text("  1\n-2\t3 "), Some(list));
        assert_eq!(XsList::<i32>::from_text(""), Some(XsList(vec![])));
        assert_eq!(XsList::<i32>::from_text("1 x"), None);
    }

    #[test]
    fn attributes_round_trip_required_optional_and_qualified() {
        let mut w = XmlWriter::with_capacity(128);
        w.start("urn:a", "e");
        w.attribute_field("", "id", &7_i32);
        w.attribute_field("", "note", &Some("a \"quote\" & <tag>\n".to_owned()));
        w.attribute_field("", "absent", &None::<bool>);
        w.attribute_field("http://www.w3.org/XML/1998/namespace", "lang", &"fa".to_owned());
        w.attribute_field("urn:q", "price", &"1.50".parse::<Decimal>().expect("a decimal"));
        w.text("x");
        w.end();
        let xml = w.finish().expect("written");
        assert!(xml.contains(r#"xml:lang="fa""#) && xml.contains(r#"xmlns:a1="urn:q" a1:price="1.50""#), "{xml}");
        let document = XmlDocument::parse(&xml).expect("well-formed");
        let e = document.root();
        assert_eq!(read_attribute::<i32>(e, "", "id"), Ok(7));
        assert_eq!(read_attribute::<Option<String>>(e, "", "note"), Ok(Some("a \"quote\" & <tag>\n".to_owned())));
        assert_eq!(read_attribute::<Option<bool>>(e, "", "absent"), Ok(None));
        assert_eq!(read_attribute::<String>(e, "http://www.w3.org/XML/1998/namespace", "lang").as_deref(), Ok("fa"));
        assert_eq!(read_attribute::<Decimal>(e, "urn:q", "price").map(|d| d.to_string()).as_deref(), Ok("1.50"));
        assert!(read_attribute::<bool>(e, "", "absent").is_err());
        assert!(read_attribute::<u8>(e, "", "note").is_err());
    }
}
