//! Following sent messages to a final delivery status.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
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
/// // One list of recIds per SendSms call (for a bulk send: `BulkReport::rec_id_batches`).
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
    /// The last status of every recId the panel knows.
    pub statuses: BTreeMap<i64, DeliveryStatus>,
    /// RecIds the panel said are not valid (UpdateDelivery code 0); no longer followed.
    pub invalid: BTreeSet<i64>,
    /// True when every recId reached a final status or was found invalid;
    /// false when the tracker gave up first.
    pub complete: bool,
}

struct Batch {
    rec_ids: Vec<i64>,
    last_update: Option<Instant>,
    /// Whether the panel's copy may have changed since the statuses were last read.
    read_due: bool,
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
    ///
    /// Statuses are read at the start and after each successful UpdateDelivery
    /// of their batch, since the panel's copy changes only then.
    pub async fn track_with(
        &self,
        batches: &[Vec<i64>],
        mut on_change: impl FnMut(i64, DeliveryStatus),
    ) -> Result<Tracked, Error> {
        let deadline = Instant::now() + self.give_up_after;
        let mut batches: Vec<Batch> = batches
            .iter()
            .filter(|rec_ids| !rec_ids.is_empty())
            .map(|rec_ids| Batch { rec_ids: rec_ids.clone(), last_update: None, read_due: true })
            .collect();
        let mut tracked = Tracked { statuses: BTreeMap::new(), invalid: BTreeSet::new(), complete: false };
        loop {
            for batch in &mut batches {
                let pending = |tracked: &Tracked| -> Vec<i64> {
                    batch.rec_ids.iter().copied().filter(|rec_id| !tracked.is_settled(*rec_id)).collect()
                };
                let Some(&representative) = pending(&tracked).first() else { continue };
                if batch.last_update.is_none_or(|at| at.elapsed() >= self.min_update_interval) {
                    match self.client.update_delivery(representative).await? {
                        UpdateDeliveryStatus::Updated => {
                            batch.last_update = Some(Instant::now());
                            batch.read_due = true;
                        }
                        // Another recId of the batch may still be valid: it represents the batch next round.
                        UpdateDeliveryStatus::InvalidRecId => {
                            tracked.invalid.insert(representative);
                        }
                        // Too soon (100) or a code this crate does not know: wait a full interval.
                        _ => batch.last_update = Some(Instant::now()),
                    }
                }
                if std::mem::take(&mut batch.read_due) {
                    for rec_id in pending(&tracked) {
                        let status = self.client.delivery(rec_id).await?;
                        if tracked.statuses.insert(rec_id, status) != Some(status) {
                            on_change(rec_id, status);
                        }
                    }
                }
            }
            tracked.complete =
                batches.iter().flat_map(|batch| &batch.rec_ids).all(|rec_id| tracked.is_settled(*rec_id));
            if tracked.complete || Instant::now() >= deadline {
                return Ok(tracked);
            }
            tokio::time::sleep(self.poll_interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }

    /// The same settings, following with `client`.
    #[cfg(feature = "blocking")]
    pub(crate) fn with_client(&self, client: Client) -> Self {
        DeliveryTracker { client, ..self.clone() }
    }
}

impl Tracked {
    /// True when `rec_id` needs no more following.
    fn is_settled(&self, rec_id: i64) -> bool {
        self.invalid.contains(&rec_id) || self.statuses.get(&rec_id).is_some_and(|status| status.is_final())
    }
}
