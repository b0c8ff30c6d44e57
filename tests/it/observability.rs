//! Each call gets a tracing span with operation, endpoint, SOAP version,
//! duration and result code; envelopes are logged at trace level with the
//! password replaced.

use std::io::Write;
use std::sync::{Arc, Mutex};

use payamak::Sms;

use crate::support::{envelope11, Network, Reply, NETS};

const PASSWORD: &str = "top-secret-پسورد";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn calls_are_traced_without_the_password() {
    // The panel echoes the password in an element the client ignores: the trace of the reply must not show it.
    let reply = format!(
        r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>1</SendSmsResult><recId><long>77</long></recId><status>AA==</status><Echo>{PASSWORD}</Echo></SendSmsResponse>"#
    );
    let reply = reply.as_str();
    for net in NETS {
        traced_without_the_password(Network::new(net), reply);
    }
}

fn traced_without_the_password(network: Network, reply: &str) {
    let server = network.server(vec![Reply::soap11(envelope11(reply))]);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let client = network.client().base_url(server.base_url()).credentials("demo", PASSWORD).build().unwrap();
            let sms = Sms::new("5000123456", "hi").to(["09121234567"]).unwrap();
            client.send(&sms).await.unwrap();
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains(PASSWORD), "password in the logs:\n{logs}");
    assert!(logs.contains("<password>***</password>"), "no redacted envelope:\n{logs}");
    for field in
        ["payamak.call", "operation=\"SendSms\"", "soap_version=SOAP 1.1", "endpoint=", "duration_ms=", "result_code=1"]
    {
        assert!(logs.contains(field), "{field} missing:\n{logs}");
    }
}
