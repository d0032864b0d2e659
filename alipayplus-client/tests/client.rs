//! The generic signed call against a fake Alipay+ played by closures.

mod common;

use alipayplus_client::client::{Client, ClientConfig, Host, Outcome};
use alipayplus_client::error::{RequestError, ResponseError};
use alipayplus_client::transport::{Request, Response};
use alipayplus_client::{Identity, InboundPolicy, OutboundPolicy};
use alipayplus_sign::{PublicKeys, message};
use common::*;

use alipayplus_types::{InquiryPaymentRequest, InquiryPaymentResultCode, PaymentResultCode};

fn inquiry() -> InquiryPaymentRequest {
    InquiryPaymentRequest {
        payment_request_id: Some("pay-1".into()),
        ..InquiryPaymentRequest::new()
    }
}

const PAID: &str = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"},"newField":1}"#;

fn fixed(body: &'static str) -> impl Fn(&str, &serde_json::Value) -> String + Send + Sync {
    move |_, _| body.to_string()
}

#[test]
fn request_is_signed_and_shaped() {
    let (transport, seen) = fake_alipay(Mode::Signed, fixed(PAID));
    let client = client_with(transport);
    let outcome = client.call(&inquiry()).unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    let seen = seen.lock().unwrap();
    let request = &seen.requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.uri,
        format!("{BASE}/aps/api/v1/payments/inquiryPayment")
    );
    assert_eq!(request.headers.get("Client-Id"), Some(CLIENT_ID));
    assert_eq!(
        request.headers.get("Request-Time"),
        Some("2025-02-20T08:51:49+00:00")
    );
    assert_eq!(
        request.headers.get("Content-Type"),
        Some("application/json; charset=UTF-8")
    );
    assert!(
        request
            .headers
            .get("Signature")
            .unwrap()
            .starts_with("algorithm=RSA256,keyVersion=1,signature=")
    );
    assert_eq!(request.body, br#"{"paymentRequestId":"pay-1"}"#);
    // The signature is over exactly this content (re-verify independently).
    let keys = PublicKeys::single(1, acqp_public());
    let content_ok = message::verify_request(
        &keys,
        "POST",
        "/aps/api/v1/payments/inquiryPayment",
        request.headers.iter().map(|(n, v)| (n, v.as_bytes())),
        br#"{"paymentRequestId":"pay-2"}"#,
    );
    assert!(content_ok.is_err(), "another body must not verify");
}

#[test]
fn signed_responses_are_accepted_and_classified() {
    let (transport, _) = fake_alipay(Mode::Signed, fixed(PAID));
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    let Outcome::Success(reply) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reply.key_version, 1);
    let payment = reply.body.payment_result.as_ref().unwrap();
    assert_eq!(payment.result_code, PaymentResultCode::Success);
    assert!(
        reply.body.extra.contains_key("newField"),
        "unknown fields kept"
    );
    assert_eq!(reply.response.body, PAID.as_bytes());

    let f = r#"{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F","resultMessage":"Order does not exist."}}"#;
    let (transport, _) = fake_alipay(Mode::Signed, fixed(f));
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    assert!(matches!(outcome, Outcome::Failure(_)), "{outcome:?}");
    assert_eq!(outcome.code(), Some("ORDER_NOT_EXIST"));
    assert_eq!(
        outcome.result().unwrap().result_code,
        InquiryPaymentResultCode::OrderNotExist
    );
    assert_eq!(outcome.status_str(), "F");

    let u = r#"{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U"}}"#;
    let (transport, _) = fake_alipay(Mode::Signed, fixed(u));
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    assert!(matches!(outcome, Outcome::Unknown(_)), "{outcome:?}");
    assert_eq!(outcome.code(), Some("UNKNOWN_EXCEPTION"));
    assert!(outcome.is_unknown() && !outcome.is_failure());

    let odd = r#"{"result":{"resultCode":"X","resultStatus":"Q"}}"#;
    let (transport, _) = fake_alipay(Mode::Signed, fixed(odd));
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    assert!(
        matches!(outcome, Outcome::Unknown(_)),
        "unknown status counts as U"
    );
}

fn rejected(mode: Mode) -> ResponseError {
    let (transport, _) = fake_alipay(mode, fixed(PAID));
    match client_with(transport).call(&inquiry()).unwrap() {
        Outcome::NoVerifiedResponse(e) => e,
        other => panic!("{mode:?} must be rejected, got {other:?}"),
    }
}

#[test]
fn tampered_unsigned_and_wrongly_keyed_responses_are_rejected() {
    let e = rejected(Mode::Tampered);
    assert!(
        matches!(
            &e,
            ResponseError::Signature {
                error: alipayplus_sign::Error::VerificationFailed,
                ..
            }
        ),
        "{e:?}"
    );
    assert_ne!(
        e.response().unwrap().body,
        PAID.as_bytes(),
        "raw body kept as received"
    );

    let e = rejected(Mode::Unsigned);
    assert!(
        matches!(
            &e,
            ResponseError::Signature {
                error: alipayplus_sign::Error::MissingHeader(_),
                ..
            }
        ),
        "{e:?}"
    );
    let e = rejected(Mode::WrongKey);
    assert!(
        matches!(
            &e,
            ResponseError::Signature {
                error: alipayplus_sign::Error::VerificationFailed,
                ..
            }
        ),
        "{e:?}"
    );
    let e = rejected(Mode::OtherClient);
    assert!(
        matches!(&e, ResponseError::ClientIdMismatch { .. }),
        "{e:?}"
    );
    let e = rejected(Mode::BadGateway);
    assert!(matches!(&e, ResponseError::HttpStatus { .. }), "{e:?}");
    assert!(e.to_string().contains("502"), "{e}");
}

#[test]
fn response_signed_for_another_path_is_rejected() {
    // A correctly signed answer to a *different* request (replayed) must not verify.
    let transport = |_r: Request| -> Result<Response, std::io::Error> {
        Ok(answer(Mode::Signed, "/aps/api/v1/payments/pay", PAID))
    };
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
        ),
        "{outcome:?}"
    );
}

#[test]
fn unparsable_verified_body_keeps_the_raw_bytes() {
    let (transport, _) = fake_alipay(Mode::Signed, fixed(r#"{"result":"oops"}"#));
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    let Outcome::NoVerifiedResponse(ResponseError::Parse {
        error,
        response,
        result,
    }) = outcome
    else {
        panic!("expected a parse error")
    };
    assert_eq!(response.body, br#"{"result":"oops"}"#);
    assert!(!error.is_empty());
    assert_eq!(result, None);

    // A readable `result` beside a malformed field is reported for support.
    let body =
        r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentTime":"not a time"}"#;
    let (transport, _) = fake_alipay(Mode::Signed, fixed(body));
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    let Outcome::NoVerifiedResponse(ResponseError::Parse { result, .. }) = outcome else {
        panic!("expected a parse error")
    };
    assert_eq!(
        result,
        Some((
            alipayplus_types::ResultStatus::Success,
            "SUCCESS".to_string()
        ))
    );
}

#[test]
fn transport_failure_is_an_unknown_outcome() {
    let transport = |_r: Request| -> Result<Response, std::io::Error> {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "read timed out",
        ))
    };
    let outcome = client_with(transport).call(&inquiry()).unwrap();
    assert!(outcome.is_unknown());
    let Outcome::NoVerifiedResponse(e @ ResponseError::Transport(_)) = outcome else {
        panic!("expected a transport error")
    };
    assert!(e.to_string().contains("read timed out"), "{e}");
    assert!(e.response().is_none());
}

#[test]
fn invalid_requests_are_never_sent() {
    let transport = |_r: Request| -> Result<Response, std::io::Error> {
        panic!("an invalid request must not be sent")
    };
    let err = client_with(transport)
        .call(&InquiryPaymentRequest {
            payment_request_id: Some(String::new()),
            ..InquiryPaymentRequest::new()
        })
        .unwrap_err();
    assert!(matches!(err, RequestError::Invalid { .. }));
    assert!(err.to_string().contains("paymentRequestId"), "{err}");
}

#[test]
fn key_versions_choose_the_alipay_key() {
    // Two Alipay+ keys: version 1 = the other key, version 2 = the real one.
    let keys = PublicKeys::new()
        .with(1, other_key().public_key())
        .unwrap()
        .with(2, alipay_public())
        .unwrap();
    let identity = Identity::new(CLIENT_ID, acqp_key(), keys, now)
        .unwrap()
        .with_key_version(3);
    let outbound = OutboundPolicy::new(Host::OtherRegions);
    let config = ClientConfig::from_parts(identity, outbound, InboundPolicy::new());
    let transport = |r: Request| -> Result<Response, std::io::Error> {
        assert!(r.headers.get("signature").unwrap().contains("keyVersion=3"));
        assert!(r.uri.starts_with("https://open-sea.alipayplus.com/"));
        let path = r.path().to_string();
        let sig = message::sign_response(
            &alipay_key(),
            2,
            "POST",
            &path,
            CLIENT_ID,
            "2025-02-20T08:51:50Z",
            PAID.as_bytes(),
        )
        .unwrap();
        let mut resp = Response::new(200, PAID.as_bytes().to_vec());
        resp.headers.insert("Signature", sig.as_str());
        resp.headers.insert("Client-Id", CLIENT_ID);
        resp.headers.insert("Response-Time", "2025-02-20T08:51:50Z");
        Ok(resp)
    };
    let outcome = Client::new(config, transport).call(&inquiry()).unwrap();
    assert_eq!(
        outcome.reply().map(|r| r.key_version),
        Some(2),
        "{outcome:?}"
    );
}

#[test]
fn hosts_and_base_urls() {
    assert_eq!(
        Host::NorthAmericaAccelerated.base_url(),
        "https://open-na-global.alipayplus.com"
    );
    assert_eq!(
        Host::NorthAmerica.base_url(),
        "https://open-na.alipayplus.com"
    );
    assert_eq!(
        Host::OtherRegions.base_url(),
        "https://open-sea.alipayplus.com"
    );
    let h = Host::custom("http://127.0.0.1:8080/").unwrap();
    assert_eq!(h.base_url(), "http://127.0.0.1:8080");
    assert!(Host::custom("http://localhost:1").is_ok());
    assert!(Host::custom("http://[::1]:1").is_ok());
    assert!(Host::custom("https://sandbox.example.com/gw").is_ok());
    for bad in [
        "http://example.com",
        "ftp://example.com",
        "example.com",
        "https://",
        "https://a.test/?x=1",
        "https://user:pw@a.test",
        "https://a.test/ b",
    ] {
        assert!(Host::custom(bad).is_err(), "{bad}");
    }
    // A path prefix is part of what is signed.
    let config = ClientConfig::new(
        CLIENT_ID,
        Host::custom("https://gw.example.com/alipay").unwrap(),
        acqp_key(),
        PublicKeys::single(1, alipay_public()),
        now,
    )
    .unwrap();
    let transport = |r: Request| -> Result<Response, std::io::Error> {
        assert_eq!(
            r.uri,
            "https://gw.example.com/alipay/aps/api/v1/payments/inquiryPayment"
        );
        let keys = PublicKeys::single(1, acqp_public());
        message::verify_request(
            &keys,
            "POST",
            "/alipay/aps/api/v1/payments/inquiryPayment",
            r.headers.iter().map(|(n, v)| (n, v.as_bytes())),
            &r.body,
        )
        .unwrap();
        Err(std::io::ErrorKind::TimedOut.into())
    };
    assert!(
        Client::new(config, transport)
            .call(&inquiry())
            .unwrap()
            .is_unknown()
    );
}

#[test]
fn config_rejects_bad_client_ids_and_hides_secrets() {
    let mk = |id: &str| {
        ClientConfig::new(
            id,
            Host::OtherRegions,
            acqp_key(),
            PublicKeys::single(1, alipay_public()),
            now,
        )
    };
    assert!(mk("").is_err());
    assert!(mk("A B").is_err());
    assert!(mk("A\r\nX-Evil: 1").is_err());
    let identity = Identity::new(
        CLIENT_ID,
        acqp_key(),
        PublicKeys::single(1, alipay_public()),
        now,
    )
    .unwrap()
    .with_agent_token("secret-token");
    let shown = format!("{:?}", identity);
    assert!(!shown.contains("secret-token"), "{shown}");
    assert!(!shown.contains("PRIVATE"), "{shown}");
}

#[test]
fn sans_io_halves_do_what_call_does() {
    let (transport, _) = fake_alipay(Mode::Signed, fixed(PAID));
    let client = client_with(|_r: Request| -> Result<Response, std::io::Error> {
        panic!("the caller does the IO")
    });
    let prepared = client.config().sign_request(&inquiry()).unwrap();
    assert_eq!(prepared.signed_uri, "/aps/api/v1/payments/inquiryPayment");
    let response = transport(prepared.request).map_err(|e| Box::new(e) as _);
    let outcome = client
        .config()
        .read_response::<InquiryPaymentRequest>(&prepared.signed_uri, response);
    assert!(outcome.is_success(), "{outcome:?}");
    // Verified against the URI that was signed: another URI fails.
    let (transport, _) = fake_alipay(Mode::Signed, fixed(PAID));
    let prepared = client.config().sign_request(&inquiry()).unwrap();
    let response = transport(prepared.request).map_err(|e| Box::new(e) as _);
    let outcome = client
        .config()
        .read_response::<InquiryPaymentRequest>("/aps/api/v1/payments/pay", response);
    assert!(matches!(
        outcome,
        Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
    ));
}
