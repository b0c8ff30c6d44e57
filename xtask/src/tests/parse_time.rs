//! Parsing is linear in the document's size: a WSDL eight times larger takes
//! about eight times as long, not sixty-four (positions used to be found by
//! rescanning the text from its start for every declaration).

use std::time::{Duration, Instant};

use crate::parse;

/// An ASMX-style WSDL with `types` complex types of a few fields each, one
/// declaration per line (`one_line` puts the whole document on one line).
fn wsdl(types: usize, one_line: bool) -> String {
    let mut schema = String::new();
    for index in 0..types {
        schema.push_str(&format!(
            "<s:complexType name=\"Row{index}\">\n<s:sequence>\n\
             <s:element minOccurs=\"1\" maxOccurs=\"1\" name=\"Id\" type=\"s:long\" />\n\
             <s:element minOccurs=\"0\" maxOccurs=\"1\" name=\"Name\" type=\"s:string\" />\n\
             <s:element minOccurs=\"0\" maxOccurs=\"unbounded\" name=\"Tag\" nillable=\"true\" type=\"s:string\" />\n\
             </s:sequence>\n</s:complexType>\n"
        ));
    }
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" xmlns:s=\"http://www.w3.org/2001/XMLSchema\" \
         targetNamespace=\"http://tempuri.org/\">\n<wsdl:types>\n\
         <s:schema elementFormDefault=\"qualified\" targetNamespace=\"http://tempuri.org/\">\n{schema}</s:schema>\n\
         </wsdl:types>\n</wsdl:definitions>\n"
    );
    if one_line {
        text.replace('\n', " ")
    } else {
        text
    }
}

/// The fastest of a few parses: the least disturbed by other work on the machine.
fn parse_time(text: &str) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let definitions = parse::parse(text, 0, parse::Expect::Wsdl, None).expect("the document parses");
            let elapsed = start.elapsed();
            assert!(!definitions.schemas.is_empty());
            elapsed
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn parse_time_is_linear_in_the_document_size() {
    for one_line in [false, true] {
        let small = wsdl(1_000, one_line);
        let large = wsdl(8_000, one_line);
        assert!(large.len() > 2_000_000, "the large document has {} bytes", large.len());
        let (small_time, large_time) = (parse_time(&small), parse_time(&large));
        let ratio = large_time.as_secs_f64() / small_time.as_secs_f64().max(1e-6);
        // Linear is 8; quadratic would be 64. The bound leaves room for a busy machine.
        assert!(
            ratio < 20.0,
            "one line: {one_line}; {} bytes in {small_time:?}, {} bytes in {large_time:?}: ratio {ratio:.1}",
            small.len(),
            large.len()
        );
        eprintln!("one line: {one_line}; 1×: {small_time:?}, 8×: {large_time:?}, ratio {ratio:.1}");
    }
}
