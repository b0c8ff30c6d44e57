//! `fetch` against a loopback HTTP server.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;

use super::support::{TempDir, FIXTURES};
use crate::fetch::{fetch, MAX_DOCUMENTS};
use crate::load::Files;
use crate::pipeline::{self, Input, Options};
use crate::regen::repo_root;

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
    assert!(message.contains(&format!("{base}/post/IncomingMessages.asmx?WSDL: not XML")), "{message}");
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

/// A fixture file's text, for the server to serve.
fn fixture(relative: &str) -> &'static str {
    let path = repo_root().join(FIXTURES).join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    Box::leak(text.into_boxed_str())
}

/// ASP.NET's forms (`?wsdl=wsdl1`, `?xsd=xsd0`, relative to the WSDL's URL) and a name no file should have.
const SEND_WITH_IMPORTS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://tempuri.org/">
  <wsdl:import namespace="http://tempuri.org/more" location="?wsdl=wsdl1" />
  <wsdl:types>
    <xs:schema targetNamespace="http://tempuri.org/">
      <xs:import namespace="urn:odd" schemaLocation="../odd name;x.xsd" />
    </xs:schema>
  </wsdl:types>
</wsdl:definitions>
"#;
const SEND_WSDL1: &str = r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://tempuri.org/more">
  <wsdl:types><xs:schema targetNamespace="http://tempuri.org/more"><xs:import namespace="urn:x" schemaLocation="send.asmx?xsd=xsd0" /></xs:schema></wsdl:types>
</wsdl:definitions>"#;
const SEND_XSD0: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x"><xs:include schemaLocation="?xsd=xsd0"/></xs:schema>"#;
const ODD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:odd" />"#;

fn names_in(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("listed")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn imports_are_followed_saved_beside_and_rewritten() {
    let base = serve(vec![
        ("/post/send.asmx?WSDL", 200, "text/xml", SEND_WITH_IMPORTS),
        ("/post/send.asmx?wsdl=wsdl1", 200, "text/xml", SEND_WSDL1),
        ("/post/send.asmx?xsd=xsd0", 200, "text/xml", SEND_XSD0),
        ("/odd%20name;x.xsd", 200, "application/xml", ODD),
        // The `imports` fixture, served as published: relative paths up and down.
        ("/post/IncomingMessages.asmx?WSDL", 200, "text/xml", fixture("imports/input.wsdl")),
        ("/post/interface/interface.wsdl", 200, "text/xml", fixture("imports/interface/interface.wsdl")),
        ("/post/schemas/orders.xsd", 200, "text/xml", fixture("imports/schemas/orders.xsd")),
        ("/post/schemas/order-types.xsd", 200, "text/xml", fixture("imports/schemas/order-types.xsd")),
        ("/post/schemas/common.xsd", 200, "text/xml", fixture("imports/schemas/common.xsd")),
    ]);
    let out = TempDir::new("fetch-imports");
    let written = fetch(&format!("{base}/post/"), out.path()).expect("fetch succeeds");
    assert_eq!(written.len(), 9, "{written:?}");
    assert_eq!(
        names_in(&out),
        [
            "incoming_messages.common.xsd",
            "incoming_messages.interface.wsdl",
            "incoming_messages.order-types.xsd",
            "incoming_messages.orders.xsd",
            "incoming_messages.wsdl",
            "send.odd_20name_x.xsd",
            "send.wsdl",
            "send.wsdl1.wsdl",
            "send.xsd0.xsd",
        ]
    );
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).expect("written");
    assert!(read("send.wsdl").contains(r#"location="send.wsdl1.wsdl""#));
    assert!(read("send.wsdl").contains(r#"schemaLocation="send.odd_20name_x.xsd""#));
    assert!(read("send.wsdl1.wsdl").contains(r#"schemaLocation="send.xsd0.xsd""#));
    assert!(read("send.xsd0.xsd").contains(r#"schemaLocation="send.xsd0.xsd""#), "an include of itself, kept");
    assert!(read("incoming_messages.orders.xsd").contains(r#"schemaLocation="incoming_messages.order-types.xsd""#));
    assert!(read("incoming_messages.order-types.xsd").contains(r#"schemaLocation="incoming_messages.orders.xsd""#));
    // The saved copies generate offline, as `regen` reads them.
    let files = Files { base: out.path().to_path_buf() };
    let input = Input { source: "incoming_messages.wsdl".to_owned(), text: read("incoming_messages.wsdl") };
    let options = Options { annotations: None, command: "test", strict: false, read: &files };
    let generated = pipeline::generate(&[input], &options).expect("the saved documents generate");
    let orders = generated.files.get("orders.rs").expect("the service module");
    assert!(orders.contains("pub struct PlaceOrderRequest"), "{orders}");
    assert!(orders.starts_with("//! @generated by `test` from incoming_messages.wsdl, incoming_messages.interface.wsdl, incoming_messages.orders.xsd, incoming_messages.order-types.xsd and incoming_messages.common.xsd."), "{orders}");
}

#[test]
fn an_import_that_is_not_xml_is_refused_and_nothing_is_written() {
    let importing = r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <wsdl:types><xs:schema><xs:import schemaLocation="types.xsd" /></xs:schema></wsdl:types></wsdl:definitions>"#;
    let base = serve(vec![
        ("/send.asmx?WSDL", 200, "text/xml", importing),
        ("/types.xsd", 200, "text/html", HTML),
        ("/IncomingMessages.asmx?WSDL", 200, "text/xml", WSDL),
    ]);
    let out = TempDir::new("fetch-import-html");
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(message.contains(&format!("{base}/send.asmx?WSDL: xsd:import of \"types.xsd\"")), "{message}");
    assert!(message.contains(&format!("{base}/types.xsd: not XML")), "{message}");
    assert_eq!(files_in(&out), 0);
    // An envelope is XML, but neither a WSDL nor a schema.
    let base = serve(vec![("/send.asmx?WSDL", 200, "text/xml", importing), ("/types.xsd", 200, "text/xml", ENVELOPE)]);
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(message.contains("neither a WSDL nor an XML Schema"), "{message}");
    assert_eq!(files_in(&out), 0);
}

#[test]
fn imports_are_bounded_in_count_and_scheme() {
    // Each schema imports the next, without end.
    let mut routes = vec![(
        "/send.asmx?WSDL",
        200,
        "text/xml",
        r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"><wsdl:import location="chain?xsd=0" /></wsdl:definitions>"#,
    )];
    for n in 0..MAX_DOCUMENTS + 2 {
        let path: &'static str = Box::leak(format!("/chain?xsd={n}").into_boxed_str());
        let body: &'static str = Box::leak(
            format!(r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:import schemaLocation="chain?xsd={}" /></xs:schema>"#, n + 1)
                .into_boxed_str(),
        );
        routes.push((path, 200, "text/xml", body));
    }
    let base = serve(routes);
    let out = TempDir::new("fetch-chain");
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(message.contains(&format!("more than {MAX_DOCUMENTS} documents to fetch")), "{message}");
    assert_eq!(files_in(&out), 0);
    // Only http and https are followed.
    let local = r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"><wsdl:import location="file:///etc/passwd" /></wsdl:definitions>"#;
    let base = serve(vec![("/send.asmx?WSDL", 200, "text/xml", local)]);
    let message = format!("{:#}", fetch(&format!("{base}/"), out.path()).expect_err("fetch fails"));
    assert!(
        message.contains("wsdl:import of \"file:///etc/passwd\": only http and https documents are fetched"),
        "{message}"
    );
    assert_eq!(files_in(&out), 0);
}
