//! Problems that point into a source file: `file:line:column: message`.

use std::fmt;

/// A 1-based line and column in one of the documents of an input: `doc` is
/// its index among them (0 for the document given, then imported ones in the
/// order they were first read; see `load`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub doc: u32,
    pub line: u32,
    pub column: u32,
}

// `3:7` keeps model snapshots short; `#2 3:7` in an imported document.
impl fmt::Debug for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.doc != 0 {
            write!(f, "#{} ", self.doc)?;
        }
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Something wrong at a position of the documents being processed; the file
/// name is added by whoever knows them (see [`Problem::in_file`]). Problems
/// sort by document and position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
}

impl Problem {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Problem { pos, message: message.into() }
    }

    /// The problem as an error naming the document of its position among
    /// `files` (the documents of one input, by index; the first when out of range).
    pub fn in_file(self, files: &[String]) -> SourceError {
        let file = files.get(self.pos.doc as usize).or(files.first()).map_or("", String::as_str);
        SourceError { file: file.to_owned(), pos: self.pos, message: self.message }
    }
}

/// A problem in a named file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceError {
    pub file: String,
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.pos.line, self.pos.column, self.message)
    }
}

impl std::error::Error for SourceError {}

/// Every problem one run found, sorted by file and position: one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceErrors(pub Vec<SourceError>);

impl SourceErrors {
    /// `problems` of the documents `files`, sorted, each once.
    pub fn in_file(files: &[String], problems: Vec<Problem>) -> Self {
        let mut errors: Vec<SourceError> = problems.into_iter().map(|problem| problem.in_file(files)).collect();
        errors.sort();
        errors.dedup();
        SourceErrors(errors)
    }
}

impl From<SourceError> for SourceErrors {
    fn from(error: SourceError) -> Self {
        SourceErrors(vec![error])
    }
}

impl fmt::Display for SourceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceErrors {}
