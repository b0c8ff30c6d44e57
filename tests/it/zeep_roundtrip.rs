//! The generated code against an independent stack, one construct per test:
//! zeep builds a request envelope from values and the generated code decodes
//! exactly those values; the generated code encodes a response and zeep reads
//! the same values back. The fixtures are `xtask/tests/fixtures/<case>/`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use payamak::codegen::{decode_request, encode_response, Decimal, HexBinary, QName, XmlRequest};
use payamak::SoapVersion;
use serde_json::{json, Value};

use crate::generator_fixtures::anonymous_types_golden::anonymous;
use crate::generator_fixtures::attributes_golden::attributes;
use crate::generator_fixtures::builtins_golden::builtins;
use crate::generator_fixtures::choice_golden::choices;
use crate::generator_fixtures::defaults_golden::defaults;
use crate::generator_fixtures::groups_and_lists_golden::groups;
use crate::generator_fixtures::raw_xml_golden::raw;
use crate::generator_fixtures::recursion_golden::recursion;
use crate::interop::{python, repo_root};

/// What zeep made of a call: the request envelope it built and the response values it read.
struct Zeep {
    request: String,
    response: Value,
}

/// Runs `tests/interop/roundtrip.py` on a fixture; `None` when zeep is not configured.
fn zeep(case: &str, operation: &str, args: Value, response: &str) -> Option<Zeep> {
    zeep_call(case, operation, args, response, false)
}

/// [`zeep`], reading the response as zeep's call would: the output message from the whole body.
fn zeep_reply(case: &str, operation: &str, args: Value, response: &str) -> Option<Zeep> {
    zeep_call(case, operation, args, response, true)
}

fn zeep_call(case: &str, operation: &str, args: Value, response: &str, reply: bool) -> Option<Zeep> {
    let python = python()?;
    let root = repo_root();
    let wsdl = root.join("xtask/tests/fixtures").join(case).join("input.wsdl");
    let call = json!({ "wsdl": wsdl, "operation": operation, "args": args, "response": response, "reply": reply });
    let mut child = Command::new(python)
        .arg(root.join("tests/interop/roundtrip.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roundtrip.py");
    child.stdin.take().expect("stdin").write_all(call.to_string().as_bytes()).expect("write the call");
    let output = child.wait_with_output().expect("roundtrip.py finishes");
    assert!(output.status.success(), "roundtrip.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut result: Value = serde_json::from_slice(&output.stdout).expect("roundtrip.py prints JSON");
    let request = result["request"].as_str().expect("a request envelope").to_owned();
    Some(Zeep { request, response: result["response"].take() })
}

/// Decodes zeep's request as `R`, asserting it holds `expected`.
fn assert_decodes<R: XmlRequest + PartialEq + std::fmt::Debug>(envelope: &str, expected: &R) {
    let decoded = decode_request::<R>(envelope).unwrap_or_else(|error| panic!("{error}: {envelope}"));
    assert_eq!(&decoded.request, expected, "{envelope}");
}

fn response_envelope<R: XmlRequest>(response: &R::Response) -> String {
    encode_response::<R>(response, SoapVersion::V11).expect("the response encodes")
}

fn sample_values() -> builtins::Values {
    builtins::Values {
        decimal: "-1234567890.0123456789".parse::<Decimal>().expect("a decimal"),
        integer: i128::MIN,
        negative_integer: -5,
        non_positive_integer: 0,
        non_negative_integer: u128::MAX,
        positive_integer: 7,
        short: -32768,
        byte: -128,
        unsigned_short: 65535,
        unsigned_long: u64::MAX,
        float: 1.5,
        date: "2024-01-31+03:30".parse().expect("a date"),
        time: "14:30:00.125Z".parse().expect("a time"),
        duration: "P1Y2M3DT4H5M6.5S".parse().expect("a duration"),
        any_uri: "http://example.com/a?b=c&d".into(),
        qname: QName::new("http://schemas.xmlsoap.org/soap/envelope/", "Server"),
        hex_binary: HexBinary(vec![0, 0xAB, 0xFF]),
        token: "a token".into(),
        normalized_string: "normal string".into(),
        nmtoken: "nm-token".into(),
        letter: 'ش',
        id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        price: Some(payamak::Nillable::Value("12.50".parse().expect("a decimal"))),
    }
}

/// The sample values as zeep takes and gives them.
fn sample_json() -> Value {
    json!({
        "decimal": { "decimal": "-1234567890.0123456789" },
        "integer": { "integer": i128::MIN.to_string() },
        "negativeInteger": -5,
        "nonPositiveInteger": 0,
        "nonNegativeInteger": { "integer": u128::MAX.to_string() },
        "positiveInteger": 7,
        "short": -32768,
        "byte": -128,
        "unsignedShort": 65535,
        "unsignedLong": u64::MAX,
        "float": 1.5,
        "date": "2024-01-31+03:30",
        "time": "14:30:00.125Z",
        "duration": "P1Y2M3DT4H5M6.5S",
        "anyURI": "http://example.com/a?b=c&d",
        "qname": "soap-env:Server",
        "hexBinary": "00ABFF",
        "token": "a token",
        "normalizedString": "normal string",
        "nmtoken": "nm-token",
        "letter": u32::from('ش'),
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "price": { "decimal": "12.50" },
    })
}

#[test]
fn builtin_types_round_trip_through_zeep() {
    let values = sample_values();
    let response = builtins::EchoResponse { echo_result: Some(values.clone()) };
    let envelope = response_envelope::<builtins::EchoRequest>(&response);
    let Some(zeep) = zeep("builtins", "Echo", json!({ "values": sample_json() }), &envelope) else { return };
    assert_decodes(&zeep.request, &builtins::EchoRequest { values: Some(values) });
    let mut expected = sample_json();
    // zeep reads a QName as written; ours is written with the prefix the writer declares.
    expected["qname"] = json!("q:Server");
    // zeep normalises what it reads back.
    expected["date"] = json!("2024-01-31");
    expected["time"] = json!("14:30:00.125000+00:00");
    assert_eq!(zeep.response, json!({ "EchoResult": expected }), "{envelope}");
    assert!(
        envelope.contains(r#"<qname xmlns:q="http://schemas.xmlsoap.org/soap/envelope/">q:Server</qname>"#),
        "{envelope}"
    );
}

#[test]
fn recursive_types_round_trip_through_zeep() {
    use payamak::Nillable;
    use recursion::{Company, EchoRequest, EchoResponse, Node, Person};
    let node = |id, next: Option<Node>| Node { id, next: next.map(Box::new) };
    let nodes = node(1, Some(node(2, Some(node(3, None)))));
    let sara = Person { name: Some("Sara".into()), employer: Some(Nillable::Nil) };
    let acme = Company { name: Some("Acme".into()), owner: Some(Box::new(sara)) };
    let ali = Person { name: Some("Ali".into()), employer: Some(Nillable::Value(acme)) };
    let response = EchoResponse { node: Some(nodes.clone()), person: Some(ali.clone()) };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({
        "node": { "id": 1, "next": { "id": 2, "next": { "id": 3, "next": null } } },
        "person": { "name": "Ali", "employer": { "name": "Acme", "owner": { "name": "Sara", "employer": null } } },
    });
    let Some(zeep) = zeep("recursion", "Echo", values.clone(), &envelope) else { return };
    // zeep leaves an absent optional element out (it never writes nil for None).
    let sara = Person { employer: None, ..ali.clone() };
    let sara = Person { name: Some("Sara".into()), ..sara };
    let acme = Company { name: Some("Acme".into()), owner: Some(Box::new(sara)) };
    let expected =
        EchoRequest { node: Some(nodes), person: Some(Person { employer: Some(Nillable::Value(acme)), ..ali }) };
    assert_decodes(&zeep.request, &expected);
    assert!(envelope.contains(r#"<employer xsi:nil="true" />"#), "{envelope}");
    // zeep reads a nil complex element as an empty one (its issue #753).
    let mut expected = values;
    expected["person"]["employer"]["owner"]["employer"] = json!({ "name": null, "owner": null });
    assert_eq!(zeep.response, expected, "{envelope}");
}

#[test]
fn any_any_type_and_element_references_round_trip_through_zeep() {
    use payamak::codegen::RawXml;
    use raw::{EchoRequest, EchoResponse, Open};
    let extra = |n: u8| format!(r#"<x:extra xmlns:x="urn:x">{n}</x:extra>"#);
    let raw = |markup: &str| RawXml::new(markup).expect("well-formed");
    let open = Open { kind: "k".into(), any: vec![raw(&extra(1)), raw(&extra(2))] };
    let response = EchoResponse {
        open: Some(open.clone()),
        payload: Some(raw(r#"<payload xmlns="http://tempuri.org/">text</payload>"#)),
        note: Some("hello".into()),
        ..Default::default()
    };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({
        "open": { "kind": "k", "_value_1": [{ "xml": extra(1) }, { "xml": extra(2) }] },
        "payload": "text",
        "note": "hello",
    });
    let Some(zeep) = zeep("raw_xml", "Echo", values, &envelope) else { return };
    let decoded = decode_request::<EchoRequest>(&zeep.request).unwrap_or_else(|error| panic!("{error}")).request;
    let items: Vec<Option<String>> =
        decoded.open.as_ref().map(|open| open.any.iter().map(RawXml::name).collect()).unwrap_or_default();
    assert_eq!(items, [Some("{urn:x}extra".to_owned()), Some("{urn:x}extra".to_owned())], "{}", zeep.request);
    // Each element read from zeep's envelope is standalone: it reads back as itself.
    for item in &decoded.open.as_ref().expect("open").any {
        assert_eq!(&raw(item.as_str()), item);
    }
    let payload = decoded.payload.expect("the anyType element");
    assert_eq!(payload.name().as_deref(), Some("{http://tempuri.org/}payload"));
    assert!(payload.as_str().ends_with(">text</ns0:payload>"), "{payload:?}");
    assert_eq!(decoded.note.as_deref(), Some("hello"));
    // zeep shows what it read as lxml serialises it, with the namespaces in scope.
    let mut response = zeep.response;
    for item in response["open"]["_value_1"].as_array_mut().expect("the any elements") {
        let markup = item.as_str().expect("markup").to_owned();
        let read = raw(&markup);
        let text = markup.split_once('>').and_then(|(_, rest)| rest.split_once('<')).map(|(text, _)| text.to_owned());
        *item = json!([read.name(), text]);
    }
    let item = |n: u8| json!(["{urn:x}extra", n.to_string()]);
    assert_eq!(
        response,
        json!({
            "open": { "kind": "k", "_value_1": [item(1), item(2)] },
            "table": null,
            "payload": "text",
            "untyped": null,
            "note": "hello",
        }),
        "{envelope}"
    );
}

/// zeep can neither build nor read a .NET DataSet (an inline schema and a diffgram), so this
/// construct is checked against what ASP.NET sends.
#[test]
fn a_dataset_result_is_kept_as_xml() {
    use raw::{EchoRequest, EchoResponse};
    let envelope = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><EchoResponse xmlns="http://tempuri.org/"><table><xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata"><xs:element name="NewDataSet" msdata:IsDataSet="true" /></xs:schema><diffgr:diffgram xmlns:msdata="urn:schemas-microsoft-com:xml-msdata" xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1"><NewDataSet xmlns=""><Table diffgr:id="Table1" msdata:rowOrder="0"><ID>1</ID></Table></NewDataSet></diffgr:diffgram></table></EchoResponse></soap:Body></soap:Envelope>"#;
    let response: EchoResponse = payamak::codegen::decode_response::<EchoRequest>(envelope).expect("decodes");
    let table = response.table.clone().expect("the DataSet");
    assert_eq!(table.schema.name().as_deref(), Some("{http://www.w3.org/2001/XMLSchema}schema"));
    assert!(table.any.as_str().contains(r#"<Table diffgr:id="Table1" msdata:rowOrder="0"><ID>1</ID></Table>"#));
    let again = response_envelope::<EchoRequest>(&response);
    let reread: EchoResponse = payamak::codegen::decode_response::<EchoRequest>(&again).expect("decodes");
    assert_eq!(reread, response, "{again}");
}

#[test]
fn anonymous_types_at_any_depth_round_trip_through_zeep() {
    use anonymous::{
        EchoOrder, EchoOrderLine, EchoOrderLineStatus, EchoRequest, EchoResponse, EchoResponseOrder, Order, OrderNote,
    };
    let order = EchoOrder {
        id: 7,
        line: vec![
            EchoOrderLine { sku: Some("A-1".into()), status: EchoOrderLineStatus::Open },
            EchoOrderLine { sku: None, status: EchoOrderLineStatus::Shipped },
        ],
    };
    let response = EchoResponse {
        order: Some(EchoResponseOrder { id: 8 }),
        echo_result: Some(Order { id: 9, note: Some(OrderNote { text: Some("fragile".into()) }) }),
    };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({
        "order": { "id": 7, "line": [{ "sku": "A-1", "status": "open" }, { "sku": null, "status": "shipped" }] },
    });
    let Some(zeep) = zeep("anonymous_types", "Echo", values, &envelope) else { return };
    assert_decodes(&zeep.request, &EchoRequest { order: Some(order) });
    assert_eq!(
        zeep.response,
        json!({ "order": { "id": 8 }, "EchoResult": { "id": 9, "note": { "text": "fragile" } } }),
        "{envelope}"
    );
}

#[test]
fn attributes_groups_and_simple_content_round_trip_through_zeep() {
    use attributes::{EchoRequest, EchoResponse, Item, ItemStatus, Label, NetPrice, Price};
    use payamak::codegen::AnyAttribute;
    let item = Item {
        name: Some("n".into()),
        id: 7,
        status: Some(ItemStatus::New),
        code: Some("C & D".into()),
        lang: Some("fa".into()),
        created: Some("2024-01-31".parse().expect("a date")),
        by: Some("me".into()),
        other_attributes: vec![AnyAttribute { namespace: "urn:x".into(), name: "extra".into(), value: "v & w".into() }],
    };
    let price = Price { value: "9.50".parse().expect("a decimal"), currency: "EUR".into(), rate: Some(1.5) };
    let net = NetPrice { value: "8".parse().expect("a decimal"), currency: "USD".into() };
    let label = Label { value: "hello & bye".into(), tone: Some("warm".into()) };
    let response = EchoResponse {
        item: Some(item.clone()),
        price: Some(price.clone()),
        net: Some(net.clone()),
        label: Some(label.clone()),
    };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({
        "item": {
            "name": "n", "id": 7, "status": "new", "code": "C & D", "lang": "fa", "created": "2024-01-31", "by": "me",
            "_attr_1": { "{urn:x}extra": "v & w" },
        },
        "price": { "_value_1": { "decimal": "9.50" }, "currency": "EUR", "rate": 1.5 },
        "net": { "_value_1": { "decimal": "8" }, "currency": "USD" },
        // zeep has no way to give or read the text of mixed content without child elements.
        "label": { "tone": "warm" },
    });
    let Some(zeep) = zeep("attributes", "Echo", values.clone(), &envelope) else { return };
    let zeep_label = Label { value: String::new(), ..label };
    assert_decodes(
        &zeep.request,
        &EchoRequest { item: Some(item), price: Some(price), net: Some(net), label: Some(zeep_label) },
    );
    let reread = payamak::codegen::decode_response::<EchoRequest>(&envelope).expect("decodes");
    assert_eq!(reread, response, "{envelope}");
    let mut expected = values;
    // zeep gives a restriction the default (as text) of an attribute the restriction prohibits.
    expected["net"]["rate"] = json!("1");
    assert_eq!(zeep.response, expected, "{envelope}");
}

#[test]
fn choices_single_optional_and_repeated_round_trip_through_zeep() {
    use choices::{
        Contact, ContactChoice, ContactChoice2, ContactChoice3, EchoRequest, EchoResponse, Phone, Shape, ShapeChoice,
    };
    let contact = Contact {
        id: 1,
        choice: ContactChoice::Phone(Phone { number: "0912".into() }),
        choice2: Some(ContactChoice2::Flag(true)),
        choice3: vec![
            ContactChoice3::Tag(vec!["a".into(), "b".into()]),
            ContactChoice3::Score(5),
            ContactChoice3::Tag(vec!["c".into()]),
        ],
    };
    let response = EchoResponse {
        contact: Some(Contact {
            choice: ContactChoice::Email("x@example.com".into()),
            choice2: None,
            choice3: vec![ContactChoice3::Score(3), ContactChoice3::Tag(vec!["z".into()])],
            ..contact.clone()
        }),
        shape: Some(Shape { choice: ShapeChoice::Square(2.5) }),
    };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({
        "contact": {
            "id": 1,
            "phone": { "number": "0912" },
            "flag": true,
            "_value_1": [{ "tag": ["a", "b"] }, { "score": 5 }, { "tag": ["c"] }],
        },
    });
    let Some(zeep) = zeep("choice", "Echo", values, &envelope) else { return };
    assert_decodes(&zeep.request, &EchoRequest { contact: Some(contact) });
    assert_eq!(
        zeep.response,
        json!({
            "contact": {
                "id": 1,
                "email": "x@example.com",
                "phone": null,
                "note": null,
                "flag": null,
                "_value_1": [{ "score": 3 }, { "tag": ["z"] }],
            },
            "shape": { "circle": null, "square": 2.5 },
        }),
        "{envelope}"
    );
}

#[test]
fn groups_restrictions_lists_and_unions_round_trip_through_zeep() {
    use groups::{Colour, EchoRequest, EchoResponse, Narrow, Priority, Record, RecordChoice};
    use payamak::codegen::XsList;
    let record = Record {
        first: "Ali".into(),
        last: None,
        choice: Some(RecordChoice::Phone("0912".into())),
        numbers: XsList(vec![1, -2, 3]),
        colours: Some(XsList(vec![Colour::Green, Colour::Red])),
        size: Some("12".into()),
        priority: Priority::V2,
        version: Some(4),
    };
    let narrow = Narrow {
        version: None,
        first: "Sara".into(),
        last: Some("K".into()),
        numbers: XsList(vec![]),
        priority: Priority::V1,
    };
    let response = EchoResponse { record: Some(record.clone()), narrow: Some(narrow.clone()) };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({
        "record": {
            "first": "Ali", "phone": "0912", "numbers": [1, -2, 3], "colours": ["green", "red"], "size": "12",
            "priority": 2, "version": 4,
        },
        "narrow": { "first": "Sara", "last": "K", "numbers": [], "priority": 1 },
    });
    let Some(zeep) = zeep("groups_and_lists", "Echo", values, &envelope) else { return };
    assert_decodes(&zeep.request, &EchoRequest { record: Some(record), narrow: Some(narrow) });
    assert_eq!(
        zeep.response,
        json!({
            "record": {
                "first": "Ali", "last": null, "email": null, "phone": "0912", "numbers": [1, -2, 3],
                "colours": ["green", "red"], "size": "12", "priority": 2, "version": 4,
            },
            // zeep reads an empty list as no value.
            "narrow": { "first": "Sara", "last": "K", "numbers": null, "priority": 1, "version": null },
        }),
        "{envelope}"
    );
}

#[test]
fn element_defaults_round_trip_through_zeep() {
    use defaults::{EchoRequest, EchoResponse, Mode};
    let response = EchoResponse { count: Some(3), unit: "kg".into(), mode: Some(Mode::Slow) };
    let envelope = response_envelope::<EchoRequest>(&response);
    let values = json!({ "count": 3, "unit": "kg", "mode": "slow" });
    let Some(zeep) = zeep("defaults", "Echo", values.clone(), &envelope) else { return };
    assert_decodes(&zeep.request, &EchoRequest { count: Some(3), unit: "kg".into(), mode: Some(Mode::Slow) });
    assert_eq!(zeep.response, values, "{envelope}");
    // An empty element stands for the default; an absent one stays absent.
    let envelope = zeep
        .request
        .replace("<ns0:count>3</ns0:count>", "<ns0:count/>")
        .replace(">kg<", "><")
        .replace("<ns0:mode>slow</ns0:mode>", "");
    assert_decodes(&envelope, &EchoRequest { count: Some(10), unit: "kg".into(), mode: None });
}

/// node-soap reads only the first element of a bare body, so zeep is the
/// independent side for document/literal bare and multi-part messages.
#[test]
fn bare_and_multi_part_messages_round_trip_through_zeep() {
    use crate::generator_fixtures::bare_golden::bare::{
        AddRequest, AddResponse, Item, Receipt, StoreRequest, StoreResponse,
    };
    use payamak::Nillable;
    let envelope = response_envelope::<AddRequest>(&AddResponse { sum: 42 });
    assert!(envelope.contains(r#"<soap:Body><sum xmlns="urn:example:bare">42</sum></soap:Body>"#), "{envelope}");
    let Some(zeep) = zeep_reply("bare", "Add", json!({ "a": 2, "b": 40 }), &envelope) else { return };
    assert_decodes(&zeep.request, &AddRequest { a: 2, b: 40 });
    assert_eq!(zeep.response, json!(42), "{envelope}");

    let response = StoreResponse { receipt: Receipt { id: 7, summary: Some("kept".into()) }, text: "two parts".into() };
    let envelope = response_envelope::<StoreRequest>(&response);
    let args = json!({ "item": { "name": "pen", "tags": ["a", "b"] }, "note": null });
    let Some(zeep) = zeep_reply("bare", "Store", args, &envelope) else { return };
    let item = Item { name: "pen".into(), tags: vec!["a".into(), "b".into()] };
    assert_decodes(&zeep.request, &StoreRequest { item, note: Nillable::Nil });
    assert_eq!(zeep.response, json!({ "receipt": { "id": 7, "summary": "kept" }, "text": "two parts" }), "{envelope}");
    let reread = payamak::codegen::decode_response::<StoreRequest>(&envelope).expect("decodes");
    assert_eq!(reread, response, "{envelope}");
}

/// zeep loads the fixture from its path and follows its imports (another WSDL, a
/// schema it imports, that schema's includes, one of them a chameleon) as the generator did.
#[test]
fn types_across_imported_documents_round_trip_through_zeep() {
    use crate::generator_fixtures::imports_golden::orders::{
        Currency, Line, Money, PlaceOrderRequest, PlaceOrderResponse, Priority, Receipt,
    };
    let paid = Some(Money { amount: 150_000, currency: Currency::Irr });
    let receipt = Receipt { id: 9_000_000_001, total: 5, priority: Priority::Rush, paid };
    let response = PlaceOrderResponse { place_order_result: receipt };
    let envelope = response_envelope::<PlaceOrderRequest>(&response);
    let args = json!({
        "customer": "Ava",
        "lines": [{ "sku": "pen", "quantity": 2 }, { "sku": "ink", "quantity": 3 }],
        "priority": "rush",
    });
    let Some(zeep) = zeep("imports", "PlaceOrder", args, &envelope) else { return };
    let lines = vec![Line { sku: "pen".into(), quantity: 2 }, Line { sku: "ink".into(), quantity: 3 }];
    assert_decodes(&zeep.request, &PlaceOrderRequest { customer: "Ava".into(), lines, priority: Some(Priority::Rush) });
    assert_eq!(
        zeep.response,
        json!({ "PlaceOrderResult": {
            "id": 9_000_000_001_i64, "total": 5, "priority": "rush",
            "paid": { "amount": 150_000, "currency": "IRR" },
        } }),
        "{envelope}"
    );
}
