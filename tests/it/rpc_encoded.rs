//! rpc/encoded (SOAP 1.1 encoding) with the `rpc_encoded` fixture: what the
//! request looks like on the wire, and replies that use multi-reference values
//! (`href="#id"` accessors and `multiRef` elements), as Axis 1 writes them,
//! including broken and hostile ones, which must be clean errors.

use payamak::codegen::{decode_request, decode_response, encode_request, encode_response, EnvelopeError};
use payamak::SoapVersion;

use crate::generator_fixtures::rpc_encoded_golden::orders::{
    Line, Order, PlaceOrderRequest, PlaceOrderResponse, Receipt, SumRequest, SumResponse,
};

const ENVELOPE_START: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"><soapenv:Body>"#;
const ENVELOPE_END: &str = "</soapenv:Body></soapenv:Envelope>";

fn envelope(body: &str) -> String {
    format!("{ENVELOPE_START}{body}{ENVELOPE_END}")
}

fn order() -> Order {
    Order {
        id: 7,
        customer: "Ali & Sara".into(),
        lines: vec![
            Line { sku: "A-1".into(), quantity: 2, price: 1.5 },
            Line { sku: "B-2".into(), quantity: 1, price: 10.0 },
        ],
        tags: Some(vec!["gift".into(), "fast".into()]),
        note: payamak::Nillable::Nil,
    }
}

#[test]
fn the_request_is_typed_and_marked_encoded_and_reads_back() {
    let request = PlaceOrderRequest { order: order(), priority: 3 };
    let text = encode_request(&request, SoapVersion::V11, None).expect("encodes");
    for expected in [
        r#"<m:placeOrder xmlns:m="urn:example:orders" soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">"#,
        r#"<order xmlns:a1="urn:example:orders" xsi:type="a1:Order">"#,
        r#"<priority xsi:type="xsd:int">3</priority>"#,
        r#"<lines xmlns:a1="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="a1:Array" xmlns:a2="urn:example:orders" a1:arrayType="a2:Line[2]">"#,
        r#"xsi:type="a1:Array" a1:arrayType="xsd:string[2]"><item>gift</item><item>fast</item></tags>"#,
        r#"<item><sku>A-1</sku><quantity>2</quantity><price>1.5</price></item>"#,
        r#"<note xsi:nil="true" />"#,
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    let decoded = decode_request::<PlaceOrderRequest>(&text).expect("decodes");
    assert_eq!(decoded.request, request);

    let sum = SumRequest { values: vec![1, -2, 30] };
    let text = encode_request(&sum, SoapVersion::V11, None).expect("encodes");
    assert!(
        text.contains(r#"a1:arrayType="xsd:int[3]"><item>1</item><item>-2</item><item>30</item></values>"#),
        "{text}"
    );
    assert_eq!(decode_request::<SumRequest>(&text).expect("decodes").request, sum);
}

#[test]
fn a_response_written_by_the_generated_code_reads_back() {
    let response = SumResponse { total: 29, values: vec![] };
    let text = encode_response::<SumRequest>(&response, SoapVersion::V11).expect("encodes");
    assert!(text.contains(r#"<total xsi:type="xsd:long">29</total>"#), "{text}");
    assert_eq!(decode_response::<SumRequest>(&text).expect("decodes"), response);
}

/// As Axis 1 answers: the wrapper first, every struct a `multiRef` after it,
/// referenced forward; the array's items are references too.
#[test]
fn forward_references_to_multi_ref_siblings_are_followed() {
    let text = envelope(
        r##"<ns1:placeOrderResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:example:orders"><receipt href="#id0"/></ns1:placeOrderResponse><multiRef id="id0" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="ns2:Receipt" xmlns:ns2="urn:example:orders"><total xsi:type="xsd:double">13.0</total><count href="#id1"/><skus xsi:type="soapenc:Array" soapenc:arrayType="xsd:string[2]"><item href="#id2"/><item xsi:type="soapenc:string">B-2</item></skus></multiRef><multiRef id="id1" soapenc:root="0" xsi:type="xsd:int">2</multiRef><multiRef id="id2" soapenc:root="0" xsi:type="xsd:string">A-1</multiRef>"##,
    );
    let response = decode_response::<PlaceOrderRequest>(&text).expect("decodes");
    let expected = Receipt { total: 13.0, count: 2, skus: vec!["A-1".into(), "B-2".into()] };
    assert_eq!(response, PlaceOrderResponse { receipt: expected });
}

/// Independent values may come before the wrapper (`soapenc:root="0"`), the
/// array itself may be a reference, nested references chain, and one value may be shared.
#[test]
fn backward_nested_and_shared_references_are_followed() {
    let text = envelope(
        r##"<multiRef id="items" soapenc:root="0" xsi:type="soapenc:Array" soapenc:arrayType="xsd:int[3]"><v href="#seven"/><v>5</v><v href="#seven"/></multiRef><multiRef id="seven" soapenc:root="0">7</multiRef><ns1:sumResponse xmlns:ns1="urn:example:orders"><total xsi:type="xsd:anyType">19</total><values href="#items"/></ns1:sumResponse>"##,
    );
    let response = decode_response::<SumRequest>(&text).expect("decodes");
    assert_eq!(response, SumResponse { total: 19, values: vec![7, 5, 7] });
}

fn decode_error(body: &str) -> String {
    match decode_response::<PlaceOrderRequest>(&envelope(body)) {
        Err(EnvelopeError::Decode(error)) => error.to_string(),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

const WRAPPER: &str = r#"<ns1:placeOrderResponse xmlns:ns1="urn:example:orders">"#;

#[test]
fn a_missing_duplicate_or_external_reference_is_an_error() {
    let missing = decode_error(&format!(r##"{WRAPPER}<receipt href="#nowhere"/></ns1:placeOrderResponse>"##));
    assert!(missing.contains(r##"href="#nowhere" names no element"##), "{missing}");

    let twice = decode_error(&format!(
        r##"{WRAPPER}<receipt href="#r"/></ns1:placeOrderResponse><multiRef id="r" soapenc:root="0"/><multiRef id="r" soapenc:root="0"/>"##
    ));
    assert!(twice.contains("several elements"), "{twice}");

    let external = decode_error(&format!(r#"{WRAPPER}<receipt href="http://evil/x"/></ns1:placeOrderResponse>"#));
    assert!(external.contains("not a reference within the message"), "{external}");
}

#[test]
fn cycles_of_references_are_errors_not_overflows() {
    // An accessor that names itself, and two that name each other.
    let itself = decode_error(&format!(
        r##"{WRAPPER}<receipt href="#a"/></ns1:placeOrderResponse><multiRef id="a" soapenc:root="0" href="#a"/>"##
    ));
    assert!(itself.contains("references in a chain"), "{itself}");
    let pair = decode_error(&format!(
        r##"{WRAPPER}<receipt href="#a"/></ns1:placeOrderResponse><multiRef id="a" soapenc:root="0" href="#b"/><multiRef id="b" soapenc:root="0" href="#a"/>"##
    ));
    assert!(pair.contains("references in a chain"), "{pair}");

    // An array that holds itself: its item is read as an `xs:int`, which it is not.
    let text = envelope(
        r##"<ns1:sumResponse xmlns:ns1="urn:example:orders"><total>1</total><values href="#loop"/></ns1:sumResponse><multiRef id="loop" soapenc:root="0" soapenc:arrayType="xsd:int[1]"><item href="#loop"/></multiRef>"##,
    );
    let error = decode_response::<SumRequest>(&text).unwrap_err().to_string();
    assert!(error.contains("should hold text but has a child element <item>"), "{error}");
}
