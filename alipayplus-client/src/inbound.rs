//! Inbound calls (Alipay+ calls us): verify, parse, and answer with a signed response.
//!
//! **One handler shape** for the six inbound calls: notifyPayment
//! ([`handle_notify_payment`](crate::notify::handle_notify_payment)), and in the product
//! crates authNotify, consultUnbinding, notifyRegistrationStatus, initiateRetrieval and
//! initiateEscalation. Each is a function `fn(&ClientConfig, &Request) -> Handled<T, A>`:
//! the verified call ([`Accepted`]: its typed body, the `Client-Id` flag
//! [`Accepted::client_id_is_ours`], the keyVersion, the parsed `Request-Time`) with its
//! answer, or the [`Refused`] answer to send back. The answer `A` is the signed
//! acknowledgement ([`Response`]) for notifications, or a [`Deferred`] answer that the
//! merchant's decision completes into the signed answer (consultUnbinding, the disputes):
//! `deferred.complete(config, Ok(()))` acknowledges, `Err(Refusal::new(code, message))`
//! refuses. [`Accepted::map`] turns a body into what a product reads from it; [`Refusal`] is
//! the one builder of refusal bodies.
//!
//! ```
//! use alipayplus_client::inbound::{Deferred, Handled, Refusal};
//! use alipayplus_client::{ClientConfig, Request, Response};
//!
//! // A handler of a call whose answer the merchant decides (the body type is the API's).
//! fn handle(config: &ClientConfig, request: &Request) -> Handled<serde_json::Value, Deferred> {
//!     config.accept_inbound_deferred(request)
//! }
//!
//! fn serve(config: &ClientConfig, request: &Request, allowed: bool) -> Response {
//!     match handle(config, request) {
//!         Ok(call) => {
//!             let decision = match allowed {
//!                 true => Ok(()),
//!                 false => Err(Refusal::new("PROCESS_FAIL", "outstanding fares")),
//!             };
//!             call.answer.complete(config, decision)
//!         }
//!         Err(refused) => refused.answer,
//!     }
//! }
//! ```
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

/// What every inbound handler returns: the verified call with its answer, or the refusal to
/// send back.
pub type Handled<T, A = Response> = Result<Accepted<T, A>, Refused>;

/// A verified inbound call: what it says (`body`), who vouched for it, and its answer.
///
/// `A` is the answer: a ready, signed [`Response`] for notifications (notifyPayment,
/// authNotify, notifyRegistrationStatus: store the body, then send it), or a [`Deferred`]
/// answer for the calls whose answer the merchant decides (consultUnbinding,
/// initiateRetrieval, initiateEscalation), which the decision completes into the signed
/// answer ([`Deferred::complete`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Accepted<T, A = Response> {
    /// What the call says: the parsed request body, or what a product handler read from it.
    pub body: T,
    /// The answer: signed and ready ([`Response`]), or waiting for the decision
    /// ([`Deferred`]).
    pub answer: A,
    /// keyVersion of the Alipay+ public key that verified the request.
    pub key_version: u32,
    /// The request's `Client-Id` (covered by the signature; echoed in the answer).
    pub client_id: String,
    /// Whether [`Accepted::client_id`] is our client id. A mismatch is accepted by default
    /// ([`InboundClientId::Report`]): log it, and decide before acting; the signature
    /// vouches for the call.
    pub client_id_is_ours: bool,
    /// The signed `Request-Time`, parsed (ISO 8601 or epoch milliseconds); `None` when it is
    /// not a time (accepted unless a window is configured).
    pub request_time: Option<Timestamp>,
    /// The request URI the signature covered (every answer is signed over it).
    pub signed_uri: String,
}

impl<T, A> Accepted<T, A> {
    /// The same call with its body turned into `f(body)` (e.g. the typed event a product
    /// handler reads from it); the answer and what verified are kept.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Accepted<U, A> {
        Accepted {
            body: f(self.body),
            answer: self.answer,
            key_version: self.key_version,
            client_id: self.client_id,
            client_id_is_ours: self.client_id_is_ours,
            request_time: self.request_time,
            signed_uri: self.signed_uri,
        }
    }

    /// Refuses this verified call after all (e.g. a field its type requires is missing):
    /// `error` with the signed answer carrying `refusal`. Alipay+ re-sends a refused call.
    pub fn refuse(&self, config: &ClientConfig, error: InboundError, refusal: &Refusal) -> Refused {
        let answer = config.signed_answer(&self.signed_uri, &self.client_id, refusal.body());
        Refused { error, answer }
    }

    fn with_answer<B>(self, answer: B) -> Accepted<T, B> {
        Accepted {
            body: self.body,
            answer,
            key_version: self.key_version,
            client_id: self.client_id,
            client_id_is_ours: self.client_id_is_ours,
            request_time: self.request_time,
            signed_uri: self.signed_uri,
        }
    }
}

/// The answer to a verified inbound call that waits for the merchant's decision
/// (consultUnbinding, initiateRetrieval, initiateEscalation): [`Deferred::complete`] turns the
/// decision into the signed answer, over the request URI that verified, echoing the caller's
/// `Client-Id`. It holds no secret and may be stored (e.g. while a person decides).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deferred {
    signed_uri: String,
    client_id: String,
}

impl Deferred {
    /// The signed answer for the decision: `Ok(())` acknowledges (`SUCCESS` / `S`,
    /// [`ACK_SUCCESS`]), `Err(refusal)` refuses (`F` with the refusal's code and message).
    pub fn complete(&self, config: &ClientConfig, decision: Result<(), Refusal>) -> Response {
        match decision {
            Ok(()) => self.acknowledge(config),
            Err(refusal) => self.refuse(config, &refusal),
        }
    }

    /// The signed acknowledgement (`SUCCESS` / `S`).
    pub fn acknowledge(&self, config: &ClientConfig) -> Response {
        config.signed_answer(&self.signed_uri, &self.client_id, ACK_SUCCESS.into())
    }

    /// The signed refusal (`F` with the refusal's code and message).
    pub fn refuse(&self, config: &ClientConfig, refusal: &Refusal) -> Response {
        config.signed_answer(&self.signed_uri, &self.client_id, refusal.body())
    }
}

/// Longest `resultMessage` of a refusal, in characters (the documented 256).
pub const MAX_REFUSAL_MESSAGE: usize = 256;

/// The `result` of a refusal (`resultStatus` `F`): a `resultCode` and a `resultMessage`.
/// The one way answers to inbound calls refuse, so no handler writes the JSON by hand.
///
/// ```
/// use alipayplus_client::inbound::Refusal;
/// let refusal = Refusal::new("PROCESS_FAIL", "outstanding fares must be paid \"first\"");
/// let body: serde_json::Value = serde_json::from_slice(&refusal.body()).unwrap();
/// assert_eq!(body["result"]["resultStatus"], "F");
/// assert_eq!(body["result"]["resultCode"], "PROCESS_FAIL");
/// assert_eq!(body["result"]["resultMessage"], "outstanding fares must be paid \"first\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    code: String,
    message: String,
}

impl Refusal {
    /// A refusal with `code` and `message` (cut to [`MAX_REFUSAL_MESSAGE`] characters).
    pub fn new(code: impl Into<String>, message: &str) -> Self {
        Refusal {
            code: code.into(),
            message: message.chars().take(MAX_REFUSAL_MESSAGE).collect(),
        }
    }

    /// The refusal the client core answers for `error`.
    pub fn of(error: &InboundError) -> Self {
        let message = match error {
            InboundError::Method(_) => "only POST is supported",
            InboundError::Signature(_) => "signature verification failed",
            InboundError::ClientIdMismatch => "the request is for another client id",
            InboundError::Stale(_) => "the request time is outside the accepted window",
            InboundError::Parse { .. } => "the request body could not be parsed",
        };
        Refusal::new(error.result_code(), message)
    }

    /// The `resultCode`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `resultMessage`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The answer body: `{"result":{"resultCode":..,"resultStatus":"F","resultMessage":..}}`.
    pub fn body(&self) -> Vec<u8> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Result<'a> {
            result_code: &'a str,
            result_status: &'a str,
            result_message: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            result: Result<'a>,
        }
        let body = Body {
            result: Result {
                result_code: &self.code,
                result_status: "F",
                result_message: &self.message,
            },
        };
        // Strings and a fixed shape: serializing cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
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

    /// Verifies and parses an inbound request (the first step of every inbound handler);
    /// returns the body and the signed acknowledgement ([`ACK_SUCCESS`]), or the error with
    /// its refusal (signed only when the caller verified).
    ///
    /// # Errors
    /// [`Refused`] (see the module docs for what each case answers).
    pub fn accept_inbound<N: DeserializeOwned>(&self, request: &Request) -> Handled<N> {
        let result = self.verify_and_parse::<N>(request).map(|deferred| {
            let answer = deferred.answer.acknowledge(self);
            deferred.with_answer(answer)
        });
        #[cfg(feature = "tracing")]
        self.trace_inbound(request, &result, |accepted| Some(&accepted.answer));
        result
    }

    /// [`ClientConfig::accept_inbound`] for a call whose answer the merchant decides: the
    /// answer is [`Deferred`] (nothing is signed before the decision).
    ///
    /// # Errors
    /// [`Refused`] (see the module docs for what each case answers).
    pub fn accept_inbound_deferred<N: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Handled<N, Deferred> {
        let result = self.verify_and_parse::<N>(request);
        #[cfg(feature = "tracing")]
        self.trace_inbound(request, &result, |_| None);
        result
    }

    fn verify_and_parse<N: DeserializeOwned>(&self, request: &Request) -> Handled<N, Deferred> {
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
                answer: Deferred {
                    signed_uri: checked.signed_uri.clone(),
                    client_id: checked.client_id.clone(),
                },
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
    fn trace_inbound<N, A>(
        &self,
        request: &Request,
        result: &Handled<N, A>,
        answer: impl Fn(&Accepted<N, A>) -> Option<&Response>,
    ) {
        use alipayplus_sign::message::header_name::CLIENT_ID;
        let seen = match result {
            Ok(accepted) => crate::trace::InboundSeen {
                refused: None,
                key_version: Some(accepted.key_version),
                client_id_ours: Some(accepted.client_id_is_ours),
                answer: answer(accepted),
            },
            Err(refused) => crate::trace::InboundSeen {
                refused: Some(&refused.error),
                key_version: None,
                client_id_ours: refused.error.caller_verified().then(|| {
                    !matches!(refused.error, InboundError::ClientIdMismatch)
                        && request.headers.get(CLIENT_ID) == Some(self.client_id())
                }),
                answer: Some(&refused.answer),
            },
        };
        crate::trace::inbound::<N>(request, &seen);
    }

    fn refusal(&self, uri: &str, client_id: &str, error: &InboundError) -> Response {
        self.signed_answer(uri, client_id, Refusal::of(error).body())
    }

    /// Builds our signed HTTP 200 answer to an inbound call to `uri` (the path Alipay+
    /// called) with `body`, echoing `client_id`. Handlers answer through [`Accepted`],
    /// [`Deferred`] and [`Refusal`], which call it.
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

/// The answer to a caller whose signature did not verify: not signed (no private-key work for
/// junk), our own client id, never text of the request.
fn unsigned_refusal(config: &ClientConfig, error: &InboundError) -> Response {
    let mut response = Response::new(200, Refusal::of(error).body());
    let h = &mut response.headers;
    h.insert("Content-Type", CONTENT_TYPE_JSON);
    h.insert(header::CLIENT_ID, config.client_id());
    h.insert(header::RESPONSE_TIME, config.identity().time_header());
    response
}
