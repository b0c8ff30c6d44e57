//! `fetch` against a loopback HTTP server.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;

use super::support::TempDir;
use crate::fetch::fetch;

const WSDL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" targetNamespace="http://tempuri.org/" />
"#;
const HTML: &str = "<!DOCTYPE html>\n<html><body><h1>Runtime Error</h1></body></html>\n";
const ENVELOPE: &str =
    r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body /></soap:Envelope>"#;

/// `(path, status, content type, body)`.
type Route = (&'static str, u16, &'static str, &'static str);

/// Serves `routes` on a loopback port until the process ends; returns `http://127.0.0.1:<port>`.
fn serve(routes: Vec<Route>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("stream clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|read| read > 2) {
                header.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let (status, content_type, body) = routes
                .iter()
                .find(|route| route.0 == path)
                .map_or((404, "text/plain", "not found"), |route| (route.1, route.2, route.3));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

fn files_in(dir: &TempDir) -> usize {
    std::fs::read_dir(dir.path()).map_or(0, |entries| entries.count())
}

#[test]
fn both_wsdls_are_written() {
    let base = serve(vec![
        ("/post/send.asmx?WSDL", 200, "text/xml; charset=utf-8", WSDL),
        ("/post/IncomingMessages.asmx?WSDL", 200, "text/xml; charset=utf-8", WSDL),
    ]);
    let out = TempDir::new("fetch-good");
    let written = fetch(&format!("{base}/post/"), out.path()).expect("fetch succeeds");
    assert_eq!(written, [out.path().join("send.wsdl"), out.path().join("incoming_messages.wsdl")]);
    assert_eq!(std::fs::read_to_string(out.path().join("incoming_messages.wsdl")).expect("written"), WSDL);
}

#[test]
fn an_html_page_is_refused_and_nothing_is_written() {
    let base = serve(vec![
        ("/post/send.asmx?WSDL", 200, "text/xml", WSDL),
        ("/post/IncomingMessages.asmx?WSDL", 200, "text/html; charset=utf-8", HTML),
    ]);
    let out = TempDir::new("fetch-html");
    let message = format!("{:#}", fetch(&format!("{base}/post"), out.path()).expect_err("fetch fails"));
    assert!(message.contains(&format!("{base}/post/IncomingMessages.asmx?WSDL: not a WSDL")), "{message}");
    assert!(message.contains("text/html"), "{message}");
    assert!(message.contains("Runtime Error"), "{message}");
    assert_eq!(files_in(&out), 0, "nothing is written unless both are valid");
}

#[test]
fn a_server_error_is_refused_and_nothing_is_written() {
    let base = serve(vec![("/send.asmx?WSDL", 500, "text/html", HTML)]);
    let out = TempDir::new("fetch-500");
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(message.contains(&format!("{base}/send.asmx?WSDL: HTTP 500")), "{message}");
    assert_eq!(files_in(&out), 0);
}

#[test]
fn xml_that_is_not_a_wsdl_is_refused() {
    let base = serve(vec![
        ("/send.asmx?WSDL", 200, "text/xml", ENVELOPE),
        ("/IncomingMessages.asmx?WSDL", 200, "text/xml", WSDL),
    ]);
    let out = TempDir::new("fetch-envelope");
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(message.contains("the root element is {http://schemas.xmlsoap.org/soap/envelope/}Envelope"), "{message}");
    assert_eq!(files_in(&out), 0);
}

#[test]
fn a_wsdl_the_generator_refuses_is_refused_and_nothing_is_written() {
    const RPC: &str = include_str!("../../tests/fixtures/errors/encoded_use.wsdl");
    let base =
        serve(vec![("/send.asmx?WSDL", 200, "text/xml", WSDL), ("/IncomingMessages.asmx?WSDL", 200, "text/xml", RPC)]);
    let out = TempDir::new("fetch-rpc");
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(message.contains(&format!("{base}/IncomingMessages.asmx?WSDL: the generator cannot handle")), "{message}");
    assert!(message.contains(":30:9: unsupported use=\"encoded\""), "{message}");
    assert_eq!(files_in(&out), 0);
}

#[test]
fn no_temporary_files_are_left_behind() {
    let base =
        serve(vec![("/send.asmx?WSDL", 200, "text/xml", WSDL), ("/IncomingMessages.asmx?WSDL", 200, "text/xml", WSDL)]);
    let out = TempDir::new("fetch-temporaries");
    std::fs::write(out.path().join("send.wsdl"), "old").expect("old file");
    fetch(&format!("{base}/"), out.path()).expect("fetch succeeds");
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .expect("listed")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["incoming_messages.wsdl", "send.wsdl"]);
    assert_eq!(std::fs::read_to_string(out.path().join("send.wsdl")).expect("written"), WSDL);
}
