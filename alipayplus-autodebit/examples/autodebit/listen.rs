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
//!
//! `--store sqlite:PATH` (default: nothing kept): authNotify and notifyPayment are stored in
//! alipayplus-store's inbox before they are acknowledged (not stored, not acknowledged: HTTP
//! 500). authNotify bodies hold the tokens: they are sealed under the 32-byte key given in
//! `ALIPAYPLUS_STORE_KEY` (64 hex digits; required with `--store`) and keyed by the SHA-256 of
//! the verified body, never by a token.

use std::process::ExitCode;

use alipayplus_autodebit::{handle_auth_notify, handle_consult_unbinding};
use alipayplus_client::client::ClientConfig;
use alipayplus_client::error::InboundError;
use alipayplus_client::inbound::Refused;
use alipayplus_client::transport::{Request, Response};
use alipayplus_listen::{Limits, serve};
use alipayplus_store::{Inbound, Kind, Options, SealingKey, Source, Store};
use serde::Serialize;
use serde_json::Value;

/// The follow-up kind of an agreement payment (the name agreed across the SDK).
const AUTODEBIT_PAY: Kind = Kind::holding_secrets("autodebit.pay");
/// The sealing key of `--store` (64 hex digits).
const STORE_KEY_VAR: &str = "ALIPAYPLUS_STORE_KEY";

fn open_store(url: &str) -> Result<Store, String> {
    let hex = std::env::var(STORE_KEY_VAR)
        .map_err(|_| format!("--store needs {STORE_KEY_VAR} (64 hex digits): authNotify holds tokens, sealed in the store"))?;
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<_>>()
        .filter(|b: &Vec<u8>| b.len() == 32)
        .ok_or(format!("{STORE_KEY_VAR} is not 64 hex digits"))?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes);
    Store::open(
        url,
        Options::default().with_sealing_key(SealingKey::from_bytes(key)),
    )
    .map_err(|e| format!("cannot open the store: {e}"))
}

/// Stores a verified event before its acknowledgement; `Err`: answer 500 instead.
fn keep(store: Option<&Store>, config: &ClientConfig, event: Inbound<'_>) -> Result<(), Response> {
    let Some(store) = store else { return Ok(()) };
    store.append(&event, config.now()).map(|_| ()).map_err(|e| {
        eprintln!("{:?} not stored ({e}): not acknowledged", event.source());
        Response::new(500, Vec::new())
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Fields holding credentials (the `secret` fields of the API description).
const SECRET_FIELDS: &[&str] = &["accessToken", "refreshToken", "authCode", "paymentMethodId"];

pub fn serve_inbound(config: &ClientConfig, port: u16, store: Option<&str>) -> ExitCode {
    let store = match store.map(open_store) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "listening for authNotify, consultUnbinding and notifyPayment on http://127.0.0.1:{port}/"
    );
    let error = serve(("127.0.0.1", port), Limits::default(), |request| {
        dispatch(config, store.as_ref(), &request)
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

fn dispatch(config: &ClientConfig, store: Option<&Store>, request: &Request) -> Response {
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
        return auth_notify(config, store, request);
    }
    // Another path: verify first; only a verified body tells which notification it is.
    match config.accept_inbound::<Value>(request) {
        Ok(verified) if verified.body.get("authorizationNotifyType").is_some() => {
            auth_notify(config, store, request)
        }
        Ok(_) => match alipayplus_client::notify::handle_notify_payment(config, request) {
            Ok(n) => {
                let id = n.body.payment_request_id.as_str();
                let event = Inbound::new(Source::NotifyPayment, id, &request.body)
                    .for_follow_up(AUTODEBIT_PAY, id);
                if let Err(answer) = keep(store, config, event) {
                    return answer;
                }
                accepted(&n.body, &n.client_id, n.client_id_is_ours, n.answer)
            }
            Err(r) => refused(request, r),
        },
        Err(r) => refused(request, r),
    }
}

fn auth_notify(config: &ClientConfig, store: Option<&Store>, request: &Request) -> Response {
    match handle_auth_notify(config, request) {
        Ok(n) => {
            let key = sha256_hex(&request.body);
            if let Err(answer) = keep(
                store,
                config,
                Inbound::new(Source::AuthNotify, &key, &request.body),
            ) {
                return answer;
            }
            accepted(&n.body.request, &n.client_id, n.client_id_is_ours, n.answer)
        }
        Err(r) => refused(request, r),
    }
}
