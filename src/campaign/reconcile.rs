//! Checking the panel before sending what a store holds as never attempted.
//!
//! A store put back from an older copy, or a campaign made again after its
//! store was lost, holds batches as pending that were sent. Nothing in the
//! store can show it. As with a bulk journal, the panel's sent lists are the
//! independent record: before such a campaign is sent again, every pending
//! batch any of whose recipients already received its text from its sender
//! within the window is moved to unknown ([`Transition::FoundOnThePanel`]),
//! and so is never sent again unless a person asks.
//!
//! [`Transition::FoundOnThePanel`]: super::Transition::FoundOnThePanel

use crate::bulk::{found_on_the_panel, received_on_the_panel, BatchOutcome, Reconciliation};
use crate::Client;

use super::{BatchState, CampaignId, Store, StoreError};

/// Batch rows read at a time.
const PAGE: u64 = 100;

/// A pending batch the panel's sent lists show was (at least in part) sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundOnThePanel {
    /// The batch (0-based).
    pub batch: u64,
    /// Its recipients.
    pub recipients: u64,
    /// How many of them the panel shows received its text.
    pub found: u64,
}

/// Why a campaign could not be checked against the panel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The panel's sent messages could not be read; nothing was moved.
    #[error("cannot read the panel's sent messages to check the campaign against them")]
    Panel(#[source] crate::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The campaign is not in the store.
    #[error("campaign {0} is not in the store")]
    NoCampaign(CampaignId),
}

/// Moves every pending batch of `campaign` whose recipients the panel shows
/// already received its text (from its sender, within `with`) to unknown, and
/// returns them. The panel is not asked when nothing is pending. Memory is one
/// page of batch rows and the numbers the panel's lists name.
pub async fn reconcile_with_panel<S: Store>(
    store: &S,
    client: &Client,
    campaign: CampaignId,
    with: Reconciliation,
) -> Result<Vec<FoundOnThePanel>, ReconcileError> {
    let info = store.campaign(campaign).await?.ok_or(ReconcileError::NoCampaign(campaign))?;
    if store.counts(Some(campaign)).await?.batches(BatchState::Pending) == 0 {
        return Ok(Vec::new());
    }
    let received =
        received_on_the_panel(client, &info.spec.from, &info.spec.text, with).await.map_err(ReconcileError::Panel)?;
    let mut found_batches = Vec::new();
    if received.is_empty() {
        return Ok(found_batches);
    }
    let mut from = Some(0);
    while let Some(first) = from {
        let page = store.batches(campaign, first, PAGE).await?;
        let Some(last) = page.last() else { break };
        from = last.batch.checked_add(1);
        for row in page.iter().filter(|row| row.state == BatchState::Pending) {
            let numbers = store.batch_numbers(campaign, row.batch).await?;
            let found = numbers.iter().filter(|number| received.contains(number.as_str())).count();
            if found == 0 {
                continue;
            }
            let error = found_on_the_panel(found, numbers.len(), "it was not sent (again)");
            if store.reconcile(campaign, row.batch, &BatchOutcome::Unknown { error }).await? {
                let (recipients, found) = (numbers.len() as u64, found as u64);
                found_batches.push(FoundOnThePanel { batch: row.batch, recipients, found });
            }
        }
    }
    Ok(found_batches)
}
