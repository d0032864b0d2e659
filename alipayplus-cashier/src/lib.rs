//! Alipay+ Cashier Payment for acquirers (ACQP): send the shopper to the Alipay+ checkout and
//! follow the payment to its end.
//!
//! This crate holds what is Cashier's: [`cashier`] (consultPayment, the Cashier pay request,
//! where to send the shopper) and the `cashier` example. The client core every product shares
//! lives in `alipayplus-client` and is re-exported here module by module, so a Cashier user
//! needs one dependency:
//!
//! * [`transport`], [`client`], [`inbound`], [`time`], [`error`]: the transport trait, the
//!   signed call with its typed [`Outcome`](client::Outcome), inbound handling, the clock;
//! * [`tracker`] and [`driver`]: the sans-IO payment tracker and its blocking driver;
//! * [`transport_async`], [`client_async`], [`driver_async`]: the same calls and driver over
//!   an async transport (`client.call_async(&request).await`, `follower.run_async(..)`);
//! * [`inquiry`], [`cancel`], [`refund`], [`notify`]: the payment APIs both products use.
//!
//! One way to call every API: build its typed request, then
//! [`Client::call`](client::Client::call) (or the sans-IO halves
//! [`ClientConfig::sign_request`](client::ClientConfig::sign_request) /
//! [`ClientConfig::read_response`](client::ClientConfig::read_response)).
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use alipayplus_cashier::cashier::pay_request;
//! use alipayplus_cashier::client::{Client, ClientConfig, Host};
//! use alipayplus_cashier::time::SystemClock;
//! use alipayplus_cashier::tracker::{Report, pay_report};
//! use alipayplus_cashier::transport::{Request, Response};
//! use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys};
//! # let order_request: alipayplus_types::PayRequest = todo!();
//!
//! let key = PrivateKey::parse(&std::fs::read("our_private_key.pem").unwrap()).unwrap();
//! let alipay = PublicKey::parse(&std::fs::read("alipayplus_public_key.pem").unwrap()).unwrap();
//! let config = ClientConfig::new(
//!     "SANDBOX_5YC47N2ZQHJ004124",
//!     Host::OtherRegionsAccelerated,
//!     key,
//!     PublicKeys::single(1, alipay),
//!     SystemClock,
//! )
//! .unwrap();
//! // Any transport: alipayplus_ureq::UreqTransport, or a closure.
//! let transport = |_request: Request| -> Result<Response, std::io::Error> { todo!() };
//! let client = Client::new(config, transport);
//! let outcome = client.call(&pay_request(&order_request).unwrap()).unwrap();
//! match pay_report(&outcome) {
//!     (Report::Success, _) => println!("paid"),
//!     (Report::Unknown(_), Some(redirect)) => println!("send the shopper to {redirect:?}"),
//!     (Report::Failure(code), _) => println!("failed ({code}): a new attempt needs a new id"),
//!     // U without a redirect, or no verified answer: never a failure; follow it up.
//!     _ => println!("unknown: send the same request again, or inquire"),
//! }
//! # }
//! ```
//!
//! `no_std`: with default features off the crate needs only `alloc` (proven by the
//! workspace's `nostd-check` build); `std` (default) and `http` are forwarded to
//! `alipayplus-client`.
#![no_std]
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cashier;

#[cfg(feature = "http")]
pub use alipayplus_client::http_conv;
pub use alipayplus_client::{
    cancel, client, client_async, driver, driver_async, error, inbound, inquiry, notify, refund,
    time, tracker, transport, transport_async,
};
