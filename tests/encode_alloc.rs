//! Encoding a 100-recipient SendSms request allocates in proportion to its
//! size: a handful of buffer growths, not one allocation per element.
//!
//! A separate test binary, because it installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use payamak::codegen::encode_request;
use payamak::send::SendSmsRequest;
use payamak::Credentials;
use payamak::SoapVersion;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn request(recipients: usize) -> SendSmsRequest {
    SendSmsRequest {
        to: Some((0..recipients).map(|i| Some(format!("0912{i:07}"))).collect()),
        from: Some("5000123456".to_owned()),
        text: Some("یادآوری: جلسه فردا ساعت ۱۰ صبح & <مهم>".to_owned()),
        isflash: false,
        udh: Some(String::new()),
        rec_id: Some(Vec::new()),
        status: Some(Vec::new()),
        ..Default::default()
    }
}

/// Allocations and bytes allocated while encoding `request`, and the output size.
fn measure(request: &SendSmsRequest) -> (usize, usize, usize) {
    let credentials = Credentials::new("demo", "demo");
    let (count, bytes) = (ALLOCATIONS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
    let encoded = encode_request(request, SoapVersion::V11, Some(&credentials)).expect("encode");
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - count;
    let allocated = BYTES.load(Ordering::SeqCst) - bytes;
    (allocations, allocated, encoded.len())
}

#[test]
fn encoding_allocates_in_proportion_to_the_output() {
    let small = request(1);
    let large = request(100);
    let (small_count, _, _) = measure(&small);
    let (count, allocated, size) = measure(&large);
    eprintln!("100 recipients: {size} bytes out, {allocated} bytes allocated in {count} allocations");
    // The output buffer doubles as it grows: total bytes stay within a small factor of the output.
    assert!(allocated <= 4 * size, "{allocated} bytes allocated for {size} bytes of output");
    // The number of allocations grows with the logarithm of the size, not with the element count.
    assert!(count <= small_count + 8, "{count} allocations for 100 recipients vs {small_count} for 1");
}
