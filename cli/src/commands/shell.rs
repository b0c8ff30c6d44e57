//! Fits payamak into a shell: completion scripts (`payamak completions`) and man pages
//! (`payamak man`).

use std::path::Path;

use anyhow::Context as _;

use crate::args::{CompletionsArgs, ManArgs};
use crate::failure::{CliResult, Exit, Failure};

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> CliResult {
    let mut command = crate::args::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "payamak", &mut script);
    write_stdout(&script)
}

/// Prints the man page, or writes one per command.
pub fn man(args: &ManArgs) -> CliResult {
    let command = crate::args::command();
    let Some(dir) = &args.out_dir else {
        return write_stdout(&render(&command)?);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_page(dir, "payamak", &render(&command)?)?;
    for sub in command.get_subcommands() {
        let name = format!("payamak-{}", sub.get_name());
        let page = render(&sub.clone().name(name.clone()).display_name(name.clone()))?;
        write_page(dir, &name, &page)?;
    }
    Ok(Exit::Ok)
}

fn render(command: &clap::Command) -> Result<Vec<u8>, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .map_err(|error| Failure::with_exit(Exit::Transport, anyhow::anyhow!("cannot render the man page: {error}")))?;
    Ok(page)
}

fn write_page(dir: &Path, name: &str, page: &[u8]) -> Result<(), Failure> {
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> CliResult {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(Exit::Ok),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Ok),
        Err(error) => Err(Failure::with_exit(Exit::Transport, anyhow::anyhow!("cannot write to stdout: {error}"))),
    }
}
