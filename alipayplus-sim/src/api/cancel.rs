//! cancelPayment: closes a payment (cashier.md §7; the choices for each state are in
//! [`crate::payment`]).

use alipayplus_types::{Api, CancelPaymentRequest, CancelPaymentResponse};

use crate::answer::{Answer, Route, result, typed};
use crate::state::{Shared, lock};

pub(super) const ROUTE: Route = Route {
    name: CancelPaymentRequest::NAME,
    path: CancelPaymentRequest::PATH,
    serve,
};

fn serve(shared: &Shared, body: &[u8]) -> Answer {
    typed(shared, body, handle)
}

fn handle(shared: &Shared, request: CancelPaymentRequest) -> CancelPaymentResponse {
    let now = shared.clock.now_secs();
    let (response, expired) = {
        let mut store = lock(&shared.store);
        let id = store.resolve(
            request.payment_request_id.as_deref(),
            request.payment_id.as_deref(),
        );
        let Some(payment) = id.and_then(|id| store.payments.get_mut(&id)) else {
            return CancelPaymentResponse::new(result(
                "ORDER_NOT_EXIST",
                "F",
                "Order does not exist.",
            ));
        };
        let expired = payment.expire_if_due(now);
        let response = match payment.cancel(now) {
            Ok(()) => {
                let mut r = CancelPaymentResponse::new(result("SUCCESS", "S", "success"));
                r.psp_id = Some(shared.psp_id.clone());
                r.acquirer_id = Some(shared.acquirer_id.clone());
                r
            }
            Err(code) => CancelPaymentResponse::new(result(
                code,
                "F",
                &format!("payment is {}: cannot cancel", payment.status().as_str()),
            )),
        };
        (
            response,
            expired.then(|| payment.payment_request_id.clone()),
        )
    };
    if let Some(id) = expired {
        crate::notify::payment_final(shared, &id);
    }
    response
}
