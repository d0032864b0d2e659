//! `listen --port N`: serves authNotify, consultUnbinding and notifyPayment on 127.0.0.1
//! through the shared example listener (`alipayplus-listen`: whole-request deadline, bounded
//! connections, bounded sizes, no panic when threads run out).
//!
//! Routing reads no unverified body: the path decides (`.../consultUnbinding`,
//! `.../authNotify`); at any other path the request is verified first, and only a verified body
//! is looked at to tell an authNotify from a notifyPayment. Printed events never show
//! credentials in clear: access and refresh tokens and auth codes are replaced by `***`.
//!
//! A verified call signed for another `Client-Id` is refused (`INVALID_CLIENT`, signed) unless
//! `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`; then it is printed, with a note on stderr.

use std::process::ExitCode;

use alipayplus_autodebit::{handle_auth_notify, handle_consult_unbinding};
use alipayplus_client::client::ClientConfig;
use alipayplus_client::error::InboundError;
use alipayplus_client::inbound::Refused;
use alipayplus_client::transport::{Request, Response};
use alipayplus_listen::{Limits, serve};
use serde::Serialize;
use serde_json::Value;

/// Fields holding credentials (the `secret` fields of the API description).
const SECRET_FIELDS: &[&str] = &["accessToken", "refreshToken", "authCode", "paymentMethodId"];

pub fn serve_inbound(config: &ClientConfig, port: u16) -> ExitCode {
    eprintln!(
        "listening for authNotify, consultUnbinding and notifyPayment on http://127.0.0.1:{port}/"
    );
    let error = serve(("127.0.0.1", port), Limits::default(), |request| {
        dispatch(config, &request)
    });
    eprintln!("cannot listen on 127.0.0.1:{port}: {error}");
    ExitCode::from(1)
}

/// Replaces every credential in `value` (at any depth) by `***`.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && !v.is_null() {
                    *v = Value::String("***".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn accepted(
    body: &impl Serialize,
    client_id: &str,
    client_id_is_ours: bool,
    answer: Response,
) -> Response {
    if !client_id_is_ours {
        eprintln!("note: verified call for Client-Id {client_id:?}, not ours (reported)");
    }
    match serde_json::to_value(body) {
        Ok(mut line) => {
            redact(&mut line);
            println!("{line}");
        }
        Err(e) => eprintln!("cannot print the event: {e}"),
    }
    answer
}

fn refused(request: &Request, refused: Refused) -> Response {
    let hint = match refused.error {
        InboundError::ClientIdMismatch => {
            " (set ALIPAYPLUS_FOREIGN_CLIENT_ID=report to accept and report it)"
        }
        _ => "",
    };
    eprintln!(
        "refused {} {}: {}{hint}",
        request.method, request.uri, refused.error
    );
    refused.answer
}

fn dispatch(config: &ClientConfig, request: &Request) -> Response {
    let path = request.path();
    if path.ends_with("consultUnbinding") {
        return match handle_consult_unbinding(config, request) {
            Ok(c) => accepted(
                &c.body,
                &c.client_id,
                c.client_id_is_ours,
                c.answer.acknowledge(config),
            ),
            Err(r) => refused(request, r),
        };
    }
    if path.ends_with("authNotify") {
        return auth_notify(config, request);
    }
    // Another path: verify first; only a verified body tells which notification it is.
    match config.accept_inbound::<Value>(request) {
        Ok(verified) if verified.body.get("authorizationNotifyType").is_some() => {
            auth_notify(config, request)
        }
        Ok(_) => match alipayplus_client::notify::handle_notify_payment(config, request) {
            Ok(n) => accepted(&n.body, &n.client_id, n.client_id_is_ours, n.answer),
            Err(r) => refused(request, r),
        },
        Err(r) => refused(request, r),
    }
}

fn auth_notify(config: &ClientConfig, request: &Request) -> Response {
    match handle_auth_notify(config, request) {
        Ok(n) => accepted(&n.body.request, &n.client_id, n.client_id_is_ours, n.answer),
        Err(r) => refused(request, r),
    }
}
