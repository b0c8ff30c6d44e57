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

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("log lock").clone()
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
