//! The panel's state machine: accounts, sends, deliveries, schedules and inboxes.
//!
//! Everything here is synchronous and takes "now" as an argument; the server holds the
//! state behind a mutex and passes the clock's time in.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::accounts::{normalize_line, Account, DeliveryTiming};
use super::clock::latest;
use super::schedule::Repeat;
use super::snapshot::{
    AccountSnapshot, IncomingSms, InjectError, ReceivedSnapshot, ScheduleRun, ScheduleSnapshot, SentSnapshot,
};
use payamak::recipient::MobileNumber;
use payamak::sms_parts;
use payamak::status_codes::{DeliveryStatus, MarkReadStatus, RecipientStatus, SendStatus, UpdateDeliveryStatus};
use payamak::PanelDateTime;

/// The first recId handed out; recIds then increase by one, across all accounts.
pub(crate) const FIRST_REC_ID: i64 = 1_000_000_001;
/// The first message id (`MsgID`) handed out, to received and sent rows alike.
pub(crate) const FIRST_MSG_ID: i64 = 1;
/// At most this many recipients per SendSms or ScheduleSms call.
pub(crate) const MAX_RECIPIENTS: usize = 100;
/// `MsgType` of a received message (the platform's "location" code for received).
pub(crate) const MSG_TYPE_RECEIVED: u8 = 1;
/// `MsgType` of a sent message (the platform's "location" code for sent).
pub(crate) const MSG_TYPE_SENT: u8 = 2;
/// Most scheduled occurrences fired in one catch-up (a huge clock jump with a daily
/// schedule would otherwise loop for a long time under the lock).
const MAX_CATCH_UP: usize = 100_000;

/// A send as asked for (SendSms, or one occurrence of a ScheduleSms).
#[derive(Debug, Clone, Default)]
pub(crate) struct SendInput {
    pub(crate) to: Vec<Option<String>>,
    pub(crate) from: Option<String>,
    pub(crate) text: Option<String>,
    pub(crate) flash: bool,
    pub(crate) udh: Option<String>,
}

/// What a successful send produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) rec_ids: Vec<i64>,
    pub(crate) statuses: Vec<RecipientStatus>,
}

/// A send that passed every check, ready to commit.
struct Plan {
    sender: String,
    recipients: Vec<Option<MobileNumber>>,
    accepted: u32,
    parts: u32,
    cost_per_recipient: f64,
}

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

struct SentMessage {
    msg_id: i64,
    rec_id: i64,
    batch: usize,
    from: String,
    to: String,
    body: String,
    parts: u32,
    cost: f64,
    flash: bool,
    udh: Option<String>,
    at: DateTime<Utc>,
    is_read: bool,
    /// The final status the operator will report (delivered, or not delivered).
    outcome: DeliveryStatus,
    /// The status the panel holds (GetDelivery), refreshed by UpdateDelivery.
    held: DeliveryStatus,
}

#[derive(Clone, Copy)]
enum MsgLocation {
    Inbox(usize),
    Sent(usize),
}

struct AccountState {
    username: String,
    password: String,
    credit: f64,
    price_per_part: f64,
    daily_limit: Option<u32>,
    senders: Vec<String>,
    filtered_words: Vec<String>,
    inbox: Vec<Received>,
    sent: Vec<SentMessage>,
    by_msg_id: HashMap<i64, MsgLocation>,
    per_day: BTreeMap<NaiveDate, u32>,
}

struct Batch {
    account: String,
    members: Vec<usize>,
    last_update: Option<DateTime<Utc>>,
}

struct Schedule {
    id: u64,
    account: String,
    input: SendInput,
    first: NaiveDateTime,
    repeat: Repeat,
    /// Index of the next occurrence.
    occurrence: u32,
    /// When the next occurrence is due.
    next_at: Option<DateTime<Utc>>,
    runs: Vec<Run>,
}

/// One occurrence of a schedule that came due.
struct Run {
    at: DateTime<Utc>,
    /// The recIds it created, or why it was refused.
    result: Result<Vec<i64>, SendStatus>,
}

impl Run {
    fn snapshot(&self) -> ScheduleRun {
        let (result, rec_ids) = match &self.result {
            Ok(rec_ids) => (SendStatus::Sent, rec_ids.clone()),
            Err(status) => (*status, Vec::new()),
        };
        ScheduleRun { at: self.at.into(), result: result.code(), rec_ids }
    }
}

/// The whole panel.
pub(crate) struct State {
    accounts: BTreeMap<String, AccountState>,
    rec_ids: HashMap<i64, (String, usize)>,
    batches: Vec<Batch>,
    schedules: Vec<Schedule>,
    next_rec_id: i64,
    next_msg_id: i64,
    timing: DeliveryTiming,
    unreachable: HashSet<String>,
    /// The latest time the state has acted at: it never acts at an earlier one.
    last_now: DateTime<Utc>,
}

fn account_key(username: &str) -> String {
    username.to_lowercase()
}

fn tehran_date(at: DateTime<Utc>) -> NaiveDate {
    PanelDateTime::from(at).naive_local().date()
}

fn after(at: DateTime<Utc>, by: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by).ok().and_then(|by| at.checked_add_signed(by)).unwrap_or_else(latest)
}

impl State {
    pub(crate) fn new(
        accounts: Vec<Account>,
        timing: DeliveryTiming,
        unreachable: &[MobileNumber],
        now: DateTime<Utc>,
    ) -> Self {
        let mut state = State {
            accounts: BTreeMap::new(),
            rec_ids: HashMap::new(),
            batches: Vec::new(),
            schedules: Vec::new(),
            next_rec_id: FIRST_REC_ID,
            next_msg_id: FIRST_MSG_ID,
            timing,
            unreachable: unreachable.iter().map(|number| number.as_str().to_owned()).collect(),
            last_now: now,
        };
        for account in accounts {
            let key = account_key(&account.username);
            let username = account.username.clone();
            let seeds = account.inbox.clone();
            state.accounts.insert(
                key,
                AccountState {
                    username: account.username,
                    password: account.password,
                    credit: account.credit,
                    price_per_part: account.price_per_part,
                    daily_limit: account.daily_limit,
                    senders: account.senders,
                    filtered_words: account.filtered_words,
                    inbox: Vec::new(),
                    sent: Vec::new(),
                    by_msg_id: HashMap::new(),
                    per_day: BTreeMap::new(),
                },
            );
            for seed in seeds {
                let sms = IncomingSms { username: username.clone(), from: seed.from, to: seed.to, body: seed.body };
                // Seeds come from the configuration; one that cannot be carried is skipped.
                if let Err(error) = state.inject(sms, now) {
                    tracing::warn!(%error, "skipping a configured inbox message");
                }
            }
        }
        state
    }

    /// The time to act at when the clock reads `now`: `now`, or the latest time the state
    /// has already acted at if that is later (a clock set back, or a reading taken before
    /// another caller's), so that time never goes backwards for the state.
    pub(crate) fn observe(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    /// The account key for these credentials, if they are right.
    pub(crate) fn authenticate(&self, username: Option<&str>, password: Option<&str>) -> Option<String> {
        let (username, password) = (username?, password?);
        let key = account_key(username);
        let account = self.accounts.get(&key)?;
        (account.password == password).then_some(key)
    }

    fn next_rec_id(&mut self) -> i64 {
        let id = self.next_rec_id;
        self.next_rec_id += 1;
        id
    }

    fn next_msg_id(&mut self) -> i64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id
    }

    // -----------------------------------------------------------------------------------------
    // Sending
    // -----------------------------------------------------------------------------------------

    /// Checks a send for `key` at `at`, in the order: sender (5), filtered words (7),
    /// recipient count (4), no valid recipient (11), daily limit (3), credit (2).
    fn plan(&self, key: &str, input: &SendInput, at: DateTime<Utc>) -> Result<Plan, SendStatus> {
        let account = self.accounts.get(key).ok_or(SendStatus::WrongCredentials)?;
        let sender = input.from.as_deref().map(normalize_line).unwrap_or_default();
        if sender.is_empty() || !account.senders.contains(&sender) {
            return Err(SendStatus::SenderNotAllowed);
        }
        let text = input.text.as_deref().unwrap_or("");
        let folded = text.to_lowercase();
        if account.filtered_words.iter().any(|word| folded.contains(&word.to_lowercase())) {
            return Err(SendStatus::FilteredWords);
        }
        if input.to.len() > MAX_RECIPIENTS {
            return Err(SendStatus::SendLimitReached);
        }
        let recipients: Vec<Option<MobileNumber>> =
            input.to.iter().map(|to| to.as_deref().and_then(|to| MobileNumber::parse(to).ok())).collect();
        let accepted = u32::try_from(recipients.iter().flatten().count()).unwrap_or(u32::MAX);
        if accepted == 0 {
            return Err(SendStatus::NotSent);
        }
        if let Some(limit) = account.daily_limit {
            let used = account.per_day.get(&tehran_date(at)).copied().unwrap_or(0);
            if used.saturating_add(accepted) > limit {
                return Err(SendStatus::DailyLimitReached);
            }
        }
        let parts = sms_parts::count(text).parts();
        let cost_per_recipient = f64::from(parts) * account.price_per_part;
        let cost = cost_per_recipient * f64::from(accepted);
        if cost > account.credit + 1e-9 {
            return Err(SendStatus::InsufficientCredit);
        }
        Ok(Plan { sender, recipients, accepted, parts, cost_per_recipient })
    }

    /// Commits a checked send: one recId, message row and delivery per valid recipient.
    fn commit(&mut self, key: &str, input: &SendInput, plan: Plan, at: DateTime<Utc>) -> Sent {
        let batch = self.batches.len();
        let mut members = Vec::with_capacity(plan.recipients.len());
        let mut sent = Sent { rec_ids: Vec::new(), statuses: Vec::new() };
        let text = input.text.clone().unwrap_or_default();
        for recipient in plan.recipients {
            let Some(number) = recipient else {
                sent.rec_ids.push(0);
                sent.statuses.push(RecipientStatus::NotSent);
                continue;
            };
            let rec_id = self.next_rec_id();
            let msg_id = self.next_msg_id();
            let outcome = if self.unreachable.contains(number.as_str()) {
                DeliveryStatus::NotDelivered
            } else {
                DeliveryStatus::Delivered
            };
            let Some(account) = self.accounts.get_mut(key) else { break };
            let index = account.sent.len();
            account.sent.push(SentMessage {
                msg_id,
                rec_id,
                batch,
                from: plan.sender.clone(),
                to: number.into_string(),
                body: text.clone(),
                parts: plan.parts,
                cost: plan.cost_per_recipient,
                flash: input.flash,
                udh: input.udh.clone().filter(|udh| !udh.is_empty()),
                at,
                is_read: false,
                outcome,
                held: DeliveryStatus::SentToOperator,
            });
            account.by_msg_id.insert(msg_id, MsgLocation::Sent(index));
            self.rec_ids.insert(rec_id, (key.to_owned(), index));
            members.push(index);
            sent.rec_ids.push(rec_id);
            sent.statuses.push(RecipientStatus::Sent);
        }
        if let Some(account) = self.accounts.get_mut(key) {
            account.credit -= plan.cost_per_recipient * f64::from(plan.accepted);
            let today = account.per_day.entry(tehran_date(at)).or_insert(0);
            *today = today.saturating_add(plan.accepted);
        }
        self.batches.push(Batch { account: key.to_owned(), members, last_update: None });
        tracing::debug!(account = key, batch, recipients = plan.accepted, "sent");
        sent
    }

    /// SendSms for the (authenticated) account `key`: the recIds and per-recipient
    /// statuses, or why nothing was sent.
    pub(crate) fn send(&mut self, key: &str, input: &SendInput, now: DateTime<Utc>) -> Result<Sent, SendStatus> {
        let plan = self.plan(key, input, now)?;
        Ok(self.commit(key, input, plan, now))
    }

    // -----------------------------------------------------------------------------------------
    // Deliveries
    // -----------------------------------------------------------------------------------------

    fn operator_status(&self, message: &SentMessage, now: DateTime<Utc>) -> DeliveryStatus {
        let reach = self.timing.reach_operator_after;
        let done = self.timing.final_after.max(reach);
        if now >= after(message.at, done) {
            message.outcome
        } else if now >= after(message.at, reach) {
            DeliveryStatus::ReachedOperator
        } else {
            DeliveryStatus::SentToOperator
        }
    }

    fn sent_message(&self, rec_id: i64) -> Option<&SentMessage> {
        let (key, index) = self.rec_ids.get(&rec_id)?;
        self.accounts.get(key)?.sent.get(*index)
    }

    /// GetDelivery: the status the panel holds for `rec_id`; undetermined (100) for a
    /// recId it never issued.
    pub(crate) fn delivery(&self, rec_id: i64) -> DeliveryStatus {
        self.sent_message(rec_id).map_or(DeliveryStatus::Undetermined, |message| message.held)
    }

    /// UpdateDelivery: refreshes the whole batch of `rec_id` from the operator.
    pub(crate) fn update_delivery(&mut self, rec_id: i64, now: DateTime<Utc>) -> UpdateDeliveryStatus {
        let Some(batch_index) = self.sent_message(rec_id).map(|message| message.batch) else {
            return UpdateDeliveryStatus::InvalidRecId;
        };
        let interval = self.timing.update_interval;
        let Some(batch) = self.batches.get(batch_index) else { return UpdateDeliveryStatus::InvalidRecId };
        if batch.last_update.is_some_and(|last| now < after(last, interval)) {
            return UpdateDeliveryStatus::TooSoon;
        }
        let (key, members) = (batch.account.clone(), batch.members.clone());
        let statuses: Vec<(usize, DeliveryStatus)> = match self.accounts.get(&key) {
            Some(account) => members
                .iter()
                .filter_map(|&index| account.sent.get(index).map(|message| (index, self.operator_status(message, now))))
                .collect(),
            None => Vec::new(),
        };
        if let Some(account) = self.accounts.get_mut(&key) {
            for (index, status) in statuses {
                if let Some(message) = account.sent.get_mut(index) {
                    message.held = status;
                }
            }
        }
        if let Some(batch) = self.batches.get_mut(batch_index) {
            batch.last_update = Some(now);
        }
        UpdateDeliveryStatus::Updated
    }

    // -----------------------------------------------------------------------------------------
    // Schedules
    // -----------------------------------------------------------------------------------------

    /// ScheduleSms: checks the send as SendSms would (the daily limit against the day it
    /// is due, the credit against one occurrence now) and stores it.
    pub(crate) fn schedule(
        &mut self,
        key: &str,
        input: SendInput,
        at: PanelDateTime,
        repeat: Repeat,
        now: DateTime<Utc>,
    ) -> Result<(), SendStatus> {
        let first = at.naive_local();
        // Occurrences already past collapse into one immediate send; the rest keep their grid.
        let occurrence = repeat.last_due(first, now);
        let next_at = repeat.occurrence(first, occurrence).map(|due| due.max(now));
        let check_at = next_at.unwrap_or(now);
        self.plan(key, &input, check_at)?;
        let id = u64::try_from(self.schedules.len()).unwrap_or(u64::MAX).saturating_add(1);
        tracing::debug!(account = key, id, period = repeat.name(), "scheduled");
        self.schedules.push(Schedule {
            id,
            account: key.to_owned(),
            input,
            first,
            repeat,
            occurrence,
            next_at,
            runs: Vec::new(),
        });
        self.tick(now);
        Ok(())
    }

    /// Fires every scheduled occurrence due at or before `now`, oldest first.
    pub(crate) fn tick(&mut self, now: DateTime<Utc>) {
        for _ in 0..MAX_CATCH_UP {
            let due = self
                .schedules
                .iter()
                .enumerate()
                .filter_map(|(index, schedule)| schedule.next_at.filter(|at| *at <= now).map(|at| (at, index)))
                .min();
            let Some((at, index)) = due else { return };
            self.fire(index, at);
        }
        tracing::warn!("scheduled sends are still catching up after {MAX_CATCH_UP} occurrences");
    }

    fn fire(&mut self, index: usize, at: DateTime<Utc>) {
        let Some(schedule) = self.schedules.get(index) else { return };
        let (key, input) = (schedule.account.clone(), schedule.input.clone());
        let result = self.plan(&key, &input, at).map(|plan| self.commit(&key, &input, plan, at).rec_ids);
        let status = result.as_ref().map_or_else(|status| *status, |_| SendStatus::Sent);
        tracing::debug!(account = key, schedule = index + 1, result = status.code(), "scheduled send came due");
        let run = Run { at, result };
        if let Some(schedule) = self.schedules.get_mut(index) {
            schedule.runs.push(run);
            schedule.occurrence = schedule.occurrence.saturating_add(1);
            // An occurrence never fires twice at the same instant, even if the calendar
            // arithmetic clamps two of them together.
            schedule.next_at =
                schedule.repeat.occurrence(schedule.first, schedule.occurrence).filter(|next| *next > at);
        }
    }

    /// When the next scheduled occurrence is due, if any.
    pub(crate) fn next_due(&self) -> Option<DateTime<Utc>> {
        self.schedules.iter().filter_map(|schedule| schedule.next_at).min()
    }

    // -----------------------------------------------------------------------------------------
    // Inbox and lists
    // -----------------------------------------------------------------------------------------

    /// Puts a received message in an inbox.
    pub(crate) fn inject(&mut self, sms: IncomingSms, now: DateTime<Utc>) -> Result<i64, InjectError> {
        let key = account_key(&sms.username);
        let Some(account) = self.accounts.get(&key) else {
            return Err(InjectError::UnknownAccount(sms.username));
        };
        for (what, text) in
            [("body", Some(&sms.body)), ("sender number", Some(&sms.from)), ("virtual number", sms.to.as_ref())]
        {
            if text.is_some_and(|text| !text.chars().all(payamak::server::is_xml_char)) {
                return Err(InjectError::NotXmlText(what));
            }
        }
        let to = match sms.to.as_deref() {
            Some(to) => normalize_line(to),
            None => account.senders.first().cloned().unwrap_or_default(),
        };
        let msg_id = self.next_msg_id();
        let Some(account) = self.accounts.get_mut(&key) else {
            return Err(InjectError::UnknownAccount(sms.username));
        };
        let index = account.inbox.len();
        account.inbox.push(Received {
            msg_id,
            from: sms.from,
            to,
            parts: sms_parts::count(&sms.body).parts(),
            body: sms.body,
            at: now,
            is_read: false,
            is_new: true,
        });
        account.by_msg_id.insert(msg_id, MsgLocation::Inbox(index));
        tracing::debug!(account = key, msg_id, "message received");
        Ok(msg_id)
    }

    pub(crate) fn credit(&self, key: &str) -> f64 {
        self.accounts.get(key).map_or(0.0, |account| account.credit)
    }

    pub(crate) fn numbers(&self, key: &str) -> Vec<String> {
        self.accounts.get(key).map(|account| account.senders.clone()).unwrap_or_default()
    }

    pub(crate) fn inbox_count(&self, key: &str, is_read: bool) -> i32 {
        let count = self
            .accounts
            .get(key)
            .map_or(0, |account| account.inbox.iter().filter(|message| message.is_read == is_read).count());
        i32::try_from(count).unwrap_or(i32::MAX)
    }

    /// GetNewMessagesList: received messages not returned by it before (they become
    /// not new, and stay unread).
    pub(crate) fn take_new(&mut self, key: &str, from: Option<&str>) -> Vec<Row> {
        let filter = LineFilter::new(from);
        let Some(account) = self.accounts.get_mut(key) else { return Vec::new() };
        let mut rows = Vec::new();
        for message in account.inbox.iter_mut().filter(|message| message.is_new && filter.matches(&message.to)) {
            message.is_new = false;
            rows.push(received_row(message));
        }
        rows
    }

    pub(crate) fn received(&self, key: &str, from: Option<&str>, is_read: bool) -> Vec<Row> {
        let filter = LineFilter::new(from);
        self.accounts
            .get(key)
            .map(|account| {
                account
                    .inbox
                    .iter()
                    .filter(|message| message.is_read == is_read && filter.matches(&message.to))
                    .map(received_row)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn sent(&self, key: &str, from: Option<&str>, is_read: bool) -> Vec<Row> {
        let filter = LineFilter::new(from);
        self.accounts
            .get(key)
            .map(|account| {
                account
                    .sent
                    .iter()
                    .filter(|message| message.is_read == is_read && filter.matches(&message.from))
                    .map(|message| Row {
                        msg_id: message.msg_id,
                        msg_type: MSG_TYPE_SENT,
                        body: message.body.clone(),
                        date: message.at,
                        sender: message.from.clone(),
                        receiver: message.to.clone(),
                        parts: message.parts,
                        is_read: message.is_read,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// UpdateMessagesIsRead/IsNotRead: `ids` is comma-separated; blanks, ids that are not
    /// numbers and ids of other accounts are ignored.
    pub(crate) fn mark(&mut self, key: &str, ids: &str, read: bool) -> MarkReadStatus {
        let Some(account) = self.accounts.get_mut(key) else { return MarkReadStatus::WrongCredentials };
        for id in ids.split(',').filter_map(|id| id.trim().parse::<i64>().ok()) {
            match account.by_msg_id.get(&id).copied() {
                Some(MsgLocation::Inbox(index)) => {
                    if let Some(message) = account.inbox.get_mut(index) {
                        message.is_read = read;
                    }
                }
                Some(MsgLocation::Sent(index)) => {
                    if let Some(message) = account.sent.get_mut(index) {
                        message.is_read = read;
                    }
                }
                None => {}
            }
        }
        MarkReadStatus::Done
    }

    // -----------------------------------------------------------------------------------------
    // Views
    // -----------------------------------------------------------------------------------------

    /// The account's state, by user name (case-insensitively).
    pub(crate) fn snapshot(&self, username: &str, now: DateTime<Utc>) -> Option<AccountSnapshot> {
        let key = account_key(username);
        let account = self.accounts.get(&key)?;
        Some(AccountSnapshot {
            username: account.username.clone(),
            credit: account.credit,
            price_per_part: account.price_per_part,
            daily_limit: account.daily_limit,
            sent_today: account.per_day.get(&tehran_date(now)).copied().unwrap_or(0),
            senders: account.senders.clone(),
            filtered_words: account.filtered_words.clone(),
            inbox: account
                .inbox
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
                .collect(),
            sent: account
                .sent
                .iter()
                .map(|message| SentSnapshot {
                    msg_id: message.msg_id,
                    rec_id: message.rec_id,
                    batch: u64::try_from(message.batch).unwrap_or(u64::MAX),
                    from: message.from.clone(),
                    to: message.to.clone(),
                    body: message.body.clone(),
                    parts: message.parts,
                    cost: message.cost,
                    flash: message.flash,
                    udh: message.udh.clone(),
                    sent_at: message.at.into(),
                    is_read: message.is_read,
                    delivery_status: message.held.code(),
                    operator_status: self.operator_status(message, now).code(),
                })
                .collect(),
            schedules: self
                .schedules
                .iter()
                .filter(|schedule| schedule.account == key)
                .map(|schedule| ScheduleSnapshot {
                    id: schedule.id,
                    to: schedule.input.to.iter().map(|to| to.clone().unwrap_or_default()).collect(),
                    from: schedule.input.from.clone().unwrap_or_default(),
                    body: schedule.input.text.clone().unwrap_or_default(),
                    period: schedule.repeat.name().to_owned(),
                    next_at: schedule.next_at.map(PanelDateTime::from),
                    runs: schedule.runs.iter().map(Run::snapshot).collect(),
                })
                .collect(),
        })
    }

    /// The user names, as configured.
    pub(crate) fn usernames(&self) -> Vec<String> {
        self.accounts.values().map(|account| account.username.clone()).collect()
    }
}

fn received_row(message: &Received) -> Row {
    Row {
        msg_id: message.msg_id,
        msg_type: MSG_TYPE_RECEIVED,
        body: message.body.clone(),
        date: message.at,
        sender: message.from.clone(),
        receiver: message.to.clone(),
        parts: message.parts,
        is_read: message.is_read,
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
    use super::*;
    use std::time::Duration;

    fn start() -> DateTime<Utc> {
        "2024-03-20T09:00:00".parse::<PanelDateTime>().expect("date").to_utc()
    }

    fn state() -> State {
        let account = Account::new("u", "p").credit(10.0).sender("5000").daily_limit(5).filtered_word("Bad");
        let unreachable = [MobileNumber::parse("09120000000").expect("number")];
        State::new(
            vec![account, Account::new("other", "x").credit(1.0).sender("6000")],
            DeliveryTiming::default(),
            &unreachable,
            start(),
        )
    }

    fn input(to: &[&str], text: &str) -> SendInput {
        SendInput {
            to: to.iter().map(|to| Some((*to).to_owned())).collect(),
            from: Some("5000".to_owned()),
            text: Some(text.to_owned()),
            ..SendInput::default()
        }
    }

    #[test]
    fn authentication_is_case_insensitive_for_the_user_name_only() {
        let state = state();
        assert_eq!(state.authenticate(Some("U"), Some("p")).as_deref(), Some("u"));
        assert_eq!(state.authenticate(Some("u"), Some("P")), None);
        assert_eq!(state.authenticate(None, Some("p")), None);
    }

    #[test]
    fn send_codes_in_order() {
        let mut state = state();
        let now = start();
        let mut bad_sender = input(&["09121111111"], "hi");
        bad_sender.from = Some("6000".to_owned());
        assert_eq!(state.send("u", &bad_sender, now), Err(SendStatus::SenderNotAllowed));
        assert_eq!(state.send("u", &input(&["09121111111"], "so bAD"), now), Err(SendStatus::FilteredWords));
        let many: Vec<String> = (0..101).map(|i| format!("0912{i:07}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(state.send("u", &input(&many, "hi"), now), Err(SendStatus::SendLimitReached));
        assert_eq!(state.send("u", &input(&["123"], "hi"), now), Err(SendStatus::NotSent));
        assert_eq!(state.send("u", &input(&["09121111111"; 6], "hi"), now), Err(SendStatus::DailyLimitReached));
        assert_eq!(
            state.send("u", &input(&["09121111111"], &"x".repeat(153 * 11)), now),
            Err(SendStatus::InsufficientCredit)
        );
        let sent = state.send("u", &input(&["09121111111", "bad", "+989122222222"], "hi"), now).expect("sent");
        assert_eq!(sent.rec_ids, [FIRST_REC_ID, 0, FIRST_REC_ID + 1]);
        assert_eq!(sent.statuses, [RecipientStatus::Sent, RecipientStatus::NotSent, RecipientStatus::Sent]);
        assert!((state.credit("u") - 8.0).abs() < 1e-9);
    }

    #[test]
    fn deliveries_progress_and_update_by_batch() {
        let mut state = state();
        let now = start();
        let sent = state.send("u", &input(&["09121111111", "09120000000"], "hi"), now).expect("sent");
        let (a, b) = (sent.rec_ids[0], sent.rec_ids[1]);
        assert_eq!(state.update_delivery(a, now), UpdateDeliveryStatus::Updated);
        assert_eq!(state.delivery(b), DeliveryStatus::SentToOperator);
        let later = now + chrono::Duration::seconds(10);
        assert_eq!(state.delivery(a), DeliveryStatus::SentToOperator);
        assert_eq!(state.update_delivery(b, now + chrono::Duration::seconds(9)), UpdateDeliveryStatus::TooSoon);
        assert_eq!(state.update_delivery(b, later), UpdateDeliveryStatus::Updated);
        assert_eq!((state.delivery(a), state.delivery(b)), (DeliveryStatus::Delivered, DeliveryStatus::NotDelivered));
        assert_eq!(state.update_delivery(0, later), UpdateDeliveryStatus::InvalidRecId);
        assert_eq!(state.delivery(42), DeliveryStatus::Undetermined);
    }

    #[test]
    fn schedules_fire_on_tick_and_repeat() {
        let mut state = state();
        let now = start();
        let at = PanelDateTime::from(now + chrono::Duration::hours(1));
        assert_eq!(state.schedule("u", input(&["09121111111"], "hi"), at, Repeat::Daily, now), Ok(()));
        state.tick(now + chrono::Duration::minutes(59));
        assert!(state.snapshot("u", now).expect("u").sent.is_empty());
        state.tick(after(now, Duration::from_secs(3600 * 49)));
        let snapshot = state.snapshot("u", now).expect("u");
        assert_eq!(snapshot.sent.len(), 3);
        assert_eq!(snapshot.schedules[0].runs.len(), 3);
        assert_eq!(snapshot.schedules[0].next_at.map(|at| at.to_string()).as_deref(), Some("2024-03-23T10:00:00"));
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
