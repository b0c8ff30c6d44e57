//! TOML errors that never quote the text they come from.
//!
//! `toml::de::Error`'s `Display` prints the offending line, and serde's messages quote
//! the offending value (``invalid type: integer `98765432`, expected a string``): either
//! may be a password. [`TomlError`] keeps toml's message with any quoted value taken
//! out, and where the problem is (line and column), and nothing else.
//!
//! The `payamak` CLI reads its config file with [`TomlError::parse`] for the same reason.

use std::fmt;

/// Why a TOML text was refused, and where, without quoting any of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl TomlError {
    /// Parses `text` as a `T`; an error never quotes the text.
    pub fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, TomlError> {
        toml::from_str(text).map_err(|error| TomlError::new(&error, text))
    }

    /// Describes `error`, which came from parsing `text`.
    pub(crate) fn new(error: &toml::de::Error, text: &str) -> Self {
        let (line, column) = match error.span() {
            Some(span) => {
                let (line, column) = position(text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        TomlError { message: redact(error.message()), line, column }
    }

    /// What is wrong (toml's message, with any value it quoted taken out).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column (in characters) of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, " (line {line}, column {column})"),
            (Some(line), None) => write!(f, " (line {line})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for TomlError {}

/// The 1-based line and column (in characters) of the byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
    // Characters are counted by their first byte (UTF-8 continuation bytes are 10xxxxxx).
    let column = before.get(line_start..).unwrap_or_default().iter().filter(|&&byte| byte & 0xC0 != 0x80).count() + 1;
    (line, column)
}

/// toml's message on one line, without the value serde quotes in
/// `invalid type: <kind> <value>, expected …`, `invalid value: …` and
/// `unknown variant <value>, expected …`. toml's own syntax messages quote the tokens
/// expected and key names, never values, and are kept as they are.
fn redact(message: &str) -> String {
    let message = message.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("; ");
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        let Some(rest) = message.strip_prefix(prefix) else { continue };
        // The expected part comes from code, never from the text; a quoted value may
        // itself contain ", expected ", hence the last one.
        let (unexpected, expected) = rest.rfind(", expected ").map_or((rest, ""), |at| rest.split_at(at));
        let kind = unexpected.split(['`', '"', '\'']).next().unwrap_or_default().trim();
        let head = prefix.trim_end();
        return if kind.is_empty() { format!("{head}{expected}") } else { format!("{head} {kind}{expected}") };
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        password: Option<String>,
        count: Option<u32>,
    }

    fn error(text: &str) -> TomlError {
        match toml::from_str::<Shape>(text) {
            Ok(shape) => panic!("{text:?} parsed: {shape:?}"),
            Err(error) => TomlError::new(&error, text),
        }
    }

    #[test]
    fn values_are_never_quoted() {
        for (text, secret) in [
            ("password = 98765432\n", "98765432"),
            ("password = 0x5f5e0ff\n", "99999999"),
            ("password = 9876.5\n", "9876.5"),
            ("password = true\n", "true"),
            ("count = \"S3cret!pw\"\n", "S3cret!pw"),
            ("count = \"x, expected S3cret\"\n", "S3cret"),
            ("count = -98765\n", "98765"),
            ("\n\npassword = \"S3cret!pw\n", "S3cret!pw"),
            ("password = 'S3cret!pw\n", "S3cret!pw"),
            ("password = S3cret!pw\n", "S3cret!pw"),
        ] {
            let error = error(text);
            for shown in [error.to_string(), format!("{error:?}")] {
                assert!(!shown.contains(secret), "{text:?} shows {secret:?}: {shown}");
                assert!(!shown.contains('\n'), "{shown}");
            }
        }
    }

    #[test]
    fn the_kind_and_the_place_are_kept() {
        let numeric = error("count = 1\npassword = 98765432\n");
        assert_eq!(numeric.to_string(), "invalid type: integer, expected a string (line 2, column 12)");
        assert_eq!((numeric.line(), numeric.column()), (Some(2), Some(12)));
        let persian = error("password = \"سلام\" x\n");
        assert_eq!((persian.line(), persian.column()), (Some(1), Some(19)), "{persian}");
        assert_eq!(redact("invalid value: string \"x\""), "invalid value: string");
        assert_eq!(redact("unknown variant `S3cret`, expected `a` or `b`"), "unknown variant, expected `a` or `b`");
        assert_eq!(
            redact("unknown field `usernme`, expected `username`"),
            "unknown field `usernme`, expected `username`"
        );
    }

    #[test]
    fn positions_never_panic() {
        assert_eq!(position("", 10), (1, 1));
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("é", 1), (1, 2));
    }
}
