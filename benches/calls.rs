//! Call loops against a static loopback server, beside a bare reqwest loop posting
//! the same bytes.
//!
//! `cargo bench --bench calls [-- SECONDS]` (default 3 s per row, run in ten
//! turns taken in rotation, so that load changes weigh on every row alike): one client
//! calls GetCredit, then SendSms to 100 recipients, back to back, against a
//! server that answers every request with the same canned reply. The baseline
//! for each is a `reqwest::Client` posting the very envelope payamak sends
//! (built once) and reading the whole body: HTTP alone. The ratio is payamak's
//! calls per second over the baseline's, measured in the same run. SendSms is
//! also compared with a bare loop that opens a new connection for each call:
//! payamak never sends a call that is not retry-safe over an idle pooled
//! connection, since a server may have closed it (and a failed write would
//! leave the send's outcome unknown).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use payamak::codegen::{encode_request, encode_response};
use payamak::send::{GetCreditRequest, GetCreditResponse, SendSmsRequest, SendSmsResponse};
use payamak::{Client, Credentials, Sms, SoapVersion};

const RECIPIENTS: usize = 100;

/// A server answering GetCredit and SendSms with canned replies, by SOAPAction.
async fn static_server() -> SocketAddr {
    let credit = GetCreditResponse { get_credit_result: 1234.5, ..Default::default() };
    let credit = encode_response::<GetCreditRequest>(&credit, SoapVersion::V11).expect("encode");
    let sent = SendSmsResponse {
        send_sms_result: 1,
        rec_id: Some((1..=RECIPIENTS as i64).collect()),
        status: Some(vec![0; RECIPIENTS]),
        ..Default::default()
    };
    let sent = encode_response::<SendSmsRequest>(&sent, SoapVersion::V11).expect("encode");
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let is_send = headers.get("SOAPAction").is_some_and(|action| action.as_bytes().ends_with(b"SendSms\""));
        let body = if is_send { sent.clone() } else { credit.clone() };
        async move { ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// One loop of calls: a closure making the next call.
type Loop<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

/// Runs each loop back to back for `duration` in all, in turns of
/// `duration / ROUNDS`, so that a change in the machine's load weighs on every
/// loop alike: calls per second of each.
async fn rates(duration: Duration, loops: &mut [Loop<'_>]) -> Vec<f64> {
    const ROUNDS: u32 = 10;
    let turn = duration / ROUNDS;
    for call in loops.iter_mut() {
        for _ in 0..50 {
            call().await;
        }
    }
    let mut calls = vec![0u64; loops.len()];
    let mut spent = vec![Duration::ZERO; loops.len()];
    for _ in 0..ROUNDS {
        for (index, call) in loops.iter_mut().enumerate() {
            let started = Instant::now();
            while started.elapsed() < turn {
                call().await;
                calls[index] += 1;
            }
            spent[index] += started.elapsed();
        }
    }
    calls.iter().zip(&spent).map(|(&calls, spent)| calls as f64 / spent.as_secs_f64()).collect()
}

/// A bare reqwest loop posting `body` with `action` to `url` (over pooled
/// keep-alive connections, or a new connection for each call).
fn bare<'a>(url: &'a str, action: &'static str, body: String, pooled: bool) -> Loop<'a> {
    let http = if pooled {
        reqwest::Client::new()
    } else {
        reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client")
    };
    Box::new(move || {
        let request = http
            .post(url)
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", action)
            .body(body.clone());
        Box::pin(async move {
            let response = request.send().await.expect("the server answers");
            let bytes = response.bytes().await.expect("a body");
            assert!(!bytes.is_empty());
        })
    })
}

fn report(name: &str, payamak: f64, baseline: f64) {
    println!(
        "{name:>16}: {payamak:>8.0} calls/s, baseline {baseline:>8.0} calls/s: {:.2}× the baseline",
        payamak / baseline
    );
}

/// `--only ROW CALLS`: run row ROW (0–4, in the order of `loops`) CALLS times, for a profiler.
fn profile_row() -> Option<(usize, u64)> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == "--only")?;
    Some((args.get(at + 1)?.parse().ok()?, args.get(at + 2)?.parse().ok()?))
}

fn main() {
    let seconds = std::env::args().skip(1).find_map(|arg| arg.parse::<u64>().ok()).unwrap_or(3);
    let duration = Duration::from_secs(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let address = static_server().await;
        let base = format!("http://{address}/post/");
        let url = format!("{base}send.asmx");
        let client = Client::builder().base_url(&base).credentials("demo", "demo").build().expect("client");
        let credentials = Credentials::new("demo", "demo");

        let credit_body =
            encode_request(&GetCreditRequest::default(), SoapVersion::V11, Some(&credentials)).expect("encode");
        let numbers: Vec<String> = (0..RECIPIENTS).map(|i| format!("0912{i:07}")).collect();
        let sms = Sms::new("5000123456", "یادآوری: جلسه فردا ساعت ۱۰").to(&numbers).expect("numbers");
        let send_request = SendSmsRequest {
            to: Some(numbers.iter().cloned().map(Some).collect()),
            from: Some("5000123456".to_owned()),
            text: Some(sms.text().to_owned()),
            ..Default::default()
        };
        let send_body = encode_request(&send_request, SoapVersion::V11, Some(&credentials)).expect("encode");
        let send_action = "\"http://tempuri.org/SendSms\"";
        let (client, sms) = (&client, &sms);
        let mut loops: Vec<Loop<'_>> = vec![
            bare(&url, "\"http://tempuri.org/GetCredit\"", credit_body, true),
            Box::new(move || {
                Box::pin(async move {
                    client.credit().await.expect("credit");
                })
            }),
            bare(&url, send_action, send_body.clone(), true),
            bare(&url, send_action, send_body, false),
            Box::new(move || {
                Box::pin(async move {
                    client.send(sms).await.expect("send");
                })
            }),
        ];
        if let Some((row, calls)) = profile_row() {
            // For a profiler: one row, a fixed number of calls.
            for _ in 0..calls {
                loops[row]().await;
            }
            return;
        }
        let [credit_bare, credit, send_bare, send_bare_fresh, send] = rates(duration, &mut loops).await[..] else {
            unreachable!("one rate per loop")
        };

        println!("one client, calls back to back against a static loopback server, {seconds} s per row");
        report("GetCredit", credit, credit_bare);
        report("SendSms(100)", send, send_bare);
        // SendSms is not retry-safe, so payamak never sends it over an idle pooled
        // connection (a server may have closed it): the floor with that policy.
        report("SendSms(100)", send, send_bare_fresh);
        println!("                  (the second SendSms baseline opens a new connection for each call, as payamak does for SendSms)");
    });
}
