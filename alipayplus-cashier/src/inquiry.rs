//! inquiryPayment: the payment's current state (cashier §6), for both products.

use alloc::string::String;

use alipayplus_types::{InquiryPaymentRequest, InquiryPaymentResponse, ResultStatus};

use crate::client::{Client, Outcome, RequestError};
use crate::tracker::{InquiryReport, ORDER_NOT_EXIST, Report};
use crate::transport::Transport;

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
    pub(crate) fn ids(&self) -> (Option<String>, Option<String>) {
        match self {
            PaymentRef::RequestId(id) => (Some(id.clone()), None),
            PaymentRef::PaymentId(id) => (None, Some(id.clone())),
        }
    }
}

impl<T: Transport> Client<T> {
    /// Calls inquiryPayment for `payment`.
    ///
    /// `result` is the outcome of the inquiry; the payment's own outcome is
    /// `paymentResult` (`S`, `F`, or `U` while in process). [`inquiry_report`] reads both.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent (e.g. an empty or too long id).
    pub fn inquiry_payment(
        &self,
        payment: &PaymentRef,
    ) -> Result<Outcome<InquiryPaymentResponse>, RequestError> {
        let (payment_request_id, payment_id) = payment.ids();
        let request = InquiryPaymentRequest {
            payment_request_id,
            payment_id,
            ..InquiryPaymentRequest::new()
        };
        self.call(&request)
    }
}

/// What an inquiry outcome tells the [`tracker`](crate::tracker) (cashier §6 result table).
pub fn inquiry_report(outcome: &Outcome<InquiryPaymentResponse>) -> InquiryReport {
    match outcome {
        Outcome::Success(reply) => match &reply.body.payment_result {
            Some(p) => InquiryReport::Payment(match &p.result_status {
                ResultStatus::Success => Report::Success,
                ResultStatus::Failure => Report::Failure(p.code_str().into()),
                _ => Report::Unknown(Some(p.code_str().into())),
            }),
            // S without paymentResult says nothing about the payment.
            None => InquiryReport::NoAnswer,
        },
        Outcome::Failure(reply) if reply.body.result.code_str() == ORDER_NOT_EXIST => {
            InquiryReport::OrderNotFound
        }
        _ => InquiryReport::NoAnswer,
    }
}
