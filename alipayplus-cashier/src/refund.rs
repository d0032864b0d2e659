//! refund: full or partial refund of a successful payment (cashier §8), for both products.
//!
//! Several refunds may be made while their total stays within the paid amount, for up to a
//! year. The idempotency key is `refundRequestId`: on an unknown outcome (`U`, or no
//! verified response) call again with the **same** `refundRequestId` and amount; a new
//! `refundRequestId` would be a second refund. There is no refund inquiry or notification
//! for ACQPs (cashier §1), so retrying is the only way to learn the result.

use alipayplus_types::{Amount, RefundRequest, RefundResponse};

use crate::client::{Client, Outcome, RequestError};
use crate::inquiry::PaymentRef;
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// Calls refund with a prepared request (e.g. with `refundReason`).
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn refund(&self, request: &RefundRequest) -> Result<Outcome<RefundResponse>, RequestError> {
        self.call(request)
    }

    /// Refunds `amount` of `payment` under the idempotency key `refund_request_id`.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn refund_payment(
        &self,
        payment: &PaymentRef,
        refund_request_id: &str,
        amount: Amount,
    ) -> Result<Outcome<RefundResponse>, RequestError> {
        let (payment_request_id, payment_id) = payment.ids();
        let request = RefundRequest {
            payment_request_id,
            payment_id,
            ..RefundRequest::new(refund_request_id.into(), amount)
        };
        self.refund(&request)
    }
}
