//! The errors of the client core, in one place. Each variant says what to do.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_sign::Error as SignError;
use alipayplus_types::{Amount, ResultStatus, Timestamp, ValidationErrors};

use crate::transport::Response;

/// Longest parser message kept in a parse error, in characters.
const MAX_PARSE_MESSAGE: usize = 256;

/// The parser's message for an error: serde_json repeats an offending string value whole
/// (`invalid type: string "..."`), so a long one is cut, keeping the position.
pub(crate) fn parse_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.char_indices().nth(MAX_PARSE_MESSAGE) {
        None => full,
        Some((cut, _)) => format!(
            "{}… at line {} column {}",
            full.get(..cut).unwrap_or_default(),
            e.line(),
            e.column()
        ),
    }
}

/// A configuration mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL given to [`Host::custom`](crate::config::Host::custom) is not usable.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The client id is empty or not a plain token.
    #[error(
        "invalid client id: {0} (use the Client-Id from the Alipay+ Developer Center, e.g. SANDBOX_5YC47N2ZQHJ004124)"
    )]
    InvalidClientId(&'static str),
}

/// A transport error, boxed so outcomes do not depend on the transport type.
pub type TransportError = Box<dyn core::error::Error + Send + Sync>;

/// Why no verified response was obtained. Every variant means "outcome unknown" (spec
/// common §3.1): inquire, or retry with the same request id. Variants that got a response
/// keep it whole (status, headers and the raw body) for support tickets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The transport got no response (connection, timeout, TLS).
    #[error("no response from Alipay+ (outcome unknown: inquire or retry with the same id): {0}")]
    Transport(#[source] TransportError),
    /// The HTTP status is not 200 (Alipay+ answers business results with 200).
    #[error("HTTP status {} from Alipay+ (outcome unknown: inquire or retry with the same id)", response.status)]
    HttpStatus {
        /// The response as received.
        response: Response,
    },
    /// The response signature is missing, malformed, made with an unknown key or wrong.
    #[error("the response is not correctly signed by Alipay+ and was rejected: {error}")]
    Signature {
        /// What is wrong with the signature.
        #[source]
        error: alipayplus_sign::Error,
        /// The response as received.
        response: Response,
    },
    /// The response is signed for another `Client-Id` than ours.
    #[error("the response was signed for another Client-Id than ours and was rejected")]
    ClientIdMismatch {
        /// The response as received.
        response: Response,
    },
    /// Correctly signed, but its `Response-Time` is not within the freshness window of our
    /// clock (or is not a time): possibly a replayed answer, or our clock is off. Check the
    /// clock (NTP); the outcome is unknown.
    #[error(
        "the response's Response-Time is not fresh ({skew}): rejected as unverified (check the clock)"
    )]
    Stale {
        /// What is wrong with the time.
        skew: TimeSkew,
        /// The response as received.
        response: Response,
    },
    /// The signature verified but the body is not the expected JSON.
    #[error("the verified response body could not be parsed: {error}")]
    Parse {
        /// The parser's message (names the field and position; long quoted values are cut).
        error: String,
        /// `resultStatus` and `resultCode` of the `result` object, if that part was readable
        /// (for logs and support; the outcome still counts as unknown).
        result: Option<(ResultStatus, String)>,
        /// The response as received (see [`Response::body`] for the raw bytes).
        response: Response,
    },
}

impl ResponseError {
    /// The response, when one was received.
    pub fn response(&self) -> Option<&Response> {
        match self {
            ResponseError::Transport(_) => None,
            ResponseError::HttpStatus { response }
            | ResponseError::Signature { response, .. }
            | ResponseError::ClientIdMismatch { response }
            | ResponseError::Stale { response, .. }
            | ResponseError::Parse { response, .. } => Some(response),
        }
    }
}

/// Why a signed time (`Response-Time`, or `Request-Time` of an inbound call) is not accepted
/// as fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeSkew {
    /// The header is empty or is neither ISO 8601 nor epoch milliseconds.
    #[error("the time header is not a time")]
    Unparsable,
    /// The time is further from our clock than the window allows.
    #[error("signed time {signed:?} is too far from our clock's {local:?}")]
    Outside {
        /// The time in the header.
        signed: Timestamp,
        /// Our clock when checking.
        local: Timestamp,
    },
}

/// Why a request was not sent. Nothing reached Alipay+.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request fails validation; fix the listed fields.
    #[error("invalid {api} request: {errors}")]
    Invalid {
        /// The API name.
        api: &'static str,
        /// Every problem found, each naming its field.
        errors: ValidationErrors,
    },
    /// The API is one Alipay+ calls (inbound); it cannot be sent.
    #[error("{0} is called by Alipay+, not by the acquirer; handle it with the inbound handler")]
    InboundApi(&'static str),
    /// The request could not be serialized to JSON.
    #[error("could not serialize the request: {0}")]
    Serialize(String),
    /// Our signer failed (e.g. a remote KMS is unreachable).
    #[error("could not sign the request: {0}")]
    Sign(#[source] alipayplus_sign::Error),
    /// A follower was resumed with a pay body other than the one whose SHA-256 its tracker
    /// recorded before the first pay left (e.g. a request rebuilt with another amount or
    /// expiry). Sending it could be refused as `REPEAT_REQ_INCONSISTENT` while the first
    /// attempt owns the id: resume from the stored follower state, which holds the exact body.
    #[error(
        "pay {payment_request_id}: the body differs from the one first sent (its digest is recorded); resume from the stored follower state"
    )]
    PayBodyMismatch {
        /// The payment's `paymentRequestId`.
        payment_request_id: String,
    },
    /// A stored follower state could not be read (not the bytes a follower stored, or
    /// tampered with): nothing can be resumed from it.
    #[error("unreadable stored follower state: {0}")]
    StoredState(String),
}

/// Why an inbound request was refused.
///
/// `Debug` shows the length of a kept body, not its content (an authNotify body carries auth
/// codes and tokens).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum InboundError {
    /// Not a POST.
    #[error("inbound call with method {0:?}; Alipay+ only POSTs")]
    Method(String),
    /// The signature is missing or does not verify with the configured Alipay+ keys.
    #[error("inbound call not signed by Alipay+ (rejected, nothing in it is trusted): {0}")]
    Signature(#[source] SignError),
    /// Correctly signed, but for another `Client-Id` than ours, and
    /// [`InboundClientId::Refuse`](crate::config::InboundClientId::Refuse) is configured.
    #[error(
        "inbound call signed for another Client-Id than ours (refused by configuration: InboundClientId::Refuse)"
    )]
    ClientIdMismatch,
    /// Correctly signed, but its `Request-Time` is outside the configured window
    /// ([`InboundPolicy::with_window`](crate::config::InboundPolicy::with_window)).
    #[error("inbound call's Request-Time is not fresh ({0}): refused (Alipay+ re-sends)")]
    Stale(TimeSkew),
    /// The verified body is not the expected JSON.
    #[error("verified inbound body could not be parsed: {error}")]
    Parse {
        /// The parser's message (names the field and position; long quoted values are cut).
        error: String,
        /// The raw body as received (it may hold credentials: not shown by `Debug`).
        body: Vec<u8>,
    },
}

impl core::fmt::Debug for InboundError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InboundError::Method(method) => f.debug_tuple("Method").field(method).finish(),
            InboundError::Signature(error) => f.debug_tuple("Signature").field(error).finish(),
            InboundError::ClientIdMismatch => f.write_str("ClientIdMismatch"),
            InboundError::Stale(skew) => f.debug_tuple("Stale").field(skew).finish(),
            InboundError::Parse { error, body } => f
                .debug_struct("Parse")
                .field("error", error)
                .field("body_len", &body.len())
                .finish(),
        }
    }
}

impl InboundError {
    /// The `resultCode` the answer carries.
    pub fn result_code(&self) -> &'static str {
        match self {
            InboundError::Method(_) => "METHOD_NOT_SUPPORTED",
            InboundError::Signature(_) => "INVALID_SIGNATURE",
            InboundError::ClientIdMismatch => "INVALID_CLIENT",
            InboundError::Stale(_) | InboundError::Parse { .. } => "PARAM_ILLEGAL",
        }
    }

    /// Whether the caller was verified as Alipay+ (then the refusal is signed; an unverified
    /// caller gets an unsigned one).
    pub fn caller_verified(&self) -> bool {
        !matches!(self, InboundError::Method(_) | InboundError::Signature(_))
    }
}

/// Why a plain request or response could not become an `http` crate value.
#[cfg(feature = "http")]
#[derive(Debug, thiserror::Error)]
#[error("cannot convert to an `http` crate value: {0}")]
pub struct HttpConversionError(#[from] http::Error);

/// Why a notification does not match the order it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationMismatch {
    /// The notification is about another payment.
    #[error("the notification is for paymentRequestId {found:?}, not {expected:?}")]
    PaymentRequestId {
        /// Ours.
        expected: String,
        /// In the notification.
        found: String,
    },
    /// A successful notification whose amount differs from the order's (or is absent).
    #[error("the notified paymentAmount {found:?} differs from the order's {expected}")]
    Amount {
        /// Ours.
        expected: Amount,
        /// In the notification.
        found: Option<Amount>,
    },
}
