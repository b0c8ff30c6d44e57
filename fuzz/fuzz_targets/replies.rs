//! Any bytes as the reply of every operation (and as a fault): decodes or errors, never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| payamak::codegen::fuzz::replies(data));
