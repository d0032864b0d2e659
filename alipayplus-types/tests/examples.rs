//! Every example body of the spec (copied into tests/data) parses into its type and serializes
//! back to equivalent JSON (same fields and values; unknown fields such as `_note` kept).
#![cfg(all(
    feature = "cashier",
    feature = "autodebit",
    feature = "registration",
    feature = "dispute",
    feature = "customs"
))]

use std::path::PathBuf;

use alipayplus_types::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn data(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `file` as `T`, checks it serializes back to the same JSON value, returns it.
fn round_trip<T: DeserializeOwned + Serialize>(file: &str) -> T {
    let text = data(file);
    let original: Value = serde_json::from_str(&text).unwrap();
    let typed: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, original, "{file} did not round-trip");
    typed
}

/// Which type each example is. A new example file without an entry fails `every_example_is_covered`.
/// Checks one example file.
type Check = fn(&str);

const EXAMPLES: &[(&str, Check)] = &[
    ("autodebit-applyToken-refresh-request.json", |f| {
        drop(round_trip::<ApplyTokenRequest>(f))
    }),
    ("autodebit-applyToken-request.json", |f| {
        drop(round_trip::<ApplyTokenRequest>(f))
    }),
    ("autodebit-applyToken-response.json", |f| {
        drop(round_trip::<ApplyTokenResponse>(f))
    }),
    ("autodebit-authNotify-request.json", |f| {
        drop(round_trip::<AuthNotifyRequest>(f))
    }),
    ("autodebit-authNotify-response.json", |f| {
        drop(round_trip::<AuthNotifyResponse>(f))
    }),
    ("autodebit-cancelToken-request.json", |f| {
        drop(round_trip::<CancelTokenRequest>(f))
    }),
    ("autodebit-pay-request.json", |f| {
        drop(round_trip::<PayRequest>(f))
    }),
    ("autodebit-prepare-request.json", |f| {
        drop(round_trip::<PrepareRequest>(f))
    }),
    (
        "cashier-inquiryPayment-response-order-not-exist.json",
        |f| drop(round_trip::<InquiryPaymentResponse>(f)),
    ),
    ("cashier-notifyPayment-response.json", |f| {
        drop(round_trip::<NotifyPaymentResponse>(f))
    }),
    ("cashier-pay-request.json", |f| {
        cashier_pay_sample_is_partial(f)
    }),
    ("customs-declare-request.json", |f| {
        drop(round_trip::<DeclareRequest>(f))
    }),
    ("customs-inquireDeclarationRequests-response.json", |f| {
        drop(round_trip::<InquireDeclarationRequestsResponse>(f))
    }),
    ("dispute-responseEscalation-request.json", |f| {
        drop(round_trip::<ResponseEscalationRequest>(f))
    }),
    (
        "registration-inquiryRegistrationStatus-response.json",
        |f| drop(round_trip::<InquiryRegistrationStatusResponse>(f)),
    ),
    ("registration-request.json", |f| {
        drop(round_trip::<RegistrationRequest>(f))
    }),
    ("signature-older-response-body.json", |f| {
        drop(round_trip::<PayResponse>(f))
    }),
];

/// `cashier-pay-request.json` is the body of the signing example, "illustrative, not a full
/// cashier request" (spec cashier.md §9): it has no `paymentRequestId`, and `orderId` instead of
/// `referenceOrderId`. Parsing it as a pay request must fail and say which field is missing
/// (serde reports the first one it meets: `order.referenceOrderId`).
fn cashier_pay_sample_is_partial(file: &str) {
    let err = serde_json::from_str::<PayRequest>(&data(file)).unwrap_err();
    assert!(
        err.to_string().contains("missing field `referenceOrderId`"),
        "{err}"
    );
    let mut v: Value = serde_json::from_str(&data(file)).unwrap();
    v["order"]["referenceOrderId"] = "OrderID_0101010101".into();
    v["order"]["merchant"] = serde_json::json!({"referenceMerchantId": "M1"});
    let err = serde_json::from_value::<PayRequest>(v).unwrap_err();
    assert!(
        err.to_string().contains("missing field `paymentRequestId`"),
        "{err}"
    );
    // Its parts are well-formed: the amount and the flags parse on their own.
    let v: Value = serde_json::from_str(&data(file)).unwrap();
    let amount: Amount = serde_json::from_value(v["paymentAmount"].clone()).unwrap();
    assert_eq!(amount, Amount::new(Currency::JPY, 100));
    let factor: PaymentFactor = serde_json::from_value(v["paymentFactor"].clone()).unwrap();
    assert_eq!(factor.is_in_store_payment, Some(StrBool(true)));
}

#[test]
fn every_example_parses_and_round_trips() {
    for (file, check) in EXAMPLES {
        check(file);
    }
}

#[test]
fn every_example_is_covered() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    let mut covered: Vec<String> = EXAMPLES.iter().map(|(f, _)| f.to_string()).collect();
    covered.sort();
    assert_eq!(files, covered);
}

#[test]
fn autodebit_pay_example_reads_as_expected() {
    let pay: PayRequest = round_trip("autodebit-pay-request.json");
    assert_eq!(pay.payment_request_id, "PAY20250601000001");
    assert_eq!(pay.payment_amount, Amount::new(Currency::SGD, 1500));
    assert_eq!(pay.payment_amount.to_major_string().unwrap(), "15.00");
    assert_eq!(
        pay.order.env.as_ref().unwrap().terminal_type,
        TerminalType::App
    );
    assert_eq!(pay.order.env.as_ref().unwrap().os_type, Some(OsType::Ios));
    assert_eq!(pay.payment_factor.is_agreement_payment, Some(StrBool(true)));
    assert_eq!(
        pay.payment_expiry_time.as_ref().unwrap().unix_seconds(),
        1_748_752_200
    );
    let token = pay.payment_method.payment_method_id.as_ref().unwrap();
    assert_eq!(token.expose(), "28100113A1C2C3E4S5S6T7O8K9E0N1AB");
    // The access token is a credential: never in Debug output.
    assert!(!format!("{pay:?}").contains("28100113A1C2C3E4S5S6T7O8K9E0N1AB"));
    // The example's `_note` is an unknown field: kept, and sent back.
    assert!(pay.extra.contains_key("_note"));
    assert!(pay.validate().is_ok(), "{:?}", pay.validate());
}

#[test]
fn inquiry_order_not_exist_example_gives_the_documented_action() {
    let r: InquiryPaymentResponse =
        round_trip("cashier-inquiryPayment-response-order-not-exist.json");
    let result = r.result();
    assert_eq!(result.result_code, InquiryPaymentResultCode::OrderNotExist);
    assert_eq!(result.result_status, ResultStatus::Failure);
    assert_eq!(
        result.result_code.documented_status(),
        Some(ResultStatus::Failure)
    );
    assert_eq!(result.action(), Action::FixRequestThenNewId);
    assert_eq!(
        result.result_message.as_deref(),
        Some("Order does not exist.")
    );
    assert!(r.payment_result.is_none());
}

#[test]
fn notify_ack_example_is_what_success_builds() {
    let ack: NotifyPaymentResponse = round_trip("cashier-notifyPayment-response.json");
    assert_eq!(ack, NotifyPaymentResponse::new(ApiResult::success()));
}
