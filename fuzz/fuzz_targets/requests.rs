//! Any bytes as a request of every operation, as a server decodes it: decodes or errors, never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| payamak::codegen::fuzz::requests(data));
