//! The async HTTP seam: [`AsyncTransport`], the future-returning twin of
//! [`Transport`](crate::transport::Transport), over the same [`Request`] / [`Response`].
//!
//! The client core stays runtime-free (`core::future` only, `no_std` + `alloc`): an adapter
//! crate brings the runtime (`alipayplus-reqwest` on tokio), and any closure
//! `Fn(Request) -> impl Future<Output = Result<Response, E>> + Send` is a transport too.
//! Futures are `Send`, so calls run inside multi-threaded executors (axum handlers,
//! `tokio::spawn`).
//!
//! Calls over it are [`Client::call_async`](crate::client::Client::call_async) and
//! [`Client::send_async`](crate::client::Client::send_async) (module
//! [`client_async`](crate::client_async)); the payment driver's async form is
//! [`PaymentFollower::run_async`](crate::driver::PaymentFollower::run_async). Both share every
//! step but the IO with the blocking path.
//!
//! ```
//! use alipayplus_client::transport::{Request, Response};
//! use alipayplus_client::transport_async::AsyncTransport;
//!
//! let transport = |request: Request| async move {
//!     assert_eq!(request.method, "POST");
//!     Ok::<_, core::convert::Infallible>(Response::new(200, b"{}".to_vec()))
//! };
//! let pending = transport.send(Request::post("https://example.test/", vec![]));
//! # let _ = pending;
//! ```

use core::future::Future;

use crate::transport::{Request, Response};

/// Sends one HTTP request and resolves to the response: the only IO the async client needs.
///
/// Same contract as [`Transport`](crate::transport::Transport): `Ok` for every HTTP response
/// received, whatever its status; `Err` when no response was obtained (connection, timeout,
/// TLS, ...), which callers treat like an unknown (`U`) result.
///
/// The returned future must be `Send` (it may be moved between worker threads while it
/// waits). Closures returning such futures implement it:
///
/// ```
/// use alipayplus_client::transport::{Request, Response};
/// use alipayplus_client::transport_async::AsyncTransport;
///
/// #[derive(Debug)]
/// struct Offline;
/// impl core::fmt::Display for Offline {
///     fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
///         f.write_str("offline")
///     }
/// }
/// impl core::error::Error for Offline {}
///
/// fn assert_transport(_: &impl AsyncTransport) {}
/// assert_transport(&|_request: Request| async { Err::<Response, _>(Offline) });
/// ```
pub trait AsyncTransport {
    /// Why no response was obtained.
    type Error: core::error::Error + Send + Sync + 'static;

    /// Sends `request`; the future resolves once the whole response is received.
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, Self::Error>> + Send;
}

impl<F, Fut, E> AsyncTransport for F
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>> + Send,
    E: core::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn send(&self, request: Request) -> impl Future<Output = Result<Response, E>> + Send {
        self(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    #[test]
    fn closures_returning_futures_are_transports() {
        let t = |r: Request| async move {
            Ok::<_, core::convert::Infallible>(Response::new(201, r.body))
        };
        let mut fut = pin!(AsyncTransport::send(
            &t,
            Request::post("https://h.test/", vec![1, 2])
        ));
        let mut cx = Context::from_waker(Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(resp)) => assert_eq!((resp.status, resp.body), (201, vec![1, 2])),
            other => panic!("a ready closure future must resolve at once: {other:?}"),
        }
    }
}
