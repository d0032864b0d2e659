//! Shared test support: keys, a fixed clock, and a fake Alipay+ played by a closure.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use alipayplus_cashier::Timestamp;
use alipayplus_cashier::{Client, ClientConfig, Host};
use alipayplus_cashier::{Request, Response};
use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys, message};

pub const CLIENT_ID: &str = "SANDBOX_5YC47N2ZQHJ004124";
pub const BASE: &str = "https://open-sea-global.alipayplus.com";
/// 2025-02-20T08:51:49Z
pub const NOW_SECS: i64 = 1_740_041_509;

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

pub fn now() -> Timestamp {
    Timestamp::from_unix_secs(NOW_SECS)
}

pub fn config() -> ClientConfig {
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        acqp_key(),
        PublicKeys::single(1, alipay_public()),
        now,
    )
    .unwrap()
}

/// How the fake Alipay+ answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Signed correctly with the Alipay+ key.
    Signed,
    /// Signed, then the body altered.
    Tampered,
    /// No Signature header.
    Unsigned,
    /// Signed with another key.
    WrongKey,
    /// Signed correctly but for another Client-Id.
    OtherClient,
    /// HTTP 502 with a plain body.
    BadGateway,
}

/// What the fake saw.
#[derive(Default)]
pub struct Seen {
    pub requests: Vec<Request>,
}

/// A fake Alipay+: verifies each request with our public key (panicking on a bad one, so a
/// test fails), then answers `body_for(path, request_json)` as `mode` says.
pub fn fake_alipay(
    mode: Mode,
    body_for: impl Fn(&str, &serde_json::Value) -> String + Send + Sync + 'static,
) -> (
    impl Fn(Request) -> Result<Response, std::io::Error> + Send + Sync + 'static,
    Arc<Mutex<Seen>>,
) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let seen2 = seen.clone();
    let acqp = PublicKeys::single(1, acqp_public());
    let transport = move |request: Request| -> Result<Response, std::io::Error> {
        let path = request.path().to_string();
        // The request must be signed by us, over exactly these bytes.
        let headers = request.headers.iter().map(|(n, v)| (n, v.as_bytes()));
        let verified =
            message::verify_request(&acqp, &request.method, &path, headers, &request.body)
                .expect("the request is correctly signed");
        assert_eq!(verified.client_id, CLIENT_ID);
        let json: serde_json::Value =
            serde_json::from_slice(&request.body).expect("the request body is JSON");
        let body = body_for(&path, &json);
        seen2.lock().unwrap().requests.push(request.clone());
        Ok(answer(mode, &path, &body))
    };
    (transport, seen)
}

/// A response to `path` with `body`, signed (or not) as `mode` says.
pub fn answer(mode: Mode, path: &str, body: &str) -> Response {
    answer_at(mode, path, body, "2025-02-20T08:51:50Z")
}

/// [`answer`] signed at `time` (a `Response-Time` value): the client checks freshness.
pub fn answer_at(mode: Mode, path: &str, body: &str, time: &str) -> Response {
    let client_id = if mode == Mode::OtherClient {
        "SANDBOX_OTHER"
    } else {
        CLIENT_ID
    };
    let key = if mode == Mode::WrongKey {
        other_key()
    } else {
        alipay_key()
    };
    let signature =
        message::sign_response(&key, 1, "POST", path, client_id, time, body.as_bytes()).unwrap();
    let mut response = Response::new(200, body.as_bytes().to_vec());
    response
        .headers
        .insert("Content-Type", "application/json; charset=UTF-8");
    response.headers.insert("client-id", client_id);
    response.headers.insert("response-time", time);
    match mode {
        Mode::Unsigned => {}
        _ => response.headers.insert("signature", signature.as_str()),
    }
    if mode == Mode::Tampered {
        response.body = body.replace("\"S\"", "\"F\"").into_bytes();
        if response.body == body.as_bytes() {
            response.body.push(b' ');
        }
    }
    if mode == Mode::BadGateway {
        response.status = 502;
        response.body = b"<html>Bad Gateway</html>".to_vec();
        response.headers.remove("signature");
    }
    response
}

pub fn client_with<T: alipayplus_cashier::Transport>(transport: T) -> Client<T> {
    Client::new(config(), transport)
}

pub const _BASE_USED: &str = BASE;
