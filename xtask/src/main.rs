//! Project automation: `cargo xtask <command>` (see `--help`). The generator
//! and the commands' code are the `xtask` library (`src/lib.rs`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

use xtask::annotations::{Annotations, AnnotationsFile};
use xtask::load::Files;
use xtask::pipeline::{self, Input, Options};
use xtask::{bench, fetch, output, regen, test_suite};

#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "Project automation for payamak")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate `generated/` from `wsdl/annotations.toml` and the WSDLs it lists.
    Regen {
        /// Write nothing; fail if `generated/` differs from what would be generated.
        #[arg(long)]
        check: bool,
    },
    /// Generate Rust modules from any WSDL documents into a directory (`mod.rs` + one file per service).
    Generate {
        /// The WSDL documents.
        #[arg(required = true)]
        wsdl: Vec<PathBuf>,
        /// The output directory.
        #[arg(long)]
        out: PathBuf,
        /// Annotations (credentials, docs, status tables) in the format of `wsdl/annotations.toml`.
        #[arg(long)]
        annotations: Option<PathBuf>,
    },
    /// Download the services' WSDLs (`<base>send.asmx?WSDL`, `<base>IncomingMessages.asmx?WSDL`).
    Fetch {
        /// The base URL, e.g. `http://api.payamak-panel.com/post/`.
        #[arg(long)]
        base: String,
        /// Where to write them (default: the repository's `wsdl/`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run every benchmark (each against a baseline measured in the same run) and print their ratios.
    Bench {
        /// Shorter measurements, for a first look (noisier).
        #[arg(long)]
        quick: bool,
    },
    /// Run the whole test suite: sets up the Python venv the interop tests need, then `cargo test`.
    Test {
        /// Extra arguments for `cargo test` (after `--`).
        #[arg(last = true)]
        cargo_test_args: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line per cause; no backtrace: these are user-facing messages.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Regen { check } => regen::regen(&regen::repo_root(), check),
        Command::Generate { wsdl, out, annotations } => generate(&wsdl, &out, annotations.as_deref()),
        Command::Fetch { base, out } => {
            let out = out.unwrap_or_else(|| regen::repo_root().join("wsdl"));
            for path in fetch::fetch(&base, &out)? {
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Bench { quick } => {
            bench::run(&regen::repo_root(), if quick { bench::Length::Quick } else { bench::Length::Full })
        }
        Command::Test { cargo_test_args } => test_suite::run(&regen::repo_root(), &cargo_test_args),
    }
}

/// `generate`: the code path of `regen`, for any WSDL, without touching other files.
fn generate(wsdl: &[PathBuf], out: &Path, annotations: Option<&Path>) -> Result<()> {
    let mut inputs = Vec::new();
    for path in wsdl {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        inputs.push(Input { source: path.display().to_string(), text });
    }
    let loaded = annotations.map(|path| Annotations::load(path).map(|loaded| (loaded, path.display().to_string())));
    let loaded = loaded.transpose()?;
    let options = Options {
        annotations: loaded.as_ref().map(|(annotations, source)| AnnotationsFile { annotations, source }),
        command: "cargo xtask generate",
        strict: false,
        read: &Files::current_dir(),
    };
    let generated = pipeline::generate(&inputs, &options)?;
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    let changes = output::write(out, &generated.files, false)?;
    for file in &changes.written {
        println!("wrote {}", out.join(file).display());
    }
    Ok(())
}
