//! Customs: the requests' shape and signature, validation edges, the declarable amount readers
//! and the ledger (update replaces, unknown outcomes counted, split rules).

mod common;

use alipayplus_client::error::RequestError;
use alipayplus_operations::Error;
use alipayplus_operations::customs::{
    DeclarationLedger, checked_declare, declarable_amount, declarable_amount_notified,
    inquire_declarations_request,
};
use alipayplus_types::{
    Amount, Currency, DeclareRequest, InquireDeclarationRequestsRequest, InquiryPaymentRequest,
    InquiryPaymentResponse, NotifyPaymentRequest, StrBool,
};
use common::*;
use serde_json::{Value, json};

fn example() -> DeclareRequest {
    serde_json::from_str(&data("customs-declare-request.json")).unwrap()
}

fn split(id: &str, order: &str, value: u64) -> DeclareRequest {
    let mut r = example();
    r.customs_declaration_request_id = id.into();
    r.is_split = StrBool(true);
    r.reference_order_id = Some(order.into());
    r.declaration_amount = Amount::new(Currency::CNY, value);
    r
}

fn problems(e: RequestError) -> String {
    match e {
        RequestError::Invalid { errors, .. } => errors.to_string(),
        other => panic!("not a validation error: {other}"),
    }
}

const S: &str = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"pspPaymentId":"2025","clearingChannel":"NUCC"}"#;
const F: &str = r#"{"result":{"resultCode":"TOTAL_DECLARATION_AMOUNT_EXCEED","resultStatus":"F"}}"#;

#[test]
fn declare_shape_signature_and_validation() {
    let request = checked_declare(&example()).unwrap();
    let expected: Value = serde_json::from_str(&data("customs-declare-request.json")).unwrap();
    assert_signed_shape(&request, &expected);

    let mut r = example();
    r.declaration_amount = Amount::new(Currency::USD, 100);
    assert!(
        problems(checked_declare(&r).unwrap_err())
            .contains("declarationAmount.currency: USD is not allowed here, only CNY")
    );
    let mut r = example();
    r.declaration_amount = Amount::new(Currency::CNY, 0);
    assert!(checked_declare(&r).is_err(), "a zero declaration");
    let mut r = example();
    r.is_split = StrBool(true);
    assert!(problems(checked_declare(&r).unwrap_err()).contains("referenceOrderId: missing"));
    let mut r = example();
    r.customs.region = "HK".into();
    assert!(problems(checked_declare(&r).unwrap_err()).contains("customs.region: only CN"));
    let mut r = example();
    r.customs.customs_code = "C".repeat(129);
    r.merchant_customs_info.merchant_customs_name = "N".repeat(257);
    let text = problems(checked_declare(&r).unwrap_err());
    assert!(
        text.contains("customs.customsCode: too long (129 characters, max 128)"),
        "{text}"
    );
    assert!(
        text.contains(
            "merchantCustomsInfo.merchantCustomsName: too long (257 characters, max 256)"
        ),
        "{text}"
    );
}

#[test]
fn inquiry_takes_1_to_10_distinct_ids() {
    let one = inquire_declarations_request(&["DCL-1"]).unwrap();
    assert_signed_shape(&one, &json!({"declarationRequestIds": ["DCL-1"]}));
    let ten: Vec<String> = (0..10).map(|i| format!("DCL-{i}")).collect();
    assert!(inquire_declarations_request(&ten).is_ok());
    let eleven: Vec<String> = (0..11).map(|i| format!("DCL-{i}")).collect();
    assert!(
        problems(inquire_declarations_request(&eleven).unwrap_err())
            .contains("11 elements, allowed 1 to 10")
    );
    let none: [&str; 0] = [];
    assert!(inquire_declarations_request(&none).is_err());
    assert!(
        problems(inquire_declarations_request(&["A", "A"]).unwrap_err())
            .contains("declarationRequestIds[1]: listed twice")
    );
    assert!(inquire_declarations_request(&["x".repeat(65)]).is_err());
    assert!(inquire_declarations_request(&[""]).is_err());
    // The spec's answer parses, including the not-found list.
    let answer = outcome::<InquireDeclarationRequestsRequest>(&data(
        "customs-inquireDeclarationRequests-response.json",
    ));
    let body = answer.body().unwrap();
    assert_eq!(
        body.declaration_requests_not_found.as_deref(),
        Some(&["DCL20250601000009".to_string()][..])
    );
    assert_eq!(body.declaration_records.as_ref().unwrap().len(), 1);
}

#[test]
fn declarable_amount_from_inquiry_and_notification() {
    let paid: InquiryPaymentResponse = serde_json::from_value(json!({
        "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "customsDeclarationAmount": {"currency": "CNY", "value": "10000"}
    }))
    .unwrap();
    assert_eq!(
        declarable_amount(&paid).unwrap(),
        Amount::new(Currency::CNY, 10_000)
    );
    let mut unpaid = paid.clone();
    unpaid.payment_result.as_mut().unwrap().result_status = "U".into();
    assert!(matches!(
        declarable_amount(&unpaid),
        Err(Error::NoDeclarableAmount(_))
    ));
    let mut none = paid.clone();
    none.customs_declaration_amount = None;
    assert!(declarable_amount(&none).is_err());
    let mut usd = paid.clone();
    usd.customs_declaration_amount = Some(Amount::new(Currency::USD, 1));
    assert!(declarable_amount(&usd).is_err());
    // Verified through the client like a real answer.
    let o = outcome::<InquiryPaymentRequest>(&serde_json::to_string(&paid).unwrap());
    assert!(declarable_amount(o.body().unwrap()).is_ok());

    let notified: NotifyPaymentRequest = serde_json::from_value(json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentRequestId": "PAY-1",
        "customsDeclarationAmount": {"currency": "CNY", "value": "8000"}
    }))
    .unwrap();
    assert_eq!(
        declarable_amount_notified(&notified).unwrap(),
        Amount::new(Currency::CNY, 8000)
    );
    let bad: NotifyPaymentRequest = serde_json::from_value(json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentRequestId": "PAY-1",
        "customsDeclarationAmount": {"currency": "CNY", "value": "-1"}
    }))
    .unwrap();
    assert!(declarable_amount_notified(&bad).is_err());
}

#[test]
fn split_declarations_add_up_and_an_update_replaces() {
    let mut ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let a = split("DCL-A", "ORD-A", 6000);
    assert_eq!(ledger.check(&a).unwrap().minor(), 6000);
    ledger.on_declare_outcome(&a, t(0), t(1), &outcome::<DeclareRequest>(S));
    let b = split("DCL-B", "ORD-B", 4000);
    assert_eq!(
        ledger.check(&b).unwrap().minor(),
        10_000,
        "exactly the limit is allowed"
    );
    let too_much = split("DCL-B", "ORD-B", 4001);
    match ledger.check(&too_much) {
        Err(Error::DeclarationAboveLimit { total, limit, .. }) => {
            assert_eq!(total.minor(), 10_001);
            assert_eq!(limit.minor(), 10_000);
        }
        other => panic!("{other:?}"),
    }
    ledger.on_declare_outcome(&b, t(0), t(1), &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 10_000);
    assert_eq!(ledger.remaining().minor(), 0);
    // Updating A (same id) to a lower amount replaces it: not 6000 + 5000.
    let a2 = split("DCL-A", "ORD-A", 5000);
    assert_eq!(ledger.check(&a2).unwrap().minor(), 9000);
    ledger.on_declare_outcome(&a2, t(0), t(1), &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 9000);
    // A rejected update leaves the earlier amount.
    let a3 = split("DCL-A", "ORD-A", 6000);
    ledger.on_declare_outcome(&a3, t(0), t(1), &outcome::<DeclareRequest>(F));
    assert_eq!(ledger.total().minor(), 9000);
    // A new id for an order already declared: update that one instead.
    assert!(matches!(
        ledger.check(&split("DCL-C", "ORD-A", 1)),
        Err(Error::SplitRule(_))
    ));
    // Another payment.
    let mut other = split("DCL-D", "ORD-D", 1);
    other.payment_request_id = "PAY-OTHER".into();
    assert!(matches!(
        ledger.check(&other),
        Err(Error::OtherPayment { .. })
    ));
    // A whole-payment declaration cannot join split ones.
    let mut whole = example();
    whole.customs_declaration_request_id = "DCL-W".into();
    whole.declaration_amount = Amount::new(Currency::CNY, 1000);
    assert!(matches!(ledger.check(&whole), Err(Error::SplitRule(_))));
    // Stored and loaded.
    let loaded: DeclarationLedger =
        serde_json::from_str(&serde_json::to_string(&ledger).unwrap()).unwrap();
    assert_eq!(loaded, ledger);
}

#[test]
fn unknown_outcomes_count_until_settled_and_whole_declarations_stand_alone() {
    let mut ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let a = split("DCL-A", "ORD-A", 7000);
    ledger.on_declare_outcome(&a, t(0), t(1), &lost::<DeclareRequest>());
    assert_eq!(ledger.total().minor(), 7000, "may have been accepted");
    assert!(ledger.check(&split("DCL-B", "ORD-B", 3001)).is_err());
    ledger.on_declare_outcome(&a, t(0), t(1), &outcome::<DeclareRequest>(F));
    assert_eq!(ledger.total().minor(), 0, "F: nothing was declared");
    ledger.on_declare_outcome(&a, t(0), t(1), &outcome::<DeclareRequest>(S));
    // An update with an unknown outcome counts the larger amount.
    let lower = split("DCL-A", "ORD-A", 2000);
    ledger.on_declare_outcome(&lower, t(0), t(1), &lost::<DeclareRequest>());
    assert_eq!(ledger.total().minor(), 7000);
    ledger.on_declare_outcome(&lower, t(0), t(1), &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 2000);

    let mut whole_ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let whole = example();
    assert_eq!(whole_ledger.check(&whole).unwrap().minor(), 10_000);
    whole_ledger.on_declare_outcome(&whole, t(0), t(1), &outcome::<DeclareRequest>(S));
    assert!(matches!(
        whole_ledger.check(&split("DCL-B", "ORD-B", 1)),
        Err(Error::SplitRule(_))
    ));
    assert!(
        whole_ledger.check(&whole).is_ok(),
        "re-sending the same id is an update"
    );
    assert!(DeclarationLedger::new("P", Amount::new(Currency::USD, 1)).is_err());
}

const SYSTEM_ERROR: &str = r#"{"result":{"resultCode":"SYSTEM_ERROR","resultStatus":"F"}}"#;

/// Issue 19: two lost updates of one declaration; the first one's higher amount may stand.
#[test]
fn every_lost_update_keeps_its_amount_until_settled() {
    let mut ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let first = split("DCL-1", "ORD-1", 6000);
    ledger.record_send(&first, t(0)).unwrap();
    ledger.on_declare_outcome(&first, t(0), t(1), &outcome::<DeclareRequest>(S));
    let up = split("DCL-1", "ORD-1", 8000);
    ledger.record_send(&up, t(100)).unwrap();
    ledger.on_declare_outcome(&up, t(100), t(160), &lost::<DeclareRequest>());
    let down = split("DCL-1", "ORD-1", 5000);
    ledger.record_send(&down, t(200)).unwrap();
    ledger.on_declare_outcome(&down, t(200), t(260), &lost::<DeclareRequest>());
    assert_eq!(ledger.total().minor(), 8000, "8,000 may stand");
    match ledger.check(&split("DCL-2", "ORD-2", 4000)) {
        Err(Error::DeclarationAboveLimit { total, .. }) => assert_eq!(total.minor(), 12_000),
        other => panic!("8,000 + 4,000 may stand, above 10,000: {other:?}"),
    }
    assert!(ledger.check(&split("DCL-2", "ORD-2", 2000)).is_ok());
    assert_eq!(ledger.unsettled_ids(), ["DCL-1"]);
    // Stored and loaded, the unsettled amounts stay.
    let loaded: DeclarationLedger =
        serde_json::from_str(&serde_json::to_string(&ledger).unwrap()).unwrap();
    assert_eq!(loaded.total().minor(), 8000);
}

/// Issue 19: a request-level F (SYSTEM_ERROR) after an unknown outcome says nothing about the
/// declaration: DCL-3 keeps counting. An F about the declaration settles that attempt.
#[test]
fn only_an_f_about_the_declaration_settles_an_unknown_attempt() {
    let mut ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let d3 = split("DCL-3", "ORD-3", 9000);
    ledger.record_send(&d3, t(0)).unwrap();
    ledger.on_declare_outcome(
        &d3,
        t(0),
        t(60),
        &outcome::<DeclareRequest>(
            "{\"result\":{\"resultCode\":\"UNKNOWN_EXCEPTION\",\"resultStatus\":\"U\"}}",
        ),
    );
    ledger.record_send(&d3, t(100)).unwrap();
    ledger.on_declare_outcome(
        &d3,
        t(100),
        t(101),
        &outcome::<DeclareRequest>(SYSTEM_ERROR),
    );
    assert_eq!(ledger.total().minor(), 9000, "DCL-3 may stand");
    assert!(ledger.check(&split("DCL-4", "ORD-4", 1001)).is_err());
    for code in [
        "PARAM_ILLEGAL",
        "REPEAT_REQ_INCONSISTENT",
        "NEVER_SEEN_CODE",
    ] {
        let body = format!(r#"{{"result":{{"resultCode":"{code}","resultStatus":"F"}}}}"#);
        ledger.on_declare_outcome(&d3, t(100), t(101), &outcome::<DeclareRequest>(&body));
        assert_eq!(
            ledger.total().minor(),
            9000,
            "{code} is about the request only"
        );
    }
    // TOTAL_DECLARATION_AMOUNT_EXCEED (about the declaration) to the latest send: every
    // attempt of that amount sent until then did not apply.
    ledger.on_declare_outcome(&d3, t(100), t(101), &outcome::<DeclareRequest>(F));
    assert_eq!(ledger.total().minor(), 0);
    assert!(ledger.declarations().is_empty());
}

fn inquiry_answer(records: Value, not_found: &[&str]) -> String {
    json!({
        "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "declarationRecords": records,
        "declarationRequestsNotFound": not_found,
    })
    .to_string()
}

/// An unknown attempt is settled by inquiry; "not found" only once no attempt can land any
/// more, judged by the time the inquiry was sent (default: 60 s in flight + 60 s margin).
#[test]
fn inquiry_settles_unknown_attempts_after_the_late_landing_margin() {
    let mut ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let d3 = split("DCL-3", "ORD-3", 9000);
    ledger.record_send(&d3, t(1000)).unwrap();
    // crash: no answer was ever folded in; the stored ledger still counts it.
    assert_eq!(ledger.total().minor(), 9000);
    let not_found = inquiry_answer(json!([]), &["DCL-3"]);
    // Sent 119 s after the declare, answered 30 s later: still inside the margin.
    ledger.on_inquiry_outcome(
        t(1119),
        t(1149),
        &outcome::<InquireDeclarationRequestsRequest>(&not_found),
    );
    assert_eq!(ledger.total().minor(), 9000, "a declare may still land");
    // A failed inquiry tells nothing.
    ledger.on_inquiry_outcome(
        t(2000),
        t(2001),
        &outcome::<InquireDeclarationRequestsRequest>(SYSTEM_ERROR),
    );
    ledger.on_inquiry_outcome(
        t(2000),
        t(2001),
        &lost::<InquireDeclarationRequestsRequest>(),
    );
    assert_eq!(ledger.total().minor(), 9000);
    ledger.on_inquiry_outcome(
        t(1120),
        t(1121),
        &outcome::<InquireDeclarationRequestsRequest>(&not_found),
    );
    assert_eq!(ledger.total().minor(), 0, "nothing landed and nothing can");
    assert!(ledger.check(&split("DCL-5", "ORD-5", 10_000)).is_ok());

    // A record settles to the amount that stands.
    let d1 = split("DCL-1", "ORD-1", 6000);
    ledger.record_send(&d1, t(3000)).unwrap();
    ledger.on_declare_outcome(&d1, t(3000), t(3001), &outcome::<DeclareRequest>(S));
    let up = split("DCL-1", "ORD-1", 8000);
    ledger.record_send(&up, t(3100)).unwrap();
    let down = split("DCL-1", "ORD-1", 5000);
    ledger.record_send(&down, t(3200)).unwrap();
    assert_eq!(ledger.total().minor(), 8000);
    let record = |value: &str| {
        inquiry_answer(
            json!([{"customsDeclarationRequestId": "DCL-1", "declarationAmount": {"currency": "CNY", "value": value},
                    "declarationRequestStatus": "CUSTOMS_ACCEPT_SUCCESS"}]),
            &[],
        )
    };
    // Asked too early for the 5,000 update: 8,000 stands now, 5,000 may still land.
    ledger.on_inquiry_outcome(
        t(3250),
        t(3251),
        &outcome::<InquireDeclarationRequestsRequest>(&record("8000")),
    );
    assert_eq!(ledger.total().minor(), 8000);
    assert_eq!(ledger.unsettled_ids(), ["DCL-1"]);
    ledger.on_inquiry_outcome(
        t(3400),
        t(3401),
        &outcome::<InquireDeclarationRequestsRequest>(&record("5000")),
    );
    assert_eq!(ledger.total().minor(), 5000);
    assert!(ledger.unsettled_ids().is_empty());
    // A "not found" after an S is a contradiction: the confirmed amount keeps counting.
    ledger.on_inquiry_outcome(
        t(9000),
        t(9001),
        &outcome::<InquireDeclarationRequestsRequest>(&inquiry_answer(json!([]), &["DCL-1"])),
    );
    assert_eq!(ledger.total().minor(), 5000);
}

/// An S settles older attempts of other amounts only when they can no longer land.
#[test]
fn an_s_settles_only_attempts_that_can_no_longer_land() {
    let mut ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let up = split("DCL-1", "ORD-1", 8000);
    ledger.record_send(&up, t(0)).unwrap();
    let down = split("DCL-1", "ORD-1", 5000);
    ledger.record_send(&down, t(30)).unwrap();
    ledger.on_declare_outcome(&down, t(30), t(31), &outcome::<DeclareRequest>(S));
    assert_eq!(
        ledger.total().minor(),
        8000,
        "the 8,000 update may land after"
    );
    ledger.record_send(&down, t(500)).unwrap();
    ledger.on_declare_outcome(&down, t(500), t(501), &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 5000);
}

/// A ledger stored by the earlier version (one `unconfirmed` amount per declaration, no send
/// times) is refused with a clear error instead of loading with its unknown amounts dropped.
#[test]
fn an_older_stored_ledger_is_refused_not_silently_forgotten() {
    let old = r#"{"paymentRequestId":"P","limit":{"currency":"CNY","value":"10000"},
        "declarations":[{"customsDeclarationRequestId":"DCL-1","split":true,"referenceOrderId":"O",
        "confirmed":6000,"unconfirmed":8000}]}"#;
    let error = serde_json::from_str::<DeclarationLedger>(old).unwrap_err();
    assert!(error.to_string().contains("unsettled"), "{error}");
}
