//! The simulated shopper: the checkout page pay points to, and approve / decline.
//!
//! * `GET /shopper/checkout/{paymentId}`: a page with the order and two links;
//! * `GET /shopper/checkout/{paymentId}?action=approve` (or `decline`, with an optional
//!   `&code=USER_BALANCE_NOT_ENOUGH`): acts, then redirects (303) to the payment's
//!   `paymentRedirectUrl` when it is an http(s) URL, else answers 200 with the outcome.
//!
//! The control API (`POST /sim/shopper/approve|decline`) and [`crate::Simulator::approve`]
//! do the same without a browser.

use crate::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::payment::PaymentView;
use crate::state::{Shared, lock};

/// Default decline code.
pub const DEFAULT_DECLINE_CODE: &str = "USER_BALANCE_NOT_ENOUGH";

/// The shopper pays payment `id` (paymentRequestId or paymentId).
pub(crate) fn approve(shared: &Shared, id: &str) -> Result<PaymentView, Error> {
    act(shared, id, "approve", |p, now| p.approve(now))
}

/// The shopper (or the wallet) declines with payment result `code`.
pub(crate) fn decline(shared: &Shared, id: &str, code: &str) -> Result<PaymentView, Error> {
    act(shared, id, "decline", |p, now| p.decline(code, now))
}

fn act(
    shared: &Shared,
    id: &str,
    action: &'static str,
    f: impl FnOnce(&mut crate::payment::Payment, i64) -> Result<(), &'static str>,
) -> Result<PaymentView, Error> {
    let now = shared.clock.now_secs();
    let (result, request_id) = {
        let mut store = lock(&shared.store);
        let request_id = store
            .resolve(Some(id), None)
            .or_else(|| store.resolve(None, Some(id)))
            .ok_or_else(|| Error::UnknownPayment(id.to_owned()))?;
        let payment = store
            .payments
            .get_mut(&request_id)
            .ok_or_else(|| Error::UnknownPayment(id.to_owned()))?;
        let result = f(payment, now)
            .map(|()| payment.view(&shared.base_url))
            .map_err(|state| Error::InvalidTransition {
                id: request_id.clone(),
                state,
                action,
            });
        (result, request_id)
    };
    // Approved, declined, or found expired: in each case the payment may now be final.
    crate::notify::payment_final(shared, &request_id);
    result
}

/// Answers a `/shopper/` request.
pub(crate) fn serve(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let path = request.path();
    if let Some(name) = path.strip_prefix("/shopper/logo/") {
        let label: String = name
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#1677ff"/><text x="8" y="26" fill="white">{label}</text></svg>"##
        );
        return HttpResponse::new(200, "image/svg+xml", svg.into_bytes());
    }
    let Some(payment_id) = path.strip_prefix("/shopper/checkout/") else {
        return HttpResponse::error(404, "no such shopper page");
    };
    if !request.method.eq_ignore_ascii_case("GET") {
        return HttpResponse::error(405, "use GET");
    }
    let done = match request.query("action") {
        None => return page(shared, payment_id),
        Some("approve") => approve(shared, payment_id),
        Some("decline") => decline(
            shared,
            payment_id,
            request.query("code").unwrap_or(DEFAULT_DECLINE_CODE),
        ),
        Some(_) => return HttpResponse::error(400, "action must be approve or decline"),
    };
    match done {
        Ok(view) => {
            let redirect = {
                let store = lock(&shared.store);
                store
                    .payments
                    .get(&view.payment_request_id)
                    .and_then(|p| p.redirect_url.clone())
            };
            match redirect.filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
                Some(url) => HttpResponse::text(303, &format!("payment {}", view.status.as_str()))
                    .header("Location", &url),
                None => HttpResponse::text(200, &format!("payment {}", view.status.as_str())),
            }
        }
        Err(Error::UnknownPayment(id)) => HttpResponse::error(404, &format!("no payment {id:?}")),
        Err(e) => HttpResponse::error(409, &e.to_string()),
    }
}

fn page(shared: &Shared, payment_id: &str) -> HttpResponse {
    let view = {
        let store = lock(&shared.store);
        store
            .resolve(None, Some(payment_id))
            .and_then(|id| store.payments.get(&id).map(|p| p.view(&shared.base_url)))
    };
    let Some(view) = view else {
        return HttpResponse::error(404, "no such payment");
    };
    // Only simulator-made ids and amounts go into the page; nothing needs escaping.
    let link = |action: &str| format!("/shopper/checkout/{}?action={action}", view.payment_id);
    HttpResponse::html(
        200,
        format!(
            "<!doctype html><title>SimWallet checkout</title><h1>Pay {} {}</h1>\
             <p>Payment {} is {}.</p>\
             <p><a href=\"{}\">Approve</a> | <a href=\"{}\">Decline</a></p>",
            view.amount.minor(),
            view.amount.currency.as_str(),
            view.payment_id,
            view.status.as_str(),
            link("approve"),
            link("decline"),
        ),
    )
}
