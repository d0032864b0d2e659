//! What an answer tells the tracker: the readers of outcomes and notifications into
//! [`Report`]s, and the result codes the follow-up turns on.

use alloc::string::String;

use alipayplus_types::{
    CancelPaymentResponse, CodeAbout, InquiryPaymentResponse, NotifyPaymentRequest, PayResponse,
    PayResultCode, ResultCode, ResultStatus,
};

use crate::outcome::Outcome;

/// The `resultCode` Alipay+ returns when a payment (or the order to cancel) does not exist.
pub const ORDER_NOT_EXIST: &str = "ORDER_NOT_EXIST";
/// The pay `resultCode` (`U`) meaning Alipay+ has the payment and it is in process.
pub const PAYMENT_IN_PROCESS: &str = "PAYMENT_IN_PROCESS";
/// The pay `resultCode` for a reused `paymentRequestId` with different key fields.
pub const REPEAT_REQ_INCONSISTENT: &str = "REPEAT_REQ_INCONSISTENT";

/// Whether a pay `resultCode` speaks about the payment itself ([`CodeAbout::Subject`] in the
/// API description, `spec/api`, key `about`), as opposed to only about the request (a gateway
/// refusal, a token or system error, an unknown code). On a pay retry after an attempt without
/// a verified answer, only an `F` about the payment proves the payment was not made: any other
/// `F` leaves it unknown (a failure would allow a new id: a double charge).
///
/// ```
/// use alipayplus_client::tracker::speaks_about_payment;
/// assert!(speaks_about_payment("USER_BALANCE_NOT_ENOUGH"));
/// assert!(!speaks_about_payment("INVALID_ACCESS_TOKEN"));
/// assert!(!speaks_about_payment("SYSTEM_ERROR"));
/// assert!(!speaks_about_payment("NEVER_DOCUMENTED"));
/// ```
pub fn speaks_about_payment(code: &str) -> bool {
    PayResultCode::from(code).about() == CodeAbout::Subject
}

/// Where to send the shopper after pay (cashier §4: `normalUrl`, else `paymentUrl`; or the
/// `paymentData` handed to the Alipay+ client SDK).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ShopperRedirect {
    /// A URL to open (wallet page, app link or QR code content).
    Url(String),
    /// Opaque data for the Alipay+ client SDK.
    ClientSdkData(String),
}

/// The status of an answer, as the tracker needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Report {
    /// `resultStatus` `S`.
    Success,
    /// `resultStatus` `F` with its `resultCode`.
    Failure(String),
    /// `resultStatus` `U` with its `resultCode`, or `None` when no verified response was
    /// obtained (transport failure, bad signature, unparsable body): all count as unknown.
    Unknown(Option<String>),
}

impl Report {
    /// `F` with `code`.
    pub fn failure(code: impl Into<String>) -> Self {
        Report::Failure(code.into())
    }

    /// `U` with `code`.
    pub fn unknown(code: impl Into<String>) -> Self {
        Report::Unknown(Some(code.into()))
    }
}

/// What an inquiryPayment call told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum InquiryReport {
    /// The inquiry succeeded (`result` `S`); this is its `paymentResult`.
    Payment(Report),
    /// `result` `F` / `ORDER_NOT_EXIST`: Alipay+ has no such payment.
    OrderNotFound,
    /// The inquiry itself failed or its outcome is unknown (any other `result`, or no
    /// verified response). Says nothing about the payment.
    NoAnswer,
}

/// What a cancelPayment call told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum CancelReport {
    /// `S`: the payment is cancelled (money is returned if it had been taken).
    Cancelled,
    /// `F` / `ORDER_NOT_EXIST`: Alipay+ has no such payment (yet): the tracker inquires until
    /// no delayed pay can land ([`TrackerPolicy::late_landing_margin`](super::policy::TrackerPolicy::late_landing_margin)), then closes it.
    OrderNotFound,
    /// `F` with another code: not cancelled (e.g. the payment reached a final state first).
    Rejected(String),
    /// `U` or no verified response: retry with the same id.
    NoAnswer,
}

/// Where to send the shopper after pay: `normalUrl`, else `paymentUrl`, else `paymentData`
/// for the Alipay+ client SDK (cashier §4 response-field evidence); `schemeUrl` /
/// `applinkUrl` (Antom fields, kept for forward compatibility) last.
pub fn shopper_redirect(response: &PayResponse) -> Option<ShopperRedirect> {
    let url = [&response.normal_url, &response.payment_url]
        .into_iter()
        .flatten()
        .find(|u| !u.is_empty());
    if let Some(u) = url {
        return Some(ShopperRedirect::Url(u.clone()));
    }
    if let Some(d) = response.payment_data.as_ref().filter(|d| !d.is_empty()) {
        return Some(ShopperRedirect::ClientSdkData(d.clone()));
    }
    [&response.applink_url, &response.scheme_url]
        .into_iter()
        .flatten()
        .find(|u| !u.is_empty())
        .map(|u| ShopperRedirect::Url(u.clone()))
}

/// What a pay outcome tells the tracker: its status and redirect.
pub fn pay_report(outcome: &Outcome<PayResponse>) -> (Report, Option<ShopperRedirect>) {
    match outcome {
        Outcome::Success(_) => (Report::Success, None),
        Outcome::Failure(reply) => (Report::Failure(reply.body.result.code_str().into()), None),
        Outcome::Unknown(reply) => (
            Report::Unknown(Some(reply.body.result.code_str().into())),
            shopper_redirect(&reply.body),
        ),
        Outcome::NoVerifiedResponse(_) => (Report::Unknown(None), None),
    }
}

/// What an inquiry outcome tells the tracker (cashier §6 result table). The inquiry's own
/// `result` is not the payment's: only `paymentResult` of an `S` inquiry is.
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

/// What a cancel outcome tells the tracker.
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

/// What a notification tells the tracker: its `paymentResult`.
pub fn notification_report(notification: &NotifyPaymentRequest) -> Report {
    let result = &notification.payment_result;
    match result.result_status {
        ResultStatus::Success => Report::Success,
        ResultStatus::Failure => Report::Failure(result.code_str().into()),
        _ => Report::Unknown(Some(result.code_str().into())),
    }
}
