//! Untrusted bodies: unknown fields, enum values, codes and statuses are kept; a missing
//! required field or a malformed value is an error that names it.
#![cfg(feature = "cashier")]

use alipayplus_types::*;
use serde_json::{Value, json};

#[test]
fn unknown_fields_are_kept_at_every_level_and_sent_back() {
    let body = json!({
        "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentId": "2025",
        "brandNewField": {"nested": ["x", 1]},
        "settlementQuote": {"quoteId": "Q1", "quotePrice": "7.2501", "quoteNovelty": "y"}
    });
    let r: PayResponse = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(r.extra["brandNewField"], json!({"nested": ["x", 1]}));
    let quote = r.settlement_quote.as_ref().unwrap();
    assert_eq!(quote.quote_price.as_ref().unwrap().as_str(), "7.2501");
    assert_eq!(quote.extra["quoteNovelty"], json!("y"));
    assert_eq!(serde_json::to_value(&r).unwrap(), body);
}

/// Found by fuzzing (fuzz/regressions/auth_notify, consult_unbinding): an unknown numeric
/// field near the float limits came back one bit off, parsed with serde_json's fast float path.
#[test]
fn unknown_float_fields_survive_parse_and_serialize_exactly() {
    let text = r#"{"authClientId":"M1","_note":7.351431331863877e-308,"x":8.110453902700221e-308,"y":0.1,"z":1.7976931348623157e308}"#;
    let parsed: ConsultUnbindingRequest = serde_json::from_str(text).unwrap();
    let again: ConsultUnbindingRequest =
        serde_json::from_slice(&serde_json::to_vec(&parsed).unwrap()).unwrap();
    assert_eq!(again, parsed);
    assert_eq!(parsed.extra["_note"].as_f64(), Some(7.351431331863877e-308));
}

#[test]
fn unknown_enum_values_are_kept() {
    let env: Env =
        serde_json::from_value(json!({"terminalType": "SMART_TV", "osType": "HARMONY"})).unwrap();
    assert_eq!(
        env.terminal_type,
        TerminalType::Unrecognized("SMART_TV".into())
    );
    assert!(!env.terminal_type.is_known());
    assert_eq!(env.os_type.as_ref().unwrap().as_str(), "HARMONY");
    assert_eq!(
        serde_json::to_value(&env).unwrap(),
        json!({"terminalType": "SMART_TV", "osType": "HARMONY"})
    );
    assert_eq!(TerminalType::from("MINI_APP"), TerminalType::MiniApp);
}

#[test]
fn unknown_result_codes_are_kept_and_the_status_decides() {
    let r: PayResponse = serde_json::from_value(json!({
        "result": {"resultCode": "WALLET_ON_HOLIDAY", "resultStatus": "F", "resultMessage": "?"}
    }))
    .unwrap();
    let res = r.result();
    assert_eq!(
        res.result_code,
        PayResultCode::Unrecognized("WALLET_ON_HOLIDAY".into())
    );
    assert_eq!(res.code_str(), "WALLET_ON_HOLIDAY");
    assert_eq!(res.result_code.documented_status(), None);
    assert_eq!(res.action(), Action::ReportFailure);
    assert_eq!(
        serde_json::to_value(&r).unwrap()["result"]["resultCode"],
        "WALLET_ON_HOLIDAY"
    );

    let r: PayResponse = serde_json::from_value(
        json!({"result": {"resultCode": "WALLET_ON_HOLIDAY", "resultStatus": "U"}}),
    )
    .unwrap();
    assert_eq!(r.result().action(), Action::RetrySameRequest);
}

#[test]
fn known_codes_carry_status_and_action() {
    let c = PayResultCode::from("PAYMENT_IN_PROCESS");
    assert_eq!(c, PayResultCode::PaymentInProcess);
    assert_eq!(c.documented_status(), Some(ResultStatus::Unknown));
    assert_eq!(ResultCode::action(&c), Some(Action::InquireLater));
    assert!(c.action_doc().contains("inquiryPayment"));
    // Common codes are part of every API's set.
    assert_eq!(
        RefundResultCode::from("INVALID_SIGNATURE"),
        RefundResultCode::InvalidSignature
    );
    assert_eq!(
        ResultCode::action(&RefundResultCode::InvalidSignature),
        Some(Action::FixConfiguration)
    );
    assert_eq!(
        ResultCode::action(&PayResultCode::InvalidAccessToken),
        Some(Action::RenewAuthorization)
    );
}

#[test]
fn status_overrides_a_code_whose_documented_status_differs() {
    // SUCCESS is documented as S; with U the outcome is not known, whatever the code says.
    let r = ApiResult::new(PayResultCode::Success, ResultStatus::Unknown, None);
    assert_eq!(r.action(), Action::RetrySameRequest);
    let r = ApiResult::new(PayResultCode::Success, ResultStatus::Success, None);
    assert_eq!(r.action(), Action::Proceed);
}

#[test]
fn unknown_result_status_is_kept_and_treated_as_unknown() {
    let r: ApiResult<PayResultCode> =
        serde_json::from_value(json!({"resultCode": "SUCCESS", "resultStatus": "P"})).unwrap();
    assert_eq!(r.result_status, ResultStatus::Unrecognized("P".into()));
    assert!(r.result_status.is_unknown());
    assert_eq!(r.action(), Action::RetrySameRequest);
    assert_eq!(serde_json::to_value(&r).unwrap()["resultStatus"], "P");
}

#[test]
fn missing_required_fields_are_named() {
    let err = serde_json::from_value::<NotifyPaymentRequest>(json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "acquirerId": "A1"
    }))
    .unwrap_err();
    assert!(
        err.to_string().contains("missing field `paymentRequestId`"),
        "{err}"
    );

    let err = serde_json::from_str::<PayResponse>(r#"{"paymentId":"1"}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `result`"), "{err}");

    let err =
        serde_json::from_value::<InquiryPaymentResponse>(json!({"result": {"resultStatus": "S"}}))
            .unwrap_err();
    assert!(
        err.to_string().contains("missing field `resultCode`"),
        "{err}"
    );
}

#[test]
fn malformed_values_are_errors_naming_the_problem() {
    let cases = [
        (
            json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "paymentAmount": {"currency": "JPY", "value": "1.5"}}),
            "invalid amount value",
        ),
        (
            json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "paymentAmount": {"currency": "yen", "value": "1"}}),
            "invalid currency code",
        ),
        (
            json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "paymentTime": "yesterday"}),
            "invalid date-time",
        ),
        (
            json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "settlementQuote": {"quotePrice": "7,25"}}),
            "invalid decimal",
        ),
    ];
    for (body, want) in cases {
        let err = serde_json::from_value::<PayResponse>(body).unwrap_err();
        assert!(err.to_string().contains(want), "{err} / {want}");
    }
}

#[test]
fn optional_fields_are_left_out_and_null_reads_as_absent() {
    let r: InquiryPaymentResponse = serde_json::from_value(
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "paymentId": null}),
    )
    .unwrap();
    assert_eq!(r.payment_id, None);
    let out = serde_json::to_value(&r).unwrap();
    assert_eq!(
        out,
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}})
    );
}

#[test]
fn scalars_travel_as_strings_but_json_numbers_and_bools_are_accepted() {
    let f: PaymentFactor =
        serde_json::from_value(json!({"isCashierPayment": true, "isInStorePayment": "false"}))
            .unwrap();
    assert_eq!(f.is_cashier_payment, Some(StrBool(true)));
    let out: Value = serde_json::to_value(&f).unwrap();
    assert_eq!(
        out,
        json!({"isCashierPayment": "true", "isInStorePayment": "false"})
    );
    let g: Goods = serde_json::from_value(json!({"goodsQuantity": 3})).unwrap();
    assert_eq!(
        serde_json::to_value(&g).unwrap(),
        json!({"goodsQuantity": "3"})
    );
    let a: Amount = serde_json::from_value(json!({"currency": "USD", "value": 250})).unwrap();
    assert_eq!(
        serde_json::to_value(a).unwrap(),
        json!({"currency": "USD", "value": "250"})
    );
}

#[test]
fn result_msg_spelling_is_read_as_the_message_and_sent_as_result_message() {
    // customs.md: the customs inquiry sample spells it `resultMsg`; accept both.
    let body =
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMsg": "Success"}});
    let r: PayResponse = serde_json::from_value(body).unwrap();
    assert_eq!(r.result.result_message.as_deref(), Some("Success"));
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(back["result"]["resultMessage"], json!("Success"));
    assert!(back["result"].get("resultMsg").is_none());
}

#[test]
fn a_result_with_both_message_spellings_still_parses() {
    // Untrusted input: a body carrying `resultMessage` and `resultMsg` must not become a parse
    // error (a serde alias rejects it as a duplicate field); the documented name wins.
    let body = json!({"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "F",
        "resultMessage": "Order does not exist.", "resultMsg": "order not exist"}});
    let r: InquiryPaymentResponse = serde_json::from_value(body).unwrap();
    assert_eq!(
        r.result.result_code,
        InquiryPaymentResultCode::OrderNotExist
    );
    assert_eq!(
        r.result.result_message.as_deref(),
        Some("Order does not exist.")
    );
    let only_msg = json!({"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": null,
        "resultMsg": "Success"});
    let r: ApiResult<CommonResultCode> = serde_json::from_value(only_msg).unwrap();
    assert_eq!(r.result_message.as_deref(), Some("Success"));
}
