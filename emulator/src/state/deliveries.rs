//! Deliveries: the recIds, how each recipient's status progresses at the operator, the
//! status the panel holds (GetDelivery), and UpdateDelivery refreshing it a batch at a
//! time.

use std::collections::{HashSet, VecDeque};

use rustc_hash::FxHashMap;

use super::ids::IdMap;

use chrono::{DateTime, Utc};

use crate::accounts::DeliveryTiming;
use crate::clock::after;
use payamak::recipient::MobileNumber;
use payamak::status_codes::{DeliveryStatus, UpdateDeliveryStatus};

/// The first recId handed out; recIds then increase by one, across all accounts.
pub(crate) const FIRST_REC_ID: i64 = 1_000_000_001;

/// The delivery to one recipient.
struct Delivery {
    batch: usize,
    sent_at: DateTime<Utc>,
    /// The final status the operator will report (delivered, or not delivered).
    outcome: DeliveryStatus,
    /// The status the panel holds (GetDelivery), refreshed by UpdateDelivery.
    held: DeliveryStatus,
}

impl Delivery {
    /// The operator's status at `now`.
    fn operator_status(&self, timing: &DeliveryTiming, now: DateTime<Utc>) -> DeliveryStatus {
        let reach = timing.reach_operator_after;
        let done = timing.final_after.max(reach);
        if now >= after(self.sent_at, done) {
            self.outcome
        } else if now >= after(self.sent_at, reach) {
            DeliveryStatus::ReachedOperator
        } else {
            DeliveryStatus::SentToOperator
        }
    }
}

/// The recipients of one send (a SendSms call or a scheduled occurrence): UpdateDelivery
/// refreshes them together.
#[derive(Default)]
struct Batch {
    /// The recIds of the batch, in the order they were issued.
    members: VecDeque<i64>,
    last_update: Option<DateTime<Utc>>,
}

/// Every delivery, by recId.
pub(crate) struct Deliveries {
    timing: DeliveryTiming,
    unreachable: HashSet<String>,
    by_rec_id: IdMap<Delivery>,
    /// The batches with a delivery still followed, by index.
    batches: FxHashMap<usize, Batch>,
    next_batch: usize,
    next_rec_id: i64,
}

impl Deliveries {
    /// No deliveries yet; those to `unreachable` numbers will end as not delivered.
    pub(crate) fn new(timing: DeliveryTiming, unreachable: &[MobileNumber]) -> Self {
        Deliveries {
            timing,
            unreachable: unreachable.iter().map(|number| number.as_str().to_owned()).collect(),
            by_rec_id: IdMap::default(),
            batches: FxHashMap::default(),
            next_batch: 0,
            next_rec_id: FIRST_REC_ID,
        }
    }

    /// Starts the batch of one send; its index is what snapshots show.
    pub(crate) fn open_batch(&mut self) -> usize {
        let index = self.next_batch;
        self.next_batch += 1;
        self.batches.insert(index, Batch::default());
        index
    }

    /// Stops following `rec_id` (its sent row was forgotten): it becomes a recId never issued.
    pub(crate) fn forget(&mut self, rec_id: i64) {
        let Some(delivery) = self.by_rec_id.remove(rec_id) else { return };
        if let Some(batch) = self.batches.get_mut(&delivery.batch) {
            // An account forgets its oldest rows first, so the recId is usually the batch's first.
            if batch.members.front() == Some(&rec_id) {
                batch.members.pop_front();
            } else {
                batch.members.retain(|&member| member != rec_id);
            }
            if batch.members.is_empty() {
                self.batches.remove(&delivery.batch);
            }
        }
    }

    /// Follows the delivery to `recipient`, sent at `at` in `batch`: its new recId.
    pub(crate) fn track(&mut self, batch: usize, recipient: &MobileNumber, at: DateTime<Utc>) -> i64 {
        let rec_id = self.next_rec_id;
        self.next_rec_id += 1;
        let outcome = if !self.unreachable.is_empty() && self.unreachable.contains(recipient.as_str()) {
            DeliveryStatus::NotDelivered
        } else {
            DeliveryStatus::Delivered
        };
        let held = DeliveryStatus::SentToOperator;
        self.by_rec_id.insert(rec_id, Delivery { batch, sent_at: at, outcome, held });
        if let Some(batch) = self.batches.get_mut(&batch) {
            batch.members.push_back(rec_id);
        }
        rec_id
    }

    /// GetDelivery: the status the panel holds for `rec_id`; undetermined (100) for a
    /// recId it never issued.
    pub(crate) fn held(&self, rec_id: i64) -> DeliveryStatus {
        self.by_rec_id.get(rec_id).map_or(DeliveryStatus::Undetermined, |delivery| delivery.held)
    }

    /// The operator's status for `rec_id` at `now` (what UpdateDelivery would fetch);
    /// undetermined for a recId never issued.
    pub(crate) fn operator_status(&self, rec_id: i64, now: DateTime<Utc>) -> DeliveryStatus {
        self.by_rec_id
            .get(rec_id)
            .map_or(DeliveryStatus::Undetermined, |delivery| delivery.operator_status(&self.timing, now))
    }

    /// UpdateDelivery: refreshes the whole batch of `rec_id` from the operator.
    pub(crate) fn update(&mut self, rec_id: i64, now: DateTime<Utc>) -> UpdateDeliveryStatus {
        let Some(batch) = self.by_rec_id.get(rec_id).and_then(|delivery| self.batches.get_mut(&delivery.batch)) else {
            return UpdateDeliveryStatus::InvalidRecId;
        };
        if batch.last_update.is_some_and(|last| now < after(last, self.timing.update_interval)) {
            return UpdateDeliveryStatus::TooSoon;
        }
        batch.last_update = Some(now);
        for member in &batch.members {
            if let Some(delivery) = self.by_rec_id.get_mut(*member) {
                delivery.held = delivery.operator_status(&self.timing, now);
            }
        }
        UpdateDeliveryStatus::Updated
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::{input, start, state};
    use payamak::status_codes::{DeliveryStatus, UpdateDeliveryStatus};

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
}
