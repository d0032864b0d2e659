//! What a signed call answered: a typed [`Outcome`] (S, F + code, U + code, or no verified
//! response) holding the verified [`Reply`].
//!
//! | outcome | meaning | what to do |
//! |---|---|---|
//! | [`Outcome::Success`] | verified, `resultStatus` `S` | proceed |
//! | [`Outcome::Failure`] | verified, `F` + code | act on the code; a create-type API needs a new request id |
//! | [`Outcome::Unknown`] | verified, `U` + code | never a failure: retry with the same id, or inquire |
//! | [`Outcome::NoVerifiedResponse`] | transport failure, non-200, missing/bad signature, foreign Client-Id, `Response-Time` not within 15 minutes of our clock ([`OutboundPolicy::with_response_window`](crate::config::OutboundPolicy::with_response_window)), unparsable body | same as `U` (spec common §3.1) |
//!
//! The outcome is that of the *call*. For inquiryPayment it is the inquiry's: the payment's
//! own result is `paymentResult` in an `S` answer, and an `F` inquiry (even `ORDER_NOT_EXIST`)
//! is not a failed payment ([`inquiry_report`](crate::tracker::inquiry_report)).

use alipayplus_types::HasResult;

use crate::error::ResponseError;
use crate::transport::Response;

/// A verified, parsed answer.
///
/// `Debug` shows the parsed body (what the caller branches on) and the raw response's status
/// and headers.
#[derive(Debug, Clone)]
pub struct Reply<R> {
    /// The parsed response body.
    pub body: R,
    /// The raw response (status, headers, body bytes exactly as verified).
    pub response: Response,
    /// keyVersion of the Alipay+ public key that verified the signature.
    pub key_version: u32,
}

/// The answer to a call: S, F + code, U + code, or no verified response (counts as U).
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<R> {
    /// Verified, `resultStatus` `S`.
    Success(Reply<R>),
    /// Verified, `resultStatus` `F`: a definite failure; the code says why.
    Failure(Reply<R>),
    /// Verified, `resultStatus` `U` (or an unrecognised status): the outcome is not known.
    /// Never a failure: retry with the same request id, or inquire.
    Unknown(Reply<R>),
    /// No verified response: the outcome is unknown, exactly as for `U`.
    NoVerifiedResponse(ResponseError),
}

impl<R: HasResult> Outcome<R> {
    /// The verified reply, for S, F and U.
    pub fn reply(&self) -> Option<&Reply<R>> {
        match self {
            Outcome::Success(r) | Outcome::Failure(r) | Outcome::Unknown(r) => Some(r),
            Outcome::NoVerifiedResponse(_) => None,
        }
    }

    /// The verified body, for S, F and U.
    pub fn body(&self) -> Option<&R> {
        self.reply().map(|r| &r.body)
    }

    /// `result.resultCode` of a verified reply, as sent.
    pub fn code(&self) -> Option<&str> {
        self.body().map(|b| b.result().code_str())
    }

    /// The `result` object of a verified reply (typed code, status, message).
    pub fn result(&self) -> Option<&alipayplus_types::ApiResult<R::Code>> {
        self.body().map(HasResult::result)
    }

    /// `S`.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }

    /// `F` (a definite failure).
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failure(_))
    }

    /// `U` or no verified response: the outcome is not known.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown(_) | Outcome::NoVerifiedResponse(_))
    }

    /// The status letter: `S`, `F`, or `U` (also for no verified response).
    pub fn status_str(&self) -> &'static str {
        match self {
            Outcome::Success(_) => "S",
            Outcome::Failure(_) => "F",
            _ => "U",
        }
    }
}
