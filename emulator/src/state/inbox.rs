//! Each account's messages as the IncomingMessages service lists them: received
//! messages and the rows of sent ones, with their message ids and read flags, and which
//! received messages GetNewMessagesList has not returned yet.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::ids::IdMap;
use crate::accounts::normalize_line;
use crate::snapshot::{IncomingSms, InjectError, ReceivedSnapshot, SentSnapshot};
use payamak::sms_parts;
use payamak::status_codes::DeliveryStatus;

/// The first message id (`MsgID`) handed out, to received and sent rows alike.
const FIRST_MSG_ID: i64 = 1;
/// `MsgType` of a received message (the platform's "location" code for received).
const MSG_TYPE_RECEIVED: u8 = 1;
/// `MsgType` of a sent message (the platform's "location" code for sent).
const MSG_TYPE_SENT: u8 = 2;

/// A message row of the list operations, independent of the generated types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) msg_id: i64,
    pub(crate) msg_type: u8,
    pub(crate) body: String,
    pub(crate) date: DateTime<Utc>,
    pub(crate) sender: String,
    pub(crate) receiver: String,
    pub(crate) parts: u32,
    pub(crate) is_read: bool,
}

struct Received {
    msg_id: i64,
    from: String,
    to: String,
    body: String,
    at: DateTime<Utc>,
    parts: u32,
    is_read: bool,
    is_new: bool,
}

impl Received {
    fn row(&self) -> Row {
        Row {
            msg_id: self.msg_id,
            msg_type: MSG_TYPE_RECEIVED,
            body: self.body.clone(),
            date: self.at,
            sender: self.from.clone(),
            receiver: self.to.clone(),
            parts: self.parts,
            is_read: self.is_read,
        }
    }
}

/// What every recipient of one send shares.
pub(crate) struct SentBatch {
    pub(crate) batch: usize,
    pub(crate) from: String,
    pub(crate) body: String,
    pub(crate) parts: u32,
    /// Per recipient.
    pub(crate) cost: f64,
    pub(crate) flash: bool,
    pub(crate) udh: Option<String>,
    pub(crate) at: DateTime<Utc>,
}

/// A message sent to one recipient, as the send recorded it.
pub(crate) struct SentMessage {
    pub(crate) rec_id: i64,
    pub(crate) to: Number,
    /// Shared by every recipient of the send.
    pub(crate) batch: Arc<SentBatch>,
}

/// A recipient's number as a sent row keeps it: the canonical form's 11 digits in
/// place (no allocation per row), anything else on the heap.
pub(crate) enum Number {
    Digits([u8; 11]),
    Other(Box<str>),
}

impl Number {
    pub(crate) fn new(number: &str) -> Self {
        match <[u8; 11]>::try_from(number.as_bytes()) {
            Ok(digits) if number.is_ascii() => Number::Digits(digits),
            _ => Number::Other(number.into()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // ASCII, as checked when it was made.
            Number::Digits(digits) => std::str::from_utf8(digits).unwrap_or_default(),
            Number::Other(number) => number,
        }
    }
}

/// A sent message in the sent lists.
pub(crate) struct SentRow {
    msg_id: i64,
    is_read: bool,
    message: SentMessage,
}

impl SentRow {
    pub(crate) fn rec_id(&self) -> i64 {
        self.message.rec_id
    }

    fn row(&self) -> Row {
        let batch = &self.message.batch;
        Row {
            msg_id: self.msg_id,
            msg_type: MSG_TYPE_SENT,
            body: batch.body.clone(),
            date: batch.at,
            sender: batch.from.clone(),
            receiver: self.message.to.as_str().to_owned(),
            parts: batch.parts,
            is_read: self.is_read,
        }
    }

    /// The row with the delivery statuses the panel holds and the operator has.
    pub(crate) fn snapshot(&self, delivery_status: DeliveryStatus, operator_status: DeliveryStatus) -> SentSnapshot {
        let batch = &self.message.batch;
        SentSnapshot {
            msg_id: self.msg_id,
            rec_id: self.message.rec_id,
            batch: u64::try_from(batch.batch).unwrap_or(u64::MAX),
            from: batch.from.clone(),
            to: self.message.to.as_str().to_owned(),
            body: batch.body.clone(),
            parts: batch.parts,
            cost: batch.cost,
            flash: batch.flash,
            udh: batch.udh.clone(),
            sent_at: batch.at.into(),
            is_read: self.is_read,
            delivery_status: delivery_status.code(),
            operator_status: operator_status.code(),
        }
    }
}

#[derive(Clone, Copy)]
enum MsgLocation {
    Received(usize),
    /// The sent row's position counted from the first ever filed, forgotten ones included.
    Sent(usize),
}

/// One account's messages, oldest first.
#[derive(Default)]
struct Mailbox {
    received: Vec<Received>,
    /// The sent rows kept, oldest first.
    sent: VecDeque<SentRow>,
    /// How many of the oldest sent rows were forgotten.
    sent_forgotten: usize,
    /// Where each message id of the account is.
    by_msg_id: IdMap<MsgLocation>,
}

impl Mailbox {
    fn sent_row_mut(&mut self, position: usize) -> Option<&mut SentRow> {
        position.checked_sub(self.sent_forgotten).and_then(|index| self.sent.get_mut(index))
    }
}

/// Every account's messages, by account key.
pub(crate) struct Inbox {
    mailboxes: HashMap<String, Mailbox>,
    next_msg_id: i64,
    /// The most sent rows kept per account; older ones are forgotten.
    retain_sent: usize,
}

impl Inbox {
    /// No messages yet; each account keeps its latest `retain_sent` sent rows.
    pub(crate) fn new(retain_sent: usize) -> Self {
        Inbox { mailboxes: HashMap::new(), next_msg_id: FIRST_MSG_ID, retain_sent: retain_sent.max(1) }
    }

    fn next_msg_id(&mut self) -> i64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id
    }

    /// Puts a received message in the inbox of `key`; it came to `default_line` when it
    /// does not say.
    pub(crate) fn receive(
        &mut self,
        key: &str,
        sms: IncomingSms,
        default_line: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64, InjectError> {
        for (what, text) in
            [("body", Some(&sms.body)), ("sender number", Some(&sms.from)), ("virtual number", sms.to.as_ref())]
        {
            if text.is_some_and(|text| !text.chars().all(payamak::server::is_xml_char)) {
                return Err(InjectError::NotXmlText(what));
            }
        }
        let to = match sms.to.as_deref() {
            Some(to) => normalize_line(to),
            None => default_line.unwrap_or_default().to_owned(),
        };
        let msg_id = self.next_msg_id();
        let mailbox = self.mailboxes.entry(key.to_owned()).or_default();
        mailbox.by_msg_id.insert(msg_id, MsgLocation::Received(mailbox.received.len()));
        mailbox.received.push(Received {
            msg_id,
            from: sms.from,
            to,
            parts: sms_parts::count(&sms.body).parts(),
            body: sms.body,
            at: now,
            is_read: false,
            is_new: true,
        });
        tracing::debug!(account = key, msg_id, "message received");
        Ok(msg_id)
    }

    /// Adds a sent message to the sent list of `key`, forgetting the oldest row
    /// when the account keeps as many as it may: the recId of that row, if one was.
    pub(crate) fn file_sent(&mut self, key: &str, message: SentMessage) -> Option<i64> {
        let msg_id = self.next_msg_id();
        let retain = self.retain_sent;
        // Looked up before it is made: a send files a row per recipient, the key once.
        if !self.mailboxes.contains_key(key) {
            self.mailboxes.insert(key.to_owned(), Mailbox::default());
        }
        let mailbox = self.mailboxes.get_mut(key)?;
        let position = mailbox.sent_forgotten + mailbox.sent.len();
        mailbox.by_msg_id.insert(msg_id, MsgLocation::Sent(position));
        mailbox.sent.push_back(SentRow { msg_id, is_read: false, message });
        if mailbox.sent.len() <= retain {
            return None;
        }
        let forgotten = mailbox.sent.pop_front()?;
        mailbox.sent_forgotten += 1;
        mailbox.by_msg_id.remove(forgotten.msg_id);
        Some(forgotten.message.rec_id)
    }

    /// GetInboxCount: the received messages with this read flag.
    pub(crate) fn count(&self, key: &str, is_read: bool) -> usize {
        self.mailboxes
            .get(key)
            .map_or(0, |mailbox| mailbox.received.iter().filter(|message| message.is_read == is_read).count())
    }

    /// GetNewMessagesList: received messages not returned by it before (they become
    /// not new, and stay unread).
    pub(crate) fn take_new(&mut self, key: &str, from: Option<&str>) -> Vec<Row> {
        let filter = LineFilter::new(from);
        let Some(mailbox) = self.mailboxes.get_mut(key) else { return Vec::new() };
        let mut rows = Vec::new();
        for message in mailbox.received.iter_mut().filter(|message| message.is_new && filter.matches(&message.to)) {
            message.is_new = false;
            rows.push(message.row());
        }
        rows
    }

    /// GetReceiveSMSIsReadList/IsNotReadList.
    pub(crate) fn received(&self, key: &str, from: Option<&str>, is_read: bool) -> Vec<Row> {
        let filter = LineFilter::new(from);
        self.mailboxes
            .get(key)
            .map(|mailbox| {
                mailbox
                    .received
                    .iter()
                    .filter(|message| message.is_read == is_read && filter.matches(&message.to))
                    .map(Received::row)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// GetSentSMSIsReadList/IsNotReadList.
    pub(crate) fn sent(&self, key: &str, from: Option<&str>, is_read: bool) -> Vec<Row> {
        let filter = LineFilter::new(from);
        self.mailboxes
            .get(key)
            .map(|mailbox| {
                mailbox
                    .sent
                    .iter()
                    .filter(|row| row.is_read == is_read && filter.matches(&row.message.batch.from))
                    .map(SentRow::row)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// UpdateMessagesIsRead/IsNotRead: `ids` is comma-separated; blanks, ids that are not
    /// numbers and ids of other accounts are ignored.
    pub(crate) fn mark(&mut self, key: &str, ids: &str, read: bool) {
        let Some(mailbox) = self.mailboxes.get_mut(key) else { return };
        for id in ids.split(',').filter_map(|id| id.trim().parse::<i64>().ok()) {
            let flag = match mailbox.by_msg_id.get(id).copied() {
                Some(MsgLocation::Received(index)) => {
                    mailbox.received.get_mut(index).map(|message| &mut message.is_read)
                }
                Some(MsgLocation::Sent(position)) => mailbox.sent_row_mut(position).map(|row| &mut row.is_read),
                None => None,
            };
            if let Some(flag) = flag {
                *flag = read;
            }
        }
    }

    /// The received messages of `key`, oldest first.
    pub(crate) fn received_snapshots(&self, key: &str) -> Vec<ReceivedSnapshot> {
        let Some(mailbox) = self.mailboxes.get(key) else { return Vec::new() };
        mailbox
            .received
            .iter()
            .map(|message| ReceivedSnapshot {
                msg_id: message.msg_id,
                from: message.from.clone(),
                to: message.to.clone(),
                body: message.body.clone(),
                received_at: message.at.into(),
                parts: message.parts,
                is_read: message.is_read,
                is_new: message.is_new,
            })
            .collect()
    }

    /// The sent rows of `key`, oldest first.
    pub(crate) fn sent_rows(&self, key: &str) -> impl Iterator<Item = &SentRow> {
        self.mailboxes.get(key).into_iter().flat_map(|mailbox| mailbox.sent.iter())
    }
}

/// The `from` parameter of the list operations: a virtual number, or empty for all.
struct LineFilter(Option<String>);

impl LineFilter {
    fn new(from: Option<&str>) -> Self {
        LineFilter(from.map(normalize_line).filter(|line| !line.is_empty()))
    }

    fn matches(&self, line: &str) -> bool {
        self.0.as_deref().is_none_or(|wanted| normalize_line(line) == wanted)
    }
}

#[cfg(test)]
mod tests {
    use crate::snapshot::{IncomingSms, InjectError};
    use crate::state::fixtures::{start, state};
    use payamak::status_codes::MarkReadStatus;

    #[test]
    fn numbers_keep_their_text() {
        use super::Number;
        for text in ["09121234567", "0912123456", "۰۹۱۲۱۲۳۴۵۶", "+989121234567", ""] {
            assert_eq!(Number::new(text).as_str(), text);
        }
        assert!(matches!(Number::new("09121234567"), Number::Digits(_)));
    }

    #[test]
    fn inbox_flags() {
        let mut state = state();
        let now = start();
        let id = state.inject(IncomingSms::new("U", "09121111111", "سلام"), now).expect("injected");
        assert_eq!(state.take_new("u", Some("6000")).len(), 0);
        assert_eq!(state.take_new("u", Some("۵۰۰۰")).len(), 1);
        assert_eq!(state.take_new("u", None).len(), 0);
        assert_eq!(state.inbox_count("u", false), 1);
        assert_eq!(state.mark("other", &id.to_string(), true), MarkReadStatus::Done);
        assert_eq!(state.inbox_count("u", true), 0);
        assert_eq!(state.mark("u", &format!(" x, ,{id} "), true), MarkReadStatus::Done);
        assert_eq!(state.received("u", None, true).len(), 1);
        assert_eq!(
            state.inject(IncomingSms::new("nobody", "1", "x"), now),
            Err(InjectError::UnknownAccount("nobody".into()))
        );
        assert_eq!(state.inject(IncomingSms::new("u", "1", "\u{1}"), now), Err(InjectError::NotXmlText("body")));
    }
}
