//! pay (Cashier Payment): creates a payment waiting for the shopper (cashier.md §4), idempotent
//! on `paymentRequestId` (common.md §3.3).

use alipayplus_types::{Api, PayRequest, PayResponse};

use crate::answer::{Answer, Route, result, typed};
use crate::clock::datetime;
use crate::payment::customer_id;
use crate::payment::{Payment, Phase};
use crate::state::{Shared, lock};

pub(super) const ROUTE: Route = Route {
    name: PayRequest::NAME,
    path: PayRequest::PATH,
    serve,
};

fn serve(shared: &Shared, body: &[u8]) -> Answer {
    typed(shared, body, handle)
}

fn handle(shared: &Shared, request: PayRequest) -> PayResponse {
    if request
        .payment_factor
        .is_agreement_payment
        .is_some_and(|b| b.0)
    {
        return crate::autodebit::pay(shared, request);
    }
    if !shared.accepts_method(&request.payment_method.payment_method_type) {
        return PayResponse::new(result(
            "UNAVAILABLE_PAYMENT_METHOD",
            "F",
            &format!(
                "paymentMethod.paymentMethodType {:?} is not offered (consultPayment lists {:?}{})",
                request.payment_method.payment_method_type,
                shared.wallets,
                if shared.connect_wallet {
                    "; CONNECT_WALLET for unified presentment"
                } else {
                    ""
                }
            ),
        ));
    }
    let now = shared.clock.now_secs();
    let id = request.payment_request_id.clone();
    let (response, expired) = {
        let mut store = lock(&shared.store);
        if let Some(existing) = store.payments.get_mut(&id) {
            if let Some(field) = inconsistency(&existing.request, &request) {
                return PayResponse::new(result(
                    "REPEAT_REQ_INCONSISTENT",
                    "F",
                    &format!("paymentRequestId {id:?} was used with a different {field}"),
                ));
            }
            let expired = existing.expire_if_due(now);
            (answer(shared, existing), expired)
        } else {
            let payment = new_payment(shared, request, now);
            let response = answer(shared, &payment);
            store
                .payment_ids
                .insert(payment.payment_id.clone(), id.clone());
            let expired = payment.phase != Phase::InProcess;
            store.payments.insert(id.clone(), payment);
            (response, expired)
        }
    };
    if expired {
        crate::notify::payment_final(shared, &id);
    }
    response
}

fn new_payment(shared: &Shared, request: PayRequest, now: i64) -> Payment {
    let expires_at = request
        .payment_expiry_time
        .as_ref()
        .map(|t| t.unix_seconds());
    let mut payment = Payment {
        payment_request_id: request.payment_request_id.clone(),
        payment_id: shared.next_id("SIMPAY"),
        notify_url: request
            .payment_notify_url
            .clone()
            .or_else(|| shared.default_notify_url.clone()),
        redirect_url: request.payment_redirect_url.clone(),
        request,
        phase: Phase::InProcess,
        created_at: now,
        expires_at,
        paid_at: None,
        refunded: 0,
        refunds: Vec::new(),
        notified: false,
    };
    payment.expire_if_due(now);
    payment
}

/// The first key field (common.md §3.3) that differs from the first request, if any.
fn inconsistency(first: &PayRequest, again: &PayRequest) -> Option<&'static str> {
    [
        (
            first.payment_amount == again.payment_amount,
            "paymentAmount",
        ),
        (
            first.payment_factor == again.payment_factor,
            "paymentFactor",
        ),
        (
            first.settlement_strategy == again.settlement_strategy,
            "settlementStrategy",
        ),
        (
            first.payment_method.payment_method_type == again.payment_method.payment_method_type,
            "paymentMethod.paymentMethodType",
        ),
        (
            first.order.order_amount == again.order.order_amount,
            "order.orderAmount",
        ),
    ]
    .into_iter()
    .find_map(|(same, field)| (!same).then_some(field))
}

/// The pay answer for a payment's current state (the same for a repeated request).
fn answer(shared: &Shared, payment: &Payment) -> PayResponse {
    let outcome = payment.outcome();
    let message = match outcome.status {
        "U" => "payment in process: send the shopper to normalUrl".to_owned(),
        "S" => "success".to_owned(),
        _ => format!("payment ended: {}", outcome.code),
    };
    let mut response = PayResponse::new(result(&outcome.code, outcome.status, &message));
    response.payment_id = Some(payment.payment_id.clone());
    response.payment_amount = Some(payment.amount());
    response.acquirer_id = Some(shared.acquirer_id.clone());
    response.psp_id = Some(shared.psp_id.clone());
    response.wallet_brand_name = Some(shared.wallet_brand_name.clone());
    if payment.phase == Phase::InProcess {
        let url = checkout_url(shared, &payment.payment_id);
        response.normal_url = Some(url.clone());
        response.payment_url = Some(url);
    }
    if payment.phase == Phase::Succeeded {
        response.payment_time = payment.paid_at.and_then(datetime);
        response.customer_id = Some(customer_id(payment));
    }
    response
}

/// Where the shopper pays (see the [`shopper`](crate::shopper) module).
fn checkout_url(shared: &Shared, payment_id: &str) -> String {
    format!("{}/shopper/checkout/{payment_id}", shared.base_url)
}
