//! Following sent messages to a final delivery status.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Rejected};
use crate::status_codes::{DeliveryStatus, UpdateDeliveryStatus};
use crate::Client;

/// Follows recIds until each has a final delivery status.
///
/// The panel's own copy of a delivery status is refreshed by `UpdateDelivery`,
/// which is rate limited and refreshes a whole batch (every recipient of one
/// SendSms call) at once. The tracker therefore calls it for one recId per
/// batch, never more often than the minimum interval, treats code 100 ("too
/// soon") as "wait", and reads each recId with `GetDelivery`.
///
/// ```no_run
/// # async fn demo(client: payamak::Client, sms: payamak::Sms) -> Result<(), payamak::Error> {
/// use payamak::delivery::DeliveryTracker;
///
/// let report = client.send(&sms).await?;
/// let tracked = DeliveryTracker::new(client).track(&[report.rec_ids()]).await?;
/// for (rec_id, status) in &tracked.statuses {
///     println!("{rec_id}: {status}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeliveryTracker {
    client: Client,
    min_update_interval: Duration,
    poll_interval: Duration,
    give_up_after: Duration,
}

/// The statuses a [`DeliveryTracker`] reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// The last status of every recId.
    pub statuses: BTreeMap<i64, DeliveryStatus>,
    /// True when every status is final; false when the tracker gave up first.
    pub complete: bool,
}

struct Batch {
    rec_ids: Vec<i64>,
    last_update: Option<Instant>,
}

impl DeliveryTracker {
    /// A tracker with a 10 s minimum update interval, polling every 10 s, giving up after 1 hour.
    pub fn new(client: Client) -> Self {
        DeliveryTracker {
            client,
            min_update_interval: Duration::from_secs(10),
            poll_interval: Duration::from_secs(10),
            give_up_after: Duration::from_secs(3600),
        }
    }

    /// The least time between two `UpdateDelivery` calls for one batch.
    #[must_use]
    pub fn min_update_interval(mut self, interval: Duration) -> Self {
        self.min_update_interval = interval;
        self
    }

    /// The pause between two rounds of `GetDelivery`.
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long to follow before returning with non-final statuses.
    #[must_use]
    pub fn give_up_after(mut self, limit: Duration) -> Self {
        self.give_up_after = limit;
        self
    }

    /// Follows `batches` (the recIds of each SendSms call) to final statuses.
    pub async fn track(&self, batches: &[Vec<i64>]) -> Result<Tracked, Error> {
        self.track_with(batches, |_, _| {}).await
    }

    /// [`DeliveryTracker::track`], calling `on_change(rec_id, status)` whenever a status is first seen or changes.
    pub async fn track_with(
        &self,
        batches: &[Vec<i64>],
        mut on_change: impl FnMut(i64, DeliveryStatus),
    ) -> Result<Tracked, Error> {
        let deadline = Instant::now() + self.give_up_after;
        let mut batches: Vec<Batch> = batches
            .iter()
            .filter(|rec_ids| !rec_ids.is_empty())
            .map(|rec_ids| Batch { rec_ids: rec_ids.clone(), last_update: None })
            .collect();
        let mut statuses: BTreeMap<i64, DeliveryStatus> = BTreeMap::new();
        loop {
            for batch in &mut batches {
                let pending: Vec<i64> = batch
                    .rec_ids
                    .iter()
                    .copied()
                    .filter(|rec_id| !statuses.get(rec_id).is_some_and(|status| status.is_final()))
                    .collect();
                let Some(&representative) = pending.first() else { continue };
                let due = batch.last_update.is_none_or(|at| at.elapsed() >= self.min_update_interval);
                if due {
                    match self.client.update_delivery(representative).await? {
                        UpdateDeliveryStatus::InvalidRecId => {
                            return Err(Rejected::new("UpdateDelivery", UpdateDeliveryStatus::InvalidRecId).into())
                        }
                        // Updated, too soon, or unknown: in every case wait a full interval.
                        _ => batch.last_update = Some(Instant::now()),
                    }
                }
                for rec_id in pending {
                    let status = self.client.delivery(rec_id).await?;
                    if statuses.insert(rec_id, status) != Some(status) {
                        on_change(rec_id, status);
                    }
                }
            }
            let complete = batches
                .iter()
                .flat_map(|batch| &batch.rec_ids)
                .all(|rec_id| statuses.get(rec_id).is_some_and(|status| status.is_final()));
            if complete || Instant::now() >= deadline {
                return Ok(Tracked { statuses, complete });
            }
            tokio::time::sleep(self.poll_interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }
}
