//! Shared test plumbing: fixture paths, `generate` as the CLI runs it, golden files
//! (`UPDATE_EXPECT=1`), temporary directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use anyhow::Result;

use crate::annotations::{Annotations, AnnotationsFile};
use crate::load::Files;
use crate::output;
use crate::pipeline::{self, Input, Options};
use crate::regen::repo_root;

/// `xtask/tests/fixtures`, relative to the repository root.
pub const FIXTURES: &str = "xtask/tests/fixtures";

pub fn fixtures_dir() -> PathBuf {
    repo_root().join(FIXTURES)
}

/// The file at `relative` (to the repository root) as a pipeline input.
pub fn input(relative: &str) -> Input {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    Input { source: relative.to_owned(), text }
}

/// Files relative to the repository root, where the fixtures' imports are read.
pub fn repo_files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| Files { base: repo_root() })
}

/// The options of `cargo xtask generate`, with annotations loaded from the file named.
pub fn generate_options<'a>(annotations: Option<(&'a Annotations, &'a str)>) -> Options<'a> {
    Options {
        annotations: annotations.map(|(annotations, source)| AnnotationsFile { annotations, source }),
        command: "cargo xtask generate",
        strict: false,
        read: repo_files(),
    }
}

/// `generate` as the CLI runs it.
pub fn generate(inputs: &[Input], annotations: Option<&str>) -> Result<BTreeMap<String, String>> {
    let loaded = annotations.map(|source| Annotations::load(&repo_root().join(source))).transpose()?;
    pipeline::generate(inputs, &generate_options(loaded.as_ref().zip(annotations))).map(|generated| generated.files)
}

/// True when golden files are to be rewritten instead of compared.
pub fn update_expect() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some()
}

/// Compares (or with `UPDATE_EXPECT=1` rewrites) a directory of golden files;
/// returns a description of the differences, if any.
pub fn check_golden_dir(dir: &Path, files: &BTreeMap<String, String>) -> Option<String> {
    let shown = format!("{}/", dir.strip_prefix(repo_root()).unwrap_or(dir).display());
    if update_expect() {
        output::write(dir, files, true).expect("golden files can be written");
        return None;
    }
    let drifts = output::differences(dir, files, true).expect("golden files can be read");
    (!drifts.is_empty()).then(|| output::describe(&shown, &drifts, "run the tests with UPDATE_EXPECT=1 to accept"))
}

/// Compares (or rewrites) one golden text file.
pub fn check_golden_file(path: &Path, actual: &str) -> Option<String> {
    if update_expect() {
        std::fs::write(path, actual).expect("golden file can be written");
        return None;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default().replace("\r\n", "\n");
    (expected != actual).then(|| {
        format!("{} differs (UPDATE_EXPECT=1 accepts):\n--- expected\n{expected}\n--- actual\n{actual}", path.display())
    })
}

/// Fails with every problem found, so one run shows (and one update fixes) them all.
pub fn assert_no_problems(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("xtask-{label}-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temporary directory can be created");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the files of `from` (not recursively) into `to`.
pub fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory can be created");
    for entry in std::fs::read_dir(from).expect("directory can be listed") {
        let entry = entry.expect("directory entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("file can be copied");
        }
    }
}
