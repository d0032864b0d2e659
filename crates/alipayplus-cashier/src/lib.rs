//! Alipay+ Cashier Payment for acquirers (ACQP), and the client core Auto Debit builds on.
//!
//! * [`transport`]: the one-method [`Transport`](transport::Transport) trait and the plain
//!   request/response types (closures are transports; `http` crate conversions behind the
//!   `http` feature; the blocking adapter is the `alipayplus-ureq` crate).
//!
//! The crate is `no_std` + `alloc` with the default `std` feature off.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cancel;
pub mod cashier;
pub mod client;
pub mod inbound;
pub mod inquiry;
pub mod notify;
pub mod refund;
pub mod time;
pub mod tracker;
pub mod transport;
