//! Sending (SendSms, and each scheduled occurrence): the checks in the panel's order,
//! then the charge, one sent row and one delivery per valid recipient.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::accounts::Accounts;
use super::deliveries::Deliveries;
use super::inbox::{Inbox, Number, SentBatch, SentMessage};
use crate::accounts::normalize_line;
use payamak::recipient::MobileNumber;
use payamak::sms_parts;
use payamak::status_codes::{RecipientStatus, SendStatus};

/// At most this many recipients per SendSms or ScheduleSms call.
const MAX_RECIPIENTS: usize = 100;

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
pub(crate) struct Plan {
    sender: String,
    recipients: Vec<Option<MobileNumber>>,
    accepted: u32,
    parts: u32,
    cost_per_recipient: f64,
}

/// Checks a send for `key` at `at`, in the order: sender (5), filtered words (7),
/// recipient count (4), no valid recipient (11), daily limit (3), credit (2).
pub(crate) fn check(accounts: &Accounts, key: &str, input: &SendInput, at: DateTime<Utc>) -> Result<Plan, SendStatus> {
    let account = accounts.get(key).ok_or(SendStatus::WrongCredentials)?;
    let sender = input.from.as_deref().map(normalize_line).unwrap_or_default();
    if sender.is_empty() || !account.senders().contains(&sender) {
        return Err(SendStatus::SenderNotAllowed);
    }
    let text = input.text.as_deref().unwrap_or("");
    if account.filters(text) {
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
    if account.exceeds_daily_limit(accepted, at) {
        return Err(SendStatus::DailyLimitReached);
    }
    let parts = sms_parts::count(text).parts();
    let cost_per_recipient = f64::from(parts) * account.price_per_part();
    if account.short_of(cost_per_recipient * f64::from(accepted)) {
        return Err(SendStatus::InsufficientCredit);
    }
    Ok(Plan { sender, recipients, accepted, parts, cost_per_recipient })
}

/// What a committed send changes: the account's credit and daily count, its sent
/// rows, and the deliveries to follow.
pub(crate) struct Ledger<'a> {
    pub(crate) accounts: &'a mut Accounts,
    pub(crate) inbox: &'a mut Inbox,
    pub(crate) deliveries: &'a mut Deliveries,
}

impl Ledger<'_> {
    /// Sends for the (authenticated) account `key` at `at`: the recIds and
    /// per-recipient statuses, or why nothing was sent.
    pub(crate) fn send(&mut self, key: &str, input: &SendInput, at: DateTime<Utc>) -> Result<Sent, SendStatus> {
        let plan = check(self.accounts, key, input, at)?;
        Ok(self.commit(key, input, plan, at))
    }

    /// Commits a checked send: one recId, sent row and delivery per valid recipient.
    fn commit(&mut self, key: &str, input: &SendInput, plan: Plan, at: DateTime<Utc>) -> Sent {
        let batch = self.deliveries.open_batch();
        let mut sent = Sent { rec_ids: Vec::new(), statuses: Vec::new() };
        let shared = Arc::new(SentBatch {
            batch,
            from: plan.sender,
            body: input.text.clone().unwrap_or_default(),
            parts: plan.parts,
            cost: plan.cost_per_recipient,
            flash: input.flash,
            udh: input.udh.clone().filter(|udh| !udh.is_empty()),
            at,
        });
        for recipient in plan.recipients {
            let Some(number) = recipient else {
                sent.rec_ids.push(0);
                sent.statuses.push(RecipientStatus::NotSent);
                continue;
            };
            let rec_id = self.deliveries.track(batch, &number, at);
            let message = SentMessage { rec_id, to: Number::new(number.as_str()), batch: shared.clone() };
            let forgotten = self.inbox.file_sent(key, message);
            if let Some(forgotten) = forgotten {
                self.deliveries.forget(forgotten);
            }
            sent.rec_ids.push(rec_id);
            sent.statuses.push(RecipientStatus::Sent);
        }
        self.accounts.charge(key, plan.cost_per_recipient * f64::from(plan.accepted), plan.accepted, at);
        tracing::debug!(account = key, batch, recipients = plan.accepted, "sent");
        sent
    }
}

#[cfg(test)]
mod tests {
    use crate::state::deliveries::FIRST_REC_ID;
    use crate::state::fixtures::{input, start, state};
    use payamak::status_codes::{RecipientStatus, SendStatus};

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
}
