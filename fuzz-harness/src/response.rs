//! Response reading: `ClientConfig::read_response` (alipayplus-client client.rs) for the APIs
//! of the client core and the Auto Debit crate, past the signature with the accept-all
//! verifier (the signature path with a real key is [`crate::sign::signature_verify`]).

use alipayplus_client::client::{Outcome, Reply};
use alipayplus_client::error::ResponseError;
use alipayplus_client::transport::Response;
use alipayplus_types::{
    Api, ApplyTokenRequest, CancelPaymentRequest, CancelTokenRequest, ConsultPaymentRequest,
    HasResult, InquiryPaymentRequest, PayRequest, PrepareRequest, RefundRequest, ResultStatus,
};
use arbitrary::Arbitrary;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::inbound::{CLIENT_ID, Field, VALID_SIGNATURE, VALID_TIME, config, decode, round_trip};
use crate::json::Body;

/// Which API's response is read.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ApiChoice {
    /// pay
    Pay,
    /// inquiryPayment
    InquiryPayment,
    /// cancelPayment
    CancelPayment,
    /// refund
    Refund,
    /// consultPayment
    ConsultPayment,
    /// applyToken
    ApplyToken,
    /// prepare
    Prepare,
    /// cancelToken
    CancelToken,
}

/// The HTTP status.
#[derive(Arbitrary, Debug)]
pub enum Status {
    /// 200
    Ok,
    /// Any status.
    Other(u16),
}

/// A response as a transport returns it.
#[derive(Arbitrary, Debug)]
pub struct ResponseInput {
    /// The API called.
    pub api: ApiChoice,
    /// HTTP status.
    pub status: Status,
    /// `Client-Id` (valid: ours).
    pub client_id: Field,
    /// `Response-Time`.
    pub time: Field,
    /// `Signature`.
    pub signature: Field,
    /// More header fields.
    pub extra_headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

/// Response examples: the spec's, and one per result status.
pub const RESPONSE_EXAMPLES: &[&str] = &[
    include_str!("../data/autodebit-applyToken-response.json"),
    include_str!("../data/cashier-inquiryPayment-response-order-not-exist.json"),
    r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentId":"2025060111","paymentTime":"2025-06-01T12:00:00+08:00","paymentAmount":{"currency":"USD","value":"1000"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentStatus":"SUCCESS","refundId":"R1","refundTime":"2025-06-01T12:00:00+08:00","cancelTime":"2025-06-01T12:00:00+08:00","normalUrl":"https://wallet.example/pay","paymentOptions":[{"paymentMethodType":"CONNECT_WALLET","enabled":true}]}"#,
    r#"{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"in process"}}"#,
    r#"{"result":{"resultCode":"ORDER_IS_CLOSED","resultStatus":"F","resultMessage":"closed"}}"#,
];

/// Reads the response as the answer to `api`; checks the outcome's invariants.
pub fn read_response(data: &[u8]) {
    let Some(input) = decode::<ResponseInput>(data) else {
        return;
    };
    let status = match input.status {
        Status::Ok => 200,
        Status::Other(s) => s,
    };
    let mut response = Response::new(status, input.body.bytes(RESPONSE_EXAMPLES));
    let h = &mut response.headers;
    input.client_id.put(h, "Client-Id", CLIENT_ID);
    input.time.put(h, "Response-Time", VALID_TIME);
    input.signature.put(h, "Signature", VALID_SIGNATURE);
    for (name, value) in &input.extra_headers {
        h.append(name.as_str(), value.as_str());
    }
    match input.api {
        ApiChoice::Pay => check::<PayRequest>(response),
        ApiChoice::InquiryPayment => check::<InquiryPaymentRequest>(response),
        ApiChoice::CancelPayment => check::<CancelPaymentRequest>(response),
        ApiChoice::Refund => check::<RefundRequest>(response),
        ApiChoice::ConsultPayment => check::<ConsultPaymentRequest>(response),
        ApiChoice::ApplyToken => check::<ApplyTokenRequest>(response),
        ApiChoice::Prepare => check::<PrepareRequest>(response),
        ApiChoice::CancelToken => check::<CancelTokenRequest>(response),
    }
}

/// Longest parse message kept (client.rs cuts serde_json's at 256 characters and adds where).
const MAX_PARSE_MESSAGE_CHARS: usize = 256 + 64;

/// The outcome's invariants: only a 200 with our Client-Id can be verified; a verified answer
/// keeps the bytes received; the variant follows `resultStatus`, and an unknown status is
/// never a failure; the parsed body survives a serialize and parse.
fn check<A: Api>(response: Response)
where
    A::Response: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug,
{
    let sent = response.clone();
    let outcome = config(Default::default()).read_response::<A>("/aps/api/v1/fuzz", Ok(sent));
    let check_reply =
        |reply: &Reply<A::Response>, variant: &str, fits: fn(&ResultStatus) -> bool| {
            assert_eq!(
                reply.response, response,
                "the reply is not the response received"
            );
            assert_eq!(response.status, 200);
            assert_eq!(response.headers.get("Client-Id"), Some(CLIENT_ID));
            let status = &reply.body.result().result_status;
            assert!(fits(status), "resultStatus {status:?} read as {variant}");
            round_trip(&reply.body);
        };
    match &outcome {
        Outcome::Success(reply) => {
            check_reply(reply, "S", |s| *s == ResultStatus::Success);
        }
        Outcome::Failure(reply) => {
            check_reply(reply, "F", |s| *s == ResultStatus::Failure);
        }
        Outcome::Unknown(reply) => check_reply(reply, "U", |s| {
            matches!(s, ResultStatus::Unknown | ResultStatus::Unrecognized(_))
        }),
        Outcome::NoVerifiedResponse(error) => match error {
            ResponseError::HttpStatus { response: r } => {
                assert_ne!(r.status, 200);
                assert_eq!(r, &response);
            }
            ResponseError::Signature { response: r, .. }
            | ResponseError::ClientIdMismatch { response: r }
            | ResponseError::Stale { response: r, .. } => {
                assert_eq!(response.status, 200);
                assert_eq!(r, &response);
            }
            ResponseError::Parse {
                error, response: r, ..
            } => {
                assert_eq!(response.status, 200);
                assert_eq!(r, &response);
                assert!(
                    error.chars().count() <= MAX_PARSE_MESSAGE_CHARS,
                    "parse message of {} characters",
                    error.chars().count()
                );
            }
            other => panic!("a response read gave {other:?}"),
        },
        _ => panic!("unexpected outcome {outcome:?}"),
    }
}
