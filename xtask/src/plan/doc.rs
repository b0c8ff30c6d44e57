//! Doc comments as data: paragraphs the generator wrote, and prose it took
//! from a WSDL or the annotations (made safe for rustdoc when rendered).

/// The paragraphs of a doc comment.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Debug, Clone)]
pub enum Paragraph {
    /// Written by the generator (code spans made with [`code`]); kept on one line.
    Line(String),
    /// Untrusted text; a blank one renders as nothing.
    Prose(String),
}

impl Doc {
    pub fn new() -> Self {
        Doc::default()
    }

    /// A paragraph written by the generator.
    pub fn line(mut self, text: impl Into<String>) -> Self {
        self.paragraphs.push(Paragraph::Line(text.into()));
        self
    }

    /// A paragraph of untrusted prose; nothing when absent.
    pub fn prose(mut self, text: Option<&str>) -> Self {
        self.paragraphs.extend(text.map(|text| Paragraph::Prose(text.to_owned())));
        self
    }
}

/// `text` as an inline code span, with enough backticks for its content.
pub fn code(text: &str) -> String {
    let text = &single_line(text);
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest_run == 0 && !text.is_empty() {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest_run + 1);
    format!("{fence} {text} {fence}")
}

/// `text` with every control character (`\r`, `\n`, tab, …) replaced by a
/// space: one doc line stays one line, and rustc rejects a bare CR in docs.
pub fn single_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_fit_their_content() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("x\n```rust\r"), "```` x ```rust  ````");
    }
}
