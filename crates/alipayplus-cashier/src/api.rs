//! Interim mirror of the `alipayplus_types::Api` contract, until alipayplus-types lands.
//!
//! The generic call in [`client`](crate::client) is written against these traits; they are
//! replaced by the generated types' traits when those are merged.

use alloc::string::String;
use alloc::vec::Vec;

/// `resultStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultStatus {
    /// `S`.
    Success,
    /// `F`.
    Failure,
    /// `U`.
    Unknown,
    /// Any other value (treated like `U`).
    Other(String),
}

/// An Alipay+ API, implemented by its request body type.
pub trait Api: serde::Serialize {
    /// API name, e.g. `inquiryPayment`.
    const NAME: &'static str;
    /// Endpoint path, e.g. `/aps/api/v1/payments/inquiryPayment`.
    const PATH: &'static str;
    /// The response body type.
    type Response: serde::de::DeserializeOwned + HasResult;
    /// Checks the request before it is sent; every problem, one per entry.
    fn validate(&self) -> Result<(), Vec<String>>;
}

/// A response body with a `result` object.
pub trait HasResult {
    /// `result.resultStatus`.
    fn result_status(&self) -> ResultStatus;
    /// `result.resultCode`.
    fn result_code(&self) -> &str;
}
