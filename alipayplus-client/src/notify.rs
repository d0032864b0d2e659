//! notifyPayment: Alipay+ tells the final result of a payment (cashier §5, common §3.5).
//!
//! [`handle_notify_payment`] takes the raw inbound request, verifies it, parses it and
//! returns the typed [`NotifyPaymentRequest`] with the signed acknowledgement to send back;
//! a bad request gets a refusal, signed when its signature verified (see
//! [`inbound`](crate::inbound) for what each case answers and why). It has the shape of every
//! inbound handler: `fn(&ClientConfig, &Request) -> Handled<T, A>`.
//!
//! The acknowledgement only means "received". Before acting on an `S`:
//! store the notification (Alipay+ re-sends it until acknowledged, so handling must be
//! idempotent on `paymentRequestId`; the [`tracker`](crate::tracker) is), and check
//! `paymentRequestId` and `paymentAmount` against the order with [`check_notification`].
//! Send the acknowledgement after storing.

use alipayplus_types::{Amount, NotifyPaymentRequest, ResultStatus};

use crate::config::ClientConfig;
use crate::error::NotificationMismatch;
use crate::inbound::{Accepted, Handled};
use crate::transport::Request;

#[cfg(doc)]
use crate::inbound::Refused;

/// A verified notification and its signed acknowledgement.
pub type Notification = Accepted<NotifyPaymentRequest>;

/// Verifies and parses a notifyPayment request received at any URL.
///
/// # Errors
/// [`Refused`] with the refusal to send back (unsigned for an unverified caller).
pub fn handle_notify_payment(
    config: &ClientConfig,
    request: &Request,
) -> Handled<NotifyPaymentRequest> {
    config.accept_inbound::<NotifyPaymentRequest>(request)
}

/// Checks a notification against our record of the payment (spec: for `S`, compare
/// `paymentRequestId` and `paymentAmount`). A failure notification is only checked for the id.
///
/// # Errors
/// [`NotificationMismatch`]: do not fulfil; investigate.
pub fn check_notification(
    notification: &NotifyPaymentRequest,
    payment_request_id: &str,
    amount: &Amount,
) -> Result<(), NotificationMismatch> {
    if notification.payment_request_id != payment_request_id {
        return Err(NotificationMismatch::PaymentRequestId {
            expected: payment_request_id.into(),
            found: notification.payment_request_id.clone(),
        });
    }
    if notification.payment_result.result_status == ResultStatus::Success
        && notification.payment_amount.as_ref() != Some(amount)
    {
        return Err(NotificationMismatch::Amount {
            expected: *amount,
            found: notification.payment_amount,
        });
    }
    Ok(())
}
