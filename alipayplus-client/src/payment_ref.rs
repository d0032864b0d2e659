//! [`PaymentRef`]: which payment an inquiry, a cancel or a refund is about.

use alloc::string::String;

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
