//! Alipay+ Auto Debit for acquirers (ACQP): wallet binding, tokens, agreement payments and
//! unbinding, built on the client core of `alipayplus-client` (one [`Client`], one transport,
//! the same signing, verification, inbound handling and payment tracker).
//!
//! The flow (spec `autodebit.md` §1) and where each step lives:
//!
//! | step | here |
//! |---|---|
//! | keep a per-binding `authState`, call prepare, send the user to the authorization URL | [`prepare`]: [`AuthState`], [`Binding`] ([`Binding::prepare_request`]), [`AuthorizationUrls`] |
//! | the user comes back on the redirect URL with `authCode` (+ `authState`) | [`redirect`]: [`Binding::on_redirect`] (typed error on a state mismatch) |
//! | Alipay+ may push the code / token / a cancellation: authNotify | [`notify`]: [`handle_auth_notify`] → [`AuthEvent`] + signed acknowledgement |
//! | exchange the code, refresh | [`Binding::apply_token_request`] + [`Binding::on_apply_token_outcome`]; [`TokenLifecycle::refresh_request`] + [`TokenLifecycle::on_refresh_outcome`]; [`code_token_request`], [`refresh_request`] |
//! | decide use / refresh now / bind again | [`token`]: [`TokenLifecycle`] (sans-IO, time as input) |
//! | charge with the access token, follow the result (3 s / 60 s, then cancel) | [`payment`]: [`agreement_pay_request`], [`checked_agreement_pay`], [`follow_agreement_payment`] / [`follow_agreement_payment_async`] (the client core's tracker with [`TrackerPolicy::auto_debit`](alipayplus_client::tracker::TrackerPolicy::auto_debit) and its driver) |
//! | refund, inquire, cancel a charge | the shared payment APIs of `alipayplus-client` ([`refund_request`](alipayplus_client::refund::refund_request), [`inquiry_request`](alipayplus_client::inquiry::inquiry_request), [`cancel_request`](alipayplus_client::cancel::cancel_request)) |
//! | unbind: merchant side / wallet side | [`cancel_token_request`]; [`AuthEvent::TokenCanceled`], [`unbinding`]: [`handle_consult_unbinding`] |
//!
//! Every call is made the same way: build the typed request here, send it with
//! [`Client::call`] (or sign and read it sans-IO with the client core), fold the outcome into
//! the state it concerns.
//!
//! A binding from prepare to the code exchange, sans-IO (send each request with
//! [`Client::call`]):
//!
//! ```
//! use alipayplus_autodebit::{AuthClient, AuthState, Binding, CodeUpdate};
//! use alipayplus_types::TerminalType;
//!
//! let merchant = AuthClient::new("M202400001", "Example Trading Pte. Ltd.");
//! let state = AuthState::from_random_bytes([7; 16]); // use real randomness
//! let mut binding = Binding::new("M202400001", "https://merchant.example/auth-return", state);
//! let prepare = binding.prepare_request(&merchant, TerminalType::Web, None);
//! assert!(prepare.validate().is_ok());
//! // ... client.call(&prepare), send the user to the authorization URL; they come back with:
//! let back = format!("/auth-return?authCode=CODE1&authState={}", binding.state().as_str());
//! assert!(matches!(binding.on_redirect(&back)?, CodeUpdate::New));
//! let apply_token = binding.apply_token_request()?; // then client.call(&apply_token)
//! assert_eq!(apply_token.auth_client_id, "M202400001");
//! # Ok::<(), alipayplus_autodebit::Error>(())
//! ```
//!
//! The crate is `no_std` + `alloc` with the default `std` feature off; it never reads a clock
//! or a random number generator (time and randomness are inputs).
#![no_std]
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod notify;
pub mod payment;
pub mod prepare;
pub mod redirect;
pub mod token;
pub mod unbinding;

pub use alipayplus_client::client::Client;
pub use alipayplus_client::driver::Followed;
pub use error::Error;
pub use notify::{AuthEvent, AuthNotice, AuthNotification, handle_auth_notify};
pub use payment::{
    agreement_follower, agreement_pay_request, agreement_payment_factor, agreement_tracker,
    checked_agreement_pay, follow_agreement_payment, follow_agreement_payment_async,
};
pub use prepare::{AuthClient, AuthState, AuthorizationUrls, Binding, CodeUpdate};
pub use token::{
    RebindReason, TokenDecision, TokenLifecycle, TokenSet, TokenUpdate, code_token_request,
    refresh_request,
};
pub use unbinding::{
    UnbindingConsultation, cancel_token_request, handle_consult_unbinding, unbinding_refusal,
};
