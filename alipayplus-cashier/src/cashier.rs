//! Cashier Payment flows: consultPayment and pay (cashier §3, §4).
//!
//! The shopper picks a wallet on the merchant's page (rendered from consultPayment), the
//! acquirer calls pay, Alipay+ answers `U` / `PAYMENT_IN_PROCESS` with where to send the
//! shopper ([`shopper_redirect`]), and the result comes by notifyPayment and inquiryPayment.
//! The [`tracker`](crate::tracker) decides the follow-up and the
//! [`driver`](crate::driver) performs it.
//!
//! The scenario is expressed only by `paymentFactor` flags (there is no `productCode`):
//! [`cashier_payment_factor`] sets `isCashierPayment=true`, `isInStorePayment=false` and,
//! if given, `presentmentMode`. The mode is left to the caller because the editions
//! disagree (`TILE` vs `TILED`; `UNIFIED` with `paymentMethodType=CONNECT_WALLET` in the
//! official 2025 SDK); omitting it is the tile-edition default.

use alipayplus_client::error::RequestError;
pub use alipayplus_client::tracker::shopper_redirect;
use alipayplus_types::validate::{Path, Problem, ValidationErrors};
use alipayplus_types::{
    ConsultPaymentRequest, PayRequest, PaymentFactor, PresentmentMode, StrBool, TerminalType,
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
pub fn consult_request(request: &ConsultPaymentRequest) -> ConsultPaymentRequest {
    let mut request = request.clone();
    set_cashier_flags(&mut request.payment_factor);
    request
}

/// The pay request of a Cashier Payment: `request` with the Cashier flags of `paymentFactor`
/// set where missing, checked against the Cashier requirements before anything is sent:
/// `order.env.terminalType` is required, `order.env.osType` when the terminal is `APP` or
/// `WAP`, and `paymentRedirectUrl`.
///
/// Send it with [`Client::call`](alipayplus_client::client::Client::call), or follow it to its end
/// with the [`PaymentFollower`](alipayplus_client::driver::PaymentFollower) (same bytes on
/// every retry). The usual answer is `U` / `PAYMENT_IN_PROCESS` with a redirect: send the
/// shopper there ([`shopper_redirect`]) and wait for the result. On an unknown outcome, send
/// the **same** request again (same `paymentRequestId` and key fields); after `F`, a new
/// attempt needs a new id.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn pay_request(request: &PayRequest) -> Result<PayRequest, RequestError> {
    let mut request = request.clone();
    set_cashier_flags(&mut request.payment_factor);
    check_cashier_pay(&request)?;
    Ok(request)
}

fn set_cashier_flags(factor: &mut PaymentFactor) {
    factor.is_cashier_payment.get_or_insert(StrBool(true));
    factor.is_in_store_payment.get_or_insert(StrBool(false));
}

/// The Cashier-only rules of pay, on top of the generic validation (reported together, each
/// field once): `order.env.terminalType`, `order.env.osType` for APP/WAP, and
/// `paymentRedirectUrl` (Req for Cashier, UNCERTAIN: the official SDK always sends it).
fn check_cashier_pay(request: &PayRequest) -> Result<(), RequestError> {
    let mut errors = match request.validate() {
        Ok(()) => ValidationErrors::new(),
        Err(e) => e,
    };
    let mut add = |path: &Path<'_>, condition: &'static str| {
        let mut one = ValidationErrors::new();
        one.push(path, Problem::Missing { condition });
        let known = errors.iter().any(|e| one.iter().any(|o| o.path == e.path));
        if !known {
            errors.push(path, Problem::Missing { condition });
        }
    };
    let order = Path::ROOT.field("order");
    let env_path = order.field("env");
    match &request.order.env {
        None => add(
            &env_path.field("terminalType"),
            "always for Cashier Payment",
        ),
        Some(env) => {
            let needs_os = matches!(env.terminal_type, TerminalType::App | TerminalType::Wap);
            if needs_os && env.os_type.is_none() {
                add(&env_path.field("osType"), "when terminalType is APP or WAP");
            }
        }
    }
    if request.payment_redirect_url.is_none() {
        add(
            &Path::ROOT.field("paymentRedirectUrl"),
            "for Cashier Payment: the merchant page the wallet returns the shopper to",
        );
    }
    errors
        .into_result()
        .map_err(|errors| RequestError::Invalid { api: "pay", errors })
}
