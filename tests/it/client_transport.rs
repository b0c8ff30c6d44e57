//! The client against scripted servers: headers, failover, retries, and every
//! way a reply can be unusable. Each test runs twice: over loopback HTTP with
//! the reqwest transport, and through an in-memory transport with no network.

use std::time::Duration;

use payamak::error::FaultCode;
use payamak::error::{ResponseErrorKind, TransportErrorKind};
use payamak::{Client, Error, RetryPolicy, Sms, SoapVersion};

use crate::support::{envelope11, envelope12, Network, Reply, NETS};

const PASSWORD: &str = "hunter2-secret";

const CREDIT_11: &str =
    r#"<GetCreditResponse xmlns="http://tempuri.org/"><GetCreditResult>1234.5</GetCreditResult></GetCreditResponse>"#;

fn client(network: &Network, base_urls: &[String], version: SoapVersion) -> Client {
    network
        .client()
        .base_urls(base_urls.iter().cloned())
        .credentials("demo", PASSWORD)
        .soap_version(version)
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        })
        .build()
        .expect("client")
}

fn sms() -> Sms {
    Sms::new("5000123456", "سلام").to(["09121234567", "09127654321"]).expect("numbers")
}

fn assert_no_password(error: &Error) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(PASSWORD), "password leaked: {shown}");
}

#[tokio::test]
async fn soap11_sends_text_xml_and_a_quoted_soapaction() {
    for net in NETS {
        let network = Network::new(net);
        let server = network.server(vec![Reply::soap11(envelope11(CREDIT_11))]);
        let credit = client(&network, &[server.base_url()], SoapVersion::V11).credit().await.expect("credit");
        assert_eq!(credit, 1234.5);
        let request = &server.requests()[0];
        assert_eq!(request.path, "/post/send.asmx");
        assert_eq!(request.header("content-type"), Some("text/xml; charset=utf-8"));
        assert_eq!(request.header("soapaction"), Some("\"http://tempuri.org/GetCredit\""));
        assert!(request.body.contains("<username>demo</username>"), "{}", request.body);
    }
}

#[tokio::test]
async fn soap12_puts_the_action_in_the_content_type() {
    for net in NETS {
        let network = Network::new(net);
        let server = network.server(vec![Reply::soap12(envelope12(CREDIT_11))]);
        let credit = client(&network, &[server.base_url()], SoapVersion::V12).credit().await.expect("credit");
        assert_eq!(credit, 1234.5);
        let request = &server.requests()[0];
        assert_eq!(
            request.header("content-type"),
            Some("application/soap+xml; charset=utf-8; action=\"http://tempuri.org/GetCredit\"")
        );
        assert_eq!(request.header("soapaction"), None);
        assert!(request.body.contains("http://www.w3.org/2003/05/soap-envelope"));
    }
}

#[tokio::test]
async fn send_is_not_retried_after_its_bytes_were_sent() {
    for net in NETS {
        let network = Network::new(net);
        let first = network.server(vec![Reply::Drop]);
        let second = network.server(vec![Reply::soap11(envelope11("<x/>"))]);
        let error =
            client(&network, &[first.base_url(), second.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        assert!(matches!(error, Error::OutcomeUnknown(_)), "{error:?}");
        assert!(error.to_string().contains("may or may not have been sent"), "{error}");
        assert!(!error.is_retryable());
        assert_eq!(first.requests().len(), 1, "exactly one request reached the first server");
        assert_eq!(second.requests().len(), 0, "the send must not fail over once sent");
        assert_no_password(&error);
    }
}

#[tokio::test]
async fn send_fails_over_when_no_connection_was_made() {
    for net in NETS {
        let network = Network::new(net);
        let ok = r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>1</SendSmsResult><recId><long>11</long><long>12</long></recId><status>AAA=</status></SendSmsResponse>"#;
        let server = network.server(vec![Reply::soap11(envelope11(ok))]);
        let report = client(&network, &[network.closed_base_url(), server.base_url()], SoapVersion::V11)
            .send(&sms())
            .await
            .expect("send");
        assert_eq!(report.rec_ids(), [11, 12]);
        assert!(report.all_accepted());
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    for net in NETS {
        let network = Network::new(net);
        let other = network.server(vec![Reply::soap11(envelope11("<x/>"))]);
        let location = format!("{}send.asmx", other.base_url());
        let server = network.server(vec![Reply::Redirect { status: 307, location: location.clone() }]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        let Error::Response(response) = &error else { panic!("{error:?}") };
        assert_eq!(response.kind, ResponseErrorKind::Redirected { status: 307, location: Some(location) });
        assert!(other.requests().is_empty(), "the request must not reach the redirect target");
        assert_no_password(&error);
    }
}

#[tokio::test]
async fn a_server_fault_on_send_means_the_outcome_is_unknown() {
    for net in NETS {
        let network = Network::new(net);
        let fault =
            "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Timeout expired</faultstring></soap:Fault>";
        let server =
            network.server(vec![Reply::Http { status: 500, content_type: "text/xml", body: envelope11(fault) }]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        assert!(matches!(error, Error::OutcomeUnknown(_)), "{error:?}");
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_client_fault_on_send_is_definite() {
    for net in NETS {
        let network = Network::new(net);
        let fault = "<soap:Fault><faultcode>soap:Client.Deserialization</faultcode><faultstring>Server was unable to read request.</faultstring></soap:Fault>";
        let server =
            network.server(vec![Reply::Http { status: 500, content_type: "text/xml", body: envelope11(fault) }]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        let Error::Response(response) = &error else { panic!("{error:?}") };
        assert_eq!(response.fault().map(|fault| &fault.code), Some(&FaultCode::Sender));
        assert!(!error.is_retryable());
    }
}

#[tokio::test]
async fn new_messages_are_not_fetched_twice_after_a_lost_answer() {
    for net in NETS {
        let network = Network::new(net);
        let server = network.server(vec![Reply::Drop]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).new_messages(None).await.unwrap_err();
        assert!(matches!(error, Error::OutcomeUnknown(_)), "{error:?}");
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn an_unknown_send_code_is_reported_not_refused() {
    for net in NETS {
        let network = Network::new(net);
        let reply = r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>42</SendSmsResult><recId><long>9</long><long>10</long></recId></SendSmsResponse>"#;
        let server = network.server(vec![Reply::soap11(envelope11(reply))]);
        let client = client(&network, &[server.base_url()], SoapVersion::V11);
        let report = client.send(&sms()).await.unwrap();
        assert_eq!(report.status, payamak::status_codes::SendStatus::Unknown(42));
        let bulk = client.send_bulk(&sms()).await.unwrap();
        assert!(bulk.recipients.iter().all(|r| r.outcome == payamak::bulk::BulkOutcome::Unconfirmed), "{bulk:?}");
    }
}

#[tokio::test]
async fn reads_are_retried_and_fail_over() {
    for net in NETS {
        let network = Network::new(net);
        let flaky = network.server(vec![Reply::Http { status: 503, content_type: "text/html", body: "busy".into() }]);
        let healthy = network.server(vec![Reply::soap11(envelope11(CREDIT_11))]);
        let credit =
            client(&network, &[flaky.base_url(), healthy.base_url()], SoapVersion::V11).credit().await.expect("credit");
        assert_eq!(credit, 1234.5);
        assert_eq!((flaky.requests().len(), healthy.requests().len()), (1, 1));
    }
}

#[tokio::test]
async fn reads_give_up_after_the_retry_budget() {
    for net in NETS {
        let network = Network::new(net);
        let server = network.server(vec![Reply::Drop]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).credit().await.unwrap_err();
        assert!(matches!(&error, Error::Transport(e) if e.kind == TransportErrorKind::Io), "{error:?}");
        assert_eq!(server.requests().len(), 3);
    }
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    for net in NETS {
        let network = Network::new(net);
        let error = client(&network, &[network.closed_base_url()], SoapVersion::V11).credit().await.unwrap_err();
        assert!(matches!(&error, Error::Transport(e) if e.kind == TransportErrorKind::Connect), "{error:?}");
        assert!(error.is_retryable());
        assert_no_password(&error);
    }
}

async fn response_error(network: &Network, reply: Reply, version: SoapVersion) -> ResponseErrorKind {
    let server = network.server(vec![reply]);
    let client = network
        .client()
        .base_url(server.base_url())
        .credentials("demo", PASSWORD)
        .soap_version(version)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    match client.credit().await {
        Err(Error::Response(error)) => {
            assert!(!error.to_string().contains(PASSWORD));
            error.kind
        }
        other => panic!("expected a response error, got {other:?}"),
    }
}

#[tokio::test]
async fn soap11_fault_with_http_500() {
    for net in NETS {
        let network = Network::new(net);
        let fault = r#"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server was unable to read request. ---&gt; There is an error in XML document (1, 2).</faultstring><detail><x>1</x></detail></soap:Fault>"#;
        let kind = response_error(
            &network,
            Reply::Http { status: 500, content_type: "text/xml; charset=utf-8", body: envelope11(fault) },
            SoapVersion::V11,
        )
        .await;
        let ResponseErrorKind::Fault(fault) = kind else { panic!("{kind:?}") };
        assert_eq!(fault.code, FaultCode::Sender);
        assert_eq!(fault.raw_codes, ["soap:Client"]);
        assert!(fault.reason.starts_with("Server was unable to read request. --->"));
        // Standalone: an unqualified detail says so, so it stays unqualified wherever it is embedded.
        assert_eq!(fault.detail.as_deref(), Some(r#"<detail xmlns=""><x>1</x></detail>"#));
    }
}

#[tokio::test]
async fn soap12_fault_with_subcode() {
    for net in NETS {
        let network = Network::new(net);
        let fault = r#"<soap12:Fault><soap12:Code><soap12:Value>soap12:Receiver</soap12:Value><soap12:Subcode><soap12:Value xmlns:a="urn:a">a:Busy</soap12:Value></soap12:Subcode></soap12:Code><soap12:Reason><soap12:Text xml:lang="en">Server error</soap12:Text></soap12:Reason><soap12:Detail /></soap12:Fault>"#;
        let kind = response_error(
            &network,
            Reply::Http { status: 500, content_type: "application/soap+xml; charset=utf-8", body: envelope12(fault) },
            SoapVersion::V12,
        )
        .await;
        let ResponseErrorKind::Fault(fault) = kind else { panic!("{kind:?}") };
        assert_eq!(fault.code, FaultCode::Receiver);
        assert_eq!(fault.raw_codes, ["soap12:Receiver", "a:Busy"]);
        assert_eq!(fault.reason, "Server error");
    }
}

#[tokio::test]
async fn html_error_page_is_an_http_status_error() {
    for net in NETS {
        let network = Network::new(net);
        let kind = response_error(
            &network,
            Reply::Http { status: 404, content_type: "text/html", body: "<html><body>Not Found</body></html>".into() },
            SoapVersion::V11,
        )
        .await;
        assert!(
            matches!(&kind, ResponseErrorKind::HttpStatus { status: 404, body_excerpt, .. } if body_excerpt.contains("Not Found")),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn html_page_with_200_is_the_wrong_content_type() {
    for net in NETS {
        let network = Network::new(net);
        let kind = response_error(
            &network,
            Reply::Http {
                status: 200,
                content_type: "text/html; charset=utf-8",
                body: "<!DOCTYPE html><html><p>Login</p></html>".into(),
            },
            SoapVersion::V11,
        )
        .await;
        assert!(
            matches!(&kind, ResponseErrorKind::UnexpectedContentType { content_type, .. } if content_type.starts_with("text/html")),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn truncated_body_is_never_a_success() {
    for net in NETS {
        let network = Network::new(net);
        let body = envelope11(CREDIT_11);
        let cut = body[..body.len() / 2].to_owned();
        let server = network.server(vec![Reply::Truncated { declared: body.len(), body: cut }]);
        let client = network
            .client()
            .base_url(server.base_url())
            .credentials("demo", PASSWORD)
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("client");
        let error = client.credit().await.unwrap_err();
        assert!(matches!(error, Error::Transport(_) | Error::Response(_)), "{error:?}");
    }
}

#[tokio::test]
async fn a_complete_but_cut_document_is_undecodable_with_a_position() {
    for net in NETS {
        let network = Network::new(net);
        let body = envelope11(CREDIT_11);
        let kind = response_error(&network, Reply::soap11(body[..body.len() - 30].to_owned()), SoapVersion::V11).await;
        let ResponseErrorKind::Undecodable(error) = kind else { panic!("{kind:?}") };
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}

#[tokio::test]
async fn the_wrong_response_element_is_named() {
    for net in NETS {
        let network = Network::new(net);
        let kind = response_error(
            &network,
            Reply::soap11(envelope11(r#"<GetDeliveryResponse xmlns="http://tempuri.org/"><GetDeliveryResult>1</GetDeliveryResult></GetDeliveryResponse>"#)),
            SoapVersion::V11,
        )
        .await;
        let ResponseErrorKind::Undecodable(error) = kind else { panic!("{kind:?}") };
        let text = error.to_string();
        assert!(
            text.contains("{http://tempuri.org/}GetCreditResponse") && text.contains("GetDeliveryResponse"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn oversized_replies_are_refused() {
    for net in NETS {
        let network = Network::new(net);
        let server = network.server(vec![Reply::soap11(envelope11(CREDIT_11))]);
        let client = network
            .client()
            .base_url(server.base_url())
            .credentials("demo", PASSWORD)
            .max_response_bytes(64)
            .build()
            .expect("client");
        let error = client.credit().await.unwrap_err();
        assert!(
            matches!(&error, Error::Response(e) if matches!(e.kind, ResponseErrorKind::TooLarge { limit: 64 })),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn rejected_send_names_the_code_in_both_languages() {
    for net in NETS {
        let network = Network::new(net);
        let reply =
            r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>2</SendSmsResult></SendSmsResponse>"#;
        let server = network.server(vec![Reply::soap11(envelope11(reply))]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        let Error::Rejected(rejected) = &error else { panic!("{error:?}") };
        assert_eq!((rejected.code, rejected.english), (2, "insufficient credit"));
        assert_eq!(rejected.persian, "کمبود اعتبار");
        assert_no_password(&error);
    }
}

#[tokio::test]
async fn more_than_100_recipients_are_refused_before_sending() {
    for net in NETS {
        let network = Network::new(net);
        let numbers: Vec<String> = (0..101).map(|i| format!("0912{i:07}")).collect();
        let big = Sms::new("5000123456", "x").to(&numbers).expect("numbers");
        let server = network.server(vec![Reply::soap11(envelope11("<x/>"))]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).send(&big).await.unwrap_err();
        assert!(error.to_string().contains("at most 100"), "{error}");
        assert!(server.requests().is_empty());
    }
}

#[tokio::test]
async fn a_caller_supplied_client_that_follows_redirects_is_refused() {
    let network = Network::new(crate::support::Net::Loopback);
    let target = network.server(vec![Reply::soap11(envelope11(CREDIT_11))]);
    let location = format!("{}send.asmx", target.base_url());
    let server = network.server(vec![Reply::Redirect { status: 307, location: location.clone() }]);
    let client = Client::builder()
        .base_url(server.base_url())
        .credentials("demo", PASSWORD)
        .http_client(payamak::reqwest::Client::new())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let error = client.credit().await.unwrap_err();
    let Error::Response(response) = &error else { panic!("{error:?}") };
    assert_eq!(response.kind, ResponseErrorKind::Redirected { status: 200, location: Some(location) });
    assert_no_password(&error);
}

/// Counts the requests of the transport it wraps.
#[derive(Debug)]
struct Counting<T> {
    inner: T,
    posts: std::sync::atomic::AtomicUsize,
}

impl<T: payamak::transport::Transport> payamak::transport::Transport for Counting<T> {
    fn post<'a>(
        &'a self,
        request: payamak::transport::HttpRequest<'a>,
    ) -> payamak::transport::BoxFuture<'a, Result<payamak::transport::HttpResponse, payamak::transport::PostError>>
    {
        self.posts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.post(request)
    }
}

#[tokio::test]
async fn a_wrapped_transport_sees_every_attempt() {
    let network = Network::new(crate::support::Net::Loopback);
    let flaky = network.server(vec![Reply::Http { status: 503, content_type: "text/html", body: "busy".into() }]);
    let healthy = network.server(vec![Reply::soap11(envelope11(CREDIT_11))]);
    let inner = payamak::transport::ReqwestTransport::new(Duration::from_secs(2), "test").expect("transport");
    let counting = std::sync::Arc::new(Counting { inner, posts: Default::default() });
    let client = Client::builder()
        .base_urls([flaky.base_url(), healthy.base_url()])
        .credentials("demo", PASSWORD)
        .transport(counting.clone())
        .retry_policy(RetryPolicy { max_attempts: 2, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO })
        .build()
        .expect("client");
    assert_eq!(client.credit().await.expect("credit"), 1234.5);
    assert_eq!(counting.posts.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_connection_the_server_closed_never_makes_a_send_unknown() {
    let panel = crate::support::ClosingPanel::start();
    let client = Client::builder().base_url(panel.base_url()).credentials("demo", PASSWORD).build().expect("client");
    let numbers: Vec<String> = (0..1000).map(|i| format!("0912{i:07}")).collect();
    let sms = Sms::new("5000123456", "x").to(&numbers).expect("numbers");
    let report = client.send_bulk(&sms).await.expect("bulk");
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert_eq!(report.batches.len(), 10);
    assert!(report.is_complete());
    for number in &numbers {
        assert_eq!(panel.received(number), 1, "{number}");
    }
}

fn not_found() -> Reply {
    Reply::Http {
        status: 404,
        content_type: "text/html",
        body: "<html><body>The resource cannot be found.</body></html>".into(),
    }
}

#[tokio::test]
async fn a_send_the_server_did_not_run_moves_to_the_next_base_url() {
    for net in NETS {
        let network = Network::new(net);
        let ok = r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>1</SendSmsResult><recId><long>11</long><long>12</long></recId></SendSmsResponse>"#;
        let not_allowed = Reply::Http { status: 405, content_type: "text/html", body: String::new() };
        for first in [not_found(), not_allowed, Reply::Unavailable { retry_after: 30 }] {
            let wrong = network.server(vec![first]);
            let right = network.server(vec![Reply::soap11(envelope11(ok))]);
            let client = client(&network, &[wrong.base_url(), right.base_url()], SoapVersion::V11);
            let report = client.send(&sms()).await.expect("the send reaches the second base URL");
            assert_eq!(report.rec_ids(), [11, 12]);
            assert_eq!((wrong.requests().len(), right.requests().len()), (1, 1));
        }
        // With one base URL, IIS's 503 with Retry-After (the application is stopped) is a definite failure...
        let stopped = network.server(vec![Reply::Unavailable { retry_after: 30 }]);
        let error = client(&network, &[stopped.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        assert!(matches!(&error, Error::Response(response) if response.not_processed_here()), "{error:?}");
        // ...but a 503 without it may come from the method itself.
        let busy = network.server(vec![Reply::Http { status: 503, content_type: "text/html", body: "x".into() }]);
        let error = client(&network, &[busy.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        assert!(matches!(error, Error::OutcomeUnknown(_)), "{error:?}");
    }
}

#[tokio::test]
async fn a_send_answered_404_is_definitely_unsent_and_hints_at_the_base_url() {
    for net in NETS {
        let network = Network::new(net);
        let server = network.server(vec![not_found()]);
        let error = client(&network, &[server.base_url()], SoapVersion::V11).send(&sms()).await.unwrap_err();
        let Error::Response(response) = &error else { panic!("{error:?}") };
        assert!(response.not_processed_here());
        assert!(error.to_string().contains("`…/post/` prefix"), "{error}");
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_password_the_server_echoes_is_never_shown() {
    const PASSWORD: &str = "s3cret&<pw>";
    let escaped = "s3cret&amp;&lt;pw&gt;";
    let echoes = [
        Reply::Http { status: 500, content_type: "text/html", body: format!("<pre>password={PASSWORD}</pre>") },
        Reply::Http {
            status: 500,
            content_type: "text/xml",
            body: envelope11(&format!(
                "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>bad login {escaped}</faultstring>\
                 <detail><x>{escaped}</x></detail></soap:Fault>"
            )),
        },
        Reply::soap11(envelope11(&format!(
            r#"<GetCreditResponse xmlns="http://tempuri.org/"><GetCreditResult>{escaped}</GetCreditResult></GetCreditResponse>"#
        ))),
        Reply::Http { status: 200, content_type: "text/html", body: format!("<html>login as demo/{escaped}</html>") },
        Reply::Redirect { status: 302, location: "https://other.test/?p=s3cret%26%3Cpw%3E".to_owned() },
    ];
    for net in NETS {
        let network = Network::new(net);
        for echo in echoes.clone() {
            let server = network.server(vec![echo]);
            let client = network
                .client()
                .base_url(server.base_url())
                .credentials("demo", PASSWORD)
                .retry_policy(RetryPolicy::none())
                .build()
                .expect("client");
            let credit = client.credit().await.unwrap_err();
            let send = client.send(&sms()).await.unwrap_err();
            for error in [&credit, &send] {
                let shown = format!("{error} {error:?}");
                for form in [PASSWORD, escaped, "s3cret%26%3Cpw%3E"] {
                    assert!(!shown.contains(form), "{form} shown: {shown}");
                }
            }
            assert!(credit.to_string().contains("***"), "the echo is shown scrubbed: {credit}");
        }
    }
}
