//! refund: full or partial refund of a successful payment (cashier §8), for both products.
//!
//! Several refunds may be made while their total stays within the paid amount, for up to a
//! year. The idempotency key is `refundRequestId`: on an unknown outcome (`U`, or no
//! verified response) send the **same** request again (same `refundRequestId` and amount); a
//! new `refundRequestId` would be a second refund. There is no refund inquiry or notification
//! for ACQPs (cashier §1), so retrying is the only way to learn the result.

use alipayplus_types::{Amount, RefundRequest};

use crate::payment_ref::PaymentRef;

/// The refund request of `amount` of `payment` under the idempotency key
/// `refund_request_id`; set `refundReason` on it if needed and send it with
/// [`Client::call`](crate::client::Client::call).
///
/// ```
/// use alipayplus_client::PaymentRef;
/// use alipayplus_client::refund::refund_request;
/// use alipayplus_types::{Amount, Currency};
/// let amount = Amount::new(Currency::SGD, 300);
/// let request = refund_request(&PaymentRef::RequestId("order-42".into()), "refund-1", amount);
/// assert_eq!(request.refund_request_id, "refund-1");
/// ```
pub fn refund_request(
    payment: &PaymentRef,
    refund_request_id: &str,
    amount: Amount,
) -> RefundRequest {
    let (payment_request_id, payment_id) = payment.ids();
    RefundRequest {
        payment_request_id,
        payment_id,
        ..RefundRequest::new(refund_request_id.into(), amount)
    }
}
