//! One module per command; each reads its input first, then connects, then calls the panel.

mod check;
mod credit;
mod delivery;
mod emulator;
mod inbox;
mod numbers;
mod schedule;
mod send;
mod send_bulk;

use payamak::recipient::normalize_all;
use payamak::Sms;
use serde::Serialize;

use crate::args::Command;
use crate::config::Settings;
use crate::failure::{CliResult, Failure};
use crate::output::Output;
use crate::session::Session;

/// What every command gets.
pub struct Context {
    /// The merged settings.
    pub settings: Settings,
    /// How to show results.
    pub output: Output,
}

impl Context {
    /// Connects to the panel (or the built-in emulator).
    pub async fn connect(&self) -> Result<Session, Failure> {
        Session::connect(&self.settings, &self.output).await
    }
}

/// Runs `command`.
pub async fn run(command: Command, context: &Context) -> CliResult {
    match command {
        Command::Check => check::run(context).await,
        Command::Credit => credit::run(context).await,
        Command::Send(args) => send::run(args, context).await,
        Command::SendBulk(args) => send_bulk::run(args, context).await,
        Command::Schedule(args) => schedule::run(args, context).await,
        Command::Delivery(args) => delivery::run(args, context).await,
        Command::UpdateDelivery(args) => delivery::update(args, context).await,
        Command::Inbox(args) => inbox::list(args, context).await,
        Command::InboxCount(args) => inbox::count(args, context).await,
        Command::Numbers => numbers::run(context).await,
        Command::MarkRead(args) => inbox::mark(args, true, context).await,
        Command::MarkUnread(args) => inbox::mark(args, false, context).await,
        Command::Emulator(args) => emulator::run(args, context).await,
    }
}

/// The message to `to`, with every number checked before anything is sent.
pub fn message(from: &str, to: &[String], text: String, flash: bool) -> Result<Sms, Failure> {
    if from.trim().is_empty() {
        return Err(Failure::usage("--from is empty"));
    }
    let numbers = normalize_all(to).map_err(|error| Failure::usage(format!("--to: {}", error.error())))?;
    Ok(Sms::new(from, text).to_numbers(numbers).flash(flash))
}

/// How a text is sent, for the `text` field of JSON documents.
#[derive(Debug, Serialize)]
pub struct TextJson {
    /// SMS parts per recipient.
    pub parts: u32,
    /// `gsm7` or `ucs2`.
    pub encoding: &'static str,
    /// Units used (septets or UTF-16 code units).
    pub units: u32,
    /// Units per part.
    pub per_part: u32,
    /// Units left in the last part.
    pub remaining_in_part: u32,
}

impl TextJson {
    /// Counts `text`.
    pub fn of(text: &str) -> Self {
        let parts = payamak::sms_parts::count(text);
        TextJson {
            parts: parts.parts(),
            encoding: match parts.encoding() {
                payamak::sms_parts::Encoding::Gsm7 => "gsm7",
                _ => "ucs2",
            },
            units: parts.units(),
            per_part: parts.per_part(),
            remaining_in_part: parts.remaining_in_part(),
        }
    }

    /// `1 SMS part (UCS-2, 4 of 70 units)`.
    pub fn describe(&self) -> String {
        let plural = if self.parts == 1 { "" } else { "s" };
        let encoding = if self.encoding == "gsm7" { "GSM-7" } else { "UCS-2" };
        format!(
            "{} SMS part{plural} per recipient ({encoding}, {} units, {} left in the last part)",
            self.parts, self.units, self.remaining_in_part
        )
    }
}
