//! Set-up shared by the SQL stores' own tests.

use std::time::Duration;

use super::{Account, CampaignId, CampaignSpec, Lease, Store};
use crate::bulk::{BatchOutcome, SentRecipient};
use crate::recipient::MobileNumber;

/// A sent outcome for `numbers`, in order, with recIds from `first_rec_id` on.
pub(crate) fn sent_to(numbers: &[MobileNumber], first_rec_id: i64) -> BatchOutcome {
    BatchOutcome::Sent {
        recipients: numbers
            .iter()
            .zip(first_rec_id..)
            .map(|(number, rec_id)| SentRecipient {
                number: number.as_str().to_owned(),
                rec_id: Some(rec_id),
                status: None,
                accepted: true,
            })
            .collect(),
    }
}

/// A campaign of `recipients` on account `a`, in batches of 100, and the
/// leases of its first two batches, both attempting (owner `w`).
pub(crate) async fn two_attempting_batches<S: Store>(
    store: &S,
    recipients: usize,
) -> (CampaignId, Vec<MobileNumber>, Vec<Lease>) {
    let account =
        Account { name: "a".into(), username: "u".into(), endpoints: Vec::new(), credentials: "s".into(), rate: None };
    store.put_account(&account).await.expect("an account");
    let spec = CampaignSpec { idempotency_key: None, ..CampaignSpec::single_send("a", "1", "x", "") };
    let id = store.create_campaign(&spec).await.expect("campaign").id;
    let numbers: Vec<MobileNumber> =
        (0..recipients).map(|n| MobileNumber::parse(&format!("0912{n:07}")).expect("a number")).collect();
    store.add_recipients(id, &numbers).await.expect("recipients");
    store.seal(id, 100).await.expect("seal");
    let mut leases = Vec::new();
    for _ in 0..2 {
        let (_, lease) = store.take_token_claim_and_attempt("a", "w", Duration::from_secs(60)).await.expect("claim");
        leases.push(lease.expect("a batch"));
    }
    (id, numbers, leases)
}
