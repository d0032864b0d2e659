//! Registration: the requests' shape and signature, validation edges, the
//! notifyRegistrationStatus handler (good, duplicate, conflicting, tampered, unsigned) and the
//! follow-up's decisions.

mod common;

use std::time::Duration;

use alipayplus_client::error::{InboundError, RequestError};
use alipayplus_operations::Error;
use alipayplus_operations::registration::{
    Action, Final, RegistrationFollowUp, RegistrationKey, RegistrationPolicy, RegistrationRef,
    Step, Update, checked_registration, handle_notify_registration_status,
    inquiry_registration_status_request,
};
use alipayplus_types::{
    InquiryRegistrationStatusRequest, ProductCode, RegistrationRequest, RegistrationStatus,
    StoreRegistrationInfo,
};
use common::*;
use serde_json::{Value, json};

const NOTIFY: &str = "/alipayplus/notifyRegistrationStatus";

fn example() -> RegistrationRequest {
    serde_json::from_str(&data("registration-request.json")).unwrap()
}

fn problems(e: RequestError) -> String {
    match e {
        RequestError::Invalid { errors, .. } => errors.to_string(),
        other => panic!("not a validation error: {other}"),
    }
}

#[test]
fn registration_request_has_the_spec_shape_and_our_signature() {
    let request = checked_registration(&example()).unwrap();
    let expected: Value = serde_json::from_str(&data("registration-request.json")).unwrap();
    assert_signed_shape(&request, &expected);
    assert_eq!(
        alipayplus_types::Api::validate(&request),
        Ok(()),
        "the spec example is valid"
    );
}

#[test]
fn inquiry_request_by_id_or_by_merchant_and_store() {
    let by_id =
        inquiry_registration_status_request(&RegistrationRef::RequestId("REG-1".into())).unwrap();
    assert_signed_shape(&by_id, &json!({"registrationRequestId": "REG-1"}));
    let key = RegistrationKey {
        reference_merchant_id: "M1".into(),
        reference_store_id: Some("S1".into()),
    };
    let by_store = inquiry_registration_status_request(&RegistrationRef::Merchant(key)).unwrap();
    assert_signed_shape(
        &by_store,
        &json!({"referenceMerchantId": "M1", "referenceStoreId": "S1"}),
    );
    let long = "x".repeat(65);
    let e = inquiry_registration_status_request(&RegistrationRef::RequestId(long)).unwrap_err();
    assert!(problems(e).contains("registrationRequestId: too long (65 characters, max 64)"));
    let empty = inquiry_registration_status_request(&RegistrationRef::RequestId(String::new()));
    assert!(problems(empty.unwrap_err()).contains("empty"));
}

#[test]
fn validation_edges() {
    let mut r = example();
    r.product_codes.clear();
    assert!(problems(checked_registration(&r).unwrap_err()).contains("productCodes: 0 elements"));

    let mut r = example();
    r.product_codes = vec![ProductCode::AgreementPayment, ProductCode::AgreementPayment];
    assert!(
        problems(checked_registration(&r).unwrap_err()).contains("productCodes[1]: listed twice")
    );

    let mut r = example();
    r.merchant_info.merchant_display_name = None;
    let text = problems(checked_registration(&r).unwrap_err());
    assert!(
        text.contains("merchantInfo.merchantDisplayName: missing"),
        "{text}"
    );

    let mut r = example();
    r.product_codes = vec![ProductCode::InStorePayment];
    r.merchant_info.merchant_display_name = None;
    r.merchant_info.websites = None;
    let text = problems(checked_registration(&r).unwrap_err());
    assert!(text.contains("storeInfo: missing"), "{text}");
    r.store_info = Some(StoreRegistrationInfo::new("S1".into()));
    assert!(
        checked_registration(&r).is_ok(),
        "in-store needs no display name or website"
    );

    let mut r = example();
    r.registration_notify_url = Some("ftp://acqp.example.com/x".into());
    assert!(
        problems(checked_registration(&r).unwrap_err())
            .contains("registrationNotifyUrl: not an absolute http(s) URL")
    );
    r.registration_notify_url = Some("https:///path".into());
    assert!(checked_registration(&r).is_err());

    let mut r = example();
    r.registration_request_id = "R".repeat(65);
    r.merchant_info.reference_merchant_id = String::new();
    let text = problems(checked_registration(&r).unwrap_err());
    assert!(text.contains("registrationRequestId: too long"), "{text}");
    assert!(
        text.contains("merchantInfo.referenceMerchantId: empty"),
        "{text}"
    );
}

fn notification(psps: Value, overall: &str) -> Value {
    json!({
        "referenceMerchantId": "M202400001",
        "registrationRequestId": "REG20250601000001",
        "registrationResult": {"registrationStatus": overall},
        "pspRegistrationResultList": psps
    })
}

#[test]
fn handler_good_duplicate_tampered_unsigned_and_unparsable() {
    let config = config();
    let body = notification(
        json!([{"pspName": "ALIPAY_CN", "productCodes": ["AGREEMENT_PAYMENT"],
                "registrationResult": {"registrationStatus": "APPROVED"}}]),
        "PENDING",
    );
    let good = handle_notify_registration_status(&config, &inbound(NOTIFY, &body)).unwrap();
    assert_eq!(
        verify_answer(NOTIFY, &good.answer)["result"]["resultStatus"],
        "S"
    );
    assert_eq!(good.body.event.key.reference_merchant_id, "M202400001");
    assert_eq!(good.body.event.overall, Some(RegistrationStatus::Pending));
    assert_eq!(good.body.event.psp_statuses.len(), 1);
    assert_eq!(good.body.event.psp_statuses[0].psp_name, "ALIPAY_CN");

    // Re-delivery: acknowledged again, and the follow-up changes nothing.
    let again = handle_notify_registration_status(&config, &inbound(NOTIFY, &body)).unwrap();
    assert_eq!(
        verify_answer(NOTIFY, &again.answer)["result"]["resultCode"],
        "SUCCESS"
    );
    let mut follow = accepted_follow_up();
    assert_eq!(
        follow.on_notification(t(10), &good.body.event),
        Update::Changed
    );
    assert_eq!(
        follow.on_notification(t(11), &again.body.event),
        Update::Unchanged
    );

    // Tampered: the approval turned into a rejection after signing.
    let forged = tampered(NOTIFY, &body, "APPROVED", "REJECTED");
    let refused = handle_notify_registration_status(&config, &forged).unwrap_err();
    assert!(matches!(refused.error, InboundError::Signature(_)));
    assert_eq!(
        unsigned_refusal(&refused.answer)["result"]["resultCode"],
        "INVALID_SIGNATURE"
    );

    let refused = handle_notify_registration_status(&config, &unsigned(NOTIFY, &body)).unwrap_err();
    assert!(matches!(refused.error, InboundError::Signature(_)));

    let other = inbound_bytes(NOTIFY, body.to_string().into_bytes(), &other_key());
    assert!(handle_notify_registration_status(&config, &other).is_err());

    // Verified but without the required registrationResult: PARAM_ILLEGAL, re-sent later.
    let bad = json!({"referenceMerchantId": "M202400001"});
    let refused = handle_notify_registration_status(&config, &inbound(NOTIFY, &bad)).unwrap_err();
    assert_eq!(
        verify_answer(NOTIFY, &refused.answer)["result"]["resultCode"],
        "PARAM_ILLEGAL"
    );
}

#[test]
fn conflicting_notifications_for_another_registration_are_not_merged() {
    let config = config();
    let mut follow = accepted_follow_up();
    let other_id = json!({
        "referenceMerchantId": "M202400001",
        "registrationRequestId": "REG-SOMETHING-ELSE",
        "registrationResult": {"registrationStatus": "COMPLETED"}
    });
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &other_id)).unwrap();
    assert_eq!(
        follow.on_notification(t(5), &n.body.event),
        Update::NotThisRegistration
    );
    let other_merchant = json!({
        "referenceMerchantId": "M-OTHER",
        "registrationResult": {"registrationStatus": "COMPLETED"}
    });
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &other_merchant)).unwrap();
    assert_eq!(
        follow.on_notification(t(5), &n.body.event),
        Update::NotThisRegistration
    );
    assert!(follow.final_state().is_none());
    // Without a request id, the same merchant matches.
    let same_merchant = json!({
        "referenceMerchantId": "M202400001",
        "registrationResult": {"registrationStatus": "PENDING"}
    });
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &same_merchant)).unwrap();
    assert!(follow.concerns(&n.body.event));
}

fn policy() -> RegistrationPolicy {
    RegistrationPolicy::default()
}

fn accepted_follow_up() -> RegistrationFollowUp {
    let mut follow = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    let ok = outcome::<RegistrationRequest>(
        r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#,
    );
    assert!(matches!(follow.poll(t(1)), Action::Send(_)));
    assert_eq!(follow.on_registration(t(1).into(), &ok), Update::Changed);
    follow
}

#[test]
fn unknown_is_resent_with_the_same_id_and_s_is_accepted_not_approved() {
    let mut follow = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    assert_eq!(follow.next_step(t(0)), Step::Register);
    let u = outcome::<RegistrationRequest>(
        r#"{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U"}}"#,
    );
    follow.poll(t(0));
    follow.on_registration(t(0).into(), &u);
    assert_eq!(follow.next_step(t(1)), Step::WaitUntil(t(10)));
    assert_eq!(follow.next_step(t(10)), Step::Register);
    follow.poll(t(10));
    follow.on_registration(t(10).into(), &lost::<RegistrationRequest>());
    assert_eq!(
        follow.next_step(t(11)),
        Step::WaitUntil(t(30)),
        "back-off doubles"
    );
    assert_eq!(
        follow.request().registration_request_id,
        "REG20250601000001"
    );
    assert!(!follow.is_accepted());

    let ok =
        outcome::<RegistrationRequest>(r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}"#);
    follow.poll(t(30));
    follow.on_registration(t(30).into(), &ok);
    assert!(follow.is_accepted());
    assert_eq!(follow.attempts(), 3);
    assert!(
        follow.final_state().is_none(),
        "S is accepted, not approved"
    );
    assert!(!follow.is_approved_by("ALIPAY_CN", &ProductCode::AgreementPayment));
    // First inquiry an hour later, by the same id.
    assert_eq!(follow.next_step(t(31)), Step::WaitUntil(t(3630)));
    assert_eq!(follow.next_step(t(3630)), Step::Inquire);
    assert_eq!(
        follow.inquiry_request(),
        InquiryRegistrationStatusRequest {
            registration_request_id: Some("REG20250601000001".into()),
            ..Default::default()
        }
    );
}

#[test]
fn f_is_final_and_says_when_an_earlier_attempt_was_unknown() {
    let mut follow = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    let f = outcome::<RegistrationRequest>(
        r#"{"result":{"resultCode":"PARAM_ILLEGAL","resultStatus":"F"}}"#,
    );
    follow.poll(t(0));
    follow.on_registration(t(0).into(), &f);
    assert_eq!(
        follow.next_step(t(1)),
        Step::Finished(Final::Refused {
            code: "PARAM_ILLEGAL".into(),
            earlier_attempt_unknown: false
        })
    );
    let mut follow = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    follow.poll(t(0));
    follow.on_registration(t(0).into(), &lost::<RegistrationRequest>());
    follow.poll(t(10));
    follow.on_registration(t(10).into(), &f);
    assert!(matches!(
        follow.final_state(),
        Some(Final::Refused {
            earlier_attempt_unknown: true,
            ..
        })
    ));
}

#[test]
fn several_notifications_merge_per_wallet_and_the_inquiry_completes() {
    let config = config();
    let mut follow = accepted_follow_up();
    let cn = notification(
        json!([{"pspName": "ALIPAY_CN", "productCodes": ["AGREEMENT_PAYMENT"],
                "registrationResult": {"registrationStatus": "APPROVED"}}]),
        "PENDING",
    );
    let gcash = notification(
        json!([{"pspName": "GCASH", "productCodes": ["AGREEMENT_PAYMENT"],
                "registrationResult": {"registrationStatus": "REJECTED"}}]),
        "PENDING",
    );
    for body in [&cn, &gcash] {
        let n = handle_notify_registration_status(&config, &inbound(NOTIFY, body)).unwrap();
        assert_eq!(
            follow.on_notification(t(100), &n.body.event),
            Update::Changed
        );
    }
    assert_eq!(
        follow.psp_statuses().len(),
        2,
        "the later notification did not replace the first"
    );
    assert!(follow.is_approved_by("ALIPAY_CN", &ProductCode::AgreementPayment));
    assert!(!follow.is_approved_by("GCASH", &ProductCode::AgreementPayment));

    // A stale PENDING for a wallet that already answered changes nothing.
    let stale = notification(
        json!([{"pspName": "ALIPAY_CN", "productCodes": ["AGREEMENT_PAYMENT"],
                "registrationResult": {"registrationStatus": "PENDING"}}]),
        "PENDING",
    );
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &stale)).unwrap();
    assert_eq!(
        follow.on_notification(t(101), &n.body.event),
        Update::Unchanged
    );
    assert!(follow.is_approved_by("ALIPAY_CN", &ProductCode::AgreementPayment));

    // A reversed final answer is kept and reported.
    let reversed = notification(
        json!([{"pspName": "GCASH", "productCodes": ["AGREEMENT_PAYMENT"],
                "registrationResult": {"registrationStatus": "APPROVED"}}]),
        "PENDING",
    );
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &reversed)).unwrap();
    assert!(
        matches!(follow.on_notification(t(102), &n.body.event), Update::Reversed { psp_name, .. } if psp_name == "GCASH")
    );

    // Daily cadence after news; the inquiry's COMPLETED ends it.
    let next = t(102) + Duration::from_secs(86_400);
    assert_eq!(follow.next_step(t(200)), Step::WaitUntil(next));
    let completed = outcome::<InquiryRegistrationStatusRequest>(&data(
        "registration-inquiryRegistrationStatus-response.json",
    ));
    assert_eq!(follow.on_inquiry(next.into(), &completed), Update::Changed);
    assert_eq!(follow.next_step(next), Step::Finished(Final::Completed));
    assert_eq!(follow.inquiries(), 1);

    // Stored and loaded back: the same state.
    let stored = serde_json::to_string(&follow).unwrap();
    let loaded: RegistrationFollowUp = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, follow);
}

#[test]
fn a_failed_inquiry_is_retried_sooner_and_an_inquiry_can_prove_acceptance() {
    let mut follow = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    follow.poll(t(0));
    follow.on_registration(t(0).into(), &lost::<RegistrationRequest>());
    // The registration answer was lost, but an inquiry shows the registration exists.
    let pending = outcome::<InquiryRegistrationStatusRequest>(
        r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"registrationResult":{"registrationStatus":"PENDING"}}"#,
    );
    assert_eq!(follow.on_inquiry(t(5).into(), &pending), Update::Changed);
    assert!(follow.is_accepted());
    assert_eq!(
        follow.next_step(t(6)),
        Step::WaitUntil(t(5) + Duration::from_secs(86_400))
    );
    follow.on_inquiry(t(100).into(), &lost::<InquiryRegistrationStatusRequest>());
    assert_eq!(follow.next_step(t(101)), Step::WaitUntil(t(110)));
}

#[test]
fn updates_wait_30_minutes_unless_processed() {
    let follow = accepted_follow_up(); // first sent at t(1)
    let mut update = example();
    update.registration_request_id = "REG20250601000002".into();
    update.product_codes = vec![ProductCode::AgreementPayment, ProductCode::CashierPayment];
    match follow.update_request(&update, t(600)) {
        Err(Error::UpdateTooSoon {
            allowed_from_millis,
            previous_request_id,
            ..
        }) => {
            assert_eq!(allowed_from_millis, t(1 + 1800).unix_millis());
            assert_eq!(previous_request_id, "REG20250601000001");
        }
        other => panic!("expected UpdateTooSoon, got {other:?}"),
    }
    assert!(follow.update_request(&update, t(1801)).is_ok());

    // Processed (final): at once.
    let mut done = accepted_follow_up();
    let completed = outcome::<InquiryRegistrationStatusRequest>(&data(
        "registration-inquiryRegistrationStatus-response.json",
    ));
    done.on_inquiry(t(2).into(), &completed);
    assert!(done.update_request(&update, t(3)).is_ok());

    // Same id: a retry, not an update. Another merchant: not an update.
    assert!(matches!(
        follow.update_request(&example(), t(4000)),
        Err(Error::UpdateReusesRequestId(_))
    ));
    let mut other = update.clone();
    other.merchant_info.reference_merchant_id = "M-OTHER".into();
    assert!(matches!(
        follow.update_request(&other, t(4000)),
        Err(Error::NotAnUpdate { .. })
    ));
    // An invalid update is refused by validation.
    let mut invalid = update.clone();
    invalid.product_codes.clear();
    assert!(matches!(
        follow.update_request(&invalid, t(4000)),
        Err(Error::Request(_))
    ));
}

#[test]
fn in_store_registrations_are_keyed_by_merchant_and_store() {
    let mut r = example();
    r.product_codes = vec![ProductCode::InStorePayment];
    r.store_info = Some(StoreRegistrationInfo::new("S1".into()));
    assert_eq!(
        RegistrationKey::of(&r).reference_store_id.as_deref(),
        Some("S1")
    );
    let mut online = example();
    online.store_info = Some(StoreRegistrationInfo::new("S1".into()));
    assert_eq!(
        RegistrationKey::of(&online).reference_store_id,
        None,
        "the store counts only in-store"
    );
    let follow = RegistrationFollowUp::new(&r, t(0), policy()).unwrap();
    let mut other_store = r.clone();
    other_store.registration_request_id = "REG-2".into();
    other_store.store_info = Some(StoreRegistrationInfo::new("S2".into()));
    assert!(matches!(
        follow.update_request(&other_store, t(0)),
        Err(Error::NotAnUpdate { .. })
    ));
}

/// Issue 19: a notification for a store does not match a registration without one (nor the
/// reverse), and one for the same merchant without a request id matches only the same store.
#[test]
fn a_notification_matches_only_the_same_merchant_and_store() {
    let config = config();
    let mut follow = accepted_follow_up(); // online products, no store
    let for_store = json!({
        "referenceMerchantId": "M202400001",
        "referenceStoreId": "S1",
        "registrationResult": {"registrationStatus": "COMPLETED"}
    });
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &for_store)).unwrap();
    assert!(!follow.concerns(&n.body.event));
    assert_eq!(
        follow.on_notification(t(5), &n.body.event),
        Update::NotThisRegistration
    );
    assert!(follow.final_state().is_none());

    let mut r = example();
    r.product_codes = vec![ProductCode::InStorePayment];
    r.store_info = Some(StoreRegistrationInfo::new("S1".into()));
    let mut in_store = RegistrationFollowUp::new(&r, t(0), policy()).unwrap();
    in_store.poll(t(0));
    let merchant_only = json!({
        "referenceMerchantId": "M202400001",
        "registrationResult": {"registrationStatus": "COMPLETED"}
    });
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &merchant_only)).unwrap();
    assert_eq!(
        in_store.on_notification(t(5), &n.body.event),
        Update::NotThisRegistration
    );
    let other_store = json!({
        "referenceMerchantId": "M202400001",
        "referenceStoreId": "S2",
        "registrationResult": {"registrationStatus": "COMPLETED"}
    });
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &other_store)).unwrap();
    assert_eq!(
        in_store.on_notification(t(5), &n.body.event),
        Update::NotThisRegistration
    );
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &for_store)).unwrap();
    assert_eq!(
        in_store.on_notification(t(5), &n.body.event),
        Update::Changed
    );
    assert_eq!(in_store.final_state(), Some(&Final::Completed));
}

/// Issue 19: a follow-up that was never marked sent is not finished by a notification, an
/// inquiry or an answer (before: attempts 0, Completed).
#[test]
fn nothing_finishes_a_follow_up_before_it_is_marked_sent() {
    let config = config();
    let mut follow = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    let completed = notification(json!([]), "COMPLETED");
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &completed)).unwrap();
    assert_eq!(follow.on_notification(t(1), &n.body.event), Update::NotSent);
    let inquiry = outcome::<InquiryRegistrationStatusRequest>(&data(
        "registration-inquiryRegistrationStatus-response.json",
    ));
    assert_eq!(follow.on_inquiry(t(1).into(), &inquiry), Update::NotSent);
    let ok =
        outcome::<RegistrationRequest>(r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}"#);
    assert_eq!(follow.on_registration(t(1).into(), &ok), Update::NotSent);
    assert!(follow.final_state().is_none());
    assert!(!follow.is_sent());
    assert_eq!(follow.attempts(), 0);
    assert_eq!(follow.next_step(t(1)), Step::Register);

    // Marked sent (and stored) before the send: a crash between the send and the answer
    // leaves a follow-up that knows it may have been registered.
    assert!(matches!(follow.poll(t(2)), Action::Send(_)));
    let stored: RegistrationFollowUp =
        serde_json::from_str(&serde_json::to_string(&follow).unwrap()).unwrap();
    let mut follow = stored;
    assert!(follow.is_sent());
    assert_eq!(follow.attempts(), 1);
    assert_eq!(follow.on_notification(t(3), &n.body.event), Update::Changed);
    assert_eq!(follow.final_state(), Some(&Final::Completed));
    assert_eq!(
        follow.poll(t(4)),
        Action::Done(Final::Completed),
        "nothing to send"
    );
}

/// Issue 19: COMPLETED from an inquiry, then a notification with IN_REVIEW or an unknown status:
/// the registration stays final, the contradiction is surfaced, inquiries do not resume.
#[test]
fn a_final_state_never_goes_back() {
    let config = config();
    let mut follow = accepted_follow_up();
    let completed = outcome::<InquiryRegistrationStatusRequest>(&data(
        "registration-inquiryRegistrationStatus-response.json",
    ));
    assert_eq!(follow.on_inquiry(t(10).into(), &completed), Update::Changed);
    assert_eq!(follow.final_state(), Some(&Final::Completed));
    let before = follow.clone();
    for status in ["IN_REVIEW", "SOMETHING_NEW", "CANCELLED"] {
        let body = notification(
            json!([{"pspName": "ALIPAY_CN", "productCodes": ["AGREEMENT_PAYMENT"],
                    "registrationResult": {"registrationStatus": "PENDING"}}]),
            status,
        );
        let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &body)).unwrap();
        assert_eq!(
            follow.on_notification(t(20), &n.body.event),
            Update::Contradicted {
                reported: Some(RegistrationStatus::from(status))
            },
            "{status}"
        );
        assert_eq!(follow, before, "{status} was merged");
        assert_eq!(
            follow.next_step(t(100_000)),
            Step::Finished(Final::Completed)
        );
    }
    // A PENDING snapshot delivered late (re-sends are out of order): the state stays final,
    // a wallet's final answer it carries is merged.
    let late = notification(
        json!([{"pspName": "LATE_WALLET", "productCodes": ["AGREEMENT_PAYMENT"],
                "registrationResult": {"registrationStatus": "APPROVED"}}]),
        "PENDING",
    );
    let n = handle_notify_registration_status(&config, &inbound(NOTIFY, &late)).unwrap();
    assert_eq!(
        follow.on_notification(t(25), &n.body.event),
        Update::Changed
    );
    assert_eq!(follow.final_state(), Some(&Final::Completed));
    assert_eq!(follow.overall(), Some(&RegistrationStatus::Completed));
    assert!(follow.is_approved_by("LATE_WALLET", &ProductCode::AgreementPayment));
    let before = follow.clone();
    let in_review = outcome::<InquiryRegistrationStatusRequest>(
        r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"registrationResult":{"registrationStatus":"IN_REVIEW"}}"#,
    );
    assert!(matches!(
        follow.on_inquiry(t(30).into(), &in_review),
        Update::Contradicted { .. }
    ));
    assert_eq!(follow, before);

    // A refused registration: a later status about it is surfaced, not merged.
    let mut refused = RegistrationFollowUp::new(&example(), t(0), policy()).unwrap();
    refused.poll(t(0));
    let f = outcome::<RegistrationRequest>(
        r#"{"result":{"resultCode":"PARAM_ILLEGAL","resultStatus":"F"}}"#,
    );
    refused.on_registration(t(1).into(), &f);
    let n = handle_notify_registration_status(
        &config,
        &inbound(NOTIFY, &notification(json!([]), "COMPLETED")),
    )
    .unwrap();
    assert_eq!(
        refused.on_notification(t(2), &n.body.event),
        Update::Contradicted {
            reported: Some(RegistrationStatus::Completed)
        }
    );
    assert!(matches!(refused.final_state(), Some(Final::Refused { .. })));
}
