//! Every Cashier API against a fake Alipay+ played by closures (signing with test keys):
//! requests are signed and shaped as the spec says, signed answers are accepted, tampered,
//! unsigned and wrongly keyed answers are rejected, and the tracker drives a payment through
//! the real client.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_cashier::Outcome;
use alipayplus_cashier::PaymentRef;
use alipayplus_cashier::Timestamp;
use alipayplus_cashier::cancel_report;
use alipayplus_cashier::cancel_request;
use alipayplus_cashier::cashier::cashier_payment_factor;
use alipayplus_cashier::cashier::checked_pay as cashier_pay_request;
use alipayplus_cashier::cashier::consult_with_cashier_flags;
use alipayplus_cashier::check_notification;
use alipayplus_cashier::inquiry_report;
use alipayplus_cashier::inquiry_request;
use alipayplus_cashier::notification_report;
use alipayplus_cashier::refund_request;
use alipayplus_cashier::{
    CancelReport, Final, InquiryReport, PaymentTracker, Report, ShopperRedirect, Step,
    TrackerPolicy,
};
use alipayplus_cashier::{Request, Response};
use alipayplus_cashier::{RequestError, ResponseError};
use alipayplus_client::tracker::{pay_report, shopper_redirect};
use alipayplus_sign::message;
use alipayplus_types::{
    Amount, ConsultPaymentRequest, Currency, DateTime, Env, Merchant, Order, OsType, PayRequest,
    PaymentMethod, PresentmentMode, TerminalType,
};
use common::*;
use serde_json::{Value, json};

fn usd(v: u64) -> Amount {
    Amount::new(Currency::USD, v)
}

fn order() -> Order {
    Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            "ORDER-1".into(),
            "Two coffees".into(),
            usd(1000),
            Merchant::new("M-1".into()),
        )
    }
}

fn pay_request(id: &str) -> PayRequest {
    PayRequest {
        payment_redirect_url: Some("https://merchant.test/return".into()),
        ..PayRequest::new(
            id.into(),
            order(),
            usd(1000),
            PaymentMethod::new("ALIPAY_CN".into()),
            cashier_payment_factor(None),
        )
    }
}

fn result(code: &str, status: &str) -> Value {
    json!({"resultCode": code, "resultStatus": status, "resultMessage": "m"})
}

/// A plausible answer for each API, chosen by path.
fn happy(path: &str, _req: &Value) -> String {
    let v = match path {
        "/aps/api/v1/payments/consultPayment" => json!({
            "result": result("SUCCESS", "S"),
            "paymentOptions": [
                {"paymentMethodType": "KAKAOPAY", "enabled": "true", "preferred": "true"},
                {"paymentMethodType": "ALIPAY_CN", "enabled": "false", "disableReason": "x"}
            ]
        }),
        "/aps/api/v1/payments/pay" => json!({
            "result": result("PAYMENT_IN_PROCESS", "U"),
            "paymentId": "2025022000001",
            "normalUrl": "https://wallet.test/checkout?id=1",
            "paymentUrl": "https://wallet.test/old"
        }),
        "/aps/api/v1/payments/inquiryPayment" => json!({
            "result": result("SUCCESS", "S"),
            "paymentResult": result("SUCCESS", "S"),
            "paymentRequestId": "pay-1",
            "paymentAmount": {"currency": "USD", "value": "1000"}
        }),
        "/aps/api/v1/payments/cancelPayment" => {
            json!({"result": result("SUCCESS", "S"), "pspId": "P1"})
        }
        "/aps/api/v1/payments/refund" => json!({
            "result": result("SUCCESS", "S"),
            "refundId": "R-9",
            "refundAmount": {"currency": "USD", "value": "500"}
        }),
        other => panic!("unexpected path {other}"),
    };
    v.to_string()
}

fn sent_json(seen: &Arc<Mutex<Seen>>, i: usize) -> (Request, Value) {
    let r = seen.lock().unwrap().requests[i].clone();
    let v = serde_json::from_slice(&r.body).unwrap();
    (r, v)
}

#[test]
fn consult_payment_is_shaped_and_parsed() {
    let (transport, seen) = fake_alipay(Mode::Signed, happy);
    let client = client_with(transport);
    let mut req = ConsultPaymentRequest::new(usd(0), Default::default());
    req.user_region = Some("KR".into());
    let outcome = client.call(&consult_with_cashier_flags(&req)).unwrap();
    let Outcome::Success(reply) = outcome else {
        panic!("{outcome:?}")
    };
    let options = reply.body.payment_options.unwrap();
    assert_eq!(options.len(), 2);
    let (r, v) = sent_json(&seen, 0);
    assert!(r.uri.ends_with("/aps/api/v1/payments/consultPayment"));
    assert_eq!(v["paymentAmount"], json!({"currency": "USD", "value": "0"}));
    assert_eq!(v["paymentFactor"]["isCashierPayment"], "true");
    assert_eq!(v["paymentFactor"]["isInStorePayment"], "false");
    assert_eq!(v["userRegion"], "KR");
}

#[test]
fn pay_sets_the_cashier_flags_and_returns_the_redirect() {
    let (transport, seen) = fake_alipay(Mode::Signed, happy);
    let client = client_with(transport);
    let mut req = pay_request("pay-1");
    req.payment_factor = Default::default(); // flags are set for the caller
    req.payment_factor.presentment_mode = Some(PresentmentMode::Tiled);
    req.payment_expiry_time = Some(DateTime::parse("2025-02-20T09:06:49Z").unwrap());
    req.payment_notify_url = Some("https://merchant.test/alipay/notify".into());
    let outcome = cashier_pay_request(&req)
        .and_then(|r| client.call(&r))
        .unwrap();
    assert!(matches!(outcome, Outcome::Unknown(_)), "{outcome:?}");
    assert_eq!(outcome.code(), Some("PAYMENT_IN_PROCESS"));
    let (report, redirect) = pay_report(&outcome);
    assert_eq!(report, Report::unknown("PAYMENT_IN_PROCESS"));
    assert_eq!(
        redirect,
        Some(ShopperRedirect::Url(
            "https://wallet.test/checkout?id=1".into()
        )),
        "normalUrl first"
    );
    let (r, v) = sent_json(&seen, 0);
    assert!(r.uri.ends_with("/aps/api/v1/payments/pay"));
    assert_eq!(v["paymentRequestId"], "pay-1");
    assert_eq!(
        v["paymentAmount"],
        json!({"currency": "USD", "value": "1000"})
    );
    assert_eq!(v["paymentMethod"]["paymentMethodType"], "ALIPAY_CN");
    assert_eq!(
        v["paymentFactor"],
        json!({"isInStorePayment": "false", "isCashierPayment": "true", "presentmentMode": "TILED"})
    );
    assert_eq!(v["order"]["env"]["terminalType"], "WEB");
    assert_eq!(v["order"]["orderAmount"]["value"], "1000");
    assert_eq!(v["paymentExpiryTime"], "2025-02-20T09:06:49Z");
    assert!(v.get("productCode").is_none());
}

#[test]
fn pay_checks_the_cashier_env_before_sending() {
    let never = |_r: Request| -> Result<Response, std::io::Error> { panic!("must not be sent") };
    let client = client_with(never);
    let mut req = pay_request("pay-1");
    req.order.env = None;
    let err = cashier_pay_request(&req)
        .and_then(|r| client.call(&r))
        .unwrap_err();
    assert!(matches!(err, RequestError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("order.env: missing"), "{err}");
    req.order.env = Some(Env::new(TerminalType::App));
    let err = cashier_pay_request(&req)
        .and_then(|r| client.call(&r))
        .unwrap_err();
    assert!(err.to_string().contains("order.env.osType"), "{err}");
    let mut env = Env::new(TerminalType::Wap);
    env.os_type = Some(OsType::Ios);
    req.order.env = Some(env);
    req.payment_amount = usd(0);
    req.payment_redirect_url = None;
    let err = cashier_pay_request(&req)
        .and_then(|r| client.call(&r))
        .unwrap_err();
    let RequestError::Invalid { errors, .. } = &err else {
        panic!("{err:?}")
    };
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.iter().any(|p| p.starts_with("paymentAmount")),
        "{err}"
    );
    assert_eq!(
        paths.iter().filter(|p| **p == "paymentRedirectUrl").count(),
        1,
        "reported once: {err}"
    );
}

#[test]
fn redirect_choice_follows_the_documented_order() {
    let mut resp: alipayplus_types::PayResponse = serde_json::from_value(json!({
        "result": result("PAYMENT_IN_PROCESS", "U"),
        "paymentData": "opaque-sdk-data"
    }))
    .unwrap();
    assert_eq!(
        shopper_redirect(&resp),
        Some(ShopperRedirect::ClientSdkData("opaque-sdk-data".into()))
    );
    resp.payment_url = Some("https://wallet.test/p".into());
    assert_eq!(
        shopper_redirect(&resp),
        Some(ShopperRedirect::Url("https://wallet.test/p".into()))
    );
    resp.payment_url = None;
    resp.payment_data = None;
    assert_eq!(shopper_redirect(&resp), None);
}

#[test]
fn inquiry_cancel_and_refund_are_shaped_and_reported() {
    let (transport, seen) = fake_alipay(Mode::Signed, happy);
    let client = client_with(transport);
    let outcome = client
        .call(&inquiry_request(&PaymentRef::RequestId("pay-1".into())))
        .unwrap();
    assert_eq!(
        inquiry_report(&outcome),
        InquiryReport::Payment(Report::Success)
    );
    let outcome = client
        .call(&inquiry_request(&PaymentRef::PaymentId(
            "2025022000001".into(),
        )))
        .unwrap();
    assert!(outcome.is_success());
    let outcome = client
        .call(&cancel_request(&PaymentRef::RequestId("pay-1".into())))
        .unwrap();
    assert_eq!(cancel_report(&outcome), CancelReport::Cancelled);
    let outcome = client
        .call(&refund_request(
            &PaymentRef::RequestId("pay-1".into()),
            "refund-1",
            usd(500),
        ))
        .unwrap();
    let Outcome::Success(reply) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reply.body.refund_id.as_deref(), Some("R-9"));

    let (r, v) = sent_json(&seen, 0);
    assert!(r.uri.ends_with("/aps/api/v1/payments/inquiryPayment"));
    assert_eq!(v, json!({"paymentRequestId": "pay-1"}));
    let (_, v) = sent_json(&seen, 1);
    assert_eq!(v, json!({"paymentId": "2025022000001"}));
    let (r, v) = sent_json(&seen, 2);
    assert!(r.uri.ends_with("/aps/api/v1/payments/cancelPayment"));
    assert_eq!(v, json!({"paymentRequestId": "pay-1"}));
    let (r, v) = sent_json(&seen, 3);
    assert!(r.uri.ends_with("/aps/api/v1/payments/refund"));
    assert_eq!(
        v,
        json!({"paymentRequestId": "pay-1", "refundRequestId": "refund-1",
               "refundAmount": {"currency": "USD", "value": "500"}})
    );
}

#[test]
fn inquiry_and_cancel_results_map_to_tracker_reports() {
    let cases = [
        (
            json!({"result": result("SUCCESS","S"), "paymentResult": result("USER_BALANCE_NOT_ENOUGH","F")}),
            InquiryReport::Payment(Report::failure("USER_BALANCE_NOT_ENOUGH")),
        ),
        (
            json!({"result": result("SUCCESS","S"), "paymentResult": result("PAYMENT_IN_PROCESS","U")}),
            InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
        ),
        (
            json!({"result": result("ORDER_NOT_EXIST","F")}),
            InquiryReport::OrderNotFound,
        ),
        (
            json!({"result": result("UNKNOWN_EXCEPTION","U")}),
            InquiryReport::NoAnswer,
        ),
        (
            json!({"result": result("PARAM_ILLEGAL","F")}),
            InquiryReport::NoAnswer,
        ),
        (
            json!({"result": result("SUCCESS","S"), "paymentResult": result("SUCCESS","S")}),
            InquiryReport::Payment(Report::Success),
        ),
        // S without paymentResult says nothing about the payment.
        (
            json!({"result": result("SUCCESS","S")}),
            InquiryReport::NoAnswer,
        ),
        (
            json!({"result": result("SUCCESS","S"), "paymentResult": null}),
            InquiryReport::NoAnswer,
        ),
        // An unrecognised payment status is unknown, never failure.
        (
            json!({"result": result("SUCCESS","S"), "paymentResult": result("NEW_CODE","X")}),
            InquiryReport::Payment(Report::unknown("NEW_CODE")),
        ),
        // The inquiry's own result is U: its paymentResult is not trusted.
        (
            json!({"result": result("UNKNOWN_EXCEPTION","U"), "paymentResult": result("RISK_REJECT","F")}),
            InquiryReport::NoAnswer,
        ),
        // ORDER_NOT_EXIST with U (not F) is not "no such order".
        (
            json!({"result": result("ORDER_NOT_EXIST","U")}),
            InquiryReport::NoAnswer,
        ),
        // A paymentResult without a status cannot be read: unknown.
        (
            json!({"result": result("SUCCESS","S"), "paymentResult": {"resultCode": "SUCCESS"}}),
            InquiryReport::NoAnswer,
        ),
    ];
    for (body, expected) in cases {
        let body = body.to_string();
        let (transport, _) = fake_alipay(Mode::Signed, move |_, _| body.clone());
        let outcome = client_with(transport)
            .call(&inquiry_request(&PaymentRef::RequestId("pay-1".into())))
            .unwrap();
        assert_eq!(inquiry_report(&outcome), expected);
    }
    let cases = [
        (
            json!({"result": result("ORDER_NOT_EXIST","F")}),
            CancelReport::OrderNotFound,
        ),
        (
            json!({"result": result("ORDER_STATUS_INVALID","F")}),
            CancelReport::Rejected("ORDER_STATUS_INVALID".into()),
        ),
        (
            json!({"result": result("UNKNOWN_EXCEPTION","U")}),
            CancelReport::NoAnswer,
        ),
    ];
    for (body, expected) in cases {
        let body = body.to_string();
        let (transport, _) = fake_alipay(Mode::Signed, move |_, _| body.clone());
        let outcome = client_with(transport)
            .call(&cancel_request(&PaymentRef::RequestId("pay-1".into())))
            .unwrap();
        assert_eq!(cancel_report(&outcome), expected);
    }
}

#[test]
fn every_api_rejects_tampered_unsigned_and_wrongly_keyed_answers() {
    for mode in [Mode::Tampered, Mode::Unsigned, Mode::WrongKey] {
        let (transport, _) = fake_alipay(mode, happy);
        let client = client_with(transport);
        let id = PaymentRef::RequestId("pay-1".into());
        let consult = client
            .call(&consult_with_cashier_flags(&ConsultPaymentRequest::new(
                usd(0),
                Default::default(),
            )))
            .unwrap();
        let pay = cashier_pay_request(&pay_request("pay-1"))
            .and_then(|r| client.call(&r))
            .unwrap();
        let inquiry = client.call(&inquiry_request(&id)).unwrap();
        let cancel = client.call(&cancel_request(&id)).unwrap();
        let refund = client.call(&refund_request(&id, "r-1", usd(1))).unwrap();
        let rejected = [
            matches!(
                consult,
                Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
            ),
            matches!(
                pay,
                Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
            ),
            matches!(
                inquiry,
                Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
            ),
            matches!(
                cancel,
                Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
            ),
            matches!(
                refund,
                Outcome::NoVerifiedResponse(ResponseError::Signature { .. })
            ),
        ];
        assert_eq!(rejected, [true; 5], "{mode:?}");
        // And what the tracker makes of it: unknown, never failure.
        assert_eq!(pay_report(&pay), (Report::Unknown(None), None));
        assert_eq!(inquiry_report(&inquiry), InquiryReport::NoAnswer);
        assert_eq!(cancel_report(&cancel), CancelReport::NoAnswer);
    }
}

/// Signs `body` as Alipay+ would for a notification to `path`.
fn notification(body: &str, path: &str) -> Request {
    let time = "2025-02-20T08:53:00Z";
    let sig = message::sign_request(
        &alipay_key(),
        1,
        "POST",
        path,
        CLIENT_ID,
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut r = Request::post(path, body.as_bytes().to_vec());
    r.headers.insert("Signature", sig.as_str());
    r.headers.insert("Client-Id", CLIENT_ID);
    r.headers.insert("Request-Time", time);
    r
}

const NOTIFY_S: &str = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"pay-1","paymentId":"2025022000001","acquirerId":"A","pspId":"P","customerId":"C","paymentAmount":{"currency":"USD","value":"1000"},"paymentTime":"2025-02-20T16:52:59+08:00"}"#;

#[test]
fn notify_handler_accepts_a_good_notification_and_refuses_a_bad_one() {
    let cfg = config();
    let accepted = alipayplus_client::notify::handle_notify_payment(
        &cfg,
        &notification(NOTIFY_S, "/alipay/notify"),
    )
    .unwrap();
    let n = &accepted.body;
    assert_eq!(n.payment_request_id, "pay-1");
    assert_eq!(notification_report(n), Report::Success);
    assert_eq!(check_notification(n, "pay-1", &usd(1000)), Ok(()));
    assert!(check_notification(n, "pay-1", &usd(999)).is_err());
    assert!(check_notification(n, "pay-2", &usd(1000)).is_err());
    let ack = &accepted.answer;
    assert_eq!(
        ack.body,
        br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#
    );
    let keys = alipayplus_sign::PublicKeys::single(1, acqp_public());
    message::verify_response(
        &keys,
        "POST",
        "/alipay/notify",
        ack.headers.iter().map(|(n, v)| (n, v.as_bytes())),
        &ack.body,
    )
    .expect("Alipay+ can verify our ack");

    // Forged (tampered amount) and unparsable notifications are refused.
    let mut forged = notification(NOTIFY_S, "/alipay/notify");
    forged.body = NOTIFY_S.replace("1000", "1").into_bytes();
    let refused = alipayplus_client::notify::handle_notify_payment(&cfg, &forged).unwrap_err();
    assert!(String::from_utf8_lossy(&refused.answer.body).contains("INVALID_SIGNATURE"));
    let missing_id = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"}}"#;
    let refused =
        alipayplus_client::notify::handle_notify_payment(&cfg, &notification(missing_id, "/n"))
            .unwrap_err();
    assert!(String::from_utf8_lossy(&refused.answer.body).contains("PARAM_ILLEGAL"));
    assert!(
        refused.error.to_string().contains("paymentRequestId"),
        "{}",
        refused.error
    );
}

/// Alipay+ with state, for driving the tracker through the real client.
struct Fake {
    order: Option<&'static str>, // None, "U", "S", "CANCELLED"
    pays: u32,
    cancels: u32,
    fail_next: u32,
}

fn stateful(fake: Arc<Mutex<Fake>>) -> impl Fn(Request) -> Result<Response, std::io::Error> {
    move |r: Request| {
        let mut f = fake.lock().unwrap();
        if f.fail_next > 0 {
            f.fail_next -= 1;
            return Err(std::io::ErrorKind::ConnectionReset.into());
        }
        let path = r.path().to_string();
        let body = match path.as_str() {
            "/aps/api/v1/payments/pay" => {
                f.pays += 1;
                f.order.get_or_insert("U");
                json!({"result": result("PAYMENT_IN_PROCESS","U"), "normalUrl": "https://wallet.test/c"})
            }
            "/aps/api/v1/payments/inquiryPayment" => match f.order {
                None => json!({"result": result("ORDER_NOT_EXIST","F")}),
                Some("S") => {
                    json!({"result": result("SUCCESS","S"), "paymentResult": result("SUCCESS","S")})
                }
                Some("CANCELLED") => {
                    json!({"result": result("SUCCESS","S"), "paymentResult": result("ORDER_IS_CLOSED","F")})
                }
                Some(_) => {
                    json!({"result": result("SUCCESS","S"), "paymentResult": result("PAYMENT_IN_PROCESS","U")})
                }
            },
            "/aps/api/v1/payments/cancelPayment" => {
                f.cancels += 1;
                f.order = Some("CANCELLED");
                json!({"result": result("SUCCESS","S")})
            }
            other => panic!("{other}"),
        };
        Ok(answer(Mode::Signed, &path, &body.to_string()))
    }
}

fn drive(
    client: &alipayplus_cashier::Client<impl alipayplus_cashier::Transport>,
    tracker: &mut PaymentTracker,
    req: &PayRequest,
    mut now: Timestamp,
    mut on_wait: impl FnMut(Timestamp, &mut PaymentTracker),
) -> (Final, Vec<String>) {
    let id = PaymentRef::RequestId(tracker.payment_request_id().to_string());
    let mut log = Vec::new();
    for _ in 0..10_000 {
        let action = tracker.next_step(now);
        log.push(format!("{action:?}"));
        match action {
            Step::Pay => {
                let o = cashier_pay_request(req)
                    .and_then(|r| client.call(&r))
                    .unwrap();
                tracker.on_pay_outcome(now, &o);
            }
            Step::Inquire => {
                let o = client.call(&inquiry_request(&id)).unwrap();
                tracker.on_inquiry_outcome(now, &o);
            }
            Step::Cancel => {
                let o = client.call(&cancel_request(&id)).unwrap();
                tracker.on_cancel_outcome(now, &o);
            }
            Step::RedirectShopper(_) => {}
            Step::WaitUntil(at) => {
                now = at;
                on_wait(now, tracker);
            }
            Step::Finished(f) => return (f, log),
            other => panic!("{other:?}"),
        }
    }
    panic!("no final state")
}

#[test]
fn tracker_with_the_client_success_by_notification_after_a_lost_pay_answer() {
    let fake = Arc::new(Mutex::new(Fake {
        order: None,
        pays: 0,
        cancels: 0,
        fail_next: 1,
    }));
    let client = client_with(stateful(fake.clone()));
    let req = pay_request("pay-1");
    let mut tracker = PaymentTracker::for_pay(&req, now(), TrackerPolicy::cashier());
    let cfg = config();
    let (end, log) = drive(&client, &mut tracker, &req, now(), |at, t| {
        if at >= now() + Duration::from_secs(20) {
            fake.lock().unwrap().order = Some("S");
            let n = alipayplus_client::notify::handle_notify_payment(
                &cfg,
                &notification(NOTIFY_S, "/alipay/notify"),
            )
            .unwrap();
            t.on_notify_payment(at, &n.body);
            t.on_notify_payment(at, &n.body); // duplicate delivery
        }
    });
    assert_eq!(end, Final::Succeeded, "{log:?}");
    let f = fake.lock().unwrap();
    assert_eq!(
        f.pays, 1,
        "the lost attempt never reached Alipay+; one pay landed"
    );
    assert_eq!(f.cancels, 0);
    assert!(log.iter().any(|l| l.contains("RedirectShopper")), "{log:?}");
}

#[test]
fn tracker_with_the_client_cancels_after_the_window() {
    let fake = Arc::new(Mutex::new(Fake {
        order: None,
        pays: 0,
        cancels: 0,
        fail_next: 0,
    }));
    let client = client_with(stateful(fake.clone()));
    let mut req = pay_request("pay-2");
    req.payment_expiry_time = Some(DateTime::from_unix(NOW_SECS + 300, 480).unwrap());
    let mut tracker = PaymentTracker::for_pay(&req, now(), TrackerPolicy::cashier());
    let (end, log) = drive(&client, &mut tracker, &req, now(), |_, _| {});
    assert_eq!(end, Final::Cancelled, "{log:?}");
    assert!(end.may_retry_with_new_id());
    let f = fake.lock().unwrap();
    assert_eq!((f.pays, f.cancels), (1, 1));
}
