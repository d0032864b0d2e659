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
//! `ALIPAYPLUS_STORE_KEY` (64 hex digits; required with `--store`: without it, or with
//! anything else in it, the listener does not start and exits 64; the key is never printed)
//! and keyed by the SHA-256 of the verified body, never by a token. A re-delivery (same source
//! and key, also after a restart on the same file) is acknowledged again with a line on stderr
//! and not printed twice. A notifyPayment signed for another `Client-Id` (accepted only with
//! `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`) is stored linked to no follow-up, for a person to
//! look at (`Store::stray_inbox`).

use std::process::ExitCode;

use alipayplus_autodebit::{handle_auth_notify, handle_consult_unbinding};
use alipayplus_client::client::ClientConfig;
use alipayplus_client::error::InboundError;
use alipayplus_client::inbound::Refused;
use alipayplus_client::transport::{Request, Response};
use alipayplus_listen::{Limits, serve};
use alipayplus_store::{Appended, Inbound, Kind, Options, SealingKey, Source, Store};
use serde::Serialize;
use serde_json::Value;

/// The follow-up kind of an agreement payment (the name agreed across the SDK).
const AUTODEBIT_PAY: Kind = Kind::holding_secrets("autodebit.pay");
/// The sealing key of `--store` (64 hex digits).
const STORE_KEY_VAR: &str = "ALIPAYPLUS_STORE_KEY";

/// The sealing key from [`STORE_KEY_VAR`]; the message never shows the value.
fn sealing_key() -> Result<SealingKey, String> {
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
    SealingKey::from_slice(&bytes).map_err(|e| format!("{STORE_KEY_VAR}: {e}"))
}

/// What [`keep`] did with a verified event.
enum Kept {
    /// Stored now (or no store): print it, acknowledge.
    New,
    /// Stored before: acknowledge again, print nothing.
    Again,
}

/// Stores a verified event of `source` with `append` before its acknowledgement; `Err`:
/// answer 500 instead.
fn keep(
    store: Option<&Store>,
    source: Source,
    append: impl FnOnce(&Store) -> Result<Appended, alipayplus_store::Error>,
) -> Result<Kept, Response> {
    let Some(store) = store else {
        return Ok(Kept::New);
    };
    match append(store) {
        Ok(Appended::Duplicate { same_body, .. }) => {
            eprintln!(
                "re-delivery of {}: stored before (same body: {same_body}), acknowledged again",
                source.api()
            );
            Ok(Kept::Again)
        }
        Ok(_) => Ok(Kept::New),
        Err(e) => {
            eprintln!("{} not stored ({e}): not acknowledged", source.api());
            Err(Response::new(500, Vec::new()))
        }
    }
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
    let store = match store {
        None => None,
        Some(url) => {
            // A configuration error (exit 64, as for the other variables) before any I/O.
            let key = match sealing_key() {
                Ok(key) => key,
                Err(msg) => {
                    eprintln!("configuration error: {msg}");
                    return ExitCode::from(64);
                }
            };
            match Store::open(url, Options::default().with_sealing_key(key)) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("cannot open the store {url}: {e}");
                    return ExitCode::from(1);
                }
            }
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
                // Another Client-Id's notification feeds no follow-up: kept for a person.
                let kinds: &[Kind] = if n.client_id_is_ours {
                    &[AUTODEBIT_PAY]
                } else {
                    &[]
                };
                match keep(store, Source::NotifyPayment, |store| {
                    store.append_payment_notification(kinds, id, &request.body, config.now())
                }) {
                    Ok(Kept::New) => accepted(&n.body, &n.client_id, n.client_id_is_ours, n.answer),
                    Ok(Kept::Again) => n.answer,
                    Err(answer) => answer,
                }
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
            let event = Inbound::new(Source::AuthNotify, &key, &request.body);
            match keep(store, Source::AuthNotify, |store| {
                store.append(&event, config.now())
            }) {
                Ok(Kept::New) => {
                    accepted(&n.body.request, &n.client_id, n.client_id_is_ours, n.answer)
                }
                Ok(Kept::Again) => n.answer,
                Err(answer) => answer,
            }
        }
        Err(r) => refused(request, r),
    }
}
