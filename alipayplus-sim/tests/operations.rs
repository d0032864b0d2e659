//! Registration, disputes and customs over loopback HTTP with raw signed JSON (no client
//! crate): the APIs' state and idempotency, the wallets' signed notifications, disputes sent to
//! the acquirer, and the control calls under `/sim/operations`.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const REGISTRATION: &str = "/aps/api/v1/merchants/registration";
const REGISTRATION_STATUS: &str = "/aps/api/v1/merchants/inquiryRegistrationStatus";
const RESPONSE_RETRIEVAL: &str = "/aps/api/v1/disputes/responseRetrieval";
const RESPONSE_ESCALATION: &str = "/aps/api/v1/disputes/responseEscalation";
const DECLARE: &str = "/aps/api/v1/customs/declare";
const INQUIRE_DECLARATIONS: &str = "/aps/api/v1/customs/inquireDeclarationRequests";
const WAIT: Duration = Duration::from_secs(5);

fn registration(id: &str, notify: &str) -> Value {
    json!({
        "registrationRequestId": id,
        "productCodes": ["CASHIER_PAYMENT"],
        "merchantInfo": {
            "referenceMerchantId": "M-OPS-1",
            "merchantDisplayName": "Shop",
            "merchantMCC": "5817",
            "websites": [{"url": "https://shop.example.com"}],
            "registrationDetail": {"legalName": "Shop Ltd", "registrationType": "ENTERPRISE_REGISTRATION_NO", "registrationNo": "1"}
        },
        "registrationNotifyUrl": notify
    })
}

#[test]
fn registration_reviews_notify_each_wallet_and_updates_wait() {
    let sim = sim();
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);
    let r = acqp.call(REGISTRATION, &registration("REG-1", &endpoint.url));
    assert_eq!((r.status_letter(), r.code()), ("S", "SUCCESS"));
    let again = acqp.call(REGISTRATION, &registration("REG-1", &endpoint.url));
    assert_eq!(again.code(), "SUCCESS", "idempotent");
    let too_soon = acqp.call(REGISTRATION, &registration("REG-2", &endpoint.url));
    assert_eq!(
        (too_soon.status_letter(), too_soon.code()),
        ("F", "REGISTRATION_UPDATE_TOO_FREQUENT")
    );
    let status = acqp.call(
        REGISTRATION_STATUS,
        &json!({"referenceMerchantId": "M-OPS-1"}),
    );
    assert_eq!(
        status.json["registrationResult"]["registrationStatus"],
        "PENDING"
    );
    let unknown = acqp.call(
        REGISTRATION_STATUS,
        &json!({"registrationRequestId": "REG-404"}),
    );
    assert_eq!(
        (unknown.status_letter(), unknown.code()),
        ("F", "REGISTRATION_NOT_EXIST")
    );
    let invalid = acqp.call(REGISTRATION_STATUS, &json!({}));
    assert_eq!(invalid.code(), "PARAM_ILLEGAL");

    let (code, _) = acqp.control(
        "POST",
        "/sim/operations/registrations/review",
        Some(json!({"registrationRequestId": "REG-1", "pspName": "NOPE", "decision": "APPROVED"})),
    );
    assert_eq!(code, 409);
    let (code, _) = acqp.control(
        "POST",
        "/sim/operations/registrations/review",
        Some(json!({"registrationRequestId": "REG-1", "decision": "MAYBE"})),
    );
    assert_eq!(code, 400);
    let (code, wallets) = acqp.control("POST", "/sim/operations/registrations/review", Some(json!({"registrationRequestId": "REG-1", "pspName": "ALIPAY_CN", "decision": "APPROVED"})));
    assert_eq!((code, wallets), (200, json!(["ALIPAY_CN"])));
    let status = acqp.call(
        REGISTRATION_STATUS,
        &json!({"registrationRequestId": "REG-1"}),
    );
    assert_eq!(
        status.json["registrationResult"]["registrationStatus"], "PENDING",
        "one wallet left"
    );
    acqp.control("POST", "/sim/operations/registrations/review", Some(json!({"registrationRequestId": "REG-1", "pspName": "SIMWALLET", "decision": "REJECTED"})));
    let received = endpoint.wait_for(2, WAIT);
    assert_eq!(received.len(), 2, "one notification per wallet");
    assert!(received.iter().all(|r| r.verified && r.acked));
    let status = acqp.call(
        REGISTRATION_STATUS,
        &json!({"registrationRequestId": "REG-1"}),
    );
    assert_eq!(
        status.json["registrationResult"]["registrationStatus"],
        "COMPLETED"
    );
    let list = status.json["pspRegistrationResultList"]
        .as_array()
        .unwrap()
        .clone();
    assert!(list.contains(&json!({"pspName": "ALIPAY_CN", "productCodes": ["CASHIER_PAYMENT"], "registrationResult": {"registrationStatus": "APPROVED"}})));
    assert!(list.contains(&json!({"pspName": "SIMWALLET", "productCodes": ["CASHIER_PAYMENT"], "registrationResult": {"registrationStatus": "REJECTED"}})));
    assert!(sim.wait_notifications_idle(WAIT));
    let keys: Vec<String> = sim
        .notifications()
        .into_iter()
        .map(|n| n.payment_request_id)
        .collect();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("notifyRegistrationStatus#")),
        "{keys:?}"
    );
    // Processed now: the update is accepted.
    let update = acqp.call(REGISTRATION, &registration("REG-2", &endpoint.url));
    assert_eq!(update.code(), "SUCCESS");
}

fn paid(acqp: &Acqp, id: &str, body: Value) {
    let r = acqp.call(PAY, &body);
    assert_eq!(r.status_letter(), "U", "{}", r.message());
    let (code, _) = acqp.control("POST", "/sim/shopper/approve", Some(json!({"id": id})));
    assert_eq!(code, 200);
}

#[test]
fn disputes_go_to_the_acquirer_and_responses_are_checked() {
    let sim = sim();
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);
    let (code, _) = acqp.control(
        "POST",
        "/sim/operations/disputes",
        Some(json!({"kind": "retrieval", "paymentRequestId": "NONE"})),
    );
    assert_eq!(code, 409, "no dispute URL yet");
    let (code, _) = acqp.control(
        "PUT",
        "/sim/operations/config",
        Some(json!({"disputeUrl": endpoint.url})),
    );
    assert_eq!(code, 200);
    let (code, _) = acqp.control(
        "POST",
        "/sim/operations/disputes",
        Some(json!({"kind": "retrieval", "paymentRequestId": "NONE"})),
    );
    assert_eq!(code, 404);
    acqp.call(PAY, &pay_body("DSP-UNPAID", 1000, None));
    let (code, _) = acqp.control(
        "POST",
        "/sim/operations/disputes",
        Some(json!({"kind": "retrieval", "paymentRequestId": "DSP-UNPAID"})),
    );
    assert_eq!(code, 409, "only paid payments are disputed");
    paid(&acqp, "DSP-1", pay_body("DSP-1", 1000, None));

    let (code, retrieval) = acqp.control(
        "POST",
        "/sim/operations/disputes",
        Some(json!({"kind": "retrieval", "paymentRequestId": "DSP-1"})),
    );
    assert_eq!(code, 200);
    let (code, _) = acqp.control(
        "POST",
        "/sim/operations/disputes",
        Some(json!({"kind": "retrieval", "paymentRequestId": "DSP-1"})),
    );
    assert_eq!(code, 409, "one ongoing retrieval");
    let (code, _) = acqp.control("POST", "/sim/operations/disputes", Some(json!({"kind": "escalation", "paymentRequestId": "DSP-1", "escalationAmount": {"currency": "USD", "value": "1001"}})));
    assert_eq!(code, 409, "above the disputable amount");
    let (code, escalation) = acqp.control("POST", "/sim/operations/disputes", Some(json!({"kind": "escalation", "paymentRequestId": "DSP-1", "escalationAmount": {"currency": "USD", "value": "600"}})));
    assert_eq!(code, 200);
    let received = endpoint.wait_for(2, WAIT);
    assert_eq!(received.len(), 2);
    assert!(
        received
            .iter()
            .all(|r| r.verified && r.acked && r.payment_request_id == "DSP-1")
    );

    let rid = retrieval["disputeRequestId"].as_str().unwrap();
    let eid = escalation["disputeRequestId"].as_str().unwrap();
    let unknown = acqp.call(
        RESPONSE_RETRIEVAL,
        &json!({"disputeRequestId": eid, "responseCode": "SUCCESS"}),
    );
    assert_eq!(
        unknown.code(),
        "DISPUTE_NOT_EXIST",
        "an escalation id is not a retrieval"
    );
    let ok = acqp.call(RESPONSE_RETRIEVAL, &json!({"disputeRequestId": rid, "responseCode": "SUCCESS", "proofOfDelivery": {"deliveryTrackingNo": "T1"}}));
    assert_eq!(ok.code(), "SUCCESS");
    let over = acqp.call(RESPONSE_ESCALATION, &json!({"disputeRequestId": eid, "refundType": "ACCEPT_PARTIAL_REFUND", "refundAmount": {"currency": "USD", "value": "601"}}));
    assert_eq!((over.status_letter(), over.code()), ("F", "PARAM_ILLEGAL"));
    let currency = acqp.call(RESPONSE_ESCALATION, &json!({"disputeRequestId": eid, "refundType": "ACCEPT_PARTIAL_REFUND", "refundAmount": {"currency": "SGD", "value": "100"}}));
    assert_eq!(currency.code(), "PARAM_ILLEGAL");
    let missing = acqp.call(
        RESPONSE_ESCALATION,
        &json!({"disputeRequestId": eid, "refundType": "ACCEPT_PARTIAL_REFUND"}),
    );
    assert_eq!(missing.code(), "PARAM_ILLEGAL");
    let partial = json!({"disputeRequestId": eid, "refundType": "ACCEPT_PARTIAL_REFUND", "refundAmount": {"currency": "USD", "value": "600"}});
    assert_eq!(acqp.call(RESPONSE_ESCALATION, &partial).code(), "SUCCESS");
    assert_eq!(
        acqp.call(RESPONSE_ESCALATION, &partial).code(),
        "SUCCESS",
        "idempotent"
    );
    let changed = acqp.call(
        RESPONSE_ESCALATION,
        &json!({"disputeRequestId": eid, "refundType": "REFUSE_REFUND"}),
    );
    assert_eq!(changed.code(), "REPEAT_REQ_INCONSISTENT");
    let (_, view) = acqp.control("GET", "/sim/operations", None);
    assert_eq!(view["disputes"].as_array().unwrap().len(), 2);
}

fn declaration(id: &str, payment: &str, value: &str) -> Value {
    json!({
        "paymentRequestId": payment,
        "customsDeclarationRequestId": id,
        "customs": {"customsCode": "HANGZHOU", "region": "CN"},
        "merchantCustomsInfo": {"merchantCustomsCode": "C1", "merchantCustomsName": "Shop"},
        "declarationAmount": {"currency": "CNY", "value": value},
        "isSplit": "true",
        "referenceOrderId": format!("ORDER-{id}")
    })
}

#[test]
fn declarations_are_capped_per_payment_and_an_update_replaces() {
    // The protocol clock stands still (moved only by advance_clock), so the one-second
    // WAITING_FOR_PROCESSING state below does not lapse on a loaded machine.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let sim = sim_with(|c| c.with_clock(alipayplus_sim::clock::FixedClock(start)));
    let acqp = Acqp::new(&sim);
    let mut cn = pay_body("CN-1", 10_000, None);
    cn["paymentAmount"]["currency"] = json!("CNY");
    cn["order"]["orderAmount"]["currency"] = json!("CNY");
    cn["paymentMethod"]["paymentMethodType"] = json!("ALIPAY_CN");
    let unpaid = acqp.call(DECLARE, &declaration("D-0", "CN-1", "1"));
    assert_eq!(unpaid.code(), "ORDER_NOT_EXIST");
    paid(&acqp, "CN-1", cn);
    paid(&acqp, "USD-1", pay_body("USD-1", 100, None));
    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "CN-1"}));
    assert_eq!(
        inquiry.json["customsDeclarationAmount"],
        json!({"currency": "CNY", "value": "10000"})
    );
    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "USD-1"}));
    assert!(inquiry.json.get("customsDeclarationAmount").is_none());
    assert_eq!(
        acqp.call(DECLARE, &declaration("D-U", "USD-1", "1")).code(),
        "ORDER_STATUS_INVALID"
    );

    assert_eq!(
        acqp.call(DECLARE, &declaration("D-1", "CN-1", "6000"))
            .code(),
        "SUCCESS"
    );
    assert_eq!(
        acqp.call(DECLARE, &declaration("D-2", "CN-1", "4000"))
            .code(),
        "SUCCESS"
    );
    let over = acqp.call(DECLARE, &declaration("D-3", "CN-1", "1"));
    assert_eq!(
        (over.status_letter(), over.code()),
        ("F", "TOTAL_DECLARATION_AMOUNT_EXCEED")
    );
    assert_eq!(
        acqp.call(DECLARE, &declaration("D-1", "CN-1", "5000"))
            .code(),
        "SUCCESS",
        "an update replaces"
    );
    assert_eq!(
        acqp.call(DECLARE, &declaration("D-3", "CN-1", "1000"))
            .code(),
        "SUCCESS"
    );
    assert_eq!(
        acqp.call(DECLARE, &declaration("D-1", "USD-1", "1")).code(),
        "REPEAT_REQ_INCONSISTENT"
    );
    let mut usd = declaration("D-9", "CN-1", "1");
    usd["declarationAmount"]["currency"] = json!("USD");
    assert_eq!(acqp.call(DECLARE, &usd).code(), "PARAM_ILLEGAL");

    let r = acqp.call(
        INQUIRE_DECLARATIONS,
        &json!({"declarationRequestIds": ["D-1", "D-404"]}),
    );
    assert_eq!(r.json["declarationRequestsNotFound"], json!(["D-404"]));
    let record = &r.json["declarationRecords"][0];
    assert_eq!(record["declarationAmount"]["value"], "5000");
    assert_eq!(record["declarationRequestStatus"], "WAITING_FOR_PROCESSING");
    sim.advance_clock(Duration::from_secs(2));
    let r = acqp.call(
        INQUIRE_DECLARATIONS,
        &json!({"declarationRequestIds": ["D-1"]}),
    );
    assert_eq!(
        r.json["declarationRecords"][0]["declarationRequestStatus"],
        "CUSTOMS_ACCEPT_SUCCESS"
    );
    let eleven: Vec<String> = (0..11).map(|i| format!("D-{i}")).collect();
    assert_eq!(
        acqp.call(
            INQUIRE_DECLARATIONS,
            &json!({"declarationRequestIds": eleven})
        )
        .code(),
        "PARAM_ILLEGAL"
    );
}
