//! Alipay+ Auto Debit for acquirers (ACQP): wallet binding, tokens, agreement payments and
//! unbinding, built on the client core of `alipayplus-cashier` (one [`Client`], one transport,
//! the same signing, verification, inbound handling and payment tracker).
//!
//! The flow (spec `autodebit.md` §1) and where each step lives:
//!
//! | step | here |
//! |---|---|
//! | keep a per-binding `authState`, call prepare, send the user to the authorization URL | [`prepare`]: [`AuthState`], [`Binding`], [`AuthorizationUrls`]; [`AutoDebit::prepare`] |
//! | the user comes back on the redirect URL with `authCode` (+ `authState`) | [`redirect`]: [`Binding::on_redirect`] (typed error on a state mismatch) |
//! | Alipay+ may push the code / token / a cancellation: authNotify | [`notify`]: [`handle_auth_notify`] → [`AuthEvent`] + signed acknowledgement |
//! | exchange the code, refresh | [`AutoDebit::exchange_code`], [`AutoDebit::apply_token_with_code`], [`AutoDebit::refresh_token`] |
//! | decide use / refresh now / bind again | [`token`]: [`TokenLifecycle`] (sans-IO, time as input) |
//! | charge with the access token, follow the result (3 s / 60 s, then cancel) | [`payment`]: [`agreement_pay_request`], [`follow_agreement_payment`] (the cashier tracker with [`TrackerPolicy::auto_debit`](alipayplus_cashier::tracker::TrackerPolicy::auto_debit)) |
//! | refund, inquire, cancel a charge | the shared payment APIs of [`Client`] ([`Client::refund_payment`], [`Client::inquiry_payment`], [`Client::cancel_payment`]) |
//! | unbind: merchant side / wallet side | [`AutoDebit::cancel_token`]; [`AuthEvent::TokenCanceled`], [`unbinding`]: [`handle_consult_unbinding`] |
//!
//! The crate is `no_std` + `alloc` with the default `std` feature off; it never reads a clock
//! or a random number generator (time and randomness are inputs).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod client;
mod error;
pub mod notify;
pub mod payment;
pub mod prepare;
pub mod redirect;
pub mod token;
pub mod unbinding;

pub use alipayplus_cashier::client::Client;
pub use client::{AuthClient, AutoDebit};
pub use error::Error;
pub use notify::{AuthEvent, AuthNotification, handle_auth_notify};
pub use payment::{
    AgreementPayment, agreement_pay_request, agreement_payment_factor, agreement_tracker,
    follow_agreement_payment,
};
pub use prepare::{AuthState, AuthorizationUrls, Binding, CodeUpdate};
pub use token::{RebindReason, TokenDecision, TokenLifecycle, TokenSet, TokenUpdate};
pub use unbinding::{UnbindingConsultation, handle_consult_unbinding};
