//! cancelPayment: close a payment that has no final result (cashier §7, common §3.4), for
//! both products. Allowed until 00:15 UTC+8 of the day after the payment (T+1); repeats with
//! the same `paymentRequestId` return the same result, so on an unknown outcome send the same
//! request again. Read the answer with [`cancel_report`](crate::tracker::cancel_report).

use alipayplus_types::CancelPaymentRequest;

use crate::payment_ref::PaymentRef;

/// The cancelPayment request for `payment`; send it with
/// [`Client::call`](crate::client::Client::call).
///
/// ```
/// use alipayplus_client::cancel::cancel_request;
/// use alipayplus_client::PaymentRef;
/// let request = cancel_request(&PaymentRef::RequestId("order-42".into()));
/// assert_eq!(request.payment_request_id.as_deref(), Some("order-42"));
/// ```
pub fn cancel_request(payment: &PaymentRef) -> CancelPaymentRequest {
    let (payment_request_id, payment_id) = payment.ids();
    CancelPaymentRequest {
        payment_request_id,
        payment_id,
        ..CancelPaymentRequest::new()
    }
}
