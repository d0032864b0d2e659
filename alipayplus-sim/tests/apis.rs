//! Every Cashier API over loopback HTTP, with the gateway's checks and the state machine.

mod common;

use std::time::Duration;

use alipayplus_sim::{DeliveryOutcome, PaymentStatus, keys};
use common::*;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn consult_lists_enabled_wallets_signed() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let r = acqp.call(
        CONSULT,
        &json!({
            "paymentAmount": {"currency": "USD", "value": "0"},
            "paymentFactor": {"isCashierPayment": "true", "isInStorePayment": "false"},
            "userRegion": "SG"
        }),
    );
    assert_eq!(r.verified, Ok(()));
    assert_eq!((r.status_letter(), r.code()), ("S", "SUCCESS"));
    let options = r.json["paymentOptions"].as_array().unwrap();
    assert!(
        options
            .iter()
            .any(|o| o["paymentMethodType"] == "SIMWALLET" && o["enabled"] == "true")
    );
    assert_eq!(r.header("Client-Id"), Some(sim.client_id()));
}

#[test]
fn cashier_flow_pay_approve_notify_inquire_refund_twice() {
    let sim = sim();
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);

    let pay = acqp.call(PAY, &pay_body("P-FLOW-1", 1000, Some(&endpoint.url)));
    assert_eq!(pay.verified, Ok(()));
    assert_eq!(
        (pay.status_letter(), pay.code()),
        ("U", "PAYMENT_IN_PROCESS")
    );
    let url = pay.json["normalUrl"].as_str().unwrap().to_owned();
    assert_eq!(pay.json["paymentUrl"].as_str(), Some(url.as_str()));

    // The shopper opens the page, then approves; the wallet sends them back to the merchant.
    let (status, _, page) = acqp.get(&url);
    assert_eq!(status, 200);
    assert!(page.contains("Approve"), "{page}");
    let (status, location, _) = acqp.get(&format!("{url}?action=approve"));
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("https://merchant.example/return"));

    let got = endpoint.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert!(got[0].verified && got[0].acked);
    assert_eq!(got[0].result_status, "S");
    assert!(sim.wait_notifications_idle(WAIT));
    let status = &sim.notifications()[0];
    assert!(status.acknowledged && status.attempts == 1, "{status:?}");

    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "P-FLOW-1"}));
    assert_eq!(inquiry.verified, Ok(()));
    assert_eq!(inquiry.code(), "SUCCESS");
    assert_eq!(inquiry.json["paymentResult"]["resultStatus"], "S");
    assert_eq!(inquiry.json["paymentAmount"]["value"], "1000");
    assert!(inquiry.json["paymentTime"].is_string());

    let refund = |id: &str, value: u64| {
        acqp.call(
            REFUND,
            &json!({"paymentRequestId": "P-FLOW-1", "refundRequestId": id,
                    "refundAmount": {"currency": "USD", "value": value.to_string()}}),
        )
    };
    let first = refund("R-1", 300);
    assert_eq!((first.status_letter(), first.code()), ("S", "SUCCESS"));
    assert_eq!(
        sim.payment("P-FLOW-1").unwrap().status,
        PaymentStatus::PartlyRefunded
    );

    // A repeated refundRequestId gives the same result, not a second refund.
    let again = refund("R-1", 300);
    assert_eq!(again.body, first.body);
    assert_eq!(sim.payment("P-FLOW-1").unwrap().refunded, 300);
    let inconsistent = refund("R-1", 200);
    assert_eq!(inconsistent.code(), "REPEAT_REQ_INCONSISTENT");

    let too_much = refund("R-2", 701);
    assert_eq!(
        (too_much.status_letter(), too_much.code()),
        ("F", "REFUND_AMOUNT_EXCEED")
    );
    let rest = refund("R-3", 700);
    assert_eq!(rest.code(), "SUCCESS");
    let view = sim.payment("P-FLOW-1").unwrap();
    assert_eq!(
        (view.status, view.refunded),
        (PaymentStatus::FullyRefunded, 1000)
    );
    assert_eq!(refund("R-4", 1).code(), "REFUND_AMOUNT_EXCEED");

    // Inquiry lists the payment and both refunds.
    let inquiry = acqp.call(INQUIRY, &json!({"paymentId": view.payment_id}));
    assert_eq!(inquiry.json["transactions"].as_array().unwrap().len(), 3);
}

#[test]
fn pay_is_idempotent_and_never_charges_twice() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let first = acqp.call(PAY, &pay_body("P-IDEM", 500, None));
    let second = acqp.call(PAY, &pay_body("P-IDEM", 500, None));
    assert_eq!(first.json["paymentId"], second.json["paymentId"]);
    assert_eq!(sim.payments().len(), 1);

    let mut other_wallet = pay_body("P-IDEM", 500, None);
    other_wallet["paymentMethod"]["paymentMethodType"] = json!("ALIPAY_CN");
    for body in [pay_body("P-IDEM", 501, None), other_wallet] {
        let r = acqp.call(PAY, &body);
        assert_eq!(
            (r.status_letter(), r.code()),
            ("F", "REPEAT_REQ_INCONSISTENT")
        );
        assert_eq!(r.verified, Ok(()));
    }
    sim.approve("P-IDEM").unwrap();
    let after = acqp.call(PAY, &pay_body("P-IDEM", 500, None));
    assert_eq!((after.status_letter(), after.code()), ("S", "SUCCESS"));
    assert!(
        sim.approve("P-IDEM").is_err(),
        "a paid payment cannot be paid again"
    );
    assert_eq!(sim.payments().len(), 1);
}

#[test]
fn bad_signatures_are_refused_with_invalid_signature() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let body = pay_body("P-SIG", 100, None).to_string();
    // Signed with the simulator's own key instead of the ACQP's.
    let wrong_key = keys::sim_private_key().unwrap();
    let r = acqp.call_bytes(PAY, body.as_bytes(), &wrong_key);
    assert_eq!((r.status_letter(), r.code()), ("F", "INVALID_SIGNATURE"));
    assert_eq!(r.verified, Ok(()), "refusals are signed too");
    // Body changed after signing.
    let tampered = body.replace("\"100\"", "\"1\"");
    let r = acqp.send(PAY, body.as_bytes(), tampered.as_bytes(), &acqp.key, &[]);
    assert_eq!(r.code(), "INVALID_SIGNATURE");
    // No Signature header at all.
    let r = acqp.send(
        PAY,
        body.as_bytes(),
        body.as_bytes(),
        &acqp.key,
        &[("Signature", "")],
    );
    assert_eq!(r.code(), "INVALID_SIGNATURE");
    assert!(sim.payments().is_empty(), "nothing unsigned was processed");
}

#[test]
fn gateway_refusals_name_the_problem() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let body = pay_body("P-GW", 100, None).to_string();
    let b = body.as_bytes();
    let r = acqp.send(PAY, b, b, &acqp.key, &[("Client-Id", "SOMEONE_ELSE")]);
    assert_eq!(r.code(), "INVALID_CLIENT");
    let r = acqp.send(PAY, b, b, &acqp.key, &[("Content-Type", "text/plain")]);
    assert_eq!(r.code(), "MEDIA_TYPE_NOT_ACCEPTABLE");
    let r = acqp.send(PAY, b, b, &acqp.key, &[("Request-Time", "yesterday")]);
    assert_eq!(r.code(), "PARAM_ILLEGAL");
    assert!(r.message().contains("Request-Time"));
    let r = acqp.call(
        "/aps/api/v1/payments/noSuchApi",
        &json!({"paymentRequestId": "x"}),
    );
    assert_eq!(r.code(), "INVALID_API");
    let mut get = acqp
        .agent
        .get(format!("{}{PAY}", sim.base_url()))
        .call()
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&get.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(json["result"]["resultCode"], "METHOD_NOT_SUPPORTED");
}

#[test]
fn invalid_bodies_get_param_illegal_naming_the_field() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let mut no_redirect = pay_body("P-PARAM", 100, None);
    no_redirect
        .as_object_mut()
        .unwrap()
        .remove("paymentRedirectUrl");
    let r = acqp.call(PAY, &no_redirect);
    assert_eq!((r.status_letter(), r.code()), ("F", "PARAM_ILLEGAL"));
    assert!(
        r.message().contains("paymentRedirectUrl"),
        "{}",
        r.message()
    );

    let mut no_id = pay_body("P-PARAM", 100, None);
    no_id.as_object_mut().unwrap().remove("paymentRequestId");
    let r = acqp.call(PAY, &no_id);
    assert!(r.message().contains("paymentRequestId"), "{}", r.message());

    let r = acqp.call(PAY, &pay_body("P-PARAM", 0, None));
    assert!(
        r.message().contains("paymentAmount.value"),
        "{}",
        r.message()
    );

    let r = acqp.call(INQUIRY, &json!({}));
    assert_eq!(r.code(), "PARAM_ILLEGAL");
    assert!(r.message().contains("paymentRequestId"), "{}", r.message());
    assert!(sim.payments().is_empty());
}

#[test]
fn unknown_payments_do_not_exist() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    assert_eq!(
        acqp.call(INQUIRY, &json!({"paymentRequestId": "nope"}))
            .code(),
        "ORDER_NOT_EXIST"
    );
    assert_eq!(
        acqp.call(CANCEL, &json!({"paymentId": "nope"})).code(),
        "ORDER_NOT_EXIST"
    );
    let r = acqp.call(
        REFUND,
        &json!({"paymentRequestId": "nope", "refundRequestId": "R", "refundAmount": {"currency": "USD", "value": "1"}}),
    );
    assert_eq!(r.code(), "ORDER_NOT_EXIST");
}

#[test]
fn cancel_follows_the_state_machine() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let cancel = |id: &str| acqp.call(CANCEL, &json!({"paymentRequestId": id}));

    // In process: cancelled; again: same answer; the shopper can no longer pay.
    acqp.call(PAY, &pay_body("C-1", 100, None));
    assert_eq!(cancel("C-1").code(), "SUCCESS");
    assert_eq!(cancel("C-1").code(), "SUCCESS");
    assert!(sim.approve("C-1").is_err());
    assert_eq!(sim.payment("C-1").unwrap().status, PaymentStatus::Cancelled);
    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "C-1"}));
    assert_eq!(
        inquiry.json["paymentResult"]["resultCode"],
        "ORDER_IS_CLOSED"
    );

    // Succeeded, no refund yet, inside the window: reversed.
    acqp.call(PAY, &pay_body("C-2", 100, None));
    sim.approve("C-2").unwrap();
    assert_eq!(cancel("C-2").code(), "SUCCESS");
    assert_eq!(sim.payment("C-2").unwrap().status, PaymentStatus::Cancelled);

    // Succeeded and partly refunded: refused (the shopper would be paid back twice).
    acqp.call(PAY, &pay_body("C-3", 100, None));
    sim.approve("C-3").unwrap();
    acqp.call(
        REFUND,
        &json!({"paymentRequestId": "C-3", "refundRequestId": "C-3-R", "refundAmount": {"currency": "USD", "value": "10"}}),
    );
    assert_eq!(cancel("C-3").code(), "ORDER_STATUS_INVALID");

    // Declined: nothing to cancel.
    acqp.call(PAY, &pay_body("C-4", 100, None));
    sim.decline("C-4", "RISK_REJECT").unwrap();
    assert_eq!(cancel("C-4").code(), "ORDER_IS_CLOSED");

    // Succeeded, after 00:15 UTC+8 of the next day: refused.
    acqp.call(PAY, &pay_body("C-5", 100, None));
    sim.approve("C-5").unwrap();
    sim.advance_clock(Duration::from_secs(2 * 86_400));
    assert_eq!(cancel("C-5").code(), "ORDER_STATUS_INVALID");
}

#[test]
fn refunds_need_a_paid_payment_in_its_currency() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    acqp.call(PAY, &pay_body("RF-1", 100, None));
    let refund = |currency: &str, id: &str| {
        acqp.call(
            REFUND,
            &json!({"paymentRequestId": "RF-1", "refundRequestId": id, "refundAmount": {"currency": currency, "value": "10"}}),
        )
    };
    assert_eq!(refund("USD", "RF-1-A").code(), "ORDER_STATUS_INVALID");
    sim.approve("RF-1").unwrap();
    assert_eq!(refund("EUR", "RF-1-B").code(), "CURRENCY_NOT_SUPPORT");
    assert_eq!(refund("USD", "RF-1-C").code(), "SUCCESS");
    sim.advance_clock(Duration::from_secs(366 * 86_400));
    assert_eq!(refund("USD", "RF-1-D").code(), "REFUND_WINDOW_EXCEED");
}

#[test]
fn expired_payments_close_and_are_notified() {
    let sim = sim();
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);
    let mut body = pay_body("EXP-1", 100, Some(&endpoint.url));
    // The simulator's clock is the system clock here; expire one minute from now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    body["paymentExpiryTime"] = json!(
        alipayplus_types::DateTime::from_unix(now + 60, 480)
            .unwrap()
            .as_str()
    );
    assert_eq!(acqp.call(PAY, &body).code(), "PAYMENT_IN_PROCESS");
    sim.advance_clock(Duration::from_secs(120));
    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "EXP-1"}));
    assert_eq!(inquiry.json["paymentResult"]["resultStatus"], "F");
    assert_eq!(
        inquiry.json["paymentResult"]["resultCode"],
        "ORDER_IS_CLOSED"
    );
    let got = endpoint.wait_for(1, WAIT);
    assert_eq!(got[0].result_status, "F");
    assert!(got[0].acked);
}

#[test]
fn every_payment_reaches_a_final_state() {
    let sim = sim();
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);
    for i in 0..12 {
        let id = format!("FIN-{i}");
        acqp.call(PAY, &pay_body(&id, 100 + i, Some(&endpoint.url)));
        match i % 4 {
            0 => drop(sim.approve(&id).unwrap()),
            1 => drop(sim.decline(&id, "USER_BALANCE_NOT_ENOUGH").unwrap()),
            2 => assert_eq!(
                acqp.call(CANCEL, &json!({"paymentRequestId": id})).code(),
                "SUCCESS"
            ),
            _ => {
                let (status, _, _) = acqp.get(&format!(
                    "{}?action=decline&code=RISK_REJECT",
                    sim.payment(&id).unwrap().checkout_url
                ));
                assert_eq!(status, 303);
            }
        }
    }
    assert!(sim.payments().iter().all(|p| p.status.is_final()));
    assert!(sim.wait_notifications_idle(WAIT));
    // 9 notified (approved or declined); cancelled ones are not notified.
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 9);
    assert!(
        deliveries
            .iter()
            .all(|d| d.outcome == DeliveryOutcome::Acknowledged)
    );
    assert!(endpoint.received().iter().all(|r| r.verified));
}

#[test]
fn control_api_over_http() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let (status, info) = acqp.control("GET", "/sim", None);
    assert_eq!(status, 200);
    assert_eq!(info["clientId"], sim.client_id());
    assert!(
        info["apis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "refund")
    );

    let pay = acqp.call(PAY, &pay_body("CTL-1", 100, None));
    let (status, view) = acqp.control(
        "POST",
        "/sim/shopper/approve",
        Some(json!({"paymentId": pay.json["paymentId"]})),
    );
    assert_eq!((status, view["status"].as_str()), (200, Some("SUCCESS")));
    let (status, _) = acqp.control("POST", "/sim/shopper/approve", Some(json!({"id": "CTL-1"})));
    assert_eq!(status, 409, "already paid");
    let (status, _) = acqp.control(
        "POST",
        "/sim/shopper/decline",
        Some(json!({"id": "missing"})),
    );
    assert_eq!(status, 404);
    let (_, view) = acqp.control("GET", "/sim/payments/CTL-1", None);
    assert_eq!(view["paymentId"], pay.json["paymentId"]);
    let (_, calls) = acqp.control("GET", "/sim/calls", None);
    assert_eq!(calls[0]["api"], "pay");
    let (status, _) = acqp.control("POST", "/sim/clock/advance", Some(json!({"seconds": 5})));
    assert_eq!(status, 200);
    let (status, _) = acqp.control(
        "POST",
        "/sim/faults",
        Some(json!({"fault": {"kind": "nonsense"}})),
    );
    assert_eq!(status, 400);
}

#[test]
fn dropping_the_simulator_stops_it() {
    let sim = sim();
    let base = sim.base_url().to_owned();
    let acqp = Acqp::new(&sim);
    assert_eq!(acqp.control("GET", "/sim", None).0, 200);
    drop(sim);
    assert!(
        agent(Duration::from_secs(1))
            .get(format!("{base}/sim"))
            .call()
            .is_err()
    );
}
