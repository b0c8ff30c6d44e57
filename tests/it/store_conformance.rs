//! One conformance suite for every job store: the batch state machine, leases,
//! the reaper, token buckets and pauses, priorities, imports. Each test is a
//! generic function over `Store`, instantiated for every store below; the
//! PostgreSQL ones skip with a notice when `PAYAMAK_TEST_PG` is not set.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use payamak::bulk::{BatchOutcome, ErrorRecord};
use payamak::campaign::{
    Account, BatchMove, BatchState, CampaignId, CampaignPhase, CampaignSpec, Lease, Quiet, Rate, Store, StoreError,
    Token, Transition, Worker, WorkerOptions, CAMPAIGN_PRIORITY, SINGLE_SEND_PRIORITY,
};
use payamak::recipient::MobileNumber;
use payamak::send::{SendSmsRequest, SendSmsResponse};
use payamak::server::{encode_response, RequestEnvelope};
use payamak::transport::{HttpResponse, PostError};
use payamak::Client;

const LONG: Duration = Duration::from_secs(60);

fn numbers(count: usize) -> Vec<MobileNumber> {
    (0..count).map(|index| MobileNumber::parse(&format!("0912{index:07}")).expect("a number")).collect()
}

fn account(name: &str) -> Account {
    Account {
        name: name.to_owned(),
        username: format!("{name}-user"),
        endpoints: vec!["http://panel.test/post/".to_owned()],
        credentials: "env:PAYAMAK_PASSWORD".to_owned(),
        rate: None,
    }
}

fn spec(account: &str, priority: i32) -> CampaignSpec {
    CampaignSpec {
        account: account.to_owned(),
        from: "5000123456".to_owned(),
        text: "سلام".to_owned(),
        flash: false,
        priority,
        idempotency_key: None,
        source: "test".to_owned(),
    }
}

/// A campaign of `recipients` numbers of account `a`, ready to claim.
async fn campaign<S: Store>(store: &S, recipients: usize) -> CampaignId {
    store.put_account(&account("a")).await.expect("account");
    let id = store.create_campaign(&spec("a", CAMPAIGN_PRIORITY)).await.expect("campaign").id;
    store.add_recipients(id, &numbers(recipients)).await.expect("recipients");
    store.seal(id, 100).await.expect("seal");
    id
}

fn sent(lease: &Lease) -> BatchOutcome {
    BatchOutcome::Sent {
        recipients: lease
            .numbers
            .iter()
            .map(|number| payamak::bulk::SentRecipient {
                number: number.as_str().to_owned(),
                rec_id: Some(1),
                status: None,
                accepted: true,
            })
            .collect(),
    }
}

fn failed(kind: &str) -> BatchOutcome {
    BatchOutcome::Failed { error: ErrorRecord { kind: kind.to_owned(), code: Some(2), message: "no".to_owned() } }
}

async fn state<S: Store>(store: &S, id: CampaignId, batch: u64) -> BatchState {
    store.batches(id, batch, 1).await.expect("batches")[0].state
}

pub async fn an_import_drops_repeats_keeps_order_and_plans_batches_of_100<S: Store>(store: S) {
    store.put_account(&account("a")).await.unwrap();
    let id = store.create_campaign(&spec("a", CAMPAIGN_PRIORITY)).await.unwrap().id;
    let all = numbers(250);
    store.add_recipients(id, &all[..120]).await.unwrap();
    // A repeat inside a chunk and across chunks.
    store.add_recipients(id, &[all[5].clone(), all[120].clone(), all[120].clone()]).await.unwrap();
    store.add_recipients(id, &all[121..]).await.unwrap();
    assert_eq!(store.campaign(id).await.unwrap().unwrap().phase, CampaignPhase::Importing);
    assert_eq!(store.counts(Some(id)).await.unwrap().total(), 0, "no batch before the import ends");
    let imported = store.seal(id, 100).await.unwrap();
    assert_eq!((imported.recipients, imported.duplicates, imported.batches), (250, 2, 3));
    let rows = store.batches(id, 0, 10).await.unwrap();
    let sizes: Vec<u64> = rows.iter().map(|row| row.recipients).collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert!(rows.iter().all(|row| row.state == BatchState::Pending));
    assert_eq!(store.batch_numbers(id, 2).await.unwrap(), all[200..]);
    assert_eq!(store.batch_numbers(id, 1).await.unwrap(), all[100..200]);
    // Sealing twice plans nothing more; adding after the seal is refused.
    assert_eq!(store.seal(id, 100).await.unwrap().batches, 3);
    assert!(matches!(store.add_recipients(id, &numbers(1)).await, Err(StoreError::Phase { .. })));
    let counts = store.counts(Some(id)).await.unwrap();
    assert_eq!((counts.batches(BatchState::Pending), counts.recipients(BatchState::Pending)), (3, 250));
    assert!(matches!(store.create_campaign(&spec("nobody", 1)).await, Err(StoreError::NoSuchAccount(_))));
}

pub async fn a_batch_goes_claimed_attempting_sent_and_never_moves_again<S: Store>(store: S) {
    let id = campaign(&store, 150).await;
    let lease = store.claim("a", "w1", LONG).await.unwrap().expect("a batch");
    assert_eq!((lease.campaign, lease.batch, lease.numbers.len()), (id, 0, 100));
    assert_eq!(lease.text, "سلام");
    assert_eq!(state(&store, id, 0).await, BatchState::Claimed);
    // Another worker gets the next batch, never this one.
    let other = store.claim("a", "w2", LONG).await.unwrap().expect("the second batch");
    assert_eq!(other.batch, 1);
    assert!(store.claim("a", "w3", LONG).await.unwrap().is_none());
    // Only the owner attempts, once.
    let stolen = Lease { owner: "w2".to_owned(), ..lease.clone() };
    assert!(!store.advance(&stolen, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&lease, Transition::Attempt, None).await.unwrap());
    assert!(!store.advance(&lease, Transition::Attempt, None).await.unwrap());
    assert_eq!(state(&store, id, 0).await, BatchState::Attempting);
    assert!(store.advance(&lease, Transition::Sent, Some(&sent(&lease))).await.unwrap());
    let row = &store.batches(id, 0, 1).await.unwrap()[0];
    assert_eq!((row.state, row.outcome.clone()), (BatchState::Sent, Some(sent(&lease))));
    // Nothing moves a sent batch: no outcome, reaper, resend or retry.
    for transition in [Transition::Failed, Transition::OutcomeUnknown, Transition::Deferred, Transition::Release] {
        assert!(!store.advance(&lease, transition, Some(&failed("x"))).await.unwrap(), "{transition:?}");
    }
    store.reap(Duration::ZERO).await.unwrap();
    store.requeue(id, Transition::OperatorResend).await.unwrap();
    store.requeue(id, Transition::Retry).await.unwrap();
    assert_eq!(state(&store, id, 0).await, BatchState::Sent);
    assert!(!store.reconcile(id, 0, &failed("x")).await.unwrap());
}

pub async fn a_lease_lost_before_the_attempt_sends_nothing_and_the_batch_goes_to_another<S: Store>(store: S) {
    let id = campaign(&store, 100).await;
    let slow = store.claim("a", "slow", Duration::from_millis(50)).await.unwrap().expect("a batch");
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Its lease ran out: even before the reaper, its attempt is refused.
    assert!(!store.advance(&slow, Transition::Attempt, None).await.unwrap());
    let reaped = store.reap(LONG).await.unwrap();
    assert_eq!((reaped.requeued, reaped.unknown), (1, 0));
    assert_eq!(state(&store, id, 0).await, BatchState::Pending);
    let fast = store.claim("a", "fast", LONG).await.unwrap().expect("the batch again");
    assert_eq!(fast.batch, 0);
    assert!(!store.advance(&slow, Transition::Attempt, None).await.unwrap(), "the first owner lost it");
    assert!(!store.advance(&slow, Transition::Release, None).await.unwrap());
    assert!(store.advance(&fast, Transition::Attempt, None).await.unwrap());
    // The slow worker's late outcome changes nothing.
    assert!(!store.advance(&slow, Transition::Sent, Some(&sent(&slow))).await.unwrap());
    assert!(store.advance(&fast, Transition::Failed, Some(&failed("transport"))).await.unwrap());
    assert_eq!(state(&store, id, 0).await, BatchState::Failed);
}

pub async fn an_attempt_without_an_outcome_becomes_unknown_and_moves_only_when_told<S: Store>(store: S) {
    let id = campaign(&store, 200).await;
    let lease = store.claim("a", "w1", Duration::from_millis(50)).await.unwrap().unwrap();
    assert!(store.advance(&lease, Transition::Attempt, None).await.unwrap());
    tokio::time::sleep(Duration::from_millis(120)).await;
    // The lease is long gone: an attempt is never given back as pending.
    let reaped = store.reap(LONG).await.unwrap();
    assert_eq!((reaped.requeued, reaped.unknown), (0, 0));
    assert_eq!(state(&store, id, 0).await, BatchState::Attempting);
    let reaped = store.reap(Duration::ZERO).await.unwrap();
    assert_eq!((reaped.requeued, reaped.unknown), (0, 1));
    assert_eq!(state(&store, id, 0).await, BatchState::Unknown);
    assert_eq!(store.claim("a", "w2", LONG).await.unwrap().map(|lease| lease.batch), Some(1));
    assert!(store.claim("a", "w3", LONG).await.unwrap().is_none(), "the unknown batch is not claimable");
    // Its owner's late answer still lands (a paused worker that resumed).
    assert!(store.advance(&lease, Transition::Sent, Some(&sent(&lease))).await.unwrap());
    assert_eq!(state(&store, id, 0).await, BatchState::Sent);

    // Another batch: unknown until a person asks for it again.
    let second = store.claim("a", "w4", LONG).await.unwrap();
    assert!(second.is_none(), "batch 1 is held by w2");
    let w2 = Lease { owner: "w2".to_owned(), batch: 1, ..lease.clone() };
    assert!(store.advance(&w2, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&w2, Transition::OutcomeUnknown, Some(&failed("outcome_unknown"))).await.unwrap());
    assert_eq!(store.requeue(id, Transition::Retry).await.unwrap(), 0, "a retry leaves unknown batches alone");
    assert_eq!(store.requeue(id, Transition::OperatorResend).await.unwrap(), 1);
    assert_eq!(state(&store, id, 1).await, BatchState::Pending);
}

pub async fn reconciliation_and_retries_follow_the_machine<S: Store>(store: S) {
    let id = campaign(&store, 300).await;
    for owner in ["w0", "w1", "w2"] {
        let lease = store.claim("a", owner, LONG).await.unwrap().unwrap();
        assert!(store.advance(&lease, Transition::Attempt, None).await.unwrap());
        let outcome = if lease.batch == 2 { failed("transport") } else { failed("outcome_unknown") };
        let transition = if lease.batch == 2 { Transition::Failed } else { Transition::OutcomeUnknown };
        assert!(store.advance(&lease, transition, Some(&outcome)).await.unwrap());
    }
    let batch0 = Lease { batch: 0, ..store_lease(id) };
    assert!(store.reconcile(id, 0, &sent(&batch0)).await.unwrap());
    assert!(store.reconcile(id, 1, &failed("reconciled")).await.unwrap());
    let states: Vec<BatchState> = store.batches(id, 0, 3).await.unwrap().iter().map(|row| row.state).collect();
    assert_eq!(states, [BatchState::Sent, BatchState::Failed, BatchState::Failed]);
    assert_eq!(store.requeue(id, Transition::Retry).await.unwrap(), 2);
    assert!(matches!(store.requeue(id, Transition::Attempt).await, Err(StoreError::Unsupported(_))));
}

pub async fn a_pending_batch_found_on_the_panel_becomes_unknown_and_is_not_claimed<S: Store>(store: S) {
    let id = campaign(&store, 300).await;
    let sent_one = store.claim("a", "w0", LONG).await.unwrap().unwrap();
    assert!(store.advance(&sent_one, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&sent_one, Transition::Sent, Some(&sent(&sent_one))).await.unwrap());
    let found = BatchOutcome::Unknown {
        error: ErrorRecord { kind: "reconciled".to_owned(), code: None, message: "found on the panel".to_owned() },
    };
    // Batch 1 is pending: the panel shows its text reached some of its recipients.
    assert!(store.reconcile(id, 1, &found).await.unwrap());
    assert_eq!(state(&store, id, 1).await, BatchState::Unknown);
    let row = store.batches(id, 1, 1).await.unwrap().remove(0);
    assert_eq!(row.outcome, Some(found.clone()));
    // Only pending batches move so: a sent one, an unknown one and a claimed one stay.
    assert!(!store.reconcile(id, 0, &found).await.unwrap());
    assert!(!store.reconcile(id, 1, &found).await.unwrap());
    let claimed = store.claim("a", "w1", LONG).await.unwrap().unwrap();
    assert_eq!(claimed.batch, 2, "the unknown batch is not claimable");
    assert!(!store.reconcile(id, 2, &found).await.unwrap());
    assert_eq!(state(&store, id, 0).await, BatchState::Sent);
    assert_eq!(state(&store, id, 2).await, BatchState::Claimed);
    assert!(!store.reconcile(id, 9, &found).await.unwrap(), "no such batch");
    // A person may still send it again.
    assert_eq!(store.requeue(id, Transition::OperatorResend).await.unwrap(), 1);
    assert_eq!(state(&store, id, 1).await, BatchState::Pending);
}

fn store_lease(campaign: CampaignId) -> Lease {
    Lease {
        campaign,
        batch: 0,
        owner: String::new(),
        account: "a".to_owned(),
        from: String::new(),
        text: String::new(),
        flash: false,
        numbers: numbers(100),
        next_token: None,
    }
}

pub async fn a_deferred_batch_waits_for_its_paused_account<S: Store>(store: S) {
    let id = campaign(&store, 100).await;
    let lease = store.claim("a", "w1", LONG).await.unwrap().unwrap();
    assert!(!store.advance(&lease, Transition::Deferred, None).await.unwrap(), "only an attempt is deferred");
    assert!(store.advance(&lease, Transition::Attempt, None).await.unwrap());
    let until = payamak::campaign::rate::now_ms() + 300;
    store.pause("a", until, "insufficient credit").await.unwrap();
    assert!(store.advance(&lease, Transition::Deferred, Some(&failed("rejected"))).await.unwrap());
    let row = &store.batches(id, 0, 1).await.unwrap()[0];
    assert_eq!((row.state, row.outcome.clone()), (BatchState::Pending, Some(failed("rejected"))));
    assert_eq!(store.take_token("a").await.unwrap(), Token::Paused(until, "insufficient credit".to_owned()));
    let accounts = store.accounts().await.unwrap();
    assert_eq!(accounts[0].paused, Some((until, "insufficient credit".to_owned())));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(store.take_token("a").await.unwrap(), Token::Granted);
    assert!(matches!(store.pause("nobody", until, "x").await, Err(StoreError::NoSuchAccount(_))));
}

pub async fn the_token_bucket_is_shared_and_gives_a_burst_then_the_rate<S: Store>(store: S) {
    let mut limited = account("a");
    limited.rate = Some(Rate { emission: Duration::from_millis(200), burst: 2, reserve: 0 });
    store.put_account(&limited).await.unwrap();
    assert_eq!(store.take_token("a").await.unwrap(), Token::Granted);
    assert_eq!(store.take_token("a").await.unwrap(), Token::Granted);
    match store.take_token("a").await.unwrap() {
        Token::Wait(wait) => assert!(wait <= Duration::from_millis(200) && wait > Duration::ZERO, "{wait:?}"),
        other => panic!("expected a wait, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(210)).await;
    assert_eq!(store.take_token("a").await.unwrap(), Token::Granted);
    // Updating the account keeps its bucket; an account without a rate is never held back.
    store.put_account(&limited).await.unwrap();
    assert!(matches!(store.take_token("a").await.unwrap(), Token::Wait(_)));
    store.put_account(&account("b")).await.unwrap();
    for _ in 0..50 {
        assert_eq!(store.take_token("b").await.unwrap(), Token::Granted);
    }
    assert!(matches!(store.take_token("c").await, Err(StoreError::NoSuchAccount(_))));
}

pub async fn a_token_and_a_claim_together_follow_the_bucket_and_the_pause<S: Store>(store: S) {
    let id = campaign(&store, 250).await;
    let mut limited = account("a");
    limited.rate = Some(Rate { emission: Duration::from_millis(200), burst: 1, reserve: 0 });
    store.put_account(&limited).await.unwrap();
    let (token, lease) = store.take_token_and_claim("a", "w1", LONG).await.unwrap();
    assert_eq!(token, Token::Granted);
    let lease = lease.expect("a batch claimed with the token");
    assert_eq!((lease.campaign, lease.batch, lease.owner.as_str()), (id, 0, "w1"));
    assert_eq!(state(&store, id, 0).await, BatchState::Claimed);
    // No token yet: nothing is claimed.
    let (token, lease) = store.take_token_and_claim("a", "w1", LONG).await.unwrap();
    assert!(matches!(token, Token::Wait(_)) && lease.is_none(), "{token:?} {lease:?}");
    assert_eq!(state(&store, id, 1).await, BatchState::Pending);
    // A paused account gives neither.
    store.pause("a", payamak::campaign::rate::now_ms() + 60_000, "no credit").await.unwrap();
    let (token, lease) = store.take_token_and_claim("a", "w1", LONG).await.unwrap();
    assert!(matches!(token, Token::Paused(_, _)) && lease.is_none(), "{token:?}");
    assert!(matches!(store.take_token_and_claim("zz", "w1", LONG).await, Err(StoreError::NoSuchAccount(_))));
}

pub async fn a_token_a_claim_and_its_attempt_together_leave_the_batch_attempting<S: Store>(store: S) {
    let id = campaign(&store, 150).await;
    let (token, lease) = store.take_token_claim_and_attempt("a", "w1", LONG).await.unwrap();
    assert_eq!(token, Token::Granted);
    let lease = lease.expect("a batch attempted");
    assert_eq!((lease.batch, lease.numbers.len()), (0, 100));
    assert_eq!(state(&store, id, 0).await, BatchState::Attempting);
    // It is an attempt like any other: only its outcome (or the reaper, as unknown) moves it.
    assert!(!store.advance(&lease, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&lease, Transition::Sent, Some(&sent(&lease))).await.unwrap());
    let (_, second) = store.take_token_claim_and_attempt("a", "w2", LONG).await.unwrap();
    let second = second.expect("the second batch");
    assert_eq!((second.batch, second.owner.as_str()), (1, "w2"));
    assert_eq!(store.reap(Duration::ZERO).await.unwrap().unknown, 1, "an attempt without an outcome");
    assert_eq!(state(&store, id, 1).await, BatchState::Unknown);
    let (token, none) = store.take_token_claim_and_attempt("a", "w1", LONG).await.unwrap();
    assert_eq!((token, none), (Token::Granted, None), "nothing left to claim");
}

pub async fn a_grant_says_when_the_next_token_is_free<S: Store>(store: S) {
    let id = campaign(&store, 500).await;
    let mut limited = account("a");
    // A campaign's burst is 2 here: the third token is the single sends' reserve.
    limited.rate = Some(Rate { emission: Duration::from_millis(200), burst: 3, reserve: 1 });
    store.put_account(&limited).await.unwrap();
    let (token, first) = store.take_token_claim_and_attempt("a", "w1", LONG).await.unwrap();
    assert_eq!((token, first.as_ref().map(|lease| lease.batch)), (Token::Granted, Some(0)));
    assert_eq!(first.and_then(|lease| lease.next_token), Some(Duration::ZERO), "the burst's second token is free");
    let (_, second) = store.take_token_and_claim("a", "w1", LONG).await.unwrap();
    let next = second.and_then(|lease| lease.next_token).expect("the store says when");
    assert!(next > Duration::ZERO && next <= Duration::from_millis(200), "{next:?}");
    // It is what asking gives.
    let (token, none) = store.take_token_claim_and_attempt("a", "w1", LONG).await.unwrap();
    match token {
        Token::Wait(wait) => assert!(wait <= next && wait + Duration::from_millis(50) > next, "{wait:?} {next:?}"),
        other => panic!("expected a wait, got {other:?} {none:?}"),
    }
    tokio::time::sleep(next + Duration::from_millis(5)).await;
    let (token, third) = store.take_token_claim_and_attempt("a", "w1", LONG).await.unwrap();
    assert_eq!((token, third.map(|lease| lease.batch)), (Token::Granted, Some(2)), "free when it said");
    // A plain claim takes no token and says nothing.
    assert_eq!(
        store.claim("a", "w1", LONG).await.unwrap().map(|lease| (lease.batch, lease.next_token)),
        Some((3, None))
    );
    // Without a rate every token is free at once.
    store.put_account(&account("a")).await.unwrap();
    let (_, fourth) = store.take_token_claim_and_attempt("a", "w1", LONG).await.unwrap();
    assert_eq!(fourth.map(|lease| (lease.batch, lease.next_token)), Some((4, Some(Duration::ZERO))));
    assert_eq!(state(&store, id, 4).await, BatchState::Attempting);
}

pub async fn single_sends_go_before_campaigns_and_keys_make_them_once<S: Store>(store: S) {
    let bulk = campaign(&store, 300).await;
    let mut otp = spec("a", 0);
    otp.idempotency_key = Some("login-42".to_owned());
    let created = store.create_campaign(&otp).await.unwrap();
    assert!(!created.existed);
    store.add_recipients(created.id, &numbers(1)).await.unwrap();
    store.seal(created.id, 100).await.unwrap();
    let again = store.create_campaign(&otp).await.unwrap();
    assert_eq!((again.id, again.existed), (created.id, true));
    let first = store.claim("a", "w", LONG).await.unwrap().unwrap();
    assert_eq!((first.campaign, first.numbers.len()), (created.id, 1), "the single send first");
    let next = store.claim("a", "w", LONG).await.unwrap().unwrap();
    assert_eq!((next.campaign, next.batch), (bulk, 0));
    // Another account's claims never see these batches.
    store.put_account(&account("b")).await.unwrap();
    assert!(store.claim("b", "w", LONG).await.unwrap().is_none());
}

pub async fn a_single_send_is_enqueued_once_in_one_step<S: Store>(store: S) {
    store.put_account(&account("a")).await.unwrap();
    let otp = CampaignSpec::single_send("a", "5000123456", "code 4711", "login-7");
    assert_eq!((otp.priority, otp.idempotency_key.as_deref()), (SINGLE_SEND_PRIORITY, Some("login-7")));
    let number = numbers(1).remove(0);
    let created = store.enqueue_single(&otp, &number).await.unwrap();
    assert!(!created.existed);
    let info = store.campaign(created.id).await.unwrap().unwrap();
    assert_eq!((info.phase, info.recipients, info.spec.priority), (CampaignPhase::Ready, 1, SINGLE_SEND_PRIORITY));
    // The same key again (an application retrying its request): the same send, nothing added.
    let again = store.enqueue_single(&otp, &numbers(2).remove(1)).await.unwrap();
    assert_eq!((again.id, again.existed), (created.id, true));
    assert_eq!(store.counts(Some(created.id)).await.unwrap().recipients(BatchState::Pending), 1);
    let lease = store.claim("a", "w", LONG).await.unwrap().expect("the single send");
    assert_eq!((lease.campaign, lease.numbers, lease.text.as_str()), (created.id, vec![number], "code 4711"));
    assert!(store.claim("a", "w", LONG).await.unwrap().is_none());
    let other = CampaignSpec::single_send("nobody", "5000123456", "x", "k");
    assert!(matches!(store.enqueue_single(&other, &numbers(1)[0]).await, Err(StoreError::NoSuchAccount(_))));
}

pub async fn a_single_send_never_fills_an_import_under_its_key<S: Store>(store: S) {
    store.put_account(&account("a")).await.unwrap();
    let mut import = spec("a", CAMPAIGN_PRIORITY);
    import.idempotency_key = Some("shared-key".to_owned());
    let importing = store.create_campaign(&import).await.unwrap().id;
    store.add_recipients(importing, &numbers(3)).await.unwrap();
    let otp = CampaignSpec::single_send("a", "5000123456", "code", "shared-key");
    let found = store.enqueue_single(&otp, &numbers(5).remove(4)).await.unwrap();
    assert_eq!((found.id, found.existed), (importing, true));
    // The import goes on as it was: not sealed, and without the single send's number.
    let info = store.campaign(importing).await.unwrap().unwrap();
    assert_eq!(info.phase, CampaignPhase::Importing);
    store.add_recipients(importing, &numbers(4)[3..]).await.unwrap();
    assert_eq!(store.seal(importing, 100).await.unwrap().recipients, 4);
}

pub async fn campaigns_leave_the_reserve_to_single_sends<S: Store>(store: S) {
    let id = campaign(&store, 500).await;
    let mut limited = account("a");
    // A burst of 2, one of them kept for single sends: campaigns get one at a time.
    limited.rate = Some(Rate::per_second(5.0, 2).with_reserve(1));
    store.put_account(&limited).await.unwrap();
    assert_eq!(store.accounts().await.unwrap()[0].account.rate, limited.rate, "the reserve is kept");
    let (token, lease) = store.take_token_and_claim("a", "w", LONG).await.unwrap();
    assert_eq!((token, lease.map(|lease| lease.campaign)), (Token::Granted, Some(id)));
    let (token, lease) = store.take_token_and_claim("a", "w", LONG).await.unwrap();
    assert!(matches!(token, Token::Wait(_)) && lease.is_none(), "the campaign leaves the reserve: {token:?}");
    // A single send enqueued now takes the reserved token at once, with its claim and attempt.
    let one = numbers(1).remove(0);
    let otp = CampaignSpec::single_send("a", "5000123456", "code", "otp-1");
    let otp = store.enqueue_single(&otp, &one).await.unwrap().id;
    let (token, lease) = store.take_token_claim_and_attempt("a", "w", LONG).await.unwrap();
    assert_eq!(token, Token::Granted);
    let lease = lease.expect("the single send");
    assert_eq!(lease.campaign, otp);
    assert_eq!(state(&store, otp, 0).await, BatchState::Attempting);
    // Now the bucket is empty for everyone.
    let second = CampaignSpec::single_send("a", "5000123456", "code", "otp-2");
    store.enqueue_single(&second, &one).await.unwrap();
    let (token, lease) = store.take_token_and_claim("a", "w", LONG).await.unwrap();
    assert!(matches!(token, Token::Wait(_)) && lease.is_none(), "{token:?}");
    // After one emission the single send goes first, and then the campaign has its token again.
    tokio::time::sleep(Duration::from_millis(210)).await;
    let (_, lease) = store.take_token_and_claim("a", "w", LONG).await.unwrap();
    assert_eq!(lease.map(|lease| lease.numbers.len()), Some(1), "the second single send");
    // The campaign waits for a whole emission of its own.
    tokio::time::sleep(Duration::from_millis(410)).await;
    let (_, lease) = store.take_token_and_claim("a", "w", LONG).await.unwrap();
    assert_eq!(lease.map(|lease| (lease.campaign, lease.batch)), Some((id, 1)));
    // `take_token` alone is a single send's: after a quiet spell it takes the whole burst.
    tokio::time::sleep(Duration::from_millis(410)).await;
    assert_eq!(store.take_token("a").await.unwrap(), Token::Granted);
    assert_eq!(store.take_token("a").await.unwrap(), Token::Granted);
    assert!(matches!(store.take_token("a").await.unwrap(), Token::Wait(_)));
}

fn sent_with_rec_ids(lease: &Lease, first: i64) -> BatchOutcome {
    let mut recipients: Vec<payamak::bulk::SentRecipient> = lease
        .numbers
        .iter()
        .enumerate()
        .map(|(index, number)| payamak::bulk::SentRecipient {
            number: number.as_str().to_owned(),
            rec_id: Some(first + index as i64),
            status: Some(0),
            accepted: true,
        })
        .collect();
    // The panel refused the last one: no recId to follow.
    if let Some(last) = recipients.last_mut() {
        (last.rec_id, last.status, last.accepted) = (None, Some(1), false);
    }
    BatchOutcome::Sent { recipients }
}

pub async fn sent_batches_are_followed_until_their_deliveries_are_final<S: Store>(store: S) {
    use payamak::status_codes::DeliveryStatus;
    let id = campaign(&store, 300).await;
    let now = payamak::campaign::rate::now_ms;
    let lease = store.claim("a", "w", LONG).await.unwrap().unwrap();
    assert!(store.advance(&lease, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&lease, Transition::Sent, Some(&sent_with_rec_ids(&lease, 1000))).await.unwrap());
    // A failed batch and one found sent by reconciliation.
    let failed_lease = store.claim("a", "w", LONG).await.unwrap().unwrap();
    assert!(store.advance(&failed_lease, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&failed_lease, Transition::Failed, Some(&failed("transport"))).await.unwrap());
    let unknown = store.claim("a", "w", LONG).await.unwrap().unwrap();
    assert!(store.advance(&unknown, Transition::Attempt, None).await.unwrap());
    assert!(store.advance(&unknown, Transition::OutcomeUnknown, Some(&failed("outcome_unknown"))).await.unwrap());
    assert!(store.reconcile(id, 2, &sent_with_rec_ids(&unknown, 5000)).await.unwrap());
    let counts = store.delivery_counts(id).await.unwrap();
    assert_eq!((counts.tracked, counts.unread, counts.following, counts.settled()), (198, 198, 2, 0), "{counts:?}");

    // Not due before the schedule's first read.
    assert!(store.claim_deliveries("a", LONG, 10, LONG).await.unwrap().is_empty());
    let next = store.next_delivery_poll(Some("a"), LONG).await.unwrap().expect("a poll ahead");
    assert!(next >= now() + 55_000 && next <= now() + 61_000, "{}", next - now());
    assert_eq!(store.next_delivery_poll(Some("b"), LONG).await.unwrap(), None);
    let polls = store.claim_deliveries("a", Duration::ZERO, 1, Duration::from_millis(300)).await.unwrap();
    assert_eq!(polls.len(), 1, "one at a time when asked so");
    let poll = &polls[0];
    assert_eq!((poll.campaign, poll.batch, poll.polls, poll.updated_at), (id, 0, 0, None));
    assert_eq!(poll.open.len(), 99);
    assert_eq!(poll.open[0], (1000, None));
    assert!(poll.sent_at > 0 && poll.sent_at <= now());
    // Held while claimed: the other batch is offered, not this one.
    let others = store.claim_deliveries("a", Duration::ZERO, 10, LONG).await.unwrap();
    assert_eq!(others.iter().map(|poll| poll.batch).collect::<Vec<_>>(), [2]);
    assert!(store.claim_deliveries("a", Duration::ZERO, 10, LONG).await.unwrap().is_empty());

    // A first read: 40 delivered, 10 still at the operator, one the panel does not know.
    let mut update = payamak::campaign::DeliveryUpdate {
        statuses: (1000..1040).map(|rec_id| (rec_id, DeliveryStatus::Delivered)).collect(),
        invalid: vec![1098],
        counted: true,
        updated_at: Some(now()),
        next_poll_at: Some(now() - 1),
    };
    update.statuses.extend((1040..1050).map(|rec_id| (rec_id, DeliveryStatus::SentToOperator)));
    store.record_deliveries(poll, &update).await.unwrap();
    let counts = store.delivery_counts(id).await.unwrap();
    assert_eq!(counts.by_status, [(0, 10), (1, 40)].into());
    assert_eq!((counts.invalid, counts.unread, counts.settled()), (1, 147, 41), "{counts:?}");
    let again = store.claim_deliveries("a", Duration::ZERO, 10, LONG).await.unwrap();
    assert_eq!(again.len(), 1);
    let poll = &again[0];
    assert_eq!((poll.batch, poll.polls, poll.updated_at), (0, 1, update.updated_at));
    assert_eq!(poll.open.len(), 58, "the final and the invalid ones are no longer read");
    assert_eq!(poll.open[0], (1040, Some(DeliveryStatus::SentToOperator)));
    // A wait for the panel's interval is not a step of the schedule.
    let wait = payamak::campaign::DeliveryUpdate { next_poll_at: Some(now() - 1), ..Default::default() };
    store.record_deliveries(poll, &wait).await.unwrap();
    let poll = store.claim_deliveries("a", Duration::ZERO, 10, LONG).await.unwrap().remove(0);
    assert_eq!((poll.polls, poll.updated_at), (1, update.updated_at));
    let last = payamak::campaign::DeliveryUpdate {
        statuses: poll.open.iter().map(|(rec_id, _)| (*rec_id, DeliveryStatus::NotDelivered)).collect(),
        counted: true,
        updated_at: Some(now()),
        next_poll_at: None,
        ..Default::default()
    };
    store.record_deliveries(&poll, &last).await.unwrap();
    let counts = store.delivery_counts(id).await.unwrap();
    assert_eq!(counts.by_status, [(1, 40), (2, 58)].into());
    assert_eq!((counts.tracked, counts.following, counts.settled()), (198, 1, 99), "{counts:?}");
    // A claim whose reader vanished (batch 2's, under a long lease) is not offered again
    // while its lease runs; the store names that lease's end as the next poll.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(store.claim_deliveries("a", Duration::ZERO, 10, LONG).await.unwrap().is_empty());
    assert!(store.next_delivery_poll(None, Duration::ZERO).await.unwrap().is_some(), "batch 2's lease");
}

pub async fn outcomes_are_recorded_together_and_with_the_next_claim<S: Store>(store: S) {
    let id = campaign(&store, 500).await;
    let mut leases = Vec::new();
    for owner in ["w1", "w1", "w2"] {
        let (_, lease) = store.take_token_claim_and_attempt("a", owner, LONG).await.unwrap();
        leases.push(lease.expect("a batch"));
    }
    let step =
        |lease: &Lease, transition, outcome| BatchMove { lease: lease.clone(), transition, outcome: Some(outcome) };
    let stolen = Lease { owner: "w9".to_owned(), ..leases[2].clone() };
    let moves = [
        step(&leases[0], Transition::Sent, sent_with_rec_ids(&leases[0], 100)),
        step(&leases[1], Transition::Failed, failed("transport")),
        // Another worker's lease: refused, the others still recorded.
        step(&stolen, Transition::Sent, sent(&stolen)),
    ];
    assert_eq!(store.advance_many(&moves).await.unwrap(), [true, true, false]);
    let states: Vec<BatchState> = store.batches(id, 0, 3).await.unwrap().iter().map(|row| row.state).collect();
    assert_eq!(states, [BatchState::Sent, BatchState::Failed, BatchState::Attempting]);
    assert_eq!(store.delivery_counts(id).await.unwrap().tracked, 99, "followed as with one outcome");
    assert!(store.advance_many(&[]).await.unwrap().is_empty());
    // With the next claim: the outcome recorded, the next batch attempting.
    let moves = [step(&leases[2], Transition::OutcomeUnknown, failed("outcome_unknown"))];
    let (moved, claimed) = store.advance_many_then_claim(&moves, "a", "w3", LONG).await.unwrap();
    assert_eq!(moved, [true]);
    let (token, lease) = claimed.unwrap();
    let lease = lease.expect("the next batch");
    assert_eq!((token, lease.batch, lease.owner.as_str()), (Token::Granted, 3, "w3"));
    assert_eq!(state(&store, id, 2).await, BatchState::Unknown);
    assert_eq!(state(&store, id, 3).await, BatchState::Attempting);
    // A claim that fails keeps the outcomes recorded.
    let moves = [step(&lease, Transition::Sent, sent(&lease))];
    let (moved, claimed) = store.advance_many_then_claim(&moves, "nobody", "w3", LONG).await.unwrap();
    assert_eq!(moved, [true]);
    assert!(matches!(claimed, Err(StoreError::NoSuchAccount(_))), "{claimed:?}");
    assert_eq!(state(&store, id, 3).await, BatchState::Sent);
}

/// Many claimers at once: every batch is claimed by exactly one.
pub async fn concurrent_claims_never_share_a_batch<S: Store + Clone + 'static>(stores: Vec<S>) {
    let id = campaign(&stores[0], 2000).await;
    let mut tasks = Vec::new();
    for (index, store) in stores.iter().cycle().take(8).enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("w{index}");
            let mut mine = Vec::new();
            while let Some(lease) = store.claim("a", &owner, LONG).await.unwrap() {
                assert!(store.advance(&lease, Transition::Attempt, None).await.unwrap());
                mine.push(lease.batch);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (0..20).collect::<Vec<u64>>());
    assert_eq!(stores[0].counts(Some(id)).await.unwrap().batches(BatchState::Attempting), 20);
}

/// A panel in memory counting what each number received; refuses with `refuse` on the first calls.
#[derive(Clone, Default)]
pub struct Panel {
    received: Arc<Mutex<HashMap<String, usize>>>,
    refusals: Arc<Mutex<Vec<i32>>>,
}

impl Panel {
    pub fn client(&self) -> Client {
        let panel = self.clone();
        crate::support::memory_client(move |body| panel.answer(body))
    }

    fn answer(&self, body: &[u8]) -> Result<HttpResponse, PostError> {
        let text = std::str::from_utf8(body).map_err(PostError::request)?;
        let request = RequestEnvelope::parse(text).unwrap().decode::<SendSmsRequest>().unwrap().request;
        let numbers: Vec<String> = request.to.unwrap_or_default().into_iter().flatten().collect();
        let refusal = self.refusals.lock().unwrap().pop();
        let response = match refusal {
            Some(code) => SendSmsResponse { send_sms_result: code, ..Default::default() },
            None => {
                let mut received = self.received.lock().unwrap();
                for number in &numbers {
                    *received.entry(number.clone()).or_default() += 1;
                }
                SendSmsResponse {
                    send_sms_result: 1,
                    rec_id: Some((0..numbers.len()).map(|index| index as i64 + 1000).collect()),
                    status: Some(vec![0; numbers.len()]),
                    ..Default::default()
                }
            }
        };
        let body = encode_response::<SendSmsRequest>(&response, payamak::SoapVersion::V11).unwrap();
        Ok(HttpResponse::new(200, body).header("Content-Type", "text/xml; charset=utf-8"))
    }
}

/// `outcome_window`: zero (the default), or long enough for outcomes to wait for the next claim (group commit).
pub async fn workers_send_everyone_once_and_a_refused_account_is_paused_not_failed<S: Store + Clone + 'static>(
    store: S,
    outcome_window: Duration,
) {
    let id = campaign(&store, 1000).await;
    if !outcome_window.is_zero() {
        // A paced account, so that the worker waits for tokens due within the window
        // and its outcomes go with its next claim.
        let paced = Account { rate: Some(Rate::per_second(200.0, 1)), ..account("a") };
        store.put_account(&paced).await.expect("account");
    }
    let panel = Panel::default();
    // The first call finds no credit: the account pauses briefly, the batch waits.
    panel.refusals.lock().unwrap().push(2);
    let clients: HashMap<String, Client> = [("a".to_owned(), panel.client())].into();
    let mut options = WorkerOptions::new("worker-1");
    options.until_idle = true;
    options.concurrency = 3;
    options.account_pause = Duration::from_millis(200);
    options.idle_poll = Duration::from_millis(20);
    options.outcome_window = outcome_window;
    let report = Worker::new(&store, &clients, options).run(&mut Quiet).await.unwrap();
    assert_eq!((report.sent, report.deferred, report.unknown, report.lost), (10, 1, 0, 0), "{report:?}");
    let counts = store.counts(Some(id)).await.unwrap();
    assert_eq!(counts.batches(BatchState::Sent), 10);
    let received = panel.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1000);
    assert!(received.values().all(|&count| count == 1));
    let states: BTreeMap<u64, BatchState> =
        store.batches(id, 0, 100).await.unwrap().into_iter().map(|row| (row.batch, row.state)).collect();
    assert!(states.values().all(|state| *state == BatchState::Sent));
}

/// Instantiates every conformance test for one store.
macro_rules! conformance {
    ($module:ident, $store:expr, $clones:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import() {
                if let Some(store) = $store {
                    an_import_drops_repeats_keeps_order_and_plans_batches_of_100(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn happy_path() {
                if let Some(store) = $store {
                    a_batch_goes_claimed_attempting_sent_and_never_moves_again(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn lost_lease() {
                if let Some(store) = $store {
                    a_lease_lost_before_the_attempt_sends_nothing_and_the_batch_goes_to_another(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn unknown() {
                if let Some(store) = $store {
                    an_attempt_without_an_outcome_becomes_unknown_and_moves_only_when_told(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reconcile_and_retry() {
                if let Some(store) = $store {
                    reconciliation_and_retries_follow_the_machine(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn found_on_the_panel() {
                if let Some(store) = $store {
                    a_pending_batch_found_on_the_panel_becomes_unknown_and_is_not_claimed(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn deferred() {
                if let Some(store) = $store {
                    a_deferred_batch_waits_for_its_paused_account(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn single_send_and_import_under_one_key() {
                if let Some(store) = $store {
                    a_single_send_never_fills_an_import_under_its_key(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn token_bucket() {
                if let Some(store) = $store {
                    the_token_bucket_is_shared_and_gives_a_burst_then_the_rate(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn token_and_claim() {
                if let Some(store) = $store {
                    a_token_and_a_claim_together_follow_the_bucket_and_the_pause(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn token_claim_and_attempt() {
                if let Some(store) = $store {
                    a_token_a_claim_and_its_attempt_together_leave_the_batch_attempting(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn next_token() {
                if let Some(store) = $store {
                    a_grant_says_when_the_next_token_is_free(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn priorities() {
                if let Some(store) = $store {
                    single_sends_go_before_campaigns_and_keys_make_them_once(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn single_send() {
                if let Some(store) = $store {
                    a_single_send_is_enqueued_once_in_one_step(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reserve() {
                if let Some(store) = $store {
                    campaigns_leave_the_reserve_to_single_sends(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn deliveries() {
                if let Some(store) = $store {
                    sent_batches_are_followed_until_their_deliveries_are_final(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn group_commit() {
                if let Some(store) = $store {
                    outcomes_are_recorded_together_and_with_the_next_claim(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_claims() {
                if let Some(stores) = $clones {
                    concurrent_claims_never_share_a_batch(stores).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn worker() {
                if let Some(store) = $store {
                    workers_send_everyone_once_and_a_refused_account_is_paused_not_failed(store, Duration::ZERO).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn worker_with_group_commit() {
                if let Some(store) = $store {
                    workers_send_everyone_once_and_a_refused_account_is_paused_not_failed(
                        store,
                        Duration::from_millis(50),
                    )
                    .await;
                }
            }
        }
    };
}

conformance!(memory, Some(payamak::campaign::MemoryStore::new()), {
    let store = payamak::campaign::MemoryStore::new();
    Some(vec![store.clone(), store])
});

#[cfg(any(feature = "sqlite", feature = "json-lines-store"))]
mod store_files {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::LazyLock;

    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // A directory of this run's own: a process id is reused across runs, and
    // a file an earlier run left behind must never be taken for a new one. It
    // is under the target directory (a static is never dropped to remove it).
    static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
        tempfile::Builder::new().prefix("stores-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir")
    });

    /// A store file no other test has used.
    pub fn path() -> PathBuf {
        DIR.path().join(format!("store-{}.db", NEXT.fetch_add(1, Ordering::SeqCst)))
    }
}

#[cfg(feature = "json-lines-store")]
conformance!(json_lines, Some(payamak::campaign::JsonLinesStore::open(store_files::path()).unwrap()), {
    // One process's store, shared by its workers.
    let store = payamak::campaign::JsonLinesStore::open(store_files::path()).unwrap();
    Some(vec![store.clone(), store.clone(), store.clone(), store])
});

#[cfg(feature = "sqlite")]
conformance!(sqlite, Some(payamak::campaign::SqliteStore::open(store_files::path()).unwrap()), {
    // Separate connections to one file, as separate processes have.
    let path = store_files::path();
    Some((0..4).map(|_| payamak::campaign::SqliteStore::open(&path).unwrap()).collect::<Vec<_>>())
});

#[cfg(feature = "sqlite")]
#[test]
fn a_file_that_is_not_a_store_is_refused_not_started_afresh() {
    let path = store_files::path();
    std::fs::write(&path, b"campaign notes, not a database\n".repeat(200)).unwrap();
    let error = payamak::campaign::SqliteStore::open(&path).unwrap_err().to_string();
    assert!(error.contains("cannot open") || error.contains("not a"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), b"campaign notes, not a database\n".repeat(200), "left as it was");
    // An SQLite database of something else.
    let other = store_files::path();
    rusqlite_free_create(&other);
    let error = payamak::campaign::SqliteStore::open(&other).unwrap_err().to_string();
    assert!(error.contains("not a payamak job store"), "{error}");
}

/// Creates an SQLite database with a table of its own, through a store opened
/// and then stamped as another application by raw SQL would need rusqlite
/// here; instead, a store file whose header id is changed by hand.
#[cfg(feature = "sqlite")]
fn rusqlite_free_create(path: &std::path::Path) {
    drop(payamak::campaign::SqliteStore::open(path).unwrap());
    let mut bytes = std::fs::read(path).unwrap();
    // The application id lives at offset 68 of the database header.
    bytes[68..72].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
}

#[cfg(feature = "postgres")]
pub mod postgres_support {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use payamak::campaign::PostgresStore;

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// The test database (`PAYAMAK_TEST_PG`, a libpq string or URL), or a notice and `None`.
    pub fn config() -> Option<String> {
        match std::env::var("PAYAMAK_TEST_PG") {
            Ok(config) if !config.is_empty() => Some(config),
            _ => {
                eprintln!(
                    "notice: skipping a PostgreSQL test: PAYAMAK_TEST_PG is not set (`eval \"$(.ci/postgres start)\"` \
                     starts one)"
                );
                None
            }
        }
    }

    /// A fresh schema's name.
    pub fn schema() -> String {
        format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
    }

    /// `count` connections to one fresh schema, as separate machines have.
    pub async fn stores(count: usize) -> Option<Vec<PostgresStore>> {
        let config = config()?;
        let schema = schema();
        let mut stores = Vec::new();
        for _ in 0..count {
            stores.push(PostgresStore::connect_in(&config, Some(&schema)).await.expect("connect to PAYAMAK_TEST_PG"));
        }
        Some(stores)
    }
}

#[cfg(feature = "postgres")]
conformance!(
    postgres,
    postgres_support::stores(1).await.and_then(|mut stores| stores.pop()),
    postgres_support::stores(4).await
);

/// A worker of one account, until idle, stops when only another account's batches are pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_until_idle_ends_beside_pending_batches_of_an_account_it_does_not_serve() {
    let store = payamak::campaign::MemoryStore::new();
    let id = campaign(&store, 250).await;
    store.put_account(&account("b")).await.expect("account");
    let other = store.create_campaign(&spec("b", CAMPAIGN_PRIORITY)).await.expect("campaign").id;
    store.add_recipients(other, &numbers(50)).await.expect("recipients");
    store.seal(other, 100).await.expect("seal");
    let panel = Panel::default();
    let clients: HashMap<String, Client> = [("a".to_owned(), panel.client())].into();
    let mut options = WorkerOptions::new("worker-a");
    options.until_idle = true;
    options.idle_poll = Duration::from_millis(20);
    options.deliveries = None;
    let worker = Worker::new(&store, &clients, options);
    let mut observer = Quiet;
    let report = tokio::time::timeout(Duration::from_secs(10), worker.run(&mut observer))
        .await
        .expect("the worker ends")
        .unwrap();
    assert_eq!(report.sent, 3, "{report:?}");
    assert_eq!(store.counts(Some(id)).await.unwrap().batches(BatchState::Sent), 3);
    assert_eq!(store.counts(Some(other)).await.unwrap().batches(BatchState::Pending), 1);
}

/// An observer that stops the worker after its first batch.
struct StopAfterOne(u64);

impl payamak::campaign::WorkerObserver for StopAfterOne {
    fn batch(&mut self, _lease: &Lease, _handled: &payamak::campaign::Handled) {
        self.0 += 1;
    }
    fn keep_claiming(&mut self) -> bool {
        self.0 == 0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_told_to_stop_claims_nothing_more_and_records_what_it_sent() {
    let store = payamak::campaign::MemoryStore::new();
    let id = campaign(&store, 500).await;
    let panel = Panel::default();
    let clients: HashMap<String, Client> = [("a".to_owned(), panel.client())].into();
    let mut options = WorkerOptions::new("worker-a");
    options.concurrency = 1;
    options.deliveries = None;
    let worker = Worker::new(&store, &clients, options);
    let mut observer = StopAfterOne(0);
    let report = tokio::time::timeout(Duration::from_secs(10), worker.run(&mut observer))
        .await
        .expect("the worker stops")
        .unwrap();
    // The first outcome is reported with the next claim (one transaction): one more batch may go.
    assert!((1..=2).contains(&report.sent), "{report:?}");
    let counts = store.counts(Some(id)).await.unwrap();
    assert_eq!((counts.batches(BatchState::Sent), counts.batches(BatchState::Pending)), (report.sent, 5 - report.sent));
}

/// A memory store whose first outcomes-and-claim call fails as a whole (a full disk): nothing recorded,
/// nothing claimed; or, with `alone`, whose first call recording outcomes on their own fails.
#[derive(Default)]
struct FirstGroupCommitFails {
    inner: payamak::campaign::MemoryStore,
    failed: std::sync::atomic::AtomicBool,
    alone: bool,
}

impl FirstGroupCommitFails {
    /// The full disk, once, if `this` is the kind of call that fails.
    fn fail_once(&self, this: bool) -> payamak::campaign::StoreResult<()> {
        if this && !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let source = std::io::Error::other("No space left on device");
            return Err(StoreError::backend("recording outcomes", source));
        }
        Ok(())
    }
}

impl Store for FirstGroupCommitFails {
    async fn put_account(&self, account: &Account) -> payamak::campaign::StoreResult<()> {
        self.inner.put_account(account).await
    }
    async fn accounts(&self) -> payamak::campaign::StoreResult<Vec<payamak::campaign::AccountState>> {
        self.inner.accounts().await
    }
    async fn pause(&self, account: &str, until: i64, reason: &str) -> payamak::campaign::StoreResult<()> {
        self.inner.pause(account, until, reason).await
    }
    async fn take_token(&self, account: &str) -> payamak::campaign::StoreResult<Token> {
        self.inner.take_token(account).await
    }
    async fn create_campaign(&self, spec: &CampaignSpec) -> payamak::campaign::StoreResult<payamak::campaign::Created> {
        self.inner.create_campaign(spec).await
    }
    async fn add_recipients(
        &self,
        campaign: CampaignId,
        numbers: &[MobileNumber],
    ) -> payamak::campaign::StoreResult<()> {
        self.inner.add_recipients(campaign, numbers).await
    }
    async fn seal(
        &self,
        campaign: CampaignId,
        size: u64,
    ) -> payamak::campaign::StoreResult<payamak::campaign::Imported> {
        self.inner.seal(campaign, size).await
    }
    async fn campaign(
        &self,
        campaign: CampaignId,
    ) -> payamak::campaign::StoreResult<Option<payamak::campaign::CampaignInfo>> {
        self.inner.campaign(campaign).await
    }
    async fn claim(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> payamak::campaign::StoreResult<Option<Lease>> {
        self.inner.claim(account, owner, lease).await
    }
    async fn take_token_claim_and_attempt(
        &self,
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> payamak::campaign::StoreResult<(Token, Option<Lease>)> {
        self.inner.take_token_claim_and_attempt(account, owner, lease).await
    }
    async fn advance(
        &self,
        lease: &Lease,
        transition: Transition,
        outcome: Option<&BatchOutcome>,
    ) -> payamak::campaign::StoreResult<bool> {
        self.inner.advance(lease, transition, outcome).await
    }
    async fn advance_many(&self, moves: &[BatchMove]) -> payamak::campaign::StoreResult<Vec<bool>> {
        self.fail_once(self.alone)?;
        self.inner.advance_many(moves).await
    }
    #[allow(clippy::type_complexity)]
    async fn advance_many_then_claim(
        &self,
        moves: &[BatchMove],
        account: &str,
        owner: &str,
        lease: Duration,
    ) -> payamak::campaign::StoreResult<(Vec<bool>, payamak::campaign::StoreResult<(Token, Option<Lease>)>)> {
        self.fail_once(!self.alone)?;
        self.inner.advance_many_then_claim(moves, account, owner, lease).await
    }
    async fn reap(&self, unknown_after: Duration) -> payamak::campaign::StoreResult<payamak::campaign::Reaped> {
        self.inner.reap(unknown_after).await
    }
    async fn counts(&self, campaign: Option<CampaignId>) -> payamak::campaign::StoreResult<payamak::campaign::Counts> {
        self.inner.counts(campaign).await
    }
    async fn batches(
        &self,
        campaign: CampaignId,
        from: u64,
        limit: u64,
    ) -> payamak::campaign::StoreResult<Vec<payamak::campaign::BatchRow>> {
        self.inner.batches(campaign, from, limit).await
    }
    async fn batch_numbers(
        &self,
        campaign: CampaignId,
        batch: u64,
    ) -> payamak::campaign::StoreResult<Vec<MobileNumber>> {
        self.inner.batch_numbers(campaign, batch).await
    }
    async fn requeue(&self, campaign: CampaignId, transition: Transition) -> payamak::campaign::StoreResult<u64> {
        self.inner.requeue(campaign, transition).await
    }
    async fn reconcile(
        &self,
        campaign: CampaignId,
        batch: u64,
        outcome: &BatchOutcome,
    ) -> payamak::campaign::StoreResult<bool> {
        self.inner.reconcile(campaign, batch, outcome).await
    }
}

/// A worker that sends one batch at a time until nothing is left, without delivery reads.
fn one_batch_at_a_time() -> WorkerOptions {
    let mut options = WorkerOptions::new("worker-a");
    options.until_idle = true;
    options.concurrency = 1;
    options.idle_poll = Duration::from_millis(20);
    options.deliveries = None;
    options
}

/// Outcomes recorded on their own (the account waits for its next token) that
/// the store fails to record stop the worker as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_outcomes_recorded_alone_fail_to_commit_stops_claiming() {
    let store = FirstGroupCommitFails { alone: true, ..Default::default() };
    let id = campaign(&store, 300).await;
    let mut paced = account("a");
    paced.rate = Some(payamak::campaign::Rate::per_second(5.0, 1));
    store.put_account(&paced).await.unwrap();
    let panel = Panel::default();
    let clients: HashMap<String, Client> = [("a".to_owned(), panel.client())].into();
    let options = one_batch_at_a_time();
    let report = tokio::time::timeout(Duration::from_secs(10), Worker::new(&store, &clients, options).run(&mut Quiet))
        .await
        .expect("the worker ends")
        .expect("a lost outcome is counted, not an error");
    assert_eq!((report.sent, report.unrecorded, report.stopped_unrecorded), (0, 1, true), "{report:?}");
    let counts = store.counts(Some(id)).await.unwrap();
    assert_eq!((counts.batches(BatchState::Attempting), counts.batches(BatchState::Pending)), (1, 2));
    assert_eq!(panel.received.lock().unwrap().len(), 100, "one batch went");
}

/// Outcomes the store fails to record with the next claim are unrecorded, as
/// when they go alone: the worker claims nothing more (each batch it sent
/// meanwhile would end unknown) and never sends their batches again; the
/// batches left pending go with the next worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_outcomes_and_claim_fail_to_commit_leaves_that_batch_attempting_and_stops_claiming() {
    let store = FirstGroupCommitFails::default();
    let id = campaign(&store, 300).await;
    let panel = Panel::default();
    let clients: HashMap<String, Client> = [("a".to_owned(), panel.client())].into();
    let options = one_batch_at_a_time();
    let run = || async {
        tokio::time::timeout(Duration::from_secs(10), Worker::new(&store, &clients, options.clone()).run(&mut Quiet))
            .await
            .expect("the worker ends")
            .expect("a lost outcome is counted, not an error")
    };
    let report = run().await;
    assert_eq!((report.sent, report.unrecorded, report.unknown), (0, 1, 0), "{report:?}");
    assert!(report.stopped_unrecorded, "{report:?}");
    let counts = store.counts(Some(id)).await.unwrap();
    assert_eq!((counts.batches(BatchState::Attempting), counts.batches(BatchState::Pending)), (1, 2));
    assert_eq!(panel.received.lock().unwrap().len(), 100, "one batch went");
    let report = run().await;
    assert_eq!((report.sent, report.unrecorded, report.stopped_unrecorded), (2, 0, false), "{report:?}");
    let counts = store.counts(Some(id)).await.unwrap();
    assert_eq!((counts.batches(BatchState::Sent), counts.batches(BatchState::Attempting)), (2, 1));
    let received = panel.received.lock().unwrap().clone();
    assert_eq!(received.len(), 300);
    assert!(received.values().all(|&count| count == 1), "nobody got two");
}
