//! Inbound calls: verification, parsing and the signed answers.

mod common;

use alipayplus_client::client::InboundUri;
use alipayplus_client::error::InboundError;
use alipayplus_client::inbound::ACK_SUCCESS;
use alipayplus_client::transport::{Request, Response};
use alipayplus_sign::{PrivateKey, PublicKeys, message};
use common::*;

const NOTIFY: &str = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"pay-1","paymentId":"2025022011","acquirerId":"A1","pspId":"P1","customerId":"C1","paymentAmount":{"currency":"USD","value":"1000"}}"#;

/// A notification as Alipay+ sends it to `target`, signed with `key`.
fn inbound(key: &PrivateKey, target: &str, signed_uri: &str, body: &str) -> Request {
    let time = "2025-02-20T08:52:00+08:00";
    let sig = message::sign_request(key, 1, "POST", signed_uri, CLIENT_ID, time, body.as_bytes())
        .unwrap();
    let mut r = Request::post(target, body.as_bytes().to_vec());
    r.headers.insert("content-type", "application/json");
    r.headers.insert("signature", sig.as_str());
    r.headers.insert("client-id", CLIENT_ID);
    r.headers.insert("request-time", time);
    r
}

/// Alipay+'s side: the answer must verify with our public key for the path it called.
fn answer_verifies(answer: &Response, path: &str) -> bool {
    let keys = PublicKeys::single(1, acqp_public());
    message::verify_response(
        &keys,
        "POST",
        path,
        answer.headers.iter().map(|(n, v)| (n, v.as_bytes())),
        &answer.body,
    )
    .is_ok()
}

fn result_code(answer: &Response) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    (
        v["result"]["resultCode"].as_str().unwrap().to_string(),
        v["result"]["resultStatus"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_good_notification_gets_a_signed_ack() {
    let req = inbound(&alipay_key(), "/alipay/notify", "/alipay/notify", NOTIFY);
    let accepted = config().accept_inbound::<serde_json::Value>(&req).unwrap();
    assert_eq!(accepted.body["paymentRequestId"], "pay-1");
    assert_eq!(accepted.client_id, CLIENT_ID);
    let ack = &accepted.answer;
    assert_eq!(ack.status, 200);
    assert_eq!(ack.body, ACK_SUCCESS.as_bytes());
    assert_eq!(ack.headers.get("Client-Id"), Some(CLIENT_ID));
    assert_eq!(
        ack.headers.get("Response-Time"),
        Some("2025-02-20T08:51:49+00:00")
    );
    assert!(answer_verifies(ack, "/alipay/notify"));
    assert!(
        !answer_verifies(ack, "/other"),
        "signed for the path called"
    );
}

#[test]
fn absolute_uris_and_query_strings() {
    // Signed over the path only (the usual reading).
    let req = inbound(
        &alipay_key(),
        "https://merchant.test/alipay/notify?tenant=7",
        "/alipay/notify",
        NOTIFY,
    );
    let ok = config().accept_inbound::<serde_json::Value>(&req).unwrap();
    assert!(answer_verifies(&ok.answer, "/alipay/notify"));
    // Signed over path and query (the other reading): refused by default, accepted with the
    // explicit option and answered over the same URI.
    let req = inbound(
        &alipay_key(),
        "/alipay/notify?tenant=7",
        "/alipay/notify?tenant=7",
        NOTIFY,
    );
    assert!(config().accept_inbound::<serde_json::Value>(&req).is_err());
    let lenient = config().with_inbound(
        alipayplus_client::InboundPolicy::new().with_uri(InboundUri::PathThenPathAndQuery),
    );
    let ok = lenient.accept_inbound::<serde_json::Value>(&req).unwrap();
    assert!(answer_verifies(&ok.answer, "/alipay/notify?tenant=7"));
    // Still nothing forged gets through with the option.
    let forged = inbound(
        &other_key(),
        "/alipay/notify?t=1",
        "/alipay/notify?t=1",
        NOTIFY,
    );
    assert!(
        lenient
            .accept_inbound::<serde_json::Value>(&forged)
            .is_err()
    );
}

#[test]
fn bad_signatures_are_refused_with_an_unsigned_invalid_signature() {
    let mut cases = Vec::new();
    // Wrong key.
    cases.push(inbound(&other_key(), "/n", "/n", NOTIFY));
    // Tampered body.
    let mut r = inbound(&alipay_key(), "/n", "/n", NOTIFY);
    r.body = NOTIFY.replace("1000", "9000").into_bytes();
    cases.push(r);
    // Signed for another path.
    cases.push(inbound(&alipay_key(), "/n", "/elsewhere", NOTIFY));
    // Unsigned.
    let mut r = inbound(&alipay_key(), "/n", "/n", NOTIFY);
    r.headers.remove("signature");
    cases.push(r);
    // Time altered.
    let mut r = inbound(&alipay_key(), "/n", "/n", NOTIFY);
    r.headers
        .insert("request-time", "2025-02-20T08:52:01+08:00");
    cases.push(r);
    for req in cases {
        let refused = config()
            .accept_inbound::<serde_json::Value>(&req)
            .unwrap_err();
        assert!(
            matches!(refused.error, InboundError::Signature(_)),
            "{:?}",
            refused.error
        );
        assert_eq!(refused.answer.status, 200);
        assert_eq!(
            result_code(&refused.answer),
            ("INVALID_SIGNATURE".into(), "F".into())
        );
        // Our own client id, never the untrusted one; unsigned (the caller is unverified).
        assert_eq!(refused.answer.headers.get("Client-Id"), Some(CLIENT_ID));
        assert!(refused.answer.headers.get("Signature").is_none());
        assert!(!answer_verifies(&refused.answer, "/n"));
    }
}

#[test]
fn unparsable_bodies_and_other_methods_are_refused() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Needs {
        #[serde(rename = "paymentRequestId")]
        id: String,
    }
    let req = inbound(&alipay_key(), "/n", "/n", r#"{"paymentResult":{}}"#);
    let refused = config().accept_inbound::<Needs>(&req).unwrap_err();
    let InboundError::Parse { error, body } = &refused.error else {
        panic!("{:?}", refused.error)
    };
    assert!(error.contains("paymentRequestId"), "{error}");
    assert_eq!(body, br#"{"paymentResult":{}}"#);
    assert_eq!(
        result_code(&refused.answer),
        ("PARAM_ILLEGAL".into(), "F".into())
    );
    assert!(answer_verifies(&refused.answer, "/n"));

    let mut req = inbound(&alipay_key(), "/n", "/n", NOTIFY);
    req.method = "GET".into();
    let refused = config()
        .accept_inbound::<serde_json::Value>(&req)
        .unwrap_err();
    assert_eq!(
        result_code(&refused.answer),
        ("METHOD_NOT_SUPPORTED".into(), "F".into())
    );
}

/// A notification Alipay+ really signed, but with another `Client-Id`: the signature is the
/// authority (the spec does not confirm which id Alipay+ sends inbound), so by default it is
/// accepted and the mismatch reported; refusing it is an option.
#[test]
fn a_call_signed_for_another_client_id_is_reported_or_refused() {
    let time = "2025-02-20T08:52:00+08:00";
    let other = "SANDBOX_OTHER_ACQUIRER";
    let sig = message::sign_request(
        &alipay_key(),
        1,
        "POST",
        "/n",
        other,
        time,
        NOTIFY.as_bytes(),
    )
    .unwrap();
    let mut req = Request::post("/n", NOTIFY.as_bytes().to_vec());
    req.headers.insert("signature", sig.as_str());
    req.headers.insert("client-id", other);
    req.headers.insert("request-time", time);
    let accepted = alipayplus_client::notify::handle_notify_payment(&config(), &req).unwrap();
    assert!(!accepted.client_id_is_ours);
    assert_eq!(accepted.client_id, other);
    assert!(answer_verifies(&accepted.answer, "/n"));
    let strict = config().with_inbound(
        alipayplus_client::InboundPolicy::new()
            .with_client_id(alipayplus_client::InboundClientId::Refuse),
    );
    let refused = alipayplus_client::notify::handle_notify_payment(&strict, &req).unwrap_err();
    assert!(
        matches!(refused.error, InboundError::ClientIdMismatch),
        "{:?}",
        refused.error
    );
    assert_eq!(
        result_code(&refused.answer),
        ("INVALID_CLIENT".into(), "F".into())
    );
    // The caller verified: a signed refusal echoing its (signed) client id.
    assert_eq!(refused.answer.headers.get("Client-Id"), Some(other));
    assert!(answer_verifies(&refused.answer, "/n"));
}

/// The handler shape of calls whose answer the merchant decides: nothing is signed before the
/// decision; the deferred answer completes into a signed acknowledgement or a signed refusal
/// (over the path that verified), and `map` keeps what verified.
#[test]
fn a_deferred_answer_is_completed_by_the_decision() {
    use alipayplus_client::inbound::Refusal;
    let req = inbound(&alipay_key(), "/alipay/consult", "/alipay/consult", NOTIFY);
    let cfg = config();
    let call = cfg
        .accept_inbound_deferred::<serde_json::Value>(&req)
        .unwrap();
    let call = call.map(|body| body["paymentRequestId"].as_str().unwrap().to_string());
    assert_eq!(call.body, "pay-1");
    assert!(call.client_id_is_ours);
    let allowed = call.answer.complete(&cfg, Ok(()));
    assert_eq!(allowed.body, ACK_SUCCESS.as_bytes());
    assert!(answer_verifies(&allowed, "/alipay/consult"));
    let reason = format!("open fares \"due\" {}", "é".repeat(300));
    let refused = call
        .answer
        .complete(&cfg, Err(Refusal::new("PROCESS_FAIL", &reason)));
    assert!(answer_verifies(&refused, "/alipay/consult"));
    assert_eq!(result_code(&refused), ("PROCESS_FAIL".into(), "F".into()));
    let v: serde_json::Value = serde_json::from_slice(&refused.body).unwrap();
    let message = v["result"]["resultMessage"].as_str().unwrap();
    assert!(message.starts_with("open fares \"due\""), "{message}");
    assert_eq!(message.chars().count(), 256, "cut to the documented length");
}

/// A verified call refused after all (a product handler's own check) gets a signed refusal.
#[test]
fn a_verified_call_can_be_refused_after_all() {
    use alipayplus_client::inbound::Refusal;
    let req = inbound(&alipay_key(), "/n", "/n", NOTIFY);
    let cfg = config();
    let call = cfg.accept_inbound::<serde_json::Value>(&req).unwrap();
    let error = InboundError::Parse {
        error: "a required field is missing".into(),
        body: req.body.clone(),
    };
    let refused = call.refuse(&cfg, error, &Refusal::new("PARAM_ILLEGAL", "missing"));
    assert!(answer_verifies(&refused.answer, "/n"));
    assert_eq!(
        result_code(&refused.answer),
        ("PARAM_ILLEGAL".into(), "F".into())
    );
}
