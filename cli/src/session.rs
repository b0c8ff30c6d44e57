//! The client a command talks through: to the configured panel, or to a
//! built-in emulator when no endpoint is configured.

use std::io::IsTerminal as _;

use payamak::{Client, SoapVersion};
use payamak_emulator::{Account, Emulator, RunningEmulator, DEMO_PASSWORD, DEMO_USERNAME};

use crate::config::{Secret, Settings};
use crate::failure::{Exit, Failure};
use crate::output::Output;

/// A connected client, and the built-in emulator behind it if there is one.
pub struct Session {
    /// The client.
    pub client: Client,
    /// The panel's base URLs as the client normalised them; empty for the built-in emulator.
    pub endpoints: Vec<String>,
    /// The user name the client logs in with.
    pub username: String,
    /// Kept alive for as long as the command runs.
    _emulator: Option<RunningEmulator>,
}

/// The sender numbers an account made for `--user` in the built-in emulator gets (the demo account's).
const BUILT_IN_SENDERS: [&str; 2] = ["5000123456", "3000987654"];

impl Session {
    /// Connects per `settings`; asks for a missing password on a terminal.
    pub async fn connect(settings: &Settings, output: &Output) -> Result<Session, Failure> {
        let password = match (&settings.username, &settings.password) {
            (Some(username), None) => Some(prompt_password(username)?),
            (None, Some(_)) => return Err(Failure::usage(
                "a password was given without a user name: set --user, PAYAMAK_USERNAME or username in the config file",
            )),
            (_, password) => password.clone(),
        };
        let (endpoints, username, password, emulator) = if settings.endpoints.is_empty() {
            let account = match (&settings.username, &password) {
                (Some(username), Some(password)) => built_in_account(username, &password.0),
                _ => Account::demo(),
            };
            let username = account.username().to_owned();
            let emulator = Emulator::builder().account(account).start().await.map_err(|error| {
                Failure::with_exit(Exit::Transport, anyhow::anyhow!("cannot start the built-in emulator: {error}"))
            })?;
            let who =
                if username == DEMO_USERNAME { "demo account".to_owned() } else { format!("account {username:?}") };
            output.note(format!(
                "no endpoint configured; using a built-in emulator ({who}). \
                 Set --endpoint or PAYAMAK_ENDPOINT for a real panel."
            ));
            let password = password.map_or_else(|| DEMO_PASSWORD.to_owned(), |secret| secret.0);
            (vec![emulator.base_url()], username, password, Some(emulator))
        } else {
            let (Some(username), Some(password)) = (settings.username.clone(), password) else {
                return Err(Failure::usage(
                    "no credentials: set --user and --password, PAYAMAK_USERNAME and PAYAMAK_PASSWORD, \
                     or username and password in the config file",
                ));
            };
            (settings.endpoints.clone(), username, password.0, None)
        };
        let mut builder = Client::builder().base_urls(endpoints).credentials(username.clone(), password);
        if settings.soap12 {
            builder = builder.soap_version(SoapVersion::V12);
        }
        if let Some(timeout) = settings.timeout {
            builder = builder.timeout(timeout);
        }
        let client = builder.build()?;
        tracing::debug!(?client, "client ready");
        let endpoints = if emulator.is_some() { Vec::new() } else { client.base_urls().map(str::to_owned).collect() };
        Ok(Session { client, endpoints, username, _emulator: emulator })
    }
}

/// An account for the built-in emulator with the user's credentials and the demo account's settings.
fn built_in_account(username: &str, password: &str) -> Account {
    if username.eq_ignore_ascii_case(DEMO_USERNAME) && password == DEMO_PASSWORD {
        return Account::demo();
    }
    BUILT_IN_SENDERS
        .iter()
        .fold(Account::new(username, password), |account, sender| account.sender(sender))
        .credit(10_000.0)
        .daily_limit(1000)
}

/// Asks for the password without echo, when stdin is a terminal.
fn prompt_password(username: &str) -> Result<Secret, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "no password for {username:?}: set --password or PAYAMAK_PASSWORD (stdin is not a terminal, so it cannot be asked for)"
        )));
    }
    let term = console::Term::stderr();
    term.write_str(&format!("Password for {username}: "))
        .and_then(|()| term.read_secure_line())
        .map(Secret)
        .map_err(|error| Failure::usage(format!("cannot read the password: {error}")))
}
