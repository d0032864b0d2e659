//! The client core of the Alipay+ acquirer (ACQP) SDK: what every product flow shares.
//!
//! The main types are at the crate root: [`ClientConfig`] (composed of an [`Identity`], an
//! [`OutboundPolicy`] and an [`InboundPolicy`]), [`Client`] and its typed [`Outcome`],
//! [`PaymentRef`], the [`PaymentTracker`] and its poll-style [`PaymentFollower`], the
//! [`Transport`] / [`AsyncTransport`] seams with [`Request`] / [`Response`].
//!
//! * [`config`]: [`ClientConfig`], one concern per part: who we are and whom we trust
//!   ([`Identity`]: client id, our signer and keyVersion, Alipay+ public keys by keyVersion,
//!   a [`Clock`], the time format), how we call Alipay+ ([`OutboundPolicy`]: the [`Host`],
//!   the response freshness window), how its calls are checked ([`InboundPolicy`]).
//! * [`client`]: the one way to call any API: build its typed request, then
//!   [`Client::call`] (blocking), or the sans-IO halves [`ClientConfig::sign_request`] and
//!   [`ClientConfig::read_response`] around your own IO. The request is checked against every
//!   rule of its API first (`alipayplus_types::Api::validate`).
//! * [`outcome`]: every answer is a typed [`Outcome`] (S, F + code, U + code, no verified
//!   response) holding the verified [`Reply`].
//! * [`transport`]: the one-method [`Transport`] trait and the plain [`Request`] /
//!   [`Response`] types. Closures are transports (tests play Alipay+ with them); `http` crate
//!   conversions are behind the `http` feature (module `http_conv`); the blocking adapter is
//!   the `alipayplus-ureq` crate.
//! * Async: [`transport_async`] (the [`AsyncTransport`] trait: a future-returning `send`,
//!   `Send` futures, closures returning futures are transports; the adapter is the
//!   `alipayplus-reqwest` crate), [`client_async`] ([`Client::call_async`] for every API) and
//!   [`driver_async`] ([`PaymentFollower::run_async`], the same bounded loop as the blocking
//!   one, waiting with a sleep function you give). No runtime in the core; every step but the
//!   IO is the blocking one.
//! * [`inbound`]: verify, parse and answer calls from Alipay+ with a signed response.
//! * [`time`]: the [`Clock`]; instants are [`Timestamp`].
//! * [`tracker`]: the sans-IO [`PaymentTracker`] that takes results and the time and says
//!   what to do next (its policy, its reports, the machine); [`driver`]: the poll-style
//!   [`PaymentFollower`] machine around it (returns what to do next; its stored state resumes
//!   alone) and its blocking loop.
//! * [`follow`]: the two bounded loops every follow-up machine shares
//!   ([`follow::run`], [`follow::run_async`], a [`Limit`] on both) and the
//!   [`FollowUp`](follow::FollowUp) trait a machine implements to run on them.
//! * [`resend`]: the same-bytes follow-up ([`Resender`](resend::Resender)) for an API with an
//!   idempotency key and no inquiry: the stored body re-sent unchanged until a verified
//!   answer; [`RefundFollower`](refund::RefundFollower) is refund's.
//! * The payment APIs both products use: [`inquiry`] (inquiryPayment), [`cancel`]
//!   (cancelPayment), [`refund`] (refund), [`notify`] (the notifyPayment handler), all about
//!   a [`PaymentRef`].
//! * [`error`]: every error type of the crate.
//!
//! Product flows build on it: `alipayplus-cashier` (consultPayment, Cashier pay) and
//! `alipayplus-autodebit` (binding, tokens, agreement pay).
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use alipayplus_client::inquiry::inquiry_request;
//! use alipayplus_client::tracker::{InquiryReport, inquiry_report};
//! use alipayplus_client::{
//!     Client, ClientConfig, Host, PaymentRef, Report, Request, Response, SystemClock,
//! };
//! use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys};
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
//! let request = inquiry_request(&PaymentRef::RequestId("order-42".into()));
//! let outcome = client.call(&request).unwrap();
//! // `result` is the inquiry's outcome, `paymentResult` the payment's: an inquiry `F` is not
//! // a failed payment. `inquiry_report` reads both (or feed the outcome to the tracker).
//! match inquiry_report(&outcome) {
//!     InquiryReport::Payment(Report::Success) => println!("paid: fulfil the order"),
//!     InquiryReport::Payment(Report::Failure(code)) => {
//!         println!("the payment failed ({code}); a new attempt needs a new paymentRequestId")
//!     }
//!     InquiryReport::OrderNotFound => {
//!         // Not a failure by itself: a pay whose answer was lost may not have landed yet.
//!         // Send pay again with the same id, or cancel; only a confirmed cancel closes it.
//!         println!("Alipay+ does not know this payment (yet)")
//!     }
//!     // U, or no verified answer (timeout, bad signature, ...): never a failure.
//!     _ => println!("unknown, ask again later: {:?}", outcome.code()),
//! }
//! # }
//! ```
//!
//! `no_std`: with default features off the crate needs only `alloc` (proven by the
//! workspace's `nostd-check` build). The default `std` feature adds `time::SystemClock` and
//! RSA blinding with OS randomness in `alipayplus-sign`; `http` adds the `http` crate
//! conversions; `tracing` (off by default) adds a span per signed call, in and out (the
//! `trace` module).
#![no_std]
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cancel;
pub mod client;
pub mod client_async;
pub mod config;
pub mod driver;
pub mod driver_async;
pub mod error;
pub mod follow;
#[cfg(feature = "http")]
pub mod http_conv;
pub mod inbound;
pub mod inquiry;
pub mod notify;
pub mod outcome;
pub mod payment_ref;
pub mod refund;
pub mod resend;
pub mod time;
#[cfg(feature = "tracing")]
pub mod trace;
pub mod tracker;
pub mod transport;
pub mod transport_async;
mod url;

// The main types at the root: one `use alipayplus_client::{...}` for a typical integration.
pub use client::{Client, Prepared, check_request};
pub use config::{
    ClientConfig, Host, Identity, InboundClientId, InboundPolicy, InboundUri, OutboundPolicy,
};
pub use driver::{Action, Followed, FollowerState, PaymentFollower};
pub use error::{ConfigError, InboundError, RequestError, ResponseError};
pub use follow::Limit;
pub use outcome::{Outcome, Reply};
pub use payment_ref::PaymentRef;
#[cfg(feature = "std")]
pub use time::SystemClock;
pub use time::{Clock, Timestamp};
pub use tracker::{Final, PaymentTracker, Report, TrackerPolicy};
pub use transport::{Request, Response, Transport};
pub use transport_async::AsyncTransport;
