//! A scripted HTTP/1.1 server on loopback: each connection gets the next scripted reply.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer with this status, content type and body.
    Http { status: u16, content_type: &'static str, body: String },
    /// Read the whole request, then close the connection without answering.
    Drop,
    /// Answer with headers announcing `declared` bytes but send only `body`, then close.
    Truncated { declared: usize, body: String },
    /// Answer with a redirect to `location`.
    Redirect { status: u16, location: String },
    /// Answer 503 with `Retry-After`, as IIS does for a stopped application pool.
    Unavailable { retry_after: u32 },
}

impl Reply {
    pub fn soap11(body: impl Into<String>) -> Self {
        Reply::Http { status: 200, content_type: "text/xml; charset=utf-8", body: body.into() }
    }

    pub fn soap12(body: impl Into<String>) -> Self {
        Reply::Http { status: 200, content_type: "application/soap+xml; charset=utf-8", body: body.into() }
    }
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// A server answering with `replies` in order (the last one repeats).
pub struct ScriptedServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl ScriptedServer {
    pub fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let reply = replies.get(index).or(replies.last()).cloned();
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(stream, reply, &log));
            }
        });
        ScriptedServer { addr, received }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/post/", self.addr)
    }
}

fn serve(stream: TcpStream, reply: Option<Reply>, log: &Mutex<Vec<Received>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    log.lock().expect("log lock").push(Received { path, headers, body: String::from_utf8_lossy(&body).into_owned() });
    let mut stream = stream;
    match reply {
        None | Some(Reply::Drop) => {}
        Some(Reply::Http { status, content_type, body }) => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
        Some(Reply::Unavailable { retry_after }) => {
            let head = format!(
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {retry_after}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
        }
        Some(Reply::Redirect { status, location }) => {
            let head = format!(
                "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
        }
        Some(Reply::Truncated { declared, body }) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    }
    let _ = stream.flush();
}

/// A loopback address where nothing listens (a connection to it is refused).
pub fn closed_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}/post/")
}

/// Wraps a payload in a SOAP 1.1 response envelope.
pub fn envelope11(payload: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>{payload}</soap:Body></soap:Envelope>"#
    )
}

/// Wraps a payload in a SOAP 1.2 response envelope.
pub fn envelope12(payload: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap12:Body>{payload}</soap12:Body></soap12:Envelope>"#
    )
}

/// How scripted servers are reached: over loopback HTTP (the reqwest
/// transport) or through a `MemoryTransport` (no network at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Loopback,
    Memory,
}

/// Both ways, for tests that must hold over either transport.
pub const NETS: [Net; 2] = [Net::Loopback, Net::Memory];

/// Scripted servers on one network, and clients that reach them.
pub struct Network {
    net: Net,
    /// In memory: each server's script and log by host.
    hosts: Arc<Mutex<Vec<MemoryHost>>>,
    transport: Option<payamak::transport::MemoryTransport>,
}

struct MemoryHost {
    host: String,
    replies: Vec<Reply>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Nothing listens: connections are refused.
    closed: bool,
}

/// A scripted server on a [`Network`].
pub struct Server {
    base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    _loopback: Option<ScriptedServer>,
}

impl Server {
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("log lock").clone()
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("(the failure above was over the {:?} network)", self.net);
        }
    }
}

impl Network {
    pub fn new(net: Net) -> Self {
        let hosts: Arc<Mutex<Vec<MemoryHost>>> = Arc::default();
        let transport = (net == Net::Memory).then(|| {
            let hosts = Arc::clone(&hosts);
            payamak::transport::MemoryTransport::new(move |request| answer(&hosts, request))
        });
        Network { net, hosts, transport }
    }

    /// A server answering with `replies` in order (the last one repeats).
    pub fn server(&self, replies: Vec<Reply>) -> Server {
        match self.net {
            Net::Loopback => {
                let server = ScriptedServer::start(replies);
                Server { base_url: server.base_url(), received: Arc::clone(&server.received), _loopback: Some(server) }
            }
            Net::Memory => self.memory_host(replies, false),
        }
    }

    /// A base URL where nothing listens.
    pub fn closed_base_url(&self) -> String {
        match self.net {
            Net::Loopback => closed_base_url(),
            Net::Memory => self.memory_host(Vec::new(), true).base_url,
        }
    }

    fn memory_host(&self, replies: Vec<Reply>, closed: bool) -> Server {
        let mut hosts = self.hosts.lock().expect("hosts lock");
        let host = format!("server{}.test", hosts.len() + 1);
        let received = Arc::new(Mutex::new(Vec::new()));
        hosts.push(MemoryHost { host: host.clone(), replies, received: Arc::clone(&received), closed });
        Server { base_url: format!("http://{host}/post/"), received, _loopback: None }
    }

    /// A client builder that reaches this network's servers.
    pub fn client(&self) -> payamak::ClientBuilder {
        let builder = payamak::Client::builder();
        match &self.transport {
            Some(transport) => builder.transport(transport.clone()),
            None => builder,
        }
    }
}

/// What a memory host answers, as its loopback twin would.
fn answer(
    hosts: &Mutex<Vec<MemoryHost>>,
    request: &payamak::transport::HttpRequest<'_>,
) -> Result<payamak::transport::HttpResponse, payamak::transport::PostError> {
    use payamak::transport::{HttpResponse, PostError};
    let url = url::Url::parse(request.url).map_err(PostError::request)?;
    let hosts = hosts.lock().expect("hosts lock");
    let Some(host) = hosts.iter().find(|host| Some(host.host.as_str()) == url.host_str()) else {
        return Err(PostError::connect(std::io::Error::other("no such host")));
    };
    if host.closed {
        return Err(PostError::connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)));
    }
    let mut received = host.received.lock().expect("log lock");
    let reply = host.replies.get(received.len()).or(host.replies.last()).cloned();
    received.push(Received {
        path: url.path().to_owned(),
        headers: request.headers.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
        body: String::from_utf8_lossy(request.body).into_owned(),
    });
    match reply {
        None | Some(Reply::Drop) => Err(PostError::io(true, std::io::Error::other("closed without an answer"))),
        Some(Reply::Truncated { .. }) => Err(PostError::io(true, std::io::Error::other("closed in the body"))),
        Some(Reply::Http { status, content_type, body }) => {
            Ok(HttpResponse::new(status, body).header("Content-Type", content_type))
        }
        Some(Reply::Redirect { status, location }) => Ok(HttpResponse::new(status, "").header("Location", location)),
        Some(Reply::Unavailable { retry_after }) => {
            Ok(HttpResponse::new(503, "").header("Retry-After", retry_after.to_string()))
        }
    }
}

/// A panel on loopback that answers each SendSms (accepting every recipient) and
/// then closes the connection without `Connection: close`, as an IIS recycle or
/// a proxy does; it counts the messages each number received.
pub struct ClosingPanel {
    pub addr: SocketAddr,
    received: Arc<Mutex<std::collections::HashMap<String, usize>>>,
}

impl ClosingPanel {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let received: Arc<Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
        let counts = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let counts = Arc::clone(&counts);
                std::thread::spawn(move || answer_and_close(stream, &counts));
            }
        });
        ClosingPanel { addr, received }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/post/", self.addr)
    }

    /// How many messages `number` received.
    pub fn received(&self, number: &str) -> usize {
        self.received.lock().expect("counts lock").get(number).copied().unwrap_or(0)
    }
}

fn answer_and_close(stream: TcpStream, counts: &Mutex<std::collections::HashMap<String, usize>>) {
    use payamak::send::{SendSmsRequest, SendSmsResponse};
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            if key.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(&body);
    let Ok(decoded) =
        payamak::server::RequestEnvelope::parse(&text).and_then(|envelope| envelope.decode::<SendSmsRequest>())
    else {
        return;
    };
    let numbers: Vec<String> = decoded.request.to.unwrap_or_default().into_iter().flatten().collect();
    {
        let mut counts = counts.lock().expect("counts lock");
        for number in &numbers {
            *counts.entry(number.clone()).or_default() += 1;
        }
    }
    let rec_ids = (1..=numbers.len() as i64).collect();
    let response = SendSmsResponse {
        send_sms_result: 1,
        rec_id: Some(rec_ids),
        status: Some(vec![0; numbers.len()]),
        ..Default::default()
    };
    let body = payamak::server::encode_response::<SendSmsRequest>(&response, decoded.version).expect("encodes");
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n", body.len());
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
    let _ = stream.flush();
    // Closed a moment later: long enough for the client to take the connection back into its pool.
    std::thread::sleep(Duration::from_millis(5));
}

/// A client of an in-memory panel: `answer` gets each request's body, untried
/// again (no retries), so a test sees every call it makes.
pub fn memory_client(
    answer: impl Fn(&[u8]) -> Result<payamak::transport::HttpResponse, payamak::transport::PostError>
        + Send
        + Sync
        + 'static,
) -> payamak::Client {
    payamak::Client::builder()
        .base_url("http://panel.test/post/")
        .credentials("demo", "demo")
        .retry_policy(payamak::RetryPolicy::none())
        .transport(payamak::transport::MemoryTransport::new(move |request| answer(request.body)))
        .build()
        .expect("a client of an in-memory panel")
}
