//! Doc comments of the plan as `#[doc]` tokens, with prose made safe for rustdoc.
//!
//! Text from a WSDL or the annotations must not become broken intra-doc
//! links, HTML tags, bare-URL warnings or doctests: `[`, `]`, `<` and `>` are
//! escaped outside code spans, URLs are wrapped in `<…>`, lines are trimmed
//! and inner whitespace runs collapsed (no indented code blocks, not even
//! after a list marker), fenced blocks (` ``` ` or `~~~`, also inside a list
//! item) are marked `text`, and control characters (`\r`, `\n`, tabs, …) in
//! any doc line become spaces (no new lines, no bare CR).

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{single_line, Doc, Paragraph};

/// The doc lines of `doc`: paragraphs separated by a blank line, blank prose left out.
fn lines(doc: &Doc) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in &doc.paragraphs {
        let paragraph = match paragraph {
            Paragraph::Line(text) => vec![single_line(text)],
            Paragraph::Prose(text) => sanitize(text),
        };
        if paragraph.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(paragraph);
    }
    lines
}

/// `#[doc = "…"]` attributes (rendered as `///`).
pub fn outer(doc: &Doc) -> TokenStream {
    let lines = lines(doc).into_iter().map(spaced);
    quote! { #( #[doc = #lines] )* }
}

/// `#![doc = "…"]` attributes (rendered as `//!`).
pub fn inner(doc: &Doc) -> TokenStream {
    let lines = lines(doc).into_iter().map(spaced);
    quote! { #( #![doc = #lines] )* }
}

fn spaced(line: String) -> String {
    if line.is_empty() {
        line
    } else {
        format!(" {line}")
    }
}

/// Whether a trimmed line opens or closes a fenced code block, also when it
/// is the first line of a (nested) list item such as `- 1. ~~~rust`.
fn is_fence(line: &str) -> bool {
    let mut rest = line;
    loop {
        if rest.starts_with("```") || rest.starts_with("~~~") {
            return true;
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let marker = if rest.starts_with(['-', '*', '+']) {
            1
        } else if digits > 0 && rest[digits..].starts_with(['.', ')']) {
            digits + 1
        } else {
            return false;
        };
        let after = &rest[marker..];
        let trimmed = after.trim_start();
        if trimmed.len() == after.len() {
            return false;
        }
        rest = trimmed;
    }
}

/// Prose as rustdoc-safe lines: trimmed, inner whitespace collapsed, blank
/// runs collapsed, control characters made spaces, fences marked `text`, escaped.
fn sanitize(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut in_fence = false;
    for raw in text.replace("\r\n", "\n").lines() {
        let raw = single_line(raw);
        let line = raw.trim();
        if is_fence(line) {
            // Fenced blocks are shown as text so they never run as doctests.
            lines.push(if in_fence { "```".to_owned() } else { "```text".to_owned() });
            in_fence = !in_fence;
        } else if in_fence {
            lines.push(line.to_owned());
        } else if line.is_empty() {
            if lines.last().is_some_and(|last| !last.is_empty()) {
                lines.push(String::new());
            }
        } else {
            let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
            lines.push(escape_line(&collapsed));
        }
    }
    if in_fence {
        lines.push("```".to_owned());
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Escapes markdown link and HTML syntax outside code spans and wraps URLs.
fn escape_line(line: &str) -> String {
    // An unmatched backtick would open a code span to the end of the line.
    let backticks = line.matches('`').count();
    let last_backtick = if backticks % 2 == 1 { line.rfind('`') } else { None };
    let mut out = String::with_capacity(line.len() + 8);
    let mut in_code = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let at = line.len() - rest.len();
        if c == '`' {
            if Some(at) == last_backtick {
                out.push_str("\\`");
            } else {
                in_code = !in_code;
                out.push(c);
            }
            rest = &rest[1..];
            continue;
        }
        if !in_code && (rest.starts_with("http://") || rest.starts_with("https://")) {
            let end =
                rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')).unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &rest[url.len()..];
            continue;
        }
        if !in_code && matches!(c, '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_links_html_and_urls() {
        assert_eq!(sanitize("see [x] and <b> at http://a.b/c."), ["see \\[x\\] and \\<b\\> at <http://a.b/c>."]);
        assert_eq!(sanitize("keep `[x]` code"), ["keep `[x]` code"]);
        assert_eq!(sanitize("odd ` tick [y]"), ["odd \\` tick \\[y\\]"]);
    }

    #[test]
    fn trims_lines_and_marks_fences_as_text() {
        assert_eq!(sanitize("  a\n\n\n    b\n```rust\nlet x;\n"), ["a", "", "b", "```text", "let x;", "```"]);
    }

    #[test]
    fn tilde_fences_and_fences_in_list_items_are_text() {
        assert_eq!(sanitize("~~~rust\nboom();\n~~~"), ["```text", "boom();", "```"]);
        assert_eq!(sanitize("- ```rust\nboom();\n```"), ["```text", "boom();", "```"]);
        assert_eq!(sanitize("1. * ~~~\nboom();"), ["```text", "boom();", "```"]);
        assert_eq!(sanitize("- not a fence"), ["- not a fence"]);
    }

    #[test]
    fn no_indented_code_after_list_markers() {
        assert_eq!(sanitize("-      assert!(false);"), ["- assert!(false);"]);
        assert_eq!(sanitize("1.\t\t\tassert!(false);"), ["1. assert!(false);"]);
        assert_eq!(sanitize("a    b"), ["a b"]);
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(sanitize("a\rb\r\nc\u{0}d"), ["a b", "c d"]);
        let doc = outer(&Doc::new().line("a\n```rust\nboom();\r")).to_string();
        assert!(!doc.contains("\\n") && !doc.contains("\\r"), "{doc}");
    }

    /// Whatever the input, no line may start a code block or hold a line break.
    #[test]
    fn sanitised_lines_never_make_doctests() {
        let inputs = [
            "```\nboom();\n```",
            "~~~~\nboom();",
            "  -     boom();\n\n    boom();\n\tboom();",
            "+\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}boom();\r    boom();",
            "* ```\nboom();\n> ```rust\nboom();",
            "> ```rust\nboom();",
        ];
        for input in inputs {
            let lines = sanitize(input);
            let mut in_fence = false;
            for line in &lines {
                assert!(!line.chars().any(char::is_control), "{input:?} → {lines:?}");
                assert!(!line.starts_with(char::is_whitespace), "{input:?} → {lines:?}");
                assert!(!line.contains("  ") && !line.contains('\t'), "{input:?} → {lines:?}");
                if line.starts_with("```") || line.starts_with("~~~") {
                    assert!(in_fence || line == "```text", "{input:?} → {lines:?}");
                    in_fence = !in_fence;
                } else if !in_fence {
                    assert!(!line.contains("```") || line.starts_with('\\'), "{input:?} → {lines:?}");
                }
            }
            assert!(!in_fence, "{input:?} → {lines:?}");
        }
    }

    #[test]
    fn blank_prose_adds_no_paragraph() {
        let doc = Doc::new().line("a").prose(Some(" \n ")).prose(None).line("b");
        assert_eq!(lines(&doc), ["a", "", "b"]);
    }
}
