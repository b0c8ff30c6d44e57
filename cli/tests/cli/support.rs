//! Running the built `payamak` binary against an emulator started in the test process.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use payamak_emulator::{DeliveryTiming, Emulator, EmulatorBuilder, RunningEmulator};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_payamak");

/// An emulator with the demo account, on its own thread.
pub fn emulator() -> RunningEmulator {
    emulator_with(Emulator::builder())
}

/// An emulator from `builder`, on its own thread.
pub fn emulator_with(builder: EmulatorBuilder) -> RunningEmulator {
    builder.start_blocking().expect("the emulator starts")
}

/// Deliveries that become final within a second, refreshable every second.
pub fn fast_deliveries() -> DeliveryTiming {
    DeliveryTiming {
        reach_operator_after: Duration::from_millis(100),
        final_after: Duration::from_millis(300),
        update_interval: Duration::from_secs(1),
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// stdout, as text.
    pub stdout: String,
    /// stderr, as text.
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Self {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// stdout as the one JSON document `--json` promises.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!("stdout is not one JSON document ({error}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// A temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory.
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("payamak-cli-{}-{unique}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the temp dir");
        TempDir(path)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment: no PAYAMAK_* variables, no user config file, no colours.
pub fn payamak(home: &TempDir) -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "PAYAMAK_ENDPOINT",
        "PAYAMAK_USERNAME",
        "PAYAMAK_PASSWORD",
        "RUST_LOG",
        "PAYAMAK_TEST_CRASH",
        "PAYAMAK_TEST_JOURNAL_FAIL",
        "PAYAMAK_TEST_BATCH_DELAY_MS",
        "PAYAMAK_TEST_PEAK_MEMORY",
    ] {
        command.env_remove(name);
    }
    command.env("HOME", home.path()).env("XDG_CONFIG_HOME", home.join("config")).env("NO_COLOR", "1");
    command.current_dir(home.path());
    command
}

/// The binary pointed at `emulator` with the demo account.
pub fn against(emulator: &RunningEmulator, home: &TempDir) -> Command {
    let mut command = payamak(home);
    command.args(["--endpoint", &emulator.base_url(), "--user", "demo", "--password", "demo"]);
    command
}

/// Runs `command` with stdin closed.
pub fn run(command: &mut Command) -> Run {
    Run::from_output(command.stdin(Stdio::null()).output().expect("the binary runs"))
}

/// Runs `command` with `input` on stdin.
pub fn run_with_stdin(command: &mut Command, input: &str) -> Run {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    Run::from_output(child.wait_with_output().expect("the binary ends"))
}

/// How many messages each number received from `username`'s account.
pub fn sent_counts(emulator: &RunningEmulator, username: &str) -> BTreeMap<String, usize> {
    let snapshot = emulator.account_snapshot(username).expect("the account exists");
    let mut counts = BTreeMap::new();
    for sent in &snapshot.sent {
        *counts.entry(sent.to.clone()).or_default() += 1;
    }
    counts
}

/// `count` distinct valid numbers, 09120000001 and up.
pub fn numbers(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("0912{n:07}")).collect()
}

/// Writes a CSV with a header and `numbers`, one per row (with a name column).
pub fn write_csv(path: &Path, numbers: &[String]) {
    let mut text = String::from("name,mobile\n");
    for (index, number) in numbers.iter().enumerate() {
        text.push_str(&format!("customer {index},{number}\n"));
    }
    std::fs::write(path, text).expect("write the CSV");
}

/// A local port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}

/// A server that reads each request and hangs up without answering: the
/// request may have been carried out, but the client never learns the outcome.
/// Returns its base URL; it serves `connections` connections, then stops.
pub fn hang_up_server(connections: usize) -> String {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/post/", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            let mut request = Vec::new();
            let mut buffer = [0u8; 8192];
            // Read until the envelope is complete (or the client stops sending).
            while let Ok(read @ 1..) = stream.read(&mut buffer) {
                request.extend_from_slice(&buffer[..read]);
                if request.windows(10).any(|window| {
                    window.eq_ignore_ascii_case(b"envelope>\r") || window.eq_ignore_ascii_case(b":envelope>")
                }) {
                    break;
                }
            }
            drop(stream);
        }
    });
    url
}

/// A plain HTTP/1.1 request to `url` (`http://host:port/path`): the status and the body.
pub fn http(method: &str, url: &str, content_type: Option<&str>, body: &str) -> (u16, String) {
    use std::io::Read as _;
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    if let Some(content_type) = content_type {
        request.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status line");
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// Starts `payamak --json emulator ARGS` and reads the JSON document it prints first.
pub fn spawn_emulator(home: &TempDir, args: &[&str]) -> (std::process::Child, serde_json::Value) {
    use std::io::BufRead as _;
    let mut child = payamak(home)
        .args(["--json", "emulator"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut document = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).is_ok_and(|read| read > 0) {
        document.push_str(&std::mem::take(&mut line));
        if let Ok(value) = serde_json::from_str(&document) {
            return (child, value);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the emulator printed no JSON document: {document}");
}

/// A panel stand-in answering every request with `answer(request)`: a status and a SOAP
/// body. Returns its base URL; it serves `connections` connections, then stops.
pub fn canned_server(connections: usize, answer: impl Fn(&str) -> (u16, String) + Send + 'static) -> String {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/post/", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut request = Vec::new();
            let mut buffer = [0u8; 8192];
            while let Ok(read @ 1..) = stream.read(&mut buffer) {
                request.extend_from_slice(&buffer[..read]);
                if request
                    .windows(11)
                    .any(|window| window.eq_ignore_ascii_case(b"envelope>\r\n") || window.ends_with(b"Envelope>"))
                {
                    break;
                }
            }
            let (status, body) = answer(&String::from_utf8_lossy(&request));
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

/// A child's stderr, read line by line.
pub type Stderr = std::io::BufReader<std::process::ChildStderr>;

/// Starts `command` (stdout and stderr piped) and waits for its first line on stderr;
/// keep the returned stderr open for as long as the child runs.
pub fn spawn_until_stderr_line(command: &mut Command) -> (std::process::Child, String, Stderr) {
    use std::io::BufRead as _;
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    let _ = stderr.read_line(&mut line);
    (child, line, stderr)
}

/// A server that answers every request with HTTP 200 and the SOAP 1.1 envelope
/// around `payload`. Returns its base URL.
pub fn answering_server(payload: &str) -> String {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{payload}</soap:Body></soap:Envelope>"#
    );
    canned_server(usize::MAX, move |_| (200, body.clone()))
}
