//! Read-only views of an account's state, for tests (Rust, or any language through the
//! admin endpoint, which serves them as JSON).

use serde::{Deserialize, Serialize, Serializer};

use payamak::PanelDateTime;

fn panel_time<S: Serializer>(at: &PanelDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(at)
}

fn optional_panel_time<S: Serializer>(at: &Option<PanelDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.collect_str(at),
        None => serializer.serialize_none(),
    }
}

/// An account's state at one moment. The password is never part of it.
///
/// Times are the panel's local time (Asia/Tehran) and serialise as the panel writes
/// them, e.g. `"2024-03-20T09:00:00"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AccountSnapshot {
    /// The user name, as configured.
    pub username: String,
    /// The credit left.
    pub credit: f64,
    /// The price of one SMS part to one recipient.
    pub price_per_part: f64,
    /// The most recipients per Tehran calendar day, if limited.
    pub daily_limit: Option<u32>,
    /// Recipients sent to on the current Tehran calendar day.
    pub sent_today: u32,
    /// The virtual (sender) numbers.
    pub senders: Vec<String>,
    /// The filtered words.
    pub filtered_words: Vec<String>,
    /// Received messages, oldest first.
    pub inbox: Vec<ReceivedSnapshot>,
    /// Sent messages, one per recipient, oldest first.
    pub sent: Vec<SentSnapshot>,
    /// Scheduled messages, in the order they were scheduled.
    pub schedules: Vec<ScheduleSnapshot>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReceivedSnapshot {
    /// The message id (`MsgID`).
    pub msg_id: i64,
    /// The number it came from.
    pub from: String,
    /// The account's virtual number it came to.
    pub to: String,
    /// The text.
    pub body: String,
    /// When it arrived.
    #[serde(serialize_with = "panel_time")]
    pub received_at: PanelDateTime,
    /// SMS parts.
    pub parts: u32,
    /// Whether it is marked read.
    pub is_read: bool,
    /// Whether GetNewMessagesList has not returned it yet.
    pub is_new: bool,
}

/// A message sent to one recipient.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SentSnapshot {
    /// The message id (`MsgID`) of the row in the sent lists.
    pub msg_id: i64,
    /// The recipient's `recId`.
    pub rec_id: i64,
    /// The batch (one SendSms call or scheduled occurrence) it belongs to.
    pub batch: u64,
    /// The sender number.
    pub from: String,
    /// The recipient, in national form (`09…`).
    pub to: String,
    /// The text.
    pub body: String,
    /// SMS parts charged.
    pub parts: u32,
    /// Credit charged for this recipient.
    pub cost: f64,
    /// Whether it was sent as a flash SMS.
    pub flash: bool,
    /// The message header (`udh`) it was sent with, if any.
    pub udh: Option<String>,
    /// When it was sent.
    #[serde(serialize_with = "panel_time")]
    pub sent_at: PanelDateTime,
    /// Whether it is marked read.
    pub is_read: bool,
    /// The delivery status the panel holds (what GetDelivery answers).
    pub delivery_status: i32,
    /// The operator's current delivery status (what UpdateDelivery would fetch).
    pub operator_status: i32,
}

/// A message scheduled with ScheduleSms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ScheduleSnapshot {
    /// The schedule's id (an emulator detail: the service returns none).
    pub id: u64,
    /// The recipients, as given.
    pub to: Vec<String>,
    /// The sender number.
    pub from: String,
    /// The text.
    pub body: String,
    /// The period's name (`Once`, `Daily`, …).
    pub period: String,
    /// When the next occurrence is due; `None` once it is done.
    #[serde(serialize_with = "optional_panel_time")]
    pub next_at: Option<PanelDateTime>,
    /// The occurrences that came due, oldest first.
    pub runs: Vec<ScheduleRun>,
}

/// One occurrence of a scheduled message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScheduleRun {
    /// When it was sent (or refused).
    #[serde(serialize_with = "panel_time")]
    pub at: PanelDateTime,
    /// The SendSms result code the send got (1 = sent).
    pub result: i32,
    /// The recIds it created (0 for a recipient that was not sent to).
    pub rec_ids: Vec<i64>,
}

/// An incoming message to put in an account's inbox (from the Rust API, or as the JSON
/// body of `POST /admin/inbox`).
///
/// ```
/// use payamak_emulator::IncomingSms;
///
/// let sms = IncomingSms::new("demo", "09121234567", "سلام").to("5000123456");
/// assert_eq!(sms.to.as_deref(), Some("5000123456"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IncomingSms {
    /// The account whose inbox receives it.
    pub username: String,
    /// The number it comes from.
    pub from: String,
    /// The account's virtual number it comes to; the account's first sender number
    /// when absent.
    #[serde(default)]
    pub to: Option<String>,
    /// The text.
    pub body: String,
}

impl IncomingSms {
    /// A message for `username`'s inbox from `from`.
    pub fn new(username: impl Into<String>, from: impl Into<String>, body: impl Into<String>) -> Self {
        IncomingSms { username: username.into(), from: from.into(), to: None, body: body.into() }
    }

    /// Sets the virtual number it comes to.
    #[must_use]
    pub fn to(mut self, number: impl Into<String>) -> Self {
        self.to = Some(number.into());
        self
    }
}

/// Why an incoming message was not put in an inbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InjectError {
    /// No account has this user name.
    #[error("no account {0:?}")]
    UnknownAccount(String),
    /// A field holds a character XML cannot carry, so no response could include it.
    #[error("the {0} contains a character that XML 1.0 cannot carry")]
    NotXmlText(&'static str),
}
