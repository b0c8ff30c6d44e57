//! `cargo xtask regen [--check]`: `generated/` from `wsdl/annotations.toml`
//! and the WSDLs it lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::annotations::{Annotations, AnnotationsFile};
use crate::load::Files;
use crate::output;
use crate::pipeline::{self, Input, Options};

/// The annotations file, relative to the repository root.
pub const ANNOTATIONS: &str = "wsdl/annotations.toml";
/// The output directory, relative to the repository root.
pub const GENERATED: &str = "generated";
const COMMAND: &str = "cargo xtask regen";
const HINT: &str = "run `cargo xtask regen` and commit the result";

/// The repository this xtask belongs to.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The generated files for the repository at `root`, in memory.
pub fn generated_files(root: &Path) -> Result<BTreeMap<String, String>> {
    let annotations = Annotations::load(&root.join(ANNOTATIONS))?;
    let wsdl_dir = Path::new(ANNOTATIONS).parent().and_then(Path::to_str).unwrap_or("");
    // Paths as the header and `SERVICE.source` show them: relative, with `/`.
    let sources: BTreeSet<String> =
        annotations.services.values().map(|service| format!("{wsdl_dir}/{}", service.wsdl)).collect();
    let mut inputs = Vec::new();
    for source in sources {
        let path = root.join(&source);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        inputs.push(Input { source, text });
    }
    let options = Options {
        annotations: Some(AnnotationsFile { annotations: &annotations, source: ANNOTATIONS }),
        command: COMMAND,
        strict: true,
        read: &Files { base: root.to_path_buf() },
    };
    let generated = pipeline::generate(&inputs, &options)?;
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(generated.files)
}

/// Regenerates `generated/` under `root`, or with `check` only compares it.
pub fn regen(root: &Path, check: bool) -> Result<()> {
    let files = generated_files(root)?;
    let dir = root.join(GENERATED);
    let shown = format!("{GENERATED}/");
    if check {
        let drifts = output::differences(&dir, &files, true)?;
        if !drifts.is_empty() {
            bail!("{}", output::describe(&shown, &drifts, HINT));
        }
        println!("{shown} is up to date ({} files)", files.len());
    } else {
        let changes = output::write(&dir, &files, true)?;
        for file in &changes.written {
            println!("wrote {shown}{file}");
        }
        for file in &changes.deleted {
            println!("deleted {shown}{file}");
        }
        if changes.written.is_empty() && changes.deleted.is_empty() {
            println!("{shown} is up to date ({} files)", files.len());
        }
    }
    Ok(())
}
