//! The demo merchant's endpoint for Alipay+'s inbound calls: a loopback port served by the
//! examples' listener (`alipayplus-listen`: whole-request deadline, bounded connections), so
//! the demo sections share one server instead of each keeping its own.
//!
//! Like the examples' listeners, the demo's endpoints refuse a verified call signed for
//! another `Client-Id` unless `ALIPAYPLUS_FOREIGN_CLIENT_ID=report` ([`inbound`]).

use std::net::TcpListener;

use alipayplus_client::client::{ClientConfig, InboundClientId};
use alipayplus_client::transport::Transport;
use alipayplus_listen::{Limits, Request, Response, foreign_client_id_from_env, serve_on};
use alipayplus_sim::keys;
use alipayplus_ureq::UreqTransport;

/// `config` with the endpoints' Client-Id policy: refuse a foreign one unless
/// `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`.
pub(crate) fn inbound(config: ClientConfig) -> Result<ClientConfig, String> {
    Ok(config.with_inbound(
        alipayplus_client::InboundPolicy::new().with_client_id(foreign_client_id_from_env()?),
    ))
}

/// Posts `body` to `url` (path `path`) correctly signed with the simulator's Alipay+ key but
/// for another Client-Id; returns the answer's `resultCode`.
pub(crate) fn foreign_call(url: &str, path: &str, body: &str) -> Result<String, String> {
    let key = keys::sim_private_key().map_err(|e| e.to_string())?;
    let time = "2025-06-03T10:00:00+08:00";
    let signature = alipayplus_sign::message::sign_request(
        &key,
        1,
        "POST",
        path,
        "DEMO-FOREIGN-CLIENT",
        time,
        body.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut request = alipayplus_client::transport::Request::post(url, body.as_bytes().to_vec());
    request.headers.insert("Content-Type", "application/json");
    request.headers.insert("Client-Id", "DEMO-FOREIGN-CLIENT");
    request.headers.insert("Request-Time", time);
    request.headers.insert("Signature", signature.as_str());
    let answer = UreqTransport::new()
        .send(request)
        .map_err(|e| e.to_string())?;
    let value: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| format!("foreign call answer: {e}"))?;
    Ok(value["result"]["resultCode"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Whether the endpoints refuse a foreign Client-Id (the default).
pub(crate) fn refuses_foreign() -> bool {
    matches!(foreign_client_id_from_env(), Ok(InboundClientId::Refuse))
}

/// Binds a free loopback port, serves `handler` on it from a thread of its own, and returns
/// the endpoint's base URL (`http://127.0.0.1:PORT`).
pub(crate) fn start(
    handler: impl Fn(Request) -> Response + Send + Sync + 'static,
) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("endpoint: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("endpoint: {e}"))?;
    std::thread::spawn(move || {
        let error = serve_on(listener, Limits::default(), handler);
        eprintln!("endpoint {addr} stopped: {error}");
    });
    Ok(format!("http://{addr}"))
}
