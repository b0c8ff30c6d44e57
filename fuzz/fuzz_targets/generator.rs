//! Any bytes as a WSDL document through the whole generator pipeline (parse,
//! resolve, bind, emit, format): generates or reports problems, never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = xtask::fuzz_generate(data);
});
