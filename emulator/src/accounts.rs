//! Accounts: how they are described (Rust builder or TOML file) before the emulator starts.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::toml_error::TomlError;
use payamak::recipient::MobileNumber;
use payamak::PanelDateTime;

/// The user name of the account every emulator has unless told otherwise.
pub const DEMO_USERNAME: &str = "demo";
/// The password of the demo account.
pub const DEMO_PASSWORD: &str = "demo";

/// One panel account, as configured before the emulator starts.
///
/// ```
/// use payamak_emulator::Account;
///
/// let account = Account::new("alice", "s3cret")
///     .credit(250.0)
///     .price_per_part(1.5)
///     .daily_limit(100)
///     .sender("50001234")
///     .filtered_word("spam");
/// assert_eq!(account.username(), "alice");
/// ```
#[derive(Clone, PartialEq)]
pub struct Account {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) credit: f64,
    pub(crate) price_per_part: f64,
    pub(crate) daily_limit: Option<u32>,
    pub(crate) senders: Vec<String>,
    pub(crate) filtered_words: Vec<String>,
    pub(crate) inbox: Vec<SeedMessage>,
    pub(crate) pacing: crate::pacing::SendPacing,
}

/// A received message an account starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedMessage {
    pub(crate) from: String,
    pub(crate) to: Option<String>,
    pub(crate) body: String,
}

impl Account {
    /// An account with no credit, price 1.0 per SMS part, no daily limit, no sender
    /// numbers and no filtered words.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Account {
            username: username.into(),
            password: password.into(),
            credit: 0.0,
            price_per_part: 1.0,
            daily_limit: None,
            senders: Vec::new(),
            filtered_words: Vec::new(),
            inbox: Vec::new(),
            pacing: crate::pacing::SendPacing::default(),
        }
    }

    /// The demo account: user name `demo`, password `demo`, credit 10000, sender
    /// numbers `5000123456` and `3000987654`, the filtered word `قمار` and a daily
    /// limit of 1000 recipients.
    pub fn demo() -> Self {
        Account::new(DEMO_USERNAME, DEMO_PASSWORD)
            .credit(10_000.0)
            .sender("5000123456")
            .sender("3000987654")
            .filtered_word("قمار")
            .daily_limit(1000)
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Sets the credit.
    #[must_use]
    pub fn credit(mut self, credit: f64) -> Self {
        self.credit = credit;
        self
    }

    /// Sets the price of one SMS part to one recipient (default 1.0).
    #[must_use]
    pub fn price_per_part(mut self, price: f64) -> Self {
        self.price_per_part = price;
        self
    }

    /// Limits the recipients sent to per calendar day (Asia/Tehran).
    #[must_use]
    pub fn daily_limit(mut self, recipients: u32) -> Self {
        self.daily_limit = Some(recipients);
        self
    }

    /// Removes the daily limit.
    #[must_use]
    pub fn unlimited(mut self) -> Self {
        self.daily_limit = None;
        self
    }

    /// Adds a virtual (sender) number the account owns. Persian or Arabic-Indic digits
    /// and separators are normalised.
    #[must_use]
    pub fn sender(mut self, number: impl AsRef<str>) -> Self {
        let number = normalize_line(number.as_ref());
        if !number.is_empty() && !self.senders.contains(&number) {
            self.senders.push(number);
        }
        self
    }

    /// Adds a filtered word: a text containing it (case-insensitively) is refused with
    /// code 7.
    #[must_use]
    pub fn filtered_word(mut self, word: impl Into<String>) -> Self {
        let word = word.into();
        if !word.trim().is_empty() {
            self.filtered_words.push(word);
        }
        self
    }

    /// Limits SendSms to `per_second` calls (with `burst` at once after a quiet
    /// spell); a call over the limit is not carried out and gets HTTP 503 with
    /// `Retry-After`, the throttling answer.
    #[must_use]
    pub fn send_rate(mut self, per_second: f64, burst: u32) -> Self {
        self.pacing.per_second = Some(per_second);
        self.pacing.burst = burst.max(1);
        self
    }

    /// Makes every SendSms call take `latency` (half before the send is carried out, half after).
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.pacing.latency = latency;
        self
    }

    /// Adds a received message the account starts with (to its first sender number).
    #[must_use]
    pub fn received(mut self, from: impl Into<String>, body: impl Into<String>) -> Self {
        self.inbox.push(SeedMessage { from: from.into(), to: None, body: body.into() });
        self
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("password", &"***")
            .field("credit", &self.credit)
            .field("price_per_part", &self.price_per_part)
            .field("daily_limit", &self.daily_limit)
            .field("senders", &self.senders)
            .field("filtered_words", &self.filtered_words)
            .field("inbox", &self.inbox.len())
            .field("pacing", &self.pacing)
            .finish()
    }
}

/// How deliveries progress, and how often UpdateDelivery may refresh a batch.
///
/// A sent recipient is "sent to the operator" (code 0) at first, "reached the operator"
/// (8) after [`reach_operator_after`](Self::reach_operator_after), and final after
/// [`final_after`](Self::final_after): delivered (1), or not delivered (2) for the
/// numbers configured as unreachable. These are the operator's statuses; GetDelivery
/// answers with the status the panel holds, which UpdateDelivery refreshes from the
/// operator at most once per [`update_interval`](Self::update_interval) per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryTiming {
    /// Time from sending to "reached the operator" (8). Default 2 s.
    pub reach_operator_after: Duration,
    /// Time from sending to the final status. Default 5 s (never earlier than
    /// `reach_operator_after`).
    pub final_after: Duration,
    /// The minimum interval between two UpdateDelivery refreshes of the same batch;
    /// a call sooner answers 100. Default 10 s.
    pub update_interval: Duration,
}

impl Default for DeliveryTiming {
    fn default() -> Self {
        DeliveryTiming {
            reach_operator_after: Duration::from_secs(2),
            final_after: Duration::from_secs(5),
            update_interval: Duration::from_secs(10),
        }
    }
}

/// Why an accounts file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML of the expected shape. The error says what is wrong
    /// and where, never quoting the file (a value there may be a password).
    #[error("invalid accounts file: {0}")]
    Toml(TomlError),
    /// A value is out of range or malformed.
    #[error("invalid accounts file: {0}")]
    Invalid(String),
}

/// The TOML accounts file, as read.
#[derive(Debug, Default)]
pub(crate) struct AccountsFile {
    pub(crate) demo: bool,
    pub(crate) accounts: Vec<Account>,
    pub(crate) timing: Option<DeliveryTiming>,
    pub(crate) unreachable: Vec<MobileNumber>,
    pub(crate) manual_clock_start: Option<PanelDateTime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    #[serde(default = "yes")]
    demo: bool,
    #[serde(default)]
    clock: Option<ClockRepr>,
    #[serde(default)]
    delivery: Option<DeliveryRepr>,
    #[serde(default)]
    accounts: Vec<AccountRepr>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRepr {
    manual_start: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryRepr {
    reach_operator_secs: Option<f64>,
    final_secs: Option<f64>,
    update_interval_secs: Option<f64>,
    #[serde(default)]
    unreachable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRepr {
    username: String,
    password: String,
    #[serde(default)]
    credit: f64,
    price_per_part: Option<f64>,
    daily_limit: Option<u32>,
    #[serde(default)]
    senders: Vec<String>,
    #[serde(default)]
    filtered_words: Vec<String>,
    #[serde(default)]
    inbox: Vec<InboxRepr>,
    send_rate: Option<f64>,
    send_burst: Option<u32>,
    latency_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxRepr {
    from: String,
    to: Option<String>,
    body: String,
}

fn seconds(name: &str, value: Option<f64>, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(secs) => Duration::try_from_secs_f64(secs)
            .map_err(|_| ConfigError::Invalid(format!("delivery.{name} must be a non-negative number of seconds"))),
    }
}

fn check_money(what: &str, username: &str, value: f64) -> Result<f64, ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ConfigError::Invalid(format!("account {username:?}: {what} must be a non-negative number")))
    }
}

impl AccountsFile {
    /// Reads the TOML text of an accounts file.
    pub(crate) fn parse(text: &str) -> Result<Self, ConfigError> {
        let repr: FileRepr = TomlError::parse(text).map_err(ConfigError::Toml)?;
        let mut file = AccountsFile { demo: repr.demo, ..AccountsFile::default() };
        if let Some(clock) = repr.clock {
            let start = clock
                .manual_start
                .parse::<PanelDateTime>()
                .map_err(|error| ConfigError::Invalid(format!("clock.manual_start: {error}")))?;
            file.manual_clock_start = Some(start);
        }
        if let Some(delivery) = repr.delivery {
            let defaults = DeliveryTiming::default();
            file.timing = Some(DeliveryTiming {
                reach_operator_after: seconds(
                    "reach_operator_secs",
                    delivery.reach_operator_secs,
                    defaults.reach_operator_after,
                )?,
                final_after: seconds("final_secs", delivery.final_secs, defaults.final_after)?,
                update_interval: seconds(
                    "update_interval_secs",
                    delivery.update_interval_secs,
                    defaults.update_interval,
                )?,
            });
            for number in delivery.unreachable {
                let parsed = MobileNumber::parse(&number)
                    .map_err(|error| ConfigError::Invalid(format!("delivery.unreachable: {error}")))?;
                file.unreachable.push(parsed);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for repr in repr.accounts {
            if repr.username.trim().is_empty() {
                return Err(ConfigError::Invalid("an account has an empty username".to_owned()));
            }
            if !seen.insert(repr.username.to_lowercase()) {
                return Err(ConfigError::Invalid(format!("account {:?} is listed twice", repr.username)));
            }
            let credit = check_money("credit", &repr.username, repr.credit)?;
            let mut account = Account::new(repr.username.clone(), repr.password).credit(credit);
            if let Some(price) = repr.price_per_part {
                account = account.price_per_part(check_money("price_per_part", &repr.username, price)?);
            }
            if let Some(limit) = repr.daily_limit {
                account = account.daily_limit(limit);
            }
            for sender in repr.senders {
                account = account.sender(sender);
            }
            for word in repr.filtered_words {
                account = account.filtered_word(word);
            }
            if let Some(rate) = repr.send_rate {
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(ConfigError::Invalid(format!(
                        "account {:?}: send_rate must be calls per second, more than 0",
                        repr.username
                    )));
                }
                account = account.send_rate(rate, repr.send_burst.unwrap_or(1));
            }
            if let Some(latency) = repr.latency_ms {
                account = account.latency(Duration::from_millis(latency));
            }
            for message in repr.inbox {
                account.inbox.push(SeedMessage { from: message.from, to: message.to, body: message.body });
            }
            file.accounts.push(account);
        }
        Ok(file)
    }

    /// Reads an accounts file from disk.
    pub(crate) fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }
}

/// A sender line number with digits made ASCII and separators dropped.
pub(crate) fn normalize_line(number: &str) -> String {
    payamak::recipient::normalize_digits(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_file() {
        let file = AccountsFile::parse(
            r#"
            demo = false
            [clock]
            manual_start = "2024-03-20T09:00:00"
            [delivery]
            reach_operator_secs = 1
            final_secs = 2.5
            update_interval_secs = 0
            unreachable = ["+989120000000"]
            [[accounts]]
            username = "alice"
            password = "pw"
            credit = 12.5
            daily_limit = 3
            senders = ["۵۰۰۰۱"]
            filtered_words = ["bad"]
            inbox = [{ from = "09121111111", body = "hi" }]
            "#,
        )
        .expect("valid");
        assert!(!file.demo);
        assert_eq!(file.accounts.len(), 1);
        assert_eq!(file.accounts[0].senders, ["50001"]);
        assert_eq!(file.accounts[0].inbox.len(), 1);
        let timing = file.timing.expect("timing");
        assert_eq!(timing.final_after, Duration::from_millis(2500));
        assert_eq!(timing.update_interval, Duration::ZERO);
        assert_eq!(file.unreachable[0].as_str(), "09120000000");
        assert!(file.manual_clock_start.is_some());
    }

    #[test]
    fn refuses_bad_files() {
        for text in [
            "[[accounts]]\nusername = \"a\"\n",
            "[[accounts]]\nusername = \"a\"\npassword = \"p\"\ncredit = -1\n",
            "[[accounts]]\nusername = \"a\"\npassword = \"p\"\n[[accounts]]\nusername = \"A\"\npassword = \"q\"\n",
            "unknown = 1\n",
            "[delivery]\nfinal_secs = -2\n",
            "[delivery]\nunreachable = [\"123\"]\n",
            "[clock]\nmanual_start = \"tomorrow\"\n",
        ] {
            assert!(AccountsFile::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn toml_errors_do_not_show_the_password() {
        for (text, password) in [
            ("[[accounts]]\nusername = \"a\"\npassword = 98765432\n", "98765432"),
            ("[[accounts]]\nusername = \"a\"\npassword = \"S3cret!pw\n", "S3cret!pw"),
        ] {
            let Err(error) = AccountsFile::parse(text) else { panic!("{text:?} parsed") };
            assert!(matches!(error, ConfigError::Toml(_)), "{error:?}");
            for shown in [error.to_string(), format!("{error:?}")] {
                assert!(!shown.contains(password), "{shown}");
            }
            assert!(error.to_string().contains("(line 3, column"), "{error}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", Account::new("u", "hunter2"));
        assert!(!text.contains("hunter2"));
    }
}
