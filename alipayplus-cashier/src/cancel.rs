//! cancelPayment: close a payment that has no final result (cashier §7, common §3.4), for
//! both products. Allowed until 00:15 UTC+8 of the day after the payment (T+1); repeats with
//! the same `paymentRequestId` return the same result.

use alipayplus_types::{CancelPaymentRequest, CancelPaymentResponse};

use crate::client::{Client, Outcome, RequestError};
use crate::inquiry::PaymentRef;
use crate::tracker::{CancelReport, ORDER_NOT_EXIST};
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// Calls cancelPayment for `payment`. On an unknown outcome, call again with the same id.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn cancel_payment(
        &self,
        payment: &PaymentRef,
    ) -> Result<Outcome<CancelPaymentResponse>, RequestError> {
        let (payment_request_id, payment_id) = payment.ids();
        let request = CancelPaymentRequest {
            payment_request_id,
            payment_id,
            ..CancelPaymentRequest::new()
        };
        self.call(&request)
    }
}

/// What a cancel outcome tells the [`tracker`](crate::tracker).
pub fn cancel_report(outcome: &Outcome<CancelPaymentResponse>) -> CancelReport {
    match outcome {
        Outcome::Success(_) => CancelReport::Cancelled,
        Outcome::Failure(reply) if reply.body.result.code_str() == ORDER_NOT_EXIST => {
            CancelReport::OrderNotFound
        }
        Outcome::Failure(reply) => CancelReport::Rejected(reply.body.result.code_str().into()),
        _ => CancelReport::NoAnswer,
    }
}
