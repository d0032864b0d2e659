//! Build-only proof that the `no_std` crates of this workspace do not pull in `std`.
//!
//! This crate is `#![no_std]` and defines the lang items a `std` build would also define
//! (`panic_impl`, through `#[panic_handler]`) plus a global allocator stub. A dependency that
//! links `std` makes the build fail with a duplicate lang item error.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::panic::PanicInfo;

/// Never called: the check is the build itself.
#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// An allocator that never hands out memory; enough to link `alloc` users.
struct NoAlloc;

// `GlobalAlloc` is an unsafe trait, so the impl lives in a tiny module
// that opts out of the crate-wide `deny`. It never dereferences anything.
#[allow(unsafe_code)]
mod alloc_stub {
    use super::*;
    unsafe impl GlobalAlloc for NoAlloc {
        unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
            core::ptr::null_mut()
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }
    #[global_allocator]
    static ALLOCATOR: NoAlloc = NoAlloc;
}

/// Touches the public items of the checked crates so they are really compiled and linked.
pub fn touch() -> usize {
    use alipayplus_types::{Amount, Api, Currency, PayRequest, ResultStatus};
    let amount = Amount::new(Currency::USD, 100);
    let status = ResultStatus::from("S");
    core::mem::size_of::<alloc::vec::Vec<u8>>()
        + core::mem::size_of::<PayRequest>()
        + PayRequest::PATH.len()
        + usize::from(status.is_success())
        + usize::try_from(amount.minor()).unwrap_or(0)
}
