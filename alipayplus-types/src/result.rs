//! The `Result` object of every response: [`ResultStatus`], [`ApiResult`], [`Action`].

use alloc::string::{String, ToString};
use core::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// `resultStatus`: `S` success, `F` failure, `U` unknown / in progress. Never fails to parse:
/// another value is kept as [`ResultStatus::Unrecognized`] (treat it like `U`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResultStatus {
    /// `S`: processed successfully.
    Success,
    /// `F`: definite failure; act on the result code.
    Failure,
    /// `U`: outcome unknown (timeout, system error, still processing). Not a failure: retry with
    /// the same idempotency id, or inquire.
    Unknown,
    /// Any other value, kept as received.
    Unrecognized(String),
}

impl ResultStatus {
    /// The wire value (`"S"`, `"F"`, `"U"` or the value received).
    pub fn as_str(&self) -> &str {
        match self {
            ResultStatus::Success => "S",
            ResultStatus::Failure => "F",
            ResultStatus::Unknown => "U",
            ResultStatus::Unrecognized(s) => s,
        }
    }

    /// `S`.
    pub fn is_success(&self) -> bool {
        *self == ResultStatus::Success
    }

    /// `F`.
    pub fn is_failure(&self) -> bool {
        *self == ResultStatus::Failure
    }

    /// `U` or an unrecognised value: the outcome is not known.
    pub fn is_unknown(&self) -> bool {
        matches!(self, ResultStatus::Unknown | ResultStatus::Unrecognized(_))
    }
}

impl From<&str> for ResultStatus {
    fn from(s: &str) -> Self {
        match s {
            "S" => ResultStatus::Success,
            "F" => ResultStatus::Failure,
            "U" => ResultStatus::Unknown,
            other => ResultStatus::Unrecognized(other.to_string()),
        }
    }
}

impl fmt::Display for ResultStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResultStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ResultStatus;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a result status string (\"S\", \"F\" or \"U\")")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ResultStatus, E> {
                Ok(ResultStatus::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// What the caller should do about a result (from the description's result-code tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Success: continue the flow.
    Proceed,
    /// Outcome pending (e.g. the user is still paying): wait for the notification or poll the
    /// inquiry API; do not create it again.
    InquireLater,
    /// Outcome unknown: retry with the same idempotency id, or inquire.
    RetrySameRequest,
    /// Caller bug (bad or inconsistent field): fix the request; a new attempt needs a new id.
    FixRequestThenNewId,
    /// Definite business failure (balance, risk, limits): tell the user; a new attempt needs a new id.
    ReportFailure,
    /// Keys, client id, endpoint, contract or account setup is wrong.
    FixConfiguration,
    /// The access token is invalid or expired: refresh it with applyToken or bind again.
    RenewAuthorization,
    /// The merchant is not registered: call registration, then retry with a new id.
    RegisterMerchant,
    /// Needs human investigation with Alipay+.
    ContactSupport,
}

impl Action {
    /// The generic action for a status when the code is not documented:
    /// `S` → proceed, `F` → report failure, `U` (or unrecognised) → retry with the same id.
    pub fn from_status(status: &ResultStatus) -> Action {
        match status {
            ResultStatus::Success => Action::Proceed,
            ResultStatus::Failure => Action::ReportFailure,
            ResultStatus::Unknown | ResultStatus::Unrecognized(_) => Action::RetrySameRequest,
        }
    }

    /// One-sentence advice.
    pub fn doc(self) -> &'static str {
        match self {
            Action::Proceed => "Success: continue the flow.",
            Action::InquireLater => {
                "Outcome pending: wait for the notification or poll the inquiry API; do not create it again."
            }
            Action::RetrySameRequest => {
                "Outcome unknown: retry with the same idempotency id, or inquire."
            }
            Action::FixRequestThenNewId => {
                "The request is wrong: fix it; a new attempt needs a new request id."
            }
            Action::ReportFailure => {
                "Definite failure: tell the user; a new attempt needs a new request id."
            }
            Action::FixConfiguration => {
                "Configuration is wrong (keys, client id, endpoint, contract): fix it before retrying."
            }
            Action::RenewAuthorization => {
                "The access token is invalid or expired: refresh it with applyToken or bind again."
            }
            Action::RegisterMerchant => {
                "The merchant is not registered: register it, then retry with a new request id."
            }
            Action::ContactSupport => "Needs human investigation with Alipay+.",
        }
    }
}

/// A result-code enum (generated per API). Unknown codes are kept, never a parse error.
pub trait ResultCode:
    Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + for<'a> From<&'a str>
{
    /// The wire value, e.g. `"PAYMENT_IN_PROCESS"`.
    fn as_str(&self) -> &str;
    /// Whether the description documents this code.
    fn is_known(&self) -> bool;
    /// The `resultStatus` the description gives for this code (`None` if undocumented).
    fn documented_status(&self) -> Option<ResultStatus>;
    /// The recommended action for this code (`None` if undocumented).
    fn action(&self) -> Option<Action>;
    /// Specific advice for this code (the action's generic text if none, empty if undocumented).
    fn action_doc(&self) -> &'static str;
    /// What the code means (empty if undocumented).
    fn meaning(&self) -> &'static str;
    /// What the code speaks about: the subject the request names (the payment of a pay,
    /// inquiry or cancel; the grant of an applyToken) or only this request (gateway, signature,
    /// validation, access token). `Request` for unknown codes and for codes the description
    /// does not mark: such an `F` proves nothing about the subject. (The default, also
    /// `Request`, only serves code sets not generated from the description.)
    fn about(&self) -> CodeAbout {
        CodeAbout::Request
    }
}

/// What a result code speaks about (the `about` key of the API description).
///
/// Matters when an earlier attempt of the same request got no verified answer: only a code
/// about the [subject](CodeAbout::Subject) tells what happened to it (e.g. a pay retry
/// answered `USER_BALANCE_NOT_ENOUGH`: the payment failed); a code about the
/// [request](CodeAbout::Request) (`INVALID_SIGNATURE`, `SYSTEM_ERROR`, `PARAM_ILLEGAL`, an
/// access-token error) only says this request was refused, and the earlier attempt may still
/// have succeeded.
///
/// ```
/// # #[cfg(feature = "cashier")] {
/// use alipayplus_types::{CodeAbout, PayResultCode, ResultCode};
/// assert_eq!(PayResultCode::from("RISK_REJECT").about(), CodeAbout::Subject);
/// assert_eq!(PayResultCode::from("SYSTEM_ERROR").about(), CodeAbout::Request);
/// assert_eq!(PayResultCode::from("NEVER_SEEN").about(), CodeAbout::Request);
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeAbout {
    /// The code states the outcome of the subject the request names (the payment, the grant).
    Subject,
    /// The code says only that this request was refused; nothing about the subject.
    Request,
}

/// The `result` object: `{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}`.
///
/// `C` is the API's result-code enum; [`ApiResult::action`] tells what to do.
///
/// ```
/// # #[cfg(feature = "cashier")] {
/// use alipayplus_types::{Action, ApiResult, PayResultCode, ResultCode};
/// let r: ApiResult<PayResultCode> = serde_json::from_str(
///     r#"{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"in process"}"#,
/// ).unwrap();
/// assert_eq!(r.result_code, PayResultCode::PaymentInProcess);
/// assert_eq!(r.action(), Action::InquireLater);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "C: ResultCode"), from = "WireResult<C>")]
pub struct ApiResult<C> {
    /// `resultCode` (64 characters at most).
    #[serde(rename = "resultCode")]
    pub result_code: C,
    /// `resultStatus`.
    #[serde(rename = "resultStatus")]
    pub result_status: ResultStatus,
    /// `resultMessage`: free text, never branch on it. Also read from `resultMsg`, the spelling
    /// of the customs inquiry sample (customs.md: accept both); always sent as `resultMessage`.
    #[serde(rename = "resultMessage", skip_serializing_if = "Option::is_none")]
    pub result_message: Option<String>,
}

/// The `result` object as received: both message spellings are separate keys, so a body that
/// carries both parses (a serde alias would reject it as a duplicate field).
#[derive(Deserialize)]
#[serde(bound(deserialize = "C: ResultCode"))]
struct WireResult<C> {
    #[serde(rename = "resultCode")]
    result_code: C,
    #[serde(rename = "resultStatus")]
    result_status: ResultStatus,
    #[serde(rename = "resultMessage", default)]
    result_message: Option<String>,
    #[serde(rename = "resultMsg", default)]
    result_msg: Option<String>,
}

impl<C> From<WireResult<C>> for ApiResult<C> {
    fn from(w: WireResult<C>) -> Self {
        ApiResult {
            result_code: w.result_code,
            result_status: w.result_status,
            // `resultMessage` is the documented name; `resultMsg` only fills in for it.
            result_message: w.result_message.or(w.result_msg),
        }
    }
}

impl<C: ResultCode> ApiResult<C> {
    /// A result from its parts.
    pub fn new(
        result_code: C,
        result_status: ResultStatus,
        result_message: Option<String>,
    ) -> Self {
        ApiResult {
            result_code,
            result_status,
            result_message,
        }
    }

    /// The acknowledgement the ACQP answers inbound calls with:
    /// `{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}`.
    pub fn success() -> Self {
        ApiResult::new(
            C::from("SUCCESS"),
            ResultStatus::Success,
            Some("success".to_string()),
        )
    }

    /// The raw `resultCode` string, whether or not the code is known.
    pub fn code_str(&self) -> &str {
        self.result_code.as_str()
    }

    /// What to do: the code's documented action when the code is known and the received status
    /// matches the documented one; otherwise the generic action for the received status (the
    /// status is authoritative).
    pub fn action(&self) -> Action {
        match (
            self.result_code.documented_status(),
            self.result_code.action(),
        ) {
            (Some(status), Some(action)) if status == self.result_status => action,
            (None, Some(action)) => action,
            _ => Action::from_status(&self.result_status),
        }
    }
}

/// Only the `result` object of a response, other fields ignored.
///
/// Lets a client still read the outcome (status and code) of a response whose other fields do
/// not parse, e.g. to decide between retrying and failing.
///
/// ```
/// # #[cfg(feature = "cashier")] {
/// use alipayplus_types::{HasResult, PayResultCode, ResultEnvelope, ResultStatus};
/// let body = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentTime":"not a time"}"#;
/// let env: ResultEnvelope<PayResultCode> = serde_json::from_str(body).unwrap();
/// assert_eq!(env.result().result_status, ResultStatus::Success);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "C: ResultCode"))]
pub struct ResultEnvelope<C> {
    /// The `result` object.
    pub result: ApiResult<C>,
}

impl<C: ResultCode> crate::HasResult for ResultEnvelope<C> {
    type Code = C;
    fn result(&self) -> &ApiResult<C> {
        &self.result
    }
}
