//! Sends SMS, reads the inbox and tracks deliveries of a payamak-panel account from a
//! shell, or runs an emulator of the panel: the `payamak` command.
//!
//! Run `payamak --help` for the commands, settings and exit codes.

mod args;
mod commands;
mod config;
mod csv_input;
mod dates;
mod failure;
mod input;
mod output;
mod session;
mod store;

use std::process::ExitCode;

use clap::FromArgMatches as _;

use crate::args::Cli;
use crate::commands::Context;
use crate::failure::{Exit, Failure};
use crate::output::Output;

fn main() -> ExitCode {
    let mut command = args::command();
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| Cli::from_arg_matches(&matches).map_err(|error| error.format(&mut command)));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { Exit::Usage as u8 } else { Exit::Ok as u8 });
        }
    };
    let output = Output::detect(cli.global.json, cli.global.quiet);
    init_logging(cli.global.verbose, output.stderr_color);
    let exit = match run(cli, output) {
        Ok(exit) => exit,
        Err(failure) => {
            report(&output, &failure);
            failure.exit
        }
    };
    report_peak_memory();
    ExitCode::from(exit as u8)
}

/// Test hook: `PAYAMAK_TEST_PEAK_MEMORY=FILE` writes the process's peak resident
/// memory (the `VmHWM` line of `/proc/self/status`, Linux) to FILE on the way
/// out, for the scale measurements (`cli/tests/cli/scale.rs`). A parent's
/// `wait4` cannot give it: a child spawned from a large process carries the
/// parent's peak into its `ru_maxrss`.
fn report_peak_memory() {
    let Some(path) = std::env::var_os("PAYAMAK_TEST_PEAK_MEMORY") else { return };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap_or("VmHWM: unknown");
    let _ = std::fs::write(path, line);
}

fn run(cli: Cli, output: Output) -> Result<Exit, Failure> {
    if !cli.command.uses_panel() {
        // The emulator and the shell tools read no panel settings (a broken config file
        // must not stop them).
        let context = Context { settings: config::Settings::default(), output };
        return block_on(commands::run(cli.command, &context));
    }
    let file = config::load_file(cli.global.config.as_deref())?;
    if let Some((path, file)) = &file {
        tracing::debug!(path = %path.display(), "config file");
        if let Some(warning) = config::permission_warning(path, file) {
            output.warn(warning);
        }
    }
    let settings = config::resolve(&cli.global, &config::Env::from_process(), file.as_ref().map(|(_, file)| file))?;
    let context = Context { settings, output };
    block_on(commands::run(cli.command, &context))
}

fn block_on(command: impl std::future::Future<Output = Result<Exit, Failure>>) -> Result<Exit, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| {
        Failure::with_exit(Exit::Transport, anyhow::anyhow!("cannot start the async runtime: {error}"))
    })?;
    runtime.block_on(command)
}

/// Prints the error on stderr (and, with `--json`, as the JSON document on stdout).
fn report(output: &Output, failure: &Failure) {
    let message = failure.message();
    crate::stderr_line!("error: {message}");
    if output.json {
        let mut error =
            serde_json::json!({ "kind": failure.kind(), "exit_code": failure.exit as u8, "message": message });
        if let Some(payamak::Error::Rejected(rejected)) = failure.client_error() {
            error["code"] = rejected.code.into();
            error["english"] = rejected.english.into();
            error["persian"] = rejected.persian.into();
        }
        output.print_json(&serde_json::json!({ "error": error }));
    }
}

/// `-v` logs debug, `-vv` trace (the library redacts the password); `RUST_LOG` overrides.
fn init_logging(verbose: u8, color: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("payamak=debug"),
            _ => EnvFilter::new("payamak=trace"),
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .init();
}
