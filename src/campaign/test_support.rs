//! Set-up shared by the durable stores' own tests.

use std::time::Duration;

use super::{Account, CampaignId, CampaignSpec, Lease, Store, StoreError, StoreResult};
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
    store.put_account(&account("a")).await.expect("an account");
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

/// An account named `name`, without a rate.
pub(crate) fn account(name: &str) -> Account {
    Account { name: name.into(), username: "u".into(), endpoints: Vec::new(), credentials: "s".into(), rate: None }
}

/// A single send (an OTP) with account `a` and the idempotency key `key`.
pub(crate) fn otp(key: &str) -> CampaignSpec {
    CampaignSpec::single_send("a", "5000123456", "code 4711", key)
}

/// The `n`th test number.
pub(crate) fn number(n: u32) -> MobileNumber {
    MobileNumber::parse(&format!("0912{n:07}")).expect("a number")
}

/// Asserts that a claim of account `a` gets the single send `id` to `number`,
/// and then nothing more.
pub(crate) async fn assert_claimed_once<S: Store>(store: &S, id: CampaignId, number: &MobileNumber) {
    let lease = store.claim("a", "w", Duration::from_secs(60)).await.expect("a claim").expect("the single send");
    assert_eq!(
        (lease.campaign, lease.numbers.as_slice(), lease.text.as_str(), lease.from.as_str()),
        (id, std::slice::from_ref(number), "code 4711", "5000123456")
    );
    assert!(store.claim("a", "w", Duration::from_secs(60)).await.expect("a claim").is_none(), "one send only");
}

/// Asserts that the store has no campaign and nothing to claim.
pub(crate) async fn assert_nothing_enqueued<S: Store>(store: &S) {
    assert_eq!(store.counts(None).await.expect("counts").total(), 0, "no batch");
    assert!(store.campaign(CampaignId(1)).await.expect("a read").is_none(), "no campaign");
    assert!(store.claim("a", "w", Duration::from_secs(60)).await.expect("a claim").is_none(), "nothing to claim");
}

/// Asserts that `result` is the refusal of a database that is not a payamak
/// job store of this version, saying `why`.
pub(crate) fn assert_refused_store<T: std::fmt::Debug>(result: StoreResult<T>, why: &str) {
    match result {
        Err(StoreError::Damaged(message)) => assert!(message.contains(why), "{message:?} says {why:?}"),
        other => panic!("{other:?} is not a refused store"),
    }
}
