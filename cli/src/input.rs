//! Reading what the user gives: the text (argument or stdin) and times.

use std::io::{IsTerminal as _, Read as _};

use chrono::NaiveDateTime;
use payamak::PanelDateTime;

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

/// Parses `2024-01-31T14:30` or `2024-01-31T14:30:00` (a space may replace the `T`) as Tehran local time.
pub fn tehran_time(text: &str) -> Result<PanelDateTime, Failure> {
    let trimmed = text.trim();
    let candidates = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"];
    candidates
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(trimmed, format).ok())
        .map(PanelDateTime::from_tehran_local)
        .ok_or_else(|| {
            Failure::usage(format!(
                "invalid time {text:?}: expected Tehran local time as 2024-01-31T14:30 or 2024-01-31T14:30:00"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_tehran_local_with_or_without_seconds() {
        let at = tehran_time("2024-01-31T14:30").unwrap();
        assert_eq!(at.to_string(), "2024-01-31T14:30:00");
        assert_eq!(at.to_utc().to_rfc3339(), "2024-01-31T11:00:00+00:00");
        assert_eq!(tehran_time("2024-01-31 14:30:15").unwrap().to_string(), "2024-01-31T14:30:15");
        assert!(tehran_time("31/01/2024 14:30").is_err());
        assert!(tehran_time("2024-02-30T10:00").is_err());
    }

    #[test]
    fn only_trailing_line_breaks_are_dropped() {
        assert_eq!(strip_trailing_newlines("سلام\n\n"), "سلام");
        assert_eq!(strip_trailing_newlines("a\r\nb\r\n"), "a\r\nb");
        assert_eq!(strip_trailing_newlines("  x  "), "  x  ");
    }
}
