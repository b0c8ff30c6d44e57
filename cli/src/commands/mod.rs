//! The commands, one module each: every one reads its input first, then connects, then
//! calls the panel.

mod campaign;
mod check;
mod credit;
mod delivery;
mod emulator;
mod inbox;
mod numbers;
mod schedule;
mod send;
mod send_bulk;
mod shell;
mod worker;

use payamak::recipient::{normalize_all, MobileNumber};
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
        Command::Campaign(crate::args::CampaignCommand::Create(args)) => campaign::create(*args, context).await,
        Command::Campaign(crate::args::CampaignCommand::Status(args)) => campaign::status(args, context).await,
        Command::Campaign(crate::args::CampaignCommand::ResendUnknown(args)) => {
            campaign::resend_unknown(args, context).await
        }
        Command::Worker(args) => worker::run(args, context).await,
        Command::Schedule(args) => schedule::run(args, context).await,
        Command::Delivery(args) => delivery::run(args, context).await,
        Command::UpdateDelivery(args) => delivery::update(args, context).await,
        Command::Inbox(args) => inbox::list(args, context).await,
        Command::InboxCount(args) => inbox::count(args, context).await,
        Command::Numbers => numbers::run(context).await,
        Command::MarkRead(args) => inbox::mark(args, true, context).await,
        Command::MarkUnread(args) => inbox::mark(args, false, context).await,
        Command::Emulator(args) => emulator::run(args, context).await,
        Command::Completions(args) => shell::completions(&args),
        Command::Man(args) => shell::man(&args),
    }
}

/// The most SMS parts per recipient a text may take unless `--max-parts` says otherwise.
pub const DEFAULT_MAX_PARTS: u32 = 5;

/// The message to `to`, with every number checked before anything is sent; a number
/// given more than once (in any form) is sent to once, with a note.
pub fn message(from: &str, to: &[String], text: String, flash: bool, output: &Output) -> Result<Sms, Failure> {
    if from.trim().is_empty() {
        return Err(Failure::usage("--from is empty"));
    }
    let numbers = normalize_all(to).map_err(|error| Failure::usage(format!("--to: {}", error.error())))?;
    let mut unique: Vec<MobileNumber> = Vec::with_capacity(numbers.len());
    for number in numbers {
        if !unique.contains(&number) {
            unique.push(number);
        }
    }
    for number in &unique {
        let times = to.iter().filter(|given| MobileNumber::parse(given).is_ok_and(|parsed| parsed == *number)).count();
        if times > 1 {
            output.note(format!("--to {number} was given {times} times; it is sent to once"));
        }
    }
    Ok(Sms::new(from, text).to_numbers(unique).flash(flash))
}

/// Refuses a text that takes more than `max_parts` SMS parts per recipient.
pub fn check_parts(text: &TextJson, max_parts: u32) -> Result<(), Failure> {
    if text.parts > max_parts {
        return Err(Failure::usage(format!(
            "the text takes {} SMS parts per recipient ({} characters), more than --max-parts {max_parts}: \
             check the text, or give --max-parts {} to send it",
            text.parts, text.characters, text.parts
        )));
    }
    Ok(())
}

/// What a `--dry-run` shows: who would get what, and what it would cost.
#[derive(Debug, Serialize)]
pub struct DryRunJson<'a> {
    /// Always true: nothing was sent.
    pub dry_run: bool,
    /// The sender number.
    pub from: String,
    /// The recipients, normalised (borrowed from the send: a million of them are not copied).
    pub recipients: &'a [payamak::recipient::MobileNumber],
    /// How the text is sent.
    pub text: TextJson,
    /// Calls of at most 100 recipients.
    pub batches: usize,
    /// SMS parts in all: parts per recipient × recipients (what the panel charges by).
    pub total_parts: u64,
}

impl<'a> DryRunJson<'a> {
    /// The dry run of sending `sms`.
    pub fn of(sms: &'a Sms) -> Self {
        let text = TextJson::of(sms.text());
        let recipients = sms.recipients();
        DryRunJson {
            dry_run: true,
            from: sms.sender().to_owned(),
            total_parts: u64::from(text.parts) * recipients.len() as u64,
            batches: recipients.len().div_ceil(payamak::sms::MAX_RECIPIENTS_PER_CALL),
            recipients,
            text,
        }
    }

    /// Prints it (listing at most `shown` recipients in a table).
    pub fn print(&self, output: &Output, shown: usize) {
        if output.json {
            output.print_json(self);
            return;
        }
        output.print(format!("dry run: nothing was sent. From {}:", self.from));
        for number in self.recipients.iter().take(shown) {
            output.print(format!("  {number}"));
        }
        if self.recipients.len() > shown {
            output.print(format!("  ... and {} more", self.recipients.len() - shown));
        }
        output.print(self.text.describe());
        output.print(format!(
            "{} recipient(s) × {} part(s) = {} SMS parts in {} call(s)",
            self.recipients.len(),
            self.text.parts,
            self.total_parts,
            self.batches
        ));
    }
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
    /// Characters (Unicode scalar values).
    pub characters: usize,
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
            characters: text.chars().count(),
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
