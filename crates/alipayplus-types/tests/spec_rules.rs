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
}
