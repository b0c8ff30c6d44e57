//! Where and how results are shown: tables or JSON on stdout, notes on stderr.

use std::io::{IsTerminal as _, Write as _};

use comfy_table::{presets, Cell, Color, ContentArrangement, Table, TableComponent};
use serde::Serialize;

/// `eprintln!`, except that a closed or failing stderr is not a panic: there is nowhere
/// left to report it.
#[macro_export]
macro_rules! stderr_line {
    ($($arg:tt)*) => {
        $crate::output::to_stderr(format_args!($($arg)*))
    };
}

/// Writes one line on stderr, ignoring failures (see [`stderr_line!`]).
pub fn to_stderr(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// How this run shows its results.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`: one JSON document on stdout.
    pub json: bool,
    /// `--quiet`: no notes, progress or parts lines.
    pub quiet: bool,
    /// Colours in tables (stdout is a terminal and `NO_COLOR` is unset).
    pub color: bool,
    /// stderr is a terminal (progress bars are shown there).
    pub stderr_tty: bool,
    /// Colours on stderr (logs): stderr is a terminal and `NO_COLOR` is unset.
    pub stderr_color: bool,
}

impl Output {
    /// The output of this process.
    pub fn detect(json: bool, quiet: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        Output::new(json, quiet, std::io::stdout().is_terminal(), std::io::stderr().is_terminal(), no_color)
    }

    /// The output for these settings and streams: colours only on a terminal, and never with `NO_COLOR`.
    fn new(json: bool, quiet: bool, stdout_tty: bool, stderr_tty: bool, no_color: bool) -> Self {
        Output { json, quiet, color: stdout_tty && !no_color, stderr_tty, stderr_color: stderr_tty && !no_color }
    }

    /// A line on stdout that is not the result (how a text is counted, say); not with `--quiet`.
    pub fn info(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            self.print(text);
        }
    }

    /// Prints `text` (plus a newline) on stdout. A closed pipe (`| head`) is not an error.
    pub fn print(&self, text: impl std::fmt::Display) {
        let mut stdout = std::io::stdout().lock();
        let result = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
        if let Err(error) = result {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                crate::stderr_line!("error: cannot write to stdout: {error}");
            }
        }
    }

    /// Prints `value` as the run's JSON document, written to stdout as it is serialized
    /// (a list of many rows is never held twice). A closed pipe is not an error.
    pub fn print_json<T: Serialize + ?Sized>(&self, value: &T) {
        if let Err(error) = self.try_print_json(value) {
            crate::stderr_line!("error: cannot write JSON: {error}");
        }
    }

    /// [`Output::print_json`], for a value whose serializing may fail (one
    /// read from a file as it is written): the error, unless the pipe was
    /// closed. `is_io()` tells a failed write from a failed value.
    pub fn try_print_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), serde_json::Error> {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let result = serde_json::to_writer_pretty(&mut stdout, value)
            .and_then(|()| writeln!(stdout).and_then(|()| stdout.flush()).map_err(serde_json::Error::io));
        match result {
            Err(error) if error.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) => Ok(()),
            other => other,
        }
    }

    /// A progress line on stderr (what a long command is doing).
    pub fn progress(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            crate::stderr_line!("{text}");
        }
    }

    /// A `note: ...` line on stderr.
    pub fn note(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            crate::stderr_line!("note: {text}");
        }
    }

    /// A `warning: ...` line on stderr.
    pub fn warn(&self, text: impl std::fmt::Display) {
        crate::stderr_line!("warning: {text}");
    }

    /// An empty table with these column headers.
    ///
    /// Right-to-left text goes in cells of its own, in the last columns, and the
    /// table has no right border: see [`Output::print_table`].
    pub fn table<I: IntoIterator<Item = S>, S: Into<Cell>>(&self, header: I) -> Table {
        let mut table = Table::new();
        table.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
        for component in [
            TableComponent::RightBorder,
            TableComponent::TopRightCorner,
            TableComponent::BottomRightCorner,
            TableComponent::RightHeaderIntersection,
            TableComponent::RightBorderIntersections,
        ] {
            table.remove_style(component);
        }
        table.set_header(header);
        table
    }

    /// Prints a table on stdout (wrapped to the terminal's width when stdout is one).
    ///
    /// comfy-table measures text with `unicode-width`, which counts an Arabic
    /// lam-alef pair (as in «سلام») as one column, while terminals draw it in
    /// two. Such text only ever sits in the last columns, and the table has
    /// no right border, so nothing after it is pushed out of line; on a
    /// terminal the table is also made narrower by the columns it undercounts,
    /// so that no line runs past the terminal's edge.
    pub fn print_table(&self, mut table: Table) {
        let undercount = table
            .header()
            .into_iter()
            .chain(table.row_iter())
            .flat_map(|row| row.cell_iter())
            .map(|cell| undercounted_columns(&cell.content()))
            .max()
            .unwrap_or(0);
        if let Some(width) = table.width() {
            if undercount > 0 {
                table.set_width(width.saturating_sub(undercount.min(width / 4)));
            }
        }
        self.print(table);
    }

    /// A cell coloured green for success and red otherwise (colour only on a terminal).
    pub fn status_cell(&self, text: impl Into<String>, good: Option<bool>) -> Cell {
        let cell = Cell::new(text.into());
        match (self.color, good) {
            (true, Some(true)) => cell.fg(Color::Green),
            (true, Some(false)) => cell.fg(Color::Red),
            _ => cell,
        }
    }
}

/// How many more columns a terminal needs for `text` than `unicode-width`
/// counts (one per lam-alef pair).
fn undercounted_columns(text: &str) -> u16 {
    use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};
    let total: usize = text
        .lines()
        .map(|line| {
            let per_char: usize = line.chars().map(|c| c.width().unwrap_or(0)).sum();
            per_char.saturating_sub(line.width())
        })
        .sum();
    u16::try_from(total).unwrap_or(u16::MAX)
}

/// A result code as JSON shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StatusJson {
    /// The code the panel sent.
    pub code: i32,
    /// Its meaning in English.
    pub english: &'static str,
    /// Its meaning in Persian.
    pub persian: &'static str,
    /// Whether it means success.
    pub success: bool,
}

/// Builds a [`StatusJson`] from any generated status enum.
#[macro_export]
macro_rules! status_json {
    ($status:expr) => {{
        let status = $status;
        $crate::output::StatusJson {
            code: status.code(),
            english: status.english(),
            persian: status.persian(),
            success: status.is_success(),
        }
    }};
}

/// The three cells of a status: code, English, Persian (RTL text in a cell of its own).
pub fn status_cells(output: &Output, status: &StatusJson) -> [Cell; 3] {
    [Cell::new(status.code), output.status_cell(status.english, Some(status.success)), Cell::new(status.persian)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_and_never_with_no_color() {
        let both = Output::new(false, false, true, true, false);
        assert!(both.color && both.stderr_color);
        let no_color = Output::new(false, false, true, true, true);
        assert!(!no_color.color && !no_color.stderr_color);
        let piped = Output::new(false, false, true, false, false);
        assert!(piped.color && !piped.stderr_color, "stderr's colour follows stderr, not stdout");
    }

    #[test]
    fn lam_alef_pairs_are_undercounted_by_unicode_width() {
        assert_eq!(undercounted_columns("سلام"), 1);
        assert_eq!(undercounted_columns("سلام، طولانی"), 2);
        assert_eq!(undercounted_columns("ارسال شده"), 0);
        assert_eq!(undercounted_columns("hello"), 0);
    }
}
