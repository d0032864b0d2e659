//! Customs: the requests' shape and signature, validation edges, the declarable amount readers
//! and the ledger (update replaces, unknown outcomes counted, split rules).

mod common;

use alipayplus_client::error::RequestError;
use alipayplus_operations::Error;
use alipayplus_operations::customs::{
    DeclarationLedger, declarable_amount, declarable_amount_notified, declare_request,
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
    let request = declare_request(&example()).unwrap();
    let expected: Value = serde_json::from_str(&data("customs-declare-request.json")).unwrap();
    assert_signed_shape(&request, &expected);

    let mut r = example();
    r.declaration_amount = Amount::new(Currency::USD, 100);
    assert!(
        problems(declare_request(&r).unwrap_err())
            .contains("declarationAmount.currency: USD is not allowed here, only CNY")
    );
    let mut r = example();
    r.declaration_amount = Amount::new(Currency::CNY, 0);
    assert!(declare_request(&r).is_err(), "a zero declaration");
    let mut r = example();
    r.is_split = StrBool(true);
    assert!(problems(declare_request(&r).unwrap_err()).contains("referenceOrderId: missing"));
    let mut r = example();
    r.customs.region = "HK".into();
    assert!(problems(declare_request(&r).unwrap_err()).contains("customs.region: only CN"));
    let mut r = example();
    r.customs.customs_code = "C".repeat(129);
    r.merchant_customs_info.merchant_customs_name = "N".repeat(257);
    let text = problems(declare_request(&r).unwrap_err());
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
    ledger.on_declare_outcome(&a, &outcome::<DeclareRequest>(S));
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
    ledger.on_declare_outcome(&b, &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 10_000);
    assert_eq!(ledger.remaining().minor(), 0);
    // Updating A (same id) to a lower amount replaces it: not 6000 + 5000.
    let a2 = split("DCL-A", "ORD-A", 5000);
    assert_eq!(ledger.check(&a2).unwrap().minor(), 9000);
    ledger.on_declare_outcome(&a2, &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 9000);
    // A rejected update leaves the earlier amount.
    let a3 = split("DCL-A", "ORD-A", 6000);
    ledger.on_declare_outcome(&a3, &outcome::<DeclareRequest>(F));
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
    ledger.on_declare_outcome(&a, &lost::<DeclareRequest>());
    assert_eq!(ledger.total().minor(), 7000, "may have been accepted");
    assert!(ledger.check(&split("DCL-B", "ORD-B", 3001)).is_err());
    ledger.on_declare_outcome(&a, &outcome::<DeclareRequest>(F));
    assert_eq!(ledger.total().minor(), 0, "F: nothing was declared");
    ledger.on_declare_outcome(&a, &outcome::<DeclareRequest>(S));
    // An update with an unknown outcome counts the larger amount.
    let lower = split("DCL-A", "ORD-A", 2000);
    ledger.on_declare_outcome(&lower, &lost::<DeclareRequest>());
    assert_eq!(ledger.total().minor(), 7000);
    ledger.on_declare_outcome(&lower, &outcome::<DeclareRequest>(S));
    assert_eq!(ledger.total().minor(), 2000);

    let mut whole_ledger =
        DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 10_000)).unwrap();
    let whole = example();
    assert_eq!(whole_ledger.check(&whole).unwrap().minor(), 10_000);
    whole_ledger.on_declare_outcome(&whole, &outcome::<DeclareRequest>(S));
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
