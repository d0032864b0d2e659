//! Inbound calls (Alipay+ calls us): verify, parse, and answer with a signed response.
//!
//! Used by the notifyPayment handler ([`notify`](crate::notify)) and by every other inbound
//! API (Auto Debit's authNotify, consultUnbinding; registration and dispute notifications).
//!
//! What a request gets (HTTP 200 with a signed JSON body in every case, as the spec asks of
//! inbound answers; common §1.4, §3.5):
//!
//! | request | answer `result` | why |
//! |---|---|---|
//! | verified and parsed | `SUCCESS` / `S` / `success` (the documented acknowledgement) | "received", not "payment accepted" |
//! | method other than POST | `METHOD_NOT_SUPPORTED` / `F` | common error code |
//! | signature missing, malformed, unknown keyVersion or wrong | `INVALID_SIGNATURE` / `F` | nothing in it is trusted; Alipay+ re-sends while the ack is not `S`, so a genuine notification is not lost while keys are fixed |
//! | correctly signed, but its `Client-Id` is not ours | `INVALID_CLIENT` / `F` | a call for another client (e.g. another acquirer's notification replayed to our URL, should Alipay+ sign both with one key) says nothing about our payments |
//! | verified but the body does not parse | `PARAM_ILLEGAL` / `F` | not processed; Alipay+ re-sends; the raw body is kept in the error for investigation |
//!
//! The `Client-Id` header of an inbound call identifies the client it is for (common §1.2:
//! it "identifies the client and selects the key pair"), so a verified call must carry ours,
//! as a verified response must (the simulator sends it so; that Alipay+ does on every inbound
//! API is our reading, kept in `check_inbound`). The answer's `Client-Id` echoes the
//! request's (spec: "echo of the caller's client id"), which is then ours; to a refused
//! request we answer with our own client id, never reflecting untrusted text. `Response-Time` comes from the configured clock. The answer is
//! signed over the same request URI that verified.
//!
//! Request URI: Alipay+ signs the path it called. Whether a query string is part of it is
//! UNCERTAIN (common §2.2): by default the path alone is checked; with
//! [`InboundUri::PathThenPathAndQuery`](crate::client::InboundUri) the path and query are
//! tried next (the spec's recommended fallback, behind an explicit option).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_sign::message::header_name as header;
use alipayplus_sign::{SignContent, message};
use serde::de::DeserializeOwned;

use crate::client::{CONTENT_TYPE_JSON, ClientConfig, InboundUri};
use crate::error::InboundError;
use crate::transport::{Request, Response};

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
    /// The request's `Client-Id`.
    pub client_id: String,
    /// The request URI the signature covered; sign a different answer over it with
    /// [`ClientConfig::signed_answer`] (e.g. Auto Debit's consultUnbinding, whose answer the
    /// merchant decides).
    pub signed_uri: String,
}

/// A refused inbound request with its ready, signed answer.
#[derive(Debug)]
pub struct Refused {
    /// Why it was refused.
    pub error: InboundError,
    /// The signed answer to send back (HTTP 200, `resultStatus` `F`).
    pub answer: Response,
}

/// Longest HTTP method repeated in [`InboundError::Method`] (the text is the caller's).
const MAX_METHOD_ECHO: usize = 16;

/// What verification established.
struct Checked {
    signed_uri: String,
    client_id: String,
    key_version: u32,
}

impl ClientConfig {
    /// Verifies an inbound request from Alipay+ (method, request URI, `Signature`,
    /// `Client-Id`, `Request-Time`, body) without parsing it.
    fn check_inbound(&self, request: &Request) -> Result<Checked, InboundError> {
        if !request.method.eq_ignore_ascii_case("POST") {
            let method = request.method.chars().take(MAX_METHOD_ECHO).collect();
            return Err(InboundError::Method(method));
        }
        let path = request.path();
        let target = request.path_and_query();
        let headers = || request.headers.iter().map(|(n, v)| (n, v.as_bytes()));
        let first =
            message::verify_request(self.public_keys(), "POST", path, headers(), &request.body);
        let (verified, signed_uri) = match first {
            Ok(v) => (v, path.to_string()),
            Err(e) if target != path && self.inbound_uri() == InboundUri::PathThenPathAndQuery => {
                match message::verify_request(
                    self.public_keys(),
                    "POST",
                    target,
                    headers(),
                    &request.body,
                ) {
                    Ok(v) => (v, target.to_string()),
                    Err(_) => return Err(InboundError::Signature(e)),
                }
            }
            Err(e) => return Err(InboundError::Signature(e)),
        };
        if verified.client_id != self.client_id() {
            return Err(InboundError::ClientIdMismatch);
        }
        Ok(Checked {
            client_id: verified.client_id.to_string(),
            key_version: verified.key_version,
            signed_uri,
        })
    }

    /// Verifies and parses an inbound request; returns the body and the signed
    /// acknowledgement ([`ACK_SUCCESS`]), or the error with its signed refusal.
    ///
    /// # Errors
    /// [`Refused`] (see the module docs for what each case answers).
    pub fn accept_inbound<N: DeserializeOwned>(
        &self,
        request: &Request,
    ) -> Result<Accepted<N>, Refused> {
        let checked = match self.check_inbound(request) {
            Ok(c) => c,
            Err(error) => {
                let path = request.path().to_string();
                let answer = self.refusal(&path, self.client_id(), &error);
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
                client_id: checked.client_id,
                signed_uri: checked.signed_uri,
            }),
            Err(e) => {
                let error = InboundError::Parse {
                    error: crate::client::parse_message(&e),
                    body: request.body.clone(),
                };
                let answer = self.refusal(&checked.signed_uri, &checked.client_id, &error);
                Err(Refused { error, answer })
            }
        }
    }

    fn refusal(&self, uri: &str, client_id: &str, error: &InboundError) -> Response {
        let message = match error {
            InboundError::Method(_) => "only POST is supported",
            InboundError::Signature(_) => "signature verification failed",
            InboundError::ClientIdMismatch => "the request is for another client id",
            InboundError::Parse { .. } => "the request body could not be parsed",
        };
        // Both parts are fixed ASCII without quotes or backslashes: no escaping needed.
        let body = format!(
            r#"{{"result":{{"resultCode":"{}","resultStatus":"F","resultMessage":"{}"}}}}"#,
            error.result_code(),
            message
        );
        self.signed_answer(uri, client_id, body.into_bytes())
    }

    /// Builds our signed HTTP 200 answer to an inbound call to `uri` (the path Alipay+
    /// called) with `body`, echoing `client_id`. For inbound APIs whose answer the merchant
    /// decides (e.g. Auto Debit's consultUnbinding).
    ///
    /// If our signer fails (a remote KMS unreachable), the answer goes out unsigned: Alipay+
    /// then treats it as not acknowledged and re-sends, which is the safe outcome.
    pub fn signed_answer(&self, uri: &str, client_id: &str, body: Vec<u8>) -> Response {
        let time = self.time_header();
        let content = SignContent::response("POST", uri, client_id, &time, &body);
        let signature = message::sign_content(self.signer(), self.key_version(), &content);
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
