//! Cashier Payment flows: consultPayment and pay (cashier §3, §4).
//!
//! The shopper picks a wallet on the merchant's page (rendered from consultPayment), the
//! acquirer calls pay, Alipay+ answers `U` / `PAYMENT_IN_PROCESS` with where to send the
//! shopper ([`shopper_redirect`]), and the result comes by notifyPayment and inquiryPayment.
//! The [`tracker`](crate::tracker) drives the follow-up; [`pay_report`] feeds it.
//!
//! The scenario is expressed only by `paymentFactor` flags (there is no `productCode`):
//! [`cashier_payment_factor`] sets `isCashierPayment=true`, `isInStorePayment=false` and,
//! if given, `presentmentMode`. The mode is left to the caller because the editions
//! disagree (`TILE` vs `TILED`; `UNIFIED` with `paymentMethodType=CONNECT_WALLET` in the
//! official 2025 SDK); omitting it is the tile-edition default.

use alipayplus_types::validate::{Path, Problem, ValidationErrors};
use alipayplus_types::{
    ConsultPaymentRequest, ConsultPaymentResponse, PayRequest, PayResponse, PaymentFactor,
    PresentmentMode, StrBool, TerminalType,
};

use crate::client::{Client, Outcome, RequestError};
use crate::tracker::{Report, ShopperRedirect};
use crate::transport::Transport;

/// The `paymentFactor` of a Cashier Payment (cashier §2.12).
pub fn cashier_payment_factor(presentment_mode: Option<PresentmentMode>) -> PaymentFactor {
    PaymentFactor {
        is_in_store_payment: Some(StrBool(false)),
        is_cashier_payment: Some(StrBool(true)),
        presentment_mode,
        ..PaymentFactor::new()
    }
}

impl<T: Transport> Client<T> {
    /// Calls consultPayment: the wallets to offer for this order. Missing Cashier flags in
    /// `paymentFactor` are set (`isCashierPayment=true`, `isInStorePayment=false`).
    ///
    /// Show only options with `enabled` true, in the order returned.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn consult_payment(
        &self,
        request: &ConsultPaymentRequest,
    ) -> Result<Outcome<ConsultPaymentResponse>, RequestError> {
        let mut request = request.clone();
        set_cashier_flags(&mut request.payment_factor);
        self.call(&request)
    }

    /// Calls pay for a Cashier Payment. Missing Cashier flags in `paymentFactor` are set, and
    /// the Cashier requirements are checked before sending: `order.env.terminalType` is
    /// required, `order.env.osType` when the terminal is `APP` or `WAP`, and
    /// `paymentRedirectUrl`.
    ///
    /// The usual answer is `U` / `PAYMENT_IN_PROCESS` with a redirect: send the shopper there
    /// ([`shopper_redirect`]) and wait for the result. On an unknown outcome, call again with
    /// the **same** `paymentRequestId` and the same key fields (amount, factor, settlement,
    /// wallet); after `F`, a new attempt needs a new id.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn pay_cashier(&self, request: &PayRequest) -> Result<Outcome<PayResponse>, RequestError> {
        let mut request = request.clone();
        set_cashier_flags(&mut request.payment_factor);
        check_cashier_pay(&request)?;
        self.call(&request)
    }
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

/// What a pay outcome tells the [`tracker`](crate::tracker): its status and redirect.
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
