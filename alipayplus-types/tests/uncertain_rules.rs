//! Rules the API description marks `uncertain_rule`: parsed tolerantly, still reported by
//! `validate()` (the SDK stays strict), flagged so a tolerant peer can tell them apart.

use alipayplus_types::{Currency, Problem, SettlementStrategy};

#[test]
fn settlement_strategy_without_currency_parses_and_fails_validation_as_uncertain() {
    let s: SettlementStrategy = serde_json::from_str("{}").unwrap();
    assert_eq!(s.settlement_currency, None);
    let errs = s.validate().unwrap_err();
    let all: Vec<_> = errs.iter().collect();
    assert_eq!(all.len(), 1, "{errs}");
    assert_eq!(all[0].path, "settlementCurrency");
    assert!(matches!(all[0].problem, Problem::Missing { .. }));
    assert!(all[0].uncertain);
    assert!(errs.only_uncertain());
    assert!(errs.to_string().ends_with("(uncertain rule)"), "{errs}");
    // Sent back as received: no `null`, no invented currency.
    assert_eq!(serde_json::to_string(&s).unwrap(), "{}");
}

#[test]
fn settlement_strategy_with_currency_is_valid_and_a_bad_code_is_an_uncertain_problem() {
    let s = SettlementStrategy::new(Currency::new("USD").unwrap());
    assert_eq!(s.validate(), Ok(()));
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"settlementCurrency":"USD"}"#
    );
    let s: SettlementStrategy = serde_json::from_str(r#"{"settlementCurrency":"XXQ"}"#).unwrap();
    let errs = s.validate().unwrap_err();
    assert!(errs.only_uncertain(), "{errs}");
}

#[test]
fn certain_problems_are_not_flagged() {
    // A pay body whose only problems are certain ones: nothing is uncertain.
    let body = serde_json::json!({
        "paymentRequestId": "",
        "paymentAmount": {"currency": "USD", "value": "0"},
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET"},
        "paymentFactor": {"isCashierPayment": "true", "presentmentMode": "UNIFIED"},
        "paymentRedirectUrl": "https://merchant.example/return",
        "order": {
            "referenceOrderId": "O1",
            "orderDescription": "d",
            "orderAmount": {"currency": "USD", "value": "100"},
            "merchant": {"referenceMerchantId": "M1", "merchantAddress": {"region": "SG"}},
            "env": {"terminalType": "WEB"}
        },
        "settlementStrategy": {}
    });
    let Ok(pay) = serde_json::from_value::<alipayplus_types::PayRequest>(body) else {
        panic!("pay body parses");
    };
    let errs = pay.validate().unwrap_err();
    assert!(!errs.only_uncertain(), "{errs}");
    assert!(errs.iter().any(|e| e.uncertain), "{errs}");
    assert!(
        errs.iter()
            .filter(|e| !e.uncertain)
            .all(|e| e.path == "paymentRequestId" || e.path == "paymentAmount.value"),
        "{errs}"
    );
}
