//! Inbound calls (Alipay+ calls us): verify, parse, and answer with a signed response.
//!
//! Used by the notifyPayment handler ([`notify`](crate::notify)) and by every other inbound
//! API (Auto Debit's authNotify, consultUnbinding; registration and dispute notifications).
//!
//! What a request gets (HTTP 200 with a JSON body in every case; signed for every caller
//! whose signature verified, common §1.4, §3.5):
//!
//! | request | answer `result` | signed | why |
//! |---|---|---|---|
//! | verified and parsed | `SUCCESS` / `S` / `success` (the documented acknowledgement) | yes | "received", not "payment accepted" |
//! | method other than POST | `METHOD_NOT_SUPPORTED` / `F` | **no** | common error code; the caller is not verified |
//! | signature missing, malformed, unknown keyVersion or wrong | `INVALID_SIGNATURE` / `F` | **no** | nothing in it is trusted; Alipay+ re-sends while the ack is not `S`, so a genuine notification is not lost while keys are fixed |
//! | correctly signed for another `Client-Id`, with [`InboundClientId::Refuse`] | `INVALID_CLIENT` / `F` | yes | by default it is accepted and reported ([`Accepted::client_id_is_ours`]) |
//! | correctly signed, but its `Client-Id` is no plain token (empty, control or non-ASCII bytes) | `INVALID_CLIENT` / `F` | yes | it cannot be echoed in a header; answered with our own client id (found by fuzzing) |
//! | correctly signed, `Request-Time` outside the window (only with [`InboundPolicy::with_window`](crate::config::InboundPolicy::with_window); off by default) | `PARAM_ILLEGAL` / `F` | yes | Alipay+ re-sends with a fresh time |
//! | verified but the body does not parse | `PARAM_ILLEGAL` / `F` | yes | not processed; Alipay+ re-sends; the raw body is kept in the error for investigation |
//!
//! **Unsigned refusals** depart from common §1.4 (every answer signed) on purpose: a caller
//! whose signature did not verify gains nothing from our signature (Alipay+ would not accept
//! a refusal as an acknowledgement anyway and re-sends), while signing costs a private-key
//! operation (about 1 ms of CPU) per junk request. Only verified callers get signed answers.
//!
//! The `Client-Id` header of an inbound call identifies the client (common §1.2), but the spec
//! does not confirm that Alipay+ sends *ours* on inbound calls: the signature is the
//! authority, and a mismatch is reported with the event by default
//! ([`InboundClientId`]). The answer's `Client-Id` echoes the request's (spec: "echo of the
//! caller's client id") once verified; to an unverified request we answer with our own client
//! id, never reflecting untrusted text. `Response-Time` comes from the configured clock. The
//! answer is signed over the same request URI that verified.
//!
//! `Request-Time` is parsed (ISO 8601, or epoch milliseconds) and exposed
//! ([`Accepted::request_time`]); the spec has no skew rule and Alipay+ re-sends on an
//! undocumented schedule, so no window applies unless one is configured.
//!
//! Request URI: Alipay+ signs the path it called. Whether a query string is part of it is
//! UNCERTAIN (common §2.2): by default the path alone is checked; with
//! [`InboundUri::PathThenPathAndQuery`](crate::config::InboundUri) the path and query are
//! tried next (the spec's recommended fallback, behind an explicit option).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_sign::message::header_name as header;
use alipayplus_sign::{SignContent, message};
use serde::de::DeserializeOwned;

use crate::config::{ClientConfig, InboundClientId, InboundUri};
use crate::error::{InboundError, parse_message};
use crate::time::{Timestamp, check_fresh};
use crate::transport::{CONTENT_TYPE_JSON, Request, Response};

/// The acknowledgement body (spec common §3.5), byte for byte.
pub const ACK_SUCCESS: &str =
    r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#;

/// A verified, parsed inbound request with its ready, signed answer.
#[derive(Debug, Clone)]
pub struct Accepted<N> {
    /// The parsed request body.
    pub body: N,
    /// The signed acknowledgement to send back (HTTP 200).
    pub answer: Response,
    /// keyVersion of the Alipay+ public key that verified the request.
    pub key_version: u32,
    /// The request's `Client-Id` (covered by the signature).
    pub client_id: String,
    /// Whether [`Accepted::client_id`] is our client id. A mismatch is accepted by default
    /// ([`InboundClientId::Report`]): log it; the signature vouches for the call.
    pub client_id_is_ours: bool,
    /// The signed `Request-Time`, parsed (ISO 8601 or epoch milliseconds); `None` when it is
    /// not a time (accepted unless a window is configured).
    pub request_time: Option<Timestamp>,
    /// The request URI the signature covered; sign a different answer over it with
    /// [`ClientConfig::signed_answer`] (e.g. Auto Debit's consultUnbinding, whose answer the
    /// merchant decides).
    pub signed_uri: String,
}

/// A refused inbound request with its ready answer.
#[derive(Debug)]
pub struct Refused {
    /// Why it was refused.
    pub error: InboundError,
    /// The answer to send back (HTTP 200, `resultStatus` `F`): signed when the caller
    /// verified ([`InboundError::caller_verified`]), unsigned otherwise.
    pub answer: Response,
}

/// Longest HTTP method repeated in [`InboundError::Method`] (the text is the caller's).
const MAX_METHOD_ECHO: usize = 16;

/// What verification established.
struct Checked {
    signed_uri: String,
    client_id: String,
    key_version: u32,
    request_time: Option<Timestamp>,
}

impl ClientConfig {
    /// Verifies an inbound request from Alipay+ (method, request URI, `Signature`,
    /// `Client-Id`, `Request-Time`, body) without parsing it.
    ///
    /// A refusal comes with what verified, if the caller did (its answer is then signed).
    fn check_inbound(&self, request: &Request) -> Result<Checked, (InboundError, Option<Checked>)> {
        if !request.method.eq_ignore_ascii_case("POST") {
            let method = request.method.chars().take(MAX_METHOD_ECHO).collect();
            return Err((InboundError::Method(method), None));
        }
        let path = request.path();
        let target = request.path_and_query();
        let headers = || request.headers.iter().map(|(n, v)| (n, v.as_bytes()));
        let first = message::verify_request(
            self.identity().public_keys(),
            "POST",
            path,
            headers(),
            &request.body,
        );
        let (verified, signed_uri) = match first {
            Ok(v) => (v, path.to_string()),
            Err(e)
                if target != path && self.inbound().uri() == InboundUri::PathThenPathAndQuery =>
            {
                match message::verify_request(
                    self.identity().public_keys(),
                    "POST",
                    target,
                    headers(),
                    &request.body,
                ) {
                    Ok(v) => (v, target.to_string()),
                    Err(_) => return Err((InboundError::Signature(e), None)),
                }
            }
            Err(e) => return Err((InboundError::Signature(e), None)),
        };
        let checked = Checked {
            client_id: verified.client_id.to_string(),
            key_version: verified.key_version,
            request_time: check_fresh(verified.time, self.now(), None).ok(),
            signed_uri,
        };
        if checked.client_id != self.client_id() {
            // A Client-Id that is no plain token (empty, control or non-ASCII bytes) cannot be
            // echoed in a header, so it is refused whatever the option, with our own id.
            let echoable = !checked.client_id.is_empty()
                && checked.client_id.bytes().all(|b| b.is_ascii_graphic());
            if !echoable {
                let checked = Checked {
                    client_id: self.client_id().to_string(),
                    ..checked
                };
                return Err((InboundError::ClientIdMismatch, Some(checked)));
            }
            if self.inbound().client_id() == InboundClientId::Refuse {
                return Err((InboundError::ClientIdMismatch, Some(checked)));
            }
        }
        if let Some(window) = self.inbound().window()
            && let Err(skew) = check_fresh(verified.time, self.now(), Some(window))
        {
            return Err((InboundError::Stale(skew), Some(checked)));
        }
        Ok(checked)
    }

    /// Verifies and parses an inbound request; returns the body and the signed
    /// acknowledgement ([`ACK_SUCCESS`]), or the error with its refusal (signed only when the
    /// caller verified).
    ///
    /// # Errors
    /// [`Refused`] (see the module docs for what each case answers).
    pub fn accept_inbound<N: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Result<Accepted<N>, Refused> {
        let result = self.accept_inbound_untraced(request);
        #[cfg(feature = "tracing")]
        self.trace_inbound(request, &result);
        result
    }

    fn accept_inbound_untraced<N: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Result<Accepted<N>, Refused> {
        let checked = match self.check_inbound(request) {
            Ok(c) => c,
            Err((error, Some(checked))) => {
                let answer = self.refusal(&checked.signed_uri, &checked.client_id, &error);
                return Err(Refused { error, answer });
            }
            Err((error, None)) => {
                // Unverified: no private-key work (see the module docs).
                let answer = unsigned_refusal(self, &error);
                return Err(Refused { error, answer });
            }
        };
        match serde_json::from_slice::<N>(&request.body) {
            Ok(body) => Ok(Accepted {
                body,
                answer: self.signed_answer(
                    &checked.signed_uri,
                    &checked.client_id,
                    ACK_SUCCESS.as_bytes().to_vec(),
                ),
                key_version: checked.key_version,
                client_id_is_ours: checked.client_id == self.client_id(),
                client_id: checked.client_id,
                request_time: checked.request_time,
                signed_uri: checked.signed_uri,
            }),
            Err(e) => {
                let error = InboundError::Parse {
                    error: parse_message(&e),
                    body: request.body.clone(),
                };
                let answer = self.refusal(&checked.signed_uri, &checked.client_id, &error);
                Err(Refused { error, answer })
            }
        }
    }

    #[cfg(feature = "tracing")]
    fn trace_inbound<N>(&self, request: &Request, result: &Result<Accepted<N>, Refused>) {
        use alipayplus_sign::message::header_name::CLIENT_ID;
        let seen = match result {
            Ok(accepted) => crate::trace::InboundSeen {
                refused: None,
                key_version: Some(accepted.key_version),
                client_id_ours: Some(accepted.client_id_is_ours),
                answer: &accepted.answer,
            },
            Err(refused) => crate::trace::InboundSeen {
                refused: Some(&refused.error),
                key_version: None,
                client_id_ours: refused.error.caller_verified().then(|| {
                    !matches!(refused.error, InboundError::ClientIdMismatch)
                        && request.headers.get(CLIENT_ID) == Some(self.client_id())
                }),
                answer: &refused.answer,
            },
        };
        crate::trace::inbound::<N>(request, &seen);
    }

    fn refusal(&self, uri: &str, client_id: &str, error: &InboundError) -> Response {
        self.signed_answer(uri, client_id, refusal_body(error))
    }

    /// Builds our signed HTTP 200 answer to an inbound call to `uri` (the path Alipay+
    /// called) with `body`, echoing `client_id`. For inbound APIs whose answer the merchant
    /// decides (e.g. Auto Debit's consultUnbinding).
    ///
    /// If our signer fails (a remote KMS unreachable), the answer goes out unsigned: Alipay+
    /// then treats it as not acknowledged and re-sends, which is the safe outcome.
    pub fn signed_answer(&self, uri: &str, client_id: &str, body: Vec<u8>) -> Response {
        let time = self.identity().time_header();
        let content = SignContent::response("POST", uri, client_id, &time, &body);
        let signature = self.identity().sign(&content);
        let mut response = Response::new(200, body);
        let h = &mut response.headers;
        h.insert("Content-Type", CONTENT_TYPE_JSON);
        h.insert(header::CLIENT_ID, client_id);
        h.insert(header::RESPONSE_TIME, time);
        if let Ok(s) = signature {
            h.insert(header::SIGNATURE, s.as_str());
        }
        response
    }
}

/// The body of a refusal: fixed ASCII without quotes or backslashes, no escaping needed.
fn refusal_body(error: &InboundError) -> Vec<u8> {
    let message = match error {
        InboundError::Method(_) => "only POST is supported",
        InboundError::Signature(_) => "signature verification failed",
        InboundError::ClientIdMismatch => "the request is for another client id",
        InboundError::Stale(_) => "the request time is outside the accepted window",
        InboundError::Parse { .. } => "the request body could not be parsed",
    };
    format!(
        r#"{{"result":{{"resultCode":"{}","resultStatus":"F","resultMessage":"{}"}}}}"#,
        error.result_code(),
        message
    )
    .into_bytes()
}

/// The answer to a caller whose signature did not verify: not signed (no private-key work for
/// junk), our own client id, never text of the request.
fn unsigned_refusal(config: &ClientConfig, error: &InboundError) -> Response {
    let mut response = Response::new(200, refusal_body(error));
    let h = &mut response.headers;
    h.insert("Content-Type", CONTENT_TYPE_JSON);
    h.insert(header::CLIENT_ID, config.client_id());
    h.insert(header::RESPONSE_TIME, config.identity().time_header());
    response
}
