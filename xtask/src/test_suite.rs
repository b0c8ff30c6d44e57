//! `cargo xtask test`: the whole test suite, with what it needs installed.
//!
//! The interoperability tests drive Python's zeep and Node's `soap` package
//! (node-soap, an independent SOAP server); this creates a virtual environment
//! for zeep and installs node-soap under `target/` (once each), then runs
//! `cargo test` for the whole workspace with every feature, pointing the tests
//! at both.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

const VENV: &str = "target/interop-venv";
const REQUIREMENTS: &str = "tests/interop/requirements.txt";
const NODE_DIR: &str = "target/interop-node";
const NODE_PACKAGE: &str = "tests/interop/node";

/// Runs the whole suite; extra arguments go to `cargo test`.
pub fn run(root: &Path, cargo_test_args: &[String]) -> Result<()> {
    let python = ensure_interop_venv(root)?;
    let node_modules = ensure_node_soap(root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["test", "--workspace", "--all-features"])
        .args(cargo_test_args)
        .env("PAYAMAK_PYTHON", &python)
        .env("PAYAMAK_NODE_MODULES", &node_modules)
        .status()
        .context("cannot run cargo test")?;
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}

/// The venv's Python, with the interop requirements installed.
fn ensure_interop_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join(VENV);
    let python = venv.join("bin").join("python");
    let requirements = root.join(REQUIREMENTS);
    let stamp = venv.join("requirements.installed");
    let wanted =
        std::fs::read_to_string(&requirements).with_context(|| format!("cannot read {}", requirements.display()))?;
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(python);
    }
    eprintln!("Setting up {VENV} for the interoperability tests (Python zeep)…");
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run_checked(Command::new(&system_python).args(["-m", "venv"]).arg(&venv), "create the virtual environment")?;
    run_checked(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
        "install the interop test requirements",
    )?;
    std::fs::write(&stamp, wanted).with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(python)
}

/// node-soap's `node_modules`, installed from the pinned lock file with `npm ci`.
fn ensure_node_soap(root: &Path) -> Result<PathBuf> {
    let dir = root.join(NODE_DIR);
    let modules = dir.join("node_modules");
    let stamp = dir.join("lock.installed");
    let lock_path = root.join(NODE_PACKAGE).join("package-lock.json");
    let wanted = std::fs::read_to_string(&lock_path).with_context(|| format!("cannot read {}", lock_path.display()))?;
    if modules.join("soap").is_dir() && std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(modules);
    }
    eprintln!("Setting up {NODE_DIR} for the interoperability tests (node-soap)…");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in ["package.json", "package-lock.json"] {
        let from = root.join(NODE_PACKAGE).join(file);
        std::fs::copy(&from, dir.join(file)).with_context(|| format!("cannot copy {}", from.display()))?;
    }
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".to_owned());
    run_checked(
        Command::new(&npm).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir),
        "install node-soap",
    )?;
    std::fs::write(&stamp, wanted).with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(modules)
}

fn run_checked(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot {what}: {command:?}"))?;
    if !status.success() {
        bail!("could not {what}: {command:?} exited with {status}");
    }
    Ok(())
}
