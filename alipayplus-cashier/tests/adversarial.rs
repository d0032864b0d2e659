//! Hostile input to the inbound handlers and to `read_response`: deterministic pseudo-random
//! mutations of bodies, headers, methods and URIs (a few thousand cases, about a second) must
//! give a typed outcome, never a panic; refusals still carry a signed-form JSON answer; errors
//! repeat a bounded part of what they got and never the raw body.
//!
//! The mutation loops use a stand-in verifier that accepts every signature, so mutated bodies
//! reach the parser (the real RSA check is exercised by the targeted tests here and in
//! `inbound.rs` / `client.rs`).

mod common;

use alipayplus_cashier::InboundError;
use alipayplus_cashier::ResponseError;
use alipayplus_cashier::{ACK_SUCCESS, Refused};
use alipayplus_cashier::{ClientConfig, Host, InboundUri, Outcome};
use alipayplus_cashier::{Request, Response};
use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error as SignError, PublicKeys, RsaSignature, SignContent,
    message,
};
use alipayplus_types::{NotifyPaymentRequest, PayRequest};
use common::*;

/// Accepts every signature: lets mutated bodies reach the parser.
struct AcceptAll;
impl ContentVerifier for AcceptAll {
    fn verify(&self, _: &SignContent<'_>, _: &[u8]) -> Result<(), SignError> {
        Ok(())
    }
}

/// A constant "signature": answers are built without RSA, so the loops stay fast.
struct FixedSigner;
impl ContentSigner for FixedSigner {
    fn sign(&self, _: &SignContent<'_>) -> Result<RsaSignature, SignError> {
        RsaSignature::from_slice(&[7; 256])
    }
}

fn lenient_config(inbound_uri: InboundUri) -> ClientConfig {
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        FixedSigner,
        PublicKeys::single(1, AcceptAll),
        now,
    )
    .unwrap()
    .with_inbound(alipayplus_client::InboundPolicy::new().with_uri(inbound_uri))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "1e400",
    "-1",
    "é",
    "😀",
    "%",
    "%2",
    "?",
    "#",
    "://",
    "/",
    "=",
    "&",
    "\u{0}",
    "\r\n",
    "99999999999999999999",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 if !out.is_empty() => {
                let end = (at + rng.below(12)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(24)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn mutate_text(rng: &mut Rng, seed: &str) -> String {
    String::from_utf8_lossy(&mutate(rng, seed.as_bytes())).into_owned()
}

const NOTIFY: &str = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"pay-1","paymentId":"2025022011","paymentAmount":{"currency":"USD","value":"1000"},"paymentTime":"2025-02-20T08:52:00+08:00","customerId":"C1"}"#;
const SIGNATURE: &str = "algorithm=RSA256,keyVersion=1,signature=BwcH%2BwcH%2F%3D";

const MAX_ERROR_LEN: usize = 1024;

fn check_refusal_answer(refused: &Refused) {
    let answer = &refused.answer;
    assert_eq!(answer.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON answer");
    assert_eq!(v["result"]["resultStatus"], "F", "{v}");
    // Signed only for a caller whose signature verified (no private-key work for junk).
    assert_eq!(
        answer.headers.get("Signature").is_some(),
        refused.error.caller_verified()
    );
}

#[test]
fn inbound_handler_survives_mutated_requests() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for inbound_uri in [InboundUri::Path, InboundUri::PathThenPathAndQuery] {
        let config = lenient_config(inbound_uri);
        for round in 0..2500 {
            let mut request = Request::post("/alipay/notify?x=1", NOTIFY.as_bytes().to_vec());
            request.headers.insert("Signature", SIGNATURE);
            request.headers.insert("Client-Id", CLIENT_ID);
            request
                .headers
                .insert("Request-Time", "2025-02-20T08:52:00+08:00");
            match round % 5 {
                0 | 1 => request.body = mutate(&mut rng, NOTIFY.as_bytes()),
                2 => request.uri = mutate_text(&mut rng, "https://m.test:8443/alipay/notify?x=1#f"),
                3 => {
                    let name = ["Signature", "Client-Id", "Request-Time"][rng.below(3)];
                    let value = request.headers.get(name).unwrap_or_default().to_string();
                    if rng.below(4) == 0 {
                        request.headers.append(name, value);
                    } else {
                        request.headers.insert(name, mutate_text(&mut rng, &value));
                    }
                }
                _ => request.method = mutate_text(&mut rng, "POST"),
            }
            match alipayplus_client::notify::handle_notify_payment(&config, &request) {
                Ok(accepted) => {
                    assert_eq!(accepted.answer.status, 200);
                    assert_eq!(accepted.answer.body, ACK_SUCCESS.as_bytes());
                }
                Err(refused) => {
                    check_refusal_answer(&refused);
                    let shown = refused.error.to_string();
                    assert!(shown.len() <= MAX_ERROR_LEN, "{} bytes", shown.len());
                    let _ = format!("{refused:?}");
                }
            }
        }
    }
}

#[test]
fn read_response_survives_mutated_responses() {
    let config = lenient_config(InboundUri::Path);
    let body = r#"{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"in process"},"paymentId":"2025","paymentAmount":{"currency":"JPY","value":"100"},"paymentTime":"2025-02-20T08:52:00+08:00","normalUrl":"https://x.test/pay?a=1","extra":[1,{"b":"c"}]}"#;
    let mut rng = Rng(0xfeed_beef_1234_5678);
    for round in 0..4000 {
        let mut response = Response::new(200, body.as_bytes().to_vec());
        response.headers.insert("Signature", SIGNATURE);
        response.headers.insert("Client-Id", CLIENT_ID);
        response
            .headers
            .insert("Response-Time", "2025-02-20T08:51:50Z");
        match round % 4 {
            0 | 1 => response.body = mutate(&mut rng, body.as_bytes()),
            2 => {
                let name = ["Signature", "Client-Id", "Response-Time"][rng.below(3)];
                let value = response.headers.get(name).unwrap_or_default().to_string();
                response.headers.insert(name, mutate_text(&mut rng, &value));
            }
            _ => response.status = rng.next() as u16,
        }
        let outcome = config.read_response::<PayRequest>("/aps/api/v1/payments/pay", Ok(response));
        let _ = (outcome.status_str(), outcome.code(), outcome.result());
        if let Outcome::NoVerifiedResponse(e) = &outcome {
            let shown = e.to_string();
            assert!(shown.len() <= MAX_ERROR_LEN, "{} bytes", shown.len());
            let _ = format!("{e:?}");
        }
    }
}

/// A verified notification body that does not parse: the refusal is kept with the raw body,
/// but neither `Debug` nor `Display` shows it (it may carry tokens).
#[test]
fn refused_bodies_stay_out_of_debug() {
    let body = r#"{"authorizationNotifyType":"TOKEN_CREATED","authClientId":"M1","accessToken":"AT-TOPSECRET-0001","refreshToken":"RT-TOPSECRET-0002"}"#;
    let time = "2025-02-20T08:52:00+08:00";
    let sig = message::sign_request(
        &alipay_key(),
        1,
        "POST",
        "/notify",
        CLIENT_ID,
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut request = Request::post("/notify", body.as_bytes().to_vec());
    request.headers.insert("Signature", sig.as_str());
    request.headers.insert("Client-Id", CLIENT_ID);
    request.headers.insert("Request-Time", time);
    let refused = config()
        .accept_inbound::<NotifyPaymentRequest>(&request)
        .unwrap_err();
    let InboundError::Parse { body: kept, .. } = &refused.error else {
        panic!("{:?}", refused.error)
    };
    assert_eq!(kept, body.as_bytes(), "kept for investigation");
    for shown in [
        format!("{refused:?}"),
        format!("{:?}", refused.error),
        refused.error.to_string(),
    ] {
        assert!(!shown.contains("TOPSECRET"), "{shown}");
        // Debug of a byte vector: the token as decimal bytes.
        assert!(!shown.contains("84, 79, 80, 83"), "{shown}");
    }
    assert!(format!("{:?}", refused.error).contains(&format!("body_len: {}", body.len())));
}

/// A long string where another type is expected: serde_json repeats it whole in its message;
/// the error keeps a bounded part (and the position).
#[test]
fn parse_errors_repeat_a_bounded_part_of_the_body() {
    let long = "x".repeat(200_000);
    let body =
        format!(r#"{{"paymentResult":"{long}","paymentRequestId":"pay-1","paymentId":"1"}}"#);
    let time = "2025-02-20T08:52:00+08:00";
    let sig = message::sign_request(
        &alipay_key(),
        1,
        "POST",
        "/notify",
        CLIENT_ID,
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut request = Request::post("/notify", body.clone().into_bytes());
    request.headers.insert("Signature", sig.as_str());
    request.headers.insert("Client-Id", CLIENT_ID);
    request.headers.insert("Request-Time", time);
    let refused =
        alipayplus_client::notify::handle_notify_payment(&config(), &request).unwrap_err();
    let shown = refused.error.to_string();
    assert!(shown.len() < 600, "{} bytes: {shown:.200}", shown.len());
    assert!(shown.contains("at line 1 column"), "{shown:.400}");

    // The same for a verified response to our call.
    let response = answer(Mode::Signed, "/aps/api/v1/payments/pay", &body);
    let outcome = config().read_response::<PayRequest>("/aps/api/v1/payments/pay", Ok(response));
    let Outcome::NoVerifiedResponse(e @ ResponseError::Parse { .. }) = &outcome else {
        panic!("{outcome:?}")
    };
    let shown = e.to_string();
    assert!(shown.len() < 600, "{} bytes: {shown:.200}", shown.len());

    // And a method of any length is repeated cut.
    let mut request = Request::post("/notify", Vec::new());
    request.method = "P".repeat(100_000);
    let refused =
        alipayplus_client::notify::handle_notify_payment(&config(), &request).unwrap_err();
    assert!(refused.error.to_string().len() < 200);
}
