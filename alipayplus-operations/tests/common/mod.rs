//! Test support: keys, a fixed clock, signed inbound calls and signed fake answers.
#![allow(dead_code)]

use alipayplus_client::client::{ClientConfig, Host, Outcome};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::{Request, Response};
use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys, message};
use alipayplus_types::Api;
use serde_json::Value;

pub const CLIENT_ID: &str = "SANDBOX_5YC47N2ZQHJ004124";
/// 2025-06-01T00:00:00Z
pub const T0_SECS: i64 = 1_748_736_000;

pub fn acqp_key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("../data/acqp_private_pkcs8.pem")).unwrap()
}
pub fn acqp_public() -> PublicKey {
    PublicKey::parse(include_bytes!("../data/acqp_public_spki.pem")).unwrap()
}
pub fn alipay_key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("../data/alipay_private_pkcs8.pem")).unwrap()
}
pub fn alipay_public() -> PublicKey {
    PublicKey::parse(include_bytes!("../data/alipay_public_spki.pem")).unwrap()
}
pub fn other_key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("../data/other_private_pkcs8.pem")).unwrap()
}

pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_secs(T0_SECS + secs)
}

pub fn config() -> ClientConfig {
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        acqp_key(),
        PublicKeys::single(1, alipay_public()),
        || Timestamp::from_unix_secs(T0_SECS),
    )
    .unwrap()
}

pub fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A response signed by the fake Alipay+ for `path`.
pub fn signed_response(path: &str, body: &str) -> Response {
    let time = "2025-06-01T08:00:01+08:00";
    let signature = message::sign_response(
        &alipay_key(),
        1,
        "POST",
        path,
        CLIENT_ID,
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut response = Response::new(200, body.as_bytes().to_vec());
    response.headers.insert("Client-Id", CLIENT_ID);
    response.headers.insert("Response-Time", time);
    response.headers.insert("Signature", signature.as_str());
    response
}

/// The outcome of API `A` answered with `body` (verified like a real answer).
pub fn outcome<A: Api>(body: &str) -> Outcome<A::Response> {
    config().read_response::<A>(A::PATH, Ok(signed_response(A::PATH, body)))
}

/// The outcome of API `A` when no answer came.
pub fn lost<A: Api>() -> Outcome<A::Response> {
    config().read_response::<A>(
        A::PATH,
        Err(Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut))),
    )
}

/// An inbound call from Alipay+ signed with `key` over `path`.
pub fn inbound_bytes(path: &str, bytes: Vec<u8>, key: &PrivateKey) -> Request {
    let time = "2025-06-01T08:00:02+08:00";
    let signature = message::sign_request(key, 1, "POST", path, CLIENT_ID, time, &bytes).unwrap();
    let mut request = Request::post(path, bytes);
    request
        .headers
        .insert("Content-Type", "application/json; charset=UTF-8");
    request.headers.insert("Client-Id", CLIENT_ID);
    request.headers.insert("Request-Time", time);
    request.headers.insert("Signature", signature.as_str());
    request
}

pub fn inbound(path: &str, body: &Value) -> Request {
    inbound_bytes(path, body.to_string().into_bytes(), &alipay_key())
}

/// The same call with its body changed after signing.
pub fn tampered(path: &str, body: &Value, change: &str, to: &str) -> Request {
    let mut request = inbound(path, body);
    let text = String::from_utf8(request.body.clone()).unwrap();
    assert!(text.contains(change));
    request.body = text.replacen(change, to, 1).into_bytes();
    request
}

/// The same call without a Signature header.
pub fn unsigned(path: &str, body: &Value) -> Request {
    let mut request = inbound(path, body);
    request.headers.remove("Signature");
    request
}

/// Checks our answer is signed by us over `path`; returns its JSON body.
pub fn verify_answer(path: &str, answer: &Response) -> Value {
    let keys = PublicKeys::single(1, acqp_public());
    let headers = answer.headers.iter().map(|(n, v)| (n, v.as_bytes()));
    message::verify_response(&keys, "POST", path, headers, &answer.body)
        .expect("the answer is signed by the ACQP");
    assert_eq!(answer.status, 200);
    serde_json::from_slice(&answer.body).unwrap()
}

/// Checks our refusal of an unverified caller is unsigned (no private-key work for it);
/// returns its JSON body.
pub fn unsigned_refusal(answer: &Response) -> Value {
    assert!(answer.headers.get("Signature").is_none(), "{answer:?}");
    assert_eq!(answer.status, 200);
    serde_json::from_slice(&answer.body).unwrap()
}

/// Signs `request` like the client does and checks the wire shape: URL, headers, the body as
/// JSON equal to `expected`, and a signature that verifies with our public key.
pub fn assert_signed_shape<A: Api>(request: &A, expected: &Value) {
    let prepared = config().sign_request(request).unwrap();
    let r = &prepared.request;
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.uri,
        format!("https://open-sea-global.alipayplus.com{}", A::PATH)
    );
    assert_eq!(prepared.signed_uri, A::PATH);
    assert_eq!(r.headers.get("Client-Id"), Some(CLIENT_ID));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(&body, expected);
    let keys = PublicKeys::single(1, acqp_public());
    let headers = r.headers.iter().map(|(n, v)| (n, v.as_bytes()));
    let verified = message::verify_request(&keys, "POST", A::PATH, headers, &r.body).unwrap();
    assert_eq!(verified.client_id, CLIENT_ID);
}

/// An inbound call correctly signed by Alipay+'s key for another `Client-Id`.
pub fn inbound_foreign(path: &str, body: &Value) -> Request {
    let bytes = body.to_string().into_bytes();
    let time = "2025-06-01T08:00:02+08:00";
    let signature =
        message::sign_request(&alipay_key(), 1, "POST", path, "SOMEONE-ELSE", time, &bytes)
            .unwrap();
    let mut request = Request::post(path, bytes);
    request.headers.insert("Client-Id", "SOMEONE-ELSE");
    request.headers.insert("Request-Time", time);
    request.headers.insert("Signature", signature.as_str());
    request
}
