//! The generator's golden output, compiled into this crate and exercised.
//!
//! Each `xtask/tests/fixtures/<case>/expected/` (and the code generated from
//! the two sibling WSDLs in `tests/fixtures/generator/siblings/`) is mounted
//! as a module. Requests go through `XmlRequest::write_body`, are parsed back
//! and read with `read_body`; responses are decoded from sample bodies.
//! Regenerate them with `UPDATE_EXPECT=1 cargo test -p xtask`.

use std::fmt::Debug;

use payamak::codegen::{decode_content, decode_content_indexed, decode_wrapper, encode_wrapper, XmlWriter};
use payamak::codegen::{Nillable, ReceivedCredentials, StatusCode, XmlContent, XmlRequest};
use payamak::Credentials;
use payamak::PanelDateTime;

// Generated items that a test does not touch are fine.
#[path = "../../xtask/tests/fixtures/anonymous_types/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod anonymous_types_golden;
#[path = "../../xtask/tests/fixtures/arrays/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod arrays_golden;
#[path = "../../xtask/tests/fixtures/builtins/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod builtins_golden;
#[path = "../../xtask/tests/fixtures/attributes/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod attributes_golden;
#[path = "../../xtask/tests/fixtures/bindings/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod bindings_golden;
#[path = "../../xtask/tests/fixtures/choice/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod choice_golden;
#[path = "../../xtask/tests/fixtures/credentials/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod credentials_golden;
#[path = "../../xtask/tests/fixtures/defaults/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod defaults_golden;
#[path = "../../xtask/tests/fixtures/empty_types/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod empty_types_golden;
#[path = "../../xtask/tests/fixtures/enums/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod enums_golden;
#[path = "../../xtask/tests/fixtures/extension/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod extension_golden;
#[path = "../../xtask/tests/fixtures/groups_and_lists/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod groups_and_lists_golden;
#[path = "../../xtask/tests/fixtures/names/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod names_golden;
#[path = "../../xtask/tests/fixtures/namespaces/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod namespaces_golden;
#[path = "../../xtask/tests/fixtures/optionality/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod optionality_golden;
#[path = "../../xtask/tests/fixtures/raw_xml/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod raw_xml_golden;
#[path = "../../xtask/tests/fixtures/recursion/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod recursion_golden;
#[path = "../../xtask/tests/fixtures/shared_operations/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod shared_operations_golden;
#[path = "../../xtask/tests/fixtures/soap12_only/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod soap12_only_golden;
#[path = "../../xtask/tests/fixtures/bare/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod bare_golden;
#[path = "../../xtask/tests/fixtures/faults/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod faults_golden;
#[path = "../../xtask/tests/fixtures/headers/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod headers_golden;
#[path = "../../xtask/tests/fixtures/one_way/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod one_way_golden;
#[path = "../../xtask/tests/fixtures/rpc_literal/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod rpc_literal_golden;
#[path = "../../xtask/tests/fixtures/rpc_encoded/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod rpc_encoded_golden;
#[path = "../../xtask/tests/fixtures/several_services/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod several_services_golden;
#[path = "../../xtask/tests/fixtures/imports/expected/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
pub(crate) mod imports_golden;
#[path = "../fixtures/generator/siblings/mod.rs"]
#[rustfmt::skip]
#[allow(dead_code)]
mod siblings_golden;

const XSI: &str = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;

/// The request's wrapper element, credentials `user` / `secret` included where declared.
fn encode<R: XmlRequest>(request: &R) -> String {
    encode_wrapper(request, Some(&Credentials::new("user", "secret"))).expect("the request encodes")
}

/// Encodes `request`, reads it back as a server would, and returns the XML.
fn round_trip<R: XmlRequest + PartialEq + Debug>(request: &R) -> String {
    let xml = encode(request);
    let (decoded, credentials) = decode_wrapper::<R>(&xml).unwrap_or_else(|error| panic!("{error}: {xml}"));
    assert_eq!(&decoded, request, "{xml}");
    let expected = if R::OPERATION.credentials.takes_credentials() {
        ReceivedCredentials { username: Some("user".into()), password: Some("secret".into()) }
    } else {
        ReceivedCredentials::default()
    };
    assert_eq!(credentials, expected, "{xml}");
    xml
}

/// Decodes `xml` in one streaming pass, and checks that the element index reads it alike.
fn decode<T: XmlContent + Debug>(xml: &str) -> T {
    let streamed = decode_content::<T>(xml);
    let indexed = decode_content_indexed::<T>(xml);
    assert_eq!(format!("{streamed:?}"), format!("{indexed:?}"), "{xml}");
    streamed.unwrap_or_else(|error| panic!("{error}: {xml}"))
}

/// Writes `value` as the content of `<name xmlns="ns">` and decodes it again.
fn content_round_trip<T: XmlContent + PartialEq + Debug>(value: &T, ns: &'static str, name: &'static str) -> String {
    let mut w = XmlWriter::with_capacity(512);
    w.start(ns, name);
    value.write_content(&mut w);
    w.end();
    let xml = w.finish().expect("the value encodes");
    assert_eq!(&decode::<T>(&xml), value, "{xml}");
    xml
}

fn position(xml: &str, needle: &str) -> usize {
    xml.find(needle).unwrap_or_else(|| panic!("{needle} not in {xml}"))
}

#[test]
fn arrays_unwrap_to_vectors_and_keep_their_wrappers() {
    use arrays_golden::arrays::{ArrayOfInt, Item, StoreRequest, StoreResponse};
    let item = |id: i32| Item { id, name: Some(format!("item {id}")) };
    let request = StoreRequest {
        names: Some(vec![Some("a".into()), None]),
        ids: vec![1, 2],
        maybe_ids: Nillable::Nil,
        items: Some(Nillable::Value(vec![Some(item(1)), None])),
        tag: vec!["t1".into(), "t2".into()],
        note: vec![None, Some("n".into())],
        grid: Some(vec![Some(ArrayOfInt { int: vec![1, 2] }), None, Some(ArrayOfInt::default())]),
        extra: vec![item(3)],
    };
    let xml = round_trip(&request);
    assert!(xml.contains("<ids><long>1</long><long>2</long></ids>"), "{xml}");
    assert!(xml.contains("<tag>t1</tag><tag>t2</tag>"), "{xml}");
    assert!(xml.contains(&format!(r#"<maybeIds {XSI} xsi:nil="true" />"#)), "{xml}");

    let empty = StoreRequest::default();
    let xml = round_trip(&StoreRequest { maybe_ids: Nillable::Value(vec![]), ..empty });
    assert!(xml.contains("<ids></ids>") || xml.contains("<ids />"), "a required empty array keeps its wrapper: {xml}");
    assert!(!xml.contains("<names"), "an absent optional array has no wrapper: {xml}");

    let response: StoreResponse = decode(&format!(
        r#"<StoreResponse xmlns="http://tempuri.org/" {XSI}><StoreResult><Item><Id>7</Id></Item><Item xsi:nil="true" /></StoreResult></StoreResponse>"#
    ));
    assert_eq!(response.store_result, Some(vec![Some(Item { id: 7, name: None }), None]));
}

#[test]
fn optional_nillable_and_both_stay_apart() {
    use optionality_golden::optionality::{AllBuiltins, PutRequest, PutResponse};
    let request = PutRequest {
        required: 1,
        optional: None,
        nillable: Nillable::Nil,
        optional_nillable: Some(Nillable::Nil),
        optional_text: Some(String::new()),
        nillable_date: Nillable::Value("2024-01-31T14:30:00".parse().expect("a date")),
    };
    let xml = round_trip(&request);
    assert!(!xml.contains("<optional>"), "{xml}");
    assert!(xml.contains(&format!(r#"<optionalNillable {XSI} xsi:nil="true" />"#)), "{xml}");
    round_trip(&PutRequest { optional: Some(0), optional_nillable: None, nillable: Nillable::Value(0), ..request });

    let response: PutResponse = decode(
        r#"<PutResponse xmlns="http://tempuri.org/"><PutResult>
            <stringValue> s </stringValue><booleanValue>1</booleanValue><byteValue>-8</byteValue>
            <shortValue>-16</shortValue><intValue>-32</intValue><longValue>-64</longValue>
            <unsignedByteValue>8</unsignedByteValue><unsignedShortValue>16</unsignedShortValue>
            <unsignedIntValue>32</unsignedIntValue><unsignedLongValue>64</unsignedLongValue>
            <floatValue>1.5</floatValue><doubleValue>INF</doubleValue>
            <dateTimeValue>2024-03-20T08:00:00</dateTimeValue><base64BinaryValue>AAEC</base64BinaryValue>
        </PutResult></PutResponse>"#,
    );
    let expected = AllBuiltins {
        string_value: " s ".into(),
        boolean_value: true,
        byte_value: -8,
        short_value: -16,
        int_value: -32,
        long_value: -64,
        unsigned_byte_value: 8,
        unsigned_short_value: 16,
        unsigned_int_value: 32,
        unsigned_long_value: 64,
        float_value: 1.5,
        double_value: f64::INFINITY,
        date_time_value: "2024-03-20T08:00:00".parse::<PanelDateTime>().expect("a date"),
        base64_binary_value: vec![0, 1, 2],
    };
    assert_eq!(response.put_result, expected);
    content_round_trip(&response, "http://tempuri.org/", "PutResponse");
}

#[test]
fn enumerations_with_odd_values_round_trip() {
    use enums_golden::enums::{Level, Odd, SetModeRequest, SetModeResponse};
    for mode in
        [Odd::Once, Odd::Empty, Odd::V1, Odd::AB, Odd::Unknown2, Odd::Self_, Odd::U00c4U00d6, Odd::Unknown("zz".into())]
    {
        round_trip(&SetModeRequest { mode, alias: Some(Odd::Once2), level: Level::V2 });
    }
    assert_eq!(Odd::from("with space"), Odd::WithSpace);
    assert_eq!(Odd::Unknown2.as_str(), "Unknown");
    assert_eq!(Odd::default(), Odd::Once);
    let response: SetModeResponse =
        decode(r#"<r xmlns="http://tempuri.org/"><SetModeResult> a-b </SetModeResult></r>"#);
    assert_eq!(response.set_mode_result, Odd::AB);
    let response: SetModeResponse =
        decode(r#"<r xmlns="http://tempuri.org/"><SetModeResult>later</SetModeResult></r>"#);
    assert_eq!(response.set_mode_result, Odd::Unknown("later".into()));
}

#[test]
fn extensions_put_base_fields_first() {
    use extension_golden::extension::{GetMessageRequest, GetMessageResponse, MessagesBL};
    round_trip(&GetMessageRequest { id: 5 });
    let response: GetMessageResponse = decode(&format!(
        r#"<GetMessageResponse xmlns="http://tempuri.org/" {XSI}><GetMessageResult><MsgID>9</MsgID><Body>hi</Body><AutoSpeechText xsi:nil="true" /></GetMessageResult></GetMessageResponse>"#
    ));
    let message = response.get_message_result.clone().expect("a message");
    assert_eq!(message, MessagesBL { msg_id: 9, body: Some("hi".into()), auto_speech_text: Nillable::Nil });
    let xml = content_round_trip(&response, "http://tempuri.org/", "GetMessageResponse");
    assert!(position(&xml, "<MsgID>") < position(&xml, "<Body>"), "{xml}");
}

#[test]
fn empty_types_are_empty_structs() {
    use empty_types_golden::empty::{Nothing, PingRequest, PingResponse, TouchRequest, TouchResponse};
    assert_eq!(round_trip(&PingRequest {}), r#"<Ping xmlns="http://tempuri.org/" />"#);
    let _: PingResponse = decode(r#"<PingResponse xmlns="http://tempuri.org/" />"#);
    let xml = round_trip(&TouchRequest { marker: Some(Nothing {}) });
    assert!(xml.contains("<marker />"), "{xml}");
    let response: TouchResponse =
        decode(r#"<TouchResponse xmlns="http://tempuri.org/"><TouchResult /></TouchResponse>"#);
    assert_eq!(response.touch_result, Nothing {});
}

#[test]
fn unqualified_schemas_use_no_namespace() {
    use namespaces_golden::namespaces::{OrderRequest, OrderResponse, Part};
    let part = Part { code: Some("P1".into()), qty: 2, label: Some("big".into()) };
    let xml = round_trip(&OrderRequest {
        order_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        grade: 'A',
        part: Some(part.clone()),
        parts: Some(vec![Some(part.clone()), None]),
    });
    assert!(xml.contains(r#"<Code xmlns="">P1</Code>"#), "{xml}");
    assert!(xml.contains(r#"<Label xmlns="urn:example:parts">big</Label>"#), "{xml}");
    let response: OrderResponse = decode(
        r#"<OrderResponse xmlns="http://tempuri.org/" xmlns:p="urn:example:parts"><OrderResult><Code xmlns="">P1</Code><Qty xmlns="">2</Qty><p:Label>big</p:Label></OrderResult></OrderResponse>"#,
    );
    assert_eq!(response.order_result, Some(part));
}

#[test]
fn rust_names_cannot_break_the_generated_code() {
    use names_golden::names::{
        Box, Error, GetMessagesRequest, GetMessagesRequest2, GetMessagesResponse, GetMessagesResponse2,
        GetMessagesResponse3, Message, Message2, Option, Result, Self_, String, Type, Vec, OPERATIONS,
    };
    let request = GetMessagesRequest {
        msg_id: 1,
        msg_id_2: 2,
        r#type: Some(Type::Default),
        self_: Some("self".into()),
        element: Some("element".into()),
        child: Some("child".into()),
        credentials: Some("credentials".into()),
        w: Some("w".into()),
        r#match: Some("match".into()),
        field_1st: Some("1st".into()),
    };
    let xml = round_trip(&request);
    assert!(xml.contains("<MsgID>1</MsgID><msgId>2</msgId><type>Default</type>"), "{xml}");
    round_trip(&GetMessagesRequest2 {
        message: Some(Message { text: Some("lower-case message".into()), ..Default::default() }),
    });

    let result = Result {
        option: Some(Option { some: Some("x".into()) }),
        string: Some(String::Vec),
        vec: Some(vec![Vec { len: 3 }]),
        r#box: Some(Box { default: None }),
    };
    let response = GetMessagesResponse { get_messages_result: Some(result) };
    content_round_trip(&response, "http://tempuri.org/", "getMessagesResponse");
    let response = GetMessagesResponse2 {
        get_messages_result: Some(Message2 { self_: Some(Self_ { super_: Some("s".into()) }) }),
        error: Some(Error { result: Some("r".into()) }),
        shadow: Some(GetMessagesResponse3 { crate_: None }),
    };
    content_round_trip(&response, "http://tempuri.org/", "GetMessagesResponse");
    let names: std::vec::Vec<&str> = OPERATIONS.iter().map(|operation| operation.name).collect();
    assert_eq!(names, ["GetMessages", "getMessages"]);
}

#[test]
fn each_soap_version_has_its_own_actions() {
    use bindings_golden::multi::{AlphaRequest, BetaRequest, GammaRequest, OPERATIONS};
    let alpha = AlphaRequest::OPERATION;
    assert_eq!(
        (alpha.soap11_action, alpha.soap12_action),
        (Some("http://tempuri.org/Alpha"), Some("urn:alpha-soap12"))
    );
    assert_eq!(BetaRequest::OPERATION.soap12_action, None);
    assert_eq!(GammaRequest::OPERATION.soap11_action, None);
    assert_eq!(OPERATIONS.len(), 3);
    round_trip(&AlphaRequest { note: Some("n".into()) });

    use soap12_only_golden::modern::{EchoRequest, SERVICE};
    assert_eq!((SERVICE.name, SERVICE.endpoint), ("Modern", "modern.asmx"));
    assert_eq!(EchoRequest::OPERATION.soap11_action, None);
    assert_eq!(EchoRequest::OPERATION.soap12_action, Some("http://tempuri.org/Echo"));
}

#[test]
fn credentials_are_written_where_the_wsdl_declares_them() {
    use credentials_golden::panel::{GetDeliveriesRequest, PingRequest, PostRequest, SERVICE};
    let xml = round_trip(&GetDeliveriesRequest { rec_ids: Some(vec![11, 12]) });
    assert_eq!(
        xml,
        r#"<GetDeliveries xmlns="http://tempuri.org/"><recIds><long>11</long><long>12</long></recIds><username>user</username><password>secret</password></GetDeliveries>"#
    );
    let xml = round_trip(&PostRequest { text: Some("hi".into()) });
    assert!(position(&xml, "<username>") < position(&xml, "<text>"), "{xml}");
    assert!(position(&xml, "<text>") < position(&xml, "<password>"), "{xml}");
    let xml = round_trip(&PingRequest { id: 1 });
    assert!(!xml.contains("username"), "{xml}");

    let operation = GetDeliveriesRequest::OPERATION;
    assert!(operation.credentials.takes_credentials() && operation.retry_safe);
    assert!(!PostRequest::OPERATION.retry_safe);
    assert!(!PingRequest::OPERATION.credentials.takes_credentials());
    assert_eq!(operation.service, &SERVICE);
}

#[test]
fn status_fields_read_as_status_enums() {
    use credentials_golden::panel::{GetDeliveriesResponse, PostResponse};
    use credentials_golden::status::{DeliveryState, Outcome};
    let response: GetDeliveriesResponse =
        decode(r#"<r xmlns="http://tempuri.org/"><GetDeliveriesResult>1</GetDeliveriesResult></r>"#);
    assert_eq!(response.result_status(), DeliveryState::Delivered);
    assert!(response.result_status().is_final() && response.result_status().is_success());
    assert!(!DeliveryState::Pending.is_final());
    assert!(!DeliveryState::from_code(42).is_final());
    let response = PostResponse { post_result: -1 };
    assert_eq!(response.result_status(), Outcome::Rejected);
    assert_eq!(Outcome::Rejected.code(), -1);
    assert_eq!(Outcome::from_code(3), Outcome::Unknown(3));
    assert!(!StatusCode::is_known(Outcome::Unknown(3)));
    assert_eq!(Outcome::Posted.to_string(), "posted (1)");
    assert_eq!(Outcome::Posted.persian(), "ارسال شد");
}

#[test]
fn the_sibling_wsdls_decode_real_shapes() {
    use siblings_golden::receive::{GetMessagesRequest, GetMessagesResponse, MessageLocation, SERVICE};
    assert_eq!(SERVICE.endpoint, "receive.asmx");
    assert_eq!(siblings_golden::receive::OPERATIONS.len(), 15);
    assert_eq!(siblings_golden::send::OPERATIONS.len(), 18);
    // No annotations: nothing is stripped, so the credentials are plain fields.
    let request = GetMessagesRequest {
        username: Some("u".into()),
        password: Some("p".into()),
        location: 1,
        from: None,
        index: 0,
        count: 10,
    };
    round_trip(&request);
    let response: GetMessagesResponse = decode(&format!(
        r#"<GetMessagesResponse xmlns="http://tempuri.org/" {XSI}><GetMessagesResult><MessagesBL>
            <MsgID>5</MsgID><UserID>1</UserID><LinkID>0</LinkID><NumberID>2</NumberID><Tariff>0.5</Tariff>
            <MsgType>1</MsgType><Body>سلام</Body><SendDate>2022-05-01T10:00:00</SendDate>
            <FirstLocation>1</FirstLocation><CurrentLocation>1</CurrentLocation><Parts>1</Parts>
            <IsFlash>false</IsFlash><IsRead>true</IsRead><IsUnicode>true</IsUnicode><Credit>1</Credit>
            <Module>0</Module><RecCount>1</RecCount><RecFailed>0</RecFailed><RecSuccess>1</RecSuccess>
            <IsMoneyBack>false</IsMoneyBack><UserStepedMaster>0</UserStepedMaster><UserMaster>0</UserMaster>
            <MoneyBackCount>0</MoneyBackCount><MoneyBackLevel>0</MoneyBackLevel>
            <AutoSpeechText xsi:nil="true" /><ShareServiceBodyID>4</ShareServiceBodyID><IrancellBackCount xsi:nil="true" />
        </MessagesBL><MessagesBL xsi:nil="true" /></GetMessagesResult></GetMessagesResponse>"#
    ));
    let messages = response.get_messages_result.expect("an array");
    let first = messages[0].as_ref().expect("a message");
    assert_eq!((first.msg_id, first.body.as_deref()), (5, Some("سلام")));
    assert_eq!(first.share_service_body_id, Nillable::Value(4));
    assert!(messages[1].is_none());
    assert_eq!(MessageLocation::from("Removed"), MessageLocation::Removed);

    use siblings_golden::send::{SendSimpleSMSRequest, SERVICE as SEND};
    assert_eq!(SEND.endpoint, "Send.asmx");
    let xml = round_trip(&SendSimpleSMSRequest {
        username: Some("u".into()),
        password: Some("p".into()),
        to: Some(vec![Some("0912".into()), None]),
        from: Some("5000".into()),
        text: Some("متن".into()),
        isflash: false,
    });
    assert!(xml.contains(&format!(r#"<to><string>0912</string><string {XSI} xsi:nil="true" /></to>"#)), "{xml}");
}

#[test]
fn services_sharing_an_operation_name_keep_their_own_annotations() {
    use shared_operations_golden::{receive, send};
    let sent = <send::GetInboxCountRequest as XmlRequest>::OPERATION;
    let received = <receive::GetInboxCountRequest as XmlRequest>::OPERATION;
    assert_eq!((sent.name, received.name), ("GetInboxCount", "GetInboxCount"));
    assert_eq!((sent.service.name, received.service.name), ("Send", "Receive"));
    assert!(sent.retry_safe && !received.retry_safe);
}
