//! The control API: JSON over HTTP under `/sim/`, unsigned (it is the test harness's, not
//! Alipay+'s). Every call has a Rust twin on [`crate::Simulator`].
//!
//! | call | does |
//! |---|---|
//! | `GET /sim` | client id, base URL, key version, APIs answered |
//! | `GET /sim/payments`, `GET /sim/payments/{id}` | payments (by paymentRequestId or paymentId) |
//! | `POST /sim/shopper/approve` `{"id":"..."}` | the shopper pays |
//! | `POST /sim/shopper/decline` `{"id":"...","code":"RISK_REJECT"}` | the shopper declines (code optional) |
//! | `GET /sim/faults`, `POST /sim/faults` (a [`FaultRule`]), `DELETE /sim/faults` | API faults |
//! | `GET /sim/notify-faults`, `PUT /sim/notify-faults` (a [`NotifyFaults`]) | notification faults |
//! | `POST /sim/notifications/release` | send held notifications, newest first |
//! | `GET /sim/notifications` | per-payment status and every delivery |
//! | `GET /sim/calls` | every API call answered, with result and fault |
//! | `POST /sim/clock/advance` `{"seconds":N}` | moves the protocol clock (expiry, windows) |
//! | `POST /sim/reports` (a [`crate::reports::ReportRequest`]) | writes the settlement reports of a cycle into a directory |

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::fault::{FaultRule, NotifyFaults};
use crate::http::{HttpRequest, HttpResponse};
use crate::shopper::{self, DEFAULT_DECLINE_CODE};
use crate::state::{Shared, lock};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopperAction {
    #[serde(alias = "paymentRequestId", alias = "paymentId")]
    id: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

fn parse<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, HttpResponse> {
    serde_json::from_slice(&request.body)
        .map_err(|e| HttpResponse::error(400, &Error::BadControlRequest(e.to_string()).to_string()))
}

fn outcome<T: serde::Serialize>(result: Result<T, Error>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::json(200, &v),
        Err(e @ Error::UnknownPayment(_)) => HttpResponse::error(404, &e.to_string()),
        Err(e) => HttpResponse::error(409, &e.to_string()),
    }
}

/// Answers a `/sim` request.
pub(crate) fn serve(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let method = request.method.to_ascii_uppercase();
    let path = request.path().trim_end_matches('/');
    let body = |r: Result<HttpResponse, HttpResponse>| r.unwrap_or_else(|e| e);
    match (method.as_str(), path) {
        ("GET", "/sim") => HttpResponse::json(200, &crate::info(shared)),
        (_, p) if p == "/sim/autodebit" || p.starts_with("/sim/autodebit/") => {
            crate::autodebit::control(shared, request)
        }
        (_, p) if p == "/sim/operations" || p.starts_with("/sim/operations/") => {
            crate::operations::control(shared, request)
        }
        ("GET", "/sim/payments") => HttpResponse::json(200, &crate::payments(shared)),
        ("GET", p) if p.starts_with("/sim/payments/") => {
            let id = p.trim_start_matches("/sim/payments/");
            outcome(crate::payment(shared, id).ok_or_else(|| Error::UnknownPayment(id.into())))
        }
        ("POST", "/sim/shopper/approve") => {
            body(parse::<ShopperAction>(request).map(|a| outcome(shopper::approve(shared, &a.id))))
        }
        ("POST", "/sim/shopper/decline") => body(parse::<ShopperAction>(request).map(|a| {
            let code = a.code.as_deref().unwrap_or(DEFAULT_DECLINE_CODE);
            outcome(shopper::decline(shared, &a.id, code))
        })),
        ("GET", "/sim/faults") => HttpResponse::json(200, &lock(&shared.faults).rules()),
        ("POST", "/sim/faults") => body(parse::<FaultRule>(request).map(|rule| {
            lock(&shared.faults).add(rule);
            HttpResponse::json(200, &lock(&shared.faults).rules())
        })),
        ("DELETE", "/sim/faults") => {
            lock(&shared.faults).clear();
            HttpResponse::json(200, &Vec::<FaultRule>::new())
        }
        ("GET", "/sim/notify-faults") => HttpResponse::json(200, &*lock(&shared.notify_faults)),
        ("PUT" | "POST", "/sim/notify-faults") => {
            body(parse::<NotifyFaults>(request).map(|faults| {
                *lock(&shared.notify_faults) = faults.clone();
                HttpResponse::json(200, &faults)
            }))
        }
        ("POST", "/sim/notifications/release") => HttpResponse::json(
            200,
            &serde_json::json!({ "released": shared.notify.release() }),
        ),
        ("GET", "/sim/notifications") => HttpResponse::json(
            200,
            &serde_json::json!({
                "statuses": shared.notify.statuses(),
                "deliveries": shared.notify.deliveries(),
            }),
        ),
        ("GET", "/sim/calls") => HttpResponse::json(200, &*lock(&shared.calls)),
        ("POST", "/sim/clock/advance") => body(parse::<Advance>(request).map(|a| {
            shared.clock.advance_ms(a.seconds.saturating_mul(1000));
            crate::worker::sweep_expired(shared);
            HttpResponse::json(
                200,
                &serde_json::json!({ "now": shared.clock.now_header() }),
            )
        })),
        ("POST", "/sim/reports") => body(
            parse::<crate::reports::ReportRequest>(request)
                .map(|r| outcome(crate::reports::write(shared, &r))),
        ),
        _ => HttpResponse::error(404, "no such control call; see GET /sim"),
    }
}
