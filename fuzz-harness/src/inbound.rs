//! Inbound calls (Alipay+ calls us): the request target's path, and every inbound handler.
//!
//! Handlers get past the signature through [`AcceptAll`] at the `ContentVerifier` seam (RSA
//! would stall the fuzzer on the first check) and sign their answers with [`FixedSigner`];
//! the signature path itself, with a real key, is [`crate::sign::signature_verify`]. The
//! `Signature`, `Client-Id` and `Request-Time` headers are still parsed and checked, so each
//! of them is a [`Field`]: valid (the default, so the fuzzer starts on the happy path),
//! missing, or any text.

use alipayplus_autodebit::{AuthEvent, handle_auth_notify, handle_consult_unbinding};
use alipayplus_client::client::{ClientConfig, Host, InboundUri};
use alipayplus_client::inbound::{ACK_SUCCESS, Accepted, Refused};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::{Headers, Request, Response};
use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error, PublicKeys, RsaSignature, SignContent, SignatureHeader,
};
use arbitrary::{Arbitrary, Unstructured};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::json::Body;

/// Our client id in the fuzzed configuration.
pub const CLIENT_ID: &str = "FUZZ_CLIENT_ID";
/// The notify path the valid target uses.
pub const NOTIFY_PATH: &str = "/alipayplus/notify";
/// A `Signature` header value that parses (the accept-all verifier takes any signature).
pub const VALID_SIGNATURE: &str = "algorithm=RSA256,keyVersion=1,signature=WlpaWlpaWlpaWlpa";
/// A `Request-Time` / `Response-Time` value.
pub const VALID_TIME: &str = "2025-06-01T12:00:00+08:00";

/// A `ContentVerifier` that accepts every signature: lets handler targets reach the parser.
#[derive(Debug, Clone, Copy)]
pub struct AcceptAll;

impl ContentVerifier for AcceptAll {
    fn verify(&self, _content: &SignContent<'_>, _signature: &[u8]) -> Result<(), Error> {
        Ok(())
    }
}

/// A `ContentSigner` returning a fixed 256-byte signature (answers are signed on every call;
/// RSA signing would make each execution a millisecond).
#[derive(Debug, Clone, Copy)]
pub struct FixedSigner;

impl ContentSigner for FixedSigner {
    fn sign(&self, _content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        RsaSignature::from_slice(&[0x5a; 256])
    }
}

/// The configuration the handler and response targets run with.
pub fn config(inbound_uri: InboundUri) -> ClientConfig {
    let clock = || Timestamp::from_unix_millis(1_748_750_400_000);
    match ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        FixedSigner,
        PublicKeys::single(1, AcceptAll),
        clock,
    ) {
        Ok(config) => {
            config.with_inbound(alipayplus_client::InboundPolicy::new().with_uri(inbound_uri))
        }
        Err(e) => panic!("the fuzz configuration is valid: {e}"),
    }
}

/// A header: the valid value, missing, or any text.
#[derive(Arbitrary, Debug)]
pub enum Field {
    /// The value a genuine call carries.
    Valid,
    /// No such header.
    Missing,
    /// Any text.
    Raw(String),
}

impl Field {
    /// Appends the header `name` to `headers` as chosen.
    pub fn put(&self, headers: &mut Headers, name: &str, valid: &str) {
        match self {
            Field::Valid => headers.append(name, valid),
            Field::Missing => {}
            Field::Raw(text) => headers.append(name, text.as_str()),
        }
    }
}

/// The HTTP method.
#[derive(Arbitrary, Debug)]
pub enum Method {
    /// `POST`
    Post,
    /// `post` (methods are case-sensitive in HTTP; we compare case-insensitively)
    LowerPost,
    /// Any text.
    Other(String),
}

/// The request target.
#[derive(Arbitrary, Debug)]
pub enum Target {
    /// [`NOTIFY_PATH`].
    Notify,
    /// [`NOTIFY_PATH`] with a query string.
    NotifyWithQuery(String),
    /// An absolute URL on this host with this path.
    Absolute(String, String),
    /// Any text.
    Raw(String),
}

impl Target {
    fn uri(&self) -> String {
        match self {
            Target::Notify => NOTIFY_PATH.to_string(),
            Target::NotifyWithQuery(q) => format!("{NOTIFY_PATH}?{q}"),
            Target::Absolute(host, path) => format!("https://{host}{path}"),
            Target::Raw(text) => text.clone(),
        }
    }
}

/// An inbound request, structured so that most inputs reach the handler's parser.
#[derive(Arbitrary, Debug)]
pub struct InboundInput {
    /// Method.
    pub method: Method,
    /// Request target.
    pub target: Target,
    /// `Client-Id` (valid: ours).
    pub client_id: Field,
    /// `Request-Time`.
    pub time: Field,
    /// `Signature`.
    pub signature: Field,
    /// More header fields, after the three above (duplicates included).
    pub extra_headers: Vec<(String, String)>,
    /// Check the path and query too ([`InboundUri::PathThenPathAndQuery`]).
    pub path_then_query: bool,
    /// The body.
    pub body: Body,
}

impl InboundInput {
    /// The request, with its body from `examples` (see [`Body::bytes`]).
    pub fn request(&self, examples: &[&str]) -> Request {
        let method = match &self.method {
            Method::Post => "POST".to_string(),
            Method::LowerPost => "post".to_string(),
            Method::Other(m) => m.clone(),
        };
        let mut request = Request::post(self.target.uri(), self.body.bytes(examples));
        request.method = method;
        let h = &mut request.headers;
        self.client_id.put(h, "Client-Id", CLIENT_ID);
        self.time.put(h, "Request-Time", VALID_TIME);
        self.signature.put(h, "Signature", VALID_SIGNATURE);
        for (name, value) in &self.extra_headers {
            h.append(name.as_str(), value.as_str());
        }
        request
    }

    /// The configuration this input asks for.
    pub fn config(&self) -> ClientConfig {
        config(if self.path_then_query {
            InboundUri::PathThenPathAndQuery
        } else {
            InboundUri::Path
        })
    }
}

/// Decodes a structured input; `None` when the bytes run out before it is whole.
pub fn decode<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> Option<T> {
    T::arbitrary_take_rest(Unstructured::new(data)).ok()
}

/// Asserts an answer is a well-formed answer of ours: HTTP 200, JSON body with a `result`, the
/// expected `Client-Id` (ours, or a verified caller's echoed), a `Response-Time`, no header value a server could
/// not send verbatim, and a `Signature` that parses when `signed` (an answer to a verified
/// caller) or none at all when not (a refusal of an unverified caller: no private-key work).
pub fn check_answer(answer: &Response, client_id: &str, signed: bool) -> serde_json::Value {
    assert_eq!(answer.status, 200, "answers are HTTP 200");
    assert_eq!(answer.headers.get("Client-Id"), Some(client_id));
    assert!(answer.headers.get("Response-Time").is_some());
    match answer.headers.get("Signature") {
        Some(signature) => {
            assert!(signed, "a refusal of an unverified caller is signed");
            SignatureHeader::parse(signature).expect("our Signature header parses");
        }
        None => assert!(!signed, "an answer to a verified caller is unsigned"),
    }
    for (name, value) in answer.headers.iter() {
        assert!(
            value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b)),
            "header {name} carries a control or non-ASCII byte: {value:?}"
        );
    }
    let body: serde_json::Value =
        serde_json::from_slice(&answer.body).expect("the answer body is JSON");
    assert!(body["result"]["resultCode"].is_string(), "{body}");
    body
}

/// Asserts a refusal: an `F` answer whose code is the error's, signed only when the caller was
/// verified; its `Client-Id` echoes a verified caller's plain-token client id, and is ours
/// otherwise (never unverified text).
pub fn check_refusal(refused: &Refused, request: &Request) {
    let verified = refused.error.caller_verified();
    let theirs = request
        .headers
        .get("Client-Id")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic()));
    let expected = match theirs {
        Some(id) if verified => id,
        _ => CLIENT_ID,
    };
    let body = check_answer(&refused.answer, expected, verified);
    assert_eq!(body["result"]["resultStatus"], "F");
    assert_eq!(body["result"]["resultCode"], refused.error.result_code());
}

/// Asserts an acceptance: the documented acknowledgement, signed over the request's own
/// path (or path and query), echoing the request's `Client-Id` (a verified call for another
/// client id is reported, not refused: `client_id_is_ours`); the parsed body survives a
/// serialize and parse unchanged.
pub fn check_accepted<N>(accepted: &Accepted<N>, request: &Request)
where
    N: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug,
{
    assert_echoed(&accepted.client_id, request);
    assert_eq!(accepted.client_id_is_ours, accepted.client_id == CLIENT_ID);
    assert!(request.method.eq_ignore_ascii_case("POST"));
    assert!(
        accepted.signed_uri == request.path() || accepted.signed_uri == request.path_and_query(),
        "signed over {:?}, not the request's own URI {:?}",
        accepted.signed_uri,
        request.uri
    );
    check_answer(&accepted.answer, &accepted.client_id, true);
    assert_eq!(accepted.answer.body, ACK_SUCCESS.as_bytes());
    round_trip(&accepted.body);
}

/// Asserts a verified call's reported client id is the request's own `Client-Id`.
pub fn assert_echoed(client_id: &str, request: &Request) {
    assert_eq!(Some(client_id), request.headers.get("Client-Id"));
}

/// Asserts a parsed body serializes and parses back to itself.
pub fn round_trip<N>(body: &N)
where
    N: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug,
{
    let bytes = serde_json::to_vec(body).expect("a parsed body serializes");
    let again: N = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "a parsed body does not parse back: {e}: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(
        &again, body,
        "a parsed body changes through serialize and parse"
    );
}

/// notifyPayment examples: a success and a failure notification.
pub const NOTIFY_PAYMENT_EXAMPLES: &[&str] = &[
    r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"pay-1","paymentId":"2025022011","acquirerId":"A1","pspId":"P1","customerId":"C1","paymentAmount":{"currency":"USD","value":"1000"},"paymentTime":"2025-06-01T12:00:00+08:00","walletBrandName":"GCash"}"#,
    r#"{"paymentResult":{"resultCode":"USER_BALANCE_NOT_ENOUGH","resultStatus":"F","resultMessage":"balance"},"paymentRequestId":"pay-2","paymentAmount":{"currency":"JPY","value":"5"}}"#,
];

/// authNotify examples: the spec's, and the other notification types.
pub const AUTH_NOTIFY_EXAMPLES: &[&str] = &[
    include_str!("../data/autodebit-authNotify-request.json"),
    r#"{"authorizationNotifyType":"AUTHCODE_CREATED","authClientId":"M202400001","authCode":"281001133A0B1C2D3E4F","authState":"7f3c2a90-1d2e-4b6f-9a51-0c1d2e3f4a5b"}"#,
    r#"{"authorizationNotifyType":"TOKEN_CANCELED","authClientId":"M202400001","accessToken":"28100113A1C2C3E4S5S6T7O8K9E0N1AB"}"#,
];

/// consultUnbinding examples.
pub const CONSULT_UNBINDING_EXAMPLES: &[&str] = &[
    r#"{"authClientId":"M202400001","accessToken":"28100113A1C2C3E4S5S6T7O8K9E0N1AB","customerBelongsTo":"GCASH","pspId":"1022172000000000001"}"#,
];

/// notifyPayment: `ClientConfig::handle_notify_payment` (alipayplus-client).
pub fn notify_payment(data: &[u8]) {
    let Some(input) = decode::<InboundInput>(data) else {
        return;
    };
    let request = input.request(NOTIFY_PAYMENT_EXAMPLES);
    match alipayplus_client::notify::handle_notify_payment(&input.config(), &request) {
        Ok(accepted) => check_accepted(&accepted, &request),
        Err(refused) => check_refusal(&refused, &request),
    }
}

/// authNotify: `handle_auth_notify` (alipayplus-autodebit).
pub fn auth_notify(data: &[u8]) {
    let Some(input) = decode::<InboundInput>(data) else {
        return;
    };
    let request = input.request(AUTH_NOTIFY_EXAMPLES);
    match handle_auth_notify(&input.config(), &request) {
        Ok(n) => {
            assert_echoed(&n.client_id, &request);
            assert_eq!(n.client_id_is_ours, n.client_id == CLIENT_ID);
            check_answer(&n.answer, &n.client_id, true);
            assert_eq!(n.answer.body, ACK_SUCCESS.as_bytes());
            round_trip(&n.body.request);
            assert_eq!(
                AuthEvent::from_notification(&n.body.request).ok().as_ref(),
                Some(&n.body.event)
            );
            let key = n.body.event.dedup_key();
            match &n.body.event {
                AuthEvent::AuthCodeCreated { auth_code, .. } => {
                    assert!(
                        !auth_code.expose().is_empty(),
                        "an empty auth code accepted"
                    );
                    assert!(key.ends_with(auth_code.expose()));
                }
                AuthEvent::TokenCreated { tokens, .. } => {
                    assert!(
                        !tokens.access_token.expose().is_empty(),
                        "an empty token accepted"
                    );
                }
                AuthEvent::TokenCanceled { access_token, .. } => {
                    assert!(!access_token.expose().is_empty(), "an empty token accepted");
                }
                _ => {}
            }
        }
        Err(refused) => check_refusal(&refused, &request),
    }
}

/// consultUnbinding: `handle_consult_unbinding` (alipayplus-autodebit), then both answers the
/// merchant may give (the refusal's reason is any text).
pub fn consult_unbinding(data: &[u8]) {
    let Some((input, reason)) = decode::<(InboundInput, String)>(data) else {
        return;
    };
    let request = input.request(CONSULT_UNBINDING_EXAMPLES);
    let config = input.config();
    match handle_consult_unbinding(&config, &request) {
        Ok(consultation) => {
            assert_echoed(&consultation.client_id, &request);
            assert_eq!(
                consultation.client_id_is_ours,
                consultation.client_id == CLIENT_ID
            );
            round_trip(&consultation.body);
            let allow = consultation.answer.acknowledge(&config);
            assert_eq!(allow.body, ACK_SUCCESS.as_bytes());
            let id = consultation.client_id.as_str();
            check_answer(&allow, id, true);
            let refusal = alipayplus_autodebit::unbinding_refusal(&reason);
            let refuse = check_answer(&consultation.answer.refuse(&config, &refusal), id, true);
            assert_eq!(refuse["result"]["resultStatus"], "F");
            let message = refuse["result"]["resultMessage"]
                .as_str()
                .unwrap_or_default();
            assert!(
                message.chars().count() <= 256,
                "resultMessage over 256 characters"
            );
            assert!(
                reason.starts_with(message),
                "the reason is not kept as given"
            );
        }
        Err(refused) => check_refusal(&refused, &request),
    }
}

/// Inbound request targets: `Request::path` / `Request::path_and_query` (alipayplus-client
/// transport.rs). An origin-form target (`/path?query`, what a server sees) is taken as it
/// is: the path is everything before `?` or `#`, the query is kept, the fragment dropped.
/// Any target gives a path without `?` or `#` (starting with `/` for an origin-form or
/// absolute URL), a prefix of its path-and-query, and the path of a path is itself.
pub fn request_path(data: &[u8]) {
    let uri = String::from_utf8_lossy(data);
    let request = Request::post(uri.as_ref(), Vec::new());
    let path = request.path();
    let path_and_query = request.path_and_query();
    // Origin-form (`/...`, what servers see) and absolute-form targets give a path starting
    // with `/`; any other text is no HTTP request target, and is only kept apart from its
    // query (it cannot match a path Alipay+ signed).
    let scheme = uri.split_once("://").map_or("", |(scheme, _)| scheme);
    let absolute = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if uri.starts_with('/') || absolute {
        assert!(path.starts_with('/'), "path {path:?} of {uri:?}");
    }
    assert!(!path.contains(['?', '#']), "path {path:?} of {uri:?}");
    assert!(
        !path_and_query.contains('#'),
        "{path_and_query:?} of {uri:?}"
    );
    assert!(
        path_and_query.starts_with(path) || (path == "/" && !path_and_query.starts_with('/')),
        "path {path:?} is not the start of {path_and_query:?} ({uri:?})"
    );
    if uri.starts_with('/') {
        let no_fragment = uri.split('#').next().unwrap_or_default();
        assert_eq!(path_and_query, no_fragment, "origin-form target {uri:?}");
        let no_query = no_fragment.split('?').next().unwrap_or_default();
        assert_eq!(path, no_query, "origin-form target {uri:?}");
    }
    let again = Request::post(path, Vec::new());
    assert_eq!(again.path(), path, "the path of a path changed ({uri:?})");
}
