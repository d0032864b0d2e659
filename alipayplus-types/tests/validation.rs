//! `validate()` reports every problem of a request at once, with the JSON path of each.
#![cfg(feature = "cashier")]

use alipayplus_types::*;

fn cashier_pay() -> PayRequest {
    let merchant = Merchant::new("M202400001".into());
    let order = Order {
        env: Some(Env {
            os_type: Some(OsType::Ios),
            ..Env::new(TerminalType::App)
        }),
        ..Order::new(
            "ORD-1".into(),
            "Two coffees".into(),
            Amount::new(Currency::USD, 1250),
            merchant,
        )
    };
    PayRequest {
        payment_redirect_url: Some("https://shop.example/return".into()),
        user_region: Some("SG".into()),
        ..PayRequest::new(
            "PAY-1".into(),
            order,
            Amount::new(Currency::USD, 1250),
            PaymentMethod::new("CONNECT_WALLET".into()),
            PaymentFactor {
                is_cashier_payment: Some(true.into()),
                is_in_store_payment: Some(false.into()),
                presentment_mode: Some(PresentmentMode::Unified),
                ..Default::default()
            },
        )
    }
}

fn problems(errs: &ValidationErrors) -> Vec<(String, Problem)> {
    errs.iter()
        .map(|e| (e.path.clone(), e.problem.clone()))
        .collect()
}

#[test]
fn a_good_request_passes() {
    let pay = cashier_pay();
    assert_eq!(pay.validate(), Ok(()));
    assert_eq!(Api::validate(&pay), Ok(()));
    let body = serde_json::to_value(&pay).unwrap();
    assert_eq!(body["paymentFactor"]["isCashierPayment"], "true");
    assert_eq!(body["order"]["orderAmount"]["value"], "1250");
    assert!(
        body.get("paymentExpiryTime").is_none(),
        "None is left out, never sent as \"\" or null"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let mut pay = cashier_pay();
    pay.payment_request_id = String::new();
    pay.order.reference_order_id = "x".repeat(65);
    pay.payment_amount = Amount::new(Currency::USD, 0);
    pay.order.order_amount = Amount::new(Currency::new("ABC").unwrap(), 1250);
    pay.user_region = Some("sg".into());
    pay.order.env.as_mut().unwrap().os_type = None;
    pay.order.goods = Some(vec![Goods {
        goods_quantity: Some(StrInt(0)),
        goods_name: Some(String::new()),
        ..Default::default()
    }]);

    let errs = pay.validate().unwrap_err();
    assert_eq!(
        problems(&errs),
        vec![
            ("paymentRequestId".into(), Problem::Empty),
            (
                "order.referenceOrderId".into(),
                Problem::TooLong {
                    max: 64,
                    actual: 65
                }
            ),
            (
                "order.orderAmount.currency".into(),
                Problem::UnknownCurrency(Currency::new("ABC").unwrap())
            ),
            ("order.goods[0].goodsName".into(), Problem::Empty),
            (
                "order.goods[0].goodsQuantity".into(),
                Problem::BelowMinimum { min: 1, actual: 0 }
            ),
            (
                "order.env.osType".into(),
                Problem::Missing {
                    condition: "required when terminalType is APP or WAP"
                }
            ),
            (
                "paymentAmount.value".into(),
                Problem::BelowMinimum { min: 1, actual: 0 }
            ),
            ("userRegion".into(), Problem::BadRegion),
        ]
    );
    let text = errs.to_string();
    assert!(
        text.contains("order.referenceOrderId: too long (65 characters, max 64)"),
        "{text}"
    );
    assert_eq!(Api::validate(&pay), Err(errs));
}

#[test]
fn one_of_two_ids_is_required() {
    let errs = InquiryPaymentRequest::default().validate().unwrap_err();
    assert_eq!(
        problems(&errs),
        vec![(
            String::new(),
            Problem::MissingOneOf(&["paymentRequestId", "paymentId"])
        )]
    );
    let ok = CancelPaymentRequest {
        payment_id: Some("2025".into()),
        ..Default::default()
    };
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn lengths_count_characters_not_bytes() {
    let mut refund = RefundRequest::new("R-1".into(), Amount::new(Currency::JPY, 500));
    refund.payment_request_id = Some("P-1".into());
    refund.refund_reason = Some("返".repeat(256));
    assert_eq!(refund.validate(), Ok(()));
    refund.refund_reason = Some("返".repeat(257));
    let errs = refund.validate().unwrap_err();
    assert_eq!(
        problems(&errs),
        vec![(
            "refundReason".into(),
            Problem::TooLong {
                max: 256,
                actual: 257
            }
        )]
    );
}

#[test]
fn consult_payment_allows_a_zero_amount_but_not_a_bad_currency() {
    let factor = PaymentFactor {
        is_cashier_payment: Some(StrBool(true)),
        ..Default::default()
    };
    let req = ConsultPaymentRequest::new(Amount::new(Currency::KRW, 0), factor.clone());
    assert_eq!(req.validate(), Ok(()));
    let req = ConsultPaymentRequest::new(Amount::new(Currency::new("XAU").unwrap(), 0), factor);
    assert_eq!(
        problems(&req.validate().unwrap_err()),
        vec![(
            "paymentAmount.currency".into(),
            Problem::UnknownCurrency(Currency::new("XAU").unwrap())
        )]
    );
}

#[test]
fn api_constants_describe_the_endpoint() {
    assert_eq!(PayRequest::NAME, "pay");
    assert_eq!(PayRequest::PATH, "/aps/api/v1/payments/pay");
    assert_eq!(PayRequest::DIRECTION, Direction::Outbound);
    assert_eq!(PayRequest::IDEMPOTENCY_FIELDS, &["paymentRequestId"]);
    assert_eq!(NotifyPaymentRequest::DIRECTION, Direction::Inbound);
    assert_eq!(RefundRequest::IDEMPOTENCY_FIELDS, &["refundRequestId"]);
    assert!(ConsultPaymentRequest::IDEMPOTENCY_FIELDS.is_empty());
}

#[test]
fn cashier_and_auto_debit_rules_of_the_shared_pay_request() {
    // Cashier (isCashierPayment = true) needs a redirect URL and order.env.
    let mut pay = cashier_pay();
    pay.payment_redirect_url = None;
    pay.order.env = None;
    let errs = pay.validate().unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["paymentRedirectUrl", "order.env"]);

    // Auto Debit (isAgreementPayment = true) needs the access token, not the cashier fields.
    pay.payment_factor = PaymentFactor {
        is_agreement_payment: Some(StrBool(true)),
        is_cashier_payment: Some(StrBool(false)),
        ..Default::default()
    };
    let errs = pay.validate().unwrap_err();
    assert_eq!(
        problems(&errs),
        vec![(
            "paymentMethod.paymentMethodId".into(),
            Problem::Missing {
                condition: "required for Auto Debit (paymentFactor.isAgreementPayment = true): the access token"
            }
        )]
    );
    pay.payment_method.payment_method_id = Some(Secret::new("28100113A1C2C3E4S5S6T7O8K9E0N1AB"));
    assert_eq!(pay.validate(), Ok(()));
}

/// The product rules beside the generated ones (`rules.rs`, named by the description) are part
/// of the request's own `validate()` and so of `Api::validate`, which the client core runs
/// before every send.
#[test]
fn product_rules_are_part_of_validate() {
    let mut req = cashier_pay();
    req.payment_factor.is_agreement_payment = Some(true.into());
    req.payment_method.payment_method_id = Some(Secret::new(String::new()));
    let errs = Api::validate(&req).unwrap_err();
    let found = problems(&errs);
    assert!(
        found
            .iter()
            .any(|(p, pr)| p == "paymentFactor.isCashierPayment" && matches!(pr, Problem::Rule(_))),
        "{errs}"
    );
    assert!(
        found
            .iter()
            .any(|(p, pr)| p == "paymentMethod.paymentMethodId" && *pr == Problem::Empty),
        "{errs}"
    );
    assert_eq!(req.validate(), Api::validate(&req), "one set of rules");
}

/// A problem found twice (by two layers) is reported once.
#[test]
fn a_problem_is_reported_once() {
    let mut errs = ValidationErrors::new();
    let path = validate::Path::ROOT.field("x");
    errs.push(&path, Problem::Empty);
    errs.push(&path, Problem::Empty);
    errs.push(&path, Problem::BadRegion);
    assert_eq!(errs.iter().count(), 2);
}
