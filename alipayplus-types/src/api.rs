//! The [`Api`] trait tying a request type to its endpoint, direction and response.

use crate::result::{ApiResult, ResultCode};
use crate::validate::ValidationErrors;

/// Who calls whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The ACQP calls Alipay+ (pay, inquiryPayment, refund, ...): sign the request, verify the response.
    Outbound,
    /// Alipay+ calls the ACQP (notifyPayment, authNotify, ...): verify the request, sign the answer.
    Inbound,
}

/// An Alipay+ API, implemented by its request body type (generated for every API).
///
/// For [`Direction::Inbound`] APIs the request is what Alipay+ sends and
/// [`Api::Response`] is what the ACQP answers.
///
/// ```
/// # #[cfg(feature = "cashier")] {
/// use alipayplus_types::{Api, Direction, InquiryPaymentRequest};
/// assert_eq!(InquiryPaymentRequest::PATH, "/aps/api/v1/payments/inquiryPayment");
/// assert_eq!(InquiryPaymentRequest::DIRECTION, Direction::Outbound);
/// let req = InquiryPaymentRequest { payment_id: Some("2025...".into()), ..Default::default() };
/// assert!(Api::validate(&req).is_ok());
/// # }
/// ```
pub trait Api: serde::Serialize {
    /// API name as Alipay+ spells it, e.g. `"inquiryPayment"`.
    const NAME: &'static str;
    /// Endpoint path, e.g. `"/aps/api/v1/payments/inquiryPayment"` (for inbound APIs a name only:
    /// the real URL is the ACQP's own).
    const PATH: &'static str;
    /// Who calls whom.
    const DIRECTION: Direction;
    /// JSON names of the request fields forming the idempotency key (empty: none).
    const IDEMPOTENCY_FIELDS: &'static [&'static str];
    /// The response body type.
    type Response: serde::de::DeserializeOwned + serde::Serialize + HasResult;
    /// Checks the request before it is sent, reporting every problem at once.
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// A response body carrying the `result` object; lets a client read any response generically.
pub trait HasResult {
    /// The API's result-code enum.
    type Code: ResultCode;
    /// The `result` object.
    fn result(&self) -> &ApiResult<Self::Code>;
}
