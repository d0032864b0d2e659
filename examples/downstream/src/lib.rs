//! A merchant's checkout, written as a project that depends on the published crates would
//! write it: the client configured once, the Cashier pay request built from an order, and the
//! notifyPayment endpoint's handler. `tests/checkout.rs` runs it against `alipayplus-sim`.
#![forbid(unsafe_code)]

use alipayplus_cashier::cashier::cashier_payment_factor;
use alipayplus_cashier::{Client, ClientConfig};
use alipayplus_cashier::{Request, Response};
use alipayplus_types::{
    Amount, Env, Merchant, NotifyPaymentRequest, Order, PayRequest, PaymentMethod, TerminalType,
};
use alipayplus_ureq::UreqTransport;

/// The shop's client: one per process, shared by every request.
pub fn client(config: ClientConfig) -> Client<UreqTransport> {
    Client::new(config, UreqTransport::new())
}

/// The Cashier pay request for an order: the shopper picks `wallet` and is sent back to the
/// shop afterwards; the result is pushed to `notify_url`.
pub fn pay_request(order_id: &str, amount: Amount, wallet: &str, notify_url: &str) -> PayRequest {
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("ORDER-{order_id}"),
            "Two coffees".into(),
            amount,
            Merchant::new("SHOP-1".into()),
        )
    };
    let mut request = PayRequest::new(
        order_id.into(),
        order,
        amount,
        PaymentMethod::new(wallet.into()),
        cashier_payment_factor(None),
    );
    request.payment_redirect_url = Some(format!("https://shop.example/orders/{order_id}"));
    request.payment_notify_url = Some(notify_url.into());
    request
}

/// The notifyPayment handler: a verified notification and the signed acknowledgement to send
/// back, or the refusal to send back (never acknowledge what was not verified).
pub fn on_notify_payment(
    config: &ClientConfig,
    request: &Request,
) -> (Option<NotifyPaymentRequest>, Response) {
    match alipayplus_cashier::handle_notify_payment(config, request) {
        // A real shop stores the result here, before it acknowledges.
        Ok(accepted) => (Some(accepted.body), accepted.answer),
        Err(refused) => (None, refused.answer),
    }
}
