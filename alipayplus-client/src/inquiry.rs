//! inquiryPayment: the payment's current state (cashier §6), for both products.
//!
//! Build the request with [`inquiry_request`] and send it with
//! [`Client::call`](crate::client::Client::call). The answer's `result` is the inquiry's; the
//! payment's own result is `paymentResult` (read both with
//! [`inquiry_report`](crate::tracker::inquiry_report), or feed the outcome to the
//! [`tracker`](crate::tracker)).

use alloc::string::String;

use alipayplus_types::InquiryPaymentRequest;

/// Which payment an inquiry, a cancel or a refund is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaymentRef {
    /// Our `paymentRequestId` (always known, even when pay got no answer).
    RequestId(String),
    /// Alipay+'s `paymentId`.
    PaymentId(String),
}

impl PaymentRef {
    /// `(paymentRequestId, paymentId)` with exactly one set.
    pub fn ids(&self) -> (Option<String>, Option<String>) {
        match self {
            PaymentRef::RequestId(id) => (Some(id.clone()), None),
            PaymentRef::PaymentId(id) => (None, Some(id.clone())),
        }
    }
}

/// The inquiryPayment request for `payment`.
///
/// ```
/// use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
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
