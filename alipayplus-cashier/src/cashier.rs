//! Cashier Payment flows: consultPayment and pay (cashier §3, §4).
//!
//! The shopper picks a wallet on the merchant's page (rendered from consultPayment), the
//! acquirer calls pay, Alipay+ answers `U` / `PAYMENT_IN_PROCESS` with where to send the
//! shopper ([`shopper_redirect`]), and the result comes by notifyPayment and inquiryPayment.
//! The [`tracker`](alipayplus_client::tracker) decides the follow-up and the
//! [`driver`](alipayplus_client::driver) performs it.
//!
//! The scenario is expressed only by `paymentFactor` flags (there is no `productCode`):
//! [`cashier_payment_factor`] sets `isCashierPayment=true`, `isInStorePayment=false` and,
//! if given, `presentmentMode`. The mode is left to the caller because the editions
//! disagree (`TILE` vs `TILED`; `UNIFIED` with `paymentMethodType=CONNECT_WALLET` in the
//! official 2025 SDK); omitting it is the tile-edition default.

use alipayplus_client::check_request;
use alipayplus_client::error::RequestError;
pub use alipayplus_client::tracker::shopper_redirect;
use alipayplus_types::{
    ConsultPaymentRequest, PayRequest, PaymentFactor, PresentmentMode, StrBool,
};

/// The `paymentFactor` of a Cashier Payment (cashier §2.12).
pub fn cashier_payment_factor(presentment_mode: Option<PresentmentMode>) -> PaymentFactor {
    PaymentFactor {
        is_in_store_payment: Some(StrBool(false)),
        is_cashier_payment: Some(StrBool(true)),
        presentment_mode,
        ..PaymentFactor::new()
    }
}

/// The consultPayment request to send: `request` with the Cashier flags of `paymentFactor`
/// set where missing (`isCashierPayment=true`, `isInStorePayment=false`). Send it with
/// [`Client::call`](alipayplus_client::client::Client::call); show only options with `enabled` true,
/// in the order returned.
pub fn consult_with_cashier_flags(request: &ConsultPaymentRequest) -> ConsultPaymentRequest {
    let mut request = request.clone();
    set_cashier_flags(&mut request.payment_factor);
    request
}

/// The pay request of a Cashier Payment: `request` with the Cashier flags of `paymentFactor`
/// set where missing, checked against every rule of pay before anything is sent
/// ([`check_request`]): with `isCashierPayment` true the description requires `order.env`
/// (its `terminalType`; `osType` when the terminal is `APP` or `WAP`) and
/// `paymentRedirectUrl` (the rules live with the types, in `alipayplus-types`).
///
/// Send it with [`Client::call`](alipayplus_client::client::Client::call), or follow it to its end
/// with the [`PaymentFollower`](alipayplus_client::driver::PaymentFollower) (same bytes on
/// every retry); both check it again. The usual answer is `U` / `PAYMENT_IN_PROCESS` with a
/// redirect: send the shopper there ([`shopper_redirect`]) and wait for the result. On an
/// unknown outcome, send the **same** request again (same `paymentRequestId` and key fields);
/// after `F`, a new attempt needs a new id.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn checked_pay(request: &PayRequest) -> Result<PayRequest, RequestError> {
    let mut request = request.clone();
    set_cashier_flags(&mut request.payment_factor);
    check_request(&request, |_, _| {})?;
    Ok(request)
}

fn set_cashier_flags(factor: &mut PaymentFactor) {
    factor.is_cashier_payment.get_or_insert(StrBool(true));
    factor.is_in_store_payment.get_or_insert(StrBool(false));
}
