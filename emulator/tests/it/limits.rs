//! The server's limits: idle, slow and greedy clients cannot starve the others.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use payamak_emulator::{Emulator, RunningEmulator, ServerLimits};

const TIMEOUT: Duration = Duration::from_millis(300);

fn emulator(limits: ServerLimits) -> RunningEmulator {
    Emulator::builder().limits(limits).start_blocking().expect("the emulator starts")
}

fn quick() -> ServerLimits {
    ServerLimits::default().header_timeout(TIMEOUT).body_timeout(TIMEOUT)
}

fn connect(emulator: &RunningEmulator) -> TcpStream {
    let stream = TcpStream::connect(emulator.local_addr()).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("read timeout");
    stream
}

/// Reads until the server closes the connection; returns what it sent and how long that took.
fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("the server did not close the connection: {error}"),
        }
    }
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

const GET_CREDIT: &str = "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
    <GetCredit xmlns=\"http://tempuri.org/\"><username>demo</username><password>demo</password></GetCredit>\
    </soap:Body></soap:Envelope>";

fn post(body: &str) -> String {
    format!(
        "POST /post/send.asmx HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n\
         SOAPAction: \"http://tempuri.org/GetCredit\"\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let emulator = emulator(quick());
    let mut idle = connect(&emulator);
    let (_, waited) = read_until_closed(&mut idle);
    assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_its_answer() {
    let emulator = emulator(quick());
    let mut stream = connect(&emulator);
    stream.write_all(post(GET_CREDIT).as_bytes()).expect("send");
    let (answer, waited) = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("<GetCreditResult>"), "{answer}");
    assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
}

#[test]
fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let emulator = emulator(quick());
    let mut stream = connect(&emulator);
    let started = Instant::now();
    for byte in post(GET_CREDIT).bytes().take(60) {
        if stream.write_all(&[byte]).is_err() {
            break; // closed by the server
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let (answer, _) = read_until_closed(&mut stream);
    assert!(!answer.contains("<GetCreditResult>"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4), "cut off after {:?}", started.elapsed());
}

#[test]
fn a_body_that_never_comes_is_cut_off() {
    let emulator = emulator(quick());
    let mut stream = connect(&emulator);
    let request = post(GET_CREDIT);
    stream.write_all(&request.as_bytes()[..request.len() - 40]).expect("send");
    let (answer, waited) = read_until_closed(&mut stream);
    assert!(!answer.contains("<GetCreditResult>"), "{answer}");
    assert!(waited < Duration::from_secs(3), "cut off after {waited:?}");
}

#[test]
fn idle_connections_cannot_starve_a_client() {
    let emulator = emulator(quick().max_connections(4));
    let idle: Vec<TcpStream> = (0..40).map(|_| connect(&emulator)).collect();
    let client = payamak::Client::builder()
        .base_url(emulator.base_url())
        .credentials("demo", "demo")
        .timeout(Duration::from_secs(10))
        .build_blocking()
        .expect("client");
    let started = Instant::now();
    assert_eq!(client.credit().expect("served once idle connections are closed"), 10_000.0);
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    drop(idle);
}

#[test]
fn a_request_too_dense_to_decode_within_bounds_is_refused() {
    let emulator = emulator(quick());
    let padding = "<a/>".repeat(200_000);
    let body = GET_CREDIT.replace("<username>", &format!("{padding}<username>"));
    let mut stream = connect(&emulator);
    stream.write_all(post(&body).as_bytes()).expect("send");
    let (answer, _) = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 500"), "{}", &answer[..answer.len().min(300)]);
    assert!(answer.contains("elements, attributes and text nodes"), "{}", &answer[..answer.len().min(600)]);
}
