//! Every operation of both services through the public client, against the
//! emulator, in SOAP 1.1 and 1.2: over loopback HTTP with the reqwest
//! transport, and in-process with the emulator's transport (no network).

use std::time::Duration;

use payamak::bulk::{BatchStatus, BulkJob, BulkOutcome, MemoryJournal, NoObserver};
use payamak::delivery::DeliveryTracker;
use payamak::status_codes::{DeliveryStatus, SendStatus, UpdateDeliveryStatus};
use payamak::transport::{BoxFuture, HttpRequest, HttpResponse, PostError, Transport};
use payamak::{Client, Error, Folder, PeriodType, Sms, SoapVersion};
use payamak_emulator::{
    Account, DeliveryTiming, Emulator, EmulatorBuilder, EmulatorHandle, IncomingSms, ManualClock, RunningEmulator,
    IN_PROCESS_BASE_URL,
};

const VERSIONS: [SoapVersion; 2] = [SoapVersion::V11, SoapVersion::V12];

/// How the client reaches the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Over loopback HTTP, with the default (reqwest) transport.
    Http,
    /// In-process, with the emulator's transport: no socket at all.
    InProcess,
}

const REACHES: [Reach; 2] = [Reach::Http, Reach::InProcess];

/// An emulator, and how clients reach it.
struct Panel {
    handle: EmulatorHandle,
    running: Option<RunningEmulator>,
}

impl Drop for Panel {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let reach = if self.running.is_some() { Reach::Http } else { Reach::InProcess };
            eprintln!("(the failure above was with the emulator reached {reach:?})");
        }
    }
}

impl Panel {
    async fn start(builder: EmulatorBuilder, reach: Reach) -> Panel {
        match reach {
            Reach::Http => {
                let running = builder.start().await.expect("emulator");
                Panel { handle: running.handle(), running: Some(running) }
            }
            Reach::InProcess => Panel { handle: builder.build().handle(), running: None },
        }
    }

    fn handle(&self) -> &EmulatorHandle {
        &self.handle
    }

    /// A client builder that reaches this emulator.
    fn client(&self) -> payamak::ClientBuilder {
        match &self.running {
            Some(running) => Client::builder().base_url(running.base_url()),
            None => Client::builder().base_url(IN_PROCESS_BASE_URL).transport(self.handle.transport()),
        }
    }
}

fn account() -> Account {
    Account::new("ali", "pa55")
        .credit(1000.0)
        .sender("5000123456")
        .sender("3000987654")
        .filtered_word("قمار")
        .daily_limit(500)
}

async fn emulator(clock: &ManualClock, reach: Reach) -> Panel {
    Panel::start(Emulator::builder().account(account()).clock(clock.clone()), reach).await
}

fn client(emulator: &Panel, version: SoapVersion, password: &str) -> Client {
    emulator.client().credentials("ali", password).soap_version(version).build().expect("client")
}

fn rejected_code(error: Error) -> i32 {
    match error {
        Error::Rejected(rejected) => rejected.code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn credit_numbers_and_inbox_count() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let emulator = emulator(&clock, reach).await;
            let client = client(&emulator, version, "pa55");
            assert_eq!(client.credit().await.unwrap(), 1000.0, "{version}");
            assert_eq!(client.numbers().await.unwrap(), ["5000123456", "3000987654"]);
            assert_eq!(client.inbox_count(false).await.unwrap(), 0);
            // Wrong credentials are result values, not faults.
            assert_eq!(self::client(&emulator, version, "wrong").credit().await.unwrap(), 0.0);
        }
    }
}

#[tokio::test]
async fn send_pairs_rec_ids_with_recipients_and_charges_by_parts() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let emulator = emulator(&clock, reach).await;
            let client = client(&emulator, version, "pa55");
            let text = "سلام! این یک پیام آزمایشی طولانی است که بیش از هفتاد نویسه دارد تا دو بخش شود.";
            let sms = Sms::new("۵۰۰۰۱۲۳۴۵۶", text).to(["09121234567", "+98 912 765 4321"]).unwrap();
            assert_eq!(sms.parts().parts(), 2);
            let report = client.send(&sms).await.unwrap();
            assert_eq!(report.status, SendStatus::Sent);
            assert!(report.all_accepted());
            let numbers: Vec<&str> = report.recipients.iter().map(|r| r.number.as_str()).collect();
            assert_eq!(numbers, ["09121234567", "09127654321"]);
            assert_eq!(report.rec_ids().len(), 2);
            assert_eq!(client.credit().await.unwrap(), 1000.0 - 2.0 * 2.0, "{version}");
            let sent = client.messages(Folder::SentUnread, None).await.unwrap();
            assert_eq!(sent.len(), 2);
            assert_eq!(sent[0].body.as_deref(), Some(text));
            assert_eq!(sent[1].receiver.as_deref(), Some("09127654321"));
        }
    }
}

#[tokio::test]
async fn send_failure_codes_are_rejections() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let poor = Account::new("poor", "x").credit(1.0).sender("5000123456");
            let limited = Account::new("busy", "x").sender("5000123456").daily_limit(1);
            let emulator = Panel::start(
                Emulator::builder().account(account()).account(poor).account(limited).clock(clock.clone()),
                reach,
            )
            .await;
            let as_user = |user: &str, password: &str| {
                emulator.client().credentials(user, password).soap_version(version).build().unwrap()
            };
            let two = |from: &str, text: &str| Sms::new(from, text).to(["09121234567", "09121234568"]).unwrap();
            assert_eq!(rejected_code(as_user("ali", "bad").send(&two("5000123456", "hi")).await.unwrap_err()), 0);
            assert_eq!(rejected_code(as_user("poor", "x").send(&two("5000123456", "hi")).await.unwrap_err()), 2);
            assert_eq!(rejected_code(as_user("busy", "x").send(&two("5000123456", "hi")).await.unwrap_err()), 3);
            assert_eq!(rejected_code(as_user("ali", "pa55").send(&two("5000999999", "hi")).await.unwrap_err()), 5);
            assert_eq!(
                rejected_code(as_user("ali", "pa55").send(&two("5000123456", "بازی قمار")).await.unwrap_err()),
                7
            );
            assert_eq!(rejected_code(as_user("ali", "bad").mark_read(&[1]).await.unwrap_err()), 0);
            let error = as_user("ali", "bad").send(&two("5000123456", "hi")).await.unwrap_err();
            assert!(error.to_string().contains("wrong user name or password"), "{error}");
            assert!(!format!("{error:?}").contains("bad\""), "{error:?}");
        }
    }
}

#[tokio::test]
async fn schedule_fires_when_its_time_comes() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let emulator = emulator(&clock, reach).await;
            let client = client(&emulator, version, "pa55");
            let at = payamak::PanelDateTime::from(clock.now() + chrono::Duration::hours(1));
            let sms = Sms::new("5000123456", "فردا").to(["09121234567"]).unwrap();
            assert_eq!(client.schedule(&sms, at, PeriodType::Once).await.unwrap(), SendStatus::Sent);
            assert!(client.messages(Folder::SentUnread, None).await.unwrap().is_empty());
            clock.advance(Duration::from_secs(3601));
            let sent = client.messages(Folder::SentUnread, None).await.unwrap();
            assert_eq!(sent.len(), 1, "{version}");
            assert_eq!(sent[0].body.as_deref(), Some("فردا"));
        }
    }
}

#[tokio::test]
async fn delivery_is_refreshed_by_batch_and_rate_limited() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let emulator = emulator(&clock, reach).await;
            let client = client(&emulator, version, "pa55");
            let sms = Sms::new("5000123456", "hi").to(["09121234567", "09121234568"]).unwrap();
            let report = client.send(&sms).await.unwrap();
            let (first, second) = (report.rec_ids()[0], report.rec_ids()[1]);
            assert_eq!(client.delivery(first).await.unwrap(), DeliveryStatus::SentToOperator);
            clock.advance(Duration::from_secs(6));
            assert_eq!(client.update_delivery(first).await.unwrap(), UpdateDeliveryStatus::Updated);
            assert_eq!(client.update_delivery(second).await.unwrap(), UpdateDeliveryStatus::TooSoon);
            assert_eq!(client.update_delivery(123).await.unwrap(), UpdateDeliveryStatus::InvalidRecId);
            // One update refreshed the whole batch.
            assert_eq!(client.delivery(first).await.unwrap(), DeliveryStatus::Delivered, "{version}");
            assert_eq!(client.delivery(second).await.unwrap(), DeliveryStatus::Delivered);
        }
    }
}

#[tokio::test]
async fn the_tracker_follows_a_send_to_final_statuses() {
    for reach in REACHES {
        let timing = DeliveryTiming {
            reach_operator_after: Duration::from_millis(20),
            final_after: Duration::from_millis(60),
            update_interval: Duration::from_millis(30),
        };
        let emulator = Panel::start(
            Emulator::builder().account(account()).delivery_timing(timing).unreachable("09121234568"),
            reach,
        )
        .await;
        let client = client(&emulator, SoapVersion::V11, "pa55");
        let report =
            client.send(&Sms::new("5000123456", "hi").to(["09121234567", "09121234568"]).unwrap()).await.unwrap();
        let mut changes = Vec::new();
        let tracked = DeliveryTracker::new(client)
            .min_update_interval(Duration::from_millis(30))
            .poll_interval(Duration::from_millis(10))
            .give_up_after(Duration::from_secs(10))
            .track_with(&[report.rec_ids()], |rec_id, status| changes.push((rec_id, status)))
            .await
            .unwrap();
        assert!(tracked.complete);
        let ids = report.rec_ids();
        assert_eq!(tracked.statuses[&ids[0]], DeliveryStatus::Delivered);
        assert_eq!(tracked.statuses[&ids[1]], DeliveryStatus::NotDelivered);
        assert!(changes.len() >= 2);
    }
}

#[tokio::test]
async fn inbox_lists_and_read_flags_agree() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let emulator = emulator(&clock, reach).await;
            let handle = emulator.handle();
            let first = handle.inject_incoming(IncomingSms::new("ali", "09121111111", "سلام، وقت بخیر")).unwrap();
            let second = handle.inject_incoming(IncomingSms::new("ali", "09122222222", "second")).unwrap();
            let client = client(&emulator, version, "pa55");
            let new = client.new_messages(None).await.unwrap();
            assert_eq!(new.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [first, second]);
            assert_eq!(new[0].body.as_deref(), Some("سلام، وقت بخیر"));
            assert!(client.new_messages(None).await.unwrap().is_empty(), "fetched messages are no longer new");
            assert_eq!(client.inbox_count(false).await.unwrap(), 2);
            client.mark_read(&[first]).await.unwrap();
            let read = client.messages(Folder::ReceivedRead, None).await.unwrap();
            assert_eq!(read.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [first]);
            let unread = client.messages(Folder::ReceivedUnread, None).await.unwrap();
            assert_eq!(unread.iter().map(|m| m.msg_id).collect::<Vec<_>>(), [second]);
            assert_eq!((client.inbox_count(true).await.unwrap(), client.inbox_count(false).await.unwrap()), (1, 1));
            client.mark_unread(&[first]).await.unwrap();
            assert_eq!(client.inbox_count(false).await.unwrap(), 2, "{version}");
            client.send(&Sms::new("5000123456", "x").to(["09121234567"]).unwrap()).await.unwrap();
            let sent = client.messages(Folder::SentUnread, None).await.unwrap();
            client.mark_read(&[sent[0].msg_id]).await.unwrap();
            assert_eq!(client.messages(Folder::SentRead, Some("5000123456")).await.unwrap().len(), 1);
            assert!(client.messages(Folder::SentRead, Some("3000987654")).await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn bulk_send_of_250_recipients_goes_in_three_calls() {
    for reach in REACHES {
        for version in VERSIONS {
            let clock = ManualClock::starting_now();
            let emulator = emulator(&clock, reach).await;
            let client = client(&emulator, version, "pa55");
            let numbers: Vec<String> = (0..250).map(|i| format!("0912{i:07}")).collect();
            let sms = Sms::new("5000123456", "hello").to(&numbers).unwrap();
            let mut batches = Vec::new();
            let report = client.send_bulk_with_progress(&sms, |progress| batches.push(progress.batch)).await.unwrap();
            assert_eq!((report.batches.len(), batches), (3, vec![0, 1, 2]));
            assert!(report.is_complete(), "{version}");
            assert_eq!(report.accepted().count(), 250);
            let snapshot = emulator.handle().account_snapshot("ali").unwrap();
            assert_eq!(snapshot.sent.len(), 250);
            let mut seen: Vec<&str> = snapshot.sent.iter().map(|s| s.to.as_str()).collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 250, "every recipient exactly once");
        }
    }
}

#[tokio::test]
async fn a_failed_bulk_batch_stops_without_resending_earlier_ones() {
    for reach in REACHES {
        let clock = ManualClock::starting_now();
        let emulator = Panel::start(
            Emulator::builder()
                .account(Account::new("ali", "pa55").sender("5000123456").credit(150.0))
                .clock(clock.clone()),
            reach,
        )
        .await;
        let client = client(&emulator, SoapVersion::V11, "pa55");
        let numbers: Vec<String> = (0..250).map(|i| format!("0912{i:07}")).collect();
        let sms = Sms::new("5000123456", "x").to(&numbers).unwrap();

        // One at a time: batch 2 is refused (credit), and batch 3 is never started.
        let report = BulkJob::new(&client, &sms).unwrap().concurrency(1);
        let report = report.run(&mut MemoryJournal::new(), &mut NoObserver).await.unwrap();
        assert_eq!(report.accepted().count(), 100);
        let (batch, error) = report.failure.as_ref().unwrap();
        assert_eq!(*batch, 1);
        assert!(matches!(error, Error::Rejected(r) if r.code == 2));
        assert!(report.recipients[100..200].iter().all(|r| r.outcome == BulkOutcome::NotSent));
        assert!(report.recipients[200..].iter().all(|r| r.outcome == BulkOutcome::NotAttempted));
        assert_eq!(emulator.handle().account_snapshot("ali").unwrap().sent.len(), 100);
    }
}

#[tokio::test]
async fn concurrent_bulk_batches_are_each_reported_as_the_panel_answered() {
    for reach in REACHES {
        let emulator = Panel::start(
            Emulator::builder().account(Account::new("ali", "pa55").sender("5000123456").credit(150.0)),
            reach,
        )
        .await;
        let client = client(&emulator, SoapVersion::V11, "pa55");
        let numbers: Vec<String> = (0..250).map(|i| format!("0912{i:07}")).collect();
        // All three batches are on their way at once: in any order, the panel has
        // credit for batches 1 and 3 (150 parts) and refuses batch 2.
        let report = client.send_bulk(&Sms::new("5000123456", "x").to(&numbers).unwrap()).await.unwrap();
        use BatchStatus::*;
        assert_eq!(report.batches.iter().map(|b| b.status).collect::<Vec<_>>(), [Sent, Refused, Sent], "{reach:?}");
        assert!(matches!(&report.failure, Some((1, Error::Rejected(r))) if r.code == 2));
        assert_eq!(report.accepted().count(), 150);
        assert!(report.recipients[100..200].iter().all(|r| r.outcome == BulkOutcome::NotSent));
        assert_eq!(emulator.handle().account_snapshot("ali").unwrap().sent.len(), 150);
    }
}

#[test]
fn the_blocking_client_has_the_same_surface() {
    for reach in REACHES {
        // The blocking client needs no runtime of the caller's: the emulator serves on its own thread.
        let running = (reach == Reach::Http).then(|| Emulator::builder().account(account()).start_blocking().unwrap());
        let in_process = Emulator::builder().account(account()).build().handle();
        let builder = match &running {
            Some(running) => Client::builder().base_url(running.base_url()),
            None => Client::builder().base_url(IN_PROCESS_BASE_URL).transport(in_process.transport()),
        };
        let client = builder.credentials("ali", "pa55").soap_version(SoapVersion::V12).build_blocking().unwrap();
        assert_eq!(client.credit().unwrap(), 1000.0);
        let report = client.send(&Sms::new("5000123456", "hi").to(["09121234567"]).unwrap()).unwrap();
        assert_eq!(client.delivery(report.rec_ids()[0]).unwrap(), DeliveryStatus::SentToOperator);
        assert_eq!(client.numbers().unwrap().len(), 2);
        assert_eq!(client.messages(Folder::SentUnread, None).unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_client_works_inside_spawn_blocking() {
    for reach in REACHES {
        let emulator = Panel::start(Emulator::builder().account(account()), reach).await;
        let builder = emulator.client();
        let credit = tokio::task::spawn_blocking(move || {
            let client = builder.credentials("ali", "pa55").build_blocking().unwrap();
            client.credit()
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(credit, 1000.0);
    }
}

#[tokio::test]
async fn the_tracker_gives_up_on_invalid_rec_ids_and_keeps_the_rest() {
    for reach in REACHES {
        let timing = DeliveryTiming {
            reach_operator_after: Duration::from_millis(10),
            final_after: Duration::from_millis(20),
            update_interval: Duration::from_millis(20),
        };
        let emulator = Panel::start(Emulator::builder().account(account()).delivery_timing(timing), reach).await;
        let client = client(&emulator, SoapVersion::V11, "pa55");
        let report = client.send(&Sms::new("5000123456", "hi").to(["09121234567"]).unwrap()).await.unwrap();
        let tracked = DeliveryTracker::new(client)
            .min_update_interval(Duration::from_millis(20))
            .poll_interval(Duration::from_millis(10))
            .give_up_after(Duration::from_secs(10))
            .track(&[vec![42], report.rec_ids()])
            .await
            .unwrap();
        assert!(tracked.complete);
        assert_eq!(tracked.invalid.iter().copied().collect::<Vec<_>>(), [42]);
        assert_eq!(tracked.statuses[&report.rec_ids()[0]], DeliveryStatus::Delivered);
    }
}

#[tokio::test]
async fn bulk_reports_group_rec_ids_by_call_for_the_tracker() {
    for reach in REACHES {
        let clock = ManualClock::starting_now();
        let emulator = emulator(&clock, reach).await;
        let client = client(&emulator, SoapVersion::V11, "pa55");
        let numbers: Vec<String> = (0..150).map(|i| format!("0912{i:07}")).collect();
        let report = client.send_bulk(&Sms::new("5000123456", "x").to(&numbers).unwrap()).await.unwrap();
        let batches = report.rec_id_batches();
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 50]);
    }
}

#[tokio::test]
async fn failover_reaches_the_emulator_after_a_dead_endpoint() {
    for reach in REACHES {
        let clock = ManualClock::starting_now();
        let emulator = emulator(&clock, reach).await;
        let builder = match &emulator.running {
            Some(running) => Client::builder().base_urls([crate::support::closed_base_url(), running.base_url()]),
            None => Client::builder()
                .base_urls(["http://dead.invalid/post/", IN_PROCESS_BASE_URL])
                .transport(DeadHost(emulator.handle().transport())),
        };
        let client = builder.credentials("ali", "pa55").build().unwrap();
        let report = client.send(&Sms::new("5000123456", "hi").to(["09121234567"]).unwrap()).await.unwrap();
        assert!(report.all_accepted());
        assert_eq!(emulator.handle().account_snapshot("ali").unwrap().sent.len(), 1);
    }
}

/// Refuses connections to `dead.invalid`; hands everything else to its transport.
#[derive(Debug)]
struct DeadHost<T>(T);

impl<T: Transport> Transport for DeadHost<T> {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        if request.url.starts_with("http://dead.invalid/") {
            let refused = PostError::connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
            return Box::pin(std::future::ready(Err(refused)));
        }
        self.0.post(request)
    }
}
