//! The emulator over real HTTP on loopback: every operation in SOAP 1.1 and 1.2, result
//! codes, credit, deliveries, schedules, inbox, isolation, faults, WSDL and admin.

use std::time::Duration;

use payamak::codegen::{decode_response, encode_request, read_fault};
use payamak::error::{FaultCode, SoapFault};
use payamak::incoming_messages as im;
use payamak::send;
use payamak::Credentials;
use payamak::PanelDateTime;
use payamak::SoapVersion;
use payamak::XmlRequest;
use payamak_emulator::{
    Account, ConfigError, Emulator, EmulatorBuilder, IncomingSms, ManualClock, RunningEmulator, FIRST_REC_ID,
};

const VERSIONS: [SoapVersion; 2] = [SoapVersion::V11, SoapVersion::V12];
const ALICE: (&str, &str) = ("alice", "alice-pw");
const BOB: (&str, &str) = ("bob", "bob-pw");
const DEMO: (&str, &str) = ("demo", "demo");
const WRONG: (&str, &str) = ("alice", "not-the-password");

fn start_time() -> PanelDateTime {
    "2024-03-20T09:00:00".parse().expect("a date")
}

struct Panel {
    emulator: RunningEmulator,
    clock: ManualClock,
    http: reqwest::Client,
}

/// What came back over HTTP.
struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

impl Reply {
    fn fault(&self) -> SoapFault {
        read_fault(&self.body)
            .unwrap_or_else(|error| panic!("not an envelope ({error}): {}", self.body))
            .unwrap_or_else(|| panic!("not a fault: {}", self.body))
    }
}

fn base() -> EmulatorBuilder {
    Emulator::builder()
        .account(Account::new(ALICE.0, ALICE.1).credit(100.0).sender("50001").daily_limit(50).filtered_word("Casino"))
        .account(Account::new(BOB.0, BOB.1).credit(10.0).sender("50002"))
        .unreachable("09120000000")
}

async fn panel() -> Panel {
    panel_with(base()).await
}

async fn panel_with(builder: EmulatorBuilder) -> Panel {
    let clock = ManualClock::starting_at(start_time());
    let emulator = builder.clock(&clock).start().await.expect("the emulator starts");
    Panel { emulator, clock, http: reqwest::Client::new() }
}

impl Panel {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.emulator.local_addr())
    }

    fn endpoint<R: XmlRequest>(&self) -> String {
        format!("{}{}", self.emulator.base_url(), R::OPERATION.service.endpoint)
    }

    async fn post(&self, url: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> Reply {
        let mut request = self.http.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
        Reply { status, content_type, body: response.text().await.expect("a body") }
    }

    async fn get(&self, path: &str) -> Reply {
        let response = self.http.get(self.url(path)).send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
        Reply { status, content_type, body: response.text().await.expect("a body") }
    }

    /// Posts `request` as a client would and returns the raw reply.
    async fn raw<R: XmlRequest>(&self, request: &R, version: SoapVersion, credentials: Option<(&str, &str)>) -> Reply {
        let credentials = credentials.map(|(username, password)| Credentials::new(username, password));
        let body = encode_request(request, version, credentials.as_ref()).expect("the request encodes");
        let action = version.action(R::OPERATION).expect("an action");
        let content_type = version.content_type(action);
        let quoted = format!("\"{action}\"");
        let mut headers = vec![("content-type", content_type.as_str())];
        if version == SoapVersion::V11 {
            headers.push(("SOAPAction", quoted.as_str()));
        }
        self.post(&self.endpoint::<R>(), &headers, body).await
    }

    /// Calls an operation and decodes the response, checking the HTTP envelope.
    async fn call<R: XmlRequest>(
        &self,
        request: &R,
        version: SoapVersion,
        credentials: Option<(&str, &str)>,
    ) -> R::Response {
        let reply = self.raw(request, version, credentials).await;
        assert_eq!(reply.status, 200, "{}: {}", R::OPERATION.name, reply.body);
        assert_eq!(reply.content_type, version.response_content_type(), "{}", R::OPERATION.name);
        assert!(reply.body.contains(version.envelope_namespace()));
        decode_response::<R>(&reply.body)
            .unwrap_or_else(|error| panic!("{}: {error}: {}", R::OPERATION.name, reply.body))
    }

    async fn send(&self, who: (&str, &str), from: &str, to: &[&str], text: &str) -> send::SendSmsResponse {
        let request = send::SendSmsRequest {
            to: Some(to.iter().map(|to| Some((*to).to_owned())).collect()),
            from: Some(from.to_owned()),
            text: Some(text.to_owned()),
            ..Default::default()
        };
        self.call(&request, SoapVersion::V11, Some(who)).await
    }

    async fn credit(&self, who: (&str, &str)) -> f64 {
        self.call(&send::GetCreditRequest::default(), SoapVersion::V11, Some(who)).await.get_credit_result
    }

    async fn delivery(&self, rec_id: i64) -> i32 {
        self.call(&send::GetDeliveryRequest { rec_id, ..Default::default() }, SoapVersion::V12, None)
            .await
            .get_delivery_result
    }

    async fn update_delivery(&self, rec_id: i64) -> i32 {
        self.call(&send::UpdateDeliveryRequest { rec_id, ..Default::default() }, SoapVersion::V11, None)
            .await
            .update_delivery_result
    }

    async fn schedule(&self, who: (&str, &str), at: PanelDateTime, period: send::PeriodType, to: &[&str]) -> i32 {
        let request = send::ScheduleSmsRequest {
            to: Some(to.iter().map(|to| Some((*to).to_owned())).collect()),
            from: Some("50001".to_owned()),
            text: Some("یادآوری".to_owned()),
            schedule_date_time: at,
            period,
            ..Default::default()
        };
        self.call(&request, SoapVersion::V11, Some(who)).await.schedule_sms_result
    }

    async fn new_messages(&self, who: (&str, &str), from: &str) -> Vec<im::Message> {
        let request = im::GetNewMessagesListRequest { from: Some(from.to_owned()), ..Default::default() };
        rows(self.call(&request, SoapVersion::V11, Some(who)).await.get_new_messages_list_result)
    }

    async fn received(&self, who: (&str, &str), read: bool) -> Vec<im::Message> {
        if read {
            let request = im::GetReceiveSMSIsReadListRequest { from: Some(String::new()), ..Default::default() };
            rows(self.call(&request, SoapVersion::V12, Some(who)).await.get_receive_sms_is_read_list_result)
        } else {
            let request = im::GetReceiveSMSIsNotReadListRequest { from: Some(String::new()), ..Default::default() };
            rows(self.call(&request, SoapVersion::V11, Some(who)).await.get_receive_sms_is_not_read_list_result)
        }
    }

    async fn sent(&self, who: (&str, &str), from: &str, read: bool) -> Vec<im::Message> {
        let from = Some(from.to_owned());
        if read {
            let request = im::GetSentSMSIsReadListRequest { from, ..Default::default() };
            rows(self.call(&request, SoapVersion::V11, Some(who)).await.get_sent_sms_is_read_list_result)
        } else {
            let request = im::GetSentSMSIsNotReadListRequest { from, ..Default::default() };
            rows(self.call(&request, SoapVersion::V12, Some(who)).await.get_sent_sms_is_not_read_list_result)
        }
    }

    async fn inbox_count(&self, who: (&str, &str), is_read: bool) -> i32 {
        self.call(&send::GetInboxCountRequest { is_read, ..Default::default() }, SoapVersion::V11, Some(who))
            .await
            .get_inbox_count_result
    }

    async fn mark(&self, who: (&str, &str), ids: &str, read: bool) -> i32 {
        let msg_ids = Some(ids.to_owned());
        if read {
            let request = im::UpdateMessagesIsReadRequest { msg_ids, ..Default::default() };
            self.call(&request, SoapVersion::V11, Some(who)).await.update_messages_is_read_result
        } else {
            let request = im::UpdateMessagesIsNotReadRequest { msg_ids, ..Default::default() };
            self.call(&request, SoapVersion::V12, Some(who)).await.update_messages_is_not_read_result
        }
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

fn rows(list: Option<Vec<Option<im::Message>>>) -> Vec<im::Message> {
    list.unwrap_or_default().into_iter().flatten().collect()
}

fn ids(messages: &[im::Message]) -> Vec<i64> {
    messages.iter().map(|message| message.msg_id).collect()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_operation_answers_in_soap_11_and_12() {
    for version in VERSIONS {
        let panel = panel().await;
        let credit = panel.call(&send::GetCreditRequest::default(), version, Some(ALICE)).await;
        assert!(credit.get_credit_result > 0.0);

        let sent = panel
            .call(
                &send::SendSmsRequest {
                    to: Some(vec![Some("09121234567".to_owned())]),
                    from: Some("50001".to_owned()),
                    text: Some("hello".to_owned()),
                    ..Default::default()
                },
                version,
                Some(ALICE),
            )
            .await;
        assert_eq!(sent.send_sms_result, 1, "{version}");
        let rec_id = sent.rec_id.expect("recIds")[0];

        let delivery = panel.call(&send::GetDeliveryRequest { rec_id, ..Default::default() }, version, None).await;
        assert_eq!(delivery.get_delivery_result, 0);
        let update = panel.call(&send::UpdateDeliveryRequest { rec_id, ..Default::default() }, version, None).await;
        assert_eq!(update.update_delivery_result, 1);

        let at: PanelDateTime = "2024-03-21T10:00:00".parse().expect("a date");
        let scheduled = panel
            .call(
                &send::ScheduleSmsRequest {
                    to: Some(vec![Some("09121234567".to_owned())]),
                    from: Some("50001".to_owned()),
                    text: Some("later".to_owned()),
                    schedule_date_time: at,
                    period: send::PeriodType::Once,
                    ..Default::default()
                },
                version,
                Some(ALICE),
            )
            .await;
        assert_eq!(scheduled.schedule_sms_result, 1);

        panel.emulator.inject_incoming(IncomingSms::new(ALICE.0, "09351112233", "hi")).expect("injected");
        let count = panel
            .call(&send::GetInboxCountRequest { is_read: false, ..Default::default() }, version, Some(ALICE))
            .await;
        assert_eq!(count.get_inbox_count_result, 1);

        let new =
            panel.call(&im::GetNewMessagesListRequest { from: None, ..Default::default() }, version, Some(ALICE)).await;
        let new = rows(new.get_new_messages_list_result);
        assert_eq!(new.len(), 1);
        let id = new[0].msg_id.to_string();

        let unread = panel
            .call(&im::GetReceiveSMSIsNotReadListRequest { from: None, ..Default::default() }, version, Some(ALICE))
            .await;
        assert_eq!(rows(unread.get_receive_sms_is_not_read_list_result).len(), 1);
        let marked = panel
            .call(
                &im::UpdateMessagesIsReadRequest { msg_ids: Some(id.clone()), ..Default::default() },
                version,
                Some(ALICE),
            )
            .await;
        assert_eq!(marked.update_messages_is_read_result, 1);
        let read = panel
            .call(&im::GetReceiveSMSIsReadListRequest { from: None, ..Default::default() }, version, Some(ALICE))
            .await;
        assert_eq!(rows(read.get_receive_sms_is_read_list_result).len(), 1);
        let unmarked = panel
            .call(
                &im::UpdateMessagesIsNotReadRequest { msg_ids: Some(id.clone()), ..Default::default() },
                version,
                Some(ALICE),
            )
            .await;
        assert_eq!(unmarked.update_messages_is_not_read_result, 1);
        let marked = panel
            .call(&im::UpdateMessagesIsReadRequest { msg_ids: Some(id), ..Default::default() }, version, Some(ALICE))
            .await;
        assert_eq!(marked.update_messages_is_read_result, 1);

        let sent_unread = panel
            .call(&im::GetSentSMSIsNotReadListRequest { from: None, ..Default::default() }, version, Some(ALICE))
            .await;
        let sent_unread = rows(sent_unread.get_sent_sms_is_not_read_list_result);
        assert!(!sent_unread.is_empty());
        let sent_id = sent_unread[0].msg_id.to_string();
        panel
            .call(
                &im::UpdateMessagesIsReadRequest { msg_ids: Some(sent_id), ..Default::default() },
                version,
                Some(ALICE),
            )
            .await;
        let sent_read = panel
            .call(&im::GetSentSMSIsReadListRequest { from: None, ..Default::default() }, version, Some(ALICE))
            .await;
        assert!(!rows(sent_read.get_sent_sms_is_read_list_result).is_empty());

        let numbers = panel.call(&im::GetUserNumbersListRequest::default(), version, Some(ALICE)).await;
        assert_eq!(numbers.get_user_numbers_list_result, Some(vec![Some("50001".to_owned())]));
        panel.emulator.shutdown().await;
    }
}

#[tokio::test]
async fn send_sms_reaches_every_result_code() {
    let panel = panel_with(base().account(Account::new("poor", "pw").credit(2.0).sender("50009").daily_limit(3))).await;
    let poor = ("poor", "pw");
    let one = ["09121234567"];

    // 0: wrong credentials; the ref parameters come back as sent.
    let request = send::SendSmsRequest {
        to: Some(vec![Some("09121234567".to_owned())]),
        from: Some("50001".to_owned()),
        text: Some("hi".to_owned()),
        rec_id: Some(vec![0]),
        status: Some(vec![0]),
        ..Default::default()
    };
    let wrong = panel.call(&request, SoapVersion::V11, Some(WRONG)).await;
    assert_eq!((wrong.send_sms_result, wrong.rec_id, wrong.status), (0, Some(vec![0]), Some(vec![0])));
    assert_eq!(panel.call(&request, SoapVersion::V12, None).await.send_sms_result, 0);

    // 5: a sender number the account does not own (another account's included).
    assert_eq!(panel.send(ALICE, "50002", &one, "hi").await.send_sms_result, 5);
    assert_eq!(panel.send(ALICE, "", &one, "hi").await.send_sms_result, 5);
    // Persian digits in the sender are normalised.
    assert_eq!(panel.send(ALICE, "۵۰۰۰۱", &one, "hi").await.send_sms_result, 1);

    // 7: a filtered word, case-insensitively, anywhere in the text.
    assert_eq!(panel.send(ALICE, "50001", &one, "Try our CASINO tonight").await.send_sms_result, 7);
    assert_eq!(panel.send(DEMO, "5000123456", &one, "بازی قمار آنلاین").await.send_sms_result, 7);

    // 4: more than 100 recipients.
    let many: Vec<String> = (0..101).map(|i| format!("0912{i:07}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(panel.send(DEMO, "5000123456", &many, "hi").await.send_sms_result, 4);
    assert_eq!(panel.send(DEMO, "5000123456", &many[..100], "hi").await.send_sms_result, 1);

    // 11: no valid recipient.
    let none = panel.send(ALICE, "50001", &["12345", "not a number"], "hi").await;
    assert_eq!((none.send_sms_result, none.rec_id, none.status), (11, Some(vec![0, 0]), Some(vec![1, 1])));

    // 3: the daily limit (3 recipients a day for "poor"); a new Tehran day resets it.
    assert_eq!(panel.send(poor, "50009", &["09121111111", "09122222222"], "a").await.send_sms_result, 1);
    assert_eq!(panel.send(poor, "50009", &["09121111111", "09122222222"], "a").await.send_sms_result, 3);
    panel.advance(15 * 3600); // 2024-03-21 00:00 Tehran
    assert_eq!(panel.send(poor, "50009", &["09121111111", "09122222222"], "a").await.send_sms_result, 2);

    // 2: not enough credit (0 left after two parts), nothing charged.
    assert_eq!(panel.credit(poor).await, 0.0);
    assert_eq!(panel.send(poor, "50009", &one, "a").await.send_sms_result, 2);

    // 1: success.
    let ok = panel.send(BOB, "50002", &one, "hi").await;
    assert_eq!(ok.send_sms_result, 1);
    assert_eq!(ok.status, Some(vec![0]));
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn credit_is_charged_by_parts_for_persian_text() {
    let panel =
        panel_with(base().account(Account::new("fa", "pw").credit(50.0).price_per_part(1.5).sender("3000"))).await;
    let fa = ("fa", "pw");
    let text = "سلام! این یک پیام آزمایشی فارسی است که باید در دو بخش ارسال شود، چون از هفتاد نویسه بیشتر است.";
    assert_eq!(payamak::sms_parts::count(text).parts(), 2);

    let sent = panel.send(fa, "3000", &["09121234567", "+98 912 765 4321", "02188776655", "۰۹۳۵۱۱۱۲۲۳۳"], text).await;
    assert_eq!(sent.send_sms_result, 1);
    let rec_ids = sent.rec_id.expect("recIds");
    assert_eq!(rec_ids.len(), 4);
    assert_eq!(rec_ids[2], 0, "a landline is not sent to");
    assert!(rec_ids[0] >= FIRST_REC_ID && rec_ids[1] == rec_ids[0] + 1 && rec_ids[3] == rec_ids[1] + 1);
    assert_eq!(sent.status, Some(vec![0, 0, 1, 0]));

    // 2 parts × 3 accepted recipients × 1.5
    assert!((panel.credit(fa).await - (50.0 - 9.0)).abs() < 1e-9);

    let rows = panel.sent(fa, "", false).await;
    assert_eq!(rows.len(), 3);
    let receivers: Vec<_> = rows.iter().map(|row| row.receiver.clone().unwrap_or_default()).collect();
    assert_eq!(receivers, ["09121234567", "09127654321", "09351112233"]);
    for row in &rows {
        assert_eq!(row.body.as_deref(), Some(text), "Persian text intact");
        assert_eq!((row.parts, row.msg_type, row.is_read), (2, 2, false));
        assert_eq!(row.sender.as_deref(), Some("3000"));
        assert_eq!(row.send_date, start_time());
    }
    let snapshot = panel.emulator.account_snapshot("fa").expect("account");
    assert_eq!(snapshot.sent.iter().map(|sent| sent.rec_id).collect::<Vec<_>>(), [rec_ids[0], rec_ids[1], rec_ids[3]]);
    assert_eq!(snapshot.sent_today, 3);
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn deliveries_progress_with_the_manual_clock() {
    let panel = panel().await;
    let sent = panel.send(ALICE, "50001", &["09121234567", "09120000000"], "hi").await;
    let rec_ids = sent.rec_id.expect("recIds");
    let (reachable, unreachable) = (rec_ids[0], rec_ids[1]);

    // The panel holds "sent to the operator" until it is refreshed.
    assert_eq!(panel.delivery(reachable).await, 0);
    panel.advance(3);
    assert_eq!(panel.delivery(reachable).await, 0, "GetDelivery alone does not refresh");
    assert_eq!(panel.update_delivery(reachable).await, 1);
    assert_eq!(panel.delivery(reachable).await, 8, "reached the operator");
    assert_eq!(panel.delivery(unreachable).await, 8, "the whole batch was refreshed");

    panel.advance(10);
    assert_eq!(panel.update_delivery(unreachable).await, 1);
    assert_eq!(panel.delivery(reachable).await, 1, "delivered");
    assert_eq!(panel.delivery(unreachable).await, 2, "not delivered");

    let snapshot = panel.emulator.account_snapshot(ALICE.0).expect("alice");
    assert_eq!(
        snapshot.sent.iter().map(|sent| (sent.delivery_status, sent.operator_status)).collect::<Vec<_>>(),
        [(1, 1), (2, 2)]
    );
    assert_eq!(panel.delivery(987_654).await, 100, "a recId never issued");
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn update_delivery_codes_and_batches() {
    let panel = panel().await;
    let first = panel.send(ALICE, "50001", &["09121234567", "09127654321"], "one").await.rec_id.expect("recIds");
    let second = panel.send(ALICE, "50001", &["09121234567"], "two").await.rec_id.expect("recIds");

    assert_eq!(panel.update_delivery(0).await, 0, "recId 0 (a recipient not sent to)");
    assert_eq!(panel.update_delivery(42).await, 0, "unknown recId");

    assert_eq!(panel.update_delivery(first[0]).await, 1);
    assert_eq!(panel.update_delivery(first[0]).await, 100, "again too soon");
    assert_eq!(panel.update_delivery(first[1]).await, 100, "the same batch through another recId");
    assert_eq!(panel.update_delivery(second[0]).await, 1, "another batch has its own interval");

    panel.advance(9);
    assert_eq!(panel.update_delivery(first[1]).await, 100);
    panel.advance(1);
    assert_eq!(panel.update_delivery(first[1]).await, 1, "the interval (10 s) has passed");
    assert_eq!((panel.delivery(first[0]).await, panel.delivery(first[1]).await), (1, 1));
    assert_eq!(panel.delivery(second[0]).await, 0, "the other batch keeps the status it held");
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn scheduled_messages_fire_when_the_clock_passes_them() {
    let panel = panel().await;
    let in_an_hour: PanelDateTime = "2024-03-20T10:00:00".parse().expect("a date");
    assert_eq!(panel.schedule(ALICE, in_an_hour, send::PeriodType::Daily, &["09121234567"]).await, 1);
    assert_eq!(panel.schedule(ALICE, in_an_hour, send::PeriodType::Custom, &["09127654321"]).await, 1);
    assert!(panel.sent(ALICE, "", false).await.is_empty());
    assert_eq!(panel.credit(ALICE).await, 100.0, "charged when sent, not when scheduled");

    panel.advance(3599);
    assert!(panel.sent(ALICE, "", false).await.is_empty());
    panel.advance(1);
    let sent = panel.sent(ALICE, "", false).await;
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|row| row.send_date == in_an_hour && row.body.as_deref() == Some("یادآوری")));
    assert_eq!(panel.credit(ALICE).await, 98.0);

    // Daily repeats; Custom (treated as Once) does not.
    panel.advance(2 * 24 * 3600);
    let sent = panel.sent(ALICE, "", false).await;
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].send_date.to_string(), "2024-03-22T10:00:00");

    let snapshot = panel.emulator.account_snapshot(ALICE.0).expect("alice");
    assert_eq!(snapshot.schedules.len(), 2);
    assert_eq!(snapshot.schedules[0].runs.len(), 3);
    assert_eq!(snapshot.schedules[0].next_at.map(|at| at.to_string()).as_deref(), Some("2024-03-23T10:00:00"));
    assert_eq!((snapshot.schedules[1].runs.len(), snapshot.schedules[1].next_at), (1, None));
    let rec_id = snapshot.schedules[0].runs[0].rec_ids[0];
    assert_eq!(panel.update_delivery(rec_id).await, 1, "scheduled sends have recIds too");

    // A time already past sends at once.
    let past: PanelDateTime = "2024-01-01T00:00:00".parse().expect("a date");
    assert_eq!(panel.schedule(ALICE, past, send::PeriodType::Once, &["09121234567"]).await, 1);
    assert_eq!(panel.sent(ALICE, "", false).await.len(), 5);

    // The same checks as SendSms.
    assert_eq!(panel.schedule(WRONG, in_an_hour, send::PeriodType::Once, &["09121234567"]).await, 0);
    assert_eq!(panel.schedule(BOB, in_an_hour, send::PeriodType::Once, &["09121234567"]).await, 5);

    // A period outside the enumeration is a fault, as XmlSerializer gives.
    let request = send::ScheduleSmsRequest {
        to: Some(vec![Some("09121234567".to_owned())]),
        from: Some("50001".to_owned()),
        text: Some("x".to_owned()),
        schedule_date_time: in_an_hour,
        period: send::PeriodType::Unknown("Hourly".to_owned()),
        ..Default::default()
    };
    let reply = panel.raw(&request, SoapVersion::V11, Some(ALICE)).await;
    assert_eq!(reply.status, 500);
    assert!(reply.fault().reason.contains("Hourly"));
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn inbox_operations_are_consistent() {
    let panel = panel_with(base().account(Account::new("two", "pw").sender("7001").sender("7002"))).await;
    let two = ("two", "pw");
    let first = panel.emulator.inject_incoming(IncomingSms::new("two", "09121234567", "سلام، خوبی؟")).expect("injected");
    let second =
        panel.emulator.inject_incoming(IncomingSms::new("two", "09351234567", "second").to("7002")).expect("injected");
    assert_ne!(first, second);
    assert_eq!((panel.inbox_count(two, false).await, panel.inbox_count(two, true).await), (2, 0));

    // `from` selects a virtual number; fetching makes messages not new, still unread.
    let only_7002 = panel.new_messages(two, "7002").await;
    assert_eq!(ids(&only_7002), [second]);
    assert_eq!(only_7002[0].receiver.as_deref(), Some("7002"));
    let rest = panel.new_messages(two, "").await;
    assert_eq!(ids(&rest), [first]);
    assert_eq!(rest[0].body.as_deref(), Some("سلام، خوبی؟"));
    assert_eq!(rest[0].sender.as_deref(), Some("09121234567"));
    assert_eq!(rest[0].receiver.as_deref(), Some("7001"), "the first sender number by default");
    assert_eq!((rest[0].msg_type, rest[0].is_read, rest[0].parts), (1, false, 1));
    assert!(panel.new_messages(two, "").await.is_empty(), "not new any more");
    assert_eq!(ids(&panel.received(two, false).await), [first, second]);

    // Mark read: comma-separated, whitespace and junk tolerated.
    assert_eq!(panel.mark(two, &format!(" {first} , , junk,"), true).await, 1);
    assert_eq!(ids(&panel.received(two, true).await), [first]);
    assert_eq!(ids(&panel.received(two, false).await), [second]);
    assert_eq!((panel.inbox_count(two, false).await, panel.inbox_count(two, true).await), (1, 1));
    assert!(panel.received(two, true).await[0].is_read);

    assert_eq!(panel.mark(two, &format!("{first},{second}"), true).await, 1);
    assert_eq!(panel.inbox_count(two, true).await, 2);
    assert_eq!(panel.mark(two, &second.to_string(), false).await, 1);
    assert_eq!(ids(&panel.received(two, false).await), [second]);

    let snapshot = panel.emulator.account_snapshot("two").expect("account");
    assert_eq!(
        snapshot.inbox.iter().map(|m| (m.is_read, m.is_new)).collect::<Vec<_>>(),
        [(true, false), (false, false)]
    );
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn accounts_are_isolated() {
    let panel = panel().await;
    let sent = panel.send(ALICE, "50001", &["09121234567"], "for alice only").await;
    assert_eq!(sent.send_sms_result, 1);
    let alice_row = panel.sent(ALICE, "", false).await[0].msg_id;
    let alice_in =
        panel.emulator.inject_incoming(IncomingSms::new("ALICE", "09121111111", "to alice")).expect("injected");

    assert!(panel.sent(BOB, "", false).await.is_empty());
    assert!(panel.new_messages(BOB, "").await.is_empty());
    assert!(panel.received(BOB, false).await.is_empty());
    assert_eq!(panel.inbox_count(BOB, false).await, 0);

    // Bob cannot mark Alice's messages.
    assert_eq!(panel.mark(BOB, &format!("{alice_row},{alice_in}"), true).await, 1);
    assert_eq!(panel.sent(ALICE, "", false).await.len(), 1);
    assert_eq!(panel.inbox_count(ALICE, false).await, 1);
    assert_eq!(panel.new_messages(ALICE, "").await.len(), 1);

    // Credits are separate; user names are case-insensitive, passwords are not.
    assert_eq!(panel.credit(BOB).await, 10.0);
    assert_eq!(panel.credit(("BOB", BOB.1)).await, 10.0);
    assert_eq!(panel.credit(("bob", "BOB-PW")).await, 0.0);
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_are_result_codes_not_faults() {
    let panel = panel().await;
    panel.emulator.inject_incoming(IncomingSms::new(ALICE.0, "09121111111", "x")).expect("injected");
    panel.send(ALICE, "50001", &["09121234567"], "x").await;
    for version in VERSIONS {
        for who in [Some(WRONG), Some(("nobody", "pw")), None] {
            assert_eq!(panel.call(&send::GetCreditRequest::default(), version, who).await.get_credit_result, 0.0);
            assert_eq!(
                panel
                    .call(&send::GetInboxCountRequest { is_read: false, ..Default::default() }, version, who)
                    .await
                    .get_inbox_count_result,
                0
            );
            let list =
                panel.call(&im::GetNewMessagesListRequest { from: None, ..Default::default() }, version, who).await;
            assert!(rows(list.get_new_messages_list_result).is_empty());
            let list = panel
                .call(&im::GetReceiveSMSIsNotReadListRequest { from: None, ..Default::default() }, version, who)
                .await;
            assert!(rows(list.get_receive_sms_is_not_read_list_result).is_empty());
            let list = panel
                .call(&im::GetReceiveSMSIsReadListRequest { from: None, ..Default::default() }, version, who)
                .await;
            assert!(rows(list.get_receive_sms_is_read_list_result).is_empty());
            let list = panel
                .call(&im::GetSentSMSIsNotReadListRequest { from: None, ..Default::default() }, version, who)
                .await;
            assert!(rows(list.get_sent_sms_is_not_read_list_result).is_empty());
            let list =
                panel.call(&im::GetSentSMSIsReadListRequest { from: None, ..Default::default() }, version, who).await;
            assert!(rows(list.get_sent_sms_is_read_list_result).is_empty());
            let numbers = panel.call(&im::GetUserNumbersListRequest::default(), version, who).await;
            assert!(numbers.get_user_numbers_list_result.unwrap_or_default().is_empty());
            let mark = panel
                .call(
                    &im::UpdateMessagesIsReadRequest { msg_ids: Some("1".to_owned()), ..Default::default() },
                    version,
                    who,
                )
                .await;
            assert_eq!(mark.update_messages_is_read_result, 0);
            let mark = panel
                .call(
                    &im::UpdateMessagesIsNotReadRequest { msg_ids: Some("1".to_owned()), ..Default::default() },
                    version,
                    who,
                )
                .await;
            assert_eq!(mark.update_messages_is_not_read_result, 0);
        }
    }
    assert_eq!(panel.new_messages(ALICE, "").await.len(), 1, "nothing was consumed by the failed calls");
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn unreadable_requests_get_a_fault_with_http_500() {
    let panel = panel().await;
    let send_url = panel.url("/post/send.asmx");
    let soap11 = |action: &'static str| [("content-type", "text/xml; charset=utf-8"), ("SOAPAction", action)];
    let credit = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetCredit xmlns="http://tempuri.org/"><username>demo</username><password>demo</password></GetCredit></soap:Body></soap:Envelope>"#;

    // Sanity: the hand-written request works.
    let ok = panel.post(&send_url, &soap11("\"http://tempuri.org/GetCredit\""), credit).await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, Headers<'_>, String)> = vec![
        ("not XML", soap11("\"http://tempuri.org/GetCredit\"").to_vec(), "this is not xml".to_owned()),
        ("not an envelope", soap11("\"http://tempuri.org/GetCredit\"").to_vec(), "<GetCredit xmlns=\"http://tempuri.org/\"/>".to_owned()),
        ("unknown SOAPAction", soap11("\"http://tempuri.org/Nope\"").to_vec(), credit.to_owned()),
        ("missing SOAPAction", vec![("content-type", "text/xml; charset=utf-8")], credit.to_owned()),
        ("action of another operation", soap11("\"http://tempuri.org/SendSms\"").to_vec(), credit.to_owned()),
        (
            "non-numeric long",
            soap11("\"http://tempuri.org/GetDelivery\"").to_vec(),
            credit.replace("<GetCredit xmlns=\"http://tempuri.org/\"><username>demo</username><password>demo</password></GetCredit>", "<GetDelivery xmlns=\"http://tempuri.org/\"><recId>abc</recId></GetDelivery>"),
        ),
        (
            "operation of the other endpoint",
            soap11("\"http://tempuri.org/GetUserNumbersList\"").to_vec(),
            credit.replace("GetCredit", "GetUserNumbersList"),
        ),
    ];
    for (what, headers, body) in cases {
        let reply = panel.post(&send_url, &headers, body).await;
        assert_eq!(reply.status, 500, "{what}: {}", reply.body);
        assert_eq!(reply.content_type, "text/xml; charset=utf-8", "{what}");
        let fault = reply.fault();
        assert_eq!(fault.code, FaultCode::Sender, "{what}");
        assert_eq!(fault.version, SoapVersion::V11, "{what}");
        assert!(!fault.reason.is_empty());
    }

    // SOAP 1.2: faults in 1.2, the `action` parameter checked when present.
    let credit12 =
        credit.replace("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope");
    let ok = panel.post(&send_url, &[("content-type", "application/soap+xml; charset=utf-8")], credit12.clone()).await;
    assert_eq!(ok.status, 200, "no action: the payload decides");
    let wrong_action =
        [("content-type", "application/soap+xml; charset=utf-8; action=\"http://tempuri.org/GetInboxCount\"")];
    let reply = panel.post(&send_url, &wrong_action, credit12.clone()).await;
    assert_eq!((reply.status, reply.content_type.as_str()), (500, "application/soap+xml; charset=utf-8"));
    let fault = reply.fault();
    assert_eq!((fault.version, fault.code), (SoapVersion::V12, FaultCode::Sender));
    let reply = panel.post(&send_url, &[("content-type", "application/soap+xml; charset=utf-8")], "<<<").await;
    assert_eq!((reply.status, reply.fault().version), (500, SoapVersion::V12));

    // An envelope whose version contradicts the Content-Type.
    let reply = panel.post(&send_url, &soap11("\"http://tempuri.org/GetCredit\""), credit12).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.fault().code, FaultCode::VersionMismatch);

    // Not UTF-8.
    let reply = panel.post(&send_url, &soap11("\"http://tempuri.org/GetCredit\""), vec![0xff_u8, 0xfe, 0x3c]).await;
    assert_eq!(reply.status, 500);

    // Paths are case-insensitive; other paths and verbs are not services.
    let upper = panel.post(&panel.url("/POST/SEND.ASMX"), &soap11("\"http://tempuri.org/GetCredit\""), credit).await;
    assert_eq!(upper.status, 200);
    assert_eq!(panel.post(&panel.url("/post/nothing.asmx"), &soap11("\"x\""), credit).await.status, 404);
    let put = panel.http.put(&send_url).body("x").send().await.expect("answer");
    assert_eq!(put.status().as_u16(), 405);
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn wsdl_is_served_with_the_emulator_address() {
    let panel = panel().await;
    let addr = panel.emulator.local_addr();
    for (path, service) in [
        ("/post/send.asmx?WSDL", "Send"),
        ("/post/IncomingMessages.asmx?wsdl", "IncomingMessages"),
        ("/Post/SEND.asmx?Wsdl", "Send"),
    ] {
        let reply = panel.get(path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.content_type.starts_with("text/xml"), "{path}");
        let endpoint = format!("location=\"http://{addr}{}\"", path.split('?').next().unwrap_or_default());
        assert_eq!(reply.body.matches(&endpoint).count(), 4, "{path}: {}", reply.body);
        assert!(!reply.body.contains("87.107.121.52"));
        assert!(reply.body.contains(&format!("<wsdl:service name=\"{service}\">")));
        roxmltree::Document::parse(&reply.body).expect("well-formed WSDL");
    }
    let help = panel.get("/post/send.asmx").await;
    assert!(help.status == 200 && help.content_type.starts_with("text/html") && help.body.contains("SendSms"));
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_inject_and_report() {
    let panel = panel().await;
    let inbox = panel.url("/admin/inbox");
    let json = [("content-type", "application/json")];

    let reply = panel
        .post(&inbox, &json, r#"{"username": "alice", "from": "09121234567", "to": "50001", "body": "درود"}"#)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let created: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    let msg_id = created["msg_id"].as_i64().expect("msg_id");
    let new = panel.new_messages(ALICE, "50001").await;
    assert_eq!((ids(&new), new[0].body.as_deref()), (vec![msg_id], Some("درود")));

    assert_eq!(panel.post(&inbox, &json, r#"{"username": "nobody", "from": "1", "body": "x"}"#).await.status, 404);
    assert_eq!(panel.post(&inbox, &json, r#"{"username": "alice"}"#).await.status, 400);
    assert_eq!(panel.post(&inbox, &json, "not json").await.status, 400);
    assert_eq!(panel.post(&inbox, &json, r#"{"username": "alice", "from": "1", "body": "\u0001"}"#).await.status, 400);

    panel.send(ALICE, "50001", &["09121234567"], "hi").await;
    let reply = panel.get("/admin/accounts/alice").await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("application/json"));
    assert!(!reply.body.contains("alice-pw"), "no password in the snapshot");
    let account: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(account["username"], "alice");
    assert_eq!(account["credit"], 99.0);
    assert_eq!(account["senders"], serde_json::json!(["50001"]));
    assert_eq!(account["inbox"][0]["body"], "درود");
    assert_eq!(account["inbox"][0]["received_at"], "2024-03-20T09:00:00");
    assert_eq!(account["sent"][0]["rec_id"], FIRST_REC_ID);
    assert_eq!(account["sent"][0]["delivery_status"], 0);
    assert_eq!(panel.get("/admin/accounts/nobody").await.status, 404);
    let names: serde_json::Value = serde_json::from_str(&panel.get("/admin/accounts").await.body).expect("JSON");
    assert_eq!(names, serde_json::json!(["alice", "bob", "demo"]));

    // The manual clock can be moved from outside too.
    let advanced = panel.post(&panel.url("/admin/clock/advance"), &json, r#"{"seconds": 6}"#).await;
    assert_eq!(advanced.status, 200, "{}", advanced.body);
    let clock: serde_json::Value = serde_json::from_str(&advanced.body).expect("JSON");
    assert_eq!((clock["now"].as_str(), clock["manual"].as_bool()), (Some("2024-03-20T09:00:06"), Some(true)));
    let account: serde_json::Value =
        serde_json::from_str(&panel.get("/admin/accounts/ALICE").await.body).expect("JSON");
    assert_eq!(account["sent"][0]["operator_status"], 1);
    assert_eq!(panel.post(&panel.url("/admin/clock/advance"), &json, r#"{"seconds": -1}"#).await.status, 400);
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_can_be_disabled_and_need_a_manual_clock_to_advance() {
    let emulator = Emulator::builder().admin_endpoints(false).start().await.expect("starts");
    let url = format!("http://{}/admin/accounts/demo", emulator.local_addr());
    assert_eq!(reqwest::get(&url).await.expect("answer").status().as_u16(), 404);
    emulator.shutdown().await;

    let emulator = Emulator::builder().start().await.expect("starts");
    let url = format!("http://{}/admin/clock/advance", emulator.local_addr());
    let reply = reqwest::Client::new().post(&url).body(r#"{"seconds": 1}"#).send().await.expect("answer");
    assert_eq!(reply.status().as_u16(), 409, "the system clock cannot be advanced");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_demo_account_exists_by_default() {
    let panel = panel_with(Emulator::builder()).await;
    assert_eq!(panel.credit(DEMO).await, 10_000.0);
    let numbers = panel.call(&im::GetUserNumbersListRequest::default(), SoapVersion::V11, Some(DEMO)).await;
    assert_eq!(
        numbers.get_user_numbers_list_result,
        Some(vec![Some("5000123456".to_owned()), Some("3000987654".to_owned())])
    );
    assert_eq!(panel.send(DEMO, "3000987654", &["09121234567"], "hello").await.send_sms_result, 1);
    let snapshot = panel.emulator.account_snapshot("demo").expect("demo");
    assert_eq!(
        (snapshot.daily_limit, snapshot.filtered_words.as_slice()),
        (Some(1000), ["قمار".to_owned()].as_slice())
    );
    panel.emulator.shutdown().await;

    let without = panel_with(Emulator::builder().without_demo()).await;
    assert_eq!(without.credit(DEMO).await, 0.0);
    assert!(without.emulator.usernames().is_empty());
    without.emulator.shutdown().await;
}

#[tokio::test]
async fn the_example_accounts_file_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/accounts.toml");
    let emulator = Emulator::builder().accounts_file(path).expect("a valid file").start().await.expect("starts");
    let mut names = emulator.usernames();
    names.sort();
    assert_eq!(names, ["demo", "reseller", "shop"]);
    let shop = emulator.account_snapshot("shop").expect("shop");
    assert_eq!(shop.inbox.len(), 1);
    assert_eq!(shop.inbox[0].to, shop.senders[0]);
    assert!(emulator.clock().as_manual().is_some(), "the file sets a manual clock");
    emulator.shutdown().await;

    let error = Emulator::builder().accounts_toml("[[accounts]]\nusername = 1\n").expect_err("invalid");
    assert!(error.to_string().contains("invalid accounts file"));
}

#[test]
fn start_blocking_serves_synchronous_callers() {
    use std::io::{Read, Write};

    let emulator = Emulator::builder().start_blocking().expect("starts");
    assert!(emulator.base_url().starts_with("http://127.0.0.1:") && emulator.base_url().ends_with("/post/"));
    let mut stream = std::net::TcpStream::connect(emulator.local_addr()).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream
        .write_all(b"GET /post/send.asmx?WSDL HTTP/1.1\r\nHost: panel.test\r\nConnection: close\r\n\r\n")
        .expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"location="http://panel.test/post/send.asmx""#), "the Host header is echoed");
    let id = emulator.inject_incoming(IncomingSms::new("demo", "09121234567", "x")).expect("injected");
    assert_eq!(emulator.account_snapshot("demo").expect("demo").inbox[0].msg_id, id);
    let addr = emulator.local_addr();
    emulator.shutdown_blocking();
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err(), "the port is closed");
}

#[test]
fn accounts_file_errors_never_show_the_password() {
    let dir = std::env::temp_dir().join(format!("payamak-accounts-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    for (name, text, password) in [
        ("numeric.toml", "[[accounts]]\nusername = \"alice\"\npassword = 98765432\n", "98765432"),
        ("unterminated.toml", "[[accounts]]\nusername = \"alice\"\npassword = \"S3cret!pw\n", "S3cret!pw"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("written");
        for error in [
            Emulator::builder().accounts_toml(text).expect_err("refused"),
            Emulator::builder().accounts_file(&path).expect_err("refused"),
        ] {
            let (display, debug) = (error.to_string(), format!("{error:?}"));
            assert!(!display.contains(password) && !debug.contains(password), "{display} / {debug}");
            assert!(display.contains("line 3"), "{display}");
            let ConfigError::Toml(toml) = &error else { panic!("{error:?}") };
            assert_eq!(toml.line(), Some(3));
        }
    }
    std::fs::remove_dir_all(&dir).expect("removed");
}

#[tokio::test]
async fn oversized_bodies_get_http_413() {
    let panel = panel().await;
    let credit = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetCredit xmlns="http://tempuri.org/"><username>alice</username><password>alice-pw</password></GetCredit></soap:Body></soap:Envelope>"#;
    let soap11 = [("content-type", "text/xml; charset=utf-8"), ("SOAPAction", "\"http://tempuri.org/GetCredit\"")];
    let padded = |size: usize| format!("{credit}{}", " ".repeat(size - credit.len()));

    // Just under the limit: read and answered.
    let reply = panel.post(&panel.url("/post/send.asmx"), &soap11, padded(1024 * 1024 - 1024)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // Over 1 MiB (and under axum's default limit of 2 MB, so that it is the emulator's).
    let big = padded(1024 * 1024 + 512 * 1024);
    let json = [("content-type", "application/json")];
    for (url, headers) in [
        (panel.url("/post/send.asmx"), &soap11[..]),
        (panel.url("/post/IncomingMessages.asmx"), &soap11[..]),
        (panel.url("/admin/inbox"), &json[..]),
    ] {
        let mut request = panel.http.post(&url).body(big.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = tokio::time::timeout(Duration::from_secs(10), request.send())
            .await
            .unwrap_or_else(|_| panic!("{url}: no answer in 10 s"))
            .unwrap_or_else(|error| panic!("{url}: {error}"));
        assert_eq!(response.status().as_u16(), 413, "{url}");
    }
    // The emulator still serves.
    assert_eq!(panel.credit(ALICE).await, 100.0);
    panel.emulator.shutdown().await;
}

#[tokio::test]
async fn the_emulator_time_never_goes_back() {
    let panel = panel().await;
    panel.advance(3600);
    panel.send(ALICE, "50001", &["09121111111"], "first").await;
    panel.clock.set(start_time());
    panel.send(ALICE, "50001", &["09122222222"], "second").await;
    let sent = panel.emulator.account_snapshot("alice").expect("alice").sent;
    let times: Vec<String> = sent.iter().map(|message| message.sent_at.to_string()).collect();
    assert_eq!(times, ["2024-03-20T10:00:00", "2024-03-20T10:00:00"]);
    panel.advance(7200);
    panel.send(ALICE, "50001", &["09123333333"], "third").await;
    let sent = panel.emulator.account_snapshot("alice").expect("alice").sent;
    assert_eq!(sent[2].sent_at.to_string(), "2024-03-20T11:00:00");
    panel.emulator.shutdown().await;
}
