//! The panel's state machine: accounts, sends, deliveries, schedules and inboxes.
//!
//! Everything here is synchronous and takes "now" as an argument; the server holds the
//! state behind a mutex and passes the clock's time in. [`State`] owns one part per
//! concern and hands each call to the parts it concerns.

mod accounts;
mod deliveries;
mod ids;
mod inbox;
mod schedules;
mod sends;

use chrono::{DateTime, Utc};

use self::accounts::{account_key, Accounts};
use self::deliveries::Deliveries;
use self::inbox::Inbox;
use self::schedules::Schedules;
use self::sends::Ledger;
use crate::accounts::{Account, DeliveryTiming};
use crate::schedule::Repeat;
use crate::snapshot::{AccountSnapshot, IncomingSms, InjectError};
use payamak::recipient::MobileNumber;
use payamak::status_codes::{DeliveryStatus, MarkReadStatus, SendStatus, UpdateDeliveryStatus};
use payamak::PanelDateTime;

pub(crate) use self::deliveries::FIRST_REC_ID;
pub(crate) use self::inbox::Row;
pub(crate) use self::sends::{SendInput, Sent};

/// The whole panel.
pub(crate) struct State {
    /// What it was made from, for [`State::reset`].
    seed: Seed,
    accounts: Accounts,
    inbox: Inbox,
    deliveries: Deliveries,
    schedules: Schedules,
    /// The latest time the state has acted at: it never acts at an earlier one.
    last_now: DateTime<Utc>,
}

/// The configuration a [`State`] starts from.
#[derive(Clone)]
struct Seed {
    accounts: Vec<Account>,
    timing: DeliveryTiming,
    unreachable: Vec<MobileNumber>,
    retain_sent: usize,
}

/// How many sent rows an account keeps by default (see [`State::with_retention`]).
pub(crate) const DEFAULT_RETAIN_SENT: usize = 100_000;

impl State {
    #[cfg(test)]
    pub(crate) fn new(
        accounts: Vec<Account>,
        timing: DeliveryTiming,
        unreachable: &[MobileNumber],
        now: DateTime<Utc>,
    ) -> Self {
        Self::with_retention(accounts, timing, unreachable, DEFAULT_RETAIN_SENT, now)
    }

    /// A state whose accounts each keep their latest `retain_sent` sent messages
    /// (their rows, recIds and deliveries); older ones are forgotten, so that
    /// memory stays flat however long the emulator runs.
    pub(crate) fn with_retention(
        accounts: Vec<Account>,
        timing: DeliveryTiming,
        unreachable: &[MobileNumber],
        retain_sent: usize,
        now: DateTime<Utc>,
    ) -> Self {
        let seed = Seed { accounts: accounts.clone(), timing, unreachable: unreachable.to_vec(), retain_sent };
        let mut state = State {
            seed,
            accounts: Accounts::default(),
            inbox: Inbox::new(retain_sent),
            deliveries: Deliveries::new(timing, unreachable),
            schedules: Schedules::default(),
            last_now: now,
        };
        for mut account in accounts {
            let username = account.username.clone();
            let seeds = std::mem::take(&mut account.inbox);
            state.accounts.add(account);
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

    /// Back to the configured accounts as the emulator started with them: credit, inbox
    /// seeds, no sends, schedules or deliveries, recIds and message ids counted from the
    /// start again. Time does not go back.
    pub(crate) fn reset(&mut self, now: DateTime<Utc>) {
        let Seed { accounts, timing, unreachable, retain_sent } = self.seed.clone();
        let now = self.observe(now);
        *self = State { last_now: now, ..State::with_retention(accounts, timing, &unreachable, retain_sent, now) };
    }

    /// The time to act at when the clock reads `now`: `now`, or the latest time the state
    /// has already acted at if that is later (a clock set back, or a reading taken before
    /// another caller's), so that time never goes backwards for the state.
    pub(crate) fn observe(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.last_now = self.last_now.max(now);
        self.last_now
    }

    /// The parts a send changes.
    fn ledger(&mut self) -> Ledger<'_> {
        Ledger { accounts: &mut self.accounts, inbox: &mut self.inbox, deliveries: &mut self.deliveries }
    }

    // -----------------------------------------------------------------------------------------
    // Accounts
    // -----------------------------------------------------------------------------------------

    /// The account key for these credentials, if they are right.
    pub(crate) fn authenticate(&self, username: Option<&str>, password: Option<&str>) -> Option<String> {
        self.accounts.authenticate(username, password)
    }

    pub(crate) fn credit(&self, key: &str) -> f64 {
        self.accounts.credit(key)
    }

    pub(crate) fn numbers(&self, key: &str) -> Vec<String> {
        self.accounts.numbers(key)
    }

    /// The user names, as configured.
    pub(crate) fn usernames(&self) -> Vec<String> {
        self.accounts.usernames()
    }

    // -----------------------------------------------------------------------------------------
    // Sends, deliveries and schedules
    // -----------------------------------------------------------------------------------------

    /// SendSms for the (authenticated) account `key`: the recIds and per-recipient
    /// statuses, or why nothing was sent.
    pub(crate) fn send(&mut self, key: &str, input: &SendInput, now: DateTime<Utc>) -> Result<Sent, SendStatus> {
        self.ledger().send(key, input, now)
    }

    /// GetDelivery: the status the panel holds for `rec_id`.
    pub(crate) fn delivery(&self, rec_id: i64) -> DeliveryStatus {
        self.deliveries.held(rec_id)
    }

    /// UpdateDelivery: refreshes the whole batch of `rec_id` from the operator.
    pub(crate) fn update_delivery(&mut self, rec_id: i64, now: DateTime<Utc>) -> UpdateDeliveryStatus {
        self.deliveries.update(rec_id, now)
    }

    /// ScheduleSms for the (authenticated) account `key`; an occurrence already due is
    /// sent at once.
    pub(crate) fn schedule(
        &mut self,
        key: &str,
        input: SendInput,
        at: PanelDateTime,
        repeat: Repeat,
        now: DateTime<Utc>,
    ) -> Result<(), SendStatus> {
        self.schedules.add(&self.accounts, key, input, at, repeat, now)?;
        self.tick(now);
        Ok(())
    }

    /// Sends every scheduled occurrence due at or before `now`, oldest first.
    pub(crate) fn tick(&mut self, now: DateTime<Utc>) {
        let State { accounts, inbox, deliveries, schedules, .. } = self;
        schedules.tick(now, &mut Ledger { accounts, inbox, deliveries });
    }

    /// When the next scheduled occurrence is due, if any.
    pub(crate) fn next_due(&self) -> Option<DateTime<Utc>> {
        self.schedules.next_due()
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
        self.inbox.receive(&key, sms, account.senders().first().map(String::as_str), now)
    }

    /// GetInboxCount: the received messages with this read flag.
    pub(crate) fn inbox_count(&self, key: &str, is_read: bool) -> usize {
        self.inbox.count(key, is_read)
    }

    /// GetNewMessagesList.
    pub(crate) fn take_new(&mut self, key: &str, from: Option<&str>) -> Vec<Row> {
        self.inbox.take_new(key, from)
    }

    /// GetReceiveSMSIsReadList/IsNotReadList.
    pub(crate) fn received(&self, key: &str, from: Option<&str>, is_read: bool) -> Vec<Row> {
        self.inbox.received(key, from, is_read)
    }

    /// GetSentSMSIsReadList/IsNotReadList.
    pub(crate) fn sent(&self, key: &str, from: Option<&str>, is_read: bool) -> Vec<Row> {
        self.inbox.sent(key, from, is_read)
    }

    /// UpdateMessagesIsRead/IsNotRead.
    pub(crate) fn mark(&mut self, key: &str, ids: &str, read: bool) -> MarkReadStatus {
        if self.accounts.get(key).is_none() {
            return MarkReadStatus::WrongCredentials;
        }
        self.inbox.mark(key, ids, read);
        MarkReadStatus::Done
    }

    // -----------------------------------------------------------------------------------------
    // Views
    // -----------------------------------------------------------------------------------------

    /// The account's state, by user name (case-insensitively).
    pub(crate) fn snapshot(&self, username: &str, now: DateTime<Utc>) -> Option<AccountSnapshot> {
        let key = account_key(username);
        let account = self.accounts.get(&key)?;
        let sent = self.inbox.sent_rows(&key).map(|row| {
            let rec_id = row.rec_id();
            row.snapshot(self.deliveries.held(rec_id), self.deliveries.operator_status(rec_id, now))
        });
        Some(AccountSnapshot {
            inbox: self.inbox.received_snapshots(&key),
            sent: sent.collect(),
            schedules: self.schedules.snapshots(&key),
            ..account.snapshot(now)
        })
    }
}

/// What the state's tests start from.
#[cfg(test)]
mod fixtures {
    use super::*;

    pub(super) fn start() -> DateTime<Utc> {
        "2024-03-20T09:00:00".parse::<PanelDateTime>().expect("date").to_utc()
    }

    pub(super) fn state() -> State {
        let account = Account::new("u", "p").credit(10.0).sender("5000").daily_limit(5).filtered_word("Bad");
        let unreachable = [MobileNumber::parse("09120000000").expect("number")];
        State::new(
            vec![account, Account::new("other", "x").credit(1.0).sender("6000")],
            DeliveryTiming::default(),
            &unreachable,
            start(),
        )
    }

    pub(super) fn input(to: &[&str], text: &str) -> SendInput {
        SendInput {
            to: to.iter().map(|to| Some((*to).to_owned())).collect(),
            from: Some("5000".to_owned()),
            text: Some(text.to_owned()),
            ..SendInput::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{input, start, state};
    use super::*;

    #[test]
    fn reset_goes_back_to_the_configured_accounts_but_not_back_in_time() {
        let mut state = state();
        let now = state.observe(start() + chrono::Duration::seconds(30));
        let first = state.send("u", &input(&["09121234567"], "hi"), now).expect("sent");
        state.inject(IncomingSms::new("u", "09351234567", "x"), now).expect("injected");
        assert_eq!(state.snapshot("u", now).expect("u").credit, 9.0);

        state.reset(start());
        let snapshot = state.snapshot("u", now).expect("u");
        assert_eq!((snapshot.credit, snapshot.sent.len(), snapshot.inbox.len()), (10.0, 0, 0));
        assert_eq!(state.delivery(first.rec_ids[0]), DeliveryStatus::Undetermined, "the recId is forgotten");
        assert_eq!(state.observe(start()), now, "time does not go back");
        let again = state.send("u", &input(&["09121234567"], "hi"), now).expect("sent");
        assert_eq!(again.rec_ids, [FIRST_REC_ID], "recIds start again");
    }

    #[test]
    fn an_account_keeps_only_its_latest_sent_messages() {
        let account = Account::new("u", "p").credit(100.0).sender("5000");
        let mut state = State::with_retention(vec![account], DeliveryTiming::default(), &[], 3, start());
        let now = start();
        let first = state.send("u", &input(&["09121111111", "09122222222"], "a"), now).expect("sent");
        let second = state.send("u", &input(&["09123333333", "09124444444"], "b"), now).expect("sent");

        let snapshot = state.snapshot("u", now).expect("u");
        let kept: Vec<i64> = snapshot.sent.iter().map(|row| row.rec_id).collect();
        assert_eq!(kept, [first.rec_ids[1], second.rec_ids[0], second.rec_ids[1]], "the oldest row goes first");
        assert_eq!(state.delivery(first.rec_ids[0]), DeliveryStatus::Undetermined, "its recId is unknown");
        assert_eq!(state.update_delivery(first.rec_ids[0], now), UpdateDeliveryStatus::InvalidRecId);
        assert_eq!(state.update_delivery(first.rec_ids[1], now), UpdateDeliveryStatus::Updated, "its batch lives on");
        assert_eq!(state.delivery(first.rec_ids[1]), DeliveryStatus::SentToOperator);
    }
}
