//! The HTTP server: a small pool of workers on one `tiny_http` listener, routing by path.
//!
//! | prefix | module |
//! |---|---|
//! | `/aps/` | [`gateway`](crate::gateway): the Alipay+ APIs |
//! | `/shopper/` | [`shopper`](crate::shopper): pages the shopper visits |
//! | `/sim` | [`control`](crate::control): the test harness's control API |

use std::io::Read;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::http::{HttpRequest, HttpResponse};
use crate::state::Shared;
use crate::{control, gateway, shopper};

/// Routes a request by path.
pub(crate) fn dispatch(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let path = request.path();
    if path == "/sim" || path.starts_with("/sim/") {
        control::serve(shared, request)
    } else if path.starts_with("/shopper/authorize/") {
        crate::autodebit::page(shared, request)
    } else if path.starts_with("/shopper/") {
        shopper::serve(shared, request)
    } else if path.starts_with("/aps/") {
        gateway::serve(shared, request)
    } else {
        HttpResponse::error(
            404,
            "Alipay+ simulator: APIs under /aps/api/v1/, shopper pages under /shopper/, control under /sim",
        )
    }
}

/// Starts `workers` threads answering requests until `shared` stops.
pub(crate) fn spawn_workers(
    server: &Arc<tiny_http::Server>,
    shared: &Arc<Shared>,
    workers: usize,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    (0..workers.max(1))
        .map(|i| {
            let server = Arc::clone(server);
            let shared = Arc::clone(shared);
            std::thread::Builder::new()
                .name(format!("alipayplus-sim-http-{i}"))
                .spawn(move || work(&server, &shared))
        })
        .collect()
}

fn work(server: &tiny_http::Server, shared: &Shared) {
    while !shared.is_stopping() {
        match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => answer(shared, request),
            Ok(None) => {}
            // The listener failed; nothing more will arrive on it.
            Err(_) => return,
        }
    }
}

fn answer(shared: &Shared, mut request: tiny_http::Request) {
    let limit = shared.max_body_bytes;
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut body);
    let too_large = body.len() > limit;
    body.truncate(limit);
    let response = match read {
        Err(e) => HttpResponse::error(400, &format!("could not read the request body: {e}")),
        Ok(_) => {
            let plain = HttpRequest {
                method: request.method().to_string(),
                target: crate::http::origin_form(request.url()).to_owned(),
                headers: request
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_owned(),
                            h.value.as_str().to_owned(),
                        )
                    })
                    .collect(),
                body,
                body_too_large: too_large,
            };
            dispatch(shared, &plain)
        }
    };
    let mut out = tiny_http::Response::from_data(response.body).with_status_code(response.status);
    for (name, value) in &response.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            out.add_header(h);
        }
    }
    // The client may have gone (a timeout fault): nothing to do about it.
    let _ = request.respond(out);
}
