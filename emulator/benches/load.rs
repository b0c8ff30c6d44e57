//! The emulator under load: SendSms to 100 recipients from 16 connections at once.
//!
//! `cargo bench -p payamak-emulator --bench load [-- SECONDS [client]]` prints the
//! latency percentiles and throughput of the emulator, and of a bare HTTP server
//! that answers every request with the same canned SendSms reply (the floor),
//! measured in the same run, as ratios; the CPU time the whole process spends per
//! call in each (the driver and the server share it); and the emulator's resident
//! memory before and after, to show it stays flat.
//!
//! The driver is light, so that the server has the machine's cores: 16 kept-alive
//! HTTP/1.1 connections, each posting the envelope `payamak::Client` sends
//! (encoded once) and reading the whole reply. With `client`, the driver is
//! the library's own `Client` instead (its encoding and decoding in both rows,
//! and a new connection per call, as it makes SendSms calls).
//!
//! The two rows take turns (`TURNS` each, in alternating order, SECONDS in all
//! per row), so that whatever else runs on the machine weighs on both alike.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use payamak::send::{SendSmsRequest, SendSmsResponse};
use payamak::{Client, Credentials, Sms, SoapVersion};
use payamak_emulator::{Account, Emulator};

const CONNECTIONS: usize = 16;
const RECIPIENTS: usize = 100;
/// Turns each row takes.
const TURNS: u32 = 10;

/// Latencies of every call, how long the row ran, and the process's CPU time meanwhile.
#[derive(Default)]
struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
    cpu: Duration,
}

impl Run {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU time of the process (client and server) per call, in µs.
    fn cpu_per_call(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.latencies.len().max(1) as f64
    }

    fn add(&mut self, turn: Run) {
        self.latencies.extend(turn.latencies);
        self.elapsed += turn.elapsed;
        self.cpu += turn.cpu;
    }
}

fn sms() -> Sms {
    let numbers: Vec<String> = (0..RECIPIENTS).map(|i| format!("0912{i:07}")).collect();
    Sms::new("5000123456", "یادآوری: جلسه فردا ساعت ۱۰").to(&numbers).expect("numbers")
}

/// How the load is driven.
#[derive(Clone, Copy, PartialEq)]
enum Driver {
    /// Kept-alive connections posting one encoded envelope.
    Light,
    /// `payamak::Client`.
    Client,
}

/// `CONNECTIONS` clients sending SendSms to `base_url` for `duration`.
async fn load(driver: Driver, base_url: &str, duration: Duration) -> Run {
    let sms = Arc::new(sms());
    let envelope = Bytes::from(envelope(&sms));
    let cpu = cpu_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let task = match driver {
            Driver::Light => tokio::spawn(light_connection(base_url.to_owned(), envelope.clone(), started, duration)),
            Driver::Client => {
                let client = Client::builder().base_url(base_url).credentials("load", "load").build().expect("client");
                let sms = sms.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while started.elapsed() < duration {
                        let call = Instant::now();
                        client.send(&sms).await.expect("the send is accepted");
                        latencies.push(call.elapsed());
                    }
                    latencies
                })
            }
        };
        tasks.push(task);
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a client task"));
    }
    Run { latencies, elapsed: started.elapsed(), cpu: cpu_time().saturating_sub(cpu) }
}

/// The SendSms envelope `payamak::Client` posts for `sms`.
fn envelope(sms: &Sms) -> String {
    let request = SendSmsRequest {
        to: Some(sms.recipients().iter().map(|number| Some(number.as_str().to_owned())).collect()),
        from: Some(sms.sender().to_owned()),
        text: Some(sms.text().to_owned()),
        isflash: sms.is_flash(),
        udh: Some(sms.user_data_header().unwrap_or_default().to_owned()),
        rec_id: Some(Vec::new()),
        status: Some(Vec::new()),
        ..Default::default()
    };
    let credentials = Credentials::new("load", "load");
    payamak::codegen::encode_request(&request, SoapVersion::V11, Some(&credentials)).expect("the request encodes")
}

/// One kept-alive connection posting `envelope` to `base_url`'s send.asmx until `duration`
/// has passed since `started`: each call's latency.
async fn light_connection(base_url: String, envelope: Bytes, started: Instant, duration: Duration) -> Vec<Duration> {
    let uri: Uri = format!("{base_url}send.asmx").parse().expect("a URI");
    let authority = uri.authority().expect("an authority").to_string();
    let stream = tokio::net::TcpStream::connect(authority.as_str()).await.expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("the HTTP handshake");
    tokio::spawn(connection);
    let mut latencies = Vec::new();
    while started.elapsed() < duration {
        let call = Instant::now();
        let request = Request::post(uri.path())
            .header(header::HOST, authority.as_str())
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", "\"http://tempuri.org/SendSms\"")
            .body(Full::new(envelope.clone()))
            .expect("a request");
        sender.ready().await.expect("the connection is ready");
        let response = sender.send_request(request).await.expect("the call is answered");
        let status = response.status();
        let body = response.into_body().collect().await.expect("the reply").to_bytes();
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        const ACCEPTED: &[u8] = b"<SendSmsResult>1</SendSmsResult>";
        assert!(
            body.windows(ACCEPTED.len()).any(|window| window == ACCEPTED),
            "the send is not accepted: {}",
            String::from_utf8_lossy(&body)
        );
        latencies.push(call.elapsed());
    }
    latencies
}

/// The CPU time this process has used, user and system, all threads (Linux; in clock
/// ticks of 10 ms, which a turn of thousands of calls makes fine enough).
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // After the command name, which is in parentheses: utime and stime are fields 14 and 15.
            let rest = stat.get(stat.rfind(')')? + 1..)?.to_owned();
            let fields: Vec<u64> = rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse().ok()).collect();
            Some(fields.iter().sum::<u64>())
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// A server answering every request with one canned SendSms reply.
async fn bare_server() -> SocketAddr {
    let reply = SendSmsResponse {
        send_sms_result: 1,
        rec_id: Some((1..=RECIPIENTS as i64).collect()),
        status: Some(vec![0; RECIPIENTS]),
        ..Default::default()
    };
    let body = payamak::server::encode_response::<SendSmsRequest>(&reply, SoapVersion::V11).expect("the reply encodes");
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// This process's resident memory, in MiB (Linux).
fn resident_mib() -> f64 {
    let pages: f64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1).and_then(|field| field.parse().ok()))
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn report(name: &str, run: &Run, baseline: &Run) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:>9}: {:>6} calls, {:>7.0}/s ({:.2}× the baseline), p50 {:>6.2} ms ({:.2}×), p99 {:>6.2} ms ({:.2}×), \
         CPU {:>4.0} µs a call ({:.2}×)",
        run.latencies.len(),
        run.per_second(),
        run.per_second() / baseline.per_second(),
        ms(run.percentile(0.5)),
        ms(run.percentile(0.5)) / ms(baseline.percentile(0.5)),
        ms(run.percentile(0.99)),
        ms(run.percentile(0.99)) / ms(baseline.percentile(0.99)),
        run.cpu_per_call(),
        run.cpu_per_call() / baseline.cpu_per_call(),
    );
}

/// The two rows, taking turns: the baseline's and the emulator's, and the process's
/// resident memory before and after.
async fn measure(driver: Driver, baseline_url: &str, emulator_url: &str, turn: Duration) -> (Run, Run, f64, f64) {
    // Warm both up (connections, allocator, the emulator's first rows), then take turns.
    load(driver, baseline_url, Duration::from_millis(200)).await;
    load(driver, emulator_url, Duration::from_millis(200)).await;
    let before = resident_mib();
    let (mut baseline, mut run) = (Run::default(), Run::default());
    for index in 0..TURNS {
        if index % 2 == 0 {
            baseline.add(load(driver, baseline_url, turn).await);
            run.add(load(driver, emulator_url, turn).await);
        } else {
            run.add(load(driver, emulator_url, turn).await);
            baseline.add(load(driver, baseline_url, turn).await);
        }
    }
    (baseline, run, before, resident_mib())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds = args.iter().find_map(|arg| arg.parse::<u64>().ok()).unwrap_or(10);
    let driver = if args.iter().any(|arg| arg == "client") { Driver::Client } else { Driver::Light };
    // The servers run on a runtime of their own (as the emulator does in its own process),
    // the driver on one thread beside them; `shared` runs the driver on the servers' runtime.
    let shared = args.iter().any(|arg| arg == "shared");
    let workers = args.iter().find_map(|arg| arg.strip_prefix("workers=")?.parse::<usize>().ok());
    let turn = Duration::from_secs(seconds) / TURNS;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = workers {
        builder.worker_threads(workers.max(1));
    }
    let servers = builder.enable_all().build().expect("the servers' runtime");
    let (baseline_url, emulator) = servers.block_on(async {
        let baseline_url = format!("http://{}/post/", bare_server().await);
        let emulator = Emulator::builder()
            .without_demo()
            .account(Account::new("load", "load").credit(1e15).sender("5000123456"))
            .start()
            .await
            .expect("the emulator starts");
        (baseline_url, emulator)
    });
    let emulator_url = emulator.base_url();
    let measured = measure(driver, &baseline_url, &emulator_url, turn);
    let (baseline, run, before, after) = if shared {
        servers.block_on(measured)
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("the driver's runtime");
        runtime.block_on(measured)
    };
    let driven = match driver {
        Driver::Light => "kept-alive connections",
        Driver::Client => "payamak clients",
    };
    let placed = if shared { "sharing the servers' runtime" } else { "on a thread of its own" };
    println!(
        "SendSms to {RECIPIENTS} recipients from {CONNECTIONS} {driven} ({placed}), {seconds} s a row in {TURNS} turns"
    );
    report("baseline", &baseline, &baseline);
    report("emulator", &run, &baseline);
    println!(
        "emulator resident memory: {before:.0} MiB before, {after:.0} MiB after {} recipients sent ({:.2}×)",
        run.latencies.len() * RECIPIENTS,
        after / before
    );
    servers.block_on(emulator.shutdown());
}
