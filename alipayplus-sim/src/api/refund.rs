//! refund: full or partial refunds of a succeeded payment (cashier.md §8), idempotent on
//! `refundRequestId`: a repeat with the same amount and payment gets the first answer again;
//! with another amount or payment, `REPEAT_REQ_INCONSISTENT` (common.md §3.3).

use alipayplus_types::{Api, RefundRequest, RefundResponse};

use crate::answer::{Answer, Route, result, typed};
use crate::clock::datetime;
use crate::state::{RefundRecord, Shared, lock};

pub(super) const ROUTE: Route = Route {
    name: RefundRequest::NAME,
    path: RefundRequest::PATH,
    serve,
};

fn serve(shared: &Shared, body: &[u8]) -> Answer {
    typed(shared, body, handle)
}

fn handle(shared: &Shared, request: RefundRequest) -> RefundResponse {
    let now = shared.clock.now_secs();
    let mut guard = lock(&shared.store);
    let store = &mut *guard;
    let target = store.resolve(
        request.payment_request_id.as_deref(),
        request.payment_id.as_deref(),
    );
    if let Some(first) = store.refunds.get(&request.refund_request_id) {
        let same_payment = target.as_deref() == Some(first.payment_request_id.as_str());
        return if same_payment && first.amount == request.refund_amount {
            first.response.clone()
        } else {
            RefundResponse::new(result(
                "REPEAT_REQ_INCONSISTENT",
                "F",
                &format!(
                    "refundRequestId {:?} was used with a different {}",
                    request.refund_request_id,
                    if same_payment {
                        "refundAmount"
                    } else {
                        "payment"
                    }
                ),
            ))
        };
    }
    let Some(payment) = target.as_ref().and_then(|id| store.payments.get_mut(id)) else {
        return RefundResponse::new(result("ORDER_NOT_EXIST", "F", "Order does not exist."));
    };
    let response = match payment.refund(&request.refund_request_id, &request.refund_amount, now) {
        Ok(()) => {
            let mut r = RefundResponse::new(result("SUCCESS", "S", "success"));
            r.refund_id = Some(shared.next_id("SIMREFUND"));
            r.refund_time = datetime(now);
            r.refund_amount = Some(request.refund_amount);
            r.acquirer_id = Some(shared.acquirer_id.clone());
            r.psp_id = Some(shared.psp_id.clone());
            r.settlement_amount = Some(request.refund_amount);
            r
        }
        Err(code) => RefundResponse::new(result(
            code,
            "F",
            &format!(
                "refund of {} refused: payment is {}, {} of {} refunded",
                request.refund_amount.minor(),
                payment.status().as_str(),
                payment.refunded,
                payment.amount().minor()
            ),
        )),
    };
    store.refunds.insert(
        request.refund_request_id.clone(),
        RefundRecord {
            payment_request_id: payment.payment_request_id.clone(),
            amount: request.refund_amount,
            response: response.clone(),
        },
    );
    response
}
