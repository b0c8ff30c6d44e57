//! Reads the SMS text the user gives, as an argument or from stdin.

use std::io::{IsTerminal as _, Read as _};

use crate::failure::Failure;

/// The SMS text: `--text T`, or stdin for `--text -` or for no `--text` when
/// stdin is not a terminal. Trailing line breaks from stdin are dropped.
pub fn text(arg: Option<&str>) -> Result<String, Failure> {
    let text = match arg {
        Some("-") => read_stdin()?,
        Some(text) => text.to_owned(),
        None if !std::io::stdin().is_terminal() => read_stdin()?,
        None => return Err(Failure::usage("no text: give --text TEXT, or pipe the text into stdin (--text -)")),
    };
    if text.trim().is_empty() {
        return Err(Failure::usage("the text is empty"));
    }
    Ok(text)
}

fn read_stdin() -> Result<String, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|error| Failure::usage(format!("cannot read the text from stdin: {error}")))?;
    let text = String::from_utf8(bytes).map_err(|_| Failure::usage("the text on stdin is not UTF-8"))?;
    Ok(strip_trailing_newlines(&text).to_owned())
}

/// Drops the line breaks a shell or editor leaves at the end of piped text.
pub fn strip_trailing_newlines(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trailing_line_breaks_are_dropped() {
        assert_eq!(strip_trailing_newlines("سلام\n\n"), "سلام");
        assert_eq!(strip_trailing_newlines("a\r\nb\r\n"), "a\r\nb");
        assert_eq!(strip_trailing_newlines("  x  "), "  x  ");
    }
}
