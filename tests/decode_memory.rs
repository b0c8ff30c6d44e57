//! Decoding a reply of the largest allowed size stays within a small multiple of
//! that size, whatever the reply's shape: a server (or whatever answers in its
//! place) cannot make the client allocate without bound.
//!
//! Its own test binary: it measures the process's peak heap with a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use payamak::transport::{HttpResponse, MemoryTransport};
use payamak::{Client, Error, Folder, RetryPolicy};

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size - layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// One test at a time: the peak is the process's.
static SERIAL: Mutex<()> = Mutex::new(());

const SIZE: usize = 4 * 1024 * 1024;
/// The client's reply limit in these tests: every reply fits.
const LIMIT: usize = SIZE + 64 * 1024;

/// The peak heap while a client whose reply limit is `LIMIT` receives and
/// decodes `text` as the answer to GetNewMessagesList, above what was allocated
/// before; and how many messages it read.
fn peak_while_receiving(text: &str) -> (usize, Result<usize, Error>) {
    let body = text.to_owned();
    let transport = MemoryTransport::new(move |_| {
        Ok(HttpResponse::new(200, body.clone()).header("Content-Type", "text/xml; charset=utf-8"))
    });
    let client = Client::builder()
        .base_url("http://panel.test/post/")
        .credentials("demo", "a-longer-password")
        .transport(transport)
        .max_response_bytes(LIMIT)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let result = runtime.block_on(client.messages(Folder::New, None)).map(|messages| messages.len());
    (PEAK.load(Ordering::SeqCst) - before, result)
}

fn envelope(payload: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body><GetNewMessagesListResponse xmlns="http://tempuri.org/"><GetNewMessagesListResult>{payload}</GetNewMessagesListResult></GetNewMessagesListResponse></soap:Body></soap:Envelope>"#
    )
}

/// `unit` repeated to about `size` bytes.
fn repeated(unit: &str, size: usize) -> String {
    unit.repeat(size / unit.len())
}

#[test]
fn hostile_shapes_stay_within_a_small_multiple_of_their_size() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let units = [
        ("tiny elements", "<a/>"),
        ("tiny elements with text", "<a>1</a>"),
        ("many attributes", r#"<a b="" c="" d="" e="" f="" g=""/>"#),
        ("nil rows", r#"<Message xsi:nil="true"/>"#),
        ("empty rows", "<Message/>"),
        ("long text", "x"),
        ("entities", "&amp;"),
    ];
    // At the limit, and at the sizes just within the reader's node budget.
    let mut shapes = Vec::new();
    for (shape, unit) in units {
        for size in [SIZE, SIZE / 2, SIZE / 4] {
            let payload = repeated(unit, size);
            let payload = if unit.starts_with('<') { payload } else { format!("<a>{payload}</a>") };
            shapes.push((format!("{shape}, {} KiB", size / 1024), envelope(&payload)));
        }
    }
    let mut over = Vec::new();
    for (shape, text) in &shapes {
        let (peak, result) = peak_while_receiving(text);
        let ratio = peak as f64 / LIMIT as f64;
        eprintln!("{shape}: {} bytes in, peak {peak} bytes ({ratio:.1}× the limit): {result:?}", text.len());
        if ratio > 8.0 {
            over.push(format!("{shape}: {ratio:.1}×"));
        }
    }
    assert!(over.is_empty(), "receiving a reply peaked above 8× the reply limit: {over:?}");
}

#[test]
fn a_real_reply_decodes_within_a_small_multiple_of_its_size() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let row = r#"<Message><MsgID>1000001</MsgID><MsgType>1</MsgType><Body>سلام، این یک پیام آزمایشی است</Body><SendDate>2024-03-20T08:00:00</SendDate><Sender>09121234567</Sender><Receiver>5000123456</Receiver><Parts>1</Parts><IsRead>false</IsRead></Message>"#;
    // Three quarters of the limit: denser replies of that size are refused (see the reader's node budget).
    let text = envelope(&row.repeat(SIZE * 3 / 4 / row.len()));
    let (peak, rows) = peak_while_receiving(&text);
    assert_eq!(rows.expect("a real reply decodes"), SIZE * 3 / 4 / row.len());
    let ratio = peak as f64 / LIMIT as f64;
    eprintln!("real rows: {} bytes in, peak {peak} bytes ({ratio:.1}× the limit)", text.len());
    assert!(ratio <= 8.0, "{ratio:.1}×");
}
