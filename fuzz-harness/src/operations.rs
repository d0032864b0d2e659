//! The inbound handlers of `alipayplus-operations`: notifyRegistrationStatus,
//! initiateRetrieval and initiateEscalation, past the signature through the accept-all
//! verifier, with the same structured inputs as the payment handlers.

use alipayplus_client::inbound::ACK_SUCCESS;
use alipayplus_operations::dispute::{
    Decision, DisputeDelivery, MemoryDisputeStore, decide, handle_initiate_escalation,
    handle_initiate_retrieval,
};
use alipayplus_operations::registration::{RegistrationEvent, handle_notify_registration_status};

use crate::inbound::{
    CLIENT_ID, InboundInput, assert_echoed, check_answer, check_refusal, decode, round_trip,
};

/// notifyRegistrationStatus examples (registration.md).
pub const REGISTRATION_EXAMPLES: &[&str] = &[
    r#"{"referenceMerchantId":"M202400001","registrationRequestId":"REG20250601000001","registrationResult":{"registrationStatus":"PENDING"},"pspRegistrationResultList":[{"pspName":"ALIPAY_CN","productCodes":["AGREEMENT_PAYMENT"],"registrationResult":{"registrationStatus":"APPROVED"}}]}"#,
    r#"{"referenceMerchantId":"M202400001","referenceStoreId":"S1","registrationResult":{"registrationStatus":"COMPLETED"},"pspRegistrationResultList":[{"pspName":"GCASH","registrationResult":{"registrationStatus":"REJECTED","rejectReason":"x"}}]}"#,
];

/// initiateRetrieval examples (dispute.md).
pub const RETRIEVAL_EXAMPLES: &[&str] = &[
    r#"{"disputeRequestId":"DSP-1","paymentRequestId":"PAY-1","disputeOccurTime":"2025-06-03T10:00:00+08:00","paymentId":"2025060100000001","disputeReasonCode":"4853"}"#,
];

/// initiateEscalation examples (dispute.md).
pub const ESCALATION_EXAMPLES: &[&str] = &[
    r#"{"disputeRequestId":"DSP-2","paymentRequestId":"PAY-1","escalationAmount":{"currency":"SGD","value":"1000"},"disputeOccurTime":"2025-06-03T10:00:00+08:00"}"#,
];

/// notifyRegistrationStatus: `handle_notify_registration_status`.
pub fn notify_registration_status(data: &[u8]) {
    let Some(input) = decode::<InboundInput>(data) else {
        return;
    };
    let request = input.request(REGISTRATION_EXAMPLES);
    match handle_notify_registration_status(&input.config(), &request) {
        Ok(n) => {
            assert_echoed(&n.client_id, &request);
            assert_eq!(n.client_id_is_ours, n.client_id == CLIENT_ID);
            check_answer(&n.answer, &n.client_id, true);
            assert_eq!(n.answer.body, ACK_SUCCESS.as_bytes());
            round_trip(&n.body.request);
            assert_eq!(
                n.body.event,
                RegistrationEvent::from_notification(&n.body.request)
            );
        }
        Err(refused) => check_refusal(&refused, &request),
    }
}

/// initiateRetrieval: `handle_initiate_retrieval`, then the store's decision twice (a
/// re-delivery is a duplicate, acknowledged again).
pub fn initiate_retrieval(data: &[u8]) {
    dispute(data, RETRIEVAL_EXAMPLES, |c, r| {
        handle_initiate_retrieval(c, r)
    });
}

/// initiateEscalation: as [`initiate_retrieval`].
pub fn initiate_escalation(data: &[u8]) {
    dispute(data, ESCALATION_EXAMPLES, |c, r| {
        handle_initiate_escalation(c, r)
    });
}

type Handler = fn(
    &alipayplus_client::client::ClientConfig,
    &alipayplus_client::transport::Request,
) -> Result<DisputeDelivery, alipayplus_client::inbound::Refused>;

fn dispute(data: &[u8], examples: &[&str], handle: Handler) {
    let Some(input) = decode::<InboundInput>(data) else {
        return;
    };
    let config = input.config();
    let request = input.request(examples);
    match handle(&config, &request) {
        Ok(delivery) => {
            round_trip(&delivery.body.request);
            assert_eq!(decide(&delivery.body.dispute, None), Decision::New);
            assert_eq!(
                decide(&delivery.body.dispute, Some(&delivery.body.dispute)),
                Decision::Duplicate
            );
            let mut store = MemoryDisputeStore::new();
            let first = store.receive(&config, &delivery);
            assert!(first.is_new());
            let again = store.receive(&config, &delivery);
            assert_eq!(again.decision, Decision::Duplicate);
            assert_echoed(&delivery.client_id, &request);
            assert_eq!(delivery.client_id_is_ours, delivery.client_id == CLIENT_ID);
            for answer in [&first.answer, &again.answer] {
                check_answer(answer, &delivery.client_id, true);
                assert_eq!(answer.body, ACK_SUCCESS.as_bytes());
            }
        }
        Err(refused) => check_refusal(&refused, &request),
    }
}
