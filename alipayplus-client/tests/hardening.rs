//! Signed-message hardening (issue 11): fresh responses only, inbound Request-Time, inbound
//! URIs, unsigned refusals of unverified callers, the inbound Client-Id, loopback hosts, and
//! no password in configuration errors.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host, InboundClientId, Outcome};
use alipayplus_client::error::{InboundError, ResponseError, TimeSkew};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::{Request, Response};
use alipayplus_client::{InboundPolicy, OutboundPolicy};
use alipayplus_sign::{ContentSigner, PrivateKey, PublicKeys, message};
use alipayplus_types::InquiryPaymentRequest;
use common::*;

const PAID: &str = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"}}"#;
const INQUIRY: &str = "/aps/api/v1/payments/inquiryPayment";

/// Alipay+'s answer to the inquiry, with this Response-Time (signed over it).
fn answered_at(time: &'static str) -> impl Fn(Request) -> Result<Response, std::io::Error> {
    move |_r| {
        let sig = message::sign_response(
            &alipay_key(),
            1,
            "POST",
            INQUIRY,
            CLIENT_ID,
            time,
            PAID.as_bytes(),
        )
        .unwrap();
        let mut response = Response::new(200, PAID.as_bytes().to_vec());
        response.headers.insert("client-id", CLIENT_ID);
        response.headers.insert("response-time", time);
        response.headers.insert("signature", sig.as_str());
        Ok(response)
    }
}

fn inquiry() -> InquiryPaymentRequest {
    InquiryPaymentRequest {
        payment_request_id: Some("pay-1".into()),
        ..InquiryPaymentRequest::new()
    }
}

fn skew_of(outcome: Outcome<alipayplus_types::InquiryPaymentResponse>) -> TimeSkew {
    match outcome {
        Outcome::NoVerifiedResponse(ResponseError::Stale { skew, .. }) => skew,
        other => panic!("expected a stale response, got {other:?}"),
    }
}

/// The clock is 2025-02-20T08:51:49Z.
#[test]
fn responses_must_be_fresh() {
    // Within the default 15 minutes, in any accepted form (also epoch milliseconds).
    for fresh in [
        "2025-02-20T08:51:50Z",
        "2025-02-20T16:40:00+08:00",
        "2025-02-20T09:06:00Z",
        "1740041510000",
    ] {
        let client = Client::new(config(), answered_at(fresh));
        assert!(client.call(&inquiry()).unwrap().is_success(), "{fresh}");
    }
    let stale = |time: &'static str| {
        skew_of(
            Client::new(config(), answered_at(time))
                .call(&inquiry())
                .unwrap(),
        )
    };
    assert!(matches!(
        stale("1971-01-01T00:00:00Z"),
        TimeSkew::Outside { .. }
    ));
    assert!(matches!(
        stale("2025-02-20T09:07:00Z"),
        TimeSkew::Outside { .. }
    ));
    assert!(matches!(
        stale("2025-02-20T08:36:00Z"),
        TimeSkew::Outside { .. }
    ));
    assert!(matches!(stale(""), TimeSkew::Unparsable));
    assert!(matches!(stale("not a time at all"), TimeSkew::Unparsable));
    // A stale answer counts as unknown, like a bad signature.
    let outcome = Client::new(config(), answered_at("1971-01-01T00:00:00Z"))
        .call(&inquiry())
        .unwrap();
    assert!(outcome.is_unknown());
    let shown = match outcome {
        Outcome::NoVerifiedResponse(e) => {
            assert!(e.response().is_some(), "the response is kept");
            e.to_string()
        }
        _ => unreachable!(),
    };
    assert!(shown.contains("clock"), "{shown}");
    // The window is configurable.
    let wide = config().with_outbound(
        OutboundPolicy::new(Host::OtherRegions).with_response_window(Duration::from_secs(3600)),
    );
    let client = Client::new(wide, answered_at("2025-02-20T09:30:00Z"));
    assert!(client.call(&inquiry()).unwrap().is_success());
}

fn inbound(
    key: &PrivateKey,
    target: &str,
    signed_uri: &str,
    client_id: &str,
    time: &str,
) -> Request {
    let body = br#"{"paymentRequestId":"pay-1"}"#;
    let sig = message::sign_request(key, 1, "POST", signed_uri, client_id, time, body).unwrap();
    let mut r = Request::post(target, body.to_vec());
    r.headers.insert("signature", sig.as_str());
    r.headers.insert("client-id", client_id);
    r.headers.insert("request-time", time);
    r
}

#[test]
fn inbound_request_time_is_exposed_and_its_window_is_off_by_default() {
    // Two days old: a re-sent notification is accepted by default.
    for (time, at) in [
        ("2025-02-18T08:51:49Z", 1_739_868_709_000),
        ("1739868709000", 1_739_868_709_000),
    ] {
        let r = inbound(&alipay_key(), "/notify", "/notify", CLIENT_ID, time);
        let accepted = config().accept_inbound::<serde_json::Value>(&r).unwrap();
        assert_eq!(
            accepted.request_time,
            Some(Timestamp::from_unix_millis(at)),
            "{time}"
        );
    }
    let r = inbound(&alipay_key(), "/notify", "/notify", CLIENT_ID, "whenever");
    let accepted = config().accept_inbound::<serde_json::Value>(&r).unwrap();
    assert_eq!(accepted.request_time, None);
    // With a window: refused when outside or unparsable, with a signed answer (it verified).
    let strict =
        config().with_inbound(InboundPolicy::new().with_window(Some(Duration::from_secs(3600))));
    for time in ["2025-02-18T08:51:49Z", "whenever"] {
        let r = inbound(&alipay_key(), "/notify", "/notify", CLIENT_ID, time);
        let refused = strict.accept_inbound::<serde_json::Value>(&r).unwrap_err();
        assert!(matches!(refused.error, InboundError::Stale(_)), "{time}");
        assert!(refused.answer.headers.get("signature").is_some());
    }
    let r = inbound(
        &alipay_key(),
        "/notify",
        "/notify",
        CLIENT_ID,
        "2025-02-20T08:30:00Z",
    );
    assert!(strict.accept_inbound::<serde_json::Value>(&r).is_ok());
}

#[test]
fn inbound_uris_are_parsed_by_their_form() {
    // A query that holds a URL is not a scheme.
    let r = inbound(
        &alipay_key(),
        "/notify?next=https://m.example/x",
        "/notify",
        CLIENT_ID,
        "2025-02-20T08:51:49Z",
    );
    let accepted = config().accept_inbound::<serde_json::Value>(&r).unwrap();
    assert_eq!(accepted.signed_uri, "/notify");
    assert_eq!(r.path(), "/notify");
    assert_eq!(r.path_and_query(), "/notify?next=https://m.example/x");
    // Absolute form.
    let r = inbound(
        &alipay_key(),
        "https://merchant.example:8443/notify?x=https://a/b#frag",
        "/notify",
        CLIENT_ID,
        "2025-02-20T08:51:49Z",
    );
    assert!(config().accept_inbound::<serde_json::Value>(&r).is_ok());
    assert_eq!(r.path_and_query(), "/notify?x=https://a/b");
    for (uri, path) in [
        ("/a/b://c", "/a/b://c"),
        ("/?u=http://x", "/"),
        ("http://h.test", "/"),
        ("HTTPS://h.test/p", "/p"),
        ("*", "/"),
        ("", "/"),
    ] {
        let r = Request::post(uri, Vec::new());
        assert_eq!(r.path(), path, "{uri}");
    }
}

/// Counts signatures made.
struct Counting(PrivateKey, Arc<AtomicU32>);
impl ContentSigner for Counting {
    fn sign(
        &self,
        content: &alipayplus_sign::SignContent<'_>,
    ) -> Result<alipayplus_sign::RsaSignature, alipayplus_sign::Error> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.sign(content)
    }
}

#[test]
fn unverified_callers_get_an_unsigned_refusal() {
    let signed = Arc::new(AtomicU32::new(0));
    let config = ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        Counting(acqp_key(), signed.clone()),
        PublicKeys::single(1, alipay_public()),
        now,
    )
    .unwrap();
    let mut get = Request::post("/notify", Vec::new());
    get.method = "GET".into();
    let forged = inbound(
        &other_key(),
        "/notify",
        "/notify",
        CLIENT_ID,
        "2025-02-20T08:51:49Z",
    );
    let unsigned = Request::post("/notify", b"{}".to_vec());
    for junk in [get, forged, unsigned] {
        let refused = config
            .accept_inbound::<serde_json::Value>(&junk)
            .unwrap_err();
        assert_eq!(refused.answer.status, 200);
        assert!(refused.answer.headers.get("signature").is_none());
        let v: serde_json::Value = serde_json::from_slice(&refused.answer.body).unwrap();
        assert_eq!(v["result"]["resultStatus"], "F");
    }
    assert_eq!(
        signed.load(Ordering::SeqCst),
        0,
        "no private-key work for junk"
    );
    // A verified caller still gets a signed answer.
    let good = inbound(
        &alipay_key(),
        "/notify",
        "/notify",
        CLIENT_ID,
        "2025-02-20T08:51:49Z",
    );
    let accepted = config.accept_inbound::<serde_json::Value>(&good).unwrap();
    assert!(accepted.answer.headers.get("signature").is_some());
    assert_eq!(signed.load(Ordering::SeqCst), 1);
}

#[test]
fn a_foreign_inbound_client_id_is_reported_by_default_and_refused_on_request() {
    let r = inbound(
        &alipay_key(),
        "/notify",
        "/notify",
        "SANDBOX_OTHER",
        "2025-02-20T08:51:49Z",
    );
    let accepted = config().accept_inbound::<serde_json::Value>(&r).unwrap();
    assert!(!accepted.client_id_is_ours);
    assert_eq!(accepted.client_id, "SANDBOX_OTHER");
    let ours = inbound(
        &alipay_key(),
        "/notify",
        "/notify",
        CLIENT_ID,
        "2025-02-20T08:51:49Z",
    );
    assert!(
        config()
            .accept_inbound::<serde_json::Value>(&ours)
            .unwrap()
            .client_id_is_ours
    );
    let strict =
        config().with_inbound(InboundPolicy::new().with_client_id(InboundClientId::Refuse));
    let refused = strict.accept_inbound::<serde_json::Value>(&r).unwrap_err();
    assert!(matches!(refused.error, InboundError::ClientIdMismatch));
}

/// Found by fuzzing: a verified call whose Client-Id is no plain token (a control byte, empty)
/// cannot be echoed in a header; it is refused (answered with our own client id) even when
/// foreign client ids are only reported.
#[test]
fn a_client_id_that_cannot_be_echoed_is_refused() {
    for bad in ["\0", "A\tB", "ID\u{1}", "é"] {
        let r = inbound(
            &alipay_key(),
            "/notify",
            "/notify",
            bad,
            "2025-02-20T08:51:49Z",
        );
        let refused = config()
            .accept_inbound::<serde_json::Value>(&r)
            .unwrap_err();
        assert!(
            matches!(refused.error, InboundError::ClientIdMismatch),
            "{bad:?}"
        );
        assert_eq!(refused.answer.headers.get("Client-Id"), Some(CLIENT_ID));
        assert!(
            refused
                .answer
                .headers
                .iter()
                .all(|(_, v)| v.bytes().all(|b| (b' '..=b'~').contains(&b))),
            "{bad:?}"
        );
    }
}

#[test]
fn plain_http_only_for_real_loopback_hosts() {
    for ok in [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:1",
        "http://LOCALHOST",
        "http://[::1]:1",
    ] {
        assert!(Host::custom(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://127.attacker.example",
        "http://127.0.0.1.nip.io",
        "http://127.0.0.1.:80",
        "http://localhost.attacker.example",
        "http://[::1].attacker.example",
        "http://[::2]",
        "http://128.0.0.1",
        "http://0x7f.0.0.1",
    ] {
        assert!(Host::custom(bad).is_err(), "{bad}");
    }
}

#[test]
fn configuration_errors_do_not_repeat_a_password() {
    for url in [
        "https://user:hunter2@a.test",
        "http://user:hunter2@example.com/x?y",
        "ftp://admin:hunter2@h",
    ] {
        let e = Host::custom(url).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
