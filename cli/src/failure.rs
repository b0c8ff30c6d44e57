//! Exit codes, and errors that know theirs.

use std::fmt::Write as _;

use payamak::Error;

/// The process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// The panel refused (a result code: wrong credentials, credit, a refused recipient...).
    Refused = 1,
    /// Usage or input errors.
    Usage = 2,
    /// Transport or response errors.
    Transport = 3,
    /// A send may or may not have happened.
    Unknown = 4,
    /// A delivery watch gave up before every status was final.
    GaveUp = 5,
    /// Stopped by Ctrl-C.
    Interrupted = 130,
}

impl Exit {
    /// The worse of two exit codes, for commands with several outcomes
    /// (unknown over transport over refused over success).
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |exit: Exit| match exit {
            Exit::Ok => 0,
            Exit::Refused => 1,
            Exit::GaveUp => 2,
            Exit::Usage => 3,
            Exit::Interrupted => 4,
            Exit::Transport => 5,
            Exit::Unknown => 6,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// The exit code `error` calls for.
    pub fn of(error: &Error) -> Exit {
        match error {
            Error::Rejected(_) => Exit::Refused,
            Error::Input(_) => Exit::Usage,
            Error::Transport(_) | Error::Response(_) => Exit::Transport,
            Error::OutcomeUnknown(_) => Exit::Unknown,
            _ => Exit::Transport,
        }
    }
}

/// An error that ends the command, with the exit code it calls for.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// The error and its causes.
    pub error: anyhow::Error,
}

impl Failure {
    /// A usage or input error.
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Failure { exit: Exit::Usage, error: anyhow::anyhow!("{message}") }
    }

    /// An error with a chosen exit code.
    pub fn with_exit(exit: Exit, error: impl Into<anyhow::Error>) -> Self {
        Failure { exit, error: error.into() }
    }

    /// The library error in the chain, if any.
    pub fn client_error(&self) -> Option<&Error> {
        self.error.chain().find_map(|cause| cause.downcast_ref::<Error>())
    }

    /// `error: what: why: ...`, each cause once (library errors already
    /// include their causes in their message).
    pub fn message(&self) -> String {
        chain_message(self.error.chain())
    }

    /// A short name of the kind of error, for `--json`.
    pub fn kind(&self) -> &'static str {
        match self.client_error() {
            Some(Error::Rejected(_)) => "rejected",
            Some(Error::Input(_)) => "input",
            Some(Error::Transport(_)) => "transport",
            Some(Error::Response(_)) => "response",
            Some(Error::OutcomeUnknown(_)) => "outcome_unknown",
            _ => match self.exit {
                Exit::Usage => "usage",
                Exit::Refused => "rejected",
                Exit::Transport => "transport",
                Exit::Unknown => "outcome_unknown",
                Exit::Interrupted => "interrupted",
                Exit::GaveUp => "gave_up",
                Exit::Ok => "none",
            },
        }
    }
}

/// `what: why: ...` of `error` and its sources, each cause once.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    chain_message(std::iter::successors(Some(error), |error| error.source()))
}

fn chain_message<'a>(chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut text = String::new();
    for cause in chain {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        let _ = write!(text, "{part}");
    }
    text
}

/// Any error converts; its exit code comes from the library error in its
/// chain (see [`Exit::of`]), and is a usage/input error otherwise.
impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        let exit = error.chain().find_map(|cause| cause.downcast_ref::<Error>()).map_or(Exit::Usage, Exit::of);
        Failure { exit, error }
    }
}

/// What a command returns: the exit code of a command that ran to its end
/// (it may report partial failure), or the error that stopped it.
pub type CliResult = Result<Exit, Failure>;

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn worst_prefers_unknown_then_transport_then_refused() {
        assert_eq!(Exit::Ok.worst(Exit::Refused), Exit::Refused);
        assert_eq!(Exit::Unknown.worst(Exit::Transport), Exit::Unknown);
        assert_eq!(Exit::Refused.worst(Exit::Transport), Exit::Transport);
    }

    #[test]
    fn causes_are_not_repeated() {
        let inner = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let failure: Failure = Err::<(), _>(inner).context("cannot read x.csv").unwrap_err().into();
        assert_eq!(failure.message(), "cannot read x.csv: no such file");
        assert_eq!(failure.exit, Exit::Usage);
    }
}
