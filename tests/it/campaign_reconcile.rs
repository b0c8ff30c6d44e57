//! A campaign whose store lost what it sent is checked against the panel's
//! sent messages before it is sent again.

use payamak::bulk::Reconciliation;
use payamak::campaign::{
    reconcile_with_panel, Account, BatchState, CampaignId, CampaignSpec, FoundOnThePanel, MemoryStore, ReconcileError,
    Store, CAMPAIGN_PRIORITY,
};
use payamak::recipient::MobileNumber;
use payamak::{Client, Sms};
use payamak_emulator::{Emulator, EmulatorHandle, IN_PROCESS_BASE_URL};

const FROM: &str = "5000123456";
const TEXT: &str = "یادآوری جلسه";

fn numbers(count: usize) -> Vec<MobileNumber> {
    (0..count).map(|index| MobileNumber::parse(&format!("0912{index:07}")).expect("a number")).collect()
}

fn client(emulator: &EmulatorHandle) -> Client {
    Client::builder()
        .base_url(IN_PROCESS_BASE_URL)
        .credentials("demo", "demo")
        .transport(emulator.transport())
        .build()
        .expect("a client")
}

/// A campaign of 250 numbers (three batches), none of them attempted by the store's record.
async fn campaign(store: &MemoryStore) -> CampaignId {
    let account = Account {
        name: "a".to_owned(),
        username: "demo".to_owned(),
        endpoints: vec![IN_PROCESS_BASE_URL.to_owned()],
        credentials: "env:PAYAMAK_PASSWORD".to_owned(),
        rate: None,
    };
    store.put_account(&account).await.unwrap();
    let spec = CampaignSpec {
        account: "a".to_owned(),
        from: FROM.to_owned(),
        text: TEXT.to_owned(),
        flash: false,
        priority: CAMPAIGN_PRIORITY,
        idempotency_key: None,
        source: "test".to_owned(),
    };
    let id = store.create_campaign(&spec).await.unwrap().id;
    store.add_recipients(id, &numbers(250)).await.unwrap();
    store.seal(id, 100).await.unwrap();
    id
}

async fn states(store: &MemoryStore, id: CampaignId) -> Vec<BatchState> {
    store.batches(id, 0, 10).await.unwrap().iter().map(|row| row.state).collect()
}

#[tokio::test]
async fn pending_batches_the_panel_shows_were_sent_become_unknown() {
    let emulator = Emulator::builder().build().handle();
    let client = client(&emulator);
    let store = MemoryStore::new();
    let id = campaign(&store).await;
    // What the store lost: batch 0 went out whole, and one number of batch 2.
    let all = numbers(250);
    client.send(&Sms::new(FROM, TEXT).to_numbers(all[..100].iter().cloned())).await.unwrap();
    client.send(&Sms::new(FROM, TEXT).to_numbers([all[240].clone()])).await.unwrap();
    // Another text to batch 1's numbers is not this campaign's.
    client.send(&Sms::new(FROM, "another text").to_numbers(all[100..200].iter().cloned())).await.unwrap();

    let found = reconcile_with_panel(&store, &client, id, Reconciliation::AllTime).await.unwrap();
    assert_eq!(
        found,
        [
            FoundOnThePanel { batch: 0, recipients: 100, found: 100 },
            FoundOnThePanel { batch: 2, recipients: 50, found: 1 }
        ]
    );
    assert_eq!(states(&store, id).await, [BatchState::Unknown, BatchState::Pending, BatchState::Unknown]);
    let row = store.batches(id, 2, 1).await.unwrap().remove(0);
    let message = format!("{:?}", row.outcome);
    assert!(message.contains("1 of its 50 recipients already received this text"), "{message}");
    // Checking again moves nothing more.
    assert!(reconcile_with_panel(&store, &client, id, Reconciliation::AllTime).await.unwrap().is_empty());
}

#[tokio::test]
async fn only_sends_within_the_window_count() {
    let emulator = Emulator::builder().build().handle();
    let client = client(&emulator);
    let store = MemoryStore::new();
    let id = campaign(&store).await;
    client.send(&Sms::new(FROM, TEXT).to_numbers(numbers(3))).await.unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let found = reconcile_with_panel(&store, &client, id, Reconciliation::Since(later)).await.unwrap();
    assert!(found.is_empty());
    assert_eq!(states(&store, id).await, [BatchState::Pending; 3]);
}

#[tokio::test]
async fn a_panel_that_cannot_be_read_moves_nothing() {
    let store = MemoryStore::new();
    let id = campaign(&store).await;
    let down = crate::support::memory_client(|_| Ok(payamak::transport::HttpResponse::new(503, "down")));
    let error = reconcile_with_panel(&store, &down, id, Reconciliation::AllTime).await.unwrap_err();
    assert!(matches!(error, ReconcileError::Panel(_)), "{error:?}");
    assert_eq!(states(&store, id).await, [BatchState::Pending; 3]);
    let missing = reconcile_with_panel(&store, &down, CampaignId(99), Reconciliation::AllTime).await.unwrap_err();
    assert!(matches!(missing, ReconcileError::NoCampaign(CampaignId(99))), "{missing:?}");
}
