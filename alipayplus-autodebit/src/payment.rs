//! Agreement payments (spec `autodebit.md` §8, §9; common §3.4): charge with the access token
//! as the payment method, then follow the result with the published Auto Debit cadence.
//!
//! * [`agreement_pay_request`] builds the pay request: `paymentMethod.paymentMethodId` = the
//!   access token, `paymentMethodType` = [`AGREEMENT_PAYMENT_METHOD_TYPE`], and
//!   [`agreement_payment_factor`] (`isAgreementPayment=true`, `isCashierPayment=false`,
//!   `isInStorePayment=false`). The type value and the flag values are UNCERTAIN in the spec;
//!   they are the reading of the spec's example, kept in these two places to be easy to change.
//! * Follow-up: the cashier crate's [`PaymentTracker`] with
//!   [`TrackerPolicy::auto_debit`]: pay answered `U` (or nothing) → pay is re-sent with the
//!   **same** `paymentRequestId`, then inquiryPayment every 3 s; still unknown 60 s after the
//!   start → cancelPayment; a payment counts as failed only once the cancel is confirmed.
//!   [`agreement_tracker`] makes that tracker (sans-IO, for event-driven servers that also feed
//!   it notifyPayment); [`follow_agreement_payment`] drives it with a client, a clock and a
//!   sleep function (blocking).
//! * A failure with a token code (`INVALID_TOKEN`, `INVALID_ACCESS_TOKEN`,
//!   `EXPIRED_ACCESS_TOKEN`) or `USER_NOT_EXIST`: report it to the
//!   [`TokenLifecycle`](crate::TokenLifecycle) ([`on_payment_failure`](crate::TokenLifecycle::on_payment_failure)),
//!   which then says refresh or bind again. A new attempt needs a **new** `paymentRequestId`.
//!
//! Refunds, inquiries and cancels use the shared payment APIs of the
//! [`Client`].

use alloc::string::String;
use core::time::Duration;

use alipayplus_cashier::cancel::cancel_report;
use alipayplus_cashier::client::{Client, Outcome, RequestError};
use alipayplus_cashier::inquiry::PaymentRef;
use alipayplus_cashier::inquiry::inquiry_report;
use alipayplus_cashier::time::{Clock, Timestamp};
use alipayplus_cashier::tracker::{
    Action, CancelReport, Final, InquiryReport, PaymentTracker, Report, TrackerPolicy,
};
use alipayplus_cashier::transport::Transport;
use alipayplus_types::validate::{Path, Problem, ValidationErrors};
use alipayplus_types::{
    Amount, Order, PayRequest, PayResponse, PaymentFactor, PaymentMethod, Secret, StrBool,
};

/// `paymentMethod.paymentMethodType` of agreement payments. UNCERTAIN (spec §8: no Auto Debit
/// value in any public source; the spec's example uses `CONNECT_WALLET`). Part of the pay
/// idempotency check, so keep it stable across retries.
pub const AGREEMENT_PAYMENT_METHOD_TYPE: &str = "CONNECT_WALLET";

/// How long the result of an agreement payment is inquired before it is cancelled (common
/// §3.4: every 3 s for up to 60 s).
pub const RESULT_WINDOW: Duration = Duration::from_secs(60);

/// The `paymentFactor` of an agreement payment: `isInStorePayment=false`,
/// `isCashierPayment=false`, `isAgreementPayment=true` (values UNCERTAIN, spec §8).
pub fn agreement_payment_factor() -> PaymentFactor {
    PaymentFactor {
        is_in_store_payment: Some(StrBool(false)),
        is_cashier_payment: Some(StrBool(false)),
        is_agreement_payment: Some(StrBool(true)),
        ..PaymentFactor::new()
    }
}

/// A pay request charging `amount` with `access_token` (see the module docs). Set
/// `paymentNotifyUrl`, `settlementStrategy` and the order's details as needed.
pub fn agreement_pay_request(
    payment_request_id: impl Into<String>,
    order: Order,
    amount: Amount,
    access_token: &Secret,
) -> PayRequest {
    let method = PaymentMethod {
        payment_method_id: Some(access_token.clone()),
        ..PaymentMethod::new(AGREEMENT_PAYMENT_METHOD_TYPE.into())
    };
    PayRequest::new(
        payment_request_id.into(),
        order,
        amount,
        method,
        agreement_payment_factor(),
    )
}

/// Sends an agreement pay. Missing agreement flags are set; a request that is a Cashier
/// Payment or has no access token is refused before sending.
///
/// `S` = paid; `F` = failed (a new attempt needs a new id); `U` or no verified response =
/// unknown: follow it with the tracker ([`agreement_tracker`]), never charge again with a new
/// id.
///
/// # Errors
/// [`RequestError`] when the request is not sent.
pub fn pay_agreement<T: Transport>(
    client: &Client<T>,
    request: &PayRequest,
) -> Result<Outcome<PayResponse>, RequestError> {
    let request = with_agreement_flags(request)?;
    client.call(&request)
}

fn with_agreement_flags(request: &PayRequest) -> Result<PayRequest, RequestError> {
    let mut request = request.clone();
    let factor = &mut request.payment_factor;
    factor.is_agreement_payment.get_or_insert(StrBool(true));
    factor.is_cashier_payment.get_or_insert(StrBool(false));
    factor.is_in_store_payment.get_or_insert(StrBool(false));
    let mut errors = ValidationErrors::new();
    let path = Path::ROOT.field("paymentFactor");
    if factor.is_agreement_payment != Some(StrBool(true)) {
        errors.push(
            &path.field("isAgreementPayment"),
            Problem::Missing {
                condition: "must be true for an agreement (Auto Debit) payment",
            },
        );
    }
    if factor.is_cashier_payment == Some(StrBool(true)) {
        errors.push(
            &path.field("isCashierPayment"),
            Problem::Missing {
                condition: "must be false for an agreement (Auto Debit) payment",
            },
        );
    }
    let token = request.payment_method.payment_method_id.as_ref();
    if token.is_none_or(|t| t.expose().is_empty()) {
        errors.push(
            &Path::ROOT.field("paymentMethod").field("paymentMethodId"),
            Problem::Missing {
                condition: "always for an agreement payment: the access token",
            },
        );
    }
    errors
        .into_result()
        .map_err(|errors| RequestError::Invalid { api: "pay", errors })?;
    Ok(request)
}

/// The tracker of an agreement payment sent at `now`: [`TrackerPolicy::auto_debit`] with a
/// window of [`RESULT_WINDOW`] (or up to the request's earlier `paymentExpiryTime`).
pub fn agreement_tracker(request: &PayRequest, now: Timestamp) -> PaymentTracker {
    let mut window_end = now + RESULT_WINDOW;
    if let Some(expiry) = &request.payment_expiry_time {
        window_end = window_end.min(Timestamp::from(expiry).max(now));
    }
    PaymentTracker::new(
        request.payment_request_id.clone(),
        now,
        window_end,
        TrackerPolicy::auto_debit(),
    )
}

/// How an agreement payment ended ([`follow_agreement_payment`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgreementPayment {
    /// The final state (paid, failed with a code, cancelled, or unresolved).
    pub final_state: Final,
    /// The `paymentRequestId` used by every pay, inquiry and cancel.
    pub payment_request_id: String,
    /// The last verified pay answer (`paymentId`, `paymentTime`, ...), if any.
    pub pay_response: Option<PayResponse>,
    /// How many times pay was sent (always with the same id).
    pub pay_attempts: u32,
    /// How many inquiries were made.
    pub inquiries: u32,
}

impl AgreementPayment {
    /// The failure code, when the payment failed.
    pub fn failure_code(&self) -> Option<&str> {
        match &self.final_state {
            Final::Failed { code } => Some(code),
            _ => None,
        }
    }
}

/// Sends an agreement pay and follows it to a final state, blocking: retries pay with the same
/// `paymentRequestId`, inquires every 3 s, cancels after 60 s (see the module docs). `sleep`
/// is called with how long to wait (e.g. `std::thread::sleep`); `clock` gives the time.
///
/// # Errors
/// [`RequestError`] when the first pay could not be sent (an invalid request, or the signer
/// failed): nothing reached Alipay+. Once a pay was sent, the payment may exist, so a later
/// request that cannot be sent (e.g. a remote signer failing for a while) is never an error:
/// it counts as "no answer" and the payment is followed on (same id, inquiry, cancel) to a
/// final state.
pub fn follow_agreement_payment<T: Transport>(
    client: &Client<T>,
    request: &PayRequest,
    clock: &impl Clock,
    mut sleep: impl FnMut(Duration),
) -> Result<AgreementPayment, RequestError> {
    let request = with_agreement_flags(request)?;
    let id = PaymentRef::RequestId(request.payment_request_id.clone());
    let mut tracker = agreement_tracker(&request, clock.now());
    let mut result = AgreementPayment {
        final_state: Final::Unresolved,
        payment_request_id: request.payment_request_id.clone(),
        pay_response: None,
        pay_attempts: 0,
        inquiries: 0,
    };
    loop {
        let now = clock.now();
        match tracker.next_action(now) {
            Action::Pay => match client.call(&request) {
                Ok(outcome) => {
                    result.pay_attempts += 1;
                    if let Some(body) = outcome.body() {
                        result.pay_response = Some(body.clone());
                    }
                    tracker.on_pay_outcome(clock.now(), &outcome);
                }
                Err(e) if result.pay_attempts == 0 => return Err(e),
                // An earlier pay may have reached Alipay+: still unknown, never "not sent".
                Err(_) => {
                    tracker.on_pay(clock.now(), Report::Unknown(None), None);
                }
            },
            Action::Inquire => {
                let report = match client.inquiry_payment(&id) {
                    Ok(outcome) => {
                        result.inquiries += 1;
                        inquiry_report(&outcome)
                    }
                    Err(_) => InquiryReport::NoAnswer,
                };
                tracker.on_inquiry(clock.now(), report);
            }
            Action::Cancel => {
                let report = match client.cancel_payment(&id) {
                    Ok(outcome) => cancel_report(&outcome),
                    Err(_) => CancelReport::NoAnswer,
                };
                tracker.on_cancel(clock.now(), report);
            }
            Action::WaitUntil(at) => sleep(at.since(now).max(Duration::from_millis(1))),
            Action::Finished(state) => {
                result.final_state = state;
                return Ok(result);
            }
            // Agreement payments have no shopper to redirect; any other action: re-ask.
            _ => {}
        }
    }
}
