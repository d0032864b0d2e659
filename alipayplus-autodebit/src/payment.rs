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
//!   it notifyPayment); [`agreement_follower`] puts it in the client core's driver, and
//!   [`follow_agreement_payment`] runs that with a client (its config's clock) and a sleep
//!   function (blocking); [`follow_agreement_payment_async`] does the same over an async
//!   transport with a sleep function returning a future (any executor). Both stop at
//!   [`FOLLOW_LIMIT`].
//! * A failure with a token code (`INVALID_TOKEN`, `INVALID_ACCESS_TOKEN`,
//!   `EXPIRED_ACCESS_TOKEN`) or `USER_NOT_EXIST`: report it to the
//!   [`TokenLifecycle`](crate::TokenLifecycle) ([`on_payment_failure`](crate::TokenLifecycle::on_payment_failure)),
//!   which then says refresh or bind again. A new attempt needs a **new** `paymentRequestId`.
//!
//! Refunds, inquiries and cancels use the shared payment APIs of the
//! [`Client`].

use alloc::string::String;
use core::future::Future;
use core::time::Duration;

use alipayplus_client::check_request;
use alipayplus_client::client::Client;
use alipayplus_client::driver::{Followed, Limit, PaymentFollower, Wake};
use alipayplus_client::error::RequestError;
use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::Transport;
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_types::validate::{Path, Problem};
use alipayplus_types::{Amount, Order, PayRequest, PaymentFactor, PaymentMethod, Secret, StrBool};

/// `paymentMethod.paymentMethodType` of agreement payments. UNCERTAIN (spec §8: no Auto Debit
/// value in any public source; the spec's example uses `CONNECT_WALLET`). Part of the pay
/// idempotency check, so keep it stable across retries.
pub const AGREEMENT_PAYMENT_METHOD_TYPE: &str = "CONNECT_WALLET";

/// How long the result of an agreement payment is inquired before it is cancelled (common
/// §3.4: every 3 s for up to 60 s).
pub const RESULT_WINDOW: Duration = Duration::from_secs(60);

/// The longest [`follow_agreement_payment`] blocks: long enough for the 60 s window, the
/// cancel and the wait for a late pay after `ORDER_NOT_EXIST`, short enough that an outage
/// does not block a caller for a day. Past it the payment is returned unresolved
/// ([`Followed::keep_following`]) with its state to store and resume.
pub const FOLLOW_LIMIT: Duration = Duration::from_secs(10 * 60);

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

/// The pay request of an agreement payment: `request` with the agreement flags set where
/// missing, refused before sending when it is a Cashier Payment or has no access token. Send
/// it with [`Client::call`](alipayplus_client::client::Client::call), or follow it to its end with
/// [`follow_agreement_payment`] / [`agreement_follower`].
///
/// `S` = paid; `F` = failed (a new attempt needs a new id); `U` or no verified response =
/// unknown: follow it with the tracker ([`agreement_tracker`]), never charge again with a new
/// id.
///
/// # Errors
/// [`RequestError::Invalid`]: nothing may be sent.
pub fn checked_agreement_pay(request: &PayRequest) -> Result<PayRequest, RequestError> {
    with_agreement_flags(request)
}

fn with_agreement_flags(request: &PayRequest) -> Result<PayRequest, RequestError> {
    let mut request = request.clone();
    let factor = &mut request.payment_factor;
    factor.is_agreement_payment.get_or_insert(StrBool(true));
    factor.is_cashier_payment.get_or_insert(StrBool(false));
    factor.is_in_store_payment.get_or_insert(StrBool(false));
    // The rules of an agreement pay (its access token, not a Cashier Payment) live with the
    // types; here only that the caller did not turn the agreement flag off.
    check_request(&request, |r, errors| {
        if r.payment_factor.is_agreement_payment != Some(StrBool(true)) {
            let path = Path::ROOT.field("paymentFactor");
            let condition = "must be true for an agreement (Auto Debit) payment";
            errors.push(
                &path.field("isAgreementPayment"),
                Problem::Missing { condition },
            );
        }
    })?;
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

/// The driver of an agreement payment about to be sent at `now`: [`checked_agreement_pay`] followed by
/// [`agreement_tracker`] (same bytes on every pay retry; see
/// [`PaymentFollower`]). For event-driven servers that also hand it notifyPayment.
///
/// # Errors
/// [`RequestError::Invalid`]: nothing may be sent.
pub fn agreement_follower(
    request: &PayRequest,
    now: Timestamp,
) -> Result<PaymentFollower, RequestError> {
    let request = with_agreement_flags(request)?;
    let tracker = agreement_tracker(&request, now);
    PaymentFollower::new(request, tracker)
}

/// Sends an agreement pay and follows it to a final state, blocking: retries pay with the same
/// bytes, inquires every 3 s, cancels after 60 s (see the module docs), through the client
/// core's [`PaymentFollower`] ([`PaymentFollower::run`]). The time is the client config's
/// clock; `sleep` is called with how long to wait (e.g. `std::thread::sleep`; its output may
/// also be a verified notifyPayment that arrived meanwhile, see [`Wake`]).
///
/// Blocks for [`FOLLOW_LIMIT`] at most: then [`Followed::final_state`] is `None`
/// ([`Followed::keep_following`]: unresolved, keep following). The payment may exist: never
/// charge again; store [`Followed::state`] and resume with [`PaymentFollower::resume`] (or
/// let reconciliation settle it).
///
/// # Errors
/// [`RequestError`] when the first pay could not be sent (an invalid request, or the signer
/// failed): nothing reached Alipay+. Once a pay was sent, the payment may exist, so a later
/// request that cannot be sent is never an error: it counts as "no answer" and the payment is
/// followed on (same id, inquiry, cancel) to a final state.
pub fn follow_agreement_payment<T: Transport, W: Into<Wake>>(
    client: &Client<T>,
    request: &PayRequest,
    mut sleep: impl FnMut(Duration) -> W,
) -> Result<Followed, RequestError> {
    let start = client.config().now();
    let mut follower = agreement_follower(request, start)?;
    let limit = Limit::until(start + FOLLOW_LIMIT);
    loop {
        let followed = follower.run(client, limit, &mut sleep)?;
        // Agreement payments have no shopper to redirect: a redirect is not waited on.
        if followed.redirect.is_none() {
            return Ok(followed);
        }
    }
}

/// [`follow_agreement_payment`] over an async transport, on any executor: the same follower
/// ([`agreement_follower`]) run by the client core's async loop
/// ([`PaymentFollower::run_async`]), bounded the same way ([`FOLLOW_LIMIT`]). `sleep` returns
/// a future that resolves after the duration it is given (with tokio: `tokio::time::sleep`);
/// its output may also be a verified notifyPayment that arrived first ([`Wake`]).
///
/// ```
/// # async fn charge(
/// #     client: &alipayplus_autodebit::Client<impl alipayplus_client::transport_async::AsyncTransport + Sync>,
/// #     request: &alipayplus_types::PayRequest,
/// #     sleep: impl FnMut(core::time::Duration) -> core::future::Ready<()>,
/// # ) -> Result<(), alipayplus_client::error::RequestError> {
/// use alipayplus_autodebit::follow_agreement_payment_async;
/// use alipayplus_client::tracker::Final;
///
/// let followed = follow_agreement_payment_async(client, request, sleep).await?;
/// match followed.final_state {
///     Some(Final::Succeeded) => { /* charged */ }
///     Some(Final::Failed { code }) => { /* not charged; a token code: refresh or bind again */ }
///     Some(_) => { /* cancelled or unresolved: never charge again with a new id before reconciling */ }
///     None => { /* FOLLOW_LIMIT reached: store followed.state, keep following */ }
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`follow_agreement_payment`].
pub async fn follow_agreement_payment_async<T, S, W>(
    client: &Client<T>,
    request: &PayRequest,
    mut sleep: impl FnMut(Duration) -> S,
) -> Result<Followed, RequestError>
where
    T: AsyncTransport,
    S: Future<Output = W>,
    W: Into<Wake>,
{
    let start = client.config().now();
    let mut follower = agreement_follower(request, start)?;
    let limit = Limit::until(start + FOLLOW_LIMIT);
    loop {
        let followed = follower.run_async(client, limit, &mut sleep).await?;
        // Agreement payments have no shopper to redirect: a redirect is not waited on.
        if followed.redirect.is_none() {
            return Ok(followed);
        }
    }
}
