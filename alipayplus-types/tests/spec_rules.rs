//! Rules of the spec that `validate()` enforces beyond lengths and empty strings, one test per
//! documented condition (the spec file and section are named in each test).

#[cfg(feature = "customs")]
mod customs {
    use alipayplus_types::*;

    fn declare(is_split: bool) -> DeclareRequest {
        DeclareRequest::new(
            "PAY20250601000002".into(),
            "DCL20250601000001".into(),
            CustomsInfo::new("HANGZHOU".into(), "CN".into()),
            MerchantCustomsInfo::new("MCC330100001".into(), "Example Cross-border Ltd".into()),
            Amount::new(Currency::CNY, 10_000),
            is_split.into(),
        )
    }

    /// customs.md §2: `referenceOrderId` is required when `isSplit` is true (a split payment is
    /// declared under the merchant's order id, not the paymentRequestId).
    #[test]
    fn declare_needs_the_order_id_of_a_split_payment() {
        assert_eq!(declare(false).validate(), Ok(()));
        let errs = declare(true).validate().unwrap_err();
        let found: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(found, ["referenceOrderId"]);
        assert!(matches!(
            errs.iter().next().map(|e| &e.problem),
            Some(Problem::Missing { .. })
        ));
        let split = DeclareRequest {
            reference_order_id: Some("ORD20250601000002".into()),
            ..declare(true)
        };
        assert_eq!(split.validate(), Ok(()));
    }

    /// customs.md §2: `declarationAmount.currency` is fixed to CNY.
    #[test]
    fn declare_accepts_only_cny() {
        let usd = DeclareRequest {
            declaration_amount: Amount::new(Currency::USD, 10_000),
            ..declare(false)
        };
        let errs = usd.validate().unwrap_err();
        let e = errs.iter().next().unwrap();
        assert_eq!(e.path, "declarationAmount.currency");
        assert_eq!(
            e.problem,
            Problem::WrongCurrency {
                expected: "CNY",
                actual: Currency::USD
            }
        );
        assert!(e.to_string().contains("only CNY"), "{e}");
    }

    /// customs.md §3: inquireDeclarationRequests takes 1 to 10 declaration request ids.
    #[test]
    fn inquiry_takes_one_to_ten_ids() {
        let ids = |n: usize| -> Vec<String> { (0..n).map(|i| format!("DCL{i}")).collect() };
        for n in [1, 10] {
            assert_eq!(
                InquireDeclarationRequestsRequest::new(ids(n)).validate(),
                Ok(())
            );
        }
        for n in [0, 11] {
            let errs = InquireDeclarationRequestsRequest::new(ids(n))
                .validate()
                .unwrap_err();
            let e = errs.iter().next().unwrap();
            assert_eq!(e.path, "declarationRequestIds");
            assert_eq!(
                e.problem,
                Problem::ItemCount {
                    min: 1,
                    max: Some(10),
                    actual: n
                }
            );
            assert!(e.to_string().contains("allowed 1 to 10"), "{e}");
        }
    }
}

#[cfg(feature = "registration")]
mod registration {
    use alipayplus_types::*;

    /// The documented example: AGREEMENT_PAYMENT with merchant info and websites.
    fn example() -> RegistrationRequest {
        serde_json::from_str(include_str!("data/registration-request.json")).unwrap()
    }

    fn missing(req: &RegistrationRequest) -> Vec<String> {
        match req.validate() {
            Ok(()) => Vec::new(),
            Err(errs) => errs
                .iter()
                .filter(|e| matches!(e.problem, Problem::Missing { .. }))
                .map(|e| e.path.clone())
                .collect(),
        }
    }

    /// registration.md §2: `storeInfo` is required for IN_STORE_PAYMENT (in-store registrations
    /// are per store); online products need merchant info only.
    #[test]
    fn in_store_registration_needs_the_store() {
        let online = example();
        assert_eq!(online.validate(), Ok(()));
        let mut in_store = example();
        in_store.product_codes.push(ProductCode::InStorePayment);
        assert_eq!(missing(&in_store), ["storeInfo"]);
        in_store.store_info = Some(StoreRegistrationInfo::new("S001".into()));
        assert_eq!(in_store.validate(), Ok(()));
    }

    /// registration.md §2 MerchantRegistrationInfo: `websites` is required for the online products
    /// (CASHIER_PAYMENT, AGREEMENT_PAYMENT), not for IN_STORE_PAYMENT alone.
    #[test]
    fn online_registration_needs_websites() {
        let mut req = example();
        req.merchant_info.websites = None;
        assert_eq!(missing(&req), ["merchantInfo.websites"]);
        req.product_codes = vec![ProductCode::CashierPayment];
        assert_eq!(missing(&req), ["merchantInfo.websites"]);
        req.product_codes = vec![ProductCode::InStorePayment];
        req.store_info = Some(StoreRegistrationInfo::new("S001".into()));
        assert_eq!(req.validate(), Ok(()));
    }
}

/// common.md §3.2: every common code, with its documented status and the caller action, is known
/// to every API's code set (the gateway codes and the sibling-only ones included, as UNCERTAIN).
mod common_codes {
    use alipayplus_types::*;

    const TABLE: &[(&str, ResultStatus, Action)] = &[
        ("SUCCESS", ResultStatus::Success, Action::Proceed),
        (
            "UNKNOWN_EXCEPTION",
            ResultStatus::Unknown,
            Action::RetrySameRequest,
        ),
        (
            "PROCESS_FAIL",
            ResultStatus::Failure,
            Action::ContactSupport,
        ),
        (
            "PARAM_ILLEGAL",
            ResultStatus::Failure,
            Action::FixRequestThenNewId,
        ),
        (
            "METHOD_NOT_SUPPORTED",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "MEDIA_TYPE_NOT_ACCEPTABLE",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "INVALID_API",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "INVALID_CLIENT",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "INVALID_SIGNATURE",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "KEY_NOT_FOUND",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "ACCESS_DENIED",
            ResultStatus::Failure,
            Action::ContactSupport,
        ),
        (
            "REQUEST_TRAFFIC_EXCEED_LIMIT",
            ResultStatus::Unknown,
            Action::RetrySameRequest,
        ),
        (
            "INVALID_ACCESS_TOKEN",
            ResultStatus::Failure,
            Action::RenewAuthorization,
        ),
        (
            "MERCHANT_NOT_REGISTERED",
            ResultStatus::Failure,
            Action::RegisterMerchant,
        ),
        (
            "SYSTEM_ERROR",
            ResultStatus::Failure,
            Action::ContactSupport,
        ),
        (
            "CURRENCY_NOT_SUPPORT",
            ResultStatus::Failure,
            Action::FixRequestThenNewId,
        ),
        (
            "NO_INTERFACE_DEF",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "MSG_PARSE_ERROR",
            ResultStatus::Failure,
            Action::FixRequestThenNewId,
        ),
        (
            "FUNCTION_NOT_MATCH",
            ResultStatus::Failure,
            Action::FixConfiguration,
        ),
        (
            "INVALID_CLIENT_STATUS",
            ResultStatus::Failure,
            Action::ContactSupport,
        ),
    ];

    fn check<C: ResultCode>(api: &str, own: &[&str]) {
        for (code, status, action) in TABLE {
            let c = C::from(code);
            assert!(c.is_known(), "{api}: {code} unknown");
            assert_eq!(c.as_str(), *code, "{api}");
            assert_eq!(
                c.documented_status().as_ref(),
                Some(status),
                "{api}: {code}"
            );
            // An API may give a common code its own advice (e.g. registration's SUCCESS means
            // 'accepted, inquire later'); everywhere else the common action applies.
            if !own.contains(code) {
                assert_eq!(c.action(), Some(*action), "{api}: {code}");
                let r = ApiResult::new(c, status.clone(), None);
                assert_eq!(r.action(), *action, "{api}: {code}");
            }
        }
    }

    #[test]
    fn every_api_knows_the_common_codes() {
        check::<CommonResultCode>("common", &[]);
        #[cfg(any(feature = "cashier", feature = "autodebit"))]
        {
            check::<ConsultPaymentResultCode>("consultPayment", &[]);
            check::<PayResultCode>("pay", &[]);
            check::<NotifyPaymentResultCode>("notifyPayment", &[]);
            check::<InquiryPaymentResultCode>("inquiryPayment", &[]);
            check::<CancelPaymentResultCode>("cancelPayment", &[]);
            check::<RefundResultCode>("refund", &[]);
        }
        #[cfg(feature = "autodebit")]
        {
            check::<PrepareResultCode>("prepare", &["MERCHANT_NOT_REGISTERED"]);
            check::<ApplyTokenResultCode>("applyToken", &[]);
            check::<CancelTokenResultCode>("cancelToken", &["INVALID_ACCESS_TOKEN"]);
            check::<AuthNotifyResultCode>("authNotify", &[]);
            check::<ConsultUnbindingResultCode>("consultUnbinding", &["PROCESS_FAIL"]);
        }
        #[cfg(feature = "registration")]
        {
            check::<RegistrationResultCode>("registration", &["SUCCESS"]);
            check::<InquiryRegistrationStatusResultCode>("inquiryRegistrationStatus", &[]);
            check::<NotifyRegistrationStatusResultCode>("notifyRegistrationStatus", &[]);
        }
        #[cfg(feature = "dispute")]
        {
            check::<InitiateRetrievalResultCode>("initiateRetrieval", &[]);
            check::<ResponseRetrievalResultCode>("responseRetrieval", &[]);
            check::<InitiateEscalationResultCode>("initiateEscalation", &[]);
            check::<ResponseEscalationResultCode>("responseEscalation", &[]);
        }
        #[cfg(feature = "customs")]
        {
            check::<DeclareResultCode>("declare", &[]);
            check::<InquireDeclarationRequestsResultCode>("inquireDeclarationRequests", &[]);
        }
    }
}

/// Rules that depend on other fields and need code (`rules.rs`): no product twice, an absolute
/// notify URL; `merchantDisplayName` for online products is the description's (productCodes).
#[cfg(feature = "registration")]
#[test]
fn registration_product_rules() {
    use alipayplus_types::*;
    let mut req: RegistrationRequest =
        serde_json::from_str(include_str!("data/registration-request.json")).unwrap();
    assert_eq!(req.validate(), Ok(()));
    req.product_codes.push(ProductCode::AgreementPayment);
    req.registration_notify_url = Some("/relative/notify".into());
    req.merchant_info.merchant_display_name = None;
    let errs = req.validate().unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"productCodes[1]"), "{errs}");
    assert!(paths.contains(&"registrationNotifyUrl"), "{errs}");
    assert!(
        paths.contains(&"merchantInfo.merchantDisplayName"),
        "{errs}"
    );
}
