//! Domain types of every Alipay+ ACQP API: requests, responses, result codes, amounts and times.
//!
//! * Generated from the API description in `spec/api/*.toml` by `cargo xtask codegen` (the
//!   [`generated`] modules, re-exported here): one struct per request/response/nested object,
//!   one open enum per value set and per API's result codes, an [`Api`] impl per request type.
//! * Hand-written core types: [`Amount`] / [`Currency`] (integer minor units, never floats),
//!   [`SignedAmount`] (signed minor units, for settlement reports where refunds are negative),
//!   [`ApiResult`] / [`ResultStatus`] / [`Action`], [`DateTime`] (RFC 3339, byte-exact),
//!   [`StrBool`] / [`StrInt`] / [`StrDecimal`] (scalars sent as JSON strings), [`Secret`],
//!   and [`ValidationErrors`].
//!
//! Request rules, one home per API: `validate()` of a request (and so [`Api::validate`], which
//! the client core calls before every send) checks what the description says, generated
//! (lengths, required / required-when / required-if, including rules that depend on other
//! fields such as `paymentFactor` flags or `productCodes`), then the product rules the
//! description cannot express, hand-written in this crate's `rules` module (duplicates in a
//! list, a URL's shape, one flag excluding another, evidence shapes); the description names
//! each API's rules function, so the generated code calls it. Hand-written because those rules
//! need code, not data; generated wherever the description can say the rule.
//!
//! Parsing is tolerant where Alipay+ may grow: unknown JSON fields are kept in each generated
//! struct's `extra` map (and sent back; the fixed-shape `Amount` and `result` objects ignore
//! them), unknown enum values, result codes and statuses are kept as `Unrecognized(String)`.
//! A missing required field is an error naming the field; a malformed amount, currency or
//! date-time is an error saying what is wrong. [`ResultEnvelope`] reads just the outcome.
//!
//! Cargo features select API groups: `cashier`, `autodebit`, `registration`, `dispute`,
//! `customs` (all on by default). The payment APIs (pay, inquiryPayment, ...) come with either
//! `cashier` or `autodebit`. The crate is `no_std` + `alloc`.
//!
//! ```
//! # #[cfg(feature = "cashier")] {
//! use alipayplus_types::*;
//! let req = RefundRequest {
//!     payment_id: Some("20250601114010800100188820200356343".into()),
//!     ..RefundRequest::new("REFUND-0001".into(), Amount::new(Currency::USD, 250))
//! };
//! assert_eq!(RefundRequest::PATH, "/aps/api/v1/payments/refund");
//! assert!(req.validate().is_ok());
//! let body = serde_json::to_string(&req).unwrap();
//! assert!(body.contains(r#""refundAmount":{"currency":"USD","value":"250"}"#));
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod amount;
mod api;
mod datetime;
mod error;
mod result;
mod rules;
mod scalar;
mod timestamp;
pub mod validate;

pub mod generated;

pub use amount::{Amount, Currency, MinorUnits, SignedAmount};
pub use api::{Api, Direction, HasResult};
pub use datetime::DateTime;
pub use error::{Error, MAX_ECHO_CHARS, TimeParseError};
pub use generated::*;
pub use result::{Action, ApiResult, CodeAbout, ResultCode, ResultEnvelope, ResultStatus};
pub use scalar::{Secret, StrBool, StrDecimal, StrInt};
pub use timestamp::{TimeFormat, Timestamp};
pub use validate::{Problem, ValidationError, ValidationErrors};

/// Unknown JSON fields of an object, kept so they survive a parse / serialize round trip.
pub type Extra = alloc::collections::BTreeMap<alloc::string::String, serde_json::Value>;
