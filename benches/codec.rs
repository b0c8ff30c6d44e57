//! Decoding and encoding speed, each against a baseline measured in the same run.
//!
//! `decode_10k_messages`: a `GetNewMessagesList` response with 10,000 messages,
//! decoded into typed `Message`s, against quick-xml reading every event of the
//! same bytes (the floor of any XML decoding) and roxmltree parsing them (a
//! tree, nothing typed). `encode_send_sms_100`:
//! a SendSms envelope with 100 recipients, against copying the same bytes.
//!
//! Run: `cargo bench --bench codec` (results and ratios: docs/benchmarks.md).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use payamak::codegen::{decode_response, encode_request, encode_response};
use payamak::incoming_messages::{GetNewMessagesListRequest, GetNewMessagesListResponse, Message};
use payamak::send::SendSmsRequest;
use payamak::Credentials;
use payamak::{PanelDateTime, SoapVersion};

fn inbox_response(messages: usize) -> String {
    let first: PanelDateTime = "2024-03-20T08:00:00".parse().expect("date");
    let rows = (0..messages)
        .map(|i| {
            Some(Message {
                msg_id: 9_000_000_000 + i as i64,
                msg_type: 1,
                body: Some(format!("سلام، این پیام شماره {i} است. Hello #{i} & <welcome>")),
                send_date: PanelDateTime::from(first.tehran() + chrono::Duration::seconds(i as i64)),
                sender: Some(format!("0912{:07}", i)),
                receiver: Some("5000123456".to_owned()),
                parts: 1,
                is_read: i % 3 == 0,
                ..Default::default()
            })
        })
        .collect();
    let response = GetNewMessagesListResponse { get_new_messages_list_result: Some(rows), ..Default::default() };
    encode_response::<GetNewMessagesListRequest>(&response, SoapVersion::V11).expect("encode")
}

fn send_request(recipients: usize) -> SendSmsRequest {
    SendSmsRequest {
        to: Some((0..recipients).map(|i| Some(format!("0912{:07}", i))).collect()),
        from: Some("5000123456".to_owned()),
        text: Some("یادآوری: جلسه فردا ساعت ۱۰ صبح برگزار می‌شود.".to_owned()),
        isflash: false,
        udh: Some(String::new()),
        rec_id: Some(Vec::new()),
        status: Some(Vec::new()),
        ..Default::default()
    }
}

fn decode(c: &mut Criterion) {
    let text = inbox_response(10_000);
    let mut group = c.benchmark_group("decode_10k_messages");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(30);
    group.bench_function(BenchmarkId::new("baseline", "quick_xml_tokens"), |b| {
        b.iter(|| {
            // Every event of the document, nothing kept: the floor of any XML decoding.
            let mut reader = quick_xml::Reader::from_str(std::hint::black_box(&text));
            let mut events = 0usize;
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break events,
                    Ok(_) => events += 1,
                    Err(error) => panic!("the benchmark's document is well formed: {error}"),
                }
            }
        })
    });
    group.bench_function(BenchmarkId::new("baseline", "roxmltree_parse"), |b| {
        b.iter(|| roxmltree::Document::parse(std::hint::black_box(&text)).expect("parse").root().children().count())
    });
    group.bench_function(BenchmarkId::new("payamak", "decode_response"), |b| {
        b.iter(|| {
            let response = decode_response::<GetNewMessagesListRequest>(std::hint::black_box(&text)).expect("decode");
            response.get_new_messages_list_result.map_or(0, |rows| rows.len())
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let request = send_request(100);
    let credentials = Credentials::new("demo", "demo");
    let encoded = encode_request(&request, SoapVersion::V11, Some(&credentials)).expect("encode");
    let mut group = c.benchmark_group("encode_send_sms_100");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function(BenchmarkId::new("baseline", "copy_output"), |b| {
        b.iter(|| std::hint::black_box(&encoded).clone())
    });
    group.bench_function(BenchmarkId::new("payamak", "encode_request"), |b| {
        b.iter(|| encode_request(std::hint::black_box(&request), SoapVersion::V11, Some(&credentials)).expect("encode"))
    });
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
