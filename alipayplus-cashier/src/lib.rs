//! Alipay+ Cashier Payment for acquirers (ACQP): send the shopper to the Alipay+ checkout and
//! follow the payment to its end.
//!
//! This crate holds what is Cashier's: [`cashier`] (consultPayment, the Cashier pay request,
//! where to send the shopper) and the `cashier` example. The client core every product shares
//! lives in `alipayplus-client`; the items a Cashier integration uses are re-exported here at
//! the root (items, not modules: each has one import path), so a Cashier user needs one
//! dependency:
//!
//! * the configuration and the call: [`ClientConfig`] ([`Identity`], [`OutboundPolicy`],
//!   [`InboundPolicy`]), [`Host`], [`Client`] with its typed [`Outcome`], the [`Transport`] /
//!   [`AsyncTransport`] seams with [`Request`] / [`Response`], the [`Clock`];
//! * the payment APIs both products use, about a [`PaymentRef`]: [`inquiry_request`],
//!   [`cancel_request`], [`refund_request`], and the notifyPayment handler
//!   [`handle_notify_payment`] with [`check_notification`];
//! * the follow-up: the sans-IO [`PaymentTracker`] (its [`TrackerPolicy`] and the readers
//!   [`pay_report`], [`inquiry_report`], [`cancel_report`]) and the poll-style
//!   [`PaymentFollower`] with its blocking and async loops;
//! * the errors: [`RequestError`], [`ResponseError`], [`InboundError`], [`ConfigError`].
//!
//! Everything else of the core is in `alipayplus-client`. One way to call every API: build
//! its typed request, then [`Client::call`] (or `call_async`, or the sans-IO halves
//! [`ClientConfig::sign_request`] / [`ClientConfig::read_response`]); the request is checked
//! against every rule of its API first.
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use alipayplus_cashier::cashier::checked_pay;
//! use alipayplus_cashier::{
//!     Client, ClientConfig, Host, Report, Request, Response, SystemClock, pay_report,
//! };
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
//! let outcome = client.call(&checked_pay(&order_request).unwrap()).unwrap();
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

#[cfg(feature = "std")]
pub use alipayplus_client::SystemClock;
pub use alipayplus_client::cancel::cancel_request;
pub use alipayplus_client::driver::{
    Action, Followed, FollowerState, Limit, Notified, PaymentFollower, Wake,
};
pub use alipayplus_client::error::{
    ConfigError, InboundError, NotificationMismatch, RequestError, ResponseError, TimeSkew,
};
pub use alipayplus_client::inbound::{ACK_SUCCESS, Accepted, Handled, Refusal, Refused};
pub use alipayplus_client::inquiry::inquiry_request;
pub use alipayplus_client::notify::{Notification, check_notification, handle_notify_payment};
pub use alipayplus_client::refund::refund_request;
pub use alipayplus_client::time::TimeFormat;
pub use alipayplus_client::tracker::{
    CancelReport, Final, InquiryReport, PaymentTracker, Report, ShopperRedirect, Step,
    TrackerPolicy, Update, cancel_report, inquiry_report, notification_report, pay_report,
};
pub use alipayplus_client::transport::Headers;
pub use alipayplus_client::{
    AsyncTransport, Client, ClientConfig, Clock, Host, Identity, InboundClientId, InboundPolicy,
    InboundUri, OutboundPolicy, Outcome, PaymentRef, Prepared, Reply, Request, Response, Timestamp,
    Transport, check_request,
};
