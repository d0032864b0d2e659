//! Disputes: the initiateRetrieval / initiateEscalation handlers (good, duplicate, conflicting,
//! tampered, unsigned, unparsable), the pure decision, the in-memory store, and the response
//! builders' shape, signature and validation edges.

mod common;

use alipayplus_client::error::{InboundError, RequestError};
use alipayplus_operations::dispute::{
    Decision, Dispute, DisputeKind, MemoryDisputeStore, checked_response_escalation,
    checked_response_retrieval, decide, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_types::{
    Amount, Attachment, AttachmentType, Currency, OrderStatus, ProofOfDelivery, RefundType,
    ResponseEscalationRequest, ResponseRetrievalRequest, TransactionReceipt,
};
use common::*;
use serde_json::{Value, json};

const RETRIEVAL: &str = "/acqp/initiateRetrieval";
const ESCALATION: &str = "/acqp/initiateEscalation";

fn retrieval_body(dispute: &str, payment: &str) -> Value {
    json!({
        "disputeRequestId": dispute,
        "paymentRequestId": payment,
        "disputeOccurTime": "2025-06-03T10:00:00+08:00",
        "paymentId": "2025060100000001",
        "disputeReasonCode": "4853"
    })
}

fn escalation_body(dispute: &str, payment: &str, value: &str) -> Value {
    json!({
        "disputeRequestId": dispute,
        "paymentRequestId": payment,
        "escalationAmount": {"currency": "SGD", "value": value}
    })
}

fn problems(e: RequestError) -> String {
    match e {
        RequestError::Invalid { errors, .. } => errors.to_string(),
        other => panic!("not a validation error: {other}"),
    }
}

#[test]
fn retrieval_good_duplicate_and_conflict() {
    let config = config();
    let mut store = MemoryDisputeStore::new();
    let body = retrieval_body("DSP-1", "PAY-1");
    let first = handle_initiate_retrieval(&config, &inbound(RETRIEVAL, &body)).unwrap();
    assert_eq!(first.body.dispute.kind, DisputeKind::Retrieval);
    assert_eq!(first.body.dispute.payment_request_id, "PAY-1");
    assert_eq!(
        first.body.request["disputeReasonCode"], "4853",
        "unknown fields are kept"
    );
    let received = store.receive(&config, &first);
    assert!(received.is_new());
    assert_eq!(
        verify_answer(RETRIEVAL, &received.answer)["result"]["resultStatus"],
        "S"
    );

    let again = handle_initiate_retrieval(&config, &inbound(RETRIEVAL, &body)).unwrap();
    let received = store.receive(&config, &again);
    assert_eq!(received.decision, Decision::Duplicate, "reported once");
    assert_eq!(
        verify_answer(RETRIEVAL, &received.answer)["result"]["resultCode"],
        "SUCCESS"
    );

    let conflict_body = retrieval_body("DSP-1", "PAY-2");
    let conflict = handle_initiate_retrieval(&config, &inbound(RETRIEVAL, &conflict_body)).unwrap();
    let received = store.receive(&config, &conflict);
    assert_eq!(
        received.decision,
        Decision::Conflict {
            stored_payment_request_id: "PAY-1".into()
        }
    );
    let answer = verify_answer(RETRIEVAL, &received.answer);
    assert_eq!(answer["result"]["resultCode"], "REPEAT_REQ_INCONSISTENT");
    assert_eq!(answer["result"]["resultStatus"], "F");
    assert_eq!(
        store
            .get(DisputeKind::Retrieval, "DSP-1")
            .unwrap()
            .payment_request_id,
        "PAY-1"
    );
    assert_eq!(store.all().len(), 1);
}

#[test]
fn escalation_good_duplicate_conflict_and_separate_key_space() {
    let config = config();
    let mut store = MemoryDisputeStore::new();
    let body = escalation_body("DSP-1", "PAY-1", "1000");
    let first = handle_initiate_escalation(&config, &inbound(ESCALATION, &body)).unwrap();
    assert_eq!(
        first.body.dispute.escalation_amount,
        Some(Amount::new(Currency::SGD, 1000))
    );
    assert!(store.receive(&config, &first).is_new());
    // Same id with another amount but the same payment: a duplicate; the first stays.
    let other_amount = escalation_body("DSP-1", "PAY-1", "900");
    let d = handle_initiate_escalation(&config, &inbound(ESCALATION, &other_amount)).unwrap();
    assert_eq!(store.receive(&config, &d).decision, Decision::Duplicate);
    assert_eq!(
        store
            .get(DisputeKind::Escalation, "DSP-1")
            .unwrap()
            .escalation_amount,
        Some(Amount::new(Currency::SGD, 1000))
    );
    let conflict = escalation_body("DSP-1", "PAY-9", "1000");
    let d = handle_initiate_escalation(&config, &inbound(ESCALATION, &conflict)).unwrap();
    let r = store.receive(&config, &d);
    assert!(matches!(r.decision, Decision::Conflict { .. }));
    assert_eq!(
        verify_answer(ESCALATION, &r.answer)["result"]["resultCode"],
        "REPEAT_REQ_INCONSISTENT"
    );
    // A retrieval with the same id is another API's key.
    let retrieval = handle_initiate_retrieval(
        &config,
        &inbound(RETRIEVAL, &retrieval_body("DSP-1", "PAY-9")),
    )
    .unwrap();
    assert!(store.receive(&config, &retrieval).is_new());
}

#[test]
fn tampered_unsigned_wrong_key_and_unparsable_deliveries_are_refused() {
    let config = config();
    let body = escalation_body("DSP-1", "PAY-1", "1000");
    let forged = tampered(ESCALATION, &body, "1000", "9000");
    let r = handle_initiate_escalation(&config, &forged).unwrap_err();
    assert!(matches!(r.error, InboundError::Signature(_)));
    assert_eq!(
        unsigned_refusal(&r.answer)["result"]["resultCode"],
        "INVALID_SIGNATURE"
    );
    let r = handle_initiate_escalation(&config, &unsigned(ESCALATION, &body)).unwrap_err();
    assert!(matches!(r.error, InboundError::Signature(_)));
    let wrong = inbound_bytes(ESCALATION, body.to_string().into_bytes(), &other_key());
    assert!(handle_initiate_escalation(&config, &wrong).is_err());
    let rbody = retrieval_body("DSP-2", "PAY-1");
    assert!(handle_initiate_retrieval(&config, &unsigned(RETRIEVAL, &rbody)).is_err());
    assert!(
        handle_initiate_retrieval(&config, &tampered(RETRIEVAL, &rbody, "PAY-1", "PAY-2")).is_err()
    );
    // Verified but missing the required escalationAmount / disputeOccurTime.
    let missing = json!({"disputeRequestId": "DSP-3", "paymentRequestId": "PAY-1"});
    let r = handle_initiate_escalation(&config, &inbound(ESCALATION, &missing)).unwrap_err();
    assert_eq!(
        verify_answer(ESCALATION, &r.answer)["result"]["resultCode"],
        "PARAM_ILLEGAL"
    );
    let r = handle_initiate_retrieval(&config, &inbound(RETRIEVAL, &missing)).unwrap_err();
    assert!(matches!(r.error, InboundError::Parse { .. }));
    let mut get = inbound(RETRIEVAL, &rbody);
    get.method = "GET".into();
    assert!(matches!(
        handle_initiate_retrieval(&config, &get).unwrap_err().error,
        InboundError::Method(_)
    ));
}

#[test]
fn the_decision_is_pure() {
    let d = |p: &str| -> Dispute {
        serde_json::from_value(json!({
            "kind": "Retrieval", "disputeRequestId": "D", "paymentRequestId": p,
            "paymentId": null, "disputeOccurTime": null, "escalationAmount": null
        }))
        .unwrap()
    };
    assert_eq!(decide(&d("P"), None), Decision::New);
    assert_eq!(decide(&d("P"), Some(&d("P"))), Decision::Duplicate);
    assert_eq!(
        decide(&d("P"), Some(&d("Q"))),
        Decision::Conflict {
            stored_payment_request_id: "Q".into()
        }
    );
}

fn escalation(value: u64) -> Dispute {
    serde_json::from_value(json!({
        "kind": "Escalation", "disputeRequestId": "DSP20250601000001", "paymentRequestId": "PAY-1",
        "paymentId": null, "disputeOccurTime": null,
        "escalationAmount": {"currency": "SGD", "value": value.to_string()}
    }))
    .unwrap()
}

fn retrieval() -> Dispute {
    serde_json::from_value(json!({
        "kind": "Retrieval", "disputeRequestId": "DSP-R1", "paymentRequestId": "PAY-1",
        "paymentId": null, "disputeOccurTime": "2025-06-03T10:00:00+08:00", "escalationAmount": null
    }))
    .unwrap()
}

#[test]
fn response_escalation_shape_signature_and_refund_rules() {
    let example: ResponseEscalationRequest =
        serde_json::from_str(&data("dispute-responseEscalation-request.json")).unwrap();
    let ok = checked_response_escalation(&example, &escalation(1000), Currency::SGD).unwrap();
    let expected: Value =
        serde_json::from_str(&data("dispute-responseEscalation-request.json")).unwrap();
    assert_signed_shape(&ok, &expected);

    // Exactly the escalation amount is allowed; one more is not.
    assert!(checked_response_escalation(&example, &escalation(500), Currency::SGD).is_ok());
    let text = problems(
        checked_response_escalation(&example, &escalation(499), Currency::SGD).unwrap_err(),
    );
    assert!(
        text.contains("refundAmount.value: 500 is above the maximum 499"),
        "{text}"
    );
    // Another currency than the payment's.
    let text = problems(
        checked_response_escalation(&example, &escalation(1000), Currency::USD).unwrap_err(),
    );
    assert!(
        text.contains("refundAmount.currency: SGD is not allowed here, only USD"),
        "{text}"
    );
    // Partial without an amount.
    let mut partial = example.clone();
    partial.refund_amount = None;
    let text = problems(
        checked_response_escalation(&partial, &escalation(1000), Currency::SGD).unwrap_err(),
    );
    assert!(text.contains("refundAmount: missing"), "{text}");
    // A zero refund.
    partial.refund_amount = Some(Amount::new(Currency::SGD, 0));
    assert!(checked_response_escalation(&partial, &escalation(1000), Currency::SGD).is_err());
    // Full refund: no amount, or exactly the escalation amount.
    let mut full =
        ResponseEscalationRequest::new("DSP20250601000001".into(), RefundType::AcceptRefund);
    assert!(checked_response_escalation(&full, &escalation(1000), Currency::SGD).is_ok());
    full.refund_amount = Some(Amount::new(Currency::SGD, 1000));
    assert!(checked_response_escalation(&full, &escalation(1000), Currency::SGD).is_ok());
    full.refund_amount = Some(Amount::new(Currency::SGD, 999));
    assert!(
        problems(checked_response_escalation(&full, &escalation(1000), Currency::SGD).unwrap_err())
            .contains("ACCEPT_PARTIAL_REFUND")
    );
    // Refuse: no amount, no planned refund; evidence welcome.
    let mut refuse =
        ResponseEscalationRequest::new("DSP20250601000001".into(), RefundType::RefuseRefund);
    refuse.transaction_receipt = Some(TransactionReceipt {
        reference_order_id: Some("ORDER-1".into()),
        ..TransactionReceipt::new()
    });
    assert!(checked_response_escalation(&refuse, &escalation(1000), Currency::SGD).is_ok());
    refuse.refund_amount = Some(Amount::new(Currency::SGD, 1));
    refuse.planned_refund_time = Some("2025-06-05T10:00:00+08:00".parse().unwrap());
    let text = problems(
        checked_response_escalation(&refuse, &escalation(1000), Currency::SGD).unwrap_err(),
    );
    assert!(
        text.contains("refundAmount: not sent when refusing"),
        "{text}"
    );
    // Another dispute's id, or a retrieval given as the escalation.
    let mut wrong = example.clone();
    wrong.dispute_request_id = "DSP-OTHER".into();
    assert!(
        problems(
            checked_response_escalation(&wrong, &escalation(1000), Currency::SGD).unwrap_err()
        )
        .contains("not the disputeRequestId")
    );
    assert!(
        problems(checked_response_escalation(&example, &retrieval(), Currency::SGD).unwrap_err())
            .contains("is a retrieval")
    );
    // Escalation amount in another currency than the payment: not decidable here.
    let text =
        problems(checked_response_escalation(&full, &escalation(1000), Currency::USD).unwrap_err());
    assert!(text.contains("another currency than the payment"), "{text}");
    // Lengths.
    let mut long = example.clone();
    long.dispute_request_id = "D".repeat(65);
    let mut long_dispute = escalation(1000);
    long_dispute.dispute_request_id = long.dispute_request_id.clone();
    assert!(
        problems(checked_response_escalation(&long, &long_dispute, Currency::SGD).unwrap_err())
            .contains("too long")
    );
}

#[test]
fn response_retrieval_shape_and_evidence_rules() {
    let mut request = ResponseRetrievalRequest::new("DSP-R1".into(), OrderStatus::Success);
    request.transaction_receipt = Some(TransactionReceipt {
        reference_order_id: Some("ORDER-1".into()),
        order_amount: Some(Amount::new(Currency::SGD, 1000)),
        order_status: Some(OrderStatus::Success),
        ..TransactionReceipt::new()
    });
    request.proof_of_delivery = Some(ProofOfDelivery {
        delivery_tracking_no: Some("TRACK-1".into()),
        ..ProofOfDelivery::new()
    });
    request.other_documentation = Some(vec![Attachment {
        attachment_name: Some("receipt.pdf".into()),
        content: Some("https://merchant.example.com/receipt.pdf".into()),
        content_type: Some("application/pdf".into()),
        ..Attachment::new(AttachmentType::TransactionReceipt)
    }]);
    let ok = checked_response_retrieval(&request, &retrieval()).unwrap();
    assert_signed_shape(
        &ok,
        &json!({
            "disputeRequestId": "DSP-R1",
            "responseCode": "SUCCESS",
            "transactionReceipt": {"referenceOrderId": "ORDER-1", "orderAmount": {"currency": "SGD", "value": "1000"}, "orderStatus": "SUCCESS"},
            "proofOfDelivery": {"deliveryTrackingNo": "TRACK-1"},
            "otherDocumentation": [{"attachmentType": "TRANSACTION_RECEIPT", "attachmentName": "receipt.pdf",
                "content": "https://merchant.example.com/receipt.pdf", "contentType": "application/pdf"}]
        }),
    );

    let mut bad = request.clone();
    bad.other_documentation = Some(vec![Attachment {
        content_type: Some("pdf".into()),
        ..Attachment::new(AttachmentType::ArticlesOfAssociation)
    }]);
    bad.proof_of_delivery = Some(ProofOfDelivery::new());
    bad.transaction_receipt = Some(TransactionReceipt::new());
    bad.response_code = OrderStatus::Unrecognized("MAYBE".into());
    let text = problems(checked_response_retrieval(&bad, &retrieval()).unwrap_err());
    for needle in [
        "otherDocumentation[0]: one of content, file is required",
        "otherDocumentation[0].attachmentType: not a dispute attachment type",
        "otherDocumentation[0].contentType: not a MIME type",
        "proofOfDelivery: one of deliveryTrackingNo, shipping is required",
        "transactionReceipt: one of referenceOrderId",
        "responseCode: not a responseCode",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    let mut empty = request.clone();
    empty.other_documentation = Some(vec![]);
    assert!(
        problems(checked_response_retrieval(&empty, &retrieval()).unwrap_err())
            .contains("otherDocumentation: 0 elements")
    );
    assert!(
        problems(checked_response_retrieval(&request, &escalation(1)).unwrap_err())
            .contains("is an escalation")
    );
}

/// Issue 19: every operations event carries whether the Client-Id is ours: reported by the
/// library's default, refused (signed INVALID_CLIENT) with `InboundClientId::Refuse`.
#[test]
fn every_inbound_event_carries_the_client_id_flag() {
    use alipayplus_client::client::InboundClientId;
    use alipayplus_operations::registration::handle_notify_registration_status;
    let retrieval = json!({"disputeRequestId": "DSP-F", "paymentRequestId": "PAY-F",
        "disputeOccurTime": "2025-06-03T10:00:00+08:00"});
    let escalation = json!({"disputeRequestId": "DSP-F", "paymentRequestId": "PAY-F",
        "escalationAmount": {"currency": "SGD", "value": "1000"}});
    let registration = json!({"referenceMerchantId": "M1",
        "registrationResult": {"registrationStatus": "PENDING"}});
    let report = config();
    let refuse = config().with_inbound(
        alipayplus_client::InboundPolicy::new().with_client_id(InboundClientId::Refuse),
    );
    for (config, ours) in [(&report, true), (&refuse, true), (&report, false)] {
        let call = |path: &str, body: &Value| {
            if ours {
                inbound(path, body)
            } else {
                inbound_foreign(path, body)
            }
        };
        let d =
            handle_initiate_retrieval(config, &call("/r/initiateRetrieval", &retrieval)).unwrap();
        assert_eq!(d.client_id_is_ours, ours);
        let d = handle_initiate_escalation(config, &call("/r/initiateEscalation", &escalation))
            .unwrap();
        assert_eq!(d.client_id_is_ours, ours);
        let n =
            handle_notify_registration_status(config, &call("/r/notify", &registration)).unwrap();
        assert_eq!(n.client_id_is_ours, ours);
    }
    let refused = handle_initiate_retrieval(
        &refuse,
        &inbound_foreign("/r/initiateRetrieval", &retrieval),
    )
    .unwrap_err();
    assert_eq!(
        verify_answer("/r/initiateRetrieval", &refused.answer)["result"]["resultCode"],
        "INVALID_CLIENT"
    );
    let refused =
        handle_notify_registration_status(&refuse, &inbound_foreign("/r/notify", &registration))
            .unwrap_err();
    assert_eq!(
        verify_answer("/r/notify", &refused.answer)["result"]["resultCode"],
        "INVALID_CLIENT"
    );
}
