//! What a journal records: the job it belongs to, and what became of each batch.

use crate::error::{Error, ResponseErrorKind};
use crate::recipient::MobileNumber;
use crate::sms::{RecipientOutcome, RecipientReport, SendReport, Sms};
use crate::status::StatusCode;

/// The journal format's version (2 added the panel and user name).
pub const JOURNAL_VERSION: u32 = 2;

/// What a bulk job is: fixed before its first batch, and compared when a run
/// resumes it, so that a journal is never resumed by another send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct JobHeader {
    /// The format version.
    pub version: u32,
    /// The panel's base URLs, normalised, in failover order; empty for an
    /// emulator built into the program (the CLI's built-in emulator).
    #[cfg_attr(any(feature = "journal", feature = "serde"), serde(default))]
    pub endpoints: Vec<String>,
    /// The user name the batches are sent with.
    #[cfg_attr(any(feature = "journal", feature = "serde"), serde(default))]
    pub username: String,
    /// The sender number.
    pub from: String,
    /// The text.
    pub text: String,
    /// Flash SMS.
    pub flash: bool,
    /// The number of recipients.
    pub recipients: usize,
    /// FNV-1a (64 bit, hex) of the recipients in order, one per line.
    pub recipients_fnv1a: String,
    /// Recipients per batch.
    pub batch_size: usize,
    /// Where the recipients came from (the CLI writes its CSV file), for people; not compared.
    #[cfg_attr(any(feature = "journal", feature = "serde"), serde(rename = "csv"))]
    pub source: String,
    /// When the job was started, UTC (RFC 3339); not compared.
    pub created_at: String,
}

impl JobHeader {
    /// The header of a job sending `sms` in batches of `batch_size`, with the
    /// account `username` of the panel at `endpoints`.
    pub fn new(sms: &Sms, batch_size: usize, endpoints: Vec<String>, username: impl Into<String>) -> Self {
        JobHeader {
            version: JOURNAL_VERSION,
            endpoints,
            username: username.into(),
            from: sms.sender().to_owned(),
            text: sms.text().to_owned(),
            flash: sms.is_flash(),
            recipients: sms.recipients().len(),
            recipients_fnv1a: fingerprint(sms.recipients().iter().map(MobileNumber::as_str)),
            batch_size,
            source: String::new(),
            created_at: now(),
        }
    }

    /// Records where the recipients came from.
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// The differences that make `self` (a journal's) unusable for `current` (this run's).
    pub fn differences(&self, current: &JobHeader) -> Vec<String> {
        self.differences_in(current, "the journal")
    }

    /// [`differences`](Self::differences), saying where `self` was kept
    /// (`"the journal"`, `"the store"`).
    pub fn differences_in(&self, current: &JobHeader, kept_in: &str) -> Vec<String> {
        let mut differences = Vec::new();
        if self.version != current.version {
            let what = kept_in.strip_prefix("the ").unwrap_or(kept_in);
            differences
                .push(format!("{what} format version {} (this payamak writes {})", self.version, current.version));
            // An older format does not say which panel it was written against: nothing else is comparable.
            return differences;
        }
        if self.endpoints != current.endpoints {
            differences.push(format!(
                "the panel differs ({} in {kept_in}, {} now)",
                describe_endpoints(&self.endpoints),
                describe_endpoints(&current.endpoints)
            ));
        }
        if self.username != current.username {
            differences
                .push(format!("the user name differs ({:?} in {kept_in}, {:?} now)", self.username, current.username));
        }
        if self.from != current.from {
            differences.push(format!("the sender differs ({} in {kept_in}, {} now)", self.from, current.from));
        }
        if self.text != current.text {
            differences.push("the text differs".to_owned());
        }
        if self.flash != current.flash {
            differences.push("--flash differs".to_owned());
        }
        if self.recipients != current.recipients || self.recipients_fnv1a != current.recipients_fnv1a {
            differences.push(format!(
                "the recipients differ ({} in {kept_in}, {} now, or in another order)",
                self.recipients, current.recipients
            ));
        }
        if self.batch_size != current.batch_size {
            differences
                .push(format!("the batch size differs ({} in {kept_in}, {} now)", self.batch_size, current.batch_size));
        }
        differences
    }
}

/// The panel a header's endpoints stand for, for people.
fn describe_endpoints(endpoints: &[String]) -> String {
    if endpoints.is_empty() {
        "the built-in emulator".to_owned()
    } else {
        endpoints.join(", ")
    }
}

/// FNV-1a, 64 bit, of the numbers one per line: detects a changed recipient list.
pub(crate) fn fingerprint<'a>(numbers: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash = RecipientsFingerprint::default();
    for number in numbers {
        hash.push(number);
    }
    hash.finish()
}

/// [`JobHeader::recipients_fnv1a`] and [`JobHeader::recipients`] of numbers
/// read one at a time (a stream too long to hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientsFingerprint {
    hash: u64,
    count: usize,
}

impl Default for RecipientsFingerprint {
    fn default() -> Self {
        RecipientsFingerprint { hash: 0xcbf2_9ce4_8422_2325, count: 0 }
    }
}

impl RecipientsFingerprint {
    /// Adds the next number.
    pub fn push(&mut self, number: &str) {
        for byte in number.bytes().chain(std::iter::once(b'\n')) {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.count += 1;
    }

    /// The numbers added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The fingerprint, as [`JobHeader::recipients_fnv1a`] has it.
    pub fn finish(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

/// The time now, as journals write it (UTC, RFC 3339 with milliseconds).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a journal knows of one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// The numbers the batch was (about to be) sent to.
    pub numbers: Vec<String>,
    /// What became of it; `None` when its attempt was recorded but no outcome:
    /// it may or may not have been sent.
    pub outcome: Option<BatchOutcome>,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(any(feature = "journal", feature = "serde"), serde(tag = "status", rename_all = "snake_case"))]
pub enum BatchOutcome {
    /// The panel answered the call; per-recipient results.
    Sent {
        /// One per recipient, in order.
        recipients: Vec<SentRecipient>,
    },
    /// The batch was definitely not sent: the panel refused it as a whole, or
    /// the request never reached it. A later run sends it again.
    Failed {
        /// Why.
        error: ErrorRecord,
    },
    /// The request may have reached the panel without an answer. It is never
    /// sent again on its own.
    Unknown {
        /// Why.
        error: ErrorRecord,
    },
}

impl BatchOutcome {
    /// The outcome of one SendSms call of a batch.
    pub(crate) fn of(result: &Result<SendReport, Error>) -> Self {
        match result {
            Ok(report) => BatchOutcome::Sent {
                recipients: report.recipients.iter().map(|recipient| SentRecipient::of(report, recipient)).collect(),
            },
            Err(error @ Error::OutcomeUnknown(_)) => BatchOutcome::Unknown { error: ErrorRecord::of(error) },
            Err(error) => BatchOutcome::Failed { error: ErrorRecord::of(error) },
        }
    }
}

/// One recipient of a sent batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct SentRecipient {
    /// The number.
    pub number: String,
    /// Its recId, if the panel assigned one.
    pub rec_id: Option<i64>,
    /// The per-recipient status byte, if the panel returned one.
    pub status: Option<i32>,
    /// Whether the panel took the message for this number: the call succeeded
    /// and no status byte refuses it (with or without a recId).
    pub accepted: bool,
}

impl SentRecipient {
    fn of(report: &SendReport, recipient: &RecipientReport) -> Self {
        SentRecipient {
            number: recipient.number.as_str().to_owned(),
            rec_id: recipient.rec_id,
            status: recipient.status.map(StatusCode::code),
            accepted: matches!(report.outcome(recipient), RecipientOutcome::Accepted { .. }),
        }
    }
}

/// An error as a journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct ErrorRecord {
    /// `rejected`, `transport`, `response`, `redirected`, `input` or `outcome_unknown`.
    pub kind: String,
    /// The panel's result code, for `rejected`.
    pub code: Option<i32>,
    /// The message.
    pub message: String,
}

impl ErrorRecord {
    /// How `error` is recorded.
    pub fn of(error: &Error) -> Self {
        let kind = match error {
            Error::Rejected(_) => "rejected",
            Error::Input(_) => "input",
            Error::Transport(_) => "transport",
            Error::Response(response) if matches!(response.kind, ResponseErrorKind::Redirected { .. }) => "redirected",
            Error::Response(_) => "response",
            Error::OutcomeUnknown(_) => "outcome_unknown",
        };
        let code = match error {
            Error::Rejected(rejected) => Some(rejected.code),
            _ => None,
        };
        ErrorRecord { kind: kind.to_owned(), code, message: error.to_string() }
    }

    /// True when the panel refused the batch with a result code.
    pub fn is_rejection(&self) -> bool {
        self.kind == "rejected"
    }

    /// True when the batch's request was redirected (not followed): the base URL is wrong.
    pub fn is_redirect(&self) -> bool {
        self.kind == "redirected"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> JobHeader {
        let sms = Sms::new("5000123456", text).to(["09120000000", "09120000001"]).expect("numbers");
        JobHeader::new(&sms, 100, vec!["https://panel.example/post/".into()], "me").source("x.csv")
    }

    #[test]
    fn the_fingerprint_depends_on_order() {
        assert_ne!(fingerprint(["a", "b"]), fingerprint(["b", "a"]));
        assert_ne!(fingerprint(["ab"]), fingerprint(["a", "b"]));
    }

    #[test]
    fn only_what_the_send_is_made_of_is_compared() {
        let first = header("hi");
        assert!(first
            .differences(&JobHeader { created_at: "later".into(), source: "y".into(), ..first.clone() })
            .is_empty());
        assert_eq!(first.differences(&header("other")), ["the text differs"]);
        let emulator = JobHeader { endpoints: Vec::new(), ..first.clone() };
        assert_eq!(
            emulator.differences(&first),
            ["the panel differs (the built-in emulator in the journal, https://panel.example/post/ now)"]
        );
        let old = JobHeader { version: 1, ..first.clone() };
        assert_eq!(old.differences(&first), ["journal format version 1 (this payamak writes 2)"]);
    }
}
