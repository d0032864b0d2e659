//! `tracing` spans of the signed calls (feature `tracing`, off by default; it needs `std`).
//!
//! **Outbound**: one span `alipayplus.outbound` per call sent by [`Client::send`](crate::client::Client::send) /
//! [`Client::send_async`](crate::client::Client::send_async) (so per
//! [`Client::call`](crate::client::Client::call) / [`Client::call_async`](crate::client::Client::call_async)), at `INFO`:
//!
//! | field | value |
//! |---|---|
//! | `api` | the API name (`pay`, `refund`, `applyToken`, ...) |
//! | `request_id`, `request_id_field` | the request's own id and which field it is (`paymentRequestId`, `refundRequestId`, `registrationRequestId`, `customsDeclarationRequestId`, `disputeRequestId`, `referenceAgreementId`, else `paymentId`); absent when the API has none (applyToken, cancelToken) |
//! | `key_version` | keyVersion of our signature |
//! | `verified` | whether the answer's signature, Client-Id and time verified |
//! | `not_verified` | why not: `transport`, `http_status`, `signature`, `client_id_mismatch`, `stale`, `parse` |
//! | `http_status` | the HTTP status when it was not 200 |
//! | `response_key_version` | keyVersion of the Alipay+ key that verified the answer |
//! | `status`, `code` | `resultStatus` (`S`, `F`, `U`; `U` without a verified answer) and `resultCode` |
//! | `latency_ms` | from handing the request to the transport to the classified outcome |
//!
//! **Inbound**: one span `alipayplus.inbound` per request given to
//! [`ClientConfig::accept_inbound`](crate::config::ClientConfig::accept_inbound) or
//! [`ClientConfig::accept_inbound_deferred`](crate::config::ClientConfig::accept_inbound_deferred)
//! (every handler: notifyPayment, authNotify, consultUnbinding, notifyRegistrationStatus,
//! initiateRetrieval, initiateEscalation):
//! `api` (from the body type: `notifyPayment`, `authNotify`, ...), `verified`, `refused` (why:
//! `method`, `signature`, `client_id_mismatch`, `stale`, `parse`), `client_id_ours` (once
//! verified), `key_version`, `request_id` / `request_id_field` (once verified), `answered`
//! (`S` acknowledged, `F` refused, `deferred` for a call whose answer the merchant decides)
//! and `answer_signed`.
//!
//! **Follow-up decisions**: events with target `alipayplus.follow` from the payment follower's
//! loops ([`PaymentFollower::run`](crate::driver::PaymentFollower::run) and `run_async`):
//! the next step (`DEBUG`: the API to send and the call budget left, or the time waited until),
//! and why a loop ended (`INFO`: the final state, or the bound reached with the payment still
//! unresolved), each with the `payment_request_id`.
//!
//! Never recorded: keys, signatures, tokens (access, refresh, auth code), `Client-Id` values,
//! headers, bodies, or anything else from a body but the ids above. The ids are at most 64
//! characters (longer ones are cut).

use alloc::string::String;
use core::any::type_name;

use serde::Deserialize;
use tracing::field::Empty;

use crate::error::{InboundError, ResponseError};
use crate::outcome::Outcome;
use crate::transport::{Request, Response};

/// Longest id recorded (Alipay+ ids are at most 64 characters).
const MAX_ID_CHARS: usize = 64;

/// The id fields a request may carry, read from its JSON body; nothing else is kept.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Ids {
    refund_request_id: Option<String>,
    customs_declaration_request_id: Option<String>,
    registration_request_id: Option<String>,
    dispute_request_id: Option<String>,
    payment_request_id: Option<String>,
    reference_agreement_id: Option<String>,
    payment_id: Option<String>,
}

/// The request's own id and its field name, in the order above (a refund's own id is its
/// refundRequestId, not the payment's).
fn own_id(body: &[u8]) -> Option<(&'static str, String)> {
    let ids: Ids = serde_json::from_slice(body).ok()?;
    let (field, id) = [
        ("refundRequestId", ids.refund_request_id),
        (
            "customsDeclarationRequestId",
            ids.customs_declaration_request_id,
        ),
        ("registrationRequestId", ids.registration_request_id),
        ("disputeRequestId", ids.dispute_request_id),
        ("paymentRequestId", ids.payment_request_id),
        ("referenceAgreementId", ids.reference_agreement_id),
        ("paymentId", ids.payment_id),
    ]
    .into_iter()
    .find_map(|(field, id)| id.map(|id| (field, id)))?;
    Some((field, id.chars().take(MAX_ID_CHARS).collect()))
}

fn record_id(span: &tracing::Span, body: &[u8]) {
    if let Some((field, id)) = own_id(body) {
        span.record("request_id_field", field);
        span.record("request_id", id.as_str());
    }
}

/// The span of one outbound call, open from the send to the classified outcome.
pub(crate) struct Outbound {
    span: tracing::Span,
    started: std::time::Instant,
}

impl Outbound {
    pub(crate) fn start(api: &'static str, key_version: u32, body: &[u8]) -> Self {
        let span = tracing::info_span!(
            "alipayplus.outbound",
            api,
            request_id = Empty,
            request_id_field = Empty,
            key_version,
            verified = Empty,
            not_verified = Empty,
            http_status = Empty,
            response_key_version = Empty,
            status = Empty,
            code = Empty,
            latency_ms = Empty,
        );
        if !span.is_disabled() {
            record_id(&span, body);
        }
        Outbound {
            span,
            started: std::time::Instant::now(),
        }
    }

    /// The span, to enter around the transport's send.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    pub(crate) fn finish<R: alipayplus_types::HasResult>(self, outcome: &Outcome<R>) {
        let span = &self.span;
        let latency = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        span.record("latency_ms", latency);
        span.record("status", outcome.status_str());
        match outcome {
            Outcome::NoVerifiedResponse(error) => {
                span.record("verified", false);
                span.record("not_verified", response_error_kind(error));
                if let ResponseError::HttpStatus { response } = error {
                    span.record("http_status", response.status);
                }
            }
            _ => {
                span.record("verified", true);
                if let Some(reply) = outcome.reply() {
                    span.record("response_key_version", reply.key_version);
                }
                if let Some(code) = outcome.code() {
                    span.record("code", code);
                }
            }
        }
        // One event in the complete span, so a plain fmt subscriber prints it with its fields.
        tracing::info!(parent: span, "alipayplus outbound call finished");
    }
}

fn response_error_kind(error: &ResponseError) -> &'static str {
    match error {
        ResponseError::Transport(_) => "transport",
        ResponseError::HttpStatus { .. } => "http_status",
        ResponseError::Signature { .. } => "signature",
        ResponseError::ClientIdMismatch { .. } => "client_id_mismatch",
        ResponseError::Stale { .. } => "stale",
        ResponseError::Parse { .. } => "parse",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

fn inbound_error_kind(error: &InboundError) -> &'static str {
    match error {
        InboundError::Method(_) => "method",
        InboundError::Signature(_) => "signature",
        InboundError::ClientIdMismatch => "client_id_mismatch",
        InboundError::Stale(_) => "stale",
        InboundError::Parse { .. } => "parse",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// `NotifyPaymentRequest` → `notifyPayment`: the API name of an inbound body type.
fn inbound_api<N>() -> String {
    let name = type_name::<N>();
    let name = name.split('<').next().unwrap_or(name);
    let name = name.rsplit("::").next().unwrap_or(name);
    let name = name.strip_suffix("Request").unwrap_or(name);
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What an inbound call came to, as the span records it.
pub(crate) struct InboundSeen<'a> {
    /// Why it was refused (`None`: accepted and acknowledged).
    pub refused: Option<&'a InboundError>,
    /// keyVersion of the key that verified an accepted call.
    pub key_version: Option<u32>,
    /// Whether the caller's `Client-Id` is ours (known once verified).
    pub client_id_ours: Option<bool>,
    /// The answer sent back (`None`: it waits for the merchant's decision).
    pub answer: Option<&'a Response>,
}

/// Records one inbound call and what was answered.
pub(crate) fn inbound<N>(request: &Request, seen: &InboundSeen<'_>) {
    let span = tracing::info_span!(
        "alipayplus.inbound",
        api = Empty,
        verified = Empty,
        refused = Empty,
        client_id_ours = Empty,
        key_version = Empty,
        request_id = Empty,
        request_id_field = Empty,
        answered = Empty,
        answer_signed = Empty,
    );
    if span.is_disabled() {
        return;
    }
    span.record("api", inbound_api::<N>().as_str());
    let verified = seen.refused.is_none_or(InboundError::caller_verified);
    match seen.refused {
        None if seen.answer.is_none() => span.record("answered", "deferred"),
        None => span.record("answered", "S"),
        Some(error) => {
            span.record("refused", inbound_error_kind(error));
            span.record("answered", "F")
        }
    };
    if let Some(ours) = seen.client_id_ours {
        span.record("client_id_ours", ours);
    }
    if let Some(key_version) = seen.key_version {
        span.record("key_version", key_version);
    }
    span.record("verified", verified);
    if verified {
        record_id(&span, &request.body);
    }
    if let Some(answer) = seen.answer {
        let signed = answer
            .headers
            .get(alipayplus_sign::message::header_name::SIGNATURE)
            .is_some();
        span.record("answer_signed", signed);
    }
    // One event in the complete span, so a plain fmt subscriber prints it with its fields.
    tracing::info!(parent: &span, "alipayplus inbound call answered");
}

#[cfg(test)]
mod tests {
    use super::*;

    struct AuthNotifyRequest;

    #[test]
    fn inbound_api_names_come_from_the_body_type() {
        assert_eq!(
            inbound_api::<alipayplus_types::NotifyPaymentRequest>(),
            "notifyPayment"
        );
        assert_eq!(inbound_api::<AuthNotifyRequest>(), "authNotify");
        assert_eq!(inbound_api::<Option<AuthNotifyRequest>>(), "option");
    }

    #[test]
    fn only_the_own_id_is_taken_from_a_body() {
        let refund = br#"{"paymentRequestId":"P1","refundRequestId":"R1","refundAmount":{}}"#;
        assert_eq!(own_id(refund), Some(("refundRequestId", "R1".into())));
        let apply = br#"{"grantType":"REFRESH_TOKEN","refreshToken":"secret"}"#;
        assert_eq!(own_id(apply), None);
        let long = alloc::format!(r#"{{"paymentRequestId":"{}"}}"#, "x".repeat(500));
        assert_eq!(own_id(long.as_bytes()).unwrap().1.len(), MAX_ID_CHARS);
        assert_eq!(own_id(b"not json"), None);
    }
}
