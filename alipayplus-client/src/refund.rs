//! refund: full or partial refund of a successful payment (cashier §8), for both products.
//!
//! Several refunds may be made while their total stays within the paid amount, for up to a
//! year. The idempotency key is `refundRequestId`: on an unknown outcome (`U`, or no
//! verified response) send the **same** request again (same `refundRequestId` and amount); a
//! new `refundRequestId` would be a second refund. There is no refund inquiry or notification
//! for ACQPs (cashier §1), so retrying is the only way to learn the result.
//!
//! [`RefundFollower`] does that retrying: the same-bytes follow-up machine
//! ([`Resender`]) over a refund. Its `poll` records each send before
//! it is returned, it re-sends the stored body unchanged under the same `refundRequestId`
//! until `S`, a verified `F`, or the run's [`Limit`](crate::follow::Limit) (then it is
//! unresolved: store [`Followed::state`](crate::resend::Followed::state) and follow on later).
//! [`Final::proves_not_applied`](crate::resend::Final::proves_not_applied) tells whether a
//! refused refund may be made again under a new `refundRequestId`.
//!
//! ```
//! use core::time::Duration;
//! use alipayplus_client::follow::Limit;
//! use alipayplus_client::inquiry::PaymentRef;
//! use alipayplus_client::refund::{RefundFollower, refund_request};
//! use alipayplus_client::resend::{Action, ResendPolicy};
//! use alipayplus_types::{Amount, Currency, Timestamp};
//! # use alipayplus_client::client::Client;
//! # use alipayplus_client::transport::Transport;
//! # fn store(_: &[u8]) {}
//! # fn demo(client: &Client<impl Transport>) -> Result<(), alipayplus_client::error::RequestError> {
//! let request = refund_request(
//!     &PaymentRef::RequestId("order-42".into()),
//!     "refund-1",
//!     Amount::new(Currency::SGD, 300),
//! );
//! let now = client.config().now();
//! let mut refund = RefundFollower::new(&request, now, ResendPolicy::default())?;
//! // The bounded loop (or poll yourself: `Action::Send` is recorded before it is returned).
//! let followed = refund.run(client, Limit::until(now + Duration::from_secs(600)), std::thread::sleep)?;
//! if followed.keep_following() {
//!     store(&followed.state.to_bytes()); // resume later: RefundFollower::from_bytes
//! } else if followed.succeeded() {
//!     println!("refunded: {:?}", followed.response.and_then(|r| r.refund_id));
//! }
//! # let _ = Action::<alipayplus_types::RefundRequest>::WaitUntil(now);
//! # Ok(()) }
//! ```

use alipayplus_types::{Amount, RefundRequest};

use crate::payment_ref::PaymentRef;
use crate::resend::Resender;

/// The refund follow-up: re-sends the exact refund body under its `refundRequestId` until a
/// verified answer (see the [module docs](self) and [`Resender`]).
pub type RefundFollower = Resender<RefundRequest>;

/// The refund request of `amount` of `payment` under the idempotency key
/// `refund_request_id`; set `refundReason` on it if needed and send it with
/// [`Client::call`](crate::client::Client::call).
///
/// ```
/// use alipayplus_client::PaymentRef;
/// use alipayplus_client::refund::refund_request;
/// use alipayplus_types::{Amount, Currency};
/// let amount = Amount::new(Currency::SGD, 300);
/// let request = refund_request(&PaymentRef::RequestId("order-42".into()), "refund-1", amount);
/// assert_eq!(request.refund_request_id, "refund-1");
/// ```
pub fn refund_request(
    payment: &PaymentRef,
    refund_request_id: &str,
    amount: Amount,
) -> RefundRequest {
    let (payment_request_id, payment_id) = payment.ids();
    RefundRequest {
        payment_request_id,
        payment_id,
        ..RefundRequest::new(refund_request_id.into(), amount)
    }
}
