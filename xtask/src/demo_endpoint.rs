//! The demo merchant's endpoint for Alipay+'s inbound calls: a loopback port served by the
//! examples' listener (`alipayplus-listen`: whole-request deadline, bounded connections), so
//! the demo sections share one server instead of each keeping its own.

use std::net::TcpListener;

use alipayplus_listen::{Limits, Request, Response, serve_on};

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
