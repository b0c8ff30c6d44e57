//! Result codes the panel returns, as enums.
//!
//! The enums are generated from the code tables in `wsdl/annotations.toml`;
//! [`StatusCode`] is what they have in common.

/// A result code of the panel, with its meaning.
pub trait StatusCode: Copy + std::fmt::Debug + std::fmt::Display {
    /// The code as the panel sends it.
    fn code(self) -> i32;
    /// The status for a code; codes not in the table are kept as `Unknown(code)`.
    fn from_code(code: i32) -> Self;
    /// True when the code means the request did what was asked.
    fn is_success(self) -> bool;
    /// Whether the code is in the table.
    fn is_known(self) -> bool;
    /// The meaning in English.
    fn english(self) -> &'static str;
    /// The meaning in Persian, as the guide words it.
    fn persian(self) -> &'static str;
}
