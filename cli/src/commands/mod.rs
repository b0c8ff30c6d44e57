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
/// `R` is the recipients as JSON: the send's own list, or a list read again
/// from a file as it is written out ([`StreamedNumbers`]).
#[derive(Debug, Serialize)]
pub struct DryRunJson<'a, R = &'a [payamak::recipient::MobileNumber]> {
    /// Always true: nothing was sent.
    pub dry_run: bool,
    /// The sender number.
    pub from: String,
    /// The recipients, normalised (borrowed from the send: a million of them are not copied).
    pub recipients: R,
    /// How the text is sent.
    pub text: TextJson,
    /// Calls of at most 100 recipients.
    pub batches: usize,
    /// SMS parts in all: parts per recipient × recipients (what the panel charges by).
    pub total_parts: u64,
    /// How many recipients there are.
    #[serde(skip)]
    pub count: usize,
    /// The first of them, for the table.
    #[serde(skip)]
    pub first: &'a [payamak::recipient::MobileNumber],
}

impl<'a> DryRunJson<'a> {
    /// The dry run of sending `sms`.
    pub fn of(sms: &'a Sms) -> Self {
        let recipients = sms.recipients();
        DryRunJson::new(sms.sender(), TextJson::of(sms.text()), recipients.len(), recipients, recipients)
    }
}

impl<'a, R: Serialize> DryRunJson<'a, R> {
    /// The dry run of sending a text to `count` recipients, `first` the first of them.
    pub fn new(
        from: &str,
        text: TextJson,
        count: usize,
        first: &'a [payamak::recipient::MobileNumber],
        recipients: R,
    ) -> Self {
        DryRunJson {
            dry_run: true,
            from: from.to_owned(),
            total_parts: u64::from(text.parts) * count as u64,
            batches: count.div_ceil(payamak::sms::MAX_RECIPIENTS_PER_CALL),
            recipients,
            text,
            count,
            first,
        }
    }

    /// Prints it: the JSON document, or a table listing at most `shown` recipients.
    pub fn print(&self, output: &Output, shown: usize) {
        if output.json {
            output.print_json(self);
            return;
        }
        self.print_table(output, shown);
    }

    /// Prints it as a table, listing at most `shown` recipients.
    pub fn print_table(&self, output: &Output, shown: usize) {
        output.print(format!("dry run: nothing was sent. From {}:", self.from));
        for number in self.first.iter().take(shown) {
            output.print(format!("  {number}"));
        }
        if self.count > shown {
            output.print(format!("  ... and {} more", self.count - shown));
        }
        output.print(self.text.describe());
        output.print(format!(
            "{} recipient(s) × {} part(s) = {} SMS parts in {} call(s)",
            self.count, self.text.parts, self.total_parts, self.batches
        ));
    }
}

/// Recipients written to JSON as they are read from a file, so that a list of
/// millions is never held: the read must give the numbers a first pass found
/// (as many, with the same fingerprint), or writing fails, saying the file changed.
pub struct StreamedNumbers<I> {
    numbers: std::cell::RefCell<Option<I>>,
    expected: usize,
    fingerprint: String,
    file: String,
}

impl<I> StreamedNumbers<I> {
    /// The numbers `numbers` will give from `file`: `expected` of them, with
    /// `fingerprint` ([`payamak::bulk::RecipientsFingerprint`]).
    pub fn new(numbers: I, expected: usize, fingerprint: String, file: String) -> Self {
        StreamedNumbers { numbers: std::cell::RefCell::new(Some(numbers)), expected, fingerprint, file }
    }
}

impl<I: Iterator<Item = anyhow::Result<payamak::recipient::MobileNumber>>> Serialize for StreamedNumbers<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _};
        let Some(numbers) = self.numbers.borrow_mut().take() else {
            return Err(S::Error::custom("the recipients were written already"));
        };
        let changed = || S::Error::custom(format!("the CSV file {} changed while it was read", self.file));
        let mut seq = serializer.serialize_seq(Some(self.expected))?;
        let mut fingerprint = payamak::bulk::RecipientsFingerprint::default();
        for number in numbers {
            let number = number.map_err(|error| S::Error::custom(format!("{error:#}")))?;
            if fingerprint.count() == self.expected {
                return Err(changed());
            }
            fingerprint.push(number.as_str());
            seq.serialize_element(number.as_str())?;
        }
        if fingerprint.count() != self.expected || fingerprint.finish() != self.fingerprint {
            return Err(changed());
        }
        seq.end()
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

#[cfg(test)]
mod streamed_numbers_tests {
    use super::StreamedNumbers;
    use payamak::bulk::RecipientsFingerprint;
    use payamak::recipient::MobileNumber;

    fn numbers(texts: &[&str]) -> Vec<anyhow::Result<MobileNumber>> {
        texts.iter().map(|text| Ok(MobileNumber::parse(text).expect("a number"))).collect()
    }

    fn fingerprint(texts: &[&str]) -> String {
        let mut fingerprint = RecipientsFingerprint::default();
        texts.iter().for_each(|text| fingerprint.push(text));
        fingerprint.finish()
    }

    fn written(read: Vec<anyhow::Result<MobileNumber>>, first_pass: &[&str]) -> Result<String, String> {
        let streamed =
            StreamedNumbers::new(read.into_iter(), first_pass.len(), fingerprint(first_pass), "list.csv".to_owned());
        serde_json::to_string(&streamed).map_err(|error| error.to_string())
    }

    #[test]
    fn the_numbers_the_first_pass_found_are_written_as_they_are_read() {
        let both = ["09121234567", "09351234567"];
        assert_eq!(written(numbers(&both), &both), Ok(r#"["09121234567","09351234567"]"#.to_owned()));
    }

    #[test]
    fn a_file_that_changed_between_the_passes_or_cannot_be_read_is_an_error() {
        let (a, b, c) = ("09121234567", "09351234567", "09011234567");
        for (read, first_pass) in
            [(vec![a], vec![a, b]), (vec![a, b, c], vec![a, b]), (vec![a, c], vec![a, b]), (vec![b, a], vec![a, b])]
        {
            let error = written(numbers(&read), &first_pass).expect_err("refused");
            assert!(error.contains("list.csv changed while it was read"), "{read:?}: {error}");
        }
        let mut broken = numbers(&[a]);
        broken.push(Err(anyhow::anyhow!("cannot read the CSV file list.csv")));
        let error = written(broken, &[a, b]).expect_err("refused");
        assert!(error.contains("cannot read the CSV file list.csv"), "{error}");
    }
}
