//! The accounts as the panel keeps them: credentials, credit, sender numbers, filtered
//! words, and the recipients sent to per day.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::accounts::Account;
use crate::snapshot::AccountSnapshot;
use payamak::PanelDateTime;

/// The key an account is found by: its user name, matched case-insensitively.
pub(crate) fn account_key(username: &str) -> String {
    username.to_lowercase()
}

/// The Tehran calendar day the daily limit counts `at` in.
fn tehran_date(at: DateTime<Utc>) -> NaiveDate {
    PanelDateTime::from(at).naive_local().date()
}

/// One account.
pub(crate) struct AccountRecord {
    username: String,
    password: String,
    credit: f64,
    price_per_part: f64,
    daily_limit: Option<u32>,
    senders: Vec<String>,
    filtered_words: Vec<String>,
    /// Recipients sent to, per Tehran calendar day.
    per_day: BTreeMap<NaiveDate, u32>,
}

impl AccountRecord {
    fn new(account: Account) -> Self {
        AccountRecord {
            username: account.username,
            password: account.password,
            credit: account.credit,
            price_per_part: account.price_per_part,
            daily_limit: account.daily_limit,
            senders: account.senders,
            filtered_words: account.filtered_words,
            per_day: BTreeMap::new(),
        }
    }

    /// The account's virtual (sender) numbers, as configured.
    pub(crate) fn senders(&self) -> &[String] {
        &self.senders
    }

    /// Whether `text` contains a filtered word (case-insensitively).
    pub(crate) fn filters(&self, text: &str) -> bool {
        let folded = text.to_lowercase();
        self.filtered_words.iter().any(|word| folded.contains(&word.to_lowercase()))
    }

    /// Whether `recipients` more would pass the daily limit of the day of `at`.
    pub(crate) fn exceeds_daily_limit(&self, recipients: u32, at: DateTime<Utc>) -> bool {
        self.daily_limit.is_some_and(|limit| self.sent_on(at).saturating_add(recipients) > limit)
    }

    /// The price of one SMS part to one recipient.
    pub(crate) fn price_per_part(&self) -> f64 {
        self.price_per_part
    }

    /// Whether the credit falls short of `cost`.
    pub(crate) fn short_of(&self, cost: f64) -> bool {
        cost > self.credit + 1e-9
    }

    /// Recipients sent to on the Tehran calendar day of `at`.
    fn sent_on(&self, at: DateTime<Utc>) -> u32 {
        self.per_day.get(&tehran_date(at)).copied().unwrap_or(0)
    }

    /// The account's own fields at `now`; the message and schedule lists are left empty.
    pub(crate) fn snapshot(&self, now: DateTime<Utc>) -> AccountSnapshot {
        AccountSnapshot {
            username: self.username.clone(),
            credit: self.credit,
            price_per_part: self.price_per_part,
            daily_limit: self.daily_limit,
            sent_today: self.sent_on(now),
            senders: self.senders.clone(),
            filtered_words: self.filtered_words.clone(),
            inbox: Vec::new(),
            sent: Vec::new(),
            schedules: Vec::new(),
        }
    }
}

/// Every account, by key.
#[derive(Default)]
pub(crate) struct Accounts {
    records: BTreeMap<String, AccountRecord>,
}

impl Accounts {
    /// Adds `account`, replacing one with the same key.
    pub(crate) fn add(&mut self, account: Account) {
        self.records.insert(account_key(&account.username), AccountRecord::new(account));
    }

    pub(crate) fn get(&self, key: &str) -> Option<&AccountRecord> {
        self.records.get(key)
    }

    /// The account key for these credentials, if they are right.
    pub(crate) fn authenticate(&self, username: Option<&str>, password: Option<&str>) -> Option<String> {
        let (username, password) = (username?, password?);
        let key = account_key(username);
        let account = self.records.get(&key)?;
        (account.password == password).then_some(key)
    }

    pub(crate) fn credit(&self, key: &str) -> f64 {
        self.records.get(key).map_or(0.0, |account| account.credit)
    }

    pub(crate) fn numbers(&self, key: &str) -> Vec<String> {
        self.records.get(key).map(|account| account.senders.clone()).unwrap_or_default()
    }

    /// Takes `cost` from the credit of `key` and counts `recipients` on the day of `at`.
    pub(crate) fn charge(&mut self, key: &str, cost: f64, recipients: u32, at: DateTime<Utc>) {
        if let Some(account) = self.records.get_mut(key) {
            account.credit -= cost;
            let today = account.per_day.entry(tehran_date(at)).or_insert(0);
            *today = today.saturating_add(recipients);
        }
    }

    /// The user names, as configured.
    pub(crate) fn usernames(&self) -> Vec<String> {
        self.records.values().map(|account| account.username.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::state;

    #[test]
    fn authentication_is_case_insensitive_for_the_user_name_only() {
        let state = state();
        assert_eq!(state.authenticate(Some("U"), Some("p")).as_deref(), Some("u"));
        assert_eq!(state.authenticate(Some("u"), Some("P")), None);
        assert_eq!(state.authenticate(None, Some("p")), None);
    }
}
