//! responseRetrieval and responseEscalation (dispute.md §4, §6); disputes are opened by the
//! control API in [`crate::operations`].

use alipayplus_types::{
    Api, RefundType, ResponseEscalationRequest, ResponseEscalationResponse,
    ResponseRetrievalRequest, ResponseRetrievalResponse,
};

use crate::answer::{Route, result, typed};
use crate::state::{Shared, lock};

pub(super) const RESPONSE_RETRIEVAL: Route = Route {
    name: ResponseRetrievalRequest::NAME,
    path: ResponseRetrievalRequest::PATH,
    serve: |shared, body| typed(shared, body, retrieval),
};

pub(super) const RESPONSE_ESCALATION: Route = Route {
    name: ResponseEscalationRequest::NAME,
    path: ResponseEscalationRequest::PATH,
    serve: |shared, body| typed(shared, body, escalation),
};

fn retrieval(shared: &Shared, request: ResponseRetrievalRequest) -> ResponseRetrievalResponse {
    let mut books = lock(&shared.operations);
    let Some(d) = books
        .disputes
        .get_mut(&request.dispute_request_id)
        .filter(|d| d.kind == "retrieval")
    else {
        return ResponseRetrievalResponse::new(result(
            "DISPUTE_NOT_EXIST",
            "F",
            "no retrieval with this disputeRequestId",
        ));
    };
    // Idempotent: a repeat is processed once (the first answer stays).
    if d.response.is_none() {
        d.response = serde_json::to_value(&request).ok();
    }
    ResponseRetrievalResponse::new(result("SUCCESS", "S", "success"))
}

fn escalation(shared: &Shared, request: ResponseEscalationRequest) -> ResponseEscalationResponse {
    let currency = {
        let store = lock(&shared.store);
        let books = lock(&shared.operations);
        books
            .disputes
            .get(&request.dispute_request_id)
            .filter(|d| d.kind == "escalation")
            .and_then(|d| store.payments.get(&d.payment_request_id))
            .map(|p| p.amount().currency)
    };
    let mut books = lock(&shared.operations);
    let (Some(currency), Some(d)) = (
        currency,
        books
            .disputes
            .get_mut(&request.dispute_request_id)
            .filter(|d| d.kind == "escalation"),
    ) else {
        return ResponseEscalationResponse::new(result(
            "DISPUTE_NOT_EXIST",
            "F",
            "no escalation with this disputeRequestId",
        ));
    };
    let fail =
        |code: &str, message: &str| ResponseEscalationResponse::new(result(code, "F", message));
    if let Some(first) = &d.response {
        let same = first.get("refundType")
            == serde_json::to_value(&request.refund_type).ok().as_ref()
            && first.get("refundAmount").cloned()
                == request
                    .refund_amount
                    .and_then(|a| serde_json::to_value(a).ok());
        return if same {
            ResponseEscalationResponse::new(result("SUCCESS", "S", "success"))
        } else {
            fail(
                "REPEAT_REQ_INCONSISTENT",
                "this escalation was answered with another refundType / refundAmount",
            )
        };
    }
    let limit = d.escalation_amount;
    if let (Some(amount), Some(limit)) = (request.refund_amount, limit) {
        if amount.currency != currency {
            return fail(
                "PARAM_ILLEGAL",
                "refundAmount.currency is not the payment's currency",
            );
        }
        if amount.minor() > limit.minor() {
            return fail(
                "PARAM_ILLEGAL",
                "refundAmount is above the escalationAmount",
            );
        }
    }
    if request.refund_type == RefundType::RefuseRefund && request.refund_amount.is_some() {
        return fail(
            "PARAM_ILLEGAL",
            "refundAmount is not sent with REFUSE_REFUND",
        );
    }
    d.response = serde_json::to_value(&request).ok();
    ResponseEscalationResponse::new(result("SUCCESS", "S", "success"))
}
