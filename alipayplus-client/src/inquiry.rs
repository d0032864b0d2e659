//! inquiryPayment: the payment's current state (cashier §6), for both products.
//!
//! Build the request with [`inquiry_request`] and send it with
//! [`Client::call`](crate::client::Client::call). The answer's `result` is the inquiry's; the
//! payment's own result is `paymentResult` (read both with
//! [`inquiry_report`](crate::tracker::inquiry_report), or feed the outcome to the
//! [`tracker`](crate::tracker)).

use alipayplus_types::InquiryPaymentRequest;

// The old path keeps compiling; the docs show each type once, at its home.
#[doc(hidden)]
pub use crate::payment_ref::PaymentRef;

/// The inquiryPayment request for `payment`.
///
/// ```
/// use alipayplus_client::PaymentRef;
/// use alipayplus_client::inquiry::inquiry_request;
/// let request = inquiry_request(&PaymentRef::RequestId("order-42".into()));
/// assert_eq!(request.payment_request_id.as_deref(), Some("order-42"));
/// // client.call(&request)?
/// ```
pub fn inquiry_request(payment: &PaymentRef) -> InquiryPaymentRequest {
    let (payment_request_id, payment_id) = payment.ids();
    InquiryPaymentRequest {
        payment_request_id,
        payment_id,
        ..InquiryPaymentRequest::new()
    }
}
